/* SPDX-License-Identifier: ISC */
/*
 * flush: every relay's flush window in the event loop; see flush.h.
 *
 * Windows are few (one per relay at most) and each is a flushwatch of a
 * few kilobytes.  One poll serves them all: the dump is of one port, and
 * each window counts only what is new to it.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/rtnetlink.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "flush.h"
#include "log.h"
#include "route.h"
#include "sockdiag.h"
#include "util.h"

/* Connections one poll can tell apart: as many as a window tracks. */
#define FLUSH_CONNS_MAX		FLUSHWATCH_TRACK_MAX
/* Polls that fail in a row before a window gives up (a kernel that
 * answers late once is no reason to). */
#define FLUSH_POLL_FAILS	3

struct flush_window {
	struct flush		*fl;
	TAILQ_ENTRY(flush_window) entry;
	struct flushwatch	 fw;
	struct flushwatch_result res;		/* why, err, port, started */
	uint64_t		 t0;		/* the run's start, ms */
	bool			 started;	/* the baseline is taken */
	bool			 unobservable;	/* known at the start */
	uint64_t		 due;		/* next poll (ms), 0: none */
	flush_done_cb		 cb;
	void			*arg;
};

struct flush {
	struct event_base	*base;
	struct sockdiag_query	 q;
	char			*local_host;
	struct flushwatch_conf	 conf;
	TAILQ_HEAD(, flush_window) windows;
	struct event		*timer;
	struct event		*gone_ev;	/* while a window is open */
	int			 gone_fd;
	struct sockdiag_conn	*conns;		/* the last snapshot, while a
						 * window is open */
	unsigned		 fails;		/* polls failed in a row */
};

static void	flush_settle(struct flush *, bool deliver);
static void	flush_gone_close(struct flush *);
static void	flush_timer_cb(evutil_socket_t, short, void *);

struct flush *
flush_new(struct event_base *base)
{
	struct flush	*fl;

	fl = xcalloc(1, sizeof(*fl));
	fl->base = base;
	fl->gone_fd = -1;
	fl->q.port = 25;
	fl->q.local.family = AF_UNSPEC;
	fl->conf.window_ms = FLUSHWATCH_WINDOW_MS;
	fl->conf.quiet_ms = FLUSHWATCH_QUIET_MS;
	fl->conf.poll_ms = FLUSHWATCH_POLL_MS;
	TAILQ_INIT(&fl->windows);
	if ((fl->timer = evtimer_new(base, flush_timer_cb, fl)) == NULL)
		fatalx("evtimer_new");
	return fl;
}

static void
flush_window_free(struct flush_window *w)
{
	TAILQ_REMOVE(&w->fl->windows, w, entry);
	free(w);
}

void
flush_free(struct flush *fl)
{
	if (fl == NULL)
		return;
	while (!TAILQ_EMPTY(&fl->windows))
		flush_window_free(TAILQ_FIRST(&fl->windows));
	flush_settle(fl, false);
	event_free(fl->timer);
	free(fl->conns);
	free(fl->local_host);
	free(fl);
}

void
flush_configure(struct flush *fl, const char *local_host, uint16_t port,
    const struct flushwatch_conf *conf)
{
	free(fl->local_host);
	fl->local_host = local_host != NULL ? xstrdup(local_host) : NULL;
	fl->q.port = port != 0 ? port : 25;
	fl->conf = *conf;
	if (fl->conf.poll_ms == 0)
		fl->conf.poll_ms = FLUSHWATCH_POLL_MS;
}

/*
 * Is local-smtp on another host?  Only a literal can be told without a
 * lookup; a name, or a kernel that does not answer, is taken as here (the
 * listening check still stands).
 */
static bool
flush_elsewhere(const char *host)
{
	struct route_info	 ri;
	unsigned char		 a[16];
	int			 family;

	if (host == NULL)
		return false;
	family = strchr(host, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(family, host, a) != 1)
		return false;
	if (route_get(family, a, &ri) == -1)
		return false;
	return ri.type != RTN_LOCAL;
}

/* Why a window cannot be watched, from its start: 0, or -1 (res says). */
static int
flush_check(struct flush *fl, struct flushwatch_result *res)
{
	bool	 listening;

	if (flush_elsewhere(fl->local_host)) {
		res->why = FLUSHWATCH_WHY_ELSEWHERE;
		return -1;
	}
	if (sockdiag_listening(&fl->q, &listening) == -1) {
		res->why = FLUSHWATCH_WHY_KERNEL;
		res->err = errno;
		return -1;
	}
	if (!listening) {
		res->why = FLUSHWATCH_WHY_NO_LISTENER;
		return -1;
	}
	return 0;
}

/*
 * The window's start: can it be watched, and the connections there now.
 * Taken on the loop's next turn, not in flush_begin(): the run's session
 * has issued its connect() by then, and the secondary cannot connect back
 * before it has the ETRN, several round trips later.
 */
static void
flush_start(struct flush *fl, struct flush_window *w)
{
	size_t	 n = 0;

	w->started = true;
	w->due = 0;
	if (flush_check(fl, &w->res) == -1)
		w->unobservable = true;
	else if (sockdiag_conns(&fl->q, fl->conns, FLUSH_CONNS_MAX,
	    &n) == -1) {
		w->res.why = FLUSHWATCH_WHY_KERNEL;
		w->res.err = errno;
		w->unobservable = true;
		n = 0;
	}
	if (n > FLUSH_CONNS_MAX)
		n = FLUSH_CONNS_MAX;
	flushwatch_begin(&w->fw, &fl->conf, w->t0, fl->conns, n);
}

struct flush_window *
flush_begin(struct flush *fl, int64_t wall, flush_done_cb cb, void *arg)
{
	struct flush_window	*w;

	w = xcalloc(1, sizeof(*w));
	w->fl = fl;
	w->cb = cb;
	w->arg = arg;
	w->res.port = fl->q.port;
	w->res.started = wall;
	w->t0 = now_ms();
	w->due = w->t0 != 0 ? w->t0 : 1;	/* flush_start() */
	if (fl->conns == NULL)
		fl->conns = xcalloc(FLUSH_CONNS_MAX, sizeof(*fl->conns));
	TAILQ_INSERT_TAIL(&fl->windows, w, entry);
	flush_settle(fl, false);
	return w;
}

void
flush_watch(struct flush_window *w, const struct flushwatch_net *from,
    size_t n)
{
	struct flushwatch_step	 st;
	uint64_t		 now;

	/* A run over before the loop turned (it cannot, but be sure). */
	if (!w->started)
		flush_start(w->fl, w);
	now = now_ms();
	if (w->unobservable)
		st = flushwatch_unobservable(&w->fw);
	else
		st = flushwatch_watch(&w->fw, from, n);
	/* The verdict, or the first poll, from the loop: never from here. */
	w->due = st.verdict != FLUSHWATCH_WATCHING ? now :
	    now + (st.poll ? st.delay : 0);
	if (w->due == 0)
		w->due = 1;
	flush_settle(w->fl, false);
}

void
flush_extend(struct flush_window *w, uint64_t start)
{
	flushwatch_extend(&w->fw, start);
}

void
flush_cancel(struct flush_window *w)
{
	struct flush	*fl;

	if (w == NULL)
		return;
	fl = w->fl;
	flush_window_free(w);
	flush_settle(fl, false);
}

void
flush_peek(const struct flush_window *w, struct flushwatch_result *res)
{
	*res = w->res;
	flushwatch_result(&w->fw, now_ms(), res);
}

bool
flush_busy(const struct flush *fl)
{
	return !TAILQ_EMPTY(&fl->windows);
}

/* A step of window w at now: its next poll, or its verdict at once. */
static void
flush_step(struct flush_window *w, const struct flushwatch_step *st,
    uint64_t now)
{
	uint64_t	 due;

	if (st->verdict != FLUSHWATCH_WATCHING) {
		w->due = now != 0 ? now : 1;
		return;
	}
	if (!st->poll)
		return;
	due = now + st->delay;
	if (w->due == 0 || due < w->due)
		w->due = due;
}

static void
flush_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct flush		*fl = arg;
	struct flush_window	*w;
	struct flushwatch_step	 st;
	uint64_t		 now = now_ms();
	size_t			 n = 0;
	bool			 polled = false, failed = false;
	bool			 truncated = false;
	int			 err = 0;

	(void)fd;
	(void)ev;
	TAILQ_FOREACH(w, &fl->windows, entry)
		if (!w->started)
			flush_start(fl, w);
	TAILQ_FOREACH(w, &fl->windows, entry) {
		/* A timer a little early is still the authority. */
		if (w->due == 0 || w->due > now + 1 ||
		    w->fw.verdict != FLUSHWATCH_WATCHING)
			continue;
		if (!polled) {
			polled = true;
			if (sockdiag_conns(&fl->q, fl->conns, FLUSH_CONNS_MAX,
			    &n) == -1) {
				failed = ++fl->fails >= FLUSH_POLL_FAILS;
				err = errno;
				n = 0;
			} else {
				fl->fails = 0;
				if (n > FLUSH_CONNS_MAX) {
					n = FLUSH_CONNS_MAX;
					truncated = true;
				}
			}
		}
		w->due = 0;
		if (failed) {
			w->res.why = FLUSHWATCH_WHY_KERNEL;
			w->res.err = err;
			st = flushwatch_unobservable(&w->fw);
		} else if (fl->fails > 0) {
			/* Try again at the next poll. */
			st.verdict = FLUSHWATCH_WATCHING;
			st.poll = true;
			st.delay = fl->conf.poll_ms;
		} else {
			if (truncated)
				w->fw.overflow = true;
			st = flushwatch_on_snapshot(&w->fw, now, fl->conns,
			    n);
		}
		flush_step(w, &st, now);
	}
	if (failed)
		fl->fails = 0;
	flush_settle(fl, true);
}

/* Connections that closed since the last read: to every window. */
static void
flush_gone_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct flush		*fl = arg;
	struct flush_window	*w;
	struct flushwatch_step	 st;
	uint64_t		 now = now_ms();
	size_t			 n;
	bool			 lost;

	(void)ev;
	if (sockdiag_gone_read(fd, &fl->q, fl->conns, FLUSH_CONNS_MAX, &n,
	    &lost) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		/* Polls still see what lingers; only the brief are lost.
		 * The next window opens the notices afresh. */
		lost = true;
		n = 0;
		flush_gone_close(fl);
	}
	if (n > FLUSH_CONNS_MAX) {
		n = FLUSH_CONNS_MAX;
		lost = true;
	}
	TAILQ_FOREACH(w, &fl->windows, entry) {
		if (!w->started || w->unobservable ||
		    w->fw.verdict != FLUSHWATCH_WATCHING)
			continue;
		if (lost)
			w->fw.overflow = true;
		if (n == 0)
			continue;
		st = flushwatch_on_snapshot(&w->fw, now, fl->conns, n);
		flush_step(w, &st, now);
	}
	flush_settle(fl, true);
}

/* Listen for closed connections while a window can count them. */
static void
flush_gone_open(struct flush *fl)
{
	if (fl->gone_fd != -1)
		return;
	/* Without it, polls still count all but the briefest connections. */
	if ((fl->gone_fd = sockdiag_gone_open()) == -1)
		return;
	if ((fl->gone_ev = event_new(fl->base, fl->gone_fd,
	    EV_READ | EV_PERSIST, flush_gone_cb, fl)) == NULL)
		fatalx("event_new");
	event_add(fl->gone_ev, NULL);
}

static void
flush_gone_close(struct flush *fl)
{
	if (fl->gone_fd == -1)
		return;
	event_free(fl->gone_ev);
	fl->gone_ev = NULL;
	close(fl->gone_fd);
	fl->gone_fd = -1;
}

/*
 * After any change: from the loop (deliver), hand out the verdicts, one
 * window at a time (a callback may begin or cancel others); then arm the
 * timer for the next poll or verdict, and hold the notices of closed
 * connections only while a window can use them.
 */
static void
flush_settle(struct flush *fl, bool deliver)
{
	struct flush_window	*w;
	struct flushwatch_result res;
	struct timeval		 tv;
	flush_done_cb		 cb;
	void			*arg;
	uint64_t		 now, first = UINT64_MAX;
	bool			 observable = false;

	while (deliver) {
		TAILQ_FOREACH(w, &fl->windows, entry)
			if (w->fw.verdict != FLUSHWATCH_WATCHING &&
			    w->due != 0 && w->due <= now_ms() + 1)
				break;
		if (w == NULL)
			break;
		flush_peek(w, &res);
		if (res.verdict == FLUSHWATCH_NOT_OBSERVABLE &&
		    res.why == FLUSHWATCH_WHY_NONE)
			res.why = FLUSHWATCH_WHY_OVERFLOW;
		cb = w->cb;
		arg = w->arg;
		flush_window_free(w);
		cb(&res, arg);
	}
	now = now_ms();
	TAILQ_FOREACH(w, &fl->windows, entry) {
		if (w->started && !w->unobservable)
			observable = true;
		if (w->due != 0 && w->due < first)
			first = w->due;
	}
	if (observable)
		flush_gone_open(fl);
	else
		flush_gone_close(fl);
	/* Idle, etrnd holds no snapshot's worth of memory. */
	if (TAILQ_EMPTY(&fl->windows)) {
		free(fl->conns);
		fl->conns = NULL;
	}
	if (first == UINT64_MAX) {
		evtimer_del(fl->timer);
		return;
	}
	tv = ms_to_tv(first > now ? first - now : 0);
	evtimer_add(fl->timer, &tv);
}
