/* SPDX-License-Identifier: ISC */
/*
 * Tests for relay, the pure run policy: one table row per transition,
 * (state, results, event, online, now) in, (action, delay range, state,
 * marks, note) out; then whole runs as sequences of steps.  No sockets,
 * no clock: this is where coalescing, chunking, backoff, give-up and
 * link-down pauses are proven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "relay.h"

#define S	1000ULL
#define M	(60 * S)
#define H	(60 * M)
#define NOW	(100 * H)	/* monotonic "now" for every row */

enum event {
	EV_TRIGGER,		/* relay_want(why[, why2]), relay_decide */
	EV_RESULTS,		/* relay_take_chunk, relay_on_results */
	EV_OFFLINE,		/* relay_on_offline */
	EV_STOP,		/* relay_stop */
};

enum { ONLINE = 1, ONCE = 2, STOPPING = 4, HELD = 8, NOROUTE = 16 };

#define NO_TARGET	(-1)
#define NO_WHY		(-1)

struct row {
	const char		*name;
	/* before */
	enum relay_state	 state;
	const char		*last;	/* per domain: n o t r u (class), x
					 * temporary: not reachable yet */
	const char		*todo;	/* per domain: 1 due, 0 not */
	unsigned		 failures;
	uint64_t		 failing_for; /* ms before NOW, 0: not failing */
	int			 pending; /* NO_WHY, or a trigger due already */
	/* event */
	enum event		 ev;
	int			 why, why2;	/* EV_TRIGGER */
	const char		*results;	/* EV_RESULTS: classes */
	int			 env;		/* ONLINE | ONCE | ... */
	/* after */
	enum relay_action	 action;
	uint64_t		 dmin, dmax;	/* RELAY_A_ARM */
	enum relay_state	 to;
	const char		*todo_after;
	unsigned		 failures_after;
	enum relay_note		 note;
	bool			 ended;
	int			 target;	/* - run_seq before; NO_TARGET */
	int			 pending_after;	/* NO_WHY or the trigger kept */
};

static enum etrn_class
cls_of(char c)
{
	switch (c) {
	case 'o':
		return ETRN_R_OK;
	case 't':
	case 'x':
		return ETRN_R_TEMP;
	case 'r':
		return ETRN_R_REFUSED;
	case 'u':
		return ETRN_R_UNSUPPORTED;
	default:
		return ETRN_R_NONE;
	}
}

static enum etrn_fail
fail_of(char c)
{
	switch (c) {
	case 't':
		return ETRN_F_REPLY;
	case 'x':
		return ETRN_F_NOROUTE;
	default:
		return ETRN_F_NONE;
	}
}

static void
env_of(int flags, uint32_t rnd, struct relay_env *env)
{
	memset(env, 0, sizeof(*env));
	env->now = NOW;
	env->wall = 1700000000;
	env->random = rnd;
	env->online = flags & ONLINE;
	env->once = flags & ONCE;
	env->stopping = flags & STOPPING;
	env->held = flags & HELD;
	env->noroute = flags & NOROUTE;
	env->retry_min_ms = 30 * S;
	env->retry_max_ms = 30 * M;
	env->give_up_ms = 6 * H;
}

/* A relay of strlen(last) domains "d0.example" ... in the row's state. */
static void
setup(struct relay *r, const struct row *c)
{
	char	*names[16], buf[16][24];
	size_t	 i, n = strlen(c->last);

	for (i = 0; i < n; i++) {
		snprintf(buf[i], sizeof(buf[i]), "d%u.example", (unsigned)i);
		names[i] = buf[i];
	}
	relay_init(r, names, n);
	for (i = 0; i < n; i++) {
		r->doms[i].last.cls = cls_of(c->last[i]);
		r->doms[i].last.fail = fail_of(c->last[i]);
		r->doms[i].todo = c->todo != NULL && c->todo[i] == '1';
	}
	r->run_seq = r->done_seq = 5;
	if (c->ev == EV_RESULTS) {
		char *args[CONF_ETRN_PER_SESSION];

		r->run_seq = 6;
		relay_take_chunk(r, args);
	}
	r->state = c->state;
	r->failures = c->failures;
	r->fail_since = c->failing_for != 0 ? NOW - c->failing_for : 0;
	if (c->pending != NO_WHY)
		relay_want(r, (enum relay_trigger)c->pending);
}

static const struct row rows[] = {
	/* A trigger on an idle relay. */
	{ "manual asks every domain", RELAY_S_IDLE, "ortn", NULL, 0, 0,
	  NO_WHY, EV_TRIGGER, RELAY_T_MANUAL, NO_WHY, NULL, ONLINE,
	  RELAY_A_OPEN, 0, 0, RELAY_S_IDLE, "1111", 0, RELAY_N_NONE, false,
	  1, NO_WHY },
	{ "retry asks failed and never-asked domains only", RELAY_S_IDLE,
	  "otnr", NULL, 2, 1 * M, NO_WHY, EV_TRIGGER, RELAY_T_RETRY, NO_WHY,
	  NULL, ONLINE, RELAY_A_OPEN, 0, 0, RELAY_S_IDLE, "0110", 2,
	  RELAY_N_NONE, false, 1, NO_WHY },
	{ "interval skips refusals", RELAY_S_IDLE, "otru", NULL, 0, 0,
	  NO_WHY, EV_TRIGGER, RELAY_T_INTERVAL, NO_WHY, NULL, ONLINE,
	  RELAY_A_OPEN, 0, 0, RELAY_S_IDLE, "1100", 0, RELAY_N_NONE, false,
	  1, NO_WHY },
	{ "link-up asks refusals again and forgets failures", RELAY_S_IDLE,
	  "r", NULL, 3, 1 * H, NO_WHY, EV_TRIGGER, RELAY_T_LINKUP, NO_WHY,
	  NULL, ONLINE, RELAY_A_OPEN, 0, 0, RELAY_S_IDLE, "1", 0,
	  RELAY_N_NONE, false, 1, NO_WHY },
	{ "reload and start are fresh too", RELAY_S_IDLE, "ru", NULL, 1, M,
	  NO_WHY, EV_TRIGGER, RELAY_T_RELOAD, RELAY_T_START, NULL, ONLINE,
	  RELAY_A_OPEN, 0, 0, RELAY_S_IDLE, "11", 0, RELAY_N_NONE, false, 1,
	  NO_WHY },
	{ "nothing to ask ends the run at once", RELAY_S_IDLE, "oor", NULL,
	  0, 0, NO_WHY, EV_TRIGGER, RELAY_T_RETRY, NO_WHY, NULL, ONLINE,
	  RELAY_A_NONE, 0, 0, RELAY_S_IDLE, "000", 0, RELAY_N_NOTHING, true,
	  1, NO_WHY },
	{ "interval with every domain refused: nothing to ask", RELAY_S_IDLE,
	  "ru", NULL, 0, 0, NO_WHY, EV_TRIGGER, RELAY_T_INTERVAL, NO_WHY, NULL,
	  ONLINE, RELAY_A_NONE, 0, 0, RELAY_S_IDLE, "00", 0, RELAY_N_NOTHING,
	  true, 1, NO_WHY },
	{ "retry with no link waits for one", RELAY_S_BACKOFF, "t", NULL, 1,
	  M, NO_WHY, EV_TRIGGER, RELAY_T_RETRY, NO_WHY, NULL, 0, RELAY_A_NONE,
	  0, 0, RELAY_S_WAITLINK, "0", 1, RELAY_N_NONE, false, NO_TARGET,
	  NO_WHY },
	{ "retry with no link under --once still runs", RELAY_S_IDLE, "t",
	  NULL, 1, M, NO_WHY, EV_TRIGGER, RELAY_T_RETRY, NO_WHY, NULL, ONCE,
	  RELAY_A_OPEN, 0, 0, RELAY_S_IDLE, "1", 1, RELAY_N_NONE, false, 1,
	  NO_WHY },
	{ "a manual run needs no link", RELAY_S_IDLE, "o", NULL, 0, 0,
	  NO_WHY, EV_TRIGGER, RELAY_T_MANUAL, NO_WHY, NULL, 0, RELAY_A_OPEN,
	  0, 0, RELAY_S_IDLE, "1", 0, RELAY_N_NONE, false, 1, NO_WHY },
	/* Coalescing: the strongest trigger decides what is asked. */
	{ "interval then link-up: link-up wins", RELAY_S_IDLE, "r", NULL, 0,
	  0, NO_WHY, EV_TRIGGER, RELAY_T_INTERVAL, RELAY_T_LINKUP, NULL,
	  ONLINE, RELAY_A_OPEN, 0, 0, RELAY_S_IDLE, "1", 0, RELAY_N_NONE,
	  false, 1, NO_WHY },
	{ "manual then retry: manual stays", RELAY_S_IDLE, "or", NULL, 0, 0,
	  NO_WHY, EV_TRIGGER, RELAY_T_MANUAL, RELAY_T_RETRY, NULL, ONLINE,
	  RELAY_A_OPEN, 0, 0, RELAY_S_IDLE, "11", 0, RELAY_N_NONE, false, 1,
	  NO_WHY },
	{ "a trigger during a run is kept for its end", RELAY_S_RUNNING, "t",
	  NULL, 0, 0, NO_WHY, EV_TRIGGER, RELAY_T_INTERVAL, RELAY_T_MANUAL,
	  NULL, ONLINE, RELAY_A_NONE, 0, 0, RELAY_S_RUNNING, "0", 0,
	  RELAY_N_NONE, false, 1, RELAY_T_MANUAL },
	{ "a queued run takes more domains, never fewer", RELAY_S_QUEUED,
	  "ro", "10", 2, M, NO_WHY, EV_TRIGGER, RELAY_T_INTERVAL, NO_WHY,
	  NULL, ONLINE, RELAY_A_NONE, 0, 0, RELAY_S_QUEUED, "11", 2,
	  RELAY_N_NONE, false, 0, NO_WHY },
	{ "a fresh trigger on a queued run forgets failures",
	  RELAY_S_QUEUED, "t", "1", 2, M, NO_WHY, EV_TRIGGER, RELAY_T_MANUAL,
	  NO_WHY, NULL, ONLINE, RELAY_A_NONE, 0, 0, RELAY_S_QUEUED, "1", 0,
	  RELAY_N_NONE, false, 0, NO_WHY },
	{ "interval during backoff runs now, failures kept", RELAY_S_BACKOFF,
	  "t", NULL, 2, M, NO_WHY, EV_TRIGGER, RELAY_T_INTERVAL, NO_WHY,
	  NULL, ONLINE, RELAY_A_OPEN, 0, 0, RELAY_S_BACKOFF, "1", 2,
	  RELAY_N_NONE, false, 1, NO_WHY },
	{ "manual during backoff forgets failures", RELAY_S_BACKOFF, "t",
	  NULL, 2, M, NO_WHY, EV_TRIGGER, RELAY_T_MANUAL, NO_WHY, NULL, ONLINE,
	  RELAY_A_OPEN, 0, 0, RELAY_S_BACKOFF, "1", 0, RELAY_N_NONE, false, 1,
	  NO_WHY },
	{ "link-up wakes a relay waiting for a link", RELAY_S_WAITLINK, "t",
	  NULL, 1, M, NO_WHY, EV_TRIGGER, RELAY_T_LINKUP, NO_WHY, NULL,
	  ONLINE, RELAY_A_OPEN, 0, 0, RELAY_S_WAITLINK, "1", 0, RELAY_N_NONE,
	  false, 1, NO_WHY },
	{ "link-up wakes a relay that gave up", RELAY_S_FAILED, "t", NULL, 9,
	  7 * H, NO_WHY, EV_TRIGGER, RELAY_T_LINKUP, NO_WHY, NULL, ONLINE,
	  RELAY_A_OPEN, 0, 0, RELAY_S_FAILED, "1", 0, RELAY_N_NONE, false, 1,
	  NO_WHY },
	{ "held (local-smtp not listening yet): kept, nothing starts",
	  RELAY_S_IDLE, "o", NULL, 0, 0, NO_WHY, EV_TRIGGER, RELAY_T_MANUAL,
	  NO_WHY, NULL, ONLINE | HELD, RELAY_A_NONE, 0, 0, RELAY_S_IDLE, "0",
	  0, RELAY_N_NONE, false, NO_TARGET, RELAY_T_MANUAL },
	{ "shutting down: dropped", RELAY_S_IDLE, "o", NULL, 0, 0, NO_WHY,
	  EV_TRIGGER, RELAY_T_MANUAL, NO_WHY, NULL, ONLINE | STOPPING,
	  RELAY_A_NONE, 0, 0, RELAY_S_IDLE, "0", 0, RELAY_N_NONE, false,
	  NO_TARGET, NO_WHY },

	/* A session's results. */
	{ "all accepted: idle, failures forgotten", RELAY_S_RUNNING, "nn",
	  "11", 2, M, NO_WHY, EV_RESULTS, 0, 0, "oo", ONLINE, RELAY_A_NONE, 0,
	  0, RELAY_S_IDLE, "00", 0, RELAY_N_NONE, true, NO_TARGET, NO_WHY },
	{ "refusals are not failures", RELAY_S_RUNNING, "nn", "11", 0, 0,
	  NO_WHY, EV_RESULTS, 0, 0, "ru", ONLINE, RELAY_A_NONE, 0, 0,
	  RELAY_S_IDLE, "00", 0, RELAY_N_NONE, true, NO_TARGET, NO_WHY },
	{ "first failure: back off 30-37.5s", RELAY_S_RUNNING, "nn", "11", 0,
	  0, NO_WHY, EV_RESULTS, 0, 0, "ot", ONLINE, RELAY_A_ARM, 30 * S,
	  30 * S + 30 * S / 4, RELAY_S_BACKOFF, "00", 1, RELAY_N_BACKOFF, true,
	  NO_TARGET, NO_WHY },
	{ "fourth failure: back off 180-300s", RELAY_S_RUNNING, "t", "1", 3,
	  10 * M, NO_WHY, EV_RESULTS, 0, 0, "t", ONLINE, RELAY_A_ARM, 180 * S,
	  300 * S, RELAY_S_BACKOFF, "0", 4, RELAY_N_BACKOFF, true, NO_TARGET,
	  NO_WHY },
	{ "many failures: at most retry-max", RELAY_S_RUNNING, "t", "1", 40,
	  5 * H, NO_WHY, EV_RESULTS, 0, 0, "t", ONLINE, RELAY_A_ARM,
	  30 * M - 30 * M / 4, 30 * M, RELAY_S_BACKOFF, "0", 41, RELAY_N_BACKOFF, true, NO_TARGET,
	  NO_WHY },
	{ "failure with no link: wait for one", RELAY_S_RUNNING, "t", "1", 0,
	  0, NO_WHY, EV_RESULTS, 0, 0, "t", 0, RELAY_A_NONE, 0, 0,
	  RELAY_S_WAITLINK, "0", 1, RELAY_N_WAITLINK, true, NO_TARGET, NO_WHY },
	{ "failing for give-up: failed", RELAY_S_RUNNING, "t", "1", 20,
	  6 * H, NO_WHY, EV_RESULTS, 0, 0, "t", ONLINE, RELAY_A_NONE, 0, 0,
	  RELAY_S_FAILED, "0", 21, RELAY_N_GAVE_UP, true, NO_TARGET, NO_WHY },
	{ "just under give-up: still backing off", RELAY_S_RUNNING, "t", "1",
	  20, 6 * H - 1, NO_WHY, EV_RESULTS, 0, 0, "t", ONLINE, RELAY_A_ARM,
	  30 * M - 30 * M / 4, 30 * M, RELAY_S_BACKOFF, "0", 21, RELAY_N_BACKOFF, true,
	  NO_TARGET, NO_WHY },
	{ "--once: no retry", RELAY_S_RUNNING, "t", "1", 0, 0, NO_WHY,
	  EV_RESULTS, 0, 0, "t", ONCE, RELAY_A_NONE, 0, 0, RELAY_S_IDLE, "0",
	  1, RELAY_N_NONE, true, NO_TARGET, NO_WHY },
	{ "shutting down: no retry, the rest dropped", RELAY_S_RUNNING,
	  "nnnnnnnnn", "111111111", 0, 0, NO_WHY, EV_RESULTS, 0, 0, "tt",
	  ONLINE | STOPPING, RELAY_A_NONE, 0, 0, RELAY_S_IDLE, "000000000", 1,
	  RELAY_N_NONE, true, NO_TARGET, NO_WHY },
	{ "seven per session: the next chunk", RELAY_S_RUNNING, "nnnnnnnnn",
	  "111111111", 0, 0, NO_WHY, EV_RESULTS, 0, 0, "ooooooo", ONLINE,
	  RELAY_A_OPEN, 0, 0, RELAY_S_RUNNING, "000000011", 0, RELAY_N_NONE,
	  false, NO_TARGET, NO_WHY },
	{ "a fresh trigger during the run survives its backoff",
	  RELAY_S_RUNNING, "t", "1", 0, 0, RELAY_T_MANUAL, EV_RESULTS, 0, 0,
	  "t", ONLINE, RELAY_A_ARM, 30 * S, 30 * S + 30 * S / 4,
	  RELAY_S_BACKOFF, "0", 1, RELAY_N_BACKOFF, true, NO_TARGET,
	  RELAY_T_MANUAL },
	{ "an interval during the run does not skip the backoff",
	  RELAY_S_RUNNING, "t", "1", 0, 0, RELAY_T_INTERVAL, EV_RESULTS, 0, 0,
	  "t", ONLINE, RELAY_A_ARM, 30 * S, 30 * S + 30 * S / 4,
	  RELAY_S_BACKOFF, "0", 1, RELAY_N_BACKOFF, true, NO_TARGET, NO_WHY },
	{ "an interval during a run that succeeded is kept", RELAY_S_RUNNING,
	  "o", "1", 0, 0, RELAY_T_INTERVAL, EV_RESULTS, 0, 0, "o", ONLINE,
	  RELAY_A_NONE, 0, 0, RELAY_S_IDLE, "0", 0, RELAY_N_NONE, true,
	  NO_TARGET, RELAY_T_INTERVAL },

	/* Not reachable yet (no route, address tentative): no failure. */
	{ "no route: wait for the network, retry-min at most",
	  RELAY_S_RUNNING, "nn", "11", 0, 0, NO_WHY, EV_RESULTS, 0, 0, "xx",
	  ONLINE, RELAY_A_ARM, 30 * S, 30 * S, RELAY_S_NOROUTE, "00", 0,
	  RELAY_N_NOROUTE, true, NO_TARGET, NO_WHY },
	{ "no route after failures: nothing more counted", RELAY_S_RUNNING,
	  "t", "1", 3, 10 * M, NO_WHY, EV_RESULTS, 0, 0, "x", ONLINE,
	  RELAY_A_ARM, 30 * S, 30 * S, RELAY_S_NOROUTE, "0", 3,
	  RELAY_N_NOROUTE, true, NO_TARGET, NO_WHY },
	{ "no route and no link: wait for a link", RELAY_S_RUNNING, "n", "1",
	  0, 0, NO_WHY, EV_RESULTS, 0, 0, "x", 0, RELAY_A_NONE, 0, 0,
	  RELAY_S_WAITLINK, "0", 0, RELAY_N_WAITLINK, true, NO_TARGET,
	  NO_WHY },
	{ "no route under --once: done", RELAY_S_RUNNING, "n", "1", 0, 0,
	  NO_WHY, EV_RESULTS, 0, 0, "x", ONCE, RELAY_A_NONE, 0, 0,
	  RELAY_S_IDLE, "0", 0, RELAY_N_NONE, true, NO_TARGET, NO_WHY },
	{ "no route beside a real failure: back off", RELAY_S_RUNNING, "tn",
	  "01", 0, 0, NO_WHY, EV_RESULTS, 0, 0, "x", ONLINE, RELAY_A_ARM,
	  30 * S, 30 * S + 30 * S / 4, RELAY_S_BACKOFF, "00", 1,
	  RELAY_N_BACKOFF, true, NO_TARGET, NO_WHY },
	{ "a real failure beside no route: back off", RELAY_S_RUNNING, "xn",
	  "01", 0, 0, NO_WHY, EV_RESULTS, 0, 0, "t", ONLINE, RELAY_A_ARM,
	  30 * S, 30 * S + 30 * S / 4, RELAY_S_BACKOFF, "00", 1,
	  RELAY_N_BACKOFF, true, NO_TARGET, NO_WHY },
	{ "a network change runs it at once", RELAY_S_NOROUTE, "x", NULL, 0,
	  0, NO_WHY, EV_TRIGGER, RELAY_T_LINKUP, NO_WHY, NULL, ONLINE,
	  RELAY_A_OPEN, 0, 0, RELAY_S_NOROUTE, "1", 0, RELAY_N_NONE, false, 1,
	  NO_WHY },
	{ "its bound: the retry asks what the wait was for (here a start)",
	  RELAY_S_NOROUTE, "xo", NULL, 0, 0, NO_WHY, EV_TRIGGER, RELAY_T_RETRY,
	  NO_WHY, NULL, ONLINE, RELAY_A_OPEN, 0, 0, RELAY_S_NOROUTE, "11", 0,
	  RELAY_N_NONE, false, 1, NO_WHY },
	{ "an interval during a run with no route: not again at once",
	  RELAY_S_RUNNING, "n", "1", 0, 0, RELAY_T_INTERVAL, EV_RESULTS, 0, 0,
	  "x", ONLINE, RELAY_A_ARM, 30 * S, 30 * S, RELAY_S_NOROUTE, "0", 0,
	  RELAY_N_NOROUTE, true, NO_TARGET, NO_WHY },
	{ "no route to its address: wait, nothing opened", RELAY_S_IDLE, "o",
	  NULL, 0, 0, NO_WHY, EV_TRIGGER, RELAY_T_LINKUP, NO_WHY, NULL,
	  ONLINE | NOROUTE, RELAY_A_ARM, 30 * S, 30 * S, RELAY_S_NOROUTE, "0",
	  0, RELAY_N_NOROUTE, false, NO_TARGET, NO_WHY },
	{ "no route, asked by hand: try anyway", RELAY_S_IDLE, "o", NULL, 0, 0,
	  NO_WHY, EV_TRIGGER, RELAY_T_MANUAL, NO_WHY, NULL, ONLINE | NOROUTE,
	  RELAY_A_OPEN, 0, 0, RELAY_S_IDLE, "1", 0, RELAY_N_NONE, false, 1,
	  NO_WHY },
	{ "by hand, then a link-up, no route: still tried", RELAY_S_IDLE, "o",
	  NULL, 0, 0, NO_WHY, EV_TRIGGER, RELAY_T_MANUAL, RELAY_T_LINKUP, NULL,
	  ONLINE | NOROUTE, RELAY_A_OPEN, 0, 0, RELAY_S_IDLE, "1", 0,
	  RELAY_N_NONE, false, 1, NO_WHY },
	{ "no route under --once: try anyway", RELAY_S_IDLE, "o", NULL, 0, 0,
	  NO_WHY, EV_TRIGGER, RELAY_T_LINKUP, NO_WHY, NULL, ONCE | NOROUTE,
	  RELAY_A_OPEN, 0, 0, RELAY_S_IDLE, "1", 0, RELAY_N_NONE, false, 1,
	  NO_WHY },
	{ "offline: no route waits for a link", RELAY_S_NOROUTE, "x", NULL, 0,
	  0, NO_WHY, EV_OFFLINE, 0, 0, NULL, 0, RELAY_A_NONE, 0, 0,
	  RELAY_S_WAITLINK, "0", 0, RELAY_N_NONE, false, NO_TARGET, NO_WHY },

	/* The link went down; shutdown. */
	{ "offline: backoff waits for a link", RELAY_S_BACKOFF, "t", NULL, 1,
	  M, NO_WHY, EV_OFFLINE, 0, 0, NULL, 0, RELAY_A_NONE, 0, 0,
	  RELAY_S_WAITLINK, "0", 1, RELAY_N_NONE, false, NO_TARGET, NO_WHY },
	{ "offline: a running relay finishes its run", RELAY_S_RUNNING, "t",
	  NULL, 1, M, NO_WHY, EV_OFFLINE, 0, 0, NULL, 0, RELAY_A_NONE, 0, 0,
	  RELAY_S_RUNNING, "0", 1, RELAY_N_NONE, false, NO_TARGET, NO_WHY },
	{ "offline: failed stays failed", RELAY_S_FAILED, "t", NULL, 9, 7 * H,
	  NO_WHY, EV_OFFLINE, 0, 0, NULL, 0, RELAY_A_NONE, 0, 0,
	  RELAY_S_FAILED, "0", 9, RELAY_N_NONE, false, NO_TARGET, NO_WHY },
	{ "stop: a queued run is dropped", RELAY_S_QUEUED, "t", "1", 1, M,
	  RELAY_T_MANUAL, EV_STOP, 0, 0, NULL, ONLINE, RELAY_A_NONE, 0, 0,
	  RELAY_S_IDLE, "1", 1, RELAY_N_NONE, false, NO_TARGET, NO_WHY },
	{ "stop: backoff stays (status shows it)", RELAY_S_BACKOFF, "t", NULL,
	  1, M, NO_WHY, EV_STOP, 0, 0, NULL, ONLINE, RELAY_A_NONE, 0, 0,
	  RELAY_S_BACKOFF, "0", 1, RELAY_N_NONE, false, NO_TARGET, NO_WHY },
};

/* Run one row with one random value; check everything it says. */
static void
run_row(const struct row *c, uint32_t rnd)
{
	struct relay		 r;
	struct relay_env	 env;
	struct relay_step	 st = { .action = RELAY_A_NONE };
	struct etrn_result	 res[CONF_ETRN_PER_SESSION];
	size_t			 chunk[CONF_ETRN_PER_SESSION];
	uint64_t		 seq0;
	size_t			 i, n;
	bool			 changed = false;

	print_message("  %s (random %u)\n", c->name, rnd);
	setup(&r, c);
	seq0 = r.run_seq;
	env_of(c->env, rnd, &env);
	switch (c->ev) {
	case EV_TRIGGER:
		relay_want(&r, (enum relay_trigger)c->why);
		if (c->why2 != NO_WHY)
			relay_want(&r, (enum relay_trigger)c->why2);
		st = relay_decide(&r, &env);
		break;
	case EV_RESULTS:
		n = strlen(c->results);
		memset(res, 0, sizeof(res));
		for (i = 0; i < n; i++) {
			res[i].cls = cls_of(c->results[i]);
			res[i].fail = fail_of(c->results[i]);
			res[i].code = res[i].cls == ETRN_R_OK ? 250 :
			    res[i].fail == ETRN_F_REPLY ? 458 : 0;
			res[i].pending = -1;
		}
		memcpy(chunk, r.chunk, sizeof(chunk));
		st = relay_on_results(&r, res, n, &env);
		for (i = 0; i < n; i++) {
			const struct relay_domain *d = &r.doms[chunk[i]];

			assert_int_equal(d->last.cls, res[i].cls);
			assert_int_equal(d->last.fail, res[i].fail);
			assert_int_equal(d->last_try, env.wall);
			assert_int_equal(d->last_ok,
			    res[i].cls == ETRN_R_OK ? env.wall : 0);
		}
		break;
	case EV_OFFLINE:
		changed = relay_on_offline(&r);
		assert_int_equal(changed, c->state == RELAY_S_BACKOFF ||
		    c->state == RELAY_S_NOROUTE);
		break;
	case EV_STOP:
		relay_stop(&r);
		break;
	}
	assert_int_equal(st.action, c->action);
	assert_string_equal(relay_state_name(r.state),
	    relay_state_name(c->to));
	if (c->action == RELAY_A_ARM) {
		assert_in_range(st.delay, c->dmin, c->dmax);
		assert_int_equal(r.retry_at, NOW + st.delay);
	}
	for (i = 0; i < r.ndoms; i++)
		assert_int_equal(r.doms[i].todo, c->todo_after[i] == '1');
	assert_int_equal(r.failures, c->failures_after);
	if (c->failures_after == 0)
		assert_int_equal(r.fail_since, 0);
	else if (c->ev == EV_RESULTS && c->failing_for == 0)
		assert_int_equal(r.fail_since, NOW);
	assert_int_equal(st.note, c->note);
	assert_int_equal(st.ended, c->ended);
	if (st.ended)
		assert_int_equal(r.done_seq, r.run_seq);
	if (c->target == NO_TARGET)
		assert_int_equal(st.target, 0);
	else
		assert_int_equal(st.target, seq0 + (uint64_t)c->target);
	assert_int_equal(r.pending, c->pending_after != NO_WHY);
	if (c->pending_after != NO_WHY)
		assert_int_equal(r.pending_why, c->pending_after);
	relay_deinit(&r);
}

static void
test_table(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		run_row(&rows[i], 0);
		run_row(&rows[i], UINT32_MAX);
	}
}

/* Every state is reached by some row, from some row. */
static void
test_table_covers_every_state(void **state)
{
	bool	from[RELAY_NSTATES] = { false }, to[RELAY_NSTATES] = { false };
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		from[rows[i].state] = true;
		to[rows[i].to] = true;
	}
	for (i = 0; i < RELAY_NSTATES; i++) {
		assert_true(from[i]);
		/* QUEUED is entered by relay_queue, tested below. */
		assert_true(to[i] || i == RELAY_S_QUEUED);
	}
}

static struct relay_step
trigger(struct relay *r, enum relay_trigger why, int flags)
{
	struct relay_env	env;

	env_of(flags, 12345, &env);
	relay_want(r, why);
	return relay_decide(r, &env);
}

static struct relay_step
results(struct relay *r, const char *classes, int flags)
{
	struct relay_env	env;
	struct etrn_result	res[CONF_ETRN_PER_SESSION];
	size_t			i, n = strlen(classes);

	memset(res, 0, sizeof(res));
	for (i = 0; i < n; i++) {
		res[i].cls = cls_of(classes[i]);
		res[i].fail = fail_of(classes[i]);
	}
	env_of(flags, 12345, &env);
	return relay_on_results(r, res, n, &env);
}

/*
 * A whole run: nine domains in two sessions, one failure, the backoff,
 * a queue in between, the retry asking only the failed domain, success.
 */
static void
test_run_sequence(void **state)
{
	char			*names[9], buf[9][24], *args[CONF_ETRN_PER_SESSION];
	struct relay		 r;
	struct relay_step	 st;
	size_t			 i;

	(void)state;
	for (i = 0; i < 9; i++) {
		snprintf(buf[i], sizeof(buf[i]), "d%u.example", (unsigned)i);
		names[i] = buf[i];
	}
	relay_init(&r, names, 9);
	assert_string_equal(relay_state_name(r.state), "idle");

	st = trigger(&r, RELAY_T_LINKUP, ONLINE);
	assert_int_equal(st.action, RELAY_A_OPEN);
	assert_int_equal(st.target, 1);
	/* No slot: the relay waits in line, and a second trigger joins. */
	relay_queue(&r);
	st = trigger(&r, RELAY_T_INTERVAL, ONLINE);
	assert_int_equal(st.action, RELAY_A_NONE);
	assert_int_equal(st.target, 1);
	assert_string_equal(relay_state_name(r.state), "queued");

	assert_int_equal(relay_take_chunk(&r, args), 7);
	assert_string_equal(args[0], "d0.example");
	assert_string_equal(args[6], "d6.example");
	assert_string_equal(relay_state_name(r.state), "running");
	/* A manual run during the session waits for the run's end. */
	st = trigger(&r, RELAY_T_MANUAL, ONLINE);
	assert_int_equal(st.target, 2);
	st = results(&r, "ooootoo", ONLINE);
	assert_int_equal(st.action, RELAY_A_OPEN);
	assert_int_equal(relay_take_chunk(&r, args), 2);
	assert_string_equal(args[0], "d7.example");
	st = results(&r, "oo", ONLINE);
	assert_true(st.ended);
	assert_int_equal(st.action, RELAY_A_ARM);
	assert_int_equal(r.done_seq, 1);
	assert_int_equal(relay_ntemp(&r), 1);
	/* The manual trigger is still due: its run starts now, all nine. */
	assert_true(r.pending);
	st = trigger(&r, RELAY_T_MANUAL, ONLINE);
	assert_int_equal(st.action, RELAY_A_OPEN);
	assert_int_equal(st.target, 2);
	assert_int_equal(r.failures, 0);
	assert_int_equal(relay_take_chunk(&r, args), 7);
	st = results(&r, "ooootoo", ONLINE);
	assert_int_equal(relay_take_chunk(&r, args), 2);
	st = results(&r, "oo", ONLINE);
	assert_int_equal(st.action, RELAY_A_ARM);
	assert_int_equal(r.failures, 1);
	/* The retry asks only d4. */
	st = trigger(&r, RELAY_T_RETRY, ONLINE);
	assert_int_equal(st.action, RELAY_A_OPEN);
	assert_int_equal(relay_take_chunk(&r, args), 1);
	assert_string_equal(args[0], "d4.example");
	st = results(&r, "o", ONLINE);
	assert_int_equal(st.action, RELAY_A_NONE);
	assert_string_equal(relay_state_name(r.state), "idle");
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.done_seq, 3);
	assert_int_equal(relay_ntemp(&r), 0);
	/* Everything succeeded: a retry has nothing to ask. */
	st = trigger(&r, RELAY_T_RETRY, ONLINE);
	assert_int_equal(st.note, RELAY_N_NOTHING);
	assert_int_equal(r.done_seq, 4);
	relay_deinit(&r);
}

/*
 * Waiting for a route: the network change, or the retry-min bound, asks
 * what the run was for -- a link-up's run asks every domain, even those
 * that succeeded last time -- and a run by hand is never skipped.
 */
static void
test_noroute_sequence(void **state)
{
	char			*names[2] = { "a.example", "b.example" };
	char			*args[CONF_ETRN_PER_SESSION];
	struct relay		 r;
	struct relay_env	 env;
	struct relay_step	 st;

	(void)state;
	relay_init(&r, names, 2);
	r.doms[0].last.cls = ETRN_R_OK;
	r.doms[1].last.cls = ETRN_R_OK;
	st = trigger(&r, RELAY_T_LINKUP, ONLINE | NOROUTE);
	assert_int_equal(st.action, RELAY_A_ARM);
	assert_string_equal(relay_state_name(r.state), "noroute");
	assert_true(relay_on_network(&r));
	env_of(ONLINE, 1, &env);
	st = relay_decide(&r, &env);
	assert_int_equal(st.action, RELAY_A_OPEN);
	assert_int_equal(relay_take_chunk(&r, args), 2);
	relay_deinit(&r);

	/* The bound: a retry timer in NOROUTE asks as the link-up would. */
	relay_init(&r, names, 2);
	r.doms[0].last.cls = ETRN_R_OK;
	r.doms[1].last.cls = ETRN_R_OK;
	st = trigger(&r, RELAY_T_LINKUP, ONLINE | NOROUTE);
	assert_string_equal(relay_state_name(r.state), "noroute");
	st = trigger(&r, RELAY_T_RETRY, ONLINE);
	assert_int_equal(st.action, RELAY_A_OPEN);
	assert_int_equal(relay_take_chunk(&r, args), 2);
	/* Not reachable yet at connect time: the wake asks the failed one. */
	st = results(&r, "ox", ONLINE);
	assert_string_equal(relay_state_name(r.state), "noroute");
	assert_true(relay_on_network(&r));
	env_of(ONLINE, 1, &env);
	st = relay_decide(&r, &env);
	assert_int_equal(st.action, RELAY_A_OPEN);
	assert_int_equal(relay_take_chunk(&r, args), 1);
	assert_string_equal(args[0], "b.example");
	/* Not waiting: a network change is nothing to it. */
	st = results(&r, "o", ONLINE);
	assert_false(relay_on_network(&r));
	assert_false(r.pending);
	relay_deinit(&r);

	/* By hand while running, then a link-up: the rerun is still tried
	 * when there is no route. */
	relay_init(&r, names, 2);
	st = trigger(&r, RELAY_T_START, ONLINE);
	relay_take_chunk(&r, args);
	st = trigger(&r, RELAY_T_MANUAL, ONLINE);
	st = trigger(&r, RELAY_T_LINKUP, ONLINE);
	st = results(&r, "oo", ONLINE);
	env_of(ONLINE | NOROUTE, 1, &env);
	st = relay_decide(&r, &env);
	assert_int_equal(st.action, RELAY_A_OPEN);
	relay_deinit(&r);
}

/* One domain's result as a session reports it. */
static struct etrn_result
res_of(enum etrn_class cls, int code, const char *text, enum etrn_form form)
{
	struct etrn_result	res;

	memset(&res, 0, sizeof(res));
	res.cls = cls;
	res.fail = cls == ETRN_R_OK || cls == ETRN_R_NONE ? ETRN_F_NONE :
	    ETRN_F_REPLY;
	res.code = code;
	res.etrn_reply = code != 0;
	res.pending = -1;
	res.form = form;
	snprintf(res.text, sizeof(res.text), "%s", text);
	return res;
}

/*
 * The form the server asked for, session after session, by table: what
 * the next session is given (args), what it answers, what the relay
 * keeps (form, class) and whether another session of the run follows.
 */
static void
test_forms(void **state)
{
	static const struct {
		const char	*name;
		enum relay_trigger why;		/* the run's trigger */
		const char	*args[3];	/* the session is given */
		struct { enum etrn_class cls; int code; const char *text;
		    enum etrn_form form; } res[3];
		enum etrn_form	 kept[3];	/* d->form after */
		const char	*last;		/* classes after: o t r n */
		bool		 more;		/* another session follows */
	} frows[] = {
		{ "plain, asked for #, accepted", RELAY_T_LINKUP,
		    { "a.example", "b.example", "@c.example" },
		    { { ETRN_R_OK, 250, "OK", ETRN_FORM_HASH },
		      { ETRN_R_OK, 250, "OK", ETRN_FORM_HASH },
		      { ETRN_R_OK, 250, "OK", ETRN_FORM_WRITTEN } },
		    { ETRN_FORM_HASH, ETRN_FORM_HASH, ETRN_FORM_WRITTEN },
		    "ooo", false },
		{ "the next run starts in #; @ stays as written",
		    RELAY_T_LINKUP,
		    { "#a.example", "#b.example", "@c.example" },
		    { { ETRN_R_OK, 250, "OK", ETRN_FORM_WRITTEN },
		      { ETRN_R_TEMP, 451, "later", ETRN_FORM_WRITTEN },
		      { ETRN_R_OK, 250, "OK", ETRN_FORM_WRITTEN } },
		    { ETRN_FORM_HASH, ETRN_FORM_HASH, ETRN_FORM_WRITTEN },
		    "oto", false },
		{ "the retry asks the failed one, still in #", RELAY_T_RETRY,
		    { "#b.example" },
		    { { ETRN_R_NONE, 0, "", ETRN_FORM_WRITTEN } },
		    { ETRN_FORM_HASH, ETRN_FORM_HASH, ETRN_FORM_WRITTEN },
		    "oto", false },
	};
	char			*names[3] = { "a.example", "b.example",
				    "@c.example" };
	char			*args[CONF_ETRN_PER_SESSION];
	struct etrn_result	 res[3];
	struct relay		 r;
	struct relay_env	 env;
	struct relay_step	 st;
	char			 sent[64], want[64];
	size_t			 i, j, n;

	(void)state;
	relay_init(&r, names, 3);
	for (i = 0; i < sizeof(frows) / sizeof(frows[0]); i++) {
		print_message("%s\n", frows[i].name);
		st = trigger(&r, frows[i].why, ONLINE);
		assert_int_equal(st.action, RELAY_A_OPEN);
		n = relay_take_chunk(&r, args);
		for (j = 0; j < 3 && frows[i].args[j] != NULL; j++)
			assert_string_equal(args[j], frows[i].args[j]);
		assert_int_equal(n, j);
		for (j = 0; j < n; j++)
			res[j] = res_of(frows[i].res[j].cls,
			    frows[i].res[j].code, frows[i].res[j].text,
			    frows[i].res[j].form);
		/* A retry session that asked nothing: not run again. */
		if (frows[i].res[0].cls == ETRN_R_NONE)
			res[0] = res_of(ETRN_R_TEMP, 451, "later",
			    ETRN_FORM_WRITTEN);
		/* What the log names: the argument that went out. */
		for (j = 0; j < n; j++) {
			snprintf(want, sizeof(want), "%s%s",
			    etrn_form_prefix(res[j].form), args[j]);
			assert_string_equal(relay_sent_arg(&r.doms[r.chunk[j]],
			    &res[j], sent, sizeof(sent)), want);
		}
		env_of(ONLINE, 1, &env);
		st = relay_on_results(&r, res, n, &env);
		assert_int_equal(st.action == RELAY_A_OPEN, frows[i].more);
		for (j = 0; j < 3; j++) {
			assert_int_equal(r.doms[j].form, frows[i].kept[j]);
			assert_int_equal(r.doms[j].last.form,
			    frows[i].kept[j]);
			assert_int_equal(r.doms[j].last.cls,
			    cls_of(frows[i].last[j]));
		}
		/* The written domain stays what status and logs name. */
		assert_string_equal(r.doms[0].arg, "a.example");
		if (r.state == RELAY_S_BACKOFF)
			r.state = RELAY_S_IDLE;
	}
	relay_deinit(&r);
}

/*
 * The session's ETRN limit left a domain unasked (ETRN_R_NONE, in the
 * form the server asked for): the next session of the same run asks it,
 * in that form; a session that asked nothing is not followed by another.
 */
static void
test_deferred(void **state)
{
	char			*names[8], buf[8][16];
	char			*args[CONF_ETRN_PER_SESSION];
	struct etrn_result	 res[CONF_ETRN_PER_SESSION];
	struct relay		 r;
	struct relay_env	 env;
	struct relay_step	 st;
	size_t			 i, n;

	(void)state;
	for (i = 0; i < 8; i++) {
		snprintf(buf[i], sizeof(buf[i]), "d%zu.example", i + 1);
		names[i] = buf[i];
	}
	relay_init(&r, names, 8);
	st = trigger(&r, RELAY_T_LINKUP, ONLINE);
	assert_int_equal(relay_take_chunk(&r, args), 7);
	for (i = 0; i < 6; i++)
		res[i] = res_of(ETRN_R_OK, 250, "OK", ETRN_FORM_HASH);
	res[6] = res_of(ETRN_R_NONE, 0, "", ETRN_FORM_HASH);
	env_of(ONLINE, 1, &env);
	st = relay_on_results(&r, res, 7, &env);
	assert_int_equal(st.action, RELAY_A_OPEN);
	assert_int_equal(r.doms[6].last.cls, ETRN_R_NONE);
	assert_int_equal(r.doms[6].last_try, 0);
	n = relay_take_chunk(&r, args);
	assert_int_equal(n, 2);
	assert_string_equal(args[0], "#d7.example");
	assert_string_equal(args[1], "d8.example");
	/* Nothing asked at all (cannot happen): the run ends anyway. */
	res[0] = res_of(ETRN_R_NONE, 0, "", ETRN_FORM_WRITTEN);
	res[1] = res_of(ETRN_R_NONE, 0, "", ETRN_FORM_WRITTEN);
	st = relay_on_results(&r, res, 2, &env);
	assert_int_not_equal(st.action, RELAY_A_OPEN);
	assert_true(st.ended);
	relay_deinit(&r);
}

/*
 * RELAY_SAME_TEMP_MAX identical temporary replies to ETRN in a row are a
 * refusal (Exim's ACL deny is a 458): not retried by the backoff or the
 * interval; a link-up asks again, and one more of the same is refused at
 * once.  Another text, a 421, or a failure before ETRN start the count
 * again.
 */
static void
test_same_temp(void **state)
{
	static const struct {
		int		 code;
		const char	*text;
		bool		 etrn_reply;
		unsigned	 same;		/* d->same_temp after */
		enum etrn_class	 cls;		/* d->last.cls after */
	} trows[] = {
		{ 458, "ETRN not permitted for 192.0.2.1", true, 1,
		    ETRN_R_TEMP },
		{ 458, "ETRN not permitted for 192.0.2.1", true, 2,
		    ETRN_R_TEMP },
		{ 458, "Unable to queue messages", true, 1, ETRN_R_TEMP },
		{ 458, "Unable to queue messages", true, 2, ETRN_R_TEMP },
		{ 421, "4.7.0 Too many bad commands", true, 0, ETRN_R_TEMP },
		{ 458, "Unable to queue messages", true, 1, ETRN_R_TEMP },
		{ 454, "4.7.0 TLS not available", false, 0, ETRN_R_TEMP },
		{ 458, "ETRN not permitted for 192.0.2.1", true, 1,
		    ETRN_R_TEMP },
		{ 458, "ETRN not permitted for 192.0.2.1", true, 2,
		    ETRN_R_TEMP },
		{ 458, "ETRN not permitted for 192.0.2.1", true, 3,
		    ETRN_R_REFUSED },
		{ 458, "ETRN not permitted for 192.0.2.1", true, 4,
		    ETRN_R_REFUSED },
		{ 250, "OK", true, 0, ETRN_R_OK },
	};
	char			*names[1] = { "example.org" };
	char			*args[CONF_ETRN_PER_SESSION];
	struct etrn_result	 res;
	struct relay		 r;
	struct relay_env	 env;
	struct relay_step	 st;
	size_t			 i;
	bool			 refusal;

	(void)state;
	relay_init(&r, names, 1);
	env_of(ONLINE, 1, &env);
	for (i = 0; i < sizeof(trows) / sizeof(trows[0]); i++) {
		/* A link-up every time: refusals are asked again too. */
		st = trigger(&r, RELAY_T_LINKUP, ONLINE);
		assert_int_equal(st.action, RELAY_A_OPEN);
		relay_take_chunk(&r, args);
		res = res_of(trows[i].code / 100 == 2 ? ETRN_R_OK : ETRN_R_TEMP,
		    trows[i].code, trows[i].text, ETRN_FORM_WRITTEN);
		res.etrn_reply = trows[i].etrn_reply;
		refusal = relay_temp_is_refusal(&r.doms[0], &res);
		assert_int_equal(refusal, trows[i].cls == ETRN_R_REFUSED);
		st = relay_on_results(&r, &res, 1, &env);
		print_message("%d %s: %u %s\n", trows[i].code, trows[i].text,
		    r.doms[0].same_temp, etrn_class_name(r.doms[0].last.cls));
		assert_int_equal(r.doms[0].same_temp, trows[i].same);
		assert_int_equal(r.doms[0].last.cls, trows[i].cls);
		assert_int_equal(r.doms[0].last.detail, trows[i].cls ==
		    ETRN_R_REFUSED ? ETRN_D_REPEATED : ETRN_D_NONE);
		if (trows[i].cls == ETRN_R_REFUSED) {
			/* Nothing to retry: no backoff; an interval run
			 * skips it. */
			assert_int_not_equal(st.action, RELAY_A_ARM);
			assert_string_equal(relay_state_name(r.state), "idle");
			st = trigger(&r, RELAY_T_INTERVAL, ONLINE);
			assert_int_not_equal(st.action, RELAY_A_OPEN);
		}
		r.state = RELAY_S_IDLE;
	}
	relay_deinit(&r);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(relay_state_name(RELAY_S_WAITLINK), "waitlink");
	assert_string_equal(relay_state_name((enum relay_state)99), "?");
	assert_string_equal(relay_trigger_name(RELAY_T_LINKUP), "link-up");
	assert_string_equal(relay_trigger_name((enum relay_trigger)99), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_covers_every_state),
		cmocka_unit_test(test_run_sequence),
		cmocka_unit_test(test_noroute_sequence),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_deferred),
		cmocka_unit_test(test_same_temp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
