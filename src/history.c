/* SPDX-License-Identifier: ISC */
/*
 * history: the last HISTORY_RUNS runs in a ring (see history.h).  Ids are
 * handed out in order and the ring drops only its oldest run, so the runs
 * kept always hold consecutive ids: a run is found by arithmetic, and an id
 * below the oldest or beyond the newest is simply not there.
 */
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "history.h"
#include "util.h"

struct history {
	struct history_run	 runs[HISTORY_RUNS];
	size_t			 first;		/* the oldest run's slot */
	size_t			 n;
	uint64_t		 next_id;
};

/* A copy of at most max bytes of s: what the configuration allows. */
static char *
history_strdup(const char *s, size_t max)
{
	size_t	 len = strnlen(s, max);
	char	*p;

	p = xcalloc(1, len + 1);
	memcpy(p, s, len);
	return p;
}

static void
history_run_clear(struct history_run *run)
{
	size_t	 i;

	for (i = 0; i < run->ndoms; i++) {
		free(run->doms[i].domain);
		free(run->doms[i].sent);
	}
	free(run->doms);
	free(run->relay);
	memset(run, 0, sizeof(*run));
}

struct history *
history_new(void)
{
	struct history	*h;

	h = xcalloc(1, sizeof(*h));
	h->next_id = 1;
	return h;
}

void
history_free(struct history *h)
{
	size_t	 i;

	if (h == NULL)
		return;
	for (i = 0; i < h->n; i++)
		history_run_clear(&h->runs[(h->first + i) % HISTORY_RUNS]);
	free(h);
}

/* The run with this id, or NULL when it left the ring or never was. */
static struct history_run *
history_find(struct history *h, uint64_t id)
{
	uint64_t	 oldest;

	if (h->n == 0)
		return NULL;
	oldest = h->runs[h->first].id;
	if (id < oldest || id - oldest >= h->n)
		return NULL;
	return &h->runs[(h->first + (size_t)(id - oldest)) % HISTORY_RUNS];
}

uint64_t
history_begin(struct history *h, const char *relay,
    enum relay_trigger trigger, int64_t wall)
{
	struct history_run	*run;

	if (h->n == HISTORY_RUNS) {
		history_run_clear(&h->runs[h->first]);
		h->first = (h->first + 1) % HISTORY_RUNS;
		h->n--;
	}
	run = &h->runs[(h->first + h->n) % HISTORY_RUNS];
	h->n++;
	run->id = h->next_id++;
	run->relay = history_strdup(relay, CONF_DOMAIN_MAX);
	run->trigger = trigger;
	run->started = wall;
	return run->id;
}

void
history_result(struct history *h, uint64_t id, const char *domain,
    const char *sent, const struct etrn_result *res)
{
	struct history_run	*run;
	struct history_domain	*d = NULL;
	size_t			 i;

	if ((run = history_find(h, id)) == NULL)
		return;
	for (i = 0; i < run->ndoms; i++)
		if (strncmp(run->doms[i].domain, domain, CONF_DOMAIN_MAX) == 0) {
			d = &run->doms[i];
			break;
		}
	if (d == NULL) {
		if (run->ndoms == HISTORY_DOMAINS_MAX) {
			run->ndropped++;
			return;
		}
		/* Grown one at a time: a run asks a handful of domains. */
		run->doms = xreallocarray(run->doms, run->ndoms + 1,
		    sizeof(*run->doms));
		d = &run->doms[run->ndoms++];
		d->domain = history_strdup(domain, CONF_DOMAIN_MAX);
	} else
		free(d->sent);
	/* "#" or "@" and the domain. */
	d->sent = sent != NULL ? history_strdup(sent, CONF_DOMAIN_MAX + 1) :
	    NULL;
	d->res = *res;
}

void
history_end(struct history *h, uint64_t id, int64_t wall)
{
	struct history_run	*run;

	if ((run = history_find(h, id)) != NULL)
		run->ended = wall;
}

void
history_flush(struct history *h, uint64_t id,
    const struct flushwatch_result *res)
{
	struct history_run	*run;

	if ((run = history_find(h, id)) == NULL)
		return;
	run->has_flush = true;
	run->flush = *res;
}

void
history_foreach(const struct history *h, const char *relay, history_fn fn,
    void *arg)
{
	const struct history_run	*run;
	size_t				 i;

	for (i = 0; i < h->n; i++) {
		run = &h->runs[(h->first + i) % HISTORY_RUNS];
		if (relay == NULL || strcmp(run->relay, relay) == 0)
			fn(run, arg);
	}
}
