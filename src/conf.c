/* SPDX-License-Identifier: ISC */
/*
 * conf: read /etc/etrnd.conf into a struct conf.  The file is a strict INI
 * dialect: [daemon], any number of [relay NAME], "key = value" lines, blank
 * lines and whole-line comments.  Every problem is collected as
 * "file:line: message", the parse runs to the end, and the caller gets all
 * of them in one text.  Nothing here logs.
 *
 * The INI reader is our own, not libinih: Debian's libinih splits lines over
 * 200 bytes, passes no line numbers and hides empty sections, and every error
 * here must carry its exact file:line.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "conf.h"
#include "util.h"
#include "watch.h"

#define CONF_FILE_MAX	(1024 * 1024)	/* a config is never this big */
#define CONF_IFNAME_MAX	15		/* IFNAMSIZ - 1 */
#define CONF_VIS_MAX	48		/* bytes of a bad value echoed back */
#define CONF_WS		" \t"

#define DEF_SETTLE_MS		(2 * 1000)
#define DEF_INTERVAL_MS		0
#define DEF_RETRY_MIN_MS	(30 * 1000)
#define DEF_RETRY_MAX_MS	(30 * 60 * 1000)
#define DEF_GIVE_UP_MS		(6 * 3600 * 1000)
#define DEF_CONNECT_MS		(30 * 1000)
#define DEF_REPLY_MS		(5 * 60 * 1000)
#define DEF_MAX_SESSIONS	64
#define MAX_SESSIONS		4096

enum section {
	SECTION_NONE,		/* before the first header */
	SECTION_DAEMON,
	SECTION_RELAY,
	SECTION_SKIP,		/* a bad header: ignore its keys */
};

struct parse_error {
	unsigned	 line;
	unsigned	 seq;
	char		*msg;
};

struct parser;
struct conf_key;
typedef void	 conf_set_fn(struct parser *, const struct conf_key *,
		     const char *);

struct conf_key {
	const char	*name;
	conf_set_fn	*set;
	size_t		 off;		/* field: durations in conf, bools in relay */
	bool		 zero_ok;	/* a duration of 0 means "off" */
	unsigned	 flags;
};

#define KEY_QUEUES	0x01	/* "#word" is a value (a queue), no comment */
#define KEY_SECRET	0x02	/* names a secret the service must read */

enum daemon_key {
	DK_WATCH,
	DK_LINKUP,
	DK_SETTLE,
	DK_INTERVAL,
	DK_RUN_AT_START,
	DK_HELO,
	DK_RETRY_MIN,
	DK_RETRY_MAX,
	DK_GIVE_UP,
	DK_CONNECT_TIMEOUT,
	DK_REPLY_TIMEOUT,
	DK_MAX_SESSIONS,
	DK_LOCAL_SMTP,
	DK_CONTROL_SOCKET,
	DK_DOMAINS,
	DK_COUNT
};

enum relay_key {
	RK_HOST,
	RK_PORT,
	RK_DOMAINS,
	RK_COMMAND,
	RK_SOURCE,
	RK_TLS,
	RK_TLS_CA,
	RK_TLS_VERIFY,
	RK_AUTH_USER,
	RK_AUTH_PASSWORD_FILE,
	RK_AUTH_PASSWORD_CREDENTIAL,
	RK_AUTH_CLEARTEXT,
	RK_COUNT
};

struct parser {
	const char		*path;
	struct conf		*conf;
	unsigned		 line;
	unsigned		 flags;		/* CONF_NO_FILES */

	enum section		 section;
	struct conf_relay	*relay;		/* the current [relay] */
	unsigned		 daemon_line;	/* first [daemon], or 0 */
	unsigned		 daemon_seen[DK_COUNT];	/* line of each key */
	unsigned		 relay_seen[RK_COUNT];

	struct parse_error	*errors;
	size_t			 nerrors;

	char			*vis[2];	/* escaped values for messages */
	size_t			 nvis;
};

static conf_set_fn	conf_set_watch, conf_set_linkup, conf_set_duration,
			conf_set_run_at_start, conf_set_helo,
			conf_set_max_sessions, conf_set_local_smtp,
			conf_set_control_socket,
			conf_set_host, conf_set_port, conf_set_domains,
			conf_set_command, conf_set_source, conf_set_tls,
			conf_set_tls_ca, conf_set_relay_bool,
			conf_set_auth_user, conf_set_auth_password_file,
			conf_set_auth_password_credential;

/* Indexed by enum daemon_key and enum relay_key. */
static const struct conf_key daemon_keys[DK_COUNT] = {
	[DK_WATCH] = { "watch", conf_set_watch, 0, false, 0 },
	[DK_LINKUP] = { "link-up", conf_set_linkup, 0, false, 0 },
	[DK_SETTLE] = { "settle", conf_set_duration,
	    offsetof(struct conf, settle_ms), true, 0 },
	[DK_INTERVAL] = { "interval", conf_set_duration,
	    offsetof(struct conf, interval_ms), true, 0 },
	[DK_RUN_AT_START] = { "run-at-start", conf_set_run_at_start, 0, false,
	    0 },
	[DK_HELO] = { "helo", conf_set_helo, 0, false, 0 },
	[DK_RETRY_MIN] = { "retry-min", conf_set_duration,
	    offsetof(struct conf, retry_min_ms), false, 0 },
	[DK_RETRY_MAX] = { "retry-max", conf_set_duration,
	    offsetof(struct conf, retry_max_ms), false, 0 },
	[DK_GIVE_UP] = { "give-up", conf_set_duration,
	    offsetof(struct conf, give_up_ms), false, 0 },
	[DK_CONNECT_TIMEOUT] = { "connect-timeout", conf_set_duration,
	    offsetof(struct conf, connect_timeout_ms), false, 0 },
	[DK_REPLY_TIMEOUT] = { "reply-timeout", conf_set_duration,
	    offsetof(struct conf, reply_timeout_ms), false, 0 },
	[DK_MAX_SESSIONS] = { "max-sessions", conf_set_max_sessions, 0, false,
	    0 },
	[DK_LOCAL_SMTP] = { "local-smtp", conf_set_local_smtp, 0, false, 0 },
	[DK_CONTROL_SOCKET] = { "control-socket", conf_set_control_socket, 0,
	    false, 0 },
	[DK_DOMAINS] = { "domains", conf_set_domains, 0, false, KEY_QUEUES },
};

static const struct conf_key relay_keys[RK_COUNT] = {
	[RK_HOST] = { "host", conf_set_host, 0, false, 0 },
	[RK_PORT] = { "port", conf_set_port, 0, false, 0 },
	[RK_DOMAINS] = { "domains", conf_set_domains, 0, false, KEY_QUEUES },
	[RK_COMMAND] = { "command", conf_set_command, 0, false, 0 },
	[RK_SOURCE] = { "source", conf_set_source, 0, false, 0 },
	[RK_TLS] = { "tls", conf_set_tls, 0, false, 0 },
	[RK_TLS_CA] = { "tls-ca", conf_set_tls_ca, 0, false, 0 },
	[RK_TLS_VERIFY] = { "tls-verify", conf_set_relay_bool,
	    offsetof(struct conf_relay, tls_verify), false, 0 },
	[RK_AUTH_USER] = { "auth-user", conf_set_auth_user, 0, false, 0 },
	[RK_AUTH_PASSWORD_FILE] = { "auth-password-file",
	    conf_set_auth_password_file, 0, false, KEY_SECRET },
	[RK_AUTH_PASSWORD_CREDENTIAL] = { "auth-password-credential",
	    conf_set_auth_password_credential, 0, false, 0 },
	[RK_AUTH_CLEARTEXT] = { "auth-cleartext", conf_set_relay_bool,
	    offsetof(struct conf_relay, auth_cleartext), false, 0 },
};

static const char *const command_names[] = {
	[CONF_CMD_ETRN] = "ETRN",
	[CONF_CMD_QSND] = "QSND",
};

static const char *const tls_names[] = {
	[CONF_TLS_NO] = "no",
	[CONF_TLS_OPPORTUNISTIC] = "opportunistic",
	[CONF_TLS_REQUIRED] = "required",
};

static const char *const linkup_names[] = {
	[CONF_LINKUP_RUNNING] = "running",
	[CONF_LINKUP_ADDRESS] = "address",
};

/*
 * Escape s for an error message: control characters, quote and backslash
 * as C escapes, cut after CONF_VIS_MAX bytes.  Freed by conf_error().
 */
static const char *
conf_vis(struct parser *p, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t		 len = strlen(s), i;
	char		*out, *o;
	unsigned char	 c;

	if (p->nvis == nitems(p->vis))
		return "?";
	o = out = xcalloc(CONF_VIS_MAX * 4 + 4, 1);
	for (i = 0; i < len && i < CONF_VIS_MAX; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c == '\t') {
			*o++ = '\\';
			*o++ = 't';
		} else if (c == '\r') {
			*o++ = '\\';
			*o++ = 'r';
		} else if (c == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else if (c < 0x20 || c == 0x7f) {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 0xf];
		} else
			*o++ = (char)c;
	}
	if (i < len) {
		/* Do not end the cut in the middle of a UTF-8 sequence. */
		while (o > out && ((unsigned char)o[-1] & 0xc0) == 0x80)
			o--;
		if (o > out && ((unsigned char)o[-1] & 0xc0) == 0xc0)
			o--;
		memcpy(o, "...", 3);
	}
	p->vis[p->nvis++] = out;
	return out;
}

/* Record one error at a line (0 = the whole file). */
static void __attribute__((format(printf, 3, 4)))
conf_error(struct parser *p, unsigned line, const char *fmt, ...)
{
	struct parse_error	*e;
	va_list			 ap;
	char			*msg;
	size_t			 i;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	if (msg == NULL)
		msg = xstrdup("out of memory");

	p->errors = xreallocarray(p->errors, p->nerrors + 1,
	    sizeof *p->errors);
	e = &p->errors[p->nerrors];
	e->line = line;
	e->seq = (unsigned)p->nerrors;
	e->msg = msg;
	p->nerrors++;

	for (i = 0; i < p->nvis; i++) {
		free(p->vis[i]);
		p->vis[i] = NULL;
	}
	p->nvis = 0;
}

/* Errors in line order; file-wide ones (line 0) after the rest. */
static int
conf_error_cmp(const void *a, const void *b)
{
	const struct parse_error	*ea = a, *eb = b;
	unsigned			 la, lb;

	la = ea->line == 0 ? UINT32_MAX : ea->line;
	lb = eb->line == 0 ? UINT32_MAX : eb->line;
	if (la != lb)
		return la < lb ? -1 : 1;
	return ea->seq < eb->seq ? -1 : ea->seq > eb->seq;
}

/* Join the sorted errors into one "file:line: message\n" text. */
static char *
conf_error_text(struct parser *p)
{
	struct parse_error	*e;
	char			*text = NULL;
	size_t			 size = 0, i;
	FILE			*f;

	qsort(p->errors, p->nerrors, sizeof *p->errors, conf_error_cmp);
	if ((f = open_memstream(&text, &size)) == NULL)
		return xstrdup("out of memory\n");
	for (i = 0; i < p->nerrors; i++) {
		e = &p->errors[i];
		if (e->line == 0)
			fprintf(f, "%s: %s\n", p->path, e->msg);
		else
			fprintf(f, "%s:%u: %s\n", p->path, e->line, e->msg);
	}
	if (fclose(f) != 0 || text == NULL) {
		free(text);
		return xstrdup("out of memory\n");
	}
	return text;
}

static bool
conf_has_ctrl(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	}
	return false;
}

/* Split a value at spaces and tabs into a NULL-free array of copies. */
static char **
conf_split(const char *value, size_t *np)
{
	char	**v = NULL;
	size_t	  n = 0, len;

	for (;;) {
		value += strspn(value, CONF_WS);
		if (*value == '\0')
			break;
		len = strcspn(value, CONF_WS);
		v = xreallocarray(v, n + 1, sizeof *v);
		v[n] = xcalloc(1, len + 1);
		memcpy(v[n], value, len);
		n++;
		value += len;
	}
	*np = n;
	return v;
}

static void
conf_free_list(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A decimal number in [min, max], digits only; 0 or -1. */
static int
conf_parse_number(const char *s, unsigned long min, unsigned long max,
    unsigned long *out)
{
	unsigned long	n = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (unsigned long)(*s - '0');
		if (n > max)
			return -1;
	}
	if (n < min)
		return -1;
	*out = n;
	return 0;
}

static int
conf_parse_port(const char *s, uint16_t *port)
{
	unsigned long	n;

	if (conf_parse_number(s, 1, 65535, &n) == -1)
		return -1;
	*port = (uint16_t)n;
	return 0;
}

static bool
conf_is_ipv4(const char *s)
{
	struct in_addr	a;

	return inet_pton(AF_INET, s, &a) == 1;
}

static bool
conf_is_ipv6(const char *s)
{
	struct in6_addr	a;

	return inet_pton(AF_INET6, s, &a) == 1;
}

/* A DNS name or address literal to connect to; NULL or why not. */
static const char *
conf_host_check(const char *s)
{
	size_t	len = strlen(s), label = 0;
	bool	numeric = true;

	if (len == 0)
		return "is empty";
	if (len > CONF_DOMAIN_MAX)
		return "is longer than 255 bytes";
	if (strchr(s, ':') != NULL)
		return conf_is_ipv6(s) ? NULL : "is not a valid IPv6 address";
	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (label == 0)
				return "is not a valid host name";
			label = 0;
			continue;
		}
		if (++label > 63)
			return "has a label longer than 63 bytes";
		if (*s >= '0' && *s <= '9')
			continue;
		numeric = false;
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    *s == '-' || *s == '_')
			continue;
		return "is not a valid host name";
	}
	if (numeric && !conf_is_ipv4(s - len))
		return "is not a valid IPv4 address";
	return NULL;
}

static void
conf_set_watch(struct parser *p, const struct conf_key *k, const char *value)
{
	struct conf	 *conf = p->conf;
	char		**v;
	size_t		  n, i, j;
	bool		  bad = false;

	v = conf_split(value, &n);
	for (i = 0; i < n; i++) {
		if (strlen(v[i] + (v[i][0] == '!')) > CONF_IFNAME_MAX) {
			conf_error(p, p->line, "%s: interface name \"%s\" is "
			    "longer than %d bytes", k->name, conf_vis(p, v[i]),
			    CONF_IFNAME_MAX);
			bad = true;
		} else if (strcmp(v[i], "!") == 0) {
			conf_error(p, p->line, "%s: \"!\" needs an interface "
			    "name or glob to exclude", k->name);
			bad = true;
		} else if (strchr(v[i], '/') != NULL || conf_has_ctrl(v[i]) ||
		    strcmp(v[i], ".") == 0 || strcmp(v[i], "..") == 0) {
			conf_error(p, p->line, "%s: invalid interface name "
			    "\"%s\" (no \"/\" or control characters)", k->name,
			    conf_vis(p, v[i]));
			bad = true;
		} else {
			for (j = 0; j < i; j++) {
				if (strcmp(v[i], v[j]) == 0)
					break;
			}
			if (j < i) {
				conf_error(p, p->line, "%s: \"%s\" is listed "
				    "twice", k->name, conf_vis(p, v[i]));
				bad = true;
			}
		}
	}
	if (bad) {
		conf_free_list(v, n);
		return;
	}
	conf->watch = v;
	conf->nwatch = n;
}

static void
conf_set_linkup(struct parser *p, const struct conf_key *k, const char *value)
{
	size_t	i;

	for (i = 0; i < nitems(linkup_names); i++) {
		if (strcmp(value, linkup_names[i]) == 0) {
			p->conf->linkup = (enum conf_linkup)i;
			return;
		}
	}
	conf_error(p, p->line, "%s: invalid value \"%s\" (use running or "
	    "address)", k->name, conf_vis(p, value));
}

static void
conf_set_duration(struct parser *p, const struct conf_key *k,
    const char *value)
{
	uint64_t	ms;

	if (conf_parse_duration(value, &ms) == -1) {
		if (errno == ERANGE)
			conf_error(p, p->line, "%s: duration \"%s\" is too "
			    "long (at most %lluh)", k->name, conf_vis(p, value),
			    (unsigned long long)(CONF_DURATION_MAX / 3600000));
		else
			conf_error(p, p->line, "%s: invalid duration \"%s\" "
			    "(use a number with s, m, h or ms)", k->name,
			    conf_vis(p, value));
		return;
	}
	if (ms == 0 && !k->zero_ok) {
		conf_error(p, p->line, "%s: must be greater than 0", k->name);
		return;
	}
	memcpy((char *)p->conf + k->off, &ms, sizeof ms);
}

/* yes/true/on/1 or no/false/off/0 into *out. */
static void
conf_parse_bool(struct parser *p, const struct conf_key *k, const char *value,
    bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t	i;

	for (i = 0; i < nitems(yes); i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*out = true;
			return;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*out = false;
			return;
		}
	}
	conf_error(p, p->line, "%s: invalid value \"%s\" (use yes or no)",
	    k->name, conf_vis(p, value));
}

static void
conf_set_run_at_start(struct parser *p, const struct conf_key *k,
    const char *value)
{
	conf_parse_bool(p, k, value, &p->conf->run_at_start);
}

/* A yes/no key of a relay, stored at k->off in struct conf_relay. */
static void
conf_set_relay_bool(struct parser *p, const struct conf_key *k,
    const char *value)
{
	conf_parse_bool(p, k, value,
	    (bool *)(void *)((char *)p->relay + k->off));
}

static void
conf_set_helo(struct parser *p, const struct conf_key *k, const char *value)
{
	size_t	len = strlen(value);
	char	*inner;
	bool	ok;

	if (len > CONF_DOMAIN_MAX) {
		conf_error(p, p->line, "%s: \"%s\" is longer than %d bytes",
		    k->name, conf_vis(p, value), CONF_DOMAIN_MAX);
		return;
	}
	if (strpbrk(value, CONF_WS) != NULL || conf_has_ctrl(value)) {
		conf_error(p, p->line, "%s: invalid name \"%s\" (no spaces or "
		    "control characters)", k->name, conf_vis(p, value));
		return;
	}
	if (value[0] == '[') {
		/* RFC 5321 address literal: [192.0.2.1] or [IPv6:2001:db8::1]. */
		ok = len > 2 && value[len - 1] == ']';
		if (ok) {
			inner = xstrdup(value + 1);
			inner[len - 2] = '\0';
			if (strncasecmp(inner, "IPv6:", 5) == 0)
				ok = conf_is_ipv6(inner + 5);
			else
				ok = conf_is_ipv4(inner);
			free(inner);
		}
		if (!ok) {
			conf_error(p, p->line, "%s: invalid address literal "
			    "\"%s\" (use [192.0.2.1] or [IPv6:2001:db8::1])",
			    k->name, conf_vis(p, value));
			return;
		}
	}
	p->conf->helo = xstrdup(value);
}

static void
conf_set_max_sessions(struct parser *p, const struct conf_key *k,
    const char *value)
{
	unsigned long	n;

	if (conf_parse_number(value, 1, MAX_SESSIONS, &n) == -1) {
		conf_error(p, p->line, "%s: invalid value \"%s\" (use a number "
		    "from 1 to %d)", k->name, conf_vis(p, value), MAX_SESSIONS);
		return;
	}
	p->conf->max_sessions = (unsigned)n;
}

static void
conf_set_local_smtp(struct parser *p, const struct conf_key *k,
    const char *value)
{
	const char	*colon, *why;
	char		*host;
	uint16_t	 port;

	if (value[0] == '[') {
		colon = strchr(value, ']');
		if (colon == NULL || colon[1] != ':') {
			conf_error(p, p->line, "%s: invalid value \"%s\" (use "
			    "ADDRESS:PORT or [IPv6]:PORT)", k->name,
			    conf_vis(p, value));
			return;
		}
		host = xcalloc(1, (size_t)(colon - value));
		memcpy(host, value + 1, (size_t)(colon - value - 1));
		colon++;
		why = conf_is_ipv6(host) ? NULL : "is not a valid IPv6 address";
	} else {
		if ((colon = strrchr(value, ':')) == NULL) {
			conf_error(p, p->line, "%s: invalid value \"%s\" (use "
			    "ADDRESS:PORT or [IPv6]:PORT)", k->name,
			    conf_vis(p, value));
			return;
		}
		host = xcalloc(1, (size_t)(colon - value) + 1);
		memcpy(host, value, (size_t)(colon - value));
		if (strchr(host, ':') != NULL) {
			conf_error(p, p->line, "%s: put an IPv6 address in "
			    "brackets: \"[%s]:PORT\"", k->name,
			    conf_vis(p, host));
			free(host);
			return;
		}
		why = conf_host_check(host);
	}
	if (why != NULL) {
		conf_error(p, p->line, "%s: address \"%s\" %s", k->name,
		    conf_vis(p, host), why);
		free(host);
		return;
	}
	if (conf_parse_port(colon + 1, &port) == -1) {
		conf_error(p, p->line, "%s: invalid port \"%s\" (use a number "
		    "from 1 to 65535)", k->name, conf_vis(p, colon + 1));
		free(host);
		return;
	}
	p->conf->local_smtp_host = host;
	p->conf->local_smtp_port = port;
}

static void
conf_set_host(struct parser *p, const struct conf_key *k, const char *value)
{
	const char	*why;
	char		*host;
	size_t		 len = strlen(value);

	/* Accept "[2001:db8::1]" as written in URLs and ADDRESS:PORT. */
	if (len > 2 && value[0] == '[' && value[len - 1] == ']') {
		host = xstrdup(value + 1);
		host[len - 2] = '\0';
		why = conf_is_ipv6(host) ? NULL : "is not a valid IPv6 address";
	} else {
		host = xstrdup(value);
		why = conf_host_check(host);
	}
	if (why != NULL) {
		conf_error(p, p->line, "%s: \"%s\" %s", k->name,
		    conf_vis(p, value), why);
		free(host);
		return;
	}
	p->relay->host = host;
}

static void
conf_set_port(struct parser *p, const struct conf_key *k, const char *value)
{
	if (conf_parse_port(value, &p->relay->port) == -1)
		conf_error(p, p->line, "%s: invalid port \"%s\" (use a number "
		    "from 1 to 65535)", k->name, conf_vis(p, value));
}

/* A relay's domains, or in [daemon] the default for relays without. */
static void
conf_set_domains(struct parser *p, const struct conf_key *k,
    const char *value)
{
	const char		 *why;
	char			**v;
	size_t			  n, i, j;
	bool			  bad = false;

	v = conf_split(value, &n);
	for (i = 0; i < n; i++) {
		if ((why = conf_domain_check(v[i])) != NULL) {
			conf_error(p, p->line, "%s: \"%s\" %s", k->name,
			    conf_vis(p, v[i]), why);
			bad = true;
			continue;
		}
		for (j = 0; j < i; j++) {
			if (strcasecmp(v[i], v[j]) == 0)
				break;
		}
		if (j < i) {
			conf_error(p, p->line, "%s: \"%s\" is listed twice",
			    k->name, conf_vis(p, v[i]));
			bad = true;
		}
	}
	if (bad) {
		conf_free_list(v, n);
		return;
	}
	if (p->section == SECTION_RELAY) {
		p->relay->domains = v;
		p->relay->ndomains = n;
	} else {
		p->conf->domains = v;
		p->conf->ndomains = n;
	}
}

static void
conf_set_command(struct parser *p, const struct conf_key *k,
    const char *value)
{
	size_t	i;

	for (i = 0; i < nitems(command_names); i++) {
		if (strcasecmp(value, command_names[i]) == 0) {
			p->relay->command = (enum conf_command)i;
			return;
		}
	}
	conf_error(p, p->line, "%s: invalid value \"%s\" (use ETRN or QSND)",
	    k->name, conf_vis(p, value));
}

static void
conf_set_source(struct parser *p, const struct conf_key *k, const char *value)
{
	if (!conf_is_ipv4(value) && !conf_is_ipv6(value)) {
		conf_error(p, p->line, "%s: invalid address \"%s\" (use an "
		    "IPv4 or IPv6 address of this host)", k->name,
		    conf_vis(p, value));
		return;
	}
	p->relay->source = xstrdup(value);
}

/* Checks that need the whole [relay] section: run when it ends. */
static void
conf_set_tls(struct parser *p, const struct conf_key *k, const char *value)
{
	size_t	i;

	for (i = 0; i < nitems(tls_names); i++) {
		if (strcasecmp(value, tls_names[i]) == 0) {
			p->relay->tls = (enum conf_tls)i;
			return;
		}
	}
	conf_error(p, p->line, "%s: invalid value \"%s\" (use no, "
	    "opportunistic or required)", k->name, conf_vis(p, value));
}

/* A file etrnd must be able to read: checked now, not at the first run. */
static bool
conf_readable_file(struct parser *p, const struct conf_key *k,
    const char *path)
{
	struct stat	st;

	if (path[0] != '/') {
		conf_error(p, p->line, "%s: \"%s\" is not an absolute path",
		    k->name, conf_vis(p, path));
		return false;
	}
	/* A secret is never read through a symbolic link (see below). */
	if ((k->flags & KEY_SECRET) && lstat(path, &st) == 0 &&
	    S_ISLNK(st.st_mode)) {
		conf_error(p, p->line, "%s: %s is a symbolic link", k->name,
		    conf_vis(p, path));
		return false;
	}
	if (stat(path, &st) == -1 || access(path, R_OK) == -1) {
		if (errno == EACCES && (k->flags & KEY_SECRET))
			conf_error(p, p->line, "%s: %s: %s (etrnd runs as uid "
			    "%u; the shipped unit's dynamic user cannot read a "
			    "root-only file: use auth-password-credential)",
			    k->name, conf_vis(p, path), strerror(errno),
			    (unsigned)geteuid());
		else
			conf_error(p, p->line, "%s: %s: %s", k->name,
			    conf_vis(p, path), strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		conf_error(p, p->line, "%s: %s is not a regular file", k->name,
		    conf_vis(p, path));
		return false;
	}
	return true;
}

/*
 * The trust anchor that protects the password: refuse a bundle others could
 * swap, and read it now as STARTTLS will (PEM_X509_INFO_read_bio is what
 * SSL_CTX_load_verify_locations uses), so an empty or broken one is a
 * file:line error of -t and of a reload, not a failure at the first run.
 * Opened without blocking: a FIFO must not hang a reload.  The certificates
 * are not kept.
 */
static bool
conf_check_ca(struct parser *p, const struct conf_key *k, const char *path)
{
	STACK_OF(X509_INFO)	*infos = NULL;
	struct stat		 st;
	BIO			*bio = NULL;
	unsigned long		 err;
	int			 fd, i, ncerts = 0;
	bool			 ok = false;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1 || fstat(fd, &st) == -1) {
		conf_error(p, p->line, "%s: %s: %s", k->name,
		    conf_vis(p, path), strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		conf_error(p, p->line, "%s: %s is not a regular file", k->name,
		    conf_vis(p, path));
		goto done;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		conf_error(p, p->line, "%s: %s is writable by group or others "
		    "(mode %03o)", k->name, conf_vis(p, path),
		    (unsigned)(st.st_mode & 0777));
		goto done;
	}
	ERR_clear_error();
	if ((bio = BIO_new_fd(fd, BIO_NOCLOSE)) == NULL ||
	    (infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL)) == NULL) {
		err = ERR_peek_last_error();
		conf_error(p, p->line, "%s: %s is not a PEM bundle of "
		    "certificates (%s)", k->name, conf_vis(p, path),
		    ERR_reason_error_string(err) != NULL ?
		    ERR_reason_error_string(err) : "unreadable");
		goto done;
	}
	for (i = 0; i < sk_X509_INFO_num(infos); i++) {
		if (sk_X509_INFO_value(infos, i)->x509 != NULL)
			ncerts++;
	}
	if (ncerts == 0) {
		conf_error(p, p->line, "%s: %s holds no certificate (it must "
		    "be a PEM bundle of CA certificates)", k->name,
		    conf_vis(p, path));
		goto done;
	}
	ok = true;
done:
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	BIO_free(bio);
	ERR_clear_error();
	if (fd != -1)
		close(fd);
	return ok;
}

static void
conf_set_tls_ca(struct parser *p, const struct conf_key *k,
    const char *value)
{
	if (!(p->flags & CONF_NO_FILES) && (!conf_readable_file(p, k, value) ||
	    !conf_check_ca(p, k, value)))
		return;
	p->relay->tls_ca = xstrdup(value);
}

static void
conf_set_auth_user(struct parser *p, const struct conf_key *k,
    const char *value)
{
	if (strlen(value) > CONF_PASSWORD_MAX || conf_has_ctrl(value)) {
		conf_error(p, p->line, "%s: \"%s\" is longer than %d bytes or "
		    "has a control character", k->name, conf_vis(p, value),
		    CONF_PASSWORD_MAX);
		return;
	}
	p->relay->auth_user = xstrdup(value);
}

/*
 * Read a password: the first line of path, opened without blocking (a FIFO
 * swapped in after the check must not hang a reload) and without following
 * a symbolic link (whoever can replace the link chooses the secret we send;
 * systemd's credentials are regular files, so this holds there too).  With
 * strict, like ssh with its keys, a file that belongs to another user than
 * etrnd's (or root) or that group or others can use is refused; a systemd
 * credential is not checked so (systemd made it readable to us alone, on
 * some systems by an ACL that shows in the group bits).  read(2), not stdio,
 * so that no buffer but ours, wiped here, ever holds the secret.  Returns a
 * copy or NULL.
 */
static char *
conf_read_password(struct parser *p, const struct conf_key *k,
    const char *path, bool strict)
{
	struct stat	 st;
	char		 buf[CONF_PASSWORD_MAX + 2];
	char		*password = NULL;
	const char	*why = NULL;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY);
	if (fd == -1 || fstat(fd, &st) == -1) {
		if (errno == ELOOP && lstat(path, &st) == 0 &&
		    S_ISLNK(st.st_mode))
			conf_error(p, p->line, "%s: %s is a symbolic link",
			    k->name, conf_vis(p, path));
		else
			conf_error(p, p->line, "%s: %s: %s", k->name,
			    conf_vis(p, path), strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		conf_error(p, p->line, "%s: %s: not a regular file", k->name,
		    conf_vis(p, path));
		close(fd);
		return NULL;
	}
	if (strict && st.st_uid != geteuid() && st.st_uid != 0) {
		conf_error(p, p->line, "%s: %s belongs to uid %u, not to the "
		    "user etrnd runs as (uid %u) or root", k->name,
		    conf_vis(p, path), (unsigned)st.st_uid,
		    (unsigned)geteuid());
		close(fd);
		return NULL;
	}
	if (strict && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		conf_error(p, p->line, "%s: %s is accessible by group or others "
		    "(mode %03o; chmod 600 it)", k->name, conf_vis(p, path),
		    (unsigned)(st.st_mode & 0777));
		close(fd);
		return NULL;
	}
	/* Up to the first line end, or one byte past the longest password. */
	memset(buf, 0, sizeof(buf));
	while (len < sizeof(buf) - 1 &&
	    memchr(buf, '\n', len) == NULL) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			why = strerror(errno);
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (why == NULL) {
		for (n = 0; (size_t)n < len && buf[n] != '\r' &&
		    buf[n] != '\n'; n++)
			;
		if (memchr(buf, '\0', (size_t)n) != NULL)
			why = "the first line (the password) contains a NUL "
			    "byte";
		else if (n == 0)
			why = "the first line (the password) is empty";
		else if (n > CONF_PASSWORD_MAX)
			why = "the password is longer than 256 bytes";
		else {
			buf[n] = '\0';
			password = xstrdup(buf);
		}
	}
	if (why != NULL)
		conf_error(p, p->line, "%s: %s: %s", k->name, conf_vis(p, path),
		    why);
	explicit_bzero(buf, sizeof(buf));
	return password;
}

/* Wipe and free a password; NULL is a no-op. */
static void
conf_password_free(char *password)
{
	if (password == NULL)
		return;
	explicit_bzero(password, strlen(password));
	free(password);
}

/*
 * Keep the password just read.  With both auth-password-file and -credential
 * (an error at the end of the section) the second replaces the first, which
 * is wiped, not leaked.
 */
static void
conf_relay_set_password(struct conf_relay *r, char *password)
{
	conf_password_free(r->auth_password);
	r->auth_password = password;
}

static void
conf_set_auth_password_file(struct parser *p, const struct conf_key *k,
    const char *value)
{
	char	*password;

	if (p->flags & CONF_NO_FILES) {
		p->relay->auth_password_file = xstrdup(value);
		return;
	}
	if (!conf_readable_file(p, k, value))
		return;
	if ((password = conf_read_password(p, k, value, true)) != NULL) {
		conf_relay_set_password(p->relay, password);
		p->relay->auth_password_file = xstrdup(value);
	}
}

/*
 * A systemd credential (LoadCredential=NAME:FILE in the unit): the one way a
 * DynamicUser service reads a secret that root keeps 0600.  Outside the
 * service there is no $CREDENTIALS_DIRECTORY: "etrnd -t" says so in its
 * summary, and the daemon refuses to start.
 */
static void
conf_set_auth_password_credential(struct parser *p, const struct conf_key *k,
    const char *value)
{
	const char	*dir;
	char		*path;
	size_t		 len;

	if (strchr(value, '/') != NULL || strcmp(value, ".") == 0 ||
	    strcmp(value, "..") == 0 || conf_has_ctrl(value) ||
	    strpbrk(value, CONF_WS) != NULL || strlen(value) > 255) {
		conf_error(p, p->line, "%s: \"%s\" is not a credential name "
		    "(a file name: no \"/\", spaces or control characters)",
		    k->name, conf_vis(p, value));
		return;
	}
	p->relay->auth_password_credential = xstrdup(value);
	if (p->flags & CONF_NO_FILES)
		return;
	dir = getenv("CREDENTIALS_DIRECTORY");
	if (dir == NULL || *dir != '/') {
		if (!(p->flags & CONF_CHECK_ONLY))
			conf_error(p, p->line, "%s: no systemd credentials here "
			    "($CREDENTIALS_DIRECTORY is not set): run etrnd "
			    "from its unit with LoadCredential=%s:FILE, or use "
			    "auth-password-file", k->name, conf_vis(p, value));
		return;
	}
	len = strlen(dir) + strlen(value) + 2;
	path = xcalloc(1, len);
	snprintf(path, len, "%s/%s", dir, value);
	conf_relay_set_password(p->relay, conf_read_password(p, k, path,
	    false));
	free(path);
}

static void
conf_end_section(struct parser *p)
{
	struct conf_relay	*r = p->relay;
	const char		*why;

	if (p->section != SECTION_RELAY)
		return;
	/* Invalid domains were reported: keep conf_end from adding more. */
	if (p->relay_seen[RK_DOMAINS] != 0 && r->domains == NULL)
		r->domains = xcalloc(1, sizeof *r->domains);
	if (p->relay_seen[RK_AUTH_PASSWORD_FILE] != 0 &&
	    p->relay_seen[RK_AUTH_PASSWORD_CREDENTIAL] != 0)
		conf_error(p, p->relay_seen[RK_AUTH_PASSWORD_CREDENTIAL],
		    "relay \"%s\": auth-password-file and "
		    "auth-password-credential: choose one",
		    conf_vis(p, r->name));
	else if ((p->relay_seen[RK_AUTH_USER] != 0) !=
	    (p->relay_seen[RK_AUTH_PASSWORD_FILE] != 0 ||
	    p->relay_seen[RK_AUTH_PASSWORD_CREDENTIAL] != 0))
		conf_error(p, r->line, "relay \"%s\": auth-user goes with "
		    "auth-password-file or auth-password-credential",
		    conf_vis(p, r->name));
	else if (r->auth_user != NULL && r->tls == CONF_TLS_NO &&
	    !r->auth_cleartext)
		conf_error(p, p->relay_seen[RK_AUTH_USER], "relay \"%s\": "
		    "AUTH needs TLS: set tls to opportunistic or required, "
		    "or auth-cleartext = yes", conf_vis(p, r->name));
	else if (r->auth_user != NULL && r->auth_password != NULL &&
	    strlen(r->auth_user) + strlen(r->auth_password) >
	    CONF_AUTH_PLAIN_MAX)
		conf_error(p, p->relay_seen[RK_AUTH_PASSWORD_FILE] != 0 ?
		    p->relay_seen[RK_AUTH_PASSWORD_FILE] :
		    p->relay_seen[RK_AUTH_PASSWORD_CREDENTIAL], "relay \"%s\": "
		    "auth-user and the password have %zu bytes together, more "
		    "than the %d that fit one AUTH PLAIN command", conf_vis(p,
		    r->name), strlen(r->auth_user) + strlen(r->auth_password),
		    CONF_AUTH_PLAIN_MAX);
	if (p->relay_seen[RK_HOST] == 0 && r->host == NULL) {
		if ((why = conf_host_check(r->name)) != NULL)
			conf_error(p, r->line, "relay \"%s\" has no host and "
			    "its name %s", conf_vis(p, r->name), why);
		else
			r->host = xstrdup(r->name);
	}
	p->relay = NULL;
}

/* "[relay NAME]": check the name and start a new relay. */
static void
conf_relay_header(struct parser *p, const char *name)
{
	struct conf		*conf = p->conf;
	struct conf_relay	*r;
	size_t			 i;

	p->section = SECTION_SKIP;
	if (*name == '\0') {
		conf_error(p, p->line, "relay without a name (use [relay "
		    "NAME])");
		return;
	}
	if (strlen(name) > CONF_DOMAIN_MAX) {
		conf_error(p, p->line, "relay name \"%s\" is longer than %d "
		    "bytes", conf_vis(p, name), CONF_DOMAIN_MAX);
		return;
	}
	if (strpbrk(name, CONF_WS) != NULL || conf_has_ctrl(name)) {
		conf_error(p, p->line, "invalid relay name \"%s\" (no spaces "
		    "or control characters)", conf_vis(p, name));
		return;
	}
	for (i = 0; i < conf->nrelays; i++) {
		if (strcmp(conf->relays[i].name, name) == 0) {
			conf_error(p, p->line, "duplicate relay \"%s\" (first "
			    "defined at line %u)", conf_vis(p, name),
			    conf->relays[i].line);
			break;
		}
	}

	/* A duplicate is kept, so that its keys are checked too. */
	conf->relays = xreallocarray(conf->relays, conf->nrelays + 1,
	    sizeof *conf->relays);
	r = &conf->relays[conf->nrelays++];
	memset(r, 0, sizeof *r);
	r->name = xstrdup(name);
	r->port = 25;
	r->command = CONF_CMD_ETRN;
	r->tls = CONF_TLS_OPPORTUNISTIC;
	r->tls_verify = true;
	r->line = p->line;

	p->relay = r;
	p->section = SECTION_RELAY;
	memset(p->relay_seen, 0, sizeof p->relay_seen);
}

/*
 * Where a comment starts inside a value, or NULL.  Comments are whole lines
 * only, so "domains = example.org ; ours" would send "ETRN ;" and "ETRN
 * ours": a word that is "#" or ";" alone, or starts with ";", is a comment,
 * and so is a word starting with "#" except in domains, where "#queue" is a
 * queue name.  The first word counts too ("watch = # none").
 */
static const char *
conf_comment(const char *value, bool queues)
{
	const char	*w = value;

	for (;;) {
		w += strspn(w, CONF_WS);
		if (*w == '\0')
			return NULL;
		if (*w == ';' || (*w == '#' && (!queues || w[1] == '\0' ||
		    strchr(CONF_WS, w[1]) != NULL)))
			return w;
		w += strcspn(w, CONF_WS);
	}
}

/* A line starting with "[": trailing whitespace is already gone. */
static void
conf_header(struct parser *p, char *line)
{
	size_t	 len = strlen(line);
	char	*name;

	conf_end_section(p);
	p->section = SECTION_SKIP;

	if (len < 2 || line[len - 1] != ']') {
		if ((name = strchr(line, ']')) != NULL &&
		    conf_comment(name + 1, false) == name + 1 +
		    strspn(name + 1, CONF_WS))
			conf_error(p, p->line, "comments must be on a line of "
			    "their own (\"%s\")", conf_vis(p, name + 1 +
			    strspn(name + 1, CONF_WS)));
		else
			conf_error(p, p->line, "malformed section header (use "
			    "[daemon] or [relay NAME])");
		return;
	}
	line[len - 1] = '\0';
	name = line + 1;
	name += strspn(name, CONF_WS);
	len = strlen(name);
	while (len > 0 && strchr(CONF_WS, name[len - 1]) != NULL)
		name[--len] = '\0';

	if (strcmp(name, "daemon") == 0) {
		if (p->daemon_line != 0)
			conf_error(p, p->line, "duplicate [daemon] section "
			    "(first at line %u)", p->daemon_line);
		else
			p->daemon_line = p->line;
		/* Keys repeated across both are reported as duplicates. */
		p->section = SECTION_DAEMON;
	} else if (strncmp(name, "relay", 5) == 0 &&
	    (name[5] == '\0' || strchr(CONF_WS, name[5]) != NULL))
		conf_relay_header(p, name + 5 + strspn(name + 5, CONF_WS));
	else
		conf_error(p, p->line, "unknown section \"%s\" (use [daemon] "
		    "or [relay NAME])", conf_vis(p, name));
}

/* "key = value" in the current section. */
static void
conf_keyvalue(struct parser *p, char *line, char *eq)
{
	const struct conf_key	*keys;
	unsigned		*seen;
	size_t			 nkeys, i, len;
	char			*key = line, *value = eq + 1;
	const char		*comment;
	char			 where[CONF_DOMAIN_MAX + 16];

	*eq = '\0';
	len = strlen(key);
	while (len > 0 && strchr(CONF_WS, key[len - 1]) != NULL)
		key[--len] = '\0';
	value += strspn(value, CONF_WS);

	if (*key == '\0') {
		conf_error(p, p->line, "missing key before \"=\"");
		return;
	}
	switch (p->section) {
	case SECTION_NONE:
		conf_error(p, p->line, "key \"%s\" outside any section",
		    conf_vis(p, key));
		return;
	case SECTION_SKIP:
		return;
	case SECTION_DAEMON:
		keys = daemon_keys;
		nkeys = nitems(daemon_keys);
		seen = p->daemon_seen;
		snprintf(where, sizeof where, "[daemon]");
		break;
	case SECTION_RELAY:
		keys = relay_keys;
		nkeys = nitems(relay_keys);
		seen = p->relay_seen;
		snprintf(where, sizeof where, "[relay %s]", p->relay->name);
		break;
	default:
		return;
	}

	for (i = 0; i < nkeys; i++) {
		if (strcmp(key, keys[i].name) == 0)
			break;
	}
	if (i == nkeys) {
		conf_error(p, p->line, "unknown key \"%s\" in %s",
		    conf_vis(p, key), where);
		return;
	}
	if (seen[i] != 0) {
		conf_error(p, p->line, "duplicate key \"%s\" in %s (first at "
		    "line %u)", keys[i].name, where, seen[i]);
		return;
	}
	seen[i] = p->line;
	if (*value == '\0') {
		conf_error(p, p->line, "%s: empty value", keys[i].name);
		return;
	}
	if ((comment = conf_comment(value,
	    (keys[i].flags & KEY_QUEUES) != 0)) != NULL) {
		conf_error(p, p->line, "%s: comments must be on a line of their "
		    "own (\"%s\")", keys[i].name, conf_vis(p, comment));
		return;
	}
	keys[i].set(p, &keys[i], value);
}

/* One line without its end of line; NUL-free. */
static void
conf_line(struct parser *p, char *line)
{
	size_t	 len;
	char	*eq;

	line += strspn(line, CONF_WS);
	len = strlen(line);
	while (len > 0 && strchr(CONF_WS, line[len - 1]) != NULL)
		line[--len] = '\0';

	if (*line == '\0' || *line == '#' || *line == ';')
		return;
	if (*line == '[') {
		conf_header(p, line);
		return;
	}
	if ((eq = strchr(line, '=')) == NULL) {
		conf_error(p, p->line, "malformed line (use key = value, "
		    "[section] or a # comment)");
		return;
	}
	conf_keyvalue(p, line, eq);
}

/* Checks across keys and sections, once the whole file is read. */
static void
conf_end(struct parser *p)
{
	struct conf		*conf = p->conf;
	struct conf_relay	*r;
	char			 a[32], b[32];
	size_t			 i, j;

	conf_end_section(p);
	if (conf->retry_min_ms > conf->retry_max_ms) {
		fmt_duration(conf->retry_min_ms, a, sizeof a);
		fmt_duration(conf->retry_max_ms, b, sizeof b);
		if (p->daemon_seen[DK_RETRY_MAX] != 0)
			conf_error(p, p->daemon_seen[DK_RETRY_MAX], "retry-max: "
			    "%s is less than retry-min (%s%s)", b,
			    p->daemon_seen[DK_RETRY_MIN] != 0 ? "" : "default ",
			    a);
		else
			conf_error(p, p->daemon_seen[DK_RETRY_MIN], "retry-min: "
			    "%s is greater than retry-max (default %s)", a, b);
	}
	/* [daemon] may come after the relays that use its domains. */
	for (i = 0; i < conf->nrelays; i++) {
		r = &conf->relays[i];
		if (r->ndomains > 0 || r->domains != NULL)
			continue;
		if (conf->ndomains == 0) {
			if (p->daemon_seen[DK_DOMAINS] == 0)
				conf_error(p, r->line, "relay \"%s\" has no "
				    "domains (set domains here, or in [daemon] "
				    "for every relay)", conf_vis(p, r->name));
			continue;
		}
		r->domains = xreallocarray(NULL, conf->ndomains,
		    sizeof *r->domains);
		for (j = 0; j < conf->ndomains; j++)
			r->domains[j] = xstrdup(conf->domains[j]);
		r->ndomains = conf->ndomains;
		r->domains_from_daemon = true;
	}
}

static struct conf *
conf_new(const char *path)
{
	struct conf	*conf;

	conf = xcalloc(1, sizeof *conf);
	conf->path = xstrdup(path);
	conf->linkup = CONF_LINKUP_RUNNING;
	conf->settle_ms = DEF_SETTLE_MS;
	conf->interval_ms = DEF_INTERVAL_MS;
	conf->run_at_start = true;
	conf->retry_min_ms = DEF_RETRY_MIN_MS;
	conf->retry_max_ms = DEF_RETRY_MAX_MS;
	conf->give_up_ms = DEF_GIVE_UP_MS;
	conf->connect_timeout_ms = DEF_CONNECT_MS;
	conf->reply_timeout_ms = DEF_REPLY_MS;
	conf->max_sessions = DEF_MAX_SESSIONS;
	conf->control_socket = xstrdup(CONF_CONTROL_SOCKET);
	return conf;
}

/* An absolute path that fits a sockaddr_un. */
static void
conf_set_control_socket(struct parser *p, const struct conf_key *k,
    const char *value)
{
	struct sockaddr_un	sun;

	if (value[0] != '/' || conf_has_ctrl(value) ||
	    strpbrk(value, CONF_WS) != NULL) {
		conf_error(p, p->line, "%s: \"%s\" is not an absolute path",
		    k->name, conf_vis(p, value));
		return;
	}
	if (strlen(value) >= sizeof(sun.sun_path)) {
		conf_error(p, p->line, "%s: \"%s\" is longer than %zu bytes",
		    k->name, conf_vis(p, value), sizeof(sun.sun_path) - 1);
		return;
	}
	free(p->conf->control_socket);
	p->conf->control_socket = xstrdup(value);
}

struct conf *
conf_parse(const char *path, const char *text, size_t len, char **errors)
{
	return conf_parse_flags(path, text, len, 0, errors);
}

/* Split the text into lines and feed them to conf_line(). */
struct conf *
conf_parse_flags(const char *path, const char *text, size_t len,
    unsigned flags, char **errors)
{
	struct parser	 p;
	const char	*cur = text, *end = text + len, *start, *nl;
	char		*line = NULL;
	size_t		 linelen, i;

	memset(&p, 0, sizeof p);
	p.path = path;
	p.flags = flags;
	p.conf = conf_new(path);
	p.section = SECTION_NONE;

	if (len > CONF_FILE_MAX) {
		conf_error(&p, 0, "larger than 1 MiB");
		goto done;
	}
	if (len >= 3 && memcmp(cur, "\xef\xbb\xbf", 3) == 0)
		cur += 3;
	while (cur < end) {
		p.line++;
		start = cur;
		if ((nl = memchr(cur, '\n', (size_t)(end - cur))) == NULL)
			nl = end;
		linelen = (size_t)(nl - start);
		cur = nl < end ? nl + 1 : end;

		if (memchr(start, '\0', linelen) != NULL) {
			conf_error(&p, p.line, "contains a NUL byte");
			continue;
		}
		if (linelen > 0 && start[linelen - 1] == '\r')
			linelen--;
		free(line);
		line = xcalloc(1, linelen + 1);
		memcpy(line, start, linelen);
		conf_line(&p, line);
	}
	conf_end(&p);
done:
	free(line);
	for (i = 0; i < p.nvis; i++)
		free(p.vis[i]);
	if (p.nerrors > 0) {
		if (errors != NULL)
			*errors = conf_error_text(&p);
		for (i = 0; i < p.nerrors; i++)
			free(p.errors[i].msg);
		free(p.errors);
		conf_free(p.conf);
		return NULL;
	}
	if (errors != NULL)
		*errors = NULL;
	return p.conf;
}

struct conf *
conf_load(const char *path, char **errors)
{
	return conf_load_flags(path, 0, errors);
}

/*
 * Read the file with read(2) after an fstat: opened without blocking, so a
 * FIFO or a device given as the configuration is refused at once instead of
 * hanging -t, the start or a reload.
 */
struct conf *
conf_load_flags(const char *path, unsigned flags, char **errors)
{
	struct conf	*conf;
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0, size = 0;
	ssize_t		 n;
	int		 fd, saved;
	const char	*why = NULL;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1 || fstat(fd, &st) == -1)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		why = "not a regular file";
		errno = EINVAL;
		goto fail;
	}
	for (;;) {
		/* Read one byte past the cap so that conf_parse sees it. */
		if (len == size) {
			if (size > CONF_FILE_MAX)
				break;
			size = size == 0 ? 8192 : size * 2;
			if (size > CONF_FILE_MAX + 1)
				size = CONF_FILE_MAX + 1;
			buf = xreallocarray(buf, size, 1);
		}
		n = read(fd, buf + len, size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	conf = conf_parse_flags(path, buf == NULL ? "" : buf, len, flags,
	    errors);
	free(buf);
	return conf;

fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	free(buf);
	if (errors != NULL && asprintf(errors, "%s: %s\n", path,
	    why != NULL ? why : strerror(saved)) == -1)
		*errors = xstrdup("out of memory\n");
	errno = saved;
	return NULL;
}

static void
conf_relay_deinit(struct conf_relay *r)
{
	free(r->name);
	free(r->host);
	conf_free_list(r->domains, r->ndomains);
	free(r->source);
	free(r->tls_ca);
	free(r->auth_user);
	free(r->auth_password_file);
	free(r->auth_password_credential);
	conf_password_free(r->auth_password);
}

void
conf_free(struct conf *conf)
{
	size_t	i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->nrelays; i++)
		conf_relay_deinit(&conf->relays[i]);
	free(conf->relays);
	conf_free_list(conf->watch, conf->nwatch);
	conf_free_list(conf->domains, conf->ndomains);
	free(conf->helo);
	free(conf->local_smtp_host);
	free(conf->control_socket);
	free(conf->path);
	free(conf);
}

static bool
conf_str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Domains are compared as sets: reordering the list keeps the relay. */
bool
conf_relay_equal(const struct conf_relay *a, const struct conf_relay *b)
{
	size_t	i, j;

	if (!conf_str_equal(a->host, b->host) || a->port != b->port ||
	    !conf_str_equal(a->source, b->source) || a->command != b->command ||
	    a->ndomains != b->ndomains || a->tls != b->tls ||
	    a->tls_verify != b->tls_verify ||
	    !conf_str_equal(a->tls_ca, b->tls_ca) ||
	    !conf_str_equal(a->auth_user, b->auth_user) ||
	    !conf_str_equal(a->auth_password, b->auth_password) ||
	    !conf_str_equal(a->auth_password_credential,
	    b->auth_password_credential) ||
	    a->auth_cleartext != b->auth_cleartext)
		return false;
	for (i = 0; i < a->ndomains; i++) {
		for (j = 0; j < b->ndomains; j++) {
			if (strcasecmp(a->domains[i], b->domains[j]) == 0)
				break;
		}
		if (j == b->ndomains)
			return false;
	}
	return true;
}

const struct conf_relay *
conf_relay_find(const struct conf *conf, const char *name)
{
	size_t	i;

	for (i = 0; i < conf->nrelays; i++) {
		if (strcmp(conf->relays[i].name, name) == 0)
			return &conf->relays[i];
	}
	return NULL;
}

/* One or more NUMBER UNIT groups ("1h30m"); a lone number is seconds. */
int
conf_parse_duration(const char *s, uint64_t *ms)
{
	uint64_t	total = 0, n, unit;
	bool		range = false, first = true;

	if (*s == '\0')
		goto invalid;
	while (*s != '\0') {
		if (*s < '0' || *s > '9')
			goto invalid;
		for (n = 0; *s >= '0' && *s <= '9'; s++) {
			if (n > (UINT64_MAX - 9) / 10)
				range = true;
			else
				n = n * 10 + (uint64_t)(*s - '0');
		}
		if (s[0] == 'm' && s[1] == 's') {
			unit = 1;
			s += 2;
		} else if (*s == 's') {
			unit = 1000;
			s++;
		} else if (*s == 'm') {
			unit = 60 * 1000;
			s++;
		} else if (*s == 'h') {
			unit = 3600 * 1000;
			s++;
		} else if (*s == '\0' && first)
			unit = 1000;
		else
			goto invalid;
		first = false;
		if (n > CONF_DURATION_MAX / unit ||
		    total + n * unit > CONF_DURATION_MAX)
			range = true;
		else
			total += n * unit;
	}
	if (range) {
		errno = ERANGE;
		return -1;
	}
	*ms = total;
	return 0;

invalid:
	errno = EINVAL;
	return -1;
}

/* "[192.0.2.1]" or "[IPv6:2001:db8::1]" (RFC 5321 address literals). */
static bool
conf_is_literal(const char *s)
{
	char	buf[CONF_DOMAIN_MAX + 1];
	size_t	len = strlen(s);

	if (len < 3 || s[0] != '[' || s[len - 1] != ']' || len > sizeof buf)
		return false;
	memcpy(buf, s + 1, len - 2);
	buf[len - 2] = '\0';
	if (strncasecmp(buf, "IPv6:", 5) == 0)
		return conf_is_ipv6(buf + 5);
	return conf_is_ipv4(buf);
}

/*
 * A domain name as ETRN takes it: LDH labels of 1 to 63 bytes separated by
 * single dots (RFC 1035, 5321), or an address literal.  A server answers a
 * malformed one with 501, and etrnd would then give it up until the next
 * link-up: better said here, with what is wrong.  The message is static,
 * or in a buffer valid until the next call.
 */
static const char *
conf_name_check(const char *s)
{
	static char	 msg[96];
	const char	*p, *label = s;

	if (*s == '[')
		return conf_is_literal(s) ? NULL : "is not a valid address "
		    "literal (write [192.0.2.1] or [IPv6:2001:db8::1])";
	if (conf_is_ipv4(s) || conf_is_ipv6(s))
		return "is an IP address: write it as an address literal, "
		    "[192.0.2.1] or [IPv6:2001:db8::1]";
	if (*s == '.')
		return "starts with a dot";
	for (p = s;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label)
				return *p == '\0' ? "ends with a dot" :
				    "has an empty label (\"..\")";
			if (p - label > 63)
				return "has a label longer than 63 bytes";
			if (*label == '-' || p[-1] == '-')
				return "has a label that starts or ends with "
				    "\"-\"";
			if (*p == '\0')
				return NULL;
			label = p + 1;
			continue;
		}
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-')
			continue;
		if ((unsigned char)*p >= 0x80)
			return "is not ASCII: write an internationalised "
			    "name as its A-label (xn--...)";
		snprintf(msg, sizeof msg, "contains \"%c\": a domain name "
		    "has only letters, digits, \"-\" and \".\"", *p);
		return msg;
	}
}

const char *
conf_domain_check(const char *arg)
{
	const char	*s;

	if (*arg == '\0')
		return "is empty";
	if (strlen(arg) > CONF_DOMAIN_MAX)
		return "is longer than 255 bytes";
	for (s = arg; *s != '\0'; s++) {
		if (*s == ' ')
			return "contains a space";
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return "contains a control character";
	}
	if ((arg[0] == '@' || arg[0] == '#') && arg[1] == '\0')
		return arg[0] == '@' ? "needs a domain after \"@\"" :
		    "needs a queue name after \"#\"";
	/* A queue name is the server's business: any printable word. */
	if (arg[0] == '#')
		return NULL;
	return conf_name_check(arg[0] == '@' ? arg + 1 : arg);
}

/* "[2001:db8::1]:25" or "host:25". */
static void
conf_print_hostport(FILE *f, const char *host, uint16_t port)
{
	if (strchr(host, ':') != NULL)
		fprintf(f, "[%s]:%u\n", host, port);
	else
		fprintf(f, "%s:%u\n", host, port);
}

void
conf_print_summary(const struct conf *conf, FILE *f)
{
	const struct conf_relay	*r;
	char			 a[32], b[32], c[32];
	size_t			 i, j;

	fprintf(f, "%s: OK\n", conf->path);
	fprintf(f, "  watch            ");
	for (i = 0; i < conf->nwatch; i++)
		fprintf(f, "%s%s", i > 0 ? " " : "", conf->watch[i]);
	for (i = 0; i < conf->nwatch && conf->watch[i][0] == '!'; i++)
		continue;
	if (i == conf->nwatch) {
		/* No positive entry: the default set, shown in full. */
		fprintf(f, "%sall but loopback and guests' links (",
		    conf->nwatch > 0 ? ", " : "");
		for (i = 0; watch_default_exclude[i] != NULL; i++)
			fprintf(f, "%s%s", i > 0 ? " " : "",
			    watch_default_exclude[i]);
		fprintf(f, ")");
	}
	fprintf(f, "\n");
	fprintf(f, "  link-up          %s\n", linkup_names[conf->linkup]);
	fprintf(f, "  settle           %s\n",
	    fmt_duration(conf->settle_ms, a, sizeof a));
	if (conf->interval_ms == 0)
		fprintf(f, "  interval         off\n");
	else
		fprintf(f, "  interval         every %s\n",
		    fmt_duration(conf->interval_ms, a, sizeof a));
	fprintf(f, "  run-at-start     %s\n", conf->run_at_start ? "yes" : "no");
	fprintf(f, "  retry            %s to %s, give up after %s\n",
	    fmt_duration(conf->retry_min_ms, a, sizeof a),
	    fmt_duration(conf->retry_max_ms, b, sizeof b),
	    fmt_duration(conf->give_up_ms, c, sizeof c));
	fprintf(f, "  timeouts         connect %s, reply %s\n",
	    fmt_duration(conf->connect_timeout_ms, a, sizeof a),
	    fmt_duration(conf->reply_timeout_ms, b, sizeof b));
	fprintf(f, "  max-sessions     %u\n", conf->max_sessions);
	fprintf(f, "  helo             %s\n",
	    conf->helo != NULL ? conf->helo : "(this host's FQDN)");
	fprintf(f, "  local-smtp       ");
	if (conf->local_smtp_host == NULL)
		fprintf(f, "off\n");
	else
		conf_print_hostport(f, conf->local_smtp_host,
		    conf->local_smtp_port);
	fprintf(f, "  control-socket   %s\n", conf->control_socket);

	for (i = 0; i < conf->nrelays; i++) {
		r = &conf->relays[i];
		fprintf(f, "relay %s\n", r->name);
		fprintf(f, "  host             ");
		conf_print_hostport(f, r->host, r->port);
		fprintf(f, "  command          %s\n", command_names[r->command]);
		fprintf(f, "  source           %s\n",
		    r->source != NULL ? r->source : "(any)");
		if (r->tls != CONF_TLS_OPPORTUNISTIC || r->tls_ca != NULL ||
		    !r->tls_verify)
			fprintf(f, "  tls              %s%s%s%s\n",
			    tls_names[r->tls], r->tls_ca != NULL ? ", ca " : "",
			    r->tls_ca != NULL ? r->tls_ca : "",
			    r->tls_verify ? "" : ", certificate NOT verified");
		if (r->auth_password_file != NULL)
			fprintf(f, "  auth             %s (password from %s)%s\n",
			    r->auth_user, r->auth_password_file,
			    r->auth_cleartext ? ", also without TLS" : "");
		else if (r->auth_password_credential != NULL)
			fprintf(f, "  auth             %s (password from systemd "
			    "credential %s%s)%s\n", r->auth_user,
			    r->auth_password_credential,
			    r->auth_password != NULL ? "" : ", not readable "
			    "here: no $CREDENTIALS_DIRECTORY outside the "
			    "service", r->auth_cleartext ?
			    ", also without TLS" : "");
		fprintf(f, "  domains         ");
		for (j = 0; j < r->ndomains; j++)
			fprintf(f, " %s", r->domains[j]);
		fprintf(f, "%s\n", r->domains_from_daemon ?
		    " (from [daemon])" : "");
	}
}
