/* SPDX-License-Identifier: ISC */
/*
 * route: RTM_GETROUTE for one destination, or a dump of a family's routes
 * for its default route, on a blocking netlink socket of its own, opened
 * and closed per question.
 *
 * The socket, the send and the bounded receive are nlreq's.  For reject
 * routes the kernel answers with an error instead of a route; each type
 * has its own (measured on IPv4 and IPv6, Linux 6.x, but EAGAIN):
 *
 *	ENETUNREACH	no route at all, also after a throw route that no
 *			later rule catches
 *	EHOSTUNREACH	unreachable
 *	EINVAL		blackhole
 *	EACCES		prohibit
 *	EAGAIN		throw (the kernel's value; seen only by rules)
 *
 * Our request is well formed, so these are answers, not failures.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "nlreq.h"
#include "route.h"

#define ROUTE_RECV_MAX		8	/* datagrams before giving up */
#define ROUTE_DUMP_MAX		256	/* datagrams of a dump, at most */

/* RTM_GETROUTE with one RTA_DST: no padding anywhere on the way. */
struct route_req {
	struct nlmsghdr		 nh;
	struct rtmsg		 rtm;
	struct rtattr		 rta;
	unsigned char		 dst[16];
};

static const struct {
	int		 error;
	uint8_t		 type;
} route_rejects[] = {
	{ ENETUNREACH,	RTN_UNSPEC },
	{ EHOSTUNREACH,	RTN_UNREACHABLE },
	{ EINVAL,	RTN_BLACKHOLE },
	{ EACCES,	RTN_PROHIBIT },
	{ EAGAIN,	RTN_THROW },
};

static size_t
route_addrlen(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* One RTM_NEWROUTE answer into ri: 0, or -1 with EPROTO. */
static int
route_parse(struct nlmsghdr *nh, struct route_info *ri)
{
	struct rtmsg		*rtm;
	struct rtattr		*rta;
	size_t			 alen = route_addrlen(ri->family), plen;
	int			 len;
	uint32_t		 u32;

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)))
		goto bad;
	rtm = NLMSG_DATA(nh);
	if (rtm->rtm_family != ri->family)
		goto bad;
	ri->type = rtm->rtm_type;
	ri->table = rtm->rtm_table;
	ri->dst_len = rtm->rtm_dst_len;
	len = (int)RTM_PAYLOAD(nh);
	for (rta = RTM_RTA(rtm); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		plen = RTA_PAYLOAD(rta);
		switch (rta->rta_type) {
		case RTA_OIF:
		case RTA_TABLE:
		case RTA_PRIORITY:
			if (plen != sizeof(u32))
				goto bad;
			memcpy(&u32, RTA_DATA(rta), sizeof(u32));
			if (rta->rta_type == RTA_TABLE)
				ri->table = u32;
			else if (rta->rta_type == RTA_PRIORITY)
				ri->metric = u32;
			else if (u32 > 0 && u32 <= INT32_MAX)
				ri->ifindex = (int)u32;
			break;
		case RTA_PREFSRC:
		case RTA_GATEWAY:
			if (plen != alen)
				goto bad;
			if (rta->rta_type == RTA_PREFSRC) {
				memcpy(ri->src, RTA_DATA(rta), alen);
				ri->has_src = true;
			} else {
				memcpy(ri->gateway, RTA_DATA(rta), alen);
				ri->has_gateway = true;
			}
			break;
		default:
			break;
		}
	}
	return 0;
bad:
	errno = EPROTO;
	return -1;
}

/* The kernel's error answer: a reject type into ri (0), or -1 with it. */
static int
route_reject(int error, struct route_info *ri)
{
	size_t	 i;

	for (i = 0; i < sizeof(route_rejects) / sizeof(route_rejects[0]);
	    i++) {
		if (route_rejects[i].error == error) {
			ri->type = route_rejects[i].type;
			return 0;
		}
	}
	errno = error;
	return -1;
}

/* The answer to RTM_GETROUTE: a route, or a reject type as an error. */
static int
route_get_msg(struct nlmsghdr *nh, void *arg)
{
	struct route_info	*ri = arg;
	struct nlmsgerr		*err;

	if (nh->nlmsg_type == NLMSG_ERROR) {
		/* No acknowledgement was asked for. */
		if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*err)))
			goto bad;
		err = NLMSG_DATA(nh);
		if (err->error >= 0)
			goto bad;
		return route_reject(-err->error, ri) == 0 ? 1 : -1;
	}
	if (nh->nlmsg_type == RTM_NEWROUTE)
		return route_parse(nh, ri) == 0 ? 1 : -1;
	return 0;
bad:
	errno = EPROTO;
	return -1;
}

int
route_get(int family, const void *addr, struct route_info *ri)
{
	struct route_req	 req;
	size_t			 alen;
	int			 fd, rv = -1, saved;

	memset(ri, 0, sizeof(*ri));
	ri->family = family;
	if ((alen = route_addrlen(family)) == 0) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	memcpy(ri->dst, addr, alen);
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = (uint32_t)(offsetof(struct route_req, dst) + alen);
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;		/* a fresh socket: only ours comes */
	req.rtm.rtm_family = (unsigned char)family;
	req.rtm.rtm_dst_len = (unsigned char)(alen * 8);
	/* Else IPv4 says "main" whichever table the rules chose. */
	req.rtm.rtm_flags = RTM_F_LOOKUP_TABLE;
	req.rta.rta_type = RTA_DST;
	req.rta.rta_len = (unsigned short)RTA_LENGTH(alen);
	memcpy(req.dst, addr, alen);

	if ((fd = nlreq_socket(NETLINK_ROUTE)) == -1)
		return -1;
	if (nlreq_send(fd, &req, req.nh.nlmsg_len) == -1)
		goto out;
	rv = nlreq_recv_each(fd, req.nh.nlmsg_seq, ROUTE_RECV_MAX,
	    route_get_msg, ri);
	if (rv == 0 && ri->ifindex > 0 &&
	    if_indextoname((unsigned)ri->ifindex, ri->ifname) == NULL)
		ri->ifname[0] = '\0';	/* gone since: the index stays */
out:
	saved = errno;
	if (rv == -1) {
		/* Nothing half parsed may look like a route. */
		memset(ri, 0, sizeof(*ri));
		ri->family = family;
		memcpy(ri->dst, addr, alen);
	}
	(void)close(fd);
	errno = saved;
	return rv;
}

/* A dump of routes: the main table's default with the lowest metric. */
struct route_best {
	struct route_info	*ri;
	bool			 found;
};

static int
route_default_msg(struct nlmsghdr *nh, void *arg)
{
	struct route_best	*best = arg;
	struct route_info	 one;

	if (nh->nlmsg_type == NLMSG_DONE)
		return 1;
	if (nh->nlmsg_type == NLMSG_ERROR) {
		errno = EPROTO;
		return -1;
	}
	if (nh->nlmsg_type != RTM_NEWROUTE)
		return 0;
	memset(&one, 0, sizeof(one));
	one.family = best->ri->family;
	if (route_parse(nh, &one) == -1)
		return -1;
	if (one.dst_len != 0 || one.table != RT_TABLE_MAIN)
		return 0;
	if (!best->found || one.metric < best->ri->metric) {
		*best->ri = one;
		best->found = true;
	}
	return 0;
}

int
route_default(int family, struct route_info *ri)
{
	struct {
		struct nlmsghdr	 nh;
		struct rtmsg	 rtm;
	} req;
	struct route_best	 best = { ri, false };
	int			 fd, rv = -1, saved;

	memset(ri, 0, sizeof(*ri));
	ri->family = family;
	if (route_addrlen(family) == 0) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = 1;
	req.rtm.rtm_family = (unsigned char)family;
	if ((fd = nlreq_socket(NETLINK_ROUTE)) == -1)
		return -1;
	if (nlreq_send(fd, &req, sizeof(req)) != -1)
		/* The dump is bounded by ROUTE_DUMP_MAX datagrams. */
		rv = nlreq_recv_each(fd, req.nh.nlmsg_seq, ROUTE_DUMP_MAX,
		    route_default_msg, &best);
	if (rv == 0 && ri->ifindex > 0 &&
	    if_indextoname((unsigned)ri->ifindex, ri->ifname) == NULL)
		ri->ifname[0] = '\0';
	saved = errno;
	if (rv == -1) {
		memset(ri, 0, sizeof(*ri));
		ri->family = family;
	}
	(void)close(fd);
	errno = saved;
	return rv;
}

/* fe80::/10 */
static bool
route_linklocal6(const unsigned char *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

bool
route_usable(const struct route_info *ri)
{
	static const unsigned char	 any[16], loop[16] = { [15] = 1 };

	/* Not broadcast, multicast or anycast either: a relay is TCP. */
	if (ri->type != RTN_UNICAST && ri->type != RTN_LOCAL)
		return false;
	if (ri->family != AF_INET6 || ri->type != RTN_UNICAST ||
	    !ri->has_src || route_linklocal6(ri->dst))
		return true;
	/*
	 * While the interface's global IPv6 addresses are tentative (DAD)
	 * the kernel offers ::1, or a link-local address, as the source:
	 * nothing beyond the link could answer it (measured on Linux 6.x).
	 */
	return memcmp(ri->src, loop, 16) != 0 &&
	    memcmp(ri->src, any, 16) != 0 && !route_linklocal6(ri->src);
}

const char *
route_type_name(uint8_t type)
{
	switch (type) {
	case RTN_UNSPEC:
		return "no route";
	case RTN_UNICAST:
		return "unicast";
	case RTN_LOCAL:
		return "local";
	case RTN_BROADCAST:
		return "broadcast";
	case RTN_ANYCAST:
		return "anycast";
	case RTN_MULTICAST:
		return "multicast";
	case RTN_BLACKHOLE:
		return "blackhole";
	case RTN_UNREACHABLE:
		return "unreachable";
	case RTN_PROHIBIT:
		return "prohibit";
	case RTN_THROW:
		return "throw";
	default:
		return "other";
	}
}

bool
route_addr_equal(const struct route_addr *a, const struct route_addr *b)
{
	return a->family == b->family &&
	    memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}
