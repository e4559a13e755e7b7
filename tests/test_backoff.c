/* SPDX-License-Identifier: ISC */
/*
 * Tests for backoff: growth, bounds, jitter range and spread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "backoff.h"

#define S	1000ULL
#define M	(60 * S)

static void
test_first_failure_near_min(void **state)
{
	(void)state;
	/* rnd 0 is the low end, UINT32_MAX somewhere in the span. */
	assert_int_equal(backoff_delay(30 * S, 30 * M, 1, 0), 30 * S);
	for (uint32_t r = 0; r < 2000; r += 7) {
		uint64_t d = backoff_delay(30 * S, 30 * M, 1, r * 2654435761u);
		assert_true(d >= 30 * S);
		assert_true(d <= 30 * S + 30 * S / 4);
	}
}

static void
test_doubles_then_caps(void **state)
{
	uint64_t	lo[] = { 0, 30, 60, 120, 240, 480, 960, 1800, 1800, 1800 };

	(void)state;
	/* With rnd 0 the delay is 0.75 * base, never below min. */
	for (unsigned f = 1; f < 10; f++) {
		uint64_t base = lo[f] * S;
		uint64_t want = base - base / 4;
		if (want < 30 * S)
			want = 30 * S;
		assert_int_equal(backoff_delay(30 * S, 30 * M, f, 0), want);
	}
	/* Huge failure counts do not overflow. */
	assert_true(backoff_delay(30 * S, 30 * M, 1000000, 12345) <= 30 * M);
	assert_true(backoff_delay(30 * S, 30 * M, 1000000, 12345) >=
	    30 * M - 30 * M / 4);
	assert_true(backoff_delay(1, UINT64_MAX / 2, 200, 99) <= UINT64_MAX / 2);
}

static void
test_jitter_spreads(void **state)
{
	uint64_t	min = UINT64_MAX, max = 0;

	(void)state;
	srandom(1);
	for (int i = 0; i < 1000; i++) {
		uint64_t d = backoff_delay(30 * S, 30 * M, 4, (uint32_t)random());
		/* base 240 s: [180 s, 300 s] */
		assert_true(d >= 180 * S && d <= 300 * S);
		if (d < min)
			min = d;
		if (d > max)
			max = d;
	}
	/* Random draws cover most of the window, not one point. */
	assert_true(max - min > 100 * S);
}

static void
test_degenerate_bounds(void **state)
{
	(void)state;
	/* max < min: min wins. */
	assert_int_equal(backoff_delay(10 * S, 5 * S, 3, 77), 10 * S);
	/* min == max: always that. */
	for (uint32_t r = 0; r < 100; r++)
		assert_int_equal(backoff_delay(5 * S, 5 * S, r + 1, r), 5 * S);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_failure_near_min),
		cmocka_unit_test(test_doubles_then_caps),
		cmocka_unit_test(test_jitter_spreads),
		cmocka_unit_test(test_degenerate_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
