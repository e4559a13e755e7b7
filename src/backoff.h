/* SPDX-License-Identifier: ISC */
/*
 * backoff: the retry delay after consecutive temporary failures.  Pure.
 * The base doubles from min per failure up to max; the delay is drawn in
 * [0.75 * base, 1.25 * base] and clamped to [min, max], so relays that
 * failed together do not retry in lock-step.
 */
#ifndef ETRND_BACKOFF_H
#define ETRND_BACKOFF_H

#include <stdint.h>

/* failures >= 1; rnd is any uniformly random 32-bit value. */
uint64_t	backoff_delay(uint64_t min_ms, uint64_t max_ms, unsigned failures,
		    uint32_t rnd);

#endif
