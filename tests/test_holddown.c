/* SPDX-License-Identifier: ISC */
/*
 * Tests for holddown: sequences of edges and timer expiries, with the
 * actions they cause, by table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "holddown.h"

#define W	2000	/* the window, ms */

/*
 * "e100" an edge at 100 ms, "r100" a run starting at 100 ms, "x2100" the
 * timer at 2100 ms.  acts: per edge and timer, 1 acts, 0 does not (runs
 * have no column).  An action here is followed by its run only where the
 * row says so with an "r".
 */
struct row {
	const char	*name;
	const char	*events;	/* space separated */
	const char	*acts;
	uint64_t	 window;
};

static const struct row rows[] = {
	{ "a clean link-up acts at once", "e0", "1", W },
	{ "an edge after the window acts at once too",
	  "e0 r0 e2000", "11", W },
	{ "an edge inside the window waits for its end",
	  "e0 r0 e500 x2000", "101", W },
	{ "many edges inside the window: one more action",
	  "e0 r0 e10 e20 e30 e40 e990 x2000", "1000001", W },
	{ "the run at the window's end opens the next window",
	  "e0 r0 e10 x2000 r2000 e2500 x4000", "10101", W },
	{ "a window's end with no edge in it does nothing",
	  "e0 r0 x2000 e2001", "101", W },
	{ "the timer acts when it fires, even a little early",
	  "e0 r1 e10 x2000 x2001", "1010", W },
	{ "an edge that started no run opens no window (no route yet)",
	  "e0 e40 e1200", "111", W },
	{ "a run after the edges answers them: nothing more at the end",
	  "e0 e40 r1200 x3200", "110", W },
	{ "a run inside the window answers the edges before it",
	  "e0 r0 e300 r1200 x2000 x3200", "1000", W },
	{ "an edge after that run is still owed",
	  "e0 r0 e300 r1200 e1500 x3200", "1001", W },
	{ "window 0: every edge acts", "e0 r0 e0 r0 e1 e1", "1111", 0 },
	{ "the first edge at time 0 acts", "e0", "1", 0 },
};

static void
test_table(void **state)
{
	char	 buf[256], *tok, *save = NULL;
	size_t	 i, k;
	bool	 act;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct holddown	hd = { 0, false };

		print_message("  %s\n", rows[i].name);
		snprintf(buf, sizeof(buf), "%s", rows[i].events);
		k = 0;
		for (tok = strtok_r(buf, " ", &save); tok != NULL;
		    tok = strtok_r(NULL, " ", &save)) {
			uint64_t now = strtoull(tok + 1, NULL, 10);

			if (tok[0] == 'r') {
				holddown_ran(&hd, now, rows[i].window);
				continue;
			}
			act = tok[0] == 'e' ? holddown_edge(&hd, now) :
			    holddown_expire(&hd);
			assert_true(k < strlen(rows[i].acts));
			assert_int_equal(act, rows[i].acts[k] == '1');
			if (tok[0] == 'e' && !act)
				assert_true(hd.until > now);
			k++;
		}
		assert_int_equal(k, strlen(rows[i].acts));
	}
}

/* 30 flaps within a second, each action a run: two in all. */
static void
test_flapping(void **state)
{
	struct holddown	hd = { 0, false };
	unsigned	acts = 0, i;

	(void)state;
	for (i = 0; i < 30; i++) {
		if (holddown_edge(&hd, 1000 + i * 33)) {
			holddown_ran(&hd, 1000 + i * 33, W);
			acts++;
		}
	}
	if (holddown_expire(&hd)) {
		holddown_ran(&hd, hd.until, W);
		acts++;
	}
	acts += holddown_expire(&hd);
	assert_int_equal(acts, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_flapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
