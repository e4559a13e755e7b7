/* SPDX-License-Identifier: ISC */
/*
 * runlog: the records of every relay's runs; see runlog.h.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "conf.h"
#include "flush.h"
#include "history.h"
#include "log.h"
#include "metrics.h"
#include "report.h"
#include "route.h"
#include "runlog.h"
#include "util.h"

struct runlog {
	struct flush		*flush;		/* the relays' flush windows */
	struct history		*history;
	struct metrics		*metrics;
	const struct conf	*conf;
	bool			 stopping;
	runlog_verdict_cb	 cb;
	void			*arg;
	TAILQ_HEAD(, runlog_relay) relays;
};

static void	runlog_flush_done(const struct flushwatch_result *, void *);

struct runlog *
runlog_new(struct event_base *base, runlog_verdict_cb cb, void *arg)
{
	struct runlog	*rl;

	rl = xcalloc(1, sizeof(*rl));
	rl->cb = cb;
	rl->arg = arg;
	TAILQ_INIT(&rl->relays);
	rl->flush = flush_new(base);
	rl->history = history_new();
	rl->metrics = metrics_new(wall_s());
	return rl;
}

void
runlog_free(struct runlog *rl)
{
	if (rl == NULL)
		return;
	flush_free(rl->flush);
	history_free(rl->history);
	metrics_free(rl->metrics);
	free(rl);
}

void
runlog_configure(struct runlog *rl, const struct conf *conf)
{
	struct flushwatch_conf	 fc;

	rl->conf = conf;
	memset(&fc, 0, sizeof(fc));
	fc.window_ms = conf->flush_window_ms;
	fc.quiet_ms = conf->flush_quiet_ms;
	fc.poll_ms = FLUSHWATCH_POLL_MS;
	flush_configure(rl->flush, conf->local_smtp_host,
	    conf->local_smtp_port, &fc);
}

void
runlog_shutdown(struct runlog *rl)
{
	struct runlog_relay	*rr;

	rl->stopping = true;
	/* No verdict: nobody would hear it. */
	TAILQ_FOREACH(rr, &rl->relays, entry) {
		flush_cancel(rr->window);
		rr->window = NULL;
	}
}

bool
runlog_busy(const struct runlog *rl)
{
	return flush_busy(rl->flush);
}

const struct history *
runlog_history(const struct runlog *rl)
{
	return rl->history;
}

const struct metrics *
runlog_metrics(const struct runlog *rl)
{
	return rl->metrics;
}

void
runlog_relay_init(struct runlog *rl, struct runlog_relay *rr,
    const char *name)
{
	memset(rr, 0, sizeof(*rr));
	rr->log = rl;
	rr->name = name;
	TAILQ_INSERT_TAIL(&rl->relays, rr, entry);
}

void
runlog_relay_deinit(struct runlog_relay *rr)
{
	struct runlog	*rl = rr->log;

	/* Removed between two sessions of a run, or after its session. */
	if (rr->run_open)
		history_end(rl->history, rr->hist_id, wall_s());
	flush_cancel(rr->window);
	rr->window = NULL;
	TAILQ_REMOVE(&rl->relays, rr, entry);
}

void
runlog_relay_retire(struct runlog_relay *rr, bool gone)
{
	flush_cancel(rr->window);
	rr->window = NULL;
	/* A relay gone: its series end; changed: its counts go on. */
	if (gone)
		metrics_forget(rr->log->metrics, rr->name);
}

/*
 * The run goes into the history and the counters, and a flush window
 * opens unless one is still watching (a run accepted again joins it): a
 * flush can begin before the session ends, so the connections there now
 * are the baseline.
 */
void
runlog_run_begin(struct runlog_relay *rr, enum relay_trigger why)
{
	struct runlog	*rl = rr->log;

	rr->hist_id = history_begin(rl->history, rr->name, why, wall_s());
	metrics_on_run(rl->metrics, rr->name, why);
	rr->run_t0 = now_ms();
	rr->run_open = true;
	rr->run_accepted = false;
	if (rr->window != NULL || rl->conf->flush_window_ms == 0 ||
	    rl->stopping)
		return;
	rr->window = flush_begin(rl->flush, wall_s(), runlog_flush_done, rr);
	rr->watching = false;
	rr->nwindow_ids = 0;
}

void
runlog_result(struct runlog_relay *rr, const struct relay_domain *d,
    const struct etrn_result *res)
{
	char		 buf[ETRN_CMD_MAX];
	const char	*sent;

	if (res->cls == ETRN_R_NONE)
		return;
	if (res->cls == ETRN_R_OK)
		rr->run_accepted = true;
	sent = relay_sent_arg(d, res, buf, sizeof(buf));
	history_result(rr->log->history, rr->hist_id, d->arg,
	    strcmp(sent, d->arg) != 0 ? sent : NULL, res);
	metrics_on_result(rr->log->metrics, rr->name, res->cls);
}

/* Where the relay's mail comes from: its addresses, and delivers-from. */
static size_t
runlog_flush_from(const struct conf_relay *cr, const struct route_addr *addrs,
    size_t naddrs, struct flushwatch_net *from)
{
	size_t	 i, n = 0;

	for (i = 0; i < naddrs && n < FLUSHWATCH_FROM_MAX; i++) {
		from[n].addr = addrs[i];
		from[n].plen = from[n].addr.family == AF_INET ? 32 : 128;
		n++;
	}
	for (i = 0; i < cr->ndelivers_from && n < FLUSHWATCH_FROM_MAX; i++)
		from[n++] = cr->delivers_from[i];
	return n;
}

/*
 * Accepted: the run's window is watched (or the one it joined answers it
 * too); not: the window it opened goes.
 */
void
runlog_run_end(struct runlog_relay *rr, uint64_t run_seq,
    const struct conf_relay *cr, const struct route_addr *addrs,
    size_t naddrs)
{
	struct runlog		*rl = rr->log;
	struct flushwatch_net	 from[FLUSHWATCH_FROM_MAX];
	struct flushwatch_result res;
	size_t			 n;

	history_end(rl->history, rr->hist_id, wall_s());
	rr->run_open = false;
	if (rr->run_accepted)
		rr->accepted_seq = run_seq;
	if (rr->window == NULL)
		return;
	if (!rr->watching && (!rr->run_accepted || rl->stopping)) {
		flush_cancel(rr->window);
		rr->window = NULL;
		return;
	}
	if (!rr->run_accepted)
		return;
	if (rr->watching)
		/* A run that joins gets a whole window too (within bounds). */
		flush_extend(rr->window, rr->run_t0);
	else {
		n = runlog_flush_from(cr, addrs, naddrs, from);
		flush_watch(rr->window, from, n);
		rr->watching = true;
		log_debug("relay %s: flush: watching port %u for connections "
		    "from %zu address%s", rr->name, rl->conf->local_smtp_port ?
		    rl->conf->local_smtp_port : 25, n, n == 1 ? "" : "es");
	}
	rr->window_seq = run_seq;
	if (rr->nwindow_ids < RUNLOG_WINDOW_RUNS)
		rr->window_ids[rr->nwindow_ids++] = rr->hist_id;
	flush_peek(rr->window, &res);
	history_flush(rl->history, rr->hist_id, &res);
}

/* Say what a window found, once: the journal's entry for it. */
static void
runlog_log_flush(struct runlog_relay *rr, const struct flushwatch_result *res)
{
	struct log_fields	 f = { .relay = rr->name };
	char			 sum[REPORT_FLUSH_LEN], hbuf[REPORT_FLUSH_LEN];
	const char		*hint;

	report_flush_summary(sum, sizeof(sum), res);
	switch (res->verdict) {
	case FLUSHWATCH_DELIVERED:
		rr->why_said = FLUSHWATCH_WHY_NONE;
		log_event(LOG_INFO, LOG_EV_FLUSH_DELIVERED, &f,
		    "relay %s: flush: %s", rr->name, sum);
		break;
	case FLUSHWATCH_NOTHING:
		rr->why_said = FLUSHWATCH_WHY_NONE;
		hint = report_flush_hint(hbuf, sizeof(hbuf), res);
		log_event(LOG_WARNING, LOG_EV_FLUSH_NOTHING, &f,
		    "relay %s: flush: %s after ETRN was accepted%s%s", rr->name,
		    sum, hint != NULL ? "; " : "", hint != NULL ? hint : "");
		break;
	case FLUSHWATCH_NOT_OBSERVABLE:
		/* Where it never can be, saying so at every run is noise;
		 * the kernel failing to answer is news, each time it starts. */
		if (res->why == FLUSHWATCH_WHY_KERNEL &&
		    rr->why_said != res->why)
			log_warnx("relay %s: flush: %s", rr->name, sum);
		else if (rr->why_said == res->why)
			log_debug("relay %s: flush: %s", rr->name, sum);
		else
			log_info("relay %s: flush: %s (see FLUSH OBSERVATION "
			    "in etrnd.conf(5))", rr->name, sum);
		rr->why_said = res->why;
		break;
	case FLUSHWATCH_WATCHING:
		break;
	}
}

/* The window's verdict, from the loop: kept, recorded, said, passed on. */
static void
runlog_flush_done(const struct flushwatch_result *res, void *arg)
{
	struct runlog_relay	*rr = arg;
	struct runlog		*rl = rr->log;
	size_t			 i;

	rr->window = NULL;
	rr->watching = false;
	rr->flush = *res;
	rr->has_flush = true;
	rr->flush_seq = rr->window_seq;
	for (i = 0; i < rr->nwindow_ids; i++)
		history_flush(rl->history, rr->window_ids[i], res);
	rr->nwindow_ids = 0;
	metrics_on_flush(rl->metrics, rr->name, res);
	runlog_log_flush(rr, res);
	if (rl->cb != NULL)
		rl->cb(rl->arg);
}

bool
runlog_awaits(const struct runlog_relay *rr, uint64_t target)
{
	return rr->window != NULL && rr->watching && rr->window_seq >= target;
}

const struct flushwatch_result *
runlog_flush_info(const struct runlog_relay *rr,
    struct flushwatch_result *live, bool *last_run)
{
	*last_run = false;
	/* A window watched is shown as it goes; else the last. */
	if (rr->window != NULL && rr->watching) {
		flush_peek(rr->window, live);
		*last_run = rr->window_seq == rr->accepted_seq;
		return live;
	}
	if (rr->has_flush) {
		*last_run = rr->flush_seq == rr->accepted_seq;
		return &rr->flush;
	}
	return NULL;
}
