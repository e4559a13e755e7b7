/* SPDX-License-Identifier: ISC */
/*
 * Tests for ctlproto, the control protocol both etrnctl and etrnd use: a
 * table of requests (as words) with the parsed fields or the exact error
 * (peer bytes escaped in it), and the canonical line each parses back to;
 * a table of answer lines and their classes, each produced back the same.
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

#include <event2/buffer.h>

#include "ctlproto.h"

#define RUN_USAGE	"(run [--no-wait | --watch] [--link IFACE] " \
			"[RELAY...])"
#define ALL_USAGE	"(status [--json], run [--no-wait | --watch] " \
			"[--link IFACE] [RELAY...], history [--json] " \
			"[RELAY], metrics, reload)"
#define IFNAME_BAD	"is not an interface name (1 to 15 bytes; no \"/\", " \
			"\":\", space or control character)"

struct req_case {
	const char	*line;		/* words separated by single spaces */
	const char	*error;		/* NULL: valid */
	enum ctlproto_verb verb;
	bool		 json;
	bool		 wait;
	bool		 flush;
	const char	*link;
	const char	*relays;	/* space-separated, "" for none */
	const char	*canonical;	/* ctlproto_req_format(), no newline */
};

#define BAD(l, e)	{ .line = (l), .error = (e) }

static const struct req_case cases[] = {
	{ "status", NULL, CTLPROTO_STATUS, false, true, false, NULL, "",
	    "status" },
	{ "status --json", NULL, CTLPROTO_STATUS, true, true, false, NULL, "",
	    "status --json" },
	{ "reload", NULL, CTLPROTO_RELOAD, false, true, false, NULL, "",
	    "reload" },
	{ "run", NULL, CTLPROTO_RUN, false, true, false, NULL, "", "run" },
	{ "run isp mx2", NULL, CTLPROTO_RUN, false, true, false, NULL, "isp mx2",
	    "run isp mx2" },
	/* The bug: --no-wait after --link IFACE, and the options in turn. */
	{ "run --link ppp0 --no-wait", NULL, CTLPROTO_RUN, false, false, false,
	    "ppp0", "", "run --no-wait --link ppp0" },
	{ "run --no-wait --link ppp0", NULL, CTLPROTO_RUN, false, false, false,
	    "ppp0", "", "run --no-wait --link ppp0" },
	{ "run --link=wwan0 isp", NULL, CTLPROTO_RUN, false, true, false,
	    "wwan0", "isp", "run --link wwan0 isp" },
	{ "run isp --no-wait", NULL, CTLPROTO_RUN, false, false, false, NULL,
	    "isp", "run --no-wait isp" },
	BAD("run --link --no-wait", "--link needs an interface name " RUN_USAGE),
	BAD("run --link", "--link needs an interface name " RUN_USAGE),
	BAD("run --link=", "--link needs an interface name " RUN_USAGE),
	BAD("run --link a --link b", "--link given twice (\"a\" and \"b\")"),
	/* Interface names as the kernel takes them (dev_valid_name()). */
	{ "run --link 0123456789abcde", NULL, CTLPROTO_RUN, false, true, false,
	    "0123456789abcde", "", "run --link 0123456789abcde" },
	{ "run --link w\xc3\xa9", NULL, CTLPROTO_RUN, false, true, false,
	    "w\xc3\xa9", "", "run --link w\xc3\xa9" },
	{ "run --link a\"b", NULL, CTLPROTO_RUN, false, true, false, "a\"b", "",
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
	BAD("\x9b" "31mred", "unknown command \"\\x9b31mred\" " ALL_USAGE),
	BAD("status \xe2\x80\xae", "status: unexpected \"\\xe2\\x80\\xae\" "
	    "(status [--json])"),
	BAD("reload \"x", "reload takes no arguments (got \"\\x22x\")"),
	BAD("run --\x85", "run: unknown option \"--\\x85\" " RUN_USAGE),
	BAD("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	    "unknown command \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxx...\" " ALL_USAGE),
	BAD("run --bogus", "run: unknown option \"--bogus\" " RUN_USAGE),
	BAD("run isp --no-wait mx2", "run: options go before the relay names "
	    RUN_USAGE),
	BAD("status --bogus", "status: unexpected \"--bogus\" (status [--json])"),
	BAD("status isp", "status: unexpected \"isp\" (status [--json])"),
	BAD("reload now", "reload takes no arguments (got \"now\")"),
	BAD("frobnicate", "unknown command \"frobnicate\" " ALL_USAGE),
	BAD("", "no command given (status, run, history, metrics, reload)"),
	/* run --watch: results, then the flush verdicts, then "exit N". */
	{ "run --watch", NULL, CTLPROTO_RUN, false, true, true, NULL, "",
	    "run --watch" },
	{ "run isp --watch --link ppp0", NULL, CTLPROTO_RUN, false, true,
	    true, "ppp0", "isp", "run --watch --link ppp0 isp" },
	{ "run --watch --watch mx2", NULL, CTLPROTO_RUN, false, true, true,
	    NULL, "mx2", "run --watch mx2" },
	BAD("run --watch=yes", "run: unknown option \"--watch=yes\" "
	    RUN_USAGE),
	BAD("run --watch --no-wait", "run: --watch waits for the flush "
	    "verdicts, --no-wait for nothing: not both " RUN_USAGE),
	BAD("run --json", "run: unknown option \"--json\" " RUN_USAGE),
	/* After "--", relay names that look like options; an interface
	 * name that does is glued to --link. */
	{ "run -- -x", NULL, CTLPROTO_RUN, false, true, false, NULL, "-x",
	    "run -- -x" },
	{ "run --no-wait -- isp --link", NULL, CTLPROTO_RUN, false, false, false,
	    NULL, "isp --link", "run --no-wait -- isp --link" },
	{ "run --", NULL, CTLPROTO_RUN, false, true, false, NULL, "", "run" },
	{ "run -- -- isp", NULL, CTLPROTO_RUN, false, true, false, NULL,
	    "-- isp", "run -- -- isp" },
	{ "run --link=-x isp", NULL, CTLPROTO_RUN, false, true, false, "-x",
	    "isp", "run --link=-x isp" },
	BAD("run --link -x", "--link needs an interface name " RUN_USAGE),
	BAD("run isp -- mx2", "run: options go before the relay names "
	    RUN_USAGE),
	/* history [--json] [RELAY]: one relay, on either side of --json. */
	{ "history", NULL, CTLPROTO_HISTORY, false, true, false, NULL, "",
	    "history" },
	{ "history --json", NULL, CTLPROTO_HISTORY, true, true, false, NULL, "",
	    "history --json" },
	{ "history isp", NULL, CTLPROTO_HISTORY, false, true, false, NULL, "isp",
	    "history isp" },
	{ "history --json isp", NULL, CTLPROTO_HISTORY, true, true, false, NULL,
	    "isp", "history --json isp" },
	{ "history isp --json", NULL, CTLPROTO_HISTORY, true, true, false, NULL,
	    "isp", "history --json isp" },
	{ "history -- --json", NULL, CTLPROTO_HISTORY, false, true, false, NULL,
	    "--json", "history -- --json" },
	{ "history --json -- -x", NULL, CTLPROTO_HISTORY, true, true, false,
	    NULL, "-x", "history --json -- -x" },
	BAD("history isp mx2", "history: one relay at most (got \"isp\" and "
	    "\"mx2\")"),
	BAD("history --json a b c", "history: one relay at most (got \"a\" and "
	    "\"b\")"),
	BAD("history --no-wait", "history: unknown option \"--no-wait\" "
	    "(history [--json] [RELAY])"),
	BAD("history -", "history: unknown option \"-\" (history [--json] "
	    "[RELAY])"),
	BAD("history a \x9b" "31m", "history: one relay at most (got \"a\" and "
	    "\"\\x9b31m\")"),
	/* metrics: nothing to say. */
	{ "metrics", NULL, CTLPROTO_METRICS, false, true, false, NULL, "",
	    "metrics" },
	BAD("metrics --json", "metrics takes no arguments (got \"--json\")"),
	BAD("metrics isp", "metrics takes no arguments (got \"isp\")"),
	BAD("metrics \xe2\x80\xae", "metrics takes no arguments (got "
	    "\"\\xe2\\x80\\xae\")"),
};

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
		struct ctlproto_req	 req;
		char			 line[256], *words[16], err[256] = "";
		char			 relays[256] = "", out[256], vis[1024];
		size_t			 n;
		int			 r;

		snprintf(line, sizeof(line), "%s", c->line);
		n = ctlproto_split(line, words, 16);
		r = ctlproto_req_parse(words, n, &req, err, sizeof(err));
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
		assert_int_equal(req.flush, c->flush);
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
		assert_int_equal(ctlproto_req_format(&req, out, sizeof(out)), 0);
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
	struct ctlproto_req	 req;
	char			 err[256];

	(void)state;
	assert_int_equal(ctlproto_req_parse(w1, 2, &req, err, sizeof(err)), -1);
	assert_string_equal(err, "argument 2 (\"is p\") is empty or has a "
	    "space or control character");
	assert_int_equal(ctlproto_req_parse(w2, 2, &req, err, sizeof(err)), -1);
	assert_int_equal(ctlproto_req_parse(w3, 2, &req, err, sizeof(err)), -1);
}

/* A request too long for one line is refused by the formatter. */
static void
test_format_bounds(void **state)
{
	char			 name[40], *words[CTLPROTO_WORDS_MAX + 1];
	char			 run[] = "run", small[16], *big;
	struct ctlproto_req	 req;
	char			 err[256];
	size_t			 i;

	(void)state;
	memset(name, 'r', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	words[0] = run;
	for (i = 1; i <= CTLPROTO_WORDS_MAX; i++)
		words[i] = name;
	assert_int_equal(ctlproto_req_parse(words, CTLPROTO_WORDS_MAX + 1, &req,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "more than 256 words");
	assert_int_equal(ctlproto_req_parse(words, 3, &req, err, sizeof(err)),
	    0);
	assert_int_equal(ctlproto_req_format(&req, small, sizeof(small)), -1);
	big = calloc(1, CTLPROTO_LINE_MAX + 2);
	assert_non_null(big);
	assert_int_equal(ctlproto_req_format(&req, big, CTLPROTO_LINE_MAX + 2),
	    0);
	free(big);
}

/* Answer lines: their class and fields, or -1 for what is no answer. */
struct answer_case {
	const char		*line;
	int			 ret;
	enum ctlproto_kind	 kind;
	const char		*text;		/* NULL: none */
	int			 status;
};

static const struct answer_case answer_cases[] = {
	{ "- isp example.org ok 250 Queuing started", 0, CTLPROTO_DATA,
	    "isp example.org ok 250 Queuing started", 0 },
	{ "- ", 0, CTLPROTO_DATA, "", 0 },
	{ "-  two spaces", 0, CTLPROTO_DATA, " two spaces", 0 },
	{ "ok", 0, CTLPROTO_OK, NULL, 0 },
	{ "ok ppp0 is not watched; nothing to do", 0, CTLPROTO_OK,
	    "ppp0 is not watched; nothing to do", 0 },
	{ "exit 0", 0, CTLPROTO_EXIT, NULL, 0 },
	{ "exit 1", 0, CTLPROTO_EXIT, NULL, 1 },
	{ "exit 75", 0, CTLPROTO_EXIT, NULL, 75 },
	{ "exit 255", 0, CTLPROTO_EXIT, NULL, 255 },
	{ "error no relay \"nosuch\"", 0, CTLPROTO_ERROR,
	    "no relay \"nosuch\"", 0 },
	{ "error etrnd is shutting down", 0, CTLPROTO_ERROR,
	    "etrnd is shutting down", 0 },
	/* Not answers. */
	{ "", -1, 0, NULL, 0 },
	{ "-", -1, 0, NULL, 0 },
	{ "-x", -1, 0, NULL, 0 },
	{ "okay", -1, 0, NULL, 0 },
	{ "OK", -1, 0, NULL, 0 },
	{ "exit", -1, 0, NULL, 0 },
	{ "exit ", -1, 0, NULL, 0 },
	{ "exit 256", -1, 0, NULL, 0 },
	{ "exit 1000", -1, 0, NULL, 0 },
	{ "exit -1", -1, 0, NULL, 0 },
	{ "exit 07", -1, 0, NULL, 0 },
	{ "exit 7x", -1, 0, NULL, 0 },
	{ "exit 1 ", -1, 0, NULL, 0 },
	{ "error", -1, 0, NULL, 0 },
	{ "error ", -1, 0, NULL, 0 },
	{ "errors happen", -1, 0, NULL, 0 },
	{ "status", -1, 0, NULL, 0 },
};

static void
test_answers(void **state)
{
	struct ctlproto_answer	 a;
	struct evbuffer		*b;
	char			*line;
	size_t			 i, len;

	(void)state;
	for (i = 0; i < sizeof(answer_cases) / sizeof(answer_cases[0]); i++) {
		const struct answer_case	*c = &answer_cases[i];

		print_message("%-40s\n", c->line);
		assert_int_equal(ctlproto_answer_parse(c->line, &a), c->ret);
		if (c->ret == -1)
			continue;
		assert_int_equal(a.kind, c->kind);
		if (c->text == NULL)
			assert_null(a.text);
		else
			assert_string_equal(a.text, c->text);
		assert_int_equal(a.status, c->status);
		/* What the daemon produces for it is the very line. */
		assert_non_null(b = evbuffer_new());
		ctlproto_answer_add(b, &a);
		line = evbuffer_readln(b, &len, EVBUFFER_EOL_LF);
		assert_non_null(line);
		assert_string_equal(line, c->line);
		assert_int_equal(evbuffer_get_length(b), 0);
		free(line);
		evbuffer_free(b);
	}
}

/* One usage text: the verbs in the daemon's message and etrnctl's help. */
static void
test_usage(void **state)
{
	(void)state;
	assert_string_equal(ctlproto_usage[0], "status [--json]");
	assert_string_equal(ctlproto_usage[1],
	    "run [--no-wait | --watch] [--link IFACE] [RELAY...]");
	assert_string_equal(ctlproto_usage[2], "history [--json] [RELAY]");
	assert_string_equal(ctlproto_usage[3], "metrics");
	assert_string_equal(ctlproto_usage[4], "reload");
	assert_null(ctlproto_usage[5]);
}

/* Words split on spaces and tabs, runs of them skipped. */
static void
test_split(void **state)
{
	char	 line[] = " run\t--no-wait   isp\t\tmx2 ", *w[8];
	char	 few[] = "a b c d", *w2[2];

	(void)state;
	assert_int_equal(ctlproto_split(line, w, 8), 4);
	assert_string_equal(w[0], "run");
	assert_string_equal(w[1], "--no-wait");
	assert_string_equal(w[2], "isp");
	assert_string_equal(w[3], "mx2");
	/* No more than max words, so a caller sees one too many. */
	assert_int_equal(ctlproto_split(few, w2, 2), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_unsendable_words),
		cmocka_unit_test(test_format_bounds),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
