/* SPDX-License-Identifier: ISC */
/*
 * control: the control socket and its request grammar; see control.h for
 * the protocol.  Each client is a bufferevent with one deadline for its
 * whole request and one for every write, so a client that says nothing,
 * trickles, or stops reading costs a few seconds at most, and when all
 * slots are taken the oldest client still owing its request makes room;
 * one that vanishes while waiting for a run just cancels its waiter.  Out
 * of descriptors, the listener pauses instead of spinning.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <net/if.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "config.h"
#include "control.h"
#include "linkstate.h"
#include "log.h"
#include "sched.h"
#include "util.h"

#define CONTROL_REQUEST_MS	5000	/* from accept to the whole request */
#define CONTROL_WRITE_MS	10000	/* to take each part of the answer */
#define CONTROL_ACCEPT_PAUSE_MS	1000	/* out of descriptors: listen again */

struct control_client {
	struct control		*ctl;
	struct bufferevent	*bev;
	struct event		*deadline;	/* until the request is read */
	struct sched_waiter	*waiter;	/* run: results pending */
	char			**names;	/* run: the relays asked */
	size_t			 nnames;
	bool			 answered;	/* final line queued */
	TAILQ_ENTRY(control_client) entry;
};

struct control {
	struct event_base	*base;
	char			*path;
	struct evconnlistener	*listener;
	struct event		*resume;	/* re-enables a paused listener */
	bool			 accept_failing; /* warned; say when it works */
	struct sched		*sched;
	struct linkstate	*links;
	struct control_ops	 ops;
	TAILQ_HEAD(, control_client) clients;
	unsigned		 nclients;
};

static void
client_free(struct control_client *c)
{
	size_t	i;

	sched_waiter_cancel(c->waiter);
	if (c->deadline != NULL)
		event_free(c->deadline);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	for (i = 0; i < c->nnames; i++)
		free(c->names[i]);
	free(c->names);
	TAILQ_REMOVE(&c->ctl->clients, c, entry);
	c->ctl->nclients--;
	free(c);
}

static void
client_data(struct control_client *c, const char *fmt, ...)
    LOG_FMT(2, 3);

/* One "- " data line. */
static void
client_data(struct control_client *c, const char *fmt, ...)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	va_list		 ap;

	evbuffer_add(out, "- ", 2);
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\n", 1);
}

static void
client_flushed_cb(struct bufferevent *bev, void *arg)
{
	struct control_client	*c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		client_free(c);
}

static void	client_event_cb(struct bufferevent *, short, void *);
static void	client_end(struct control_client *, const char *, ...)
		    LOG_FMT(2, 3);

/* The final line; the client is freed once it has all been written. */
static void
client_end(struct control_client *c, const char *fmt, ...)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	va_list		 ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\n", 1);
	c->answered = true;
	evtimer_del(c->deadline);
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setcb(c->bev, NULL, client_flushed_cb, client_event_cb, c);
	bufferevent_enable(c->bev, EV_WRITE);
}

/* The request grammar: one parser for etrnctl and the daemon. */

static int	req_error(char *, size_t, const char *, ...) LOG_FMT(3, 4);

static int
req_error(char *err, size_t len, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* A word the line protocol can carry: no space, no control character. */
static bool
req_word_ok(const char *w)
{
	const unsigned char	*p;

	if (*w == '\0')
		return false;
	for (p = (const unsigned char *)w; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

/*
 * The length of the UTF-8 sequence at p if it is valid and not a C1
 * control (U+0080..U+009F), else 0.
 */
static size_t
req_utf8_len(const unsigned char *p)
{
	uint32_t	cp;
	size_t		n, i;

	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4;
	else
		return 0;
	cp = *p & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong, surrogate, beyond Unicode, C1. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || cp <= 0x9f)
		return 0;
	return n;
}

/*
 * What the kernel accepts as an interface name (dev_valid_name(): 1 to 15
 * bytes, not "." or "..", no "/", ":" or space, which includes 0xa0 in its
 * ctype), and no control character: bytes above 0x7e only as UTF-8.
 */
static bool
req_ifname_ok(const char *name)
{
	const unsigned char	*p;
	size_t			 n;

	if (*name == '\0' || strlen(name) >= IFNAMSIZ ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (p = (const unsigned char *)name; *p != '\0'; p += n) {
		n = 1;
		if (*p <= ' ' || *p == 0x7f || *p == '/' || *p == ':' ||
		    *p == 0xa0)
			return false;
		if (*p > 0x7f && (n = req_utf8_len(p)) == 0)
			return false;
		if (memchr(p, 0xa0, n) != NULL)
			return false;
	}
	return true;
}

/* A peer's word, quotes escaped too, for a message in quotes. */
#define VIS_MAX		64
struct vis {
	char	s[STR_VIS_LEN(VIS_MAX)];
};

static const char *
vis(const char *w, struct vis *v)
{
	return str_vis(v->s, w, VIS_MAX, "\"");
}

#define RUN_USAGE	"run [--no-wait] [--link IFACE] [RELAY...]"

static int
req_parse_run(char * const *words, size_t n, struct control_req *req,
    char *err, size_t len)
{
	const char	*w, *link;
	struct vis	 v1, v2;
	size_t		 i, first = 0;

	/* Relays are the words that are not options, in order. */
	for (i = 1; i < n; i++) {
		w = words[i];
		if (strcmp(w, "--no-wait") == 0) {
			req->wait = false;
			continue;
		}
		if (strcmp(w, "--link") == 0 || strncmp(w, "--link=", 7) == 0) {
			if (w[6] == '=')
				link = w + 7;
			else if (i + 1 < n && words[i + 1][0] != '-')
				link = words[++i];
			else
				link = "";
			if (*link == '\0')
				return req_error(err, len, "--link needs an "
				    "interface name (" RUN_USAGE ")");
			if (req->link != NULL)
				return req_error(err, len, "--link given twice "
				    "(\"%s\" and \"%s\")", vis(req->link, &v1),
				    vis(link, &v2));
			if (!req_ifname_ok(link))
				return req_error(err, len, "--link: \"%s\" is "
				    "not an interface name (1 to %d bytes; no "
				    "\"/\", \":\", space or control character)",
				    vis(link, &v1), IFNAMSIZ - 1);
			req->link = link;
			continue;
		}
		if (w[0] == '-')
			return req_error(err, len, "run: unknown option "
			    "\"%s\" (" RUN_USAGE ")", vis(w, &v1));
		/* Move the relay names together, in place, in their order. */
		if (first == 0)
			first = i;
		if (req->nrelays > 0 && first + req->nrelays != i)
			return req_error(err, len, "run: options go before "
			    "the relay names (" RUN_USAGE ")");
		req->nrelays++;
	}
	req->relays = req->nrelays > 0 ? words + first : NULL;
	return 0;
}

int
control_req_parse(char * const *words, size_t n, struct control_req *req,
    char *err, size_t len)
{
	struct vis	v;
	size_t		i;

	memset(req, 0, sizeof(*req));
	req->wait = true;
	if (n == 0)
		return req_error(err, len, "no command given (status, run, "
		    "reload)");
	if (n > CONTROL_WORDS_MAX)
		return req_error(err, len, "more than %d words",
		    CONTROL_WORDS_MAX);
	for (i = 0; i < n; i++)
		if (!req_word_ok(words[i]))
			return req_error(err, len, "argument %zu (\"%s\") is "
			    "empty or has a space or control character", i + 1,
			    vis(words[i], &v));
	if (strcmp(words[0], "status") == 0) {
		req->verb = CONTROL_STATUS;
		for (i = 1; i < n; i++) {
			if (strcmp(words[i], "--json") != 0)
				return req_error(err, len, "status: unexpected "
				    "\"%s\" (status [--json])", vis(words[i], &v));
			req->json = true;
		}
		return 0;
	}
	if (strcmp(words[0], "reload") == 0) {
		req->verb = CONTROL_RELOAD;
		if (n > 1)
			return req_error(err, len, "reload takes no arguments "
			    "(got \"%s\")", vis(words[1], &v));
		return 0;
	}
	if (strcmp(words[0], "run") == 0) {
		req->verb = CONTROL_RUN;
		return req_parse_run(words, n, req, err, len);
	}
	return req_error(err, len, "unknown command \"%s\" (status "
	    "[--json], " RUN_USAGE ", reload)", vis(words[0], &v));
}

int
control_req_format(const struct control_req *req, char *buf, size_t len)
{
	size_t	off, i;
	int	n;

	switch (req->verb) {
	case CONTROL_STATUS:
		n = snprintf(buf, len, "status%s\n", req->json ? " --json" : "");
		return n < 0 || (size_t)n >= len ? -1 : 0;
	case CONTROL_RELOAD:
		n = snprintf(buf, len, "reload\n");
		return n < 0 || (size_t)n >= len ? -1 : 0;
	case CONTROL_RUN:
		break;
	}
	n = snprintf(buf, len, "run%s%s%s", req->wait ? "" : " --no-wait",
	    req->link != NULL ? " --link " : "",
	    req->link != NULL ? req->link : "");
	if (n < 0 || (size_t)n >= len)
		return -1;
	off = (size_t)n;
	for (i = 0; i < req->nrelays; i++) {
		n = snprintf(buf + off, len - off, " %s", req->relays[i]);
		if (n < 0 || (size_t)n >= len - off)
			return -1;
		off += (size_t)n;
	}
	if (off + 2 > len)
		return -1;
	memcpy(buf + off, "\n", 2);
	return 0;
}

/* Times for people: "2026-12-01 14:05:30 UTC (3h ago)", "-" for never. */
static const char *
fmt_time(int64_t t, int64_t now, char *buf, size_t len)
{
	time_t		tt = (time_t)t;
	struct tm	tm;
	char		abs[40], rel[24];
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
		char	dur[16];

		fmt_duration(d * 1000, dur, sizeof(dur));
		snprintf(rel, sizeof(rel), t > now ? "in %s" : "%s ago", dur);
	}
	snprintf(buf, len, "%s (%s)", abs, rel);
	return buf;
}

/* A JSON string, bytes outside printable ASCII as \u00XX: always valid. */
static void
json_str(struct evbuffer *b, const char *s)
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

static void
json_time(struct evbuffer *b, int64_t t)
{
	if (t > 0)
		evbuffer_add_printf(b, "%lld", (long long)t);
	else
		evbuffer_add(b, "null", 4);
}

/* The widths of the status table's columns, measured in a first pass. */
struct status_cols {
	int	domain, result, code, pending, attempt;
};

struct status_ctx {
	struct control_client	*c;
	struct evbuffer		*json;
	bool			 first;
	int64_t			 now;
	struct status_cols	 w;
};

/* One domain's cells, as the table shows them. */
struct status_cells {
	char	code[8], pend[24], attempt[80], text[ETRN_TEXT_MAX * 4 + 4];
};

static void
status_cells(const struct sched_domain_info *d, int64_t now,
    struct status_cells *cl)
{
	char	line[ETRN_TEXT_MAX];
	size_t	j;

	snprintf(cl->code, sizeof(cl->code), "-");
	snprintf(cl->pend, sizeof(cl->pend), "-");
	if (d->last->pending >= 0)
		snprintf(cl->pend, sizeof(cl->pend), "%ld", d->last->pending);
	if (d->last->code != 0)
		snprintf(cl->code, sizeof(cl->code), "%d", d->last->code);
	fmt_time(d->last_try, now, cl->attempt, sizeof(cl->attempt));
	/* A server's reply: its lines joined, nothing for a terminal to obey. */
	for (j = 0; d->last->text[j] != '\0' && j + 1 < sizeof(line); j++)
		line[j] = d->last->text[j] == '\n' ? ' ' : d->last->text[j];
	line[j] = '\0';
	str_vis(cl->text, line, sizeof(line), "");
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
		WIDEN(sc->w.domain, ri->domains[i].domain);
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
	char			 t1[80], t2[80];
	size_t			 i;

	client_data(sc->c, "%s", "");
	client_data(sc->c, "relay %s (%s:%u): %s, %u failure%s; last success "
	    "%s; next retry %s", ri->name, ri->host, ri->port, ri->state,
	    ri->failures, ri->failures == 1 ? "" : "s",
	    fmt_time(ri->last_success, sc->now, t1, sizeof(t1)),
	    fmt_time(ri->next_retry, sc->now, t2, sizeof(t2)));
	client_data(sc->c, "  %-*s  %-*s  %-*s  %-*s  %-*s  %s",
	    sc->w.domain, "DOMAIN", sc->w.result, "RESULT", sc->w.code, "CODE",
	    sc->w.pending, "PENDING", sc->w.attempt, "LAST ATTEMPT", "REPLY");
	for (i = 0; i < ri->ndomains; i++) {
		const struct sched_domain_info	*d = &ri->domains[i];

		status_cells(d, sc->now, &cl);
		client_data(sc->c, "  %-*s  %-*s  %-*s  %-*s  %-*s  %s",
		    sc->w.domain, d->domain, sc->w.result,
		    etrn_class_name(d->last->cls), sc->w.code, cl.code,
		    sc->w.pending, cl.pend, sc->w.attempt, cl.attempt,
		    cl.text[0] != '\0' ? cl.text : "-");
	}
}

static void
status_relay_json(const struct sched_relay_info *ri, void *arg)
{
	struct status_ctx	*sc = arg;
	struct evbuffer		*b = sc->json;
	size_t			 i;

	evbuffer_add_printf(b, "%s{\"name\":", sc->first ? "" : ",");
	sc->first = false;
	json_str(b, ri->name);
	evbuffer_add(b, ",\"host\":", 8);
	json_str(b, ri->host);
	evbuffer_add_printf(b, ",\"port\":%u,\"state\":\"%s\",\"failures\":%u,"
	    "\"last_success\":", ri->port, ri->state, ri->failures);
	json_time(b, ri->last_success);
	evbuffer_add(b, ",\"next_retry\":", 14);
	json_time(b, ri->next_retry);
	evbuffer_add(b, ",\"domains\":[", 12);
	for (i = 0; i < ri->ndomains; i++) {
		const struct sched_domain_info	*d = &ri->domains[i];

		evbuffer_add_printf(b, "%s{\"domain\":", i ? "," : "");
		json_str(b, d->domain);
		evbuffer_add_printf(b, ",\"result\":\"%s\",\"code\":",
		    etrn_class_name(d->last->cls));
		if (d->last->code != 0)
			evbuffer_add_printf(b, "%d", d->last->code);
		else
			evbuffer_add(b, "null", 4);
		evbuffer_add(b, ",\"text\":", 8);
		json_str(b, d->last->text);
		evbuffer_add(b, ",\"pending\":", 11);
		if (d->last->pending >= 0)
			evbuffer_add_printf(b, "%ld", d->last->pending);
		else
			evbuffer_add(b, "null", 4);
		evbuffer_add(b, ",\"last_ok\":", 11);
		json_time(b, d->last_ok);
		evbuffer_add(b, ",\"last_attempt\":", 16);
		json_time(b, d->last_try);
		evbuffer_add(b, "}", 1);
	}
	evbuffer_add(b, "]}", 2);
}

/* "etrnd 0.1.0, pid 42, up 3h2m, /etc/etrnd.conf, reloaded ok at ...". */
static void
status_header_text(struct control_client *c, const struct
    control_daemon_info *di, int64_t now)
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
	client_data(c, "etrnd %s, pid %ld, up %s, configuration %s; last "
	    "reload: %s%s%s", ETRND_VERSION, (long)getpid(), up,
	    di->conf_path != NULL ? di->conf_path : "-",
	    di->reload_time == 0 ? "" : di->reload_ok ? "ok at " :
	    "FAILED at ", t, di->reload_time != 0 && !di->reload_ok ?
	    " (the previous configuration stays in use)" : "");
	if (di->reload_time != 0 && !di->reload_ok && di->reload_error != NULL)
		client_data(c, "  %s", di->reload_error);
	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(zone, sizeof(zone), "%Z (%z)", &tm) == 0)
		snprintf(zone, sizeof(zone), "?");
	client_data(c, "times in %s", zone);
}

static void
status_header_json(struct evbuffer *b, const struct control_daemon_info *di)
{
	evbuffer_add_printf(b, ",\"pid\":%ld,\"started\":", (long)getpid());
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

static void
control_status(struct control_client *c, bool json)
{
	struct control			*ctl = c->ctl;
	struct linkstate_info		 li;
	struct control_daemon_info	 di;
	struct status_ctx		 sc;
	char				 t[80];
	size_t				 i;
	int				 wname = 4;

	memset(&sc, 0, sizeof(sc));
	sc.c = c;
	sc.first = true;
	sc.now = wall_s();
	memset(&di, 0, sizeof(di));
	di.started = sc.now;
	if (ctl->ops.info != NULL)
		ctl->ops.info(ctl->ops.arg, &di);
	if (!json) {
		status_header_text(c, &di, sc.now);
		for (i = 0; ctl->links != NULL &&
		    linkstate_get(ctl->links, i, &li); i++)
			WIDEN(wname, li.name);
		client_data(c, "%s", "");
		if (i == 0)
			client_data(c, "links: no watched link is present");
		else
			client_data(c, "%-*s  %-5s  %s", wname, "LINK", "STATE",
			    "SINCE");
		for (i = 0; ctl->links != NULL &&
		    linkstate_get(ctl->links, i, &li); i++)
			client_data(c, "%-*s  %-5s  %s", wname, li.name,
			    li.usable ? "up" : "down",
			    fmt_time(li.since, sc.now, t, sizeof(t)));
		sc.w.domain = (int)strlen("DOMAIN");
		sc.w.result = (int)strlen("RESULT");
		sc.w.code = (int)strlen("CODE");
		sc.w.pending = (int)strlen("PENDING");
		sc.w.attempt = (int)strlen("LAST ATTEMPT");
		sched_foreach(ctl->sched, status_measure, &sc);
		sched_foreach(ctl->sched, status_relay_text, &sc);
		if (sched_nrelays(ctl->sched) == 0) {
			client_data(c, "%s", "");
			client_data(c, "relays: none configured (add a [relay "
			    "NAME] section to %s, then etrnctl reload)",
			    di.conf_path != NULL ? di.conf_path :
			    "the configuration");
		}
		client_end(c, "ok");
		return;
	}
	if ((sc.json = evbuffer_new()) == NULL)
		fatalx("evbuffer_new");
	evbuffer_add_printf(sc.json, "{\"version\":\"%s\"", ETRND_VERSION);
	status_header_json(sc.json, &di);
	evbuffer_add(sc.json, ",\"links\":[", 10);
	for (i = 0; ctl->links != NULL && linkstate_get(ctl->links, i, &li);
	    i++) {
		evbuffer_add_printf(sc.json, "%s{\"name\":", i ? "," : "");
		json_str(sc.json, li.name);
		evbuffer_add_printf(sc.json, ",\"up\":%s,\"since\":",
		    li.usable ? "true" : "false");
		json_time(sc.json, li.since);
		evbuffer_add(sc.json, "}", 1);
	}
	evbuffer_add(sc.json, "],\"relays\":[", 12);
	sched_foreach(ctl->sched, status_relay_json, &sc);
	evbuffer_add(sc.json, "]}", 2);
	evbuffer_add(bufferevent_get_output(c->bev), "- ", 2);
	evbuffer_add_buffer(bufferevent_get_output(c->bev), sc.json);
	evbuffer_add(bufferevent_get_output(c->bev), "\n", 1);
	evbuffer_free(sc.json);
	client_end(c, "ok");
}

struct run_ctx {
	struct control_client	*c;
	int			 status;
};

static void
run_relay_results(const struct sched_relay_info *ri, void *arg)
{
	struct run_ctx	*rc = arg;
	char		 line[1024], shown[sizeof(line) * 4 + 4];
	size_t		 i;

	for (i = 0; i < rc->c->nnames; i++)
		if (strcmp(rc->c->names[i], ri->name) == 0)
			break;
	if (rc->c->nnames > 0 && i == rc->c->nnames)
		return;
	for (i = 0; i < ri->ndomains; i++) {
		sched_format_result(ri->name, ri->domains[i].domain,
		    ri->domains[i].last, line, sizeof(line));
		/* The server's reply text, for a terminal: escaped. */
		client_data(rc->c, "%s", str_vis(shown, line, sizeof(line),
		    ""));
		rc->status = sched_status_merge(rc->status,
		    ri->domains[i].last->cls);
	}
}

/* The runs asked for are over: the --once lines and exit status. */
static void
control_run_done(void *arg)
{
	struct control_client	*c = arg;
	struct run_ctx		 rc = { c, 0 };

	c->waiter = NULL;
	sched_foreach(c->ctl->sched, run_relay_results, &rc);
	client_end(c, "exit %d", rc.status);
}

static void
control_run(struct control_client *c, const struct control_req *req)
{
	const char	*unknown = NULL;
	struct vis	 v;
	size_t		 i;

	/* A link tool's hook (pppd's ip-up): only for a watched link. */
	if (req->link != NULL && (c->ctl->links == NULL ||
	    !linkstate_watches(c->ctl->links, req->link))) {
		client_end(c, "ok %s is not watched; nothing to do",
		    vis(req->link, &v));
		return;
	}
	c->names = xcalloc(req->nrelays + 1, sizeof(*c->names));
	for (i = 0; i < req->nrelays; i++)
		c->names[i] = xstrdup(req->relays[i]);
	c->nnames = req->nrelays;
	if (sched_run(c->ctl->sched, c->names, c->nnames,
	    req->wait ? control_run_done : NULL, c, &c->waiter,
	    &unknown) == -1) {
		if (errno == ENOENT)
			client_end(c, "error no relay \"%s\"",
			    vis(unknown, &v));
		else
			client_end(c, "error etrnd is shutting down");
		return;
	}
	if (req->link != NULL)
		log_info("control: %s is up (link tool hook): asking %s",
		    vis(req->link, &v), c->nnames == 0 ? "every relay" :
		    "the relays named");
	else
		log_info("control: asking %s", c->nnames == 0 ? "every relay" :
		    "the relays named");
	if (!req->wait)
		client_end(c, "ok");
}

static void
control_reload(struct control_client *c)
{
	char	*errors = NULL, *line, *next;

	if (c->ctl->ops.reload(c->ctl->ops.arg, &errors) == 0) {
		client_end(c, "ok");
		return;
	}
	for (line = errors; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		client_data(c, "%s", line);
	}
	free(errors);
	client_end(c, "error configuration not reloaded; the previous one "
	    "stays in use");
}

/* Split on spaces, in place. */
static size_t
control_split(char *line, char **words, size_t max)
{
	size_t	n = 0;
	char	*w;

	while (n < max && (w = strsep(&line, " \t")) != NULL)
		if (*w != '\0')
			words[n++] = w;
	return n;
}

static void
control_request(struct control_client *c, char *line)
{
	char			*words[CONTROL_WORDS_MAX + 1];
	char			 err[1024];
	struct control_req	 req;
	size_t			 n;

	/* From now on the client may wait long (run), but not stop reading. */
	evtimer_del(c->deadline);
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	n = control_split(line, words, nitems(words));
	if (control_req_parse(words, n, &req, err, sizeof(err)) == -1)
		client_end(c, "error %s", err);
	else if (req.verb == CONTROL_STATUS)
		control_status(c, req.json);
	else if (req.verb == CONTROL_RUN)
		control_run(c, &req);
	else
		control_reload(c);
	if (!c->answered) {
		struct timeval tv = ms_to_tv(CONTROL_WRITE_MS);

		bufferevent_set_timeouts(c->bev, NULL, &tv);
	}
}

static void
client_read_cb(struct bufferevent *bev, void *arg)
{
	struct control_client	*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	char			*line;
	size_t			 len;

	if (c->waiter != NULL) {
		/* Waiting for a run: the client has nothing more to say. */
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
	if (line == NULL) {
		if (evbuffer_get_length(in) > CONTROL_LINE_MAX)
			client_end(c, "error request longer than %d bytes",
			    CONTROL_LINE_MAX);
		return;
	}
	if (len > CONTROL_LINE_MAX || strlen(line) != len)
		client_end(c, "error request longer than %d bytes or with a "
		    "NUL byte", CONTROL_LINE_MAX);
	else
		control_request(c, line);
	free(line);
}

static void
client_event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct control_client	*c = arg;

	(void)bev;
	/* A client that half-closed after its request still gets the answer. */
	if ((events & BEV_EVENT_EOF) && c->answered &&
	    !(events & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)))
		return;
	if (events & BEV_EVENT_TIMEOUT)
		log_debug("control: client %s timed out",
		    c->answered ? "not reading" : "silent");
	/* Gone, broken or timed out: whatever was pending is dropped. */
	client_free(c);
}

/* The request took too long in all, however it trickled in. */
static void
client_deadline_cb(evutil_socket_t fd, short events, void *arg)
{
	struct control_client	*c = arg;

	(void)fd;
	(void)events;
	log_debug("control: client sent no request within %dms, dropped",
	    CONTROL_REQUEST_MS);
	client_free(c);
}

/* The oldest client that has not sent its request yet, or NULL. */
static struct control_client *
control_oldest_idle(struct control *ctl)
{
	struct control_client	*c;

	TAILQ_FOREACH(c, &ctl->clients, entry)
		if (evtimer_pending(c->deadline, NULL))
			return c;
	return NULL;
}

static void
control_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct control		*ctl = arg;
	struct control_client	*c, *old;
	struct timeval		 tv = ms_to_tv(CONTROL_REQUEST_MS);
	struct timeval		 wtv = ms_to_tv(CONTROL_WRITE_MS);

	(void)l;
	(void)sa;
	(void)salen;
	if (ctl->accept_failing) {
		log_info("control: accepting clients again");
		ctl->accept_failing = false;
	}
	/*
	 * Full: make room by dropping the oldest client still owing its
	 * request (etrnctl sends its own at once), so clients that dawdle
	 * cannot lock etrnctl out.
	 */
	if (ctl->nclients >= CONTROL_CLIENTS_MAX &&
	    (old = control_oldest_idle(ctl)) != NULL) {
		log_debug("control: %d clients, dropping the oldest silent one",
		    CONTROL_CLIENTS_MAX);
		client_free(old);
	}
	c = xcalloc(1, sizeof(*c));
	c->ctl = ctl;
	c->bev = bufferevent_socket_new(ctl->base, fd,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (c->bev == NULL) {
		close(fd);
		free(c);
		log_warnx("control: cannot set up a client");
		return;
	}
	if ((c->deadline = evtimer_new(ctl->base, client_deadline_cb, c)) ==
	    NULL)
		fatalx("evtimer_new");
	TAILQ_INSERT_TAIL(&ctl->clients, c, entry);
	ctl->nclients++;
	bufferevent_setcb(c->bev, client_read_cb, NULL, client_event_cb, c);
	/* One deadline for the whole request, not one per read. */
	evtimer_add(c->deadline, &tv);
	bufferevent_set_timeouts(c->bev, NULL, &wtv);
	if (ctl->nclients > CONTROL_CLIENTS_MAX) {
		client_end(c, "error too many clients");
		return;
	}
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* The pause after running out of descriptors is over: listen again. */
static void
control_resume_cb(evutil_socket_t fd, short events, void *arg)
{
	struct control	*ctl = arg;

	(void)fd;
	(void)events;
	evconnlistener_enable(ctl->listener);
}

static void
control_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct control	*ctl = arg;
	struct timeval	 tv = ms_to_tv(CONTROL_ACCEPT_PAUSE_MS);
	int		 saved = errno;

	if (saved != EMFILE && saved != ENFILE && saved != ENOBUFS &&
	    saved != ENOMEM) {
		log_warn("control: accept");
		return;
	}
	/*
	 * The pending connection stays readable: listening on would spin.
	 * Pause, and try again later; warn once until it works.
	 */
	evconnlistener_disable(l);
	evtimer_add(ctl->resume, &tv);
	if (!ctl->accept_failing)
		log_warnx("control: accept: %s; pausing, retrying every %dms",
		    strerror(saved), CONTROL_ACCEPT_PAUSE_MS);
	else
		log_debug("control: accept: %s; still pausing", strerror(saved));
	ctl->accept_failing = true;
}

struct control *
control_new(struct event_base *base, const char *path, struct sched *sched,
    struct linkstate *links, const struct control_ops *ops)
{
	struct control		*ctl;
	struct sockaddr_un	 sun;
	struct stat		 st;
	mode_t			 old;
	int			 fd = -1, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return NULL;
	/* Replace a socket left by a crash, but not a live one. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ||
		    errno == EAGAIN || errno == EACCES || errno == EPERM) {
			/* Live, or not ours to judge: leave it alone. */
			saved = errno == EACCES || errno == EPERM ? errno :
			    EADDRINUSE;
			close(fd);
			errno = saved;
			return NULL;
		}
		unlink(path);
		close(fd);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
		if (fd == -1)
			return NULL;
	}
	old = umask(0117);		/* srw-rw---- */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		umask(old);
		close(fd);
		errno = saved;
		return NULL;
	}
	umask(old);
	if (listen(fd, 16) == -1)
		goto fail;

	ctl = xcalloc(1, sizeof(*ctl));
	ctl->base = base;
	ctl->path = xstrdup(path);
	ctl->sched = sched;
	ctl->links = links;
	ctl->ops = *ops;
	TAILQ_INIT(&ctl->clients);
	if ((ctl->resume = evtimer_new(base, control_resume_cb, ctl)) == NULL)
		fatalx("evtimer_new");
	ctl->listener = evconnlistener_new(base, control_accept_cb, ctl,
	    LEV_OPT_CLOSE_ON_FREE, 0, fd);
	if (ctl->listener == NULL) {
		event_free(ctl->resume);
		free(ctl->path);
		free(ctl);
		goto fail;
	}
	evconnlistener_set_error_cb(ctl->listener, control_accept_error_cb);
	return ctl;
fail:
	saved = errno;
	close(fd);
	unlink(path);
	errno = saved;
	return NULL;
}

pid_t
control_serving_pid(const char *path)
{
	struct sockaddr_un	sun;
	struct ucred		cred;
	socklen_t		len = sizeof(cred);
	pid_t			pid = -1;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	/* Non-blocking: a wedged daemon's full backlog must not hang us. */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		pid = 0;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
		    cred.pid > 0)
			pid = cred.pid;
	} else if (errno == EAGAIN || errno == EACCES || errno == EPERM)
		pid = 0;	/* live but busy, or not ours to use */
	close(fd);
	return pid;
}

void
control_free(struct control *ctl)
{
	if (ctl == NULL)
		return;
	while (!TAILQ_EMPTY(&ctl->clients))
		client_free(TAILQ_FIRST(&ctl->clients));
	evconnlistener_free(ctl->listener);
	event_free(ctl->resume);
	unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}
