/* SPDX-License-Identifier: ISC */
/*
 * test_sig: signals reach their callback from the loop, each with its
 * number; deinit frees every event (valgrind sees it), also of a zeroed set.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "sig.h"
#include "util.h"

static int	got[4];
static size_t	ngot;

/* arg: the base, whose loop stops at each signal. */
static void
record_cb(evutil_socket_t sig, short ev, void *arg)
{
	assert_int_equal(ev, EV_SIGNAL);
	if (ngot < nitems(got))
		got[ngot++] = (int)sig;
	event_base_loopbreak(arg);
}

/* Run the loop until n signals came, at most 5 s. */
static void
run_until(struct event_base *base, size_t n)
{
	struct timeval	tv = { 5, 0 };

	if (ngot >= n)
		return;
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	assert_int_equal(ngot, n);
}

static void
test_delivered(void **state)
{
	static const int	 sigs[] = { SIGUSR1, SIGUSR2 };
	struct sig_events	 se;
	struct event_base	*base;

	(void)state;
	memset(&se, 0, sizeof(se));
	ngot = 0;
	assert_non_null(base = event_base_new());
	sig_events_init(&se, base, sigs, nitems(sigs), record_cb, base);
	assert_int_equal(se.n, 2);
	assert_int_equal(ngot, 0);

	/* Not from inside raise(): from the loop. */
	assert_int_equal(raise(SIGUSR2), 0);
	assert_int_equal(ngot, 0);
	run_until(base, 1);
	assert_int_equal(raise(SIGUSR1), 0);
	run_until(base, 2);
	assert_int_equal(ngot, 2);
	assert_int_equal(got[0], SIGUSR2);
	assert_int_equal(got[1], SIGUSR1);

	sig_events_deinit(&se);
	assert_int_equal(se.n, 0);
	sig_events_deinit(&se);		/* again: nothing left to free */
	event_base_free(base);
}

static void
test_zeroed(void **state)
{
	struct sig_events	se;

	(void)state;
	memset(&se, 0, sizeof(se));
	sig_events_deinit(&se);
	assert_int_equal(se.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delivered),
		cmocka_unit_test(test_zeroed),
	};

	return cmocka_run_group_tests_name("sig", tests, NULL, NULL);
}
