/* SPDX-License-Identifier: ISC */
/*
 * holddown: leading edge, then at most one more action per window; see
 * holddown.h.
 */
#include "holddown.h"

bool
holddown_edge(struct holddown *hd, uint64_t now, uint64_t window_ms)
{
	if (now >= hd->until) {
		hd->until = now + window_ms;
		hd->pending = false;
		return true;
	}
	hd->pending = true;
	return false;
}

bool
holddown_expire(struct holddown *hd, uint64_t now, uint64_t window_ms)
{
	/* The caller's timer is the authority: a clock read a little
	 * before its deadline must not lose the run. */
	if (!hd->pending)
		return false;
	hd->pending = false;
	hd->until = now + window_ms;
	return true;
}
