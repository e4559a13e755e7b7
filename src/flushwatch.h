/* SPDX-License-Identifier: ISC */
/*
 * flushwatch: after a relay accepted ETRN, did its mail come back?  The
 * observation window of one run, pure: fed snapshots of the inbound
 * connections to the site's MTA (sockdiag_conns()), it counts the new ones
 * from the relay's addresses and from the addresses the provider delivers
 * from, and says DELIVERED, NOTHING or NOT_OBSERVABLE, and when to look
 * next.  No sockets, no clock, no logging: the caller owns the timer and
 * passes monotonic milliseconds in.
 *
 * Lifecycle, for one relay's run:
 *   flushwatch_begin()     the run starts: the connections already there
 *                          (the baseline) are never counted
 *   flushwatch_on_snapshot() with the connections the kernel says are gone
 *                          (sockdiag_gone_read()), which a poll can miss,
 *                          and at each poll once watching, until the
 *                          verdict is final: any list of connections seen
 *                          at a time.  Before flushwatch_watch() they are
 *                          only kept (a flush can start and end while the
 *                          ETRN session still runs), never decided on.
 *   flushwatch_watch()     the run ended with an ETRN accepted: what was
 *                          kept is counted, and a poll is due at once
 *   flushwatch_unobservable() instead, when nothing listens on the MTA's
 *                          port or the kernel cannot be asked
 * A run with no ETRN accepted is not watched (the struct is dropped).
 *
 * Counting:
 *   - A connection is its kernel cookie: counted once, however many polls
 *     see it, in whichever state (a TIME_WAIT left by a delivery that came
 *     and went between two polls counts as well).
 *   - "relay": from one of the relay's addresses or a delivers-from
 *     address or prefix.  Only these make DELIVERED.
 *   - "other": any other inbound connection that began during the window
 *     (the internet's own mail, a provider host not configured): counted
 *     and listed apart, never DELIVERED, never ending the window early.
 *     A NOTHING with others is the hint to add a delivers-from address.
 *   - First and last seen are poll times (accurate to the poll interval):
 *     first when a connection was first seen, last when a relay
 *     connection was last seen new or still ESTABLISHED.
 *
 * Timing: the window runs from the run's start for window_ms; once a relay
 * connection was seen it ends early when none has been new or open for
 * quiet_ms; with none it runs its whole length (a secondary may take a
 * minute to start its queue run).  A later run accepted while it is open
 * joins it and moves its end to window_ms after that run's start, up to
 * twice window_ms from the first (runs every minute must still get a
 * verdict).  Polls every poll_ms, the last one at the window's end; none
 * once the verdict is final.
 *
 * Too many connections on the port to tell apart (overflow) and none from
 * the relay: NOT_OBSERVABLE, never a false NOTHING.
 */
#ifndef ETRND_FLUSHWATCH_H
#define ETRND_FLUSHWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "route.h"
#include "sockdiag.h"

#define FLUSHWATCH_WINDOW_MS	(5 * 60 * 1000)	/* defaults */
#define FLUSHWATCH_QUIET_MS	(30 * 1000)
#define FLUSHWATCH_POLL_MS	1000

#define FLUSHWATCH_FROM_MAX	16	/* relay addresses + delivers-from */
#define FLUSHWATCH_TRACK_MAX	1024	/* connections told apart */
#define FLUSHWATCH_ADDRS_MAX	8	/* addresses kept per kind */

enum flushwatch_verdict {
	FLUSHWATCH_WATCHING,		/* the window is open */
	FLUSHWATCH_DELIVERED,		/* relay connections came */
	FLUSHWATCH_NOTHING,		/* the window passed with none */
	FLUSHWATCH_NOT_OBSERVABLE,	/* no listening socket to watch */
};

/* An address or prefix connections may come from. */
struct flushwatch_net {
	struct route_addr	 addr;
	uint8_t			 plen;	/* 32 or 128 for one address */
};

struct flushwatch_conf {
	uint64_t	 window_ms;
	uint64_t	 quiet_ms;
	uint64_t	 poll_ms;
};

/* The connections of one kind seen in the window. */
struct flushwatch_seen {
	unsigned		 nconns;	/* distinct connections */
	struct route_addr	 addrs[FLUSHWATCH_ADDRS_MAX];
	size_t			 naddrs;	/* distinct remote addresses */
	bool			 more_addrs;	/* ... and more than kept */
	uint64_t		 first;		/* monotonic ms, when nconns */
	uint64_t		 last;
};

struct flushwatch_track {
	uint64_t		 cookie;
	uint8_t			 kind;	/* baseline, kept, relay or other */
	struct route_addr	 remote;	/* kept: counted at the watch */
	uint64_t		 first, last;	/* kept: seen, last open */
};

struct flushwatch {
	enum flushwatch_verdict	 verdict;
	bool			 watching;	/* flushwatch_watch() came */
	uint64_t		 start;		/* the run's start, ms */
	uint64_t		 end;		/* the window's end, ms */
	struct flushwatch_conf	 conf;
	struct flushwatch_net	 from[FLUSHWATCH_FROM_MAX];
	size_t			 nfrom;
	struct flushwatch_track	 track[FLUSHWATCH_TRACK_MAX];
	size_t			 ntrack;
	bool			 overflow;	/* more connections than could
						 * be told apart: the counts
						 * are lower bounds */
	struct flushwatch_seen	 relay;		/* these make DELIVERED */
	struct flushwatch_seen	 other;
};

/* Why a run's flush could not be watched (NOT_OBSERVABLE). */
enum flushwatch_why {
	FLUSHWATCH_WHY_NONE,
	FLUSHWATCH_WHY_NO_LISTENER,	/* nothing listens on the MTA's port */
	FLUSHWATCH_WHY_ELSEWHERE,	/* local-smtp is another host */
	FLUSHWATCH_WHY_KERNEL,		/* inet_diag could not be asked */
	FLUSHWATCH_WHY_OVERFLOW,	/* too many connections to tell */
};

/* The connections of one kind, as people are shown them. */
struct flushwatch_seen_out {
	unsigned		 nconns;
	struct route_addr	 addrs[FLUSHWATCH_ADDRS_MAX];
	size_t			 naddrs;
	bool			 more_addrs;
	uint64_t		 first_ms;	/* after the run's start */
	uint64_t		 last_ms;
};

/*
 * What one run's window found, or is finding: a copy, for status, history,
 * metrics and the journal, that outlives the watch.  The caller fills in
 * why, err, port and started (the mechanism's knowledge);
 * flushwatch_result() the rest.
 */
struct flushwatch_result {
	enum flushwatch_verdict	 verdict;
	enum flushwatch_why	 why;		/* NOT_OBSERVABLE: why */
	int			 err;		/* WHY_KERNEL: the errno */
	uint16_t		 port;		/* the MTA's port watched */
	int64_t			 started;	/* wall seconds: the run began */
	uint64_t		 window_ms;	/* the window's full length */
	uint64_t		 elapsed_ms;	/* watched so far, or in all */
	bool			 overflow;	/* counts are lower bounds */
	struct flushwatch_seen_out relay;	/* from the relay's addresses */
	struct flushwatch_seen_out other;	/* any other inbound SMTP */
};

/* What the caller does next. */
struct flushwatch_step {
	enum flushwatch_verdict	 verdict;	/* WATCHING until final */
	bool			 poll;		/* take a snapshot ... */
	uint64_t		 delay;		/* ... in this many ms */
};

/* A run starts at start: baseline, the connections there now (may be
 * none), are never counted. */
void		 flushwatch_begin(struct flushwatch *,
		    const struct flushwatch_conf *, uint64_t start,
		    const struct sockdiag_conn *baseline, size_t n);
/*
 * The run ended with an ETRN accepted: count connections from the first
 * FLUSHWATCH_FROM_MAX of from (the relay's addresses, then the
 * delivers-from ones), those kept so far too.  Asks for a snapshot at
 * once.
 */
struct flushwatch_step flushwatch_watch(struct flushwatch *,
		    const struct flushwatch_net *from, size_t nfrom);
/* Connections seen at now: before flushwatch_watch() only kept (no poll
 * is asked for), after it counted. */
struct flushwatch_step flushwatch_on_snapshot(struct flushwatch *,
		    uint64_t now, const struct sockdiag_conn *, size_t n);
/* Nothing listens on the MTA's port, or the kernel cannot be asked any
 * more: final; DELIVERED if relay connections were counted already. */
struct flushwatch_step flushwatch_unobservable(struct flushwatch *);
/*
 * Another run accepted at start joins the open window: its end moves to
 * window_ms after start, but no further than twice window_ms after the
 * first run's start.
 */
void		 flushwatch_extend(struct flushwatch *, uint64_t start);

/* The verdict and counts of fw at now (monotonic ms) into res, whose
 * why, err, port and started are left as they are. */
void		 flushwatch_result(const struct flushwatch *, uint64_t now,
		    struct flushwatch_result *res);
/* Does addr fall in net? */
bool		 flushwatch_net_match(const struct flushwatch_net *,
		    const struct route_addr *);
/* "ADDR" or "ADDR/LEN" (a delivers-from value): 0, or -1 (EINVAL). */
int		 flushwatch_net_parse(const char *, struct flushwatch_net *);
/* "watching", "delivered", "nothing", "not-observable": for JSON. */
const char	*flushwatch_verdict_name(enum flushwatch_verdict);

#endif
