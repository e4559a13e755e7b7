/* SPDX-License-Identifier: ISC */
/*
 * test_link: the link monitor against the real kernel, in a private network
 * namespace with veth pairs driven by ip(8).  Each step waits, with a
 * deadline, for the callbacks it causes and then checks that nothing else
 * came.  Needs root (CLONE_NEWNET); exits 77 without it.
 */
#include <sys/types.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/event.h>

#include <sched.h>

#include "link.h"
#include "linkstate.h"
#include "log.h"
#include "util.h"

#define STEP_MS		5000	/* carrier goes through linkwatch: <= 1s */
#define QUIET_MS	150	/* then nothing else may come */
#define DAD_MS		8000	/* one probe, one second, and some slack */

static struct event_base	*base;
static struct event		*deadline;
static char			 got[4096];

static void
record(enum linkstate_event ev, const char *ifname, void *arg)
{
	static const char	*names[] = { "UP", "DOWN", "ADDRESS" };

	(void)arg;
	snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s %s",
	    got[0] != '\0' ? ", " : "", names[ev], ifname);
	event_base_loopbreak(base);
}

static void
deadline_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	event_base_loopbreak(base);
}

/* Run the loop until cond() holds or ms pass; never forever. */
static bool
run_until(bool (*cond)(const void *), const void *arg, uint64_t ms)
{
	uint64_t	 end = now_ms() + ms, now;
	struct timeval	 tv;

	while (cond == NULL || !cond(arg)) {
		if ((now = now_ms()) >= end)
			break;
		tv = ms_to_tv(end - now);
		evtimer_add(deadline, &tv);
		event_base_loop(base, EVLOOP_ONCE);
		evtimer_del(deadline);
	}
	return cond != NULL && cond(arg);
}

static bool
got_enough(const void *want)
{
	return strlen(got) >= strlen(want);
}

/* The events that want lists, exactly, within ms and then a quiet spell. */
static void
expect(const char *want, uint64_t ms)
{
	if (want[0] != '\0')
		(void)run_until(got_enough, want, ms);
	(void)run_until(NULL, NULL, QUIET_MS);
	assert_string_equal(got, want);
	got[0] = '\0';
}

static void
sh(const char *fmt, ...)
{
	char	 cmd[1024];
	va_list	 ap;
	int	 rv;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rv = system(cmd);
	if (rv != 0)
		fail_msg("\"%s\" failed (%d)", cmd, rv);
}

static bool
info(struct linkmon *lm, const char *name, struct linkstate_info *li)
{
	size_t	 i;

	for (i = 0; linkstate_get(linkmon_state(lm), i, li); i++)
		if (strcmp(li->name, name) == 0)
			return true;
	return false;
}

static int
setup(void **state)
{
	(void)state;
	got[0] = '\0';
	base = event_base_new();
	deadline = evtimer_new(base, deadline_cb, NULL);
	return base != NULL && deadline != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	int	 rv;

	(void)state;
	event_free(deadline);
	event_base_free(base);
	rv = system("ip link del site0 2>/dev/null; "
	    "ip link del site1 2>/dev/null; ip link del site2 2>/dev/null");
	(void)rv;
	return 0;
}

/* Carrier comes through the kernel's linkwatch, up to a second later. */
static void
wait_operstate_up(const char *name)
{
	/* Not /sys/class/net: sysfs still shows the namespace we left. */
	sh("for i in $(seq 50); do "
	    "ip -o link show %s | grep -q ' state UP ' && exit 0; "
	    "sleep 0.1; done; exit 1", name);
}

static void
veth(const char *name, const char *peer)
{
	sh("ip link add %s type veth peer name %s", name, peer);
	/* Keep the address test independent of sysctl defaults. */
	sh("sysctl -q -w net.ipv6.conf.%s.dad_transmits=1", name);
}

/* Up, address, down, delete, the same name again, IPv6. */
static void
test_sequence(void **state)
{
	char			*watch[] = { "site*" };
	struct linkmon		*lm;
	struct linkstate_info	 li;
	int			 ifindex;

	(void)state;
	veth("site0", "peer0");
	assert_non_null(lm = linkmon_new(base, watch, 1, record, NULL));
	assert_false(linkstate_online(linkmon_state(lm)));
	assert_true(info(lm, "site0", &li));
	assert_false(li.admin_up);

	sh("ip link set peer0 up && ip link set site0 up");
	wait_operstate_up("site0");
	expect("", 0);		/* carrier, link-local only: not usable */
	assert_true(info(lm, "site0", &li));
	assert_true(li.admin_up && li.carrier && !li.usable);

	sh("ip addr add 192.0.2.1/24 dev site0");
	expect("UP site0", STEP_MS);
	assert_true(linkstate_online(linkmon_state(lm)));

	sh("ip addr add 198.51.100.7/24 dev site0");
	expect("ADDRESS site0", STEP_MS);
	sh("ip link set site0 mtu 1400");
	expect("", 0);

	sh("ip link set site0 down");
	expect("DOWN site0", STEP_MS);
	assert_false(linkstate_online(linkmon_state(lm)));
	sh("ip link set site0 up");
	expect("UP site0", STEP_MS);

	/* The peer losing carrier takes ours. */
	sh("ip link set peer0 down");
	expect("DOWN site0", STEP_MS);
	sh("ip link set peer0 up");
	expect("UP site0", STEP_MS);

	assert_true(info(lm, "site0", &li));
	ifindex = li.ifindex;
	sh("ip link del site0");
	expect("DOWN site0", STEP_MS);
	assert_false(info(lm, "site0", &li));

	/* pppd's way: a new ifindex under the same name. */
	veth("site0", "peer0");
	sh("ip link set peer0 up && ip link set site0 up && "
	    "ip addr add 192.0.2.1/24 dev site0");
	expect("UP site0", STEP_MS);
	assert_true(info(lm, "site0", &li));
	assert_int_not_equal(li.ifindex, ifindex);

	/* IPv6: usable with nodad at once; without, once DAD is done. */
	sh("ip addr del 192.0.2.1/24 dev site0");
	expect("DOWN site0", STEP_MS);
	sh("ip -6 addr add 2001:db8::1/64 dev site0 nodad");
	expect("UP site0", STEP_MS);
	sh("ip -6 addr add 2001:db8::2/64 dev site0");
	expect("", 0);		/* tentative */
	expect("ADDRESS site0", DAD_MS);
	assert_true(info(lm, "site0", &li));
	assert_int_equal(li.naddrs, 2);

	/* Nothing pending but the socket: no polling. */
	assert_int_equal(event_base_get_num_events(base,
	    EVENT_BASE_COUNT_ADDED), 1);
	assert_int_equal(linkmon_test_overruns(lm), 0);
	linkmon_free(lm);
	assert_int_equal(event_base_get_num_events(base,
	    EVENT_BASE_COUNT_ADDED), 0);
}

/* What is up before the monitor starts is known at once, not reported. */
static void
test_initial_state(void **state)
{
	char			*watch[] = { "site1", "nothing*" };
	struct linkmon		*lm;
	struct linkstate_info	 li;

	(void)state;
	veth("site1", "peer1");
	sh("ip link set peer1 up && ip link set site1 up && "
	    "ip addr add 192.0.2.1/24 dev site1");
	wait_operstate_up("site1");
	assert_non_null(lm = linkmon_new(base, watch, 1, record, NULL));
	assert_true(linkstate_online(linkmon_state(lm)));
	assert_true(info(lm, "site1", &li));
	assert_true(li.usable);
	assert_int_equal(li.naddrs, 1);
	expect("", 0);
	linkmon_free(lm);
}

static bool
converged(const void *arg)
{
	struct linkmon		*lm = (struct linkmon *)(uintptr_t)arg;
	struct linkstate_info	 li;

	return info(lm, "site2", &li) && li.naddrs == 150;
}

/* Lose notifications on purpose: the state must still come out right. */
static void
test_overrun(void **state)
{
	char			*watch[] = { "site2" };
	struct linkmon		*lm;
	struct linkstate_info	 li;
	struct linkstate_addr	 la;
	FILE			*f;
	char			 path[] = "/tmp/test_link.XXXXXX";
	size_t			 i;
	int			 fd, n;

	(void)state;
	veth("site2", "peer2");
	sh("ip link set peer2 up && ip link set site2 up && "
	    "ip addr add 192.0.2.1/24 dev site2");
	wait_operstate_up("site2");
	assert_non_null(lm = linkmon_new(base, watch, 1, record, NULL));
	assert_true(linkstate_online(linkmon_state(lm)));
	expect("", 0);

	/* 300 adds, 150 deletes and the first address gone, unread. */
	linkmon_test_set_rcvbuf(lm, 4096);
	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	for (n = 0; n < 300; n++)
		fprintf(f, "addr add 10.1.%d.%d/32 dev site2\n", n / 200,
		    n % 200 + 1);
	for (n = 0; n < 150; n++)
		fprintf(f, "addr del 10.1.%d.%d/32 dev site2\n", n / 200,
		    n % 200 + 1);
	fprintf(f, "addr del 192.0.2.1/24 dev site2\n");
	fclose(f);
	sh("ip -batch %s", path);
	unlink(path);

	assert_true(run_until(converged, lm, 10000));
	(void)run_until(NULL, NULL, QUIET_MS);
	assert_true(linkmon_test_overruns(lm) >= 1);
	assert_true(info(lm, "site2", &li));
	assert_true(li.usable);
	/* 10.1.0.151 .. 10.1.1.100, and nothing else. */
	for (i = 0; linkstate_get_addr(linkmon_state(lm), "site2", i, &la);
	    i++) {
		assert_int_equal(la.family, AF_INET);
		assert_int_equal(la.addr[0], 10);
		assert_int_equal(la.addr[1], 1);
		assert_true(la.addr[2] == 1 || la.addr[3] > 150);
	}
	assert_int_equal(i, 150);
	/* Never down: there was always a usable address. */
	assert_null(strstr(got, "DOWN"));
	got[0] = '\0';

	/* And notifications flow again. */
	linkmon_test_set_rcvbuf(lm, 1024 * 1024);
	sh("ip addr add 203.0.113.5/32 dev site2");
	expect("ADDRESS site2", STEP_MS);
	sh("ip link set site2 down");
	expect("DOWN site2", STEP_MS);
	linkmon_free(lm);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sequence, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_initial_state, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_overrun, setup,
		    teardown),
	};

	if (geteuid() != 0) {
		printf("skipped: needs root for network namespaces\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) == -1) {
		printf("skipped: needs root for network namespaces "
		    "(unshare: %s)\n", strerror(errno));
		return 77;
	}
	log_init(getenv("ETRND_TEST_VERBOSE") != NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
