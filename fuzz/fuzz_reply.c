/* SPDX-License-Identifier: ISC */
/*
 * fuzz_reply: what an SMTP server says, through the reply reader and the
 * ETRN state machine, the way session.c drives them.  The input is the
 * server's byte stream: lines end at LF (a CR before it is dropped, as
 * EVBUFFER_EOL_CRLF does), and a line longer than 510 octets ends the
 * session as session.c does.  Every complete reply goes to etrn_on_reply();
 * a protocol error or a close ends the session and the next line starts a
 * new one, with the next of a few client set-ups (verb, HELO name, domains,
 * STARTTLS and AUTH policy, whether the TLS handshake succeeds), so that one
 * input can reach the paths each of them guards.
 *
 * A first line "@N" (N a digit; not a reply) makes the first session take
 * set-up N, so that a seed can start with the one it is about.
 *
 * Beyond the sanitizers, it checks what the session relies on: a command is
 * one line ending in CRLF; nothing but EHLO/HELO/STARTTLS/QUIT goes out in
 * clear under tls = required, nor credentials without auth-cleartext; every
 * domain has a result when the session ends; texts are NUL-terminated
 * within their buffers.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etrn.h"
#include "reply.h"

#define NDOMAINS	3

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	 long_domain[600];

static char * const good_domains[NDOMAINS] = {
	"example.org", "@example.net", "#queue",
};
static char * const bad_domains[NDOMAINS] = {
	"", "with space", long_domain,
};

static char	 long_password[400];

/* The set-ups sessions take in turn, from the one "@N" names. */
static const struct setup {
	const char		*helo;
	enum conf_command	 command;
	char * const		*domains;
	bool			 security;	/* call etrn_set_security() */
	enum conf_tls		 tls;
	const char		*user;
	const char		*password;
	bool			 cleartext;
	bool			 handshake_ok;
} setups[] = {
	{ "mail.example.org", CONF_CMD_ETRN, good_domains, false,
	  CONF_TLS_NO, NULL, NULL, false, false },
	{ "[192.0.2.1]", CONF_CMD_QSND, good_domains, false,
	  CONF_TLS_NO, NULL, NULL, false, false },
	{ "mail.example.org", CONF_CMD_ETRN, bad_domains, false,
	  CONF_TLS_NO, NULL, NULL, false, false },
	{ "bad\r\nhelo", CONF_CMD_ETRN, good_domains, false,
	  CONF_TLS_NO, NULL, NULL, false, false },
	{ "mail.example.org", CONF_CMD_ETRN, good_domains, true,
	  CONF_TLS_OPPORTUNISTIC, "user", "secret", false, true },
	{ "mail.example.org", CONF_CMD_ETRN, good_domains, true,
	  CONF_TLS_REQUIRED, "user@example.org", "pass word", false, true },
	{ "mail.example.org", CONF_CMD_ETRN, good_domains, true,
	  CONF_TLS_REQUIRED, "user", "secret", false, false },
	{ "mail.example.org", CONF_CMD_QSND, good_domains, true,
	  CONF_TLS_NO, "user", long_password, true, false },
	{ "mail.example.org", CONF_CMD_ETRN, good_domains, true,
	  CONF_TLS_OPPORTUNISTIC, "user", "secret", true, false },
};

struct fuzz_session {
	struct reply_parser	 rp;
	struct etrn		 etrn;
	struct etrn_result	 results[NDOMAINS];
	const struct setup	*setup;
	size_t			 n;		/* sessions so far */
};

static void
fuzz_check_text(const char *text, size_t size)
{
	if (memchr(text, '\0', size) == NULL)
		abort();
}

static void
fuzz_start(struct fuzz_session *s)
{
	const struct setup	*su;

	su = s->setup = &setups[s->n++ % (sizeof(setups) / sizeof(setups[0]))];
	reply_init(&s->rp);
	etrn_init(&s->etrn, su->helo, su->command, su->domains, NDOMAINS,
	    s->results);
	if (su->security)
		etrn_set_security(&s->etrn, su->tls, su->user, su->password,
		    su->cleartext);
}

/* The session is over: every domain must have a result. */
static void
fuzz_end(struct fuzz_session *s)
{
	size_t	i;

	for (i = 0; i < NDOMAINS; i++) {
		if (s->results[i].cls == ETRN_R_NONE)
			abort();
		fuzz_check_text(s->results[i].text, sizeof(s->results[i].text));
		(void)etrn_hint(&s->results[i]);
		(void)etrn_class_name(s->results[i].cls);
	}
	fuzz_start(s);
}

/*
 * A command is "VERB[ ARG]\r\n" and nothing else: no smuggled lines.  With
 * tls = required nothing but the greeting's answers goes out in clear, and
 * credentials never do unless auth-cleartext allows it.
 */
static void
fuzz_check_cmd(const struct fuzz_session *s)
{
	const struct etrn	*e = &s->etrn;
	const char		*crlf;
	size_t			 len;
	bool			 setup_cmd;

	fuzz_check_text(e->cmd, sizeof(e->cmd));
	len = strlen(e->cmd);
	if (len < 3 || (crlf = strpbrk(e->cmd, "\r\n")) == NULL ||
	    crlf != e->cmd + len - 2 || strcmp(crlf, "\r\n") != 0)
		abort();
	if (e->tls_active)
		return;
	setup_cmd = strncmp(e->cmd, "EHLO ", 5) == 0 ||
	    strncmp(e->cmd, "HELO ", 5) == 0 ||
	    strcmp(e->cmd, "STARTTLS\r\n") == 0 ||
	    strcmp(e->cmd, "QUIT\r\n") == 0;
	if (s->setup->tls == CONF_TLS_REQUIRED && !setup_cmd)
		abort();
	if ((e->cmd_secret || strncmp(e->cmd, "AUTH", 4) == 0) &&
	    !s->setup->cleartext)
		abort();
}

static void
fuzz_on_reply(struct fuzz_session *s)
{
	const struct reply	*r = &s->rp.reply;
	unsigned long		 count;

	if (r->code < 200 || r->code > 599 || r->nlines == 0 ||
	    r->nlines > REPLY_LINES_MAX || r->textlen >= sizeof(r->text) ||
	    strlen(r->text) != r->textlen)
		abort();
	if (reply_pending_count(r, &count) == 0 && count > LONG_MAX)
		abort();
	(void)etrn_state_name(s->etrn.state);
	switch (etrn_on_reply(&s->etrn, r)) {
	case ETRN_SEND:
		fuzz_check_cmd(s);
		break;
	case ETRN_HANDSHAKE:
		if (s->etrn.state != ETRN_S_TLS)
			abort();
		if (!s->setup->handshake_ok) {
			etrn_on_failure(&s->etrn, ETRN_F_TLS,
			    "TLS handshake failed");
			fuzz_end(s);
			break;
		}
		if (etrn_on_tls(&s->etrn) != ETRN_SEND)
			abort();
		fuzz_check_cmd(s);
		break;
	case ETRN_WAIT:
		/* Only etrn_on_tls() after an implicit handshake says this. */
		abort();
	case ETRN_CLOSE:
		fuzz_end(s);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_session	 s;
	const uint8_t		*nl;
	char			 line[REPLY_LINE_MAX];
	size_t			 len;

	if (long_domain[0] == '\0') {
		memset(long_domain, 'a', sizeof(long_domain) - 1);
		memset(long_password, 'p', sizeof(long_password) - 1);
	}
	memset(&s, 0, sizeof(s));
	if (size >= 2 && data[0] == '@' && data[1] >= '0' && data[1] <= '9') {
		s.n = (size_t)(data[1] - '0');
		if ((nl = memchr(data, '\n', size)) == NULL)
			return 0;
		size -= (size_t)(nl - data) + 1;
		data = nl + 1;
	}
	fuzz_start(&s);
	while (size > 0) {
		if ((nl = memchr(data, '\n', size)) != NULL)
			len = (size_t)(nl - data);
		else
			len = size;	/* the last line, as at EOF */
		if (len > 0 && data[len - 1] == '\r')
			len--;
		if (len > REPLY_LINE_MAX - 2) {
			etrn_on_failure(&s.etrn, ETRN_F_PROTOCOL,
			    "reply line too long");
			fuzz_end(&s);
		} else {
			memcpy(line, data, len);
			line[len] = '\0';
			switch (reply_feed(&s.rp, line, len)) {
			case REPLY_MORE:
				break;
			case REPLY_DONE:
				fuzz_on_reply(&s);
				break;
			case REPLY_ERROR:
				if (s.rp.error == NULL)
					abort();
				etrn_on_failure(&s.etrn, ETRN_F_PROTOCOL,
				    s.rp.error);
				fuzz_end(&s);
				break;
			}
		}
		if (nl == NULL)
			break;
		size -= (size_t)(nl - data) + 1;
		data = nl + 1;
	}
	etrn_on_failure(&s.etrn, ETRN_F_CLOSED, "connection closed");
	return 0;
}
