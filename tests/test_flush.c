/* SPDX-License-Identifier: ISC */
/*
 * test_flush: the flush windows in a real event loop against the real
 * kernel, in a private network namespace: an MTA listening on
 * 192.0.2.1:25, the relay connecting from 198.51.100.7, another host from
 * 203.0.113.9.  A connection that came and went during the run (the
 * client closing first, so nothing lingers for a poll) and one after it
 * are delivered; the baseline is not counted; another host's is "other";
 * a window with nothing runs its length; no listener and a local-smtp
 * elsewhere are not observable; a verdict comes from the loop, never from
 * inside a call; and once no window is open, nothing is left in the loop.
 * Needs root (CLONE_NEWNET); exits 77 without it.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "flush.h"
#include "testutil.h"

#define MTA		"192.0.2.1"
#define RELAY		"198.51.100.7"
#define OTHER		"203.0.113.9"
#define LOOP_BOUND_S	10	/* no test waits longer for its verdict */

struct env {
	struct event_base	*base;
	struct flush		*fl;
	struct event		*guard;
	int			 lfd;		/* the MTA */
	int			 fds[16];
	size_t			 nfds;
	unsigned		 calls;
	struct flushwatch_result res;
};

static void
done_cb(const struct flushwatch_result *res, void *arg)
{
	struct env	*env = arg;

	env->calls++;
	env->res = *res;
	event_base_loopbreak(env->base);
}

static void
guard_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	fail_msg("no verdict within %d s", LOOP_BOUND_S);
	event_base_loopbreak(arg);
}

static int
keep(struct env *env, int fd)
{
	assert_true(fd >= 0);
	assert_true(env->nfds < sizeof(env->fds) / sizeof(env->fds[0]));
	env->fds[env->nfds++] = fd;
	return fd;
}

static void
sin_of(const char *addr, uint16_t port, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
}

/* A connection from src to the MTA; *srv its accepted end. */
static int
connect_from(struct env *env, const char *src, int *srv)
{
	struct sockaddr_in	 sin;
	int			 fd;

	fd = keep(env, socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	sin_of(src, 0, &sin);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	sin_of(MTA, 25, &sin);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	*srv = keep(env, accept(env->lfd, NULL, NULL));
	return fd;
}

/* The client closes first, then the server: nothing lingers to poll. */
static void
hang_up(int cfd, int sfd)
{
	char	 c;

	assert_int_equal(close(cfd), 0);
	/* The FIN is in when the server reads the end of the stream. */
	assert_int_equal(read(sfd, &c, 1), 0);
	assert_int_equal(close(sfd), 0);
}

static void
configure(struct env *env, const char *local, uint16_t port,
    uint64_t window, uint64_t quiet, uint64_t poll)
{
	struct flushwatch_conf	 fc = { window, quiet, poll };

	flush_configure(env->fl, local, port, &fc);
}

/* Run the loop until the verdict (bounded). */
static void
wait_verdict(struct env *env)
{
	struct timeval	 tv = { LOOP_BOUND_S, 0 };

	evtimer_add(env->guard, &tv);
	event_base_dispatch(env->base);
	evtimer_del(env->guard);
	assert_int_equal(env->calls, 1);
}

static void
from_relay(struct flushwatch_net *net)
{
	assert_int_equal(flushwatch_net_parse(RELAY, net), 0);
}

static bool
addr_is(const struct route_addr *a, const char *want)
{
	unsigned char	 w[4];

	assert_int_equal(inet_pton(AF_INET, want, w), 1);
	return a->family == AF_INET && memcmp(a->addr, w, 4) == 0;
}

/* Nothing of the flush's is left in the loop: idle costs no wakeup. */
static void
assert_loop_empty(struct env *env)
{
	assert_false(flush_busy(env->fl));
	assert_int_equal(event_base_get_num_events(env->base,
	    EVENT_BASE_COUNT_ADDED), 0);
}

static void
test_delivered(void **state)
{
	struct env		*env = *state;
	struct flush_window	*w;
	struct flushwatch_net	 net;
	int			 c0, s0, c1, s1, c2, s2, c3, s3;

	configure(env, NULL, 25, 5000, 300, 50);
	/* There before the run: the baseline, never counted. */
	c0 = connect_from(env, RELAY, &s0);
	w = flush_begin(env->fl, 1000, done_cb, env);
	/* The baseline is taken on the next turn (the session's connect()
	 * goes first): the secondary cannot have the ETRN yet. */
	event_base_loop(env->base, EVLOOP_NONBLOCK);
	/* During the run, in and out before any poll. */
	c1 = connect_from(env, RELAY, &s1);
	hang_up(c1, s1);
	event_base_loop(env->base, EVLOOP_NONBLOCK);
	from_relay(&net);
	flush_watch(w, &net, 1);
	assert_int_equal(env->calls, 0);
	/* After the run: the relay again, and another host. */
	c2 = connect_from(env, RELAY, &s2);
	c3 = connect_from(env, OTHER, &s3);
	hang_up(c2, s2);
	hang_up(c3, s3);
	wait_verdict(env);
	(void)c0;
	(void)s0;

	assert_int_equal(env->res.verdict, FLUSHWATCH_DELIVERED);
	assert_int_equal(env->res.port, 25);
	assert_int_equal(env->res.started, 1000);
	assert_int_equal(env->res.window_ms, 5000);
	assert_int_equal(env->res.relay.nconns, 2);
	assert_int_equal(env->res.relay.naddrs, 1);
	assert_true(addr_is(&env->res.relay.addrs[0], RELAY));
	assert_true(env->res.relay.first_ms <= env->res.relay.last_ms);
	assert_int_equal(env->res.other.nconns, 1);
	assert_true(addr_is(&env->res.other.addrs[0], OTHER));
	/* Quiet after the last: well before the window's end. */
	assert_true(env->res.elapsed_ms < 5000);
	assert_loop_empty(env);
}

static void
test_nothing(void **state)
{
	struct env		*env = *state;
	struct flush_window	*w;
	struct flushwatch_net	 net;
	int			 c, s;

	configure(env, NULL, 25, 400, 100, 50);
	w = flush_begin(env->fl, 7, done_cb, env);
	from_relay(&net);
	flush_watch(w, &net, 1);
	/* Another host's mail is not the relay's. */
	c = connect_from(env, OTHER, &s);
	hang_up(c, s);
	wait_verdict(env);
	assert_int_equal(env->res.verdict, FLUSHWATCH_NOTHING);
	assert_int_equal(env->res.relay.nconns, 0);
	assert_int_equal(env->res.other.nconns, 1);
	assert_int_equal(env->res.elapsed_ms, 400);
	assert_loop_empty(env);
}

static void
test_no_listener(void **state)
{
	struct env		*env = *state;
	struct flush_window	*w;
	struct flushwatch_net	 net;

	configure(env, MTA, 2525, 5000, 300, 50);
	w = flush_begin(env->fl, 7, done_cb, env);
	from_relay(&net);
	flush_watch(w, &net, 1);
	/* From the loop, not from inside flush_watch(). */
	assert_int_equal(env->calls, 0);
	wait_verdict(env);
	assert_int_equal(env->res.verdict, FLUSHWATCH_NOT_OBSERVABLE);
	assert_int_equal(env->res.why, FLUSHWATCH_WHY_NO_LISTENER);
	assert_int_equal(env->res.port, 2525);
	assert_loop_empty(env);
}

static void
test_elsewhere(void **state)
{
	struct env		*env = *state;
	struct flush_window	*w;
	struct flushwatch_net	 net;

	/* Port 25 listens here, but local-smtp names another host. */
	configure(env, "198.51.100.200", 25, 5000, 300, 50);
	w = flush_begin(env->fl, 7, done_cb, env);
	from_relay(&net);
	flush_watch(w, &net, 1);
	wait_verdict(env);
	assert_int_equal(env->res.verdict, FLUSHWATCH_NOT_OBSERVABLE);
	assert_int_equal(env->res.why, FLUSHWATCH_WHY_ELSEWHERE);
	/* A local-smtp of this host's own is watched. */
	env->calls = 0;
	configure(env, MTA, 25, 200, 100, 50);
	w = flush_begin(env->fl, 7, done_cb, env);
	flush_watch(w, &net, 1);
	wait_verdict(env);
	assert_int_equal(env->res.verdict, FLUSHWATCH_NOTHING);
	assert_loop_empty(env);
}

static void
test_cancel(void **state)
{
	struct env		*env = *state;
	struct flush_window	*a, *b;
	struct flushwatch_net	 net;
	struct flushwatch_result res;
	int			 c, s;

	configure(env, NULL, 25, 5000, 200, 50);
	a = flush_begin(env->fl, 7, done_cb, env);
	b = flush_begin(env->fl, 8, done_cb, env);
	assert_true(flush_busy(env->fl));
	/* a's run accepted nothing; b's did. */
	flush_cancel(a);
	from_relay(&net);
	flush_watch(b, &net, 1);
	c = connect_from(env, RELAY, &s);
	flush_peek(b, &res);
	assert_int_equal(res.verdict, FLUSHWATCH_WATCHING);
	assert_int_equal(res.started, 8);
	hang_up(c, s);
	wait_verdict(env);
	assert_int_equal(env->res.verdict, FLUSHWATCH_DELIVERED);
	assert_int_equal(env->res.started, 8);
	assert_int_equal(env->res.relay.nconns, 1);
	assert_loop_empty(env);
	/* A window cancelled while watching says nothing. */
	env->calls = 0;
	b = flush_begin(env->fl, 9, done_cb, env);
	flush_watch(b, &net, 1);
	flush_cancel(b);
	event_base_loop(env->base, EVLOOP_NONBLOCK);
	assert_int_equal(env->calls, 0);
	assert_loop_empty(env);
}

static int
setup(void **state)
{
	struct env		*env;
	struct sockaddr_in	 sin;
	int			 on = 1;

	env = calloc(1, sizeof(*env));
	assert_non_null(env);
	assert_non_null(env->base = event_base_new());
	env->fl = flush_new(env->base);
	assert_non_null(env->guard = evtimer_new(env->base, guard_cb,
	    env->base));
	env->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(env->lfd >= 0);
	assert_int_equal(setsockopt(env->lfd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof(on)), 0);
	sin_of(MTA, 25, &sin);
	assert_int_equal(bind(env->lfd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	assert_int_equal(listen(env->lfd, 16), 0);
	*state = env;
	return 0;
}

static int
teardown(void **state)
{
	struct env	*env = *state;

	while (env->nfds > 0)
		(void)close(env->fds[--env->nfds]);
	(void)close(env->lfd);
	flush_free(env->fl);
	event_free(env->guard);
	event_base_free(env->base);
	free(env);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_delivered, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_listener, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_elsewhere, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	};

	if (!netns_enter())
		return 77;
	if (system("ip link set lo up && "
	    "ip addr add " MTA "/32 dev lo && "
	    "ip addr add " RELAY "/32 dev lo && "
	    "ip addr add " OTHER "/32 dev lo") != 0) {
		printf("skipped: ip(8) does not work here\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
