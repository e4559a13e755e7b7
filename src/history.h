/* SPDX-License-Identifier: ISC */
/*
 * history: the last runs of every relay, kept in memory for `etrnctl
 * history`: when and why each started, each domain's reply, and what came
 * back (flushwatch_result, filled in when the run's window closes).  One
 * ring of at most HISTORY_RUNS runs for all relays: the oldest goes first.
 * Nothing survives a restart.  Pure: no clock, no logging; the caller
 * passes the times.  A run is named by the id history_begin() gave it; an
 * id whose run has left the ring is ignored.
 */
#ifndef ETRND_HISTORY_H
#define ETRND_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etrn.h"
#include "flushwatch.h"
#include "relay.h"

#define HISTORY_RUNS	64	/* runs kept, every relay's together */
#define HISTORY_DOMAINS_MAX 64	/* domains kept per run; the rest counted */

struct history_domain {
	char			*domain;	/* as written */
	char			*sent;		/* what went out, if not that
						 * ("#example.org"); or NULL */
	struct etrn_result	 res;
};

struct history_run {
	uint64_t		 id;		/* from 1, increasing */
	char			*relay;
	enum relay_trigger	 trigger;
	int64_t			 started;	/* wall seconds */
	int64_t			 ended;		/* wall seconds, 0: running */
	struct history_domain	*doms;		/* in the order answered */
	size_t			 ndoms;
	size_t			 ndropped;	/* more domains answered than
						 * HISTORY_DOMAINS_MAX */
	bool			 has_flush;	/* a window was opened */
	struct flushwatch_result flush;		/* its verdict so far */
};

struct history;

struct history	*history_new(void);
void		 history_free(struct history *);

/* A run of relay started at wall, for trigger: its id. */
uint64_t	 history_begin(struct history *, const char *relay,
		    enum relay_trigger, int64_t wall);
/*
 * One domain's result (sent NULL: the domain as written went out).  A
 * domain answered again in the same run (a second session's) keeps its
 * place and takes the new result.
 */
void		 history_result(struct history *, uint64_t id,
		    const char *domain, const char *sent,
		    const struct etrn_result *);
/* The run's last session ended. */
void		 history_end(struct history *, uint64_t id, int64_t wall);
/* What its flush window found, as often as it changes. */
void		 history_flush(struct history *, uint64_t id,
		    const struct flushwatch_result *);

/* The runs kept, oldest first, of relay (NULL: every relay's). */
typedef void	(*history_fn)(const struct history_run *, void *arg);
void		 history_foreach(const struct history *, const char *relay,
		    history_fn, void *arg);

#endif
