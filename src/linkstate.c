/* SPDX-License-Identifier: ISC */
/*
 * linkstate: which network interfaces are usable, from rtnetlink objects.
 *
 * Interfaces are keyed by ifindex: a rename keeps it, RTM_DELLINK is final,
 * and pppd makes a new ifindex per call.  Each entry remembers what was last
 * reported for it (up or not, under which name, which addresses were
 * usable), so every change is compared with that and only real transitions
 * are reported: an MTU change is a NEWLINK too.  A resync defers that
 * comparison to its end, so an overrun reports net changes only.
 *
 * Events are queued while the table changes and delivered once it is
 * consistent again: the callback may read the table.
 *
 * Carrier: the operstate in the message that sets IFF_UP is not always
 * the kernel's verdict on the carrier that came on with it.  A carrier
 * change is evaluated later, by the kernel's linkwatch work, which then
 * sends another RTM_NEWLINK; until then the message repeats the operstate
 * linkwatch last computed -- "up" from before the link went down when the
 * down was still waiting in linkwatch's queue (it batches non-urgent
 * events once a second).  On veth, the peer's queue is started by that same
 * linkwatch run, right after this end's: a connect made on the early
 * "up" sends its ARP request to a peer whose answer is dropped (noop
 * qdisc), and ARP asks again only after a second.  So an admin-up message
 * whose carrier came on with it (IFLA_CARRIER off before, on now) does not
 * give carrier: the next RTM_NEWLINK for the interface does.  link.c bounds
 * the wait (linkstate_pending()), for a carrier that came on while the
 * link was down, which linkwatch evaluated without telling anyone.
 *
 * Routes are not stored: a route change through an interface that is up is
 * passed on as it comes, for the consumer to ask the kernel again (route.c)
 * and compare with its own last answer, which is the only diff that
 * matters.  Every table but the local one counts, so policy routing is
 * followed too.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <net/if.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include <netlink/addr.h>
#include <netlink/object.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "linkstate.h"
#include "watch.h"
#include "util.h"

/* The kernel bounds this too; a cap keeps a flood of aliases finite. */
#define LS_ADDRS_MAX	1024

struct ls_addr {
	TAILQ_ENTRY(ls_addr)	 entry;
	int			 family;
	unsigned char		 bytes[16];
	unsigned		 prefixlen;
	int			 scope;
	unsigned		 flags;
	bool			 seen;		/* in the current resync */
	bool			 reported;	/* usable at the last report */
	unsigned long		 gen;		/* report that first had it */
};
TAILQ_HEAD(ls_addrs, ls_addr);

struct ls_iface {
	TAILQ_ENTRY(ls_iface)	 entry;
	int			 ifindex;
	bool			 haslink;	/* else only addresses yet */
	char			 name[IFNAMSIZ];
	unsigned		 flags;		/* IFF_* */
	uint8_t			 operstate;	/* IF_OPER_* */
	uint8_t			 carrier;	/* IFLA_CARRIER, raw */
	bool			 pending;	/* operstate not evaluated yet */
	uint64_t		 pending_seq;	/* when it began, in marks */
	struct ls_addrs		 addrs;
	size_t			 naddrs;
	bool			 seen;		/* link in the current resync */

	/* As of the last report. */
	bool			 watched;
	bool			 usable;
	long long		 since;
	bool			 rep_up;	/* reported: watched, usable */
	char			 rep_name[IFNAMSIZ];
};
TAILQ_HEAD(ls_ifaces, ls_iface);

struct ls_event {
	enum linkstate_event	 type;
	char			 name[IFNAMSIZ];
};

struct linkstate {
	struct ls_ifaces	 ifaces;	/* sorted by ifindex */
	char			**watch;
	size_t			 nwatch;
	linkstate_cb		 cb;
	void			*arg;
	bool			 resyncing;
	unsigned long		 gen;
	uint64_t		 pending_seq;	/* waits begun so far */

	struct ls_event		*evq;		/* pending callbacks */
	size_t			 nev;
	size_t			 evcap;
	bool			 dispatching;
};

static void
ls_copyname(char *dst, const char *src)
{
	snprintf(dst, IFNAMSIZ, "%s", src);
}

static void
ls_setwatch(struct linkstate *ls, char * const *watch, size_t nwatch)
{
	size_t	 i;

	for (i = 0; i < ls->nwatch; i++)
		free(ls->watch[i]);
	free(ls->watch);
	ls->watch = NULL;
	ls->nwatch = 0;
	if (nwatch == 0)
		return;
	ls->watch = xreallocarray(NULL, nwatch, sizeof(*ls->watch));
	for (i = 0; i < nwatch; i++)
		ls->watch[i] = xstrdup(watch[i]);
	ls->nwatch = nwatch;
}

struct linkstate *
linkstate_new(char * const *watch, size_t nwatch, linkstate_cb cb, void *arg)
{
	struct linkstate	*ls;

	ls = xcalloc(1, sizeof(*ls));
	TAILQ_INIT(&ls->ifaces);
	ls_setwatch(ls, watch, nwatch);
	ls->cb = cb;
	ls->arg = arg;
	return ls;
}

static void
ls_iface_free(struct linkstate *ls, struct ls_iface *ifp)
{
	struct ls_addr	*a;

	while ((a = TAILQ_FIRST(&ifp->addrs)) != NULL) {
		TAILQ_REMOVE(&ifp->addrs, a, entry);
		free(a);
	}
	TAILQ_REMOVE(&ls->ifaces, ifp, entry);
	free(ifp);
}

void
linkstate_free(struct linkstate *ls)
{
	struct ls_iface	*ifp;

	if (ls == NULL)
		return;
	while ((ifp = TAILQ_FIRST(&ls->ifaces)) != NULL)
		ls_iface_free(ls, ifp);
	ls_setwatch(ls, NULL, 0);
	free(ls->evq);
	free(ls);
}

static struct ls_iface *
ls_find(const struct linkstate *ls, int ifindex)
{
	struct ls_iface	*ifp;

	TAILQ_FOREACH(ifp, &ls->ifaces, entry) {
		if (ifp->ifindex == ifindex)
			return ifp;
		if (ifp->ifindex > ifindex)
			break;
	}
	return NULL;
}

/* The entry for ifindex, made on first sight (addresses may come first). */
static struct ls_iface *
ls_get(struct linkstate *ls, int ifindex)
{
	struct ls_iface	*ifp, *next;

	TAILQ_FOREACH(next, &ls->ifaces, entry) {
		if (next->ifindex == ifindex)
			return next;
		if (next->ifindex > ifindex)
			break;
	}
	ifp = xcalloc(1, sizeof(*ifp));
	ifp->ifindex = ifindex;
	TAILQ_INIT(&ifp->addrs);
	ifp->since = wall_s();
	if (next != NULL)
		TAILQ_INSERT_BEFORE(next, ifp, entry);
	else
		TAILQ_INSERT_TAIL(&ls->ifaces, ifp, entry);
	return ifp;
}

static bool
ls_addr_usable(const struct ls_addr *a)
{
	return a->scope == RT_SCOPE_UNIVERSE &&
	    (a->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) == 0;
}

/*
 * systemd-networkd's carrier rule (IFF_RUNNING alone says too little), with
 * IFF_LOWER_UP for operstate UP too: an operstate left over from before a
 * down comes without it when the carrier is not back yet.
 */
static bool
ls_carrier(const struct ls_iface *ifp)
{
	if (ifp->pending || !(ifp->flags & IFF_LOWER_UP) ||
	    (ifp->flags & IFF_DORMANT))
		return false;
	return ifp->operstate == IF_OPER_UP ||
	    ifp->operstate == IF_OPER_UNKNOWN;
}

static size_t
ls_nusable(const struct ls_iface *ifp)
{
	const struct ls_addr	*a;
	size_t			 n = 0;

	TAILQ_FOREACH(a, &ifp->addrs, entry)
		if (ls_addr_usable(a))
			n++;
	return n;
}

static bool
ls_usable(const struct ls_iface *ifp)
{
	return ifp->haslink && (ifp->flags & IFF_UP) && ls_carrier(ifp) &&
	    ls_nusable(ifp) > 0;
}

static bool
ls_watched(const struct linkstate *ls, const struct ls_iface *ifp)
{
	if (!ifp->haslink || ifp->name[0] == '\0')
		return false;
	return watch_match(ls->watch, ls->nwatch, ifp->name,
	    (ifp->flags & IFF_LOOPBACK) != 0);
}

bool
linkstate_watches(const struct linkstate *ls, const char *ifname)
{
	const struct ls_iface	*ifp;
	bool			 loopback = false;

	/* An interface not known (yet) is taken as not loopback. */
	TAILQ_FOREACH(ifp, &ls->ifaces, entry)
		if (ifp->haslink && strcmp(ifp->name, ifname) == 0)
			loopback = (ifp->flags & IFF_LOOPBACK) != 0;
	return watch_match(ls->watch, ls->nwatch, ifname, loopback);
}

static void
ls_queue(struct linkstate *ls, enum linkstate_event type, const char *name)
{
	if (ls->cb == NULL)
		return;
	if (ls->nev == ls->evcap) {
		ls->evcap = ls->evcap == 0 ? 8 : ls->evcap * 2;
		ls->evq = xreallocarray(ls->evq, ls->evcap, sizeof(*ls->evq));
	}
	ls->evq[ls->nev].type = type;
	ls_copyname(ls->evq[ls->nev].name, name);
	ls->nev++;
}

/* Deliver queued events; a nested call leaves them to the outer loop. */
static void
ls_dispatch(struct linkstate *ls)
{
	struct ls_event	 ev;
	size_t		 i;

	if (ls->dispatching)
		return;
	ls->dispatching = true;
	for (i = 0; i < ls->nev; i++) {
		ev = ls->evq[i];
		ls->cb(ev.type, ev.name, ls->arg);
	}
	ls->nev = 0;
	ls->dispatching = false;
}

/* Compare an interface with what was last reported and queue the difference. */
static void
ls_report(struct linkstate *ls, struct ls_iface *ifp)
{
	struct ls_addr	*a;
	bool		 watched, usable, up, fresh = false;

	watched = ls_watched(ls, ifp);
	usable = ls_usable(ifp);
	up = watched && usable;

	ls->gen++;
	TAILQ_FOREACH(a, &ifp->addrs, entry) {
		if (ls_addr_usable(a) && !a->reported) {
			/* IPv6 privacy addresses rotate by themselves. */
			if (a->family != AF_INET6 ||
			    (a->flags & IFA_F_TEMPORARY) == 0)
				fresh = true;
			a->gen = ls->gen;
		}
		a->reported = ls_addr_usable(a);
	}

	if (ifp->rep_up && !up)
		ls_queue(ls, LINKSTATE_DOWN, ifp->rep_name);
	else if (!ifp->rep_up && up)
		ls_queue(ls, LINKSTATE_UP, ifp->name);
	else if (up && strcmp(ifp->rep_name, ifp->name) != 0) {
		/* Renamed while up: consumers know interfaces by name. */
		ls_queue(ls, LINKSTATE_DOWN, ifp->rep_name);
		ls_queue(ls, LINKSTATE_UP, ifp->name);
	} else if (up && fresh)
		ls_queue(ls, LINKSTATE_ADDRESS, ifp->name);

	if (usable != ifp->usable)
		ifp->since = wall_s();
	ifp->watched = watched;
	ifp->usable = usable;
	ifp->rep_up = up;
	ls_copyname(ifp->rep_name, ifp->name);
}

/* An interface is gone: report it down if it was up, then forget it. */
static void
ls_remove(struct linkstate *ls, struct ls_iface *ifp)
{
	if (ifp->rep_up)
		ls_queue(ls, LINKSTATE_DOWN, ifp->rep_name);
	ls_iface_free(ls, ifp);
}

static void
ls_changed(struct linkstate *ls, struct ls_iface *ifp)
{
	if (!ls->resyncing)
		ls_report(ls, ifp);
}

static void
ls_apply_link(struct linkstate *ls, struct rtnl_link *link, int msgtype)
{
	struct ls_iface	*ifp;
	struct ls_addr	*a;
	const char	*name;
	unsigned	 flags;
	uint8_t		 carrier;
	int		 ifindex;

	/* libnl's AF_INET6 partial copies, AF_BRIDGE port messages. */
	if (rtnl_link_get_family(link) != AF_UNSPEC)
		return;
	if ((ifindex = rtnl_link_get_ifindex(link)) <= 0)
		return;

	switch (msgtype) {
	case RTM_NEWLINK:
		ifp = ls_get(ls, ifindex);
		flags = rtnl_link_get_flags(link);
		carrier = rtnl_link_get_carrier(link);
		/* Admin up with the carrier: linkwatch will say (top). */
		ifp->pending = !ls->resyncing && ifp->haslink &&
		    !(ifp->flags & IFF_UP) && (flags & IFF_UP) &&
		    ifp->carrier == 0 && carrier != 0;
		if (ifp->pending)
			ifp->pending_seq = ++ls->pending_seq;
		ifp->haslink = true;
		ifp->seen = true;
		if ((name = rtnl_link_get_name(link)) != NULL)
			ls_copyname(ifp->name, name);
		ifp->flags = flags;
		ifp->operstate = rtnl_link_get_operstate(link);
		ifp->carrier = carrier;
		ls_changed(ls, ifp);
		break;
	case RTM_DELLINK:
		if ((ifp = ls_find(ls, ifindex)) == NULL)
			break;
		if (!ls->resyncing) {
			ls_remove(ls, ifp);
			break;
		}
		/*
		 * Unseen: resync_end drops it unless the dump shows it
		 * again, and then its addresses are not new.
		 */
		ifp->haslink = false;
		ifp->seen = false;
		TAILQ_FOREACH(a, &ifp->addrs, entry)
			a->seen = false;
		break;
	default:
		break;
	}
}

static struct ls_addr *
ls_addr_find(struct ls_iface *ifp, int family, const void *bytes,
    size_t len, unsigned prefixlen)
{
	struct ls_addr	*a;

	TAILQ_FOREACH(a, &ifp->addrs, entry)
		if (a->family == family && a->prefixlen == prefixlen &&
		    memcmp(a->bytes, bytes, len) == 0)
			return a;
	return NULL;
}

static void
ls_apply_addr(struct linkstate *ls, struct rtnl_addr *ra, int msgtype)
{
	struct ls_iface	*ifp;
	struct ls_addr	*a;
	struct nl_addr	*local;
	unsigned	 prefixlen;
	size_t		 len;
	int		 family, ifindex;

	family = rtnl_addr_get_family(ra);
	if (family == AF_INET)
		len = 4;
	else if (family == AF_INET6)
		len = 16;
	else
		return;
	if ((ifindex = rtnl_addr_get_ifindex(ra)) <= 0)
		return;
	/* IFA_LOCAL: on point-to-point links IFA_ADDRESS is the peer. */
	if ((local = rtnl_addr_get_local(ra)) == NULL ||
	    nl_addr_get_family(local) != family ||
	    nl_addr_get_len(local) != len)
		return;
	prefixlen = (unsigned)rtnl_addr_get_prefixlen(ra);

	switch (msgtype) {
	case RTM_NEWADDR:
		ifp = ls_get(ls, ifindex);
		a = ls_addr_find(ifp, family, nl_addr_get_binary_addr(local),
		    len, prefixlen);
		if (a == NULL) {
			if (ifp->naddrs >= LS_ADDRS_MAX)
				break;
			a = xcalloc(1, sizeof(*a));
			a->family = family;
			memcpy(a->bytes, nl_addr_get_binary_addr(local), len);
			a->prefixlen = prefixlen;
			TAILQ_INSERT_TAIL(&ifp->addrs, a, entry);
			ifp->naddrs++;
		}
		a->scope = rtnl_addr_get_scope(ra);
		a->flags = rtnl_addr_get_flags(ra);
		a->seen = true;
		ls_changed(ls, ifp);
		break;
	case RTM_DELADDR:
		if ((ifp = ls_find(ls, ifindex)) == NULL)
			break;
		a = ls_addr_find(ifp, family, nl_addr_get_binary_addr(local),
		    len, prefixlen);
		if (a == NULL)
			break;
		if (ls->resyncing) {
			a->seen = false;
			break;
		}
		TAILQ_REMOVE(&ifp->addrs, a, entry);
		ifp->naddrs--;
		free(a);
		ls_changed(ls, ifp);
		break;
	default:
		break;
	}
}

void
linkstate_apply(struct linkstate *ls, struct nl_object *obj, int msgtype)
{
	const char	*type;

	if ((type = nl_object_get_type(obj)) == NULL)
		return;
	if (strcmp(type, "route/link") == 0)
		ls_apply_link(ls, (struct rtnl_link *)obj, msgtype);
	else if (strcmp(type, "route/addr") == 0)
		ls_apply_addr(ls, (struct rtnl_addr *)obj, msgtype);
	ls_dispatch(ls);
}

/* Types that send nothing anywhere: they hide a route, whatever device. */
static bool
ls_route_reject(unsigned type)
{
	return type == RTN_UNREACHABLE || type == RTN_BLACKHOLE ||
	    type == RTN_PROHIBIT || type == RTN_THROW;
}

/* The first output device that is watched and up, or NULL. */
static struct ls_iface *
ls_route_iface(const struct linkstate *ls, const struct linkstate_route *r)
{
	struct ls_iface	*ifp;
	size_t		 i;

	for (i = 0; i < r->noif && i < LINKSTATE_ROUTE_NH_MAX; i++)
		if ((ifp = ls_find(ls, r->oif[i])) != NULL && ifp->rep_up)
			return ifp;
	return NULL;
}

void
linkstate_apply_route(struct linkstate *ls, const struct linkstate_route *r,
    int msgtype)
{
	struct ls_iface	*ifp;

	if (msgtype != RTM_NEWROUTE && msgtype != RTM_DELROUTE)
		return;
	if (r->family != AF_INET && r->family != AF_INET6)
		return;
	/* Local, broadcast, anycast, multicast: the kernel's, per address. */
	if (r->table == RT_TABLE_LOCAL)
		return;
	/* IPv6 exceptions (PMTU, redirects): per destination, not routing. */
	if (r->flags & RTM_F_CLONED)
		return;
	/* Lost in the dump anyway: the caller reports the whole resync. */
	if (ls->resyncing)
		return;
	if (ls_route_reject(r->type)) {
		/* IPv6 puts reject routes on lo: their device says nothing. */
		ls_queue(ls, LINKSTATE_ROUTE, "");
	} else if (r->type == RTN_UNICAST) {
		if ((ifp = ls_route_iface(ls, r)) != NULL)
			ls_queue(ls, LINKSTATE_ROUTE, ifp->rep_name);
		else if (r->more || r->noif == 0)
			/* The devices are elsewhere (a nexthop object). */
			ls_queue(ls, LINKSTATE_ROUTE, "");
	}
	ls_dispatch(ls);
}

bool
linkstate_pending(const struct linkstate *ls)
{
	const struct ls_iface	*ifp;

	TAILQ_FOREACH(ifp, &ls->ifaces, entry)
		if (ifp->pending)
			return true;
	return false;
}

uint64_t
linkstate_pending_mark(const struct linkstate *ls)
{
	return ls->pending_seq;
}

void
linkstate_pending_expire(struct linkstate *ls, uint64_t mark)
{
	struct ls_iface	*ifp;

	TAILQ_FOREACH(ifp, &ls->ifaces, entry) {
		if (!ifp->pending || ifp->pending_seq > mark)
			continue;
		ifp->pending = false;
		if (!ls->resyncing)
			ls_report(ls, ifp);
	}
	ls_dispatch(ls);
}

void
linkstate_set_watch(struct linkstate *ls, char * const *watch, size_t nwatch)
{
	struct ls_iface	*ifp;

	ls_setwatch(ls, watch, nwatch);
	if (ls->resyncing)
		return;
	TAILQ_FOREACH(ifp, &ls->ifaces, entry)
		ls_report(ls, ifp);
	ls_dispatch(ls);
}

void
linkstate_resync_begin(struct linkstate *ls)
{
	struct ls_iface	*ifp;
	struct ls_addr	*a;

	/* Again after an interrupted dump: the last report stays the base. */
	ls->resyncing = true;
	TAILQ_FOREACH(ifp, &ls->ifaces, entry) {
		ifp->seen = false;
		TAILQ_FOREACH(a, &ifp->addrs, entry)
			a->seen = false;
	}
}

void
linkstate_resync_end(struct linkstate *ls)
{
	struct ls_iface	*ifp, *nifp;
	struct ls_addr	*a, *na;

	if (!ls->resyncing)
		return;
	ls->resyncing = false;
	for (ifp = TAILQ_FIRST(&ls->ifaces); ifp != NULL; ifp = nifp) {
		nifp = TAILQ_NEXT(ifp, entry);
		for (a = TAILQ_FIRST(&ifp->addrs); a != NULL; a = na) {
			na = TAILQ_NEXT(a, entry);
			if (a->seen)
				continue;
			TAILQ_REMOVE(&ifp->addrs, a, entry);
			ifp->naddrs--;
			free(a);
		}
		if (!ifp->seen) {
			if (TAILQ_EMPTY(&ifp->addrs)) {
				ls_remove(ls, ifp);
				continue;
			}
			/* Addresses dumped, link not (yet): wait for it. */
			ifp->haslink = false;
		}
		ls_report(ls, ifp);
	}
	ls_dispatch(ls);
}

bool
linkstate_online(const struct linkstate *ls)
{
	const struct ls_iface	*ifp;

	TAILQ_FOREACH(ifp, &ls->ifaces, entry)
		if (ifp->rep_up)
			return true;
	return false;
}

bool
linkstate_get(const struct linkstate *ls, size_t i, struct linkstate_info *li)
{
	const struct ls_iface	*ifp;

	TAILQ_FOREACH(ifp, &ls->ifaces, entry) {
		if (!ifp->watched)
			continue;
		if (i-- > 0)
			continue;
		memset(li, 0, sizeof(*li));
		li->ifindex = ifp->ifindex;
		ls_copyname(li->name, ifp->name);
		li->watched = ifp->watched;
		li->usable = ifp->usable;
		li->admin_up = (ifp->flags & IFF_UP) != 0;
		li->carrier = ls_carrier(ifp);
		li->naddrs = (unsigned)ls_nusable(ifp);
		li->since = ifp->since;
		return true;
	}
	return false;
}

bool
linkstate_get_addr(const struct linkstate *ls, const char *ifname, size_t i,
    struct linkstate_addr *la)
{
	const struct ls_iface	*ifp;
	const struct ls_addr	*a;
	unsigned long		 newest = 0;

	TAILQ_FOREACH(ifp, &ls->ifaces, entry)
		if (ifp->watched && strcmp(ifp->name, ifname) == 0)
			break;
	if (ifp == NULL)
		return false;
	TAILQ_FOREACH(a, &ifp->addrs, entry)
		if (a->reported && a->gen > newest)
			newest = a->gen;
	TAILQ_FOREACH(a, &ifp->addrs, entry) {
		if (!a->reported)
			continue;
		if (i-- > 0)
			continue;
		memset(la, 0, sizeof(*la));
		la->family = a->family;
		memcpy(la->addr, a->bytes, sizeof(la->addr));
		la->prefixlen = a->prefixlen;
		la->newest = a->gen == newest;
		return true;
	}
	return false;
}
