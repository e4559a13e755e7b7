/* SPDX-License-Identifier: ISC */
/*
 * etrn: ask one server, once, to start its queue for the domains named on
 * the command line, and say how each request went.  No configuration file:
 * the options stand in for one [relay] section, TLS and AUTH included.  The
 * SMTP conversation is the daemon's own session module; this file only chooses the sessions (at
 * most CONF_ETRN_PER_SESSION domains each, one after another), prints one
 * line per domain and turns the results into an exit status the way
 * "etrnd --once" does.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "conf.h"
#include "etrn.h"
#include "log.h"
#include "report.h"
#include "resolver.h"
#include "sched.h"
#include "session.h"
#include "sig.h"
#include "tls.h"
#include "util.h"

#define CONNECT_TIMEOUT_MS	(30 * 1000)		/* as etrnd's default */
#define REPLY_TIMEOUT_MS	(5 * 60 * 1000)		/* as etrnd's default */
#define TIMEOUT_MAX_S		86400
#define HELO_MAX		255
#define EXIT_TEMPFAIL		75	/* EX_TEMPFAIL, as etrnd --once */
#define ARG_SHOWN_MAX		512	/* bytes of a bad argument shown */

/* Long options without a letter. */
enum {
	OPT_TLS = 256,
	OPT_TLS_CA,
	OPT_NO_VERIFY,
	OPT_USER,
	OPT_PASSWORD_FILE,
};

struct tool {
	struct event_base	*base;
	struct resolver		*resolver;
	struct sig_events	 sigs;
	struct session		*session;
	struct conf_relay	 relay;		/* the server, as a relay */
	struct session_params	 params;	/* all but the domains */
	char			*host;
	char			*helo;
	char			**domains;	/* argv */
	size_t			 ndomains;
	size_t			 next;		/* first of the session */
	size_t			 nchunk;	/* domains in the session */
	struct etrn_result	*results;
	SSL_CTX			*tls_ctx;	/* built for --tls-ca, or NULL */
	bool			 interrupted;
};

static void	tool_on_session_done(struct session *,
		    const struct etrn_result *, size_t, const struct etrn *,
		    void *);

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: etrn [-46hVv] [-C ETRN|QSND] [-H name] [-p port] "
	    "[-t seconds]\n"
	    "            [--tls no|opportunistic|required|implicit]\n"
	    "            [--tls-ca file] [--no-verify]\n"
	    "            [--user name --password-file file] server domain ...\n"
	    "  -4, -6      use IPv4 or IPv6 addresses of the server only\n"
	    "  -C verb     ETRN (default) or QSND (Post.Office)\n"
	    "  -H name     EHLO name (default: this host's FQDN)\n"
	    "  -p port     server port (default 25)\n"
	    "  -t seconds  connect and reply timeout (default: connect 30,"
	    " reply 300)\n"
	    "  -v          trace the SMTP conversation on stderr\n"
	    "  --tls mode  STARTTLS: no, opportunistic (default: when "
	    "offered) or\n"
	    "              required; implicit: TLS from the connect on "
	    "(port 465)\n"
	    "  --tls-ca file\n"
	    "              CA certificates (PEM) for the server's "
	    "(default: the system's)\n"
	    "  --no-verify do not check the server's certificate\n"
	    "  --user name AUTH PLAIN or LOGIN as name, over TLS only\n"
	    "  --password-file file\n"
	    "              the password: the file's first line (mode 600)\n"
	    "  -V          print the version and exit\n"
	    "  -h          print this help and exit\n");
}

/* An EHLO argument we can send as is: one printable word. */
static const char *
tool_helo_check(const char *name)
{
	const unsigned char	*p;

	if (*name == '\0')
		return "is empty";
	if (strlen(name) > HELO_MAX)
		return "is longer than 255 bytes";
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p == ' ')
			return "contains a space";
		if (*p < 0x20 || *p == 0x7f)
			return "contains a control character";
	}
	return NULL;
}

/* A control character: not in a user name we send. */
static bool
tool_has_ctrl(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	}
	return false;
}

/* What etrnd greets with; before the loop starts, since it may block. */
static char *
tool_helo_default(void)
{
	bool	 qualified;
	char	*name = host_fqdn(&qualified);

	if (!qualified)
		log_debug("host name \"%s\" is not fully qualified; use -H if "
		    "a server insists", name);
	return name;
}

/* A literal of the other family can never connect: say why up front. */
static void
tool_check_family(const struct tool *t)
{
	unsigned char	addr[16];

	if (t->params.family == AF_INET &&
	    inet_pton(AF_INET6, t->host, addr) == 1)
		warnx("%s is an IPv6 address, but -4 allows IPv4 only",
		    t->host);
	else if (t->params.family == AF_INET6 &&
	    inet_pton(AF_INET, t->host, addr) == 1)
		warnx("%s is an IPv4 address, but -6 allows IPv6 only",
		    t->host);
}

/*
 * "DOMAIN CLASS CODE TEXT", the reply text on one line and escaped (a
 * server's C1 controls or bidi overrides never reach the terminal); hints
 * on stderr.
 */
static void
tool_print(const char *domain, const struct etrn_result *res)
{
	char		 line[REPORT_LINE_LEN];
	const char	*hint;

	printf("%s\n", report_result_line(line, sizeof(line), NULL, domain,
	    res));
	if ((hint = etrn_hint(res)) != NULL)
		warnx("%s: %s", domain, hint);
}

/* The next CONF_ETRN_PER_SESSION domains, in a new session. */
static void
tool_start(struct tool *t)
{
	t->nchunk = t->ndomains - t->next;
	if (t->nchunk > CONF_ETRN_PER_SESSION)
		t->nchunk = CONF_ETRN_PER_SESSION;
	t->params.domains = t->domains + t->next;
	t->params.ndomains = t->nchunk;
	if ((t->session = session_new(t->base, resolver_dns(t->resolver),
	    &t->params, tool_on_session_done, t)) == NULL)
		fatal("session_new");
}

static void
tool_on_session_done(struct session *s, const struct etrn_result *res,
    size_t nres, const struct etrn *etrn, void *arg)
{
	struct tool		*t = arg;
	struct etrn_result	*r;
	bool			 failed = false;
	size_t			 i;

	(void)s;
	t->session = NULL;
	for (i = 0; i < nres && i < t->nchunk; i++) {
		r = &t->results[t->next + i];
		*r = res[i];
		/* session_shutdown() says "daemon"; we were interrupted. */
		if (r->fail == ETRN_F_SHUTDOWN)
			snprintf(r->text, sizeof(r->text), "interrupted");
		failed |= r->cls == ETRN_R_REFUSED ||
		    r->cls == ETRN_R_UNSUPPORTED;
	}
	if (failed && etrn->esmtp && !etrn->etrn_advertised)
		warnx("%s: the server does not list ETRN in its EHLO reply",
		    t->relay.host);
	/* Left unasked by the session's ETRN limit: the next one asks. */
	while (t->nchunk > 1 && !t->interrupted &&
	    t->results[t->next + t->nchunk - 1].cls == ETRN_R_NONE)
		t->nchunk--;
	for (i = 0; i < t->nchunk; i++)
		tool_print(t->domains[t->next + i], &t->results[t->next + i]);
	fflush(stdout);
	t->next += t->nchunk;
	t->nchunk = 0;
	if (t->interrupted || t->next >= t->ndomains) {
		/* The resolver's sockets would keep the loop alive. */
		event_base_loopexit(t->base, NULL);
		return;
	}
	tool_start(t);
}

static const int	tool_sigs[] = { SIGINT, SIGTERM };

/* First signal: QUIT and report; a second: leave at once. */
static void
tool_signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct tool	*t = arg;

	(void)ev;
	if (t->interrupted) {
		event_base_loopbreak(t->base);
		return;
	}
	log_debug("%s: ending the session", strsignal(sig));
	t->interrupted = true;
	if (t->session != NULL)
		session_shutdown(t->session);
	else
		event_base_loopexit(t->base, NULL);
}

/* As etrnd --once: refused beats temporary beats ok; ^C is temporary. */
static int
tool_exit_status(const struct tool *t)
{
	int	status = 0;
	size_t	i;

	if (t->interrupted)
		return EXIT_TEMPFAIL;
	for (i = 0; i < t->ndomains; i++)
		status = report_exit_merge(status, t->results[i].cls);
	return status;
}

static void
tool_free(struct tool *t)
{
	session_free(t->session);
	sig_events_deinit(&t->sigs);
	resolver_free(t->resolver);
	if (t->base != NULL)
		event_base_free(t->base);
	free(t->results);
	free(t->helo);
	free(t->host);
	tls_ctx_free(t->tls_ctx);
	conf_password_free(t->relay.auth_password);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help",	no_argument,	NULL, 'h' },
		{ "version",	no_argument,	NULL, 'V' },
		{ "tls",	required_argument, NULL, OPT_TLS },
		{ "tls-ca",	required_argument, NULL, OPT_TLS_CA },
		{ "no-verify",	no_argument,	NULL, OPT_NO_VERIFY },
		{ "user",	required_argument, NULL, OPT_USER },
		{ "password-file", required_argument, NULL,
		    OPT_PASSWORD_FILE },
		{ NULL,		0,		NULL, 0 },
	};
	struct tool	 t;
	const char	*helo = NULL, *why, *server, *pwfile = NULL;
	char		 err[STR_VIS_LEN(ARG_SHOWN_MAX) + 128];
	char		 shown[STR_VIS_LEN(ARG_SHOWN_MAX)];
	unsigned long	 n, port = 25, timeout = 0;
	size_t		 len, i;
	int		 ch, verbose = 0, status;

	memset(&t, 0, sizeof(t));
	t.params.family = AF_UNSPEC;
	t.relay.command = CONF_CMD_ETRN;
	t.relay.tls = CONF_TLS_OPPORTUNISTIC;	/* as etrnd's default */
	t.relay.tls_verify = true;
	while ((ch = getopt_long(argc, argv, "46C:hH:p:t:vV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case '4':
			t.params.family = AF_INET;
			break;
		case '6':
			t.params.family = AF_INET6;
			break;
		case 'C':
			if (strcasecmp(optarg, "ETRN") == 0)
				t.relay.command = CONF_CMD_ETRN;
			else if (strcasecmp(optarg, "QSND") == 0)
				t.relay.command = CONF_CMD_QSND;
			else {
				warnx("-C: invalid verb \"%s\" (use ETRN or "
				    "QSND)", str_vis(shown, optarg,
				    ARG_SHOWN_MAX, ""));
				return EX_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'H':
			if ((why = tool_helo_check(optarg)) != NULL) {
				warnx("-H: name \"%s\" %s", str_vis(shown,
				    optarg, ARG_SHOWN_MAX, ""), why);
				return EX_USAGE;
			}
			helo = optarg;
			break;
		case 'p':
			if (parse_number(optarg, 1, 65535, &port) == -1) {
				warnx("-p: invalid port \"%s\" (use 1-65535)",
				    str_vis(shown, optarg, ARG_SHOWN_MAX, ""));
				return EX_USAGE;
			}
			break;
		case 't':
			if (parse_number(optarg, 1, TIMEOUT_MAX_S, &n) == -1) {
				warnx("-t: invalid timeout \"%s\" (use whole "
				    "seconds, 1-%d)", str_vis(shown, optarg,
				    ARG_SHOWN_MAX, ""), TIMEOUT_MAX_S);
				return EX_USAGE;
			}
			timeout = n;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			printf("etrn %s\n", ETRND_VERSION);
			return 0;
		case OPT_TLS:
			if (conf_tls_parse(optarg, &t.relay.tls) == -1) {
				warnx("--tls: invalid mode \"%s\" (use no, "
				    "opportunistic, required or implicit)",
				    str_vis(shown, optarg, ARG_SHOWN_MAX, ""));
				return EX_USAGE;
			}
			break;
		case OPT_TLS_CA:
			t.relay.tls_ca = optarg;
			break;
		case OPT_NO_VERIFY:
			t.relay.tls_verify = false;
			break;
		case OPT_USER:
			if (*optarg == '\0' || strlen(optarg) >
			    CONF_PASSWORD_MAX || tool_has_ctrl(optarg)) {
				warnx("--user: \"%s\" is empty, longer than %d "
				    "bytes or has a control character",
				    str_vis(shown, optarg, ARG_SHOWN_MAX, ""),
				    CONF_PASSWORD_MAX);
				return EX_USAGE;
			}
			t.relay.auth_user = optarg;
			break;
		case OPT_PASSWORD_FILE:
			pwfile = optarg;
			break;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2) {
		warnx(argc == 0 ? "no server and no domain given" :
		    "no domain given");
		usage(stderr);
		return EX_USAGE;
	}
	server = argv[0];
	if (*server == '\0') {
		warnx("the server name is empty");
		return EX_USAGE;
	}
	for (i = 1; i < (size_t)argc; i++) {
		if ((why = conf_domain_check(argv[i])) != NULL) {
			warnx("domain \"%s\" %s", str_vis(shown, argv[i],
			    ARG_SHOWN_MAX, ""), why);
			return EX_USAGE;
		}
	}
	if ((t.relay.auth_user != NULL) != (pwfile != NULL)) {
		warnx("--user and --password-file go together");
		return EX_USAGE;
	}
	if (t.relay.auth_user != NULL && t.relay.tls == CONF_TLS_NO) {
		warnx("--user: AUTH needs TLS, and --tls no was given");
		return EX_USAGE;
	}
	/* Read now, so that a bad file costs no connection. */
	if (pwfile != NULL && (t.relay.auth_password =
	    conf_password_read(pwfile, true, err, sizeof(err))) == NULL) {
		warnx("--password-file: %s", err);
		return EX_NOINPUT;
	}
	if (t.relay.auth_user != NULL && strlen(t.relay.auth_user) +
	    strlen(t.relay.auth_password) > CONF_AUTH_PLAIN_MAX) {
		warnx("--user and the password have more than the %d bytes "
		    "that fit one AUTH PLAIN command", CONF_AUTH_PLAIN_MAX);
		conf_password_free(t.relay.auth_password);
		return EX_USAGE;
	}
	/* A --tls-ca that cannot load fails here, not at STARTTLS. */
	if (t.relay.tls_ca != NULL && t.relay.tls != CONF_TLS_NO &&
	    t.relay.tls_verify && (t.tls_ctx = tls_ctx_new(&t.relay)) == NULL) {
		warnx("--tls-ca: cannot load CA certificates from %s",
		    str_vis(shown, t.relay.tls_ca, ARG_SHOWN_MAX, ""));
		conf_password_free(t.relay.auth_password);
		return EX_NOINPUT;
	}
	log_init(verbose);
	signal(SIGPIPE, SIG_IGN);

	/* "[2001:db8::1]" as in a mail address literal: strip the brackets. */
	len = strlen(server);
	if (len > 2 && server[0] == '[' && server[len - 1] == ']')
		t.host = strndup(server + 1, len - 2);
	else
		t.host = strdup(server);
	if (t.host == NULL)
		fatal("strdup");
	t.relay.host = t.host;
	tool_check_family(&t);
	t.relay.name = t.host;
	t.relay.port = (uint16_t)port;
	t.params.relay = &t.relay;
	t.params.tls_ctx = t.tls_ctx;		/* each session takes a ref */
	t.helo = helo != NULL ? xstrdup(helo) : tool_helo_default();
	t.params.helo = t.helo;
	t.params.connect_timeout_ms = timeout != 0 ? timeout * 1000 :
	    CONNECT_TIMEOUT_MS;
	t.params.reply_timeout_ms = timeout != 0 ? timeout * 1000 :
	    REPLY_TIMEOUT_MS;
	t.domains = argv + 1;
	t.ndomains = (size_t)argc - 1;
	t.results = xcalloc(t.ndomains, sizeof(*t.results));
	for (i = 0; i < t.ndomains; i++)
		t.results[i].pending = -1;

	if ((t.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	t.resolver = resolver_new(t.base);
	sig_events_init(&t.sigs, t.base, tool_sigs, nitems(tool_sigs),
	    tool_signal_cb, &t);

	tool_start(&t);
	if (event_base_dispatch(t.base) == -1)
		log_warnx("event loop failed");

	/* Interrupted: the rest were never answered, or never asked. */
	for (i = t.next; i < t.ndomains; i++) {
		if (i < t.next + t.nchunk) {
			t.results[i].cls = ETRN_R_TEMP;
			t.results[i].fail = ETRN_F_SHUTDOWN;
		}
		snprintf(t.results[i].text, sizeof(t.results[i].text),
		    "interrupted");
		tool_print(t.domains[i], &t.results[i]);
	}
	status = tool_exit_status(&t);
	tool_free(&t);
	return status;
}
