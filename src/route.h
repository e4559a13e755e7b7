/* SPDX-License-Identifier: ISC */
/*
 * route: which route the kernel would use to reach one address, asked with
 * RTM_GETROUTE and RTA_DST, as `ip route get` does.  No logging.
 */
#ifndef ETRND_ROUTE_H
#define ETRND_ROUTE_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

/* An address to ask about. */
struct route_addr {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];	/* network order, 4 or 16 used */
};

struct route_info {
	int		 family;	/* AF_INET or AF_INET6, as asked */
	unsigned char	 dst[16];	/* the address asked about */
	/*
	 * RTN_UNICAST, RTN_LOCAL, ...; RTN_UNREACHABLE, RTN_BLACKHOLE,
	 * RTN_PROHIBIT or RTN_THROW when such a route hides the address;
	 * RTN_UNSPEC when there is no route at all.
	 */
	uint8_t		 type;
	uint32_t	 table;		/* RT_TABLE_*, 0 when not said */
	uint8_t		 dst_len;	/* prefix length of the route */
	uint32_t	 metric;	/* RTA_PRIORITY, 0 when not said */
	int		 ifindex;	/* output interface, 0 if none */
	char		 ifname[IFNAMSIZ];	/* "" if none, or gone */
	bool		 has_src;
	unsigned char	 src[16];	/* preferred source, network order */
	bool		 has_gateway;
	unsigned char	 gateway[16];	/* next hop, network order */
};

/*
 * Ask the kernel for the route to addr (4 or 16 bytes, network order, by
 * family) on a short-lived netlink socket, and fill ri.  An address hidden
 * by a reject route, or with no route at all, is an answer (0), not an
 * error.  -1 with errno on failure (ETIMEDOUT if the kernel did not answer
 * within a second, EPROTO for an answer that does not parse).
 */
int		 route_get(int family, const void *addr, struct route_info *ri);
/*
 * The main table's default route of family (the one with the lowest
 * metric) as a dump lists it, for a destination not known yet (a name not
 * resolved): 0 with ri->type RTN_UNSPEC when there is none, a reject type
 * for a reject default; -1 with errno.  Not what rules would choose.
 */
int		 route_default(int family, struct route_info *ri);
/*
 * Whether traffic to the address can leave by this route now: a unicast
 * or local route, and for IPv6 a global source address (none is offered
 * while the interface's addresses are tentative).
 */
bool		 route_usable(const struct route_info *ri);
/* The same family and address. */
bool		 route_addr_equal(const struct route_addr *,
		    const struct route_addr *);
/* "unicast", "local", "unreachable", ..., "no route": for logs, status. */
const char	*route_type_name(uint8_t type);

#endif
