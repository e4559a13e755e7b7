/* SPDX-License-Identifier: ISC */
/*
 * control: the control socket's transport (the grammar is ctlproto's, what
 * an answer shows is report's and metrics').  Each client is a bufferevent
 * with one deadline for its whole request and one for every write, so a
 * client that says nothing, trickles, or stops reading costs a few seconds
 * at most, and when all slots are taken the oldest client still owing its
 * request makes room.  A run's answer may take minutes (its results, then
 * the flush verdicts up to flush-window later): nothing times the wait
 * itself, only each write, and a client that vanishes meanwhile just
 * cancels its waiter.  Out of descriptors, the listener pauses instead of
 * spinning.
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
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "control.h"
#include "ctlproto.h"
#include "linkstate.h"
#include "log.h"
#include "metrics.h"
#include "report.h"
#include "sched.h"
#include "util.h"

#define CONTROL_REQUEST_MS	5000	/* from accept to the whole request */
#define CONTROL_WRITE_MS	10000	/* to take each part of the answer */
#define CONTROL_ACCEPT_PAUSE_MS	1000	/* out of descriptors: listen again */

/* A peer's word for a message or a log line, quotes escaped too. */
#define VIS_MAX		64
#define VIS_LEN		STR_VIS_LEN(VIS_MAX)

static const char *
vis(char out[VIS_LEN], const char *w)
{
	return str_vis(out, w, VIS_MAX, "\"");
}

struct control_client {
	struct control		*ctl;
	struct bufferevent	*bev;
	struct event		*deadline;	/* until the request is read */
	struct sched_waiter	*waiter;	/* run: results or flush
						 * verdicts pending */
	char			**names;	/* run: the relays asked */
	size_t			 nnames;
	int			 status;	/* run: from the results */
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

/* One "- " data line. */
static void
client_data(struct control_client *c, const char *text)
{
	struct ctlproto_answer	a = { CTLPROTO_DATA, text, 0 };

	ctlproto_answer_add(bufferevent_get_output(c->bev), &a);
}

static void
client_flushed_cb(struct bufferevent *bev, void *arg)
{
	struct control_client	*c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		client_free(c);
}

static void	client_event_cb(struct bufferevent *, short, void *);

/* The final line; the client is freed once it has all been written. */
static void
client_end(struct control_client *c, const struct ctlproto_answer *a)
{
	ctlproto_answer_add(bufferevent_get_output(c->bev), a);
	c->answered = true;
	evtimer_del(c->deadline);
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setcb(c->bev, NULL, client_flushed_cb, client_event_cb, c);
	bufferevent_enable(c->bev, EV_WRITE);
}

/* "ok", or "ok NOTE". */
static void
client_ok(struct control_client *c, const char *note)
{
	struct ctlproto_answer	a = { CTLPROTO_OK, note, 0 };

	client_end(c, &a);
}

static void
client_exit(struct control_client *c, int status)
{
	struct ctlproto_answer	a = { CTLPROTO_EXIT, NULL, status };

	client_end(c, &a);
}

static void	client_error(struct control_client *, const char *, ...)
		    LOG_FMT(2, 3);

static void
client_error(struct control_client *c, const char *fmt, ...)
{
	struct ctlproto_answer	 a = { CTLPROTO_ERROR, NULL, 0 };
	char			*text;
	va_list			 ap;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) == -1)
		fatalx("vasprintf");
	va_end(ap);
	a.text = text;
	client_end(c, &a);
	free(text);
}

/* One rendered line as a "- " data line. */
static void
control_data_line(const char *line, void *arg)
{
	client_data(arg, line);
}

static void
control_status(struct control_client *c, bool json)
{
	struct control			*ctl = c->ctl;
	struct control_daemon_info	 di;
	struct report_relays		 rr = report_relays_of(ctl->sched);
	int64_t				 now = wall_s();

	memset(&di, 0, sizeof(di));
	di.pid = (long)getpid();
	di.started = now;
	if (ctl->ops.info != NULL)
		ctl->ops.info(ctl->ops.arg, &di);
	if (json)
		report_status_json(&rr, ctl->links, &di, control_data_line, c);
	else
		report_status_text(&rr, ctl->links, &di, now,
		    control_data_line, c);
	client_ok(c, NULL);
}

/*
 * The runs asked for are over (DONE): their --once lines at once, since
 * the verdicts may be minutes away.  Their windows have verdicts
 * (FLUSHED): the flush lines.  The last call ends the answer with "exit
 * N", N from the results alone: what came back is not a failure to retry.
 */
static void
control_run_cb(enum sched_run_phase phase, void *arg)
{
	struct control_client	*c = arg;
	struct report_relays	 rr = report_relays_of(c->ctl->sched);

	if (phase == SCHED_RUN_DONE) {
		c->status = report_results(&rr, c->names, c->nnames,
		    control_data_line, c);
		/* Still there: the flush verdicts are to come. */
		if (c->waiter != NULL)
			return;
	} else
		report_flush_results(&rr, c->names, c->nnames,
		    control_data_line, c);
	client_exit(c, c->status);
}

static void
control_run(struct control_client *c, const struct ctlproto_req *req)
{
	const char	*unknown = NULL;
	char		 v[VIS_LEN], note[VIS_LEN + 64];
	size_t		 i;

	/* A link tool's hook (pppd's ip-up): only for a watched link. */
	if (req->link != NULL && (c->ctl->links == NULL ||
	    !linkstate_watches(c->ctl->links, req->link))) {
		snprintf(note, sizeof(note), "%s is not watched; nothing to do",
		    vis(v, req->link));
		client_ok(c, note);
		return;
	}
	c->names = xcalloc(req->nrelays + 1, sizeof(*c->names));
	for (i = 0; i < req->nrelays; i++)
		c->names[i] = xstrdup(req->relays[i]);
	c->nnames = req->nrelays;
	if (sched_run(c->ctl->sched, c->names, c->nnames,
	    req->flush ? SCHED_RUN_FLUSH : 0,
	    req->wait ? control_run_cb : NULL, c, &c->waiter,
	    &unknown) == -1) {
		if (errno == ENOENT)
			client_error(c, "no relay \"%s\"", vis(v, unknown));
		else
			client_error(c, "etrnd is shutting down");
		return;
	}
	if (req->link != NULL)
		log_info("control: %s is up (link tool hook): asking %s",
		    vis(v, req->link), c->nnames == 0 ? "every relay" :
		    "the relays named");
	else
		log_info("control: asking %s", c->nnames == 0 ? "every relay" :
		    "the relays named");
	if (!req->wait)
		client_ok(c, NULL);
}

/*
 * The runs kept, of every relay or of one that is configured now (one
 * removed by a reload may still have runs kept, but a name is checked
 * the way run checks it, so a typo is not an empty history).
 */
static void
control_history(struct control_client *c, const struct ctlproto_req *req)
{
	const struct history	*h = sched_history(c->ctl->sched);
	const char		*relay = NULL;
	char			 v[VIS_LEN];

	if (req->nrelays > 0) {
		relay = req->relays[0];
		if (!sched_has_relay(c->ctl->sched, relay)) {
			client_error(c, "no relay \"%s\"", vis(v, relay));
			return;
		}
	}
	if (req->json)
		report_history_json(h, relay, control_data_line, c);
	else
		report_history_text(h, relay, wall_s(), control_data_line, c);
	client_ok(c, NULL);
}

/* The exposition, each line as data; "# EOF" is its last. */
static void
control_metrics(struct control_client *c)
{
	struct report_relays	rr = report_relays_of(c->ctl->sched);

	metrics_render(sched_metrics(c->ctl->sched), &rr, c->ctl->links,
	    control_data_line, c);
	client_ok(c, NULL);
}

static void
control_reload(struct control_client *c)
{
	char	*errors = NULL, *line, *next;

	if (c->ctl->ops.reload(c->ctl->ops.arg, &errors) == 0) {
		client_ok(c, NULL);
		return;
	}
	for (line = errors; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		client_data(c, line);
	}
	free(errors);
	client_error(c, "configuration not reloaded; the previous one "
	    "stays in use");
}

static void
control_request(struct control_client *c, char *line)
{
	char			*words[CTLPROTO_WORDS_MAX + 1];
	char			 err[1024];
	struct ctlproto_req	 req;
	size_t			 n;

	/*
	 * From now on the client may wait long (run: minutes, for the flush
	 * verdicts), but not stop reading: the write timeout below counts
	 * only while part of the answer is waiting to be taken.
	 */
	evtimer_del(c->deadline);
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	n = ctlproto_split(line, words, nitems(words));
	if (ctlproto_req_parse(words, n, &req, err, sizeof(err)) == -1)
		client_error(c, "%s", err);
	else {
		switch (req.verb) {
		case CTLPROTO_STATUS:
			control_status(c, req.json);
			break;
		case CTLPROTO_RUN:
			control_run(c, &req);
			break;
		case CTLPROTO_HISTORY:
			control_history(c, &req);
			break;
		case CTLPROTO_METRICS:
			control_metrics(c);
			break;
		case CTLPROTO_RELOAD:
			control_reload(c);
			break;
		}
	}
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
		if (evbuffer_get_length(in) > CTLPROTO_LINE_MAX)
			client_error(c, "request longer than %d bytes",
			    CTLPROTO_LINE_MAX);
		return;
	}
	if (len > CTLPROTO_LINE_MAX || strlen(line) != len)
		client_error(c, "request longer than %d bytes or with a NUL "
		    "byte", CTLPROTO_LINE_MAX);
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
		client_error(c, "too many clients");
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

/*
 * A listening socket at path, mode 0660; a socket left by a crash is
 * replaced, a live one (EADDRINUSE) or one not ours to judge (EACCES,
 * EPERM) left alone.  Once bound, a failure removes what it made.
 */
static int
control_listen(const char *path)
{
	struct sockaddr_un	sun;
	struct stat		st;
	mode_t			old;
	int			fd, saved;

	if (ctlproto_sockaddr(path, &sun) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ||
		    errno == EAGAIN || errno == EACCES || errno == EPERM) {
			saved = errno == EACCES || errno == EPERM ? errno :
			    EADDRINUSE;
			close(fd);
			errno = saved;
			return -1;
		}
		unlink(path);
		close(fd);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
		if (fd == -1)
			return -1;
	}
	old = umask(0117);		/* srw-rw---- */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		umask(old);
		close(fd);
		errno = saved;
		return -1;
	}
	umask(old);
	if (listen(fd, 16) == -1) {
		saved = errno;
		close(fd);
		unlink(path);
		errno = saved;
		return -1;
	}
	return fd;
}

struct control *
control_new(struct event_base *base, const char *path, struct sched *sched,
    struct linkstate *links, const struct control_ops *ops)
{
	struct control	*ctl;
	int		 fd, saved;

	if ((fd = control_listen(path)) == -1)
		return NULL;
	ctl = xcalloc(1, sizeof(*ctl));
	ctl->base = base;
	ctl->path = xstrdup(path);
	ctl->sched = sched;
	ctl->links = links;
	ctl->ops = *ops;
	TAILQ_INIT(&ctl->clients);
	if ((ctl->resume = evtimer_new(base, control_resume_cb, ctl)) == NULL)
		goto fail;
	ctl->listener = evconnlistener_new(base, control_accept_cb, ctl,
	    LEV_OPT_CLOSE_ON_FREE, 0, fd);
	if (ctl->listener == NULL)
		goto fail;
	evconnlistener_set_error_cb(ctl->listener, control_accept_error_cb);
	return ctl;
fail:
	saved = errno;
	close(fd);
	control_free(ctl);
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

	if (ctlproto_sockaddr(path, &sun) == -1)
		return -1;
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
	if (ctl->listener != NULL)
		evconnlistener_free(ctl->listener);
	if (ctl->resume != NULL)
		event_free(ctl->resume);
	unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}
