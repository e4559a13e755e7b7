/* SPDX-License-Identifier: ISC */
/*
 * linkstate: the table of network interfaces and whether each is usable,
 * fed with libnl route objects (rtnl_link, rtnl_addr) from dumps and
 * notifications, and with route notifications as link.c parses them
 * (struct linkstate_route).  Pure: no sockets, no logging.  It reports
 * transitions of watched interfaces, and route changes that may change
 * whether a destination is reachable through them, through a callback.
 *
 * Usable = IFF_UP + carrier by systemd-networkd's rule (operstate UP, or
 * UNKNOWN, with IFF_LOWER_UP and not IFF_DORMANT), as the kernel evaluated
 * it after the link came up (linkstate_pending()) + at least one global
 * address that is neither tentative nor DAD-failed.
 */
#ifndef ETRND_LINKSTATE_H
#define ETRND_LINKSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#include "conf.h"

struct nl_object;

enum linkstate_event {
	LINKSTATE_UP,		/* a watched interface became usable */
	LINKSTATE_DOWN,		/* a watched interface stopped being usable */
	LINKSTATE_ADDRESS,	/* usable, and a new global address appeared */
	/*
	 * Routing may have changed: re-evaluate reachability.  ifname is a
	 * watched interface that is up (reported UP and not DOWN since) and
	 * that a route through it was added, changed or removed, or "" for
	 * a change not tied to one interface: an unreachable, blackhole,
	 * prohibit or throw route, a route by nexthop object, or (from
	 * link.c) notifications lost to an overrun.  Routes of the local
	 * table, cloned routes and non-unicast types are not reported, nor
	 * routes through interfaces not up: UP and DOWN carry that news.
	 */
	LINKSTATE_ROUTE,
};

typedef void (*linkstate_cb)(enum linkstate_event, const char *ifname,
    void *arg);

struct linkstate;

struct linkstate_info {
	int		 ifindex;
	char		 name[IFNAMSIZ];
	bool		 watched;
	bool		 usable;
	bool		 admin_up;
	bool		 carrier;
	unsigned	 naddrs;	/* usable global addresses */
	long long	 since;		/* wall-clock seconds of last change */
};

/* watch/nwatch as in struct conf (0 = every non-loopback interface). */
struct linkstate *linkstate_new(char * const *watch, size_t nwatch,
		    linkstate_cb cb, void *arg);
void		 linkstate_free(struct linkstate *);
/* New watch list (reload); reports UP/DOWN for interfaces that change. */
void		 linkstate_set_watch(struct linkstate *, char * const *watch,
		    size_t nwatch);

/*
 * Apply one object from a notification or a dump.  msgtype is the netlink
 * message type (RTM_NEWLINK, RTM_DELLINK, RTM_NEWADDR, RTM_DELADDR,
 * RTM_NEWROUTE, RTM_DELROUTE).  Link objects of a family other than
 * AF_UNSPEC are ignored.
 */
void		 linkstate_apply(struct linkstate *, struct nl_object *,
		    int msgtype);

#define LINKSTATE_ROUTE_NH_MAX	16

/* What the table needs of a route notification. */
struct linkstate_route {
	int		 family;	/* rtm_family */
	uint32_t	 table;		/* RTA_TABLE, else rtm_table */
	uint8_t		 type;		/* rtm_type: RTN_* */
	unsigned	 flags;		/* rtm_flags: RTM_F_* */
	/* Output devices: RTA_OIF, or each RTA_MULTIPATH nexthop's. */
	int		 oif[LINKSTATE_ROUTE_NH_MAX];
	size_t		 noif;
	bool		 more;		/* RTA_NH_ID, or more than fit */
};

/*
 * Apply one route notification (msgtype RTM_NEWROUTE or RTM_DELROUTE).
 * Routes are not kept: each one that matters is reported at once, and
 * during a resync none is (dumps carry no routes; the caller reports the
 * resync as one LINKSTATE_ROUTE "").
 */
void		 linkstate_apply_route(struct linkstate *,
		    const struct linkstate_route *, int msgtype);

/*
 * A full re-dump: linkstate_resync_begin(), linkstate_apply() each dumped
 * object, linkstate_resync_end().  Interfaces and addresses not seen are
 * dropped, and only net changes against the state before are reported.
 */
void		 linkstate_resync_begin(struct linkstate *);
void		 linkstate_resync_end(struct linkstate *);

/* One usable global address of an interface, for people (logs, status). */
struct linkstate_addr {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];	/* network byte order, 4 or 16 used */
	unsigned	 prefixlen;
	bool		 newest;	/* appeared in the latest change */
};

/*
 * Whether an interface waits for the kernel to evaluate a carrier that came
 * on with IFF_UP (the RTM_NEWLINK of its linkwatch work, normally within a
 * millisecond).  It may never come when the carrier came on while the link
 * was down: the caller bounds the wait and then calls
 * linkstate_pending_expire(), which takes each such interface as its last
 * message says.
 */
bool		 linkstate_pending(const struct linkstate *);
/*
 * Each interface's wait gets at least the caller's bound: take a mark when
 * arming the timer, and at its end expire only the interfaces that were
 * waiting at the mark (later ones wait for the next timer).
 */
uint64_t	 linkstate_pending_mark(const struct linkstate *);
void		 linkstate_pending_expire(struct linkstate *, uint64_t mark);

/* Any watched interface usable. */
bool		 linkstate_online(const struct linkstate *);
/* Whether the watch list covers this interface name (present or not). */
bool		 linkstate_watches(const struct linkstate *, const char *ifname);
/* Iterate the watched interfaces: i from 0 while it returns true. */
bool		 linkstate_get(const struct linkstate *, size_t i,
		    struct linkstate_info *);
/* Iterate the usable global addresses of the watched interface ifname. */
bool		 linkstate_get_addr(const struct linkstate *,
		    const char *ifname, size_t i, struct linkstate_addr *);

#endif
