/* SPDX-License-Identifier: ISC */
/*
 * sched: the mechanism that carries out each relay's policy (relay.c):
 * it owns the relays, their retry timers and sessions, the session slots
 * and their queue, the settle and interval timers, the local-smtp gate,
 * reload and shutdown, and the waiters of `etrnctl run`.  Every decision
 * comes from relay.c as a step; sched_step() is the one place that turns
 * a step into timers, sessions and log lines.  What runs leave behind
 * (history, counters, flush windows) is runlog.c's: sched tells it when a
 * run begins, what each domain answered and when the run ends.
 */
#include <sys/queue.h>

#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <event2/event.h>
#include <event2/util.h>

#include "etrn.h"
#include "holddown.h"
#include "log.h"
#include "probe.h"
#include "relay.h"
#include "report.h"
#include "reach.h"
#include "route.h"
#include "runlog.h"
#include "sched.h"
#include "session.h"
#include "tls.h"
#include "util.h"

/* The mechanism around one relay's policy: its session and its timer. */
struct sched_relay {
	struct relay		 rl;		/* the policy's state */
	struct sched		*sched;
	const struct conf_relay	*conf;		/* NULL once removed */
	char			*name;
	struct session		*session;
	struct reach		 reach;		/* can the kernel reach it */
	bool			 unreachable;	/* its last answer: no route */
	struct holddown		 hold;		/* its link-ups, settle = 0 */
	uint64_t		 hold_seq;	/* the run that opened it */
	struct event		*retry_ev;
	struct runlog_relay	 log;		/* its runs' records */
	enum relay_state	 shown;		/* the state last traced */
	bool			 warned_no_etrn;
	TAILQ_ENTRY(sched_relay) entry;		/* relays or dying */
	TAILQ_ENTRY(sched_relay) qentry;	/* queue */
};

TAILQ_HEAD(relay_list, sched_relay);

/* One TLS context, for the relays with these settings. */
struct sched_tls {
	char			*ca;		/* tls-ca, NULL: the system's */
	bool			 verify;	/* tls-verify */
	SSL_CTX			*ctx;
};

/* A client of sched_run() waiting for runs that started after it asked. */
struct sched_waiter {
	struct sched		*sc;
	TAILQ_ENTRY(sched_waiter) entry;
	struct {
		struct sched_relay *relay;	/* NULL: removed, or done */
		uint64_t	 target;	/* run_seq to finish; 0 = not yet */
	}			*w;
	size_t			 n;
	sched_run_cb		 cb;
	void			*arg;
	struct sched_waiter	**ref;		/* the owner's pointer to us */
	unsigned		 flags;		/* SCHED_RUN_FLUSH */
	bool			 done_said;	/* SCHED_RUN_DONE was called */
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
	struct event		*hold_ev;	/* the first relay's window end */
	struct event		*interval_ev;
	struct event		*net_ev;	/* network changes, once a turn */
	struct event		*wait_ev;	/* waiters to check, once a turn */

	/* local-smtp: wait until the site's MTA listens, then run. */
	struct probe		*probe;

	struct sched_tls	*tls;		/* contexts of this configuration */
	size_t			 ntls;

	struct reach_net	 net;		/* what the relays' checks share */

	struct runlog		*runlog;	/* history, counters, windows */

	TAILQ_HEAD(, sched_waiter) waiters;
};

static void	sched_decide(struct sched_relay *);
static void	sched_pump(struct sched *);
static void	sched_kick(struct sched *);
static bool	sched_route_update(struct sched_relay *);
static void	sched_arm_hold(struct sched *);
static void	sched_net_cb(evutil_socket_t, short, void *);
static void	sched_wait_cb(evutil_socket_t, short, void *);
static void	sched_on_session_done(struct session *,
		    const struct etrn_result *, size_t, const struct etrn *,
		    void *);
static void	sched_check_waiters(struct sched *);

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

/* Trace a state the policy moved the relay to, and show it. */
static void
sched_trace(struct sched_relay *sr)
{
	if (sr->shown == sr->rl.state)
		return;
	log_debug("relay %s: %s -> %s", sr->name, relay_state_name(sr->shown),
	    relay_state_name(sr->rl.state));
	sr->shown = sr->rl.state;
	sched_changed(sr->sched);
}

/* The world as the policy sees it, now. */
static void
sched_env(const struct sched *sc, struct relay_env *env)
{
	memset(env, 0, sizeof(*env));
	env->now = now_ms();
	env->wall = wall_s();
	env->random = arc4random();
	env->online = sc->online;
	env->once = sc->once;
	env->stopping = sc->shutting_down;
	env->held = sc->probe != NULL;
	env->retry_min_ms = sc->conf->retry_min_ms;
	env->retry_max_ms = sc->conf->retry_max_ms;
	env->give_up_ms = sc->conf->give_up_ms;
}

static const char *
relay_verb(const struct sched_relay *sr)
{
	return sr->conf != NULL && sr->conf->command == CONF_CMD_QSND ?
	    "QSND" : "ETRN";
}

static void
sched_retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct sched_relay	*sr = arg;

	(void)fd;
	(void)ev;
	/*
	 * A name's address may have moved: the end of a wait for a route
	 * to its old one is tried, and the session learns the new one.
	 */
	if (sr->rl.state == RELAY_S_NOROUTE)
		reach_forget(&sr->reach);
	relay_want(&sr->rl, RELAY_T_RETRY);
	sched_decide(sr);
}

/*
 * The TLS context for a relay's tls-ca and tls-verify: built at the first
 * STARTTLS after start or reload (so a renewed bundle is read), then shared
 * by every relay with the same two settings -- one copy of the system's
 * trust store, not one per relay.  Sessions hold their own reference.
 * NULL: it could not be built (the configuration checked tls-ca, so this
 * is ENOMEM or a file changed since); the session tries again and says.
 */
static SSL_CTX *
sched_tls_ctx(struct sched *sc, const struct conf_relay *cr)
{
	struct sched_tls	*t;
	size_t			 i;

	for (i = 0; i < sc->ntls; i++) {
		t = &sc->tls[i];
		if (t->verify == cr->tls_verify && (t->ca == NULL ?
		    cr->tls_ca == NULL : cr->tls_ca != NULL &&
		    strcmp(t->ca, cr->tls_ca) == 0))
			return t->ctx;
	}
	sc->tls = xreallocarray(sc->tls, sc->ntls + 1, sizeof(*sc->tls));
	t = &sc->tls[sc->ntls++];
	t->ca = cr->tls_ca != NULL ? xstrdup(cr->tls_ca) : NULL;
	t->verify = cr->tls_verify;
	/* A failure is kept too: said once per configuration. */
	if ((t->ctx = tls_ctx_new(cr)) == NULL)
		log_warn("TLS context for %s", cr->tls_ca != NULL ?
		    cr->tls_ca : "the system's trust store");
	return t->ctx;
}

/* A session's STARTTLS asks: the relay's shared context (none once a
 * reload removed the relay: the session builds its own). */
static SSL_CTX *
sched_tls_get(void *arg)
{
	struct sched_relay	*sr = arg;

	return sr->conf != NULL ? sched_tls_ctx(sr->sched, sr->conf) : NULL;
}

/* A new configuration: contexts are built afresh as sessions need them. */
static void
sched_tls_clear(struct sched *sc)
{
	size_t	i;

	for (i = 0; i < sc->ntls; i++) {
		tls_ctx_free(sc->tls[i].ctx);
		free(sc->tls[i].ca);
	}
	free(sc->tls);
	sc->tls = NULL;
	sc->ntls = 0;
}

static struct sched_relay *
sched_relay_new(struct sched *sc, const struct conf_relay *cr)
{
	struct sched_relay	*sr;

	sr = xcalloc(1, sizeof(*sr));
	relay_init(&sr->rl, cr->domains, cr->ndomains);
	sr->sched = sc;
	sr->conf = cr;
	sr->name = xstrdup(cr->name);
	sr->shown = sr->rl.state;
	runlog_relay_init(sc->runlog, &sr->log, sr->name);
	if ((sr->retry_ev = evtimer_new(sc->base, sched_retry_cb, sr)) == NULL)
		fatalx("evtimer_new");
	reach_init(&sr->reach, cr->host, cr->source != NULL);
	sched_route_update(sr);
	return sr;
}

static void
sched_relay_free(struct sched_relay *sr)
{
	if (sr == NULL)
		return;
	runlog_relay_deinit(&sr->log);
	session_free(sr->session);
	event_free(sr->retry_ev);
	relay_deinit(&sr->rl);
	free(sr->name);
	free(sr);
}

/* A window's verdict was recorded and said: status and waiters hear. */
static void
sched_on_verdict(void *arg)
{
	struct sched	*sc = arg;

	sched_changed(sc);
	sched_check_waiters(sc);
	sched_check_idle(sc);
}

/* Open one session for the next chunk of due domains. */
static void
sched_open(struct sched_relay *sr)
{
	struct sched		*sc = sr->sched;
	struct session_params	 p;
	char			*args[CONF_ETRN_PER_SESSION];

	/* Resolve with today's resolv.conf and hosts file. */
	if (sc->hooks.before_session != NULL)
		sc->hooks.before_session(sc->hooks.arg);
	session_params_init(&p, sc->conf, sr->conf, sc->helo);
	if (sr->conf->tls != CONF_TLS_NO) {
		p.tls_ctx_get = sched_tls_get;
		p.tls_ctx_arg = sr;
	}
	p.domains = args;
	p.ndomains = relay_take_chunk(&sr->rl, args);
	/* A run's first session answers the link-ups so far. */
	if (sr->rl.run_seq != sr->hold_seq) {
		sr->hold_seq = sr->rl.run_seq;
		holddown_ran(&sr->hold, now_ms(), sc->conf->holddown_ms);
		runlog_run_begin(&sr->log, sr->rl.run_why);
	}
	if ((sr->session = session_new(sc->base, sc->dns, &p,
	    sched_on_session_done, sr)) == NULL)
		fatal("session_new");
	sc->nsessions++;
	sched_trace(sr);
}

/* A relay removed by a reload still finishes a session under this name. */
static bool
sched_blocked(const struct sched_relay *sr)
{
	const struct sched_relay	*old;

	TAILQ_FOREACH(old, &sr->sched->dying, entry)
		if (strcmp(old->name, sr->name) == 0)
			return true;
	return false;
}

/* Start now, or wait in line: for a slot, behind those already waiting. */
static void
sched_start(struct sched_relay *sr)
{
	struct sched	*sc = sr->sched;

	if (sc->nsessions >= sc->conf->max_sessions ||
	    !TAILQ_EMPTY(&sc->queue) || sched_blocked(sr)) {
		if (sr->rl.state != RELAY_S_QUEUED) {
			TAILQ_INSERT_TAIL(&sc->queue, sr, qentry);
			relay_queue(&sr->rl);
			sched_trace(sr);
		}
		/* Those waiting only for a removed relay must not hold us. */
		sched_pump(sc);
		return;
	}
	sched_open(sr);
}

/* Waiters for sr that were still waiting for a run to start get this one. */
static void
sched_assign_waiters(struct sched_relay *sr, uint64_t target)
{
	struct sched_waiter	*w;
	size_t			 i;

	TAILQ_FOREACH(w, &sr->sched->waiters, entry)
		for (i = 0; i < w->n; i++)
			if (w->w[i].relay == sr && w->w[i].target == 0)
				w->w[i].target = target;
}

/* Call back the waiters whose runs have all finished. */
static void
sched_check_waiters(struct sched *sc)
{
	struct sched_waiter	*w, *next;
	sched_run_cb		 cb;
	enum sched_run_phase	 phase;
	void			*arg;
	size_t			 i;

	for (w = TAILQ_FIRST(&sc->waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		for (i = 0; i < w->n; i++) {
			struct sched_relay *sr = w->w[i].relay;

			if (sr != NULL && (w->w[i].target == 0 ||
			    sr->rl.done_seq < w->w[i].target))
				break;
		}
		if (i < w->n)
			continue;
		if ((w->flags & SCHED_RUN_FLUSH) && !w->done_said) {
			/* The results now; the waiter stays for the windows. */
			w->done_said = true;
			w->cb(SCHED_RUN_DONE, w->arg);
			next = TAILQ_FIRST(&sc->waiters);
			continue;
		}
		if (w->flags & SCHED_RUN_FLUSH) {
			for (i = 0; i < w->n; i++) {
				struct sched_relay *sr = w->w[i].relay;

				if (sr != NULL &&
				    runlog_awaits(&sr->log, w->w[i].target))
					break;
			}
			if (i < w->n)
				continue;
		}
		/*
		 * Gone before the call, and the owner's pointer with it: a
		 * callback that cancels its own waiter cancels NULL.
		 */
		cb = w->cb;
		arg = w->arg;
		phase = (w->flags & SCHED_RUN_FLUSH) ? SCHED_RUN_FLUSHED :
		    SCHED_RUN_DONE;
		sched_waiter_cancel(w);
		cb(phase, arg);
		/* The callback may have cancelled others: start over. */
		next = TAILQ_FIRST(&sc->waiters);
	}
}

/* A relay is going away: nobody can wait for it any more. */
static void
sched_forget_waiters(struct sched_relay *sr)
{
	struct sched_waiter	*w;
	size_t			 i;

	TAILQ_FOREACH(w, &sr->sched->waiters, entry)
		for (i = 0; i < w->n; i++)
			if (w->w[i].relay == sr)
				w->w[i].relay = NULL;
}

/* Log one domain's result: warnings once per change, then debug. */
static void
sched_log_result(const struct sched_relay *sr, const struct relay_domain *d,
    const struct etrn_result *res)
{
	struct log_fields	 f = { sr->name, d->arg, res->code, NULL };
	char			 text[REPORT_TEXT_LEN], count[48] = "";
	char			 sent[ETRN_CMD_MAX];
	const char		*hint;
	/* The argument that went out: "#example.org" if the server asked. */
	const char		*arg = relay_sent_arg(d, res, sent, sizeof(sent));

	report_reply_text(text, sizeof(text), res->text);
	if (res->form != ETRN_FORM_WRITTEN && d->sent == NULL)
		log_info("relay %s: the server asked for %s%s; sending that "
		    "form from now on, until the configuration changes",
		    sr->name, etrn_form_prefix(res->form), d->arg);
	if (relay_temp_is_refusal(d, res)) {
		log_event(LOG_ERR, LOG_EV_ETRN_REFUSED, &f, "relay %s: %s %s: "
		    "%d %s: the same temporary reply %d times in a row, taken "
		    "as a refusal; not asking again until the next link-up or "
		    "configuration change", sr->name, relay_verb(sr), arg,
		    res->code, text, RELAY_SAME_TEMP_MAX);
		return;
	}
	switch (res->cls) {
	case ETRN_R_OK:
		if (res->pending >= 0)
			snprintf(count, sizeof(count), " (%ld pending)",
			    res->pending);
		log_event(LOG_INFO, LOG_EV_ETRN_ACCEPTED, &f,
		    "relay %s: %s %s: %d %s%s", sr->name, relay_verb(sr),
		    arg, res->code, text, count);
		break;
	case ETRN_R_TEMP:
		/* Warn when the failure first appears or changes kind. */
		if (d->last.cls == ETRN_R_TEMP && d->last.fail == res->fail &&
		    d->last.code == res->code)
			log_debug("relay %s: %s %s: still failing: %s",
			    sr->name, relay_verb(sr), arg, text);
		else if (res->fail == ETRN_F_NOROUTE)
			log_debug("relay %s: %s %s: not reachable yet: %s",
			    sr->name, relay_verb(sr), arg, text);
		else if (res->fail == ETRN_F_SHUTDOWN)
			log_info("relay %s: %s %s: not asked: %s", sr->name,
			    relay_verb(sr), arg, text);
		else if (etrn_fail_unreachable(res->fail))
			log_event(LOG_WARNING, LOG_EV_RELAY_UNREACHABLE, &f,
			    "relay %s: %s %s: temporary failure: %s",
			    sr->name, relay_verb(sr), arg, text);
		else if (res->code != 0)
			log_warnx("relay %s: %s %s: temporary failure: %d %s",
			    sr->name, relay_verb(sr), arg, res->code, text);
		else
			log_warnx("relay %s: %s %s: temporary failure: %s",
			    sr->name, relay_verb(sr), arg, text);
		break;
	case ETRN_R_REFUSED:
	case ETRN_R_UNSUPPORTED:
		hint = etrn_hint(res);
		log_event(LOG_ERR, LOG_EV_ETRN_REFUSED, &f,
		    "relay %s: %s %s %s: %d %s%s%s%s; not asking again "
		    "until the next link-up or configuration change", sr->name,
		    relay_verb(sr), arg, res->cls == ETRN_R_REFUSED ?
		    "refused" : "not supported", res->code, text,
		    hint != NULL ? " (" : "", hint != NULL ? hint : "",
		    hint != NULL ? ")" : "");
		break;
	case ETRN_R_NONE:
		break;
	}
}

/* One domain's result: the log, the history, the counters. */
static void
sched_record_result(struct sched_relay *sr, const struct relay_domain *d,
    const struct etrn_result *res)
{
	sched_log_result(sr, d, res);
	runlog_result(&sr->log, d, res);
}

/*
 * The backoff line.  From the second failed run on, the per-domain lines
 * are debug only, so this one says which domain and why: "relay isp:
 * busy.example.org still failing (458 ...); asking again for 1 domain in 9s".
 */
static void
sched_log_backoff(const struct sched_relay *sr, uint64_t delay)
{
	const struct relay		*r = &sr->rl;
	const struct relay_domain	*first = NULL;
	char				 dur[32], text[REPORT_TEXT_LEN];
	char				 more[32] = "";
	size_t				 i, n = relay_ntemp(r);

	fmt_duration(delay, dur, sizeof(dur));
	for (i = 0; i < r->ndoms && first == NULL; i++)
		if (r->doms[i].last.cls == ETRN_R_TEMP)
			first = &r->doms[i];
	if (r->failures <= 1 || first == NULL) {
		log_info("relay %s: asking again for %zu domain%s in %s",
		    sr->name, n, n == 1 ? "" : "s", dur);
		return;
	}
	if (n > 1)
		snprintf(more, sizeof(more), " and %zu more", n - 1);
	report_reply_text(text, sizeof(text), first->last.text);
	if (first->last.code != 0)
		log_info("relay %s: %s%s still failing (%d %s); asking again "
		    "for %zu domain%s in %s", sr->name, first->arg, more,
		    first->last.code, text, n, n == 1 ? "" : "s", dur);
	else
		log_info("relay %s: %s%s still failing (%s); asking again for "
		    "%zu domain%s in %s", sr->name, first->arg, more, text, n,
		    n == 1 ? "" : "s", dur);
}

/* Say what a step means for the people watching. */
static void
sched_log_step(const struct sched_relay *sr, const struct relay_step *st,
    const struct relay_env *env)
{
	struct log_fields	 f = { .relay = sr->name };
	char			 buf[32];

	switch (st->note) {
	case RELAY_N_NONE:
		break;
	case RELAY_N_NOTHING:
		log_debug("relay %s: nothing to ask (every domain succeeded "
		    "or was refused)", sr->name);
		break;
	case RELAY_N_BACKOFF:
		sched_log_backoff(sr, st->delay);
		break;
	case RELAY_N_WAITLINK:
		log_info("relay %s: no watched link is up; retrying when one "
		    "comes up", sr->name);
		break;
	case RELAY_N_NOROUTE:
		/* Said once; a route that stays away for days is not news. */
		fmt_duration(st->delay, buf, sizeof(buf));
		if (sr->shown == RELAY_S_NOROUTE)
			log_debug("relay %s: still not reachable; asking at "
			    "the next network change, in %s at most",
			    sr->name, buf);
		else
			log_info("relay %s: not reachable yet; asking at the "
			    "next route, address or link change, in %s at "
			    "most", sr->name, buf);
		break;
	case RELAY_N_GAVE_UP:
		log_event(LOG_ERR, LOG_EV_GAVE_UP, &f, "relay %s: failing for "
		    "%s; giving up until the next link-up or interval run",
		    sr->name, fmt_duration(env->now - sr->rl.fail_since, buf,
		    sizeof(buf)));
		break;
	}
}

/*
 * The one place a policy step becomes mechanism: waiters learn their
 * run, the step is logged, a session opens or queues or the retry timer
 * is armed (and a timer the relay left behind is dropped), the new state
 * is traced, and waiters whose runs ended are answered.
 */
static void
sched_step(struct sched_relay *sr, const struct relay_step *st,
    const struct relay_env *env)
{
	struct timeval	tv;

	if (st->target != 0)
		sched_assign_waiters(sr, st->target);
	sched_log_step(sr, st, env);
	switch (st->action) {
	case RELAY_A_NONE:
		break;
	case RELAY_A_OPEN:
		sched_start(sr);
		break;
	case RELAY_A_ARM:
		tv = ms_to_tv(st->delay);
		evtimer_add(sr->retry_ev, &tv);
		break;
	}
	if (!relay_timer_armed(&sr->rl))
		evtimer_del(sr->retry_ev);
	sched_trace(sr);
	if (st->ended)
		sched_check_waiters(sr->sched);
}

/* Ask the kernel how it would reach the relay now: true if it cannot. */
static bool
sched_route_update(struct sched_relay *sr)
{
	sr->unreachable = reach_update(&sr->reach, &sr->sched->net);
	if (sr->unreachable)
		log_debug("relay %s: %s: %s", sr->name, sr->conf->host,
		    reach_route(&sr->reach));
	return sr->unreachable;
}

/*
 * A relay at rest whose route came back (a VPN, a backup link) is asked
 * as at a link-up, through its hold-down (or settle): reachability is the
 * trigger.
 * Relays waiting for a route are relay_on_network()'s; busy ones ask
 * when they are done anyway.
 */
static bool
sched_route_back(struct sched_relay *sr, bool was_unreachable)
{
	struct sched	*sc = sr->sched;
	struct timeval	 tv;

	if (!was_unreachable || sr->unreachable || (sr->rl.state !=
	    RELAY_S_IDLE && sr->rl.state != RELAY_S_FAILED))
		return false;
	if (sc->conf->settle_ms > 0) {
		/* As a link-up: after settle, which this restarts. */
		tv = ms_to_tv(sc->conf->settle_ms);
		evtimer_add(sc->settle_ev, &tv);
		return false;
	}
	if (!holddown_edge(&sr->hold, now_ms())) {
		sched_arm_hold(sc);
		return false;
	}
	log_info("relay %s: reachable again (%s); asking", sr->name,
	    reach_route(&sr->reach) != NULL ? reach_route(&sr->reach) :
	    "route back");
	relay_want(&sr->rl, RELAY_T_LINKUP);
	return true;
}

/* Act on the relay's due run, if the policy lets it start. */
static void
sched_decide(struct sched_relay *sr)
{
	struct relay_env	env;
	struct relay_step	st;

	if (sr->conf == NULL)
		return;
	sched_env(sr->sched, &env);
	env.noroute = sr->rl.pending && sched_route_update(sr);
	st = relay_decide(&sr->rl, &env);
	sched_step(sr, &st, &env);
}

static void
sched_on_session_done(struct session *s, const struct etrn_result *res,
    size_t nres, const struct etrn *etrn, void *arg)
{
	struct sched_relay	*sr = arg;
	struct sched		*sc = sr->sched;
	struct relay_env	 env;
	struct relay_step	 st;
	size_t			 i;

	sr->session = NULL;
	sc->nsessions--;

	if (sr->conf == NULL) {
		/* Removed by a reload while this session ran: its run ends. */
		TAILQ_REMOVE(&sc->dying, sr, entry);
		sched_relay_free(sr);
		sched_pump(sc);
		sched_check_idle(sc);
		return;
	}
	reach_learn(&sr->reach, session_report(s)->addrs,
	    session_report(s)->naddrs);
	if (etrn->esmtp && !etrn->etrn_advertised && !sr->warned_no_etrn) {
		log_warnx("relay %s: the server does not list ETRN in its EHLO "
		    "reply; asking anyway", sr->name);
		sr->warned_no_etrn = true;
	}
	/* Before the policy records them: a log line compares with last. */
	for (i = 0; i < nres && i < sr->rl.nchunk; i++)
		sched_record_result(sr, &sr->rl.doms[sr->rl.chunk[i]],
		    &res[i]);
	sched_env(sc, &env);
	st = relay_on_results(&sr->rl, res, nres, &env);
	if (st.ended)
		runlog_run_end(&sr->log, sr->rl.run_seq, sr->conf,
		    sr->reach.addrs, sr->reach.naddrs);
	sched_step(sr, &st, &env);
	/* A trigger that came during the run: its run starts now. */
	sched_decide(sr);
	sched_pump(sc);
	sched_changed(sc);
	sched_check_idle(sc);
}

/* Hand free session slots to queued relays, oldest first. */
static void
sched_pump(struct sched *sc)
{
	struct sched_relay	*sr, *next;

	for (sr = TAILQ_FIRST(&sc->queue); sr != NULL &&
	    sc->nsessions < sc->conf->max_sessions; sr = next) {
		next = TAILQ_NEXT(sr, qentry);
		if (sched_blocked(sr))
			continue;
		TAILQ_REMOVE(&sc->queue, sr, qentry);
		sched_open(sr);
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
	sched_trigger_all(sc, RELAY_T_LINKUP);
}

/* The hold-down timer at the earliest window end still owed a run. */
static void
sched_arm_hold(struct sched *sc)
{
	struct sched_relay	*sr;
	struct timeval		 tv;
	uint64_t		 now = now_ms(), first = UINT64_MAX;

	TAILQ_FOREACH(sr, &sc->relays, entry)
		if (sr->hold.pending && sr->hold.until < first)
			first = sr->hold.until;
	if (first == UINT64_MAX) {
		evtimer_del(sc->hold_ev);
		return;
	}
	tv = ms_to_tv(first > now ? first - now : 0);
	evtimer_add(sc->hold_ev, &tv);
}

static void
sched_hold_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct sched		*sc = arg;
	struct sched_relay	*sr;
	uint64_t		 now = now_ms();
	bool			 any = false;

	(void)fd;
	(void)ev;
	TAILQ_FOREACH(sr, &sc->relays, entry) {
		/* The timer is the authority: a clock a little early too. */
		if (!sr->hold.pending || sr->hold.until > now + 1 ||
		    !holddown_expire(&sr->hold))
			continue;
		if (!sc->online) {
			log_debug("relay %s: hold-down over; no watched link "
			    "is up any more", sr->name);
			continue;
		}
		log_debug("relay %s: hold-down over; the link-ups inside it "
		    "run once now", sr->name);
		relay_want(&sr->rl, RELAY_T_LINKUP);
		any = true;
	}
	if (any)
		sched_kick(sc);
	sched_arm_hold(sc);
}

static void
sched_interval_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	log_debug("interval: running every relay");
	sched_trigger_all(arg, RELAY_T_INTERVAL);
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
	struct sched		*sc;
	struct sched_relay	*sr;
	size_t			 i;

	sc = xcalloc(1, sizeof(*sc));
	sc->base = base;
	sc->dns = dns;
	sc->conf = conf;
	sc->helo = xstrdup(helo);
	sc->once = once;
	sc->online = once;
	if (hooks != NULL)
		sc->hooks = *hooks;
	sc->net.watched = sc->hooks.watched;
	sc->net.arg = sc->hooks.arg;
	TAILQ_INIT(&sc->relays);
	TAILQ_INIT(&sc->dying);
	TAILQ_INIT(&sc->queue);
	TAILQ_INIT(&sc->waiters);
	sc->settle_ev = evtimer_new(base, sched_settle_cb, sc);
	sc->hold_ev = evtimer_new(base, sched_hold_cb, sc);
	sc->net_ev = evtimer_new(base, sched_net_cb, sc);
	sc->wait_ev = evtimer_new(base, sched_wait_cb, sc);
	sc->interval_ev = event_new(base, -1, EV_PERSIST, sched_interval_cb,
	    sc);
	if (sc->settle_ev == NULL || sc->hold_ev == NULL ||
	    sc->net_ev == NULL || sc->wait_ev == NULL ||
	    sc->interval_ev == NULL)
		fatalx("event_new");
	sc->runlog = runlog_new(base, sched_on_verdict, sc);
	runlog_configure(sc->runlog, conf);
	for (i = 0; i < conf->nrelays; i++) {
		sr = sched_relay_new(sc, &conf->relays[i]);
		TAILQ_INSERT_TAIL(&sc->relays, sr, entry);
	}
	sched_arm_interval(sc);
	return sc;
}

void
sched_free(struct sched *sc)
{
	struct sched_relay	*sr;

	if (sc == NULL)
		return;
	while (!TAILQ_EMPTY(&sc->waiters))
		sched_waiter_cancel(TAILQ_FIRST(&sc->waiters));
	while ((sr = TAILQ_FIRST(&sc->relays)) != NULL) {
		TAILQ_REMOVE(&sc->relays, sr, entry);
		sched_relay_free(sr);
	}
	while ((sr = TAILQ_FIRST(&sc->dying)) != NULL) {
		TAILQ_REMOVE(&sc->dying, sr, entry);
		sched_relay_free(sr);
	}
	probe_free(sc->probe);
	sched_tls_clear(sc);
	runlog_free(sc->runlog);
	event_free(sc->wait_ev);
	event_free(sc->net_ev);
	event_free(sc->interval_ev);
	event_free(sc->hold_ev);
	event_free(sc->settle_ev);
	free(sc->helo);
	free(sc);
}

void
sched_reconfigure(struct sched *sc, const struct conf *conf,
    const char *helo)
{
	struct relay_list	 keep;
	struct sched_relay	*sr;
	const struct conf_relay	*cr;
	size_t			 i;
	bool			 interval_changed;

	interval_changed = sc->conf->interval_ms != conf->interval_ms;
	sched_tls_clear(sc);
	free(sc->helo);
	sc->helo = xstrdup(helo);

	/* Rebuild the list in the new file's order. */
	TAILQ_INIT(&keep);
	for (i = 0; i < conf->nrelays; i++) {
		cr = &conf->relays[i];
		TAILQ_FOREACH(sr, &sc->relays, entry)
			if (strcmp(sr->name, cr->name) == 0)
				break;
		if (sr != NULL && conf_relay_equal(sr->conf, cr)) {
			TAILQ_REMOVE(&sc->relays, sr, entry);
			sr->conf = cr;
			TAILQ_INSERT_TAIL(&keep, sr, entry);
			continue;
		}
		sr = sched_relay_new(sc, cr);
		/* New and changed relays run now if a link is up. */
		if (sc->online)
			relay_want(&sr->rl, RELAY_T_RELOAD);
		TAILQ_INSERT_TAIL(&keep, sr, entry);
	}
	/* What is left was removed or changed: finish in-flight sessions. */
	while ((sr = TAILQ_FIRST(&sc->relays)) != NULL) {
		TAILQ_REMOVE(&sc->relays, sr, entry);
		if (sr->rl.state == RELAY_S_QUEUED)
			TAILQ_REMOVE(&sc->queue, sr, qentry);
		sr->conf = NULL;
		sched_forget_waiters(sr);
		runlog_relay_retire(&sr->log,
		    conf_relay_find(conf, sr->name) == NULL);
		if (sr->session != NULL) {
			log_info("relay %s: removed or changed; letting its "
			    "session finish", sr->name);
			TAILQ_INSERT_TAIL(&sc->dying, sr, entry);
		} else
			/* Between two sessions of a run: it ends here. */
			sched_relay_free(sr);
	}
	TAILQ_CONCAT(&sc->relays, &keep, entry);
	sc->conf = conf;
	/* Windows open watch a new local-smtp port from their next poll. */
	runlog_configure(sc->runlog, conf);
	if (interval_changed)
		sched_arm_interval(sc);
	sched_kick(sc);
	sched_pump(sc);
	sched_check_waiters(sc);
	sched_changed(sc);
}

void
sched_set_online(struct sched *sc, bool online)
{
	struct sched_relay	*sr;

	if (sc->online == online)
		return;
	sc->online = online;
	if (online) {
		sched_changed(sc);
		return;
	}
	evtimer_del(sc->settle_ev);
	TAILQ_FOREACH(sr, &sc->relays, entry) {
		if (!relay_on_offline(&sr->rl))
			continue;
		evtimer_del(sr->retry_ev);
		log_info("relay %s: no watched link is up; retrying when one "
		    "comes up", sr->name);
		sched_trace(sr);
	}
	sched_changed(sc);
}

void
sched_on_link_up(struct sched *sc)
{
	struct sched_relay	*sr;
	struct timeval		 tv;
	uint64_t		 now = now_ms();
	bool			 held = false, now_runs = false;

	if (sc->shutting_down)
		return;
	if (sc->conf->settle_ms > 0) {
		/* settle: after the last link-up; re-arming restarts it. */
		tv = ms_to_tv(sc->conf->settle_ms);
		evtimer_add(sc->settle_ev, &tv);
		return;
	}
	/*
	 * hold-down, per relay: a link-up runs now where no run of the
	 * relay opened a window lately, and once more at its end elsewhere.
	 */
	TAILQ_FOREACH(sr, &sc->relays, entry) {
		if (holddown_edge(&sr->hold, now)) {
			relay_want(&sr->rl, RELAY_T_LINKUP);
			now_runs = true;
		} else {
			log_debug("relay %s: link-up inside the hold-down: one "
			    "more run when it ends", sr->name);
			held = true;
		}
	}
	if (now_runs)
		sched_kick(sc);
	if (held)
		sched_arm_hold(sc);
}

void
sched_on_network_change(struct sched *sc)
{
	struct timeval	tv = { 0, 0 };

	/* A burst of route messages is handled once, on the next turn. */
	if (!sc->shutting_down)
		evtimer_add(sc->net_ev, &tv);
}

/* A session whose address or route went away is dead: end it now. */
static void
sched_check_paths(struct relay_list *list)
{
	struct sched_relay	*sr;

	/* session_lost() ends the session from a timer, not in here. */
	TAILQ_FOREACH(sr, list, entry)
		if (sr->session != NULL && session_path_lost(sr->session)) {
			log_info("relay %s: the connection's link, address or "
			    "route went away; ending it", sr->name);
			session_lost(sr->session);
		}
}

static void
sched_net_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct sched		*sc = arg;
	struct sched_relay	*sr;
	bool			 any = false, was;

	(void)fd;
	(void)ev;
	reach_net_changed(&sc->net);
	sched_check_paths(&sc->relays);
	sched_check_paths(&sc->dying);
	TAILQ_FOREACH(sr, &sc->relays, entry) {
		was = sr->unreachable;
		sched_route_update(sr);
		if (sc->online && sched_route_back(sr, was))
			any = true;
	}
	sched_changed(sc);
	if (!sc->online)
		return;
	TAILQ_FOREACH(sr, &sc->relays, entry)
		if (relay_on_network(&sr->rl)) {
			log_debug("relay %s: the network changed; trying now",
			    sr->name);
			any = true;
		}
	if (any)
		sched_kick(sc);
}

/* Answer the waiters whose runs are over (sched_run()'s, on the next
 * turn: never from inside the call). */
static void
sched_wait_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	sched_check_waiters(arg);
}

/* The gate is open: act on every relay's due run. */
static void
sched_run_due(struct sched *sc)
{
	struct sched_relay	*sr;

	TAILQ_FOREACH(sr, &sc->relays, entry)
		sched_decide(sr);
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
	sched_run_due(sc);
}

/* Run the due relays now, or once local-smtp accepts connections. */
static void
sched_kick(struct sched *sc)
{
	if (sc->shutting_down)
		return;
	if (sc->conf->local_smtp_host == NULL) {
		sched_run_due(sc);
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
sched_trigger_all(struct sched *sc, enum relay_trigger why)
{
	struct sched_relay	*sr;

	if (sc->shutting_down)
		return;
	TAILQ_FOREACH(sr, &sc->relays, entry)
		relay_want(&sr->rl, why);
	sched_kick(sc);
}

int
sched_run(struct sched *sc, char * const *names, size_t n, unsigned flags,
    sched_run_cb cb, void *arg, struct sched_waiter **waiterp,
    const char **unknown)
{
	struct sched_waiter	*w;
	struct sched_relay	*sr;
	size_t			 i, k;

	*waiterp = NULL;
	if (sc->shutting_down) {
		errno = ESHUTDOWN;
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!sched_has_relay(sc, names[i])) {
			*unknown = names[i];
			errno = ENOENT;
			return -1;
		}
	}
	w = xcalloc(1, sizeof(*w));
	w->sc = sc;
	w->cb = cb;
	w->arg = arg;
	w->flags = flags;
	k = 0;
	TAILQ_FOREACH(sr, &sc->relays, entry) {
		for (i = 0; i < n; i++)
			if (strcmp(sr->name, names[i]) == 0)
				break;
		if (n > 0 && i == n)
			continue;
		w->w = xreallocarray(w->w, k + 1, sizeof(*w->w));
		w->w[k].relay = sr;
		w->w[k].target = 0;
		k++;
		relay_want(&sr->rl, RELAY_T_MANUAL);
	}
	w->n = k;
	if (cb != NULL) {
		struct timeval	tv = { 0, 0 };

		TAILQ_INSERT_TAIL(&sc->waiters, w, entry);
		*waiterp = w;
		w->ref = waiterp;
		/* Nothing to wait for (no relay) is answered too. */
		evtimer_add(sc->wait_ev, &tv);
	} else {
		free(w->w);
		free(w);
	}
	sched_kick(sc);
	return 0;
}

bool
sched_has_relay(const struct sched *sc, const char *name)
{
	const struct sched_relay	*sr;

	TAILQ_FOREACH(sr, &sc->relays, entry)
		if (strcmp(sr->name, name) == 0)
			return true;
	return false;
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
	struct sched_relay	*sr;

	sc->shutting_down = true;
	probe_free(sc->probe);
	sc->probe = NULL;
	evtimer_del(sc->settle_ev);
	evtimer_del(sc->hold_ev);
	evtimer_del(sc->net_ev);
	evtimer_del(sc->interval_ev);
	while ((sr = TAILQ_FIRST(&sc->queue)) != NULL)
		TAILQ_REMOVE(&sc->queue, sr, qentry);
	runlog_shutdown(sc->runlog);
	TAILQ_FOREACH(sr, &sc->relays, entry) {
		relay_stop(&sr->rl);
		sched_trace(sr);
		evtimer_del(sr->retry_ev);
		if (sr->session != NULL)
			session_shutdown(sr->session);
	}
	TAILQ_FOREACH(sr, &sc->dying, entry)
		session_shutdown(sr->session);
	/* Nothing more will run: answer everyone who waits. */
	TAILQ_FOREACH(sr, &sc->relays, entry)
		sched_forget_waiters(sr);
	sched_check_waiters(sc);
	sched_check_idle(sc);
}

bool
sched_busy(const struct sched *sc)
{
	/* --once waits for the verdicts of the windows its runs opened. */
	return sc->nsessions > 0 || !TAILQ_EMPTY(&sc->queue) ||
	    sc->probe != NULL || (sc->once && runlog_busy(sc->runlog));
}

void
sched_foreach(const struct sched *sc, sched_relay_fn fn, void *arg)
{
	const struct sched_relay		*sr;
	struct sched_relay_info		 ri;
	struct sched_domain_info	*di;
	struct flushwatch_result	 live;
	uint64_t			 now = now_ms();
	size_t				 i;

	TAILQ_FOREACH(sr, &sc->relays, entry) {
		di = xcalloc(sr->rl.ndoms, sizeof(*di));
		memset(&ri, 0, sizeof(ri));
		ri.name = sr->name;
		ri.host = sr->conf->host;
		ri.port = sr->conf->port;
		ri.state = sr->rl.state;
		ri.failures = sr->rl.failures;
		if (reach_route(&sr->reach) != NULL)
			ri.route = sc->online || sc->once ?
			    reach_route(&sr->reach) :
			    "link down";
		for (i = 0; i < sr->rl.ndoms; i++) {
			di[i].domain = sr->rl.doms[i].arg;
			di[i].last = &sr->rl.doms[i].last;
			di[i].last_ok = sr->rl.doms[i].last_ok;
			di[i].last_try = sr->rl.doms[i].last_try;
			if (di[i].last_ok > ri.last_success)
				ri.last_success = di[i].last_ok;
		}
		if (relay_timer_armed(&sr->rl))
			/* Rounded up: never shown before it happens. */
			ri.next_retry = wall_s() + (int64_t)((sr->rl.retry_at >
			    now ? sr->rl.retry_at - now : 0) + 999) / 1000;
		ri.domains = di;
		ri.ndomains = sr->rl.ndoms;
		ri.flush = runlog_flush_info(&sr->log, &live,
		    &ri.flush_last_run);
		fn(&ri, arg);
		free(di);
	}
}

const struct history *
sched_history(const struct sched *sc)
{
	return runlog_history(sc->runlog);
}

const struct metrics *
sched_metrics(const struct sched *sc)
{
	return runlog_metrics(sc->runlog);
}
