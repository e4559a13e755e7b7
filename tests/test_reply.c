/* SPDX-License-Identifier: ISC */
/*
 * test_reply: the SMTP reply reader, by tables of lines in and the reply or
 * the error message out; the limits (line length, line count, text size)
 * by generated input; the 253 pending count by a table of texts.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "reply.h"

#define MAXLINES	4

struct reply_case {
	const char		*name;
	const char		*lines[MAXLINES];	/* NULL-terminated */
	enum reply_status	 status;		/* after the last line */
	int			 code;
	size_t			 nlines;
	const char		*text;
	const char		*error;
};

static const struct reply_case reply_cases[] = {
	{ "single line", { "250 OK" },
	    REPLY_DONE, 250, 1, "OK", NULL },
	{ "bare code", { "250" },
	    REPLY_DONE, 250, 1, "", NULL },
	{ "code and space", { "221 " },
	    REPLY_DONE, 221, 1, "", NULL },
	{ "5xx", { "554 5.7.1 <example.org>: Etrn command rejected" },
	    REPLY_DONE, 554, 1, "5.7.1 <example.org>: Etrn command rejected",
	    NULL },
	{ "multi-line", { "250-mx.example", "250-PIPELINING", "250 ETRN" },
	    REPLY_DONE, 250, 3, "mx.example\nPIPELINING\nETRN", NULL },
	{ "empty continuation", { "220-", "220 ready" },
	    REPLY_DONE, 220, 2, "\nready", NULL },
	{ "bare code ends a multi-line reply", { "250-a", "250" },
	    REPLY_DONE, 250, 2, "a\n", NULL },
	{ "tab in text", { "250 a\tb" },
	    REPLY_DONE, 250, 1, "a\tb", NULL },
	{ "UTF-8 text", { "250 Gr\xc3\xbc\xc3\x9f" "e" },
	    REPLY_DONE, 250, 1, "Gr\xc3\xbc\xc3\x9f" "e", NULL },
	{ "continuation pending", { "250-a", "250-b" },
	    REPLY_MORE, 250, 2, "a\nb", NULL },

	{ "code changed", { "250-a", "251 b" },
	    REPLY_ERROR, 0, 0, NULL,
	    "reply code changed within a multi-line reply" },
	{ "code changed on a bare line", { "250-a", "550" },
	    REPLY_ERROR, 0, 0, NULL,
	    "reply code changed within a multi-line reply" },
	{ "underscore separator", { "250_OK" },
	    REPLY_ERROR, 0, 0, NULL,
	    "reply code not followed by a space or '-'" },
	{ "tab separator", { "250\tOK" },
	    REPLY_ERROR, 0, 0, NULL,
	    "reply code not followed by a space or '-'" },
	{ "four digits", { "2500 OK" },
	    REPLY_ERROR, 0, 0, NULL,
	    "reply code not followed by a space or '-'" },
	{ "letter after code", { "250OK" },
	    REPLY_ERROR, 0, 0, NULL,
	    "reply code not followed by a space or '-'" },
	{ "bad separator in continuation", { "250-a", "250+b" },
	    REPLY_ERROR, 0, 0, NULL,
	    "reply code not followed by a space or '-'" },
	{ "empty line", { "" },
	    REPLY_ERROR, 0, 0, NULL, "reply line without a 3-digit code" },
	{ "two digits", { "25" },
	    REPLY_ERROR, 0, 0, NULL, "reply line without a 3-digit code" },
	{ "garbage", { "HTTP/1.1 400 Bad Request" },
	    REPLY_ERROR, 0, 0, NULL, "reply line without a 3-digit code" },
	{ "letter in code", { "2a0 OK" },
	    REPLY_ERROR, 0, 0, NULL, "reply line without a 3-digit code" },
	{ "leading space", { " 250 OK" },
	    REPLY_ERROR, 0, 0, NULL, "reply line without a 3-digit code" },
	{ "garbage in continuation", { "250-a", "+OK" },
	    REPLY_ERROR, 0, 0, NULL, "reply line without a 3-digit code" },
	{ "1xx", { "150 go on" },
	    REPLY_ERROR, 0, 0, NULL, "reply code not in the range 2xx-5xx" },
	{ "0xx", { "099 x" },
	    REPLY_ERROR, 0, 0, NULL, "reply code not in the range 2xx-5xx" },
	{ "6xx", { "600 x" },
	    REPLY_ERROR, 0, 0, NULL, "reply code not in the range 2xx-5xx" },
	{ "CR", { "250 a\rb" },
	    REPLY_ERROR, 0, 0, NULL, "control character in reply" },
	{ "LF", { "250 a\nb" },
	    REPLY_ERROR, 0, 0, NULL, "control character in reply" },
	{ "ESC", { "250 \x1b[2J" },
	    REPLY_ERROR, 0, 0, NULL, "control character in reply" },
	{ "DEL", { "250 a\x7f" },
	    REPLY_ERROR, 0, 0, NULL, "control character in reply" },
	{ "control in continuation", { "250-a", "250 \x01" },
	    REPLY_ERROR, 0, 0, NULL, "control character in reply" },
};

static int
feed_str(struct reply_parser *p, const char *line)
{
	return reply_feed(p, line, strlen(line));
}

static void
test_reply_table(void **state)
{
	const struct reply_case	*c = *state;
	struct reply_parser	 p;
	enum reply_status	 st = REPLY_ERROR;
	size_t			 i;

	reply_init(&p);
	for (i = 0; i < MAXLINES && c->lines[i] != NULL; i++) {
		st = feed_str(&p, c->lines[i]);
		if (i + 1 < MAXLINES && c->lines[i + 1] != NULL &&
		    c->status != REPLY_ERROR)
			assert_int_equal(st, REPLY_MORE);
		if (st == REPLY_ERROR)
			break;
	}
	assert_int_equal(st, c->status);
	if (st == REPLY_ERROR) {
		assert_non_null(p.error);
		assert_string_equal(p.error, c->error);
		/* The error sticks until reply_init(). */
		assert_int_equal(feed_str(&p, "250 OK"), REPLY_ERROR);
		return;
	}
	assert_null(p.error);
	assert_int_equal(p.reply.code, c->code);
	assert_int_equal(p.reply.nlines, c->nlines);
	assert_string_equal(p.reply.text, c->text);
	assert_int_equal(p.reply.textlen, strlen(c->text));
	assert_false(p.reply.truncated);
	assert_int_equal(p.in_reply, st == REPLY_MORE);
}

/* A NUL inside a line is a control character, not an end of text. */
static void
test_reply_nul(void **state)
{
	struct reply_parser	p;

	(void)state;
	reply_init(&p);
	assert_int_equal(reply_feed(&p, "250 a\0b", 7), REPLY_ERROR);
	assert_string_equal(p.error, "control character in reply");
}

/* The line cap is REPLY_LINE_MAX less the CRLF the session took off. */
static void
test_reply_line_length(void **state)
{
	struct reply_parser	p;
	char			line[REPLY_LINE_MAX + 8];

	(void)state;
	memset(line, 'x', sizeof(line));
	memcpy(line, "250 ", 4);

	reply_init(&p);
	assert_int_equal(reply_feed(&p, line, REPLY_LINE_MAX - 2), REPLY_DONE);
	assert_int_equal(p.reply.textlen, REPLY_LINE_MAX - 6);

	reply_init(&p);
	assert_int_equal(reply_feed(&p, line, REPLY_LINE_MAX - 1),
	    REPLY_ERROR);
	assert_string_equal(p.error, "reply line longer than 510 octets");

	reply_init(&p);
	assert_int_equal(reply_feed(&p, line, sizeof(line)), REPLY_ERROR);
	assert_string_equal(p.error, "reply line longer than 510 octets");
}

/* 64 lines are a reply, the 65th is an error. */
static void
test_reply_line_count(void **state)
{
	struct reply_parser	p;
	size_t			i;

	(void)state;
	reply_init(&p);
	for (i = 0; i < REPLY_LINES_MAX - 1; i++)
		assert_int_equal(feed_str(&p, "250-x"), REPLY_MORE);
	assert_int_equal(feed_str(&p, "250 x"), REPLY_DONE);
	assert_int_equal(p.reply.nlines, REPLY_LINES_MAX);

	reply_init(&p);
	for (i = 0; i < REPLY_LINES_MAX; i++)
		assert_int_equal(feed_str(&p, "250-x"), REPLY_MORE);
	assert_int_equal(feed_str(&p, "250 x"), REPLY_ERROR);
	assert_string_equal(p.error, "more than 64 lines in one reply");
}

/* Text beyond REPLY_TEXT_MAX is dropped, the reply still completes. */
static void
test_reply_truncation(void **state)
{
	struct reply_parser	p;
	char			line[REPLY_LINE_MAX - 2];
	size_t			i, n;

	(void)state;
	memset(line, 'y', sizeof(line));
	memcpy(line, "250-", 4);
	n = REPLY_TEXT_MAX / (sizeof(line) - 4) + 2;

	reply_init(&p);
	for (i = 0; i < n; i++)
		assert_int_equal(reply_feed(&p, line, sizeof(line)),
		    REPLY_MORE);
	assert_int_equal(feed_str(&p, "250 end"), REPLY_DONE);
	assert_true(p.reply.truncated);
	assert_int_equal(p.reply.nlines, n + 1);
	assert_int_equal(p.reply.textlen, REPLY_TEXT_MAX - 1);
	assert_int_equal(strlen(p.reply.text), REPLY_TEXT_MAX - 1);
	assert_int_equal(p.reply.text[0], 'y');
	assert_int_equal(p.reply.text[sizeof(line) - 4], '\n');
}

/* After REPLY_DONE the next line starts the next reply. */
static void
test_reply_next(void **state)
{
	struct reply_parser	p;

	(void)state;
	reply_init(&p);
	assert_int_equal(feed_str(&p, "220-mx.example"), REPLY_MORE);
	assert_int_equal(feed_str(&p, "220 ESMTP"), REPLY_DONE);
	assert_int_equal(feed_str(&p, "250 OK"), REPLY_DONE);
	assert_int_equal(p.reply.code, 250);
	assert_int_equal(p.reply.nlines, 1);
	assert_string_equal(p.reply.text, "OK");
}

struct pending_case {
	const char	*name;
	int		 code;
	const char	*text;
	int		 rc;
	unsigned long	 count;
};

static const struct pending_case pending_cases[] = {
	{ "253 count", 253,
	    "OK, 5 pending messages for node example.org started", 0, 5 },
	{ "253 zero", 253,
	    "OK, 0 pending messages for node example.org started", 0, 0 },
	{ "253 no space after OK,", 253, "OK,7 pending", 0, 7 },
	{ "253 with enhanced status", 253,
	    "2.0.0 OK, 17 pending messages for node x started", 0, 17 },
	{ "253 enhanced status, no OK,", 253,
	    "2.0.0 17 pending messages", 0, 17 },
	{ "253 leading text", 253,
	    "Queue run started: 42 messages for node x", 0, 42 },
	{ "253 ten digits", 253, "OK, 9999999999 pending", 0, 9999999999UL },
	{ "253 leading zeros", 253, "OK, 0000000001 pending", 0, 1 },
	{ "253 count absent", 253,
	    "OK, pending messages for node example.org started", -1, 0 },
	{ "253 digits only in a name", 253,
	    "OK, pending messages for node mx1.example started", -1, 0 },
	{ "253 empty text", 253, "", -1, 0 },
	{ "253 thirty digits", 253,
	    "OK, 123456789012345678901234567890 pending messages", -1, 0 },
	{ "253 eleven digits", 253, "OK, 12345678901 pending", -1, 0 },
	{ "253 negative", 253,
	    "OK, -5 pending messages for node x started", -1, 0 },
	{ "250 is not 253", 250,
	    "OK, 5 pending messages for node x started", -1, 0 },
	{ "252 is not 253", 252,
	    "OK, 5 pending messages for node x started", -1, 0 },
};

static void
test_reply_pending(void **state)
{
	const struct pending_case	*c = *state;
	struct reply			 r;
	unsigned long			 count = 4242;

	memset(&r, 0, sizeof(r));
	r.code = c->code;
	r.nlines = 1;
	snprintf(r.text, sizeof(r.text), "%s", c->text);
	r.textlen = strlen(r.text);
	assert_int_equal(reply_pending_count(&r, &count), c->rc);
	if (c->rc == 0)
		assert_int_equal(count, c->count);
	else
		assert_int_equal(count, 4242);	/* untouched */
}

/* A 253 reply as the reader produces it, not hand-built. */
static void
test_reply_pending_fed(void **state)
{
	struct reply_parser	p;
	unsigned long		count = 0;

	(void)state;
	reply_init(&p);
	assert_int_equal(feed_str(&p,
	    "253 OK, 3 pending messages for node example.org started"),
	    REPLY_DONE);
	assert_int_equal(reply_pending_count(&p.reply, &count), 0);
	assert_int_equal(count, 3);
}

int
main(void)
{
	static struct CMUnitTest	 tests[sizeof(reply_cases) /
					    sizeof(reply_cases[0]) +
					    sizeof(pending_cases) /
					    sizeof(pending_cases[0]) + 8];
	static const struct CMUnitTest	 fixed[] = {
		cmocka_unit_test(test_reply_nul),
		cmocka_unit_test(test_reply_line_length),
		cmocka_unit_test(test_reply_line_count),
		cmocka_unit_test(test_reply_truncation),
		cmocka_unit_test(test_reply_next),
		cmocka_unit_test(test_reply_pending_fed),
	};
	size_t				 i, n = 0;

	for (i = 0; i < sizeof(reply_cases) / sizeof(reply_cases[0]); i++) {
		tests[n].name = reply_cases[i].name;
		tests[n].test_func = test_reply_table;
		tests[n].initial_state = (void *)(uintptr_t)&reply_cases[i];
		n++;
	}
	for (i = 0; i < sizeof(pending_cases) / sizeof(pending_cases[0]);
	    i++) {
		tests[n].name = pending_cases[i].name;
		tests[n].test_func = test_reply_pending;
		tests[n].initial_state = (void *)(uintptr_t)&pending_cases[i];
		n++;
	}
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		tests[n++] = fixed[i];
	return _cmocka_run_group_tests("reply", tests, n, NULL, NULL);
}
