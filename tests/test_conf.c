/* SPDX-License-Identifier: ISC */
/*
 * test_conf: the config parser, checked by exact error texts (file:line
 * included), tables of values, and the shipped example file.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "util.h"

#define RELAY	"[relay r]\ndomains = a.example\n"

static struct conf *
parse(const char *text, char **errors)
{
	return conf_parse("t.conf", text, strlen(text), errors);
}

/* Parse text that must succeed. */
static struct conf *
parse_ok(const char *text)
{
	struct conf	*conf;
	char		*errors = (char *)1;

	conf = parse(text, &errors);
	if (conf == NULL)
		fail_msg("unexpected errors for:\n%s\n---\n%s", text, errors);
	assert_null(errors);
	return conf;
}

/* Parse text that must fail with exactly this error text. */
static void
parse_fail(const char *text, size_t len, const char *expected)
{
	struct conf	*conf;
	char		*errors = NULL;

	conf = conf_parse("t.conf", text, len, &errors);
	assert_null(conf);
	assert_non_null(errors);
	if (strcmp(errors, expected) != 0)
		fail_msg("for:\n%s\n--- expected:\n%s--- got:\n%s", text,
		    expected, errors);
	free(errors);
}

/* A long, valid domain name: labels of 63 bytes and dots. */
static void
fill_domain(char *buf, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		buf[i] = i % 64 == 63 ? '.' : 'a';
}

/* The example from the issue. */
static void
test_issue_example(void **state)
{
	const struct conf_relay	*r;
	struct conf		*conf;

	(void)state;
	conf = parse_ok(
	    "[daemon]\n"
	    "watch = site0 ppp*\n"
	    "settle = 0\n"
	    "interval = 0\n"
	    "\n"
	    "[relay isp]\n"
	    "host = 192.0.2.2\n"
	    "domains = example.org @example.net\n");
	assert_string_equal(conf->path, "t.conf");
	assert_int_equal(conf->nwatch, 2);
	assert_string_equal(conf->watch[0], "site0");
	assert_string_equal(conf->watch[1], "ppp*");
	assert_int_equal(conf->settle_ms, 0);
	/* "settle = 0" written out asks at every link-up, as it always did. */
	assert_int_equal(conf->holddown_ms, 0);
	assert_int_equal(conf->interval_ms, 0);
	assert_int_equal(conf->nrelays, 1);
	r = &conf->relays[0];
	assert_string_equal(r->name, "isp");
	assert_string_equal(r->host, "192.0.2.2");
	assert_int_equal(r->port, 25);
	assert_int_equal(r->ndomains, 2);
	assert_string_equal(r->domains[0], "example.org");
	assert_string_equal(r->domains[1], "@example.net");
	assert_int_equal(r->command, CONF_CMD_ETRN);
	assert_null(r->source);
	assert_int_equal(r->line, 6);
	conf_free(conf);
}

static void
test_defaults(void **state)
{
	const struct conf_relay	*r;
	struct conf		*conf;

	(void)state;
	conf = parse_ok("[relay mx2.isp.example]\ndomains = example.org\n");
	assert_int_equal(conf->nwatch, 0);
	assert_null(conf->watch);
	assert_int_equal(conf->linkup, CONF_LINKUP_RUNNING);
	/* At once at link-up, then a window of 2 s for further ones. */
	assert_int_equal(conf->settle_ms, 0);
	assert_int_equal(conf->holddown_ms, 2000);
	assert_int_equal(conf->interval_ms, 0);
	assert_true(conf->run_at_start);
	assert_null(conf->helo);
	assert_int_equal(conf->retry_min_ms, 30 * 1000);
	assert_int_equal(conf->retry_max_ms, 30 * 60 * 1000);
	assert_int_equal(conf->give_up_ms, 6 * 3600 * 1000);
	assert_int_equal(conf->connect_timeout_ms, 30 * 1000);
	assert_int_equal(conf->reply_timeout_ms, 5 * 60 * 1000);
	assert_int_equal(conf->max_sessions, 64);
	assert_null(conf->local_smtp_host);
	assert_int_equal(conf->local_smtp_port, 0);
	assert_int_equal(conf->flush_window_ms, 5 * 60 * 1000);
	assert_int_equal(conf->flush_quiet_ms, 30 * 1000);
	assert_null(conf->metrics_file);
	assert_int_equal(conf->nrelays, 1);
	r = &conf->relays[0];
	assert_string_equal(r->name, "mx2.isp.example");
	assert_string_equal(r->host, "mx2.isp.example");
	assert_int_equal(r->port, 25);
	assert_int_equal(r->command, CONF_CMD_ETRN);
	assert_null(r->source);
	assert_null(r->delivers_from);
	assert_int_equal(r->ndelivers_from, 0);
	assert_int_equal(r->line, 1);
	conf_free(conf);
}

/* Every key set to something other than its default. */
static void
test_all_keys(void **state)
{
	const struct conf_relay	*r;
	struct conf		*conf;

	(void)state;
	conf = parse_ok(
	    "# comment\n"
	    "  [ daemon ]  \n"
	    "\twatch\t=\teth0   wlan*\t\n"
	    "link-up = address\n"
	    "settle = 500ms\n"
	    "interval = 1h\n"
	    "run-at-start = no\n"
	    "helo = site.example.org\n"
	    "retry-min = 1m\n"
	    "retry-max = 2h\n"
	    "give-up = 12h\n"
	    "connect-timeout = 10s\n"
	    "reply-timeout = 90\n"
	    "max-sessions = 4096\n"
	    "local-smtp = [::1]:2525\n"
	    "flush-window = 10m\n"
	    "flush-quiet = 1m\n"
	    "metrics-file = /var/lib/prometheus/node-exporter/etrnd.prom\n"
	    "  ; indented comment\n"
	    "[relay a]\n"
	    "host = mx.a.example\n"
	    "port = 587\n"
	    "domains = #queue @example.org\n"
	    "command = qsnd\n"
	    "source = 2001:db8::1\n"
	    "[relay b]\n"
	    "domains = b.example\n"
	    "delivers-from = 198.51.100.0/24\n");
	assert_int_equal(conf->nwatch, 2);
	assert_string_equal(conf->watch[0], "eth0");
	assert_string_equal(conf->watch[1], "wlan*");
	assert_int_equal(conf->linkup, CONF_LINKUP_ADDRESS);
	assert_int_equal(conf->settle_ms, 500);
	assert_int_equal(conf->interval_ms, 3600 * 1000);
	assert_false(conf->run_at_start);
	assert_string_equal(conf->helo, "site.example.org");
	assert_int_equal(conf->retry_min_ms, 60 * 1000);
	assert_int_equal(conf->retry_max_ms, 2 * 3600 * 1000);
	assert_int_equal(conf->give_up_ms, 12 * 3600 * 1000);
	assert_int_equal(conf->connect_timeout_ms, 10 * 1000);
	assert_int_equal(conf->reply_timeout_ms, 90 * 1000);
	assert_int_equal(conf->max_sessions, 4096);
	assert_string_equal(conf->local_smtp_host, "::1");
	assert_int_equal(conf->local_smtp_port, 2525);
	assert_int_equal(conf->flush_window_ms, 10 * 60 * 1000);
	assert_int_equal(conf->flush_quiet_ms, 60 * 1000);
	assert_string_equal(conf->metrics_file,
	    "/var/lib/prometheus/node-exporter/etrnd.prom");
	assert_int_equal(conf->nrelays, 2);
	r = conf_relay_find(conf, "a");
	assert_non_null(r);
	assert_string_equal(r->host, "mx.a.example");
	assert_int_equal(r->port, 587);
	assert_int_equal(r->ndomains, 2);
	assert_string_equal(r->domains[0], "#queue");
	assert_string_equal(r->domains[1], "@example.org");
	assert_int_equal(r->command, CONF_CMD_QSND);
	assert_string_equal(r->source, "2001:db8::1");
	assert_null(r->delivers_from);
	assert_int_equal(r->line, 20);
	r = conf_relay_find(conf, "b");
	assert_non_null(r);
	assert_string_equal(r->host, "b");
	assert_int_equal(r->line, 26);
	assert_int_equal(r->ndelivers_from, 1);
	assert_int_equal(r->delivers_from[0].addr.family, AF_INET);
	assert_int_equal(r->delivers_from[0].plen, 24);
	assert_null(conf_relay_find(conf, "c"));
	conf_free(conf);
}

/* Valid values of the [daemon] keys that are not durations. */
static void
test_daemon_values(void **state)
{
	static const struct {
		const char	*line;
		int		 linkup;	/* -1: not checked */
		int		 run_at_start;	/* -1: not checked */
		const char	*helo;
		const char	*smtp_host;
		uint16_t	 smtp_port;
		unsigned	 max_sessions;
	} t[] = {
		{ "link-up = running", CONF_LINKUP_RUNNING, -1, NULL, NULL, 0, 64 },
		{ "link-up = address", CONF_LINKUP_ADDRESS, -1, NULL, NULL, 0, 64 },
		{ "run-at-start = yes", -1, 1, NULL, NULL, 0, 64 },
		{ "run-at-start = True", -1, 1, NULL, NULL, 0, 64 },
		{ "run-at-start = on", -1, 1, NULL, NULL, 0, 64 },
		{ "run-at-start = 1", -1, 1, NULL, NULL, 0, 64 },
		{ "run-at-start = NO", -1, 0, NULL, NULL, 0, 64 },
		{ "run-at-start = false", -1, 0, NULL, NULL, 0, 64 },
		{ "run-at-start = off", -1, 0, NULL, NULL, 0, 64 },
		{ "run-at-start = 0", -1, 0, NULL, NULL, 0, 64 },
		{ "helo = mail.example.org", -1, -1, "mail.example.org", NULL, 0, 64 },
		{ "helo = [192.0.2.1]", -1, -1, "[192.0.2.1]", NULL, 0, 64 },
		{ "helo = [IPv6:2001:db8::1]", -1, -1, "[IPv6:2001:db8::1]",
		    NULL, 0, 64 },
		{ "local-smtp = 127.0.0.1:25", -1, -1, NULL, "127.0.0.1", 25, 64 },
		{ "local-smtp = [::1]:25", -1, -1, NULL, "::1", 25, 64 },
		{ "local-smtp = localhost:65535", -1, -1, NULL, "localhost",
		    65535, 64 },
		{ "local-smtp = mail.example.org:1", -1, -1, NULL,
		    "mail.example.org", 1, 64 },
		{ "max-sessions = 1", -1, -1, NULL, NULL, 0, 1 },
		{ "max-sessions = 4096", -1, -1, NULL, NULL, 0, 4096 },
		{ "max-sessions = 007", -1, -1, NULL, NULL, 0, 7 },
	};
	struct conf	*conf;
	char		 text[512];
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(t); i++) {
		snprintf(text, sizeof text, "[daemon]\n%s\n" RELAY, t[i].line);
		conf = parse_ok(text);
		if (t[i].linkup != -1)
			assert_int_equal(conf->linkup, t[i].linkup);
		if (t[i].run_at_start != -1)
			assert_int_equal(conf->run_at_start,
			    t[i].run_at_start);
		if (t[i].helo == NULL)
			assert_null(conf->helo);
		else
			assert_string_equal(conf->helo, t[i].helo);
		if (t[i].smtp_host == NULL)
			assert_null(conf->local_smtp_host);
		else
			assert_string_equal(conf->local_smtp_host,
			    t[i].smtp_host);
		assert_int_equal(conf->local_smtp_port, t[i].smtp_port);
		assert_int_equal(conf->max_sessions, t[i].max_sessions);
		conf_free(conf);
	}
}

/*
 * settle and hold-down: the file's own words keep their meaning.  No
 * settle: the hold-down (2 s, or as set); settle = 0 written: every
 * link-up unless hold-down is set too; settle > 0: a wait, and a
 * hold-down beside it is an error at its line.
 */
static void
test_settle_holddown(void **state)
{
	static const struct {
		const char	*daemon;
		uint64_t	 settle, holddown;
	} t[] = {
		{ "", 0, 2000 },
		{ "hold-down = 5s\n", 0, 5000 },
		{ "hold-down = 0\n", 0, 0 },
		{ "settle = 0\n", 0, 0 },
		{ "settle = 0\nhold-down = 3s\n", 0, 3000 },
		{ "hold-down = 3s\nsettle = 0\n", 0, 3000 },
		{ "settle = 2s\n", 2000, 0 },
		{ "settle = 2s\nhold-down = 0\n", 2000, 0 },
	};
	struct conf	*conf;
	char		 text[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(t); i++) {
		snprintf(text, sizeof text, "[daemon]\n%s" RELAY, t[i].daemon);
		conf = parse_ok(text);
		assert_int_equal(conf->settle_ms, t[i].settle);
		assert_int_equal(conf->holddown_ms, t[i].holddown);
		conf_free(conf);
	}
	snprintf(text, sizeof text, "[daemon]\nsettle = 2s\n"
	    "hold-down = 1s\n" RELAY);
	parse_fail(text, strlen(text), "t.conf:3: hold-down: not with settle = 2s (settle waits for the "
	    "link to stay up; the hold-down runs at once: choose one)\n");
}

/* Every duration key accepts durations; the zero rule differs. */
static void
test_duration_keys(void **state)
{
	static const struct {
		const char	*key;
		size_t		 off;
		bool		 zero_ok;
	} t[] = {
		{ "settle", offsetof(struct conf, settle_ms), true },
		{ "hold-down", offsetof(struct conf, holddown_ms), true },
		{ "interval", offsetof(struct conf, interval_ms), true },
		{ "retry-min", offsetof(struct conf, retry_min_ms), false },
		{ "retry-max", offsetof(struct conf, retry_max_ms), false },
		{ "give-up", offsetof(struct conf, give_up_ms), false },
		{ "connect-timeout", offsetof(struct conf, connect_timeout_ms),
		    false },
		{ "reply-timeout", offsetof(struct conf, reply_timeout_ms),
		    false },
	};
	struct conf	*conf;
	uint64_t	 ms;
	char		 text[512], expected[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(t); i++) {
		/* 45m: above the default retry-min, below retry-max's. */
		snprintf(text, sizeof text, "[daemon]\n%s = 45m\n"
		    "retry-max = 1h\n" RELAY, t[i].key);
		if (strcmp(t[i].key, "retry-max") == 0)
			snprintf(text, sizeof text, "[daemon]\n%s = 45m\n"
			    RELAY, t[i].key);
		conf = parse_ok(text);
		memcpy(&ms, (char *)conf + t[i].off, sizeof ms);
		assert_int_equal(ms, 45 * 60 * 1000);
		conf_free(conf);

		snprintf(text, sizeof text, "[daemon]\n%s = 0\n" RELAY,
		    t[i].key);
		if (t[i].zero_ok) {
			conf = parse_ok(text);
			memcpy(&ms, (char *)conf + t[i].off, sizeof ms);
			assert_int_equal(ms, 0);
			conf_free(conf);
		} else {
			snprintf(expected, sizeof expected,
			    "t.conf:2: %s: must be greater than 0\n",
			    t[i].key);
			parse_fail(text, strlen(text), expected);
		}

		snprintf(text, sizeof text, "[daemon]\n%s = 5x\n" RELAY,
		    t[i].key);
		snprintf(expected, sizeof expected, "t.conf:2: %s: invalid "
		    "duration \"5x\" (use a number with s, m, h or ms)\n",
		    t[i].key);
		parse_fail(text, strlen(text), expected);
	}
}

static void
test_relay_values(void **state)
{
	static const struct {
		const char	*lines;
		const char	*host;
		uint16_t	 port;
		int		 command;
		const char	*source;
	} t[] = {
		{ "", "r", 25, CONF_CMD_ETRN, NULL },
		{ "host = 192.0.2.2", "192.0.2.2", 25, CONF_CMD_ETRN, NULL },
		{ "host = 2001:db8::2", "2001:db8::2", 25, CONF_CMD_ETRN, NULL },
		{ "host = [2001:db8::2]", "2001:db8::2", 25, CONF_CMD_ETRN, NULL },
		{ "host = MX2.ISP.example.", "MX2.ISP.example.", 25,
		    CONF_CMD_ETRN, NULL },
		{ "port = 1", "r", 1, CONF_CMD_ETRN, NULL },
		{ "port = 65535", "r", 65535, CONF_CMD_ETRN, NULL },
		{ "command = ETRN", "r", 25, CONF_CMD_ETRN, NULL },
		{ "command = etrn", "r", 25, CONF_CMD_ETRN, NULL },
		{ "command = QSND", "r", 25, CONF_CMD_QSND, NULL },
		{ "command = Qsnd", "r", 25, CONF_CMD_QSND, NULL },
		{ "source = 192.0.2.1", "r", 25, CONF_CMD_ETRN, "192.0.2.1" },
		{ "source = ::1", "r", 25, CONF_CMD_ETRN, "::1" },
	};
	const struct conf_relay	*r;
	struct conf		*conf;
	char			 text[512];
	size_t			 i;

	(void)state;
	for (i = 0; i < nitems(t); i++) {
		snprintf(text, sizeof text, "[relay r]\n%s\ndomains = a.b\n",
		    t[i].lines);
		conf = parse_ok(text);
		r = &conf->relays[0];
		assert_string_equal(r->host, t[i].host);
		assert_int_equal(r->port, t[i].port);
		assert_int_equal(r->command, t[i].command);
		if (t[i].source == NULL)
			assert_null(r->source);
		else
			assert_string_equal(r->source, t[i].source);
		conf_free(conf);
	}
}

/* flush-window and flush-quiet: defaults, 0, and quiet up to the window. */
static void
test_flush_values(void **state)
{
	static const struct {
		const char	*daemon;
		uint64_t	 window, quiet;
	} t[] = {
		{ "", 300000, 30000 },
		{ "flush-window = 0\n", 0, 30000 },
		/* The window off: quiet is not used, so not checked. */
		{ "flush-window = 0\nflush-quiet = 1h\n", 0, 3600000 },
		{ "flush-quiet = 1h\nflush-window = off\n", 0, 0 },
		{ "flush-window = 2m\nflush-quiet = 5s\n", 120000, 5000 },
		{ "flush-window = 10m\nflush-quiet = 10m\n", 600000, 600000 },
		{ "flush-quiet = 5m\n", 300000, 300000 },
		{ "flush-quiet = 1s\n", 300000, 1000 },
		{ "flush-window = 1h30m\n", 5400000, 30000 },
		{ "flush-window = 30s\n", 30000, 30000 },
		{ "flush-window = 250ms\nflush-quiet = 250ms\n", 250, 250 },
		{ "flush-window = 8760h\nflush-quiet = 8760h\n",
		    8760ULL * 3600000, 8760ULL * 3600000 },
	};
	struct conf	*conf;
	char		 text[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(t); i++) {
		snprintf(text, sizeof text, "[daemon]\n%s" RELAY, t[i].daemon);
		if (strstr(text, "= off") != NULL) {
			/* Not a duration: the default stays, with an error. */
			parse_fail(text, strlen(text), "t.conf:2: flush-quiet: "
			    "1h is greater than flush-window (5m)\n"
			    "t.conf:3: flush-window: invalid duration \"off\" "
			    "(use a number with s, m, h or ms)\n");
			continue;
		}
		conf = parse_ok(text);
		assert_int_equal(conf->flush_window_ms, t[i].window);
		assert_int_equal(conf->flush_quiet_ms, t[i].quiet);
		conf_free(conf);
	}
}

/* metrics-file: any absolute file name; its directory need not exist. */
static void
test_metrics_file(void **state)
{
	static const char *const ok[] = {
		"/var/lib/prometheus/node-exporter/etrnd.prom",
		"/nonexistent/directory/etrnd.prom",
		"/etrnd.prom",
		"//run//etrnd/metrics",
		"/var/lib/prometheus/node-exporter/.etrnd.prom",
		"/a/...",
	};
	struct conf	*conf;
	char		 text[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(ok); i++) {
		snprintf(text, sizeof text, "[daemon]\nmetrics-file = %s\n"
		    RELAY, ok[i]);
		conf = parse_ok(text);
		assert_string_equal(conf->metrics_file, ok[i]);
		conf_free(conf);
	}

	/* PATH_MAX - 1 bytes, then one more. */
	{
		char	*long_text, *expected;
		size_t	 head = strlen("[daemon]\nmetrics-file = ");

		long_text = xcalloc(1, 8192);
		expected = xcalloc(1, 256);
		snprintf(long_text, 8192, "[daemon]\nmetrics-file = /");
		memset(long_text + head + 1, 'a', PATH_MAX - 2);
		snprintf(long_text + head + PATH_MAX - 1, 8192 - head -
		    PATH_MAX + 1, "\n" RELAY);
		conf = parse_ok(long_text);
		assert_int_equal(strlen(conf->metrics_file), PATH_MAX - 1);
		conf_free(conf);
		memset(long_text + head + 1, 'a', PATH_MAX - 1);
		snprintf(long_text + head + PATH_MAX, 8192 - head - PATH_MAX,
		    "\n" RELAY);
		snprintf(expected, 256, "t.conf:2: metrics-file: \"/%.47s...\" "
		    "is longer than %d bytes\n", long_text + head + 1,
		    PATH_MAX - 1);
		parse_fail(long_text, strlen(long_text), expected);
		free(expected);
		free(long_text);
	}
}

/* A relay's delivers-from, each value with its length made explicit. */
static const char *
nets_fmt(const struct conf_relay *r, char *buf, size_t len)
{
	char	a[INET6_ADDRSTRLEN];
	size_t	i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < r->ndelivers_from && off < len; i++) {
		assert_non_null(inet_ntop(r->delivers_from[i].addr.family,
		    r->delivers_from[i].addr.addr, a, sizeof a));
		off += (size_t)snprintf(buf + off, len - off, "%s%s/%u",
		    i > 0 ? " " : "", a, r->delivers_from[i].plen);
	}
	return buf;
}

/* delivers-from: addresses and prefixes of both families, in order. */
static void
test_delivers_from_values(void **state)
{
	static const struct {
		const char	*value;
		const char	*nets;
	} t[] = {
		{ "192.0.2.25", "192.0.2.25/32" },
		{ "192.0.2.25/32", "192.0.2.25/32" },
		{ "198.51.100.0/24", "198.51.100.0/24" },
		{ "198.51.100.0/024", "198.51.100.0/24" },
		{ "128.0.0.0/1", "128.0.0.0/1" },
		{ "2001:DB8::25", "2001:db8::25/128" },
		{ "2001:db8::/32", "2001:db8::/32" },
		{ "::1", "::1/128" },
		/* Overlapping is not listing twice. */
		{ "192.0.2.1 192.0.2.0/24", "192.0.2.1/32 192.0.2.0/24" },
		{ "\t203.0.113.0/24   2001:db8:1::/48\t192.0.2.1 ",
		    "203.0.113.0/24 2001:db8:1::/48 192.0.2.1/32" },
		{ "192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5 "
		    "192.0.2.6 192.0.2.7 2001:db8::8",
		  "192.0.2.1/32 192.0.2.2/32 192.0.2.3/32 192.0.2.4/32 "
		    "192.0.2.5/32 192.0.2.6/32 192.0.2.7/32 2001:db8::8/128" },
	};
	struct conf	*conf;
	char		 text[512], nets[512];
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(t); i++) {
		snprintf(text, sizeof text, RELAY "delivers-from = %s\n",
		    t[i].value);
		conf = parse_ok(text);
		assert_string_equal(nets_fmt(&conf->relays[0], nets,
		    sizeof nets), t[i].nets);
		conf_free(conf);
	}
}

/*
 * conf_relay_dup() copies delivers-from (the copy outlives its conf, as a
 * session's does a reload) and conf_relay_free() frees it (valgrind and
 * ASan say so).
 */
static void
test_relay_dup(void **state)
{
	struct conf_relay	*d;
	struct conf		*conf;
	char			 nets[256];

	(void)state;
	conf = parse_ok("[relay r]\ndomains = a.example b.example\n"
	    "source = 192.0.2.1\n"
	    "delivers-from = 198.51.100.0/24 2001:db8::25\n"
	    "[relay s]\ndomains = c.example\n");
	d = conf_relay_dup(&conf->relays[0]);
	assert_ptr_not_equal(d->delivers_from, conf->relays[0].delivers_from);
	assert_true(conf_relay_equal(d, &conf->relays[0]));
	conf_free(conf);
	assert_string_equal(d->name, "r");
	assert_string_equal(d->source, "192.0.2.1");
	assert_int_equal(d->ndomains, 2);
	assert_string_equal(d->domains[1], "b.example");
	assert_string_equal(nets_fmt(d, nets, sizeof nets),
	    "198.51.100.0/24 2001:db8::25/128");
	conf_relay_free(d);

	/* None: none copied. */
	conf = parse_ok("[relay s]\ndomains = c.example\n");
	d = conf_relay_dup(&conf->relays[0]);
	conf_free(conf);
	assert_null(d->delivers_from);
	assert_int_equal(d->ndelivers_from, 0);
	conf_relay_free(d);
	conf_relay_free(NULL);
}

/* Domains: separators, the three forms, and '#' not being a comment. */
static void
test_domains_values(void **state)
{
	const struct conf_relay	*r;
	struct conf		*conf;

	(void)state;
	conf = parse_ok("[relay r]\ndomains =  #queue\t@example.org  "
	    "example.net\t\n");
	r = &conf->relays[0];
	assert_int_equal(r->ndomains, 3);
	assert_string_equal(r->domains[0], "#queue");
	assert_string_equal(r->domains[1], "@example.org");
	assert_string_equal(r->domains[2], "example.net");
	conf_free(conf);
}

#define LONG108	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct {
	const char	*text;
	const char	*errors;
} error_tests[] = {
	/* Structure. */
	{ "[daemon]\nfoo = 1\n" RELAY,
	  "t.conf:2: unknown key \"foo\" in [daemon]\n" },
	{ RELAY "foo = 1\n",
	  "t.conf:3: unknown key \"foo\" in [relay r]\n" },
	{ "[daemon]\nSettle = 1\n" RELAY,
	  "t.conf:2: unknown key \"Settle\" in [daemon]\n" },
	{ "[daemon]\nhost = x\n" RELAY,
	  "t.conf:2: unknown key \"host\" in [daemon]\n" },
	{ RELAY "settle = 1\n",
	  "t.conf:3: unknown key \"settle\" in [relay r]\n" },
	{ "[foo]\nx = 1\n" RELAY,
	  "t.conf:1: unknown section \"foo\" (use [daemon] or [relay NAME])\n" },
	{ "[relayr]\n" RELAY,
	  "t.conf:1: unknown section \"relayr\" (use [daemon] or "
	  "[relay NAME])\n" },
	{ "[daemon\n" RELAY,
	  "t.conf:1: malformed section header (use [daemon] or "
	  "[relay NAME])\n" },
	{ "[daemon] x\n" RELAY,
	  "t.conf:1: malformed section header (use [daemon] or "
	  "[relay NAME])\n" },
	{ "[daemon]\nsettle = 1\nsettle = 2\n" RELAY,
	  "t.conf:3: duplicate key \"settle\" in [daemon] (first at line 2)\n" },
	{ RELAY "host = a\nhost = b\n",
	  "t.conf:4: duplicate key \"host\" in [relay r] (first at line 3)\n" },
	{ "[daemon]\nsettle = 1\n[daemon]\nsettle = 2\n" RELAY,
	  "t.conf:3: duplicate [daemon] section (first at line 1)\n"
	  "t.conf:4: duplicate key \"settle\" in [daemon] (first at line 2)\n" },
	{ "settle = 1\n" RELAY,
	  "t.conf:1: key \"settle\" outside any section\n" },
	{ "[daemon]\nsettle\n" RELAY,
	  "t.conf:2: malformed line (use key = value, [section] or a # "
	  "comment)\n" },
	{ "[daemon]\n= 5\n" RELAY,
	  "t.conf:2: missing key before \"=\"\n" },
	{ "[daemon]\nsettle =\n" RELAY,
	  "t.conf:2: settle: empty value\n" },
	{ "[daemon]\nsettle = \t \n" RELAY,
	  "t.conf:2: settle: empty value\n" },
	{ RELAY "[relay r]\ndomains = b.example\n",
	  "t.conf:3: duplicate relay \"r\" (first defined at line 1)\n" },
	{ "[relay isp]\nhost = 192.0.2.2\n",
	  "t.conf:1: relay \"isp\" has no domains (set domains here, or in [daemon] for every relay)\n" },
	{ "[relay x]\n" RELAY,
	  "t.conf:1: relay \"x\" has no domains (set domains here, or in [daemon] for every relay)\n" },
	{ "[relay ]\ndomains = a\n" RELAY,
	  "t.conf:1: relay without a name (use [relay NAME])\n" },
	{ "[relay]\n" RELAY,
	  "t.conf:1: relay without a name (use [relay NAME])\n" },
	{ "[relay a b]\n" RELAY,
	  "t.conf:1: invalid relay name \"a b\" (no spaces or control "
	  "characters)\n" },
	{ "[relay a\x01z]\n" RELAY,
	  "t.conf:1: invalid relay name \"a\\x01z\" (no spaces or control "
	  "characters)\n" },
	{ "[relay a/b]\ndomains = x\n",
	  "t.conf:1: relay \"a/b\" has no host and its name is not a valid "
	  "host name\n" },
	{ "a = b\r\r\n" RELAY,
	  "t.conf:1: key \"a\" outside any section\n" },

	/* [daemon] values. */
	{ "[daemon]\nwatch = abcdefghijklmnop\n" RELAY,
	  "t.conf:2: watch: interface name \"abcdefghijklmnop\" is longer "
	  "than 15 bytes\n" },
	{ "[daemon]\nwatch = eth0 a/b\n" RELAY,
	  "t.conf:2: watch: invalid interface name \"a/b\" (no \"/\", "
	  "\":\", space or control character)\n" },
	{ "[daemon]\nwatch = ..\n" RELAY,
	  "t.conf:2: watch: invalid interface name \"..\" (no \"/\", "
	  "\":\", space or control character)\n" },
	{ "[daemon]\nwatch = eth\x7f\n" RELAY,
	  "t.conf:2: watch: invalid interface name \"eth\\x7f\" (no \"/\", "
	  "\":\", space or control character)\n" },
	{ "[daemon]\nwatch = eth0:1\n" RELAY,
	  "t.conf:2: watch: invalid interface name \"eth0:1\" (no \"/\", "
	  "\":\", space or control character)\n" },
	{ "[daemon]\nwatch = !a/b\n" RELAY,
	  "t.conf:2: watch: invalid interface name \"!a/b\" (no \"/\", "
	  "\":\", space or control character)\n" },
	{ "[daemon]\nwatch = eth0 ppp* eth0\n" RELAY,
	  "t.conf:2: watch: \"eth0\" is listed twice\n" },
	{ "[daemon]\nlink-up = up\n" RELAY,
	  "t.conf:2: link-up: invalid value \"up\" (use running or "
	  "address)\n" },
	{ "[daemon]\nlink-up = Running\n" RELAY,
	  "t.conf:2: link-up: invalid value \"Running\" (use running or "
	  "address)\n" },
	{ "[daemon]\nsettle = 5x\n" RELAY,
	  "t.conf:2: settle: invalid duration \"5x\" (use a number with s, m, "
	  "h or ms)\n" },
	{ "[daemon]\nsettle = -5\n" RELAY,
	  "t.conf:2: settle: invalid duration \"-5\" (use a number with s, m, "
	  "h or ms)\n" },
	{ "[daemon]\ninterval = 99999999999999999999999h\n" RELAY,
	  "t.conf:2: interval: duration \"99999999999999999999999h\" is too "
	  "long (at most 8760h)\n" },
	{ "[daemon]\ninterval = 8761h\n" RELAY,
	  "t.conf:2: interval: duration \"8761h\" is too long (at most "
	  "8760h)\n" },
	{ "[daemon]\nretry-min = 5m\nretry-max = 1m\n" RELAY,
	  "t.conf:3: retry-max: 1m is less than retry-min (5m)\n" },
	{ "[daemon]\nretry-max = 1m\nretry-min = 5m\n" RELAY,
	  "t.conf:2: retry-max: 1m is less than retry-min (5m)\n" },
	{ "[daemon]\nretry-max = 10s\n" RELAY,
	  "t.conf:2: retry-max: 10s is less than retry-min (default 30s)\n" },
	{ "[daemon]\nretry-min = 1h\n" RELAY,
	  "t.conf:2: retry-min: 1h is greater than retry-max (default 30m)\n" },
	{ "[daemon]\nrun-at-start = maybe\n" RELAY,
	  "t.conf:2: run-at-start: invalid value \"maybe\" (use yes or no)\n" },
	{ "[daemon]\nhelo = a b\n" RELAY,
	  "t.conf:2: helo: invalid name \"a b\" (no spaces or control "
	  "characters)\n" },
	{ "[daemon]\nhelo = a\x1b\n" RELAY,
	  "t.conf:2: helo: invalid name \"a\\x1b\" (no spaces or control "
	  "characters)\n" },
	{ "[daemon]\nhelo = [192.0.2]\n" RELAY,
	  "t.conf:2: helo: invalid address literal \"[192.0.2]\" (use "
	  "[192.0.2.1] or [IPv6:2001:db8::1])\n" },
	{ "[daemon]\nhelo = [2001:db8::1]\n" RELAY,
	  "t.conf:2: helo: invalid address literal \"[2001:db8::1]\" (use "
	  "[192.0.2.1] or [IPv6:2001:db8::1])\n" },
	{ "[daemon]\nhelo = [\n" RELAY,
	  "t.conf:2: helo: invalid address literal \"[\" (use "
	  "[192.0.2.1] or [IPv6:2001:db8::1])\n" },
	{ "[daemon]\nmax-sessions = 0\n" RELAY,
	  "t.conf:2: max-sessions: invalid value \"0\" (use a number from 1 "
	  "to 4096)\n" },
	{ "[daemon]\nmax-sessions = 4097\n" RELAY,
	  "t.conf:2: max-sessions: invalid value \"4097\" (use a number from "
	  "1 to 4096)\n" },
	{ "[daemon]\nmax-sessions = -1\n" RELAY,
	  "t.conf:2: max-sessions: invalid value \"-1\" (use a number from 1 "
	  "to 4096)\n" },
	{ "[daemon]\nmax-sessions = 99999999999999999999999\n" RELAY,
	  "t.conf:2: max-sessions: invalid value \"99999999999999999999999\" "
	  "(use a number from 1 to 4096)\n" },
	{ "[daemon]\ncontrol-socket = run/etrnd.sock\n" RELAY,
	  "t.conf:2: control-socket: \"run/etrnd.sock\" is not an absolute "
	  "path\n" },
	{ "[daemon]\ncontrol-socket = /run/" LONG108 "\n" RELAY,
	  "t.conf:2: control-socket: \"/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..."
	  "\" is longer than 107 bytes\n" },
	{ "[daemon]\nlocal-smtp = localhost\n" RELAY,
	  "t.conf:2: local-smtp: invalid value \"localhost\" (use "
	  "ADDRESS:PORT or [IPv6]:PORT)\n" },
	{ "[daemon]\nlocal-smtp = 127.0.0.1:0\n" RELAY,
	  "t.conf:2: local-smtp: invalid port \"0\" (use a number from 1 to "
	  "65535)\n" },
	{ "[daemon]\nlocal-smtp = 127.0.0.1:65536\n" RELAY,
	  "t.conf:2: local-smtp: invalid port \"65536\" (use a number from 1 "
	  "to 65535)\n" },
	{ "[daemon]\nlocal-smtp = 127.0.0.1:\n" RELAY,
	  "t.conf:2: local-smtp: invalid port \"\" (use a number from 1 to "
	  "65535)\n" },
	{ "[daemon]\nlocal-smtp = ::1:25\n" RELAY,
	  "t.conf:2: local-smtp: put an IPv6 address in brackets: "
	  "\"[::1]:PORT\"\n" },
	{ "[daemon]\nlocal-smtp = [::1]25\n" RELAY,
	  "t.conf:2: local-smtp: invalid value \"[::1]25\" (use "
	  "ADDRESS:PORT or [IPv6]:PORT)\n" },
	{ "[daemon]\nlocal-smtp = [127.0.0.1]:25\n" RELAY,
	  "t.conf:2: local-smtp: address \"127.0.0.1\" is not a valid IPv6 "
	  "address\n" },
	{ "[daemon]\nlocal-smtp = 256.0.0.1:25\n" RELAY,
	  "t.conf:2: local-smtp: address \"256.0.0.1\" is not a valid IPv4 "
	  "address\n" },
	{ "[daemon]\nlocal-smtp = bad!host:25\n" RELAY,
	  "t.conf:2: local-smtp: address \"bad!host\" is not a valid host "
	  "name\n" },
	{ "[daemon]\nlocal-smtp = :25\n" RELAY,
	  "t.conf:2: local-smtp: address \"\" is empty\n" },

	/* [relay] values. */
	{ RELAY "host = a..example\n",
	  "t.conf:3: host: \"a..example\" is not a valid host name\n" },
	{ RELAY "host = .example\n",
	  "t.conf:3: host: \".example\" is not a valid host name\n" },
	{ RELAY "host = mx\"2\n",
	  "t.conf:3: host: \"mx\\x222\" is not a valid host name\n" },
	{ RELAY "host = 192.0.2.256\n",
	  "t.conf:3: host: \"192.0.2.256\" is not a valid IPv4 address\n" },
	{ RELAY "host = 2001:db8::g\n",
	  "t.conf:3: host: \"2001:db8::g\" is not a valid IPv6 address\n" },
	{ RELAY "host = [mx.example]\n",
	  "t.conf:3: host: \"[mx.example]\" is not a valid IPv6 address\n" },
	{ RELAY "host = a.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	  "bbbb.c\n",
	  "t.conf:3: host: \"a.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb...\" "
	  "has a label longer than 63 bytes\n" },
	{ RELAY "port = 0\n",
	  "t.conf:3: port: invalid port \"0\" (use a number from 1 to "
	  "65535)\n" },
	{ RELAY "port = 65536\n",
	  "t.conf:3: port: invalid port \"65536\" (use a number from 1 to "
	  "65535)\n" },
	{ RELAY "port = smtp\n",
	  "t.conf:3: port: invalid port \"smtp\" (use a number from 1 to "
	  "65535)\n" },
	{ RELAY "port = 25 26\n",
	  "t.conf:3: port: invalid port \"25 26\" (use a number from 1 to "
	  "65535)\n" },
	{ RELAY "command = TURN\n",
	  "t.conf:3: command: invalid value \"TURN\" (use ETRN or QSND)\n" },
	{ RELAY "tls = starttls\n",
	  "t.conf:3: tls: invalid value \"starttls\" (use no, opportunistic, "
	  "required or implicit)\n" },
	{ RELAY "tls = no\nauth-user = site\nauth-password-credential = p\n",
	  "t.conf:4: relay \"r\": AUTH needs TLS: set tls to opportunistic, "
	  "required or implicit, or auth-cleartext = yes\n"
	  "t.conf:5: auth-password-credential: no systemd credentials here "
	  "($CREDENTIALS_DIRECTORY is not set): run etrnd from its unit with "
	  "LoadCredential=p:FILE, or use auth-password-file\n" },
	{ RELAY "source = mx.example\n",
	  "t.conf:3: source: invalid address \"mx.example\" (use an IPv4 or "
	  "IPv6 address of this host)\n" },
	{ RELAY "source = 192.0.2.1:25\n",
	  "t.conf:3: source: invalid address \"192.0.2.1:25\" (use an IPv4 or "
	  "IPv6 address of this host)\n" },
	{ "[relay r]\ndomains = exa\x01mple\n",
	  "t.conf:2: domains: \"exa\\x01mple\" contains a control character\n" },
	{ "[relay r]\ndomains = a.example exa\rmple\n",
	  "t.conf:2: domains: \"exa\\x0dmple\" contains a control character\n" },
	{ "[relay r]\ndomains = @\n",
	  "t.conf:2: domains: \"@\" needs a domain after \"@\"\n" },
	{ "[relay r]\ndomains = #\n",
	  "t.conf:2: domains: comments must be on a line of their own "
	  "(\"#\")\n" },
	{ "[relay r]\ndomains = a.example b.example A.EXAMPLE\n",
	  "t.conf:2: domains: \"A.EXAMPLE\" is listed twice\n" },
	{ "[relay r]\ndomains =\n",
	  "t.conf:2: domains: empty value\n" },

	/* The flush observation's keys. */
	{ "[daemon]\nflush-window = 5x\n" RELAY,
	  "t.conf:2: flush-window: invalid duration \"5x\" (use a number "
	  "with s, m, h or ms)\n" },
	{ "[daemon]\nflush-window = -1\n" RELAY,
	  "t.conf:2: flush-window: invalid duration \"-1\" (use a number "
	  "with s, m, h or ms)\n" },
	{ "[daemon]\nflush-window = 8761h\n" RELAY,
	  "t.conf:2: flush-window: duration \"8761h\" is too long (at most "
	  "8760h)\n" },
	{ "[daemon]\nflush-quiet = 0\n" RELAY,
	  "t.conf:2: flush-quiet: must be greater than 0\n" },
	{ "[daemon]\nflush-quiet = 1 m\n" RELAY,
	  "t.conf:2: flush-quiet: invalid duration \"1 m\" (use a number "
	  "with s, m, h or ms)\n" },
	{ "[daemon]\nflush-quiet = 6m\n" RELAY,
	  "t.conf:2: flush-quiet: 6m is greater than flush-window (default "
	  "5m)\n" },
	{ "[daemon]\nflush-window = 1m\nflush-quiet = 1m1s\n" RELAY,
	  "t.conf:3: flush-quiet: 1m1s is greater than flush-window (1m)\n" },
	{ "[daemon]\nflush-quiet = 2m\nflush-window = 1m\n" RELAY,
	  "t.conf:2: flush-quiet: 2m is greater than flush-window (1m)\n" },
	{ "[daemon]\nflush-window = 10s\n" RELAY,
	  "t.conf:2: flush-window: 10s is less than flush-quiet (default 30s; "
	  "0 turns the observation off)\n" },
	{ "[daemon]\nflush-window = 0\nflush-quiet = 0\n" RELAY,
	  "t.conf:3: flush-quiet: must be greater than 0\n" },
	{ RELAY "flush-window = 1m\n",
	  "t.conf:3: unknown key \"flush-window\" in [relay r]\n" },
	{ "[daemon]\nmetrics-file = etrnd.prom\n" RELAY,
	  "t.conf:2: metrics-file: \"etrnd.prom\" is not an absolute path\n" },
	{ "[daemon]\nmetrics-file = ./etrnd.prom\n" RELAY,
	  "t.conf:2: metrics-file: \"./etrnd.prom\" is not an absolute "
	  "path\n" },
	{ "[daemon]\nmetrics-file = ~/etrnd.prom\n" RELAY,
	  "t.conf:2: metrics-file: \"~/etrnd.prom\" is not an absolute "
	  "path\n" },
	{ "[daemon]\nmetrics-file =\n" RELAY,
	  "t.conf:2: metrics-file: empty value\n" },
	{ "[daemon]\nmetrics-file = /var/lib/prometheus/node-exporter/\n"
	  RELAY,
	  "t.conf:2: metrics-file: \"/var/lib/prometheus/node-exporter/\" "
	  "names a directory: add a file name (such as etrnd.prom)\n" },
	{ "[daemon]\nmetrics-file = /\n" RELAY,
	  "t.conf:2: metrics-file: \"/\" names a directory: add a file name "
	  "(such as etrnd.prom)\n" },
	{ "[daemon]\nmetrics-file = /var/lib/.\n" RELAY,
	  "t.conf:2: metrics-file: \"/var/lib/.\" names a directory: add a "
	  "file name (such as etrnd.prom)\n" },
	{ "[daemon]\nmetrics-file = /var/lib/..\n" RELAY,
	  "t.conf:2: metrics-file: \"/var/lib/..\" names a directory: add a "
	  "file name (such as etrnd.prom)\n" },
	{ "[daemon]\nmetrics-file = /var/lib/my metrics.prom\n" RELAY,
	  "t.conf:2: metrics-file: \"/var/lib/my metrics.prom\" has a space "
	  "or control character\n" },
	{ "[daemon]\nmetrics-file = /var/lib/m\x01.prom\n" RELAY,
	  "t.conf:2: metrics-file: \"/var/lib/m\\x01.prom\" has a space or "
	  "control character\n" },
	{ "[daemon]\nmetrics-file = /var/lib/etrnd.prom # ours\n" RELAY,
	  "t.conf:2: metrics-file: comments must be on a line of their own "
	  "(\"# ours\")\n" },
	{ RELAY "metrics-file = /var/lib/etrnd.prom\n",
	  "t.conf:3: unknown key \"metrics-file\" in [relay r]\n" },
	{ RELAY "delivers-from = mx.example\n",
	  "t.conf:3: delivers-from: invalid address \"mx.example\" (use an "
	  "IPv4 or IPv6 address or prefix, such as 192.0.2.25 or "
	  "2001:db8::/48)\n" },
	{ RELAY "delivers-from = [2001:db8::1]\n",
	  "t.conf:3: delivers-from: invalid address \"[2001:db8::1]\" (use an "
	  "IPv4 or IPv6 address or prefix, such as 192.0.2.25 or "
	  "2001:db8::/48)\n" },
	{ RELAY "delivers-from = fe80::1%eth0\n",
	  "t.conf:3: delivers-from: invalid address \"fe80::1%eth0\" (use an "
	  "IPv4 or IPv6 address or prefix, such as 192.0.2.25 or "
	  "2001:db8::/48)\n" },
	{ RELAY "delivers-from = /24\n",
	  "t.conf:3: delivers-from: invalid address \"/24\" (use an IPv4 or "
	  "IPv6 address or prefix, such as 192.0.2.25 or 2001:db8::/48)\n" },
	{ RELAY "delivers-from = 192.0.2.1,192.0.2.2\n",
	  "t.conf:3: delivers-from: invalid address \"192.0.2.1,192.0.2.2\" "
	  "(separate addresses with spaces)\n" },
	{ RELAY "delivers-from = 192.0.2.0/33\n",
	  "t.conf:3: delivers-from: invalid prefix length in \"192.0.2.0/33\" "
	  "(use 1 to 32 for IPv4)\n" },
	{ RELAY "delivers-from = 192.0.2.0/\n",
	  "t.conf:3: delivers-from: invalid prefix length in \"192.0.2.0/\" "
	  "(use 1 to 32 for IPv4)\n" },
	{ RELAY "delivers-from = 192.0.2.0/x\n",
	  "t.conf:3: delivers-from: invalid prefix length in \"192.0.2.0/x\" "
	  "(use 1 to 32 for IPv4)\n" },
	{ RELAY "delivers-from = 192.0.2.0/-1\n",
	  "t.conf:3: delivers-from: invalid prefix length in \"192.0.2.0/-1\" "
	  "(use 1 to 32 for IPv4)\n" },
	{ RELAY "delivers-from = 2001:db8::/129\n",
	  "t.conf:3: delivers-from: invalid prefix length in "
	  "\"2001:db8::/129\" (use 1 to 128 for IPv6)\n" },
	{ RELAY "delivers-from = 0.0.0.0/0\n",
	  "t.conf:3: delivers-from: \"0.0.0.0/0\" matches every address "
	  "(every inbound connection would count as the relay's)\n" },
	{ RELAY "delivers-from = ::/0\n",
	  "t.conf:3: delivers-from: \"::/0\" matches every address (every "
	  "inbound connection would count as the relay's)\n" },
	{ RELAY "delivers-from = 203.0.113.5/24\n",
	  "t.conf:3: delivers-from: \"203.0.113.5/24\" has host bits set: "
	  "write 203.0.113.0/24 for the network, or 203.0.113.5 for one "
	  "address\n" },
	{ RELAY "delivers-from = 203.0.113.129/25\n",
	  "t.conf:3: delivers-from: \"203.0.113.129/25\" has host bits set: "
	  "write 203.0.113.128/25 for the network, or 203.0.113.129 for one "
	  "address\n" },
	{ RELAY "delivers-from = 2001:db8::1/64\n",
	  "t.conf:3: delivers-from: \"2001:db8::1/64\" has host bits set: "
	  "write 2001:db8::/64 for the network, or 2001:db8::1 for one "
	  "address\n" },
	{ RELAY "delivers-from = ::ffff:192.0.2.1\n",
	  "t.conf:3: delivers-from: \"::ffff:192.0.2.1\" is an IPv4-mapped "
	  "address: write 192.0.2.1\n" },
	{ RELAY "delivers-from = ::ffff:192.0.2.0/120\n",
	  "t.conf:3: delivers-from: \"::ffff:192.0.2.0/120\" is an "
	  "IPv4-mapped address: write 192.0.2.0/24\n" },
	{ RELAY "delivers-from = 192.0.2.1 192.0.2.1/32\n",
	  "t.conf:3: delivers-from: \"192.0.2.1/32\" is listed twice\n" },
	{ RELAY "delivers-from = 2001:db8::/32 2001:DB8:0::/32\n",
	  "t.conf:3: delivers-from: \"2001:DB8:0::/32\" is listed twice\n" },
	/* A bad value is not the first of a pair. */
	{ RELAY "delivers-from = 192.0.2.1/33 192.0.2.1\n",
	  "t.conf:3: delivers-from: invalid prefix length in \"192.0.2.1/33\" "
	  "(use 1 to 32 for IPv4)\n" },
	{ RELAY "delivers-from = 192.0.2.1/33 mx.example 192.0.2.3/24\n",
	  "t.conf:3: delivers-from: invalid prefix length in \"192.0.2.1/33\" "
	  "(use 1 to 32 for IPv4)\n"
	  "t.conf:3: delivers-from: invalid address \"mx.example\" (use an "
	  "IPv4 or IPv6 address or prefix, such as 192.0.2.25 or "
	  "2001:db8::/48)\n"
	  "t.conf:3: delivers-from: \"192.0.2.3/24\" has host bits set: "
	  "write 192.0.2.0/24 for the network, or 192.0.2.3 for one "
	  "address\n" },
	{ RELAY "delivers-from = 192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 "
	  "192.0.2.5 192.0.2.6 192.0.2.7 192.0.2.8 192.0.2.9\n",
	  "t.conf:3: delivers-from: 9 addresses or prefixes, more than 8\n" },
	{ RELAY "delivers-from =\n",
	  "t.conf:3: delivers-from: empty value\n" },
	{ RELAY "delivers-from = 192.0.2.1 #provider\n",
	  "t.conf:3: delivers-from: comments must be on a line of their own "
	  "(\"#provider\")\n" },
	{ RELAY "delivers-from = 192.0.2.1\ndelivers-from = 192.0.2.2\n",
	  "t.conf:4: duplicate key \"delivers-from\" in [relay r] (first at "
	  "line 3)\n" },
	{ "[daemon]\ndelivers-from = 192.0.2.1\n" RELAY,
	  "t.conf:2: unknown key \"delivers-from\" in [daemon]\n" },
};

static void
test_errors(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < nitems(error_tests); i++)
		parse_fail(error_tests[i].text, strlen(error_tests[i].text),
		    error_tests[i].errors);
}

/* The parse goes on after an error and reports all of them in line order. */
static void
test_many_errors(void **state)
{
	static const char	text[] =
	    "[daemon]\n"				/* 1 */
	    "settle = 5x\n"				/* 2 */
	    "bogus = 1\n"				/* 3 */
	    "retry-max = 10s\n"			/* 4 */
	    "retry-min = 1m\n"				/* 5 */
	    "[daemon]\n"				/* 6 */
	    "settle = 1\n"				/* 7 */
	    "\n"					/* 8 */
	    "[relay isp]\n"				/* 9 */
	    "host = 192.0.2.2\n"			/* 10 */
	    "this is not a key\n"			/* 11 */
	    "[relay isp]\n"				/* 12 */
	    "domains = ok.example bad\x7f.example\n"	/* 13 */
	    "port = 0\n"				/* 14 */
	    "[mystery]\n"				/* 15 */
	    "ignored = because the section is unknown\n";	/* 16 */

	(void)state;
	parse_fail(text, sizeof text - 1,
	    "t.conf:2: settle: invalid duration \"5x\" (use a number with s, m, "
	    "h or ms)\n"
	    "t.conf:3: unknown key \"bogus\" in [daemon]\n"
	    "t.conf:4: retry-max: 10s is less than retry-min (1m)\n"
	    "t.conf:6: duplicate [daemon] section (first at line 1)\n"
	    "t.conf:7: duplicate key \"settle\" in [daemon] (first at line 2)\n"
	    "t.conf:9: relay \"isp\" has no domains (set domains here, or in [daemon] for every relay)\n"
	    "t.conf:11: malformed line (use key = value, [section] or a # "
	    "comment)\n"
	    "t.conf:12: duplicate relay \"isp\" (first defined at line 9)\n"
	    "t.conf:13: domains: \"bad\\x7f.example\" contains a control "
	    "character\n"
	    "t.conf:14: port: invalid port \"0\" (use a number from 1 to "
	    "65535)\n"
	    "t.conf:15: unknown section \"mystery\" (use [daemon] or "
	    "[relay NAME])\n");
}

static void
test_durations(void **state)
{
	static const struct {
		const char	*in;
		int		 ret;
		uint64_t	 ms;
		int		 err;
	} t[] = {
		{ "0", 0, 0, 0 },
		{ "90", 0, 90000, 0 },
		{ "250ms", 0, 250, 0 },
		{ "0ms", 0, 0, 0 },
		{ "30s", 0, 30000, 0 },
		{ "5m", 0, 300000, 0 },
		{ "6h", 0, 21600000, 0 },
		{ "1h30m", 0, 5400000, 0 },
		{ "1m30s500ms", 0, 90500, 0 },
		{ "007s", 0, 7000, 0 },
		{ "8760h", 0, CONF_DURATION_MAX, 0 },
		{ "525600m", 0, CONF_DURATION_MAX, 0 },
		{ "", -1, 0, EINVAL },
		{ "s", -1, 0, EINVAL },
		{ "ms", -1, 0, EINVAL },
		{ "5x", -1, 0, EINVAL },
		{ "-5", -1, 0, EINVAL },
		{ "+5", -1, 0, EINVAL },
		{ " 5", -1, 0, EINVAL },
		{ "5 ", -1, 0, EINVAL },
		{ "5 s", -1, 0, EINVAL },
		{ "1.5h", -1, 0, EINVAL },
		{ "1h30", -1, 0, EINVAL },
		{ "5S", -1, 0, EINVAL },
		{ "5sec", -1, 0, EINVAL },
		{ "5mss", -1, 0, EINVAL },
		{ "h5", -1, 0, EINVAL },
		{ "0x10", -1, 0, EINVAL },
		{ "8761h", -1, 0, ERANGE },
		{ "8760h1ms", -1, 0, ERANGE },
		{ "18446744073709551615", -1, 0, ERANGE },
		{ "18446744073709551616ms", -1, 0, ERANGE },
		{ "99999999999999999999999999h", -1, 0, ERANGE },
		{ "99999999999999999999999999x", -1, 0, EINVAL },
	};
	uint64_t	ms;
	size_t		i;

	(void)state;
	for (i = 0; i < nitems(t); i++) {
		ms = 12345;
		errno = 0;
		if (conf_parse_duration(t[i].in, &ms) != t[i].ret)
			fail_msg("\"%s\": wrong result", t[i].in);
		if (t[i].ret == 0) {
			if (ms != t[i].ms)
				fail_msg("\"%s\": %llu ms", t[i].in,
				    (unsigned long long)ms);
		} else {
			if (errno != t[i].err)
				fail_msg("\"%s\": errno %d", t[i].in, errno);
			assert_int_equal(ms, 12345);
		}
	}
}

static void
test_domain_check(void **state)
{
	static const struct {
		const char	*in;
		const char	*msg;
	} t[] = {
		{ "example.org", NULL },
		{ "@example.org", NULL },
		{ "#queue", NULL },
		{ "#example.org", NULL },
		{ "x", NULL },
		{ "EXAMPLE.ORG", NULL },
		{ "xn--bcher-kva.example", NULL },
		{ "[192.0.2.1]", NULL },
		{ "[IPv6:2001:db8::1]", NULL },
		{ "@[192.0.2.1]", NULL },
		{ "a-b.example", NULL },
		{ "0.example", NULL },
		{ "#queue.with$odd:chars", NULL },
		{ "b\xc3\xbc" "cher.example", "is not ASCII: write an "
		    "internationalised name as its A-label (xn--...)" },
		{ "exa$mple..org", "contains \"$\": a domain name has only "
		    "letters, digits, \"-\" and \".\"" },
		{ "example..org", "has an empty label (\"..\")" },
		{ "@example..org", "has an empty label (\"..\")" },
		{ ".example.org", "starts with a dot" },
		{ "example.org.", "ends with a dot" },
		{ "-example.org", "has a label that starts or ends with \"-\"" },
		{ "example-.org", "has a label that starts or ends with \"-\"" },
		{ "ex_ample.org", "contains \"_\": a domain name has only "
		    "letters, digits, \"-\" and \".\"" },
		{ "@@example.org", "contains \"@\": a domain name has only "
		    "letters, digits, \"-\" and \".\"" },
		{ "192.0.2.1", "is an IP address: write it as an address "
		    "literal, [192.0.2.1] or [IPv6:2001:db8::1]" },
		{ "[192.0.2.300]", "is not a valid address literal (write "
		    "[192.0.2.1] or [IPv6:2001:db8::1])" },
		{ "[2001:db8::1]", "is not a valid address literal (write "
		    "[192.0.2.1] or [IPv6:2001:db8::1])" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    ".example", "has a label longer than 63 bytes" },
		{ "", "is empty" },
		{ "@", "needs a domain after \"@\"" },
		{ "#", "needs a queue name after \"#\"" },
		{ "exa mple", "contains a space" },
		{ " example.org", "contains a space" },
		{ "exa\tmple", "contains a control character" },
		{ "example.org\r", "contains a control character" },
		{ "example.org\r\nQUIT", "contains a control character" },
		{ "exa\x01mple", "contains a control character" },
		{ "exa\x1fmple", "contains a control character" },
		{ "exa\x7fmple", "contains a control character" },
	};
	char	long_arg[CONF_DOMAIN_MAX + 2];
	size_t	i;

	(void)state;
	for (i = 0; i < nitems(t); i++) {
		if (t[i].msg == NULL)
			assert_null(conf_domain_check(t[i].in));
		else
			assert_string_equal(conf_domain_check(t[i].in),
			    t[i].msg);
	}

	fill_domain(long_arg, sizeof long_arg);
	long_arg[CONF_DOMAIN_MAX] = '\0';
	assert_null(conf_domain_check(long_arg));
	long_arg[0] = '@';
	assert_null(conf_domain_check(long_arg));
	long_arg[CONF_DOMAIN_MAX] = 'a';
	long_arg[CONF_DOMAIN_MAX + 1] = '\0';
	assert_string_equal(conf_domain_check(long_arg),
	    "is longer than 255 bytes");
}

/* 255 bytes is fine, 256 is not, and the message echoes a cut value. */
static void
test_long_domain(void **state)
{
	struct conf	*conf;
	char		 text[1024], expected[512];
	char		 dom[CONF_DOMAIN_MAX + 2];

	(void)state;
	fill_domain(dom, sizeof dom);
	dom[CONF_DOMAIN_MAX] = '\0';
	snprintf(text, sizeof text, "[relay r]\ndomains = %s\n", dom);
	conf = parse_ok(text);
	assert_int_equal(strlen(conf->relays[0].domains[0]), CONF_DOMAIN_MAX);
	conf_free(conf);

	dom[CONF_DOMAIN_MAX] = 'a';
	dom[CONF_DOMAIN_MAX + 1] = '\0';
	snprintf(text, sizeof text, "[relay r]\ndomains = x.example %s\n",
	    dom);
	snprintf(expected, sizeof expected, "t.conf:2: domains: \"%.48s...\" "
	    "is longer than 255 bytes\n", dom);
	parse_fail(text, strlen(text), expected);

	snprintf(text, sizeof text, "[daemon]\nhelo = %s\n" RELAY, dom);
	snprintf(expected, sizeof expected, "t.conf:2: helo: \"%.48s...\" "
	    "is longer than 255 bytes\n", dom);
	parse_fail(text, strlen(text), expected);

	snprintf(text, sizeof text, "[relay %s]\n" RELAY, dom);
	snprintf(expected, sizeof expected, "t.conf:1: relay name \"%.48s...\" "
	    "is longer than 255 bytes\n", dom);
	parse_fail(text, strlen(text), expected);
}

/* Lines far beyond libinih's 200 bytes are one line. */
static void
test_long_line(void **state)
{
	struct conf	*conf;
	char		*text, *p;
	size_t		 i, n = 2000;

	(void)state;
	text = xcalloc(1, 64 + n * 20);
	p = text + sprintf(text, "[relay r]\ndomains =");
	for (i = 0; i < n; i++)
		p += sprintf(p, " d%zu.example", i);
	strcpy(p, "\nport = 26\n");
	conf = parse_ok(text);
	assert_int_equal(conf->relays[0].ndomains, n);
	assert_string_equal(conf->relays[0].domains[n - 1], "d1999.example");
	assert_int_equal(conf->relays[0].port, 26);
	conf_free(conf);
	free(text);
}

static void
test_too_big(void **state)
{
	char	*text;
	size_t	 len = 1024 * 1024;

	(void)state;
	/* Exactly 1 MiB is accepted: comments and a relay. */
	text = xcalloc(1, len + 2);
	memset(text, '\n', len);
	text[0] = '#';
	memcpy(text + len - strlen(RELAY), RELAY, strlen(RELAY));
	assert_int_equal(strlen(text), len);
	conf_free(parse_ok(text));
	/* One byte more is not, and nothing else is reported. */
	text[len] = '\n';
	parse_fail(text, len + 1, "t.conf: larger than 1 MiB\n");
	free(text);
}

static void
test_crlf_bom(void **state)
{
	struct conf	*conf;

	(void)state;
	conf = parse_ok("\xef\xbb\xbf[daemon]\r\nsettle = 3s\r\n\r\n"
	    "# comment\r\n[relay r]\r\ndomains = a.example b.example\r\n");
	assert_int_equal(conf->settle_ms, 3000);
	assert_int_equal(conf->relays[0].ndomains, 2);
	assert_string_equal(conf->relays[0].domains[1], "b.example");
	assert_int_equal(conf->relays[0].line, 5);
	conf_free(conf);

	/* No final newline. */
	conf = parse_ok("[relay r]\ndomains = a.example");
	assert_string_equal(conf->relays[0].domains[0], "a.example");
	conf_free(conf);
	conf = parse_ok("[relay r]\r\ndomains = a.example\r");
	assert_string_equal(conf->relays[0].domains[0], "a.example");
	conf_free(conf);

	/* A BOM only counts at the very start; line numbers stay right. */
	parse_fail("\xef\xbb\xbf[relay r]\r\nfoo = 1\r\ndomains = a\r\n",
	    strlen("\xef\xbb\xbf[relay r]\r\nfoo = 1\r\ndomains = a\r\n"),
	    "t.conf:2: unknown key \"foo\" in [relay r]\n");
	parse_fail(RELAY "\xef\xbb\xbf[daemon]\n",
	    strlen(RELAY "\xef\xbb\xbf[daemon]\n"),
	    "t.conf:3: malformed line (use key = value, [section] or a # "
	    "comment)\n");
}

static void
test_nul(void **state)
{
	static const char	text[] = "[relay r]\ndomains = a\0b\nport = 0\n";

	(void)state;
	parse_fail(text, sizeof text - 1,
	    "t.conf:1: relay \"r\" has no domains (set domains here, or in "
	    "[daemon] for every relay)\n"
	    "t.conf:2: contains a NUL byte\n"
	    "t.conf:3: port: invalid port \"0\" (use a number from 1 to "
	    "65535)\n");
	parse_fail("\0", 1, "t.conf:1: contains a NUL byte\n");
}

/*
 * Comments after a value would become ETRN arguments or interface globs:
 * every form is an error that says so, and "#queue" stays a queue.
 */
static void
test_trailing_comments(void **state)
{
	static const struct {
		const char	*text;
		const char	*errors;
	} t[] = {
		{ "[relay r]\ndomains = example.org example.net   ; our two "
		  "domains\n",
		  "t.conf:2: domains: comments must be on a line of their own "
		  "(\"; our two domains\")\n" },
		{ "[relay r]\ndomains = example.org # ours\n",
		  "t.conf:2: domains: comments must be on a line of their own "
		  "(\"# ours\")\n" },
		{ "[relay r]\ndomains = example.org ;ours\n",
		  "t.conf:2: domains: comments must be on a line of their own "
		  "(\";ours\")\n" },
		{ "[daemon]\nwatch = site0 ppp*        # names or globs\n" RELAY,
		  "t.conf:2: watch: comments must be on a line of their own "
		  "(\"# names or globs\")\n" },
		{ "[daemon]\nwatch = #none\n" RELAY,
		  "t.conf:2: watch: comments must be on a line of their own "
		  "(\"#none\")\n" },
		{ "[daemon]\nsettle = 0                # wait\n" RELAY,
		  "t.conf:2: settle: comments must be on a line of their own "
		  "(\"# wait\")\n" },
		{ "[daemon]\nhelo = mail.example.org ; us\n" RELAY,
		  "t.conf:2: helo: comments must be on a line of their own "
		  "(\"; us\")\n" },
		{ "[relay isp]               # one section per secondary MX\n"
		  "domains = a.example\n",
		  "t.conf:1: comments must be on a line of their own "
		  "(\"# one section per secondary MX\")\n" },
	};
	struct conf	*conf;
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(t); i++)
		parse_fail(t[i].text, strlen(t[i].text), t[i].errors);

	/* A queue anywhere in the list, and # inside a word, are values. */
	conf = parse_ok("[relay r]\ndomains = example.org #uucp #b;c\n");
	assert_int_equal(conf->relays[0].ndomains, 3);
	assert_string_equal(conf->relays[0].domains[1], "#uucp");
	assert_string_equal(conf->relays[0].domains[2], "#b;c");
	conf_free(conf);
	conf = parse_ok("# a comment\n; another\n  # indented\n" RELAY);
	conf_free(conf);
}

/* [daemon] domains: the default for relays that list none, in any order. */
static void
test_daemon_domains(void **state)
{
	struct conf	*conf;

	(void)state;
	conf = parse_ok(
	    "[relay mx2]\n"
	    "host = 192.0.2.2\n"
	    "[daemon]\n"
	    "domains = example.org @example.net\n"
	    "[relay mx3]\n"
	    "host = 192.0.2.3\n"
	    "[relay other]\n"
	    "domains = #uucp\n");
	assert_int_equal(conf->nrelays, 3);
	assert_int_equal(conf->relays[0].ndomains, 2);
	assert_string_equal(conf->relays[0].domains[1], "@example.net");
	assert_true(conf->relays[0].domains_from_daemon);
	assert_int_equal(conf->relays[1].ndomains, 2);
	assert_string_equal(conf->relays[1].domains[0], "example.org");
	assert_int_equal(conf->relays[2].ndomains, 1);
	assert_false(conf->relays[2].domains_from_daemon);
	/* Same domains whether written or inherited: the same relay. */
	assert_true(conf_relay_equal(&conf->relays[0], &conf->relays[0]));
	conf_free(conf);

	parse_fail("[daemon]\ndomains = a..example\n[relay r]\n",
	    strlen("[daemon]\ndomains = a..example\n[relay r]\n"),
	    "t.conf:2: domains: \"a..example\" has an empty label "
	    "(\"..\")\n");
	parse_fail("[relay r]\ndomains = b$d\n", strlen("[relay r]\n"
	    "domains = b$d\n"), "t.conf:2: domains: \"b$d\" contains \"$\": "
	    "a domain name has only letters, digits, \"-\" and \".\"\n");
}

/* No relay is a valid, idle configuration (a fresh package install). */
static void
test_no_relays(void **state)
{
	struct conf	*conf;
	char		*text = NULL;
	size_t		 len = 0;
	FILE		*f;

	(void)state;
	conf = parse_ok("# nothing yet\n[daemon]\nwatch = ppp*\n");
	assert_int_equal(conf->nrelays, 0);
	assert_non_null(f = open_memstream(&text, &len));
	conf_print_summary(conf, f);
	fclose(f);
	/* etrnd -t warns on stderr; the summary lists no relay. */
	assert_null(strstr(text, "\nrelay "));
	free(text);
	conf_free(conf);
	conf = parse_ok("");
	assert_int_equal(conf->nrelays, 0);
	conf_free(conf);
}

/* Write a file in dir with mode; returns its path (static buffer). */
static const char *
write_secret(const char *dir, const char *name, const char *body, int mode)
{
	static char	 path[512];
	FILE		*f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	(void)unlink(path);	/* a 0440 one is not writable unless root */
	assert_non_null(f = fopen(path, "w"));
	fputs(body, f);
	fclose(f);
	assert_int_equal(chmod(path, (mode_t)mode), 0);
	return path;
}

/*
 * auth-password-credential: read from $CREDENTIALS_DIRECTORY, where
 * systemd's LoadCredential= puts it; without one, an error for the daemon
 * and a note for etrnd -t.
 */
static void
test_credential(void **state)
{
	static const char	 base[] = "[relay r]\ndomains = a.example\n"
	    "auth-user = site\n";
	char			 dir[] = "/tmp/test_conf_cred.XXXXXX";
	char			 text[512], *errors = NULL, *sum = NULL;
	struct conf		*conf;
	size_t			 len = 0;
	FILE			*f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* systemd may grant access by ACL: group bits are no reason to refuse. */
	write_secret(dir, "isp-password", "s3cret\nignored\n", 0440);
	snprintf(text, sizeof text, "%sauth-password-credential = "
	    "isp-password\n", base);

	assert_int_equal(setenv("CREDENTIALS_DIRECTORY", dir, 1), 0);
	conf = parse_ok(text);
	assert_string_equal(conf->relays[0].auth_password, "s3cret");
	assert_string_equal(conf->relays[0].auth_password_credential,
	    "isp-password");
	conf_free(conf);

	snprintf(text, sizeof text, "%sauth-password-credential = other\n",
	    base);
	conf = conf_parse("t.conf", text, strlen(text), &errors);
	assert_null(conf);
	assert_non_null(strstr(errors, "t.conf:4: auth-password-credential: "));
	assert_non_null(strstr(errors, "/other: No such file or directory"));
	free(errors);

	write_secret(dir, "isp-password", "s3cret\n", 0600);
	snprintf(text, sizeof text, "%sauth-password-file = %s/isp-password\n"
	    "auth-password-credential = isp-password\n", base, dir);
	parse_fail(text, strlen(text), "t.conf:5: relay \"r\": "
	    "auth-password-file and auth-password-credential: choose one\n");

	assert_int_equal(unsetenv("CREDENTIALS_DIRECTORY"), 0);
	snprintf(text, sizeof text, "%sauth-password-credential = "
	    "isp-password\n", base);
	parse_fail(text, strlen(text), "t.conf:4: auth-password-credential: "
	    "no systemd credentials here ($CREDENTIALS_DIRECTORY is not set): "
	    "run etrnd from its unit with LoadCredential=isp-password:FILE, or "
	    "use auth-password-file\n");
	/* etrnd -t: accepted, and the summary says it was not read. */
	conf = conf_parse_flags("t.conf", text, strlen(text), CONF_CHECK_ONLY,
	    &errors);
	assert_non_null(conf);
	assert_null(conf->relays[0].auth_password);
	assert_non_null(f = open_memstream(&sum, &len));
	conf_print_summary(conf, f);
	fclose(f);
	assert_non_null(strstr(sum, "  auth             site (password from "
	    "systemd credential isp-password, not readable here: no "
	    "$CREDENTIALS_DIRECTORY outside the service)\n"));
	free(sum);
	conf_free(conf);

	snprintf(text, sizeof text, "%sauth-password-credential = a/b\n",
	    base);
	parse_fail(text, strlen(text), "t.conf:4: auth-password-credential: "
	    "\"a/b\" is not a credential name (a file name: no \"/\", spaces "
	    "or control characters)\n");
	snprintf(text, sizeof text, "[relay r]\ndomains = a.example\n"
	    "auth-password-credential = isp-password\n");
	parse_fail(text, strlen(text), "t.conf:1: relay \"r\": auth-user goes "
	    "with auth-password-file or auth-password-credential\n"
	    "t.conf:3: auth-password-credential: no systemd credentials here "
	    "($CREDENTIALS_DIRECTORY is not set): run etrnd from its unit with "
	    "LoadCredential=isp-password:FILE, or use auth-password-file\n");

	snprintf(text, sizeof text, "%s/isp-password", dir);
	unlink(text);
	rmdir(dir);
}

/*
 * tls = implicit (RFC 8314, port 465 style): a value of the tls key like the
 * others, in any case; AUTH is allowed with it; the port stays 25 unless
 * set; the -t summary shows it.
 */
static void
test_tls_implicit(void **state)
{
	static const struct {
		const char	*value;
		enum conf_tls	 tls;
	} rows[] = {
		{ "no", CONF_TLS_NO },
		{ "opportunistic", CONF_TLS_OPPORTUNISTIC },
		{ "required", CONF_TLS_REQUIRED },
		{ "implicit", CONF_TLS_IMPLICIT },
		{ "Implicit", CONF_TLS_IMPLICIT },
	};
	enum conf_tls		 tls;
	char			 dir[] = "/tmp/test_conf_tls.XXXXXX";
	char			 text[512], *sum = NULL;
	struct conf		*conf;
	size_t			 i, len = 0;
	FILE			*f;

	(void)state;
	for (i = 0; i < nitems(rows); i++) {
		snprintf(text, sizeof text, RELAY "tls = %s\n", rows[i].value);
		conf = parse_ok(text);
		assert_int_equal(conf->relays[0].tls, rows[i].tls);
		assert_int_equal(conf->relays[0].port, 25);
		conf_free(conf);
		/* The same names for etrn(1)'s --tls. */
		tls = CONF_TLS_NO;
		assert_int_equal(conf_tls_parse(rows[i].value, &tls), 0);
		assert_int_equal(tls, rows[i].tls);
	}
	assert_int_equal(conf_tls_parse("starttls", &tls), -1);
	assert_int_equal(conf_tls_parse("", &tls), -1);

	assert_non_null(mkdtemp(dir));
	write_secret(dir, "pw", "s3cret\n", 0600);
	snprintf(text, sizeof text, RELAY "tls = implicit\nport = 465\n"
	    "auth-user = site\nauth-password-file = %s/pw\n", dir);
	conf = parse_ok(text);
	assert_int_equal(conf->relays[0].tls, CONF_TLS_IMPLICIT);
	assert_int_equal(conf->relays[0].port, 465);
	assert_string_equal(conf->relays[0].auth_password, "s3cret");
	assert_non_null(f = open_memstream(&sum, &len));
	conf_print_summary(conf, f);
	fclose(f);
	assert_non_null(strstr(sum, "  host             r:465\n"));
	assert_non_null(strstr(sum, "  tls              implicit\n"));
	free(sum);
	conf_free(conf);
	snprintf(text, sizeof text, "%s/pw", dir);
	unlink(text);
	rmdir(dir);
}

/* Write len bytes (NULs included) to dir/name with mode; path returned. */
static const char *
write_bytes(const char *dir, const char *name, const char *body, size_t len,
    int mode)
{
	static char	 path[512];
	int		 fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	(void)unlink(path);
	assert_int_not_equal(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC,
	    0600), -1);
	assert_int_equal(write(fd, body, len), (ssize_t)len);
	close(fd);
	assert_int_equal(chmod(path, (mode_t)mode), 0);
	return path;
}

/* Parse "base" + "key = dir/name" and expect exactly one error on line 4. */
static void
secret_fail(const char *base, const char *key, const char *dir,
    const char *name, const char *why)
{
	char	text[1024], expected[1024];

	snprintf(text, sizeof text, "%s%s = %s/%s\n", base, key, dir, name);
	snprintf(expected, sizeof expected, "t.conf:4: %s: %s/%s%s\n", key,
	    dir, name, why);
	parse_fail(text, strlen(text), expected);
}

/*
 * The password file: never through a symbolic link, a NUL in the first
 * line is an error (not a shorter password), and user and password must
 * fit one AUTH PLAIN command: each a file:line error at parse time.  The
 * same for a systemd credential.
 */
static void
test_password_file(void **state)
{
	static const char	 base[] = "[relay r]\ndomains = a.example\n"
	    "auth-user = site\n";
	char			 dir[] = "/tmp/test_conf_pw.XXXXXX";
	char			 text[2048], expected[1024], target[512];
	char			 user[CONF_PASSWORD_MAX + 1];
	char			 pass[CONF_PASSWORD_MAX + 2];
	struct conf		*conf;
	size_t			 ulen = CONF_AUTH_PLAIN_MAX / 2, plen;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(target, sizeof target, "%s", write_secret(dir, "pw",
	    "s3cret\n", 0600));
	snprintf(text, sizeof text, "%sauth-password-file = %s\n", base,
	    target);
	conf = parse_ok(text);
	assert_string_equal(conf->relays[0].auth_password, "s3cret");
	conf_free(conf);

	/* A symbolic link, even to a good file, and a dangling one. */
	snprintf(text, sizeof text, "%s/link", dir);
	assert_int_equal(symlink(target, text), 0);
	secret_fail(base, "auth-password-file", dir, "link",
	    " is a symbolic link");
	snprintf(text, sizeof text, "%s/dangling", dir);
	assert_int_equal(symlink("/nonexistent/pw", text), 0);
	secret_fail(base, "auth-password-file", dir, "dangling",
	    " is a symbolic link");

	/* A NUL in the first line; after it, the rest of the file is free. */
	write_bytes(dir, "nul", "s3c\0ret\n", 8, 0600);
	secret_fail(base, "auth-password-file", dir, "nul",
	    ": the first line (the password) contains a NUL byte");
	write_bytes(dir, "nul", "\0s3cret\n", 8, 0600);
	secret_fail(base, "auth-password-file", dir, "nul",
	    ": the first line (the password) contains a NUL byte");
	write_bytes(dir, "nul2", "s3cret\n\0\n", 9, 0600);
	snprintf(text, sizeof text, "%sauth-password-file = %s/nul2\n", base,
	    dir);
	conf = parse_ok(text);
	assert_string_equal(conf->relays[0].auth_password, "s3cret");
	conf_free(conf);
	/* Unchanged: empty, too long, CRLF. */
	write_bytes(dir, "empty", "\nx\n", 3, 0600);
	secret_fail(base, "auth-password-file", dir, "empty",
	    ": the first line (the password) is empty");
	memset(pass, 'p', CONF_PASSWORD_MAX + 1);
	write_bytes(dir, "long", pass, CONF_PASSWORD_MAX + 1, 0600);
	secret_fail(base, "auth-password-file", dir, "long",
	    ": the password is longer than 256 bytes");
	write_bytes(dir, "crlf", "s3cret\r\n", 8, 0600);
	snprintf(text, sizeof text, "%sauth-password-file = %s/crlf\n", base,
	    dir);
	conf = parse_ok(text);
	assert_string_equal(conf->relays[0].auth_password, "s3cret");
	conf_free(conf);

	/* User and password: CONF_AUTH_PLAIN_MAX bytes fit, one more not. */
	memset(user, 'u', ulen);
	user[ulen] = '\0';
	plen = CONF_AUTH_PLAIN_MAX - ulen;
	memset(pass, 'p', plen);
	pass[plen] = '\n';
	write_bytes(dir, "fits", pass, plen + 1, 0600);
	snprintf(text, sizeof text, "[relay r]\ndomains = a.example\n"
	    "auth-user = %s\nauth-password-file = %s/fits\n", user, dir);
	conf = parse_ok(text);
	assert_int_equal(strlen(conf->relays[0].auth_password), plen);
	conf_free(conf);
	pass[plen] = 'p';
	pass[plen + 1] = '\n';
	write_bytes(dir, "toolong", pass, plen + 2, 0600);
	snprintf(text, sizeof text, "[relay r]\ndomains = a.example\n"
	    "auth-user = %s\nauth-password-file = %s/toolong\n", user, dir);
	snprintf(expected, sizeof expected, "t.conf:4: relay \"r\": "
	    "auth-user and the password have %d bytes together, more than "
	    "the %d that fit one AUTH PLAIN command\n",
	    CONF_AUTH_PLAIN_MAX + 1, CONF_AUTH_PLAIN_MAX);
	parse_fail(text, strlen(text), expected);

	/* A credential: the same checks. */
	assert_int_equal(setenv("CREDENTIALS_DIRECTORY", dir, 1), 0);
	snprintf(text, sizeof text, "%sauth-password-credential = nul\n",
	    base);
	snprintf(expected, sizeof expected, "t.conf:4: "
	    "auth-password-credential: %s/nul: the first line (the password) "
	    "contains a NUL byte\n", dir);
	parse_fail(text, strlen(text), expected);
	snprintf(text, sizeof text, "%sauth-password-credential = link\n",
	    base);
	snprintf(expected, sizeof expected, "t.conf:4: "
	    "auth-password-credential: %s/link is a symbolic link\n", dir);
	parse_fail(text, strlen(text), expected);
	snprintf(text, sizeof text, "[relay r]\ndomains = a.example\n"
	    "auth-password-credential = toolong\nauth-user = %s\n", user);
	snprintf(expected, sizeof expected, "t.conf:3: relay \"r\": "
	    "auth-user and the password have %d bytes together, more than "
	    "the %d that fit one AUTH PLAIN command\n",
	    CONF_AUTH_PLAIN_MAX + 1, CONF_AUTH_PLAIN_MAX);
	parse_fail(text, strlen(text), expected);
	assert_int_equal(unsetenv("CREDENTIALS_DIRECTORY"), 0);

	{
		static const char *const names[] = { "pw", "link",
		    "dangling", "nul", "nul2", "empty", "long", "crlf",
		    "fits", "toolong" };
		size_t	i;

		for (i = 0; i < nitems(names); i++) {
			snprintf(text, sizeof text, "%s/%s", dir, names[i]);
			unlink(text);
		}
	}
	assert_int_equal(rmdir(dir), 0);
}

/* A real CA certificate (self-signed, P-256) for the tls-ca checks. */
static const char test_ca_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBiDCCAS2gAwIBAgIUD1e6yYuXrHSTynjh8QjzqaG65sgwCgYIKoZIzj0EAwIw\n"
    "GDEWMBQGA1UEAwwNZXRybmQgdGVzdCBDQTAgFw0yNjEyMDExNjQ5NDlaGA8yMTI2\n"
    "MTEwNzE2NDk0OVowGDEWMBQGA1UEAwwNZXRybmQgdGVzdCBDQTBZMBMGByqGSM49\n"
    "AgEGCCqGSM49AwEHA0IABDi5D30Lv3WonglgLWhm6p07X57sv4bYUGOTYnhTvyWC\n"
    "IDn29On5PiQDC9s2PlFYaQVlDyuX5LVu1iaRPCWd6A+jUzBRMB0GA1UdDgQWBBTn\n"
    "nh/zETVNFdgFwsUtJDXhdt7lxDAfBgNVHSMEGDAWgBTnnh/zETVNFdgFwsUtJDXh\n"
    "dt7lxDAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQDx8/PUALDE\n"
    "+VGKWTuQdccMYH7FIEXb7eX1eZz452JcigIhAJEGYzB4hvIJD4uAvUV8RoFt3dBe\n"
    "4EcrVBVg0OeVKJOK\n"
    "-----END CERTIFICATE-----\n";

/*
 * tls-ca: the anchor that protects the password.  A bundle group or others
 * can write is refused; an empty or broken one is a file:line error of the
 * parse (of -t and of a reload), not a failure at the first STARTTLS.
 */
static void
test_tls_ca(void **state)
{
	static const char	 base[] = "[relay r]\ndomains = a.example\n";
	char			 dir[] = "/tmp/test_conf_ca.XXXXXX";
	char			 text[1024], expected[4096];
	struct conf		*conf;
	char			*errors = NULL;
	char			 path[512];
	size_t			 i;
	static const char *const names[] = { "ca.pem", "empty.pem",
	    "junk.pem", "text.pem", "key.pem", "fifo" };

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s", write_secret(dir, "ca.pem",
	    test_ca_pem, 0644));
	snprintf(text, sizeof text, "%stls-ca = %s\n", base, path);
	conf = parse_ok(text);
	assert_string_equal(conf->relays[0].tls_ca, path);
	conf_free(conf);
	/* Two certificates and text around them, as in a system bundle. */
	snprintf(expected, sizeof expected, "# CA one\n%s\n# CA two\n%s",
	    test_ca_pem, test_ca_pem);
	write_secret(dir, "ca.pem", expected, 0444);
	conf = parse_ok(text);
	conf_free(conf);

	/* Writable by others or by the group. */
	assert_int_equal(chmod(path, 0666), 0);
	snprintf(expected, sizeof expected, "t.conf:3: tls-ca: %s is "
	    "writable by group or others (mode 666)\n", path);
	parse_fail(text, strlen(text), expected);
	assert_int_equal(chmod(path, 0664), 0);
	snprintf(expected, sizeof expected, "t.conf:3: tls-ca: %s is "
	    "writable by group or others (mode 664)\n", path);
	parse_fail(text, strlen(text), expected);
	/* etrnctl (CONF_NO_FILES) reads no CA. */
	conf = conf_parse_flags("t.conf", text, strlen(text), CONF_NO_FILES,
	    &errors);
	assert_non_null(conf);
	conf_free(conf);

	/* Empty, or text with no certificate. */
	snprintf(path, sizeof path, "%s", write_secret(dir, "empty.pem", "", 0644));
	snprintf(text, sizeof text, "%stls-ca = %s\n", base, path);
	snprintf(expected, sizeof expected, "t.conf:3: tls-ca: %s holds no "
	    "certificate (it must be a PEM bundle of CA certificates)\n", path);
	parse_fail(text, strlen(text), expected);
	snprintf(path, sizeof path, "%s", write_secret(dir, "text.pem", "not a certificate\n", 0644));
	snprintf(text, sizeof text, "%stls-ca = %s\n", base, path);
	snprintf(expected, sizeof expected, "t.conf:3: tls-ca: %s holds no "
	    "certificate (it must be a PEM bundle of CA certificates)\n", path);
	parse_fail(text, strlen(text), expected);

	/* A PEM block that is not a certificate, and one that is garbage. */
	snprintf(path, sizeof path, "%s", write_secret(dir, "junk.pem", "-----BEGIN CERTIFICATE-----\n"
	    "bm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n", 0644));
	snprintf(text, sizeof text, "%stls-ca = %s\n", base, path);
	conf = conf_parse("t.conf", text, strlen(text), &errors);
	assert_null(conf);
	snprintf(expected, sizeof expected, "t.conf:3: tls-ca: %s is not a "
	    "PEM bundle of certificates (", path);
	if (strncmp(errors, expected, strlen(expected)) != 0)
		fail_msg("expected %s..., got %s", expected, errors);
	free(errors);
	/* Garbage after a good certificate spoils the bundle too. */
	snprintf(expected, sizeof expected, "%s-----BEGIN CERTIFICATE-----\n"
	    "!!!!\n-----END CERTIFICATE-----\n", test_ca_pem);
	snprintf(path, sizeof path, "%s", write_secret(dir, "junk.pem", expected, 0644));
	conf = conf_parse("t.conf", text, strlen(text), &errors);
	assert_null(conf);
	assert_non_null(strstr(errors, "is not a PEM bundle of certificates"));
	free(errors);
	snprintf(path, sizeof path, "%s", write_secret(dir, "key.pem", "-----BEGIN PRIVATE KEY-----\n"
	    "bm90IGEga2V5\n-----END PRIVATE KEY-----\n", 0644));
	snprintf(text, sizeof text, "%stls-ca = %s\n", base, path);
	conf = conf_parse("t.conf", text, strlen(text), &errors);
	assert_null(conf);
	assert_non_null(strstr(errors, "t.conf:3: tls-ca: "));
	free(errors);

	/* A FIFO is refused without blocking. */
	snprintf(text, sizeof text, "%s/fifo", dir);
	assert_int_equal(mkfifo(text, 0644), 0);
	snprintf(expected, sizeof expected, "%stls-ca = %s\n", base, text);
	alarm(10);
	conf = conf_parse("t.conf", expected, strlen(expected), &errors);
	alarm(0);
	assert_null(conf);
	assert_non_null(strstr(errors, "is not a regular file"));
	free(errors);

	for (i = 0; i < nitems(names); i++) {
		snprintf(text, sizeof text, "%s/%s", dir, names[i]);
		unlink(text);
	}
	assert_int_equal(rmdir(dir), 0);
}

/* watch: names, globs and "!" exclusions; checks of the words. */
static void
test_watch_values(void **state)
{
	struct conf	*conf;

	(void)state;
	conf = parse_ok("[daemon]\nwatch = !docker* !wlan0\n" RELAY);
	assert_int_equal(conf->nwatch, 2);
	assert_string_equal(conf->watch[0], "!docker*");
	conf_free(conf);
	conf = parse_ok("[daemon]\nwatch = !abcdefghijklmno\n" RELAY);
	conf_free(conf);
	parse_fail("[daemon]\nwatch = eth0 !\n" RELAY,
	    strlen("[daemon]\nwatch = eth0 !\n" RELAY),
	    "t.conf:2: watch: \"!\" needs an interface name or glob to "
	    "exclude\n");
	parse_fail("[daemon]\nwatch = !abcdefghijklmnop\n" RELAY,
	    strlen("[daemon]\nwatch = !abcdefghijklmnop\n" RELAY),
	    "t.conf:2: watch: interface name \"!abcdefghijklmnop\" is longer "
	    "than 15 bytes\n");
}

static void
test_relay_equal(void **state)
{
	static const char *const variants[] = {
		"host = other.example\ndomains = a.example b.example\n",
		"port = 26\ndomains = a.example b.example\n",
		"source = 192.0.2.9\ndomains = a.example b.example\n",
		"command = QSND\ndomains = a.example b.example\n",
		"domains = a.example\n",
		"domains = a.example b.example c.example\n",
		"domains = a.example c.example\n",
		"domains = a.example @b.example\n",
	};
	struct conf	*a, *b;
	char		 text[512];
	size_t		 i;

	(void)state;
	a = parse_ok("[relay r]\ndomains = a.example b.example\n");
	b = parse_ok("[daemon]\nsettle = 1\n[relay r]\n"
	    "domains = B.example a.example\nhost = r\nport = 25\n"
	    "command = etrn\n");
	assert_true(conf_relay_equal(&a->relays[0], &b->relays[0]));
	assert_true(conf_relay_equal(&b->relays[0], &a->relays[0]));
	assert_true(conf_relay_equal(&a->relays[0], &a->relays[0]));
	conf_free(b);

	/* delivers-from changes what a window counts, not the relay. */
	b = parse_ok("[relay r]\ndomains = a.example b.example\n"
	    "delivers-from = 198.51.100.0/24\n");
	assert_true(conf_relay_equal(&a->relays[0], &b->relays[0]));
	assert_true(conf_relay_equal(&b->relays[0], &a->relays[0]));
	conf_free(b);

	for (i = 0; i < nitems(variants); i++) {
		snprintf(text, sizeof text, "[relay r]\n%s", variants[i]);
		b = parse_ok(text);
		if (conf_relay_equal(&a->relays[0], &b->relays[0]) ||
		    conf_relay_equal(&b->relays[0], &a->relays[0]))
			fail_msg("equal: %s", variants[i]);
		conf_free(b);
	}
	conf_free(a);
}

static void
test_load(void **state)
{
	struct conf	*conf;
	char		*errors = NULL;
	char		 path[] = "/tmp/test_conf.XXXXXX";
	int		 fd;

	(void)state;
	conf = conf_load("/nonexistent/etrnd.conf", &errors);
	assert_null(conf);
	assert_string_equal(errors, "/nonexistent/etrnd.conf: No such file "
	    "or directory\n");
	free(errors);

	conf = conf_load("/", &errors);
	assert_null(conf);
	assert_string_equal(errors, "/: Is a directory\n");
	free(errors);

	/* A FIFO or a device: refused at once, never waited on. */
	{
		char	fdir[] = "/tmp/test_conf_fifo.XXXXXX";
		char	fifo[64], expected[128];

		assert_non_null(mkdtemp(fdir));
		snprintf(fifo, sizeof fifo, "%s/etrnd.conf", fdir);
		assert_int_equal(mkfifo(fifo, 0644), 0);
		alarm(10);
		conf = conf_load(fifo, &errors);
		alarm(0);
		assert_null(conf);
		snprintf(expected, sizeof expected, "%s: not a regular file\n",
		    fifo);
		assert_string_equal(errors, expected);
		free(errors);
		unlink(fifo);
		rmdir(fdir);
		alarm(10);
		conf = conf_load_flags("/dev/null", CONF_NO_FILES, &errors);
		alarm(0);
		assert_null(conf);
		assert_string_equal(errors, "/dev/null: not a regular file\n");
		free(errors);
	}

	conf = conf_load(TEST_SRCDIR "/../conf/etrnd.conf", &errors);
	if (conf == NULL)
		fail_msg("%s", errors);
	assert_null(errors);
	/* Shipped with no relay: an installed package idles until edited. */
	assert_int_equal(conf->nrelays, 0);
	conf_free(conf);

	/* Errors carry the path given. */
	assert_int_not_equal(fd = mkstemp(path), -1);
	assert_int_equal(write(fd, "[relay r]\n", 10), 10);
	close(fd);
	conf = conf_load(path, &errors);
	assert_null(conf);
	assert_non_null(errors);
	{
		char	expected[128];

		snprintf(expected, sizeof expected,
		    "%s:1: relay \"r\" has no domains (set domains here, or "
		    "in [daemon] for every relay)\n", path);
		assert_string_equal(errors, expected);
	}
	free(errors);

	/* A file over 1 MiB. */
	{
		FILE	*f;
		size_t	 i;

		assert_non_null(f = fopen(path, "w"));
		for (i = 0; i < 1024 * 1024 / 8 + 1; i++)
			fputs("#######\n", f);
		fclose(f);
	}
	conf = conf_load(path, &errors);
	assert_null(conf);
	{
		char	expected[128];

		snprintf(expected, sizeof expected,
		    "%s: larger than 1 MiB\n", path);
		assert_string_equal(errors, expected);
	}
	free(errors);
	unlink(path);

	/* errors may be NULL. */
	assert_null(conf_load("/nonexistent/etrnd.conf", NULL));
	assert_null(parse("[relay]\n", NULL));
	conf_free(NULL);
}

static void
test_summary(void **state)
{
	struct conf	*conf;
	char		*out = NULL;
	size_t		 size = 0;
	FILE		*f;

	(void)state;
	conf = parse_ok(
	    "[daemon]\n"
	    "watch = site0 ppp*\n"
	    "link-up = address\n"
	    "settle = 0\n"
	    "interval = 90m\n"
	    "helo = [192.0.2.1]\n"
	    "local-smtp = [::1]:25\n"
	    "control-socket = /run/etrnd/test.sock\n"
	    "flush-window = 10m\n"
	    "flush-quiet = 1m\n"
	    "metrics-file = /var/lib/prometheus/node-exporter/etrnd.prom\n"
	    "[relay isp]\n"
	    "host = 192.0.2.2\n"
	    "domains = example.org @example.net\n"
	    "delivers-from = 198.51.100.0/24 192.0.2.25/32 2001:DB8:0::/48\n"
	    "[relay v6]\n"
	    "host = 2001:db8::2\n"
	    "port = 2525\n"
	    "command = qsnd\n"
	    "source = 2001:db8::1\n"
	    "domains = #queue\n");
	assert_non_null(f = open_memstream(&out, &size));
	conf_print_summary(conf, f);
	fclose(f);
	assert_string_equal(out,
	    "t.conf: OK\n"
	    "  watch            site0 ppp*\n"
	    "  link-up          address\n"
	    "  settle           0ms\n"
	    "  hold-down        0ms\n"
	    "  interval         every 1h30m\n"
	    "  run-at-start     yes\n"
	    "  retry            30s to 30m, give up after 6h\n"
	    "  timeouts         connect 30s, reply 5m\n"
	    "  max-sessions     64\n"
	    "  helo             [192.0.2.1]\n"
	    "  local-smtp       [::1]:25\n"
	    "  control-socket   /run/etrnd/test.sock\n"
	    "  flush-window     10m, or until 1m after the relay's last "
	    "connection\n"
	    "  metrics-file     /var/lib/prometheus/node-exporter/etrnd.prom\n"
	    "relay isp\n"
	    "  host             192.0.2.2:25\n"
	    "  command          ETRN\n"
	    "  source           (any)\n"
	    "  delivers-from    198.51.100.0/24 192.0.2.25 2001:db8::/48\n"
	    "  domains          example.org @example.net\n"
	    "relay v6\n"
	    "  host             [2001:db8::2]:2525\n"
	    "  command          QSND\n"
	    "  source           2001:db8::1\n"
	    "  domains          #queue\n");
	free(out);
	conf_free(conf);

	conf = parse_ok("[relay r]\ndomains = a.example\n");
	out = NULL;
	assert_non_null(f = open_memstream(&out, &size));
	conf_print_summary(conf, f);
	fclose(f);
	assert_string_equal(out,
	    "t.conf: OK\n"
	    "  watch            all but loopback and guests' links (docker* "
	    "br-* veth* virbr* vnet* lxcbr* lxdbr* ve-* vb-* vz-* podman* cni* "
	    "flannel* cali* vboxnet* vmnet*)\n"
	    "  link-up          running\n"
	    "  settle           0ms\n"
	    "  hold-down        2s\n"
	    "  interval         off\n"
	    "  run-at-start     yes\n"
	    "  retry            30s to 30m, give up after 6h\n"
	    "  timeouts         connect 30s, reply 5m\n"
	    "  max-sessions     64\n"
	    "  helo             (this host's FQDN)\n"
	    "  local-smtp       off\n"
	    "  control-socket   /run/etrnd/control\n"
	    "  flush-window     5m, or until 30s after the relay's last "
	    "connection\n"
	    "  metrics-file     none\n"
	    "relay r\n"
	    "  host             r:25\n"
	    "  command          ETRN\n"
	    "  source           (any)\n"
	    "  domains          a.example\n");
	free(out);
	conf_free(conf);

	/* The observation off. */
	conf = parse_ok("[daemon]\nflush-window = 0\n" RELAY);
	out = NULL;
	assert_non_null(f = open_memstream(&out, &size));
	conf_print_summary(conf, f);
	fclose(f);
	assert_non_null(strstr(out, "  control-socket   /run/etrnd/control\n"
	    "  flush-window     off\n"
	    "  metrics-file     none\n"
	    "relay r\n"));
	free(out);
	conf_free(conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_settle_holddown),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_daemon_values),
		cmocka_unit_test(test_duration_keys),
		cmocka_unit_test(test_relay_values),
		cmocka_unit_test(test_domains_values),
		cmocka_unit_test(test_flush_values),
		cmocka_unit_test(test_metrics_file),
		cmocka_unit_test(test_delivers_from_values),
		cmocka_unit_test(test_relay_dup),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_domain_check),
		cmocka_unit_test(test_long_domain),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_crlf_bom),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_trailing_comments),
		cmocka_unit_test(test_daemon_domains),
		cmocka_unit_test(test_no_relays),
		cmocka_unit_test(test_credential),
		cmocka_unit_test(test_password_file),
		cmocka_unit_test(test_tls_ca),
		cmocka_unit_test(test_tls_implicit),
		cmocka_unit_test(test_watch_values),
		cmocka_unit_test(test_relay_equal),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
