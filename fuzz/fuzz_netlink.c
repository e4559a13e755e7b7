/* SPDX-License-Identifier: ISC */
/*
 * fuzz_netlink: rtnetlink messages (links, addresses and routes) through
 * link.c's own parse path (linkmon_feed_raw(): nl_msg_parse() and
 * linkstate_apply() for links and addresses, link.c's route parser and
 * linkstate_apply_route() for routes, with the -v trace on) into a
 * linkstate table.
 *
 * The input is what recv() returns on the notification socket: messages
 * framed by struct nlmsghdr.  An NLMSG_DONE message, which ends every dump,
 * is where the table flips between notifications and a resync: it begins
 * one if none is running, else ends it, unless it carries NLM_F_DUMP_INTR
 * (then the resync begins again, as link.c does on an interrupted dump).
 * When its nlmsg_seq has bit 7 set, its low bits also pick a new watch
 * list, as a reload does.
 *
 * The trace goes to stderr: run with -close_fd_mask=2 (fuzz/run-smoke.sh
 * does).  Beyond the sanitizers, it checks what the event callback's users
 * rely on: names fit IFNAMSIZ, "up" means online, addresses are IPv4 or
 * IPv6, a route event names a watched interface that is usable, or none.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>

#include "link.h"
#include "linkstate.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

static char * const watch_ppp[] = { "ppp*", "veth?", "eth0" };
static char * const watch_all[] = { "*" };
static char * const watch_bad[] = { "[", "lo" };

static const struct {
	char * const	*watch;
	size_t		 nwatch;
} watches[] = {
	{ NULL, 0 },		/* every interface but loopback */
	{ watch_ppp, 3 },
	{ watch_all, 1 },
	{ watch_bad, 2 },
};

static struct linkstate	*fuzz_ls;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init(1);		/* the -v trace formats every object */
	return 0;
}

/* What link.c's event callback does with an event: read the table. */
static void
fuzz_event_cb(enum linkstate_event ev, const char *ifname, void *arg)
{
	struct linkstate_addr	 la;
	struct linkstate_info	 li;
	char			 a[INET6_ADDRSTRLEN];
	size_t			 i;

	bool			 found = false;

	(void)arg;
	if (ifname == NULL || strnlen(ifname, IFNAMSIZ) == IFNAMSIZ)
		abort();
	/* Only a route event may be about no interface in particular. */
	if (*ifname == '\0') {
		if (ev != LINKSTATE_ROUTE)
			abort();
		return;
	}
	if ((ev == LINKSTATE_UP || ev == LINKSTATE_ADDRESS ||
	    ev == LINKSTATE_ROUTE) && !linkstate_online(fuzz_ls))
		abort();
	for (i = 0; linkstate_get_addr(fuzz_ls, ifname, i, &la); i++) {
		if ((la.family != AF_INET && la.family != AF_INET6) ||
		    inet_ntop(la.family, la.addr, a, sizeof(a)) == NULL)
			abort();
	}
	for (i = 0; linkstate_get(fuzz_ls, i, &li); i++) {
		if (strnlen(li.name, IFNAMSIZ) == IFNAMSIZ || !li.watched)
			abort();
		if (strcmp(li.name, ifname) == 0 && li.usable)
			found = true;
	}
	if (ev == LINKSTATE_ROUTE && !found)
		abort();
}

/* At an NLMSG_DONE: resync begin or end, maybe a new watch list. */
static void
fuzz_done(const struct nlmsghdr *h, bool *resyncing)
{
	size_t	w;

	if (!*resyncing || (h->nlmsg_flags & NLM_F_DUMP_INTR)) {
		linkstate_resync_begin(fuzz_ls);
		*resyncing = true;
	} else {
		linkstate_resync_end(fuzz_ls);
		*resyncing = false;
	}
	if (h->nlmsg_seq & 0x80) {
		w = (h->nlmsg_seq & 0x7f) % (sizeof(watches) /
		    sizeof(watches[0]));
		linkstate_set_watch(fuzz_ls, watches[w].watch,
		    watches[w].nwatch);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nlmsghdr	 h;
	size_t		 off = 0, seg = 0;
	bool		 resyncing = false;

	fuzz_ls = linkstate_new(NULL, 0, fuzz_event_cb, NULL);
	/* NLMSG_OK()/NLMSG_NEXT(), as link.c walks a buffer. */
	while (size - off >= sizeof(h)) {
		memcpy(&h, data + off, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > size - off)
			break;
		if (h.nlmsg_type == NLMSG_DONE) {
			/* The messages before it, as one datagram. */
			linkmon_feed_raw(fuzz_ls, data + seg, off - seg);
			fuzz_done(&h, &resyncing);
			seg = off + NLMSG_ALIGN(h.nlmsg_len);
		}
		if (NLMSG_ALIGN(h.nlmsg_len) >= size - off)
			break;
		off += NLMSG_ALIGN(h.nlmsg_len);
	}
	/* The rest, with whatever does not frame at its end. */
	if (seg < size)
		linkmon_feed_raw(fuzz_ls, data + seg, size - seg);
	if (resyncing)
		linkstate_resync_end(fuzz_ls);
	linkstate_free(fuzz_ls);
	fuzz_ls = NULL;
	return 0;
}
