/* SPDX-License-Identifier: ISC */
/*
 * sched: triggers, coalescing, backoff and the session cap; see sched.h.
 * A relay's domains carry their last result, which is the one source of
 * truth for what a retry asks again and for what status shows.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <event2/event.h>
#include <event2/util.h>

#include "backoff.h"
#include "etrn.h"
#include "log.h"
#include "probe.h"
#include "sched.h"
#include "session.h"
#include "util.h"

enum relay_state {
	RELAY_IDLE,
	RELAY_QUEUED,
	RELAY_RUNNING,
	RELAY_BACKOFF,
	RELAY_WAITLINK,
	RELAY_FAILED,
};

static const char *relay_state_names[] = {
	[RELAY_IDLE] = "idle",
	[RELAY_QUEUED] = "queued",
	[RELAY_RUNNING] = "running",
	[RELAY_BACKOFF] = "backoff",
	[RELAY_WAITLINK] = "waitlink",
	[RELAY_FAILED] = "failed",
};

struct domain {
	char			*arg;
	struct etrn_result	 last;		/* cls NONE: never asked */
	bool			 todo;		/* due in this run */
	int64_t			 last_ok;	/* wall clock, 0 = never */
	int64_t			 last_try;	/* wall clock, 0 = never */
};

struct relay {
	struct sched		*sched;
	const struct conf_relay	*conf;		/* NULL once removed */
	char			*name;
	enum relay_state	 state;
	struct domain		*doms;
	size_t			 ndoms;
	size_t			 chunk[CONF_ETRN_PER_SESSION];
	size_t			 nchunk;	/* domains in the session */
	struct session		*session;
	struct event		*retry_ev;
	unsigned		 failures;	/* consecutive failed runs */
	uint64_t		 fail_since;	/* monotonic ms, 0 = ok */
	uint64_t		 retry_at;	/* monotonic ms */
	bool			 rerun;
	enum sched_reason	 rerun_reason;
	bool			 wanted;	/* due once local-smtp listens */
	enum sched_reason	 want_reason;
	uint64_t		 run_seq;	/* runs started, incl. rerun */
	uint64_t		 done_seq;	/* runs finished */
	bool			 warned_no_etrn;
	TAILQ_ENTRY(relay)	 entry;		/* relays or dying */
	TAILQ_ENTRY(relay)	 qentry;	/* queue */
};

TAILQ_HEAD(relay_list, relay);

/* A client of sched_run() waiting for runs that started after it asked. */
struct sched_waiter {
	struct sched		*sc;
	TAILQ_ENTRY(sched_waiter) entry;
	struct {
		struct relay	*relay;		/* NULL: removed, or done */
		uint64_t	 target;	/* run_seq to finish; 0 = not yet */
	}			*w;
	size_t			 n;
	sched_run_cb		 cb;
	void			*arg;
	struct sched_waiter	**ref;		/* the owner's pointer to us */
};

struct sched {
	struct event_base	*base;
	struct evdns_base	*dns;
	const struct conf	*conf;
	char			*helo;
	bool			 once;
	bool			 online;
	bool			 shutting_down;
	struct sched_hooks	 hooks;
	struct relay_list	 relays;
	struct relay_list	 dying;		/* removed, session in flight */
	struct relay_list	 queue;		/* waiting for a session slot */
	unsigned		 nsessions;
	struct event		*settle_ev;
	struct event		*interval_ev;

	/* local-smtp: wait until the site's MTA listens, then run. */
	struct probe		*probe;

	TAILQ_HEAD(, sched_waiter) waiters;
};

static void	relay_trigger(struct relay *, enum sched_reason);
static void	relay_want(struct relay *, enum sched_reason);
static void	sched_pump(struct sched *);
static void	sched_kick(struct sched *);

static void
sched_changed(struct sched *sc)
{
	if (sc->hooks.changed != NULL)
		sc->hooks.changed(sc->hooks.arg);
}

static void
sched_check_idle(struct sched *sc)
{
	if ((sc->once || sc->shutting_down) && !sched_busy(sc) &&
	    sc->hooks.idle != NULL)
		sc->hooks.idle(sc->hooks.arg);
}

static void
relay_set_state(struct relay *r, enum relay_state state)
{
	if (r->state != state)
		log_debug("relay %s: %s -> %s", r->name,
		    relay_state_names[r->state], relay_state_names[state]);
	r->state = state;
	sched_changed(r->sched);
}

static const char *
relay_verb(const struct relay *r)
{
	return r->conf != NULL && r->conf->command == CONF_CMD_QSND ?
	    "QSND" : "ETRN";
}

static bool
domain_is_permanent(const struct domain *d)
{
	return d->last.cls == ETRN_R_REFUSED ||
	    d->last.cls == ETRN_R_UNSUPPORTED;
}

/* Reply text on one line, for logs and status. */
static const char *
flat(const char *text, char *buf, size_t len)
{
	size_t	i;

	for (i = 0; text[i] != '\0' && i + 1 < len; i++)
		buf[i] = text[i] == '\n' ? ' ' : text[i];
	buf[i] = '\0';
	return buf;
}

static void
relay_retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	relay_trigger(arg, SCHED_RETRY);
}

static struct relay *
relay_new(struct sched *sc, const struct conf_relay *cr)
{
	struct relay	*r;
	size_t		 i;

	r = xcalloc(1, sizeof(*r));
	r->sched = sc;
	r->conf = cr;
	r->name = xstrdup(cr->name);
	r->ndoms = cr->ndomains;
	r->doms = xcalloc(cr->ndomains, sizeof(*r->doms));
	for (i = 0; i < cr->ndomains; i++) {
		r->doms[i].arg = xstrdup(cr->domains[i]);
		r->doms[i].last.pending = -1;
	}
	if ((r->retry_ev = evtimer_new(sc->base, relay_retry_cb, r)) == NULL)
		fatalx("evtimer_new");
	return r;
}

static void
relay_free(struct relay *r)
{
	size_t	i;

	if (r == NULL)
		return;
	session_free(r->session);
	event_free(r->retry_ev);
	for (i = 0; i < r->ndoms; i++)
		free(r->doms[i].arg);
	free(r->doms);
	free(r->name);
	free(r);
}

/*
 * Mark what this run asks; false if there is nothing to ask.  add: keep
 * what is already marked (a weaker reason never drops a domain).
 */
static bool
relay_mark(struct relay *r, enum sched_reason reason, bool add)
{
	bool	any = false;
	size_t	i;

	for (i = 0; i < r->ndoms; i++) {
		struct domain *d = &r->doms[i];
		bool was = add && d->todo;

		switch (reason) {
		case SCHED_RETRY:
			d->todo = d->last.cls == ETRN_R_TEMP ||
			    d->last.cls == ETRN_R_NONE;
			break;
		case SCHED_INTERVAL:
			/* Refusals wait for a link-up or a config change. */
			d->todo = !domain_is_permanent(d);
			break;
		default:
			d->todo = true;
			break;
		}
		d->todo |= was;
		any |= d->todo;
	}
	return any;
}

/* Open one session for up to CONF_ETRN_PER_SESSION due domains. */
static void	sched_on_session_done(struct session *,
		    const struct etrn_result *, size_t, const struct etrn *,
		    void *);

static void
relay_open(struct relay *r)
{
	struct sched		*sc = r->sched;
	struct session_params	 p;
	char			*args[CONF_ETRN_PER_SESSION];
	size_t			 i;

	r->nchunk = 0;
	for (i = 0; i < r->ndoms && r->nchunk < nitems(r->chunk); i++) {
		if (!r->doms[i].todo)
			continue;
		r->doms[i].todo = false;
		args[r->nchunk] = r->doms[i].arg;
		r->chunk[r->nchunk++] = i;
	}
	session_params_init(&p, sc->conf, r->conf, sc->helo);
	p.relay = r->name;
	p.domains = args;
	p.ndomains = r->nchunk;
	if ((r->session = session_new(sc->base, sc->dns, &p,
	    sched_on_session_done, r)) == NULL)
		fatal("session_new");
	sc->nsessions++;
	relay_set_state(r, RELAY_RUNNING);
}

/* A relay removed by a reload still finishes a session under this name. */
static bool
relay_blocked(const struct relay *r)
{
	const struct relay	*old;

	TAILQ_FOREACH(old, &r->sched->dying, entry)
		if (strcmp(old->name, r->name) == 0)
			return true;
	return false;
}

/* Start now, or wait in line: for a slot, behind those already waiting. */
static void
relay_start(struct relay *r)
{
	struct sched	*sc = r->sched;

	if (sc->nsessions >= sc->conf->max_sessions ||
	    !TAILQ_EMPTY(&sc->queue) || relay_blocked(r)) {
		if (r->state != RELAY_QUEUED) {
			TAILQ_INSERT_TAIL(&sc->queue, r, qentry);
			relay_set_state(r, RELAY_QUEUED);
		}
		/* Those waiting only for a removed relay must not hold us. */
		sched_pump(sc);
		return;
	}
	relay_open(r);
}

/* Reasons that mean "the situation changed": forget refusals and backoff. */
static bool
reason_is_fresh(enum sched_reason reason)
{
	return reason != SCHED_RETRY && reason != SCHED_INTERVAL;
}

/* Waiters for r that were still waiting for a run to start get this one. */
static void
relay_assign_waiters(struct relay *r, uint64_t target)
{
	struct sched_waiter	*w;
	size_t			 i;

	TAILQ_FOREACH(w, &r->sched->waiters, entry)
		for (i = 0; i < w->n; i++)
			if (w->w[i].relay == r && w->w[i].target == 0)
				w->w[i].target = target;
}

/* Call back the waiters whose runs have all finished. */
static void
sched_check_waiters(struct sched *sc)
{
	struct sched_waiter	*w, *next;
	sched_run_cb		 cb;
	void			*arg;
	size_t			 i;

	for (w = TAILQ_FIRST(&sc->waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		for (i = 0; i < w->n; i++) {
			struct relay *r = w->w[i].relay;

			if (r != NULL && (w->w[i].target == 0 ||
			    r->done_seq < w->w[i].target))
				break;
		}
		if (i < w->n)
			continue;
		/*
		 * Gone before the call, and the owner's pointer with it: a
		 * callback that cancels its own waiter cancels NULL.
		 */
		cb = w->cb;
		arg = w->arg;
		sched_waiter_cancel(w);
		cb(arg);
		/* The callback may have cancelled others: start over. */
		next = TAILQ_FIRST(&sc->waiters);
	}
}

/* A relay is going away: nobody can wait for it any more. */
static void
relay_forget_waiters(struct relay *r)
{
	struct sched_waiter	*w;
	size_t			 i;

	TAILQ_FOREACH(w, &r->sched->waiters, entry)
		for (i = 0; i < w->n; i++)
			if (w->w[i].relay == r)
				w->w[i].relay = NULL;
}

static void
relay_trigger(struct relay *r, enum sched_reason reason)
{
	struct sched	*sc = r->sched;

	if (sc->shutting_down || r->conf == NULL)
		return;
	if (r->state == RELAY_RUNNING) {
		/* Coalesce: one more run when this one ends. */
		if (!r->rerun || reason < r->rerun_reason)
			r->rerun_reason = reason;
		r->rerun = true;
		relay_assign_waiters(r, r->run_seq + 1);
		return;
	}
	if (reason_is_fresh(reason)) {
		r->failures = 0;
		r->fail_since = 0;
	}
	if (r->state == RELAY_QUEUED) {
		relay_mark(r, reason, true);
		relay_assign_waiters(r, r->run_seq);
		return;
	}
	evtimer_del(r->retry_ev);
	if (reason == SCHED_RETRY && !sc->online && !sc->once) {
		relay_set_state(r, RELAY_WAITLINK);
		return;
	}
	r->run_seq++;
	relay_assign_waiters(r, r->run_seq);
	if (!relay_mark(r, reason, false)) {
		log_debug("relay %s: nothing to ask (every domain succeeded "
		    "or was refused)", r->name);
		r->done_seq = r->run_seq;
		relay_set_state(r, RELAY_IDLE);
		sched_check_waiters(sc);
		return;
	}
	relay_start(r);
}

/* Log one domain's result: warnings once per change, then debug. */
static void
relay_log_result(struct relay *r, const struct domain *d,
    const struct etrn_result *res)
{
	struct log_fields	 f = { r->name, d->arg, res->code, NULL };
	char			 text[ETRN_TEXT_MAX], count[48] = "";
	const char		*hint;

	flat(res->text, text, sizeof(text));
	switch (res->cls) {
	case ETRN_R_OK:
		if (res->pending >= 0)
			snprintf(count, sizeof(count), " (%ld pending)",
			    res->pending);
		log_event(LOG_INFO, LOG_EV_ETRN_ACCEPTED, &f,
		    "relay %s: %s %s: %d %s%s", r->name, relay_verb(r),
		    d->arg, res->code, text, count);
		break;
	case ETRN_R_TEMP:
		if (d->last.cls == ETRN_R_TEMP && d->last.code == res->code)
			log_debug("relay %s: %s %s: still failing: %s",
			    r->name, relay_verb(r), d->arg, text);
		else if (res->code != 0)
			log_warnx("relay %s: %s %s: temporary failure: %d %s",
			    r->name, relay_verb(r), d->arg, res->code, text);
		else
			log_event(LOG_WARNING, LOG_EV_RELAY_UNREACHABLE, &f,
			    "relay %s: %s %s: temporary failure: %s",
			    r->name, relay_verb(r), d->arg, text);
		break;
	case ETRN_R_REFUSED:
	case ETRN_R_UNSUPPORTED:
		hint = etrn_hint(res);
		log_event(LOG_ERR, LOG_EV_ETRN_REFUSED, &f,
		    "relay %s: %s %s %s: %d %s%s%s%s; not asking again "
		    "until the next link-up or configuration change", r->name,
		    relay_verb(r), d->arg, res->cls == ETRN_R_REFUSED ?
		    "refused" : "not supported", res->code, text,
		    hint != NULL ? " (" : "", hint != NULL ? hint : "",
		    hint != NULL ? ")" : "");
		break;
	case ETRN_R_NONE:
		break;
	}
}

/*
 * The backoff line.  From the second failed run on, the per-domain lines
 * are debug only, so this one says which domain and why: "relay isp:
 * busy.example.org still failing (458 ...); asking again for 1 domain in 9s".
 */
static void
relay_log_backoff(const struct relay *r, size_t n, uint64_t delay)
{
	const struct domain	*first = NULL;
	char			 dur[32], text[ETRN_TEXT_MAX], more[32] = "";
	size_t			 i;

	fmt_duration(delay, dur, sizeof(dur));
	for (i = 0; i < r->ndoms && first == NULL; i++)
		if (r->doms[i].last.cls == ETRN_R_TEMP)
			first = &r->doms[i];
	if (r->failures <= 1 || first == NULL) {
		log_info("relay %s: asking again for %zu domain%s in %s",
		    r->name, n, n == 1 ? "" : "s", dur);
		return;
	}
	if (n > 1)
		snprintf(more, sizeof(more), " and %zu more", n - 1);
	flat(first->last.text, text, sizeof(text));
	if (first->last.code != 0)
		log_info("relay %s: %s%s still failing (%d %s); asking again "
		    "for %zu domain%s in %s", r->name, first->arg, more,
		    first->last.code, text, n, n == 1 ? "" : "s", dur);
	else
		log_info("relay %s: %s%s still failing (%s); asking again for "
		    "%zu domain%s in %s", r->name, first->arg, more, text, n,
		    n == 1 ? "" : "s", dur);
}

/* The run is over: success resets the backoff, failure arms it. */
static void
relay_run_done(struct relay *r)
{
	struct sched	*sc = r->sched;
	bool		 temp = false;
	uint64_t	 now = now_ms(), d;
	size_t		 i, n = 0;
	char		 buf[32];

	for (i = 0; i < r->ndoms; i++)
		if (r->doms[i].last.cls == ETRN_R_TEMP) {
			temp = true;
			n++;
		}
	if (!temp) {
		r->failures = 0;
		r->fail_since = 0;
		relay_set_state(r, RELAY_IDLE);
	} else {
		r->failures++;
		if (r->fail_since == 0)
			r->fail_since = now;
		if (sc->once || sc->shutting_down) {
			relay_set_state(r, RELAY_IDLE);
		} else if (now - r->fail_since >= sc->conf->give_up_ms) {
			struct log_fields f = { .relay = r->name };

			log_event(LOG_ERR, LOG_EV_GAVE_UP, &f, "relay %s: "
			    "failing for %s; giving up until the next link-up "
			    "or interval run", r->name,
			    fmt_duration(now - r->fail_since, buf, sizeof(buf)));
			relay_set_state(r, RELAY_FAILED);
		} else if (!sc->online) {
			log_info("relay %s: no watched link is up; retrying "
			    "when one comes up", r->name);
			relay_set_state(r, RELAY_WAITLINK);
		} else {
			struct timeval	tv;

			d = backoff_delay(sc->conf->retry_min_ms,
			    sc->conf->retry_max_ms, r->failures, arc4random());
			r->retry_at = now + d;
			tv = ms_to_tv(d);
			evtimer_add(r->retry_ev, &tv);
			relay_log_backoff(r, n, d);
			relay_set_state(r, RELAY_BACKOFF);
		}
	}
	r->done_seq = r->run_seq;
	sched_check_waiters(sc);
	if (r->rerun) {
		r->rerun = false;
		/* A retry or interval run now would only skip the backoff. */
		if (r->state != RELAY_BACKOFF || reason_is_fresh(r->rerun_reason))
			relay_trigger(r, r->rerun_reason);
	}
}

static void
sched_on_session_done(struct session *s, const struct etrn_result *res,
    size_t nres, const struct etrn *etrn, void *arg)
{
	struct relay	*r = arg;
	struct sched	*sc = r->sched;
	size_t		 i;
	bool		 more = false;

	(void)s;
	r->session = NULL;
	sc->nsessions--;

	if (r->conf == NULL) {
		/* Removed by a reload while this session ran. */
		TAILQ_REMOVE(&sc->dying, r, entry);
		relay_free(r);
		sched_pump(sc);
		sched_check_idle(sc);
		return;
	}
	if (etrn->esmtp && !etrn->etrn_advertised && !r->warned_no_etrn) {
		log_warnx("relay %s: the server does not list ETRN in its EHLO "
		    "reply; asking anyway", r->name);
		r->warned_no_etrn = true;
	}
	for (i = 0; i < nres && i < r->nchunk; i++) {
		struct domain *d = &r->doms[r->chunk[i]];

		relay_log_result(r, d, &res[i]);
		d->last = res[i];
		d->last_try = wall_s();
		if (res[i].cls == ETRN_R_OK)
			d->last_ok = d->last_try;
	}
	r->nchunk = 0;
	for (i = 0; i < r->ndoms; i++)
		more |= r->doms[i].todo;
	if (more && !sc->shutting_down) {
		/* More than CONF_ETRN_PER_SESSION: the next session. */
		relay_set_state(r, RELAY_IDLE);
		relay_start(r);
	} else {
		for (i = 0; i < r->ndoms; i++)
			r->doms[i].todo = false;
		relay_run_done(r);
	}
	sched_pump(sc);
	sched_changed(sc);
	sched_check_idle(sc);
}

/* Hand free session slots to queued relays, oldest first. */
static void
sched_pump(struct sched *sc)
{
	struct relay	*r, *next;

	for (r = TAILQ_FIRST(&sc->queue); r != NULL &&
	    sc->nsessions < sc->conf->max_sessions; r = next) {
		next = TAILQ_NEXT(r, qentry);
		if (relay_blocked(r))
			continue;
		TAILQ_REMOVE(&sc->queue, r, qentry);
		relay_open(r);
	}
}

static void
sched_settle_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct sched	*sc = arg;

	(void)fd;
	(void)ev;
	/* The connection itself is the final test; this is the cheap one. */
	if (!sc->online) {
		log_debug("settle: no watched link is up any more");
		return;
	}
	sched_trigger_all(sc, SCHED_LINKUP);
}

static void
sched_interval_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	log_debug("interval: running every relay");
	sched_trigger_all(arg, SCHED_INTERVAL);
}

static void
sched_arm_interval(struct sched *sc)
{
	struct timeval	tv;

	evtimer_del(sc->interval_ev);
	if (sc->once || sc->conf->interval_ms == 0)
		return;
	tv = ms_to_tv(sc->conf->interval_ms);
	event_add(sc->interval_ev, &tv);
}

struct sched *
sched_new(struct event_base *base, struct evdns_base *dns,
    const struct conf *conf, const char *helo, bool once,
    const struct sched_hooks *hooks)
{
	struct sched	*sc;
	struct relay	*r;
	size_t		 i;

	sc = xcalloc(1, sizeof(*sc));
	sc->base = base;
	sc->dns = dns;
	sc->conf = conf;
	sc->helo = xstrdup(helo);
	sc->once = once;
	sc->online = once;
	if (hooks != NULL)
		sc->hooks = *hooks;
	TAILQ_INIT(&sc->relays);
	TAILQ_INIT(&sc->dying);
	TAILQ_INIT(&sc->queue);
	TAILQ_INIT(&sc->waiters);
	sc->settle_ev = evtimer_new(base, sched_settle_cb, sc);
	sc->interval_ev = event_new(base, -1, EV_PERSIST, sched_interval_cb,
	    sc);
	if (sc->settle_ev == NULL || sc->interval_ev == NULL)
		fatalx("event_new");
	for (i = 0; i < conf->nrelays; i++) {
		r = relay_new(sc, &conf->relays[i]);
		TAILQ_INSERT_TAIL(&sc->relays, r, entry);
	}
	sched_arm_interval(sc);
	return sc;
}

void
sched_free(struct sched *sc)
{
	struct relay	*r;

	if (sc == NULL)
		return;
	while (!TAILQ_EMPTY(&sc->waiters))
		sched_waiter_cancel(TAILQ_FIRST(&sc->waiters));
	while ((r = TAILQ_FIRST(&sc->relays)) != NULL) {
		TAILQ_REMOVE(&sc->relays, r, entry);
		relay_free(r);
	}
	while ((r = TAILQ_FIRST(&sc->dying)) != NULL) {
		TAILQ_REMOVE(&sc->dying, r, entry);
		relay_free(r);
	}
	probe_free(sc->probe);
	event_free(sc->settle_ev);
	event_free(sc->interval_ev);
	free(sc->helo);
	free(sc);
}

void
sched_reconfigure(struct sched *sc, const struct conf *conf,
    const char *helo)
{
	struct relay_list	 keep;
	struct relay		*r, **added;
	const struct conf_relay	*cr;
	size_t			 i, nadded = 0;
	bool			 interval_changed;

	added = xcalloc(conf->nrelays + 1, sizeof(*added));
	interval_changed = sc->conf->interval_ms != conf->interval_ms;
	free(sc->helo);
	sc->helo = xstrdup(helo);

	/* Rebuild the list in the new file's order. */
	TAILQ_INIT(&keep);
	for (i = 0; i < conf->nrelays; i++) {
		cr = &conf->relays[i];
		TAILQ_FOREACH(r, &sc->relays, entry)
			if (strcmp(r->name, cr->name) == 0)
				break;
		if (r != NULL && conf_relay_equal(r->conf, cr)) {
			TAILQ_REMOVE(&sc->relays, r, entry);
			r->conf = cr;
			TAILQ_INSERT_TAIL(&keep, r, entry);
			continue;
		}
		r = relay_new(sc, cr);
		added[nadded++] = r;
		TAILQ_INSERT_TAIL(&keep, r, entry);
	}
	/* What is left was removed or changed: finish in-flight sessions. */
	while ((r = TAILQ_FIRST(&sc->relays)) != NULL) {
		TAILQ_REMOVE(&sc->relays, r, entry);
		if (r->state == RELAY_QUEUED)
			TAILQ_REMOVE(&sc->queue, r, qentry);
		r->conf = NULL;
		relay_forget_waiters(r);
		if (r->session != NULL) {
			log_info("relay %s: removed or changed; letting its "
			    "session finish", r->name);
			TAILQ_INSERT_TAIL(&sc->dying, r, entry);
		} else
			relay_free(r);
	}
	TAILQ_CONCAT(&sc->relays, &keep, entry);
	sc->conf = conf;
	if (interval_changed)
		sched_arm_interval(sc);

	/* New and changed relays run now if a link is up; others wait. */
	for (i = 0; i < nadded && sc->online; i++)
		relay_want(added[i], SCHED_RELOAD);
	free(added);
	sched_kick(sc);
	sched_pump(sc);
	sched_check_waiters(sc);
	sched_changed(sc);
}

void
sched_set_online(struct sched *sc, bool online)
{
	struct relay	*r;

	if (sc->online == online)
		return;
	sc->online = online;
	if (online) {
		sched_changed(sc);
		return;
	}
	evtimer_del(sc->settle_ev);
	TAILQ_FOREACH(r, &sc->relays, entry) {
		if (r->state != RELAY_BACKOFF)
			continue;
		evtimer_del(r->retry_ev);
		log_info("relay %s: no watched link is up; retrying when one "
		    "comes up", r->name);
		relay_set_state(r, RELAY_WAITLINK);
	}
	sched_changed(sc);
}

void
sched_on_link_up(struct sched *sc)
{
	struct timeval	tv = ms_to_tv(sc->conf->settle_ms);

	if (sc->shutting_down)
		return;
	/* Re-arming restarts the wait: a flapping link runs once. */
	evtimer_add(sc->settle_ev, &tv);
}

/* Run every relay that wants a run. */
static void
sched_run_wanted(struct sched *sc)
{
	struct relay	*r;

	if (sc->hooks.before_run != NULL && !sc->shutting_down)
		sc->hooks.before_run(sc->hooks.arg);
	TAILQ_FOREACH(r, &sc->relays, entry) {
		if (!r->wanted)
			continue;
		r->wanted = false;
		relay_trigger(r, r->want_reason);
	}
	sched_check_idle(sc);
}

static void
sched_probe_done(bool accepted, uint64_t waited_ms, void *arg)
{
	struct sched	*sc = arg;
	char		 d[32];

	if (accepted && waited_ms >= 100)
		log_info("local-smtp: accepting connections after %s; asking "
		    "the relays", fmt_duration(waited_ms, d, sizeof(d)));
	else if (!accepted)
		log_warnx("local-smtp: still not accepting connections after "
		    "%s; asking the relays anyway",
		    fmt_duration(waited_ms, d, sizeof(d)));
	probe_free(sc->probe);
	sc->probe = NULL;
	sched_run_wanted(sc);
}

static void
relay_want(struct relay *r, enum sched_reason reason)
{
	if (!r->wanted || reason < r->want_reason)
		r->want_reason = reason;
	r->wanted = true;
}

/* Run the wanted relays now, or once local-smtp accepts connections. */
static void
sched_kick(struct sched *sc)
{
	if (sc->shutting_down)
		return;
	if (sc->conf->local_smtp_host == NULL) {
		sched_run_wanted(sc);
		return;
	}
	/*
	 * ETRN makes the secondary connect back at once: asking before our
	 * own MTA listens sends the mail into the secondary's long backoff.
	 */
	if (sc->probe == NULL)
		sc->probe = probe_new(sc->base, sc->dns,
		    sc->conf->local_smtp_host, sc->conf->local_smtp_port,
		    sc->conf->connect_timeout_ms, sched_probe_done, sc);
}

void
sched_trigger_all(struct sched *sc, enum sched_reason reason)
{
	struct relay	*r;

	if (sc->shutting_down)
		return;
	TAILQ_FOREACH(r, &sc->relays, entry)
		relay_want(r, reason);
	sched_kick(sc);
}

int
sched_run(struct sched *sc, char * const *names, size_t n, sched_run_cb cb,
    void *arg, struct sched_waiter **waiterp, const char **unknown)
{
	struct sched_waiter	*w;
	struct relay		*r;
	size_t			 i, k;

	*waiterp = NULL;
	if (sc->shutting_down) {
		errno = ESHUTDOWN;
		return -1;
	}
	for (i = 0; i < n; i++) {
		TAILQ_FOREACH(r, &sc->relays, entry)
			if (strcmp(r->name, names[i]) == 0)
				break;
		if (r == NULL) {
			*unknown = names[i];
			errno = ENOENT;
			return -1;
		}
	}
	w = xcalloc(1, sizeof(*w));
	w->sc = sc;
	w->cb = cb;
	w->arg = arg;
	k = 0;
	TAILQ_FOREACH(r, &sc->relays, entry) {
		for (i = 0; i < n; i++)
			if (strcmp(r->name, names[i]) == 0)
				break;
		if (n > 0 && i == n)
			continue;
		w->w = xreallocarray(w->w, k + 1, sizeof(*w->w));
		w->w[k].relay = r;
		w->w[k].target = 0;
		k++;
		relay_want(r, SCHED_MANUAL);
	}
	w->n = k;
	if (cb != NULL) {
		TAILQ_INSERT_TAIL(&sc->waiters, w, entry);
		*waiterp = w;
		w->ref = waiterp;
	} else {
		free(w->w);
		free(w);
	}
	sched_kick(sc);
	return 0;
}

void
sched_waiter_cancel(struct sched_waiter *w)
{
	if (w == NULL)
		return;
	if (w->ref != NULL)
		*w->ref = NULL;
	TAILQ_REMOVE(&w->sc->waiters, w, entry);
	free(w->w);
	free(w);
}

void
sched_shutdown(struct sched *sc)
{
	struct relay	*r;

	sc->shutting_down = true;
	probe_free(sc->probe);
	sc->probe = NULL;
	evtimer_del(sc->settle_ev);
	evtimer_del(sc->interval_ev);
	while ((r = TAILQ_FIRST(&sc->queue)) != NULL) {
		TAILQ_REMOVE(&sc->queue, r, qentry);
		relay_set_state(r, RELAY_IDLE);
	}
	TAILQ_FOREACH(r, &sc->relays, entry) {
		evtimer_del(r->retry_ev);
		if (r->session != NULL)
			session_shutdown(r->session);
	}
	TAILQ_FOREACH(r, &sc->dying, entry)
		session_shutdown(r->session);
	/* Nothing more will run: answer everyone who waits. */
	TAILQ_FOREACH(r, &sc->relays, entry)
		relay_forget_waiters(r);
	sched_check_waiters(sc);
	sched_check_idle(sc);
}

bool
sched_busy(const struct sched *sc)
{
	return sc->nsessions > 0 || !TAILQ_EMPTY(&sc->queue) ||
	    sc->probe != NULL;
}

void
sched_format_result(const char *relay, const char *domain,
    const struct etrn_result *res, char *buf, size_t len)
{
	char	text[ETRN_TEXT_MAX], code[16];

	if (res->code != 0)
		snprintf(code, sizeof(code), "%d", res->code);
	else
		snprintf(code, sizeof(code), "-");
	snprintf(buf, len, "%s %s %s %s %s", relay, domain,
	    etrn_class_name(res->cls), code, flat(res->text, text,
	    sizeof(text)));
}

int
sched_status_merge(int status, enum etrn_class cls)
{
	switch (cls) {
	case ETRN_R_OK:
		return status;
	case ETRN_R_REFUSED:
	case ETRN_R_UNSUPPORTED:
		return 1;
	case ETRN_R_TEMP:
	case ETRN_R_NONE:
		break;
	}
	return status == 1 ? 1 : 75;	/* EX_TEMPFAIL */
}

void
sched_print_results(const struct sched *sc, FILE *fp)
{
	const struct relay	*r;
	char			 line[1024];
	size_t			 i;

	TAILQ_FOREACH(r, &sc->relays, entry)
		for (i = 0; i < r->ndoms; i++) {
			sched_format_result(r->name, r->doms[i].arg,
			    &r->doms[i].last, line, sizeof(line));
			fprintf(fp, "%s\n", line);
		}
}

int
sched_exit_status(const struct sched *sc)
{
	const struct relay	*r;
	int			 status = 0;
	size_t			 i;

	TAILQ_FOREACH(r, &sc->relays, entry)
		for (i = 0; i < r->ndoms; i++)
			status = sched_status_merge(status, r->doms[i].last.cls);
	return status;
}

size_t
sched_nrelays(const struct sched *sc)
{
	const struct relay	*r;
	size_t			 n = 0;

	TAILQ_FOREACH(r, &sc->relays, entry)
		n++;
	return n;
}

void
sched_foreach(const struct sched *sc, sched_relay_fn fn, void *arg)
{
	const struct relay		*r;
	struct sched_relay_info		 ri;
	struct sched_domain_info	*di;
	uint64_t			 now = now_ms();
	size_t				 i;

	TAILQ_FOREACH(r, &sc->relays, entry) {
		di = xcalloc(r->ndoms, sizeof(*di));
		memset(&ri, 0, sizeof(ri));
		ri.name = r->name;
		ri.host = r->conf->host;
		ri.port = r->conf->port;
		ri.state = relay_state_names[r->state];
		ri.failures = r->failures;
		for (i = 0; i < r->ndoms; i++) {
			di[i].domain = r->doms[i].arg;
			di[i].last = &r->doms[i].last;
			di[i].last_ok = r->doms[i].last_ok;
			di[i].last_try = r->doms[i].last_try;
			if (di[i].last_ok > ri.last_success)
				ri.last_success = di[i].last_ok;
		}
		if (r->state == RELAY_BACKOFF)
			ri.next_retry = wall_s() + (int64_t)((r->retry_at >
			    now ? r->retry_at - now : 0) / 1000);
		ri.domains = di;
		ri.ndomains = r->ndoms;
		fn(&ri, arg);
		free(di);
	}
}

/* "isp ok; mx2 421, retry 14:05:30": one relay's part of STATUS=. */
static size_t
relay_status(const struct relay *r, char *buf, size_t len)
{
	const struct etrn_result	*worst = NULL;
	char				 d[32];
	long				 pending = -1;
	size_t				 i;

	for (i = 0; i < r->ndoms; i++) {
		const struct etrn_result *res = &r->doms[i].last;

		if (res->pending >= 0)
			pending = (pending < 0 ? 0 : pending) + res->pending;
		if (res->cls != ETRN_R_OK && res->cls != ETRN_R_NONE &&
		    (worst == NULL || res->cls > worst->cls))
			worst = res;
	}
	switch (r->state) {
	case RELAY_QUEUED:
		return (size_t)snprintf(buf, len, "%s queued", r->name);
	case RELAY_RUNNING:
		return (size_t)snprintf(buf, len, "%s running", r->name);
	case RELAY_BACKOFF: {
		/* Absolute: systemctl status shows the line for minutes. */
		uint64_t	now = now_ms();
		time_t		at = (time_t)(wall_s() + (int64_t)((r->retry_at >
				    now ? r->retry_at - now : 0) + 999) / 1000);
		struct tm	tm;

		if (localtime_r(&at, &tm) == NULL ||
		    strftime(d, sizeof(d), "%H:%M:%S", &tm) == 0)
			snprintf(d, sizeof(d), "?");
		return (size_t)snprintf(buf, len, "%s %d, retry %s",
		    r->name, worst != NULL ? worst->code : 0, d);
	}
	case RELAY_WAITLINK:
		return (size_t)snprintf(buf, len, "%s %d, waiting for link",
		    r->name, worst != NULL ? worst->code : 0);
	case RELAY_FAILED:
		return (size_t)snprintf(buf, len, "%s failed (%d)", r->name,
		    worst != NULL ? worst->code : 0);
	case RELAY_IDLE:
		break;
	}
	if (worst != NULL)
		return (size_t)snprintf(buf, len, "%s %s %d", r->name,
		    etrn_class_name(worst->cls), worst->code);
	if (r->doms[0].last.cls == ETRN_R_NONE)
		return (size_t)snprintf(buf, len, "%s idle", r->name);
	if (pending >= 0)
		return (size_t)snprintf(buf, len, "%s ok, %ld pending",
		    r->name, pending);
	return (size_t)snprintf(buf, len, "%s ok", r->name);
}

void
sched_status(const struct sched *sc, char *buf, size_t len)
{
	const struct relay	*r;
	size_t			 off = 0, n = 0;
	unsigned		 counts[RELAY_FAILED + 1] = { 0 };

	TAILQ_FOREACH(r, &sc->relays, entry) {
		counts[r->state]++;
		n++;
	}
	if (n > 4) {
		snprintf(buf, len, "%zu relays: %u running, %u queued, "
		    "%u retrying, %u failed", n, counts[RELAY_RUNNING],
		    counts[RELAY_QUEUED], counts[RELAY_BACKOFF] +
		    counts[RELAY_WAITLINK], counts[RELAY_FAILED]);
		return;
	}
	buf[0] = '\0';
	TAILQ_FOREACH(r, &sc->relays, entry) {
		if (off + 3 >= len)
			break;
		if (off > 0) {
			memcpy(buf + off, "; ", 3);
			off += 2;
		}
		off += relay_status(r, buf + off, len - off);
	}
}
