/* SPDX-License-Identifier: ISC */
/*
 * report: presentation, and only that: how results and state are shown to
 * people and programs.  The result line ("RELAY DOMAIN CLASS CODE TEXT"),
 * a server's reply on one escaped line, the exit rule of --once and
 * `etrnctl run`, systemd's STATUS= text, etrnctl status as a table or as
 * JSON, what came back after ETRN (a flush window's summary and hint),
 * and etrnctl history as text or JSON.  Everything a peer sent is escaped
 * with str_vis() (\xNN), so no escape sequence, C1 control or bidi
 * override reaches a terminal or a log; JSON strings carry that same
 * escaped text, so they are ASCII and always valid.  It reads state
 * (sched_foreach's sched_relay_info, linkstate, control_daemon_info,
 * history) and never changes it; it does not log.
 */
#ifndef ETRND_REPORT_H
#define ETRND_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control.h"
#include "etrn.h"
#include "flushwatch.h"
#include "sched.h"
#include "util.h"

struct history;
struct linkstate;

/* A reply text on one line, escaped: the size that always fits. */
#define REPORT_TEXT_LEN		STR_VIS_LEN(ETRN_TEXT_MAX)
/* A result line: relay and domain (escaped, at most 255 bytes each). */
#define REPORT_LINE_LEN		(2 * STR_VIS_LEN(255) + REPORT_TEXT_LEN + 48)

/* Where rendered lines go, one call per line, without the newline. */
typedef void	(*report_line_fn)(const char *line, void *arg);
/* A report_line_fn that writes each line to the FILE * in arg. */
void		 report_line_stdio(const char *line, void *fp);
/* One line, formatted as printf does, to fn. */
void		 report_linef(report_line_fn fn, void *arg, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));

/* The relays to show: the scheduler's, or a test's table. */
struct report_relays {
	void		(*foreach)(const void *src, sched_relay_fn, void *arg);
	const void	 *src;
};
struct report_relays	 report_relays_of(const struct sched *);

/*
 * A server's reply text on one line: newlines become spaces, backslash and
 * every byte outside printable ASCII \xNN.  Cut to fit len ("..." then).
 * Returns out.
 */
char		*report_reply_text(char *out, size_t len, const char *text);
/*
 * "RELAY DOMAIN CLASS CODE TEXT" (relay NULL: without it, as etrn(1)
 * prints), CODE "-" without a reply, no trailing space without a text.
 * Returns buf.
 */
char		*report_result_line(char *buf, size_t len, const char *relay,
		    const char *domain, const struct etrn_result *);

/* Fold one domain's class into an exit status: 1 > 75 > 0. */
int		 report_exit_merge(int status, enum etrn_class);
/*
 * The result line of every domain of the relays named (all when n is 0)
 * to fn (NULL: none), and the exit status they make: --once, etrnctl run.
 */
int		 report_results(const struct report_relays *,
		    char * const *names, size_t n, report_line_fn, void *arg);

/*
 * systemd's STATUS= line: the watched links (links NULL: no link monitor)
 * and each relay ("isp ok; mx2 421, retry 14:05:30"; retry times are
 * absolute since the line stays on show) with what came back after its
 * last run (", delivered 3", ", nothing came back", ", watching"), or a
 * count beyond four relays; with no relay, what to do about it (conf_path
 * names the file).
 */
void		 report_status_line(char *buf, size_t len,
		    const struct report_relays *, const struct linkstate *links,
		    const char *conf_path);

/* etrnctl status: the header, the links table and one table per relay,
 * after its "  flush: SUMMARY" line (and "  hint: ...") when watched. */
void		 report_status_text(const struct report_relays *,
		    const struct linkstate *links,
		    const struct control_daemon_info *, int64_t now,
		    report_line_fn, void *arg);
/* etrnctl status --json: one line, one object (see etrnctl(8)). */
void		 report_status_json(const struct report_relays *,
		    const struct linkstate *links,
		    const struct control_daemon_info *, report_line_fn,
		    void *arg);

/* A flush summary or hint: the size that always fits (two lists of
 * FLUSHWATCH_ADDRS_MAX IPv6 addresses). */
#define REPORT_FLUSH_LEN	1024

/*
 * What a flush window found, on one line: "delivered: 3 connections from
 * 203.0.113.5, first 400ms, last 2s after ETRN", "nothing came back
 * within 5m", "watching for 1m12s (1 connection from 203.0.113.5 so
 * far)", "not observable: nothing listens on port 25"; "; 1 other
 * inbound connection from 198.51.100.9" after the first three when others
 * came.  Durations by fmt_duration().  Returns buf.
 */
char		*report_flush_summary(char *buf, size_t len,
		    const struct flushwatch_result *);
/*
 * What to check when nothing came back after an accepted ETRN (the port
 * watched, and delivers-from when other hosts connected), into buf; NULL
 * for every other verdict.
 */
char		*report_flush_hint(char *buf, size_t len,
		    const struct flushwatch_result *);
/*
 * --once and etrnctl run, after report_results(): "RELAY flush SUMMARY"
 * for each relay named (all when n is 0) whose last run opened a window,
 * and "  hint: HINT" after it when nothing came back.
 */
void		 report_flush_results(const struct report_relays *,
		    char * const *names, size_t n, report_line_fn, void *arg);

/*
 * etrnctl history [RELAY]: the runs kept, oldest first (relay NULL: all):
 * a line saying how many, then per run "ID TIME RELAY TRIGGER, took 2s",
 * its domains' result lines and what came back.
 */
void		 report_history_text(const struct history *,
		    const char *relay, int64_t now, report_line_fn, void *arg);
/* etrnctl history --json: one line, one object (see etrnctl(8)). */
void		 report_history_json(const struct history *,
		    const char *relay, report_line_fn, void *arg);

#endif
