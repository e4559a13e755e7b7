/* SPDX-License-Identifier: ISC */
/*
 * etrn: the ETRN client protocol (RFC 1985) as a pure state machine.  Each
 * complete reply moves it on and yields the next command or a close; every
 * domain ends with one result class, which is what the scheduler retries on.
 * No I/O, no time, no logging: the session does those and traces states by
 * etrn_state_name().
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "etrn.h"

static const char *etrn_state_names[] = {
	[ETRN_S_GREETING] = "GREETING",
	[ETRN_S_EHLO] = "EHLO",
	[ETRN_S_HELO] = "HELO",
	[ETRN_S_ETRN] = "ETRN",
	[ETRN_S_QUIT] = "QUIT",
	[ETRN_S_DONE] = "DONE",
};

static const char *etrn_class_names[] = {
	[ETRN_R_NONE] = "none",
	[ETRN_R_OK] = "ok",
	[ETRN_R_TEMP] = "temporary",
	[ETRN_R_REFUSED] = "refused",
	[ETRN_R_UNSUPPORTED] = "unsupported",
};

const char *
etrn_state_name(enum etrn_state state)
{
	if ((size_t)state >= sizeof(etrn_state_names) /
	    sizeof(etrn_state_names[0]))
		return "UNKNOWN";
	return etrn_state_names[state];
}

const char *
etrn_class_name(enum etrn_class cls)
{
	if ((size_t)cls >= sizeof(etrn_class_names) /
	    sizeof(etrn_class_names[0]))
		return "unknown";
	return etrn_class_names[cls];
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
	for (i = 0; i < ndomains; i++) {
		memset(&results[i], 0, sizeof(results[i]));
		results[i].cls = ETRN_R_NONE;
		results[i].pending = -1;
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
etrn_set(struct etrn_result *res, enum etrn_class cls, int code,
    const char *prefix, const char *text)
{
	res->cls = cls;
	res->code = code;
	etrn_copy_text(res->text, prefix, text);
}

/* Give every domain not yet answered the same result. */
static void
etrn_set_rest(struct etrn *e, enum etrn_class cls, int code,
    const char *prefix, const char *text)
{
	size_t	i;

	for (i = 0; i < e->ndomains; i++) {
		if (e->results[i].cls == ETRN_R_NONE)
			etrn_set(&e->results[i], cls, code, prefix, text);
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

/*
 * Ask for the next domain, skipping (as unsupported) any that cannot be
 * sent as one command; QUIT after the last.
 */
static enum etrn_action
etrn_send_next(struct etrn *e)
{
	struct etrn_result	*res;
	const char		*domain;

	while (e->next < e->ndomains) {
		domain = e->domains[e->next];
		res = &e->results[e->next];
		e->next++;
		if (!etrn_arg_ok(domain)) {
			etrn_set(res, ETRN_R_UNSUPPORTED, 0, NULL, "not sent: "
			    "the domain is empty or contains a space or "
			    "control character");
			continue;
		}
		if (!etrn_set_cmd(e, e->verb, domain)) {
			etrn_set(res, ETRN_R_UNSUPPORTED, 0, NULL, "not sent: "
			    "the domain is too long for an SMTP command line");
			continue;
		}
		e->state = ETRN_S_ETRN;
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
		etrn_set_rest(e, ETRN_R_UNSUPPORTED, 0, NULL,
		    "HELO name is empty, too long or contains a space or "
		    "control character");
		return etrn_send_quit(e);
	}
	e->state = state;
	return ETRN_SEND;
}

/* Does a line of an EHLO reply (after the first) name the ETRN keyword? */
static bool
etrn_ehlo_has_etrn(const struct reply *r)
{
	const char	*line, *end;
	size_t		 len;

	if ((line = strchr(r->text, '\n')) == NULL)
		return false;
	while (line != NULL) {
		line++;
		end = strchr(line, '\n');
		len = strcspn(line, " \t\n");
		if (len == 4 && strncasecmp(line, "ETRN", 4) == 0)
			return true;
		line = end;
	}
	return false;
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
		etrn_set_rest(e, ETRN_R_TEMP, r->code, NULL, r->text);
		return etrn_close(e);
	}
	if (r->code >= 400 && r->code < 500)
		etrn_set_rest(e, ETRN_R_TEMP, r->code, NULL, r->text);
	else if (r->code >= 500 && r->code < 600)
		etrn_set_rest(e, ETRN_R_REFUSED, r->code, NULL, r->text);
	else
		etrn_set_rest(e, ETRN_R_TEMP, r->code, unexpected, r->text);
	return etrn_send_quit(e);
}

static enum etrn_action
etrn_on_greeting(struct etrn *e, const struct reply *r)
{
	if (r->code == 220)
		return etrn_send_hello(e, ETRN_S_EHLO);
	return etrn_on_setup_failure(e, r, "unexpected greeting");
}

static enum etrn_action
etrn_on_ehlo(struct etrn *e, const struct reply *r)
{
	if (r->code == 250) {
		e->esmtp = true;
		e->etrn_advertised = etrn_ehlo_has_etrn(r);
		return etrn_send_next(e);
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
		e->etrn_advertised = false;
		return etrn_send_next(e);
	}
	return etrn_on_setup_failure(e, r, "unexpected reply to HELO");
}

/* Classify the reply to one ETRN (RFC 1985 5, erratum 4130). */
static enum etrn_action
etrn_on_etrn(struct etrn *e, const struct reply *r)
{
	struct etrn_result	*res;
	unsigned long		 count;
	int			 code = r->code;

	if (e->next == 0 || e->next > e->ndomains)
		return etrn_close(e);	/* cannot happen: nothing was asked */
	res = &e->results[e->next - 1];

	if (code >= 250 && code <= 253) {
		etrn_set(res, ETRN_R_OK, code, NULL, r->text);
		if (code == 253 && reply_pending_count(r, &count) == 0)
			res->pending = (long)count;
		return etrn_send_next(e);
	}
	if (code == 421) {
		etrn_set_rest(e, ETRN_R_TEMP, code, NULL, r->text);
		return etrn_close(e);
	}
	if (code == 500) {
		/* The verb itself is unknown: no point asking again. */
		etrn_set_rest(e, ETRN_R_UNSUPPORTED, code, NULL, r->text);
		return etrn_send_quit(e);
	}
	if (code == 501)
		etrn_set(res, ETRN_R_UNSUPPORTED, code, NULL, r->text);
	else if (code == 459)		/* RFC 1985: node not allowed */
		etrn_set(res, ETRN_R_REFUSED, code, NULL, r->text);
	else if (code >= 400 && code < 500)
		etrn_set(res, ETRN_R_TEMP, code, NULL, r->text);
	else if (code >= 500 && code < 600)
		etrn_set(res, ETRN_R_REFUSED, code, NULL, r->text);
	else {
		/* 220, 354: the server and we disagree on what we said. */
		etrn_set_rest(e, ETRN_R_TEMP, code,
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
	case ETRN_S_ETRN:
		return etrn_on_etrn(e, r);
	case ETRN_S_QUIT:
	case ETRN_S_DONE:
		break;
	}
	return etrn_close(e);
}

void
etrn_fail(struct etrn *e, const char *reason)
{
	if (e->state != ETRN_S_QUIT && e->state != ETRN_S_DONE)
		etrn_set_rest(e, ETRN_R_TEMP, 0, NULL,
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

const char *
etrn_hint(const struct etrn_result *res)
{
	if (res == NULL)
		return NULL;
	switch (res->cls) {
	case ETRN_R_UNSUPPORTED:
		if (res->code == 500)
			return "the server does not support ETRN";
		if (res->code == 501 && strchr(res->text, '#') != NULL)
			return "Exim needs the '#domain' form: set it in "
			    "domains";
		break;
	case ETRN_R_REFUSED:
		if (res->code == 459)
			return "the domain is not in the secondary's "
			    "fast_flush_domains or relay_domains";
		if (res->code == 502 && strstr(res->text, "5.7.0") != NULL)
			return "the server does not allow ETRN here "
			    "(Sendmail refuses it on port 587; use port 25)";
		if (res->code == 530)
			return "the server wants STARTTLS/AUTH before ETRN";
		if (res->code == 554 &&
		    etrn_contains(res->text, "etrn command rejected"))
			return "the secondary's smtpd_etrn_restrictions "
			    "reject this client";
		break;
	default:
		break;
	}
	return NULL;
}
