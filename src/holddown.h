/* SPDX-License-Identifier: ISC */
/*
 * holddown: fire on the leading edge, then hold down.  The first link-up
 * (or route) edge acts at once and opens a window; edges inside the
 * window coalesce into at most one more action at its end, which opens
 * the next window.  A clean link-up costs no waiting and a flapping link
 * causes no burst.  Pure: the caller passes the time and owns the timer.
 */
#ifndef ETRND_HOLDDOWN_H
#define ETRND_HOLDDOWN_H

#include <stdbool.h>
#include <stdint.h>

struct holddown {
	uint64_t	 until;		/* monotonic ms the window closes */
	bool		 pending;	/* an edge came inside the window */
};

/*
 * An edge at now.  True: act now (a window of window_ms opens).  False:
 * coalesced; the caller's timer must fire at hd->until and call
 * holddown_expire().
 */
bool	holddown_edge(struct holddown *, uint64_t now, uint64_t window_ms);
/* The window's end.  True: act now (one more window opens). */
bool	holddown_expire(struct holddown *, uint64_t now, uint64_t window_ms);

#endif
