/* SPDX-License-Identifier: ISC */
/*
 * holddown: fire on the leading edge, then hold down -- for one relay.
 * An edge (a watched link coming up) with no window open acts at once.
 * A window opens when a run really starts (a session opens), so an edge
 * that found the relay with no route, or held back, opens none and the
 * next edge acts at once too.  Edges inside a window coalesce into at
 * most one more action at its end, unless a run that started after them
 * (the route came back, someone asked by hand) already answered them.
 * A clean link-up costs no waiting and a flapping link causes no burst.
 * Pure: the caller passes the time and owns the timer.
 */
#ifndef ETRND_HOLDDOWN_H
#define ETRND_HOLDDOWN_H

#include <stdbool.h>
#include <stdint.h>

struct holddown {
	uint64_t	 until;		/* monotonic ms the window closes */
	bool		 pending;	/* an edge inside it, not answered */
};

/*
 * An edge at now.  True: act now.  False: coalesced; the caller's timer
 * must fire at hd->until and call holddown_expire().
 */
bool	holddown_edge(struct holddown *, uint64_t now);
/* A run started at now: it answers every edge so far; a window opens. */
void	holddown_ran(struct holddown *, uint64_t now, uint64_t window_ms);
/*
 * The caller's timer at the window's end.  True: act now (the run that
 * starts opens the next window).
 */
bool	holddown_expire(struct holddown *);

#endif
