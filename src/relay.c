/* SPDX-License-Identifier: ISC */
/*
 * relay: one relay's run policy; see relay.h.  A domain's last result is
 * the one source of truth for what a retry asks again and for what
 * status shows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "relay.h"
#include "util.h"

static const char *state_names[] = {
	[RELAY_S_IDLE] = "idle",
	[RELAY_S_QUEUED] = "queued",
	[RELAY_S_RUNNING] = "running",
	[RELAY_S_BACKOFF] = "backoff",
	[RELAY_S_WAITLINK] = "waitlink",
	[RELAY_S_NOROUTE] = "noroute",
	[RELAY_S_FAILED] = "failed",
};

static const char *trigger_names[] = {
	[RELAY_T_START] = "start",
	[RELAY_T_LINKUP] = "link-up",
	[RELAY_T_MANUAL] = "manual",
	[RELAY_T_RELOAD] = "reload",
	[RELAY_T_INTERVAL] = "interval",
	[RELAY_T_RETRY] = "retry",
};

const char *
relay_state_name(enum relay_state s)
{
	return (size_t)s < nitems(state_names) ? state_names[s] : "?";
}

const char *
relay_trigger_name(enum relay_trigger t)
{
	return (size_t)t < nitems(trigger_names) ? trigger_names[t] : "?";
}

void
relay_init(struct relay *r, char * const *domains, size_t n)
{
	size_t	i;

	memset(r, 0, sizeof(*r));
	r->state = RELAY_S_IDLE;
	r->ndoms = n;
	r->doms = xcalloc(n > 0 ? n : 1, sizeof(*r->doms));
	for (i = 0; i < n; i++) {
		r->doms[i].arg = xstrdup(domains[i]);
		r->doms[i].last.pending = -1;
	}
}

void
relay_deinit(struct relay *r)
{
	size_t	i;

	for (i = 0; i < r->ndoms; i++) {
		free(r->doms[i].arg);
		free(r->doms[i].sent);
	}
	free(r->doms);
	memset(r, 0, sizeof(*r));
}

/* Triggers that mean "the situation changed": forget refusals, backoff. */
static bool
trigger_is_fresh(enum relay_trigger t)
{
	return t != RELAY_T_RETRY && t != RELAY_T_INTERVAL;
}

static bool
domain_is_permanent(const struct relay_domain *d)
{
	return d->last.cls == ETRN_R_REFUSED ||
	    d->last.cls == ETRN_R_UNSUPPORTED;
}

/*
 * Mark what a run for t asks; false if nothing.  add: keep what is marked
 * already (a weaker trigger never drops a domain from a queued run).
 */
static bool
relay_mark(struct relay *r, enum relay_trigger t, bool add)
{
	bool	any = false;
	size_t	i;

	for (i = 0; i < r->ndoms; i++) {
		struct relay_domain *d = &r->doms[i];
		bool was = add && d->todo;

		switch (t) {
		case RELAY_T_RETRY:
			d->todo = d->last.cls == ETRN_R_TEMP ||
			    d->last.cls == ETRN_R_NONE;
			break;
		case RELAY_T_INTERVAL:
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

void
relay_want(struct relay *r, enum relay_trigger t)
{
	/* The bound of a wait for a route asks what that run was for. */
	if (t == RELAY_T_RETRY && r->state == RELAY_S_NOROUTE)
		t = r->wake_why;
	if (!r->pending || t < r->pending_why)
		r->pending_why = t;
	r->pending = true;
	/* Asked by hand: tried even with no route (a link-up coalesced
	 * with it must not turn that off). */
	if (t == RELAY_T_MANUAL)
		r->manual = true;
}

struct relay_step
relay_decide(struct relay *r, const struct relay_env *env)
{
	struct relay_step	 step = { .action = RELAY_A_NONE };
	enum relay_trigger	 t = r->pending_why;
	bool			 manual;

	if (!r->pending)
		return step;
	if (env->stopping) {
		r->pending = false;
		r->manual = false;
		return step;
	}
	if (r->state == RELAY_S_RUNNING) {
		/* Coalesce: one more run when this one ends. */
		step.target = r->run_seq + 1;
		return step;
	}
	if (env->held)
		return step;
	r->pending = false;
	manual = r->manual;
	r->manual = false;
	if (trigger_is_fresh(t)) {
		r->failures = 0;
		r->fail_since = 0;
	}
	if (r->state == RELAY_S_QUEUED) {
		relay_mark(r, t, true);
		step.target = r->run_seq;
		return step;
	}
	if (t == RELAY_T_RETRY && !env->online && !env->once) {
		r->state = RELAY_S_WAITLINK;
		return step;
	}
	/* No route yet: nothing to try before the network changes.  Asked
	 * by hand, try anyway and say what happened. */
	if (env->noroute && !env->once && !manual) {
		step.delay = env->retry_min_ms;
		r->retry_at = env->now + step.delay;
		r->state = RELAY_S_NOROUTE;
		r->wake_why = t;
		step.action = RELAY_A_ARM;
		step.note = RELAY_N_NOROUTE;
		return step;
	}
	r->run_seq++;
	r->run_why = t;
	step.target = r->run_seq;
	if (!relay_mark(r, t, false)) {
		r->done_seq = r->run_seq;
		r->state = RELAY_S_IDLE;
		step.note = RELAY_N_NOTHING;
		step.ended = true;
		return step;
	}
	step.action = RELAY_A_OPEN;
	return step;
}

size_t
relay_take_chunk(struct relay *r, char **args)
{
	size_t	i;

	r->nchunk = 0;
	for (i = 0; i < r->ndoms && r->nchunk < nitems(r->chunk); i++) {
		if (!r->doms[i].todo)
			continue;
		r->doms[i].todo = false;
		args[r->nchunk] = r->doms[i].sent != NULL ?
		    r->doms[i].sent : r->doms[i].arg;
		r->chunk[r->nchunk++] = i;
	}
	r->state = RELAY_S_RUNNING;
	return r->nchunk;
}

void
relay_queue(struct relay *r)
{
	r->state = RELAY_S_QUEUED;
}

bool
relay_timer_armed(const struct relay *r)
{
	return r->state == RELAY_S_BACKOFF || r->state == RELAY_S_NOROUTE;
}

size_t
relay_ntemp(const struct relay *r)
{
	size_t	i, n = 0;

	for (i = 0; i < r->ndoms; i++)
		if (r->doms[i].last.cls == ETRN_R_TEMP)
			n++;
	return n;
}

/* Every temporary failure is "not reachable yet". */
static bool
relay_unreachable(const struct relay *r)
{
	size_t	i;

	for (i = 0; i < r->ndoms; i++)
		if (r->doms[i].last.cls == ETRN_R_TEMP &&
		    r->doms[i].last.fail != ETRN_F_NOROUTE)
			return false;
	return true;
}

/* The run is over: success resets the backoff, failure arms it. */
static struct relay_step
relay_run_done(struct relay *r, const struct relay_env *env)
{
	struct relay_step	step = { .action = RELAY_A_NONE, .ended = true };

	if (relay_ntemp(r) == 0) {
		r->failures = 0;
		r->fail_since = 0;
		r->state = RELAY_S_IDLE;
	} else if (relay_unreachable(r)) {
		/* Not a failure: no backoff, nothing counted. */
		if (env->once || env->stopping)
			r->state = RELAY_S_IDLE;
		else if (!env->online) {
			r->state = RELAY_S_WAITLINK;
			step.note = RELAY_N_WAITLINK;
		} else {
			step.delay = env->retry_min_ms;
			r->retry_at = env->now + step.delay;
			r->state = RELAY_S_NOROUTE;
			r->wake_why = RELAY_T_RETRY;
			step.action = RELAY_A_ARM;
			step.note = RELAY_N_NOROUTE;
		}
	} else {
		r->failures++;
		if (r->fail_since == 0)
			r->fail_since = env->now;
		if (env->once || env->stopping)
			r->state = RELAY_S_IDLE;
		else if (env->now - r->fail_since >= env->give_up_ms) {
			r->state = RELAY_S_FAILED;
			step.note = RELAY_N_GAVE_UP;
		} else if (!env->online) {
			r->state = RELAY_S_WAITLINK;
			step.note = RELAY_N_WAITLINK;
		} else {
			step.delay = backoff_delay(env->retry_min_ms,
			    env->retry_max_ms, r->failures, env->random);
			r->retry_at = env->now + step.delay;
			r->state = RELAY_S_BACKOFF;
			step.action = RELAY_A_ARM;
			step.note = RELAY_N_BACKOFF;
		}
	}
	r->done_seq = r->run_seq;
	/* A retry or interval run now would only skip the backoff. */
	if (r->pending && (r->state == RELAY_S_BACKOFF ||
	    r->state == RELAY_S_NOROUTE) && !trigger_is_fresh(r->pending_why))
		r->pending = false;
	return step;
}

/* A temporary reply the server gave to ETRN itself (not a 421: that one
 * closes the connection, for any reason). */
static bool
result_is_temp_reply(const struct etrn_result *res)
{
	return res->cls == ETRN_R_TEMP && res->fail == ETRN_F_REPLY &&
	    res->etrn_reply && res->code != 421;
}

/* How many identical temporary replies in a row res makes for d. */
static unsigned
relay_same_temp(const struct relay_domain *d, const struct etrn_result *res)
{
	if (!result_is_temp_reply(res))
		return 0;
	if (d->same_temp > 0 && d->last.code == res->code &&
	    strcmp(d->last.text, res->text) == 0)
		return d->same_temp + 1;
	return 1;
}

bool
relay_temp_is_refusal(const struct relay_domain *d,
    const struct etrn_result *res)
{
	return relay_same_temp(d, res) >= RELAY_SAME_TEMP_MAX;
}

const char *
relay_sent_arg(const struct relay_domain *d, const struct etrn_result *res,
    char *buf, size_t len)
{
	if (res->form == ETRN_FORM_WRITTEN || d->sent != NULL)
		return d->sent != NULL ? d->sent : d->arg;
	snprintf(buf, len, "%s%s", etrn_form_prefix(res->form), d->arg);
	return buf;
}

/* Remember the form the server asked for, once: the next sessions send it. */
static void
relay_learn_form(struct relay_domain *d, enum etrn_form form)
{
	size_t	len = strlen(etrn_form_prefix(form)) + strlen(d->arg) + 1;

	if (form == ETRN_FORM_WRITTEN || d->sent != NULL)
		return;
	d->form = form;
	d->sent = xcalloc(1, len);
	snprintf(d->sent, len, "%s%s", etrn_form_prefix(form), d->arg);
}

/* Record one domain's result; true if it is to be asked again now. */
static bool
relay_record(struct relay_domain *d, const struct etrn_result *res,
    bool progress, const struct relay_env *env)
{
	unsigned	same;

	relay_learn_form(d, res->form);
	if (res->cls == ETRN_R_NONE) {
		/* Not asked: the session's limit.  The next session asks. */
		d->last.form = d->form;
		return progress;
	}
	same = relay_same_temp(d, res);
	d->last = *res;
	d->last.form = d->form;
	d->same_temp = same;
	if (same >= RELAY_SAME_TEMP_MAX) {
		d->last.cls = ETRN_R_REFUSED;
		d->last.detail = ETRN_D_REPEATED;
	}
	d->last_try = env->wall;
	if (res->cls == ETRN_R_OK)
		d->last_ok = env->wall;
	return false;
}

struct relay_step
relay_on_results(struct relay *r, const struct etrn_result *res, size_t n,
    const struct relay_env *env)
{
	struct relay_step	 step = { .action = RELAY_A_NONE };
	bool			 more = false, progress = false;
	size_t			 i;

	/* A session that asked nothing must not be followed by another. */
	for (i = 0; i < n && i < r->nchunk; i++)
		progress |= res[i].cls != ETRN_R_NONE;
	for (i = 0; i < n && i < r->nchunk; i++) {
		struct relay_domain *d = &r->doms[r->chunk[i]];

		if (relay_record(d, &res[i], progress, env))
			d->todo = true;
	}
	r->nchunk = 0;
	for (i = 0; i < r->ndoms; i++)
		more |= r->doms[i].todo;
	if (more && !env->stopping) {
		/* More than CONF_ETRN_PER_SESSION: the next session. */
		step.action = RELAY_A_OPEN;
		return step;
	}
	for (i = 0; i < r->ndoms; i++)
		r->doms[i].todo = false;
	return relay_run_done(r, env);
}

bool
relay_on_network(struct relay *r)
{
	if (r->state != RELAY_S_NOROUTE)
		return false;
	relay_want(r, r->wake_why);
	return true;
}

bool
relay_on_offline(struct relay *r)
{
	if (r->state != RELAY_S_BACKOFF && r->state != RELAY_S_NOROUTE)
		return false;
	r->state = RELAY_S_WAITLINK;
	return true;
}

void
relay_stop(struct relay *r)
{
	r->pending = false;
	r->manual = false;
	if (r->state == RELAY_S_QUEUED)
		r->state = RELAY_S_IDLE;
}
