/* SPDX-License-Identifier: ISC */
/*
 * probe: wait, bounded, until a TCP address accepts a connection.  Used for
 * local-smtp: ETRN makes the secondary connect back at once, so the site's
 * own MTA must be listening before etrnd asks.
 */
#ifndef ETRND_PROBE_H
#define ETRND_PROBE_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct evdns_base;
struct probe;

/* Called once; the owner may probe_free() inside it. */
typedef void (*probe_done_cb)(bool accepted, uint64_t waited_ms, void *arg);

/* Try every PROBE_INTERVAL_MS until timeout_ms has passed. */
struct probe	*probe_new(struct event_base *, struct evdns_base *,
		    const char *host, uint16_t port, uint64_t timeout_ms,
		    probe_done_cb, void *arg);
void		 probe_free(struct probe *);

#endif
