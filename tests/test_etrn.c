/* SPDX-License-Identifier: ISC */
/*
 * test_etrn: the ETRN state machine by scripted conversations, in the manner
 * of dbus-broker's test-sasl.c: server replies in (fed line by line through
 * the reply reader), the commands we send and every domain's result out.
 * The server texts are the ones Postfix, Exim and Sendmail really send.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "etrn.h"
#include "reply.h"

#define nitems_(a)	(sizeof(a) / sizeof((a)[0]))
#define MAXDOMAINS	10
#define MAXSTEPS	16
#define HELO		"client.example"

/* What the session does to the machine at one step. */
enum input {
	IN_END,			/* no more steps */
	IN_REPLY,		/* the server's reply: etrn_on_reply() */
	IN_TLS_UP,		/* the handshake succeeded: etrn_on_tls() */
	IN_FAIL,		/* the session gave up: etrn_on_failure() */
};

struct step {
	enum input		 input;
	const char		*reply;	/* lines joined by '\n' (IN_FAIL:
					   the reason) */
	enum etrn_fail		 fail;	/* IN_FAIL: the kind */
	enum etrn_action	 action;
	const char		*cmd;	/* expected, without CRLF */
	enum etrn_state		 state;	/* expected after the step */
	bool			 secret;	/* e.cmd_secret after it */
	const char		*note;	/* substring of e.note; NULL: none */
};

/* The server says reply, we answer cmd and are in state. */
#define SEND(reply, cmd, state) \
	{ IN_REPLY, reply, 0, ETRN_SEND, cmd, state, false, NULL }
/* The same, with a warning for the log (e.note). */
#define SEND_NOTE(reply, cmd, state, note) \
	{ IN_REPLY, reply, 0, ETRN_SEND, cmd, state, false, note }
/* The same, the command carrying credentials (not logged). */
#define SEND_SECRET(reply, cmd, state) \
	{ IN_REPLY, reply, 0, ETRN_SEND, cmd, state, true, NULL }
#define CLOSE(reply) \
	{ IN_REPLY, reply, 0, ETRN_CLOSE, NULL, ETRN_S_DONE, false, NULL }
/* 220 to STARTTLS: the session runs the handshake. */
#define HANDSHAKE(reply) \
	{ IN_REPLY, reply, 0, ETRN_HANDSHAKE, NULL, ETRN_S_TLS, false, NULL }
/* The handshake is done: we send cmd (EHLO again) in state. */
#define TLS_UP(cmd, state) \
	{ IN_TLS_UP, NULL, 0, ETRN_SEND, cmd, state, false, NULL }
/* The implicit handshake is done: nothing to send, the greeting next. */
#define TLS_GREET \
	{ IN_TLS_UP, NULL, 0, ETRN_WAIT, NULL, ETRN_S_GREETING, false, NULL }
/* The session gave up: timeout, EOF, protocol error, shutdown. */
#define FAIL(kind, reason) \
	{ IN_FAIL, reason, kind, ETRN_CLOSE, NULL, ETRN_S_DONE, false, NULL }

struct expect {
	enum etrn_class	 cls;
	enum etrn_fail	 fail;
	int		 code;
	long		 pending;
	const char	*text;		/* NULL: not checked */
	const char	*hint;		/* substring; NULL: no hint */
	enum etrn_form	 form;		/* the form that went out last */
	enum etrn_detail detail;
};

#define OK(code)		{ ETRN_R_OK, ETRN_F_NONE, code, -1, NULL, NULL }
#define RES(cls, fail, code, hint) \
				{ cls, fail, code, -1, NULL, hint }
#define REPLY(cls, code, hint) \
				{ cls, ETRN_F_REPLY, code, -1, NULL, hint }
/* Accepted in the '#' form the server asked for. */
#define OK_HASH(code)		{ ETRN_R_OK, ETRN_F_NONE, code, -1, NULL, \
				    "sent as '#domain'", ETRN_FORM_HASH, \
				    ETRN_D_NONE }
/* Not asked in this session (its ETRN limit), in form next time. */
#define NOT_ASKED(form)		{ ETRN_R_NONE, ETRN_F_NONE, 0, -1, "", \
				    NULL, form, ETRN_D_NONE }
#define EXIM_501	"501 argument must begin with #"

struct script {
	const char		*name;
	enum conf_command	 command;
	const char		*helo;		/* NULL: HELO */
	const char		*domains[MAXDOMAINS];
	struct step		 steps[MAXSTEPS];
	struct expect		 results[MAXDOMAINS];
	bool			 esmtp;
	bool			 etrn_advertised;
	/* etrn_set_security(), always: the defaults are tls = no, no AUTH. */
	enum conf_tls		 tls;
	const char		*auth_user;
	const char		*auth_password;
	bool			 auth_cleartext;
	/* At the end. */
	int			 auth_code;	/* e.auth_code */
	bool			 tls_active;	/* e.tls_active */
};

#define POSTFIX_220	"220 mx.example ESMTP Postfix (Debian/GNU)"
#define POSTFIX_EHLO	"250-mx.example\n250-PIPELINING\n" \
			"250-SIZE 10240000\n250-ETRN\n250-STARTTLS\n" \
			"250-ENHANCEDSTATUSCODES\n250-8BITMIME\n" \
			"250-DSN\n250 CHUNKING"
#define EXIM_220	"220 mx.example ESMTP Exim 4.96 " \
			"Mon, 01 Jan 2024 12:00:00 +0000"
#define EXIM_EHLO	"250-mx.example Hello client.example [192.0.2.1]\n" \
			"250-SIZE 52428800\n250-8BITMIME\n250-PIPELINING\n" \
			"250-PIPE_CONNECT\n250 HELP"
#define SENDMAIL_220	"220 mx.example ESMTP Sendmail 8.17.1.9/8.17.1.9; " \
			"Mon, 1 Jan 2024 12:00:00 GMT"
#define SENDMAIL_EHLO	"250-mx.example Hello client.example " \
			"[192.0.2.1], pleased to meet you\n" \
			"250-ENHANCEDSTATUSCODES\n250-PIPELINING\n" \
			"250-8BITMIME\n250-SIZE\n250-DSN\n250-ETRN\n" \
			"250-DELIVERBY\n250 HELP"
#define BYE		"221 2.0.0 Bye"
#define AUTH_EHLO	"250-mx.example\n250-ETRN\n250 AUTH PLAIN LOGIN"
#define LOGIN_EHLO	"250-mx.example\n250-ETRN\n250 AUTH LOGIN"
#define EHLO_TLS	"250-mx.example\n250-ETRN\n250 STARTTLS"
#define EHLO_AUTH	"250-mx.example\n250-ETRN\n250-AUTH PLAIN LOGIN\n" \
			"250 8BITMIME"

static const struct script scripts[] = {
	{
		.name = "postfix: three domains, all queued",
		.domains = { "example.org", "@example.net", "#example.com" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(POSTFIX_EHLO, "ETRN example.org", ETRN_S_ETRN),
			SEND("250 Queuing started", "ETRN @example.net",
			    ETRN_S_ETRN),
			SEND("250 Queuing started", "ETRN #example.com",
			    ETRN_S_ETRN),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_OK, ETRN_F_NONE, 250, -1, "Queuing started",
			    NULL },
			OK(250), OK(250),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "postfix: 459 not in fast_flush_domains",
		.domains = { "example.com", "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(POSTFIX_EHLO, "ETRN example.com", ETRN_S_ETRN),
			SEND("459 <example.com>: service unavailable",
			    "ETRN example.org", ETRN_S_ETRN),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_REFUSED, ETRN_F_REPLY, 459, -1,
			    "<example.com>: service unavailable",
			    "fast_flush_domains" },
			OK(250),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "postfix: 554 smtpd_etrn_restrictions; next one asked",
		.domains = { "example.org", "example.net" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(POSTFIX_EHLO, "ETRN example.org", ETRN_S_ETRN),
			SEND("554 5.7.1 <example.org>: Etrn command rejected: "
			    "Access denied", "ETRN example.net", ETRN_S_ETRN),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			REPLY(ETRN_R_REFUSED, 554, "smtpd_etrn_restrictions"),
			OK(250),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "554 without Postfix's text: no hint",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(POSTFIX_EHLO, "ETRN example.org", ETRN_S_ETRN),
			SEND("554 5.7.1 Access denied", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { REPLY(ETRN_R_REFUSED, 554, NULL) },
		.esmtp = true, .etrn_advertised = true,
	},
	/*
	 * Exim's built-in ETRN asks for '#': the same domain again at once
	 * in that form, and the plain ones after it start in it (Exim drops
	 * a session after smtp_max_synprot_errors 501s); a form the user
	 * wrote goes out as written.
	 */
	{
		.name = "exim built-in: 501 asks for #, retried at once",
		.domains = { "example.org", "example.net", "@example.com",
		    "#example.edu" },
		.steps = {
			SEND(EXIM_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(EXIM_EHLO, "ETRN example.org", ETRN_S_ETRN),
			SEND(EXIM_501, "ETRN #example.org", ETRN_S_ETRN),
			SEND("250 OK", "ETRN #example.net", ETRN_S_ETRN),
			SEND("250 OK", "ETRN @example.com", ETRN_S_ETRN),
			SEND(EXIM_501, "ETRN #example.edu", ETRN_S_ETRN),
			SEND("250 OK", "QUIT", ETRN_S_QUIT),
			CLOSE("221 mx.example closing connection"),
		},
		.results = {
			OK_HASH(250), OK_HASH(250),
			{ ETRN_R_UNSUPPORTED, ETRN_F_REPLY, 501, -1,
			    "argument must begin with #", "'#domain'" },
			OK(250),
		},
		.esmtp = true, .etrn_advertised = false,
	},
	{
		.name = "exim built-in: the retry's own failure stands",
		.domains = { "example.org", "example.net" },
		.steps = {
			SEND(EXIM_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(EXIM_EHLO, "ETRN example.org", ETRN_S_ETRN),
			SEND(EXIM_501, "ETRN #example.org", ETRN_S_ETRN),
			SEND("458 ETRN not permitted for 192.0.2.1",
			    "ETRN #example.net", ETRN_S_ETRN),
			SEND("501 5.5.4 no such queue", "QUIT", ETRN_S_QUIT),
			CLOSE("221 mx.example closing connection"),
		},
		.results = {
			{ ETRN_R_TEMP, ETRN_F_REPLY, 458, -1,
			    "ETRN not permitted for 192.0.2.1", NULL,
			    ETRN_FORM_HASH, ETRN_D_NONE },
			{ ETRN_R_UNSUPPORTED, ETRN_F_REPLY, 501, -1, NULL,
			    "refused it too", ETRN_FORM_HASH, ETRN_D_NONE },
		},
		.esmtp = true, .etrn_advertised = false,
	},
	{
		.name = "a server asking for @: the domain goes as @domain",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(POSTFIX_EHLO, "ETRN example.org", ETRN_S_ETRN),
			SEND("501 Argument must start with '@'",
			    "ETRN @example.org", ETRN_S_ETRN),
			SEND("250 OK", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_OK, ETRN_F_NONE, 250, -1, "OK",
			    "sent as '@domain'", ETRN_FORM_AT, ETRN_D_NONE },
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "hmailserver: 501 for a form it does not take, no retry",
		.domains = { "#example.org", "example.net" },
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND("250-mx.example\n250-ETRN\n250 HELP",
			    "ETRN #example.org", ETRN_S_ETRN),
			SEND("501 ETRN not supported for #example.org",
			    "ETRN example.net", ETRN_S_ETRN),
			SEND("250 OK", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			REPLY(ETRN_R_UNSUPPORTED, 501, "hMailServer"),
			OK(250),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	/*
	 * The retry counts against the session's limit of seven ETRNs: the
	 * domains past it wait for the next session, in the asked form.
	 */
	{
		.name = "exim built-in: the retry counts in the seven",
		.domains = { "d1.example", "d2.example", "d3.example",
		    "d4.example", "d5.example", "d6.example", "d7.example" },
		.steps = {
			SEND(EXIM_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(EXIM_EHLO, "ETRN d1.example", ETRN_S_ETRN),
			SEND(EXIM_501, "ETRN #d1.example", ETRN_S_ETRN),
			SEND("250 OK", "ETRN #d2.example", ETRN_S_ETRN),
			SEND("250 OK", "ETRN #d3.example", ETRN_S_ETRN),
			SEND("250 OK", "ETRN #d4.example", ETRN_S_ETRN),
			SEND("250 OK", "ETRN #d5.example", ETRN_S_ETRN),
			SEND("250 OK", "ETRN #d6.example", ETRN_S_ETRN),
			SEND("250 OK", "QUIT", ETRN_S_QUIT),
			CLOSE("221 mx.example closing connection"),
		},
		.results = {
			OK_HASH(250), OK_HASH(250), OK_HASH(250),
			OK_HASH(250), OK_HASH(250), OK_HASH(250),
			NOT_ASKED(ETRN_FORM_HASH),
		},
		.esmtp = true, .etrn_advertised = false,
	},
	{
		.name = "exim built-in: no room left for the retry",
		.domains = { "#d1.example", "#d2.example", "#d3.example",
		    "#d4.example", "#d5.example", "#d6.example", "d7.example" },
		.steps = {
			SEND(EXIM_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(EXIM_EHLO, "ETRN #d1.example", ETRN_S_ETRN),
			SEND("250 OK", "ETRN #d2.example", ETRN_S_ETRN),
			SEND("250 OK", "ETRN #d3.example", ETRN_S_ETRN),
			SEND("250 OK", "ETRN #d4.example", ETRN_S_ETRN),
			SEND("250 OK", "ETRN #d5.example", ETRN_S_ETRN),
			SEND("250 OK", "ETRN #d6.example", ETRN_S_ETRN),
			SEND("250 OK", "ETRN d7.example", ETRN_S_ETRN),
			SEND(EXIM_501, "QUIT", ETRN_S_QUIT),
			CLOSE("221 mx.example closing connection"),
		},
		.results = {
			OK(250), OK(250), OK(250), OK(250), OK(250), OK(250),
			NOT_ASKED(ETRN_FORM_HASH),
		},
		.esmtp = true, .etrn_advertised = false,
	},
	{
		.name = "exim: 458 Already processing is a flush under way",
		.domains = { "#example.org", "#example.net" },
		.steps = {
			SEND(EXIM_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(EXIM_EHLO, "ETRN #example.org", ETRN_S_ETRN),
			SEND("458 Already processing example.org",
			    "ETRN #example.net", ETRN_S_ETRN),
			SEND("458 ETRN not permitted for 192.0.2.1", "QUIT",
			    ETRN_S_QUIT),
			CLOSE("221 mx.example closing connection"),
		},
		.results = {
			{ ETRN_R_OK, ETRN_F_NONE, 458, -1,
			    "Already processing example.org", "already going "
			    "on", ETRN_FORM_WRITTEN, ETRN_D_RUNNING },
			REPLY(ETRN_R_TEMP, 458, NULL),
		},
		.esmtp = true, .etrn_advertised = false,
	},
	{
		.name = "exim: 451 is temporary",
		.domains = { "#example.org" },
		.steps = {
			SEND(EXIM_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(EXIM_EHLO, "ETRN #example.org", ETRN_S_ETRN),
			SEND("451 Temporary local problem", "QUIT",
			    ETRN_S_QUIT),
			CLOSE("221 mx.example closing connection"),
		},
		.results = { REPLY(ETRN_R_TEMP, 451, NULL) },
		.esmtp = true, .etrn_advertised = false,
	},
	{
		.name = "sendmail: 250 2.0.0 Queuing for node",
		.domains = { "example.org", "@example.net" },
		.steps = {
			SEND(SENDMAIL_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(SENDMAIL_EHLO, "ETRN example.org", ETRN_S_ETRN),
			SEND("250 2.0.0 Queuing for node example.org started",
			    "ETRN @example.net", ETRN_S_ETRN),
			SEND("250 2.0.0 Queuing for node @example.net started",
			    "QUIT", ETRN_S_QUIT),
			CLOSE("221 2.0.0 mx.example closing connection"),
		},
		.results = {
			{ ETRN_R_OK, ETRN_F_NONE, 250, -1, "2.0.0 Queuing for "
			    "node example.org started", NULL },
			OK(250),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "sendmail: 502 5.7.0: ETRN disabled there",
		.domains = { "example.org", "example.net" },
		.steps = {
			SEND(SENDMAIL_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(SENDMAIL_EHLO, "ETRN example.org", ETRN_S_ETRN),
			SEND("502 5.7.0 Sorry, we do not allow this operation",
			    "ETRN example.net", ETRN_S_ETRN),
			SEND("502 5.7.0 Sorry, we do not allow this operation",
			    "QUIT", ETRN_S_QUIT),
			CLOSE("221 2.0.0 mx.example closing connection"),
		},
		.results = {
			REPLY(ETRN_R_REFUSED, 502, "Sendmail: ETRN is disabled"),
			REPLY(ETRN_R_REFUSED, 502, "port 587"),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "sendmail: 459 4.5.4 for #name: no such queue group",
		.domains = { "#example.org" },
		.steps = {
			SEND(SENDMAIL_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(SENDMAIL_EHLO, "ETRN #example.org", ETRN_S_ETRN),
			SEND("459 4.5.4 Queue example.org unknown", "QUIT",
			    ETRN_S_QUIT),
			CLOSE("221 2.0.0 mx.example closing connection"),
		},
		.results = {
			REPLY(ETRN_R_REFUSED, 459, "Sendmail: '#name' names a "
			    "queue group"),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "251 252 253: success with and without a count",
		.domains = { "example.org", "example.net", "example.com" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(POSTFIX_EHLO, "ETRN example.org", ETRN_S_ETRN),
			SEND("253 OK, 12 pending messages for node "
			    "example.org started", "ETRN example.net",
			    ETRN_S_ETRN),
			SEND("251 OK, no messages waiting for node example.net",
			    "ETRN example.com", ETRN_S_ETRN),
			SEND("252 OK, pending messages for node example.com "
			    "started", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_OK, ETRN_F_NONE, 253, 12, "OK, 12 pending "
			    "messages for node example.org started", NULL },
			{ ETRN_R_OK, ETRN_F_NONE, 251, -1, "OK, no messages "
			    "waiting for node example.net", NULL },
			{ ETRN_R_OK, ETRN_F_NONE, 252, -1, "OK, pending "
			    "messages for node example.com started", NULL },
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "253 with a 30-digit count: count unknown",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(POSTFIX_EHLO, "ETRN example.org", ETRN_S_ETRN),
			SEND("253 OK, 123456789012345678901234567890 pending "
			    "messages for node example.org started", "QUIT",
			    ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { OK(253) },
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "530: STARTTLS or AUTH first; the next is asked",
		.domains = { "example.org", "example.net" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(POSTFIX_EHLO, "ETRN example.org", ETRN_S_ETRN),
			SEND("530 5.7.0 Must issue a STARTTLS command first",
			    "ETRN example.net", ETRN_S_ETRN),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			REPLY(ETRN_R_REFUSED, 530, "STARTTLS/AUTH"),
			OK(250),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "550: refused, no hint",
		.domains = { "example.org", "example.net" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(POSTFIX_EHLO, "ETRN example.org", ETRN_S_ETRN),
			SEND("550 5.7.1 Not allowed", "ETRN example.net",
			    ETRN_S_ETRN),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { REPLY(ETRN_R_REFUSED, 550, NULL), OK(250) },
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "opensmtpd: 500 stops asking",
		.domains = { "example.org", "example.net", "example.com" },
		.steps = {
			SEND("220 mx.example ESMTP OpenSMTPD", "EHLO " HELO,
			    ETRN_S_EHLO),
			SEND("250-mx.example Hello client.example "
			    "[192.0.2.1], pleased to meet you\n"
			    "250-8BITMIME\n250-ENHANCEDSTATUSCODES\n"
			    "250-SIZE 36700160\n250-DSN\n250 HELP",
			    "ETRN example.org", ETRN_S_ETRN),
			SEND("500 5.5.1 Invalid command: Command unrecognized",
			    "QUIT", ETRN_S_QUIT),
			CLOSE("221 2.0.0 Bye"),
		},
		.results = {
			REPLY(ETRN_R_UNSUPPORTED, 500, "does not support ETRN"),
			REPLY(ETRN_R_UNSUPPORTED, 500, "does not support ETRN"),
			REPLY(ETRN_R_UNSUPPORTED, 500, "does not support ETRN"),
		},
		.esmtp = true, .etrn_advertised = false,
	},
	{
		.name = "postfix: 501 goes on with the next domain",
		.domains = { "@@example.org", "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(POSTFIX_EHLO, "ETRN @@example.org", ETRN_S_ETRN),
			SEND("501 Error: invalid parameter syntax",
			    "ETRN example.org", ETRN_S_ETRN),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			REPLY(ETRN_R_UNSUPPORTED, 501, NULL),
			OK(250),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "421 greeting: close, all temporary",
		.domains = { "example.org", "example.net" },
		.steps = {
			CLOSE("421 4.3.2 Service not available"),
		},
		.results = {
			{ ETRN_R_TEMP, ETRN_F_REPLY, 421, -1,
			    "4.3.2 Service not available", NULL },
			REPLY(ETRN_R_TEMP, 421, NULL),
		},
	},
	{
		.name = "554 greeting: refused, QUIT",
		.domains = { "example.org", "example.net" },
		.steps = {
			SEND("554 5.3.2 mx.example No SMTP service here",
			    "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_REFUSED, ETRN_F_REPLY, 554, -1,
			    "5.3.2 mx.example No SMTP service here", NULL },
			REPLY(ETRN_R_REFUSED, 554, NULL),
		},
	},
	{
		.name = "450 greeting: temporary, QUIT",
		.domains = { "example.org" },
		.steps = {
			SEND("450 4.3.2 try again later", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { REPLY(ETRN_R_TEMP, 450, NULL) },
	},
	{
		.name = "250 as greeting: protocol error",
		.domains = { "example.org" },
		.steps = {
			SEND("250 mx.example", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_TEMP, ETRN_F_PROTOCOL, 250, -1,
			    "unexpected greeting: mx.example", NULL },
		},
	},
	{
		.name = "multi-line 220 greeting",
		.domains = { "example.org" },
		.steps = {
			SEND("220-mx.example ESMTP\n220-Unauthorised use "
			    "prohibited\n220 Ready", "EHLO " HELO, ETRN_S_EHLO),
			SEND(POSTFIX_EHLO, "ETRN example.org", ETRN_S_ETRN),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { OK(250) },
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "EHLO 502: HELO fallback",
		.domains = { "example.org" },
		.steps = {
			SEND("220 mx.example SMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND("502 Command not implemented", "HELO " HELO,
			    ETRN_S_HELO),
			SEND("250 mx.example", "ETRN example.org", ETRN_S_ETRN),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			CLOSE("221 bye"),
		},
		.results = { OK(250) },
		.esmtp = false, .etrn_advertised = false,
	},
	{
		.name = "EHLO 500: HELO 250, then ETRN",
		.domains = { "example.org", "example.net" },
		.steps = {
			SEND("220 mx.example SMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND("500 Command unrecognized", "HELO " HELO,
			    ETRN_S_HELO),
			SEND("250 mx.example Hello", "ETRN example.org",
			    ETRN_S_ETRN),
			SEND("250 OK", "ETRN example.net", ETRN_S_ETRN),
			SEND("250 OK", "QUIT", ETRN_S_QUIT),
			CLOSE("221 bye"),
		},
		.results = { OK(250), OK(250) },
		.esmtp = false, .etrn_advertised = false,
	},
	{
		.name = "EHLO 501, HELO 501: refused with the server's text",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND("501 Syntax: EHLO hostname", "HELO " HELO,
			    ETRN_S_HELO),
			SEND("501 Syntax: HELO hostname", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_REFUSED, ETRN_F_REPLY, 501, -1,
			    "Syntax: HELO hostname", NULL },
		},
	},
	{
		.name = "EHLO 421: close, all temporary",
		.domains = { "example.org", "example.net" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			CLOSE("421 4.7.0 mx.example Error: too many errors"),
		},
		.results = {
			REPLY(ETRN_R_TEMP, 421, NULL),
			REPLY(ETRN_R_TEMP, 421, NULL),
		},
	},
	{
		.name = "EHLO 451: temporary, QUIT",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND("451 4.3.0 local error", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { REPLY(ETRN_R_TEMP, 451, NULL) },
	},
	{
		.name = "EHLO 550: refused, QUIT",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND("550 5.7.1 Client host rejected", "QUIT",
			    ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { REPLY(ETRN_R_REFUSED, 550, NULL) },
	},
	{
		.name = "EHLO 354: protocol error",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND("354 go ahead", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_TEMP, ETRN_F_PROTOCOL, 354, -1,
			    "unexpected reply to EHLO: go ahead", NULL },
		},
	},
	{
		.name = "HELO 421: close, all temporary",
		.domains = { "example.org" },
		.steps = {
			SEND("220 mx.example", "EHLO " HELO, ETRN_S_EHLO),
			SEND("502 no", "HELO " HELO, ETRN_S_HELO),
			CLOSE("421 closing"),
		},
		.results = { REPLY(ETRN_R_TEMP, 421, NULL) },
	},
	{
		.name = "EHLO: keyword matched case-insensitively, whole word",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND("250-mx.example ETRN\n250-ETRNX\n250-etrn\n"
			    "250 HELP", "ETRN example.org", ETRN_S_ETRN),
			SEND("250 OK", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { OK(250) },
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "EHLO: ETRN only in the greeting line is no keyword",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND("250-ETRN\n250-ETRNX\n250 HELP",
			    "ETRN example.org", ETRN_S_ETRN),
			SEND("250 OK", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { OK(250) },
		.esmtp = true, .etrn_advertised = false,
	},
	{
		.name = "one-line EHLO reply",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND("250 mx.example", "ETRN example.org", ETRN_S_ETRN),
			SEND("250 OK", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { OK(250) },
		.esmtp = true, .etrn_advertised = false,
	},
	{
		.name = "QSND verb",
		.command = CONF_CMD_QSND,
		.domains = { "example.org", "example.net" },
		.steps = {
			SEND("220 mail.example Post.Office v3.5.3 ready",
			    "EHLO " HELO, ETRN_S_EHLO),
			SEND("250 mail.example", "QSND example.org",
			    ETRN_S_ETRN),
			SEND("250 OK", "QSND example.net", ETRN_S_ETRN),
			SEND("250 OK", "QUIT", ETRN_S_QUIT),
			CLOSE("221 bye"),
		},
		.results = { OK(250), OK(250) },
		.esmtp = true, .etrn_advertised = false,
	},
	{
		.name = "421 mid-ETRN: this and the rest temporary, close",
		.domains = { "a.example", "b.example", "c.example" },
		.steps = {
			SEND(SENDMAIL_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(SENDMAIL_EHLO, "ETRN a.example", ETRN_S_ETRN),
			SEND("250 2.0.0 Queuing for node a.example started",
			    "ETRN b.example", ETRN_S_ETRN),
			CLOSE("421 4.7.0 mx.example Too many bad commands; "
			    "closing connection"),
		},
		.results = {
			OK(250),
			REPLY(ETRN_R_TEMP, 421, NULL),
			REPLY(ETRN_R_TEMP, 421, NULL),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "354 to ETRN: protocol error, QUIT",
		.domains = { "a.example", "b.example", "c.example" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(POSTFIX_EHLO, "ETRN a.example", ETRN_S_ETRN),
			SEND("250 Queuing started", "ETRN b.example",
			    ETRN_S_ETRN),
			SEND("354 End data with <CR><LF>.<CR><LF>", "QUIT",
			    ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			OK(250),
			{ ETRN_R_TEMP, ETRN_F_PROTOCOL, 354, -1, "unexpected "
			    "reply to ETRN: End data with <CR><LF>.<CR><LF>",
			    NULL },
			RES(ETRN_R_TEMP, ETRN_F_PROTOCOL, 354, NULL),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "220 to QSND: protocol error names the verb",
		.command = CONF_CMD_QSND,
		.domains = { "a.example" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(POSTFIX_EHLO, "QSND a.example", ETRN_S_ETRN),
			SEND("220 mx.example ESMTP", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_TEMP, ETRN_F_PROTOCOL, 220, -1, "unexpected "
			    "reply to QSND: mx.example ESMTP", NULL },
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "seven domains",
		.domains = { "d1.example", "d2.example", "d3.example",
		    "d4.example", "d5.example", "d6.example", "d7.example" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(POSTFIX_EHLO, "ETRN d1.example", ETRN_S_ETRN),
			SEND("250 Queuing started", "ETRN d2.example",
			    ETRN_S_ETRN),
			SEND("250 Queuing started", "ETRN d3.example",
			    ETRN_S_ETRN),
			SEND("459 <d3.example>: service unavailable",
			    "ETRN d4.example", ETRN_S_ETRN),
			SEND("250 Queuing started", "ETRN d5.example",
			    ETRN_S_ETRN),
			SEND("458 Unable to queue messages", "ETRN d6.example",
			    ETRN_S_ETRN),
			SEND("250 Queuing started", "ETRN d7.example",
			    ETRN_S_ETRN),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			OK(250), OK(250),
			REPLY(ETRN_R_REFUSED, 459, "fast_flush_domains"),
			OK(250),
			{ ETRN_R_TEMP, ETRN_F_REPLY, 458, -1,
			    "Unable to queue messages", NULL },
			OK(250), OK(250),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "nine domains: more than a session should carry",
		.domains = { "d1.example", "d2.example", "d3.example",
		    "d4.example", "d5.example", "d6.example", "d7.example",
		    "d8.example", "d9.example" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(POSTFIX_EHLO, "ETRN d1.example", ETRN_S_ETRN),
			SEND("250 OK", "ETRN d2.example", ETRN_S_ETRN),
			SEND("250 OK", "ETRN d3.example", ETRN_S_ETRN),
			SEND("250 OK", "ETRN d4.example", ETRN_S_ETRN),
			SEND("250 OK", "ETRN d5.example", ETRN_S_ETRN),
			SEND("250 OK", "ETRN d6.example", ETRN_S_ETRN),
			SEND("250 OK", "ETRN d7.example", ETRN_S_ETRN),
			SEND("250 OK", "ETRN d8.example", ETRN_S_ETRN),
			SEND("250 OK", "ETRN d9.example", ETRN_S_ETRN),
			SEND("250 OK", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			OK(250), OK(250), OK(250), OK(250), OK(250),
			OK(250), OK(250), OK(250), OK(250),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "no domains: straight to QUIT",
		.domains = { NULL },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(POSTFIX_EHLO, "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "domain with CRLF or space is not sent",
		.domains = { "evil.example\r\nDATA", "a.example",
		    "two words", "" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(POSTFIX_EHLO, "ETRN a.example", ETRN_S_ETRN),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_UNSUPPORTED, ETRN_F_CONFIG, 0, -1, "not sent: "
			    "the domain is empty or contains a space or "
			    "control character", NULL },
			OK(250),
			RES(ETRN_R_UNSUPPORTED, ETRN_F_CONFIG, 0, NULL),
			RES(ETRN_R_UNSUPPORTED, ETRN_F_CONFIG, 0, NULL),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "bad HELO name: nothing asked, QUIT",
		.helo = "bad name",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { RES(ETRN_R_UNSUPPORTED, ETRN_F_CONFIG, 0, NULL) },
	},
	{
		.name = "421 in reply to QUIT: results kept",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(POSTFIX_EHLO, "ETRN example.org", ETRN_S_ETRN),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			CLOSE("421 closing"),
		},
		.results = { OK(250) },
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "fail in GREETING",
		.domains = { "example.org", "example.net" },
		.steps = {
			FAIL(ETRN_F_NO_GREETING,
			    "timed out waiting for the greeting"),
		},
		.results = {
			{ ETRN_R_TEMP, ETRN_F_NO_GREETING, 0, -1,
			    "timed out waiting for the greeting", NULL },
			{ ETRN_R_TEMP, ETRN_F_NO_GREETING, 0, -1,
			    "timed out waiting for the greeting", NULL },
		},
	},
	{
		.name = "fail in EHLO",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			FAIL(ETRN_F_CLOSED, "connection closed by the server"),
		},
		.results = {
			{ ETRN_R_TEMP, ETRN_F_CLOSED, 0, -1,
			    "connection closed by the server", NULL },
		},
	},
	{
		.name = "fail in HELO",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND("502 no", "HELO " HELO, ETRN_S_HELO),
			FAIL(ETRN_F_PROTOCOL,
			    "reply line without a 3-digit code"),
		},
		.results = {
			{ ETRN_R_TEMP, ETRN_F_PROTOCOL, 0, -1,
			    "reply line without a 3-digit code", NULL },
		},
	},
	{
		.name = "fail in ETRN: answered domains keep their result",
		.domains = { "a.example", "b.example", "c.example" },
		.steps = {
			SEND(SENDMAIL_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(SENDMAIL_EHLO, "ETRN a.example", ETRN_S_ETRN),
			SEND("250 2.0.0 Queuing for node a.example started",
			    "ETRN b.example", ETRN_S_ETRN),
			FAIL(ETRN_F_TIMEOUT,
			    "timed out waiting for a reply to ETRN"),
		},
		.results = {
			OK(250),
			{ ETRN_R_TEMP, ETRN_F_TIMEOUT, 0, -1,
			    "timed out waiting for a reply to ETRN", NULL },
			{ ETRN_R_TEMP, ETRN_F_TIMEOUT, 0, -1,
			    "timed out waiting for a reply to ETRN", NULL },
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "fail in QUIT: not an error",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO, ETRN_S_EHLO),
			SEND(POSTFIX_EHLO, "ETRN example.org", ETRN_S_ETRN),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			FAIL(ETRN_F_CLOSED, "connection closed by the server"),
		},
		.results = {
			{ ETRN_R_OK, ETRN_F_NONE, 250, -1, "Queuing started",
			    NULL },
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "fail in DONE: no change",
		.domains = { "example.org" },
		.steps = {
			CLOSE("421 busy"),
			FAIL(ETRN_F_CLOSED, "connection closed by the server"),
		},
		.results = {
			{ ETRN_R_TEMP, ETRN_F_REPLY, 421, -1, "busy", NULL },
		},
	},
	{
		.name = "fail without a reason",
		.domains = { "example.org" },
		.steps = {
			FAIL(ETRN_F_SHUTDOWN, NULL),
		},
		.results = {
			{ ETRN_R_TEMP, ETRN_F_SHUTDOWN, 0, -1, "session failed",
			    NULL },
		},
	},
	/* STARTTLS (RFC 3207): the handshake, then EHLO again. */
	{
		.name = "STARTTLS, handshake, EHLO again; no second STARTTLS",
		.domains = { "example.org" },
		.tls = CONF_TLS_OPPORTUNISTIC,
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND(EHLO_TLS, "STARTTLS", ETRN_S_STARTTLS),
			HANDSHAKE("220 2.0.0 Ready to start TLS"),
			TLS_UP("EHLO " HELO, ETRN_S_EHLO),
			/* Offered again inside TLS: no second round. */
			SEND(EHLO_TLS, "ETRN example.org", ETRN_S_ETRN),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { OK(250) },
		.esmtp = true, .etrn_advertised = true, .tls_active = true,
	},
	{
		.name = "tls = opportunistic, STARTTLS not offered: in clear",
		.domains = { "example.org" },
		.tls = CONF_TLS_OPPORTUNISTIC,
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND("250-mx.example\n250 ETRN", "ETRN example.org",
			    ETRN_S_ETRN),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { OK(250) },
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "tls = opportunistic, STARTTLS refused: on in clear",
		.domains = { "example.org" },
		.tls = CONF_TLS_OPPORTUNISTIC,
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND(EHLO_TLS, "STARTTLS", ETRN_S_STARTTLS),
			SEND_NOTE("454 4.7.0 TLS not available",
			    "ETRN example.org", ETRN_S_ETRN,
			    "refused STARTTLS; going on without TLS"),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { OK(250) },
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "tls = required, STARTTLS not offered: policy, QUIT",
		.domains = { "example.org", "example.net" },
		.tls = CONF_TLS_REQUIRED,
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND("250-mx.example\n250 ETRN", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_TEMP, ETRN_F_POLICY, 0, -1, "the server does "
			    "not offer STARTTLS, and tls = required", NULL },
			RES(ETRN_R_TEMP, ETRN_F_POLICY, 0, NULL),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "tls = required, STARTTLS refused: the reply, QUIT",
		.domains = { "example.org" },
		.tls = CONF_TLS_REQUIRED,
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND(EHLO_TLS, "STARTTLS", ETRN_S_STARTTLS),
			SEND("454 4.7.0 TLS not available", "QUIT",
			    ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_TEMP, ETRN_F_REPLY, 454, -1, "STARTTLS "
			    "refused: 4.7.0 TLS not available", NULL },
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "tls = required, HELO fallback: no STARTTLS, policy",
		.domains = { "example.org" },
		.tls = CONF_TLS_REQUIRED,
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND("502 5.5.1 unknown", "HELO " HELO, ETRN_S_HELO),
			SEND("250 mx.example", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_TEMP, ETRN_F_POLICY, 0, -1, "the server does "
			    "not speak ESMTP, so no STARTTLS, and tls = "
			    "required", NULL },
		},
	},
	{
		.name = "STARTTLS 421: close, all temporary",
		.domains = { "example.org" },
		.tls = CONF_TLS_REQUIRED,
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND(EHLO_TLS, "STARTTLS", ETRN_S_STARTTLS),
			CLOSE("421 4.3.2 shutting down"),
		},
		.results = { REPLY(ETRN_R_TEMP, 421, NULL) },
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "tls = no ignores STARTTLS",
		.domains = { "example.org" },
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND(EHLO_TLS, "ETRN example.org", ETRN_S_ETRN),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { OK(250) },
		.esmtp = true, .etrn_advertised = true,
	},
	/*
	 * tls = implicit (RFC 8314): the handshake before the greeting, then
	 * EHLO over TLS, once; STARTTLS is never sent, AUTH is allowed.
	 */
	{
		.name = "tls = implicit: greeting after the handshake, "
		    "no STARTTLS",
		.domains = { "example.org" },
		.tls = CONF_TLS_IMPLICIT,
		.steps = {
			TLS_GREET,
			SEND("220 mx.example ESMTP", "EHLO " HELO, ETRN_S_EHLO),
			/* Offered (some servers do on 465): not taken. */
			SEND(EHLO_TLS, "ETRN example.org", ETRN_S_ETRN),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { OK(250) },
		.esmtp = true, .etrn_advertised = true, .tls_active = true,
	},
	{
		.name = "tls = implicit: AUTH PLAIN without STARTTLS",
		.domains = { "example.org" },
		.tls = CONF_TLS_IMPLICIT,
		.auth_user = "site", .auth_password = "s3cret",
		.steps = {
			TLS_GREET,
			SEND("220 mx.example ESMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND_SECRET(EHLO_AUTH, "AUTH PLAIN AHNpdGUAczNjcmV0",
			    ETRN_S_AUTH),
			SEND("235 2.7.0 Authentication successful",
			    "ETRN example.org", ETRN_S_ETRN),
			SEND("554 5.7.1 <example.org>: Etrn command rejected: "
			    "Access denied", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { REPLY(ETRN_R_REFUSED, 554,
		    "smtpd_etrn_restrictions") },
		.esmtp = true, .etrn_advertised = true, .tls_active = true,
		.auth_code = 235,
	},
	{
		.name = "tls = implicit: HELO fallback keeps TLS, no policy "
		    "refusal",
		.domains = { "example.org" },
		.tls = CONF_TLS_IMPLICIT,
		.steps = {
			TLS_GREET,
			SEND("220 mx.example", "EHLO " HELO, ETRN_S_EHLO),
			SEND("502 5.5.1 unknown", "HELO " HELO, ETRN_S_HELO),
			SEND("250 mx.example", "ETRN example.org",
			    ETRN_S_ETRN),
			SEND("250 OK", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { OK(250) },
		.tls_active = true,
	},
	{
		.name = "tls = implicit: 554 greeting over TLS, QUIT",
		.domains = { "example.org" },
		.tls = CONF_TLS_IMPLICIT,
		.steps = {
			TLS_GREET,
			SEND("554 5.3.2 no service", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { REPLY(ETRN_R_REFUSED, 554, NULL) },
		.tls_active = true,
	},
	{
		.name = "tls = implicit: the handshake fails, all temporary",
		.domains = { "example.org", "example.net" },
		.tls = CONF_TLS_IMPLICIT,
		.steps = {
			FAIL(ETRN_F_TLS, "TLS handshake with 192.0.2.1:465 "
			    "failed: wrong version number"),
		},
		.results = {
			{ ETRN_R_TEMP, ETRN_F_TLS, 0, -1, "TLS handshake with "
			    "192.0.2.1:465 failed: wrong version number",
			    NULL },
			RES(ETRN_R_TEMP, ETRN_F_TLS, 0, NULL),
		},
	},
	/* AUTH (RFC 4954, 4616): PLAIN first, LOGIN when only it is offered. */
	{
		.name = "AUTH PLAIN after STARTTLS, then ETRN",
		.domains = { "example.org" },
		.tls = CONF_TLS_REQUIRED,
		.auth_user = "site", .auth_password = "s3cret",
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND(EHLO_TLS, "STARTTLS", ETRN_S_STARTTLS),
			HANDSHAKE("220 go ahead"),
			TLS_UP("EHLO " HELO, ETRN_S_EHLO),
			/* base64("\0site\0s3cret") */
			SEND_SECRET(EHLO_AUTH, "AUTH PLAIN AHNpdGUAczNjcmV0",
			    ETRN_S_AUTH),
			SEND("235 2.7.0 Authentication successful",
			    "ETRN example.org", ETRN_S_ETRN),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { OK(250) },
		.esmtp = true, .etrn_advertised = true, .tls_active = true,
		.auth_code = 235,
	},
	{
		.name = "AUTH LOGIN when PLAIN is not offered (AUTH=)",
		.domains = { "example.org" },
		.auth_user = "site", .auth_password = "s3cret",
		.auth_cleartext = true,
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND("250-mx.example\n250 AUTH=LOGIN", "AUTH LOGIN",
			    ETRN_S_AUTH_LOGIN),
			SEND_SECRET("334 VXNlcm5hbWU6", "c2l0ZQ==",
			    ETRN_S_AUTH_USER),
			SEND_SECRET("334 UGFzc3dvcmQ6", "czNjcmV0",
			    ETRN_S_AUTH),
			SEND("235 ok", "ETRN example.org", ETRN_S_ETRN),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { OK(250) },
		.esmtp = true, .etrn_advertised = false,
		.auth_code = 235,
	},
	{
		.name = "AUTH 535: bad credentials are a refusal",
		.domains = { "example.org" },
		.auth_user = "site", .auth_password = "wrong",
		.auth_cleartext = true,
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND_SECRET(EHLO_AUTH, "AUTH PLAIN AHNpdGUAd3Jvbmc=",
			    ETRN_S_AUTH),
			SEND("535 5.7.8 Error: authentication failed", "QUIT",
			    ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_REFUSED, ETRN_F_REPLY, 535, -1, "AUTH failed: "
			    "5.7.8 Error: authentication failed", NULL },
		},
		.esmtp = true, .etrn_advertised = true,
		.auth_code = 535,
	},
	{
		.name = "AUTH 454: temporary",
		.domains = { "example.org" },
		.auth_user = "site", .auth_password = "pw",
		.auth_cleartext = true,
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND_SECRET(EHLO_AUTH, "AUTH PLAIN AHNpdGUAcHc=",
			    ETRN_S_AUTH),
			SEND("454 4.7.0 Temporary failure", "QUIT",
			    ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { REPLY(ETRN_R_TEMP, 454, NULL) },
		.esmtp = true, .etrn_advertised = true,
		.auth_code = 454,
	},
	{
		.name = "no TLS, auth-cleartext = no: asked without AUTH",
		.domains = { "example.org" },
		.tls = CONF_TLS_OPPORTUNISTIC,
		.auth_user = "site", .auth_password = "pw",
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND_NOTE(EHLO_AUTH, "ETRN example.org", ETRN_S_ETRN,
			    "without TLS"),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { OK(250) },
		.esmtp = true, .etrn_advertised = true,
	},
	/* RFC 4954 4: "*" cancels an exchange; the server must say 501. */
	{
		.name = "AUTH PLAIN: a 334 after the credentials gets \"*\"",
		.domains = { "example.org" },
		.auth_user = "site", .auth_password = "s3cret",
		.auth_cleartext = true,
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND_SECRET(AUTH_EHLO, "AUTH PLAIN AHNpdGUAczNjcmV0",
			    ETRN_S_AUTH),
			SEND_NOTE("334 VGVsbCBtZSBtb3Jl", "*",
			    ETRN_S_AUTH_CANCEL, "AUTH cancelled"),
			SEND("501 5.7.0 Authentication aborted", "QUIT",
			    ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_REFUSED, ETRN_F_REPLY, 501, -1,
			    "AUTH failed: 5.7.0 Authentication aborted", NULL },
		},
		.esmtp = true, .etrn_advertised = true,
		.auth_code = 501,
	},
	{
		.name = "AUTH LOGIN: a third 334 gets \"*\"",
		.domains = { "example.org" },
		.auth_user = "site", .auth_password = "s3cret",
		.auth_cleartext = true,
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND(LOGIN_EHLO, "AUTH LOGIN", ETRN_S_AUTH_LOGIN),
			SEND_SECRET("334 VXNlcm5hbWU6", "c2l0ZQ==",
			    ETRN_S_AUTH_USER),
			SEND_SECRET("334 UGFzc3dvcmQ6", "czNjcmV0",
			    ETRN_S_AUTH),
			SEND_NOTE("334 UGFzc3dvcmQ6", "*", ETRN_S_AUTH_CANCEL,
			    "AUTH cancelled"),
			SEND("501 5.7.0 Authentication aborted", "QUIT",
			    ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_REFUSED, ETRN_F_REPLY, 501, -1,
			    "AUTH failed: 5.7.0 Authentication aborted", NULL },
		},
		.esmtp = true, .etrn_advertised = true,
		.auth_code = 501,
	},
	{
		.name = "AUTH cancelled, then no 501: a protocol error",
		.domains = { "example.org" },
		.auth_user = "site", .auth_password = "s3cret",
		.auth_cleartext = true,
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND_SECRET(AUTH_EHLO, "AUTH PLAIN AHNpdGUAczNjcmV0",
			    ETRN_S_AUTH),
			SEND_NOTE("334 ", "*", ETRN_S_AUTH_CANCEL,
			    "AUTH cancelled"),
			SEND("235 2.7.0 Authentication successful", "QUIT",
			    ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_TEMP, ETRN_F_PROTOCOL, 235, -1, "unexpected "
			    "reply to a cancelled AUTH: 2.7.0 Authentication "
			    "successful", NULL },
		},
		.esmtp = true, .etrn_advertised = true,
		.auth_code = 235,
	},
	/* The server's 235 is its verdict, even before it asked (etrn.c). */
	{
		.name = "AUTH LOGIN: 235 before any credentials is success",
		.domains = { "example.org" },
		.auth_user = "site", .auth_password = "s3cret",
		.auth_cleartext = true,
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND(LOGIN_EHLO, "AUTH LOGIN", ETRN_S_AUTH_LOGIN),
			SEND_NOTE("235 2.7.0 Authentication successful",
			    "ETRN example.org", ETRN_S_ETRN,
			    "before asking for the password"),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { OK(250) },
		.esmtp = true, .etrn_advertised = true,
		.auth_code = 235,
	},
	{
		.name = "AUTH LOGIN: 235 after the user name alone is success",
		.domains = { "example.org" },
		.auth_user = "site", .auth_password = "s3cret",
		.auth_cleartext = true,
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO, ETRN_S_EHLO),
			SEND(LOGIN_EHLO, "AUTH LOGIN", ETRN_S_AUTH_LOGIN),
			SEND_SECRET("334 VXNlcm5hbWU6", "c2l0ZQ==",
			    ETRN_S_AUTH_USER),
			SEND_NOTE("235 2.7.0 Authentication successful",
			    "ETRN example.org", ETRN_S_ETRN,
			    "before asking for the password"),
			SEND("250 Queuing started", "QUIT", ETRN_S_QUIT),
			CLOSE(BYE),
		},
		.results = { OK(250) },
		.esmtp = true, .etrn_advertised = true,
		.auth_code = 235,
	},
};

/* The command, state and flags the step expects. */
static void
expect_step(struct etrn *e, const struct step *step, enum etrn_action action)
{
	char	want[ETRN_CMD_MAX];

	assert_int_equal(action, step->action);
	if (action == ETRN_SEND) {
		snprintf(want, sizeof(want), "%s\r\n", step->cmd);
		assert_string_equal(e->cmd, want);
		assert_true(strlen(e->cmd) < ETRN_CMD_MAX);
		/* The only CR or LF is the final one. */
		assert_ptr_equal(strpbrk(e->cmd, "\r\n"),
		    e->cmd + strlen(step->cmd));
	} else
		assert_string_equal(e->cmd, "");
	assert_string_equal(etrn_state_name(e->state),
	    etrn_state_name(step->state));
	assert_int_equal(e->cmd_secret, step->secret);
	if (step->note == NULL)
		assert_null(e->note);
	else {
		assert_non_null(e->note);
		assert_non_null(strstr(e->note, step->note));
	}
	e->note = NULL;		/* as the session does once it logged it */
}

/* Feed one reply, line by line, through the real reader. */
static void
feed_reply(struct reply_parser *p, const char *text)
{
	const char		*line = text, *nl;
	size_t			 len;
	enum reply_status	 st;

	reply_init(p);
	for (;;) {
		nl = strchr(line, '\n');
		len = nl != NULL ? (size_t)(nl - line) : strlen(line);
		st = reply_feed(p, line, len);
		if (nl == NULL)
			break;
		assert_int_equal(st, REPLY_MORE);
		line = nl + 1;
	}
	assert_int_equal(st, REPLY_DONE);
}

static void
test_etrn_script(void **state)
{
	const struct script	*s = *state;
	const struct step	*step;
	const struct expect	*x;
	struct etrn_result	 results[MAXDOMAINS];
	struct reply_parser	 p;
	struct etrn		 e;
	char			 dbuf[MAXDOMAINS][64];
	char			*domains[MAXDOMAINS];
	const char		*hint;
	enum etrn_action	 action;
	size_t			 n, i;

	for (n = 0; n < MAXDOMAINS && s->domains[n] != NULL; n++) {
		snprintf(dbuf[n], sizeof(dbuf[n]), "%s", s->domains[n]);
		domains[n] = dbuf[n];
	}
	memset(results, 0xa5, sizeof(results));
	etrn_init(&e, s->helo != NULL ? s->helo : HELO, s->command,
	    domains, n, results);
	etrn_set_security(&e, s->tls, s->auth_user, s->auth_password,
	    s->auth_cleartext);
	/* tls = implicit: the handshake comes first (RFC 8314). */
	assert_int_equal(e.state, s->tls == CONF_TLS_IMPLICIT ? ETRN_S_TLS :
	    ETRN_S_GREETING);
	for (i = 0; i < n; i++) {
		assert_int_equal(results[i].cls, ETRN_R_NONE);
		assert_int_equal(results[i].fail, ETRN_F_NONE);
		assert_int_equal(results[i].pending, -1);
	}

	for (i = 0; i < MAXSTEPS && s->steps[i].input != IN_END; i++) {
		step = &s->steps[i];
		switch (step->input) {
		case IN_REPLY:
			feed_reply(&p, step->reply);
			action = etrn_on_reply(&e, &p.reply);
			break;
		case IN_TLS_UP:
			action = etrn_on_tls(&e);
			/* RFC 3207 4.2: what was learnt in clear is gone. */
			assert_true(e.tls_active);
			assert_false(e.starttls_offered);
			assert_false(e.esmtp);
			break;
		case IN_FAIL:
			etrn_on_failure(&e, step->fail, step->reply);
			action = ETRN_CLOSE;
			break;
		default:
			fail();
		}
		expect_step(&e, step, action);
	}
	assert_int_equal(e.state, ETRN_S_DONE);
	assert_int_equal(e.esmtp, s->esmtp);
	assert_int_equal(e.etrn_advertised, s->etrn_advertised);
	assert_int_equal(e.auth_code, s->auth_code);
	assert_int_equal(e.tls_active, s->tls_active);

	for (i = 0; i < n; i++) {
		x = &s->results[i];
		print_message("domain %zu %s: %s %s %d \"%s\"\n", i,
		    domains[i], etrn_class_name(results[i].cls),
		    etrn_fail_name(results[i].fail), results[i].code,
		    results[i].text);
		assert_string_equal(etrn_class_name(results[i].cls),
		    etrn_class_name(x->cls));
		assert_string_equal(etrn_fail_name(results[i].fail),
		    etrn_fail_name(x->fail));
		assert_int_equal(results[i].code, x->code);
		assert_int_equal(results[i].pending, x->pending);
		assert_int_equal(results[i].form, x->form);
		assert_int_equal(results[i].detail, x->detail);
		assert_true(strlen(results[i].text) < ETRN_TEXT_MAX);
		if (x->text != NULL)
			assert_string_equal(results[i].text, x->text);
		hint = etrn_hint(&results[i]);
		if (x->hint == NULL)
			assert_null(hint);
		else {
			assert_non_null(hint);
			assert_non_null(strstr(hint, x->hint));
		}
	}
}

/* A domain too long for one command line is marked, not sent. */
static void
test_etrn_long_domain(void **state)
{
	char			 longd[ETRN_CMD_MAX];
	char			*domains[2];
	struct etrn_result	 results[2];
	struct reply		 r;
	struct etrn		 e;

	(void)state;
	memset(longd, 'a', sizeof(longd) - 1);
	longd[sizeof(longd) - 1] = '\0';
	domains[0] = longd;
	domains[1] = longd + sizeof(longd) - 1 - (ETRN_CMD_MAX - 7);
	etrn_init(&e, HELO, CONF_CMD_ETRN, domains, 2, results);

	memset(&r, 0, sizeof(r));
	r.code = 220;
	assert_int_equal(etrn_on_reply(&e, &r), ETRN_SEND);
	r.code = 250;
	/* "ETRN " + 505 octets + CRLF = 512: one too many with the NUL. */
	assert_int_equal(etrn_on_reply(&e, &r), ETRN_SEND);
	assert_string_equal(e.cmd, "QUIT\r\n");
	assert_int_equal(results[0].cls, ETRN_R_UNSUPPORTED);
	assert_int_equal(results[1].cls, ETRN_R_UNSUPPORTED);
	assert_string_equal(results[0].text,
	    "not sent: the domain is too long for an SMTP command line");

	/* 504 octets fit: "ETRN " + 504 + CRLF = 511 octets. */
	domains[1] = longd + sizeof(longd) - 1 - 504;
	etrn_init(&e, HELO, CONF_CMD_ETRN, domains + 1, 1, results);
	r.code = 220;
	assert_int_equal(etrn_on_reply(&e, &r), ETRN_SEND);
	r.code = 250;
	assert_int_equal(etrn_on_reply(&e, &r), ETRN_SEND);
	assert_int_equal(e.state, ETRN_S_ETRN);
	assert_int_equal(strlen(e.cmd), 511);
}

/* Long server text is cut short of ETRN_TEXT_MAX, not inside a character. */
static void
test_etrn_long_text(void **state)
{
	char			*domains[1] = { NULL };
	char			 d[] = "example.org";
	struct etrn_result	 results[1];
	struct reply		 r;
	struct etrn		 e;
	size_t			 i;

	(void)state;
	domains[0] = d;
	etrn_init(&e, HELO, CONF_CMD_ETRN, domains, 1, results);
	memset(&r, 0, sizeof(r));
	r.code = 220;
	etrn_on_reply(&e, &r);
	r.code = 250;
	etrn_on_reply(&e, &r);

	/* "x" then two-octet characters: one straddles the limit. */
	r.text[0] = 'x';
	for (i = 1; i + 2 < sizeof(r.text); i += 2)
		memcpy(r.text + i, "\xc3\xa9", 2);
	r.text[i] = '\0';
	r.textlen = i;
	r.code = 458;
	assert_int_equal(etrn_on_reply(&e, &r), ETRN_SEND);
	assert_int_equal(results[0].cls, ETRN_R_TEMP);
	assert_int_equal(strlen(results[0].text), ETRN_TEXT_MAX - 1);
	assert_int_equal((unsigned char)results[0].text[ETRN_TEXT_MAX - 2],
	    0xa9);

	/* Shifted by one: the character across the limit is dropped. */
	memmove(r.text, r.text + 1, r.textlen);
	etrn_init(&e, HELO, CONF_CMD_ETRN, domains, 1, results);
	r.code = 220;
	etrn_on_reply(&e, &r);
	r.code = 250;
	etrn_on_reply(&e, &r);
	r.code = 458;
	etrn_on_reply(&e, &r);
	assert_int_equal(strlen(results[0].text), ETRN_TEXT_MAX - 2);
}

static void
test_etrn_names(void **state)
{
	(void)state;
	assert_string_equal(etrn_state_name(ETRN_S_GREETING), "GREETING");
	assert_string_equal(etrn_state_name(ETRN_S_EHLO), "EHLO");
	assert_string_equal(etrn_state_name(ETRN_S_HELO), "HELO");
	assert_string_equal(etrn_state_name(ETRN_S_ETRN), "ETRN");
	assert_string_equal(etrn_state_name(ETRN_S_QUIT), "QUIT");
	assert_string_equal(etrn_state_name(ETRN_S_DONE), "DONE");
	assert_string_equal(etrn_class_name(ETRN_R_NONE), "none");
	assert_string_equal(etrn_class_name(ETRN_R_OK), "ok");
	assert_string_equal(etrn_class_name(ETRN_R_TEMP), "temporary");
	assert_string_equal(etrn_class_name(ETRN_R_REFUSED), "refused");
	assert_string_equal(etrn_class_name(ETRN_R_UNSUPPORTED),
	    "unsupported");
	assert_string_equal(etrn_state_name((enum etrn_state)99), "UNKNOWN");
	assert_string_equal(etrn_class_name((enum etrn_class)99), "unknown");
	assert_null(etrn_hint(NULL));
}

/* Each failure kind has a name; those without SMTP are unreachable. */
static void
test_etrn_fail_kinds(void **state)
{
	static const struct {
		enum etrn_fail	 fail;
		const char	*name;
		bool		 unreachable;
	} kinds[] = {
		{ ETRN_F_NONE, "none", false },
		{ ETRN_F_REPLY, "reply", false },
		{ ETRN_F_RESOLVE, "resolve", true },
		{ ETRN_F_CONNECT, "connect", true },
		{ ETRN_F_NO_GREETING, "no-greeting", true },
		{ ETRN_F_TIMEOUT, "timeout", false },
		{ ETRN_F_CLOSED, "closed", false },
		{ ETRN_F_PROTOCOL, "protocol", false },
		{ ETRN_F_TLS, "tls", false },
		{ ETRN_F_POLICY, "policy", false },
		{ ETRN_F_CONFIG, "config", false },
		{ ETRN_F_SHUTDOWN, "shutdown", false },
		/* Not reachable yet is no failure: no "unreachable" event. */
		{ ETRN_F_NOROUTE, "no-route", false },
	};
	size_t	i;

	(void)state;
	assert_int_equal(sizeof(kinds) / sizeof(kinds[0]), ETRN_F_NOROUTE + 1);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		assert_int_equal(kinds[i].fail, i);
		assert_string_equal(etrn_fail_name(kinds[i].fail),
		    kinds[i].name);
		assert_int_equal(etrn_fail_unreachable(kinds[i].fail),
		    kinds[i].unreachable);
	}
	assert_string_equal(etrn_fail_name((enum etrn_fail)99), "unknown");
	assert_false(etrn_fail_unreachable((enum etrn_fail)99));
}

/* One reply in, the action out: for the cases outside the table. */
static enum etrn_action
say(struct etrn *e, const char *text)
{
	struct reply_parser	p;

	feed_reply(&p, text);
	return etrn_on_reply(e, &p.reply);
}

static void
sec_init(struct etrn *e, struct etrn_result *res, char **domains,
    enum conf_tls tls, const char *user, const char *pass, bool clear)
{
	etrn_init(e, HELO, CONF_CMD_ETRN, domains, 1, res);
	etrn_set_security(e, tls, user, pass, clear);
	assert_int_equal(say(e, "220 mx.example ESMTP"), ETRN_SEND);
}

/*
 * CONF_AUTH_PLAIN_MAX bytes of user and password make the longest AUTH
 * PLAIN command that fits; conf.c refuses one byte more at parse time.
 */
static void
test_auth_plain_limit(void **state)
{
	char			*domains[] = { (char *)"example.org" };
	char			 user[CONF_PASSWORD_MAX + 1];
	char			 pass[CONF_PASSWORD_MAX + 1];
	struct etrn_result	 res[1];
	struct etrn		 e;
	size_t			 ulen = CONF_AUTH_PLAIN_MAX / 2;

	(void)state;
	memset(user, 'u', ulen);
	user[ulen] = '\0';
	memset(pass, 'p', CONF_AUTH_PLAIN_MAX - ulen);
	pass[CONF_AUTH_PLAIN_MAX - ulen] = '\0';
	sec_init(&e, res, domains, CONF_TLS_NO, user, pass, true);
	assert_int_equal(say(&e, EHLO_AUTH), ETRN_SEND);
	assert_int_equal(e.state, ETRN_S_AUTH);
	assert_int_equal(strncmp(e.cmd, "AUTH PLAIN ", 11), 0);
	assert_true(strlen(e.cmd) <= 512);

	pass[CONF_AUTH_PLAIN_MAX - ulen] = 'p';
	pass[CONF_AUTH_PLAIN_MAX - ulen + 1] = '\0';
	sec_init(&e, res, domains, CONF_TLS_NO, user, pass, true);
	assert_int_equal(say(&e, EHLO_AUTH), ETRN_SEND);
	assert_string_equal(e.cmd, "QUIT\r\n");
	assert_string_equal(res[0].text, "credentials too long for an AUTH "
	    "command");
}

/*
 * etrnd --check: the whole set-up as configured, then QUIT where the first
 * ETRN would go; what the server showed is kept, and a failed step still
 * lands in the results.
 */
/* Which 501 asks for which form: only a reply that names one. */
static void
test_etrn_asks_form(void **state)
{
	static const struct {
		int		 code;
		const char	*text;
		enum etrn_form	 form;
	} rows[] = {
		{ 501, "argument must begin with #", ETRN_FORM_HASH },
		{ 501, "5.5.4 Argument must start with '@'", ETRN_FORM_AT },
		{ 501, "ETRN argument MUST BEGIN WITH \"#\"", ETRN_FORM_HASH },
		{ 501, "Error: invalid parameter syntax", ETRN_FORM_WRITTEN },
		{ 501, "ETRN not supported for #example.org",
		    ETRN_FORM_WRITTEN },
		{ 501, "argument must begin with a letter", ETRN_FORM_WRITTEN },
		{ 501, "must begin with", ETRN_FORM_WRITTEN },
		{ 500, "argument must begin with #", ETRN_FORM_WRITTEN },
		{ 458, "argument must begin with #", ETRN_FORM_WRITTEN },
	};
	struct reply	r;
	size_t		i;

	(void)state;
	for (i = 0; i < nitems_(rows); i++) {
		memset(&r, 0, sizeof(r));
		r.code = rows[i].code;
		snprintf(r.text, sizeof(r.text), "%s", rows[i].text);
		r.textlen = strlen(r.text);
		print_message("%d %s\n", r.code, r.text);
		assert_int_equal(etrn_reply_asks_form(&r), rows[i].form);
	}
	assert_string_equal(etrn_form_prefix(ETRN_FORM_WRITTEN), "");
	assert_string_equal(etrn_form_prefix(ETRN_FORM_HASH), "#");
	assert_string_equal(etrn_form_prefix(ETRN_FORM_AT), "@");
}

/* Each hint names its server and comes only with that server's text. */
static void
test_etrn_hints(void **state)
{
	static const struct {
		enum etrn_class	 cls;
		int		 code;
		const char	*text;
		enum etrn_form	 form;
		enum etrn_detail detail;
		const char	*hint;		/* substring; NULL: none */
	} rows[] = {
		{ ETRN_R_REFUSED, 459, "<example.org>: service unavailable",
		    0, 0, "Postfix: the domain is not in the secondary's "
		    "fast_flush_domains" },
		{ ETRN_R_REFUSED, 459, "4.1.1 <example.org>: service "
		    "unavailable", 0, 0, "Postfix" },
		{ ETRN_R_REFUSED, 459, "4.5.4 Queue example.org unknown", 0, 0,
		    "Sendmail: '#name' names a queue group" },
		{ ETRN_R_REFUSED, 459, "node not allowed", 0, 0, NULL },
		{ ETRN_R_REFUSED, 502, "5.7.0 Sorry, we do not allow this "
		    "operation", 0, 0, "Sendmail: ETRN is disabled" },
		{ ETRN_R_REFUSED, 502, "5.5.1 Command not implemented", 0, 0,
		    NULL },
		{ ETRN_R_REFUSED, 554, "5.7.1 <example.org>: Etrn command "
		    "rejected: Access denied", 0, 0, "Postfix: the "
		    "secondary's smtpd_etrn_restrictions" },
		{ ETRN_R_REFUSED, 554, "5.7.1 Access denied", 0, 0, NULL },
		{ ETRN_R_REFUSED, 530, "5.7.0 Must issue a STARTTLS command "
		    "first", 0, 0, "STARTTLS/AUTH" },
		{ ETRN_R_REFUSED, 458, "ETRN not permitted for 192.0.2.1", 0,
		    ETRN_D_REPEATED, "Exim's ETRN ACL denies with 458" },
		{ ETRN_R_REFUSED, 450, "try later", 0, ETRN_D_REPEATED,
		    "same reply every time: most likely the server's policy" },
		{ ETRN_R_TEMP, 458, "ETRN not permitted for 192.0.2.1", 0, 0,
		    NULL },
		{ ETRN_R_TEMP, 458, "Unable to queue messages", 0, 0, NULL },
		{ ETRN_R_OK, 458, "Already processing example.org", 0,
		    ETRN_D_RUNNING, "Exim: a queue run for this is already" },
		{ ETRN_R_OK, 250, "OK", ETRN_FORM_HASH, 0,
		    "sent as '#domain', the form the server asked for" },
		{ ETRN_R_OK, 250, "OK", ETRN_FORM_AT, 0, "sent as '@domain'" },
		{ ETRN_R_OK, 250, "OK", 0, 0, NULL },
		{ ETRN_R_UNSUPPORTED, 500, "5.5.2 Syntax error", 0, 0,
		    "does not support ETRN" },
		{ ETRN_R_UNSUPPORTED, 501, "argument must begin with #", 0, 0,
		    "Exim (built-in ETRN) wants '#domain'" },
		{ ETRN_R_UNSUPPORTED, 501, "5.5.4 no", ETRN_FORM_HASH, 0,
		    "asked for this form and refused it too" },
		{ ETRN_R_UNSUPPORTED, 501, "ETRN not supported for "
		    "#example.org", 0, 0, "hMailServer" },
		{ ETRN_R_UNSUPPORTED, 501, "Error: invalid parameter syntax",
		    0, 0, NULL },
	};
	struct etrn_result	res;
	const char		*hint;
	size_t			 i;

	(void)state;
	for (i = 0; i < nitems_(rows); i++) {
		memset(&res, 0, sizeof(res));
		res.cls = rows[i].cls;
		res.fail = ETRN_F_REPLY;
		res.code = rows[i].code;
		snprintf(res.text, sizeof(res.text), "%s", rows[i].text);
		res.form = rows[i].form;
		res.detail = rows[i].detail;
		hint = etrn_hint(&res);
		print_message("%d %s: %s\n", res.code, res.text,
		    hint != NULL ? hint : "(none)");
		if (rows[i].hint == NULL)
			assert_null(hint);
		else {
			assert_non_null(hint);
			assert_non_null(strstr(hint, rows[i].hint));
		}
	}
}

static void
test_probe(void **state)
{
	char			*domains[] = { (char *)"example.org" };
	struct etrn_result	 res[1];
	struct etrn		 e;

	(void)state;
	sec_init(&e, res, domains, CONF_TLS_REQUIRED, "site", "s3cret", false);
	etrn_set_probe(&e);
	assert_string_equal(e.greeting, "220 mx.example ESMTP");
	assert_int_equal(say(&e, EHLO_TLS), ETRN_SEND);
	assert_string_equal(e.cmd, "STARTTLS\r\n");
	assert_int_equal(say(&e, "220 go ahead"), ETRN_HANDSHAKE);
	assert_int_equal(etrn_on_tls(&e), ETRN_SEND);
	assert_int_equal(say(&e, EHLO_AUTH), ETRN_SEND);
	assert_string_equal(e.keywords, "ETRN, AUTH PLAIN LOGIN, 8BITMIME");
	assert_true(e.etrn_advertised);
	assert_string_equal(e.auth_mech, "PLAIN");
	assert_int_equal(say(&e, "235 2.7.0 Authentication successful"),
	    ETRN_SEND);
	assert_int_equal(e.auth_code, 235);
	/* No ETRN: QUIT, and nothing was asked. */
	assert_string_equal(e.cmd, "QUIT\r\n");
	assert_int_equal(res[0].cls, ETRN_R_NONE);
	assert_int_equal(say(&e, "221 2.0.0 Bye"), ETRN_CLOSE);
	assert_int_equal(res[0].cls, ETRN_R_NONE);

	/* A refused AUTH is the probe's result. */
	sec_init(&e, res, domains, CONF_TLS_NO, "site", "wrong", true);
	etrn_set_probe(&e);
	assert_int_equal(say(&e, EHLO_AUTH), ETRN_SEND);
	assert_int_equal(say(&e, "535 5.7.8 Error: authentication failed"),
	    ETRN_SEND);
	assert_string_equal(e.cmd, "QUIT\r\n");
	assert_int_equal(e.auth_code, 535);
	assert_int_equal(res[0].cls, ETRN_R_REFUSED);

	/* 235 before the password: success, but the password is untested. */
	sec_init(&e, res, domains, CONF_TLS_NO, "site", "s3cret", true);
	etrn_set_probe(&e);
	assert_int_equal(say(&e, "250-mx.example\n250 AUTH LOGIN"), ETRN_SEND);
	assert_string_equal(e.cmd, "AUTH LOGIN\r\n");
	assert_int_equal(say(&e, "235 ok"), ETRN_SEND);
	assert_int_equal(e.auth_code, 235);
	assert_non_null(e.auth_untested);
	assert_string_equal(e.cmd, "QUIT\r\n");

	/* No AUTH configured: straight to QUIT after EHLO. */
	sec_init(&e, res, domains, CONF_TLS_NO, NULL, NULL, false);
	etrn_set_probe(&e);
	assert_int_equal(say(&e, "250-mx.example\n250 PIPELINING"), ETRN_SEND);
	assert_string_equal(e.cmd, "QUIT\r\n");
	assert_false(e.etrn_advertised);
	assert_int_equal(e.auth_code, 0);
}

int
main(void)
{
	static struct CMUnitTest	 tests[sizeof(scripts) /
					    sizeof(scripts[0]) + 16];
	static const struct CMUnitTest	 fixed[] = {
		cmocka_unit_test(test_etrn_long_domain),
		cmocka_unit_test(test_etrn_long_text),
		cmocka_unit_test(test_etrn_names),
		cmocka_unit_test(test_etrn_fail_kinds),
		cmocka_unit_test(test_auth_plain_limit),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_etrn_asks_form),
		cmocka_unit_test(test_etrn_hints),
	};
	size_t				 i, n = 0;

	for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		tests[n].name = scripts[i].name;
		tests[n].test_func = test_etrn_script;
		tests[n].initial_state = (void *)(uintptr_t)&scripts[i];
		n++;
	}
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		tests[n++] = fixed[i];
	return _cmocka_run_group_tests("etrn", tests, n, NULL, NULL);
}
