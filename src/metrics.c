/* SPDX-License-Identifier: ISC */
/*
 * metrics: the counters, and their exposition (see metrics.h).
 *
 * Every relay of the configuration is shown, with zero counters before its
 * first run, so that the series exist before anything happens (rate() and
 * increase() need a first sample); counters kept for a relay no longer
 * configured (not forgotten yet) follow.  A relay's name is shown as
 * status shows it (str_vis(): backslash and bytes outside printable ASCII
 * as \xNN), so a label value is ASCII and the same string as etrnctl
 * status --json's; then escaped for the format (\\, \", \n).
 *
 * etrnd_relay_last_success_timestamp_seconds has no sample for a relay
 * that has not succeeded since etrnd started: a 0 would read as a success
 * in 1970, and "time() - last success" alerts would fire at every
 * restart.  Alert on a relay that never succeeds with etrnd_runs_total
 * and etrnd_etrn_results_total instead.
 *
 * Two formats: OpenMetrics 1.0 for etrnctl metrics, and for the file the
 * Prometheus text format 0.0.4 that node_exporter's textfile collector
 * parses (the same samples; TYPE and HELP name a counter's _total
 * samples, and there are no UNIT or EOF lines).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "conf.h"
#include "linkstate.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#define METRICS_NTRIGGERS	(RELAY_T_RETRY + 1)

/* The classes of a domain's result counted: ETRN_R_NONE is no result. */
static const enum etrn_class metrics_classes[] = {
	ETRN_R_OK, ETRN_R_TEMP, ETRN_R_REFUSED, ETRN_R_UNSUPPORTED,
};
/* The final verdicts: a window still open is not counted. */
static const enum flushwatch_verdict metrics_verdicts[] = {
	FLUSHWATCH_DELIVERED, FLUSHWATCH_NOTHING, FLUSHWATCH_NOT_OBSERVABLE,
};

struct metrics_relay {
	char		*name;
	uint64_t	 runs[METRICS_NTRIGGERS];
	uint64_t	 results[nitems(metrics_classes)];
	uint64_t	 verdicts[nitems(metrics_verdicts)];
	uint64_t	 conns;		/* from the relay, in flush windows */
};

struct metrics {
	int64_t			 started;
	struct metrics_relay	*relays;
	size_t			 nrelays;
};

struct metrics *
metrics_new(int64_t started)
{
	struct metrics	*m;

	m = xcalloc(1, sizeof(*m));
	m->started = started;
	return m;
}

void
metrics_free(struct metrics *m)
{
	size_t	 i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nrelays; i++)
		free(m->relays[i].name);
	free(m->relays);
	free(m);
}

static struct metrics_relay *
metrics_find(const struct metrics *m, const char *relay)
{
	size_t	 i;

	for (i = 0; i < m->nrelays; i++)
		if (strcmp(m->relays[i].name, relay) == 0)
			return &m->relays[i];
	return NULL;
}

/* The relay's counters, new ones at zero. */
static struct metrics_relay *
metrics_get(struct metrics *m, const char *relay)
{
	struct metrics_relay	*mr;

	if ((mr = metrics_find(m, relay)) != NULL)
		return mr;
	m->relays = xreallocarray(m->relays, m->nrelays + 1,
	    sizeof(*m->relays));
	mr = &m->relays[m->nrelays++];
	memset(mr, 0, sizeof(*mr));
	mr->name = xstrdup(relay);
	return mr;
}

void
metrics_on_run(struct metrics *m, const char *relay,
    enum relay_trigger trigger)
{
	if ((size_t)trigger < METRICS_NTRIGGERS)
		metrics_get(m, relay)->runs[trigger]++;
}

void
metrics_on_result(struct metrics *m, const char *relay, enum etrn_class cls)
{
	size_t	 i;

	for (i = 0; i < nitems(metrics_classes); i++)
		if (metrics_classes[i] == cls)
			metrics_get(m, relay)->results[i]++;
}

void
metrics_on_flush(struct metrics *m, const char *relay,
    const struct flushwatch_result *res)
{
	struct metrics_relay	*mr;
	size_t			 i;

	for (i = 0; i < nitems(metrics_verdicts); i++) {
		if (metrics_verdicts[i] != res->verdict)
			continue;
		mr = metrics_get(m, relay);
		mr->verdicts[i]++;
		mr->conns += res->relay.nconns;
	}
}

void
metrics_forget(struct metrics *m, const char *relay)
{
	struct metrics_relay	*mr;
	size_t			 i;

	if ((mr = metrics_find(m, relay)) == NULL)
		return;
	i = (size_t)(mr - m->relays);
	free(mr->name);
	memmove(mr, mr + 1, (m->nrelays - i - 1) * sizeof(*mr));
	m->nrelays--;
}

/* One relay as the exposition shows it. */
struct metrics_row {
	char				*label;	/* escaped for the format */
	const struct metrics_relay	*c;	/* NULL: all zero */
	bool				 configured;
	enum relay_state		 state;
	int64_t				 last_success;
};

enum metrics_format {
	METRICS_OPENMETRICS,
	METRICS_PROMETHEUS,	/* text format 0.0.4 */
};

struct metrics_render {
	const struct metrics	*m;
	enum metrics_format	 format;
	struct metrics_row	*rows;
	size_t			 nrows;
	report_line_fn		 fn;
	void			*arg;
};

/*
 * s as a label value: its str_vis() form (ASCII, as status shows it),
 * then backslash, double quote and newline escaped as both formats want.
 */
static char *
metrics_label(const char *s, size_t max)
{
	char	*vis, *out, *o;
	size_t	 i;

	vis = xcalloc(1, STR_VIS_LEN(max));
	str_vis(vis, s, max, "");
	o = out = xcalloc(2, strlen(vis) + 1);
	for (i = 0; vis[i] != '\0'; i++) {
		if (vis[i] == '\\' || vis[i] == '"')
			*o++ = '\\';
		if (vis[i] == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else
			*o++ = vis[i];
	}
	*o = '\0';
	free(vis);
	return out;
}

/*
 * A family's metadata.  OpenMetrics names a counter family without its
 * samples' _total suffix; the 0.0.4 format names the samples.
 */
static void
metrics_family(struct metrics_render *mr, const char *name,
    const char *type, const char *unit, const char *help)
{
	const char	*suffix = "";

	if (mr->format == METRICS_PROMETHEUS && strcmp(type, "counter") == 0)
		suffix = "_total";
	report_linef(mr->fn, mr->arg, "# HELP %s%s %s", name, suffix, help);
	report_linef(mr->fn, mr->arg, "# TYPE %s%s %s", name, suffix, type);
	if (mr->format == METRICS_OPENMETRICS && unit != NULL)
		report_linef(mr->fn, mr->arg, "# UNIT %s %s", name, unit);
}

static void
metrics_collect(const struct sched_relay_info *ri, void *arg)
{
	struct metrics_render	*mr = arg;
	struct metrics_row	*row;

	mr->rows = xreallocarray(mr->rows, mr->nrows + 1, sizeof(*mr->rows));
	row = &mr->rows[mr->nrows++];
	row->label = metrics_label(ri->name, CONF_DOMAIN_MAX);
	row->c = metrics_find(mr->m, ri->name);
	row->configured = true;
	row->state = ri->state;
	row->last_success = ri->last_success;
}

/* The relays configured now, then those only counted. */
static void
metrics_rows(struct metrics_render *mr, const struct report_relays *rr)
{
	struct metrics_row	*row;
	size_t			 i, j, nconf;

	rr->foreach(rr->src, metrics_collect, mr);
	nconf = mr->nrows;
	for (i = 0; i < mr->m->nrelays; i++) {
		for (j = 0; j < nconf; j++)
			if (mr->rows[j].c == &mr->m->relays[i])
				break;
		if (j < nconf)
			continue;
		mr->rows = xreallocarray(mr->rows, mr->nrows + 1,
		    sizeof(*mr->rows));
		row = &mr->rows[mr->nrows++];
		memset(row, 0, sizeof(*row));
		row->label = metrics_label(mr->m->relays[i].name,
		    CONF_DOMAIN_MAX);
		row->c = &mr->m->relays[i];
	}
}

static void
metrics_counters(struct metrics_render *mr)
{
	const struct metrics_row	*row;
	size_t				 i, k;

#define COUNT(field)	(row->c != NULL ? (unsigned long long)row->c->field : 0)
	metrics_family(mr, "etrnd_runs", "counter", NULL,
	    "Runs started, by relay and trigger.");
	for (i = 0; i < mr->nrows; i++) {
		row = &mr->rows[i];
		for (k = 0; k < METRICS_NTRIGGERS; k++)
			report_linef(mr->fn, mr->arg, "etrnd_runs_total{"
			    "relay=\"%s\",trigger=\"%s\"} %llu", row->label,
			    relay_trigger_name((enum relay_trigger)k),
			    COUNT(runs[k]));
	}
	metrics_family(mr, "etrnd_etrn_results", "counter", NULL,
	    "Domains asked with ETRN, by relay and the class of the result.");
	for (i = 0; i < mr->nrows; i++) {
		row = &mr->rows[i];
		for (k = 0; k < nitems(metrics_classes); k++)
			report_linef(mr->fn, mr->arg, "etrnd_etrn_results_"
			    "total{relay=\"%s\",class=\"%s\"} %llu", row->label,
			    etrn_class_name(metrics_classes[k]),
			    COUNT(results[k]));
	}
	metrics_family(mr, "etrnd_flush_verdicts", "counter", NULL,
	    "Flush windows after an accepted ETRN, by relay and verdict "
	    "(nothing: nothing came back).");
	for (i = 0; i < mr->nrows; i++) {
		row = &mr->rows[i];
		for (k = 0; k < nitems(metrics_verdicts); k++)
			report_linef(mr->fn, mr->arg, "etrnd_flush_verdicts_"
			    "total{relay=\"%s\",verdict=\"%s\"} %llu",
			    row->label,
			    flushwatch_verdict_name(metrics_verdicts[k]),
			    COUNT(verdicts[k]));
	}
	metrics_family(mr, "etrnd_flush_connections", "counter", NULL,
	    "Inbound SMTP connections from the relay's addresses and its "
	    "delivers-from in flush windows.");
	for (i = 0; i < mr->nrows; i++) {
		row = &mr->rows[i];
		report_linef(mr->fn, mr->arg, "etrnd_flush_connections_total"
		    "{relay=\"%s\"} %llu", row->label, COUNT(conns));
	}
#undef COUNT
}

static void
metrics_gauges(struct metrics_render *mr, const struct linkstate *links)
{
	struct linkstate_info		 li;
	const struct metrics_row	*row;
	char				*label;
	size_t				 i, k, open = 0;

	metrics_family(mr, "etrnd_relay_last_success_timestamp_seconds",
	    "gauge", "seconds", "When the relay last succeeded, since etrnd "
	    "started (no sample before that).");
	for (i = 0; i < mr->nrows; i++) {
		row = &mr->rows[i];
		if (row->configured && row->last_success > 0)
			report_linef(mr->fn, mr->arg, "etrnd_relay_last_"
			    "success_timestamp_seconds{relay=\"%s\"} %lld",
			    row->label,
			    (long long)row->last_success);
	}
	metrics_family(mr, "etrnd_relay_state", "gauge", NULL,
	    "The relay's state: 1 for the one it is in, 0 for the others.");
	for (i = 0; i < mr->nrows; i++) {
		row = &mr->rows[i];
		if (!row->configured)
			continue;
		open += row->state == RELAY_S_RUNNING;
		for (k = 0; k < RELAY_NSTATES; k++)
			report_linef(mr->fn, mr->arg, "etrnd_relay_state{"
			    "relay=\"%s\",state=\"%s\"} %d", row->label,
			    relay_state_name((enum relay_state)k),
			    row->state == k);
	}
	metrics_family(mr, "etrnd_sessions_open", "gauge", NULL,
	    "Relays with an ETRN session under way.");
	report_linef(mr->fn, mr->arg, "etrnd_sessions_open %zu", open);
	metrics_family(mr, "etrnd_link_up", "gauge", NULL,
	    "Whether a watched link is usable: up, with carrier and a global "
	    "address.");
	for (i = 0; links != NULL && linkstate_get(links, i, &li); i++) {
		label = metrics_label(li.name, IFNAMSIZ);
		report_linef(mr->fn, mr->arg, "etrnd_link_up{link=\"%s\"} %d",
		    label, li.usable);
		free(label);
	}
}

static void
metrics_render_as(const struct metrics *m, enum metrics_format format,
    const struct report_relays *rr, const struct linkstate *links,
    report_line_fn fn, void *arg)
{
	struct metrics_render	 mr;
	size_t			 i;

	memset(&mr, 0, sizeof(mr));
	mr.m = m;
	mr.format = format;
	mr.fn = fn;
	mr.arg = arg;
	metrics_rows(&mr, rr);
	metrics_family(&mr, "etrnd_start_time_seconds", "gauge", "seconds",
	    "When etrnd started, in seconds since the epoch.");
	report_linef(fn, arg, "etrnd_start_time_seconds %lld",
	    (long long)m->started);
	metrics_counters(&mr);
	metrics_gauges(&mr, links);
	if (format == METRICS_OPENMETRICS)
		fn("# EOF", arg);
	for (i = 0; i < mr.nrows; i++)
		free(mr.rows[i].label);
	free(mr.rows);
}

void
metrics_render(const struct metrics *m, const struct report_relays *rr,
    const struct linkstate *links, report_line_fn fn, void *arg)
{
	metrics_render_as(m, METRICS_OPENMETRICS, rr, links, fn, arg);
}

static void
metrics_buffer_line(const char *line, void *arg)
{
	struct evbuffer	*b = arg;

	if (evbuffer_add_printf(b, "%s\n", line) == -1)
		fatalx("evbuffer_add_printf");
}

/* All of len bytes to fd: 0, or -1 with errno. */
static int
metrics_write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
metrics_write_file(const struct metrics *m, const char *path,
    const struct report_relays *rr, const struct linkstate *links)
{
	struct evbuffer	*b;
	char		*tmp = NULL;
	int		 fd = -1, rc, saved;
	bool		 made = false;

	if ((b = evbuffer_new()) == NULL)
		fatalx("evbuffer_new");
	metrics_render_as(m, METRICS_PROMETHEUS, rr, links,
	    metrics_buffer_line, b);
	/* Beside it, for rename(); not *.prom, so the collector skips it. */
	if (asprintf(&tmp, "%s.XXXXXX", path) == -1)
		fatalx("asprintf");
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		goto fail;
	made = true;
	if (fchmod(fd, 0644) == -1 ||
	    metrics_write_all(fd, evbuffer_pullup(b, -1),
	    evbuffer_get_length(b)) == -1 ||
	    fsync(fd) == -1)
		goto fail;
	rc = close(fd);
	fd = -1;
	if (rc == -1 || rename(tmp, path) == -1)
		goto fail;
	free(tmp);
	evbuffer_free(b);
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	if (made)
		unlink(tmp);
	free(tmp);
	evbuffer_free(b);
	errno = saved;
	return -1;
}
