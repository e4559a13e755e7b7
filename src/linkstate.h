/* SPDX-License-Identifier: ISC */
/*
 * linkstate: the table of network interfaces and whether each is usable,
 * fed with libnl route objects (rtnl_link, rtnl_addr) from dumps and
 * notifications.  Pure: no sockets, no logging.  It reports transitions of
 * watched interfaces through a callback.
 *
 * Usable = IFF_UP + carrier by systemd-networkd's rule (operstate UP, or
 * UNKNOWN with IFF_LOWER_UP and not IFF_DORMANT) + at least one global
 * address that is neither tentative nor DAD-failed.
 */
#ifndef ETRND_LINKSTATE_H
#define ETRND_LINKSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>

#include "conf.h"

struct nl_object;

enum linkstate_event {
	LINKSTATE_UP,		/* a watched interface became usable */
	LINKSTATE_DOWN,		/* a watched interface stopped being usable */
	LINKSTATE_ADDRESS,	/* usable, and a new global address appeared */
};

typedef void (*linkstate_cb)(enum linkstate_event, const char *ifname,
    void *arg);

struct linkstate;

struct linkstate_info {
	int		 ifindex;
	char		 name[IFNAMSIZ];
	bool		 watched;
	bool		 usable;
	bool		 admin_up;
	bool		 carrier;
	unsigned	 naddrs;	/* usable global addresses */
	long long	 since;		/* wall-clock seconds of last change */
};

/* watch/nwatch as in struct conf (0 = every non-loopback interface). */
struct linkstate *linkstate_new(char * const *watch, size_t nwatch,
		    linkstate_cb cb, void *arg);
void		 linkstate_free(struct linkstate *);
/* New watch list (reload); reports UP/DOWN for interfaces that change. */
void		 linkstate_set_watch(struct linkstate *, char * const *watch,
		    size_t nwatch);

/*
 * Apply one object from a notification or a dump.  msgtype is the netlink
 * message type (RTM_NEWLINK, RTM_DELLINK, RTM_NEWADDR, RTM_DELADDR).
 * Link objects of a family other than AF_UNSPEC are ignored.
 */
void		 linkstate_apply(struct linkstate *, struct nl_object *,
		    int msgtype);

/*
 * A full re-dump: linkstate_resync_begin(), linkstate_apply() each dumped
 * object, linkstate_resync_end().  Interfaces and addresses not seen are
 * dropped, and only net changes against the state before are reported.
 */
void		 linkstate_resync_begin(struct linkstate *);
void		 linkstate_resync_end(struct linkstate *);

/* One usable global address of an interface, for people (logs, status). */
struct linkstate_addr {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];	/* network byte order, 4 or 16 used */
	unsigned	 prefixlen;
	bool		 newest;	/* appeared in the latest change */
};

/* Any watched interface usable. */
bool		 linkstate_online(const struct linkstate *);
/* Whether the watch list covers this interface name (present or not). */
bool		 linkstate_watches(const struct linkstate *, const char *ifname);
/* Iterate the watched interfaces: i from 0 while it returns true. */
bool		 linkstate_get(const struct linkstate *, size_t i,
		    struct linkstate_info *);
/* Iterate the usable global addresses of the watched interface ifname. */
bool		 linkstate_get_addr(const struct linkstate *,
		    const char *ifname, size_t i, struct linkstate_addr *);

#endif
