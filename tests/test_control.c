/* SPDX-License-Identifier: ISC */
/*
 * Tests for the control request grammar both etrnctl and etrnd use: a table
 * of requests (as words) with the parsed fields or the exact error (peer
 * bytes escaped in it), and the canonical line each parses back to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "control.h"

#define RUN_USAGE	"(run [--no-wait] [--link IFACE] [RELAY...])"
#define IFNAME_BAD	"is not an interface name (1 to 15 bytes; no \"/\", " \
			"\":\", space or control character)"

struct req_case {
	const char	*line;		/* words separated by single spaces */
	const char	*error;		/* NULL: valid */
	enum control_verb verb;
	bool		 json;
	bool		 wait;
	const char	*link;
	const char	*relays;	/* space-separated, "" for none */
	const char	*canonical;	/* control_req_format(), no newline */
};

#define BAD(l, e)	{ .line = (l), .error = (e) }

static const struct req_case cases[] = {
	{ "status", NULL, CONTROL_STATUS, false, true, NULL, "", "status" },
	{ "status --json", NULL, CONTROL_STATUS, true, true, NULL, "",
	    "status --json" },
	{ "reload", NULL, CONTROL_RELOAD, false, true, NULL, "", "reload" },
	{ "run", NULL, CONTROL_RUN, false, true, NULL, "", "run" },
	{ "run isp mx2", NULL, CONTROL_RUN, false, true, NULL, "isp mx2",
	    "run isp mx2" },
	/* The bug: --no-wait after --link IFACE, and the options in turn. */
	{ "run --link ppp0 --no-wait", NULL, CONTROL_RUN, false, false, "ppp0",
	    "", "run --no-wait --link ppp0" },
	{ "run --no-wait --link ppp0", NULL, CONTROL_RUN, false, false, "ppp0",
	    "", "run --no-wait --link ppp0" },
	{ "run --link=wwan0 isp", NULL, CONTROL_RUN, false, true, "wwan0",
	    "isp", "run --link wwan0 isp" },
	{ "run isp --no-wait", NULL, CONTROL_RUN, false, false, NULL, "isp",
	    "run --no-wait isp" },
	BAD("run --link --no-wait", "--link needs an interface name " RUN_USAGE),
	BAD("run --link", "--link needs an interface name " RUN_USAGE),
	BAD("run --link=", "--link needs an interface name " RUN_USAGE),
	BAD("run --link a --link b", "--link given twice (\"a\" and \"b\")"),
	/* Interface names as the kernel takes them (dev_valid_name()). */
	{ "run --link 0123456789abcde", NULL, CONTROL_RUN, false, true,
	    "0123456789abcde", "", "run --link 0123456789abcde" },
	{ "run --link w\xc3\xa9", NULL, CONTROL_RUN, false, true, "w\xc3\xa9",
	    "", "run --link w\xc3\xa9" },
	{ "run --link a\"b", NULL, CONTROL_RUN, false, true, "a\"b", "",
	    "run --link a\"b" },
	BAD("run --link a/b", "--link: \"a/b\" " IFNAME_BAD),
	BAD("run --link 0123456789abcdef", "--link: \"0123456789abcdef\" "
	    IFNAME_BAD),
	BAD("run --link ..", "--link: \"..\" " IFNAME_BAD),
	BAD("run --link .", "--link: \".\" " IFNAME_BAD),
	BAD("run --link eth0:1", "--link: \"eth0:1\" " IFNAME_BAD),
	/* C1 controls, raw or as UTF-8, and what is not UTF-8: escaped. */
	BAD("run --link a\x9b" "2J", "--link: \"a\\x9b2J\" " IFNAME_BAD),
	BAD("run --link a\xc2\x9b" "2J", "--link: \"a\\xc2\\x9b2J\" "
	    IFNAME_BAD),
	BAD("run --link a\xc2\x85", "--link: \"a\\xc2\\x85\" " IFNAME_BAD),
	BAD("run --link \xff\xfe", "--link: \"\\xff\\xfe\" " IFNAME_BAD),
	BAD("run --link \xc0\xaf", "--link: \"\\xc0\\xaf\" " IFNAME_BAD),
	BAD("run --link \xe2\x82", "--link: \"\\xe2\\x82\" " IFNAME_BAD),
	/* 0xa0 is a space to the kernel, even inside UTF-8 ("a" grave). */
	BAD("run --link \xc3\xa0", "--link: \"\\xc3\\xa0\" " IFNAME_BAD),
	/* Controls never get that far, and are escaped in the message. */
	BAD("run --link ppp0\x1b[2J", "argument 3 (\"ppp0\\x1b[2J\") is empty "
	    "or has a space or control character"),
	BAD("run --link ppp0\r", "argument 3 (\"ppp0\\x0d\") is empty or has "
	    "a space or control character"),
	BAD("run --link a\b\x0b\x7f", "argument 3 (\"a\\x08\\x0b\\x7f\") is "
	    "empty or has a space or control character"),
	BAD("run --link a\\ --link b\x9b", "--link given twice (\"a\\x5c\" and "
	    "\"b\\x9b\")"),
	BAD("\x9b" "31mred", "unknown command \"\\x9b31mred\" (status [--json], "
	    "run [--no-wait] [--link IFACE] [RELAY...], reload)"),
	BAD("status \xe2\x80\xae", "status: unexpected \"\\xe2\\x80\\xae\" "
	    "(status [--json])"),
	BAD("reload \"x", "reload takes no arguments (got \"\\x22x\")"),
	BAD("run --\x85", "run: unknown option \"--\\x85\" " RUN_USAGE),
	BAD("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	    "unknown command \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxx...\" (status [--json], run [--no-wait] [--link "
	    "IFACE] [RELAY...], reload)"),
	BAD("run --bogus", "run: unknown option \"--bogus\" " RUN_USAGE),
	BAD("run isp --no-wait mx2", "run: options go before the relay names "
	    RUN_USAGE),
	BAD("status --bogus", "status: unexpected \"--bogus\" (status [--json])"),
	BAD("status isp", "status: unexpected \"isp\" (status [--json])"),
	BAD("reload now", "reload takes no arguments (got \"now\")"),
	BAD("frobnicate", "unknown command \"frobnicate\" (status [--json], run "
	    "[--no-wait] [--link IFACE] [RELAY...], reload)"),
	BAD("", "no command given (status, run, reload)"),
};

/* Split a case's line into words, in place. */
static size_t
split(char *line, char **words, size_t max)
{
	size_t	n = 0;
	char	*w;

	while (n < max && (w = strsep(&line, " ")) != NULL)
		if (*w != '\0')
			words[n++] = w;
	return n;
}

/* A case's line for the test log, without raw control bytes. */
static const char *
shown(const char *s, char *buf, size_t len)
{
	size_t	o = 0;

	for (; *s != '\0' && o + 5 < len; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x",
			    (unsigned char)*s);
		else
			buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

static void
test_table(void **state)
{
	size_t	i, j;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct req_case	*c = &cases[i];
		struct control_req	 req;
		char			 line[256], *words[16], err[256] = "";
		char			 relays[256] = "", out[256], vis[1024];
		size_t			 n;
		int			 r;

		snprintf(line, sizeof(line), "%s", c->line);
		n = split(line, words, 16);
		r = control_req_parse(words, n, &req, err, sizeof(err));
		print_message("%-32s -> %s\n", shown(c->line, vis, sizeof(vis)),
		    r == 0 ? "ok" : err);
		if (c->error != NULL) {
			assert_int_equal(r, -1);
			assert_string_equal(err, c->error);
			continue;
		}
		assert_int_equal(r, 0);
		assert_int_equal(req.verb, c->verb);
		assert_int_equal(req.json, c->json);
		assert_int_equal(req.wait, c->wait);
		if (c->link == NULL)
			assert_null(req.link);
		else
			assert_string_equal(req.link, c->link);
		for (j = 0; j < req.nrelays; j++)
			snprintf(relays + strlen(relays), sizeof(relays) -
			    strlen(relays), "%s%s", j ? " " : "",
			    req.relays[j]);
		assert_string_equal(relays, c->relays);
		/* What etrnctl sends parses to the same request. */
		assert_int_equal(control_req_format(&req, out, sizeof(out)), 0);
		assert_int_equal(out[strlen(out) - 1], '\n');
		out[strlen(out) - 1] = '\0';
		assert_string_equal(out, c->canonical);
	}
}

/* Words the one-line protocol cannot carry never reach the daemon. */
static void
test_unsendable_words(void **state)
{
	char			 a[] = "run", b[] = "is p", c[] = "x\001";
	char			 e[] = "";
	char			*w1[] = { a, b }, *w2[] = { a, c }, *w3[] = { a, e };
	struct control_req	 req;
	char			 err[256];

	(void)state;
	assert_int_equal(control_req_parse(w1, 2, &req, err, sizeof(err)), -1);
	assert_string_equal(err, "argument 2 (\"is p\") is empty or has a "
	    "space or control character");
	assert_int_equal(control_req_parse(w2, 2, &req, err, sizeof(err)), -1);
	assert_int_equal(control_req_parse(w3, 2, &req, err, sizeof(err)), -1);
}

/* A request too long for one line is refused by the formatter. */
static void
test_format_bounds(void **state)
{
	char			 name[40], *words[CONTROL_WORDS_MAX + 1];
	char			 run[] = "run", small[16], *big;
	struct control_req	 req;
	char			 err[256];
	size_t			 i;

	(void)state;
	memset(name, 'r', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	words[0] = run;
	for (i = 1; i <= CONTROL_WORDS_MAX; i++)
		words[i] = name;
	assert_int_equal(control_req_parse(words, CONTROL_WORDS_MAX + 1, &req,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "more than 256 words");
	assert_int_equal(control_req_parse(words, 3, &req, err, sizeof(err)),
	    0);
	assert_int_equal(control_req_format(&req, small, sizeof(small)), -1);
	big = calloc(1, CONTROL_LINE_MAX + 2);
	assert_non_null(big);
	assert_int_equal(control_req_format(&req, big, CONTROL_LINE_MAX + 2),
	    0);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_unsendable_words),
		cmocka_unit_test(test_format_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
