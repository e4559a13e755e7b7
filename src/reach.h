/* SPDX-License-Identifier: ISC */
/*
 * reach: whether the kernel can reach one relay now.  A relay's addresses
 * (its literal, or a name's as its last session resolved them), the route
 * to each (route.c: RTM_GETROUTE), and the words status shows: "via ppp0",
 * "via eth0 (not watched)", "blackhole", "no route".  Asks the kernel;
 * no libevent, no logging.
 *
 * Any interface that is up counts, watched or not: a secondary reached
 * over the LAN while ppp0 is the watched link is still worth asking when
 * ppp0 comes up.
 */
#ifndef ETRND_REACH_H
#define ETRND_REACH_H

#include <stdbool.h>
#include <stddef.h>

#include "route.h"

#define REACH_ADDRS_MAX		8

/* What every relay's check shares: reset at each network change. */
struct reach_net {
	struct route_info	 def;		/* the default route, if known */
	bool			 def_known;
	bool			 def_ok;
	/* Whether the watch list covers an interface; NULL: all are. */
	bool			(*watched)(const char *ifname, void *arg);
	void			*arg;
};

struct reach {
	struct route_addr	 addrs[REACH_ADDRS_MAX];
	size_t			 naddrs;
	bool			 learnt;	/* a name's (else a literal) */
	bool			 unchecked;	/* a source address is set */
	bool			 known;		/* route holds an answer */
	char			 route[64];
};

/* The routes may have changed: the default route is looked up again. */
void		 reach_net_changed(struct reach_net *);

/*
 * host is the relay's host (a literal is its address; a name has none
 * until a session learns them); with a source address, the relay is not
 * checked (policy routing by source would need the source in the
 * question).
 */
void		 reach_init(struct reach *, const char *host, bool has_source);
/*
 * Ask the kernel now; true when the relay has no usable route (every
 * address unroutable, or its source not usable yet).  A name not resolved
 * yet is never "no route" (it is tried, and its session learns its
 * addresses); status then shows the default route.  When in doubt, false.
 */
bool		 reach_update(struct reach *, struct reach_net *);
/* A name's addresses, as a session resolved them (n == 0: kept). */
void		 reach_learn(struct reach *, const struct route_addr *,
		    size_t n);
/*
 * Forget a name's addresses, so the next check tries it: the end of a
 * wait for a route to them, in case the name moved.  True if it did.
 */
bool		 reach_forget(struct reach *);
/* What status shows, or NULL when not known. */
const char	*reach_route(const struct reach *);

#endif
