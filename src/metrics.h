/* SPDX-License-Identifier: ISC */
/*
 * metrics: etrnd's counters since it started (runs by relay and trigger,
 * ETRN results by relay and class, flush verdicts by relay), and the
 * OpenMetrics text exposition of them together with the gauges read at
 * render time from the relays (state, last success, sessions open) and the
 * links (up or not): `etrnctl metrics`, and the textfile that
 * metrics-file names for node_exporter, written whole and renamed into
 * place.  Counting is pure; only metrics_write_file() touches a file, and
 * nothing here logs.  Counters of a relay that a reload removed are
 * dropped by metrics_forget() (its series end); a relay kept keeps them.
 */
#ifndef ETRND_METRICS_H
#define ETRND_METRICS_H

#include <stdint.h>

#include "etrn.h"
#include "flushwatch.h"
#include "relay.h"
#include "report.h"

struct linkstate;
struct metrics;

struct metrics	*metrics_new(int64_t started);	/* wall seconds */
void		 metrics_free(struct metrics *);

/* A run of relay started. */
void		 metrics_on_run(struct metrics *, const char *relay,
		    enum relay_trigger);
/* One domain's result (never ETRN_R_NONE). */
void		 metrics_on_result(struct metrics *, const char *relay,
		    enum etrn_class);
/* A run's window closed with a final verdict. */
void		 metrics_on_flush(struct metrics *, const char *relay,
		    const struct flushwatch_result *);
/* A reload removed the relay (or changed it into a new one). */
void		 metrics_forget(struct metrics *, const char *relay);

/*
 * The exposition (OpenMetrics 1.0 text, "# EOF" last), one line per call
 * of fn: the counters, and the gauges of the relays and links given
 * (links NULL: no link monitor, none shown).  Every relay of rr is shown,
 * its counters at zero before its first run; a relay's label value is its
 * name as status shows it (str_vis()).
 */
void		 metrics_render(const struct metrics *,
		    const struct report_relays *, const struct linkstate *links,
		    report_line_fn, void *arg);
/*
 * The same samples into path, atomically, in the Prometheus text format
 * 0.0.4 that node_exporter's textfile collector parses (TYPE and HELP name
 * a counter's _total samples; no UNIT, no EOF): a temporary file beside it
 * (PATH.XXXXXX, which the collector's *.prom skips), written, fsync'd,
 * renamed over it; mode 0644.  0, or -1 with errno (the temporary file
 * removed, path as it was).
 */
int		 metrics_write_file(const struct metrics *, const char *path,
		    const struct report_relays *, const struct linkstate *links);

#endif
