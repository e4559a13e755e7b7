/* SPDX-License-Identifier: ISC */
/*
 * fakesmtp: the scripted SMTP peer of test_session and test_sched; see
 * fakesmtp.h.  Test support: failures to set up abort the test program.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "fakesmtp.h"

struct fake_conn {
	struct fake_server	*fs;
	struct fake_conn	*next;
	struct bufferevent	*bev;
	unsigned		 listener;
	unsigned		 id;
	size_t			 step;		/* script position */
	bool			 greeted;	/* responder: greeting asked */
	bool			 busy;		/* a delayed step is pending */
	bool			 closing;	/* close once output is out */
	struct fake_step	 pending;	/* the delayed step */
	struct event		*delay_ev;
	struct event		*drip_ev;
	struct evbuffer		*drip;		/* bytes still to dribble */
	struct evbuffer		*lines;		/* logged, not yet scripted */
};

/* A step's expect that any bytes from the client satisfy. */
const char	fake_any_bytes[] = "(any bytes)";

static void
fake_die(const char *what)
{
	fprintf(stderr, "fakesmtp: %s failed\n", what);
	abort();
}

uint64_t
fake_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct timeval
fake_tv(unsigned ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

static void
fake_log(struct fake_server *fs, const char *line)
{
	size_t	len = strlen(line);

	if ((fs->log = realloc(fs->log, fs->loglen + len + 2)) == NULL)
		fake_die("realloc");
	memcpy(fs->log + fs->loglen, line, len);
	fs->loglen += len;
	fs->log[fs->loglen++] = '\n';
	fs->log[fs->loglen] = '\0';
}

static void
fake_conn_free(struct fake_conn *c)
{
	struct fake_server	*fs = c->fs;
	struct fake_conn	**pp;

	for (pp = &fs->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	fs->nopen--;
	fs->lis[c->listener].nopen--;
	bufferevent_free(c->bev);
	event_free(c->delay_ev);
	event_free(c->drip_ev);
	evbuffer_free(c->drip);
	evbuffer_free(c->lines);
	free(c);
}

/* Close if asked and everything is sent; true if c is gone. */
static bool
fake_conn_maybe_close(struct fake_conn *c)
{
	if (!c->closing || evbuffer_get_length(c->drip) != 0 ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) != 0)
		return false;
	fake_conn_free(c);
	return true;
}

/*
 * One byte, handed to the socket; the next is queued from the write
 * callback once this one is out (fake_drip_next).
 */
static void
fake_drip_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct fake_conn	*c = arg;
	char			 byte;

	(void)fd;
	(void)ev;
	if (evbuffer_remove(c->drip, &byte, 1) == 1)
		bufferevent_write(c->bev, &byte, 1);
}

/*
 * After a byte went out: the next one from a zero timer.  In the next
 * turn the client's read (I/O) runs before the timer adds that byte, so
 * the client reads every byte on its own.
 */
static void
fake_drip_next(struct fake_conn *c)
{
	struct timeval	tv = { 0, 0 };

	if (evbuffer_get_length(c->drip) != 0 &&
	    !evtimer_pending(c->drip_ev, NULL))
		evtimer_add(c->drip_ev, &tv);
}

/* Send and close as the step says; true if c is gone. */
static bool
fake_conn_do(struct fake_conn *c, const struct fake_step *st)
{
	if (st->send != NULL && *st->send != '\0') {
		if (!c->fs->dribble)
			bufferevent_write(c->bev, st->send, strlen(st->send));
		else if (evbuffer_add(c->drip, st->send, strlen(st->send)) ==
		    0 && evbuffer_get_length(bufferevent_get_output(c->bev)) ==
		    0)
			fake_drip_next(c);
	}
	if (st->close)
		c->closing = true;
	return fake_conn_maybe_close(c);
}

/* The next step to run; false if it needs a line that has not come yet. */
static bool
fake_conn_next(struct fake_conn *c, struct fake_step *st)
{
	struct fake_server	*fs = c->fs;
	char			*line;
	size_t			 len;

	memset(st, 0, sizeof(*st));
	if (fs->respond != NULL && !c->greeted) {
		c->greeted = true;
		*st = fs->respond(fs, c->listener, c->id, NULL,
		    fs->respond_arg);
		return true;
	}
	if (fs->respond == NULL && c->step < fs->nsteps &&
	    fs->steps[c->step].expect == NULL) {
		*st = fs->steps[c->step++];
		return true;
	}
	if (fs->respond == NULL && c->step < fs->nsteps &&
	    fs->steps[c->step].expect == fake_any_bytes) {
		if (evbuffer_get_length(c->lines) == 0 &&
		    evbuffer_get_length(bufferevent_get_input(c->bev)) == 0)
			return false;
		evbuffer_drain(c->lines, evbuffer_get_length(c->lines));
		evbuffer_drain(bufferevent_get_input(c->bev),
		    evbuffer_get_length(bufferevent_get_input(c->bev)));
		*st = fs->steps[c->step++];
		return true;
	}
	if ((line = evbuffer_readln(c->lines, &len, EVBUFFER_EOL_LF)) == NULL)
		return false;
	if (fs->respond != NULL)
		*st = fs->respond(fs, c->listener, c->id, line,
		    fs->respond_arg);
	else if (c->step < fs->nsteps) {
		if (strncmp(line, fs->steps[c->step].expect,
		    strlen(fs->steps[c->step].expect)) == 0)
			*st = fs->steps[c->step++];
		else {
			fprintf(stderr, "fakesmtp: expected \"%s\", got "
			    "\"%s\"\n", fs->steps[c->step].expect, line);
			fs->mismatches++;
		}
	}
	free(line);
	return true;
}

/* Run steps until one waits for a line or a delay; true if c is gone. */
static bool
fake_conn_run(struct fake_conn *c)
{
	struct fake_step	st;
	struct timeval		tv;

	while (!c->busy && !c->closing) {
		if (!fake_conn_next(c, &st))
			return false;
		if (st.delay_ms > 0) {
			c->busy = true;
			c->pending = st;
			tv = fake_tv(st.delay_ms);
			evtimer_add(c->delay_ev, &tv);
			return false;
		}
		if (fake_conn_do(c, &st))
			return true;
	}
	return false;
}

static void
fake_delay_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct fake_conn	*c = arg;

	(void)fd;
	(void)ev;
	c->busy = false;
	if (fake_conn_do(c, &c->pending))
		return;
	fake_conn_run(c);
}

/*
 * Log each line when it arrives, even while a step is delayed, so that a
 * QUIT sent just before a close is seen; the script takes them in turn.
 */
static void
fake_read_cb(struct bufferevent *bev, void *arg)
{
	struct fake_conn	*c = arg;
	struct fake_server	*fs = c->fs;
	char			*line;
	size_t			 len;

	/* Strict CRLF: a bare LF from the client is never a line end. */
	while ((line = evbuffer_readln(bufferevent_get_input(bev), &len,
	    EVBUFFER_EOL_CRLF_STRICT)) != NULL) {
		fake_log(fs, line);
		if (fs->on_line != NULL)
			fs->on_line(fs, c->listener, c->id, line,
			    fs->on_line_arg);
		evbuffer_add_printf(c->lines, "%s\n", line);
		free(line);
	}
	fake_conn_run(c);
}

static void
fake_write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	if (!fake_conn_maybe_close(arg))
		fake_drip_next(arg);
}

/* EOF or an error from the client: it is gone. */
static void
fake_event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct fake_conn	*c = arg;

	(void)bev;
	if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		fake_conn_free(c);
}

static void
fake_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct fake_server	*fs = arg;
	struct fake_conn	*c;
	unsigned		 i;

	(void)sa;
	(void)salen;
	for (i = 0; i < fs->nlisteners; i++)
		if (fs->listeners[i] == l)
			break;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fake_die("calloc");
	c->fs = fs;
	c->listener = i;
	c->id = ++fs->lis[i].nconns;
	fs->nconns++;
	if (++fs->nopen > fs->maxopen)
		fs->maxopen = fs->nopen;
	if (++fs->lis[i].nopen > fs->lis[i].maxopen)
		fs->lis[i].maxopen = fs->lis[i].nopen;
	if (fs->dribble && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
	    &(int){ 1 }, sizeof(int)) == -1)
		fake_die("setsockopt TCP_NODELAY");
	c->bev = bufferevent_socket_new(fs->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->delay_ev = evtimer_new(fs->base, fake_delay_cb, c);
	c->drip_ev = evtimer_new(fs->base, fake_drip_cb, c);
	c->drip = evbuffer_new();
	c->lines = evbuffer_new();
	if (c->bev == NULL || c->delay_ev == NULL || c->drip_ev == NULL ||
	    c->drip == NULL || c->lines == NULL)
		fake_die("fake_accept_cb");
	c->next = fs->conns;
	fs->conns = c;
	bufferevent_setcb(c->bev, fake_read_cb, fake_write_cb, fake_event_cb,
	    c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	fake_conn_run(c);
}

struct fake_server *
fake_new(struct event_base *base)
{
	struct fake_server	*fs;

	if ((fs = calloc(1, sizeof(*fs))) == NULL)
		fake_die("calloc");
	fs->base = base;
	return fs;
}

void
fake_free(struct fake_server *fs)
{
	unsigned	i;

	if (fs == NULL)
		return;
	while (fs->conns != NULL)
		fake_conn_free(fs->conns);
	for (i = 0; i < fs->nlisteners; i++)
		evconnlistener_free(fs->listeners[i]);
	free(fs->log);
	free(fs);
}

unsigned
fake_listen(struct fake_server *fs, const char *addr)
{
	struct sockaddr_storage	 ss;
	int			 sslen = (int)sizeof(ss);
	socklen_t		 len = sizeof(ss);
	unsigned		 i = fs->nlisteners;

	if (i == FAKE_LISTENERS_MAX)
		fake_die("fake_listen: too many listeners");
	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss,
	    &sslen) == -1)
		fake_die("evutil_parse_sockaddr_port");
	fs->listeners[i] = evconnlistener_new_bind(fs->base, fake_accept_cb,
	    fs, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
	    (struct sockaddr *)&ss, sslen);
	if (fs->listeners[i] == NULL)
		fake_die("evconnlistener_new_bind");
	if (getsockname(evconnlistener_get_fd(fs->listeners[i]),
	    (struct sockaddr *)&ss, &len) == -1)
		fake_die("getsockname");
	fs->lis[i].port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	fs->nlisteners++;
	return i;
}

void
fake_script(struct fake_server *fs, const struct fake_step *steps,
    size_t nsteps)
{
	fs->steps = steps;
	fs->nsteps = nsteps;
}

void
fake_responder(struct fake_server *fs, fake_respond_fn *fn, void *arg)
{
	fs->respond = fn;
	fs->respond_arg = arg;
}

void
fake_on_line(struct fake_server *fs, fake_line_fn *fn, void *arg)
{
	fs->on_line = fn;
	fs->on_line_arg = arg;
}

struct fake_runner {
	struct event_base	*base;
	bool			(*cond)(void *);
	void			*arg;
	bool			 met;
};

static void
fake_tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct fake_runner	*r = arg;

	(void)fd;
	(void)ev;
	if (r->cond != NULL && r->cond(r->arg)) {
		r->met = true;
		event_base_loopbreak(r->base);
	}
}

static void
fake_deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct fake_runner	*r = arg;

	(void)fd;
	(void)ev;
	event_base_loopbreak(r->base);
}

bool
fake_run_until(struct event_base *base, bool (*cond)(void *), void *arg,
    unsigned max_ms)
{
	struct fake_runner	 r = { base, cond, arg, false };
	struct event		*tick, *deadline;
	struct timeval		 tv_tick = fake_tv(2), tv_max = fake_tv(max_ms);

	if (cond != NULL && cond(arg))
		return true;
	tick = event_new(base, -1, EV_PERSIST, fake_tick_cb, &r);
	deadline = evtimer_new(base, fake_deadline_cb, &r);
	if (tick == NULL || deadline == NULL)
		fake_die("event_new");
	event_add(tick, &tv_tick);
	evtimer_add(deadline, &tv_max);
	event_base_dispatch(base);
	event_free(tick);
	event_free(deadline);
	return r.met;
}

void
fake_run_for(struct event_base *base, unsigned ms)
{
	fake_run_until(base, NULL, NULL, ms);
}

void
fake_run_turns(struct event_base *base, unsigned n)
{
	while (n-- > 0)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

uint16_t
fake_refusing_port(const char *addr, int *fdp)
{
	struct sockaddr_storage	 ss;
	int			 sslen = (int)sizeof(ss), fd;
	socklen_t		 len = sizeof(ss);

	*fdp = -1;
	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss,
	    &sslen) == -1)
		return 0;
	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) == -1)
		return 0;
	if (bind(fd, (struct sockaddr *)&ss, (socklen_t)sslen) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		close(fd);
		return 0;
	}
	*fdp = fd;
	return ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
}
