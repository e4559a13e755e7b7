/* SPDX-License-Identifier: ISC */
/*
 * holddown: leading edge, then at most one more action per window opened
 * by a run; see holddown.h.
 */
#include "holddown.h"

bool
holddown_edge(struct holddown *hd, uint64_t now)
{
	if (now >= hd->until)
		return true;
	hd->pending = true;
	return false;
}

void
holddown_ran(struct holddown *hd, uint64_t now, uint64_t window_ms)
{
	hd->until = now + window_ms;
	hd->pending = false;
}

bool
holddown_expire(struct holddown *hd)
{
	/* The caller's timer is the authority: a clock read a little
	 * before its deadline must not lose the run. */
	if (!hd->pending)
		return false;
	hd->pending = false;
	return true;
}
