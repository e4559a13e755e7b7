/* SPDX-License-Identifier: ISC */
/*
 * test_link: the link monitor against the real kernel, in a private network
 * namespace with veth pairs and a tun device driven by ip(8).  Each step
 * waits, with a deadline, for the callbacks it causes and then checks that
 * nothing else came.  Route events show as "ROUTE ppp0", or "ROUTE *" when
 * not tied to an interface.  Needs root (CLONE_NEWNET); exits 77 without it.
 */
#include <sys/ioctl.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

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

#include "link.h"
#include "linkstate.h"
#include "log.h"
#include "route.h"
#include "testutil.h"
#include "util.h"

#define STEP_MS		5000	/* carrier goes through linkwatch: <= 1s */
#define QUIET_MS	150	/* then nothing else may come */
#define DAD_MS		8000	/* one probe, one second, and some slack */

static struct event_base	*base;
static struct event		*deadline;
static char			 got[4096];
static int			 tunfd = -1;

static void
record(enum linkstate_event ev, const char *ifname, void *arg)
{
	static const char	*names[] = { "UP", "DOWN", "ADDRESS", "ROUTE" };

	(void)arg;
	snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s %s",
	    got[0] != '\0' ? ", " : "", names[ev],
	    *ifname != '\0' ? ifname : "*");
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
expect_at(const char *want, uint64_t ms, int line)
{
	if (want[0] != '\0')
		(void)run_until(got_enough, want, ms);
	(void)run_until(NULL, NULL, QUIET_MS);
	if (strcmp(got, want) != 0)
		print_message("at line %d:\n", line);
	assert_string_equal(got, want);
	got[0] = '\0';
}
#define expect(want, ms)	expect_at((want), (ms), __LINE__)

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
	/* The tun device goes with its last descriptor. */
	if (tunfd != -1)
		(void)close(tunfd);
	tunfd = -1;
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

	/* The prefix route comes after the address. */
	sh("ip addr add 192.0.2.1/24 dev site0");
	expect("UP site0, ROUTE site0", STEP_MS);
	assert_true(linkstate_online(linkmon_state(lm)));

	sh("ip addr add 198.51.100.7/24 dev site0");
	expect("ADDRESS site0, ROUTE site0", STEP_MS);
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
	sh("ip link set peer0 up && ip link set site0 up");
	/* Carrier first, so the prefix route surely finds site0 up. */
	wait_operstate_up("site0");
	expect("", 0);
	sh("ip addr add 192.0.2.1/24 dev site0");
	expect("UP site0, ROUTE site0", STEP_MS);
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

/* The route the kernel would take to dst (route.c), which must answer. */
static void
route_to(const char *dst, struct route_info *ri)
{
	unsigned char	 a[16];
	int		 family;

	family = strchr(dst, ':') != NULL ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(family, dst, a), 1);
	assert_int_equal(route_get(family, a, ri), 0);
}

/* A tun device named like pppd's, held open: it has carrier while held. */
static void
tun(const char *name)
{
	struct ifreq	 ifr;

	if ((tunfd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) == -1) {
		print_message("skipped: /dev/net/tun: %s\n", strerror(errno));
		skip();
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	assert_int_equal(ioctl(tunfd, TUNSETIFF, &ifr), 0);
}

/*
 * pppd's order: the address, then the default route 150 ms later; then
 * the route hidden by reject routes and restored; IPv6 likewise.
 */
static void
test_ppp_routes(void **state)
{
	char			*watch[] = { "ppp*" };
	struct linkmon		*lm;
	struct route_info	 ri;
	struct in_addr		 src;

	(void)state;
	tun("ppp0");
	assert_non_null(lm = linkmon_new(base, watch, 1, record, NULL));
	sh("ip link set ppp0 up");
	expect("", 0);		/* no address: not up, its routes not news */

	route_to("203.0.113.25", &ri);
	assert_int_equal(ri.type, RTN_UNSPEC);
	assert_false(route_usable(&ri));
	/* The peer's route comes with the address. */
	sh("ip addr add 192.0.2.1 peer 198.51.100.1 dev ppp0");
	expect("UP ppp0, ROUTE ppp0", STEP_MS);
	route_to("203.0.113.25", &ri);
	assert_int_equal(ri.type, RTN_UNSPEC);
	route_to("198.51.100.1", &ri);
	assert_true(route_usable(&ri));
	assert_string_equal(ri.ifname, "ppp0");

	(void)run_until(NULL, NULL, 150);
	sh("ip route add default dev ppp0");
	expect("ROUTE ppp0", STEP_MS);
	route_to("203.0.113.25", &ri);
	assert_int_equal(ri.type, RTN_UNICAST);
	assert_true(route_usable(&ri));
	assert_string_equal(ri.ifname, "ppp0");
	assert_int_equal(ri.ifindex, (int)if_nametoindex("ppp0"));
	assert_true(ri.has_src);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.1", &src), 1);
	assert_memory_equal(ri.src, &src, 4);
	assert_false(ri.has_gateway);

	/* Hidden: a change, but not through ppp0. */
	sh("ip route replace blackhole default");
	expect("ROUTE *", STEP_MS);
	route_to("203.0.113.25", &ri);
	assert_int_equal(ri.type, RTN_BLACKHOLE);
	assert_false(route_usable(&ri));
	sh("ip route replace unreachable default");
	expect("ROUTE *", STEP_MS);
	route_to("203.0.113.25", &ri);
	assert_int_equal(ri.type, RTN_UNREACHABLE);
	sh("ip route replace default dev ppp0");
	expect("ROUTE ppp0", STEP_MS);
	route_to("203.0.113.25", &ri);
	assert_true(route_usable(&ri));

	/* IPv6: the prefix route, then the address. */
	sh("ip -6 addr add 2001:db8::1/64 dev ppp0 nodad");
	expect("ROUTE ppp0, ADDRESS ppp0", STEP_MS);
	route_to("2001:db8:ffff::25", &ri);
	assert_int_equal(ri.type, RTN_UNSPEC);
	sh("ip -6 route add default dev ppp0");
	expect("ROUTE ppp0", STEP_MS);
	route_to("2001:db8:ffff::25", &ri);
	assert_true(route_usable(&ri));
	assert_string_equal(ri.ifname, "ppp0");
	sh("ip -6 route replace prohibit default");
	expect("ROUTE *", STEP_MS);
	route_to("2001:db8:ffff::25", &ri);
	assert_int_equal(ri.type, RTN_PROHIBIT);
	sh("ip -6 route del prohibit default");
	expect("ROUTE *", STEP_MS);
	route_to("2001:db8:ffff::25", &ri);
	assert_int_equal(ri.type, RTN_UNSPEC);

	/* Routes through an interface not watched are not news. */
	veth("site0", "peer0");
	sh("ip link set peer0 up && ip link set site0 up && "
	    "ip addr add 203.0.113.1/24 dev site0 && "
	    "ip route add 198.51.100.128/25 via 203.0.113.2");
	expect("", 0);

	/* Down is DOWN alone: the routes that go with it are not news. */
	sh("ip link set ppp0 down");
	expect("DOWN ppp0", STEP_MS);
	(void)close(tunfd);
	tunfd = -1;
	expect("", 0);
	assert_int_equal(event_base_get_num_events(base,
	    EVENT_BASE_COUNT_ADDED), 1);
	linkmon_free(lm);
}

/*
 * A nexthop of length 0 in RTA_MULTIPATH made libnl 3.7 allocate nexthops
 * forever (fuzz_netlink): link.c refuses the message, and takes the same
 * message with a well-formed nexthop.
 */
static void
test_multipath_zero(void **state)
{
	struct {
		struct nlmsghdr		 nh;
		struct rtmsg		 rtm;
		struct rtattr		 rta;
		struct rtnexthop	 rtnh;
	} m;
	struct linkstate	*ls;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.nh.nlmsg_len = sizeof(m);
	m.nh.nlmsg_type = RTM_NEWROUTE;
	m.rtm.rtm_family = AF_INET;
	m.rtm.rtm_table = RT_TABLE_MAIN;
	m.rtm.rtm_protocol = RTPROT_BOOT;
	m.rtm.rtm_type = RTN_BLACKHOLE;
	m.rta.rta_len = sizeof(m.rta) + sizeof(m.rtnh);
	m.rta.rta_type = RTA_MULTIPATH;
	m.rtnh.rtnh_ifindex = 1;
	assert_non_null(ls = linkstate_new(NULL, 0, record, NULL));
	linkmon_feed_raw(ls, &m, sizeof(m));
	assert_string_equal(got, "");
	m.rtnh.rtnh_len = sizeof(m.rtnh);
	linkmon_feed_raw(ls, &m, sizeof(m));
	assert_string_equal(got, "ROUTE *");
	linkstate_free(ls);
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
	struct route_info	 ri;
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

	/*
	 * 300 adds (198.51.100.1-200, 203.0.113.1-100), 150 deletes, the
	 * first address gone and two routes added, unread.
	 */
	linkmon_test_set_rcvbuf(lm, 4096);
	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	for (n = 0; n < 300; n++)
		fprintf(f, "addr add %s.%d/32 dev site2\n",
		    n < 200 ? "198.51.100" : "203.0.113", n % 200 + 1);
	for (n = 0; n < 150; n++)
		fprintf(f, "addr del 198.51.100.%d/32 dev site2\n", n + 1);
	fprintf(f, "addr del 192.0.2.1/24 dev site2\n");
	fprintf(f, "route add 192.0.2.128/25 dev site2\n");
	fprintf(f, "route add blackhole 203.0.113.128/25\n");
	fclose(f);
	sh("ip -batch %s", path);
	unlink(path);

	assert_true(run_until(converged, lm, 10000));
	(void)run_until(NULL, NULL, QUIET_MS);
	assert_true(linkmon_test_overruns(lm) >= 1);
	assert_true(info(lm, "site2", &li));
	assert_true(li.usable);
	/* 198.51.100.151-200 and 203.0.113.1-100, and nothing else. */
	for (i = 0; linkstate_get_addr(linkmon_state(lm), "site2", i, &la);
	    i++) {
		assert_int_equal(la.family, AF_INET);
		if (la.addr[0] == 198)
			assert_true(la.addr[1] == 51 && la.addr[2] == 100 &&
			    la.addr[3] > 150 && la.addr[3] <= 200);
		else
			assert_true(la.addr[0] == 203 && la.addr[1] == 0 &&
			    la.addr[2] == 113 && la.addr[3] >= 1 &&
			    la.addr[3] <= 100);
	}
	assert_int_equal(i, 150);
	/* Never down: there was always a usable address. */
	assert_null(strstr(got, "DOWN"));
	/* The routes' notifications may be lost: the resync says so. */
	assert_non_null(strstr(got, "ROUTE *"));
	route_to("192.0.2.200", &ri);
	assert_true(route_usable(&ri));
	assert_string_equal(ri.ifname, "site2");
	route_to("203.0.113.200", &ri);
	assert_int_equal(ri.type, RTN_BLACKHOLE);
	got[0] = '\0';

	/* And notifications flow again, routes too. */
	linkmon_test_set_rcvbuf(lm, 1024 * 1024);
	sh("ip addr add 192.0.2.77/32 dev site2");
	expect("ADDRESS site2", STEP_MS);
	sh("ip route add 198.51.100.0/24 dev site2");
	expect("ROUTE site2", STEP_MS);
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
		cmocka_unit_test_setup_teardown(test_ppp_routes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_multipath_zero, setup,
		    teardown),
	};

	if (!netns_enter())
		return 77;
	log_init(getenv("ETRND_TEST_VERBOSE") != NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
