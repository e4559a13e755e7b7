/* SPDX-License-Identifier: ISC */
/*
 * control: the control socket; see control.h for the protocol.  Each client
 * is a bufferevent with a deadline for its request and for every write, so
 * a client that says nothing, or stops reading, costs a few seconds at most;
 * one that vanishes while waiting for a run just cancels its waiter.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

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

#define CONTROL_CLIENTS_MAX	64
#define CONTROL_REQUEST_MS	5000	/* to send the request line */
#define CONTROL_WRITE_MS	10000	/* to take each part of the answer */
#define CONTROL_WORDS_MAX	256

struct control_client {
	struct control		*ctl;
	struct bufferevent	*bev;
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
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setcb(c->bev, NULL, client_flushed_cb, client_event_cb, c);
	bufferevent_enable(c->bev, EV_WRITE);
}

static const char *
fmt_time(int64_t t, char *buf, size_t len)
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	if (t <= 0 || localtime_r(&tt, &tm) == NULL)
		snprintf(buf, len, "-");
	else
		strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
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

struct status_ctx {
	struct control_client	*c;
	struct evbuffer		*json;
	bool			 first;
};

static void
status_relay_text(const struct sched_relay_info *ri, void *arg)
{
	struct status_ctx	*sc = arg;
	char			 t1[32], t2[32], text[ETRN_TEXT_MAX];
	size_t			 i, j;

	client_data(sc->c, "relay %s (%s:%u): %s, %u failure%s, last success "
	    "%s, next retry %s", ri->name, ri->host, ri->port, ri->state,
	    ri->failures, ri->failures == 1 ? "" : "s",
	    fmt_time(ri->last_success, t1, sizeof(t1)),
	    fmt_time(ri->next_retry, t2, sizeof(t2)));
	for (i = 0; i < ri->ndomains; i++) {
		const struct sched_domain_info	*d = &ri->domains[i];
		char				 pend[32] = "-", code[8] = "-";

		if (d->last->pending >= 0)
			snprintf(pend, sizeof(pend), "%ld", d->last->pending);
		if (d->last->code != 0)
			snprintf(code, sizeof(code), "%d", d->last->code);
		for (j = 0; d->last->text[j] != '\0' && j + 1 < sizeof(text);
		    j++)
			text[j] = d->last->text[j] == '\n' ? ' ' :
			    d->last->text[j];
		text[j] = '\0';
		client_data(sc->c, "  %-24s %-11s %-4s %-7s %s", d->domain,
		    etrn_class_name(d->last->cls), code, pend, text);
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
		evbuffer_add(b, "}", 1);
	}
	evbuffer_add(b, "]}", 2);
}

static void
control_status(struct control_client *c, bool json)
{
	struct control		*ctl = c->ctl;
	struct linkstate_info	 li;
	struct status_ctx	 sc = { c, NULL, true };
	char			 t[32];
	size_t			 i;

	if (!json) {
		client_data(c, "etrnd %s", ETRND_VERSION);
		for (i = 0; ctl->links != NULL &&
		    linkstate_get(ctl->links, i, &li); i++)
			client_data(c, "link %s: %s since %s", li.name,
			    li.usable ? "up" : "down",
			    fmt_time(li.since, t, sizeof(t)));
		if (i == 0)
			client_data(c, "link: none watched is present");
		sched_foreach(ctl->sched, status_relay_text, &sc);
		client_end(c, "ok");
		return;
	}
	if ((sc.json = evbuffer_new()) == NULL)
		fatalx("evbuffer_new");
	evbuffer_add_printf(sc.json, "{\"version\":\"%s\",\"links\":[",
	    ETRND_VERSION);
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
	char		 line[1024];
	size_t		 i;

	for (i = 0; i < rc->c->nnames; i++)
		if (strcmp(rc->c->names[i], ri->name) == 0)
			break;
	if (rc->c->nnames > 0 && i == rc->c->nnames)
		return;
	for (i = 0; i < ri->ndomains; i++) {
		sched_format_result(ri->name, ri->domains[i].domain,
		    ri->domains[i].last, line, sizeof(line));
		client_data(rc->c, "%s", line);
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
control_run(struct control_client *c, char **words, size_t n)
{
	const char	*unknown = NULL, *link = NULL;
	bool		 wait = true;
	size_t		 i;

	for (; n > 0 && words[0][0] == '-'; words++, n--) {
		if (strcmp(words[0], "--no-wait") == 0)
			wait = false;
		else if (strcmp(words[0], "--link") == 0 && n > 1) {
			link = words[1];
			words++;
			n--;
		} else
			break;
	}
	/* A link tool's hook (pppd's ip-up): only for a watched link. */
	if (link != NULL && (c->ctl->links == NULL ||
	    !linkstate_watches(c->ctl->links, link))) {
		client_end(c, "ok %s is not watched; nothing to do", link);
		return;
	}
	for (i = 0; i < n; i++)
		if (words[i][0] == '-') {
			client_end(c, "error unknown option \"%s\" (run "
			    "[--no-wait] [--link IFACE] [RELAY...])", words[i]);
			return;
		}
	c->names = xcalloc(n + 1, sizeof(*c->names));
	for (i = 0; i < n; i++)
		c->names[i] = xstrdup(words[i]);
	c->nnames = n;
	if (sched_run(c->ctl->sched, c->names, c->nnames,
	    wait ? control_run_done : NULL, c, &c->waiter, &unknown) == -1) {
		if (errno == ENOENT)
			client_end(c, "error no relay \"%s\"", unknown);
		else
			client_end(c, "error etrnd is shutting down");
		return;
	}
	if (link != NULL)
		log_info("control: %s is up (link tool hook): asking %s", link,
		    n == 0 ? "every relay" : "the relays named");
	else
		log_info("control: asking %s", n == 0 ? "every relay" :
		    "the relays named");
	if (!wait)
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
	char	*words[CONTROL_WORDS_MAX];
	size_t	 n;

	/* From now on the client may wait long (run), but not stop reading. */
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	n = control_split(line, words, nitems(words));
	if (n == 0) {
		client_end(c, "error empty request (status, run, reload)");
		return;
	}
	if (strcmp(words[0], "status") == 0 && n == 1)
		control_status(c, false);
	else if (strcmp(words[0], "status") == 0 && n == 2 &&
	    strcmp(words[1], "--json") == 0)
		control_status(c, true);
	else if (strcmp(words[0], "run") == 0)
		control_run(c, words + 1, n - 1);
	else if (strcmp(words[0], "reload") == 0 && n == 1)
		control_reload(c);
	else
		client_end(c, "error unknown request \"%.64s\" (status "
		    "[--json], run [--no-wait] [RELAY...], reload)", words[0]);
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

static void
control_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct control		*ctl = arg;
	struct control_client	*c;
	struct timeval		 tv = ms_to_tv(CONTROL_REQUEST_MS);

	(void)l;
	(void)sa;
	(void)salen;
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
	TAILQ_INSERT_TAIL(&ctl->clients, c, entry);
	ctl->nclients++;
	bufferevent_setcb(c->bev, client_read_cb, NULL, client_event_cb, c);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	if (ctl->nclients > CONTROL_CLIENTS_MAX) {
		client_end(c, "error too many clients");
		return;
	}
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void
control_accept_error_cb(struct evconnlistener *l, void *arg)
{
	(void)l;
	(void)arg;
	/* EMFILE and friends: the listener retries on the next event. */
	log_warn("control: accept");
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
		    errno == EAGAIN) {
			close(fd);
			errno = EADDRINUSE;
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
	ctl->listener = evconnlistener_new(base, control_accept_cb, ctl,
	    LEV_OPT_CLOSE_ON_FREE, 0, fd);
	if (ctl->listener == NULL) {
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

void
control_free(struct control *ctl)
{
	if (ctl == NULL)
		return;
	while (!TAILQ_EMPTY(&ctl->clients))
		client_free(TAILQ_FIRST(&ctl->clients));
	evconnlistener_free(ctl->listener);
	unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}
