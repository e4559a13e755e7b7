/* SPDX-License-Identifier: ISC */
/*
 * link: the rtnetlink socket in the libevent loop.  Subscribes to link and
 * IPv4/IPv6 address and route groups, dumps links and addresses at start,
 * feeds everything into a linkstate table, and recovers from overruns
 * (ENOBUFS) and interrupted dumps by draining and re-dumping.  Routes are
 * passed on as LINKSTATE_ROUTE events, not kept; each recovery after the
 * start ends with one LINKSTATE_ROUTE "" for the notifications it lost.
 */
#ifndef ETRND_LINK_H
#define ETRND_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include "linkstate.h"

struct event_base;
struct linkmon;

/*
 * Open the socket, subscribe, dump once (so linkstate_online() is known on
 * return) and start watching.  NULL with errno on failure.  Interfaces
 * already usable at start are logged but not reported through cb: the
 * caller asks linkstate_online() once this returns.
 */
struct linkmon	*linkmon_new(struct event_base *, char * const *watch,
		    size_t nwatch, linkstate_cb cb, void *arg);
void		 linkmon_free(struct linkmon *);
struct linkstate *linkmon_state(struct linkmon *);

/* For tests: shrink the notification socket's receive buffer. */
void		 linkmon_test_set_rcvbuf(struct linkmon *, int bytes);
/* For tests: receive-buffer overruns recovered from so far. */
unsigned	 linkmon_test_overruns(const struct linkmon *);

/*
 * For tests and fuzzing: push a buffer of rtnetlink messages, framed as one
 * recv() returns them, through the notification socket's parse path into
 * ls.  Malformed framing ends the walk, as in libnl.
 */
void		 linkmon_feed_raw(struct linkstate *ls, const void *buf,
		    size_t len);

#endif
