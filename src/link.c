/* SPDX-License-Identifier: ISC */
/*
 * link: rtnetlink in the libevent loop, feeding a linkstate table.
 *
 * One non-blocking socket subscribed to link, address and IPv4/IPv6 route
 * notifications lives in a persistent EV_READ event.  Full state comes
 * from dumps on a separate, blocking, short-lived socket: the kernel
 * answers a local dump at once, and a dump never mixes with notifications.
 * Each dump is collected whole before it is applied, so the table only
 * ever sees complete dumps.  Recovery is always the same: drain the
 * notification socket, dump, resync.  It runs at start, after an overrun
 * (ENOBUFS) and after the socket is reopened.  Nothing wakes the loop while
 * nothing happens: the timers are armed on failure, and while an interface
 * waits for the kernel's verdict on a carrier that came on with IFF_UP
 * (linkstate_pending(): bounded by LINKMON_PENDING_MS).
 *
 * Routes are not dumped or kept (linkstate.h, LINKSTATE_ROUTE): the
 * consumer asks the kernel for the route it cares about (route.c), so a
 * recovery reports one LINKSTATE_ROUTE "" for whatever route notifications
 * it may have lost, and the consumer's next answer is the net change.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <linux/rtnetlink.h>

#include <event2/event.h>

#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/object.h>
#include <netlink/socket.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/rtnl.h>

#include "link.h"
#include "linkstate.h"
#include "log.h"
#include "util.h"

#define LINKMON_RCVBUF		(1024 * 1024)	/* bursts of ppp/veth churn */
#define LINKMON_DUMP_TRIES	5		/* on NLM_F_DUMP_INTR */
#define LINKMON_DUMP_TIMEOUT_S	5		/* local dumps answer at once */
#define LINKMON_READ_MAX	64		/* datagrams per callback */
#define LINKMON_DRAIN_MAX	65536		/* datagrams per drain */
#define LINKMON_RETRY_MIN_MS	1000
#define LINKMON_RETRY_MAX_MS	60000
#define LINKMON_OVERRUN_WARN_MS	60000		/* then debug until quiet */
/*
 * linkwatch's RTM_NEWLINK normally follows IFF_UP within a millisecond;
 * it never comes for a carrier that came on while the link was down.
 */
#define LINKMON_PENDING_MS	100

struct linkmon;

/* One dumped object, held until the whole dump is in. */
struct linkmon_obj {
	struct nl_object	*obj;
	int			 type;
};

struct linkmon_dump {
	struct linkmon_obj	*objs;
	size_t			 n;
	size_t			 cap;
};

/* What a parse callback needs: nl_msg_parse() hands over objects only. */
struct linkmon_parse {
	struct linkmon		*lm;
	struct linkmon_dump	*dump;		/* NULL: apply at once */
	int			 type;
};

struct linkmon {
	struct event_base	*base;
	struct linkstate	*ls;
	linkstate_cb		 cb;
	void			*arg;
	bool			 started;	/* forward events to cb */

	struct nl_sock		*sk;		/* notifications or NULL */
	struct event		*ev;		/* EV_READ on sk */
	int			 rcvbuf;

	struct event		*retry;		/* reopen or re-dump */
	struct event		*pending;	/* bounds linkstate_pending() */
	uint64_t		 pending_mark;	/* the waits it bounds */
	uint64_t		 retry_ms;	/* backoff; 0 = healthy */
	bool			 failing;	/* warned, not yet recovered */

	unsigned		 overruns;
	uint64_t		 overrun_warned;	/* now_ms() */
	struct linkmon_parse	 parse;		/* for sk's NL_CB_VALID */
};

static int	linkmon_open(struct linkmon *);
static void	linkmon_close(struct linkmon *);
static void	linkmon_event_cb(enum linkstate_event, const char *, void *);

/* libnl errors as errno, for callers of linkmon_new(). */
static int
linkmon_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_NOMEM:
		return ENOMEM;
	case NLE_AGAIN:
		return EAGAIN;
	case NLE_PERM:
		return EPERM;
	case NLE_NOACCESS:
		return EACCES;
	case NLE_AF_NOSUPPORT:
	case NLE_PROTO_MISMATCH:
		return EAFNOSUPPORT;
	case NLE_BAD_SOCK:
		return EBADF;
	default:
		return EIO;
	}
}

static const char *
linkmon_msgtype(int type)
{
	switch (type) {
	case RTM_NEWLINK:
		return "RTM_NEWLINK";
	case RTM_DELLINK:
		return "RTM_DELLINK";
	case RTM_NEWADDR:
		return "RTM_NEWADDR";
	case RTM_DELADDR:
		return "RTM_DELADDR";
	case RTM_NEWROUTE:
		return "RTM_NEWROUTE";
	case RTM_DELROUTE:
		return "RTM_DELROUTE";
	default:
		return "RTM_?";
	}
}

/* The -v trace of one object about to be applied. */
static void
linkmon_trace(struct nl_object *obj, int type)
{
	struct rtnl_link	*link;
	struct rtnl_addr	*ra;
	struct nl_addr		*local;
	const char		*otype;
	char			 f[128], o[32], a[INET6_ADDRSTRLEN + 8], s[32];

	if ((otype = nl_object_get_type(obj)) == NULL)
		return;
	if (strcmp(otype, "route/link") == 0) {
		link = (struct rtnl_link *)obj;
		if (rtnl_link_get_family(link) != AF_UNSPEC)
			return;		/* ignored copies: trivial */
		log_debug("link %s: %s index %d flags <%s> operstate %s "
		    "carrier %u mtu %u", rtnl_link_get_name(link) != NULL ?
		    rtnl_link_get_name(link) : "?", linkmon_msgtype(type),
		    rtnl_link_get_ifindex(link),
		    rtnl_link_flags2str((int)rtnl_link_get_flags(link), f,
		    sizeof(f)),
		    rtnl_link_operstate2str(rtnl_link_get_operstate(link), o,
		    sizeof(o)), rtnl_link_get_carrier(link),
		    rtnl_link_get_mtu(link));
	} else if (strcmp(otype, "route/addr") == 0) {
		ra = (struct rtnl_addr *)obj;
		/*
		 * Only what linkstate can use: nl_addr2str() trusts the
		 * family over the length, so a short IFA_LOCAL is over-read.
		 */
		if ((local = rtnl_addr_get_local(ra)) == NULL ||
		    nl_addr_get_len(local) !=
		    (nl_addr_get_family(local) == AF_INET ? 4u : 16u) ||
		    (nl_addr_get_family(local) != AF_INET &&
		    nl_addr_get_family(local) != AF_INET6))
			return;
		log_debug("netlink: %s index %d %s scope %s flags <%s>",
		    linkmon_msgtype(type), rtnl_addr_get_ifindex(ra),
		    nl_addr2str(local, a, sizeof(a)),
		    rtnl_scope2str(rtnl_addr_get_scope(ra), s, sizeof(s)),
		    rtnl_addr_flags2str((int)rtnl_addr_get_flags(ra), f,
		    sizeof(f)));
	}
}

/* Arm or cancel the bound on linkstate_pending(). */
static void
linkmon_pending_check(struct linkmon *lm)
{
	struct timeval	 tv;

	if (lm->pending == NULL)
		return;
	if (!linkstate_pending(lm->ls)) {
		evtimer_del(lm->pending);
		return;
	}
	if (evtimer_pending(lm->pending, NULL))
		return;
	lm->pending_mark = linkstate_pending_mark(lm->ls);
	tv = ms_to_tv(LINKMON_PENDING_MS);
	evtimer_add(lm->pending, &tv);
}

static void
linkmon_pending_cb(evutil_socket_t fd, short events, void *arg)
{
	struct linkmon	*lm = arg;

	(void)fd;
	(void)events;
	log_debug("netlink: no operstate from the kernel within %d ms of "
	    "a link-up, taking the link as last reported",
	    LINKMON_PENDING_MS);
	linkstate_pending_expire(lm->ls, lm->pending_mark);
	/* Waits that began after the mark get a bound of their own. */
	linkmon_pending_check(lm);
}

static void
linkmon_parse_cb(struct nl_object *obj, void *arg)
{
	struct linkmon_parse	*p = arg;
	struct linkmon_dump	*d = p->dump;

	if (d == NULL) {
		if (log_getverbose())
			linkmon_trace(obj, p->type);
		linkstate_apply(p->lm->ls, obj, p->type);
		linkmon_pending_check(p->lm);
		return;
	}
	if (d->n == d->cap) {
		d->cap = d->cap == 0 ? 64 : d->cap * 2;
		d->objs = xreallocarray(d->objs, d->cap, sizeof(*d->objs));
	}
	nl_object_get(obj);
	d->objs[d->n].obj = obj;
	d->objs[d->n].type = p->type;
	d->n++;
}

/* One nexthop's device, or "more" when they do not all fit. */
static void
linkmon_route_oif(struct linkstate_route *r, uint32_t ifindex)
{
	if (r->noif == LINKSTATE_ROUTE_NH_MAX)
		r->more = true;
	else if (ifindex > 0 && ifindex <= INT32_MAX)
		r->oif[r->noif++] = (int)ifindex;
}

/*
 * A route notification, parsed here and not by libnl: libnl 3.7's
 * rtnl_route_parse() trusts the lengths inside RTA_VIA and RTA_MULTIPATH
 * (fuzz_netlink found a memcpy() of -1 bytes, and a nexthop of length 0
 * that made it allocate nexthops forever).  Only what linkstate needs,
 * plus the destination for the trace.  0, or -1 when malformed.
 */
static int
linkmon_route_parse(struct nl_msg *msg, struct linkstate_route *r,
    char *dst, size_t dstlen)
{
	struct nlmsghdr		*nh = nlmsg_hdr(msg);
	struct rtmsg		*rtm;
	struct rtnexthop	*rtnh;
	struct nlattr		*a;
	int			 rem, len;

	memset(r, 0, sizeof(*r));
	snprintf(dst, dstlen, "default");
	if (nlmsg_datalen(nh) < (int)sizeof(*rtm))
		return -1;
	rtm = nlmsg_data(nh);
	r->family = rtm->rtm_family;
	r->table = rtm->rtm_table;
	r->type = rtm->rtm_type;
	r->flags = rtm->rtm_flags;
	nla_for_each_attr(a, nlmsg_attrdata(nh, sizeof(*rtm)),
	    nlmsg_attrlen(nh, sizeof(*rtm)), rem) {
		switch (nla_type(a)) {
		case RTA_TABLE:
		case RTA_OIF:
			if (nla_len(a) != (int)sizeof(uint32_t))
				return -1;
			if (nla_type(a) == RTA_TABLE)
				r->table = nla_get_u32(a);
			else
				linkmon_route_oif(r, nla_get_u32(a));
			break;
		case RTA_NH_ID:
			r->more = true;
			break;
		case RTA_MULTIPATH:
			rtnh = nla_data(a);
			len = nla_len(a);
			while (len >= (int)sizeof(*rtnh)) {
				if (rtnh->rtnh_len < sizeof(*rtnh) ||
				    rtnh->rtnh_len > len)
					return -1;
				linkmon_route_oif(r,
				    (uint32_t)rtnh->rtnh_ifindex);
				len -= RTNH_ALIGN(rtnh->rtnh_len);
				rtnh = RTNH_NEXT(rtnh);
			}
			break;
		case RTA_DST:
			if ((r->family == AF_INET && nla_len(a) == 4) ||
			    (r->family == AF_INET6 && nla_len(a) == 16)) {
				if (inet_ntop(r->family, nla_data(a), dst,
				    (socklen_t)dstlen) == NULL)
					snprintf(dst, dstlen, "?");
				len = (int)strlen(dst);
				snprintf(dst + len, dstlen - (size_t)len, "/%u",
				    rtm->rtm_dst_len);
			} else
				snprintf(dst, dstlen, "?");
			break;
		default:
			break;
		}
	}
	return 0;
}

/* A route notification straight into the table (dumps carry none). */
static void
linkmon_route(struct linkmon *lm, struct nl_msg *msg, int type)
{
	struct linkstate_route	 r;
	char			 dst[INET6_ADDRSTRLEN + 8], t[32];

	if (linkmon_route_parse(msg, &r, dst, sizeof(dst)) == -1) {
		log_debug("netlink: %s malformed, ignored",
		    linkmon_msgtype(type));
		return;
	}
	if (log_getverbose())
		log_debug("netlink: %s %s %s table %u index %d%s%s flags 0x%x",
		    linkmon_msgtype(type), nl_rtntype2str(r.type, t,
		    sizeof(t)), dst, (unsigned)r.table,
		    r.noif > 0 ? r.oif[0] : 0, r.noif > 1 ? " multipath" : "",
		    r.more ? " and more" : "", r.flags);
	linkstate_apply_route(lm->ls, &r, type);
}

/* NL_CB_VALID: one rtnetlink message; links, addresses as libnl objects. */
static int
linkmon_valid_cb(struct nl_msg *msg, void *arg)
{
	struct linkmon_parse	 p = *(struct linkmon_parse *)arg;
	int			 err;

	p.type = nlmsg_hdr(msg)->nlmsg_type;
	switch (p.type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
	case RTM_NEWADDR:
	case RTM_DELADDR:
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		linkmon_route(p.lm, msg, p.type);
		return NL_OK;
	default:
		return NL_OK;
	}
	if ((err = nl_msg_parse(msg, linkmon_parse_cb, &p)) < 0)
		log_debug("netlink: %s not parsed: %s",
		    linkmon_msgtype(p.type), nl_geterror(err));
	return NL_OK;
}

static void
linkmon_dump_clear(struct linkmon_dump *d)
{
	size_t	 i;

	for (i = 0; i < d->n; i++)
		nl_object_put(d->objs[i].obj);
	d->n = 0;
}

/* Dump links then addresses into d: 0, or a negative NLE_* code. */
static int
linkmon_dump_once(struct linkmon *lm, struct linkmon_dump *d)
{
	static const int	 types[] = { RTM_GETLINK, RTM_GETADDR };
	struct linkmon_parse	 p = { .lm = lm, .dump = d };
	struct timeval		 tv = { .tv_sec = LINKMON_DUMP_TIMEOUT_S };
	struct nl_sock		*sk;
	size_t			 i;
	int			 err, intr = 0;

	if ((sk = nl_socket_alloc()) == NULL)
		return -NLE_NOMEM;
	if ((err = nl_connect(sk, NETLINK_ROUTE)) < 0)
		goto out;
	/* Blocking, but never forever. */
	if (setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == -1) {
		err = -NLE_BAD_SOCK;
		goto out;
	}
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, linkmon_valid_cb,
	    &p);
	for (i = 0; i < nitems(types); i++) {
		if ((err = nl_rtgen_request(sk, types[i], AF_UNSPEC,
		    NLM_F_DUMP)) < 0)
			goto out;
		/* On DUMP_INTR libnl reads the rest before saying so. */
		if ((err = nl_recvmsgs_default(sk)) == -NLE_DUMP_INTR)
			intr = 1;
		else if (err < 0)
			goto out;
	}
	err = intr ? -NLE_DUMP_INTR : 0;
out:
	nl_socket_free(sk);
	return err;
}

/*
 * Dump and resync: 0; -NLE_DUMP_INTR if every try was interrupted (the
 * last one is applied anyway, a retry is due); another -NLE_* code if no
 * dump came in.
 */
static int
linkmon_dump(struct linkmon *lm)
{
	struct linkmon_dump	 d = { 0 };
	size_t			 i;
	int			 err = 0, try;

	for (try = 0; try < LINKMON_DUMP_TRIES; try++) {
		linkmon_dump_clear(&d);
		if ((err = linkmon_dump_once(lm, &d)) != -NLE_DUMP_INTR)
			break;
		log_debug("netlink: dump interrupted, dumping again");
	}
	if (err < 0 && err != -NLE_DUMP_INTR) {
		linkmon_dump_clear(&d);
		free(d.objs);
		return err;
	}
	linkstate_resync_begin(lm->ls);
	for (i = 0; i < d.n; i++) {
		if (log_getverbose())
			linkmon_trace(d.objs[i].obj, d.objs[i].type);
		linkstate_apply(lm->ls, d.objs[i].obj, d.objs[i].type);
	}
	linkstate_resync_end(lm->ls);
	/* Route notifications may have been lost, and dumps carry none. */
	linkmon_event_cb(LINKSTATE_ROUTE, "", lm);
	linkmon_dump_clear(&d);
	free(d.objs);
	return err;
}

/* Discard what is queued: the dump that follows supersedes it. */
static void
linkmon_drain(struct linkmon *lm)
{
	char	 buf[8192];
	ssize_t	 n;
	int	 fd, i;

	fd = nl_socket_get_fd(lm->sk);
	for (i = 0; i < LINKMON_DRAIN_MAX; i++) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n >= 0 || errno == EINTR || errno == ENOBUFS)
			continue;
		break;
	}
}

static void
linkmon_schedule(struct linkmon *lm)
{
	struct timeval	 tv;

	if (lm->retry_ms == 0)
		lm->retry_ms = LINKMON_RETRY_MIN_MS;
	else if ((lm->retry_ms *= 2) > LINKMON_RETRY_MAX_MS)
		lm->retry_ms = LINKMON_RETRY_MAX_MS;
	tv = ms_to_tv(lm->retry_ms);
	evtimer_add(lm->retry, &tv);
}

/* Warn when trouble starts, then debug until it is over. */
static void
linkmon_fail(struct linkmon *lm, const char *what, int nlerr,
    const char *next)
{
	char	 d[32];

	linkmon_schedule(lm);
	fmt_duration(lm->retry_ms, d, sizeof(d));
	if (!lm->failing)
		log_warnx("netlink: %s: %s, %s in %s", what,
		    nl_geterror(nlerr), next, d);
	else
		log_debug("netlink: %s: %s, %s in %s", what,
		    nl_geterror(nlerr), next, d);
	lm->failing = true;
}

static void
linkmon_ok(struct linkmon *lm)
{
	if (lm->failing)
		log_notice("netlink: recovered, link state re-read");
	lm->failing = false;
	lm->retry_ms = 0;
	evtimer_del(lm->retry);
}

/* Drain, dump, resync; on failure try again from the retry timer. */
static void
linkmon_recover(struct linkmon *lm)
{
	int	 err;

	linkmon_drain(lm);
	if ((err = linkmon_dump(lm)) < 0)
		linkmon_fail(lm, "dump failed", err, "dumping again");
	else
		linkmon_ok(lm);
	linkmon_pending_check(lm);
}

static void
linkmon_overrun(struct linkmon *lm)
{
	uint64_t	 now = now_ms();

	lm->overruns++;
	if (lm->overrun_warned == 0 ||
	    now - lm->overrun_warned >= LINKMON_OVERRUN_WARN_MS) {
		log_warnx("netlink: receive buffer overrun, "
		    "re-reading link state");
		lm->overrun_warned = now;
	} else
		log_debug("netlink: receive buffer overrun, "
		    "re-reading link state");
	linkmon_recover(lm);
}

static void
linkmon_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct linkmon	*lm = arg;
	int		 err, i;

	(void)fd;
	(void)events;
	for (i = 0; i < LINKMON_READ_MAX; i++) {
		err = nl_recvmsgs_default(lm->sk);
		if (err == 0 || err == -NLE_DUMP_INTR)
			continue;
		if (err == -NLE_AGAIN)
			return;
		if (err == -NLE_NOMEM) {
			/* ENOBUFS: notifications were lost. */
			linkmon_overrun(lm);
			return;
		}
		/* Anything else: start over with a fresh socket. */
		linkmon_close(lm);
		linkmon_fail(lm, "receive failed", err, "reopening");
		return;
	}
}

static void
linkmon_retry_cb(evutil_socket_t fd, short events, void *arg)
{
	struct linkmon	*lm = arg;
	int		 err;

	(void)fd;
	(void)events;
	if (lm->sk == NULL && (err = linkmon_open(lm)) < 0) {
		linkmon_fail(lm, "cannot open socket", err, "retrying");
		return;
	}
	linkmon_recover(lm);
}

/* The notification socket, subscribed before any dump: 0 or -NLE_*. */
static int
linkmon_open(struct linkmon *lm)
{
	struct nl_sock	*sk;
	int		 err;

	if ((sk = nl_socket_alloc()) == NULL)
		return -NLE_NOMEM;
	if ((err = nl_connect(sk, NETLINK_ROUTE)) < 0 ||
	    (err = nl_socket_add_memberships(sk, RTNLGRP_LINK,
	    RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE,
	    RTNLGRP_IPV6_ROUTE, 0)) < 0 ||
	    (err = nl_socket_set_nonblocking(sk)) < 0)
		goto fail;
	nl_socket_disable_seq_check(sk);
	nl_socket_enable_msg_peek(sk);
	/* Capped at net.core.rmem_max; a smaller buffer still works. */
	(void)nl_socket_set_buffer_size(sk, lm->rcvbuf, 0);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, linkmon_valid_cb,
	    &lm->parse);
	lm->ev = event_new(lm->base, nl_socket_get_fd(sk),
	    EV_READ | EV_PERSIST, linkmon_read_cb, lm);
	if (lm->ev == NULL || event_add(lm->ev, NULL) == -1) {
		if (lm->ev != NULL)
			event_free(lm->ev);
		lm->ev = NULL;
		err = -NLE_NOMEM;
		goto fail;
	}
	lm->sk = sk;
	return 0;
fail:
	nl_socket_free(sk);
	return err;
}

static void
linkmon_close(struct linkmon *lm)
{
	if (lm->ev != NULL)
		event_free(lm->ev);
	lm->ev = NULL;
	nl_socket_free(lm->sk);
	lm->sk = NULL;
}

static void
linkmon_fmt_addr(const struct linkstate_addr *la, bool prefix, char *buf,
    size_t len)
{
	char	 a[INET6_ADDRSTRLEN];

	if (inet_ntop(la->family, la->addr, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	if (prefix)
		snprintf(buf, len, "%s/%u", a, la->prefixlen);
	else
		snprintf(buf, len, "%s", a);
}

/*
 * "192.0.2.1/24 2001:db8::1/64", or only the newest, without prefix; a
 * long list ends in "(+N more)".
 */
static const char *
linkmon_addrs(struct linkmon *lm, const char *ifname, bool newest, char *buf,
    size_t len)
{
	struct linkstate_addr	 la;
	char			 one[INET6_ADDRSTRLEN + 8];
	size_t			 i, used = 0, more = 0;

	buf[0] = '\0';
	for (i = 0; linkstate_get_addr(lm->ls, ifname, i, &la); i++) {
		if (newest && !la.newest)
			continue;
		linkmon_fmt_addr(&la, !newest, one, sizeof(one));
		/* Leave room for the count. */
		if (more > 0 || used + 1 + strlen(one) + 16 > len) {
			more++;
			continue;
		}
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    used > 0 ? " " : "", one);
	}
	if (more > 0)
		snprintf(buf + used, len - used, " (+%zu more)", more);
	return buf;
}

/* Log each transition once, then hand it to the owner. */
static void
linkmon_event_cb(enum linkstate_event ev, const char *ifname, void *arg)
{
	struct linkmon	*lm = arg;
	char		 buf[256];

	switch (ev) {
	case LINKSTATE_UP: {
		struct log_fields f = { .link = ifname };

		log_event(LOG_INFO, LOG_EV_LINK_UP, &f, "link %s: up (%s)",
		    ifname, linkmon_addrs(lm, ifname, false, buf, sizeof(buf)));
		break;
	}
	case LINKSTATE_DOWN:
		log_info("link %s: down", ifname);
		break;
	case LINKSTATE_ADDRESS:
		log_info("link %s: new address %s", ifname,
		    linkmon_addrs(lm, ifname, true, buf, sizeof(buf)));
		break;
	case LINKSTATE_ROUTE:
		if (*ifname != '\0')
			log_debug("link %s: routes changed", ifname);
		else
			log_debug("netlink: routes may have changed");
		break;
	}
	if (lm->started && lm->cb != NULL)
		lm->cb(ev, ifname, lm->arg);
}

struct linkmon *
linkmon_new(struct event_base *base, char * const *watch, size_t nwatch,
    linkstate_cb cb, void *arg)
{
	struct linkmon	*lm;
	int		 err, saved;

	lm = xcalloc(1, sizeof(*lm));
	lm->base = base;
	lm->cb = cb;
	lm->arg = arg;
	lm->rcvbuf = LINKMON_RCVBUF;
	lm->parse.lm = lm;
	lm->ls = linkstate_new(watch, nwatch, linkmon_event_cb, lm);
	if ((lm->retry = evtimer_new(base, linkmon_retry_cb, lm)) == NULL ||
	    (lm->pending = evtimer_new(base, linkmon_pending_cb, lm)) ==
	    NULL) {
		errno = ENOMEM;
		goto fail;
	}
	if ((err = linkmon_open(lm)) < 0) {
		log_debug("netlink: cannot open socket: %s", nl_geterror(err));
		errno = linkmon_errno(err);
		goto fail;
	}
	/* Interrupted every time: go on with the last dump, retry soon. */
	if ((err = linkmon_dump(lm)) == -NLE_DUMP_INTR)
		linkmon_fail(lm, "dump failed", err, "dumping again");
	else if (err < 0) {
		log_debug("netlink: dump failed: %s", nl_geterror(err));
		errno = linkmon_errno(err);
		goto fail;
	}
	lm->started = true;
	return lm;
fail:
	saved = errno;
	linkmon_free(lm);
	errno = saved;
	return NULL;
}

void
linkmon_free(struct linkmon *lm)
{
	if (lm == NULL)
		return;
	linkmon_close(lm);
	if (lm->retry != NULL)
		event_free(lm->retry);
	if (lm->pending != NULL)
		event_free(lm->pending);
	linkstate_free(lm->ls);
	free(lm);
}

struct linkstate *
linkmon_state(struct linkmon *lm)
{
	return lm->ls;
}

void
linkmon_test_set_rcvbuf(struct linkmon *lm, int bytes)
{
	lm->rcvbuf = bytes;
	if (lm->sk != NULL)
		(void)nl_socket_set_buffer_size(lm->sk, bytes, 0);
}

unsigned
linkmon_test_overruns(const struct linkmon *lm)
{
	return lm->overruns;
}

/*
 * For tests and fuzzing (fuzz/fuzz_netlink.c): what nl_recvmsgs() does with
 * one received buffer on the notification socket, minus the socket.  The
 * walk is NLMSG_OK()/NLMSG_NEXT()'s, spelt out without their signed length
 * and alignment; it is bounded by len, every step consuming at least one
 * header.  Each message is copied into its own nl_msg as nlmsg_convert()
 * does there, and goes to the same NL_CB_VALID callback, so through the
 * same nl_msg_parse() and linkstate_apply().
 */
void
linkmon_feed_raw(struct linkstate *ls, const void *buf, size_t len)
{
	struct linkmon		 lm = { .ls = ls };
	struct linkmon_parse	 p = { .lm = &lm };
	const unsigned char	*b = buf;
	struct nlmsghdr		 h;
	struct nl_msg		*msg;
	size_t			 off = 0;

	while (len - off >= sizeof(h)) {
		memcpy(&h, b + off, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len - off)
			break;
		if ((msg = nlmsg_alloc_size(NLMSG_ALIGN(h.nlmsg_len))) ==
		    NULL)
			fatalx("out of memory");
		memcpy(nlmsg_hdr(msg), b + off, h.nlmsg_len);
		nlmsg_set_proto(msg, NETLINK_ROUTE);
		(void)linkmon_valid_cb(msg, &p);
		nlmsg_free(msg);
		if (NLMSG_ALIGN(h.nlmsg_len) >= len - off)
			break;
		off += NLMSG_ALIGN(h.nlmsg_len);
	}
}
