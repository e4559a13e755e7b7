/* SPDX-License-Identifier: ISC */
/*
 * backoff: exponential delay with jitter; see backoff.h.
 */
#include "backoff.h"

uint64_t
backoff_delay(uint64_t min_ms, uint64_t max_ms, unsigned failures,
    uint32_t rnd)
{
	uint64_t	base = min_ms, lo, span, d;
	unsigned	i;

	if (max_ms < min_ms)
		max_ms = min_ms;
	for (i = 1; i < failures && base < max_ms; i++)
		base = base > max_ms / 2 ? max_ms : base * 2;
	if (base > max_ms)
		base = max_ms;

	lo = base - base / 4;
	span = base / 2 + 1;
	d = lo + (uint64_t)rnd % span;
	if (d < min_ms)
		d = min_ms;
	if (d > max_ms)
		d = max_ms;
	return d;
}
