/* SPDX-License-Identifier: ISC */
/*
 * Tests for report, the presentation module, by tables: the result line,
 * a reply flattened and escaped (C1 controls, bidi overrides, invalid
 * UTF-8), the exit rule, STATUS= for every relay state, and etrnctl
 * status as text and as JSON, from relay tables instead of a scheduler.
 */
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
	    "\"last_attempt\":null,\"sent_as\":null,\"detail\":null}]},"
	    "{\"name\":\"c1\",\"host\":\"192.0.2.1\",\"port\":2525,"
	    "\"state\":\"backoff\",\"failures\":1,\"last_success\":null,"
	    "\"next_retry\":1796126490,\"route\":\"via site0\","
	    "\"domains\":["
	    "{\"domain\":\"c1.example\",\"result\":\"temporary\",\"code\":421,"
	    /* The table's escaped text, its backslashes and quotes for JSON. */
	    "\"text\":\"bad \\\\xc2\\\\x9b31m \\\\xff\\\\xfe \\\\xe2\\\\x80"
	    "\\\\xae \\\"q\\\" \\\\x5c\",\"pending\":null,\"last_ok\":null,"
	    "\"last_attempt\":1796126400,\"sent_as\":null,"
	    "\"detail\":null}]}]}\n", ETRND_VERSION);
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
	    "\"repeated\"}]}]}"));
	assert_true(is_ascii_printable(l.buf));

	/* STATUS=: a flush under way is no failure. */
	ri.ndomains = 2;
	{
		char	buf[256];

		report_status_line(buf, sizeof(buf), &rr, NULL, "/x");
		assert_string_equal(buf, "exim ok");
	}
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
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
