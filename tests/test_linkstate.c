/* SPDX-License-Identifier: ISC */
/*
 * test_linkstate: the interface table fed with synthetic libnl objects, as
 * the kernel sends them for veth, ppp and tun links.  No sockets, no root.
 * Each step checks the exact events reported, as "UP site0, DOWN ppp0";
 * a route event not tied to an interface shows as "ROUTE *".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <net/if.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include <arpa/inet.h>
#include <netlink/addr.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "linkstate.h"

/* What `ip link` shows for an up Ethernet-like link with carrier. */
#define F_ETH		(IFF_UP | IFF_BROADCAST | IFF_MULTICAST)
#define F_ETH_UP	(F_ETH | IFF_RUNNING | IFF_LOWER_UP)
/* pppd's interface: no carrier management, operstate stays UNKNOWN. */
#define F_PPP		(IFF_UP | IFF_POINTOPOINT | IFF_RUNNING | IFF_NOARP | \
			    IFF_MULTICAST | IFF_LOWER_UP)

static char		 got[2048];
static struct linkstate	*cur;

static void
record(enum linkstate_event ev, const char *ifname, void *arg)
{
	static const char	*names[] = { "UP", "DOWN", "ADDRESS", "ROUTE" };
	struct linkstate_info	 li;
	size_t			 i;
	bool			 found = false;

	(void)arg;
	snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s %s",
	    got[0] != '\0' ? ", " : "", names[ev],
	    *ifname != '\0' ? ifname : "*");
	if (ev == LINKSTATE_ROUTE && *ifname == '\0')
		return;

	/* Reentrancy: the table is consistent while the callback runs. */
	for (i = 0; linkstate_get(cur, i, &li); i++) {
		if (strcmp(li.name, ifname) != 0)
			continue;
		found = true;
		if (ev == LINKSTATE_DOWN)
			assert_false(li.usable);
		else {
			assert_true(li.usable);
			assert_true(li.naddrs > 0);
		}
	}
	if (ev != LINKSTATE_DOWN) {
		assert_true(found);
		assert_true(linkstate_online(cur));
	}
}

static void
expect(const char *want)
{
	assert_string_equal(got, want);
	got[0] = '\0';
}

static struct linkstate *
mk(char * const *watch, size_t nwatch)
{
	got[0] = '\0';
	cur = linkstate_new(watch, nwatch, record, NULL);
	assert_non_null(cur);
	return cur;
}

static void
feed_link_fam(struct linkstate *ls, int type, int ifindex, const char *name,
    unsigned flags, uint8_t oper, unsigned mtu, int family)
{
	struct rtnl_link	*l;

	assert_non_null(l = rtnl_link_alloc());
	rtnl_link_set_ifindex(l, ifindex);
	if (name != NULL)
		rtnl_link_set_name(l, name);
	rtnl_link_set_flags(l, flags);
	rtnl_link_set_operstate(l, oper);
	rtnl_link_set_mtu(l, mtu);
	rtnl_link_set_family(l, family);
	linkstate_apply(ls, (struct nl_object *)l, type);
	rtnl_link_put(l);
}

static void
feed_link(struct linkstate *ls, int type, int ifindex, const char *name,
    unsigned flags, uint8_t oper)
{
	feed_link_fam(ls, type, ifindex, name, flags, oper, 1500, AF_UNSPEC);
}

/* With IFLA_CARRIER, which the kernel sends whether the link is up or not. */
static void
feed_link_carrier(struct linkstate *ls, int type, int ifindex,
    const char *name, unsigned flags, uint8_t oper, uint8_t carrier)
{
	struct rtnl_link	*l;

	assert_non_null(l = rtnl_link_alloc());
	rtnl_link_set_ifindex(l, ifindex);
	rtnl_link_set_name(l, name);
	rtnl_link_set_flags(l, flags);
	rtnl_link_set_operstate(l, oper);
	rtnl_link_set_carrier(l, carrier);
	rtnl_link_set_family(l, AF_UNSPEC);
	linkstate_apply(ls, (struct nl_object *)l, type);
	rtnl_link_put(l);
}

static void
feed_addr_peer(struct linkstate *ls, int type, int ifindex, const char *cidr,
    const char *peer, int scope, unsigned flags)
{
	struct rtnl_addr	*ra;
	struct nl_addr		*a, *p;
	int			 family;

	family = strchr(cidr, ':') != NULL ? AF_INET6 : AF_INET;
	assert_int_equal(nl_addr_parse(cidr, family, &a), 0);
	assert_non_null(ra = rtnl_addr_alloc());
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_family(ra, family);
	assert_int_equal(rtnl_addr_set_local(ra, a), 0);
	if (peer != NULL) {
		assert_int_equal(nl_addr_parse(peer, family, &p), 0);
		assert_int_equal(rtnl_addr_set_peer(ra, p), 0);
		nl_addr_put(p);
	}
	rtnl_addr_set_scope(ra, scope);
	rtnl_addr_set_flags(ra, flags);
	linkstate_apply(ls, (struct nl_object *)ra, type);
	rtnl_addr_put(ra);
	nl_addr_put(a);
}

static void
feed_addr(struct linkstate *ls, int type, int ifindex, const char *cidr)
{
	feed_addr_peer(ls, type, ifindex, cidr, NULL, RT_SCOPE_UNIVERSE,
	    IFA_F_PERMANENT);
}

static size_t
nwatched(struct linkstate *ls)
{
	struct linkstate_info	 li;
	size_t			 i;

	for (i = 0; linkstate_get(ls, i, &li); i++)
		;
	return i;
}

static bool
info(struct linkstate *ls, const char *name, struct linkstate_info *out)
{
	size_t	 i;

	for (i = 0; linkstate_get(ls, i, out); i++)
		if (strcmp(out->name, name) == 0)
			return true;
	return false;
}

/* Addresses of a watched interface as text, "*" marking the newest. */
static const char *
addrs(struct linkstate *ls, const char *name)
{
	static char		 buf[512];
	struct linkstate_addr	 la;
	char			 a[INET6_ADDRSTRLEN];
	size_t			 i;

	buf[0] = '\0';
	for (i = 0; linkstate_get_addr(ls, name, i, &la); i++) {
		inet_ntop(la.family, la.addr, a, sizeof(a));
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
		    "%s%s/%u%s", buf[0] != '\0' ? " " : "", a, la.prefixlen,
		    la.newest ? "*" : "");
	}
	return buf;
}

/* veth: IFF_UP, then LOWER_UP with operstate still DOWN, then UP. */
static void
test_veth_sequence(void **state)
{
	struct linkstate	*ls = mk(NULL, 0);
	struct linkstate_info	 li;

	(void)state;
	feed_link(ls, RTM_NEWLINK, 3, "site0", F_ETH, IF_OPER_DOWN);
	expect("");
	feed_link(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_DOWN);
	expect("");
	feed_link(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_UP);
	expect("");
	assert_false(linkstate_online(ls));
	assert_true(info(ls, "site0", &li));
	assert_true(li.admin_up && li.carrier && !li.usable);
	assert_int_equal(li.naddrs, 0);
	feed_addr(ls, RTM_NEWADDR, 3, "192.0.2.1/24");
	expect("UP site0");
	assert_true(linkstate_online(ls));
	assert_true(info(ls, "site0", &li));
	assert_true(li.usable && li.watched);
	assert_int_equal(li.ifindex, 3);
	assert_int_equal(li.naddrs, 1);
	assert_string_equal(addrs(ls, "site0"), "192.0.2.1/24*");
	/* The same address again (a lifetime refresh): nothing. */
	feed_addr(ls, RTM_NEWADDR, 3, "192.0.2.1/24");
	expect("");
	feed_link(ls, RTM_NEWLINK, 3, "site0", F_ETH, IF_OPER_DOWN);
	expect("DOWN site0");
	assert_false(linkstate_online(ls));
	linkstate_free(ls);
}

/*
 * Carrier at link-up, message by message as the kernel sends them (measured
 * with a netlink monitor on 6.x).  The message that sets IFF_UP carries the
 * operstate linkwatch last computed: on veth, whose open turns the carrier
 * on, that can be "up" from before the link went down; the kernel's own
 * verdict comes in the next message.  Each row: one RTM_NEWLINK for site0
 * (ifindex 3, 192.0.2.1/24 already there), the events, and whether the
 * table then waits for that verdict (linkstate_pending()).
 */
static const struct carrier_row {
	const char	*what;
	unsigned	 flags;
	uint8_t		 oper;
	uint8_t		 carrier;
	const char	*events;
	bool		 pending;
} carrier_rows[] = {
	{ "veth up, linkwatch done", F_ETH_UP, IF_OPER_UP, 1, "UP site0",
	    false },
	{ "down: carrier off", F_ETH & ~IFF_UP, IF_OPER_DOWN, 0,
	    "DOWN site0", false },
	{ "up: operstate still DOWN", F_ETH | IFF_LOWER_UP, IF_OPER_DOWN, 1,
	    "", true },
	{ "linkwatch: operstate UP", F_ETH_UP, IF_OPER_UP, 1, "UP site0",
	    false },
	{ "down again", F_ETH & ~IFF_UP, IF_OPER_DOWN, 0, "DOWN site0",
	    false },
	/* The down still queued in linkwatch: "up" from before it. */
	{ "up: stale operstate UP", F_ETH_UP, IF_OPER_UP, 1, "", true },
	{ "linkwatch: the same, now true", F_ETH_UP, IF_OPER_UP, 1,
	    "UP site0", false },
	{ "down, third time", F_ETH & ~IFF_UP, IF_OPER_DOWN, 0, "DOWN site0",
	    false },
	/* A NIC: the carrier comes later; the stale UP lacks LOWER_UP. */
	{ "up: stale UP, no carrier yet", F_ETH | IFF_RUNNING, IF_OPER_UP, 0,
	    "", false },
	{ "carrier, from linkwatch", F_ETH_UP, IF_OPER_UP, 1, "UP site0",
	    false },
	/* A tun held open keeps its carrier through admin down and up. */
	{ "tun down, carrier kept", F_ETH & ~IFF_UP, IF_OPER_DOWN, 1,
	    "DOWN site0", false },
	{ "tun up: nothing to wait for", F_ETH_UP, IF_OPER_UNKNOWN, 1,
	    "UP site0", false },
	/* An MTU change (no IFF_UP edge) is taken as it says. */
	{ "unrelated NEWLINK", F_ETH_UP, IF_OPER_UNKNOWN, 1, "", false },
};

static void
test_carrier_table(void **state)
{
	struct linkstate	*ls = mk(NULL, 0);
	size_t			 i;

	(void)state;
	feed_addr(ls, RTM_NEWADDR, 3, "192.0.2.1/24");
	expect("");
	for (i = 0; i < sizeof(carrier_rows) / sizeof(carrier_rows[0]); i++) {
		const struct carrier_row *r = &carrier_rows[i];

		print_message("row %zu: %s\n", i, r->what);
		feed_link_carrier(ls, RTM_NEWLINK, 3, "site0", r->flags,
		    r->oper, r->carrier);
		expect(r->events);
		assert_int_equal(linkstate_pending(ls), r->pending);
	}
	linkstate_free(ls);
}

/*
 * The carrier came on while the link was down (a tun's holder attached
 * then): linkwatch evaluated it without a message, so none follows the
 * admin up.  The caller's bound ends the wait; a DELLINK ends it too.
 */
static void
test_carrier_pending_expire(void **state)
{
	struct linkstate	*ls = mk(NULL, 0);
	struct linkstate_info	 li;
	uint64_t		 mark;

	(void)state;
	feed_link_carrier(ls, RTM_NEWLINK, 3, "site0", F_ETH & ~IFF_UP,
	    IF_OPER_DOWN, 0);
	feed_addr(ls, RTM_NEWADDR, 3, "192.0.2.1/24");
	feed_link_carrier(ls, RTM_NEWLINK, 5, "site2", F_ETH & ~IFF_UP,
	    IF_OPER_DOWN, 0);
	feed_addr(ls, RTM_NEWADDR, 5, "203.0.113.1/24");
	feed_link_carrier(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_UP,
	    1);
	expect("");
	assert_true(linkstate_pending(ls));
	assert_true(info(ls, "site0", &li));
	assert_true(li.admin_up && !li.carrier && !li.usable);
	mark = linkstate_pending_mark(ls);
	/* A second interface begins to wait after the mark: not expired. */
	feed_link_carrier(ls, RTM_NEWLINK, 5, "site2", F_ETH_UP, IF_OPER_UP,
	    1);
	expect("");
	linkstate_pending_expire(ls, mark);
	expect("UP site0");
	assert_true(linkstate_pending(ls));
	linkstate_pending_expire(ls, linkstate_pending_mark(ls));
	expect("UP site2");
	assert_false(linkstate_pending(ls));
	linkstate_pending_expire(ls, linkstate_pending_mark(ls));
	expect("");

	/* Deleted while waiting: nothing waits any more. */
	feed_link_carrier(ls, RTM_NEWLINK, 3, "site0", F_ETH & ~IFF_UP,
	    IF_OPER_DOWN, 0);
	expect("DOWN site0");
	feed_link_carrier(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_UP,
	    1);
	assert_true(linkstate_pending(ls));
	feed_link_carrier(ls, RTM_DELLINK, 3, "site0", F_ETH_UP, IF_OPER_UP,
	    1);
	expect("");
	assert_false(linkstate_pending(ls));

	/* A dump is the kernel's present state: taken as it is. */
	feed_link_carrier(ls, RTM_NEWLINK, 4, "site1", F_ETH & ~IFF_UP,
	    IF_OPER_DOWN, 0);
	feed_addr(ls, RTM_NEWADDR, 4, "198.51.100.1/24");
	linkstate_resync_begin(ls);
	feed_link_carrier(ls, RTM_NEWLINK, 4, "site1", F_ETH_UP, IF_OPER_UP,
	    1);
	feed_addr(ls, RTM_NEWADDR, 4, "198.51.100.1/24");
	linkstate_resync_end(ls);
	/* site2, up since, is not in the dump: gone. */
	expect("UP site1, DOWN site2");
	assert_false(linkstate_pending(ls));
	linkstate_free(ls);
}

static void
test_addr_before_link(void **state)
{
	struct linkstate	*ls = mk(NULL, 0);

	(void)state;
	feed_addr(ls, RTM_NEWADDR, 7, "192.0.2.7/24");
	expect("");
	assert_int_equal(nwatched(ls), 0);
	/* Carrier without operstate UP is not carrier on veth. */
	feed_link(ls, RTM_NEWLINK, 7, "site0", F_ETH_UP, IF_OPER_DOWN);
	expect("");
	feed_link(ls, RTM_NEWLINK, 7, "site0", F_ETH_UP, IF_OPER_UP);
	expect("UP site0");
	/* A DELADDR for an unknown interface makes no entry. */
	feed_addr_peer(ls, RTM_DELADDR, 99, "192.0.2.99/24", NULL,
	    RT_SCOPE_UNIVERSE, 0);
	expect("");
	linkstate_free(ls);
}

static void
test_tentative(void **state)
{
	struct linkstate	*ls = mk(NULL, 0);

	(void)state;
	feed_link(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_UP);
	feed_addr_peer(ls, RTM_NEWADDR, 3, "2001:db8::1/64", NULL,
	    RT_SCOPE_UNIVERSE, IFA_F_TENTATIVE | IFA_F_PERMANENT);
	expect("");
	assert_false(linkstate_online(ls));
	feed_addr_peer(ls, RTM_NEWADDR, 3, "2001:db8::1/64", NULL,
	    RT_SCOPE_UNIVERSE, IFA_F_PERMANENT);
	expect("UP site0");
	assert_string_equal(addrs(ls, "site0"), "2001:db8::1/64*");
	linkstate_free(ls);
}

static void
test_dadfailed(void **state)
{
	struct linkstate	*ls = mk(NULL, 0);

	(void)state;
	feed_link(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_UP);
	feed_addr_peer(ls, RTM_NEWADDR, 3, "2001:db8::1/64", NULL,
	    RT_SCOPE_UNIVERSE, IFA_F_TENTATIVE);
	feed_addr_peer(ls, RTM_NEWADDR, 3, "2001:db8::1/64", NULL,
	    RT_SCOPE_UNIVERSE, IFA_F_TENTATIVE | IFA_F_DADFAILED);
	feed_addr_peer(ls, RTM_NEWADDR, 3, "2001:db8::1/64", NULL,
	    RT_SCOPE_UNIVERSE, IFA_F_DADFAILED);
	expect("");
	assert_false(linkstate_online(ls));
	linkstate_free(ls);
}

static void
test_link_local_only(void **state)
{
	struct linkstate	*ls = mk(NULL, 0);
	struct linkstate_info	 li;

	(void)state;
	feed_link(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_UP);
	feed_addr_peer(ls, RTM_NEWADDR, 3, "fe80::1/64", NULL, RT_SCOPE_LINK,
	    IFA_F_PERMANENT);
	feed_addr_peer(ls, RTM_NEWADDR, 3, "169.254.1.1/16", NULL,
	    RT_SCOPE_LINK, IFA_F_PERMANENT);
	feed_addr_peer(ls, RTM_NEWADDR, 3, "10.0.0.1/8", NULL, RT_SCOPE_HOST,
	    IFA_F_PERMANENT);
	expect("");
	assert_true(info(ls, "site0", &li));
	assert_false(li.usable);
	assert_int_equal(li.naddrs, 0);
	assert_string_equal(addrs(ls, "site0"), "");
	linkstate_free(ls);
}

static void
test_ppp(void **state)
{
	struct linkstate	*ls = mk(NULL, 0);

	(void)state;
	feed_link(ls, RTM_NEWLINK, 9, "ppp0", F_PPP & ~IFF_LOWER_UP,
	    IF_OPER_UNKNOWN);
	/* IFA_LOCAL is ours; IFA_ADDRESS is the peer. */
	feed_addr_peer(ls, RTM_NEWADDR, 9, "198.51.100.7/32", "203.0.113.1/32",
	    RT_SCOPE_UNIVERSE, IFA_F_PERMANENT);
	expect("");
	feed_link(ls, RTM_NEWLINK, 9, "ppp0", F_PPP, IF_OPER_UNKNOWN);
	expect("UP ppp0");
	assert_string_equal(addrs(ls, "ppp0"), "198.51.100.7/32*");
	/* Dormant (Wi-Fi before WPA): no carrier. */
	feed_link(ls, RTM_NEWLINK, 9, "ppp0", F_PPP | IFF_DORMANT,
	    IF_OPER_UNKNOWN);
	expect("DOWN ppp0");
	feed_link(ls, RTM_NEWLINK, 9, "ppp0", F_PPP, IF_OPER_DORMANT);
	expect("");
	feed_link(ls, RTM_NEWLINK, 9, "ppp0", F_PPP, IF_OPER_UNKNOWN);
	expect("UP ppp0");
	feed_link(ls, RTM_NEWLINK, 9, "ppp0", F_PPP, IF_OPER_LOWERLAYERDOWN);
	expect("DOWN ppp0");
	linkstate_free(ls);
}

static void
test_mtu_only(void **state)
{
	struct linkstate	*ls = mk(NULL, 0);
	struct linkstate_info	 li;
	long long		 since;

	(void)state;
	feed_link(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 3, "192.0.2.1/24");
	expect("UP site0");
	assert_true(info(ls, "site0", &li));
	since = li.since;
	feed_link_fam(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_UP, 1400,
	    AF_UNSPEC);
	feed_link_fam(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP | IFF_PROMISC,
	    IF_OPER_UP, 1400, AF_UNSPEC);
	expect("");
	assert_true(info(ls, "site0", &li));
	assert_int_equal(li.since, since);
	linkstate_free(ls);
}

/* libnl's partial AF_INET6 copy has no carrier; AF_BRIDGE DELLINK is a port. */
static void
test_other_families(void **state)
{
	struct linkstate	*ls = mk(NULL, 0);

	(void)state;
	feed_link(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 3, "192.0.2.1/24");
	expect("UP site0");
	feed_link_fam(ls, RTM_NEWLINK, 3, "site0", 0, IF_OPER_UNKNOWN, 1500,
	    AF_INET6);
	feed_link_fam(ls, RTM_DELLINK, 3, "site0", 0, IF_OPER_UNKNOWN, 1500,
	    AF_BRIDGE);
	expect("");
	assert_true(linkstate_online(ls));
	/* And one for an interface never seen makes no entry. */
	feed_link_fam(ls, RTM_NEWLINK, 4, "site1", F_ETH_UP, IF_OPER_UP, 1500,
	    AF_INET6);
	assert_int_equal(nwatched(ls), 1);
	linkstate_free(ls);
}

static void
test_dellink(void **state)
{
	struct linkstate	*ls = mk(NULL, 0);

	(void)state;
	feed_link(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 3, "192.0.2.1/24");
	feed_link(ls, RTM_NEWLINK, 4, "site1", F_ETH_UP, IF_OPER_UP);
	expect("UP site0");
	feed_link(ls, RTM_DELLINK, 3, "site0", F_ETH, IF_OPER_DOWN);
	expect("DOWN site0");
	assert_int_equal(nwatched(ls), 1);
	assert_false(linkstate_online(ls));
	feed_link(ls, RTM_DELLINK, 4, "site1", F_ETH, IF_OPER_DOWN);
	feed_link(ls, RTM_DELLINK, 4, "site1", F_ETH, IF_OPER_DOWN);
	expect("");
	assert_int_equal(nwatched(ls), 0);
	linkstate_free(ls);
}

static void
test_rename(void **state)
{
	char			*watch[] = { "site*" };
	struct linkstate	*ls = mk(watch, 1);

	(void)state;
	feed_link(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 3, "192.0.2.1/24");
	expect("UP site0");
	feed_link(ls, RTM_NEWLINK, 3, "other0", F_ETH_UP, IF_OPER_UP);
	expect("DOWN site0");
	assert_int_equal(nwatched(ls), 0);
	feed_link(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_UP);
	expect("UP site0");
	/* Watched to watched while up: consumers know links by name. */
	feed_link(ls, RTM_NEWLINK, 3, "site1", F_ETH_UP, IF_OPER_UP);
	expect("DOWN site0, UP site1");
	linkstate_free(ls);
}

static void
test_glob(void **state)
{
	char			*watch[] = { "ppp*", "wan" };
	struct linkstate	*ls = mk(watch, 2);

	(void)state;
	feed_link(ls, RTM_NEWLINK, 2, "eth0", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 2, "192.0.2.1/24");
	feed_link(ls, RTM_NEWLINK, 9, "ppp0", F_PPP, IF_OPER_UNKNOWN);
	feed_addr(ls, RTM_NEWADDR, 9, "198.51.100.7/32");
	feed_link(ls, RTM_NEWLINK, 10, "ppp12", F_PPP, IF_OPER_UNKNOWN);
	feed_addr(ls, RTM_NEWADDR, 10, "198.51.100.8/32");
	feed_link(ls, RTM_NEWLINK, 11, "wan0", F_PPP, IF_OPER_UNKNOWN);
	feed_addr(ls, RTM_NEWADDR, 11, "198.51.100.9/32");
	expect("UP ppp0, UP ppp12");
	assert_int_equal(nwatched(ls), 2);
	linkstate_free(ls);
}

static void
test_loopback(void **state)
{
	char			*watch[] = { "lo" };
	struct linkstate	*ls = mk(NULL, 0);

	(void)state;
	feed_link(ls, RTM_NEWLINK, 1, "lo",
	    IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP,
	    IF_OPER_UNKNOWN);
	feed_addr_peer(ls, RTM_NEWADDR, 1, "127.0.0.1/8", NULL, RT_SCOPE_HOST,
	    IFA_F_PERMANENT);
	/* Even with a global address: loopback is not watched by default. */
	feed_addr(ls, RTM_NEWADDR, 1, "192.0.2.53/32");
	expect("");
	assert_int_equal(nwatched(ls), 0);
	assert_false(linkstate_online(ls));
	/* Named explicitly, it is. */
	linkstate_set_watch(ls, watch, 1);
	expect("UP lo");
	linkstate_free(ls);
}

/*
 * Unset watch on a container or VM host: docker0 gaining its address when a
 * container starts, and the host ends of guests' veths, are not this site's
 * uplink; the container's own host0 (a veth too) is.  "!" excludes.
 */
static void
test_default_excludes(void **state)
{
	char			*watch[] = { "!eth1" };
	struct linkstate	*ls = mk(NULL, 0);

	(void)state;
	feed_link(ls, RTM_NEWLINK, 3, "docker0", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 3, "198.51.100.1/24");
	feed_link(ls, RTM_NEWLINK, 4, "veth3f2a1b0", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 4, "198.51.100.2/24");
	feed_link(ls, RTM_NEWLINK, 5, "ve-guest", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 5, "198.51.100.3/24");
	expect("");
	assert_false(linkstate_online(ls));
	assert_false(linkstate_watches(ls, "docker0"));
	assert_false(linkstate_watches(ls, "virbr0"));
	feed_link(ls, RTM_NEWLINK, 6, "host0", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 6, "192.0.2.1/24");
	feed_link(ls, RTM_NEWLINK, 7, "eth1", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 7, "192.0.2.2/24");
	expect("UP host0, UP eth1");
	assert_true(linkstate_watches(ls, "ppp0"));
	linkstate_set_watch(ls, watch, 1);
	expect("DOWN eth1");
	assert_false(linkstate_watches(ls, "eth1"));
	assert_true(linkstate_watches(ls, "host0"));
	linkstate_free(ls);
}

/* pppd makes a new ifindex per call, often under the same name. */
static void
test_new_ifindex_same_name(void **state)
{
	struct linkstate	*ls = mk(NULL, 0);
	struct linkstate_info	 li;

	(void)state;
	feed_link(ls, RTM_NEWLINK, 5, "ppp0", F_PPP, IF_OPER_UNKNOWN);
	feed_addr(ls, RTM_NEWADDR, 5, "198.51.100.7/32");
	expect("UP ppp0");
	feed_addr(ls, RTM_DELADDR, 5, "198.51.100.7/32");
	feed_link(ls, RTM_DELLINK, 5, "ppp0", F_PPP, IF_OPER_UNKNOWN);
	expect("DOWN ppp0");
	feed_link(ls, RTM_NEWLINK, 6, "ppp0", F_PPP, IF_OPER_UNKNOWN);
	expect("");
	feed_addr(ls, RTM_NEWADDR, 6, "198.51.100.8/32");
	expect("UP ppp0");
	assert_int_equal(nwatched(ls), 1);
	assert_true(info(ls, "ppp0", &li));
	assert_int_equal(li.ifindex, 6);
	linkstate_free(ls);
}

static void
test_address_change(void **state)
{
	struct linkstate	*ls = mk(NULL, 0);

	(void)state;
	feed_link(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 3, "192.0.2.1/24");
	expect("UP site0");
	feed_addr(ls, RTM_NEWADDR, 3, "198.51.100.7/24");
	expect("ADDRESS site0");
	assert_string_equal(addrs(ls, "site0"),
	    "192.0.2.1/24 198.51.100.7/24*");
	/* Not global, or not yet usable: nothing. */
	feed_addr_peer(ls, RTM_NEWADDR, 3, "fe80::1/64", NULL, RT_SCOPE_LINK,
	    IFA_F_PERMANENT);
	feed_addr_peer(ls, RTM_NEWADDR, 3, "2001:db8::1/64", NULL,
	    RT_SCOPE_UNIVERSE, IFA_F_TENTATIVE);
	expect("");
	/* DAD done: a new usable address. */
	feed_addr_peer(ls, RTM_NEWADDR, 3, "2001:db8::1/64", NULL,
	    RT_SCOPE_UNIVERSE, 0);
	expect("ADDRESS site0");
	assert_string_equal(addrs(ls, "site0"),
	    "192.0.2.1/24 198.51.100.7/24 2001:db8::1/64*");
	/* Removing one of several: still up, nothing to report. */
	feed_addr(ls, RTM_DELADDR, 3, "198.51.100.7/24");
	expect("");
	/* The same address, another prefix length, is another address. */
	feed_addr(ls, RTM_NEWADDR, 3, "192.0.2.1/25");
	expect("ADDRESS site0");
	/* A rotating IPv6 privacy address is no reason to ask again. */
	feed_addr_peer(ls, RTM_NEWADDR, 3, "2001:db8::5eed/64", NULL,
	    RT_SCOPE_UNIVERSE, IFA_F_TEMPORARY);
	expect("");
	linkstate_free(ls);
}

/* pppd demand mode: the placeholder 10.64.64.64 gives way to the real one. */
static void
test_demand_mode(void **state)
{
	struct linkstate	*ls = mk(NULL, 0);

	(void)state;
	feed_link(ls, RTM_NEWLINK, 9, "ppp0", F_PPP, IF_OPER_UNKNOWN);
	feed_addr_peer(ls, RTM_NEWADDR, 9, "10.64.64.64/32",
	    "10.112.112.112/32", RT_SCOPE_UNIVERSE, IFA_F_PERMANENT);
	expect("UP ppp0");

	/* Delete, then add: down, up (the scheduler's settle merges). */
	feed_addr_peer(ls, RTM_DELADDR, 9, "10.64.64.64/32",
	    "10.112.112.112/32", RT_SCOPE_UNIVERSE, IFA_F_PERMANENT);
	expect("DOWN ppp0");
	feed_addr_peer(ls, RTM_NEWADDR, 9, "198.51.100.7/32", "203.0.113.1/32",
	    RT_SCOPE_UNIVERSE, IFA_F_PERMANENT);
	expect("UP ppp0");

	/* Hang-up, back to the placeholder, then add before delete. */
	feed_addr(ls, RTM_DELADDR, 9, "198.51.100.7/32");
	feed_addr(ls, RTM_NEWADDR, 9, "10.64.64.64/32");
	expect("DOWN ppp0, UP ppp0");
	feed_addr_peer(ls, RTM_NEWADDR, 9, "198.51.100.7/32", "203.0.113.1/32",
	    RT_SCOPE_UNIVERSE, IFA_F_PERMANENT);
	expect("ADDRESS ppp0");
	assert_string_equal(addrs(ls, "ppp0"),
	    "10.64.64.64/32 198.51.100.7/32*");
	feed_addr(ls, RTM_DELADDR, 9, "10.64.64.64/32");
	expect("");
	assert_string_equal(addrs(ls, "ppp0"), "198.51.100.7/32*");
	assert_true(linkstate_online(ls));
	linkstate_free(ls);
}

/* Three interfaces up: the state a resync starts from. */
static struct linkstate *
mk_three(void)
{
	struct linkstate	*ls = mk(NULL, 0);

	feed_link(ls, RTM_NEWLINK, 2, "eth0", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 2, "192.0.2.1/24");
	feed_link(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 3, "192.0.2.2/24");
	feed_link(ls, RTM_NEWLINK, 9, "ppp0", F_PPP, IF_OPER_UNKNOWN);
	feed_addr(ls, RTM_NEWADDR, 9, "10.64.64.64/32");
	expect("UP eth0, UP site0, UP ppp0");
	return ls;
}

/*
 * A route notification through up to two devices (0 ends the list), or
 * by nexthop object (-1: no device in the message).
 */
static void
feed_route(struct linkstate *ls, int type, int family, uint32_t table,
    uint8_t rtype, unsigned flags, int ifindex, int ifindex2)
{
	struct linkstate_route	 r = {
		.family = family,
		.table = table,
		.type = rtype,
		.flags = flags,
	};

	if (ifindex == -1)
		r.more = true;
	if (ifindex > 0)
		r.oif[r.noif++] = ifindex;
	if (ifindex > 0 && ifindex2 > 0)
		r.oif[r.noif++] = ifindex2;
	linkstate_apply_route(ls, &r, type);
}

/* Which route notifications say "routing may have changed", for whom. */
static void
test_routes(void **state)
{
	static const struct {
		int		 type;
		int		 family;
		uint32_t	 table;
		uint8_t		 rtype;
		unsigned	 flags;
		int		 oif, oif2;
		const char	*want;
	} t[] = {
		/* Through a watched interface that is up, both ways. */
		{ RTM_NEWROUTE, AF_INET, RT_TABLE_MAIN, RTN_UNICAST, 0, 9, 0,
		    "ROUTE ppp0" },
		{ RTM_DELROUTE, AF_INET, RT_TABLE_MAIN, RTN_UNICAST, 0, 9, 0,
		    "ROUTE ppp0" },
		{ RTM_NEWROUTE, AF_INET6, RT_TABLE_MAIN, RTN_UNICAST, 0, 3, 0,
		    "ROUTE site0" },
		/* Policy routing: any table but the local one. */
		{ RTM_NEWROUTE, AF_INET, 100, RTN_UNICAST, 0, 3, 0,
		    "ROUTE site0" },
		{ RTM_NEWROUTE, AF_INET, RT_TABLE_LOCAL, RTN_UNICAST, 0, 3, 0,
		    "" },
		{ RTM_NEWROUTE, AF_INET, RT_TABLE_LOCAL, RTN_LOCAL, 0, 3, 0,
		    "" },
		/* The kernel's per-address and cached routes. */
		{ RTM_NEWROUTE, AF_INET, RT_TABLE_MAIN, RTN_BROADCAST, 0, 3, 0,
		    "" },
		{ RTM_NEWROUTE, AF_INET6, RT_TABLE_MAIN, RTN_MULTICAST, 0, 3,
		    0, "" },
		{ RTM_NEWROUTE, AF_INET6, RT_TABLE_MAIN, RTN_UNICAST,
		    RTM_F_CLONED, 3, 0, "" },
		/* Reject routes: no interface (IPv6 puts them on lo). */
		{ RTM_NEWROUTE, AF_INET, RT_TABLE_MAIN, RTN_BLACKHOLE, 0, 0,
		    0, "ROUTE *" },
		{ RTM_NEWROUTE, AF_INET, RT_TABLE_MAIN, RTN_UNREACHABLE, 0, 0,
		    0, "ROUTE *" },
		{ RTM_DELROUTE, AF_INET6, RT_TABLE_MAIN, RTN_PROHIBIT, 0, 1, 0,
		    "ROUTE *" },
		{ RTM_NEWROUTE, AF_INET6, 100, RTN_THROW, 0, 1, 0,
		    "ROUTE *" },
		/* By nexthop object: the device is not in the message. */
		{ RTM_NEWROUTE, AF_INET, RT_TABLE_MAIN, RTN_UNICAST, 0, -1, 0,
		    "ROUTE *" },
		/* Multipath: the first nexthop that counts. */
		{ RTM_NEWROUTE, AF_INET, RT_TABLE_MAIN, RTN_UNICAST, 0, 7, 3,
		    "ROUTE site0" },
		{ RTM_NEWROUTE, AF_INET, RT_TABLE_MAIN, RTN_UNICAST, 0, 9, 3,
		    "ROUTE ppp0" },
		/* Not watched, not up, not known: not news. */
		{ RTM_NEWROUTE, AF_INET, RT_TABLE_MAIN, RTN_UNICAST, 0, 6, 0,
		    "" },
		{ RTM_NEWROUTE, AF_INET, RT_TABLE_MAIN, RTN_UNICAST, 0, 7, 0,
		    "" },
		{ RTM_NEWROUTE, AF_INET, RT_TABLE_MAIN, RTN_UNICAST, 0, 42, 0,
		    "" },
		/* Other families, other message types. */
		{ RTM_NEWROUTE, AF_DECnet, RT_TABLE_MAIN, RTN_UNICAST, 0, 3, 0,
		    "" },
		{ RTM_GETROUTE, AF_INET, RT_TABLE_MAIN, RTN_UNICAST, 0, 3, 0,
		    "" },
		{ RTM_NEWADDR, AF_INET, RT_TABLE_MAIN, RTN_UNICAST, 0, 3, 0,
		    "" },
	};
	char			*watch[] = { "site*", "ppp*" };
	struct linkstate	*ls = mk(watch, 2);
	size_t			 i;

	(void)state;
	feed_link(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 3, "192.0.2.2/24");
	feed_link(ls, RTM_NEWLINK, 9, "ppp0", F_PPP, IF_OPER_UNKNOWN);
	feed_addr(ls, RTM_NEWADDR, 9, "198.51.100.1/32");
	/* eth0: up, not watched; site1: watched, no address yet. */
	feed_link(ls, RTM_NEWLINK, 6, "eth0", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 6, "203.0.113.1/24");
	feed_link(ls, RTM_NEWLINK, 7, "site1", F_ETH_UP, IF_OPER_UP);
	expect("UP site0, UP ppp0");

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		print_message("row %zu\n", i);
		feed_route(ls, t[i].type, t[i].family, t[i].table, t[i].rtype,
		    t[i].flags, t[i].oif, t[i].oif2);
		expect(t[i].want);
	}

	/* Down: its routes are not news any more; DOWN said it. */
	feed_link(ls, RTM_NEWLINK, 9, "ppp0", F_PPP & ~IFF_UP,
	    IF_OPER_DOWN);
	expect("DOWN ppp0");
	feed_route(ls, RTM_DELROUTE, AF_INET6, RT_TABLE_MAIN, RTN_UNICAST, 0,
	    9, 0);
	expect("");

	/* In a resync nothing is reported: the caller says it for all. */
	linkstate_resync_begin(ls);
	feed_link(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 3, "192.0.2.2/24");
	feed_route(ls, RTM_NEWROUTE, AF_INET, RT_TABLE_MAIN, RTN_UNICAST, 0,
	    3, 0);
	feed_route(ls, RTM_NEWROUTE, AF_INET, RT_TABLE_MAIN, RTN_BLACKHOLE,
	    0, -1, 0);
	expect("");
	linkstate_resync_end(ls);
	/* Only site0 was dumped: the others are gone, ppp0 was down. */
	expect("");
	feed_route(ls, RTM_NEWROUTE, AF_INET, RT_TABLE_MAIN, RTN_UNICAST, 0,
	    3, 0);
	expect("ROUTE site0");
	linkstate_free(ls);
}

static void
test_resync_unchanged(void **state)
{
	struct linkstate	*ls = mk_three();

	(void)state;
	linkstate_resync_begin(ls);
	feed_link(ls, RTM_NEWLINK, 2, "eth0", F_ETH_UP, IF_OPER_UP);
	feed_link(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_UP);
	feed_link(ls, RTM_NEWLINK, 9, "ppp0", F_PPP, IF_OPER_UNKNOWN);
	feed_addr(ls, RTM_NEWADDR, 2, "192.0.2.1/24");
	feed_addr(ls, RTM_NEWADDR, 3, "192.0.2.2/24");
	feed_addr(ls, RTM_NEWADDR, 9, "10.64.64.64/32");
	linkstate_resync_end(ls);
	expect("");
	assert_int_equal(nwatched(ls), 3);
	/* An end without a begin does nothing. */
	linkstate_resync_end(ls);
	expect("");
	linkstate_free(ls);
}

static void
test_resync_net_changes(void **state)
{
	struct linkstate	*ls = mk_three();

	(void)state;
	/* An interrupted dump first: begin again, the base stays. */
	linkstate_resync_begin(ls);
	feed_link(ls, RTM_NEWLINK, 2, "eth0", F_ETH, IF_OPER_DOWN);
	linkstate_resync_begin(ls);
	expect("");

	/*
	 * During the overrun: eth0 went down, site0 went down and up
	 * again, ppp0 got its real address, tun0 came and went, site1
	 * appeared and wan0 (ifindex 12) is only half there.
	 */
	feed_link(ls, RTM_NEWLINK, 2, "eth0", F_ETH, IF_OPER_DOWN);
	feed_link(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_UP);
	feed_link(ls, RTM_NEWLINK, 9, "ppp0", F_PPP, IF_OPER_UNKNOWN);
	feed_link(ls, RTM_NEWLINK, 11, "site1", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 2, "192.0.2.1/24");
	feed_addr(ls, RTM_NEWADDR, 3, "192.0.2.2/24");
	feed_addr(ls, RTM_NEWADDR, 9, "10.64.64.64/32");
	feed_addr(ls, RTM_NEWADDR, 9, "198.51.100.7/32");
	feed_addr(ls, RTM_NEWADDR, 11, "192.0.2.11/24");
	feed_addr(ls, RTM_NEWADDR, 12, "192.0.2.12/24");
	expect("");
	linkstate_resync_end(ls);
	expect("DOWN eth0, ADDRESS ppp0, UP site1");
	assert_string_equal(addrs(ls, "ppp0"),
	    "10.64.64.64/32 198.51.100.7/32*");
	/* wan0 (addresses only) shows up as soon as its link does. */
	feed_link(ls, RTM_NEWLINK, 12, "wan0", F_PPP, IF_OPER_UNKNOWN);
	expect("UP wan0");

	/* Now site0 and wan0 are gone, and ppp0 lost its placeholder. */
	linkstate_resync_begin(ls);
	feed_link(ls, RTM_NEWLINK, 2, "eth0", F_ETH, IF_OPER_DOWN);
	feed_link(ls, RTM_NEWLINK, 9, "ppp0", F_PPP, IF_OPER_UNKNOWN);
	feed_link(ls, RTM_NEWLINK, 11, "site1", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 9, "198.51.100.7/32");
	feed_addr(ls, RTM_NEWADDR, 11, "192.0.2.11/24");
	linkstate_resync_end(ls);
	expect("DOWN site0, DOWN wan0");
	assert_string_equal(addrs(ls, "ppp0"), "198.51.100.7/32*");
	assert_int_equal(nwatched(ls), 3);

	/* Everything gone: the table empties. */
	linkstate_resync_begin(ls);
	linkstate_resync_end(ls);
	expect("DOWN ppp0, DOWN site1");
	assert_int_equal(nwatched(ls), 0);
	assert_false(linkstate_online(ls));
	linkstate_free(ls);
}

/* A DELLINK inside a resync, then the same ifindex again. */
static void
test_resync_dellink(void **state)
{
	struct linkstate	*ls = mk_three();

	(void)state;
	linkstate_resync_begin(ls);
	feed_link(ls, RTM_NEWLINK, 2, "eth0", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 2, "192.0.2.1/24");
	feed_link(ls, RTM_DELLINK, 2, "eth0", F_ETH_UP, IF_OPER_UP);
	feed_link(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 3, "192.0.2.2/24");
	feed_link(ls, RTM_DELLINK, 3, "site0", F_ETH_UP, IF_OPER_UP);
	feed_link(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 3, "192.0.2.2/24");
	feed_link(ls, RTM_NEWLINK, 9, "ppp0", F_PPP, IF_OPER_UNKNOWN);
	feed_addr(ls, RTM_NEWADDR, 9, "10.64.64.64/32");
	linkstate_resync_end(ls);
	expect("DOWN eth0");
	linkstate_free(ls);
}

static void
test_set_watch(void **state)
{
	char			*ppp[] = { "ppp*" };
	char			*none[] = { "nothing" };
	struct linkstate	*ls = mk_three();

	(void)state;
	linkstate_set_watch(ls, ppp, 1);
	expect("DOWN eth0, DOWN site0");
	assert_int_equal(nwatched(ls), 1);
	assert_true(linkstate_online(ls));
	linkstate_set_watch(ls, ppp, 1);
	expect("");
	linkstate_set_watch(ls, none, 1);
	expect("DOWN ppp0");
	assert_false(linkstate_online(ls));
	linkstate_set_watch(ls, NULL, 0);
	expect("UP eth0, UP site0, UP ppp0");
	assert_int_equal(nwatched(ls), 3);
	linkstate_free(ls);
}

/* Endless ifindex churn (pppd redialling) must not grow the table. */
static void
test_churn(void **state)
{
	struct linkstate	*ls = mk(NULL, 0);
	int			 i;

	(void)state;
	for (i = 100; i < 5100; i++) {
		feed_link(ls, RTM_NEWLINK, i, "ppp0", F_PPP, IF_OPER_UNKNOWN);
		feed_addr(ls, RTM_NEWADDR, i, "198.51.100.7/32");
		feed_link(ls, RTM_DELLINK, i, "ppp0", F_PPP, IF_OPER_UNKNOWN);
		assert_string_equal(got, "UP ppp0, DOWN ppp0");
		got[0] = '\0';
	}
	assert_int_equal(nwatched(ls), 0);
	linkstate_free(ls);
}

static void
test_no_callback(void **state)
{
	struct linkstate	*ls;

	(void)state;
	ls = linkstate_new(NULL, 0, NULL, NULL);
	feed_link(ls, RTM_NEWLINK, 3, "site0", F_ETH_UP, IF_OPER_UP);
	feed_addr(ls, RTM_NEWADDR, 3, "192.0.2.1/24");
	assert_true(linkstate_online(ls));
	linkstate_free(ls);
	linkstate_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_veth_sequence),
		cmocka_unit_test(test_carrier_table),
		cmocka_unit_test(test_carrier_pending_expire),
		cmocka_unit_test(test_addr_before_link),
		cmocka_unit_test(test_tentative),
		cmocka_unit_test(test_dadfailed),
		cmocka_unit_test(test_link_local_only),
		cmocka_unit_test(test_ppp),
		cmocka_unit_test(test_mtu_only),
		cmocka_unit_test(test_other_families),
		cmocka_unit_test(test_dellink),
		cmocka_unit_test(test_rename),
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_default_excludes),
		cmocka_unit_test(test_new_ifindex_same_name),
		cmocka_unit_test(test_address_change),
		cmocka_unit_test(test_demand_mode),
		cmocka_unit_test(test_resync_unchanged),
		cmocka_unit_test(test_resync_net_changes),
		cmocka_unit_test(test_resync_dellink),
		cmocka_unit_test(test_set_watch),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_no_callback),
		cmocka_unit_test(test_routes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
