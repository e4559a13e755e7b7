/* SPDX-License-Identifier: ISC */
/*
 * runlog: what each relay's runs leave behind, for etrnctl history,
 * metrics and status.  A run is recorded in the history (history.h) and
 * the counters (metrics.h) and opens a flush window (flush.h), which its
 * end watches if an ETRN was accepted, or drops.  The window's verdict is
 * recorded for every run it answers, logged once (the journal's entry for
 * it), kept for status, and passed on to the owner's callback.  The
 * mechanism only: sched says when a run begins, answers and ends.
 */
#ifndef ETRND_RUNLOG_H
#define ETRND_RUNLOG_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etrn.h"
#include "flushwatch.h"
#include "relay.h"

/* Runs one flush window answers whose history gets its verdict. */
#define RUNLOG_WINDOW_RUNS	8

struct conf;
struct conf_relay;
struct event_base;
struct flush_window;
struct history;
struct metrics;
struct route_addr;
struct runlog;

/* One relay's runs: embedded in the owner's relay, which names it. */
struct runlog_relay {
	struct runlog		*log;
	const char		*name;		/* the relay's */
	TAILQ_ENTRY(runlog_relay) entry;
	uint64_t		 hist_id;	/* the run's, in the history */
	uint64_t		 run_t0;	/* its start, monotonic ms */
	bool			 run_open;	/* begun, not yet ended */
	bool			 run_accepted;	/* an ETRN of the run was */
	uint64_t		 accepted_seq;	/* the last run that was */
	/*
	 * The flush window: opened at a run's start, watched from its end
	 * if an ETRN was accepted (later runs that are accepted join it
	 * while it lasts), its verdict kept until the next one.
	 */
	struct flush_window	*window;
	bool			 watching;	/* flush_watch()ed */
	uint64_t		 window_seq;	/* the last run it answers */
	uint64_t		 window_ids[RUNLOG_WINDOW_RUNS];
	size_t			 nwindow_ids;	/* ... their history ids */
	struct flushwatch_result flush;		/* the last verdict */
	bool			 has_flush;
	uint64_t		 flush_seq;	/* the last run it answered */
	enum flushwatch_why	 why_said;	/* not observable: said once */
};

/* A window's verdict was recorded and said (from the loop). */
typedef void	(*runlog_verdict_cb)(void *arg);

struct runlog	*runlog_new(struct event_base *, runlog_verdict_cb,
		    void *arg);
/* Every relay's must be deinit'ed first.  NULL is a no-op. */
void		 runlog_free(struct runlog *);
/* What windows opened from now on watch; conf must outlive its use. */
void		 runlog_configure(struct runlog *, const struct conf *);
/* Shutting down: windows open end without a verdict, no new one opens. */
void		 runlog_shutdown(struct runlog *);
/* Is any window open (--once waits for their verdicts)? */
bool		 runlog_busy(const struct runlog *);
const struct history *runlog_history(const struct runlog *);
const struct metrics *runlog_metrics(const struct runlog *);

/* name must stay valid until runlog_relay_deinit(). */
void		 runlog_relay_init(struct runlog *, struct runlog_relay *,
		    const char *name);
/* The relay goes: a run still open ends now, its window without verdict. */
void		 runlog_relay_deinit(struct runlog_relay *);
/*
 * A reload removed or changed the relay: its window goes without a
 * verdict; gone (no relay of that name any more), its counters too.
 */
void		 runlog_relay_retire(struct runlog_relay *, bool gone);

/* A run's first session is about to open. */
void		 runlog_run_begin(struct runlog_relay *, enum relay_trigger);
/* One domain's result in the run (ETRN_R_NONE: not asked, ignored). */
void		 runlog_result(struct runlog_relay *,
		    const struct relay_domain *, const struct etrn_result *);
/*
 * The run (run_seq) ended.  Where its mail comes from, if a window is
 * watched now: the relay's addresses, then cr's delivers-from.
 */
void		 runlog_run_end(struct runlog_relay *, uint64_t run_seq,
		    const struct conf_relay *cr,
		    const struct route_addr *addrs, size_t naddrs);

/* Is a window that answers run target (or a later run) still watched? */
bool		 runlog_awaits(const struct runlog_relay *, uint64_t target);
/*
 * What status shows: the window watched as it goes (into *live), else the
 * last verdict; NULL: none.  *last_run: it answers the relay's last
 * accepted run.
 */
const struct flushwatch_result *runlog_flush_info(const struct runlog_relay *,
		    struct flushwatch_result *live, bool *last_run);

#endif
