/* SPDX-License-Identifier: ISC */
/*
 * flush: the mechanism around flushwatch.c for every relay at once.  A
 * relay's run opens a window (flush_begin: the baseline), the run's end
 * either watches it (flush_watch: an ETRN was accepted) or drops it
 * (flush_cancel).  While any window is open, one timer polls the kernel
 * once for all of them (sockdiag_conns) and one socket hears of the
 * connections that close between polls (sockdiag_gone_open); while none
 * is, nothing is open and nothing wakes.  A window's verdict reaches its
 * owner once, from the loop (never from inside a call here), after the
 * window is freed.  No logging: the owner says what a verdict means.
 *
 * Watched: inbound TCP connections to the MTA's port on any local address.
 * Not observable when nothing listens there, when local-smtp is an
 * address this host does not have, or when the kernel cannot be asked.
 */
#ifndef ETRND_FLUSH_H
#define ETRND_FLUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flushwatch.h"

struct event_base;
struct flush;
struct flush_window;

/* The verdict is final; the window is already gone. */
typedef void	(*flush_done_cb)(const struct flushwatch_result *, void *arg);

struct flush	*flush_new(struct event_base *);
/* Open windows end without a verdict (their owners are going too). */
void		 flush_free(struct flush *);

/*
 * What windows opened from now on watch: the MTA's port (local-smtp's, or
 * 25), local-smtp's host (NULL: none; a literal that is not this host's
 * makes every window "not observable"), their length and quiet time.
 */
void		 flush_configure(struct flush *, const char *local_host,
		    uint16_t port, const struct flushwatch_conf *);

/* A run starts at wall: its window, whose verdict goes to cb. */
struct flush_window *flush_begin(struct flush *, int64_t wall,
		    flush_done_cb cb, void *arg);
/*
 * The run ended with an ETRN accepted: count the connections from these
 * addresses and prefixes (at most FLUSHWATCH_FROM_MAX are used).
 */
void		 flush_watch(struct flush_window *,
		    const struct flushwatch_net *from, size_t n);
/* Another run, begun at start (monotonic ms), was accepted while the
 * window is open: it answers that run too (flushwatch_extend()). */
void		 flush_extend(struct flush_window *, uint64_t start);
/* The run accepted nothing, or its owner goes: no verdict.  NULL: no-op. */
void		 flush_cancel(struct flush_window *);
/* What the window found so far. */
void		 flush_peek(const struct flush_window *,
		    struct flushwatch_result *);
/* Is any window open (--once waits for their verdicts)? */
bool		 flush_busy(const struct flush *);

#endif
