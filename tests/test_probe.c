/* SPDX-License-Identifier: ISC */
/*
 * Tests for probe (local-smtp): accepted at once, accepted once a listener
 * appears, never accepted (bounded), and a black hole that drops SYNs
 * (still bounded by the deadline, not by the kernel's SYN retries).
 *
 * Every port a probe is pointed at stays bound by this test until the test
 * ends (listening or not): a port released and probed again could be
 * taken by a listener of another test program running in parallel, whose
 * server would then count our probe's connection.  Lower bounds compare
 * the probe's own clock with events, never with a fixed margin.
 */
#include <sys/socket.h>
#include <sys/select.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "probe.h"
#include "util.h"

struct env {
	struct event_base	*base;
	struct evdns_base	*dns;
	struct probe		*probe;
	int			 calls;
	bool			 accepted;
	uint64_t		 waited;
	uint64_t		 start;		/* now_ms() just after probe_new() */
	int			 late_fd;	/* bound; listens from a timer */
	uint64_t		 listen_at;	/* 0: not listening yet */
	bool			 listening_at_done;
};

static void
done_cb(bool accepted, uint64_t waited_ms, void *arg)
{
	struct env	*env = arg;

	env->calls++;
	env->accepted = accepted;
	env->waited = waited_ms;
	env->listening_at_done = env->listen_at != 0;
	probe_free(env->probe);		/* allowed inside the callback */
	env->probe = NULL;
	event_base_loopexit(env->base, NULL);
}

/* A loopback socket bound to a fresh port; listening if backlog >= 0. */
static int
tcp_socket(uint16_t port, int backlog, uint16_t *bound)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	assert_int_not_equal(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (backlog >= 0)
		assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*bound = ntohs(sin.sin_port);
	return fd;
}

static int
setup(void **state)
{
	static struct env	env;

	memset(&env, 0, sizeof(env));
	env.late_fd = -1;
	env.base = event_base_new();
	env.dns = evdns_base_new(env.base, 0);
	*state = &env;
	return env.base != NULL && env.dns != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	struct env	*env = *state;

	probe_free(env->probe);
	if (env->late_fd != -1)
		close(env->late_fd);
	evdns_base_free(env->dns, 0);
	event_base_free(env->base);
	return 0;
}

/* Run the loop, bounded: a probe that never calls back fails the test. */
static void
run(struct env *env, uint64_t max_ms)
{
	struct timeval	tv = ms_to_tv(max_ms);

	event_base_loopexit(env->base, &tv);
	event_base_dispatch(env->base);
	assert_int_equal(env->calls, 1);
}

static void
test_accepts_at_once(void **state)
{
	struct env	*env = *state;
	uint16_t	 port;
	int		 fd = tcp_socket(0, 8, &port);

	env->probe = probe_new(env->base, env->dns, "127.0.0.1", port, 5000,
	    done_cb, env);
	assert_int_equal(env->calls, 0);	/* never inside probe_new */
	run(env, 5000);
	assert_true(env->accepted);
	assert_true(env->waited < 1000);
	close(fd);
}

static void
listen_late_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct env	*env = arg;

	(void)fd;
	(void)ev;
	assert_int_equal(env->calls, 0);
	assert_int_equal(listen(env->late_fd, 8), 0);
	env->listen_at = now_ms();
}

/*
 * The port refuses (bound, not listening) until a timer makes it listen;
 * the probe's first attempt, from its zero timer, comes before that timer
 * and is refused.  The answer comes only after listen(), and the time the
 * probe reports covers the wait for it.
 */
static void
test_accepts_when_listener_appears(void **state)
{
	struct env	*env = *state;
	struct timeval	 tv = ms_to_tv(50);
	uint16_t	 port;

	env->late_fd = tcp_socket(0, -1, &port);
	env->probe = probe_new(env->base, env->dns, "127.0.0.1", port, 5000,
	    done_cb, env);
	env->start = now_ms();		/* not before the probe's own start */
	event_base_once(env->base, -1, EV_TIMEOUT, listen_late_cb, env, &tv);
	run(env, 6000);
	assert_true(env->accepted);
	assert_true(env->listening_at_done);
	assert_true(env->waited >= env->listen_at - env->start);
	assert_true(env->waited < 5000);
}

static void
test_gives_up_at_deadline(void **state)
{
	struct env	*env = *state;
	uint16_t	 port;
	int		 fd = tcp_socket(0, -1, &port);	/* bound, not listening */

	env->probe = probe_new(env->base, env->dns, "127.0.0.1", port, 100,
	    done_cb, env);
	run(env, 5000);
	assert_false(env->accepted);
	/* It ends only once its own clock has passed the deadline. */
	assert_true(env->waited >= 100);
	close(fd);
}

/*
 * A listener with backlog 0 and one connection waiting drops further SYNs
 * on Linux: an attempt would hang for the kernel's ~2 minutes of SYN
 * retries.  The deadline must still end the wait.
 */
static void
test_black_hole_bounded(void **state)
{
	struct env		*env = *state;
	struct sockaddr_in	 sin;
	struct timeval		 tv = { 0, 50 * 1000 };
	fd_set			 wfds;
	uint16_t		 port;
	int			 l, c1, p;

	l = tcp_socket(0, 0, &port);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	assert_int_not_equal(c1 = socket(AF_INET, SOCK_STREAM, 0), -1);
	assert_int_equal(connect(c1, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_not_equal(p = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK,
	    0), -1);
	FD_ZERO(&wfds);
	FD_SET(p, &wfds);
	if (connect(p, (struct sockaddr *)&sin, sizeof(sin)) == 0 ||
	    select(p + 1, NULL, &wfds, NULL, &tv) != 0) {
		close(p);
		close(c1);
		close(l);
		skip();		/* no black hole on this kernel */
	}
	env->probe = probe_new(env->base, env->dns, "127.0.0.1", port, 150,
	    done_cb, env);
	run(env, 5000);
	assert_false(env->accepted);
	assert_true(env->waited >= 150);
	assert_true(env->waited < 3000);
	close(p);
	close(c1);
	close(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_accepts_at_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_accepts_when_listener_appears, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gives_up_at_deadline,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_black_hole_bounded, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
