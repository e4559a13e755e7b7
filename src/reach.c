/* SPDX-License-Identifier: ISC */
/*
 * reach: whether the kernel can reach one relay now, asked per address
 * with route_get() and kept as the words status shows.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "reach.h"

void
reach_net_changed(struct reach_net *net)
{
	net->def_known = false;
}

/* A usable default route, IPv4's or else IPv6's: looked up once. */
static bool
reach_default(struct reach_net *net, struct route_info *ri)
{
	if (!net->def_known) {
		net->def_known = true;
		net->def_ok = (route_default(AF_INET, &net->def) == 0 &&
		    route_usable(&net->def)) ||
		    (route_default(AF_INET6, &net->def) == 0 &&
		    route_usable(&net->def));
	}
	if (net->def_ok)
		*ri = net->def;
	return net->def_ok;
}

void
reach_init(struct reach *r, const char *host, bool has_source)
{
	memset(r, 0, sizeof(*r));
	r->unchecked = has_source;
	if (inet_pton(AF_INET, host, r->addrs[0].addr) == 1)
		r->addrs[0].family = AF_INET;
	else if (inet_pton(AF_INET6, host, r->addrs[0].addr) == 1)
		r->addrs[0].family = AF_INET6;
	r->naddrs = r->addrs[0].family != 0;
}

/* "via ppp0", "via eth0 (default route)", "via eth1 (not watched)". */
static void
reach_via(struct reach *r, const struct reach_net *net,
    const struct route_info *ri, const char *what)
{
	bool	watched = ri->ifname[0] == '\0' || net->watched == NULL ||
		    net->watched(ri->ifname, net->arg);

	r->known = true;
	snprintf(r->route, sizeof(r->route), "via %s%s%s",
	    ri->ifname[0] != '\0' ? ri->ifname : "?", what,
	    watched ? "" : " (not watched)");
}

bool
reach_update(struct reach *r, struct reach_net *net)
{
	struct route_info	ri, first;
	size_t			i;
	bool			asked = false;

	memset(&first, 0, sizeof(first));
	r->known = false;
	if (r->unchecked)
		return false;
	if (r->naddrs == 0) {
		if (reach_default(net, &ri))
			reach_via(r, net, &ri, " (default route)");
		return false;
	}
	/* Reachable if any of its addresses is (broken IPv6 beside IPv4). */
	for (i = 0; i < r->naddrs; i++) {
		if (route_get(r->addrs[i].family, r->addrs[i].addr, &ri) == -1)
			continue;
		if (!asked)
			first = ri;
		asked = true;
		if (ri.type == RTN_LOCAL) {
			r->known = true;
			snprintf(r->route, sizeof(r->route), "local");
			return false;
		}
		if (route_usable(&ri)) {
			reach_via(r, net, &ri, "");
			return false;
		}
	}
	if (!asked)
		return false;
	r->known = true;
	snprintf(r->route, sizeof(r->route), "%s", first.type == RTN_UNICAST ?
	    "no usable source address" : route_type_name(first.type));
	return true;
}

void
reach_learn(struct reach *r, const struct route_addr *addrs, size_t n)
{
	if (r->naddrs > 0 && !r->learnt)
		return;			/* a literal: nothing to learn */
	if (n == 0)
		return;			/* not resolved: keep what we knew */
	if (n > REACH_ADDRS_MAX)
		n = REACH_ADDRS_MAX;
	memcpy(r->addrs, addrs, n * sizeof(*addrs));
	r->naddrs = n;
	r->learnt = true;
}

bool
reach_forget(struct reach *r)
{
	if (!r->learnt || r->naddrs == 0)
		return false;
	r->naddrs = 0;
	return true;
}

const char *
reach_route(const struct reach *r)
{
	return r->known ? r->route : NULL;
}
