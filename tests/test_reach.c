/* SPDX-License-Identifier: ISC */
/*
 * test_reach: a relay's reachability against the real kernel, in a private
 * network namespace: a literal address and its reject routes, a name before
 * and after its session learnt its addresses (IPv6 without a route beside
 * working IPv4), forgetting them, a route through an interface not
 * watched, a source address.  Needs root (CLONE_NEWNET); exits 77 without.
 */
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "reach.h"
#include "testutil.h"

static int
setup(void **state)
{
	(void)state;
	sh("ip link add site0 type veth peer name peer0 && "
	    "ip link add lan0 type veth peer name peer1 && "
	    "ip link set peer0 up && ip link set site0 up && "
	    "ip link set peer1 up && ip link set lan0 up && "
	    "ip addr add 192.0.2.1/24 dev site0 && "
	    "ip addr add 203.0.113.1/24 dev lan0 && "
	    "ip -6 addr add 2001:db8:1::1/64 dev site0 nodad");
	return 0;
}

static int
teardown(void **state)
{
	int	 rv;

	(void)state;
	rv = system("ip link del site0 2>/dev/null; "
	    "ip link del lan0 2>/dev/null; "
	    "ip route flush table main 2>/dev/null; "
	    "ip -6 route flush table main 2>/dev/null");
	(void)rv;
	return 0;
}

/* "site0" is watched, every other interface is not. */
static bool
watched(const char *ifname, void *arg)
{
	(void)arg;
	return strcmp(ifname, "site0") == 0;
}

static struct route_addr
addr_of(const char *s)
{
	struct route_addr	a;

	memset(&a, 0, sizeof(a));
	a.family = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(a.family, s, a.addr), 1);
	return a;
}

/* A literal: its own route decides, reject routes are "no route". */
static void
test_literal(void **state)
{
	struct reach_net	net = { .watched = watched };
	struct reach		r;

	(void)state;
	reach_init(&r, "198.51.100.2", false);
	assert_true(reach_update(&r, &net));
	assert_string_equal(reach_route(&r), "no route");

	sh("ip route add 198.51.100.0/24 via 192.0.2.2");
	assert_false(reach_update(&r, &net));
	assert_string_equal(reach_route(&r), "via site0");

	sh("ip route replace blackhole 198.51.100.0/24");
	assert_true(reach_update(&r, &net));
	assert_string_equal(reach_route(&r), "blackhole");

	sh("ip route replace unreachable 198.51.100.0/24");
	assert_true(reach_update(&r, &net));
	assert_string_equal(reach_route(&r), "unreachable");

	/* Through an interface the watch list does not cover: it counts. */
	sh("ip route replace 198.51.100.0/24 via 203.0.113.2");
	assert_false(reach_update(&r, &net));
	assert_string_equal(reach_route(&r), "via lan0 (not watched)");

	/* A literal learns nothing and forgets nothing. */
	assert_false(reach_forget(&r));
	assert_false(reach_update(&r, &net));

	reach_init(&r, "127.0.0.1", false);
	assert_false(reach_update(&r, &net));
	assert_string_equal(reach_route(&r), "local");
}

/*
 * A name: tried before its first session (status shows the default route
 * if there is one); then its learnt addresses decide, any of them enough.
 */
static void
test_name(void **state)
{
	struct reach_net	net = { .watched = watched };
	struct reach		r;
	struct route_addr	a[2];

	(void)state;
	reach_init(&r, "mx2.example.net", false);
	assert_false(reach_update(&r, &net));
	assert_null(reach_route(&r));

	/* Looked up once per network change. */
	sh("ip route add default via 192.0.2.254");
	assert_false(reach_update(&r, &net));
	assert_null(reach_route(&r));
	reach_net_changed(&net);
	assert_false(reach_update(&r, &net));
	assert_string_equal(reach_route(&r), "via site0 (default route)");

	/* IPv6 first, with no route; IPv4 through the default route. */
	a[0] = addr_of("2001:db8:9::2");
	a[1] = addr_of("198.51.100.2");
	reach_learn(&r, a, 2);
	assert_false(reach_update(&r, &net));
	assert_string_equal(reach_route(&r), "via site0");

	/* Neither: no route, said for the first. */
	sh("ip route del default");
	assert_true(reach_update(&r, &net));
	assert_string_equal(reach_route(&r), "no route");

	/* A session that resolved nothing keeps what was known. */
	reach_learn(&r, a, 0);
	assert_true(reach_update(&r, &net));

	/* At a wait's end the name is tried again, as before a session. */
	assert_true(reach_forget(&r));
	assert_false(reach_update(&r, &net));
	assert_false(reach_forget(&r));
}

/* With a source address: not checked, always tried. */
static void
test_source(void **state)
{
	struct reach_net	net = { .watched = NULL };
	struct reach		r;

	(void)state;
	reach_init(&r, "198.51.100.2", true);
	assert_false(reach_update(&r, &net));
	assert_null(reach_route(&r));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_literal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source, setup, teardown),
	};

	if (!netns_enter())
		return 77;
	if (system("ip link set lo up") != 0) {
		printf("skipped: ip(8) does not work here\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
