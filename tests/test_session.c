/* SPDX-License-Identifier: ISC */
/*
 * test_session: whole ETRN sessions against a scripted fake SMTP server in
 * the same event loop (fakesmtp.c, on FAKE_ADDR).  Most cases are one row
 * of a table: the server's script in, the commands it saw and every
 * domain's result out.  The rest need their own set-up: refused and
 * black-holed addresses, a name with two addresses, shutdown and free.
 * Every loop is bounded, so a session that hangs fails instead of hanging.
 */
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>
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
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "etrn.h"
#include "fakesmtp.h"
#include "log.h"
#include "session.h"
#include "tls.h"
#include "util.h"

#define HELO		"client.example"
#define MAXDOMAINS	4
#define MAXSTEPS	10
#define RUN_MAX_MS	5000	/* no case may take longer */
/* A timer fires no earlier than its duration less this, on our clock. */
#define CLOCK_SLACK_MS	10

/* Server lines. */
#define GREET		{ NULL, "220 mx.test ESMTP Postfix (Debian/GNU)\r\n", \
			    0, false }
#define EHLO_ETRN	{ "EHLO " HELO, "250-mx.test\r\n250-PIPELINING\r\n" \
			    "250-SIZE 10240000\r\n250-ETRN\r\n" \
			    "250 ENHANCEDSTATUSCODES\r\n", 0, false }
#define ETRN(reply)	{ "ETRN ", reply "\r\n", 0, false }
#define QUIT		{ "QUIT", "221 2.0.0 Bye\r\n", 0, true }
#define SILENT(expect)	{ expect, NULL, 0, false }
/* Plain text for the client's first TLS handshake bytes, then close. */
#define NOT_TLS		{ FAKE_ANY_BYTES, "this is not TLS\r\n", 0, \
			    true }

/* What the server saw. */
#define C_EHLO		"EHLO " HELO "\n"
#define C_QUIT		"QUIT\n"

#define X10		"xxxxxxxxxx"
#define X100		X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define X600		X100 X100 X100 X100 X100 X100
#define X506		X100 X100 X100 X100 X100 "xxxxxx"

struct expect {
	enum etrn_class	 cls;
	enum etrn_fail	 fail;
	int		 code;
	const char	*text;		/* substring; NULL: not checked */
	const char	*hint;		/* substring of etrn_hint(); NULL: none */
	long		 pending;
};

#define OK(code, text)		{ ETRN_R_OK, ETRN_F_NONE, code, text, NULL, -1 }
/* A temporary failure of that kind, without a reply code. */
#define FAILED(kind, text)	{ ETRN_R_TEMP, kind, 0, text, NULL, -1 }

struct scase {
	const char		*name;
	const char		*domains[MAXDOMAINS];
	enum conf_command	 command;
	enum conf_tls		 tls;
	uint64_t		 reply_timeout_ms;	/* 0: 2s */
	bool			 dribble;		/* a byte a segment */
	struct fake_step	 steps[MAXSTEPS];
	const char		*cmds;		/* the server's log, exactly */
	struct expect		 results[MAXDOMAINS];
	int			 esmtp;		/* -1: not checked */
	int			 advertised;	/* -1: not checked */
	unsigned		 min_ms;	/* the session lasted at least */
	unsigned		 max_ms;	/* and ended within; 0: RUN_MAX_MS */
};

/*
 * The reply classes are the protocol core's, tested by test_etrn's table;
 * here each failure kind passes through a real connection once, and the
 * reader meets what only sockets bring (segments, deadlines, EOF).
 */
static const struct scase cases[] = {
	{
		.name = "greeting_multiline",
		.domains = { "example.org" },
		.steps = { { NULL, "220-mx.test ESMTP\r\n220-no UCE\r\n"
		    "220 ready\r\n", 0, false }, EHLO_ETRN,
		    ETRN("250 Queuing started"), QUIT },
		.cmds = C_EHLO "ETRN example.org\n" C_QUIT,
		.results = { OK(250, "Queuing started") },
		.esmtp = 1, .advertised = 1,
	},
	{
		/* 421 closes at once: no QUIT (RFC 5321 3.8). */
		.name = "greeting_421",
		.domains = { "example.org", "example.net" },
		.steps = { { NULL, "421 4.3.2 Service not available\r\n", 0,
		    false } },
		.cmds = "",
		.results = { { ETRN_R_TEMP, ETRN_F_REPLY, 421,
		    "Service not available", NULL, -1 }, { ETRN_R_TEMP,
		    ETRN_F_REPLY, 421, "Service not available", NULL, -1 } },
		.esmtp = 0, .advertised = 0,
	},
	{
		.name = "no_greeting",
		.domains = { "example.org" },
		.reply_timeout_ms = 50,
		.steps = { SILENT("QUIT") },
		.cmds = C_QUIT,
		.results = { FAILED(ETRN_F_NO_GREETING, "no GREETING reply") },
		.esmtp = -1, .advertised = -1,
		.min_ms = 50 - CLOCK_SLACK_MS, .max_ms = 3000,
	},
	{
		.name = "qsnd",
		.domains = { "example.org" },
		.command = CONF_CMD_QSND,
		.steps = { GREET, EHLO_ETRN, { "QSND ", "250 OK\r\n", 0,
		    false }, QUIT },
		.cmds = C_EHLO "QSND example.org\n" C_QUIT,
		.results = { OK(250, NULL) },
		.esmtp = 1, .advertised = 1,
	},
	{
		/* Sendmail under load: no reply at all. */
		.name = "silent_after_ehlo",
		.domains = { "example.org" },
		.reply_timeout_ms = 60,
		.steps = { GREET, SILENT("EHLO"), SILENT("QUIT") },
		.cmds = C_EHLO C_QUIT,
		.results = { FAILED(ETRN_F_TIMEOUT, "no EHLO reply") },
		.esmtp = -1, .advertised = -1,
		.min_ms = 60 - CLOCK_SLACK_MS, .max_ms = 3000,
	},
	{
		/* Every byte of the conversation in its own segment. */
		.name = "byte_at_a_time",
		.domains = { "a.example", "b.example" },
		.dribble = true,
		.steps = { { NULL, "220-mx.test ESMTP\r\n220 ready\r\n", 0,
		    false }, EHLO_ETRN, ETRN("250 Queuing started"),
		    ETRN("253 OK, 3 pending messages for node b.example "
		    "started"), QUIT },
		.cmds = C_EHLO "ETRN a.example\nETRN b.example\n" C_QUIT,
		.results = { OK(250, "Queuing started"),
		    { ETRN_R_OK, ETRN_F_NONE, 253, NULL, NULL, 3 } },
		.esmtp = 1, .advertised = 1,
	},
	{
		.name = "garbage_greeting",
		.domains = { "example.org" },
		.steps = { { NULL, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", 0,
		    false }, SILENT("QUIT") },
		.cmds = C_QUIT,
		.results = { FAILED(ETRN_F_PROTOCOL, "protocol error: reply "
		    "line without a 3-digit code") },
		.esmtp = -1, .advertised = -1,
	},
	{
		/* Ends before the 5 s deadline, or the run bound fails it. */
		.name = "overlong_line_without_crlf",
		.domains = { "example.org" },
		.reply_timeout_ms = 10000,
		.steps = { { NULL, "220 " X600, 0, false }, SILENT("QUIT") },
		.cmds = C_QUIT,
		.results = { FAILED(ETRN_F_PROTOCOL, "protocol error: reply "
		    "line longer than 510 octets (in reply to GREETING)") },
		.esmtp = -1, .advertised = -1,
		.max_ms = 3000,
	},
	{
		.name = "overlong_line_with_crlf",
		.domains = { "example.org" },
		.reply_timeout_ms = 10000,
		.steps = { GREET, { "EHLO", "250-" X600 "\r\n250 ETRN\r\n", 0,
		    false }, SILENT("QUIT") },
		.cmds = C_EHLO C_QUIT,
		.results = { FAILED(ETRN_F_PROTOCOL, "protocol error: reply "
		    "line longer") },
		.esmtp = -1, .advertised = -1,
		.max_ms = 3000,
	},
	{
		/*
		 * RFC 5321 4.5.3.1.5: 512 octets with the CRLF is legal,
		 * also when the CR and the LF come in different segments.
		 */
		.name = "longest_line_split_before_lf",
		.domains = { "example.org" },
		.steps = { { NULL, "220-" X506 "\r", 0, false },
		    { NULL, "\n220 ready\r\n", 10, false }, EHLO_ETRN,
		    ETRN("250 Queuing started"), QUIT },
		.cmds = C_EHLO "ETRN example.org\n" C_QUIT,
		.results = { OK(250, NULL) },
		.esmtp = 1, .advertised = 1,
	},
	{
		.name = "control_character_in_reply",
		.domains = { "example.org" },
		.steps = { GREET, EHLO_ETRN, ETRN("250 Queuing\033[2J started"),
		    SILENT("QUIT") },
		.cmds = C_EHLO "ETRN example.org\n" C_QUIT,
		.results = { FAILED(ETRN_F_PROTOCOL, "control character") },
		.esmtp = 1, .advertised = 1,
	},
	{
		/* Two replies in one write: we never pipeline, so a lie. */
		.name = "unsolicited_data_after_reply",
		.domains = { "a.example", "b.example" },
		.steps = { GREET, EHLO_ETRN, ETRN("250 Queuing started\r\n"
		    "250 Queuing started"), SILENT("QUIT") },
		.cmds = C_EHLO "ETRN a.example\n" C_QUIT,
		.results = { OK(250, NULL),
		    FAILED(ETRN_F_PROTOCOL, "unsolicited data") },
		.esmtp = 1, .advertised = 1,
	},
	{
		.name = "eof_after_greeting",
		.domains = { "example.org" },
		.steps = { { NULL, "220 mx.test ESMTP\r\n", 0, true } },
		.cmds = NULL,	/* the EHLO may or may not get there */
		.results = { FAILED(ETRN_F_CLOSED,
		    "while waiting for the EHLO reply") },
		.esmtp = 0, .advertised = 0,
	},
	{
		/* Accepted, then closed: no SMTP conversation at all. */
		.name = "eof_before_greeting",
		.domains = { "example.org" },
		.steps = { { NULL, "", 0, true } },
		.cmds = "",
		.results = { FAILED(ETRN_F_NO_GREETING,
		    "while waiting for the GREETING reply") },
		.esmtp = 0, .advertised = 0,
	},
	{
		/* Our refusal: no STARTTLS offered, so no ETRN in clear. */
		.name = "tls_required_not_offered",
		.domains = { "example.org" },
		.tls = CONF_TLS_REQUIRED,
		.steps = { GREET, EHLO_ETRN, QUIT },
		.cmds = C_EHLO C_QUIT,
		.results = { FAILED(ETRN_F_POLICY, "tls = required") },
		.esmtp = 1, .advertised = 1,
	},
	{
		/* Ours cannot be sent: the domain is not one word. */
		.name = "domain_not_sent",
		.domains = { "two words", "example.org" },
		.steps = { GREET, EHLO_ETRN, ETRN("250 Queuing started"),
		    QUIT },
		.cmds = C_EHLO "ETRN example.org\n" C_QUIT,
		.results = { { ETRN_R_UNSUPPORTED, ETRN_F_CONFIG, 0,
		    "not sent", NULL, -1 }, OK(250, "Queuing started") },
		.esmtp = 1, .advertised = 1,
	},
	{
		/*
		 * The server answers QUIT and keeps the connection: the 221
		 * itself must end the session, long before the 10 s wait.
		 */
		.name = "quit_221_ends_session",
		.domains = { "example.org" },
		.reply_timeout_ms = 10000,
		.steps = { GREET, EHLO_ETRN, ETRN("250 Queuing started"),
		    { "QUIT", "221 2.0.0 Bye\r\n", 0, false } },
		.cmds = C_EHLO "ETRN example.org\n" C_QUIT,
		.results = { OK(250, NULL) },
		.esmtp = 1, .advertised = 1,
		.max_ms = 3000,
	},
	{
		/* A slow but valid server: each reply after 30 ms. */
		.name = "slow_replies_within_timeout",
		.domains = { "example.org" },
		.reply_timeout_ms = 1000,
		.steps = { { NULL, "220 mx.test\r\n", 30, false },
		    { "EHLO", "250 mx.test\r\n", 30, false },
		    { "ETRN", "250 Queuing started\r\n", 30, false },
		    { "QUIT", "221 Bye\r\n", 30, true } },
		.cmds = C_EHLO "ETRN example.org\n" C_QUIT,
		.results = { OK(250, NULL) },
		.esmtp = 1, .advertised = 0,
		.min_ms = 4 * (30 - CLOCK_SLACK_MS),
	},
};

struct env {
	struct event_base	*base;
	struct evdns_base	*dns;
	struct fake_server	*fs;
	unsigned		 lis;
	struct session		*session;
	uint64_t		 started;
	const void		*row;		/* the table row, if any */

	/* What the done callback saw. */
	unsigned		 ncalls;
	uint64_t		 elapsed_ms;
	struct etrn_result	 res[MAXDOMAINS];
	size_t			 nres;
	bool			 esmtp;
	bool			 advertised;
	struct session_report	 report;
	struct session		*cb_session;

	/* For the one-off cases. */
	int			 fds[4];
	char			 hosts[64];
	const char		*tls_ca;	/* session_params' */
	bool			 tls_verify;
	SSL_CTX			*tls_ctx;
	SSL_CTX			*tls_shared;	/* p.tls_ctx_get's answer */
	unsigned		 shared_calls;
	const char		*source;	/* the relay's source, or NULL */
	struct tls_server	*tls_srv;	/* test_tls_implicit_ok's */
};

static int
setup(void **state)
{
	struct env	*env;
	size_t		 i;

	env = calloc(1, sizeof(*env));
	assert_non_null(env);
	env->row = *state;
	for (i = 0; i < nitems(env->fds); i++)
		env->fds[i] = -1;
	env->base = event_base_new();
	assert_non_null(env->base);
	env->dns = evdns_base_new(env->base, 0);	/* no nameservers */
	assert_non_null(env->dns);
	env->fs = fake_new(env->base);
	env->lis = fake_listen(env->fs, FAKE_ADDR);
	*state = env;
	return 0;
}

static int
teardown(void **state)
{
	struct env	*env = *state;
	size_t		 i;

	session_free(env->session);
	fake_free(env->fs);
	evdns_base_free(env->dns, 0);
	event_base_free(env->base);
	for (i = 0; i < nitems(env->fds); i++)
		if (env->fds[i] != -1)
			close(env->fds[i]);
	if (env->hosts[0] != '\0')
		unlink(env->hosts);
	free(env);
	return 0;
}

static void
done_cb(struct session *s, const struct etrn_result *res, size_t nres,
    const struct etrn *etrn, void *arg)
{
	struct env	*env = arg;

	env->ncalls++;
	env->cb_session = s;
	env->session = NULL;		/* it frees itself */
	env->elapsed_ms = fake_now_ms() - env->started;
	assert_true(nres <= MAXDOMAINS);
	memcpy(env->res, res, nres * sizeof(*res));
	env->nres = nres;
	env->esmtp = etrn->esmtp;
	env->advertised = etrn->etrn_advertised;
	env->report = *session_report(s);
}

/* The session reported and the server saw the connection end. */
static bool
finished(void *arg)
{
	struct env	*env = arg;

	return env->ncalls > 0 && env->fs->nopen == 0;
}

/* The scheduler's side of p.tls_ctx_get, counted. */
static SSL_CTX *
shared_ctx(void *arg)
{
	struct env	*env = arg;

	env->shared_calls++;
	return env->tls_shared;
}

static void
start_tls(struct env *env, const char *host, uint16_t port,
    const char *const *domains, enum conf_command command, enum conf_tls tls,
    uint64_t connect_ms, uint64_t reply_ms)
{
	struct session_params	p;
	struct conf_relay	r;		/* the session copies it */
	size_t			n;

	for (n = 0; n < MAXDOMAINS && domains[n] != NULL; n++)
		;
	memset(&r, 0, sizeof(r));
	r.name = (char *)(uintptr_t)"test";
	r.host = (char *)(uintptr_t)host;
	r.port = port;
	r.command = command;
	r.tls = tls;
	r.tls_ca = (char *)(uintptr_t)env->tls_ca;
	r.tls_verify = env->tls_verify;
	r.source = (char *)(uintptr_t)env->source;
	memset(&p, 0, sizeof(p));
	p.relay = &r;
	p.helo = HELO;
	p.domains = (char * const *)(uintptr_t)domains;
	p.ndomains = n;
	p.connect_timeout_ms = connect_ms;
	p.reply_timeout_ms = reply_ms;
	p.tls_ctx = env->tls_ctx;
	if (env->tls_shared != NULL) {
		p.tls_ctx_get = shared_ctx;
		p.tls_ctx_arg = env;
	}
	env->started = fake_now_ms();
	env->session = session_new(env->base, env->dns, &p, done_cb, env);
	assert_non_null(env->session);
	/* Started from a timer: never a callback from inside session_new. */
	assert_int_equal(env->ncalls, 0);
}

static void
start(struct env *env, const char *host, uint16_t port,
    const char *const *domains, enum conf_command command,
    uint64_t connect_ms, uint64_t reply_ms)
{
	start_tls(env, host, port, domains, command, CONF_TLS_NO, connect_ms,
	    reply_ms);
}

/* Run until the session is over; it must report exactly once. */
static void
run(struct env *env, unsigned max_ms)
{
	assert_true(fake_run_until(env->base, finished, env, max_ms));
	/* A second report would come within a loop turn or two. */
	fake_run_turns(env->base, 3);
	assert_int_equal(env->ncalls, 1);
}

static void
check_result(const struct etrn_result *res, const struct expect *x,
    size_t i)
{
	const char	*hint = etrn_hint(res);

	if (res->cls != x->cls || res->fail != x->fail ||
	    res->code != x->code ||
	    (x->text != NULL && strstr(res->text, x->text) == NULL) ||
	    res->pending != x->pending ||
	    (x->hint == NULL) != (hint == NULL) ||
	    (x->hint != NULL && strstr(hint, x->hint) == NULL))
		fail_msg("domain %zu: got %s %s %d pending %ld \"%s\" hint "
		    "%s; want %s %s %d pending %ld \"%s\" hint %s", i,
		    etrn_class_name(res->cls), etrn_fail_name(res->fail),
		    res->code, res->pending, res->text,
		    hint != NULL ? hint : "-", etrn_class_name(x->cls),
		    etrn_fail_name(x->fail), x->code, x->pending,
		    x->text != NULL ? x->text : "*",
		    x->hint != NULL ? x->hint : "-");
}

static void
test_script(void **state)
{
	struct env		*env = *state;
	const struct scase	*c = env->row;
	size_t			 i, nsteps, n;

	for (nsteps = 0; nsteps < MAXSTEPS && (c->steps[nsteps].expect !=
	    NULL || c->steps[nsteps].send != NULL); nsteps++)
		;
	fake_script(env->fs, c->steps, nsteps);
	env->fs->dribble = c->dribble;
	start_tls(env, FAKE_ADDR, env->fs->lis[env->lis].port, c->domains,
	    c->command, c->tls, 1000, c->reply_timeout_ms != 0 ?
	    c->reply_timeout_ms : 2000);
	run(env, c->max_ms != 0 ? c->max_ms : RUN_MAX_MS);

	assert_int_equal(env->fs->nconns, 1);
	assert_int_equal(env->fs->mismatches, 0);
	if (c->cmds != NULL)
		assert_string_equal(env->fs->log != NULL ? env->fs->log : "",
		    c->cmds);
	for (n = 0; n < MAXDOMAINS && c->domains[n] != NULL; n++)
		;
	assert_int_equal(env->nres, n);
	for (i = 0; i < n; i++)
		check_result(&env->res[i], &c->results[i], i);
	if (c->esmtp != -1)
		assert_int_equal(env->esmtp, c->esmtp);
	if (c->advertised != -1)
		assert_int_equal(env->advertised, c->advertised);
	if (c->min_ms != 0)
		assert_true(env->elapsed_ms >= c->min_ms);
}

static const char *const one_domain[] = { "example.org", NULL };

/* Nobody listens on the port: temporary, and the reason says so. */
static void
test_connection_refused(void **state)
{
	struct env	*env = *state;
	uint16_t	 port;

	port = fake_refusing_port(FAKE_ADDR, &env->fds[0]);
	assert_int_not_equal(port, 0);
	start(env, FAKE_ADDR, port, one_domain, CONF_CMD_ETRN, 1000, 1000);
	run(env, RUN_MAX_MS);
	assert_int_equal(env->fs->nconns, 0);
	assert_int_equal(env->nres, 1);
	check_result(&env->res[0], &(struct expect)FAILED(ETRN_F_CONNECT,
	    "refused"), 0);
}

/*
 * A source address this host does not have (as while an address is still
 * tentative): not reachable yet, which is no failure (ETRN_F_NOROUTE).
 * bind() fails, so nothing is sent anywhere.
 */
static void
test_no_source_address(void **state)
{
	struct env	*env = *state;
	uint16_t	 port;

	port = env->fs->lis[env->lis].port;
	env->source = "192.0.2.55";
	start(env, FAKE_ADDR, port, one_domain, CONF_CMD_ETRN, 1000, 1000);
	run(env, RUN_MAX_MS);
	assert_int_equal(env->fs->nconns, 0);
	assert_int_equal(env->nres, 1);
	check_result(&env->res[0], &(struct expect)FAILED(ETRN_F_NOROUTE,
	    "Cannot assign requested address"), 0);
}

/*
 * A name with two addresses from an evdns hosts file: the first refuses
 * (a bound, non-listening socket holds FAKE_ADDR2:port), the second is the
 * server.  evdns returns a name's entries in file order; checked first.
 */
static void
addrs_cb(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct evutil_addrinfo	*p;
	char			*out = arg;
	char			 buf[64];

	assert_int_equal(result, 0);
	for (p = ai; p != NULL; p = p->ai_next) {
		const struct sockaddr_in *sin = (const void *)p->ai_addr;

		assert_int_equal(p->ai_family, AF_INET);
		evutil_inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
		strcat(out, buf);
		strcat(out, " ");
	}
	evutil_freeaddrinfo(ai);
}

static void
test_second_address(void **state)
{
	struct env			*env = *state;
	struct evutil_addrinfo		 hints;
	static const struct fake_step	 steps[] = { GREET, EHLO_ETRN,
	    ETRN("250 Queuing started"), QUIT };
	char				 addrs[128] = "", bound[32];
	uint16_t			 port = env->fs->lis[env->lis].port;
	FILE				*f;
	int				 fd;

	snprintf(env->hosts, sizeof(env->hosts), "/tmp/test_session.XXXXXX");
	assert_int_not_equal(fd = mkstemp(env->hosts), -1);
	assert_non_null(f = fdopen(fd, "w"));
	fprintf(f, FAKE_ADDR2 " mx.test\n" FAKE_ADDR " mx.test\n");
	fclose(f);
	assert_int_equal(evdns_base_load_hosts(env->dns, env->hosts), 0);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	assert_null(evdns_getaddrinfo(env->dns, "mx.test", "25", &hints,
	    addrs_cb, addrs));
	assert_string_equal(addrs, FAKE_ADDR2 " " FAKE_ADDR " ");

	snprintf(bound, sizeof(bound), FAKE_ADDR2 ":%u", port);
	if (fake_refusing_port(bound, &env->fds[0]) != port)
		skip();		/* FAKE_ADDR2:port is someone else's */

	fake_script(env->fs, steps, nitems(steps));
	start(env, "mx.test", port, one_domain, CONF_CMD_ETRN, 1000, 2000);
	run(env, RUN_MAX_MS);
	assert_int_equal(env->fs->nconns, 1);
	assert_string_equal(env->fs->log, C_EHLO "ETRN example.org\n" C_QUIT);
	assert_int_equal(env->res[0].cls, ETRN_R_OK);
	assert_int_equal(env->res[0].code, 250);
}

/*
 * An address that never answers, on loopback only: a listener with
 * backlog 0 and one connection waiting in it drops further SYNs (Linux),
 * so a connect stays in SYN-SENT.  A probe checks this first; where it
 * does not hold, the case is skipped rather than left to chance.
 */
static void
test_connect_timeout(void **state)
{
	struct env		*env = *state;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	fd_set			 wfds;
	struct timeval		 tv = { 0, 50 * 1000 };
	int			 l, c1, probe;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_not_equal(l = env->fds[0] = socket(AF_INET, SOCK_STREAM,
	    0), -1);
	assert_int_equal(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(l, 0), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	assert_int_not_equal(c1 = env->fds[1] = socket(AF_INET, SOCK_STREAM,
	    0), -1);
	assert_int_equal(connect(c1, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_not_equal(probe = env->fds[2] = socket(AF_INET,
	    SOCK_STREAM | SOCK_NONBLOCK, 0), -1);
	if (connect(probe, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		skip();
	FD_ZERO(&wfds);
	FD_SET(probe, &wfds);
	if (select(probe + 1, NULL, &wfds, NULL, &tv) != 0)
		skip();		/* no black hole here */

	start(env, "127.0.0.1", ntohs(sin.sin_port), one_domain,
	    CONF_CMD_ETRN, 50, 2000);
	run(env, RUN_MAX_MS);
	check_result(&env->res[0], &(struct expect)FAILED(ETRN_F_CONNECT,
	    "connection timed out"), 0);
	assert_true(env->elapsed_ms >= 50 - CLOCK_SLACK_MS);
}

/* When the server saw the ETRN (fake_now_ms()), for the case below. */
static uint64_t	etrn_seen_ms;

static void
note_etrn(struct fake_server *fs, unsigned lis, unsigned conn,
    const char *line, void *arg)
{
	(void)fs;
	(void)lis;
	(void)conn;
	(void)arg;
	if (strncmp(line, "ETRN ", 5) == 0 && etrn_seen_ms == 0)
		etrn_seen_ms = fake_now_ms();
}

/* A name's addresses in the order evdns gives them: "6 4 ". */
static void
families_cb(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct evutil_addrinfo	*p;
	char			*out = arg;

	assert_int_equal(result, 0);
	for (p = ai; p != NULL; p = p->ai_next)
		strcat(out, p->ai_family == AF_INET6 ? "6 " : "4 ");
	evutil_freeaddrinfo(ai);
}

/*
 * Happy Eyeballs: a name whose first address (::1, port P) never answers
 * (a listener with backlog 0 and a connection waiting in it drops SYNs)
 * and whose second (FAKE_ADDR, port P) is the server.  With a 30 s
 * connect-timeout the ETRN arrives after about the 250 ms stagger, long
 * before the first address's connect timeout.
 */
static void
test_happy_eyeballs(void **state)
{
	struct env			*env = *state;
	struct evutil_addrinfo		 hints;
	static const struct fake_step	 steps[] = { GREET, EHLO_ETRN,
	    ETRN("250 Queuing started"), QUIT };
	struct sockaddr_in6		 sin6;
	char				 fams[32] = "";
	uint16_t			 port = env->fs->lis[env->lis].port;
	struct timeval			 tv = { 0, 50 * 1000 };
	fd_set				 wfds;
	FILE				*f;
	int				 fd, l, probe, one = 1;

	snprintf(env->hosts, sizeof(env->hosts), "/tmp/test_session.XXXXXX");
	assert_int_not_equal(fd = mkstemp(env->hosts), -1);
	assert_non_null(f = fdopen(fd, "w"));
	fprintf(f, "::1 mx.test\n" FAKE_ADDR " mx.test\n");
	fclose(f);
	assert_int_equal(evdns_base_load_hosts(env->dns, env->hosts), 0);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	assert_null(evdns_getaddrinfo(env->dns, "mx.test", "25", &hints,
	    families_cb, fams));
	assert_string_equal(fams, "6 4 ");

	/* [::1]:P, silent. */
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	sin6.sin6_port = htons(port);
	assert_int_not_equal(l = env->fds[0] = socket(AF_INET6, SOCK_STREAM,
	    0), -1);
	setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&sin6, sizeof(sin6)) == -1) {
		print_message("cannot bind [::1]:%u\n", port);
		skip();		/* no IPv6 on loopback, or the port taken */
	}
	assert_int_equal(listen(l, 0), 0);
	assert_int_not_equal(env->fds[1] = socket(AF_INET6, SOCK_STREAM, 0),
	    -1);
	assert_int_equal(connect(env->fds[1], (struct sockaddr *)&sin6,
	    sizeof(sin6)), 0);
	assert_int_not_equal(probe = env->fds[2] = socket(AF_INET6,
	    SOCK_STREAM | SOCK_NONBLOCK, 0), -1);
	if (connect(probe, (struct sockaddr *)&sin6, sizeof(sin6)) == 0)
		skip();
	FD_ZERO(&wfds);
	FD_SET(probe, &wfds);
	if (select(probe + 1, NULL, &wfds, NULL, &tv) != 0)
		skip();		/* no black hole here */

	etrn_seen_ms = 0;
	fake_script(env->fs, steps, nitems(steps));
	fake_on_line(env->fs, note_etrn, env);
	start(env, "mx.test", port, one_domain, CONF_CMD_ETRN, 30000, 2000);
	run(env, RUN_MAX_MS);
	assert_int_equal(env->fs->nconns, 1);
	assert_string_equal(env->fs->log, C_EHLO "ETRN example.org\n" C_QUIT);
	assert_int_equal(env->res[0].cls, ETRN_R_OK);
	assert_int_not_equal(etrn_seen_ms, 0);
	print_message("IPv6 silent, IPv4 answering: ETRN at the server "
	    "%llu ms after the start (connect-timeout 30 s)\n",
	    (unsigned long long)(etrn_seen_ms - env->started));
	assert_true(etrn_seen_ms - env->started < 30000);
}

/* Shut down while the server sits on the ETRN: QUIT, then "shutting down". */
static void
shutdown_on_etrn(struct fake_server *fs, unsigned lis, unsigned conn,
    const char *line, void *arg)
{
	struct env	*env = arg;

	(void)fs;
	(void)lis;
	(void)conn;
	if (strncmp(line, "ETRN ", 5) == 0 && env->session != NULL)
		session_shutdown(env->session);
}

static void
test_shutdown_mid_session(void **state)
{
	struct env			*env = *state;
	static const char *const	 domains[] = { "a.example",
	    "b.example", NULL };
	static const struct fake_step	 steps[] = { GREET, EHLO_ETRN,
	    { "ETRN", "250 Queuing started\r\n", 10000, false } };

	fake_script(env->fs, steps, nitems(steps));
	fake_on_line(env->fs, shutdown_on_etrn, env);
	start(env, FAKE_ADDR, env->fs->lis[env->lis].port, domains,
	    CONF_CMD_ETRN, 1000, 10000);
	run(env, RUN_MAX_MS);
	assert_string_equal(env->fs->log, C_EHLO "ETRN a.example\n" C_QUIT);
	assert_int_equal(env->nres, 2);
	check_result(&env->res[0], &(struct expect)FAILED(ETRN_F_SHUTDOWN,
	    "shutting down"), 0);
	check_result(&env->res[1], &(struct expect)FAILED(ETRN_F_SHUTDOWN,
	    "shutting down"), 1);
}

/*
 * A name the resolver never answers (an evdns base without nameservers
 * waits for one): the resolve phase has a deadline too, connect-timeout.
 */
static void
test_resolve_timeout(void **state)
{
	struct env	*env = *state;

	start(env, "mx.invalid", 25, one_domain, CONF_CMD_ETRN, 50, 1000);
	run(env, RUN_MAX_MS);
	assert_int_equal(env->nres, 1);
	check_result(&env->res[0], &(struct expect)FAILED(ETRN_F_RESOLVE,
	    "resolving mx.invalid timed out"), 0);
	assert_true(env->elapsed_ms >= 50 - CLOCK_SLACK_MS);
}

/*
 * The server says 220 to STARTTLS, then sends plain text where the
 * handshake should be: a TLS failure, whatever OpenSSL calls it.  The
 * text goes once the client's first handshake bytes are in (NOT_TLS), so
 * it never rides with the 220 (which would be data injected before TLS).
 */
static void
test_tls_handshake_fails(void **state)
{
	struct env			*env = *state;
	static const struct fake_step	 steps[] = { GREET,
	    { "EHLO", "250-mx.test\r\n250-ETRN\r\n250 STARTTLS\r\n", 0,
	    false }, { "STARTTLS", "220 2.0.0 Ready to start TLS\r\n", 0,
	    false }, NOT_TLS };

	fake_script(env->fs, steps, nitems(steps));
	start_tls(env, FAKE_ADDR, env->fs->lis[env->lis].port, one_domain,
	    CONF_CMD_ETRN, CONF_TLS_REQUIRED, 1000, 2000);
	run(env, RUN_MAX_MS);
	assert_int_equal(env->nres, 1);
	check_result(&env->res[0], &(struct expect)FAILED(ETRN_F_TLS,
	    "TLS handshake with " FAKE_ADDR ":"), 0);
	assert_true(env->esmtp);
}

/*
 * The relay's prebuilt context is the one used: the session's own tls-ca
 * (which does not exist) is not loaded, and the caller may drop its
 * reference at once (the session holds one).
 */
static void
test_tls_prebuilt_ctx(void **state)
{
	struct env			*env = *state;
	struct conf_relay		 r;
	static const struct fake_step	 steps[] = { GREET,
	    { "EHLO", "250-mx.test\r\n250-ETRN\r\n250 STARTTLS\r\n", 0,
	    false }, { "STARTTLS", "220 2.0.0 Ready to start TLS\r\n", 0,
	    false }, NOT_TLS };

	memset(&r, 0, sizeof(r));
	assert_non_null(env->tls_ctx = tls_ctx_new(&r));
	env->tls_ca = "/nonexistent/ca.pem";
	env->tls_verify = true;
	fake_script(env->fs, steps, nitems(steps));
	start_tls(env, FAKE_ADDR, env->fs->lis[env->lis].port, one_domain,
	    CONF_CMD_ETRN, CONF_TLS_REQUIRED, 1000, 2000);
	tls_ctx_free(env->tls_ctx);
	env->tls_ctx = NULL;
	run(env, RUN_MAX_MS);
	check_result(&env->res[0], &(struct expect)FAILED(ETRN_F_TLS,
	    "TLS handshake with " FAKE_ADDR ":"), 0);
}

/*
 * The shared context is asked for at STARTTLS only: a server that offers
 * no STARTTLS makes nobody load a trust store; one that does gets the
 * shared context (not one built from the unloadable tls-ca here).
 */
static void
test_tls_shared_ctx_on_demand(void **state)
{
	struct env			*env = *state;
	struct conf_relay		 r;
	static const struct fake_step	 plain[] = { GREET,
	    { "EHLO", "250-mx.test\r\n250 ETRN\r\n", 0, false },
	    { "ETRN", "250 Queuing started\r\n", 0, false }, QUIT };
	static const struct fake_step	 tls[] = { GREET,
	    { "EHLO", "250-mx.test\r\n250-ETRN\r\n250 STARTTLS\r\n", 0,
	    false }, { "STARTTLS", "220 2.0.0 Ready to start TLS\r\n", 0,
	    false }, NOT_TLS };

	memset(&r, 0, sizeof(r));
	assert_non_null(env->tls_shared = tls_ctx_new(&r));
	env->tls_ca = "/nonexistent/ca.pem";
	env->tls_verify = true;
	fake_script(env->fs, plain, nitems(plain));
	start_tls(env, FAKE_ADDR, env->fs->lis[env->lis].port, one_domain,
	    CONF_CMD_ETRN, CONF_TLS_OPPORTUNISTIC, 1000, 2000);
	run(env, RUN_MAX_MS);
	assert_int_equal(env->res[0].cls, ETRN_R_OK);
	assert_int_equal(env->shared_calls, 0);

	env->ncalls = 0;
	env->session = NULL;
	fake_script(env->fs, tls, nitems(tls));
	start_tls(env, FAKE_ADDR, env->fs->lis[env->lis].port, one_domain,
	    CONF_CMD_ETRN, CONF_TLS_REQUIRED, 1000, 2000);
	run(env, RUN_MAX_MS);
	assert_int_equal(env->shared_calls, 1);
	check_result(&env->res[0], &(struct expect)FAILED(ETRN_F_TLS,
	    "TLS handshake with " FAKE_ADDR ":"), 0);
	tls_ctx_free(env->tls_shared);
	env->tls_shared = NULL;
}

/*
 * Without one, the session builds it: a tls-ca that cannot load is a TLS
 * failure before any handshake.  The server waits for a ClientHello after
 * its 220: no QUIT in clear goes after it.
 */
static void
test_tls_ca_not_loaded(void **state)
{
	struct env			*env = *state;
	static const struct fake_step	 steps[] = { GREET,
	    { "EHLO", "250-mx.test\r\n250-ETRN\r\n250 STARTTLS\r\n", 0,
	    false }, { "STARTTLS", "220 2.0.0 Ready to start TLS\r\n", 0,
	    false } };

	env->tls_ca = "/nonexistent/ca.pem";
	env->tls_verify = true;
	fake_script(env->fs, steps, nitems(steps));
	start_tls(env, FAKE_ADDR, env->fs->lis[env->lis].port, one_domain,
	    CONF_CMD_ETRN, CONF_TLS_REQUIRED, 1000, 2000);
	run(env, RUN_MAX_MS);
	assert_int_equal(env->fs->mismatches, 0);
	assert_string_equal(env->fs->log, C_EHLO "STARTTLS\n");
	check_result(&env->res[0], &(struct expect)FAILED(ETRN_F_TLS,
	    "TLS: cannot load the CA certificates from /nonexistent/ca.pem"),
	    0);
}

/* The same with tls = implicit: nothing at all goes out in clear. */
static void
test_tls_implicit_ca_not_loaded(void **state)
{
	struct env			*env = *state;
	static const struct fake_step	 steps[] = {
	    { FAKE_ANY_BYTES, NULL, 0, false } };

	env->tls_ca = "/nonexistent/ca.pem";
	env->tls_verify = true;
	fake_script(env->fs, steps, nitems(steps));
	start_tls(env, FAKE_ADDR, env->fs->lis[env->lis].port, one_domain,
	    CONF_CMD_ETRN, CONF_TLS_IMPLICIT, 1000, 2000);
	run(env, RUN_MAX_MS);
	check_result(&env->res[0], &(struct expect)FAILED(ETRN_F_TLS,
	    "TLS: cannot load the CA certificates from /nonexistent/ca.pem"),
	    0);
	assert_null(env->fs->log);
}

/*
 * tls = implicit against a plain SMTP server on the port: its greeting is
 * where the ServerHello should be.  A TLS failure at once, with OpenSSL's
 * reason; nothing is sent in clear (no EHLO, no QUIT).
 */
static void
test_tls_implicit_plain_server(void **state)
{
	struct env			*env = *state;
	static const struct fake_step	 steps[] = { GREET,
	    { FAKE_ANY_BYTES, NULL, 0, false } };

	fake_script(env->fs, steps, nitems(steps));
	start_tls(env, FAKE_ADDR, env->fs->lis[env->lis].port, one_domain,
	    CONF_CMD_ETRN, CONF_TLS_IMPLICIT, 1000, 2000);
	run(env, RUN_MAX_MS);
	assert_int_equal(env->nres, 1);
	check_result(&env->res[0], &(struct expect)FAILED(ETRN_F_TLS,
	    "TLS handshake with " FAKE_ADDR ":"), 0);
	assert_null(strstr(env->res[0].text, "did not finish"));
	/* OpenSSL's reason, not libevent's SSL_get_error() code. */
	assert_non_null(strstr(env->res[0].text, "failed: wrong version "
	    "number"));
	assert_false(env->esmtp);
	assert_true(env->fs->log == NULL || (strstr(env->fs->log, "EHLO") ==
	    NULL && strstr(env->fs->log, "QUIT") == NULL));
}

/* A server that says nothing at all: the handshake's own deadline. */
static void
test_tls_implicit_silent(void **state)
{
	struct env			*env = *state;
	static const struct fake_step	 steps[] = {
	    { FAKE_ANY_BYTES, NULL, 0, false } };

	fake_script(env->fs, steps, nitems(steps));
	start_tls(env, FAKE_ADDR, env->fs->lis[env->lis].port, one_domain,
	    CONF_CMD_ETRN, CONF_TLS_IMPLICIT, 50, 2000);
	run(env, RUN_MAX_MS);
	check_result(&env->res[0], &(struct expect)FAILED(ETRN_F_TLS,
	    "did not finish within 50ms"), 0);
	assert_true(env->elapsed_ms >= 50 - CLOCK_SLACK_MS);
}

/*
 * A TLS-only SMTP server in the test's loop, as on port 465: its key and
 * self-signed certificate (IP SAN FAKE_ADDR) made here, the certificate
 * written out for tls-ca.  Greets once the handshake is done; logs "TLS"
 * then each line received.
 */
struct tls_server {
	SSL_CTX			*ctx;
	struct evconnlistener	*lis;
	struct bufferevent	*bev;
	uint16_t		 port;
	unsigned		 nconns;
	char			 ca[64];
	char			 log[512];
};

static void
tls_server_log(struct tls_server *srv, const char *line)
{
	size_t	used = strlen(srv->log);

	snprintf(srv->log + used, sizeof(srv->log) - used, "%s\n", line);
}

static void
tls_server_read_cb(struct bufferevent *bev, void *arg)
{
	struct tls_server	*srv = arg;
	const char		*reply;
	char			*line;
	size_t			 len;

	while ((line = evbuffer_readln(bufferevent_get_input(bev), &len,
	    EVBUFFER_EOL_CRLF)) != NULL) {
		tls_server_log(srv, line);
		if (strncmp(line, "EHLO", 4) == 0)
			reply = "250-mx.test\r\n250-ETRN\r\n250 STARTTLS\r\n";
		else if (strncmp(line, "ETRN", 4) == 0)
			reply = "250 Queuing started\r\n";
		else if (strncmp(line, "QUIT", 4) == 0)
			reply = "221 Bye\r\n";
		else
			reply = "502 no\r\n";
		bufferevent_write(bev, reply, strlen(reply));
		free(line);
	}
}

static void
tls_server_event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct tls_server	*srv = arg;

	if (events & BEV_EVENT_CONNECTED) {
		tls_server_log(srv, "TLS");
		bufferevent_write(bev, "220 mx.test ESMTP\r\n",
		    strlen("220 mx.test ESMTP\r\n"));
		return;
	}
	bufferevent_free(bev);
	srv->bev = NULL;
}

static void
tls_server_accept_cb(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int len, void *arg)
{
	struct tls_server	*srv = arg;
	SSL			*ssl;

	(void)sa;
	(void)len;
	srv->nconns++;
	assert_null(srv->bev);
	assert_non_null(ssl = SSL_new(srv->ctx));
	srv->bev = bufferevent_openssl_socket_new(
	    evconnlistener_get_base(lis), fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(srv->bev);
	bufferevent_setcb(srv->bev, tls_server_read_cb, NULL,
	    tls_server_event_cb, srv);
	bufferevent_enable(srv->bev, EV_READ | EV_WRITE);
}

static void
tls_server_start(struct tls_server *srv, struct event_base *base)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	X509V3_CTX		 v3;
	X509_EXTENSION		*ext;
	X509_NAME		*name;
	EVP_PKEY		*key;
	X509			*x;
	FILE			*f;
	int			 fd;

	memset(srv, 0, sizeof(*srv));
	assert_non_null(key = EVP_EC_gen("P-256"));
	assert_non_null(x = X509_new());
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"etrnd test_session", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	assert_non_null(ext = X509V3_EXT_conf_nid(NULL, &v3,
	    NID_subject_alt_name, "IP:" FAKE_ADDR));
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);

	snprintf(srv->ca, sizeof(srv->ca), "/tmp/test_session_ca.XXXXXX");
	assert_int_not_equal(fd = mkstemp(srv->ca), -1);
	assert_non_null(f = fdopen(fd, "w"));
	assert_int_equal(PEM_write_X509(f, x), 1);
	fclose(f);

	assert_non_null(srv->ctx = SSL_CTX_new(TLS_server_method()));
	assert_int_equal(SSL_CTX_use_certificate(srv->ctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(srv->ctx, key), 1);
	X509_free(x);
	EVP_PKEY_free(key);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, FAKE_ADDR, &sin.sin_addr), 1);
	srv->lis = evconnlistener_new_bind(base, tls_server_accept_cb, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
	    (struct sockaddr *)&sin, sizeof(sin));
	assert_non_null(srv->lis);
	assert_int_equal(getsockname(evconnlistener_get_fd(srv->lis),
	    (struct sockaddr *)&sin, &len), 0);
	srv->port = ntohs(sin.sin_port);
}

static void
tls_server_stop(struct tls_server *srv)
{
	if (srv->bev != NULL)
		bufferevent_free(srv->bev);
	evconnlistener_free(srv->lis);
	SSL_CTX_free(srv->ctx);
	unlink(srv->ca);
}

/* The session reported and the TLS server saw the connection end. */
static bool
tls_finished(void *arg)
{
	struct env		*env = arg;
	struct tls_server	*srv = env->tls_srv;

	return env->ncalls > 0 && srv->nconns > 0 && srv->bev == NULL;
}

/*
 * tls = implicit against a TLS server: the handshake first (the
 * certificate verified against tls-ca, by address), then the greeting,
 * one EHLO over TLS, no STARTTLS although offered, ETRN, QUIT; the report
 * has the TLS version and the certificate's verdict.
 */
static void
test_tls_implicit_ok(void **state)
{
	struct env		*env = *state;
	struct tls_server	 srv;

	tls_server_start(&srv, env->base);
	env->tls_srv = &srv;
	env->tls_ca = srv.ca;
	env->tls_verify = true;
	start_tls(env, FAKE_ADDR, srv.port, one_domain, CONF_CMD_ETRN,
	    CONF_TLS_IMPLICIT, 1000, 2000);
	assert_true(fake_run_until(env->base, tls_finished, env,
	    RUN_MAX_MS));
	fake_run_turns(env->base, 3);
	assert_int_equal(env->ncalls, 1);
	assert_int_equal(srv.nconns, 1);
	assert_string_equal(srv.log, "TLS\n" C_EHLO "ETRN example.org\n"
	    C_QUIT);
	assert_int_equal(env->nres, 1);
	check_result(&env->res[0], &(struct expect)OK(250, "Queuing started"),
	    0);
	assert_true(env->esmtp);
	assert_true(env->report.tls_ms >= 0);
	assert_true(env->report.greeting_ms >= 0);
	assert_non_null(strstr(env->report.tls, "TLSv1."));
	assert_string_equal(env->report.cert, "verified (chain to tls-ca, "
	    "address " FAKE_ADDR ")");
	tls_server_stop(&srv);
}

/* Dropped before its first loop turn: no connection, no callback. */
static void
test_free_before_start(void **state)
{
	struct env	*env = *state;

	start(env, FAKE_ADDR, env->fs->lis[env->lis].port, one_domain,
	    CONF_CMD_ETRN, 1000, 1000);
	session_free(env->session);
	env->session = NULL;
	session_free(NULL);
	fake_run_for(env->base, 20);
	assert_int_equal(env->ncalls, 0);
	assert_int_equal(env->fs->nconns, 0);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test_setup_teardown(test_no_source_address,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_address,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_timeout,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_happy_eyeballs,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_mid_session,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_timeout,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_handshake_fails,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_prebuilt_ctx,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_ca_not_loaded,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_shared_ctx_on_demand,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_implicit_ca_not_loaded,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_implicit_plain_server,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_implicit_silent,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_implicit_ok,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_before_start,
		    setup, teardown),
	};
	struct CMUnitTest	*tests;
	size_t			 i, n = 0;
	int			 rc;

	if (getenv("TEST_VERBOSE") != NULL)
		log_init(1);
	tests = calloc(nitems(cases) + nitems(fixed), sizeof(*tests));
	if (tests == NULL)
		return 1;
	/* One named test per table row. */
	for (i = 0; i < nitems(cases); i++)
		tests[n++] = (struct CMUnitTest){ cases[i].name, test_script,
		    setup, teardown, (void *)(uintptr_t)&cases[i] };
	for (i = 0; i < nitems(fixed); i++)
		tests[n++] = fixed[i];
	rc = _cmocka_run_group_tests("session", tests, n, NULL, NULL);
	free(tests);
	return rc;
}
