/* SPDX-License-Identifier: ISC */
/*
 * relay: one relay's run policy, pure.  It decides which domains a run
 * asks, coalesces triggers, splits a run into sessions of at most
 * CONF_ETRN_PER_SESSION domains, backs off, gives up and pauses while no
 * watched link is up.  No libevent, no logging, no clock: the caller
 * passes the time and the randomness in, and turns each answer into
 * timers and sessions (sched.c).
 *
 * States:
 *   IDLE     nothing to do
 *   QUEUED   a run is due, waiting for a session slot (max-sessions)
 *   RUNNING  a session is open; domains beyond 7 use further sessions
 *   BACKOFF  some domains failed temporarily; the retry timer is armed
 *   WAITLINK like BACKOFF, but the retry waits for a watched link
 *   NOROUTE  not reachable yet (no route, no usable source address): not a
 *            failure; the next network change runs it, retry-min at most
 *   FAILED   failing for longer than give-up; waits for the next trigger
 *
 * A trigger only records that a run is due (relay_want); relay_decide
 * acts on it when the caller lets runs start.  A trigger during a run is
 * kept and acted on when the run ends: never two runs at once.
 */
#ifndef ETRND_RELAY_H
#define ETRND_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "etrn.h"

enum relay_state {
	RELAY_S_IDLE,
	RELAY_S_QUEUED,
	RELAY_S_RUNNING,
	RELAY_S_BACKOFF,
	RELAY_S_WAITLINK,
	RELAY_S_NOROUTE,
	RELAY_S_FAILED,
};
#define RELAY_NSTATES	(RELAY_S_FAILED + 1)

/* Ordered by strength: coalesced triggers keep the strongest. */
enum relay_trigger {
	RELAY_T_START,		/* run-at-start */
	RELAY_T_LINKUP,		/* a watched link came up */
	RELAY_T_MANUAL,		/* SIGUSR1, etrnctl run, --once */
	RELAY_T_RELOAD,		/* the relay was added or changed */
	RELAY_T_INTERVAL,	/* the interval timer */
	RELAY_T_RETRY,		/* the backoff timer */
};

/* What the caller does next. */
enum relay_action {
	RELAY_A_NONE,		/* nothing now */
	RELAY_A_OPEN,		/* a session for relay_take_chunk()'s domains,
				 * now or once a slot is free */
	RELAY_A_ARM,		/* the retry timer, in step.delay ms */
};

/* What the caller should tell people about a step. */
enum relay_note {
	RELAY_N_NONE,
	RELAY_N_NOTHING,	/* every domain succeeded or was refused */
	RELAY_N_BACKOFF,	/* some failed; retrying in step.delay ms */
	RELAY_N_WAITLINK,	/* some failed; retrying when a link is up */
	RELAY_N_NOROUTE,	/* not reachable yet; at the next network
				 * change, or in step.delay ms at most */
	RELAY_N_GAVE_UP,	/* failing for longer than give-up */
};

struct relay_step {
	enum relay_action	 action;
	uint64_t		 delay;		/* RELAY_A_ARM, ms */
	enum relay_note		 note;
	bool			 ended;		/* a run ended: done_seq moved */
	uint64_t		 target;	/* the run that answers this
						 * trigger (run_seq), 0: none */
};

/* The caller's world at a decision. */
struct relay_env {
	uint64_t	 now;		/* monotonic ms */
	int64_t		 wall;		/* wall seconds, for what people see */
	uint32_t	 random;	/* uniform, for the backoff jitter */
	bool		 online;	/* a watched link is up */
	bool		 once;		/* --once: no retries */
	bool		 stopping;	/* shutting down: start nothing */
	bool		 held;		/* runs may not start yet (local-smtp) */
	bool		 noroute;	/* the kernel has no usable route to the
					 * relay now (known only for addresses) */
	uint64_t	 retry_min_ms;
	uint64_t	 retry_max_ms;
	uint64_t	 give_up_ms;
};

/*
 * The same temporary reply to ETRN this many times in a row is a refusal
 * in a temporary code (Exim's ETRN ACL deny is a 458): ETRN_R_REFUSED,
 * ETRN_D_REPEATED, asked again at the next link-up or configuration change.
 */
#define RELAY_SAME_TEMP_MAX	3

struct relay_domain {
	char			*arg;		/* as written */
	char			*sent;		/* the form the server asked
						 * for ("#example.org"), sent
						 * instead of arg; NULL: arg */
	enum etrn_form		 form;		/* ... and which it is */
	unsigned		 same_temp;	/* last was this many identical
						 * temporary replies to ETRN */
	struct etrn_result	 last;		/* cls NONE: never asked */
	bool			 todo;		/* due in this run */
	int64_t			 last_ok;	/* wall seconds, 0 = never */
	int64_t			 last_try;	/* wall seconds, 0 = never */
};

struct relay {
	enum relay_state	 state;
	struct relay_domain	*doms;
	size_t			 ndoms;
	size_t			 chunk[CONF_ETRN_PER_SESSION];
	size_t			 nchunk;	/* domains in the session */
	unsigned		 failures;	/* consecutive failed runs */
	uint64_t		 fail_since;	/* monotonic ms, 0 = ok */
	uint64_t		 retry_at;	/* monotonic ms, in BACKOFF */
	bool			 pending;	/* a run is due */
	enum relay_trigger	 pending_why;	/* the strongest trigger */
	bool			 manual;	/* ... and one was by hand */
	enum relay_trigger	 wake_why;	/* NOROUTE: what to ask then */
	uint64_t		 run_seq;	/* runs started */
	enum relay_trigger	 run_why;	/* what started the last */
	uint64_t		 done_seq;	/* runs finished */
};

const char	*relay_state_name(enum relay_state);
const char	*relay_trigger_name(enum relay_trigger);

void		 relay_init(struct relay *, char * const *domains, size_t n);
void		 relay_deinit(struct relay *);

/* A run is due; a weaker trigger never replaces a stronger one. */
void		 relay_want(struct relay *, enum relay_trigger);
/* Act on a due run: start one, add to the queued one, or keep it for
 * the end of the running one. */
struct relay_step relay_decide(struct relay *, const struct relay_env *);
/* The next session's domains: into args (CONF_ETRN_PER_SESSION), their
 * count returned, each in the form the server asked for if it did; the
 * relay is RUNNING. */
size_t		 relay_take_chunk(struct relay *, char **args);
/* No slot free: the relay waits in line (QUEUED). */
void		 relay_queue(struct relay *);
/* The session ended with one result per domain of the chunk (fewer on
 * shutdown): the next chunk, or the end of the run.  A form the server
 * asked for is kept for the relay's life (a changed configuration is a new
 * relay); a domain left ETRN_R_NONE (the session's ETRN limit) goes into
 * the next session; the RELAY_SAME_TEMP_MAX-th identical temporary reply
 * becomes a refusal. */
struct relay_step relay_on_results(struct relay *,
		    const struct etrn_result *, size_t,
		    const struct relay_env *);
/* A route, address or link changed: a relay waiting for a route is due
 * again, for what it was waiting to ask.  True if it was waiting. */
bool		 relay_on_network(struct relay *);
/* No watched link is up: a BACKOFF relay waits for one.  True if it did
 * (its timer is moot). */
bool		 relay_on_offline(struct relay *);
/* Shutting down: nothing is due, a queued run is dropped. */
void		 relay_stop(struct relay *);

/* Is res, the next result of d, the RELAY_SAME_TEMP_MAX-th identical
 * temporary reply to ETRN in a row (to be taken as a refusal)? */
bool		 relay_temp_is_refusal(const struct relay_domain *d,
		    const struct etrn_result *res);

/* The argument that went out for d with result res ("#example.org" when
 * the server asked for that form); buf holds it when needed. */
const char	*relay_sent_arg(const struct relay_domain *d,
		    const struct etrn_result *res, char *buf, size_t len);

/* The retry timer stands (BACKOFF, NOROUTE): retry_at holds. */
bool		 relay_timer_armed(const struct relay *);
/* Domains that failed temporarily in their last attempt. */
size_t		 relay_ntemp(const struct relay *);

#endif
