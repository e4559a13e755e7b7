/* SPDX-License-Identifier: ISC */
/*
 * report: how results and state are shown (see report.h).  Presentation
 * only: every function reads what it is given and renders it.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "config.h"
#include "history.h"
#include "linkstate.h"
#include "log.h"
#include "relay.h"
#include "report.h"

void
report_line_stdio(const char *line, void *fp)
{
	fprintf(fp, "%s\n", line);
}

static void
report_sched_foreach(const void *src, sched_relay_fn fn, void *arg)
{
	sched_foreach(src, fn, arg);
}

struct report_relays
report_relays_of(const struct sched *sc)
{
	struct report_relays	rr = { report_sched_foreach, sc };

	return rr;
}

void
report_linef(report_line_fn fn, void *arg, const char *fmt, ...)
{
	va_list	 ap;
	char	*line;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) == -1)
		fatalx("vasprintf");
	va_end(ap);
	fn(line, arg);
	free(line);
}

char *
report_reply_text(char *out, size_t len, const char *text)
{
	char	line[ETRN_TEXT_MAX];
	size_t	i;

	for (i = 0; text[i] != '\0' && i + 1 < sizeof(line); i++)
		line[i] = text[i] == '\n' ? ' ' : text[i];
	line[i] = '\0';
	if (len < STR_VIS_LEN(1)) {
		if (len > 0)
			out[0] = '\0';
		return out;
	}
	return str_vis(out, line, (len - STR_VIS_LEN(0)) / 4, "");
}

char *
report_result_line(char *buf, size_t len, const char *relay,
    const char *domain, const struct etrn_result *res)
{
	char	r[STR_VIS_LEN(255)], d[STR_VIS_LEN(255)];
	char	text[REPORT_TEXT_LEN], code[16] = "-";

	if (res->code != 0)
		snprintf(code, sizeof(code), "%d", res->code);
	report_reply_text(text, sizeof(text), res->text);
	str_vis(d, domain, 255, "");
	if (relay != NULL)
		snprintf(buf, len, "%s %s %s %s%s%s", str_vis(r, relay, 255, ""),
		    d, etrn_class_name(res->cls), code, text[0] != '\0' ?
		    " " : "", text);
	else
		snprintf(buf, len, "%s %s %s%s%s", d, etrn_class_name(res->cls),
		    code, text[0] != '\0' ? " " : "", text);
	return buf;
}

int
report_exit_merge(int status, enum etrn_class cls)
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

struct results_ctx {
	char * const	*names;
	size_t		 n;
	report_line_fn	 fn;
	void		*arg;
	int		 status;
};

static void
report_relay_results(const struct sched_relay_info *ri, void *arg)
{
	struct results_ctx	*rc = arg;
	char			 line[REPORT_LINE_LEN];
	size_t			 i;

	for (i = 0; i < rc->n; i++)
		if (strcmp(rc->names[i], ri->name) == 0)
			break;
	if (rc->n > 0 && i == rc->n)
		return;
	for (i = 0; i < ri->ndomains; i++) {
		if (rc->fn != NULL)
			rc->fn(report_result_line(line, sizeof(line), ri->name,
			    ri->domains[i].domain, ri->domains[i].last),
			    rc->arg);
		rc->status = report_exit_merge(rc->status,
		    ri->domains[i].last->cls);
	}
}

int
report_results(const struct report_relays *rr, char * const *names,
    size_t n, report_line_fn fn, void *arg)
{
	struct results_ctx	rc = { names, n, fn, arg, 0 };

	rr->foreach(rr->src, report_relay_results, &rc);
	return rc.status;
}

static void	appendf(char *, size_t, size_t *, const char *, ...)
		    LOG_FMT(4, 5);

/* Add to the string in buf at *off, cut to fit; *off stays within buf. */
static void
appendf(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (*off + 1 >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n < len - *off ? (size_t)n : len - *off - 1;
}

/* One address a connection came from, for the summary and JSON. */
static const char *
flush_addr(const struct route_addr *ra, char *a, size_t len)
{
	if (inet_ntop(ra->family, ra->addr, a, (socklen_t)len) == NULL)
		snprintf(a, len, "?");
	return a;
}

/* "203.0.113.5, 198.51.100.7", and " and more" beyond those kept. */
static void
flush_addrs(char *buf, size_t len, size_t *off,
    const struct flushwatch_seen_out *s)
{
	char	 a[INET6_ADDRSTRLEN];
	size_t	 i;

	for (i = 0; i < s->naddrs && i < FLUSHWATCH_ADDRS_MAX; i++)
		appendf(buf, len, off, "%s%s", i > 0 ? ", " : "",
		    flush_addr(&s->addrs[i], a, sizeof(a)));
	if (s->more_addrs)
		appendf(buf, len, off, " and more");
}

/* "3 connections from 203.0.113.5" ("at least" when counts overflowed). */
static void
flush_conns(char *buf, size_t len, size_t *off,
    const struct flushwatch_seen_out *s, bool overflow, const char *kind)
{
	appendf(buf, len, off, "%s%u %sconnection%s", overflow ?
	    "at least " : "", s->nconns, kind, s->nconns == 1 ? "" : "s");
	if (s->naddrs > 0) {
		appendf(buf, len, off, " from ");
		flush_addrs(buf, len, off, s);
	}
}

/* "; 1 other inbound connection from 198.51.100.9", when any came. */
static void
flush_others(char *buf, size_t len, size_t *off,
    const struct flushwatch_result *res)
{
	if (res->other.nconns == 0)
		return;
	appendf(buf, len, off, "; ");
	flush_conns(buf, len, off, &res->other, res->overflow,
	    "other inbound ");
}

char *
report_flush_summary(char *buf, size_t len,
    const struct flushwatch_result *res)
{
	char	 d1[32], d2[32];
	size_t	 off = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	switch (res->verdict) {
	case FLUSHWATCH_WATCHING:
		appendf(buf, len, &off, "watching for %s (",
		    fmt_duration(res->elapsed_ms, d1, sizeof(d1)));
		if (res->relay.nconns == 0)
			appendf(buf, len, &off, "no connection from the relay "
			    "yet");
		else {
			flush_conns(buf, len, &off, &res->relay, res->overflow,
			    "");
			appendf(buf, len, &off, " so far");
		}
		flush_others(buf, len, &off, res);
		appendf(buf, len, &off, ")");
		break;
	case FLUSHWATCH_DELIVERED:
		appendf(buf, len, &off, "delivered: ");
		flush_conns(buf, len, &off, &res->relay, res->overflow, "");
		fmt_duration(res->relay.first_ms, d1, sizeof(d1));
		fmt_duration(res->relay.last_ms, d2, sizeof(d2));
		if (strcmp(d1, d2) == 0)
			appendf(buf, len, &off, ", %s after ETRN", d1);
		else
			appendf(buf, len, &off, ", first %s, last %s after "
			    "ETRN", d1, d2);
		flush_others(buf, len, &off, res);
		break;
	case FLUSHWATCH_NOTHING:
		appendf(buf, len, &off, "nothing came back within %s",
		    fmt_duration(res->window_ms, d1, sizeof(d1)));
		flush_others(buf, len, &off, res);
		break;
	case FLUSHWATCH_NOT_OBSERVABLE:
		appendf(buf, len, &off, "not observable");
		switch (res->why) {
		case FLUSHWATCH_WHY_NO_LISTENER:
			appendf(buf, len, &off, ": nothing listens on port %u",
			    res->port);
			break;
		case FLUSHWATCH_WHY_ELSEWHERE:
			appendf(buf, len, &off, ": local-smtp is on another "
			    "host");
			break;
		case FLUSHWATCH_WHY_KERNEL:
			appendf(buf, len, &off, ": the kernel's socket "
			    "diagnostics could not be asked (%s)",
			    strerror(res->err));
			break;
		case FLUSHWATCH_WHY_OVERFLOW:
			appendf(buf, len, &off, ": more connections on port %u "
			    "than could be told apart, none of them known to "
			    "be the relay's", res->port);
			break;
		case FLUSHWATCH_WHY_NONE:
			break;
		}
		break;
	}
	return buf;
}

char *
report_flush_hint(char *buf, size_t len, const struct flushwatch_result *res)
{
	char	 here[48] = "";

	if (res->verdict != FLUSHWATCH_NOTHING)
		return NULL;
	/* Secondaries deliver to port 25; a router may forward it to
	 * local-smtp's. */
	if (res->port != 25)
		snprintf(here, sizeof(here), " (it arrives here on port %u)",
		    res->port);
	snprintf(buf, len, "check that port 25 is reachable from outside%s, "
	    "that the domains' MX and A records point at this site's "
	    "current address, and that the secondary holds mail for them "
	    "(Postfix answers 250 to ETRN with an empty queue)%s", here,
	    res->other.nconns > 0 ? "; other hosts connected meanwhile: if "
	    "the provider delivers from one of them, add it to the relay's "
	    "delivers-from" : "");
	return buf;
}

/* A flush summary and its hint, each a line, indented by the caller. */
static void
flush_lines(const struct flushwatch_result *res, const char *first,
    report_line_fn fn, void *arg)
{
	char	 sum[REPORT_FLUSH_LEN], hint[REPORT_FLUSH_LEN];

	report_linef(fn, arg, "%s%s", first, report_flush_summary(sum,
	    sizeof(sum), res));
	if (report_flush_hint(hint, sizeof(hint), res) != NULL)
		report_linef(fn, arg, "  hint: %s", hint);
}

struct flush_ctx {
	char * const	*names;
	size_t		 n;
	report_line_fn	 fn;
	void		*arg;
};

static void
report_relay_flush(const struct sched_relay_info *ri, void *arg)
{
	struct flush_ctx	*fc = arg;
	char			 name[STR_VIS_LEN(255)], first[STR_VIS_LEN(255)
				    + 8];
	size_t			 i;

	for (i = 0; i < fc->n; i++)
		if (strcmp(fc->names[i], ri->name) == 0)
			break;
	if ((fc->n > 0 && i == fc->n) || ri->flush == NULL ||
	    !ri->flush_last_run)
		return;
	/* A run that had nothing accepted: the window is not its. */
	for (i = 0; i < ri->ndomains; i++)
		if (ri->domains[i].last->cls == ETRN_R_OK)
			break;
	if (i == ri->ndomains)
		return;
	snprintf(first, sizeof(first), "%s flush ", str_vis(name, ri->name,
	    255, ""));
	flush_lines(ri->flush, first, fc->fn, fc->arg);
}

void
report_flush_results(const struct report_relays *rr, char * const *names,
    size_t n, report_line_fn fn, void *arg)
{
	struct flush_ctx	fc = { names, n, fn, arg };

	rr->foreach(rr->src, report_relay_flush, &fc);
}

/* STATUS=: the relay part, and the counts beyond four relays. */
struct line_ctx {
	char		*buf;
	size_t		 len, off, n;
	unsigned	 counts[RELAY_NSTATES];
};

static void
report_count(const struct sched_relay_info *ri, void *arg)
{
	struct line_ctx	*lc = arg;

	lc->counts[ri->state]++;
	lc->n++;
}

/* "isp ok; mx2 421, retry 14:05:30": one relay's part of STATUS=. */
static void
report_relay_status(const struct sched_relay_info *ri, void *arg)
{
	struct line_ctx			*lc = arg;
	const struct etrn_result	*worst = NULL;
	char				 name[STR_VIS_LEN(64)], d[32];
	char				*p;
	long				 pending = -1;
	size_t				 i, len;
	time_t				 at;
	struct tm			 tm;
	int				 code;

	if (lc->off + 3 >= lc->len)
		return;
	if (lc->off > 0) {
		memcpy(lc->buf + lc->off, "; ", 3);
		lc->off += 2;
	}
	p = lc->buf + lc->off;
	len = lc->len - lc->off;
	for (i = 0; i < ri->ndomains; i++) {
		const struct etrn_result *res = ri->domains[i].last;

		if (res->pending >= 0) {
			if (pending < 0)
				pending = 0;
			/* Saturated: a long is 32 bits on some targets. */
			pending = res->pending > LONG_MAX - pending ?
			    LONG_MAX : pending + res->pending;
		}
		if (res->cls != ETRN_R_OK && res->cls != ETRN_R_NONE &&
		    (worst == NULL || res->cls > worst->cls))
			worst = res;
	}
	code = worst != NULL ? worst->code : 0;
	str_vis(name, ri->name, 64, "");
	switch (ri->state) {
	case RELAY_S_QUEUED:
		snprintf(p, len, "%s queued", name);
		break;
	case RELAY_S_RUNNING:
		snprintf(p, len, "%s running", name);
		break;
	case RELAY_S_BACKOFF:
		/* Absolute: systemctl status shows the line for minutes. */
		at = (time_t)ri->next_retry;
		if (localtime_r(&at, &tm) == NULL ||
		    strftime(d, sizeof(d), "%H:%M:%S", &tm) == 0)
			snprintf(d, sizeof(d), "?");
		snprintf(p, len, "%s %d, retry %s", name, code, d);
		break;
	case RELAY_S_WAITLINK:
		snprintf(p, len, "%s %d, waiting for link", name, code);
		break;
	case RELAY_S_NOROUTE:
		snprintf(p, len, "%s no route yet", name);
		break;
	case RELAY_S_FAILED:
		snprintf(p, len, "%s failed (%d)", name, code);
		break;
	case RELAY_S_IDLE:
		if (worst != NULL)
			snprintf(p, len, "%s %s %d", name,
			    etrn_class_name(worst->cls), worst->code);
		else if (ri->ndomains == 0 ||
		    ri->domains[0].last->cls == ETRN_R_NONE)
			snprintf(p, len, "%s idle", name);
		else if (pending >= 0)
			snprintf(p, len, "%s ok, %ld pending", name, pending);
		else
			snprintf(p, len, "%s ok", name);
		break;
	}
	/* What came back after the last run (not observable: a set-up
	 * matter, for etrnctl status and the journal). */
	i = strlen(p);
	if (ri->flush != NULL && ri->flush_last_run) {
		switch (ri->flush->verdict) {
		case FLUSHWATCH_WATCHING:
			appendf(p, len, &i, ", watching");
			break;
		case FLUSHWATCH_DELIVERED:
			appendf(p, len, &i, ", delivered %u",
			    ri->flush->relay.nconns);
			break;
		case FLUSHWATCH_NOTHING:
			appendf(p, len, &i, ", nothing came back");
			break;
		case FLUSHWATCH_NOT_OBSERVABLE:
			break;
		}
	}
	lc->off += strlen(p);
}

void
report_status_line(char *buf, size_t len, const struct report_relays *rr,
    const struct linkstate *links, const char *conf_path)
{
	struct linkstate_info	 li;
	struct line_ctx		 lc;
	char			 lk[160] = "", name[STR_VIS_LEN(IFNAMSIZ)];
	size_t			 i, off = 0, up = 0, n = 0;

	if (len == 0)
		return;
	memset(&lc, 0, sizeof(lc));
	rr->foreach(rr->src, report_count, &lc);
	if (lc.n == 0) {
		snprintf(buf, len, "Idle: no relays configured (edit %s, then "
		    "systemctl reload etrnd)", conf_path);
		return;
	}
	for (i = 0; links != NULL && linkstate_get(links, i, &li); i++) {
		n++;
		up += li.usable;
		if (n <= 3 && off < sizeof(lk))
			off += (size_t)snprintf(lk + off, sizeof(lk) - off,
			    "%s%s %s", off ? ", " : "",
			    str_vis(name, li.name, IFNAMSIZ, ""),
			    li.usable ? "up" : "down");
	}
	if (links != NULL && n == 0)
		snprintf(lk, sizeof(lk), "no watched link");
	else if (n > 3)
		snprintf(lk, sizeof(lk), "%zu of %zu links up", up, n);
	off = 0;
	if (links != NULL)
		off = (size_t)snprintf(buf, len, "%s; ", lk);
	if (off >= len)
		return;
	if (lc.n > 4) {
		snprintf(buf + off, len - off, "%zu relays: %u running, "
		    "%u queued, %u retrying, %u failed", lc.n,
		    lc.counts[RELAY_S_RUNNING], lc.counts[RELAY_S_QUEUED],
		    lc.counts[RELAY_S_BACKOFF] + lc.counts[RELAY_S_WAITLINK] +
		    lc.counts[RELAY_S_NOROUTE],
		    lc.counts[RELAY_S_FAILED]);
		return;
	}
	buf[off] = '\0';
	lc.buf = buf + off;
	lc.len = len - off;
	lc.off = 0;
	rr->foreach(rr->src, report_relay_status, &lc);
}

/* Times for people: "2026-12-01 14:05:30 UTC (3h ago)", "-" for never. */
static const char *
fmt_time(int64_t t, int64_t now, char *buf, size_t len)
{
	time_t		tt = (time_t)t;
	struct tm	tm;
	char		abs[40], rel[24], dur[16];
	uint64_t	d;

	if (t <= 0 || localtime_r(&tt, &tm) == NULL) {
		snprintf(buf, len, "-");
		return buf;
	}
	strftime(abs, sizeof(abs), "%Y-%m-%d %H:%M:%S %Z", &tm);
	d = (uint64_t)(t > now ? t - now : now - t);
	if (d == 0)
		snprintf(rel, sizeof(rel), "now");
	else if (d >= 2 * 86400)
		snprintf(rel, sizeof(rel), t > now ? "in %llud" : "%llud ago",
		    (unsigned long long)(d / 86400));
	else {
		fmt_duration(d * 1000, dur, sizeof(dur));
		snprintf(rel, sizeof(rel), t > now ? "in %s" : "%s ago", dur);
	}
	snprintf(buf, len, "%s (%s)", abs, rel);
	return buf;
}

/* The widths of the status table's columns, measured in a first pass. */
struct status_cols {
	int	domain, result, code, pending, attempt;
};

struct status_ctx {
	report_line_fn		 fn;
	void			*arg;
	struct evbuffer		*json;
	bool			 first;
	int64_t			 now;
	struct status_cols	 w;
};

/* One domain's cells, as the table shows them. */
struct status_cells {
	char	domain[STR_VIS_LEN(255) + 48], code[8], pend[24];
	char	attempt[80], text[REPORT_TEXT_LEN + 48];
};

/*
 * The domain as status shows it: as written, or in the form the server
 * asked for, saying so ("#example.org (server asked for #)").
 */
static void
status_domain(char *buf, size_t len, const struct sched_domain_info *d)
{
	char		 vis[STR_VIS_LEN(255)];
	const char	*prefix = etrn_form_prefix(d->last->form);

	str_vis(vis, d->domain, 255, "");
	if (*prefix == '\0')
		snprintf(buf, len, "%s", vis);
	else
		snprintf(buf, len, "%s%s (server asked for %s)", prefix, vis,
		    prefix);
}

/* The detail of a result for people, or NULL. */
static const char *
status_detail(const struct etrn_result *res)
{
	switch (res->detail) {
	case ETRN_D_RUNNING:
		return "already running";
	case ETRN_D_REPEATED:
		return "same temporary reply every time";
	case ETRN_D_NONE:
		break;
	}
	return NULL;
}

static void
status_cells(const struct sched_domain_info *d, int64_t now,
    struct status_cells *cl)
{
	char	text[REPORT_TEXT_LEN];

	snprintf(cl->code, sizeof(cl->code), "-");
	snprintf(cl->pend, sizeof(cl->pend), "-");
	if (d->last->pending >= 0)
		snprintf(cl->pend, sizeof(cl->pend), "%ld", d->last->pending);
	if (d->last->code != 0)
		snprintf(cl->code, sizeof(cl->code), "%d", d->last->code);
	fmt_time(d->last_try, now, cl->attempt, sizeof(cl->attempt));
	status_domain(cl->domain, sizeof(cl->domain), d);
	report_reply_text(text, sizeof(text), d->last->text);
	if (status_detail(d->last) != NULL)
		snprintf(cl->text, sizeof(cl->text), "(%s) %s",
		    status_detail(d->last), text);
	else
		snprintf(cl->text, sizeof(cl->text), "%s", text);
}

#define WIDEN(w, s)	do {					\
	int	len_ = (int)strlen(s);				\
	if (len_ > (w))						\
		(w) = len_;					\
} while (0)

static void
status_measure(const struct sched_relay_info *ri, void *arg)
{
	struct status_ctx	*sc = arg;
	struct status_cells	 cl;
	size_t			 i;

	for (i = 0; i < ri->ndomains; i++) {
		status_cells(&ri->domains[i], sc->now, &cl);
		WIDEN(sc->w.domain, cl.domain);
		WIDEN(sc->w.result, etrn_class_name(ri->domains[i].last->cls));
		WIDEN(sc->w.code, cl.code);
		WIDEN(sc->w.pending, cl.pend);
		WIDEN(sc->w.attempt, cl.attempt);
	}
}

static void
status_relay_text(const struct sched_relay_info *ri, void *arg)
{
	struct status_ctx	*sc = arg;
	struct status_cells	 cl;
	char			 t1[80], t2[80], name[STR_VIS_LEN(255)];
	char			 host[STR_VIS_LEN(255)];
	size_t			 i;

	sc->fn("", sc->arg);
	report_linef(sc->fn, sc->arg, "relay %s (%s:%u): %s, %u failure%s; "
	    "last success %s; next retry %s", str_vis(name, ri->name, 255, ""),
	    str_vis(host, ri->host, 255, ""), ri->port, relay_state_name(ri->state),
	    ri->failures, ri->failures == 1 ? "" : "s",
	    fmt_time(ri->last_success, sc->now, t1, sizeof(t1)),
	    fmt_time(ri->next_retry, sc->now, t2, sizeof(t2)));
	if (ri->route != NULL)
		report_linef(sc->fn, sc->arg, "  route: %s", ri->route);
	if (ri->flush != NULL)
		flush_lines(ri->flush, ri->flush_last_run ? "  flush: " :
		    "  flush (an earlier run): ", sc->fn, sc->arg);
	report_linef(sc->fn, sc->arg, "  %-*s  %-*s  %-*s  %-*s  %-*s  %s",
	    sc->w.domain, "DOMAIN", sc->w.result, "RESULT", sc->w.code, "CODE",
	    sc->w.pending, "PENDING", sc->w.attempt, "LAST ATTEMPT", "REPLY");
	for (i = 0; i < ri->ndomains; i++) {
		status_cells(&ri->domains[i], sc->now, &cl);
		report_linef(sc->fn, sc->arg, "  %-*s  %-*s  %-*s  %-*s  %-*s  "
		    "%s", sc->w.domain, cl.domain, sc->w.result,
		    etrn_class_name(ri->domains[i].last->cls), sc->w.code,
		    cl.code, sc->w.pending, cl.pend, sc->w.attempt, cl.attempt,
		    cl.text[0] != '\0' ? cl.text : "-");
	}
}

/* "etrnd 0.1.0, pid 42, up 3h2m, /etc/etrnd.conf, reloaded ok at ...". */
static void
status_header_text(const struct control_daemon_info *di, int64_t now,
    report_line_fn fn, void *arg)
{
	char		 up[24], t[80], zone[16];
	struct tm	 tm;
	time_t		 tt = (time_t)now;

	if (now > di->started)
		fmt_duration((uint64_t)(now - di->started) * 1000, up,
		    sizeof(up));
	else
		snprintf(up, sizeof(up), "0s");
	if (di->reload_time == 0)
		snprintf(t, sizeof(t), "not reloaded since start");
	else
		fmt_time(di->reload_time, now, t, sizeof(t));
	report_linef(fn, arg, "etrnd %s, pid %ld, up %s, configuration %s; "
	    "last reload: %s%s%s", ETRND_VERSION, di->pid, up,
	    di->conf_path != NULL ? di->conf_path : "-",
	    di->reload_time == 0 ? "" : di->reload_ok ? "ok at " :
	    "FAILED at ", t, di->reload_time != 0 && !di->reload_ok ?
	    " (the previous configuration stays in use)" : "");
	if (di->reload_time != 0 && !di->reload_ok && di->reload_error != NULL)
		report_linef(fn, arg, "  %s", di->reload_error);
	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(zone, sizeof(zone), "%Z (%z)", &tm) == 0)
		snprintf(zone, sizeof(zone), "?");
	report_linef(fn, arg, "times in %s", zone);
}

void
report_status_text(const struct report_relays *rr,
    const struct linkstate *links, const struct control_daemon_info *di,
    int64_t now, report_line_fn fn, void *arg)
{
	struct linkstate_info	 li;
	struct status_ctx	 sc;
	struct line_ctx		 lc;
	char			 t[80], name[STR_VIS_LEN(IFNAMSIZ)];
	size_t			 i;
	int			 wname = 4;

	memset(&sc, 0, sizeof(sc));
	sc.fn = fn;
	sc.arg = arg;
	sc.now = now;
	status_header_text(di, now, fn, arg);
	for (i = 0; links != NULL && linkstate_get(links, i, &li); i++)
		WIDEN(wname, str_vis(name, li.name, IFNAMSIZ, ""));
	fn("", arg);
	if (i == 0)
		fn("links: no watched link is present", arg);
	else
		report_linef(fn, arg, "%-*s  %-5s  %s", wname, "LINK", "STATE",
		    "SINCE");
	for (i = 0; links != NULL && linkstate_get(links, i, &li); i++)
		report_linef(fn, arg, "%-*s  %-5s  %s", wname,
		    str_vis(name, li.name, IFNAMSIZ, ""),
		    li.usable ? "up" : "down",
		    fmt_time(li.since, now, t, sizeof(t)));
	sc.w.domain = (int)strlen("DOMAIN");
	sc.w.result = (int)strlen("RESULT");
	sc.w.code = (int)strlen("CODE");
	sc.w.pending = (int)strlen("PENDING");
	sc.w.attempt = (int)strlen("LAST ATTEMPT");
	rr->foreach(rr->src, status_measure, &sc);
	rr->foreach(rr->src, status_relay_text, &sc);
	memset(&lc, 0, sizeof(lc));
	rr->foreach(rr->src, report_count, &lc);
	if (lc.n == 0) {
		fn("", arg);
		report_linef(fn, arg, "relays: none configured (add a [relay "
		    "NAME] section to %s, then etrnctl reload)",
		    di->conf_path != NULL ? di->conf_path :
		    "the configuration");
	}
}

/* Text already escaped (ASCII) as a JSON string. */
static void
json_ascii(struct evbuffer *b, const char *s)
{
	const unsigned char	*p;

	evbuffer_add(b, "\"", 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			evbuffer_add_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			evbuffer_add_printf(b, "\\u%04x", *p);
		else
			evbuffer_add(b, p, 1);
	}
	evbuffer_add(b, "\"", 1);
}

/*
 * Any string as JSON: its str_vis() form, as the table shows it, so the
 * output is ASCII and valid whatever the bytes (invalid UTF-8 included),
 * and what a parser returns holds no C1 control or bidi override either.
 */
static void
json_str(struct evbuffer *b, const char *s)
{
	char	*vis;

	vis = xcalloc(1, STR_VIS_LEN(strlen(s)));
	json_ascii(b, str_vis(vis, s, strlen(s), ""));
	free(vis);
}

static void
json_time(struct evbuffer *b, int64_t t)
{
	if (t > 0)
		evbuffer_add_printf(b, "%lld", (long long)t);
	else
		evbuffer_add(b, "null", 4);
}

static void
json_addrs(struct evbuffer *b, const struct flushwatch_seen_out *s)
{
	char	 a[INET6_ADDRSTRLEN];
	size_t	 i;

	evbuffer_add(b, "[", 1);
	for (i = 0; i < s->naddrs && i < FLUSHWATCH_ADDRS_MAX; i++)
		evbuffer_add_printf(b, "%s\"%s\"", i > 0 ? "," : "",
		    flush_addr(&s->addrs[i], a, sizeof(a)));
	evbuffer_add(b, "]", 1);
}

static const char *
flush_why_name(enum flushwatch_why why)
{
	switch (why) {
	case FLUSHWATCH_WHY_NO_LISTENER:
		return "no-listener";
	case FLUSHWATCH_WHY_ELSEWHERE:
		return "elsewhere";
	case FLUSHWATCH_WHY_KERNEL:
		return "kernel";
	case FLUSHWATCH_WHY_OVERFLOW:
		return "overflow";
	case FLUSHWATCH_WHY_NONE:
		break;
	}
	return NULL;
}

/*
 * A flush window as JSON, for status and history alike (NULL: null);
 * last_run (status only, NULL: left out) says whether the relay's last run
 * opened it.
 */
static void
json_flush(struct evbuffer *b, const struct flushwatch_result *res,
    const bool *last_run)
{
	const char	*why;

	if (res == NULL) {
		evbuffer_add(b, "null", 4);
		return;
	}
	evbuffer_add_printf(b, "{\"verdict\":\"%s\",\"started\":",
	    flushwatch_verdict_name(res->verdict));
	json_time(b, res->started);
	evbuffer_add_printf(b, ",\"window_ms\":%llu,\"elapsed_ms\":%llu,"
	    "\"port\":%u,\"connections\":%u,\"from\":",
	    (unsigned long long)res->window_ms,
	    (unsigned long long)res->elapsed_ms, res->port,
	    res->relay.nconns);
	json_addrs(b, &res->relay);
	evbuffer_add_printf(b, ",\"more_from\":%s,\"first_ms\":",
	    res->relay.more_addrs ? "true" : "false");
	if (res->relay.nconns > 0)
		evbuffer_add_printf(b, "%llu,\"last_ms\":%llu",
		    (unsigned long long)res->relay.first_ms,
		    (unsigned long long)res->relay.last_ms);
	else
		evbuffer_add(b, "null,\"last_ms\":null", 19);
	evbuffer_add_printf(b, ",\"other_connections\":%u,\"other_from\":",
	    res->other.nconns);
	json_addrs(b, &res->other);
	evbuffer_add_printf(b, ",\"other_more_from\":%s,\"overflow\":%s,"
	    "\"reason\":", res->other.more_addrs ? "true" : "false",
	    res->overflow ? "true" : "false");
	why = res->verdict == FLUSHWATCH_NOT_OBSERVABLE ?
	    flush_why_name(res->why) : NULL;
	if (why != NULL)
		evbuffer_add_printf(b, "\"%s\"", why);
	else
		evbuffer_add(b, "null", 4);
	evbuffer_add(b, ",\"error\":", 9);
	if (why != NULL && res->why == FLUSHWATCH_WHY_KERNEL)
		json_str(b, strerror(res->err));
	else
		evbuffer_add(b, "null", 4);
	if (last_run != NULL)
		evbuffer_add_printf(b, ",\"last_run\":%s", *last_run ? "true" :
		    "false");
	evbuffer_add(b, "}", 1);
}

static void
status_relay_json(const struct sched_relay_info *ri, void *arg)
{
	struct status_ctx	*sc = arg;
	struct evbuffer		*b = sc->json;
	char			 text[REPORT_TEXT_LEN];
	size_t			 i;

	evbuffer_add_printf(b, "%s{\"name\":", sc->first ? "" : ",");
	sc->first = false;
	json_str(b, ri->name);
	evbuffer_add(b, ",\"host\":", 8);
	json_str(b, ri->host);
	evbuffer_add_printf(b, ",\"port\":%u,\"state\":", ri->port);
	json_str(b, relay_state_name(ri->state));
	evbuffer_add_printf(b, ",\"failures\":%u,\"last_success\":",
	    ri->failures);
	json_time(b, ri->last_success);
	evbuffer_add(b, ",\"next_retry\":", 14);
	json_time(b, ri->next_retry);
	evbuffer_add(b, ",\"route\":", 9);
	if (ri->route != NULL)
		json_str(b, ri->route);
	else
		evbuffer_add(b, "null", 4);
	evbuffer_add(b, ",\"domains\":[", 12);
	for (i = 0; i < ri->ndomains; i++) {
		const struct sched_domain_info	*d = &ri->domains[i];
		char				 sent[2 + 256];

		evbuffer_add_printf(b, "%s{\"domain\":", i ? "," : "");
		json_str(b, d->domain);
		evbuffer_add_printf(b, ",\"result\":\"%s\",\"code\":",
		    etrn_class_name(d->last->cls));
		if (d->last->code != 0)
			evbuffer_add_printf(b, "%d", d->last->code);
		else
			evbuffer_add(b, "null", 4);
		evbuffer_add(b, ",\"text\":", 8);
		json_ascii(b, report_reply_text(text, sizeof(text),
		    d->last->text));
		evbuffer_add(b, ",\"pending\":", 11);
		if (d->last->pending >= 0)
			evbuffer_add_printf(b, "%ld", d->last->pending);
		else
			evbuffer_add(b, "null", 4);
		evbuffer_add(b, ",\"last_ok\":", 11);
		json_time(b, d->last_ok);
		evbuffer_add(b, ",\"last_attempt\":", 16);
		json_time(b, d->last_try);
		/* The argument in use when it is not the one written. */
		evbuffer_add(b, ",\"sent_as\":", 11);
		if (d->last->form != ETRN_FORM_WRITTEN) {
			snprintf(sent, sizeof(sent), "%s%s",
			    etrn_form_prefix(d->last->form), d->domain);
			json_str(b, sent);
		} else
			evbuffer_add(b, "null", 4);
		evbuffer_add(b, ",\"detail\":", 10);
		if (d->last->detail != ETRN_D_NONE)
			evbuffer_add_printf(b, "\"%s\"",
			    etrn_detail_name(d->last->detail));
		else
			evbuffer_add(b, "null", 4);
		evbuffer_add(b, "}", 1);
	}
	evbuffer_add(b, "],\"flush\":", 10);
	json_flush(b, ri->flush, &ri->flush_last_run);
	evbuffer_add(b, "}", 1);
}

static void
status_header_json(struct evbuffer *b, const struct control_daemon_info *di)
{
	evbuffer_add_printf(b, ",\"pid\":%ld,\"started\":", di->pid);
	json_time(b, di->started);
	evbuffer_add(b, ",\"config\":", 10);
	json_str(b, di->conf_path != NULL ? di->conf_path : "");
	evbuffer_add(b, ",\"last_reload\":", 15);
	if (di->reload_time == 0) {
		evbuffer_add(b, "null", 4);
		return;
	}
	evbuffer_add(b, "{\"time\":", 8);
	json_time(b, di->reload_time);
	evbuffer_add_printf(b, ",\"ok\":%s,\"error\":",
	    di->reload_ok ? "true" : "false");
	if (di->reload_ok || di->reload_error == NULL)
		evbuffer_add(b, "null", 4);
	else
		json_str(b, di->reload_error);
	evbuffer_add(b, "}", 1);
}

void
report_status_json(const struct report_relays *rr,
    const struct linkstate *links, const struct control_daemon_info *di,
    report_line_fn fn, void *arg)
{
	struct linkstate_info	 li;
	struct status_ctx	 sc;
	size_t			 i;

	memset(&sc, 0, sizeof(sc));
	sc.first = true;
	if ((sc.json = evbuffer_new()) == NULL)
		fatalx("evbuffer_new");
	evbuffer_add_printf(sc.json, "{\"version\":\"%s\"", ETRND_VERSION);
	status_header_json(sc.json, di);
	evbuffer_add(sc.json, ",\"links\":[", 10);
	for (i = 0; links != NULL && linkstate_get(links, i, &li); i++) {
		evbuffer_add_printf(sc.json, "%s{\"name\":", i ? "," : "");
		json_str(sc.json, li.name);
		evbuffer_add_printf(sc.json, ",\"up\":%s,\"since\":",
		    li.usable ? "true" : "false");
		json_time(sc.json, li.since);
		evbuffer_add(sc.json, "}", 1);
	}
	evbuffer_add(sc.json, "],\"relays\":[", 12);
	rr->foreach(rr->src, status_relay_json, &sc);
	evbuffer_add(sc.json, "]}", 3);	/* with the NUL */
	fn((const char *)evbuffer_pullup(sc.json, -1), arg);
	evbuffer_free(sc.json);
}

/* "2026-12-01 23:40:05", local time: the history's run times. */
static const char *
fmt_local(int64_t t, char *buf, size_t len)
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	if (t <= 0 || localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "-");
	return buf;
}

struct history_ctx {
	report_line_fn	 fn;
	void		*arg;
	int64_t		 now;
	size_t		 n;
	struct evbuffer	*json;
};

static void
history_count(const struct history_run *run, void *arg)
{
	struct history_ctx	*hc = arg;

	(void)run;
	hc->n++;
}

static void
history_run_text(const struct history_run *run, void *arg)
{
	struct history_ctx	*hc = arg;
	const struct history_domain *d;
	char			 t[32], dur[48], name[STR_VIS_LEN(255)];
	char			 line[REPORT_LINE_LEN];
	int64_t			 end;
	size_t			 i;

	hc->fn("", hc->arg);
	/* Wall seconds: "0s", never "0ms". */
	end = run->ended != 0 ? run->ended : hc->now;
	if (end > run->started)
		fmt_duration((uint64_t)(end - run->started) * 1000, t,
		    sizeof(t));
	else
		snprintf(t, sizeof(t), "0s");
	snprintf(dur, sizeof(dur), "%s %s", run->ended != 0 ? "took" :
	    "running for", t);
	report_linef(hc->fn, hc->arg, "%llu %s %s %s, %s",
	    (unsigned long long)run->id, fmt_local(run->started, t, sizeof(t)),
	    str_vis(name, run->relay, 255, ""),
	    relay_trigger_name(run->trigger), dur);
	for (i = 0; i < run->ndoms; i++) {
		d = &run->doms[i];
		report_linef(hc->fn, hc->arg, "  %s", report_result_line(line,
		    sizeof(line), NULL, d->sent != NULL ? d->sent : d->domain,
		    &d->res));
	}
	if (run->ndropped > 0)
		report_linef(hc->fn, hc->arg, "  and %zu more domain%s, not "
		    "kept", run->ndropped, run->ndropped == 1 ? "" : "s");
	if (run->has_flush)
		flush_lines(&run->flush, "  flush: ", hc->fn, hc->arg);
}

void
report_history_text(const struct history *h, const char *relay,
    int64_t now, report_line_fn fn, void *arg)
{
	struct history_ctx	 hc;
	struct tm		 tm;
	time_t			 tt = (time_t)now;
	char			 zone[16], name[STR_VIS_LEN(255)];

	memset(&hc, 0, sizeof(hc));
	hc.fn = fn;
	hc.arg = arg;
	hc.now = now;
	history_foreach(h, relay, history_count, &hc);
	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(zone, sizeof(zone), "%Z (%z)", &tm) == 0)
		snprintf(zone, sizeof(zone), "?");
	report_linef(fn, arg, "%s%s: %zu run%s kept (the last %d of all "
	    "relays), oldest first; times in %s", relay != NULL ?
	    "history of " : "history", relay != NULL ? str_vis(name, relay,
	    255, "") : "", hc.n, hc.n == 1 ? "" : "s", HISTORY_RUNS, zone);
	history_foreach(h, relay, history_run_text, &hc);
}

static void
history_run_json(const struct history_run *run, void *arg)
{
	struct history_ctx		*hc = arg;
	struct evbuffer			*b = hc->json;
	const struct history_domain	*d;
	char				 text[REPORT_TEXT_LEN];
	size_t				 i;

	evbuffer_add_printf(b, "%s{\"id\":%llu,\"relay\":", hc->n++ ? "," :
	    "", (unsigned long long)run->id);
	json_str(b, run->relay);
	evbuffer_add_printf(b, ",\"trigger\":\"%s\",\"started\":",
	    relay_trigger_name(run->trigger));
	json_time(b, run->started);
	evbuffer_add(b, ",\"ended\":", 9);
	json_time(b, run->ended);
	evbuffer_add(b, ",\"domains\":[", 12);
	for (i = 0; i < run->ndoms; i++) {
		d = &run->doms[i];
		evbuffer_add_printf(b, "%s{\"domain\":", i ? "," : "");
		json_str(b, d->domain);
		evbuffer_add(b, ",\"sent_as\":", 11);
		if (d->sent != NULL)
			json_str(b, d->sent);
		else
			evbuffer_add(b, "null", 4);
		evbuffer_add_printf(b, ",\"result\":\"%s\",\"code\":",
		    etrn_class_name(d->res.cls));
		if (d->res.code != 0)
			evbuffer_add_printf(b, "%d", d->res.code);
		else
			evbuffer_add(b, "null", 4);
		evbuffer_add(b, ",\"text\":", 8);
		json_ascii(b, report_reply_text(text, sizeof(text),
		    d->res.text));
		evbuffer_add(b, "}", 1);
	}
	evbuffer_add_printf(b, "],\"more_domains\":%zu,\"flush\":",
	    run->ndropped);
	json_flush(b, run->has_flush ? &run->flush : NULL, NULL);
	evbuffer_add(b, "}", 1);
}

void
report_history_json(const struct history *h, const char *relay,
    report_line_fn fn, void *arg)
{
	struct history_ctx	hc;

	memset(&hc, 0, sizeof(hc));
	if ((hc.json = evbuffer_new()) == NULL)
		fatalx("evbuffer_new");
	evbuffer_add(hc.json, "{\"runs\":[", 9);
	history_foreach(h, relay, history_run_json, &hc);
	evbuffer_add_printf(hc.json, "],\"max_runs\":%d}", HISTORY_RUNS);
	evbuffer_add(hc.json, "", 1);
	fn((const char *)evbuffer_pullup(hc.json, -1), arg);
	evbuffer_free(hc.json);
}
