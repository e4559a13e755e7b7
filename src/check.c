/* SPDX-License-Identifier: ISC */
/*
 * check: etrnd --check.  Talks to every relay (or the ones named) at once,
 * the way a run would -- resolve, connect, greeting, EHLO, STARTTLS and
 * AUTH as configured -- but QUITs where the first ETRN would go, so that
 * the secondary is asked for nothing.  Prints, per relay, what the server
 * offers, the certificate's verdict and how long each step took.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <event2/event.h>

#include "check.h"
#include "conf.h"
#include "etrn.h"
#include "log.h"
#include "report.h"
#include "session.h"
#include "util.h"

struct check_relay {
	struct event_base	*base;
	size_t			*running;	/* sessions not done yet */
	const struct conf_relay	*conf;
	struct session		*session;
	char			*report;	/* the text, once done */
	int			 status;	/* 0, EX_TEMPFAIL or 1 */
};

/* "12 ms", or "not reached". */
static const char *
check_ms(int64_t ms, char *buf, size_t len)
{
	if (ms < 0)
		snprintf(buf, len, "not reached");
	else
		snprintf(buf, len, "%lld ms", (long long)ms);
	return buf;
}

/* Write one relay's report from what its session met. */
static void
check_report(struct check_relay *cr, const struct session_report *sr,
    const struct etrn *e, const struct etrn_result *res)
{
	const struct conf_relay	*r = cr->conf;
	const char		*hint, *tlsword;
	char			 a[32], text[REPORT_TEXT_LEN];
	size_t			 len = 0;
	FILE			*f;

	if ((f = open_memstream(&cr->report, &len)) == NULL)
		fatal("open_memstream");
	fprintf(f, "relay %s: %s%s%s port %u\n", r->name,
	    strchr(r->host, ':') != NULL ? "[" : "", r->host,
	    strchr(r->host, ':') != NULL ? "]" : "", r->port);
	fprintf(f, "  resolve      %s\n", check_ms(sr->resolve_ms, a,
	    sizeof a));
	if (sr->connect_ms >= 0)
		fprintf(f, "  connect      %s in %s\n", sr->peer,
		    check_ms(sr->connect_ms, a, sizeof a));
	/* What the server said is escaped before it reaches a terminal. */
	if (sr->greeting_ms >= 0)
		fprintf(f, "  greeting     %s (%s)\n", report_reply_text(text,
		    sizeof(text), e->greeting), check_ms(sr->greeting_ms, a,
		    sizeof a));
	if (e->esmtp)
		fprintf(f, "  EHLO         %s\n", e->keywords[0] != '\0' ?
		    report_reply_text(text, sizeof(text), e->keywords) :
		    "(no extensions)");
	else if (e->greeted)
		fprintf(f, "  HELO         accepted (no ESMTP, no extensions)\n");
	/* tls = implicit: the handshake came before the greeting. */
	tlsword = r->tls == CONF_TLS_IMPLICIT ? "TLS     " : "STARTTLS";
	if (sr->tls_ms >= 0)
		fprintf(f, "  %s     %s%s in %s; certificate %s\n", tlsword,
		    r->tls == CONF_TLS_IMPLICIT ? "implicit, " : "", sr->tls,
		    check_ms(sr->tls_ms, a, sizeof a), sr->cert);
	else if (sr->cert[0] != '\0')
		fprintf(f, "  %s     failed: %s\n", tlsword, sr->cert);
	else if (r->tls == CONF_TLS_NO)
		fprintf(f, "  STARTTLS     not used (tls = no)\n");
	if (r->auth_user != NULL && r->auth_password == NULL)
		fprintf(f, "  AUTH         not tried: credential %s is not "
		    "readable here (no $CREDENTIALS_DIRECTORY; see the note "
		    "above)\n", r->auth_password_credential);
	else if (e->auth_skipped != NULL)
		fprintf(f, "  AUTH         not tried: %s\n", e->auth_skipped);
	else if (e->auth_code != 0)
		fprintf(f, "  AUTH         %s as %s: %d (%s)%s%s\n", e->auth_mech,
		    r->auth_user, e->auth_code, check_ms(sr->auth_ms, a,
		    sizeof a), e->auth_untested != NULL ? "; but " : "",
		    e->auth_untested != NULL ? e->auth_untested : "");
	if (e->esmtp)
		fprintf(f, "  ETRN         %s; not sent\n", e->etrn_advertised ?
		    "offered" : "not offered in EHLO (the server may still "
		    "take it, or answer 500)");

	if (res->cls == ETRN_R_NONE && r->auth_user != NULL &&
	    (e->auth_code != 235 || e->auth_untested != NULL)) {
		/* The secondary may want AUTH before ETRN: not proven. */
		fprintf(f, "  result       not verified: %s (%s in all)\n",
		    e->auth_untested != NULL ? "the password was not tried" :
		    "AUTH was not done", check_ms(sr->total_ms, a, sizeof a));
		cr->status = EX_TEMPFAIL;
	} else if (res->cls == ETRN_R_NONE) {
		fprintf(f, "  result       ok (%s in all)\n",
		    check_ms(sr->total_ms, a, sizeof a));
		cr->status = 0;
	} else {
		report_reply_text(text, sizeof(text), res->text);
		if (res->fail == ETRN_F_REPLY)
			fprintf(f, "  result       %s: %d %s\n",
			    res->cls == ETRN_R_TEMP ? "failed (temporary)" :
			    "refused", res->code, text);
		else if (res->code != 0)
			fprintf(f, "  result       failed: %s (reply %d)\n",
			    text, res->code);
		else
			fprintf(f, "  result       failed: %s\n", text);
		if ((hint = etrn_hint(res)) != NULL)
			fprintf(f, "  hint         %s\n", hint);
		cr->status = res->cls == ETRN_R_TEMP ? EX_TEMPFAIL : 1;
	}
	if (fclose(f) != 0)
		fatal("open_memstream");
}

static void
check_on_session_done(struct session *s, const struct etrn_result *results,
    size_t nresults, const struct etrn *e, void *arg)
{
	struct check_relay		*cr = arg;
	static const struct etrn_result	 none = { .cls = ETRN_R_NONE };

	check_report(cr, session_report(s), e, nresults > 0 ? &results[0] :
	    &none);
	cr->session = NULL;
	/* The resolver keeps events of its own: end the loop ourselves. */
	if (--*cr->running == 0)
		event_base_loopexit(cr->base, NULL);
}

/* The named relays, or all; -1 if a name is unknown (said on stderr). */
static int
check_select(const struct conf *conf, char * const *names, size_t nnames,
    struct check_relay *crs, size_t *n)
{
	const struct conf_relay	*r;
	size_t			 i;

	*n = 0;
	if (nnames == 0) {
		for (i = 0; i < conf->nrelays; i++)
			crs[(*n)++].conf = &conf->relays[i];
		return 0;
	}
	for (i = 0; i < nnames; i++) {
		if ((r = conf_relay_find(conf, names[i])) == NULL) {
			fprintf(stderr, "etrnd: --check: no relay \"%s\" in "
			    "%s\n", names[i], conf->path);
			return -1;
		}
		crs[(*n)++].conf = r;
	}
	return 0;
}

/*
 * Who is checking: the service runs as a dynamic user with its own
 * credentials, so a file that root can read may be unreadable there.  Say
 * how to check exactly as the service would.
 */
static void
check_whoami(const struct conf *conf, const char *sbindir, FILE *out)
{
	size_t	 i;
	bool	 creds = false;
	char	*abs;

	fprintf(out, "etrnd --check: %s as uid %u%s; no ETRN is sent\n",
	    conf->path, (unsigned)geteuid(), geteuid() == 0 ? " (root)" : "");
	for (i = 0; i < conf->nrelays; i++)
		if (conf->relays[i].auth_password_credential != NULL &&
		    conf->relays[i].auth_password == NULL)
			creds = true;
	if (getenv("INVOCATION_ID") != NULL && !creds)
		return;		/* already in a unit: as the service would */
	fprintf(out, "note: the service runs as a dynamic user with the "
	    "unit's credentials;\n  to check as it would:\n"
	    "  systemd-run --pipe --wait --collect -p DynamicUser=yes");
	for (i = 0; i < conf->nrelays; i++)
		if (conf->relays[i].auth_password_credential != NULL)
			fprintf(out, " \\\n    -p LoadCredential=%s:FILE",
			    conf->relays[i].auth_password_credential);
	abs = realpath(conf->path, NULL);
	fprintf(out, " \\\n    %s/etrnd --check -c %s\n", sbindir,
	    abs != NULL ? abs : conf->path);
	free(abs);
	if (creds)
		fprintf(out, "  (FILE as in the unit's LoadCredential=: "
		    "systemctl cat etrnd)\n");
}

int
check_run(struct event_base *base, struct evdns_base *dns,
    const struct conf *conf, const char *helo, char * const *names,
    size_t nnames, const char *sbindir, FILE *out)
{
	struct check_relay	*crs;
	struct session_params	 p;
	size_t			 i, n, running;
	int			 status = 0;

	if (conf->nrelays == 0) {
		fprintf(stderr, "etrnd: --check: no relays configured in %s\n",
		    conf->path);
		return EX_CONFIG;
	}
	crs = xcalloc(conf->nrelays + nnames, sizeof(*crs));
	if (check_select(conf, names, nnames, crs, &n) == -1) {
		free(crs);
		return EX_USAGE;
	}
	check_whoami(conf, sbindir, out);
	running = n;
	for (i = 0; i < n; i++) {
		crs[i].base = base;
		crs[i].running = &running;
		session_params_init(&p, conf, crs[i].conf, helo);
		p.probe = true;
		if ((crs[i].session = session_new(base, dns, &p,
		    check_on_session_done, &crs[i])) == NULL)
			fatal("session_new");
	}
	/* Every session ends by its own deadlines. */
	fflush(out);
	event_base_dispatch(base);
	for (i = 0; i < n; i++) {
		fprintf(out, "\n%s", crs[i].report != NULL ? crs[i].report :
		    "(no report)\n");
		if (crs[i].status == 1 || (crs[i].status == EX_TEMPFAIL &&
		    status == 0))
			status = crs[i].status;
		session_free(crs[i].session);
		free(crs[i].report);
	}
	free(crs);
	return status;
}
