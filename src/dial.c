/* SPDX-License-Identifier: ISC */
/*
 * dial: connect to the first answering of a list of addresses, RFC 8305
 * style (dial.h).  One event per attempt waits for the socket to become
 * writable, with the connect timeout as the event's timeout; one timer
 * does the deferred start and the stagger.  No logging: the caller hears
 * of every failed address and of the end.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>

#include "dial.h"
#include "util.h"

struct dial_attempt {
	struct dial		*d;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 fd;		/* -1: not started, or over */
	struct event		*ev;		/* EV_WRITE, connect timeout */
	uint64_t		 started;	/* now_ms() */
};

struct dial {
	struct event_base	*base;
	char			*source;
	uint64_t		 connect_timeout_ms;
	uint64_t		 stagger_ms;
	struct dial_attempt	*at;		/* in the order to try */
	size_t			 n;
	size_t			 next;		/* the next to start */
	size_t			 active;	/* started, still trying */
	struct event		*timer;		/* deferred start, stagger */
	void			(*trying_cb)(const struct sockaddr *,
				    socklen_t, void *);
	dial_failed_cb		 failed_cb;
	dial_done_cb		 done_cb;
	void			*arg;
	bool			 in_cb;		/* a callback is running */
	bool			 dead;		/* dial_free() came in one */
};

static void	dial_next(struct dial *);

void
dial_order(const int *families, size_t n, size_t *order)
{
	size_t	i = 0, j = 0, k;
	bool	first = true;

	for (k = 0; k < n; k++) {
		while (i < n && families[i] != families[0])
			i++;
		while (j < n && families[j] == families[0])
			j++;
		/* The first family's turn, or the other has none left. */
		if ((first && i < n) || j >= n)
			order[k] = i++;
		else
			order[k] = j++;
		first = !first;
	}
}

/* A non-blocking socket for sa's family, bound to source if there is one. */
static int
dial_socket(const char *source, const struct sockaddr *sa)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen = 0;
	int			fd, saved;

	memset(&ss, 0, sizeof(ss));
	if (source != NULL) {
		struct sockaddr_in	*sin = (void *)&ss;
		struct sockaddr_in6	*sin6 = (void *)&ss;

		if (sa->sa_family == AF_INET &&
		    inet_pton(AF_INET, source, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			sslen = sizeof(*sin);
		} else if (sa->sa_family == AF_INET6 &&
		    inet_pton(AF_INET6, source, &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			sslen = sizeof(*sin6);
		} else {
			errno = EAFNOSUPPORT;
			return -1;
		}
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_TCP);
	if (fd == -1)
		return -1;
	if (source != NULL && bind(fd, (struct sockaddr *)&ss, sslen) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static void
dial_attempt_close(struct dial_attempt *a)
{
	if (a->ev != NULL) {
		event_free(a->ev);
		a->ev = NULL;
	}
	if (a->fd != -1) {
		close(a->fd);
		a->fd = -1;
		a->d->active--;
	}
}

/* Every attempt and the timer stopped, every socket closed. */
static void
dial_cancel(struct dial *d)
{
	size_t	i;

	if (d->timer != NULL)
		evtimer_del(d->timer);
	for (i = 0; i < d->n; i++)
		dial_attempt_close(&d->at[i]);
	d->next = d->n;
}

static void
dial_destroy(struct dial *d)
{
	dial_cancel(d);
	if (d->timer != NULL)
		event_free(d->timer);
	free(d->at);
	free(d->source);
	free(d);
}

/*
 * Tell the caller an attempt starts (err -1) or failed.  False when the
 * caller freed us meanwhile: then nothing of d may be touched.
 */
static bool
dial_tell(struct dial *d, const struct dial_attempt *a, int err)
{
	d->in_cb = true;
	if (err == -1)
		d->trying_cb((const struct sockaddr *)&a->ss, a->len, d->arg);
	else
		d->failed_cb((const struct sockaddr *)&a->ss, a->len, err,
		    d->arg);
	d->in_cb = false;
	if (d->dead) {
		dial_destroy(d);
		return false;
	}
	return true;
}

/* The end: a (its socket handed over) won, or every address failed. */
static void
dial_done(struct dial *d, struct dial_attempt *a)
{
	struct dial_winner	w;

	memset(&w, 0, sizeof(w));
	if (a != NULL) {
		w.fd = a->fd;
		w.addr = (const struct sockaddr *)&a->ss;
		w.addrlen = a->len;
		w.connect_ms = now_ms() - a->started;
		if (a->ev != NULL)
			event_free(a->ev);
		a->ev = NULL;
		a->fd = -1;		/* the caller's now */
		d->active--;
	}
	dial_cancel(d);			/* the losers */
	d->in_cb = true;
	d->done_cb(a != NULL ? &w : NULL, d->arg);
	d->in_cb = false;
	if (d->dead)
		dial_destroy(d);
}

/* An address failed: the next starts at once, or we are done. */
static void
dial_attempt_failed(struct dial_attempt *a, int err)
{
	struct dial	*d = a->d;

	dial_attempt_close(a);
	if (!dial_tell(d, a, err))
		return;
	if (d->next < d->n) {
		evtimer_del(d->timer);
		dial_next(d);
	} else if (d->active == 0)
		dial_done(d, NULL);
}

static void
dial_attempt_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dial_attempt	*a = arg;
	socklen_t		 len = sizeof(int);
	int			 err = 0;

	if (what & EV_TIMEOUT)
		err = ETIMEDOUT;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0)
		dial_done(a->d, a);
	else
		dial_attempt_failed(a, err);
}

/*
 * Start a: 1 connected already, 0 trying, -1 with errno when it failed at
 * once.
 */
static int
dial_attempt_start(struct dial_attempt *a)
{
	struct dial	*d = a->d;
	struct timeval	 tv = ms_to_tv(d->connect_timeout_ms);
	int		 saved;

	a->started = now_ms();
	if ((a->fd = dial_socket(d->source, (struct sockaddr *)&a->ss)) == -1)
		return -1;
	d->active++;
	if (connect(a->fd, (struct sockaddr *)&a->ss, a->len) == 0)
		return 1;
	if (errno != EINPROGRESS)
		goto fail;
	if ((a->ev = event_new(d->base, a->fd, EV_WRITE, dial_attempt_cb,
	    a)) == NULL || event_add(a->ev, &tv) == -1) {
		errno = ENOMEM;
		goto fail;
	}
	return 0;
fail:
	saved = errno;
	dial_attempt_close(a);
	errno = saved;
	return -1;
}

/* Start the next address that does not fail at once. */
static void
dial_next(struct dial *d)
{
	struct dial_attempt	*a;
	struct timeval		 tv = ms_to_tv(d->stagger_ms);
	int			 rc;

	while (d->next < d->n) {
		a = &d->at[d->next++];
		if (d->trying_cb != NULL && !dial_tell(d, a, -1))
			return;
		if ((rc = dial_attempt_start(a)) == 1) {
			dial_done(d, a);
			return;
		}
		if (rc == 0) {
			if (d->next < d->n)
				evtimer_add(d->timer, &tv);
			return;
		}
		if (!dial_tell(d, a, errno))
			return;
	}
	if (d->active == 0)
		dial_done(d, NULL);
}

static void
dial_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	dial_next(arg);
}

struct dial *
dial_new(struct event_base *base, const struct evutil_addrinfo *ai,
    const struct dial_params *p, dial_failed_cb failed_cb,
    dial_done_cb done_cb, void *arg)
{
	const struct evutil_addrinfo	*x, **v;
	struct dial			*d;
	struct timeval			 tv = { 0, 0 };
	size_t				 n, k, *order;
	int				*fam;

	d = xcalloc(1, sizeof(*d));
	d->base = base;
	d->source = p->source != NULL ? xstrdup(p->source) : NULL;
	d->connect_timeout_ms = p->connect_timeout_ms;
	d->stagger_ms = p->stagger_ms;
	d->trying_cb = p->trying_cb;
	d->failed_cb = failed_cb;
	d->done_cb = done_cb;
	d->arg = arg;

	for (n = 0, x = ai; x != NULL; x = x->ai_next)
		n++;
	v = xcalloc(n + 1, sizeof(*v));
	fam = xcalloc(n + 1, sizeof(*fam));
	order = xcalloc(n + 1, sizeof(*order));
	d->at = xcalloc(n + 1, sizeof(*d->at));
	for (n = 0, x = ai; x != NULL; x = x->ai_next) {
		if (x->ai_addr == NULL ||
		    x->ai_addrlen > sizeof(struct sockaddr_storage))
			continue;
		v[n] = x;
		fam[n++] = x->ai_family;
	}
	dial_order(fam, n, order);
	for (k = 0; k < n; k++) {
		d->at[k].d = d;
		d->at[k].fd = -1;
		memcpy(&d->at[k].ss, v[order[k]]->ai_addr,
		    v[order[k]]->ai_addrlen);
		d->at[k].len = (socklen_t)v[order[k]]->ai_addrlen;
	}
	d->n = n;
	free(v);
	free(fam);
	free(order);

	if ((d->timer = evtimer_new(base, dial_timer_cb, d)) == NULL ||
	    evtimer_add(d->timer, &tv) == -1)
		goto fail;
	return d;
fail:
	dial_destroy(d);
	errno = ENOMEM;
	return NULL;
}

void
dial_free(struct dial *d)
{
	if (d == NULL)
		return;
	if (d->in_cb) {
		/* The callback's caller frees d once it returns. */
		dial_cancel(d);
		d->dead = true;
		return;
	}
	dial_destroy(d);
}
