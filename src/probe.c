/* SPDX-License-Identifier: ISC */
/*
 * probe: connection attempts every PROBE_INTERVAL_MS, each one cut short by
 * the overall deadline, so that neither a firewall that drops SYNs nor a
 * slow resolver can stretch the wait past timeout_ms.  One timer paces the
 * attempts and bounds each of them.
 */
#include <stdlib.h>

#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "log.h"
#include "probe.h"
#include "util.h"

#define PROBE_INTERVAL_MS	200	/* between refused attempts */
#define PROBE_ATTEMPT_MS	2000	/* one attempt at most */

struct probe {
	struct event_base	*base;
	struct evdns_base	*dns;
	char			*host;
	uint16_t		 port;
	uint64_t		 start;
	uint64_t		 deadline;
	unsigned		 attempts;
	struct event		*timer;
	struct bufferevent	*bev;		/* the attempt in progress */
	probe_done_cb		 cb;
	void			*arg;
};

static void	probe_try(struct probe *);

static void
probe_wait(struct probe *p, uint64_t ms)
{
	uint64_t	now = now_ms();
	struct timeval	tv;

	if (now + ms > p->deadline)
		ms = p->deadline > now ? p->deadline - now : 0;
	tv = ms_to_tv(ms);
	evtimer_add(p->timer, &tv);
}

static void
probe_drop_attempt(struct probe *p)
{
	if (p->bev != NULL)
		bufferevent_free(p->bev);
	p->bev = NULL;
}

/* The last thing a probe does: the owner may free it in the callback. */
static void
probe_done(struct probe *p, bool accepted)
{
	probe_drop_attempt(p);
	evtimer_del(p->timer);
	p->cb(accepted, now_ms() - p->start, p->arg);
}

static void
probe_event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct probe	*p = arg;
	char		 d[32];

	(void)bev;
	if (events & BEV_EVENT_CONNECTED) {
		probe_done(p, true);
		return;
	}
	probe_drop_attempt(p);
	if (p->attempts == 1)
		log_info("local-smtp %s:%u: not accepting connections yet; "
		    "waiting up to %s", p->host, p->port,
		    fmt_duration(p->deadline - p->start, d, sizeof(d)));
	probe_wait(p, PROBE_INTERVAL_MS);
}

static void
probe_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct probe	*p = arg;

	(void)fd;
	(void)ev;
	probe_drop_attempt(p);		/* an attempt that took too long */
	if (now_ms() >= p->deadline) {
		probe_done(p, false);
		return;
	}
	probe_try(p);
}

static void
probe_try(struct probe *p)
{
	p->attempts++;
	p->bev = bufferevent_socket_new(p->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (p->bev == NULL)
		fatalx("bufferevent_socket_new");
	bufferevent_setcb(p->bev, NULL, NULL, probe_event_cb, p);
	probe_wait(p, PROBE_ATTEMPT_MS);
	/* Refusals, even immediate ones, come through probe_event_cb. */
	if (bufferevent_socket_connect_hostname(p->bev, p->dns, AF_UNSPEC,
	    p->host, p->port) == -1) {
		probe_drop_attempt(p);
		probe_wait(p, PROBE_INTERVAL_MS);
	}
}

struct probe *
probe_new(struct event_base *base, struct evdns_base *dns, const char *host,
    uint16_t port, uint64_t timeout_ms, probe_done_cb cb, void *arg)
{
	struct probe	*p;

	p = xcalloc(1, sizeof(*p));
	p->base = base;
	p->dns = dns;
	p->host = xstrdup(host);
	p->port = port;
	p->cb = cb;
	p->arg = arg;
	p->start = now_ms();
	p->deadline = p->start + timeout_ms;
	if ((p->timer = evtimer_new(base, probe_timer_cb, p)) == NULL)
		fatalx("evtimer_new");
	/* First attempt from the loop: never call back inside probe_new. */
	probe_wait(p, 0);
	return p;
}

void
probe_free(struct probe *p)
{
	if (p == NULL)
		return;
	probe_drop_attempt(p);
	if (p->timer != NULL)
		event_free(p->timer);
	free(p->host);
	free(p);
}
