/* SPDX-License-Identifier: ISC */
/*
 * test_route: route_get() against the real kernel, in a private network
 * namespace with a veth pair and routes set by ip(8): no route, unicast
 * with and without a gateway, local, each reject type, policy routing and
 * an IPv6 source still tentative, for IPv4 and IPv6.  Needs root
 * (CLONE_NEWNET); exits 77 without it.
 */
#include <sys/types.h>

#include <arpa/inet.h>
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

#include <linux/rtnetlink.h>

#include "route.h"
#include "testutil.h"

#define DAD_TRIES	80	/* 100 ms each: one probe, one second */

static int
family_of(const char *addr)
{
	return strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
}

/* The kernel's route to dst; route_get() must answer. */
static void
route_to(const char *dst, struct route_info *ri)
{
	unsigned char	 a[16];
	int		 family = family_of(dst);

	assert_int_equal(inet_pton(family, dst, a), 1);
	assert_int_equal(route_get(family, a, ri), 0);
	assert_int_equal(ri->family, family);
}

static void
assert_addr(const unsigned char *got, const char *want)
{
	unsigned char	 a[16];
	int		 family = family_of(want);

	assert_int_equal(inet_pton(family, want, a), 1);
	assert_memory_equal(got, a, family == AF_INET ? 4 : 16);
}

/* A route out of the veth, optionally through a gateway. */
static void
assert_via(const char *dst, const char *ifname, const char *gw)
{
	struct route_info	 ri;

	route_to(dst, &ri);
	assert_int_equal(ri.type, RTN_UNICAST);
	assert_true(route_usable(&ri));
	assert_string_equal(ri.ifname, ifname);
	assert_int_equal(ri.ifindex, (int)if_nametoindex(ifname));
	assert_int_equal(ri.has_gateway, gw != NULL);
	if (gw != NULL)
		assert_addr(ri.gateway, gw);
}

static void
assert_none(const char *dst, uint8_t type)
{
	struct route_info	 ri;

	route_to(dst, &ri);
	assert_int_equal(ri.type, type);
	assert_false(route_usable(&ri));
	assert_int_equal(ri.ifindex, 0);
	assert_string_equal(ri.ifname, "");
}

static int
setup(void **state)
{
	(void)state;
	sh("ip link add site0 type veth peer name peer0 && "
	    "ip link set peer0 up && ip link set site0 up && "
	    "ip addr add 192.0.2.1/24 dev site0 && "
	    "ip -6 addr add 2001:db8:1::1/64 dev site0 nodad");
	return 0;
}

static int
teardown(void **state)
{
	int	 rv;

	(void)state;
	rv = system("ip link del site0 2>/dev/null; "
	    "ip link del site1 2>/dev/null; "
	    "ip rule del pref 100 2>/dev/null; "
	    "ip route flush table 100 2>/dev/null; "
	    "ip route flush table main 2>/dev/null; "
	    "ip -6 route flush table main 2>/dev/null");
	(void)rv;
	return 0;
}

/* No route yet, then one: "no route" is an answer, not an error. */
static void
test_unicast(void **state)
{
	struct route_info	 ri;

	(void)state;
	assert_none("203.0.113.9", RTN_UNSPEC);
	assert_none("2001:db8:2::9", RTN_UNSPEC);

	sh("ip route add 203.0.113.0/24 via 192.0.2.2 dev site0");
	sh("ip -6 route add 2001:db8:2::/64 via 2001:db8:1::2 dev site0");
	assert_via("203.0.113.9", "site0", "192.0.2.2");
	assert_via("2001:db8:2::9", "site0", "2001:db8:1::2");
	route_to("203.0.113.9", &ri);
	assert_true(ri.has_src);
	assert_addr(ri.src, "192.0.2.1");
	assert_int_equal(ri.table, RT_TABLE_MAIN);
	route_to("2001:db8:2::9", &ri);
	assert_true(ri.has_src);
	assert_addr(ri.src, "2001:db8:1::1");

	/* On the link itself: no gateway. */
	assert_via("192.0.2.9", "site0", NULL);
	assert_via("2001:db8:1::9", "site0", NULL);

	/* A default route covers the rest. */
	assert_none("198.51.100.9", RTN_UNSPEC);
	sh("ip route add default via 192.0.2.254");
	assert_via("198.51.100.9", "site0", "192.0.2.254");
	sh("ip route del default");
	assert_none("198.51.100.9", RTN_UNSPEC);
}

/*
 * The main table's default route as a dump finds it: none, then the one
 * with the lowest metric, a reject default as such, another table's not.
 */
static void
test_default(void **state)
{
	struct route_info	 ri;

	(void)state;
	assert_int_equal(route_default(AF_INET, &ri), 0);
	assert_int_equal(ri.type, RTN_UNSPEC);
	assert_false(route_usable(&ri));

	sh("ip route add default via 192.0.2.254 metric 200 && "
	    "ip route add 198.51.100.0/24 via 192.0.2.253 && "
	    "ip route add default via 192.0.2.252 table 100");
	assert_int_equal(route_default(AF_INET, &ri), 0);
	assert_int_equal(ri.type, RTN_UNICAST);
	assert_true(route_usable(&ri));
	assert_string_equal(ri.ifname, "site0");
	assert_int_equal(ri.metric, 200);
	assert_addr(ri.gateway, "192.0.2.254");

	/* A lower metric wins, whatever the order in the table. */
	sh("ip route add unreachable default metric 100");
	assert_int_equal(route_default(AF_INET, &ri), 0);
	assert_int_equal(ri.type, RTN_UNREACHABLE);
	assert_false(route_usable(&ri));

	sh("ip -6 route add default via 2001:db8:1::fe dev site0");
	assert_int_equal(route_default(AF_INET6, &ri), 0);
	assert_int_equal(ri.type, RTN_UNICAST);
	assert_string_equal(ri.ifname, "site0");
	assert_addr(ri.gateway, "2001:db8:1::fe");

	errno = 0;
	assert_int_equal(route_default(AF_UNIX, &ri), -1);
	assert_int_equal(errno, EAFNOSUPPORT);
}

/* Our own address: local, through lo, and usable. */
static void
test_local(void **state)
{
	struct route_info	 ri;

	(void)state;
	route_to("192.0.2.1", &ri);
	assert_int_equal(ri.type, RTN_LOCAL);
	assert_true(route_usable(&ri));
	assert_string_equal(ri.ifname, "lo");
	route_to("2001:db8:1::1", &ri);
	assert_int_equal(ri.type, RTN_LOCAL);
	assert_true(route_usable(&ri));
}

/* Each reject type replacing a working route, then the route back. */
static void
test_rejects(void **state)
{
	static const struct {
		const char	*ip;		/* "ip" or "ip -6" */
		const char	*prefix;
		const char	*dst;
		const char	*type;
		uint8_t		 want;
	} t[] = {
		{ "ip", "203.0.113.0/24", "203.0.113.9", "unreachable",
		    RTN_UNREACHABLE },
		{ "ip", "203.0.113.0/24", "203.0.113.9", "blackhole",
		    RTN_BLACKHOLE },
		{ "ip", "203.0.113.0/24", "203.0.113.9", "prohibit",
		    RTN_PROHIBIT },
		/* Nothing after the main table: the lookup finds nothing. */
		{ "ip", "203.0.113.0/24", "203.0.113.9", "throw",
		    RTN_UNSPEC },
		{ "ip -6", "2001:db8:2::/64", "2001:db8:2::9", "unreachable",
		    RTN_UNREACHABLE },
		{ "ip -6", "2001:db8:2::/64", "2001:db8:2::9", "blackhole",
		    RTN_BLACKHOLE },
		{ "ip -6", "2001:db8:2::/64", "2001:db8:2::9", "prohibit",
		    RTN_PROHIBIT },
		{ "ip -6", "2001:db8:2::/64", "2001:db8:2::9", "throw",
		    RTN_UNSPEC },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		print_message("%s route %s %s\n", t[i].ip, t[i].type,
		    t[i].prefix);
		sh("%s route replace %s dev site0", t[i].ip, t[i].prefix);
		assert_via(t[i].dst, "site0", NULL);
		sh("%s route replace %s %s", t[i].ip, t[i].type,
		    t[i].prefix);
		assert_none(t[i].dst, t[i].want);
		sh("%s route replace %s dev site0", t[i].ip, t[i].prefix);
		assert_via(t[i].dst, "site0", NULL);
		sh("%s route del %s", t[i].ip, t[i].prefix);
	}
}

/* Policy routing: the kernel's answer follows the rules. */
static void
test_policy(void **state)
{
	struct route_info	 ri;

	(void)state;
	sh("ip route add 198.51.100.0/24 via 192.0.2.3 table 100 && "
	    "ip rule add to 198.51.100.0/24 table 100 pref 100");
	assert_via("198.51.100.9", "site0", "192.0.2.3");
	route_to("198.51.100.9", &ri);
	assert_int_equal(ri.table, 100);
	sh("ip route replace prohibit 198.51.100.0/24 table 100");
	assert_none("198.51.100.9", RTN_PROHIBIT);
}

/*
 * A route whose only global IPv6 source is still tentative is not usable
 * yet: the kernel offers ::1 or a link-local source meanwhile.
 */
static void
test_tentative(void **state)
{
	struct route_info	 ri;
	int			 i;

	(void)state;
	sh("ip link add site1 type veth peer name peer1 && "
	    "sysctl -q -w net.ipv6.conf.site1.dad_transmits=1 && "
	    "ip link set peer1 up && ip link set site1 up && "
	    "ip -6 addr add 2001:db8:3::1/64 dev site1 && "
	    "ip -6 route add 2001:db8:4::/64 via 2001:db8:3::2");
	route_to("2001:db8:4::9", &ri);
	assert_int_equal(ri.type, RTN_UNICAST);
	assert_string_equal(ri.ifname, "site1");
	assert_false(route_usable(&ri));
	for (i = 0; i < DAD_TRIES && !route_usable(&ri); i++) {
		usleep(100 * 1000);
		route_to("2001:db8:4::9", &ri);
	}
	assert_true(route_usable(&ri));
	assert_true(ri.has_src);
	assert_addr(ri.src, "2001:db8:3::1");
	sh("ip link del site1");
}

static void
test_bad_family(void **state)
{
	struct route_info	 ri;
	unsigned char		 a[16] = { 0 };

	(void)state;
	errno = 0;
	assert_int_equal(route_get(AF_UNIX, a, &ri), -1);
	assert_int_equal(errno, EAFNOSUPPORT);
	assert_false(route_usable(&ri));
	assert_string_equal(route_type_name(RTN_UNSPEC), "no route");
	assert_string_equal(route_type_name(RTN_BLACKHOLE), "blackhole");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unicast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
		/* No other global address the kernel could pick instead. */
		cmocka_unit_test_setup_teardown(test_tentative, NULL,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_family, setup,
		    teardown),
	};

	/* Private: everything made here goes with the process. */
	if (!netns_enter())
		return 77;
	if (system("ip link set lo up") != 0) {
		printf("skipped: ip(8) does not work here\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
