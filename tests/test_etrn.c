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

#define MAXDOMAINS	10
#define MAXSTEPS	16
#define HELO		"client.example"

struct step {
	const char		*reply;	/* lines joined by '\n' */
	const char		*fail;	/* etrn_fail() reason */
	bool			 is_fail;	/* etrn_fail() instead of a reply */
	enum etrn_action	 action;
	const char		*cmd;	/* expected, without CRLF */
	enum etrn_state		 state;	/* after it; 0: told by cmd */
};

/* The server says reply, we answer cmd. */
#define SEND(reply, cmd)	{ reply, NULL, false, ETRN_SEND, cmd, 0 }
#define CLOSE(reply)		{ reply, NULL, false, ETRN_CLOSE, NULL, 0 }
/* The same, in a state the command does not tell (AUTH exchanges). */
#define SEND_IN(reply, cmd, state) \
				{ reply, NULL, false, ETRN_SEND, cmd, state }
/* The session gave up: timeout, EOF, protocol error. */
#define FAIL(reason)		{ NULL, reason, true, ETRN_CLOSE, NULL, 0 }

struct expect {
	enum etrn_class	 cls;
	int		 code;
	long		 pending;
	const char	*text;		/* NULL: not checked */
	const char	*hint;		/* substring; NULL: no hint */
};

#define OK(code)		{ ETRN_R_OK, code, -1, NULL, NULL }
#define RES(cls, code, hint)	{ cls, code, -1, NULL, hint }

struct script {
	const char		*name;
	enum conf_command	 command;
	const char		*helo;		/* NULL: HELO */
	const char		*domains[MAXDOMAINS];
	struct step		 steps[MAXSTEPS];
	struct expect		 results[MAXDOMAINS];
	bool			 esmtp;
	bool			 etrn_advertised;
	/* etrn_set_security() when auth_user is set; tls = no then. */
	const char		*auth_user;
	const char		*auth_password;
	int			 auth_code;	/* e.auth_code at the end */
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

static const struct script scripts[] = {
	{
		.name = "postfix: three domains, all queued",
		.domains = { "example.org", "@example.net", "#example.com" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND(POSTFIX_EHLO, "ETRN example.org"),
			SEND("250 Queuing started", "ETRN @example.net"),
			SEND("250 Queuing started", "ETRN #example.com"),
			SEND("250 Queuing started", "QUIT"),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_OK, 250, -1, "Queuing started", NULL },
			OK(250), OK(250),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "postfix: 459 not in fast_flush_domains",
		.domains = { "example.com", "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND(POSTFIX_EHLO, "ETRN example.com"),
			SEND("459 <example.com>: service unavailable",
			    "ETRN example.org"),
			SEND("250 Queuing started", "QUIT"),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_REFUSED, 459, -1,
			    "<example.com>: service unavailable",
			    "fast_flush_domains" },
			OK(250),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "postfix: 554 smtpd_etrn_restrictions",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND(POSTFIX_EHLO, "ETRN example.org"),
			SEND("554 5.7.1 <example.org>: Etrn command rejected: "
			    "Access denied", "QUIT"),
			CLOSE(BYE),
		},
		.results = {
			RES(ETRN_R_REFUSED, 554, "smtpd_etrn_restrictions"),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "554 without Postfix's text: no hint",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND(POSTFIX_EHLO, "ETRN example.org"),
			SEND("554 5.7.1 Access denied", "QUIT"),
			CLOSE(BYE),
		},
		.results = { RES(ETRN_R_REFUSED, 554, NULL) },
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "exim: 501 wants #domain, no ETRN keyword",
		.domains = { "example.org", "#example.org" },
		.steps = {
			SEND(EXIM_220, "EHLO " HELO),
			SEND(EXIM_EHLO, "ETRN example.org"),
			SEND("501 argument must begin with #",
			    "ETRN #example.org"),
			SEND("250 OK", "QUIT"),
			CLOSE("221 mx.example closing connection"),
		},
		.results = {
			{ ETRN_R_UNSUPPORTED, 501, -1,
			    "argument must begin with #", "'#domain'" },
			OK(250),
		},
		.esmtp = true, .etrn_advertised = false,
	},
	{
		.name = "exim: 458 is temporary, the next domain goes on",
		.domains = { "#example.org", "#example.net" },
		.steps = {
			SEND(EXIM_220, "EHLO " HELO),
			SEND(EXIM_EHLO, "ETRN #example.org"),
			SEND("458 Already processing example.org",
			    "ETRN #example.net"),
			SEND("458 ETRN not permitted for 192.0.2.1", "QUIT"),
			CLOSE("221 mx.example closing connection"),
		},
		.results = {
			RES(ETRN_R_TEMP, 458, NULL),
			RES(ETRN_R_TEMP, 458, NULL),
		},
		.esmtp = true, .etrn_advertised = false,
	},
	{
		.name = "exim: 451 is temporary",
		.domains = { "#example.org" },
		.steps = {
			SEND(EXIM_220, "EHLO " HELO),
			SEND(EXIM_EHLO, "ETRN #example.org"),
			SEND("451 Temporary local problem", "QUIT"),
			CLOSE("221 mx.example closing connection"),
		},
		.results = { RES(ETRN_R_TEMP, 451, NULL) },
		.esmtp = true, .etrn_advertised = false,
	},
	{
		.name = "sendmail: 250 2.0.0 Queuing for node",
		.domains = { "example.org", "@example.net" },
		.steps = {
			SEND(SENDMAIL_220, "EHLO " HELO),
			SEND(SENDMAIL_EHLO, "ETRN example.org"),
			SEND("250 2.0.0 Queuing for node example.org started",
			    "ETRN @example.net"),
			SEND("250 2.0.0 Queuing for node @example.net started",
			    "QUIT"),
			CLOSE("221 2.0.0 mx.example closing connection"),
		},
		.results = {
			{ ETRN_R_OK, 250, -1,
			    "2.0.0 Queuing for node example.org started", NULL },
			OK(250),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "sendmail: 502 5.7.0 on the submission port",
		.domains = { "example.org", "example.net" },
		.steps = {
			SEND(SENDMAIL_220, "EHLO " HELO),
			SEND(SENDMAIL_EHLO, "ETRN example.org"),
			SEND("502 5.7.0 Sorry, we do not allow this operation",
			    "ETRN example.net"),
			SEND("502 5.7.0 Sorry, we do not allow this operation",
			    "QUIT"),
			CLOSE("221 2.0.0 mx.example closing connection"),
		},
		.results = {
			RES(ETRN_R_REFUSED, 502, "port 587"),
			RES(ETRN_R_REFUSED, 502, "port 587"),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "251 252 253: success with and without a count",
		.domains = { "example.org", "example.net", "example.com" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND(POSTFIX_EHLO, "ETRN example.org"),
			SEND("253 OK, 12 pending messages for node "
			    "example.org started", "ETRN example.net"),
			SEND("251 OK, no messages waiting for node example.net",
			    "ETRN example.com"),
			SEND("252 OK, pending messages for node example.com "
			    "started", "QUIT"),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_OK, 253, 12, "OK, 12 pending messages for "
			    "node example.org started", NULL },
			OK(251), OK(252),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "253 with a 30-digit count: count unknown",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND(POSTFIX_EHLO, "ETRN example.org"),
			SEND("253 OK, 123456789012345678901234567890 pending "
			    "messages for node example.org started", "QUIT"),
			CLOSE(BYE),
		},
		.results = { OK(253) },
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "530: STARTTLS or AUTH first",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND(POSTFIX_EHLO, "ETRN example.org"),
			SEND("530 5.7.0 Must issue a STARTTLS command first",
			    "QUIT"),
			CLOSE(BYE),
		},
		.results = { RES(ETRN_R_REFUSED, 530, "STARTTLS/AUTH") },
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "550: refused, no hint",
		.domains = { "example.org", "example.net" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND(POSTFIX_EHLO, "ETRN example.org"),
			SEND("550 5.7.1 Not allowed", "ETRN example.net"),
			SEND("250 Queuing started", "QUIT"),
			CLOSE(BYE),
		},
		.results = { RES(ETRN_R_REFUSED, 550, NULL), OK(250) },
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "opensmtpd: 500 stops asking",
		.domains = { "example.org", "example.net", "example.com" },
		.steps = {
			SEND("220 mx.example ESMTP OpenSMTPD", "EHLO " HELO),
			SEND("250-mx.example Hello client.example "
			    "[192.0.2.1], pleased to meet you\n"
			    "250-8BITMIME\n250-ENHANCEDSTATUSCODES\n"
			    "250-SIZE 36700160\n250-DSN\n250 HELP",
			    "ETRN example.org"),
			SEND("500 5.5.1 Invalid command: Command unrecognized",
			    "QUIT"),
			CLOSE("221 2.0.0 Bye"),
		},
		.results = {
			RES(ETRN_R_UNSUPPORTED, 500, "does not support ETRN"),
			RES(ETRN_R_UNSUPPORTED, 500, "does not support ETRN"),
			RES(ETRN_R_UNSUPPORTED, 500, "does not support ETRN"),
		},
		.esmtp = true, .etrn_advertised = false,
	},
	{
		.name = "postfix: 501 goes on with the next domain",
		.domains = { "@@example.org", "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND(POSTFIX_EHLO, "ETRN @@example.org"),
			SEND("501 Error: invalid parameter syntax",
			    "ETRN example.org"),
			SEND("250 Queuing started", "QUIT"),
			CLOSE(BYE),
		},
		.results = {
			RES(ETRN_R_UNSUPPORTED, 501, NULL),
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
			{ ETRN_R_TEMP, 421, -1, "4.3.2 Service not available",
			    NULL },
			RES(ETRN_R_TEMP, 421, NULL),
		},
	},
	{
		.name = "554 greeting: refused, QUIT",
		.domains = { "example.org", "example.net" },
		.steps = {
			SEND("554 5.3.2 mx.example No SMTP service here",
			    "QUIT"),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_REFUSED, 554, -1,
			    "5.3.2 mx.example No SMTP service here", NULL },
			RES(ETRN_R_REFUSED, 554, NULL),
		},
	},
	{
		.name = "450 greeting: temporary, QUIT",
		.domains = { "example.org" },
		.steps = {
			SEND("450 4.3.2 try again later", "QUIT"),
			CLOSE(BYE),
		},
		.results = { RES(ETRN_R_TEMP, 450, NULL) },
	},
	{
		.name = "250 as greeting: protocol error",
		.domains = { "example.org" },
		.steps = {
			SEND("250 mx.example", "QUIT"),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_TEMP, 250, -1,
			    "unexpected greeting: mx.example", NULL },
		},
	},
	{
		.name = "multi-line 220 greeting",
		.domains = { "example.org" },
		.steps = {
			SEND("220-mx.example ESMTP\n220-Unauthorised use "
			    "prohibited\n220 Ready", "EHLO " HELO),
			SEND(POSTFIX_EHLO, "ETRN example.org"),
			SEND("250 Queuing started", "QUIT"),
			CLOSE(BYE),
		},
		.results = { OK(250) },
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "EHLO 502: HELO fallback",
		.domains = { "example.org" },
		.steps = {
			SEND("220 mx.example SMTP", "EHLO " HELO),
			SEND("502 Command not implemented", "HELO " HELO),
			SEND("250 mx.example", "ETRN example.org"),
			SEND("250 Queuing started", "QUIT"),
			CLOSE("221 bye"),
		},
		.results = { OK(250) },
		.esmtp = false, .etrn_advertised = false,
	},
	{
		.name = "EHLO 500: HELO 250, then ETRN",
		.domains = { "example.org", "example.net" },
		.steps = {
			SEND("220 mx.example SMTP", "EHLO " HELO),
			SEND("500 Command unrecognized", "HELO " HELO),
			SEND("250 mx.example Hello", "ETRN example.org"),
			SEND("250 OK", "ETRN example.net"),
			SEND("250 OK", "QUIT"),
			CLOSE("221 bye"),
		},
		.results = { OK(250), OK(250) },
		.esmtp = false, .etrn_advertised = false,
	},
	{
		.name = "EHLO 501, HELO 501: refused with the server's text",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND("501 Syntax: EHLO hostname", "HELO " HELO),
			SEND("501 Syntax: HELO hostname", "QUIT"),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_REFUSED, 501, -1, "Syntax: HELO hostname",
			    NULL },
		},
	},
	{
		.name = "EHLO 421: close, all temporary",
		.domains = { "example.org", "example.net" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			CLOSE("421 4.7.0 mx.example Error: too many errors"),
		},
		.results = {
			RES(ETRN_R_TEMP, 421, NULL),
			RES(ETRN_R_TEMP, 421, NULL),
		},
	},
	{
		.name = "EHLO 451: temporary, QUIT",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND("451 4.3.0 local error", "QUIT"),
			CLOSE(BYE),
		},
		.results = { RES(ETRN_R_TEMP, 451, NULL) },
	},
	{
		.name = "EHLO 550: refused, QUIT",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND("550 5.7.1 Client host rejected", "QUIT"),
			CLOSE(BYE),
		},
		.results = { RES(ETRN_R_REFUSED, 550, NULL) },
	},
	{
		.name = "EHLO 354: protocol error",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND("354 go ahead", "QUIT"),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_TEMP, 354, -1,
			    "unexpected reply to EHLO: go ahead", NULL },
		},
	},
	{
		.name = "HELO 421: close, all temporary",
		.domains = { "example.org" },
		.steps = {
			SEND("220 mx.example", "EHLO " HELO),
			SEND("502 no", "HELO " HELO),
			CLOSE("421 closing"),
		},
		.results = { RES(ETRN_R_TEMP, 421, NULL) },
	},
	{
		.name = "EHLO: keyword matched case-insensitively, whole word",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND("250-mx.example ETRN\n250-ETRNX\n250-etrn\n"
			    "250 HELP", "ETRN example.org"),
			SEND("250 OK", "QUIT"),
			CLOSE(BYE),
		},
		.results = { OK(250) },
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "EHLO: ETRN only in the greeting line is no keyword",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND("250-ETRN\n250-ETRNX\n250 HELP",
			    "ETRN example.org"),
			SEND("250 OK", "QUIT"),
			CLOSE(BYE),
		},
		.results = { OK(250) },
		.esmtp = true, .etrn_advertised = false,
	},
	{
		.name = "one-line EHLO reply",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND("250 mx.example", "ETRN example.org"),
			SEND("250 OK", "QUIT"),
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
			    "EHLO " HELO),
			SEND("250 mail.example", "QSND example.org"),
			SEND("250 OK", "QSND example.net"),
			SEND("250 OK", "QUIT"),
			CLOSE("221 bye"),
		},
		.results = { OK(250), OK(250) },
		.esmtp = true, .etrn_advertised = false,
	},
	{
		.name = "421 mid-ETRN: this and the rest temporary, close",
		.domains = { "a.example", "b.example", "c.example" },
		.steps = {
			SEND(SENDMAIL_220, "EHLO " HELO),
			SEND(SENDMAIL_EHLO, "ETRN a.example"),
			SEND("250 2.0.0 Queuing for node a.example started",
			    "ETRN b.example"),
			CLOSE("421 4.7.0 mx.example Too many bad commands; "
			    "closing connection"),
		},
		.results = {
			OK(250),
			RES(ETRN_R_TEMP, 421, NULL),
			RES(ETRN_R_TEMP, 421, NULL),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "354 to ETRN: protocol error, QUIT",
		.domains = { "a.example", "b.example", "c.example" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND(POSTFIX_EHLO, "ETRN a.example"),
			SEND("250 Queuing started", "ETRN b.example"),
			SEND("354 End data with <CR><LF>.<CR><LF>", "QUIT"),
			CLOSE(BYE),
		},
		.results = {
			OK(250),
			{ ETRN_R_TEMP, 354, -1, "unexpected reply to ETRN: "
			    "End data with <CR><LF>.<CR><LF>", NULL },
			RES(ETRN_R_TEMP, 354, NULL),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "220 to QSND: protocol error names the verb",
		.command = CONF_CMD_QSND,
		.domains = { "a.example" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND(POSTFIX_EHLO, "QSND a.example"),
			SEND("220 mx.example ESMTP", "QUIT"),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_TEMP, 220, -1,
			    "unexpected reply to QSND: mx.example ESMTP", NULL },
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "seven domains",
		.domains = { "d1.example", "d2.example", "d3.example",
		    "d4.example", "d5.example", "d6.example", "d7.example" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND(POSTFIX_EHLO, "ETRN d1.example"),
			SEND("250 Queuing started", "ETRN d2.example"),
			SEND("250 Queuing started", "ETRN d3.example"),
			SEND("459 <d3.example>: service unavailable",
			    "ETRN d4.example"),
			SEND("250 Queuing started", "ETRN d5.example"),
			SEND("458 Unable to queue messages", "ETRN d6.example"),
			SEND("250 Queuing started", "ETRN d7.example"),
			SEND("250 Queuing started", "QUIT"),
			CLOSE(BYE),
		},
		.results = {
			OK(250), OK(250),
			RES(ETRN_R_REFUSED, 459, "fast_flush_domains"),
			OK(250),
			RES(ETRN_R_TEMP, 458, NULL),
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
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND(POSTFIX_EHLO, "ETRN d1.example"),
			SEND("250 OK", "ETRN d2.example"),
			SEND("250 OK", "ETRN d3.example"),
			SEND("250 OK", "ETRN d4.example"),
			SEND("250 OK", "ETRN d5.example"),
			SEND("250 OK", "ETRN d6.example"),
			SEND("250 OK", "ETRN d7.example"),
			SEND("250 OK", "ETRN d8.example"),
			SEND("250 OK", "ETRN d9.example"),
			SEND("250 OK", "QUIT"),
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
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND(POSTFIX_EHLO, "QUIT"),
			CLOSE(BYE),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "domain with CRLF or space is not sent",
		.domains = { "evil.example\r\nDATA", "a.example",
		    "two words", "" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND(POSTFIX_EHLO, "ETRN a.example"),
			SEND("250 Queuing started", "QUIT"),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_UNSUPPORTED, 0, -1, "not sent: the domain is "
			    "empty or contains a space or control character",
			    NULL },
			OK(250),
			RES(ETRN_R_UNSUPPORTED, 0, NULL),
			RES(ETRN_R_UNSUPPORTED, 0, NULL),
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "bad HELO name: nothing asked, QUIT",
		.helo = "bad name",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "QUIT"),
			CLOSE(BYE),
		},
		.results = { RES(ETRN_R_UNSUPPORTED, 0, NULL) },
	},
	{
		.name = "421 in reply to QUIT: results kept",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND(POSTFIX_EHLO, "ETRN example.org"),
			SEND("250 Queuing started", "QUIT"),
			CLOSE("421 closing"),
		},
		.results = { OK(250) },
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "fail in GREETING",
		.domains = { "example.org", "example.net" },
		.steps = {
			FAIL("timed out waiting for the greeting"),
		},
		.results = {
			{ ETRN_R_TEMP, 0, -1,
			    "timed out waiting for the greeting", NULL },
			{ ETRN_R_TEMP, 0, -1,
			    "timed out waiting for the greeting", NULL },
		},
	},
	{
		.name = "fail in EHLO",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			FAIL("connection closed by the server"),
		},
		.results = {
			{ ETRN_R_TEMP, 0, -1,
			    "connection closed by the server", NULL },
		},
	},
	{
		.name = "fail in HELO",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND("502 no", "HELO " HELO),
			FAIL("reply line without a 3-digit code"),
		},
		.results = {
			{ ETRN_R_TEMP, 0, -1,
			    "reply line without a 3-digit code", NULL },
		},
	},
	{
		.name = "fail in ETRN: answered domains keep their result",
		.domains = { "a.example", "b.example", "c.example" },
		.steps = {
			SEND(SENDMAIL_220, "EHLO " HELO),
			SEND(SENDMAIL_EHLO, "ETRN a.example"),
			SEND("250 2.0.0 Queuing for node a.example started",
			    "ETRN b.example"),
			FAIL("timed out waiting for a reply to ETRN"),
		},
		.results = {
			OK(250),
			{ ETRN_R_TEMP, 0, -1,
			    "timed out waiting for a reply to ETRN", NULL },
			{ ETRN_R_TEMP, 0, -1,
			    "timed out waiting for a reply to ETRN", NULL },
		},
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "fail in QUIT: not an error",
		.domains = { "example.org" },
		.steps = {
			SEND(POSTFIX_220, "EHLO " HELO),
			SEND(POSTFIX_EHLO, "ETRN example.org"),
			SEND("250 Queuing started", "QUIT"),
			FAIL("connection closed by the server"),
		},
		.results = { { ETRN_R_OK, 250, -1, "Queuing started", NULL } },
		.esmtp = true, .etrn_advertised = true,
	},
	{
		.name = "fail in DONE: no change",
		.domains = { "example.org" },
		.steps = {
			CLOSE("421 busy"),
			FAIL("connection closed by the server"),
		},
		.results = { { ETRN_R_TEMP, 421, -1, "busy", NULL } },
	},
	{
		.name = "fail without a reason",
		.domains = { "example.org" },
		.steps = {
			FAIL(NULL),
		},
		.results = { RES(ETRN_R_TEMP, 0, NULL) },
	},
	/* RFC 4954 4: "*" cancels an exchange; the server must say 501. */
	{
		.name = "AUTH PLAIN: a 334 after the credentials gets \"*\"",
		.domains = { "example.org" },
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO),
			SEND_IN(AUTH_EHLO, "AUTH PLAIN AHNpdGUAczNjcmV0",
			    ETRN_S_AUTH),
			SEND_IN("334 VGVsbCBtZSBtb3Jl", "*",
			    ETRN_S_AUTH_CANCEL),
			SEND("501 5.7.0 Authentication aborted", "QUIT"),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_REFUSED, 501, -1,
			    "AUTH failed: 5.7.0 Authentication aborted", NULL },
		},
		.esmtp = true, .etrn_advertised = true,
		.auth_user = "site", .auth_password = "s3cret",
		.auth_code = 501,
	},
	{
		.name = "AUTH LOGIN: a third 334 gets \"*\"",
		.domains = { "example.org" },
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO),
			SEND_IN(LOGIN_EHLO, "AUTH LOGIN", ETRN_S_AUTH_LOGIN),
			SEND_IN("334 VXNlcm5hbWU6", "c2l0ZQ==",
			    ETRN_S_AUTH_USER),
			SEND_IN("334 UGFzc3dvcmQ6", "czNjcmV0", ETRN_S_AUTH),
			SEND_IN("334 UGFzc3dvcmQ6", "*", ETRN_S_AUTH_CANCEL),
			SEND("501 5.7.0 Authentication aborted", "QUIT"),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_REFUSED, 501, -1,
			    "AUTH failed: 5.7.0 Authentication aborted", NULL },
		},
		.esmtp = true, .etrn_advertised = true,
		.auth_user = "site", .auth_password = "s3cret",
		.auth_code = 501,
	},
	{
		.name = "AUTH cancelled, then no 501: a protocol error",
		.domains = { "example.org" },
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO),
			SEND_IN(AUTH_EHLO, "AUTH PLAIN AHNpdGUAczNjcmV0",
			    ETRN_S_AUTH),
			SEND_IN("334 ", "*", ETRN_S_AUTH_CANCEL),
			SEND("235 2.7.0 Authentication successful", "QUIT"),
			CLOSE(BYE),
		},
		.results = {
			{ ETRN_R_TEMP, 235, -1, "unexpected reply to a "
			    "cancelled AUTH: 2.7.0 Authentication successful",
			    NULL },
		},
		.esmtp = true, .etrn_advertised = true,
		.auth_user = "site", .auth_password = "s3cret",
		.auth_code = 235,
	},
	/* The server's 235 is its verdict, even before it asked (etrn.c). */
	{
		.name = "AUTH LOGIN: 235 before any credentials is success",
		.domains = { "example.org" },
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO),
			SEND_IN(LOGIN_EHLO, "AUTH LOGIN", ETRN_S_AUTH_LOGIN),
			SEND("235 2.7.0 Authentication successful",
			    "ETRN example.org"),
			SEND("250 Queuing started", "QUIT"),
			CLOSE(BYE),
		},
		.results = { OK(250) },
		.esmtp = true, .etrn_advertised = true,
		.auth_user = "site", .auth_password = "s3cret",
		.auth_code = 235,
	},
	{
		.name = "AUTH LOGIN: 235 after the user name alone is success",
		.domains = { "example.org" },
		.steps = {
			SEND("220 mx.example ESMTP", "EHLO " HELO),
			SEND_IN(LOGIN_EHLO, "AUTH LOGIN", ETRN_S_AUTH_LOGIN),
			SEND_IN("334 VXNlcm5hbWU6", "c2l0ZQ==",
			    ETRN_S_AUTH_USER),
			SEND("235 2.7.0 Authentication successful",
			    "ETRN example.org"),
			SEND("250 Queuing started", "QUIT"),
			CLOSE(BYE),
		},
		.results = { OK(250) },
		.esmtp = true, .etrn_advertised = true,
		.auth_user = "site", .auth_password = "s3cret",
		.auth_code = 235,
	},
};

static void
expect_cmd(const struct etrn *e, const char *cmd, enum etrn_state state)
{
	char	want[ETRN_CMD_MAX];

	snprintf(want, sizeof(want), "%s\r\n", cmd);
	assert_string_equal(e->cmd, want);
	assert_true(strlen(e->cmd) < ETRN_CMD_MAX);
	/* The only CR or LF is the final one. */
	assert_ptr_equal(strpbrk(e->cmd, "\r\n"), e->cmd + strlen(cmd));

	if (state != ETRN_S_GREETING)
		assert_int_equal(e->state, state);
	else if (strncmp(cmd, "EHLO ", 5) == 0)
		assert_int_equal(e->state, ETRN_S_EHLO);
	else if (strncmp(cmd, "HELO ", 5) == 0)
		assert_int_equal(e->state, ETRN_S_HELO);
	else if (strcmp(cmd, "QUIT") == 0)
		assert_int_equal(e->state, ETRN_S_QUIT);
	else
		assert_int_equal(e->state, ETRN_S_ETRN);
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
	if (s->auth_user != NULL)
		etrn_set_security(&e, CONF_TLS_NO, s->auth_user,
		    s->auth_password, true);
	assert_int_equal(e.state, ETRN_S_GREETING);
	for (i = 0; i < n; i++) {
		assert_int_equal(results[i].cls, ETRN_R_NONE);
		assert_int_equal(results[i].pending, -1);
	}

	for (i = 0; i < MAXSTEPS; i++) {
		step = &s->steps[i];
		if (step->reply == NULL && !step->is_fail)
			break;
		if (step->is_fail) {
			etrn_fail(&e, step->fail);
			assert_int_equal(e.state, ETRN_S_DONE);
			continue;
		}
		feed_reply(&p, step->reply);
		action = etrn_on_reply(&e, &p.reply);
		assert_int_equal(action, step->action);
		if (action == ETRN_SEND)
			expect_cmd(&e, step->cmd, step->state);
		else
			assert_int_equal(e.state, ETRN_S_DONE);
	}
	assert_int_equal(e.state, ETRN_S_DONE);
	assert_int_equal(e.esmtp, s->esmtp);
	assert_int_equal(e.etrn_advertised, s->etrn_advertised);
	assert_int_equal(e.auth_code, s->auth_code);

	for (i = 0; i < n; i++) {
		x = &s->results[i];
		print_message("domain %zu %s: %s %d \"%s\"\n", i,
		    domains[i], etrn_class_name(results[i].cls),
		    results[i].code, results[i].text);
		assert_string_equal(etrn_class_name(results[i].cls),
		    etrn_class_name(x->cls));
		assert_int_equal(results[i].code, x->code);
		assert_int_equal(results[i].pending, x->pending);
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

/* STARTTLS and AUTH (RFC 3207, 4954, 4616): one reply in, the action out. */
static enum etrn_action
say(struct etrn *e, const char *text)
{
	struct reply_parser	p;

	feed_reply(&p, text);
	return etrn_on_reply(e, &p.reply);
}

#define EHLO_TLS	"250-mx.example\n250-ETRN\n250 STARTTLS"
#define EHLO_AUTH	"250-mx.example\n250-ETRN\n250-AUTH PLAIN LOGIN\n250 8BITMIME"

static void
sec_init(struct etrn *e, struct etrn_result *res, char **domains,
    enum conf_tls tls, const char *user, const char *pass, bool clear)
{
	etrn_init(e, HELO, CONF_CMD_ETRN, domains, 1, res);
	etrn_set_security(e, tls, user, pass, clear);
	assert_int_equal(say(e, "220 mx.example ESMTP"), ETRN_SEND);
}

static void
test_tls_starttls_then_ehlo_again(void **state)
{
	char			*domains[] = { (char *)"example.org" };
	struct etrn_result	 res[1];
	struct etrn		 e;

	(void)state;
	sec_init(&e, res, domains, CONF_TLS_OPPORTUNISTIC, NULL, NULL, false);
	assert_int_equal(say(&e, EHLO_TLS), ETRN_SEND);
	assert_string_equal(e.cmd, "STARTTLS\r\n");
	assert_int_equal(say(&e, "220 2.0.0 Ready to start TLS"),
	    ETRN_HANDSHAKE);
	assert_int_equal(e.state, ETRN_S_TLS);
	/* What was learnt in clear is forgotten; EHLO again. */
	assert_int_equal(etrn_on_tls(&e), ETRN_SEND);
	assert_true(e.tls_active);
	assert_false(e.starttls_offered);
	assert_string_equal(e.cmd, "EHLO " HELO "\r\n");
	/* The server offers STARTTLS again inside TLS: no second round. */
	assert_int_equal(say(&e, EHLO_TLS), ETRN_SEND);
	assert_string_equal(e.cmd, "ETRN example.org\r\n");
}

static void
test_tls_opportunistic_falls_back(void **state)
{
	char			*domains[] = { (char *)"example.org" };
	struct etrn_result	 res[1];
	struct etrn		 e;

	(void)state;
	sec_init(&e, res, domains, CONF_TLS_OPPORTUNISTIC, NULL, NULL, false);
	assert_int_equal(say(&e, "250-mx.example\n250 ETRN"), ETRN_SEND);
	assert_string_equal(e.cmd, "ETRN example.org\r\n");
	/* STARTTLS offered but refused (454): on in clear, with a note. */
	sec_init(&e, res, domains, CONF_TLS_OPPORTUNISTIC, NULL, NULL, false);
	assert_int_equal(say(&e, EHLO_TLS), ETRN_SEND);
	assert_int_equal(say(&e, "454 4.7.0 TLS not available"), ETRN_SEND);
	assert_string_equal(e.cmd, "ETRN example.org\r\n");
	assert_non_null(e.note);
}

static void
test_tls_required_never_in_clear(void **state)
{
	char			*domains[] = { (char *)"example.org" };
	struct etrn_result	 res[1];
	struct etrn		 e;

	(void)state;
	/* Not offered: no ETRN, QUIT, temporary. */
	sec_init(&e, res, domains, CONF_TLS_REQUIRED, NULL, NULL, false);
	assert_int_equal(say(&e, "250-mx.example\n250 ETRN"), ETRN_SEND);
	assert_string_equal(e.cmd, "QUIT\r\n");
	assert_int_equal(res[0].cls, ETRN_R_TEMP);
	assert_string_equal(res[0].text, "the server does not offer "
	    "STARTTLS, and tls = required");
	/* Refused: the same. */
	sec_init(&e, res, domains, CONF_TLS_REQUIRED, NULL, NULL, false);
	assert_int_equal(say(&e, EHLO_TLS), ETRN_SEND);
	assert_int_equal(say(&e, "454 4.7.0 TLS not available"), ETRN_SEND);
	assert_string_equal(e.cmd, "QUIT\r\n");
	assert_int_equal(res[0].cls, ETRN_R_TEMP);
	assert_int_equal(res[0].code, 454);
	/* HELO fallback means no STARTTLS at all. */
	sec_init(&e, res, domains, CONF_TLS_REQUIRED, NULL, NULL, false);
	assert_int_equal(say(&e, "502 5.5.1 unknown"), ETRN_SEND);
	assert_int_equal(say(&e, "250 mx.example"), ETRN_SEND);
	assert_string_equal(e.cmd, "QUIT\r\n");
	assert_int_equal(res[0].cls, ETRN_R_TEMP);
	/* tls = no ignores STARTTLS. */
	sec_init(&e, res, domains, CONF_TLS_NO, NULL, NULL, false);
	assert_int_equal(say(&e, EHLO_TLS), ETRN_SEND);
	assert_string_equal(e.cmd, "ETRN example.org\r\n");
}

static void
test_auth_plain_after_tls(void **state)
{
	char			*domains[] = { (char *)"example.org" };
	struct etrn_result	 res[1];
	struct etrn		 e;

	(void)state;
	sec_init(&e, res, domains, CONF_TLS_REQUIRED, "site", "s3cret", false);
	assert_int_equal(say(&e, EHLO_TLS), ETRN_SEND);
	assert_int_equal(say(&e, "220 go ahead"), ETRN_HANDSHAKE);
	assert_int_equal(etrn_on_tls(&e), ETRN_SEND);
	assert_int_equal(say(&e, EHLO_AUTH), ETRN_SEND);
	/* base64("\0site\0s3cret") */
	assert_string_equal(e.cmd, "AUTH PLAIN AHNpdGUAczNjcmV0\r\n");
	assert_true(e.cmd_secret);
	assert_int_equal(say(&e, "235 2.7.0 Authentication successful"),
	    ETRN_SEND);
	assert_false(e.cmd_secret);
	assert_string_equal(e.cmd, "ETRN example.org\r\n");
}

static void
test_auth_login_when_no_plain(void **state)
{
	char			*domains[] = { (char *)"example.org" };
	struct etrn_result	 res[1];
	struct etrn		 e;

	(void)state;
	sec_init(&e, res, domains, CONF_TLS_NO, "site", "s3cret", true);
	assert_int_equal(say(&e, "250-mx.example\n250 AUTH=LOGIN"),
	    ETRN_SEND);
	assert_string_equal(e.cmd, "AUTH LOGIN\r\n");
	assert_int_equal(say(&e, "334 VXNlcm5hbWU6"), ETRN_SEND);
	assert_string_equal(e.cmd, "c2l0ZQ==\r\n");		/* site */
	assert_true(e.cmd_secret);
	assert_int_equal(say(&e, "334 UGFzc3dvcmQ6"), ETRN_SEND);
	assert_string_equal(e.cmd, "czNjcmV0\r\n");		/* s3cret */
	assert_int_equal(say(&e, "235 ok"), ETRN_SEND);
	assert_string_equal(e.cmd, "ETRN example.org\r\n");
}

static void
test_auth_refused_and_cleartext(void **state)
{
	char			*domains[] = { (char *)"example.org" };
	struct etrn_result	 res[1];
	struct etrn		 e;

	(void)state;
	/* Bad credentials: permanent, with the server's text. */
	sec_init(&e, res, domains, CONF_TLS_NO, "site", "wrong", true);
	assert_int_equal(say(&e, EHLO_AUTH), ETRN_SEND);
	assert_int_equal(say(&e, "535 5.7.8 Error: authentication failed"),
	    ETRN_SEND);
	assert_string_equal(e.cmd, "QUIT\r\n");
	assert_int_equal(res[0].cls, ETRN_R_REFUSED);
	assert_int_equal(res[0].code, 535);
	assert_string_equal(res[0].text, "AUTH failed: 5.7.8 Error: "
	    "authentication failed");
	/* 454 is temporary. */
	sec_init(&e, res, domains, CONF_TLS_NO, "site", "pw", true);
	assert_int_equal(say(&e, EHLO_AUTH), ETRN_SEND);
	assert_int_equal(say(&e, "454 4.7.0 Temporary failure"), ETRN_SEND);
	assert_int_equal(res[0].cls, ETRN_R_TEMP);
	/* No TLS and auth-cleartext = no: no credentials; asked anyway. */
	sec_init(&e, res, domains, CONF_TLS_OPPORTUNISTIC, "site", "pw",
	    false);
	assert_int_equal(say(&e, EHLO_AUTH), ETRN_SEND);
	assert_string_equal(e.cmd, "ETRN example.org\r\n");
	assert_non_null(strstr(e.note, "without TLS"));
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
		cmocka_unit_test(test_tls_starttls_then_ehlo_again),
		cmocka_unit_test(test_tls_opportunistic_falls_back),
		cmocka_unit_test(test_tls_required_never_in_clear),
		cmocka_unit_test(test_auth_plain_after_tls),
		cmocka_unit_test(test_auth_login_when_no_plain),
		cmocka_unit_test(test_auth_refused_and_cleartext),
		cmocka_unit_test(test_auth_plain_limit),
		cmocka_unit_test(test_probe),
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
