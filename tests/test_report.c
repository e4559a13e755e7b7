/* SPDX-License-Identifier: ISC */
/*
 * Tests for report, the presentation module, by tables: the result line,
 * a reply flattened and escaped (C1 controls, bidi overrides, invalid
 * UTF-8), the exit rule, STATUS= for every relay state, and etrnctl
 * status as text and as JSON, from relay tables instead of a scheduler;
 * what came back after ETRN (the flush summary, its hint, the lines of
 * --once, status and STATUS=), and etrnctl history as text and JSON.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "config.h"
#include "history.h"
#include "linkstate.h"
#include "report.h"

/* 2026-12-01 12:00:00 UTC, and the tests run with TZ=UTC. */
#define NOW	INT64_C(1796126400)

static struct etrn_result
result(enum etrn_class cls, int code, const char *text, long pending)
{
	struct etrn_result	r;

	memset(&r, 0, sizeof(r));
	r.cls = cls;
	r.code = code;
	snprintf(r.text, sizeof(r.text), "%s", text);
	r.pending = pending;
	return r;
}

/* The relays a test shows, in place of sched_foreach. */
struct fake {
	const struct sched_relay_info	*ri;
	size_t				 n;
};

static void
fake_foreach(const void *src, sched_relay_fn fn, void *arg)
{
	const struct fake	*f = src;
	size_t			 i;

	for (i = 0; i < f->n; i++)
		fn(&f->ri[i], arg);
}

static struct report_relays
fake_relays(const struct fake *f)
{
	struct report_relays	rr = { fake_foreach, f };

	return rr;
}

/* Rendered lines, collected into one string. */
struct lines {
	char	buf[8192];
	size_t	n;
};

static void
collect(const char *line, void *arg)
{
	struct lines	*l = arg;
	size_t		 off = strlen(l->buf);

	snprintf(l->buf + off, sizeof(l->buf) - off, "%s\n", line);
	l->n++;
}

static bool
is_ascii_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			if (*s != '\n')
				return false;
	return true;
}

/* Reply texts: one line, every byte outside printable ASCII escaped. */
struct text_case {
	const char	*text;
	const char	*want;
};

static const struct text_case text_cases[] = {
	{ "Queuing started", "Queuing started" },
	{ "", "" },
	{ "first line\nsecond line", "first line second line" },
	{ "a\r\nb", "a\\x0d b" },
	{ "back\\slash", "back\\x5cslash" },
	/* ESC, DEL, C1 raw and as UTF-8, a bidi override, invalid UTF-8. */
	{ "\x1b[2Jx\x7f", "\\x1b[2Jx\\x7f" },
	{ "Queuing \xc2\x9b" "31m started", "Queuing \\xc2\\x9b31m started" },
	{ "raw \x9b" "31m", "raw \\x9b31m" },
	{ "\xe2\x80\xae" "gnp.exe", "\\xe2\\x80\\xaegnp.exe" },
	{ "bad \xff\xfe \xc0\xaf \xe2\x82", "bad \\xff\\xfe \\xc0\\xaf \\xe2\\x82" },
	{ "caf\xc3\xa9", "caf\\xc3\\xa9" },
	{ "tab\there", "tab\\x09here" },
};

static void
test_reply_text(void **state)
{
	char	out[REPORT_TEXT_LEN], small[16];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]); i++) {
		report_reply_text(out, sizeof(out), text_cases[i].text);
		assert_string_equal(out, text_cases[i].want);
		assert_true(is_ascii_printable(out));
	}
	/* Cut to fit, and says so. */
	assert_string_equal(report_reply_text(small, sizeof(small),
	    "0123456789"), "012...");
	assert_string_equal(report_reply_text(small, sizeof(small),
	    "\x9b\x9b\x9b"), "\\x9b\\x9b\\x9b");
	assert_string_equal(report_reply_text(small, 4, "abc"), "");
	/* The longest text, all escaped, fits REPORT_TEXT_LEN whole. */
	{
		char	text[ETRN_TEXT_MAX];

		memset(text, 0x9b, sizeof(text) - 1);
		text[sizeof(text) - 1] = '\0';
		report_reply_text(out, sizeof(out), text);
		assert_int_equal(strlen(out), 4 * (sizeof(text) - 1));
	}
}

/* "RELAY DOMAIN CLASS CODE TEXT". */
struct line_case {
	const char		*relay;
	const char		*domain;
	enum etrn_class		 cls;
	int			 code;
	const char		*text;
	const char		*want;
};

static const struct line_case line_cases[] = {
	{ "isp", "example.org", ETRN_R_OK, 250, "Queuing started",
	    "isp example.org ok 250 Queuing started" },
	{ NULL, "example.org", ETRN_R_OK, 250, "Queuing started",
	    "example.org ok 250 Queuing started" },
	{ "isp", "@example.net", ETRN_R_OK, 253, "OK, 3 pending messages",
	    "isp @example.net ok 253 OK, 3 pending messages" },
	{ "down", "a.example", ETRN_R_TEMP, 0,
	    "connect to 127.0.0.1 port 1: Connection refused",
	    "down a.example temporary - connect to 127.0.0.1 port 1: "
	    "Connection refused" },
	{ NULL, "#queue", ETRN_R_TEMP, 0, "interrupted",
	    "#queue temporary - interrupted" },
	{ "isp", "x.example", ETRN_R_REFUSED, 554, "5.7.1 no\nnot you",
	    "isp x.example refused 554 5.7.1 no not you" },
	{ "isp", "x.example", ETRN_R_UNSUPPORTED, 502, "Command not recognized",
	    "isp x.example unsupported 502 Command not recognized" },
	/* Never asked, no text: no trailing space. */
	{ "isp", "s.example", ETRN_R_NONE, 0, "", "isp s.example none -" },
	{ NULL, "s.example", ETRN_R_NONE, 0, "", "s.example none -" },
	/* Peer bytes never reach a terminal raw. */
	{ "c1", "c1.example", ETRN_R_OK, 250, "Queuing \xc2\x9b" "31m started",
	    "c1 c1.example ok 250 Queuing \\xc2\\x9b31m started" },
	{ "c1", "c1.example", ETRN_R_TEMP, 421, "\x1b]0;pwned\x07\xe2\x80\xae",
	    "c1 c1.example temporary 421 \\x1b]0;pwned\\x07\\xe2\\x80\\xae" },
	/* A domain from etrn(1)'s command line is escaped too. */
	{ NULL, "a\x1b" "b", ETRN_R_OK, 250, "ok", "a\\x1bb ok 250 ok" },
};

static void
test_result_line(void **state)
{
	char	line[REPORT_LINE_LEN];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(line_cases) / sizeof(line_cases[0]); i++) {
		const struct line_case	*c = &line_cases[i];
		struct etrn_result	 r = result(c->cls, c->code, c->text,
					    -1);

		assert_ptr_equal(report_result_line(line, sizeof(line),
		    c->relay, c->domain, &r), line);
		assert_string_equal(line, c->want);
		assert_true(is_ascii_printable(line));
	}
}

/* The exit rule: refused or unsupported (1) > temporary (75) > ok (0). */
struct exit_case {
	int		 status;
	enum etrn_class	 cls;
	int		 want;
};

static const struct exit_case exit_cases[] = {
	{ 0, ETRN_R_OK, 0 },
	{ 0, ETRN_R_TEMP, 75 },
	{ 0, ETRN_R_NONE, 75 },
	{ 0, ETRN_R_REFUSED, 1 },
	{ 0, ETRN_R_UNSUPPORTED, 1 },
	{ 75, ETRN_R_OK, 75 },
	{ 75, ETRN_R_TEMP, 75 },
	{ 75, ETRN_R_REFUSED, 1 },
	{ 1, ETRN_R_OK, 1 },
	{ 1, ETRN_R_TEMP, 1 },
	{ 1, ETRN_R_NONE, 1 },
	{ 1, ETRN_R_UNSUPPORTED, 1 },
};

static void
test_exit_rule(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(exit_cases) / sizeof(exit_cases[0]); i++)
		assert_int_equal(report_exit_merge(exit_cases[i].status,
		    exit_cases[i].cls), exit_cases[i].want);
}

/* Two relays for the results: their lines, and the status they make. */
static void
test_results(void **state)
{
	struct etrn_result		r[4];
	struct sched_domain_info	d1[2], d2[2];
	struct sched_relay_info		ri[2];
	struct fake			f = { ri, 2 };
	struct report_relays		rr = fake_relays(&f);
	struct lines			l;
	char				n_isp[] = "isp", n_mx2[] = "mx2";
	char				n_none[] = "nosuch";
	char				*only_isp[] = { n_isp };
	char				*only_mx2[] = { n_mx2 };
	char				*none[] = { n_none };

	(void)state;
	r[0] = result(ETRN_R_OK, 250, "Queuing started", -1);
	r[1] = result(ETRN_R_TEMP, 458, "busy", -1);
	r[2] = result(ETRN_R_OK, 250, "ok", -1);
	r[3] = result(ETRN_R_REFUSED, 554, "no", -1);
	memset(d1, 0, sizeof(d1));
	memset(d2, 0, sizeof(d2));
	memset(ri, 0, sizeof(ri));
	d1[0].domain = "a.example";
	d1[0].last = &r[0];
	d1[1].domain = "b.example";
	d1[1].last = &r[1];
	d2[0].domain = "c.example";
	d2[0].last = &r[2];
	d2[1].domain = "d.example";
	d2[1].last = &r[3];
	ri[0].name = "isp";
	ri[0].state = RELAY_S_BACKOFF;
	ri[0].domains = d1;
	ri[0].ndomains = 2;
	ri[1].name = "mx2";
	ri[1].state = RELAY_S_IDLE;
	ri[1].domains = d2;
	ri[1].ndomains = 2;

	memset(&l, 0, sizeof(l));
	assert_int_equal(report_results(&rr, NULL, 0, collect, &l), 1);
	assert_string_equal(l.buf, "isp a.example ok 250 Queuing started\n"
	    "isp b.example temporary 458 busy\n"
	    "mx2 c.example ok 250 ok\n"
	    "mx2 d.example refused 554 no\n");
	memset(&l, 0, sizeof(l));
	assert_int_equal(report_results(&rr, only_isp, 1, collect, &l), 75);
	assert_string_equal(l.buf, "isp a.example ok 250 Queuing started\n"
	    "isp b.example temporary 458 busy\n");
	memset(&l, 0, sizeof(l));
	assert_int_equal(report_results(&rr, only_mx2, 1, collect, &l), 1);
	assert_int_equal(l.n, 2);
	memset(&l, 0, sizeof(l));
	assert_int_equal(report_results(&rr, none, 1, collect, &l), 0);
	assert_int_equal(l.n, 0);
	/* The exit status alone. */
	assert_int_equal(report_results(&rr, only_isp, 1, NULL, NULL), 75);
	/* Every domain ok: 0. */
	f.n = 0;
	assert_int_equal(report_results(&rr, NULL, 0, collect, &l), 0);
}

/* STATUS=: one relay in each state, and its results. */
struct status_case {
	enum relay_state state;
	enum etrn_class	 cls[2];
	int		 code[2];
	long		 pending[2];
	int64_t		 next_retry;
	const char	*want;
};

static const struct status_case status_cases[] = {
	{ RELAY_S_IDLE, { ETRN_R_NONE, ETRN_R_NONE }, { 0, 0 }, { -1, -1 }, 0,
	    "isp idle" },
	{ RELAY_S_IDLE, { ETRN_R_OK, ETRN_R_OK }, { 250, 250 }, { -1, -1 }, 0,
	    "isp ok" },
	{ RELAY_S_IDLE, { ETRN_R_OK, ETRN_R_OK }, { 253, 250 }, { 3, -1 }, 0,
	    "isp ok, 3 pending" },
	{ RELAY_S_IDLE, { ETRN_R_OK, ETRN_R_OK }, { 253, 253 }, { 3, 4 }, 0,
	    "isp ok, 7 pending" },
	{ RELAY_S_IDLE, { ETRN_R_OK, ETRN_R_REFUSED }, { 250, 554 }, { -1, -1 }, 0,
	    "isp refused 554" },
	{ RELAY_S_IDLE, { ETRN_R_TEMP, ETRN_R_UNSUPPORTED }, { 458, 502 },
	    { -1, -1 }, 0, "isp unsupported 502" },
	{ RELAY_S_QUEUED, { ETRN_R_NONE, ETRN_R_NONE }, { 0, 0 }, { -1, -1 }, 0,
	    "isp queued" },
	{ RELAY_S_RUNNING, { ETRN_R_OK, ETRN_R_TEMP }, { 250, 421 }, { -1, -1 }, 0,
	    "isp running" },
	/* Absolute, since the line stays on show in systemctl status. */
	{ RELAY_S_BACKOFF, { ETRN_R_OK, ETRN_R_TEMP }, { 250, 421 }, { -1, -1 },
	    NOW + 3723, "isp 421, retry 13:02:03" },
	{ RELAY_S_BACKOFF, { ETRN_R_TEMP, ETRN_R_TEMP }, { 0, 0 }, { -1, -1 },
	    NOW + 9, "isp 0, retry 12:00:09" },
	{ RELAY_S_WAITLINK, { ETRN_R_TEMP, ETRN_R_OK }, { 458, 250 }, { -1, -1 }, 0,
	    "isp 458, waiting for link" },
	{ RELAY_S_FAILED, { ETRN_R_TEMP, ETRN_R_TEMP }, { 421, 421 }, { -1, -1 }, 0,
	    "isp failed (421)" },
	{ RELAY_S_NOROUTE, { ETRN_R_TEMP, ETRN_R_TEMP }, { 0, 0 }, { -1, -1 },
	    NOW + 30, "isp no route yet" },
};

static void
fill_relay(struct sched_relay_info *ri, struct sched_domain_info *d,
    struct etrn_result *r, const struct status_case *c, const char *name)
{
	size_t	i;

	memset(ri, 0, sizeof(*ri));
	for (i = 0; i < 2; i++) {
		r[i] = result(c->cls[i], c->code[i], "text", c->pending[i]);
		memset(&d[i], 0, sizeof(d[i]));
		d[i].domain = i == 0 ? "a.example" : "b.example";
		d[i].last = &r[i];
	}
	ri->name = name;
	ri->host = "mx.example";
	ri->port = 25;
	ri->state = c->state;
	ri->next_retry = c->next_retry;
	ri->domains = d;
	ri->ndomains = 2;
}

static void
test_status_line(void **state)
{
	struct sched_relay_info		 ri[6];
	struct sched_domain_info	 d[6][2];
	struct etrn_result		 r[6][2];
	struct fake			 f = { ri, 1 };
	struct report_relays		 rr = fake_relays(&f);
	struct linkstate		*ls;
	char				 buf[512], small[12];
	static const char *const	 names[] = { "a", "b", "c", "d", "e",
					    "f" };
	static const size_t		 pick[] = { 7, 6, 8, 10, 11, 1 };
	size_t				 i;

	(void)state;
	for (i = 0; i < sizeof(status_cases) / sizeof(status_cases[0]); i++) {
		fill_relay(&ri[0], d[0], r[0], &status_cases[i], "isp");
		report_status_line(buf, sizeof(buf), &rr, NULL, "/etc/x.conf");
		assert_string_equal(buf, status_cases[i].want);
	}
	/* Up to four relays, each in turn. */
	fill_relay(&ri[0], d[0], r[0], &status_cases[1], "isp");
	fill_relay(&ri[1], d[1], r[1], &status_cases[8], "mx2");
	f.n = 2;
	report_status_line(buf, sizeof(buf), &rr, NULL, "/etc/x.conf");
	assert_string_equal(buf, "isp ok; mx2 421, retry 13:02:03");
	/* With a link monitor that sees no watched link. */
	ls = linkstate_new(NULL, 0, NULL, NULL);
	assert_non_null(ls);
	report_status_line(buf, sizeof(buf), &rr, ls, "/etc/x.conf");
	assert_string_equal(buf, "no watched link; isp ok; mx2 421, retry "
	    "13:02:03");
	linkstate_free(ls);
	/* Beyond four: counts. */
	for (i = 0; i < 6; i++)
		fill_relay(&ri[i], d[i], r[i], &status_cases[pick[i]],
		    names[i]);
	f.n = 6;
	report_status_line(buf, sizeof(buf), &rr, NULL, "/etc/x.conf");
	assert_string_equal(buf, "6 relays: 1 running, 1 queued, 2 retrying, "
	    "1 failed");
	f.n = 5;
	report_status_line(buf, sizeof(buf), &rr, NULL, "/etc/x.conf");
	assert_string_equal(buf, "5 relays: 1 running, 1 queued, 2 retrying, "
	    "1 failed");
	/* None: what to do about it. */
	f.n = 0;
	report_status_line(buf, sizeof(buf), &rr, NULL, "/etc/x.conf");
	assert_string_equal(buf, "Idle: no relays configured (edit "
	    "/etc/x.conf, then systemctl reload etrnd)");
	/* A short buffer is cut, never overrun. */
	f.n = 2;
	fill_relay(&ri[0], d[0], r[0], &status_cases[1], "isp");
	fill_relay(&ri[1], d[1], r[1], &status_cases[8], "mx2");
	report_status_line(small, sizeof(small), &rr, NULL, "/etc/x.conf");
	assert_true(strlen(small) < sizeof(small));
	assert_int_equal(strncmp(small, "isp ok; mx2", strlen(small)), 0);
}

/* etrnctl status: two relays, one with a server's hostile reply. */
struct status_env {
	struct etrn_result		 r[3];
	struct sched_domain_info	 d[3];
	struct sched_relay_info		 ri[2];
	struct fake			 f;
	struct control_daemon_info	 di;
};

static void
status_env(struct status_env *e)
{
	memset(e, 0, sizeof(*e));
	e->r[0] = result(ETRN_R_OK, 250, "Queuing started", -1);
	e->r[1] = result(ETRN_R_NONE, 0, "", -1);
	e->r[2] = result(ETRN_R_TEMP, 421, "bad \xc2\x9b" "31m \xff\xfe\n"
	    "\xe2\x80\xae \"q\" \\", -1);
	e->d[0].domain = "a-long-domain.example.org";
	e->d[0].last = &e->r[0];
	e->d[0].last_ok = NOW - 60;
	e->d[0].last_try = NOW - 60;
	e->d[1].domain = "s.example";
	e->d[1].last = &e->r[1];
	e->d[2].domain = "c1.example";
	e->d[2].last = &e->r[2];
	e->d[2].last_try = NOW;
	e->ri[0].name = "isp";
	e->ri[0].host = "mx.example";
	e->ri[0].port = 25;
	e->ri[0].state = RELAY_S_IDLE;
	e->ri[0].last_success = NOW - 60;
	e->ri[0].domains = e->d;
	e->ri[0].ndomains = 2;
	e->ri[1].name = "c1";
	e->ri[1].host = "192.0.2.1";
	e->ri[1].port = 2525;
	e->ri[1].state = RELAY_S_BACKOFF;
	e->ri[1].failures = 1;
	e->ri[1].next_retry = NOW + 90;
	e->ri[1].route = "via site0";
	e->ri[1].domains = &e->d[2];
	e->ri[1].ndomains = 1;
	e->f.ri = e->ri;
	e->f.n = 2;
	e->di.pid = 42;
	e->di.conf_path = "/etc/etrnd.conf";
	e->di.started = NOW - 3 * 3600 - 120;
}

static void
test_status_text(void **state)
{
	struct status_env	 e;
	struct report_relays	 rr;
	struct lines		 l;
	char			 want[4096];

	(void)state;
	status_env(&e);
	rr = fake_relays(&e.f);
	memset(&l, 0, sizeof(l));
	report_status_text(&rr, NULL, &e.di, NOW, collect, &l);
	snprintf(want, sizeof(want),
	    "etrnd %s, pid 42, up 3h2m, configuration /etc/etrnd.conf; last "
	    "reload: not reloaded since start\n"
	    "times in UTC (+0000)\n"
	    "\n"
	    "links: no watched link is present\n"
	    "\n"
	    "relay isp (mx.example:25): idle, 0 failures; last success "
	    "2026-12-01 11:59:00 UTC (1m ago); next retry -\n"
	    "  DOMAIN                     RESULT     CODE  PENDING  LAST ATTEMPT"
	    "                      REPLY\n"
	    "  a-long-domain.example.org  ok         250   -        "
	    "2026-12-01 11:59:00 UTC (1m ago)  Queuing started\n"
	    "  s.example                  none       -     -        -         "
	    "                        -\n"
	    "\n"
	    "relay c1 (192.0.2.1:2525): backoff, 1 failure; last success -; "
	    "next retry 2026-12-01 12:01:30 UTC (in 1m30s)\n"
	    "  route: via site0\n"
	    "  DOMAIN                     RESULT     CODE  PENDING  LAST ATTEMPT"
	    "                      REPLY\n"
	    "  c1.example                 temporary  421   -        "
	    "2026-12-01 12:00:00 UTC (now)     bad \\xc2\\x9b31m \\xff\\xfe "
	    "\\xe2\\x80\\xae \"q\" \\x5c\n", ETRND_VERSION);
	assert_string_equal(l.buf, want);
	assert_true(is_ascii_printable(l.buf));

	/* A failed reload, and no relays. */
	e.di.reload_time = NOW - 5;
	e.di.reload_ok = false;
	e.di.reload_error = "/etc/etrnd.conf:3: unknown key \"x\"";
	e.f.n = 0;
	memset(&l, 0, sizeof(l));
	report_status_text(&rr, NULL, &e.di, NOW, collect, &l);
	snprintf(want, sizeof(want),
	    "etrnd %s, pid 42, up 3h2m, configuration /etc/etrnd.conf; last "
	    "reload: FAILED at 2026-12-01 11:59:55 UTC (5s ago) (the previous "
	    "configuration stays in use)\n"
	    "  /etc/etrnd.conf:3: unknown key \"x\"\n"
	    "times in UTC (+0000)\n"
	    "\n"
	    "links: no watched link is present\n"
	    "\n"
	    "relays: none configured (add a [relay NAME] section to "
	    "/etc/etrnd.conf, then etrnctl reload)\n", ETRND_VERSION);
	assert_string_equal(l.buf, want);
}

static void
test_status_json(void **state)
{
	struct status_env	 e;
	struct report_relays	 rr;
	struct lines		 l;
	char			 want[4096];

	(void)state;
	status_env(&e);
	rr = fake_relays(&e.f);
	memset(&l, 0, sizeof(l));
	report_status_json(&rr, NULL, &e.di, collect, &l);
	assert_int_equal(l.n, 1);
	snprintf(want, sizeof(want), "{\"version\":\"%s\",\"pid\":42,"
	    "\"started\":1796115480,\"config\":\"/etc/etrnd.conf\","
	    "\"last_reload\":null,\"links\":[],\"relays\":["
	    "{\"name\":\"isp\",\"host\":\"mx.example\",\"port\":25,"
	    "\"state\":\"idle\",\"failures\":0,\"last_success\":1796126340,"
	    "\"next_retry\":null,\"route\":null,\"domains\":["
	    "{\"domain\":\"a-long-domain.example.org\",\"result\":\"ok\","
	    "\"code\":250,\"text\":\"Queuing started\",\"pending\":null,"
	    "\"last_ok\":1796126340,\"last_attempt\":1796126340,"
	    "\"sent_as\":null,\"detail\":null},"
	    "{\"domain\":\"s.example\",\"result\":\"none\",\"code\":null,"
	    "\"text\":\"\",\"pending\":null,\"last_ok\":null,"
	    "\"last_attempt\":null,\"sent_as\":null,\"detail\":null}],"
	    "\"flush\":null},"
	    "{\"name\":\"c1\",\"host\":\"192.0.2.1\",\"port\":2525,"
	    "\"state\":\"backoff\",\"failures\":1,\"last_success\":null,"
	    "\"next_retry\":1796126490,\"route\":\"via site0\","
	    "\"domains\":["
	    "{\"domain\":\"c1.example\",\"result\":\"temporary\",\"code\":421,"
	    /* The table's escaped text, its backslashes and quotes for JSON. */
	    "\"text\":\"bad \\\\xc2\\\\x9b31m \\\\xff\\\\xfe \\\\xe2\\\\x80"
	    "\\\\xae \\\"q\\\" \\\\x5c\",\"pending\":null,\"last_ok\":null,"
	    "\"last_attempt\":1796126400,\"sent_as\":null,"
	    "\"detail\":null}],\"flush\":null}]}\n", ETRND_VERSION);
	assert_string_equal(l.buf, want);
	/* Valid JSON whatever the bytes: ASCII only. */
	assert_true(is_ascii_printable(l.buf));

	/* A failed reload: its error; names with odd bytes, escaped. */
	e.di.reload_time = NOW - 5;
	e.di.reload_error = "bad\x9b";
	e.ri[0].name = "i\"s\\p";
	e.f.n = 1;
	memset(&l, 0, sizeof(l));
	report_status_json(&rr, NULL, &e.di, collect, &l);
	assert_non_null(strstr(l.buf, "\"last_reload\":{\"time\":1796126395,"
	    "\"ok\":false,\"error\":\"bad\\\\x9b\"}"));
	assert_non_null(strstr(l.buf, "{\"name\":\"i\\\"s\\\\x5cp\","));
}

/*
 * The form in use when it is not the one written, and what a result means
 * beyond its class: in the table and in JSON.
 */
static void
test_status_forms(void **state)
{
	struct etrn_result		 r[3];
	struct sched_domain_info	 d[3];
	struct sched_relay_info		 ri;
	struct fake			 f = { &ri, 1 };
	struct report_relays		 rr = fake_relays(&f);
	struct control_daemon_info	 di;
	struct lines			 l;

	(void)state;
	memset(d, 0, sizeof(d));
	memset(&ri, 0, sizeof(ri));
	memset(&di, 0, sizeof(di));
	r[0] = result(ETRN_R_OK, 250, "OK", -1);
	r[0].form = ETRN_FORM_HASH;
	r[1] = result(ETRN_R_OK, 458, "Already processing b.example", -1);
	r[1].detail = ETRN_D_RUNNING;
	r[2] = result(ETRN_R_REFUSED, 458, "ETRN not permitted for "
	    "192.0.2.1", -1);
	r[2].detail = ETRN_D_REPEATED;
	d[0].domain = "example.org";
	d[1].domain = "b.example";
	d[2].domain = "c.example";
	d[0].last = &r[0];
	d[1].last = &r[1];
	d[2].last = &r[2];
	ri.name = "exim";
	ri.host = "192.0.2.25";
	ri.port = 25;
	ri.state = RELAY_S_IDLE;
	ri.domains = d;
	ri.ndomains = 3;
	di.pid = 42;

	memset(&l, 0, sizeof(l));
	report_status_text(&rr, NULL, &di, NOW, collect, &l);
	assert_non_null(strstr(l.buf, "\n  #example.org (server asked for #)"
	    "  ok       250 "));
	assert_non_null(strstr(l.buf, "\n  b.example                        "
	    "  ok       458 "));
	assert_non_null(strstr(l.buf, "(already running) Already processing "
	    "b.example\n"));
	assert_non_null(strstr(l.buf, "\n  c.example                        "
	    "  refused  458 "));
	assert_non_null(strstr(l.buf, "(same temporary reply every time) "
	    "ETRN not permitted for 192.0.2.1\n"));

	memset(&l, 0, sizeof(l));
	report_status_json(&rr, NULL, &di, collect, &l);
	assert_non_null(strstr(l.buf, "{\"domain\":\"example.org\","
	    "\"result\":\"ok\",\"code\":250,"));
	assert_non_null(strstr(l.buf, "\"sent_as\":\"#example.org\","
	    "\"detail\":null}"));
	assert_non_null(strstr(l.buf, "\"text\":\"Already processing "
	    "b.example\","));
	assert_non_null(strstr(l.buf, "\"sent_as\":null,\"detail\":"
	    "\"running\"}"));
	assert_non_null(strstr(l.buf, "\"sent_as\":null,\"detail\":"
	    "\"repeated\"}],\"flush\":null}]}"));
	assert_true(is_ascii_printable(l.buf));

	/* STATUS=: a flush under way is no failure. */
	ri.ndomains = 2;
	{
		char	buf[256];

		report_status_line(buf, sizeof(buf), &rr, NULL, "/x");
		assert_string_equal(buf, "exim ok");
	}
}

/*
 * A flush window's result: verdict, the relay's connections, addresses
 * ("A B", "+" at the end: more than kept), first and last ms, the others'
 * connections and addresses, overflow, why, errno, port, window and
 * elapsed ms.
 */
struct flush_spec {
	enum flushwatch_verdict	 verdict;
	unsigned		 nconns;
	const char		*addrs;
	uint64_t		 first, last;
	unsigned		 nother;
	const char		*others;
	bool			 overflow;
	enum flushwatch_why	 why;
	int			 err;
	uint16_t		 port;
	uint64_t		 window, elapsed;
};

static void
seen_fill(struct flushwatch_seen_out *s, unsigned n, const char *addrs)
{
	char	 buf[512], *p, *tok, *save = NULL;

	s->nconns = n;
	if (addrs == NULL)
		return;
	snprintf(buf, sizeof(buf), "%s", addrs);
	for (p = buf; (tok = strtok_r(p, " ", &save)) != NULL; p = NULL) {
		if (strcmp(tok, "+") == 0) {
			s->more_addrs = true;
			continue;
		}
		assert_true(s->naddrs < FLUSHWATCH_ADDRS_MAX);
		s->addrs[s->naddrs].family = strchr(tok, ':') != NULL ?
		    AF_INET6 : AF_INET;
		assert_int_equal(inet_pton(s->addrs[s->naddrs].family, tok,
		    s->addrs[s->naddrs].addr), 1);
		s->naddrs++;
	}
}

static struct flushwatch_result
flush_result(const struct flush_spec *f)
{
	struct flushwatch_result	r;

	memset(&r, 0, sizeof(r));
	r.verdict = f->verdict;
	r.why = f->why;
	r.err = f->err;
	r.port = f->port;
	r.started = NOW - 600;
	r.window_ms = f->window;
	r.elapsed_ms = f->elapsed;
	r.overflow = f->overflow;
	seen_fill(&r.relay, f->nconns, f->addrs);
	r.relay.first_ms = f->first;
	r.relay.last_ms = f->last;
	seen_fill(&r.other, f->nother, f->others);
	return r;
}

#define HINT	"check that port 25 is reachable from outside, that the "	\
	"domains' MX and A records point at this site's current address, "	\
	"and that the secondary holds mail for them (Postfix answers 250 to "	\
	"ETRN with an empty queue)"
#define HINT_OTHERS	"; other hosts connected meanwhile: if the provider "	\
	"delivers from one of them, add it to the relay's delivers-from"

struct summary_case {
	struct flush_spec	 f;
	const char		*want;
	const char		*hint;	/* NULL: none */
};

static const struct summary_case summary_cases[] = {
	{ { FLUSHWATCH_DELIVERED, 3, "203.0.113.5", 400, 2100, 0, NULL, false,
	    FLUSHWATCH_WHY_NONE, 0, 25, 300000, 32100 },
	  "delivered: 3 connections from 203.0.113.5, first 400ms, last 2s "
	  "after ETRN", NULL },
	{ { FLUSHWATCH_DELIVERED, 1, "203.0.113.5", 2000, 2000, 0, NULL, false,
	    FLUSHWATCH_WHY_NONE, 0, 25, 300000, 32000 },
	  "delivered: 1 connection from 203.0.113.5, 2s after ETRN", NULL },
	{ { FLUSHWATCH_DELIVERED, 256, "203.0.113.5 2001:db8::25 +", 1000,
	    90000, 1, "198.51.100.9", true, FLUSHWATCH_WHY_NONE, 0, 25,
	    300000, 120000 },
	  "delivered: at least 256 connections from 203.0.113.5, 2001:db8::25 "
	  "and more, first 1s, last 1m30s after ETRN; at least 1 other "
	  "inbound connection from 198.51.100.9", NULL },
	{ { FLUSHWATCH_NOTHING, 0, NULL, 0, 0, 0, NULL, false,
	    FLUSHWATCH_WHY_NONE, 0, 25, 300000, 300000 },
	  "nothing came back within 5m", HINT },
	{ { FLUSHWATCH_NOTHING, 0, NULL, 0, 0, 2, "198.51.100.9 198.51.100.10",
	    false, FLUSHWATCH_WHY_NONE, 0, 2525, 90000, 90000 },
	  "nothing came back within 1m30s; 2 other inbound connections from "
	  "198.51.100.9, 198.51.100.10",
	  "check that port 25 is reachable from outside (it arrives here on "
	  "port 2525), that the domains' "
	  "MX and A records point at this site's current address, and that "
	  "the secondary holds mail for them (Postfix answers 250 to ETRN "
	  "with an empty queue)" HINT_OTHERS },
	{ { FLUSHWATCH_WATCHING, 0, NULL, 0, 0, 0, NULL, false,
	    FLUSHWATCH_WHY_NONE, 0, 25, 300000, 12000 },
	  "watching for 12s (no connection from the relay yet)", NULL },
	{ { FLUSHWATCH_WATCHING, 1, "203.0.113.5", 3000, 3000, 0, NULL, false,
	    FLUSHWATCH_WHY_NONE, 0, 25, 300000, 72000 },
	  "watching for 1m12s (1 connection from 203.0.113.5 so far)", NULL },
	{ { FLUSHWATCH_WATCHING, 0, NULL, 0, 0, 1, "198.51.100.9", false,
	    FLUSHWATCH_WHY_NONE, 0, 25, 300000, 12000 },
	  "watching for 12s (no connection from the relay yet; 1 other "
	  "inbound connection from 198.51.100.9)", NULL },
	{ { FLUSHWATCH_NOT_OBSERVABLE, 0, NULL, 0, 0, 0, NULL, false,
	    FLUSHWATCH_WHY_NO_LISTENER, 0, 25, 300000, 0 },
	  "not observable: nothing listens on port 25", NULL },
	{ { FLUSHWATCH_NOT_OBSERVABLE, 0, NULL, 0, 0, 0, NULL, false,
	    FLUSHWATCH_WHY_NO_LISTENER, 0, 2525, 300000, 0 },
	  "not observable: nothing listens on port 2525", NULL },
	{ { FLUSHWATCH_NOT_OBSERVABLE, 0, NULL, 0, 0, 0, NULL, false,
	    FLUSHWATCH_WHY_ELSEWHERE, 0, 25, 300000, 0 },
	  "not observable: local-smtp is on another host", NULL },
	{ { FLUSHWATCH_NOT_OBSERVABLE, 0, NULL, 0, 0, 0, NULL, false,
	    FLUSHWATCH_WHY_KERNEL, EPERM, 25, 300000, 0 },
	  "not observable: the kernel's socket diagnostics could not be asked "
	  "(Operation not permitted)", NULL },
};

static void
test_flush_summary(void **state)
{
	struct flushwatch_result	 r;
	char				 buf[REPORT_FLUSH_LEN], small[20];
	size_t				 i;

	(void)state;
	for (i = 0; i < sizeof(summary_cases) / sizeof(summary_cases[0]);
	    i++) {
		const struct summary_case	*c = &summary_cases[i];

		r = flush_result(&c->f);
		assert_ptr_equal(report_flush_summary(buf, sizeof(buf), &r),
		    buf);
		assert_string_equal(buf, c->want);
		if (c->hint == NULL)
			assert_null(report_flush_hint(buf, sizeof(buf), &r));
		else {
			assert_ptr_equal(report_flush_hint(buf, sizeof(buf),
			    &r), buf);
			assert_string_equal(buf, c->hint);
		}
		/* Cut to fit, never overrun. */
		memset(small, 'x', sizeof(small));
		report_flush_summary(small, 12, &r);
		assert_int_equal(strncmp(small, c->want, 11), 0);
		assert_int_equal(small[11], '\0');
		assert_int_equal(small[12], 'x');
	}
	/* The longest: every address IPv6, both lists full, all fits. */
	{
		struct flush_spec	 f = summary_cases[2].f;
		char			 many[8 * 48];

		snprintf(many, sizeof(many), "%s", "");
		for (i = 0; i < FLUSHWATCH_ADDRS_MAX; i++)
			snprintf(many + strlen(many), sizeof(many) -
			    strlen(many), "2001:db8:ffff:ffff:ffff:ffff:ffff:"
			    "ff%02zx ", i);
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "+");
		f.addrs = many;
		f.others = many;
		f.nother = 4000000000u;
		f.nconns = 4000000000u;
		f.first = 1000;
		f.last = UINT64_MAX / 2;
		r = flush_result(&f);
		report_flush_summary(buf, sizeof(buf), &r);
		assert_true(strlen(buf) < sizeof(buf) - 1);
		assert_int_equal(strncmp(buf, "delivered: at least 4000000000 "
		    "connections from 2001:db8:ffff:ffff:ffff:ffff:ffff:ff00, ",
		    87), 0);
		assert_non_null(strstr(buf, ":ff07 and more, first 1s, last "
		    "2562047788015h12m after ETRN; at least 4000000000 other "
		    "inbound connections from 2001:db8:ffff:ffff:ffff:ffff:ffff:"
		    "ff00, "));
		assert_int_equal(strcmp(buf + strlen(buf) - strlen(":ff07 and "
		    "more"), ":ff07 and more"), 0);
	}
}

/* A relay with a flush result, for the lines of --once and status. */
struct flush_env {
	struct etrn_result		 r[4];
	struct sched_domain_info	 d[4];
	struct sched_relay_info		 ri[4];
	struct flushwatch_result	 fr[4];
	struct fake			 f;
};

static void
flush_env(struct flush_env *e)
{
	static const char *const	names[] = { "isp", "mx2", "old", "none" };
	size_t				i;

	memset(e, 0, sizeof(*e));
	e->fr[0] = flush_result(&summary_cases[0].f);
	e->fr[1] = flush_result(&summary_cases[4].f);
	e->fr[2] = flush_result(&summary_cases[1].f);
	for (i = 0; i < 4; i++) {
		e->r[i] = result(ETRN_R_OK, 250, "Queuing started", -1);
		e->d[i].domain = "a.example";
		e->d[i].last = &e->r[i];
		e->ri[i].name = names[i];
		e->ri[i].host = "mx.example";
		e->ri[i].port = 25;
		e->ri[i].state = RELAY_S_IDLE;
		e->ri[i].domains = &e->d[i];
		e->ri[i].ndomains = 1;
		e->ri[i].flush = i < 3 ? &e->fr[i] : NULL;
		e->ri[i].flush_last_run = i < 2;
	}
	e->f.ri = e->ri;
	e->f.n = 4;
}

/* --once and etrnctl run: the relays named whose last run was watched. */
static void
test_flush_results(void **state)
{
	struct flush_env	 e;
	struct report_relays	 rr;
	struct lines		 l;
	char			 n_mx2[] = "mx2", n_old[] = "old";
	char			*only_mx2[] = { n_mx2 }, *only_old[] = { n_old };

	(void)state;
	flush_env(&e);
	rr = fake_relays(&e.f);
	memset(&l, 0, sizeof(l));
	report_flush_results(&rr, NULL, 0, collect, &l);
	assert_string_equal(l.buf, "isp flush delivered: 3 connections from "
	    "203.0.113.5, first 400ms, last 2s after ETRN\n"
	    "mx2 flush nothing came back within 1m30s; 2 other inbound "
	    "connections from 198.51.100.9, 198.51.100.10\n"
	    "  hint: check that port 25 is reachable from outside (it arrives "
	    "here on port 2525), that the "
	    "domains' MX and A records point at this site's current address, "
	    "and that the secondary holds mail for them (Postfix answers 250 "
	    "to ETRN with an empty queue)" HINT_OTHERS "\n");
	memset(&l, 0, sizeof(l));
	report_flush_results(&rr, only_mx2, 1, collect, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(strncmp(l.buf, "mx2 flush nothing", 17), 0);
	/* An earlier run's window is not this run's. */
	memset(&l, 0, sizeof(l));
	report_flush_results(&rr, only_old, 1, collect, &l);
	assert_int_equal(l.n, 0);
	/* The name escaped as in the result lines. */
	e.ri[0].name = "i\x1bsp";
	memset(&l, 0, sizeof(l));
	report_flush_results(&rr, NULL, 0, collect, &l);
	assert_int_equal(strncmp(l.buf, "i\\x1bsp flush delivered: ", 25), 0);
}

/* STATUS=: a word on what came back after the relay's last run. */
struct line_flush_case {
	enum relay_state	 state;
	int			 which;	/* summary_cases row, -1 none */
	bool			 last_run;
	const char		*want;
};

static const struct line_flush_case line_flush_cases[] = {
	{ RELAY_S_IDLE, 0, true, "isp ok, delivered 3" },
	{ RELAY_S_IDLE, 2, true, "isp ok, delivered 256" },
	{ RELAY_S_IDLE, 3, true, "isp ok, nothing came back" },
	{ RELAY_S_IDLE, 5, true, "isp ok, watching" },
	{ RELAY_S_IDLE, 8, true, "isp ok" },
	{ RELAY_S_IDLE, 3, false, "isp ok" },
	{ RELAY_S_IDLE, -1, false, "isp ok" },
	{ RELAY_S_BACKOFF, 1, true, "isp 421, retry 13:02:03, delivered 1" },
};

static void
test_status_line_flush(void **state)
{
	struct sched_relay_info		 ri;
	struct sched_domain_info	 d[2];
	struct etrn_result		 r[2];
	struct flushwatch_result	 fr;
	struct fake			 f = { &ri, 1 };
	struct report_relays		 rr = fake_relays(&f);
	char				 buf[512], small[20];
	size_t				 i;

	(void)state;
	for (i = 0; i < sizeof(line_flush_cases) /
	    sizeof(line_flush_cases[0]); i++) {
		const struct line_flush_case	*c = &line_flush_cases[i];

		fill_relay(&ri, d, r, &status_cases[c->state ==
		    RELAY_S_BACKOFF ? 8 : 1], "isp");
		if (c->which >= 0) {
			fr = flush_result(&summary_cases[c->which].f);
			ri.flush = &fr;
		}
		ri.flush_last_run = c->last_run;
		report_status_line(buf, sizeof(buf), &rr, NULL, "/x");
		assert_string_equal(buf, c->want);
	}
	/* Cut to fit. */
	fill_relay(&ri, d, r, &status_cases[1], "isp");
	fr = flush_result(&summary_cases[3].f);
	ri.flush = &fr;
	ri.flush_last_run = true;
	report_status_line(small, sizeof(small), &rr, NULL, "/x");
	assert_string_equal(small, "isp ok, nothing cam");
}

/* etrnctl status: the flush line after the route, and the hint. */
static void
test_status_flush(void **state)
{
	struct flush_env		 e;
	struct report_relays		 rr;
	struct control_daemon_info	 di;
	struct lines			 l;

	(void)state;
	flush_env(&e);
	e.ri[1].route = "via ppp0";
	e.ri[1].flush_last_run = false;
	e.ri[1].port = 2525;
	rr = fake_relays(&e.f);
	memset(&di, 0, sizeof(di));
	di.pid = 42;
	memset(&l, 0, sizeof(l));
	report_status_text(&rr, NULL, &di, NOW, collect, &l);
	assert_non_null(strstr(l.buf, "\nrelay isp (mx.example:25): idle, 0 "
	    "failures; last success -; next retry -\n"
	    "  flush: delivered: 3 connections from 203.0.113.5, first 400ms, "
	    "last 2s after ETRN\n  DOMAIN "));
	assert_non_null(strstr(l.buf, "\nrelay mx2 (mx.example:2525): idle, 0 "
	    "failures; last success -; next retry -\n"
	    "  route: via ppp0\n"
	    "  flush (an earlier run): nothing came back within 1m30s; 2 other "
	    "inbound connections from 198.51.100.9, 198.51.100.10\n"
	    "  hint: check that port 25 is reachable from outside (it arrives "
	    "here on port 2525), that the "
	    "domains' MX and A records point at this site's current address, "
	    "and that the secondary holds mail for them (Postfix answers 250 "
	    "to ETRN with an empty queue)" HINT_OTHERS "\n  DOMAIN "));
	assert_non_null(strstr(l.buf, "\nrelay old (mx.example:25): idle, 0 "
	    "failures; last success -; next retry -\n"
	    "  flush (an earlier run): delivered: 1 connection from "
	    "203.0.113.5, 2s after ETRN\n  DOMAIN "));
	assert_non_null(strstr(l.buf, "\nrelay none (mx.example:25): idle, 0 "
	    "failures; last success -; next retry -\n  DOMAIN "));
}

/* The flush member of status --json: every field, each verdict. */
static void
test_status_flush_json(void **state)
{
	struct flush_env		 e;
	struct report_relays		 rr;
	struct control_daemon_info	 di;
	struct flushwatch_result	 ko, watching;
	struct lines			 l;

	(void)state;
	flush_env(&e);
	e.fr[2] = flush_result(&summary_cases[2].f);
	ko = flush_result(&summary_cases[11].f);
	watching = flush_result(&summary_cases[5].f);
	watching.started = 0;
	rr = fake_relays(&e.f);
	memset(&di, 0, sizeof(di));
	memset(&l, 0, sizeof(l));
	report_status_json(&rr, NULL, &di, collect, &l);
	assert_non_null(strstr(l.buf, "\"sent_as\":null,\"detail\":null}],"
	    "\"flush\":{\"verdict\":\"delivered\",\"started\":1796125800,"
	    "\"window_ms\":300000,\"elapsed_ms\":32100,\"port\":25,"
	    "\"connections\":3,\"from\":[\"203.0.113.5\"],\"more_from\":false,"
	    "\"first_ms\":400,\"last_ms\":2100,\"other_connections\":0,"
	    "\"other_from\":[],\"other_more_from\":false,\"overflow\":false,"
	    "\"reason\":null,\"error\":null,\"last_run\":true}},"
	    "{\"name\":\"mx2\","));
	assert_non_null(strstr(l.buf, "\"flush\":{\"verdict\":\"nothing\","
	    "\"started\":1796125800,\"window_ms\":90000,\"elapsed_ms\":90000,"
	    "\"port\":2525,\"connections\":0,\"from\":[],\"more_from\":false,"
	    "\"first_ms\":null,\"last_ms\":null,\"other_connections\":2,"
	    "\"other_from\":[\"198.51.100.9\",\"198.51.100.10\"],"
	    "\"other_more_from\":false,\"overflow\":false,\"reason\":null,"
	    "\"error\":null,\"last_run\":true}}"));
	assert_non_null(strstr(l.buf, "\"flush\":{\"verdict\":\"delivered\","
	    "\"started\":1796125800,\"window_ms\":300000,\"elapsed_ms\":120000,"
	    "\"port\":25,\"connections\":256,\"from\":[\"203.0.113.5\","
	    "\"2001:db8::25\"],\"more_from\":true,\"first_ms\":1000,"
	    "\"last_ms\":90000,\"other_connections\":1,\"other_from\":"
	    "[\"198.51.100.9\"],\"other_more_from\":false,\"overflow\":true,"
	    "\"reason\":null,\"error\":null,\"last_run\":false}}"));
	assert_non_null(strstr(l.buf, "\"flush\":null}]}"));
	e.ri[0].flush = &ko;
	e.ri[1].flush = &watching;
	memset(&l, 0, sizeof(l));
	report_status_json(&rr, NULL, &di, collect, &l);
	assert_non_null(strstr(l.buf, "\"flush\":{\"verdict\":"
	    "\"not-observable\",\"started\":1796125800,\"window_ms\":300000,"
	    "\"elapsed_ms\":0,\"port\":25,\"connections\":0,\"from\":[],"
	    "\"more_from\":false,\"first_ms\":null,\"last_ms\":null,"
	    "\"other_connections\":0,\"other_from\":[],\"other_more_from\":"
	    "false,\"overflow\":false,\"reason\":\"kernel\",\"error\":"
	    "\"Operation not permitted\",\"last_run\":true}}"));
	assert_non_null(strstr(l.buf, "\"flush\":{\"verdict\":\"watching\","
	    "\"started\":null,\"window_ms\":300000,\"elapsed_ms\":12000,"));
	assert_int_equal(l.n, 1);
	assert_true(is_ascii_printable(l.buf));
}

/*
 * etrnctl history: two relays' runs, a form the server asked for, a
 * hostile reply and relay name, a run still going, one that was watched.
 */
static struct history *
history_env(void)
{
	struct history			*h;
	struct etrn_result		 r;
	struct flushwatch_result	 fr;
	uint64_t			 id;

	h = history_new();
	id = history_begin(h, "isp", RELAY_T_LINKUP, NOW - 3600);
	r = result(ETRN_R_OK, 250, "Queuing started", -1);
	history_result(h, id, "example.org", "#example.org", &r);
	r = result(ETRN_R_TEMP, 0, "connect to 192.0.2.1 port 25: Connection "
	    "refused", -1);
	history_result(h, id, "b.example", NULL, &r);
	history_end(h, id, NOW - 3598);
	fr = flush_result(&summary_cases[3].f);
	history_flush(h, id, &fr);
	id = history_begin(h, "m\"x\\2\x9b", RELAY_T_MANUAL, NOW - 5);
	r = result(ETRN_R_REFUSED, 554, "bad \xc2\x9b" "31m \"q\"\n2nd", -1);
	history_result(h, id, "c.example", NULL, &r);
	return h;
}

static void
test_history_text(void **state)
{
	struct history	*h;
	struct lines	 l;
	struct etrn_result r = result(ETRN_R_OK, 250, "ok", -1);
	char		 dom[32];
	uint64_t	 id;
	size_t		 i;

	(void)state;
	h = history_env();
	memset(&l, 0, sizeof(l));
	report_history_text(h, NULL, NOW, collect, &l);
	assert_string_equal(l.buf, "history: 2 runs kept (the last 64 of all "
	    "relays), oldest first; times in UTC (+0000)\n"
	    "\n"
	    "1 2026-12-01 11:00:00 isp link-up, took 2s\n"
	    "  #example.org ok 250 Queuing started\n"
	    "  b.example temporary - connect to 192.0.2.1 port 25: Connection "
	    "refused\n"
	    "  flush: nothing came back within 5m\n"
	    "  hint: " HINT "\n"
	    "\n"
	    "2 2026-12-01 11:59:55 m\"x\\x5c2\\x9b manual, running for 5s\n"
	    "  c.example refused 554 bad \\xc2\\x9b31m \"q\" 2nd\n");
	assert_true(is_ascii_printable(l.buf));
	/* One relay's. */
	memset(&l, 0, sizeof(l));
	report_history_text(h, "isp", NOW, collect, &l);
	assert_int_equal(strncmp(l.buf, "history of isp: 1 run kept (the last "
	    "64 of all relays), oldest first; times in UTC (+0000)\n\n1 "
	    "2026-12-01 11:00:00 isp link-up, took 2s\n", 113), 0);
	memset(&l, 0, sizeof(l));
	report_history_text(h, "no\x1bsuch", NOW, collect, &l);
	assert_string_equal(l.buf, "history of no\\x1bsuch: 0 runs kept (the "
	    "last 64 of all relays), oldest first; times in UTC (+0000)\n");
	history_free(h);

	/* Domains beyond the run's bound: counted. */
	h = history_new();
	id = history_begin(h, "big", RELAY_T_INTERVAL, NOW);
	for (i = 0; i < HISTORY_DOMAINS_MAX + 2; i++) {
		snprintf(dom, sizeof(dom), "d%zu.example", i);
		history_result(h, id, dom, NULL, &r);
	}
	history_end(h, id, NOW);
	memset(&l, 0, sizeof(l));
	report_history_text(h, NULL, NOW, collect, &l);
	assert_non_null(strstr(l.buf, "big interval, took 0s\n"
	    "  d0.example ok 250 ok\n"));
	assert_non_null(strstr(l.buf, "\n  d63.example ok 250 ok\n"
	    "  and 2 more domains, not kept\n"));
	assert_int_equal(l.n, 3 + HISTORY_DOMAINS_MAX + 1);
	history_free(h);
}

static void
test_history_json(void **state)
{
	struct history	*h;
	struct lines	 l;

	(void)state;
	h = history_env();
	memset(&l, 0, sizeof(l));
	report_history_json(h, NULL, collect, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.buf, "{\"runs\":["
	    "{\"id\":1,\"relay\":\"isp\",\"trigger\":\"link-up\","
	    "\"started\":1796122800,\"ended\":1796122802,\"domains\":["
	    "{\"domain\":\"example.org\",\"sent_as\":\"#example.org\","
	    "\"result\":\"ok\",\"code\":250,\"text\":\"Queuing started\"},"
	    "{\"domain\":\"b.example\",\"sent_as\":null,\"result\":\"temporary\","
	    "\"code\":null,\"text\":\"connect to 192.0.2.1 port 25: "
	    "Connection refused\"}],\"more_domains\":0,"
	    "\"flush\":{\"verdict\":\"nothing\",\"started\":1796125800,"
	    "\"window_ms\":300000,\"elapsed_ms\":300000,\"port\":25,"
	    "\"connections\":0,\"from\":[],\"more_from\":false,"
	    "\"first_ms\":null,\"last_ms\":null,\"other_connections\":0,"
	    "\"other_from\":[],\"other_more_from\":false,\"overflow\":false,"
	    "\"reason\":null,\"error\":null}},"
	    "{\"id\":2,\"relay\":\"m\\\"x\\\\x5c2\\\\x9b\",\"trigger\":\"manual\","
	    "\"started\":1796126395,\"ended\":null,\"domains\":["
	    "{\"domain\":\"c.example\",\"sent_as\":null,\"result\":\"refused\","
	    "\"code\":554,\"text\":\"bad \\\\xc2\\\\x9b31m \\\"q\\\" 2nd\"}],"
	    "\"more_domains\":0,\"flush\":null}],\"max_runs\":64}\n");
	assert_true(is_ascii_printable(l.buf));
	memset(&l, 0, sizeof(l));
	report_history_json(h, "nosuch", collect, &l);
	assert_string_equal(l.buf, "{\"runs\":[],\"max_runs\":64}\n");
	history_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_text),
		cmocka_unit_test(test_result_line),
		cmocka_unit_test(test_exit_rule),
		cmocka_unit_test(test_results),
		cmocka_unit_test(test_status_line),
		cmocka_unit_test(test_status_text),
		cmocka_unit_test(test_status_json),
		cmocka_unit_test(test_status_forms),
		cmocka_unit_test(test_flush_summary),
		cmocka_unit_test(test_flush_results),
		cmocka_unit_test(test_status_line_flush),
		cmocka_unit_test(test_status_flush),
		cmocka_unit_test(test_status_flush_json),
		cmocka_unit_test(test_history_text),
		cmocka_unit_test(test_history_json),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
