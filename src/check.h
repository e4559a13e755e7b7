/* SPDX-License-Identifier: ISC */
/*
 * check: etrnd --check, a run that asks for nothing: each relay is
 * resolved, connected, greeted, EHLOed, and given STARTTLS and AUTH as
 * configured, then QUIT where the first ETRN would go.  See check.c.
 */
#ifndef ETRND_CHECK_H
#define ETRND_CHECK_H

#include <stddef.h>
#include <stdio.h>

struct conf;
struct event_base;
struct evdns_base;

/*
 * Check the named relays (all when nnames is 0) at once, print a report
 * per relay to out, and return the exit status: 0 every relay went
 * through, 1 one refused (AUTH, a 5xx), 75 one failed for a temporary
 * reason (resolving, connecting, TLS, a 4xx) or could not be checked in
 * full (AUTH configured but not done), 64 an unknown relay name,
 * 78 no relays.  sbindir is where etrnd is installed, for the hint on
 * checking as the service.
 */
int	check_run(struct event_base *, struct evdns_base *,
	    const struct conf *, const char *helo, char * const *names,
	    size_t nnames, const char *sbindir, FILE *out);

#endif
