/* SPDX-License-Identifier: ISC */
/*
 * etrn: the ETRN client protocol (RFC 1985) as a pure state machine.  It
 * takes complete replies and says what to send next; it knows nothing of
 * sockets or time.  The session module does the I/O and the deadlines.
 *
 *   [TLS (tls = implicit: the handshake before the greeting) ->]
 *   GREETING -> EHLO -> [HELO]
 *            -> [STARTTLS -> TLS (the session's handshake) -> EHLO]
 *            -> [AUTH PLAIN | AUTH LOGIN -> AUTH_USER -> AUTH]
 *               [-> AUTH_CANCEL: a 334 asks for more than we have]
 *            -> ETRN (once per domain; once more in the form a 501
 *               asks for) -> QUIT -> DONE
 *
 * A session sends at most max(CONF_ETRN_PER_SESSION, ndomains) ETRN
 * commands, a form retry included: domains left over stay ETRN_R_NONE
 * for the caller's next session (Sendmail tarpits from the 8th).
 */
#ifndef ETRND_ETRN_H
#define ETRND_ETRN_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "reply.h"

#define ETRN_CMD_MAX	512	/* RFC 5321 command line limit incl. CRLF */
#define ETRN_TEXT_MAX	256	/* reply text kept per domain */

enum etrn_state {
	ETRN_S_GREETING,
	ETRN_S_EHLO,
	ETRN_S_HELO,
	ETRN_S_STARTTLS,
	ETRN_S_TLS,		/* the session runs the handshake */
	ETRN_S_AUTH_LOGIN,	/* sent AUTH LOGIN, waiting for 334 */
	ETRN_S_AUTH_USER,	/* sent the user name, waiting for 334 */
	ETRN_S_AUTH,		/* sent the credentials, waiting for 235 */
	ETRN_S_AUTH_CANCEL,	/* sent "*", waiting for the 501 */
	ETRN_S_ETRN,
	ETRN_S_QUIT,
	ETRN_S_DONE,
};

/* What happened to one domain: the unit of retry. */
enum etrn_class {
	ETRN_R_NONE,		/* not asked yet */
	ETRN_R_OK,		/* 250-253 */
	ETRN_R_TEMP,		/* 4xx, timeout, connection or protocol error */
	ETRN_R_REFUSED,		/* policy: 459 502 530 550 554, other 5xx */
	ETRN_R_UNSUPPORTED,	/* 500 501: verb or argument form unknown */
};

/*
 * Why a domain did not get ETRN_R_OK: where the failure happened, set there,
 * so that consumers choose events, levels and words by it, never by the
 * text or by code == 0.  The class still says what to do about it.
 */
enum etrn_fail {
	ETRN_F_NONE,		/* no failure: accepted, or not asked yet */
	ETRN_F_REPLY,		/* the server answered with a 4xx or 5xx */
	ETRN_F_RESOLVE,		/* the name did not resolve (error, deadline) */
	ETRN_F_CONNECT,		/* no address took the connection */
	ETRN_F_NO_GREETING,	/* connected, but closed or silent, no greeting */
	ETRN_F_TIMEOUT,		/* no reply within reply-timeout */
	ETRN_F_CLOSED,		/* the connection closed or broke mid-session */
	ETRN_F_PROTOCOL,	/* a malformed, overlong, unsolicited or
				   senseless reply (code kept if it had one) */
	ETRN_F_TLS,		/* TLS set-up, handshake or certificate */
	ETRN_F_POLICY,		/* our refusal: tls = required not to be had */
	ETRN_F_CONFIG,		/* ours cannot be sent: HELO name, domain,
				   credentials */
	ETRN_F_SHUTDOWN,	/* we ended it: daemon stopping, interrupted */
	ETRN_F_NOROUTE,		/* not reachable yet: no route, or no usable
				   source address (ENETUNREACH, EHOSTUNREACH,
				   EADDRNOTAVAIL on every address) */
};

/*
 * The argument form a domain went out in.  WRITTEN: as the caller gave it.
 * HASH and AT: the caller gave it plainly, and the server asked for the
 * '#' or '@' form (Exim's built-in ETRN: "501 argument must begin with #"),
 * so it was sent again with that prefix.  A caller that remembers this
 * passes "#domain" next time; an argument given with '#' or '@' is never
 * rewritten.
 */
enum etrn_form {
	ETRN_FORM_WRITTEN,
	ETRN_FORM_HASH,
	ETRN_FORM_AT,
};

/* What a result means beyond its class, where the server said more. */
enum etrn_detail {
	ETRN_D_NONE,
	ETRN_D_RUNNING,		/* ETRN_R_OK: Exim's "458 Already processing":
				   a flush for this is running already */
	ETRN_D_REPEATED,	/* ETRN_R_REFUSED: the same temporary reply
				   too many times in a row (relay.c) */
};

struct etrn_result {
	enum etrn_class	 cls;
	enum etrn_fail	 fail;		/* ETRN_F_NONE unless it failed */
	int		 code;		/* reply code, 0 if none */
	char		 text[ETRN_TEXT_MAX];	/* server text or our reason */
	long		 pending;	/* 253 count, -1 unknown */
	enum etrn_form	 form;		/* the form that went out last */
	enum etrn_detail detail;
	bool		 etrn_reply;	/* code is the reply to ETRN itself */
};

enum etrn_action {
	ETRN_SEND,		/* send etrn.cmd and wait for a reply */
	ETRN_CLOSE,		/* close the connection now */
	ETRN_HANDSHAKE,		/* start TLS, then call etrn_on_tls() */
	ETRN_WAIT,		/* send nothing; wait for the next reply */
};

struct etrn {
	enum etrn_state		 state;
	const char		*helo;
	const char		*verb;		/* "ETRN" or "QSND" */
	char * const		*domains;
	size_t			 ndomains;
	size_t			 next;		/* next domain to ask */
	size_t			 nsent;		/* ETRN commands sent */
	size_t			 max_sent;	/* ... at most: the per-session
						   limit, retries included */
	enum etrn_form		 asked;		/* the form this server asked
						   for, for the plain ones */
	struct etrn_result	*results;	/* ndomains, caller's memory */
	bool			 esmtp;		/* EHLO accepted */
	bool			 etrn_advertised;
	bool			 starttls_offered;
	bool			 auth_plain;	/* AUTH mechanisms offered */
	bool			 auth_login;
	enum conf_tls		 tls;		/* default CONF_TLS_NO */
	bool			 tls_active;
	const char		*auth_user;	/* NULL: no AUTH */
	const char		*auth_password;
	bool			 auth_cleartext;
	bool			 cmd_secret;	/* cmd carries credentials */
	const char		*note;		/* a warning for the log, static */
	char			 cmd[ETRN_CMD_MAX];	/* with CRLF */

	/* What the server showed, for etrnd --check. */
	bool			 probe;		/* stop before the first ETRN */
	char			 greeting[ETRN_TEXT_MAX]; /* first line */
	char			 keywords[ETRN_TEXT_MAX]; /* last EHLO's */
	bool			 greeted;	/* 250 to EHLO or HELO */
	int			 auth_code;	/* reply to AUTH, 0 if none */
	const char		*auth_skipped;	/* why no AUTH, static */
	const char		*auth_untested;	/* 235, password not sent */
	char			 auth_mech[8];	/* "PLAIN" or "LOGIN" */
};

const char	*etrn_state_name(enum etrn_state);
const char	*etrn_class_name(enum etrn_class);
/* "resolve", "no-greeting", "tls", ...: for traces, status and tests. */
const char	*etrn_fail_name(enum etrn_fail);
/*
 * No SMTP conversation took place at all (resolving, connecting, or no
 * greeting): the relay is unreachable rather than unwilling.
 */
bool		 etrn_fail_unreachable(enum etrn_fail);

/* results[] is reset to ETRN_R_NONE, pending -1. */
void		 etrn_init(struct etrn *, const char *helo,
		    enum conf_command, char * const *domains, size_t ndomains,
		    struct etrn_result *results);
/*
 * STARTTLS and AUTH policy; without this call, neither is used.  With
 * CONF_TLS_IMPLICIT the conversation starts in ETRN_S_TLS: the session
 * runs the handshake as soon as it is connected (RFC 8314).
 */
void		 etrn_set_security(struct etrn *, enum conf_tls,
		    const char *auth_user, const char *auth_password,
		    bool auth_cleartext);
/*
 * Probe: greet, EHLO, STARTTLS and AUTH as configured, then QUIT instead of
 * the first ETRN; the results stay ETRN_R_NONE unless a step failed.
 */
void		 etrn_set_probe(struct etrn *);
/*
 * The handshake after ETRN_HANDSHAKE succeeded: EHLO again (RFC 3207).
 * After an implicit TLS handshake: ETRN_WAIT for the greeting.
 */
enum etrn_action etrn_on_tls(struct etrn *);
/* Feed one complete reply; fills etrn.cmd when returning ETRN_SEND. */
enum etrn_action etrn_on_reply(struct etrn *, const struct reply *);
/*
 * The session failed (a deadline, EOF, a protocol or connection error,
 * shutdown): every domain still ETRN_R_NONE becomes ETRN_R_TEMP of that
 * kind with this reason.  After QUIT was sent, nothing changes.
 */
void		 etrn_on_failure(struct etrn *, enum etrn_fail,
		    const char *reason);
/*
 * A known fix for a refusal, naming the server it applies to, given only
 * when the reply is that server's ("Postfix: the domain is not in ..."),
 * or NULL.
 */
const char	*etrn_hint(const struct etrn_result *);
/* "none", "running", "repeated": for status and tests. */
const char	*etrn_detail_name(enum etrn_detail);
/* "", "#" or "@": what a form puts before a plainly written domain. */
const char	*etrn_form_prefix(enum etrn_form);
/*
 * The form a 501 asks for ("501 argument must begin with #"), or
 * ETRN_FORM_WRITTEN when it asks for none.
 */
enum etrn_form	 etrn_reply_asks_form(const struct reply *);

#endif
