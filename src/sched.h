/* SPDX-License-Identifier: ISC */
/*
 * sched: carries out each relay's policy (relay.h): owns the relays, their
 * retry timers and sessions, the session slots (max-sessions), the settle
 * and interval timers, the local-smtp gate, reload and shutdown, and the
 * callers of sched_run() waiting for results.  Triggers coalesce: never
 * two sessions to one relay.  The relay states are relay.h's; what the
 * runs leave behind (history, counters, flush windows) is runlog.h's.
 */
#ifndef ETRND_SCHED_H
#define ETRND_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "conf.h"
#include "etrn.h"
#include "flushwatch.h"
#include "relay.h"

struct event_base;
struct evdns_base;
struct history;
struct metrics;
struct sched;

struct sched_hooks {
	void	(*before_session)(void *arg); /* a session is about to open */
	void	(*changed)(void *arg);	/* something a status shows changed */
	void	(*idle)(void *arg);	/* --once or shutdown: all done */
	/* Whether the watch list covers an interface (for status). */
	bool	(*watched)(const char *ifname, void *arg);
	void	 *arg;
};

/*
 * once: no retries, no timers; idle fires when every relay is done.
 * helo: the name to greet with (conf's helo or the host's FQDN).
 */
struct sched	*sched_new(struct event_base *, struct evdns_base *,
		    const struct conf *, const char *helo, bool once,
		    const struct sched_hooks *);
void		 sched_free(struct sched *);

/* Swap in a new, valid configuration (owned by the caller, who then frees
 * the old one).  Relays with an unchanged definition keep their state. */
void		 sched_reconfigure(struct sched *, const struct conf *,
		    const char *helo);

/* Link state, from the link monitor. */
void		 sched_set_online(struct sched *, bool online);
/* A watched link came up or got a new address: run after settle. */
void		 sched_on_link_up(struct sched *);
void		 sched_trigger_all(struct sched *, enum relay_trigger);
/* A route, address or link changed: sessions whose path went away end at
 * once, and relays that were not reachable yet ask again, at once. */
void		 sched_on_network_change(struct sched *);

/*
 * Run the named relays (all when n is 0) as SIGUSR1 would, through the
 * local-smtp wait.  With cb, call it with SCHED_RUN_DONE once every one
 * of them has finished a run that started after this call (also on
 * shutdown or removal by a reload); with SCHED_RUN_FLUSH in flags, call
 * it again with SCHED_RUN_FLUSHED once every flush window those runs
 * opened has its verdict (at once when they opened none).  *waiter can
 * cancel that, and is set to NULL when the waiter goes (before the last
 * call of cb, and on cancel), so *waiter must stay valid while the waiter
 * lives.  -1: ENOENT (*unknown names the relay) or ESHUTDOWN.
 */
#define SCHED_RUN_FLUSH		0x01
enum sched_run_phase {
	SCHED_RUN_DONE,		/* the runs are over: results are in */
	SCHED_RUN_FLUSHED,	/* ... and their windows have verdicts */
};
struct sched_waiter;
typedef void	(*sched_run_cb)(enum sched_run_phase, void *arg);
int		 sched_run(struct sched *, char * const *names, size_t n,
		    unsigned flags, sched_run_cb cb, void *arg,
		    struct sched_waiter **waiter, const char **unknown);
/* Is name a configured relay's? */
bool		 sched_has_relay(const struct sched *, const char *name);
/* Drop a waiter without calling it back.  NULL is a no-op. */
void		 sched_waiter_cancel(struct sched_waiter *);

/* QUIT open sessions; idle fires once none is left. */
void		 sched_shutdown(struct sched *);
bool		 sched_busy(const struct sched *);

/* What status shows of one relay; valid during the callback only. */
struct sched_domain_info {
	const char			*domain;
	const struct etrn_result	*last;		/* cls NONE: never asked */
	int64_t				 last_ok;	/* wall seconds, 0 never */
	int64_t				 last_try;	/* wall seconds, 0 never */
};

struct sched_relay_info {
	const char			*name;
	const char			*host;
	uint16_t			 port;
	enum relay_state		 state;
	unsigned			 failures;	/* consecutive runs */
	int64_t				 last_success;	/* wall seconds, 0 */
	int64_t				 next_retry;	/* wall seconds, 0 */
	/* How the kernel would reach it now: "via ppp0", "local", "no
	 * route", "blackhole"..., "link down"; NULL when not known (a name
	 * not resolved yet). */
	const char			*route;
	const struct sched_domain_info	*domains;
	size_t				 ndomains;
	/* The last window after an accepted ETRN (watching, or its
	 * verdict); NULL: none since start or since the relay changed. */
	const struct flushwatch_result	*flush;
	bool				 flush_last_run; /* answers the
							  * relay's last
							  * accepted run */
};

/* The runs and counters sched records, for etrnctl history and metrics. */
const struct history	*sched_history(const struct sched *);
const struct metrics	*sched_metrics(const struct sched *);

typedef void	(*sched_relay_fn)(const struct sched_relay_info *, void *arg);
void		 sched_foreach(const struct sched *, sched_relay_fn, void *arg);

#endif
