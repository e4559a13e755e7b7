/* SPDX-License-Identifier: ISC */
/*
 * resolver: libevent's asynchronous resolver as etrnd and etrn(1) set it
 * up -- name servers from resolv.conf, names from the hosts file -- and
 * kept fresh: each file is re-read when it changed, checked before every
 * run (a link coming up often brings new name servers; an admin edits
 * /etc/hosts), so no restart is needed.  A reload re-reads both anyway.
 */
#ifndef ETRND_RESOLVER_H
#define ETRND_RESOLVER_H

#include <stdbool.h>

struct event_base;
struct evdns_base;
struct resolver;

#define RESOLVER_RESOLV_CONF	"/etc/resolv.conf"
#define RESOLVER_HOSTS		"/etc/hosts"

/* Reads both files once.  A missing resolv.conf leaves the hosts file and
 * literals; a missing hosts file, localhost. */
struct resolver		*resolver_new(struct event_base *);
void			 resolver_free(struct resolver *);
struct evdns_base	*resolver_dns(const struct resolver *);
/* Re-read both files if either changed since (force: in any case); true
 * if they were re-read.  Lookups under way finish with the old view. */
bool			 resolver_refresh(struct resolver *, bool force);

#endif
