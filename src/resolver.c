/* SPDX-License-Identifier: ISC */
/*
 * resolver: evdns from resolv.conf and the hosts file, re-read when either
 * changes; see resolver.h.  A file is "changed" when its inode, size or
 * modification time differs from the last read (editors replace files,
 * and a bind mount's file is rewritten in place).
 */
#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "log.h"
#include "resolver.h"
#include "util.h"

/* What a file looked like when it was read; all zero: absent. */
struct resolver_stamp {
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtime;
};

struct resolver {
	struct evdns_base	*dns;
	struct resolver_stamp	 resolv, hosts;
};

static void
resolver_stamp(const char *path, struct resolver_stamp *st)
{
	struct stat	sb;

	memset(st, 0, sizeof(*st));
	if (stat(path, &sb) == -1)
		return;
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	st->size = sb.st_size;
	st->mtime = sb.st_mtim;
}

static bool
resolver_stamp_equal(const struct resolver_stamp *a,
    const struct resolver_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec;
}

struct resolver *
resolver_new(struct event_base *base)
{
	struct resolver	*r;

	r = xcalloc(1, sizeof(*r));
	if ((r->dns = evdns_base_new(base, 0)) == NULL)
		fatalx("evdns_base_new");
	resolver_refresh(r, true);
	return r;
}

void
resolver_free(struct resolver *r)
{
	if (r == NULL)
		return;
	evdns_base_free(r->dns, 0);
	free(r);
}

struct evdns_base *
resolver_dns(const struct resolver *r)
{
	return r->dns;
}

bool
resolver_refresh(struct resolver *r, bool force)
{
	struct resolver_stamp	resolv, hosts;

	resolver_stamp(RESOLVER_RESOLV_CONF, &resolv);
	resolver_stamp(RESOLVER_HOSTS, &hosts);
	if (!force && resolver_stamp_equal(&resolv, &r->resolv) &&
	    resolver_stamp_equal(&hosts, &r->hosts))
		return false;
	r->resolv = resolv;
	r->hosts = hosts;
	evdns_base_clear_nameservers_and_suspend(r->dns);
	evdns_base_clear_host_addresses(r->dns);
	/* DNS_OPTIONS_ALL includes the hosts file, read even without a
	 * resolv.conf. */
	if (evdns_base_resolv_conf_parse(r->dns, DNS_OPTIONS_ALL,
	    RESOLVER_RESOLV_CONF) != 0)
		log_debug("%s: not read; using defaults (and %s)",
		    RESOLVER_RESOLV_CONF, RESOLVER_HOSTS);
	else
		log_debug("%s and %s: (re)loaded", RESOLVER_RESOLV_CONF,
		    RESOLVER_HOSTS);
	evdns_base_resume(r->dns);
	return true;
}
