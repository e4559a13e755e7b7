/* SPDX-License-Identifier: ISC */
/*
 * etrn: the ETRN client protocol (RFC 1985) as a pure state machine.  Each
 * complete reply moves it on and yields the next command or a close; every
 * domain ends with one result class, which is what the scheduler retries on,
 * and a failure kind saying where it failed, set where that is known.
 * No I/O, no time, no logging: the session does those and traces states by
 * etrn_state_name().
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "etrn.h"
#include "util.h"

/* conf.c refuses a user and password that would not fit AUTH PLAIN here. */
_Static_assert((CONF_AUTH_PLAIN_MAX + 2 + 2) / 3 * 4 +
    sizeof("AUTH PLAIN \r\n") - 1 < ETRN_CMD_MAX,
    "CONF_AUTH_PLAIN_MAX does not fit an AUTH PLAIN command");
_Static_assert((CONF_AUTH_PLAIN_MAX + 3 + 2) / 3 * 4 +
    sizeof("AUTH PLAIN \r\n") - 1 >= ETRN_CMD_MAX,
    "CONF_AUTH_PLAIN_MAX is smaller than it need be");

static const char *etrn_state_names[] = {
	[ETRN_S_GREETING] = "GREETING",
	[ETRN_S_EHLO] = "EHLO",
	[ETRN_S_HELO] = "HELO",
	[ETRN_S_STARTTLS] = "STARTTLS",
	[ETRN_S_TLS] = "TLS",
	[ETRN_S_AUTH_LOGIN] = "AUTH LOGIN",
	[ETRN_S_AUTH_USER] = "AUTH LOGIN user",
	[ETRN_S_AUTH] = "AUTH",
	[ETRN_S_AUTH_CANCEL] = "AUTH cancel",
	[ETRN_S_ETRN] = "ETRN",
	[ETRN_S_QUIT] = "QUIT",
	[ETRN_S_DONE] = "DONE",
};

static const char *etrn_fail_names[] = {
	[ETRN_F_NONE] = "none",
	[ETRN_F_REPLY] = "reply",
	[ETRN_F_RESOLVE] = "resolve",
	[ETRN_F_CONNECT] = "connect",
	[ETRN_F_NO_GREETING] = "no-greeting",
	[ETRN_F_TIMEOUT] = "timeout",
	[ETRN_F_CLOSED] = "closed",
	[ETRN_F_PROTOCOL] = "protocol",
	[ETRN_F_TLS] = "tls",
	[ETRN_F_POLICY] = "policy",
	[ETRN_F_CONFIG] = "config",
	[ETRN_F_SHUTDOWN] = "shutdown",
	[ETRN_F_NOROUTE] = "no-route",
};

static const char *etrn_class_names[] = {
	[ETRN_R_NONE] = "none",
	[ETRN_R_OK] = "ok",
	[ETRN_R_TEMP] = "temporary",
	[ETRN_R_REFUSED] = "refused",
	[ETRN_R_UNSUPPORTED] = "unsupported",
};

static const char *etrn_detail_names[] = {
	[ETRN_D_NONE] = "none",
	[ETRN_D_RUNNING] = "running",
	[ETRN_D_REPEATED] = "repeated",
};

/* names[i], or unknown when i is past the table. */
static const char *
etrn_name(const char *const *names, size_t n, size_t i, const char *unknown)
{
	return i < n && names[i] != NULL ? names[i] : unknown;
}

const char *
etrn_state_name(enum etrn_state state)
{
	return etrn_name(etrn_state_names, nitems(etrn_state_names),
	    (size_t)state, "UNKNOWN");
}

const char *
etrn_class_name(enum etrn_class cls)
{
	return etrn_name(etrn_class_names, nitems(etrn_class_names),
	    (size_t)cls, "unknown");
}

const char *
etrn_detail_name(enum etrn_detail detail)
{
	return etrn_name(etrn_detail_names, nitems(etrn_detail_names),
	    (size_t)detail, "unknown");
}

const char *
etrn_fail_name(enum etrn_fail fail)
{
	return etrn_name(etrn_fail_names, nitems(etrn_fail_names),
	    (size_t)fail, "unknown");
}

bool
etrn_fail_unreachable(enum etrn_fail fail)
{
	return fail == ETRN_F_RESOLVE || fail == ETRN_F_CONNECT ||
	    fail == ETRN_F_NO_GREETING;
}

void
etrn_init(struct etrn *e, const char *helo, enum conf_command command,
    char * const *domains, size_t ndomains, struct etrn_result *results)
{
	size_t	i;

	memset(e, 0, sizeof(*e));
	e->state = ETRN_S_GREETING;
	e->helo = helo;
	e->verb = command == CONF_CMD_QSND ? "QSND" : "ETRN";
	e->domains = domains;
	e->ndomains = ndomains;
	e->results = results;
	e->max_sent = ndomains > CONF_ETRN_PER_SESSION ? ndomains :
	    CONF_ETRN_PER_SESSION;
	e->asked = ETRN_FORM_WRITTEN;
	for (i = 0; i < ndomains; i++) {
		memset(&results[i], 0, sizeof(results[i]));
		results[i].cls = ETRN_R_NONE;
		results[i].pending = -1;
		results[i].form = ETRN_FORM_WRITTEN;
		results[i].detail = ETRN_D_NONE;
	}
}

/*
 * Copy "prefix: src" (or src) into a result's text, cut before
 * ETRN_TEXT_MAX on a UTF-8 character boundary.
 */
static void
etrn_copy_text(char *dst, const char *prefix, const char *src)
{
	size_t	off = 0, len, room;
	int	n;

	if (prefix != NULL) {
		n = snprintf(dst, ETRN_TEXT_MAX, "%s: ", prefix);
		if (n < 0)
			n = 0;
		off = (size_t)n < ETRN_TEXT_MAX ? (size_t)n : ETRN_TEXT_MAX - 1;
	}
	room = ETRN_TEXT_MAX - 1 - off;
	if ((len = strlen(src)) > room) {
		len = room;
		while (len > 0 && ((unsigned char)src[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(dst + off, src, len);
	dst[off + len] = '\0';
}

static void
etrn_set(struct etrn_result *res, enum etrn_class cls, enum etrn_fail fail,
    int code, const char *prefix, const char *text)
{
	res->cls = cls;
	res->fail = fail;
	res->code = code;
	etrn_copy_text(res->text, prefix, text);
}

/* Give every domain not yet answered the same result. */
static void
etrn_set_rest(struct etrn *e, enum etrn_class cls, enum etrn_fail fail,
    int code, const char *prefix, const char *text)
{
	size_t	i;

	for (i = 0; i < e->ndomains; i++) {
		if (e->results[i].cls == ETRN_R_NONE)
			etrn_set(&e->results[i], cls, fail, code, prefix,
			    text);
	}
}

/*
 * An argument fit for one command line: not empty, no space, no control
 * character (a CR or LF would let us smuggle a second command).
 */
static bool
etrn_arg_ok(const char *arg)
{
	const unsigned char	*p;

	if (arg == NULL || *arg == '\0')
		return false;
	for (p = (const unsigned char *)arg; *p != '\0'; p++) {
		if (*p <= ' ' || *p == 0x7f)
			return false;
	}
	return true;
}

/* Fill e->cmd with "verb[ arg]\r\n"; false if it does not fit. */
static bool
etrn_set_cmd(struct etrn *e, const char *verb, const char *arg)
{
	int	n;

	if (arg != NULL)
		n = snprintf(e->cmd, sizeof(e->cmd), "%s %s\r\n", verb, arg);
	else
		n = snprintf(e->cmd, sizeof(e->cmd), "%s\r\n", verb);
	if (n < 0 || (size_t)n >= sizeof(e->cmd)) {
		e->cmd[0] = '\0';
		return false;
	}
	return true;
}

static enum etrn_action
etrn_send_quit(struct etrn *e)
{
	e->state = ETRN_S_QUIT;
	etrn_set_cmd(e, "QUIT", NULL);
	return ETRN_SEND;
}

static enum etrn_action
etrn_close(struct etrn *e)
{
	e->state = ETRN_S_DONE;
	e->cmd[0] = '\0';
	return ETRN_CLOSE;
}

/* Written without RFC 1985's '@' or '#' option. */
static bool
etrn_is_plain(const char *domain)
{
	return domain[0] != '@' && domain[0] != '#';
}

const char *
etrn_form_prefix(enum etrn_form form)
{
	switch (form) {
	case ETRN_FORM_HASH:
		return "#";
	case ETRN_FORM_AT:
		return "@";
	case ETRN_FORM_WRITTEN:
		break;
	}
	return "";
}

/*
 * Send "ETRN [prefix]domain" for res, counted against the session's limit;
 * false (res marked, nothing to send) if it does not fit a command line.
 */
static bool
etrn_send_etrn(struct etrn *e, struct etrn_result *res, const char *domain,
    enum etrn_form form)
{
	char	arg[ETRN_CMD_MAX];
	int	n;

	n = snprintf(arg, sizeof(arg), "%s%s", etrn_form_prefix(form), domain);
	if (n < 0 || (size_t)n >= sizeof(arg) ||
	    !etrn_set_cmd(e, e->verb, arg)) {
		etrn_set(res, ETRN_R_UNSUPPORTED, ETRN_F_CONFIG, 0, NULL,
		    "not sent: the domain is too long for an SMTP command "
		    "line");
		return false;
	}
	res->form = form;
	e->nsent++;
	e->state = ETRN_S_ETRN;
	return true;
}

/*
 * The session's limit is reached: the domains not asked stay ETRN_R_NONE,
 * the plain ones marked with the form this server asked for, if it did,
 * so that the next session starts with it.
 */
static void
etrn_defer_rest(struct etrn *e)
{
	size_t	i;

	for (i = e->next; i < e->ndomains; i++)
		if (e->results[i].cls == ETRN_R_NONE &&
		    etrn_arg_ok(e->domains[i]) && etrn_is_plain(e->domains[i]))
			e->results[i].form = e->asked;
}

/*
 * Ask for the next domain, skipping (as unsupported) any that cannot be
 * sent as one command; QUIT after the last.
 */
static enum etrn_action
etrn_send_next(struct etrn *e)
{
	struct etrn_result	*res;
	const char		*domain;

	if (e->probe)
		return etrn_send_quit(e);

	while (e->next < e->ndomains) {
		domain = e->domains[e->next];
		res = &e->results[e->next];
		if (!etrn_arg_ok(domain)) {
			e->next++;
			etrn_set(res, ETRN_R_UNSUPPORTED, ETRN_F_CONFIG, 0,
			    NULL, "not sent: "
			    "the domain is empty or contains a space or "
			    "control character");
			continue;
		}
		/* The rest stay ETRN_R_NONE, for the next session. */
		if (e->nsent >= e->max_sent) {
			etrn_defer_rest(e);
			break;
		}
		e->next++;
		/* Once the server asked for a form, the plain ones use it. */
		if (!etrn_send_etrn(e, res, domain,
		    etrn_is_plain(domain) ? e->asked : ETRN_FORM_WRITTEN))
			continue;
		return ETRN_SEND;
	}
	return etrn_send_quit(e);
}

/* EHLO or HELO; a bad name is our configuration's fault, not the server's. */
static enum etrn_action
etrn_send_hello(struct etrn *e, enum etrn_state state)
{
	const char	*verb = state == ETRN_S_EHLO ? "EHLO" : "HELO";

	if (!etrn_arg_ok(e->helo) || !etrn_set_cmd(e, verb, e->helo)) {
		etrn_set_rest(e, ETRN_R_UNSUPPORTED, ETRN_F_CONFIG, 0, NULL,
		    "HELO name is empty, too long or contains a space or "
		    "control character");
		return etrn_send_quit(e);
	}
	e->state = state;
	return ETRN_SEND;
}

/* Is word in the space-separated list of listlen bytes? */
static bool
etrn_has_word(const char *list, size_t listlen, const char *word)
{
	size_t	wlen = strlen(word), n;

	while (listlen > 0) {
		while (listlen > 0 && (*list == ' ' || *list == '\t')) {
			list++;
			listlen--;
		}
		n = 0;
		while (n < listlen && list[n] != ' ' && list[n] != '\t')
			n++;
		if (n == wlen && strncasecmp(list, word, n) == 0)
			return true;
		list += n;
		listlen -= n;
	}
	return false;
}

/*
 * Note the EHLO keywords we use: ETRN, STARTTLS and AUTH's PLAIN and LOGIN
 * (also in the old "AUTH=" spelling).  The first line is the greeting.
 */
static void
etrn_ehlo_keywords(struct etrn *e, const struct reply *r)
{
	const char	*line, *end;
	size_t		 len, klen, used;

	e->etrn_advertised = e->starttls_offered = false;
	e->auth_plain = e->auth_login = false;
	e->keywords[0] = '\0';
	for (line = strchr(r->text, '\n'); line != NULL; line = end) {
		line++;
		end = strchr(line, '\n');
		len = end != NULL ? (size_t)(end - line) : strlen(line);
		/* Each line in full, for people: "AUTH PLAIN LOGIN". */
		used = strlen(e->keywords);
		snprintf(e->keywords + used, sizeof(e->keywords) - used,
		    "%s%.*s", used > 0 ? ", " : "", (int)len, line);
		klen = strcspn(line, " \t=\n");
		if (klen > len)
			klen = len;
		if (klen == 4 && strncasecmp(line, "ETRN", 4) == 0)
			e->etrn_advertised = true;
		else if (klen == 8 && strncasecmp(line, "STARTTLS", 8) == 0)
			e->starttls_offered = true;
		else if (klen == 4 && strncasecmp(line, "AUTH", 4) == 0 &&
		    klen < len) {
			/* "AUTH PLAIN LOGIN" or "AUTH=PLAIN LOGIN" */
			e->auth_plain |= etrn_has_word(line + klen + 1,
			    len - klen - 1, "PLAIN");
			e->auth_login |= etrn_has_word(line + klen + 1,
			    len - klen - 1, "LOGIN");
		}
	}
}

/* RFC 4648 base64, for AUTH; false if it does not fit. */
static bool
etrn_base64(const unsigned char *in, size_t len, char *out, size_t outlen)
{
	static const char	 tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t			 i, o = 0;
	uint32_t		 v;

	if ((len + 2) / 3 * 4 + 1 > outlen)
		return false;
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = tab[v >> 6 & 63];
		out[o++] = tab[v & 63];
	}
	if (i < len) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < len ? tab[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return true;
}

/*
 * The failure classes shared by the greeting, EHLO and HELO: 421 closes at
 * once, other 4xx are temporary and 5xx refusals (both QUIT first), and a
 * 2xx or 3xx that the command cannot have is a protocol error.
 */
static enum etrn_action
etrn_on_setup_failure(struct etrn *e, const struct reply *r,
    const char *unexpected)
{
	if (r->code == 421) {
		etrn_set_rest(e, ETRN_R_TEMP, ETRN_F_REPLY, r->code, NULL,
		    r->text);
		return etrn_close(e);
	}
	if (r->code >= 400 && r->code < 500)
		etrn_set_rest(e, ETRN_R_TEMP, ETRN_F_REPLY, r->code, NULL,
		    r->text);
	else if (r->code >= 500 && r->code < 600)
		etrn_set_rest(e, ETRN_R_REFUSED, ETRN_F_REPLY, r->code, NULL,
		    r->text);
	else
		etrn_set_rest(e, ETRN_R_TEMP, ETRN_F_PROTOCOL, r->code,
		    unexpected, r->text);
	return etrn_send_quit(e);
}

static enum etrn_action
etrn_on_greeting(struct etrn *e, const struct reply *r)
{
	snprintf(e->greeting, sizeof(e->greeting), "%d %.*s", r->code,
	    (int)strcspn(r->text, "\n"), r->text);
	if (r->code == 220)
		return etrn_send_hello(e, ETRN_S_EHLO);
	return etrn_on_setup_failure(e, r, "unexpected greeting");
}

/* Credentials for AUTH, or on to the first ETRN. */
static enum etrn_action
etrn_after_hello(struct etrn *e)
{
	unsigned char	plain[2 * CONF_PASSWORD_MAX + 3];
	char		b64[ETRN_CMD_MAX];
	size_t		ulen, plen;

	if (e->auth_user == NULL)
		return etrn_send_next(e);
	if (!e->tls_active && !e->auth_cleartext) {
		e->note = e->auth_skipped = "not sending credentials over a "
		    "connection without TLS (auth-cleartext = no); asking "
		    "without AUTH";
		return etrn_send_next(e);
	}
	if (!e->auth_plain && !e->auth_login) {
		e->note = e->auth_skipped = "the server offers no AUTH PLAIN "
		    "or LOGIN; asking without AUTH";
		return etrn_send_next(e);
	}
	if (!e->auth_plain) {
		e->state = ETRN_S_AUTH_LOGIN;
		snprintf(e->auth_mech, sizeof(e->auth_mech), "LOGIN");
		etrn_set_cmd(e, "AUTH", "LOGIN");
		return ETRN_SEND;
	}
	snprintf(e->auth_mech, sizeof(e->auth_mech), "PLAIN");
	/* RFC 4616: authzid NUL authcid NUL passwd, authzid empty. */
	ulen = strlen(e->auth_user);
	plen = strlen(e->auth_password);
	memset(plain, 0, sizeof(plain));
	if (ulen + plen + 2 <= sizeof(plain)) {
		memcpy(plain + 1, e->auth_user, ulen);
		memcpy(plain + 2 + ulen, e->auth_password, plen);
	}
	if (ulen + plen + 2 > sizeof(plain) ||
	    !etrn_base64(plain, ulen + plen + 2, b64, sizeof(b64)) ||
	    !etrn_set_cmd(e, "AUTH PLAIN", b64)) {
		explicit_bzero(plain, sizeof(plain));
		explicit_bzero(b64, sizeof(b64));
		etrn_set_rest(e, ETRN_R_UNSUPPORTED, ETRN_F_CONFIG, 0, NULL,
		    "credentials too long for an AUTH command");
		return etrn_send_quit(e);
	}
	explicit_bzero(plain, sizeof(plain));
	explicit_bzero(b64, sizeof(b64));
	e->cmd_secret = true;
	e->state = ETRN_S_AUTH;
	return ETRN_SEND;
}

/* TLS before anything else, when it is wanted and can be had. */
static enum etrn_action
etrn_after_ehlo(struct etrn *e)
{
	if (e->tls_active || e->tls == CONF_TLS_NO)
		return etrn_after_hello(e);
	if (e->starttls_offered) {
		e->state = ETRN_S_STARTTLS;
		etrn_set_cmd(e, "STARTTLS", NULL);
		return ETRN_SEND;
	}
	if (e->tls == CONF_TLS_REQUIRED) {
		etrn_set_rest(e, ETRN_R_TEMP, ETRN_F_POLICY, 0, NULL, "the "
		    "server does not offer STARTTLS, and tls = required");
		return etrn_send_quit(e);
	}
	return etrn_after_hello(e);
}

static enum etrn_action
etrn_on_ehlo(struct etrn *e, const struct reply *r)
{
	if (r->code == 250) {
		e->esmtp = e->greeted = true;
		etrn_ehlo_keywords(e, r);
		return etrn_after_ehlo(e);
	}
	/*
	 * RFC 5321 names 500 and 502 for a server without EHLO.  501 is
	 * ambiguous: an old server may say it for a verb it does not know,
	 * Postfix says it for a bad EHLO argument.  HELO costs one round trip
	 * and settles it: the old server answers 250, Postfix the same 501,
	 * which then ends as a refusal with the server's own text.
	 */
	if (r->code == 500 || r->code == 501 || r->code == 502)
		return etrn_send_hello(e, ETRN_S_HELO);
	return etrn_on_setup_failure(e, r, "unexpected reply to EHLO");
}

static enum etrn_action
etrn_on_helo(struct etrn *e, const struct reply *r)
{
	if (r->code == 250) {
		e->esmtp = false;
		e->greeted = true;
		e->etrn_advertised = false;
		if (e->tls == CONF_TLS_REQUIRED && !e->tls_active) {
			etrn_set_rest(e, ETRN_R_TEMP, ETRN_F_POLICY, 0, NULL,
			    "the server does not speak ESMTP, so no STARTTLS, "
			    "and tls = required");
			return etrn_send_quit(e);
		}
		return etrn_after_hello(e);
	}
	return etrn_on_setup_failure(e, r, "unexpected reply to HELO");
}

static enum etrn_action
etrn_on_starttls(struct etrn *e, const struct reply *r)
{
	if (r->code == 220) {
		e->state = ETRN_S_TLS;
		e->cmd[0] = '\0';
		return ETRN_HANDSHAKE;
	}
	if (r->code == 421) {
		etrn_set_rest(e, ETRN_R_TEMP, ETRN_F_REPLY, r->code, NULL,
		    r->text);
		return etrn_close(e);
	}
	/* The server's refusal (its code stands), which tls = required ends. */
	if (e->tls == CONF_TLS_REQUIRED) {
		etrn_set_rest(e, ETRN_R_TEMP, ETRN_F_REPLY, r->code,
		    "STARTTLS refused", r->text);
		return etrn_send_quit(e);
	}
	/* RFC 3207 4: the session goes on as it was, in clear. */
	e->note = "the server refused STARTTLS; going on without TLS";
	return etrn_after_hello(e);
}

enum etrn_action
etrn_on_tls(struct etrn *e)
{
	/* Implicit TLS (RFC 8314 3): the greeting comes over TLS. */
	if (e->tls == CONF_TLS_IMPLICIT && !e->tls_active) {
		e->tls_active = true;
		e->state = ETRN_S_GREETING;
		e->cmd[0] = '\0';
		return ETRN_WAIT;
	}
	/* RFC 3207 4.2: forget what was learnt in clear; EHLO again. */
	e->tls_active = true;
	e->esmtp = e->etrn_advertised = e->starttls_offered = false;
	e->auth_plain = e->auth_login = false;
	return etrn_send_hello(e, ETRN_S_EHLO);
}

/* The classes of an AUTH failure: bad credentials are permanent. */
static enum etrn_action
etrn_on_auth_failure(struct etrn *e, const struct reply *r)
{
	e->cmd_secret = false;
	e->auth_code = r->code;
	if (r->code == 421) {
		etrn_set_rest(e, ETRN_R_TEMP, ETRN_F_REPLY, r->code, NULL,
		    r->text);
		return etrn_close(e);
	}
	if (r->code >= 400 && r->code < 500)
		etrn_set_rest(e, ETRN_R_TEMP, ETRN_F_REPLY, r->code,
		    "AUTH failed", r->text);
	else
		etrn_set_rest(e, ETRN_R_REFUSED, ETRN_F_REPLY, r->code,
		    "AUTH failed", r->text);
	return etrn_send_quit(e);
}

static enum etrn_action
etrn_on_auth(struct etrn *e, const struct reply *r)
{
	const char	*secret;
	char		 b64[ETRN_CMD_MAX];

	e->cmd_secret = false;
	switch (e->state) {
	case ETRN_S_AUTH_LOGIN:
	case ETRN_S_AUTH_USER:
		/*
		 * A 235 before the password was asked for: RFC 4954 4 makes
		 * 235 the server's verdict that the exchange "completes
		 * successfully", and SASL (RFC 4422 3.6) leaves the outcome
		 * to the server alone; the client can refuse only a server
		 * that fails mutual authentication, which LOGIN does not
		 * have.  Nothing secret was lost (the password was not
		 * sent), and a server that lied will refuse the ETRN itself
		 * (530), which is then classified as any refusal.  So it is
		 * a success, as in Postfix's client, with a warning: the
		 * password itself was not tried.
		 */
		if (r->code == 235) {
			e->auth_code = r->code;
			e->note = e->auth_untested = "the server accepted AUTH "
			    "LOGIN (235) before asking for the password, which "
			    "was not sent";
			return etrn_send_next(e);
		}
		if (r->code != 334)
			return etrn_on_auth_failure(e, r);
		secret = e->state == ETRN_S_AUTH_LOGIN ? e->auth_user :
		    e->auth_password;
		if (!etrn_base64((const unsigned char *)secret, strlen(secret),
		    b64, sizeof(b64)) || !etrn_set_cmd(e, b64, NULL)) {
			explicit_bzero(b64, sizeof(b64));
			etrn_set_rest(e, ETRN_R_UNSUPPORTED, ETRN_F_CONFIG, 0,
			    NULL, "credentials too long for AUTH LOGIN");
			return etrn_send_quit(e);
		}
		explicit_bzero(b64, sizeof(b64));
		e->cmd_secret = true;
		e->state = e->state == ETRN_S_AUTH_LOGIN ? ETRN_S_AUTH_USER :
		    ETRN_S_AUTH;
		return ETRN_SEND;
	case ETRN_S_AUTH_CANCEL:
		/* RFC 4954 4: the server MUST answer "*" with 501. */
		if (r->code >= 400 && r->code < 600)
			return etrn_on_auth_failure(e, r);
		e->auth_code = r->code;
		etrn_set_rest(e, ETRN_R_TEMP, ETRN_F_PROTOCOL, r->code,
		    "unexpected reply to a cancelled AUTH", r->text);
		return etrn_send_quit(e);
	default:
		if (r->code == 235) {
			e->auth_code = r->code;
			return etrn_send_next(e);
		}
		if (r->code == 334) {
			/*
			 * A challenge after all our credentials were sent:
			 * we have nothing more to say, and RFC 4954 4's way
			 * out of an exchange is "*" (cancel), not QUIT in
			 * its middle; the 501 that must follow ends AUTH.
			 */
			e->note = "the server asked for more after the "
			    "credentials; AUTH cancelled";
			e->state = ETRN_S_AUTH_CANCEL;
			etrn_set_cmd(e, "*", NULL);
			return ETRN_SEND;
		}
		return etrn_on_auth_failure(e, r);
	}
}

/* The form a reply text asks for: "argument must begin with #". */
static enum etrn_form
etrn_text_asks_form(const char *text)
{
	static const char *const	 asks[] = {
		"must begin with", "must start with",
	};
	const char			*p;
	size_t				 i, len;

	for (p = text; *p != '\0'; p++) {
		for (i = 0; i < nitems(asks); i++) {
			len = strlen(asks[i]);
			if (strncasecmp(p, asks[i], len) == 0)
				break;
		}
		if (i == nitems(asks))
			continue;
		p += len;
		while (*p == ' ' || *p == '\'' || *p == '"' || *p == '`')
			p++;
		if (*p == '#')
			return ETRN_FORM_HASH;
		if (*p == '@')
			return ETRN_FORM_AT;
		return ETRN_FORM_WRITTEN;
	}
	return ETRN_FORM_WRITTEN;
}

enum etrn_form
etrn_reply_asks_form(const struct reply *r)
{
	return r->code == 501 ? etrn_text_asks_form(r->text) :
	    ETRN_FORM_WRITTEN;
}

/* Classify the reply to one ETRN (RFC 1985 5, erratum 4130). */
static enum etrn_action
etrn_on_etrn(struct etrn *e, const struct reply *r)
{
	struct etrn_result	*res;
	const char		*domain;
	unsigned long		 count;
	enum etrn_form		 form;
	int			 code = r->code;

	if (e->next == 0 || e->next > e->ndomains)
		return etrn_close(e);	/* cannot happen: nothing was asked */
	res = &e->results[e->next - 1];

	res->etrn_reply = true;
	if (code >= 250 && code <= 253) {
		etrn_set(res, ETRN_R_OK, ETRN_F_NONE, code, NULL, r->text);
		if (code == 253 && reply_pending_count(r, &count) == 0)
			res->pending = (long)count;
		return etrn_send_next(e);
	}
	/* Exim: the same argument's queue run is going on: mail flows. */
	if (code == 458 && strncasecmp(r->text, "Already processing ",
	    strlen("Already processing ")) == 0) {
		etrn_set(res, ETRN_R_OK, ETRN_F_NONE, code, NULL, r->text);
		res->detail = ETRN_D_RUNNING;
		return etrn_send_next(e);
	}
	/*
	 * The server asked for another form of a plain domain: that domain
	 * again at once, in that form (once: the form sent now has the
	 * prefix), and the plain ones after it start in it too.  Exim
	 * counts each 501 towards smtp_max_synprot_errors (3), so one per
	 * session is all it should see.  Past the session's limit, the
	 * domain waits for the caller's next session, in the asked form.
	 */
	form = etrn_reply_asks_form(r);
	domain = e->domains[e->next - 1];
	if (form != ETRN_FORM_WRITTEN && res->form == ETRN_FORM_WRITTEN &&
	    etrn_is_plain(domain)) {
		e->asked = form;
		if (e->nsent < e->max_sent &&
		    etrn_send_etrn(e, res, domain, form))
			return ETRN_SEND;
		res->form = form;
		return etrn_send_next(e);
	}
	if (code == 421) {
		etrn_set_rest(e, ETRN_R_TEMP, ETRN_F_REPLY, code, NULL,
		    r->text);
		return etrn_close(e);
	}
	if (code == 500) {
		/* The verb itself is unknown: no point asking again. */
		etrn_set_rest(e, ETRN_R_UNSUPPORTED, ETRN_F_REPLY, code, NULL,
		    r->text);
		return etrn_send_quit(e);
	}
	if (code == 501)
		etrn_set(res, ETRN_R_UNSUPPORTED, ETRN_F_REPLY, code, NULL,
		    r->text);
	else if (code == 459)		/* RFC 1985: node not allowed */
		etrn_set(res, ETRN_R_REFUSED, ETRN_F_REPLY, code, NULL,
		    r->text);
	else if (code >= 400 && code < 500)
		etrn_set(res, ETRN_R_TEMP, ETRN_F_REPLY, code, NULL, r->text);
	else if (code >= 500 && code < 600)
		etrn_set(res, ETRN_R_REFUSED, ETRN_F_REPLY, code, NULL,
		    r->text);
	else {
		/* 220, 354: the server and we disagree on what we said. */
		etrn_set_rest(e, ETRN_R_TEMP, ETRN_F_PROTOCOL, code,
		    strcmp(e->verb, "QSND") == 0 ? "unexpected reply to QSND" :
		    "unexpected reply to ETRN", r->text);
		return etrn_send_quit(e);
	}
	return etrn_send_next(e);
}

enum etrn_action
etrn_on_reply(struct etrn *e, const struct reply *r)
{
	switch (e->state) {
	case ETRN_S_GREETING:
		return etrn_on_greeting(e, r);
	case ETRN_S_EHLO:
		return etrn_on_ehlo(e, r);
	case ETRN_S_HELO:
		return etrn_on_helo(e, r);
	case ETRN_S_STARTTLS:
		return etrn_on_starttls(e, r);
	case ETRN_S_TLS:
		break;		/* the session sends no reply our way now */
	case ETRN_S_AUTH_LOGIN:
	case ETRN_S_AUTH_USER:
	case ETRN_S_AUTH:
	case ETRN_S_AUTH_CANCEL:
		return etrn_on_auth(e, r);
	case ETRN_S_ETRN:
		return etrn_on_etrn(e, r);
	case ETRN_S_QUIT:
	case ETRN_S_DONE:
		break;
	}
	return etrn_close(e);
}

void
etrn_set_security(struct etrn *e, enum conf_tls tls, const char *auth_user,
    const char *auth_password, bool auth_cleartext)
{
	e->tls = tls;
	e->auth_user = auth_user != NULL && auth_password != NULL ?
	    auth_user : NULL;
	e->auth_password = auth_password;
	e->auth_cleartext = auth_cleartext;
	if (tls == CONF_TLS_IMPLICIT && e->state == ETRN_S_GREETING)
		e->state = ETRN_S_TLS;
}

void
etrn_set_probe(struct etrn *e)
{
	e->probe = true;
}

void
etrn_on_failure(struct etrn *e, enum etrn_fail fail, const char *reason)
{
	if (e->state != ETRN_S_QUIT && e->state != ETRN_S_DONE)
		etrn_set_rest(e, ETRN_R_TEMP, fail, 0, NULL,
		    reason != NULL ? reason : "session failed");
	e->state = ETRN_S_DONE;
	e->cmd[0] = '\0';
}

/* Does haystack contain needle, ignoring ASCII case? */
static bool
etrn_contains(const char *haystack, const char *needle)
{
	size_t	len = strlen(needle);

	for (; *haystack != '\0'; haystack++) {
		if (strncasecmp(haystack, needle, len) == 0)
			return true;
	}
	return false;
}

/*
 * Each hint names its server and is given only for that server's own
 * text: Postfix and Sendmail both say 459, for different things.
 */
const char *
etrn_hint(const struct etrn_result *res)
{
	if (res == NULL)
		return NULL;
	switch (res->cls) {
	case ETRN_R_UNSUPPORTED:
		if (res->code == 500)
			return "the server does not support ETRN";
		if (res->code == 501 && res->form == ETRN_FORM_WRITTEN &&
		    etrn_text_asks_form(res->text) == ETRN_FORM_HASH)
			return "Exim (built-in ETRN) wants '#domain': write "
			    "the domain plainly and etrnd sends the form the "
			    "server asks for";
		if (res->code == 501 && res->form != ETRN_FORM_WRITTEN)
			return "the server asked for this form and refused it "
			    "too: check the domain, or write the form it "
			    "wants in domains";
		if (res->code == 501 &&
		    etrn_contains(res->text, "not supported for"))
			return "hMailServer: it accepts only a domain written "
			    "plainly, without '#' or '@'";
		break;
	case ETRN_R_REFUSED:
		if (res->detail == ETRN_D_REPEATED && res->code == 458)
			return "a temporary code, but the same reply every "
			    "time: a policy (Exim's ETRN ACL denies with 458: "
			    "ask the provider to allow this client)";
		if (res->detail == ETRN_D_REPEATED)
			return "a temporary code, but the same reply every "
			    "time: most likely the server's policy";
		if (res->code == 459 &&
		    etrn_contains(res->text, "service unavailable"))
			return "Postfix: the domain is not in the "
			    "secondary's fast_flush_domains or relay_domains";
		if (res->code == 459 && etrn_contains(res->text, "queue") &&
		    etrn_contains(res->text, "unknown"))
			return "Sendmail: '#name' names a queue group, and it "
			    "has none of that name; write the domain plainly "
			    "or as '@domain'";
		if (res->code == 502 && etrn_contains(res->text,
		    "we do not allow this operation"))
			return "Sendmail: ETRN is disabled there "
			    "(PrivacyOptions noetrn, or the port's "
			    "DaemonPortOptions M=E, as on its submission "
			    "port 587)";
		if (res->code == 530)
			return "the server wants STARTTLS/AUTH before ETRN";
		if (res->code == 554 &&
		    etrn_contains(res->text, "etrn command rejected"))
			return "Postfix: the secondary's "
			    "smtpd_etrn_restrictions reject this client";
		break;
	case ETRN_R_OK:
		if (res->form == ETRN_FORM_HASH)
			return "sent as '#domain', the form the server asked "
			    "for";
		if (res->form == ETRN_FORM_AT)
			return "sent as '@domain', the form the server asked "
			    "for";
		if (res->detail == ETRN_D_RUNNING)
			return "Exim: a queue run for this is already going "
			    "on; mail is on its way";
		break;
	default:
		break;
	}
	return NULL;
}
