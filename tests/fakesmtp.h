/* SPDX-License-Identifier: ISC */
/*
 * fakesmtp: a scripted SMTP server for the session and sched tests.  It runs
 * in the test's own event_base, on loopback listeners with kernel-chosen
 * ports, so a session and its peer share one loop and one clock: no threads,
 * no sleeps, no external hosts.
 *
 * A connection either follows a script (a table of steps, the same for every
 * connection) or asks a responder function what to answer to each line.
 * To test a reader against segmentation, it can dribble: one byte per
 * loop turn, each in its own segment (TCP_NODELAY), so the client reads it
 * before the next is written.
 *
 * Every line received is logged, and the server counts connections, open
 * connections and the most it saw open at once, per listener and in all.
 */
#ifndef ETRND_TEST_FAKESMTP_H
#define ETRND_TEST_FAKESMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct fake_server;

#define FAKE_LISTENERS_MAX	8

/*
 * The loopback addresses the tests' servers listen on: not 127.0.0.1,
 * which the integration scripts use, ports they picked, released and
 * then have etrnd connect to as "nobody listens here" included.  When the
 * kernel gives such a port to one of our listeners, a suite running in
 * parallel would otherwise be counted as one of our connections.
 */
#define FAKE_NET		"127.0.3."
#define FAKE_ADDR		FAKE_NET "1"
#define FAKE_ADDR2		FAKE_NET "2"

/*
 * Wait for a line starting with expect (NULL: do not wait; FAKE_ANY_BYTES:
 * for any bytes, a line or not, such as a TLS ClientHello), then, after
 * delay_ms, send these bytes (any bytes: several lines, no CRLF, garbage;
 * NULL: nothing), then close if asked (once the bytes are out).
 */
struct fake_step {
	const char	*expect;
	const char	*send;
	unsigned	 delay_ms;
	bool		 close;
};

extern const char	 fake_any_bytes[];
#define FAKE_ANY_BYTES	fake_any_bytes

/* The reply to one line (NULL: the connection was just accepted). */
typedef struct fake_step fake_respond_fn(struct fake_server *,
    unsigned listener, unsigned conn, const char *line, void *arg);
/* Told of every line a client sent, before the step runs. */
typedef void fake_line_fn(struct fake_server *, unsigned listener,
    unsigned conn, const char *line, void *arg);

struct fake_listener_stats {
	uint16_t	 port;
	unsigned	 nconns;	/* accepted so far; conn ids are 1.. */
	unsigned	 nopen;
	unsigned	 maxopen;
};

struct fake_server {
	struct fake_listener_stats lis[FAKE_LISTENERS_MAX];
	unsigned	 nlisteners;
	unsigned	 nconns;	/* over every listener */
	unsigned	 nopen;
	unsigned	 maxopen;
	unsigned	 mismatches;	/* lines a script did not expect */
	bool		 dribble;	/* one byte per loop turn (set it
					   before the client connects) */
	char		*log;		/* every line received, '\n' after each */
	size_t		 loglen;

	/* Private. */
	struct event_base	*base;
	struct evconnlistener	*listeners[FAKE_LISTENERS_MAX];
	const struct fake_step	*steps;
	size_t			 nsteps;
	fake_respond_fn		*respond;
	void			*respond_arg;
	fake_line_fn		*on_line;
	void			*on_line_arg;
	struct fake_conn	*conns;
};

struct fake_server	*fake_new(struct event_base *);
/* Close every connection and listener.  NULL is a no-op. */
void			 fake_free(struct fake_server *);
/* Listen on addr (an IPv4 or IPv6 literal), port 0; the listener's index. */
unsigned		 fake_listen(struct fake_server *, const char *addr);
void			 fake_script(struct fake_server *,
			    const struct fake_step *, size_t nsteps);
void			 fake_responder(struct fake_server *, fake_respond_fn *,
			    void *arg);
void			 fake_on_line(struct fake_server *, fake_line_fn *,
			    void *arg);

/*
 * Run the loop until cond(arg) holds or max_ms passed; true if it held.
 * cond is checked every 2 ms, so a test never depends on who fires first.
 */
bool			 fake_run_until(struct event_base *,
			    bool (*cond)(void *), void *arg, unsigned max_ms);
/* Run the loop for ms. */
void			 fake_run_for(struct event_base *, unsigned ms);
/* Run n turns of the loop without waiting: what is ready, and what it
 * schedules for the next turn, happens; nothing later does. */
void			 fake_run_turns(struct event_base *, unsigned n);
/* A port on addr that refuses connections (bound, not listening), or 0. */
uint16_t		 fake_refusing_port(const char *addr, int *fd);
/* Monotonic milliseconds. */
uint64_t		 fake_now_ms(void);

#endif
