/* SPDX-License-Identifier: ISC */
/*
 * Tests for dial: the order of families by table, then real sockets on
 * loopback -- an address that refuses (bound, not listening), one that
 * never answers (a listener with backlog 0 and a connection waiting in it
 * drops further SYNs), one that answers -- in the test's own event loop.
 * No root needed; waits are bounded, and no assertion rests on a tight
 * time bound.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>
#include <event2/util.h>

#include "dial.h"
#include "fakesmtp.h"
#include "util.h"

#define RUN_MAX_MS	10000	/* every wait's bound: far below 30 s */
#define LONG_MS		30000	/* a connect timeout nobody waits for */
#define MAXADDRS	4
#define MAXFDS		16

/* The family order, by table: "6" is AF_INET6, "4" AF_INET. */
struct order_row {
	const char	*name;
	const char	*families;
	const char	*order;		/* indices, as digits */
};

static const struct order_row order_rows[] = {
	{ "no address", "", "" },
	{ "one address", "6", "0" },
	{ "one family keeps its order", "444", "012" },
	{ "IPv6 first: the families take turns", "6644", "0213" },
	{ "IPv4 first: IPv4 starts", "4466", "0213" },
	{ "already interleaved", "6464", "0123" },
	{ "one of the other family, last", "6664", "0312" },
	{ "one of the first family, then many others", "4666", "0123" },
	{ "the other family runs out first", "66646", "03124" },
	{ "the first family runs out first", "64666", "01234" },
	{ "the first address sets the family, not the majority", "46666",
	  "01234" },
};

static void
test_order(void **state)
{
	size_t	i, k, n, order[16];
	int	fam[16];
	char	got[17];

	(void)state;
	for (i = 0; i < nitems(order_rows); i++) {
		const struct order_row	*r = &order_rows[i];

		n = strlen(r->families);
		for (k = 0; k < n; k++)
			fam[k] = r->families[k] == '6' ? AF_INET6 : AF_INET;
		memset(order, 0xff, sizeof(order));
		dial_order(fam, n, order);
		for (k = 0; k < n; k++)
			got[k] = (char)('0' + order[k]);
		got[n] = '\0';
		if (strcmp(got, r->order) != 0)
			fail_msg("%s: %s gave %s, want %s", r->name,
			    r->families, got, r->order);
		/* Nothing written past n. */
		assert_true(order[n] == (size_t)-1);
	}
}

struct failure {
	char	addr[64];
	int	err;
};

struct env {
	struct event_base	*base;
	struct dial		*dial;
	int			 fds[MAXFDS];	/* listeners, fillers */
	size_t			 nfds;
	int			 baseline;	/* open fds before dialling */

	struct sockaddr_storage	 addrs[MAXADDRS];
	struct evutil_addrinfo	 ai[MAXADDRS];
	size_t			 naddrs;

	/* What the callbacks saw. */
	char			 tried[MAXADDRS][64];
	uint64_t		 tried_ms[MAXADDRS];	/* since start */
	size_t			 ntried;
	struct failure		 failures[MAXADDRS];
	size_t			 nfailures;
	unsigned		 ndone;
	int			 winner_fd;
	char			 winner[64];
	uint64_t		 started, elapsed_ms;
	const char		*free_in;	/* "trying", "failed", "" */
};

static void
addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char	host[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		const struct sockaddr_in *sin = (const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	}
}

/* Open file descriptors of this process, counted in /proc/self/fd. */
static int
count_fds(void)
{
	DIR		*dir;
	struct dirent	*de;
	int		 n = 0;

	assert_non_null(dir = opendir("/proc/self/fd"));
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n - 1;			/* the directory's own */
}

static int
setup(void **state)
{
	struct env	*env;

	assert_non_null(env = calloc(1, sizeof(*env)));
	/* The case's prestate: where to call dial_free(), if anywhere. */
	env->free_in = *state != NULL ? *state : "";
	assert_non_null(env->base = event_base_new());
	env->winner_fd = -1;
	*state = env;
	return 0;
}

static int
teardown(void **state)
{
	struct env	*env = *state;
	size_t		 i;

	dial_free(env->dial);
	if (env->winner_fd != -1)
		close(env->winner_fd);
	for (i = 0; i < env->nfds; i++)
		close(env->fds[i]);
	event_base_free(env->base);
	free(env);
	return 0;
}

static int
keep_fd(struct env *env, int fd)
{
	assert_int_not_equal(fd, -1);
	assert_true(env->nfds < MAXFDS);
	env->fds[env->nfds++] = fd;
	return fd;
}

/* A loopback socket of family on a port the kernel picks; *ss its name. */
static int
bound(struct env *env, int family, struct sockaddr_storage *ss)
{
	socklen_t	len = sizeof(*ss);
	int		fd, one = 1;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (void *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (void *)ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	}
	fd = keep_fd(env, socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)ss, len) == -1)
		return -1;		/* no IPv6 here */
	len = sizeof(*ss);
	assert_int_equal(getsockname(fd, (struct sockaddr *)ss, &len), 0);
	return fd;
}

/* Whether this host has IPv6 on loopback. */
static bool
have_ipv6(struct env *env)
{
	struct sockaddr_storage	ss;

	return bound(env, AF_INET6, &ss) != -1;
}

/* An address that refuses: bound, not listening. */
static void
refusing(struct env *env, int family, struct sockaddr_storage *ss)
{
	assert_int_not_equal(bound(env, family, ss), -1);
}

/* An address that answers: a listener nobody accepts from (no need). */
static void
answering(struct env *env, int family, struct sockaddr_storage *ss)
{
	int	fd;

	assert_int_not_equal(fd = bound(env, family, ss), -1);
	assert_int_equal(listen(fd, 16), 0);
}

/*
 * An address that never answers: a listener with backlog 0 and one
 * connection waiting in it, so that Linux drops further SYNs and a
 * connect stays in SYN-SENT.  A probe checks it; where it does not hold,
 * the case is skipped rather than left to chance.
 */
static void
silent(struct env *env, int family, struct sockaddr_storage *ss)
{
	struct pollfd	pfd;
	int		l, c, probe;

	assert_int_not_equal(l = bound(env, family, ss), -1);
	assert_int_equal(listen(l, 0), 0);
	c = keep_fd(env, socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
	assert_int_equal(connect(c, (struct sockaddr *)ss, sizeof(*ss)), 0);
	probe = keep_fd(env, socket(family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0));
	if (connect(probe, (struct sockaddr *)ss, sizeof(*ss)) == 0)
		skip();
	pfd.fd = probe;
	pfd.events = POLLOUT;
	/* Loopback answers a SYN in microseconds: 100 ms is plenty. */
	if (poll(&pfd, 1, 100) != 0) {
		print_message("a full backlog does not drop SYNs here\n");
		skip();
	}
}

/* Append an address to the list given to dial_new(). */
static struct sockaddr_storage *
add(struct env *env)
{
	struct evutil_addrinfo	*ai;
	struct sockaddr_storage	*ss;

	assert_true(env->naddrs < MAXADDRS);
	ss = &env->addrs[env->naddrs];
	ai = &env->ai[env->naddrs];
	if (env->naddrs > 0)
		env->ai[env->naddrs - 1].ai_next = ai;
	env->naddrs++;
	return ss;
}

/* After add() filled the address in: the addrinfo fields from it. */
static void
fill(struct env *env)
{
	size_t	i;

	for (i = 0; i < env->naddrs; i++) {
		struct evutil_addrinfo	*ai = &env->ai[i];

		ai->ai_family = env->addrs[i].ss_family;
		ai->ai_socktype = SOCK_STREAM;
		ai->ai_protocol = IPPROTO_TCP;
		ai->ai_addr = (struct sockaddr *)&env->addrs[i];
		ai->ai_addrlen = ai->ai_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	}
}

static void
trying_cb(const struct sockaddr *sa, socklen_t len, void *arg)
{
	struct env	*env = arg;

	assert_true(len >= sizeof(struct sockaddr_in));
	assert_int_equal(env->ndone, 0);
	assert_true(env->ntried < MAXADDRS);
	addr_str(sa, env->tried[env->ntried], sizeof(env->tried[0]));
	env->tried_ms[env->ntried++] = now_ms() - env->started;
	if (strcmp(env->free_in, "trying") == 0) {
		dial_free(env->dial);
		env->dial = NULL;
	}
}

static void
failed_cb(const struct sockaddr *sa, socklen_t len, int err, void *arg)
{
	struct env	*env = arg;
	struct failure	*f;

	assert_true(len >= sizeof(struct sockaddr_in));
	assert_int_equal(env->ndone, 0);
	assert_true(env->nfailures < MAXADDRS);
	f = &env->failures[env->nfailures++];
	addr_str(sa, f->addr, sizeof(f->addr));
	f->err = err;
	if (strcmp(env->free_in, "failed") == 0) {
		dial_free(env->dial);
		env->dial = NULL;
	}
}

static void
done_cb(const struct dial_winner *w, void *arg)
{
	struct env	*env = arg;

	env->ndone++;
	env->elapsed_ms = now_ms() - env->started;
	if (w != NULL) {
		assert_true(w->fd >= 0);
		env->winner_fd = w->fd;
		addr_str(w->addr, env->winner, sizeof(env->winner));
		assert_true(w->connect_ms <= env->elapsed_ms);
	}
	/* Freeing from the callback is allowed. */
	dial_free(env->dial);
	env->dial = NULL;
}

static void
start(struct env *env, const char *source, uint64_t connect_ms,
    uint64_t stagger_ms)
{
	struct dial_params	p;

	fill(env);
	memset(&p, 0, sizeof(p));
	p.source = source;
	p.connect_timeout_ms = connect_ms;
	p.stagger_ms = stagger_ms;
	p.trying_cb = trying_cb;
	env->baseline = count_fds();
	env->started = now_ms();
	env->dial = dial_new(env->base, env->naddrs > 0 ? env->ai : NULL, &p,
	    failed_cb, done_cb, env);
	assert_non_null(env->dial);
	/* Started from a timer: no callback from inside dial_new(). */
	assert_int_equal(env->nfailures, 0);
	assert_int_equal(env->ndone, 0);
	assert_int_equal(env->ntried, 0);
}

static bool
is_done(void *arg)
{
	struct env	*env = arg;

	return env->ndone > 0;
}

/* Run until the end; it must come exactly once. */
static void
run(struct env *env)
{
	assert_true(fake_run_until(env->base, is_done, env, RUN_MAX_MS));
	fake_run_for(env->base, 20);	/* a second call would come now */
	assert_int_equal(env->ndone, 1);
}

static void
str_of(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	addr_str((const struct sockaddr *)ss, buf, len);
}

/* The winner is connected to the address it names. */
static void
check_winner(struct env *env, const struct sockaddr_storage *want)
{
	struct sockaddr_storage	 peer;
	socklen_t		 len = sizeof(peer);
	char			 w[64], p[64];

	str_of(want, w, sizeof(w));
	assert_string_equal(env->winner, w);
	assert_int_equal(getpeername(env->winner_fd, (struct sockaddr *)&peer,
	    &len), 0);
	str_of(&peer, p, sizeof(p));
	assert_string_equal(p, w);
}

/* The attempts started, in this order (indices into env->addrs). */
static void
check_tried(struct env *env, const char *order)
{
	char	a[64];
	size_t	i, n = strlen(order);

	assert_int_equal(env->ntried, n);
	for (i = 0; i < n; i++) {
		str_of(&env->addrs[order[i] - '0'], a, sizeof(a));
		assert_string_equal(env->tried[i], a);
	}
}

/*
 * The first address refuses: the second starts at once, not after the
 * stagger (10 s here, longer than the run may take).
 */
static void
test_refused_then_next_at_once(void **state)
{
	struct env	*env = *state;
	char		 a[64];

	refusing(env, AF_INET, add(env));
	answering(env, AF_INET, add(env));
	start(env, NULL, LONG_MS, 10000);
	run(env);
	check_winner(env, &env->addrs[1]);
	assert_int_equal(env->nfailures, 1);
	str_of(&env->addrs[0], a, sizeof(a));
	assert_string_equal(env->failures[0].addr, a);
	assert_int_equal(env->failures[0].err, ECONNREFUSED);
	check_tried(env, "01");
	assert_true(env->elapsed_ms < 10000);
}

/*
 * The first address never answers: the second starts after the stagger
 * while the first still tries, wins long before the first's connect
 * timeout, and the first is closed without being reported.
 */
static void
test_silent_then_stagger(void **state)
{
	struct env	*env = *state;
	int		 family = have_ipv6(env) ? AF_INET6 : AF_INET;

	silent(env, family, add(env));
	answering(env, AF_INET, add(env));
	start(env, NULL, LONG_MS, DIAL_STAGGER_MS);
	run(env);
	print_message("the second address connected after %llu ms "
	    "(stagger %d ms, connect timeout %d ms)\n",
	    (unsigned long long)env->elapsed_ms, DIAL_STAGGER_MS, LONG_MS);
	check_winner(env, &env->addrs[1]);
	assert_int_equal(env->nfailures, 0);
	check_tried(env, "01");
	/* Not at once: it waited for the stagger; not for the timeout. */
	assert_true(env->tried_ms[1] >= DIAL_STAGGER_MS / 2);
	assert_true(env->elapsed_ms < LONG_MS);
	/* The loser is closed: only the winner's socket is new. */
	assert_int_equal(count_fds(), env->baseline + 1);
}

/*
 * The families take turns: behind a silent IPv6 address come an
 * answering IPv6 one and an answering IPv4 one; IPv4 goes second.
 */
static void
test_families_take_turns(void **state)
{
	struct env	*env = *state;

	if (!have_ipv6(env)) {
		print_message("no IPv6 on loopback\n");
		skip();
	}
	silent(env, AF_INET6, add(env));
	answering(env, AF_INET6, add(env));
	answering(env, AF_INET, add(env));
	start(env, NULL, LONG_MS, DIAL_STAGGER_MS);
	run(env);
	check_winner(env, &env->addrs[2]);
	assert_int_equal(env->nfailures, 0);
	/* The answering IPv6 address was never needed. */
	check_tried(env, "02");
	assert_int_equal(count_fds(), env->baseline + 1);
}

/* Every address fails: each is reported with its errno, then the end. */
static void
test_all_fail(void **state)
{
	struct env	*env = *state;
	char		 a[64];
	size_t		 i;

	refusing(env, AF_INET, add(env));
	refusing(env, AF_INET, add(env));
	silent(env, AF_INET, add(env));
	start(env, NULL, 200, 10000);
	run(env);
	assert_int_equal(env->winner_fd, -1);
	assert_int_equal(env->nfailures, 3);
	for (i = 0; i < 3; i++) {
		str_of(&env->addrs[i], a, sizeof(a));
		assert_string_equal(env->failures[i].addr, a);
		assert_int_equal(env->failures[i].err, i < 2 ? ECONNREFUSED :
		    ETIMEDOUT);
	}
	check_tried(env, "012");
	assert_int_equal(count_fds(), env->baseline);
}

/*
 * A source address: one of the other family fails that address at once
 * (EAFNOSUPPORT); the next is bound to it.
 */
static void
test_source(void **state)
{
	struct env		*env = *state;
	struct sockaddr_storage	 local;
	struct sockaddr_in6	*sin6;
	socklen_t		 len = sizeof(local);
	char			 a[64];

	/* Bound to the IPv4 source, an IPv6 address is no use. */
	sin6 = (struct sockaddr_in6 *)add(env);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr = in6addr_loopback;
	sin6->sin6_port = htons(9);
	answering(env, AF_INET, add(env));
	start(env, "127.0.0.1", LONG_MS, 10000);
	run(env);
	check_winner(env, &env->addrs[1]);
	assert_int_equal(env->nfailures, 1);
	str_of(&env->addrs[0], a, sizeof(a));
	assert_string_equal(env->failures[0].addr, a);
	assert_int_equal(env->failures[0].err, EAFNOSUPPORT);
	assert_int_equal(getsockname(env->winner_fd,
	    (struct sockaddr *)&local, &len), 0);
	str_of(&local, a, sizeof(a));
	assert_true(strncmp(a, "127.0.0.1:", 10) == 0);
}

/*
 * A source address this host does not have (as while it is tentative):
 * bind() fails for each address, nothing is sent, and still no callback
 * comes from inside dial_new().
 */
static void
test_source_not_available(void **state)
{
	struct env	*env = *state;
	size_t		 i;

	answering(env, AF_INET, add(env));
	answering(env, AF_INET, add(env));
	start(env, "192.0.2.55", LONG_MS, 10000);
	run(env);
	assert_int_equal(env->winner_fd, -1);
	assert_int_equal(env->nfailures, 2);
	for (i = 0; i < 2; i++)
		assert_int_equal(env->failures[i].err, EADDRNOTAVAIL);
	assert_int_equal(count_fds(), env->baseline);
}

/* No address at all: "every address failed", from the loop. */
static void
test_no_address(void **state)
{
	struct env	*env = *state;

	start(env, NULL, LONG_MS, DIAL_STAGGER_MS);
	run(env);
	assert_int_equal(env->winner_fd, -1);
	assert_int_equal(env->nfailures, 0);
}

static bool
two_started(void *arg)
{
	struct env	*env = arg;

	return count_fds() >= env->baseline + 2;
}

/*
 * dial_free() while two attempts are trying: both sockets closed, no
 * callback later, nothing leaked (valgrind).
 */
static void
test_free_midway(void **state)
{
	struct env	*env = *state;

	silent(env, AF_INET, add(env));
	silent(env, AF_INET, add(env));
	start(env, NULL, LONG_MS, 50);
	assert_true(fake_run_until(env->base, two_started, env, RUN_MAX_MS));
	dial_free(env->dial);
	env->dial = NULL;
	assert_int_equal(count_fds(), env->baseline);
	fake_run_for(env->base, 100);
	assert_int_equal(env->ndone, 0);
	assert_int_equal(env->nfailures, 0);
}

/* dial_free() before the start: nothing ever happens. */
static void
test_free_before_start(void **state)
{
	struct env	*env = *state;

	refusing(env, AF_INET, add(env));
	start(env, NULL, LONG_MS, DIAL_STAGGER_MS);
	dial_free(env->dial);
	env->dial = NULL;
	fake_run_for(env->base, 50);
	assert_int_equal(env->ndone, 0);
	assert_int_equal(env->nfailures, 0);
	assert_int_equal(count_fds(), env->baseline);
}

/*
 * dial_free() from a callback: as an attempt starts (no socket is ever
 * opened) or when the first fails (the next is never tried); either way
 * the end is never reported and nothing leaks.
 */
static void
test_free_in_callback(void **state)
{
	struct env	*env = *state;

	refusing(env, AF_INET, add(env));
	answering(env, AF_INET, add(env));
	start(env, NULL, LONG_MS, 50);
	/* Past the stagger: a second attempt would have started by now. */
	fake_run_for(env->base, 120);
	check_tried(env, "0");
	assert_int_equal(env->nfailures, env->free_in[0] == 't' ? 0 : 1);
	assert_int_equal(env->ndone, 0);
	assert_null(env->dial);
	assert_int_equal(count_fds(), env->baseline);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test_setup_teardown(test_refused_then_next_at_once,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_then_stagger,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_families_take_turns,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_fail, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_not_available,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_address, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_free_midway, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_free_before_start, setup,
		    teardown),
		cmocka_unit_test_prestate_setup_teardown(test_free_in_callback,
		    setup, teardown, (void *)(uintptr_t)"trying"),
		cmocka_unit_test_prestate_setup_teardown(test_free_in_callback,
		    setup, teardown, (void *)(uintptr_t)"failed"),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
