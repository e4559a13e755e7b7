/* SPDX-License-Identifier: ISC */
/*
 * test_sched: the scheduler with real sessions against an in-loop fake
 * SMTP server that answers like Postfix (fakesmtp.c): --once results and
 * exit status, chunking, the session cap, a rerun after a running session,
 * the retry timer, offline, settle, interval, reload, the waiters of
 * sched_run(), the local-smtp gate and shutdown: the mechanism.  What the
 * policy decides (which domains, backoff, give-up, refusals) is proven
 * by test_relay's table, without sockets or the clock.  Configurations
 * come from conf_parse() with durations of a few milliseconds.  Every loop
 * is bounded; assertions count connections and ETRN arguments.  What must
 * happen while a session runs is done from the server's ETRN hook, not
 * after a sleep; "nothing more happens" waits QUIET_MS, longer than any
 * timer the test's configuration arms; the few on time only say "not
 * before" the timer's own duration (less the clock's granularity).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
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
#include <event2/dns.h>
#include <event2/event.h>

#include "conf.h"
#include "fakesmtp.h"
#include "history.h"
#include "log.h"
#include "report.h"
#include "sched.h"
#include "util.h"

#define HELO		"client.example"
#define RUN_MAX_MS	5000
/* Longer than retry-max, settle, interval and hold-down in these tests. */
#define QUIET_MS	60
/* A timer fires no earlier than its duration less this, on our clock. */
#define CLOCK_SLACK_MS	10

/*
 * A [daemon] section with test-sized durations, and no flush window
 * unless the test is about one (this host's own MTA may listen on 25).
 */
#define DAEMON_BASE(settle, rmin, rmax, giveup, ctimeout)		\
	"[daemon]\n"							\
	"helo = " HELO "\n"						\
	"settle = " settle "\n"						\
	"retry-min = " rmin "\n"					\
	"retry-max = " rmax "\n"					\
	"give-up = " giveup "\n"					\
	"reply-timeout = 500ms\n"					\
	"connect-timeout = " ctimeout "\n"
#define DAEMON_CT(settle, rmin, rmax, giveup, ctimeout, extra)		\
	DAEMON_BASE(settle, rmin, rmax, giveup, ctimeout)		\
	"flush-window = 0\n"						\
	extra
/* A flush window of window, ending quiet after the last connection. */
#define DAEMON_FLUSH(window, quiet, extra)				\
	DAEMON_BASE("0", "20ms", "40ms", "1h", "500ms")			\
	"flush-window = " window "\n"					\
	"flush-quiet = " quiet "\n"					\
	extra
#define DAEMON(settle, rmin, rmax, giveup, extra)			\
	DAEMON_CT(settle, rmin, rmax, giveup, "500ms", extra)

#define RPL_OK		"250 Queuing started\r\n"
#define RPL_TEMP		"458 Unable to queue messages\r\n"
#define RPL_REFUSED	"459 <ref.example>: service unavailable\r\n"

/* What a sched_run() caller saw. */
struct waited {
	unsigned	 calls;
	unsigned	 conns;		/* connections when called back */
	struct env	*env;
};

struct env {
	struct event_base	*base;
	struct evdns_base	*dns;
	struct fake_server	*fs;
	struct conf		*conf;
	struct sched		*sc;
	int			 refuse_fd;

	/* The fake server's behaviour. */
	unsigned		 hold_ms;	/* before each ETRN reply */
	unsigned		 flaky_conns;	/* flaky.*: 458 on conns 1..n */
	void			(*on_etrn)(struct env *, unsigned lis,
				    unsigned conn);
	bool			 triggered;
	struct conf		*next_conf;	/* for an on_etrn reload */
	struct waited		*next_waited;	/* for an on_etrn sched_run */
	struct sched_waiter	**next_waiter;

	/* What happened. */
	char			 etrns[FAKE_LISTENERS_MAX][1024];
	unsigned		 idle;
	unsigned		 changed;
	bool			 saw_backoff;	/* status said "retry HH:MM:SS" */
	uint64_t		 first_ehlo_ms;

	/* The flush tests: the site's MTA, and what a waiter heard. */
	uint16_t		 mta;
	char			 phases[8];	/* "D", "DF" */
};

/* The ETRN reply by the domain's first label, as Postfix words them. */
static const char *
reply_for(struct env *env, unsigned conn, const char *dom)
{
	if (strncmp(dom, "tmp.", 4) == 0)
		return RPL_TEMP;
	if (strncmp(dom, "ref.", 4) == 0)
		return RPL_REFUSED;
	if (strncmp(dom, "flaky.", 6) == 0 && conn <= env->flaky_conns)
		return RPL_TEMP;
	return RPL_OK;
}

static struct fake_step
postfix(struct fake_server *fs, unsigned lis, unsigned conn,
    const char *line, void *arg)
{
	struct env		*env = arg;
	struct fake_step	 st = { NULL, NULL, 0, false };
	size_t			 len;

	(void)fs;
	if (line == NULL)
		st.send = "220 mx.test ESMTP Postfix (Debian/GNU)\r\n";
	else if (strncmp(line, "EHLO ", 5) == 0) {
		if (env->first_ehlo_ms == 0)
			env->first_ehlo_ms = fake_now_ms();
		st.send = "250-mx.test\r\n250-PIPELINING\r\n250-ETRN\r\n"
		    "250 8BITMIME\r\n";
	} else if (strncmp(line, "ETRN ", 5) == 0) {
		len = strlen(env->etrns[lis]);
		snprintf(env->etrns[lis] + len, sizeof(env->etrns[lis]) - len,
		    "%u %s\n", conn, line + 5);
		st.send = reply_for(env, conn, line + 5);
		st.delay_ms = env->hold_ms;
		if (env->on_etrn != NULL)
			env->on_etrn(env, lis, conn);
	} else if (strcmp(line, "QUIT") == 0) {
		st.send = "221 2.0.0 Bye\r\n";
		st.close = true;
	} else
		st.send = "502 5.5.2 Error: command not recognized\r\n";
	return st;
}

/* STATUS='s relay part, and --once's exit status, as report shows them. */
static void
status_line(struct env *env, char *buf, size_t len)
{
	struct report_relays	rr = report_relays_of(env->sc);

	report_status_line(buf, len, &rr, NULL, "test.conf");
}

static int
exit_status(struct env *env)
{
	struct report_relays	rr = report_relays_of(env->sc);

	return report_results(&rr, NULL, 0, NULL, NULL);
}

static void
hook_changed(void *arg)
{
	struct env	*env = arg;
	char		 buf[512];
	const char	*p;
	int		 h, m, sec, n = 0;

	env->changed++;
	if (env->sc == NULL)
		return;
	status_line(env, buf, sizeof(buf));
	/* An absolute time: a relative "in 5s" goes stale on show. */
	if ((p = strstr(buf, ", retry ")) != NULL) {
		assert_int_equal(sscanf(p, ", retry %2d:%2d:%2d%n", &h, &m, &sec,
		    &n), 3);
		assert_int_equal(n, (int)strlen(", retry 00:00:00"));
		assert_null(strstr(buf, "retry in"));
		env->saw_backoff = true;
	}
}

static void
hook_idle(void *arg)
{
	struct env	*env = arg;

	env->idle++;
}

static int
setup(void **state)
{
	struct env	*env;

	env = calloc(1, sizeof(*env));
	assert_non_null(env);
	env->refuse_fd = -1;
	env->base = event_base_new();
	assert_non_null(env->base);
	env->dns = evdns_base_new(env->base, 0);
	assert_non_null(env->dns);
	env->fs = fake_new(env->base);
	fake_responder(env->fs, postfix, env);
	*state = env;
	return 0;
}

static int
teardown(void **state)
{
	struct env	*env = *state;

	sched_free(env->sc);
	conf_free(env->conf);
	conf_free(env->next_conf);
	fake_free(env->fs);
	evdns_base_free(env->dns, 0);
	event_base_free(env->base);
	if (env->refuse_fd != -1)
		close(env->refuse_fd);
	free(env);
	return 0;
}

static struct conf *
load(const char *fmt, ...)
{
	struct conf	*conf;
	char		 text[4096], *errors = NULL;
	va_list		 ap;
	int		 n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	conf = conf_parse("test.conf", text, (size_t)n, &errors);
	if (conf == NULL)
		fail_msg("%s", errors);
	return conf;
}

static void
start(struct env *env, bool once)
{
	struct sched_hooks	hooks = {
		.changed = hook_changed, .idle = hook_idle, .arg = env };

	env->sc = sched_new(env->base, env->dns, env->conf, HELO, once,
	    &hooks);
	assert_non_null(env->sc);
	if (!once)
		sched_set_online(env->sc, true);
}

static bool
is_idle(void *arg)
{
	struct env	*env = arg;

	return env->idle > 0 && env->fs->nopen == 0;
}

/* No session, none queued, and the server saw every connection end. */
static bool
is_quiet(void *arg)
{
	struct env	*env = arg;

	return !sched_busy(env->sc) && env->fs->nopen == 0;
}

/* Quiet after at least n connections on listener 0. */
static unsigned	want_conns;

static bool
quiet_after(void *arg)
{
	struct env	*env = arg;

	return env->fs->lis[0].nconns >= want_conns && is_quiet(env);
}

static void
run_until_conns(struct env *env, unsigned n)
{
	want_conns = n;
	assert_true(fake_run_until(env->base, quiet_after, env, RUN_MAX_MS));
	assert_int_equal(env->fs->lis[0].nconns, n);
}

static void
assert_status(struct env *env, const char *want)
{
	char	buf[512];

	status_line(env, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static char *
results(struct env *env)
{
	struct report_relays	 rr = report_relays_of(env->sc);
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*f;

	assert_non_null(f = open_memstream(&buf, &len));
	report_results(&rr, NULL, 0, report_line_stdio, f);
	fclose(f);
	return buf;
}

/* --once: one session per relay, no retries, lines and exit status. */
struct once_case {
	const char	*domains;
	bool		 down;		/* add a relay nobody answers */
	int		 status;
	const char	*lines;		/* "PORT": the refusing port */
};

static const struct once_case once_cases[] = {
	{ "ok.example", false, 0,
	    "isp ok.example ok 250 Queuing started\n" },
	{ "ok.example tmp.example", false, 75,
	    "isp ok.example ok 250 Queuing started\n"
	    "isp tmp.example temporary 458 Unable to queue messages\n" },
	{ "ok.example", true, 75,
	    "isp ok.example ok 250 Queuing started\n"
	    "down ok.example temporary - " FAKE_ADDR ":PORT: Connection "
	    "refused\n" },
	{ "ok.example tmp.example ref.example", false, 1,
	    "isp ok.example ok 250 Queuing started\n"
	    "isp tmp.example temporary 458 Unable to queue messages\n"
	    "isp ref.example refused 459 <ref.example>: service "
	    "unavailable\n" },
};

/* Copy in to out with "PORT" replaced by port. */
static void
subst_port(char *out, size_t len, const char *in, uint16_t port)
{
	const char	*p = strstr(in, "PORT");

	if (p == NULL)
		snprintf(out, len, "%s", in);
	else
		snprintf(out, len, "%.*s%u%s", (int)(p - in), in, port, p + 4);
}

static void
test_once(void **state)
{
	struct env	*env = *state;
	const struct once_case *c;
	char		 want[1024], relay_down[128], *got;
	uint16_t	 port, down;
	size_t		 i;

	for (i = 0; i < nitems(once_cases); i++) {
		c = &once_cases[i];
		/* A fresh server and scheduler for each row. */
		sched_free(env->sc);
		env->sc = NULL;
		conf_free(env->conf);
		fake_free(env->fs);
		env->fs = fake_new(env->base);
		fake_responder(env->fs, postfix, env);
		memset(env->etrns, 0, sizeof(env->etrns));
		env->idle = 0;
		if (env->refuse_fd != -1)
			close(env->refuse_fd);
		down = fake_refusing_port(FAKE_ADDR, &env->refuse_fd);
		assert_int_not_equal(down, 0);

		port = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
		relay_down[0] = '\0';
		if (c->down)
			snprintf(relay_down, sizeof(relay_down), "[relay down]"
			    "\nhost = " FAKE_ADDR "\nport = %u\n"
			    "domains = ok.example\n", down);
		env->conf = load(DAEMON("0", "20ms", "40ms", "1s", "")
		    "[relay isp]\nhost = " FAKE_ADDR "\nport = %u\n"
		    "domains = %s\n%s", port, c->domains, relay_down);
		start(env, true);
		sched_trigger_all(env->sc, RELAY_T_MANUAL);
		assert_true(sched_busy(env->sc));
		assert_int_equal(env->idle, 0);
		assert_true(fake_run_until(env->base, is_idle, env,
		    RUN_MAX_MS));
		/* No retries in --once: nothing more, even after retry-min
		 * (the policy's table proves it for every case; once here). */
		if (i == 1)
			fake_run_for(env->base, QUIET_MS);
		assert_int_equal(env->idle, 1);
		assert_int_equal(env->fs->nconns, 1);

		subst_port(want, sizeof(want), c->lines, down);
		got = results(env);
		assert_string_equal(got, want);
		free(got);
		assert_int_equal(exit_status(env), c->status);
	}
}

/* 10 domains: sessions of 7 and 3, one after the other. */
static void
test_chunks(void **state)
{
	struct env	*env = *state;
	char		*got;
	uint16_t	 port;

	port = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	env->conf = load(DAEMON("0", "20ms", "40ms", "1s", "")
	    "[relay isp]\nhost = " FAKE_ADDR "\nport = %u\n"
	    "domains = d01.example "
	    "d02.example d03.example d04.example d05.example d06.example "
	    "d07.example d08.example d09.example d10.example\n", port);
	start(env, true);
	sched_trigger_all(env->sc, RELAY_T_MANUAL);
	assert_true(fake_run_until(env->base, is_idle, env, RUN_MAX_MS));
	assert_string_equal(env->etrns[0],
	    "1 d01.example\n1 d02.example\n1 d03.example\n1 d04.example\n"
	    "1 d05.example\n1 d06.example\n1 d07.example\n"
	    "2 d08.example\n2 d09.example\n2 d10.example\n");
	assert_int_equal(env->fs->lis[0].nconns, 2);
	assert_int_equal(env->fs->lis[0].maxopen, 1);
	assert_int_equal(env->idle, 1);
	assert_int_equal(exit_status(env), 0);
	got = results(env);
	assert_non_null(strstr(got, "isp d07.example ok 250"));
	assert_non_null(strstr(got, "isp d10.example ok 250"));
	free(got);
}

/* max-sessions = 2, five relays on FAKE_NET 1-5: never more than two. */
static void
test_max_sessions(void **state)
{
	struct env	*env = *state;
	char		 relays[1024], addr[16];
	size_t		 i, len = 0;
	unsigned	 lis;

	for (i = 0; i < 5; i++) {
		snprintf(addr, sizeof(addr), FAKE_NET "%zu", i + 1);
		lis = fake_listen(env->fs, addr);
		len += (size_t)snprintf(relays + len, sizeof(relays) - len,
		    "[relay r%zu]\nhost = %s\nport = %u\ndomains = "
		    "ok.example\n", i + 1, addr, env->fs->lis[lis].port);
	}
	env->hold_ms = 20;	/* so that sessions overlap */
	env->conf = load(DAEMON("0", "20ms", "40ms", "1s",
	    "max-sessions = 2\n") "%s", relays);
	start(env, true);
	sched_trigger_all(env->sc, RELAY_T_MANUAL);
	assert_status(env, "5 relays: 2 running, 3 queued, 0 retrying, "
	    "0 failed");
	assert_true(fake_run_until(env->base, is_idle, env, RUN_MAX_MS));
	assert_int_equal(env->fs->maxopen, 2);
	for (i = 0; i < 5; i++) {
		assert_int_equal(env->fs->lis[i].nconns, 1);
		assert_string_equal(env->etrns[i], "1 ok.example\n");
	}
	assert_int_equal(exit_status(env), 0);
	assert_status(env, "5 relays: 0 running, 0 queued, 0 retrying, "
	    "0 failed");
}

/* Three triggers while the server holds the session: one rerun. */
static void
trigger_thrice(struct env *env, unsigned lis, unsigned conn)
{
	(void)lis;
	if (conn != 1 || env->triggered)
		return;
	env->triggered = true;
	sched_trigger_all(env->sc, RELAY_T_MANUAL);
	sched_trigger_all(env->sc, RELAY_T_INTERVAL);
	sched_trigger_all(env->sc, RELAY_T_LINKUP);
}

static void
test_coalesce(void **state)
{
	struct env	*env = *state;
	uint16_t	 port;

	port = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	env->conf = load(DAEMON("0", "20ms", "40ms", "1s", "")
	    "[relay isp]\nhost = " FAKE_ADDR "\nport = %u\n"
	    "domains = a.example b.example\n", port);
	env->hold_ms = 10;
	env->on_etrn = trigger_thrice;
	start(env, false);
	sched_trigger_all(env->sc, RELAY_T_MANUAL);
	run_until_conns(env, 2);
	assert_true(env->triggered);
	fake_run_for(env->base, QUIET_MS);
	assert_int_equal(env->fs->lis[0].nconns, 2);
	assert_int_equal(env->fs->lis[0].maxopen, 1);
	assert_string_equal(env->etrns[0], "1 a.example\n1 b.example\n"
	    "2 a.example\n2 b.example\n");
	assert_status(env, "isp ok");
}

/* 458 twice, then 250: two retries, then quiet. */
static void
test_backoff(void **state)
{
	struct env	*env = *state;
	uint16_t	 port;

	port = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	env->conf = load(DAEMON("0", "20ms", "40ms", "1h", "")
	    "[relay isp]\nhost = " FAKE_ADDR "\nport = %u\n"
	    "domains = flaky.example\n", port);
	env->flaky_conns = 2;
	start(env, false);
	sched_trigger_all(env->sc, RELAY_T_MANUAL);
	run_until_conns(env, 3);
	fake_run_for(env->base, QUIET_MS);	/* more than retry-max */
	assert_int_equal(env->fs->lis[0].nconns, 3);
	assert_int_equal(env->fs->lis[0].maxopen, 1);
	assert_true(env->saw_backoff);
	assert_string_equal(env->etrns[0], "1 flaky.example\n"
	    "2 flaky.example\n3 flaky.example\n");
	assert_status(env, "isp ok");
	assert_int_equal(exit_status(env), 0);
}

/* Offline in backoff: no retry until a link is up and settled. */
static void
test_offline(void **state)
{
	struct env	*env = *state;
	uint64_t	 t;
	uint16_t	 port;

	port = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	env->conf = load(DAEMON("30ms", "40ms", "40ms", "1h", "")
	    "[relay isp]\nhost = " FAKE_ADDR "\nport = %u\n"
	    "domains = tmp.example\n", port);
	start(env, false);
	sched_trigger_all(env->sc, RELAY_T_MANUAL);
	run_until_conns(env, 1);
	assert_true(env->saw_backoff);	/* retry armed, 40 ms away */
	sched_set_online(env->sc, false);
	assert_status(env, "isp 458, waiting for link");
	fake_run_for(env->base, QUIET_MS);	/* past the retry it had armed */
	assert_int_equal(env->fs->lis[0].nconns, 1);

	/* Online alone runs nothing; a link-up runs after settle. */
	sched_set_online(env->sc, true);
	fake_run_for(env->base, QUIET_MS);
	assert_int_equal(env->fs->lis[0].nconns, 1);
	env->first_ehlo_ms = 0;
	t = fake_now_ms();
	sched_on_link_up(env->sc);
	run_until_conns(env, 2);
	assert_true(env->first_ehlo_ms - t >= 30 - CLOCK_SLACK_MS);
}

/*
 * Link-up 20 times, 1 ms apart, settle 30 ms: one run after the last.  The
 * flapper's next expiry always comes before the settle timer it re-armed,
 * so however late the loop runs, no flap finds settle expired.
 */
struct flapper {
	struct env	*env;
	struct event	*ev;
	unsigned	 left;
	uint64_t	 last_ms;
};

static void
flap_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct flapper	*f = arg;

	(void)fd;
	(void)ev;
	if (f->left == 0)
		return;
	f->left--;
	f->last_ms = fake_now_ms();
	sched_on_link_up(f->env->sc);
	if (f->left == 0)
		event_del(f->ev);
}

static void
test_settle(void **state)
{
	struct env	*env = *state;
	struct flapper	 f = { env, NULL, 20, 0 };
	struct timeval	 tv = { 0, 1000 };
	uint16_t	 port;

	port = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	env->conf = load(DAEMON("30ms", "20ms", "40ms", "1h", "")
	    "[relay isp]\nhost = " FAKE_ADDR "\nport = %u\n"
	    "domains = ok.example\n", port);
	start(env, false);
	assert_non_null(f.ev = event_new(env->base, -1, EV_PERSIST, flap_cb,
	    &f));
	event_add(f.ev, &tv);
	run_until_conns(env, 1);
	assert_int_equal(f.left, 0);
	assert_true(env->first_ehlo_ms - f.last_ms >= 30 - CLOCK_SLACK_MS);
	fake_run_for(env->base, QUIET_MS);
	assert_int_equal(env->fs->lis[0].nconns, 1);
	event_free(f.ev);
}

/*
 * settle = 0, hold-down 50 ms: the first of 20 link-ups runs at once --
 * its session is open before the call returns -- and the other 19 make
 * one more run, at the end of the window.
 */
static void
test_holddown(void **state)
{
	struct env	*env = *state;
	uint16_t	 port;
	int		 i;

	port = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	env->conf = load(DAEMON("0", "20ms", "40ms", "1h",
	    "hold-down = 50ms\n") "[relay isp]\nhost = " FAKE_ADDR "\n"
	    "port = %u\ndomains = ok.example\n", port);
	start(env, false);
	sched_on_link_up(env->sc);
	/* The leading edge did not wait for the link to settle. */
	assert_true(sched_busy(env->sc));
	for (i = 1; i < 20; i++)
		sched_on_link_up(env->sc);
	run_until_conns(env, 2);
	fake_run_for(env->base, QUIET_MS);
	assert_int_equal(env->fs->lis[0].nconns, 2);
	assert_int_equal(env->fs->lis[0].maxopen, 1);
}

/* interval = 20ms: runs repeat with no link event and no trigger. */
static void
test_interval(void **state)
{
	struct env	*env = *state;
	uint16_t	 port;

	port = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	env->conf = load(DAEMON("0", "20ms", "40ms", "1h",
	    "interval = 20ms\n") "[relay isp]\nhost = " FAKE_ADDR "\n"
	    "port = %u\ndomains = ok.example\n", port);
	start(env, false);
	run_until_conns(env, 3);
	assert_int_equal(env->fs->lis[0].maxopen, 1);
}

/* Reload: an unchanged relay keeps its state, new and changed ones run. */
static void
test_reconfigure(void **state)
{
	struct env	*env = *state;
	struct conf	*old;
	uint16_t	 pa, pb;

	pa = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	pb = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	env->conf = load(DAEMON("0", "20ms", "40ms", "1h", "")
	    "[relay a]\nhost = " FAKE_ADDR "\nport = %u\n"
	    "domains = a.example\n", pa);
	start(env, false);
	sched_trigger_all(env->sc, RELAY_T_MANUAL);
	run_until_conns(env, 1);

	/* b is new. */
	old = env->conf;
	env->conf = load(DAEMON("0", "20ms", "40ms", "1h", "")
	    "[relay a]\nhost = " FAKE_ADDR "\nport = %u\ndomains = a.example\n"
	    "[relay b]\nhost = " FAKE_ADDR "\nport = %u\ndomains = b.example\n",
	    pa, pb);
	sched_reconfigure(env->sc, env->conf, HELO);
	conf_free(old);
	assert_true(fake_run_until(env->base, is_quiet, env, RUN_MAX_MS));
	fake_run_for(env->base, QUIET_MS);
	assert_int_equal(env->fs->lis[0].nconns, 1);
	assert_int_equal(env->fs->lis[1].nconns, 1);
	assert_status(env, "a ok; b ok");

	/* a changed (one more domain), b unchanged. */
	old = env->conf;
	env->conf = load(DAEMON("0", "20ms", "40ms", "1h", "")
	    "[relay a]\nhost = " FAKE_ADDR "\nport = %u\n"
	    "domains = a.example a2.example\n"
	    "[relay b]\nhost = " FAKE_ADDR "\nport = %u\ndomains = b.example\n",
	    pa, pb);
	sched_reconfigure(env->sc, env->conf, HELO);
	conf_free(old);
	run_until_conns(env, 2);
	fake_run_for(env->base, QUIET_MS);
	assert_int_equal(env->fs->lis[0].nconns, 2);
	assert_int_equal(env->fs->lis[1].nconns, 1);
	assert_string_equal(env->etrns[0], "1 a.example\n2 a.example\n"
	    "2 a2.example\n");
	assert_string_equal(env->etrns[1], "1 b.example\n");
}

static bool
saw_etrn(void *arg)
{
	struct env	*env = arg;

	return env->etrns[0][0] != '\0';
}

/* The reload of env->next_conf, when a's first session sends its ETRN. */
static void
reload_on_etrn(struct env *env, unsigned lis, unsigned conn)
{
	struct conf	*old = env->conf;

	if (lis != 0 || conn != 1 || env->triggered)
		return;
	env->triggered = true;
	env->conf = env->next_conf;
	env->next_conf = NULL;
	sched_reconfigure(env->sc, env->conf, HELO);
	conf_free(old);			/* the dying relay must not need it */
	assert_true(sched_busy(env->sc));
}

static bool
reloaded_and_quiet(void *arg)
{
	struct env	*env = arg;

	return env->triggered && is_quiet(env);
}

/* A relay removed by a reload while its session runs: it finishes. */
static void
test_reconfigure_removes_running(void **state)
{
	struct env	*env = *state;
	uint16_t	 pa, pb;

	pa = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	pb = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	env->conf = load(DAEMON("0", "20ms", "40ms", "1h", "")
	    "[relay a]\nhost = " FAKE_ADDR "\nport = %u\n"
	    "domains = a.example\n", pa);
	env->next_conf = load(DAEMON("0", "20ms", "40ms", "1h", "")
	    "[relay b]\nhost = " FAKE_ADDR "\nport = %u\ndomains = b.example\n",
	    pb);
	env->hold_ms = 10;
	env->on_etrn = reload_on_etrn;
	start(env, false);
	sched_trigger_all(env->sc, RELAY_T_MANUAL);
	assert_true(fake_run_until(env->base, reloaded_and_quiet, env,
	    RUN_MAX_MS));
	assert_int_equal(env->fs->lis[0].nconns, 1);
	assert_int_equal(env->fs->lis[1].nconns, 1);
	assert_non_null(strstr(env->fs->log, "QUIT"));
	assert_status(env, "b ok");
}

/*
 * A waiter's callback that cancels its own waiter (as a control client
 * going away would): the scheduler has already dropped it and cleared the
 * owner's pointer, so the cancel is of NULL, not a double free.
 */
static struct sched_waiter	*self_waiter;
static int			 self_calls;

static void
cancel_self_cb(enum sched_run_phase phase, void *arg)
{
	(void)arg;
	assert_int_equal(phase, SCHED_RUN_DONE);
	self_calls++;
	assert_null(self_waiter);
	sched_waiter_cancel(self_waiter);
}

static void
test_waiter_cancels_itself(void **state)
{
	struct env	*env = *state;
	const char	*unknown = NULL;
	uint16_t	 port;

	port = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	env->conf = load(DAEMON("0", "20ms", "40ms", "1h", "")
	    "[relay isp]\nhost = " FAKE_ADDR "\nport = %u\n"
	    "domains = a.example\n", port);
	start(env, false);
	self_calls = 0;
	assert_int_equal(sched_run(env->sc, NULL, 0, 0, cancel_self_cb, env,
	    &self_waiter, &unknown), 0);
	assert_non_null(self_waiter);
	run_until_conns(env, 1);
	assert_int_equal(self_calls, 1);
	assert_null(self_waiter);
}

static void
waited_cb(enum sched_run_phase phase, void *arg)
{
	struct waited	*w = arg;

	assert_int_equal(phase, SCHED_RUN_DONE);
	w->calls++;
	w->conns = w->env->fs->nconns;
}

static bool
was_called(void *arg)
{
	return ((struct waited *)arg)->calls > 0;
}

/* sched_run("a") for env->next_waited, when a's first session sends ETRN. */
static void
run_a_on_etrn(struct env *env, unsigned lis, unsigned conn)
{
	char		*na[] = { "a" };
	const char	*unknown = NULL;

	if (lis != 0 || conn != 1 || env->triggered)
		return;
	env->triggered = true;
	assert_int_equal(sched_run(env->sc, na, 1, 0, waited_cb,
	    env->next_waited, env->next_waiter, &unknown), 0);
}

/*
 * sched_run: unknown names are refused; the callback comes once every
 * relay named has finished a run that started after the call -- for a
 * relay busy at the time, the rerun, not the run already under way.
 */
static void
test_waiter_targets(void **state)
{
	struct env		*env = *state;
	struct sched_waiter	*wa = NULL, *wb = NULL;
	struct waited		 a = { 0, 0, env }, b = { 0, 0, env };
	char			*both[] = { "a", "b" }, *bad[] = { "a", "nx" };
	const char		*unknown = NULL;
	uint16_t		 pa, pb;

	pa = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	pb = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	env->conf = load(DAEMON("0", "20ms", "40ms", "1h", "")
	    "[relay a]\nhost = " FAKE_ADDR "\nport = %u\ndomains = a.example\n"
	    "[relay b]\nhost = " FAKE_ADDR "\nport = %u\ndomains = b.example\n",
	    pa, pb);
	start(env, false);
	assert_int_equal(sched_run(env->sc, bad, 2, 0, waited_cb, &a, &wa,
	    &unknown), -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(unknown, "nx");
	assert_null(wa);
	assert_int_equal(env->fs->nconns, 0);

	/* Both named: called once, after both sessions. */
	env->hold_ms = 20;
	assert_int_equal(sched_run(env->sc, both, 2, 0, waited_cb, &a, &wa,
	    &unknown), 0);
	assert_non_null(wa);
	/* A second caller while a's session runs: a's rerun answers it. */
	env->next_waited = &b;
	env->next_waiter = &wb;
	env->on_etrn = run_a_on_etrn;
	assert_true(fake_run_until(env->base, was_called, &a, RUN_MAX_MS));
	assert_true(env->triggered);
	assert_non_null(wb);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.conns, 2);
	assert_null(wa);
	assert_int_equal(b.calls, 0);
	assert_true(fake_run_until(env->base, was_called, &b, RUN_MAX_MS));
	assert_int_equal(b.conns, 3);
	assert_int_equal(env->fs->lis[0].nconns, 2);
	assert_int_equal(env->fs->lis[1].nconns, 1);
	assert_true(fake_run_until(env->base, is_quiet, env, RUN_MAX_MS));
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 1);
}

/* No relay at all (a valid configuration): `etrnctl run` is answered,
 * on the next turn of the loop, not from inside sched_run(). */
static void
test_waiter_no_relays(void **state)
{
	struct env		*env = *state;
	struct sched_waiter	*w = NULL;
	struct waited		 a = { 0, 0, env };
	const char		*unknown = NULL;

	env->conf = load(DAEMON("0", "20ms", "40ms", "1h", ""));
	start(env, false);
	assert_int_equal(sched_run(env->sc, NULL, 0, 0, waited_cb, &a, &w,
	    &unknown), 0);
	assert_int_equal(a.calls, 0);
	assert_true(fake_run_until(env->base, was_called, &a, RUN_MAX_MS));
	assert_int_equal(a.calls, 1);
	assert_null(w);
}

/* A relay removed by a reload, or a shutdown, answers its waiters. */
static void
test_waiter_answered_on_removal_and_shutdown(void **state)
{
	struct env		*env = *state;
	struct sched_waiter	*wa = NULL, *wb = NULL;
	struct waited		 a = { 0, 0, env }, b = { 0, 0, env };
	char			*na[] = { "a" }, *nb[] = { "b" };
	const char		*unknown = NULL;
	struct conf		*old;
	uint16_t		 pa, pb;

	pa = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	pb = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	env->conf = load(DAEMON("0", "20ms", "40ms", "1h", "")
	    "[relay a]\nhost = " FAKE_ADDR "\nport = %u\ndomains = a.example\n"
	    "[relay b]\nhost = " FAKE_ADDR "\nport = %u\ndomains = b.example\n",
	    pa, pb);
	env->hold_ms = 10000;
	start(env, false);
	assert_int_equal(sched_run(env->sc, na, 1, 0, waited_cb, &a, &wa,
	    &unknown), 0);
	assert_int_equal(sched_run(env->sc, nb, 1, 0, waited_cb, &b, &wb,
	    &unknown), 0);
	assert_true(fake_run_until(env->base, saw_etrn, env, RUN_MAX_MS));

	old = env->conf;
	env->conf = load(DAEMON("0", "20ms", "40ms", "1h", "")
	    "[relay b]\nhost = " FAKE_ADDR "\nport = %u\ndomains = b.example\n",
	    pb);
	sched_reconfigure(env->sc, env->conf, HELO);
	conf_free(old);
	assert_int_equal(a.calls, 1);
	assert_null(wa);
	assert_int_equal(b.calls, 0);
	sched_shutdown(env->sc);
	assert_int_equal(b.calls, 1);
	assert_null(wb);
	assert_int_equal(sched_run(env->sc, nb, 1, 0, waited_cb, &b, &wb,
	    &unknown), -1);
	assert_int_equal(errno, ESHUTDOWN);
	assert_true(fake_run_until(env->base, is_idle, env, RUN_MAX_MS));
}

/*
 * local-smtp: no relay is asked while the site's MTA refuses
 * connections (the probe waits up to connect-timeout, 500ms here); the
 * run starts once it listens.
 */
static void
test_local_smtp_gate(void **state)
{
	struct env	*env = *state;
	uint16_t	 port, mta;

	port = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	mta = fake_refusing_port(FAKE_ADDR, &env->refuse_fd);
	assert_int_not_equal(mta, 0);
	env->conf = load(DAEMON("0", "20ms", "40ms", "1h",
	    "local-smtp = " FAKE_ADDR ":%u\n")
	    "[relay isp]\nhost = " FAKE_ADDR "\nport = %u\n"
	    "domains = ok.example\n", mta, port);
	start(env, false);
	sched_trigger_all(env->sc, RELAY_T_MANUAL);
	assert_true(sched_busy(env->sc));	/* the probe */
	fake_run_for(env->base, 50);		/* its first try refused */
	assert_int_equal(env->fs->nconns, 0);
	assert_true(sched_busy(env->sc));
	assert_int_equal(listen(env->refuse_fd, 8), 0);
	run_until_conns(env, 1);
	assert_string_equal(env->etrns[0], "1 ok.example\n");
}

/*
 * local-smtp that never listens: asked anyway once the probe gives up
 * (connect-timeout, 100ms here).
 */
static void
test_local_smtp_gives_up(void **state)
{
	struct env	*env = *state;
	uint16_t	 port, mta;

	port = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	mta = fake_refusing_port(FAKE_ADDR, &env->refuse_fd);
	assert_int_not_equal(mta, 0);
	env->conf = load(DAEMON_CT("0", "20ms", "40ms", "1h", "100ms",
	    "local-smtp = " FAKE_ADDR ":%u\n")
	    "[relay isp]\nhost = " FAKE_ADDR "\nport = %u\n"
	    "domains = ok.example\n", mta, port);
	start(env, false);
	sched_trigger_all(env->sc, RELAY_T_MANUAL);
	run_until_conns(env, 1);
	assert_string_equal(env->etrns[0], "1 ok.example\n");
}

/* The site's MTA for the flush tests: FAKE_ADDR:env->mta, listening. */
static void
mta_listen(struct env *env)
{
	env->mta = fake_refusing_port(FAKE_ADDR, &env->refuse_fd);
	assert_int_not_equal(env->mta, 0);
	assert_int_equal(listen(env->refuse_fd, 16), 0);
}

/*
 * The secondary delivers: a connection from src to the MTA, accepted
 * (whatever else waits in line, the probe's, is closed) and hung up, the
 * client first.
 */
static void
deliver_from(struct env *env, const char *src)
{
	struct sockaddr_in	 sin, peer;
	socklen_t		 len;
	char			 c;
	int			 fd, srv, i;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, src, &sin.sin_addr), 1);
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(inet_pton(AF_INET, FAKE_ADDR, &sin.sin_addr), 1);
	sin.sin_port = htons(env->mta);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin,
	    &(socklen_t){ sizeof(sin) }), 0);
	for (i = 0; i < 16; i++) {
		len = sizeof(peer);
		assert_true((srv = accept(env->refuse_fd,
		    (struct sockaddr *)&peer, &len)) >= 0);
		if (peer.sin_port == sin.sin_port &&
		    peer.sin_addr.s_addr == sin.sin_addr.s_addr)
			break;
		close(srv);
	}
	assert_true(i < 16);
	assert_int_equal(close(fd), 0);
	assert_int_equal(read(srv, &c, 1), 0);
	assert_int_equal(close(srv), 0);
}

/* While the session runs: the flush may begin before ETRN is answered. */
static void
deliver_on_etrn(struct env *env, unsigned lis, unsigned conn)
{
	(void)lis;
	(void)conn;
	deliver_from(env, FAKE_ADDR);
}

static bool
saw_phase_d(void *arg)
{
	struct env	*env = arg;

	return strchr(env->phases, 'D') != NULL;
}

static void
phases_cb(enum sched_run_phase phase, void *arg)
{
	struct env	*env = arg;

	size_t		 n = strlen(env->phases);

	assert_true(n + 1 < sizeof(env->phases));
	env->phases[n] = phase == SCHED_RUN_DONE ? 'D' : 'F';
	env->phases[n + 1] = '\0';
}

static bool
flushed(void *arg)
{
	struct env	*env = arg;

	return strchr(env->phases, 'F') != NULL;
}

/* What status would show of one relay's flush. */
struct flush_seen {
	const char		*name;
	bool			 has;
	bool			 last_run;
	enum relay_state	 state;
	struct flushwatch_result res;
};

static void
flush_of(const struct sched_relay_info *ri, void *arg)
{
	struct flush_seen	*fs = arg;

	if (strcmp(ri->name, fs->name) != 0)
		return;
	fs->state = ri->state;
	if ((fs->has = ri->flush != NULL)) {
		fs->res = *ri->flush;
		fs->last_run = ri->flush_last_run;
	}
}

static struct flush_seen
flush_seen(struct env *env, const char *name)
{
	struct flush_seen	fs = { .name = name, .state = RELAY_NSTATES };

	sched_foreach(env->sc, flush_of, &fs);
	assert_int_not_equal(fs.state, RELAY_NSTATES);
	return fs;
}

/* The flush lines of --once and etrnctl run --watch; free() them. */
static char *
flush_lines(struct env *env)
{
	struct report_relays	 rr = report_relays_of(env->sc);
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*f;

	assert_non_null(f = open_memstream(&buf, &len));
	report_flush_results(&rr, NULL, 0, report_line_stdio, f);
	fclose(f);
	return buf;
}

/*
 * A relay with one domain at a fake server and the site's MTA listening,
 * a flush window of window and quiet: started, run --watch asked.
 */
static void
flush_start(struct env *env, const char *window, const char *quiet,
    const char *domains)
{
	struct sched_waiter	*w = NULL;
	const char		*unknown = NULL;
	char			 extra[128];
	uint16_t		 port;

	port = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	mta_listen(env);
	snprintf(extra, sizeof(extra), "flush-window = %s\nflush-quiet = "
	    "%s\nlocal-smtp = " FAKE_ADDR ":%u\n", window, quiet, env->mta);
	env->conf = load(DAEMON_BASE("0", "20ms", "40ms", "1h", "500ms")
	    "%s[relay isp]\nhost = " FAKE_ADDR "\nport = %u\n"
	    "domains = %s\n", extra, port, domains);
	start(env, false);
	env->on_etrn = deliver_on_etrn;
	assert_int_equal(sched_run(env->sc, NULL, 0, SCHED_RUN_FLUSH,
	    phases_cb, env, &w, &unknown), 0);
	assert_true(fake_run_until(env->base, flushed, env, RUN_MAX_MS));
	assert_string_equal(env->phases, "DF");
	assert_null(w);
}

static void
count_runs(const struct history_run *run, void *arg)
{
	const struct history_run	**last = arg;

	*last = run;
}

/*
 * An accepted ETRN opens a flush window: the secondary's connection,
 * begun while the session still ran, is counted; etrnctl run --watch
 * hears the results, then the verdict; status, the run's lines and the
 * history show it.
 */
static void
test_flush_delivered(void **state)
{
	struct env			*env = *state;
	struct flush_seen		 fs;
	const struct history_run	*run = NULL;
	char				*buf;

	flush_start(env, "3s", "50ms", "ok.example");
	fs = flush_seen(env, "isp");
	assert_int_equal(fs.state, RELAY_S_IDLE);
	assert_true(fs.has);
	assert_true(fs.last_run);
	assert_int_equal(fs.res.verdict, FLUSHWATCH_DELIVERED);
	assert_int_equal(fs.res.relay.nconns, 1);
	assert_int_equal(fs.res.port, env->mta);
	/* Quiet after it: long before the window's end. */
	assert_true(fs.res.elapsed_ms < 3000);

	buf = flush_lines(env);
	assert_non_null(strstr(buf, "isp flush "));
	assert_non_null(strstr(buf, "delivered"));
	free(buf);

	history_foreach(sched_history(env->sc), "isp", count_runs, &run);
	assert_non_null(run);
	assert_int_equal(run->trigger, RELAY_T_MANUAL);
	assert_int_equal(run->ndoms, 1);
	assert_string_equal(run->doms[0].domain, "ok.example");
	assert_int_equal(run->doms[0].res.cls, ETRN_R_OK);
	assert_true(run->ended != 0);
	assert_true(run->has_flush);
	assert_int_equal(run->flush.verdict, FLUSHWATCH_DELIVERED);
	assert_int_equal(env->fs->nconns, 1);
}

/*
 * Accepted, and nothing comes back: the window runs its length, and that
 * is not a failure (no retry).  A relay whose ETRN was refused opens no
 * window; without SCHED_RUN_FLUSH, a waiter hears only the results.
 */
static void
test_flush_nothing(void **state)
{
	struct env		*env = *state;
	struct sched_waiter	*w = NULL;
	struct flush_seen	 fs;
	const char		*unknown = NULL;
	char			*isp[] = { "isp" };
	char			 hint[REPORT_FLUSH_LEN];
	uint16_t		 port;

	port = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	mta_listen(env);
	env->conf = load(DAEMON_FLUSH("300ms", "50ms",
	    "local-smtp = " FAKE_ADDR ":%u\n")
	    "[relay isp]\nhost = " FAKE_ADDR "\nport = %u\n"
	    "domains = ok.example\n"
	    "[relay ref]\nhost = " FAKE_ADDR "\nport = %u\n"
	    "domains = ref.example\n", env->mta, port, port);
	start(env, false);
	assert_int_equal(sched_run(env->sc, NULL, 0, SCHED_RUN_FLUSH,
	    phases_cb, env, &w, &unknown), 0);
	assert_true(fake_run_until(env->base, flushed, env, RUN_MAX_MS));
	assert_string_equal(env->phases, "DF");
	fs = flush_seen(env, "isp");
	assert_int_equal(fs.state, RELAY_S_IDLE);
	assert_true(fs.has);
	assert_int_equal(fs.res.verdict, FLUSHWATCH_NOTHING);
	assert_int_equal(fs.res.relay.nconns, 0);
	assert_int_equal(fs.res.elapsed_ms, 300);
	assert_non_null(report_flush_hint(hint, sizeof(hint), &fs.res));
	assert_false(flush_seen(env, "ref").has);
	fake_run_for(env->base, QUIET_MS);
	/* Each asked once: nothing came back is no reason to ask again. */
	assert_int_equal(env->fs->lis[0].nconns, 2);

	/* Without the flag: the results, and that is all. */
	env->phases[0] = '\0';
	assert_int_equal(sched_run(env->sc, isp, 1, 0, phases_cb, env, &w,
	    &unknown), 0);
	assert_true(fake_run_until(env->base, saw_phase_d, env, RUN_MAX_MS));
	assert_null(w);
	fake_run_for(env->base, QUIET_MS);
	assert_string_equal(env->phases, "D");
}

/*
 * One domain accepted, one failing and retried while the window is open:
 * the retries accept nothing, so the verdict is still the relay's last
 * accepted run's, and run --watch prints it.
 */
static void
test_flush_retry(void **state)
{
	struct env		*env = *state;
	struct flush_seen	 fs;
	char			*buf;

	flush_start(env, "400ms", "300ms", "ok.example tmp.example");
	/* tmp.example was asked again while the window was open. */
	assert_true(env->fs->lis[0].nconns >= 2);
	fs = flush_seen(env, "isp");
	assert_true(fs.has);
	assert_true(fs.last_run);
	assert_int_equal(fs.res.verdict, FLUSHWATCH_DELIVERED);
	buf = flush_lines(env);
	assert_non_null(strstr(buf, "isp flush delivered"));
	free(buf);
}

/* --once waits for the verdict of the window its run opened. */
static void
test_flush_once(void **state)
{
	struct env		*env = *state;
	struct flush_seen	 fs;
	uint16_t		 port;

	port = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	mta_listen(env);
	env->conf = load(DAEMON_FLUSH("3s", "50ms",
	    "local-smtp = " FAKE_ADDR ":%u\n")
	    "[relay isp]\nhost = " FAKE_ADDR "\nport = %u\n"
	    "domains = ok.example\n", env->mta, port);
	start(env, true);
	env->on_etrn = deliver_on_etrn;
	sched_trigger_all(env->sc, RELAY_T_MANUAL);
	assert_true(fake_run_until(env->base, is_idle, env, RUN_MAX_MS));
	assert_int_equal(env->idle, 1);
	fs = flush_seen(env, "isp");
	assert_true(fs.has);
	assert_int_equal(fs.res.verdict, FLUSHWATCH_DELIVERED);
	assert_false(sched_busy(env->sc));
}

/* Shutdown with a session open: QUIT, then the idle hook. */
static void
test_shutdown(void **state)
{
	struct env	*env = *state;
	char		*got;
	uint16_t	 port;

	port = env->fs->lis[fake_listen(env->fs, FAKE_ADDR)].port;
	env->conf = load(DAEMON("0", "20ms", "40ms", "1h", "")
	    "[relay isp]\nhost = " FAKE_ADDR "\nport = %u\n"
	    "domains = a.example b.example\n", port);
	env->hold_ms = 10000;
	start(env, false);
	sched_trigger_all(env->sc, RELAY_T_MANUAL);
	assert_true(fake_run_until(env->base, saw_etrn, env, RUN_MAX_MS));
	sched_shutdown(env->sc);
	assert_int_equal(env->idle, 0);		/* not before the session */
	assert_true(fake_run_until(env->base, is_idle, env, RUN_MAX_MS));
	assert_int_equal(env->idle, 1);
	assert_string_equal(env->fs->log, "EHLO " HELO "\nETRN a.example\n"
	    "QUIT\n");
	got = results(env);
	assert_string_equal(got,
	    "isp a.example temporary - daemon shutting down\n"
	    "isp b.example temporary - daemon shutting down\n");
	free(got);
	/* Nothing starts any more. */
	sched_trigger_all(env->sc, RELAY_T_MANUAL);
	sched_on_link_up(env->sc);
	fake_run_for(env->base, QUIET_MS);
	assert_int_equal(env->fs->nconns, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_sessions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_coalesce, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_backoff, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_offline, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_settle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_holddown, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_interval, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reconfigure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_reconfigure_removes_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waiter_cancels_itself,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_waiter_targets, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_waiter_answered_on_removal_and_shutdown, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_waiter_no_relays, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_local_smtp_gate, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_local_smtp_gives_up,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_delivered, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_flush_nothing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_flush_retry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_flush_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_shutdown, setup,
		    teardown),
	};

	if (getenv("TEST_VERBOSE") != NULL)
		log_init(1);
	return cmocka_run_group_tests_name("sched", tests, NULL, NULL);
}
