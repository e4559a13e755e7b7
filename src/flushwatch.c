/* SPDX-License-Identifier: ISC */
/*
 * flushwatch: the observation window after an accepted ETRN, pure; see
 * flushwatch.h.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "flushwatch.h"
#include "util.h"

enum {
	FLUSHWATCH_K_BASELINE,
	FLUSHWATCH_K_KEPT,		/* seen before the watch */
	FLUSHWATCH_K_RELAY,
	FLUSHWATCH_K_OTHER,
};

static struct flushwatch_track *
flushwatch_find(struct flushwatch *fw, uint64_t cookie)
{
	size_t	 i;

	for (i = 0; i < fw->ntrack; i++)
		if (fw->track[i].cookie == cookie)
			return &fw->track[i];
	return NULL;
}

/* Remember a connection: NULL when the table is full. */
static struct flushwatch_track *
flushwatch_track(struct flushwatch *fw, uint64_t cookie, uint8_t kind)
{
	struct flushwatch_track	*t;

	if (fw->ntrack == FLUSHWATCH_TRACK_MAX) {
		fw->overflow = true;
		return NULL;
	}
	t = &fw->track[fw->ntrack++];
	memset(t, 0, sizeof(*t));
	t->cookie = cookie;
	t->kind = kind;
	return t;
}

/* A new connection of this kind first seen at first, from addr. */
static void
flushwatch_count(struct flushwatch_seen *s, uint64_t first, uint64_t last,
    const struct route_addr *addr)
{
	size_t	 i;

	if (s->nconns++ == 0 || first < s->first)
		s->first = first;
	if (last > s->last)
		s->last = last;
	for (i = 0; i < s->naddrs; i++)
		if (route_addr_equal(&s->addrs[i], addr))
			return;
	if (s->naddrs < FLUSHWATCH_ADDRS_MAX)
		s->addrs[s->naddrs++] = *addr;
	else
		s->more_addrs = true;
}

static struct flushwatch_step
flushwatch_final(const struct flushwatch *fw)
{
	struct flushwatch_step	 st = { fw->verdict, false, 0 };

	return st;
}

void
flushwatch_begin(struct flushwatch *fw, const struct flushwatch_conf *conf,
    uint64_t start, const struct sockdiag_conn *baseline, size_t n)
{
	size_t	 i;

	memset(fw, 0, sizeof(*fw));
	fw->verdict = FLUSHWATCH_WATCHING;
	fw->start = start;
	fw->conf = *conf;
	fw->end = start + conf->window_ms;
	if (fw->conf.poll_ms == 0)
		fw->conf.poll_ms = 1;
	for (i = 0; i < n; i++)
		if (flushwatch_find(fw, baseline[i].cookie) == NULL)
			(void)flushwatch_track(fw, baseline[i].cookie,
			    FLUSHWATCH_K_BASELINE);
	/* The baseline's size is no loss of counting. */
	fw->overflow = false;
}

static bool
flushwatch_ours(const struct flushwatch *fw, const struct route_addr *addr)
{
	size_t	 i;

	for (i = 0; i < fw->nfrom; i++)
		if (flushwatch_net_match(&fw->from[i], addr))
			return true;
	return false;
}

struct flushwatch_step
flushwatch_watch(struct flushwatch *fw, const struct flushwatch_net *from,
    size_t nfrom)
{
	struct flushwatch_step	 st = { FLUSHWATCH_WATCHING, true, 0 };
	struct flushwatch_track	*t;
	size_t			 i;

	if (fw->verdict != FLUSHWATCH_WATCHING)
		return flushwatch_final(fw);
	if (fw->watching)
		return st;
	if (nfrom > FLUSHWATCH_FROM_MAX)
		nfrom = FLUSHWATCH_FROM_MAX;
	memcpy(fw->from, from, nfrom * sizeof(*from));
	fw->nfrom = nfrom;
	fw->watching = true;
	/* What came during the run counts now that we know from whom. */
	for (i = 0; i < fw->ntrack; i++) {
		t = &fw->track[i];
		if (t->kind != FLUSHWATCH_K_KEPT)
			continue;
		t->kind = flushwatch_ours(fw, &t->remote) ?
		    FLUSHWATCH_K_RELAY : FLUSHWATCH_K_OTHER;
		flushwatch_count(t->kind == FLUSHWATCH_K_RELAY ? &fw->relay :
		    &fw->other, t->first, t->last, &t->remote);
	}
	return st;
}

struct flushwatch_step
flushwatch_on_snapshot(struct flushwatch *fw, uint64_t now,
    const struct sockdiag_conn *conns, size_t n)
{
	struct flushwatch_step	 st = { FLUSHWATCH_WATCHING, true, 0 };
	struct flushwatch_track	*t;
	uint64_t		 end, quiet_end;
	size_t			 i;
	uint8_t			 kind;

	if (fw->verdict != FLUSHWATCH_WATCHING)
		return flushwatch_final(fw);
	for (i = 0; i < n; i++) {
		if ((t = flushwatch_find(fw, conns[i].cookie)) != NULL) {
			/* Still open: the delivery goes on. */
			if (conns[i].state != TCP_ESTABLISHED)
				continue;
			if (t->kind == FLUSHWATCH_K_RELAY)
				fw->relay.last = now;
			else if (t->kind == FLUSHWATCH_K_KEPT)
				t->last = now;
			continue;
		}
		if (!fw->watching) {
			if ((t = flushwatch_track(fw, conns[i].cookie,
			    FLUSHWATCH_K_KEPT)) != NULL) {
				t->remote = conns[i].remote;
				t->first = t->last = now;
			}
			continue;
		}
		kind = flushwatch_ours(fw, &conns[i].remote) ?
		    FLUSHWATCH_K_RELAY : FLUSHWATCH_K_OTHER;
		/* Untold apart, it could be counted at every poll. */
		if (flushwatch_track(fw, conns[i].cookie, kind) == NULL)
			continue;
		flushwatch_count(kind == FLUSHWATCH_K_RELAY ? &fw->relay :
		    &fw->other, now, now, &conns[i].remote);
	}
	/* Kept for the watch; no poll before it. */
	if (!fw->watching) {
		st.poll = false;
		return st;
	}

	end = fw->end;
	quiet_end = fw->relay.last + fw->conf.quiet_ms;
	if (fw->relay.nconns > 0 && now >= quiet_end)
		fw->verdict = FLUSHWATCH_DELIVERED;
	else if (now >= end)
		/* With connections untold, none from the relay proves
		 * nothing. */
		fw->verdict = fw->relay.nconns > 0 ? FLUSHWATCH_DELIVERED :
		    fw->overflow ? FLUSHWATCH_NOT_OBSERVABLE :
		    FLUSHWATCH_NOTHING;
	if (fw->verdict != FLUSHWATCH_WATCHING)
		return flushwatch_final(fw);
	st.delay = fw->conf.poll_ms;
	if (end - now < st.delay)
		st.delay = end - now;
	if (fw->relay.nconns > 0 && quiet_end - now < st.delay)
		st.delay = quiet_end - now;
	return st;
}

struct flushwatch_step
flushwatch_unobservable(struct flushwatch *fw)
{
	if (fw->verdict == FLUSHWATCH_WATCHING)
		fw->verdict = fw->watching && fw->relay.nconns > 0 ?
		    FLUSHWATCH_DELIVERED : FLUSHWATCH_NOT_OBSERVABLE;
	return flushwatch_final(fw);
}

void
flushwatch_extend(struct flushwatch *fw, uint64_t start)
{
	uint64_t	 end = start + fw->conf.window_ms;
	uint64_t	 cap = fw->start + 2 * fw->conf.window_ms;

	if (fw->verdict != FLUSHWATCH_WATCHING)
		return;
	if (end > cap)
		end = cap;
	if (end > fw->end)
		fw->end = end;
}

static void
flushwatch_seen_out(const struct flushwatch_seen *s, uint64_t start,
    struct flushwatch_seen_out *out)
{
	out->nconns = s->nconns;
	memcpy(out->addrs, s->addrs, sizeof(out->addrs));
	out->naddrs = s->naddrs;
	out->more_addrs = s->more_addrs;
	out->first_ms = s->nconns > 0 && s->first > start ? s->first - start :
	    0;
	out->last_ms = s->nconns > 0 && s->last > start ? s->last - start : 0;
}

void
flushwatch_result(const struct flushwatch *fw, uint64_t now,
    struct flushwatch_result *res)
{
	uint64_t	 end = fw->end;

	res->verdict = fw->verdict;
	res->window_ms = fw->end - fw->start;
	if (now > end)
		now = end;
	res->elapsed_ms = now > fw->start ? now - fw->start : 0;
	res->overflow = fw->overflow;
	flushwatch_seen_out(&fw->relay, fw->start, &res->relay);
	flushwatch_seen_out(&fw->other, fw->start, &res->other);
}

bool
flushwatch_net_match(const struct flushwatch_net *net,
    const struct route_addr *addr)
{
	unsigned	 bytes = net->plen / 8, bits = net->plen % 8;
	unsigned char	 mask;

	if (net->addr.family != addr->family)
		return false;
	if (memcmp(net->addr.addr, addr->addr, bytes) != 0)
		return false;
	if (bits == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - bits));
	return (net->addr.addr[bytes] & mask) == (addr->addr[bytes] & mask);
}

int
flushwatch_net_parse(const char *s, struct flushwatch_net *net)
{
	char		 buf[INET6_ADDRSTRLEN];
	const char	*slash;
	unsigned long	 plen, max;
	size_t		 len;

	memset(net, 0, sizeof(*net));
	slash = strchr(s, '/');
	len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (len == 0 || len >= sizeof(buf))
		goto bad;
	memcpy(buf, s, len);
	buf[len] = '\0';
	net->addr.family = strchr(buf, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(net->addr.family, buf, net->addr.addr) != 1)
		goto bad;
	max = net->addr.family == AF_INET ? 32 : 128;
	plen = max;
	if (slash != NULL && parse_number(slash + 1, 0, max, &plen) == -1)
		goto bad;
	net->plen = (uint8_t)plen;
	return 0;
bad:
	memset(net, 0, sizeof(*net));
	errno = EINVAL;
	return -1;
}

const char *
flushwatch_verdict_name(enum flushwatch_verdict v)
{
	switch (v) {
	case FLUSHWATCH_WATCHING:
		return "watching";
	case FLUSHWATCH_DELIVERED:
		return "delivered";
	case FLUSHWATCH_NOTHING:
		return "nothing";
	case FLUSHWATCH_NOT_OBSERVABLE:
		return "not-observable";
	}
	return "unknown";
}
