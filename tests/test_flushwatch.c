/* SPDX-License-Identifier: ISC */
/*
 * Tests for flushwatch: snapshots over time in, verdicts, counts and the
 * next poll out, by table; the address matching; the bounds.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "flushwatch.h"

#define W	300000	/* window, ms */
#define Q	30000	/* quiet */
#define P	1000	/* poll */

#define CONNS_MAX	16
#define COOKIES_MAX	32

static const struct flushwatch_conf conf = { W, Q, P };

/*
 * The run starts at 0 (baseline: connections there then); the watch
 * (the run ended, ETRN accepted) comes at "w" among the snapshots, else
 * before them.  snaps: "TIME: CONN CONN; TIME: ..." where CONN is
 * "cN@ADDR/S" (cookie N from ADDR in state S: E established, W
 * close-wait, F fin-wait-2, T time-wait, C closed: a gone notice), or
 * "cN/S" for a cookie named before.  steps, one per snapshot: the next
 * poll's delay in ms, "-" kept before the watch (no poll), or the final
 * verdict: D delivered, N nothing.
 */
struct row {
	const char	*name;
	const char	*from;		/* delivers-from and relay addresses */
	const char	*baseline;	/* "CONN CONN" */
	const char	*snaps;
	const char	*steps;
	unsigned	 nrelay, nother;
	uint64_t	 first, last;	/* relay's, when nrelay > 0 */
	const char	*addrs;		/* relay's, in order seen */
	const char	*others;
};

static const struct row rows[] = {
	{ "two connections from the relay, then quiet: delivered early",
	  "198.51.100.7", "",
	  "2000: c1@198.51.100.7/E; 3000: c1/E c2@198.51.100.7/E;"
	  "4000: c1/T c2/T; 32500: c1/T c2/T; 33000: c1/T",
	  "1000 1000 1000 500 D", 2, 0, 2000, 3000, "198.51.100.7", "" },
	{ "nothing in the window: its whole length, the last poll at its end",
	  "198.51.100.7", "",
	  "0: ; 1000: ; 150000: ; 299500: ; 300000: ",
	  "1000 1000 1000 500 N", 0, 0, 0, 0, "", "" },
	{ "a late timer: the verdict all the same",
	  "198.51.100.7", "", "1000: ; 310000: ",
	  "1000 N", 0, 0, 0, 0, "", "" },
	{ "came and went between polls: its TIME_WAIT counts",
	  "198.51.100.7", "", "1000: c1@198.51.100.7/T; 31000: c1/T",
	  "1000 D", 1, 0, 1000, 1000, "198.51.100.7", "" },
	{ "the run's own delivery beat the first poll (ETRN late in a run)",
	  "198.51.100.7", "", "45000: c1@198.51.100.7/T c2@198.51.100.7/T;"
	  "75000: ",
	  "1000 D", 2, 0, 45000, 45000, "198.51.100.7", "" },
	{ "connections from before the run never count",
	  "198.51.100.7", "c8@198.51.100.7/E c9@198.51.100.7/T",
	  "1000: c8/E c9/T; 2000: c8/E; 300000: c8/E",
	  "1000 1000 N", 0, 0, 0, 0, "", "" },
	{ "... but a new one beside them does",
	  "198.51.100.7", "c8@198.51.100.7/E",
	  "1000: c8/E c1@198.51.100.7/E; 31000: c8/E c1/T",
	  "1000 D", 1, 0, 1000, 1000, "198.51.100.7", "" },
	{ "an open connection holds the window past the quiet time",
	  "198.51.100.7", "",
	  "1000: c1@198.51.100.7/E; 40000: c1/E; 69000: c1/W; 70000: ",
	  "1000 1000 1000 D", 1, 0, 1000, 40000, "198.51.100.7", "" },
	{ "still open at the window's end: delivered",
	  "198.51.100.7", "", "1000: c1@198.51.100.7/E; 300000: c1/E",
	  "1000 D", 1, 0, 1000, 300000, "198.51.100.7", "" },
	{ "other addresses counted apart: never delivered, never early",
	  "198.51.100.7", "",
	  "1000: c1@203.0.113.5/E; 2000: c1/E c2@203.0.113.5/T "
	  "c3@203.0.113.6/E; 40000: ; 300000: ",
	  "1000 1000 1000 N", 0, 3, 0, 0, "", "203.0.113.5 203.0.113.6" },
	{ "a relay connection beside others: delivered, others reported",
	  "198.51.100.7", "",
	  "1000: c1@203.0.113.5/E c2@198.51.100.7/E; 2000: c2/T; 31000: c1/E",
	  "1000 1000 D", 1, 1, 1000, 1000, "198.51.100.7", "203.0.113.5" },
	{ "delivers-from: an address and a prefix",
	  "198.51.100.7 203.0.113.0/28 2001:db8:5::/48", "",
	  "1000: c1@203.0.113.14/T c2@203.0.113.16/T "
	  "c3@2001:db8:5:1::25/E c4@2001:db8:6::25/E; 31000: ",
	  "1000 D", 2, 2, 1000, 1000, "203.0.113.14 2001:db8:5:1::25",
	  "203.0.113.16 2001:db8:6::25" },
	{ "an IPv6 relay address",
	  "2001:db8:5::25", "", "500: c1@2001:db8:5::25/E; 30500: c1/F",
	  "1000 D", 1, 0, 500, 500, "2001:db8:5::25", "" },
	{ "an IPv4 address never matches IPv6 or another address",
	  "198.51.100.7", "",
	  "1000: c1@198.51.100.8/T c2@2001:db8::7/T; 300000: ",
	  "1000 N", 0, 2, 0, 0, "", "198.51.100.8 2001:db8::7" },
	{ "no relay addresses known: everything is other",
	  "", "", "1000: c1@198.51.100.7/E; 300000: ",
	  "1000 N", 0, 1, 0, 0, "", "198.51.100.7" },
	{ "one address, many connections: listed once",
	  "198.51.100.7", "",
	  "1000: c1@198.51.100.7/T c2@198.51.100.7/T c3@198.51.100.7/E;"
	  "31000: c3/T",
	  "1000 D", 3, 0, 1000, 1000, "198.51.100.7", "" },
	{ "a connection only the kernel's gone notice told of counts",
	  "198.51.100.7", "", "1000: ; 1400: c1@198.51.100.7/C; 2000: ;"
	  "31400: ",
	  "1000 1000 1000 D", 1, 0, 1400, 1400, "198.51.100.7", "" },
	{ "a gone notice of one counted already: counted once, not open",
	  "198.51.100.7", "", "1000: c1@198.51.100.7/E; 5000: c1/C;"
	  "30999: ; 31000: ",
	  "1000 1000 1 D", 1, 0, 1000, 1000, "198.51.100.7", "" },
	{ "a flush while the ETRN session still ran: kept, then counted",
	  "198.51.100.7", "",
	  "300: c1@198.51.100.7/E; 800: c1/E c2@203.0.113.5/C; w;"
	  "1000: c1/T; 30800: ",
	  "- - 1000 D", 1, 1, 300, 800, "198.51.100.7", "203.0.113.5" },
	{ "kept, and still open at the watch: the quiet time from then",
	  "198.51.100.7", "c9@198.51.100.7/T",
	  "300: c9/T c1@198.51.100.7/C; 400: c2@198.51.100.7/E; w;"
	  "1000: c2/E; 2000: c2/T; 31000: ",
	  "- - 1000 1000 D", 2, 0, 300, 1000, "198.51.100.7", "" },
	{ "kept past the window's end: decided at the first poll after",
	  "198.51.100.7", "", "400000: c1@198.51.100.7/T; w; 400001: ",
	  "- D", 1, 0, 400000, 400000, "198.51.100.7", "" },
	{ "after the verdict: no poll, nothing more counted",
	  "198.51.100.7", "",
	  "1000: c1@198.51.100.7/T; 31000: ; 32000: c2@198.51.100.7/E",
	  "1000 D D", 1, 0, 1000, 1000, "198.51.100.7", "" },
};

static void
addr_of(const char *s, struct route_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(a->family, s, a->addr), 1);
}

static uint8_t
state_of(char c)
{
	switch (c) {
	case 'E':
		return TCP_ESTABLISHED;
	case 'W':
		return TCP_CLOSE_WAIT;
	case 'F':
		return TCP_FIN_WAIT2;
	case 'T':
		return TCP_TIME_WAIT;
	case 'C':
		return TCP_CLOSE;
	}
	fail_msg("state %c", c);
	return 0;
}

/* Remote addresses of cookies named so far, by cookie. */
static struct route_addr	 named[COOKIES_MAX];

/* "c1@ADDR/E c2/T" into conns: their count. */
static size_t
conns_of(const char *s, struct sockdiag_conn *conns)
{
	char		 buf[512], *tok, *save = NULL, *at, *slash;
	unsigned long	 cookie;
	size_t		 n = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		assert_true(n < CONNS_MAX);
		assert_true(tok[0] == 'c');
		cookie = strtoul(tok + 1, NULL, 10);
		assert_true(cookie > 0 && cookie < COOKIES_MAX);
		slash = strrchr(tok, '/');
		assert_non_null(slash);
		*slash = '\0';
		if ((at = strchr(tok, '@')) != NULL)
			addr_of(at + 1, &named[cookie]);
		assert_int_not_equal(named[cookie].family, 0);
		memset(&conns[n], 0, sizeof(conns[n]));
		conns[n].cookie = cookie;
		conns[n].remote = named[cookie];
		conns[n].lport = 25;
		conns[n].rport = (uint16_t)(40000 + cookie);
		conns[n].state = state_of(slash[1]);
		n++;
	}
	return n;
}

static void
assert_addrs(const struct flushwatch_seen *s, const char *want)
{
	char			 buf[256], *tok, *save = NULL;
	struct route_addr	 a;
	size_t			 i = 0;

	snprintf(buf, sizeof(buf), "%s", want);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		assert_true(i < s->naddrs);
		addr_of(tok, &a);
		assert_int_equal(s->addrs[i].family, a.family);
		assert_memory_equal(s->addrs[i].addr, a.addr, 16);
		i++;
	}
	assert_int_equal(s->naddrs, i);
	assert_false(s->more_addrs);
}

static size_t
from_of(const char *s, struct flushwatch_net *from)
{
	char	 buf[256], *tok, *save = NULL;
	size_t	 n = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		assert_true(n < FLUSHWATCH_FROM_MAX);
		assert_int_equal(flushwatch_net_parse(tok, &from[n]), 0);
		n++;
	}
	return n;
}

/* The run ended with an ETRN accepted: a poll at once. */
static void
watch(struct flushwatch *fw, const struct flushwatch_net *from, size_t n)
{
	struct flushwatch_step	 st;

	st = flushwatch_watch(fw, from, n);
	assert_int_equal(st.verdict, FLUSHWATCH_WATCHING);
	assert_true(st.poll);
	assert_int_equal(st.delay, 0);
}

static void
test_table(void **state)
{
	static struct flushwatch	 fw;
	struct flushwatch_net		 from[FLUSHWATCH_FROM_MAX];
	struct sockdiag_conn		 conns[CONNS_MAX];
	struct flushwatch_step		 st;
	char				 snaps[1024], *snap, *save;
	char				 steps[256], *want, *wsave;
	size_t				 i, n, nfrom;
	uint64_t			 now;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		print_message("  %s\n", rows[i].name);
		memset(named, 0, sizeof(named));
		n = conns_of(rows[i].baseline, conns);
		flushwatch_begin(&fw, &conf, 0, conns, n);
		nfrom = from_of(rows[i].from, from);
		if (strchr(rows[i].snaps, 'w') == NULL)
			watch(&fw, from, nfrom);

		snprintf(snaps, sizeof(snaps), "%s", rows[i].snaps);
		snprintf(steps, sizeof(steps), "%s", rows[i].steps);
		save = wsave = NULL;
		for (snap = strtok_r(snaps, ";", &save); snap != NULL;
		    snap = strtok_r(NULL, ";", &save)) {
			char	*colon = strchr(snap, ':');

			snap += strspn(snap, " ");
			if (strcmp(snap, "w") == 0) {
				watch(&fw, from, nfrom);
				continue;
			}
			assert_non_null(colon);
			*colon = '\0';
			now = strtoull(snap, NULL, 10);
			n = conns_of(colon + 1, conns);
			st = flushwatch_on_snapshot(&fw, now, conns, n);
			want = strtok_r(wsave == NULL ? steps : NULL, " ",
			    &wsave);
			assert_non_null(want);
			if (want[0] == '-') {
				/* Before the watch: kept, no poll. */
				assert_int_equal(st.verdict,
				    FLUSHWATCH_WATCHING);
				assert_false(st.poll);
			} else if (want[0] == 'D' || want[0] == 'N') {
				assert_int_equal(st.verdict, want[0] == 'D' ?
				    FLUSHWATCH_DELIVERED : FLUSHWATCH_NOTHING);
				assert_false(st.poll);
			} else {
				assert_int_equal(st.verdict,
				    FLUSHWATCH_WATCHING);
				assert_true(st.poll);
				assert_int_equal(st.delay,
				    strtoull(want, NULL, 10));
			}
		}
		assert_null(strtok_r(NULL, " ", &wsave));
		assert_int_equal(fw.verdict, st.verdict);
		assert_int_equal(fw.relay.nconns, rows[i].nrelay);
		assert_int_equal(fw.other.nconns, rows[i].nother);
		if (rows[i].nrelay > 0) {
			assert_int_equal(fw.relay.first, rows[i].first);
			assert_int_equal(fw.relay.last, rows[i].last);
		}
		assert_addrs(&fw.relay, rows[i].addrs);
		assert_addrs(&fw.other, rows[i].others);
		assert_false(fw.overflow);
	}
}

/* Nothing listens: final at once, and snapshots change nothing. */
static void
test_unobservable(void **state)
{
	struct flushwatch		 fw;
	struct flushwatch_net		 from;
	struct sockdiag_conn		 c;
	struct flushwatch_step		 st;

	(void)state;
	flushwatch_begin(&fw, &conf, 0, NULL, 0);
	assert_int_equal(flushwatch_net_parse("198.51.100.7", &from), 0);
	watch(&fw, &from, 1);
	st = flushwatch_unobservable(&fw);
	assert_int_equal(st.verdict, FLUSHWATCH_NOT_OBSERVABLE);
	assert_false(st.poll);
	memset(&c, 0, sizeof(c));
	c.cookie = 1;
	c.state = TCP_ESTABLISHED;
	c.remote = from.addr;
	st = flushwatch_on_snapshot(&fw, 1000, &c, 1);
	assert_int_equal(st.verdict, FLUSHWATCH_NOT_OBSERVABLE);
	assert_false(st.poll);
	assert_int_equal(fw.relay.nconns, 0);
	/* A final verdict stays. */
	flushwatch_begin(&fw, &conf, 0, NULL, 0);
	watch(&fw, &from, 1);
	st = flushwatch_on_snapshot(&fw, W, NULL, 0);
	assert_int_equal(st.verdict, FLUSHWATCH_NOTHING);
	assert_int_equal(flushwatch_unobservable(&fw).verdict,
	    FLUSHWATCH_NOTHING);
	assert_string_equal(flushwatch_verdict_name(FLUSHWATCH_NOTHING),
	    "nothing");
	assert_string_equal(flushwatch_verdict_name(
	    FLUSHWATCH_NOT_OBSERVABLE), "not-observable");
	/* The kernel gives out after the relay was seen: delivered. */
	flushwatch_begin(&fw, &conf, 0, NULL, 0);
	watch(&fw, &from, 1);
	c.cookie = 2;
	st = flushwatch_on_snapshot(&fw, 1000, &c, 1);
	assert_int_equal(st.verdict, FLUSHWATCH_WATCHING);
	assert_int_equal(flushwatch_unobservable(&fw).verdict,
	    FLUSHWATCH_DELIVERED);
}

/*
 * A run accepted while the window is open gets a whole window from its
 * own start, but the window never runs past twice its length.
 */
static void
test_extend(void **state)
{
	struct flushwatch		 fw;
	struct flushwatch_net		 from;
	struct flushwatch_result	 res;
	struct flushwatch_step		 st;

	(void)state;
	assert_int_equal(flushwatch_net_parse("198.51.100.7", &from), 0);
	flushwatch_begin(&fw, &conf, 1000, NULL, 0);
	watch(&fw, &from, 1);
	/* Joined at 1000 + W - 5000: ends at 1000 + 2W - 5000. */
	flushwatch_extend(&fw, 1000 + W - 5000);
	st = flushwatch_on_snapshot(&fw, 1000 + W, NULL, 0);
	assert_int_equal(st.verdict, FLUSHWATCH_WATCHING);
	assert_int_equal(st.delay, P);
	/* An earlier join does not shorten it. */
	flushwatch_extend(&fw, 2000);
	st = flushwatch_on_snapshot(&fw, 1000 + 2 * W - 5500, NULL, 0);
	assert_int_equal(st.verdict, FLUSHWATCH_WATCHING);
	assert_int_equal(st.delay, 500);
	/* Joined again late: capped at twice the window. */
	flushwatch_extend(&fw, 1000 + 2 * W - 5100);
	st = flushwatch_on_snapshot(&fw, 1000 + 2 * W - 5000, NULL, 0);
	assert_int_equal(st.verdict, FLUSHWATCH_WATCHING);
	assert_int_equal(st.delay, P);
	st = flushwatch_on_snapshot(&fw, 1000 + 2 * W, NULL, 0);
	assert_int_equal(st.verdict, FLUSHWATCH_NOTHING);
	flushwatch_result(&fw, 1000 + 2 * W + 700, &res);
	assert_int_equal(res.window_ms, 2 * W);
	assert_int_equal(res.elapsed_ms, 2 * W);
	/* A final verdict is not reopened. */
	flushwatch_extend(&fw, 1000 + 2 * W + 10);
	assert_int_equal(fw.end, 1000 + 2 * W);
}

/*
 * More connections than can be told apart: each still counted once
 * (those beyond the table not at all, and said), addresses capped.
 */
static void
test_bounds(void **state)
{
	static struct flushwatch	 fw;
	static struct sockdiag_conn	 c[FLUSHWATCH_TRACK_MAX + 10];
	struct flushwatch_net		 from;
	struct flushwatch_step		 st;
	size_t				 i, n = sizeof(c) / sizeof(c[0]);

	(void)state;
	/* A baseline as large as the table leaves no room... */
	for (i = 0; i < n; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].cookie = 1000 + i;
		c[i].state = TCP_TIME_WAIT;
		c[i].remote.family = AF_INET;
		c[i].remote.addr[0] = 198;
		c[i].remote.addr[1] = 51;
		c[i].remote.addr[2] = 100;
		c[i].remote.addr[3] = (unsigned char)(i % 20);
	}
	flushwatch_begin(&fw, &conf, 0, c, n);
	assert_false(fw.overflow);
	assert_int_equal(flushwatch_net_parse("198.51.100.0/24", &from), 0);
	watch(&fw, &from, 1);
	c[0].cookie = 1;
	st = flushwatch_on_snapshot(&fw, 1000, c, 1);
	/* ... and says so. */
	assert_true(fw.overflow);
	assert_int_equal(fw.relay.nconns, 0);
	assert_int_equal(st.verdict, FLUSHWATCH_WATCHING);
	/* None from the relay among what could not be told apart proves
	 * nothing: not observable, never a false "nothing came back". */
	st = flushwatch_on_snapshot(&fw, W, NULL, 0);
	assert_int_equal(st.verdict, FLUSHWATCH_NOT_OBSERVABLE);

	/* A fresh window: the table's worth counted once each. */
	flushwatch_begin(&fw, &conf, 0, NULL, 0);
	watch(&fw, &from, 1);
	for (i = 0; i < 2; i++)
		st = flushwatch_on_snapshot(&fw, 1000 + i, c, n);
	assert_true(fw.overflow);
	assert_int_equal(fw.relay.nconns, FLUSHWATCH_TRACK_MAX);
	assert_int_equal(fw.relay.naddrs, FLUSHWATCH_ADDRS_MAX);
	assert_true(fw.relay.more_addrs);
	assert_int_equal(st.verdict, FLUSHWATCH_WATCHING);
}

/* delivers-from values: addresses and prefixes, matching by prefix. */
static void
test_net(void **state)
{
	static const struct {
		const char	*net;
		const char	*addr;
		bool		 match;
	} t[] = {
		{ "192.0.2.1", "192.0.2.1", true },
		{ "192.0.2.1", "192.0.2.2", false },
		{ "192.0.2.0/24", "192.0.2.200", true },
		{ "192.0.2.0/24", "198.51.100.1", false },
		{ "203.0.113.0/28", "203.0.113.15", true },
		{ "203.0.113.0/28", "203.0.113.16", false },
		{ "203.0.113.7/28", "203.0.113.1", true },
		{ "192.0.2.0/0", "203.0.113.1", true },
		{ "192.0.2.0/0", "2001:db8::1", false },
		{ "2001:db8::/32", "2001:db8:ffff::1", true },
		{ "2001:db8::/33", "2001:db8:8000::1", false },
		{ "2001:db8::25", "2001:db8::25", true },
		{ "2001:db8::25", "192.0.2.25", false },
	};
	static const char *const bad[] = {
		"", "/24", "192.0.2.0/", "192.0.2.0/33", "192.0.2.0/-1",
		"192.0.2.0/ 24", "2001:db8::/129", "example.org",
		"192.0.2.256", "192.0.2.0/24/1",
	};
	struct flushwatch_net	 net;
	struct route_addr	 a;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		print_message("  %s ~ %s\n", t[i].net, t[i].addr);
		assert_int_equal(flushwatch_net_parse(t[i].net, &net), 0);
		addr_of(t[i].addr, &a);
		assert_int_equal(flushwatch_net_match(&net, &a), t[i].match);
	}
	assert_int_equal(flushwatch_net_parse("192.0.2.1", &net), 0);
	assert_int_equal(net.plen, 32);
	assert_int_equal(flushwatch_net_parse("2001:db8::1", &net), 0);
	assert_int_equal(net.plen, 128);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_int_equal(flushwatch_net_parse(bad[i], &net), -1);
		assert_int_equal(errno, EINVAL);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_unobservable),
		cmocka_unit_test(test_extend),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_net),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
