/* SPDX-License-Identifier: ISC */
/*
 * test_sockdiag: sockdiag against the real kernel, in a private network
 * namespace: connections to listeners on 192.0.2.1 and 2001:db8::1 from
 * other local addresses, each listed once with its remote address and
 * port; the port and address filters; a connection that closed (the
 * server first: TIME_WAIT; the client first: CLOSE_WAIT) keeps its
 * cookie, and one the client closed first is told of by the kernel's
 * notice; IPv4-mapped connections of a dual-stack listener come as IPv4;
 * listeners, wildcard and IPV6_V6ONLY; and all of it as an unprivileged
 * user, also in a user namespace of its own.  Needs root
 * (CLONE_NEWNET); exits 77 without it.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <poll.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sockdiag.h"
#include "testutil.h"

#define CONNS_MAX	16
#define STATE_TRIES	100	/* 10 ms each: a FIN on loopback */
#define NOBODY		65534

static int	 fds[32];
static size_t	 nfds;

static int
family_of(const char *addr)
{
	return strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
}

static void
addr_of(const char *s, struct route_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = family_of(s);
	assert_int_equal(inet_pton(a->family, s, a->addr), 1);
}

static socklen_t
sa_of(const char *s, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family_of(s) == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, s, &sin->sin_addr), 1);
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, s, &sin6->sin6_addr), 1);
	return sizeof(*sin6);
}

/* A socket the teardown closes. */
static int
keep(int fd)
{
	assert_true(fd >= 0);
	assert_true(nfds < sizeof(fds) / sizeof(fds[0]));
	fds[nfds++] = fd;
	return fd;
}

static int
listen_on(const char *addr, uint16_t port, int v6only)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sa_of(addr, port, &ss);
	int			 fd, on = 1;

	fd = keep(socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof(on)), 0);
	if (ss.ss_family == AF_INET6)
		assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
		    &v6only, sizeof(v6only)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

/* From src (port 0: any) to dst:port; *srv the accepted end. */
static int
connect_from(const char *src, uint16_t sport, const char *dst,
    uint16_t port, int lfd, int *srv)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sa_of(src, sport, &ss);
	int			 fd;

	fd = keep(socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	len = sa_of(dst, port, &ss);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
	if (srv != NULL)
		*srv = keep(accept(lfd, NULL, NULL));
	return fd;
}

static void
query(const char *local, uint16_t port, struct sockdiag_conn *c,
    size_t *n)
{
	struct sockdiag_query	 q;

	memset(&q, 0, sizeof(q));
	q.port = port;
	if (local != NULL)
		addr_of(local, &q.local);
	assert_int_equal(sockdiag_conns(&q, c, CONNS_MAX, n), 0);
	assert_true(*n <= CONNS_MAX);
}

static bool
addr_is(const struct route_addr *a, const char *want)
{
	struct route_addr	 w;

	addr_of(want, &w);
	return a->family == w.family &&
	    memcmp(a->addr, w.addr, w.family == AF_INET ? 4 : 16) == 0;
}

/* The one connection from remote:rport in c, which must be there. */
static const struct sockdiag_conn *
find(const struct sockdiag_conn *c, size_t n, const char *remote,
    uint16_t rport)
{
	const struct sockdiag_conn	*hit = NULL;
	size_t				 i;

	for (i = 0; i < n; i++) {
		if (addr_is(&c[i].remote, remote) && c[i].rport == rport) {
			assert_null(hit);
			hit = &c[i];
		}
	}
	if (hit == NULL)
		fail_msg("no connection from %s port %u", remote, rport);
	return hit;
}

static bool
listening(const char *local, uint16_t port)
{
	struct sockdiag_query	 q;
	bool			 yes;

	memset(&q, 0, sizeof(q));
	q.port = port;
	if (local != NULL)
		addr_of(local, &q.local);
	assert_int_equal(sockdiag_listening(&q, &yes), 0);
	return yes;
}

static int
setup(void **state)
{
	(void)state;
	nfds = 0;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	while (nfds > 0)
		(void)close(fds[--nfds]);
	return 0;
}

/*
 * Two listeners on port 25, one on 587: each connection to 25 listed
 * once, with its addresses, ports, state and a cookie; the filters.
 */
static void
test_established(void **state)
{
	struct sockdiag_conn		 c[CONNS_MAX];
	const struct sockdiag_conn	*hit;
	size_t				 n;
	int				 l4, l6, l587, srv;

	(void)state;
	l4 = listen_on("192.0.2.1", 25, 1);
	l6 = listen_on("2001:db8::1", 25, 1);
	l587 = listen_on("192.0.2.1", 587, 1);
	query(NULL, 25, c, &n);
	assert_int_equal(n, 0);

	connect_from("198.51.100.2", 40002, "192.0.2.1", 25, l4, &srv);
	connect_from("198.51.100.3", 40003, "192.0.2.1", 25, l4, NULL);
	connect_from("2001:db8:2::2", 40004, "2001:db8::1", 25, l6, &srv);
	connect_from("198.51.100.2", 40005, "192.0.2.1", 587, l587, &srv);

	query(NULL, 25, c, &n);
	assert_int_equal(n, 3);
	hit = find(c, n, "198.51.100.2", 40002);
	assert_true(addr_is(&hit->local, "192.0.2.1"));
	assert_int_equal(hit->lport, 25);
	assert_int_equal(hit->state, TCP_ESTABLISHED);
	assert_string_equal(sockdiag_state_name(hit->state), "established");
	assert_int_not_equal(hit->cookie, 0);
	assert_int_not_equal(hit->inode, 0);
	/* In the accept queue: no inode yet, a cookie all the same. */
	hit = find(c, n, "198.51.100.3", 40003);
	assert_int_equal(hit->state, TCP_ESTABLISHED);
	assert_int_equal(hit->inode, 0);
	assert_int_not_equal(hit->cookie, 0);
	hit = find(c, n, "2001:db8:2::2", 40004);
	assert_true(addr_is(&hit->local, "2001:db8::1"));
	assert_int_equal(hit->lport, 25);
	/* Distinct cookies. */
	assert_int_not_equal(c[0].cookie, c[1].cookie);
	assert_int_not_equal(c[1].cookie, c[2].cookie);
	assert_int_not_equal(c[0].cookie, c[2].cookie);

	/* By address. */
	query("2001:db8::1", 25, c, &n);
	assert_int_equal(n, 1);
	find(c, n, "2001:db8:2::2", 40004);
	query("192.0.2.1", 25, c, &n);
	assert_int_equal(n, 2);
	query("203.0.113.1", 25, c, &n);
	assert_int_equal(n, 0);
	/* Another port. */
	query(NULL, 587, c, &n);
	assert_int_equal(n, 1);
	hit = find(c, n, "198.51.100.2", 40005);
	assert_int_equal(hit->lport, 587);
	/* The clients' ends (local port 4000x) are not the server's. */
	query(NULL, 40002, c, &n);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].rport, 25);

	/* More than fit: the count says so. */
	{
		struct sockdiag_query	 q = { .port = 25 };

		assert_int_equal(sockdiag_conns(&q, c, 1, &n), 0);
		assert_int_equal(n, 3);
	}
}

/* Poll (bounded) until the connection from rport is in state. */
static const struct sockdiag_conn *
wait_state(struct sockdiag_conn *c, uint16_t port, const char *remote,
    uint16_t rport, uint8_t state)
{
	const struct sockdiag_conn	*hit = NULL;
	size_t				 n;
	int				 i;

	for (i = 0; i < STATE_TRIES; i++) {
		query(NULL, port, c, &n);
		hit = find(c, n, remote, rport);
		if (hit->state == state)
			return hit;
		usleep(10 * 1000);
	}
	fail_msg("connection from port %u in %s, not %s", rport,
	    sockdiag_state_name(hit->state), sockdiag_state_name(state));
	return NULL;
}

/*
 * Each test has its ports: closed connections of the one before linger.
 *
 * Closed connections stay listed with the same cookie: the server's end
 * in TIME_WAIT when it closed first (the SMTP server after QUIT), in
 * CLOSE_WAIT while only the client has.
 */
static void
test_closed(void **state)
{
	struct sockdiag_conn		 c[CONNS_MAX];
	const struct sockdiag_conn	*hit;
	uint64_t			 cookie1, cookie2;
	size_t				 n, i;
	int				 l4, l6, cli1, srv1, cli2, srv2;

	(void)state;
	l4 = listen_on("192.0.2.1", 2526, 1);
	l6 = listen_on("2001:db8::1", 2526, 1);
	cli1 = connect_from("198.51.100.2", 40012, "192.0.2.1", 2526, l4,
	    &srv1);
	cli2 = connect_from("2001:db8:2::3", 40013, "2001:db8::1", 2526, l6,
	    &srv2);
	query(NULL, 2526, c, &n);
	assert_int_equal(n, 2);
	cookie1 = find(c, n, "198.51.100.2", 40012)->cookie;
	cookie2 = find(c, n, "2001:db8:2::3", 40013)->cookie;

	/* The server closes first, then the client. */
	assert_int_equal(shutdown(srv1, SHUT_RDWR), 0);
	assert_int_equal(shutdown(cli1, SHUT_RDWR), 0);
	for (i = 0; i < nfds; i++)
		if (fds[i] == srv1 || fds[i] == cli1) {
			(void)close(fds[i]);
			fds[i] = -1;
		}
	hit = wait_state(c, 2526, "198.51.100.2", 40012, TCP_TIME_WAIT);
	assert_string_equal(sockdiag_state_name(hit->state), "time-wait");
	assert_int_equal(hit->cookie, cookie1);
	assert_int_equal(hit->inode, 0);
	assert_true(addr_is(&hit->local, "192.0.2.1"));

	/* The client closes: the server's end waits in CLOSE_WAIT. */
	assert_int_equal(shutdown(cli2, SHUT_WR), 0);
	hit = wait_state(c, 2526, "2001:db8:2::3", 40013, TCP_CLOSE_WAIT);
	assert_int_equal(hit->cookie, cookie2);
	assert_true(addr_is(&hit->local, "2001:db8::1"));
	(void)srv2;
}

/*
 * A dual-stack listener on [::]: an IPv4 client's connection is an IPv6
 * socket with IPv4-mapped addresses, given as IPv4 and found by the IPv4
 * address.
 */
static void
test_mapped(void **state)
{
	struct sockdiag_conn		 c[CONNS_MAX];
	const struct sockdiag_conn	*hit;
	size_t				 n;
	int				 l;

	(void)state;
	l = listen_on("::", 2525, 0);
	connect_from("198.51.100.4", 40021, "192.0.2.1", 2525, l, NULL);
	connect_from("2001:db8:2::2", 40022, "2001:db8::1", 2525, l, NULL);
	query(NULL, 2525, c, &n);
	assert_int_equal(n, 2);
	hit = find(c, n, "198.51.100.4", 40021);
	assert_int_equal(hit->remote.family, AF_INET);
	assert_true(addr_is(&hit->local, "192.0.2.1"));
	hit = find(c, n, "2001:db8:2::2", 40022);
	assert_int_equal(hit->remote.family, AF_INET6);
	query("192.0.2.1", 2525, c, &n);
	assert_int_equal(n, 1);
	find(c, n, "198.51.100.4", 40021);
	query("2001:db8::1", 2525, c, &n);
	assert_int_equal(n, 1);
	find(c, n, "2001:db8:2::2", 40022);
}

/* Listeners: bound, wildcard per family, [::] with and without V6ONLY. */
static void
test_listening(void **state)
{
	(void)state;
	assert_false(listening(NULL, 25));
	listen_on("192.0.2.1", 25, 1);
	assert_true(listening(NULL, 25));
	assert_true(listening("192.0.2.1", 25));
	assert_false(listening("198.51.100.2", 25));
	assert_false(listening("2001:db8::1", 25));
	assert_false(listening("192.0.2.1", 26));

	listen_on("0.0.0.0", 26, 1);
	assert_true(listening("192.0.2.1", 26));
	assert_true(listening("198.51.100.2", 26));
	assert_false(listening("2001:db8::1", 26));

	listen_on("::", 27, 1);
	assert_true(listening("2001:db8::1", 27));
	assert_false(listening("192.0.2.1", 27));

	listen_on("::", 28, 0);
	assert_true(listening("2001:db8::1", 28));
	assert_true(listening("192.0.2.1", 28));
}

/* Read the notices of sockets gone (bounded) until want have come. */
static size_t
gone_wait(int fd, uint16_t port, struct sockdiag_conn *c, size_t want)
{
	struct sockdiag_query	 q = { .port = port };
	struct pollfd		 pfd = { .fd = fd, .events = POLLIN };
	size_t			 n, got = 0;
	bool			 lost;
	int			 i;

	for (i = 0; i < STATE_TRIES && got < want; i++) {
		(void)poll(&pfd, 1, 10);
		assert_int_equal(sockdiag_gone_read(fd, &q, c + got,
		    CONNS_MAX - got, &n, &lost), 0);
		assert_false(lost);
		got += n;
	}
	return got;
}

/*
 * The client closes first, as Postfix's smtp client does after QUIT: the
 * server's end skips TIME_WAIT and leaves no trace for a poll, but the
 * kernel's notice tells of it, with the cookie it had; other ports' and
 * the client end's notices are not ours.
 */
static void
test_gone(void **state)
{
	struct sockdiag_conn		 c[CONNS_MAX];
	const struct sockdiag_conn	*hit;
	uint64_t			 cookie;
	size_t				 n, i;
	int				 fd, fd2, l, l6, cli, srv, cli6, srv6;
	char				 buf[16];

	(void)state;
	fd = keep(sockdiag_gone_open());
	l = listen_on("192.0.2.1", 2528, 1);
	l6 = listen_on("2001:db8::1", 2528, 1);
	listen_on("192.0.2.1", 2529, 1);
	cli = connect_from("198.51.100.2", 40041, "192.0.2.1", 2528, l,
	    &srv);
	cli6 = connect_from("2001:db8:2::2", 40042, "2001:db8::1", 2528, l6,
	    &srv6);
	query("192.0.2.1", 2528, c, &n);
	assert_int_equal(n, 1);
	cookie = c[0].cookie;

	/* QUIT and close at once; the server answers, then closes. */
	assert_int_equal(write(cli, "QUIT\r\n", 6), 6);
	assert_int_equal(write(cli6, "QUIT\r\n", 6), 6);
	assert_int_equal(read(srv, buf, sizeof(buf)), 6);
	assert_int_equal(read(srv6, buf, sizeof(buf)), 6);
	for (i = 0; i < nfds; i++)
		if (fds[i] == cli || fds[i] == cli6) {
			(void)close(fds[i]);
			fds[i] = -1;
		}
	/* The reply may meet a closed socket (a reset): either is fine. */
	(void)!write(srv, "221 bye\r\n", 9);
	(void)!write(srv6, "221 bye\r\n", 9);
	for (i = 0; i < nfds; i++)
		if (fds[i] == srv || fds[i] == srv6) {
			(void)close(fds[i]);
			fds[i] = -1;
		}
	/* Another port's connection, gone too: not ours. */
	connect_from("198.51.100.3", 40043, "192.0.2.1", 2529, -1, NULL);
	(void)close(fds[nfds - 1]);
	fds[nfds - 1] = -1;

	/* Nothing left for a poll to see ... */
	for (i = 0; i < STATE_TRIES; i++) {
		query(NULL, 2528, c, &n);
		if (n == 0)
			break;
		usleep(10 * 1000);
	}
	assert_int_equal(n, 0);
	/* ... but the notices came, once each, for the server's ends. */
	assert_int_equal(gone_wait(fd, 2528, c, 2), 2);
	hit = find(c, 2, "198.51.100.2", 40041);
	assert_true(addr_is(&hit->local, "192.0.2.1"));
	assert_int_equal(hit->lport, 2528);
	assert_int_equal(hit->cookie, cookie);
	assert_int_equal(hit->state, TCP_CLOSE);
	/* Never listed while it lived: a cookie all the same. */
	hit = find(c, 2, "2001:db8:2::2", 40042);
	assert_true(addr_is(&hit->local, "2001:db8::1"));
	assert_int_not_equal(hit->cookie, 0);
	assert_int_not_equal(hit->cookie, cookie);
	assert_int_equal(gone_wait(fd, 2528, c, 1), 0);
	/* Subscribed after they went: nothing. */
	fd2 = keep(sockdiag_gone_open());
	assert_int_equal(gone_wait(fd2, 2528, c, 1), 0);
}

/*
 * As etrnd's dynamic user would: no capability, another uid than the
 * sockets' owner.  A child drops to nobody and lists root's connection.
 */
static void
test_unprivileged(void **state)
{
	struct sockdiag_conn	 c[CONNS_MAX];
	struct sockdiag_query	 q = { .port = 2527 };
	size_t			 n;
	pid_t			 pid;
	bool			 yes;
	int			 l, status, userns;

	(void)state;
	l = listen_on("192.0.2.1", 2527, 1);
	connect_from("198.51.100.5", 40031, "192.0.2.1", 2527, l, NULL);
	for (userns = 0; userns < 2; userns++) {
		pid = fork();
		assert_true(pid != -1);
		if (pid == 0) {
			if (setgroups(0, NULL) == -1 || setgid(NOBODY) == -1 ||
			    setuid(NOBODY) == -1 || geteuid() != NOBODY)
				_exit(2);
			/* And in a user namespace, as under PrivateUsers=. */
			if (userns && unshare(CLONE_NEWUSER) == -1)
				_exit(77);
			if (sockdiag_conns(&q, c, CONNS_MAX, &n) == -1 ||
			    n != 1 || c[0].rport != 40031 || c[0].cookie == 0)
				_exit(3);
			if (sockdiag_listening(&q, &yes) == -1 || !yes)
				_exit(4);
			if (sockdiag_gone_open() == -1)
				_exit(5);
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		if (userns && WEXITSTATUS(status) == 77) {
			print_message("no user namespace for nobody here: "
			    "PrivateUsers= not tried\n");
			continue;
		}
		assert_int_equal(WEXITSTATUS(status), 0);
	}
}

static void
test_bad_query(void **state)
{
	struct sockdiag_conn	 c[1];
	struct sockdiag_query	 q;
	size_t			 n = 9;
	bool			 yes = true, lost;

	(void)state;
	memset(&q, 0, sizeof(q));
	errno = 0;
	assert_int_equal(sockdiag_conns(&q, c, 1, &n), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(n, 0);
	q.port = 25;
	q.local.family = AF_UNIX;
	assert_int_equal(sockdiag_listening(&q, &yes), -1);
	assert_int_equal(errno, EAFNOSUPPORT);
	assert_false(yes);
	q.port = 0;
	q.local.family = AF_UNSPEC;
	assert_int_equal(sockdiag_gone_read(-1, &q, c, 1, &n, &lost), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(sockdiag_state_name(TCP_CLOSE_WAIT),
	    "close-wait");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_established, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listening, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unprivileged, setup,
		    teardown),
		cmocka_unit_test(test_bad_query),
	};

	if (!netns_enter())
		return 77;
	if (system("ip link set lo up && "
	    "ip addr add 192.0.2.1/32 dev lo && "
	    "ip addr add 198.51.100.2/32 dev lo && "
	    "ip addr add 198.51.100.3/32 dev lo && "
	    "ip addr add 198.51.100.4/32 dev lo && "
	    "ip addr add 198.51.100.5/32 dev lo && "
	    "ip -6 addr add 2001:db8::1/128 dev lo nodad && "
	    "ip -6 addr add 2001:db8:2::2/128 dev lo nodad && "
	    "ip -6 addr add 2001:db8:2::3/128 dev lo nodad") != 0) {
		printf("skipped: ip(8) does not work here\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
