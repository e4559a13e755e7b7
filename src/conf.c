/* SPDX-License-Identifier: ISC */
/*
 * conf: the schema of /etc/etrnd.conf: [daemon] and [relay NAME], their
 * keys, what each accepts, and the checks across keys and sections.  ini.c
 * reads the lines and keeps the errors; this file says what they mean, in
 * two steps: conf_schema() turns the text into a struct conf without
 * touching any file, then conf_read_files() checks the files it names
 * (tls-ca) and reads the secrets (passwords).  Nothing here logs.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
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
#include "ini.h"
#include "util.h"
#include "watch.h"

#define CONF_IFNAME_MAX	15		/* IFNAMSIZ - 1 */
#define CONF_WS		" \t"

#define DEF_SETTLE_MS		0
#define DEF_HOLDDOWN_MS		(2 * 1000)
#define DEF_INTERVAL_MS		0
#define DEF_RETRY_MIN_MS	(30 * 1000)
#define DEF_RETRY_MAX_MS	(30 * 60 * 1000)
#define DEF_GIVE_UP_MS		(6 * 3600 * 1000)
#define DEF_CONNECT_MS		(30 * 1000)
#define DEF_REPLY_MS		(5 * 60 * 1000)
#define DEF_MAX_SESSIONS	64
#define MAX_SESSIONS		4096

/* The enum setter stores an int: every enum of the schema is one. */
_Static_assert(sizeof(enum conf_linkup) == sizeof(int), "enum size");
_Static_assert(sizeof(enum conf_tls) == sizeof(int), "enum size");
_Static_assert(sizeof(enum conf_command) == sizeof(int), "enum size");

enum section {
	SECTION_NONE,		/* before the first header, or a refused one */
	SECTION_DAEMON,
	SECTION_RELAY,
};

struct parser;
struct conf_key;
typedef void	 conf_set_fn(struct parser *, const struct conf_key *,
		     const char *);
/* One word of a list: true if valid, else an error is recorded. */
typedef bool	 conf_item_fn(struct parser *, const struct conf_key *,
		     const char *);

/*
 * A key and how to set it.  The generic setters (enum, bool, duration,
 * list) store at off, in struct conf under [daemon] and in struct
 * conf_relay under [relay]; a list's count at noff.
 */
struct conf_key {
	const char		*name;
	conf_set_fn		*set;
	size_t			 off;
	size_t			 noff;
	const char *const	*names;		/* enums: values by number */
	size_t			 nnames;
	conf_item_fn		*item;		/* lists: checks one word */
	unsigned		 flags;
};

#define KEY_QUEUES	0x01	/* "#word" is a value (a queue), no comment */
#define KEY_SECRET	0x02	/* names a secret the service must read */
#define KEY_NOCASE	0x04	/* enum names and list duplicates: any case */
#define KEY_ZERO_OK	0x08	/* a duration of 0 means "off" */

enum daemon_key {
	DK_WATCH,
	DK_LINKUP,
	DK_SETTLE,
	DK_HOLDDOWN,
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
	DK_FLUSH_WINDOW,
	DK_FLUSH_QUIET,
	DK_METRICS_FILE,
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
	RK_DELIVERS_FROM,
	RK_COUNT
};

/* The line of each key of one relay, 0 if unset. */
struct relay_lines {
	unsigned	 key[RK_COUNT];
};

struct parser {
	struct ini		*ini;
	struct conf		*conf;
	unsigned		 line;		/* of the key being set */
	unsigned		 flags;		/* CONF_NO_FILES, ... */

	enum section		 section;
	struct conf_relay	*relay;		/* the current [relay] */
	unsigned		 daemon_seen[DK_COUNT];	/* line of each key */
	struct relay_lines	*relay_seen;	/* by relay, as conf->relays */
};

static conf_set_fn	conf_set_enum, conf_set_bool, conf_set_duration,
			conf_set_list, conf_set_helo, conf_set_max_sessions,
			conf_set_local_smtp, conf_set_control_socket,
			conf_set_host, conf_set_port, conf_set_source,
			conf_set_string, conf_set_auth_user,
			conf_set_auth_password_credential,
			conf_set_metrics_file, conf_set_delivers_from;
static conf_item_fn	conf_watch_item, conf_domains_item;

static const char *const command_names[] = {
	[CONF_CMD_ETRN] = "ETRN",
	[CONF_CMD_QSND] = "QSND",
};

static const char *const tls_names[] = {
	[CONF_TLS_NO] = "no",
	[CONF_TLS_OPPORTUNISTIC] = "opportunistic",
	[CONF_TLS_REQUIRED] = "required",
	[CONF_TLS_IMPLICIT] = "implicit",
};

static const char *const linkup_names[] = {
	[CONF_LINKUP_RUNNING] = "running",
	[CONF_LINKUP_ADDRESS] = "address",
};

#define DURATION(k, field, fl)	{ .name = (k), .set = conf_set_duration, \
	.off = offsetof(struct conf, field), .flags = (fl) }
#define ENUM(k, s, field, table, fl) { .name = (k), .set = conf_set_enum, \
	.off = offsetof(s, field), .names = (table), \
	.nnames = nitems(table), .flags = (fl) }
#define BOOL(k, s, field)	{ .name = (k), .set = conf_set_bool, \
	.off = offsetof(s, field) }
#define LIST(k, s, field, n, check, fl) { .name = (k), .set = conf_set_list, \
	.off = offsetof(s, field), .noff = offsetof(s, n), .item = (check), \
	.flags = (fl) }
#define STRING(k, s, field, fl)	{ .name = (k), .set = conf_set_string, \
	.off = offsetof(s, field), .flags = (fl) }

/* Indexed by enum daemon_key and enum relay_key. */
static const struct conf_key daemon_keys[DK_COUNT] = {
	[DK_WATCH] = LIST("watch", struct conf, watch, nwatch,
	    conf_watch_item, 0),
	[DK_LINKUP] = ENUM("link-up", struct conf, linkup, linkup_names, 0),
	[DK_SETTLE] = DURATION("settle", settle_ms, KEY_ZERO_OK),
	[DK_HOLDDOWN] = DURATION("hold-down", holddown_ms, KEY_ZERO_OK),
	[DK_INTERVAL] = DURATION("interval", interval_ms, KEY_ZERO_OK),
	[DK_RUN_AT_START] = BOOL("run-at-start", struct conf, run_at_start),
	[DK_HELO] = { .name = "helo", .set = conf_set_helo },
	[DK_RETRY_MIN] = DURATION("retry-min", retry_min_ms, 0),
	[DK_RETRY_MAX] = DURATION("retry-max", retry_max_ms, 0),
	[DK_GIVE_UP] = DURATION("give-up", give_up_ms, 0),
	[DK_CONNECT_TIMEOUT] = DURATION("connect-timeout", connect_timeout_ms,
	    0),
	[DK_REPLY_TIMEOUT] = DURATION("reply-timeout", reply_timeout_ms, 0),
	[DK_MAX_SESSIONS] = { .name = "max-sessions",
	    .set = conf_set_max_sessions },
	[DK_LOCAL_SMTP] = { .name = "local-smtp", .set = conf_set_local_smtp },
	[DK_CONTROL_SOCKET] = { .name = "control-socket",
	    .set = conf_set_control_socket },
	[DK_DOMAINS] = LIST("domains", struct conf, domains, ndomains,
	    conf_domains_item, KEY_QUEUES | KEY_NOCASE),
	[DK_FLUSH_WINDOW] = DURATION("flush-window", flush_window_ms,
	    KEY_ZERO_OK),
	[DK_FLUSH_QUIET] = DURATION("flush-quiet", flush_quiet_ms, 0),
	[DK_METRICS_FILE] = { .name = "metrics-file",
	    .set = conf_set_metrics_file },
};

static const struct conf_key relay_keys[RK_COUNT] = {
	[RK_HOST] = { .name = "host", .set = conf_set_host },
	[RK_PORT] = { .name = "port", .set = conf_set_port },
	[RK_DOMAINS] = LIST("domains", struct conf_relay, domains, ndomains,
	    conf_domains_item, KEY_QUEUES | KEY_NOCASE),
	[RK_COMMAND] = ENUM("command", struct conf_relay, command,
	    command_names, KEY_NOCASE),
	[RK_SOURCE] = { .name = "source", .set = conf_set_source },
	[RK_TLS] = ENUM("tls", struct conf_relay, tls, tls_names, KEY_NOCASE),
	[RK_TLS_CA] = STRING("tls-ca", struct conf_relay, tls_ca, 0),
	[RK_TLS_VERIFY] = BOOL("tls-verify", struct conf_relay, tls_verify),
	[RK_AUTH_USER] = { .name = "auth-user", .set = conf_set_auth_user },
	[RK_AUTH_PASSWORD_FILE] = STRING("auth-password-file",
	    struct conf_relay, auth_password_file, KEY_SECRET),
	[RK_AUTH_PASSWORD_CREDENTIAL] = { .name = "auth-password-credential",
	    .set = conf_set_auth_password_credential },
	[RK_AUTH_CLEARTEXT] = BOOL("auth-cleartext", struct conf_relay,
	    auth_cleartext),
	[RK_DELIVERS_FROM] = { .name = "delivers-from",
	    .set = conf_set_delivers_from },
};

/* Where a generic setter stores: in the relay or in the daemon's conf. */
static void *
conf_field(struct parser *p, size_t off)
{
	if (p->section == SECTION_RELAY)
		return (char *)p->relay + off;
	return (char *)p->conf + off;
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


static int
conf_parse_port(const char *s, uint16_t *port)
{
	unsigned long	n;

	if (parse_number(s, 1, 65535, &n) == -1)
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

/*
 * The one reader of bracketed hosts: "[INNER]REST" copies a non-empty INNER
 * that fits size into inner and returns REST; NULL if s is not so.
 */
static const char *
conf_bracket(const char *s, char *inner, size_t size)
{
	const char	*close;

	if (s[0] != '[' || (close = strchr(s, ']')) == NULL ||
	    close == s + 1 || (size_t)(close - s - 1) >= size)
		return NULL;
	memcpy(inner, s + 1, (size_t)(close - s - 1));
	inner[close - s - 1] = '\0';
	return close + 1;
}

/* "[192.0.2.1]" or "[IPv6:2001:db8::1]" (RFC 5321 address literals). */
static bool
conf_is_literal(const char *s)
{
	char		 inner[CONF_DOMAIN_MAX + 1];
	const char	*rest;

	if ((rest = conf_bracket(s, inner, sizeof inner)) == NULL ||
	    *rest != '\0')
		return false;
	if (strncasecmp(inner, "IPv6:", 5) == 0)
		return conf_is_ipv6(inner + 5);
	return conf_is_ipv4(inner);
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

/* One name or glob of watch; "!" before it excludes. */
static bool
conf_watch_item(struct parser *p, const struct conf_key *k, const char *s)
{
	if (strlen(s + (s[0] == '!')) > CONF_IFNAME_MAX) {
		ini_error(p->ini, p->line, "%s: interface name \"%s\" is longer "
		    "than %d bytes", k->name, ini_vis(p->ini, s),
		    CONF_IFNAME_MAX);
		return false;
	}
	if (strcmp(s, "!") == 0) {
		ini_error(p->ini, p->line, "%s: \"!\" needs an interface name "
		    "or glob to exclude", k->name);
		return false;
	}
	/* Globs too: a name the kernel refuses would never match. */
	if (!ifname_valid(s + (s[0] == '!'))) {
		ini_error(p->ini, p->line, "%s: invalid interface name \"%s\" "
		    "(no \"/\", \":\", space or control character)", k->name,
		    ini_vis(p->ini, s));
		return false;
	}
	return true;
}

static bool
conf_domains_item(struct parser *p, const struct conf_key *k, const char *s)
{
	const char	*why;

	if ((why = conf_domain_check(s)) != NULL) {
		ini_error(p->ini, p->line, "%s: \"%s\" %s", k->name,
		    ini_vis(p->ini, s), why);
		return false;
	}
	return true;
}

/*
 * The one list setter (watch, domains): words checked by k->item, each
 * listed once, all or nothing.
 */
static void
conf_set_list(struct parser *p, const struct conf_key *k, const char *value)
{
	char	**v;
	size_t	  n, i, j;
	bool	  bad = false;

	v = conf_split(value, &n);
	for (i = 0; i < n; i++) {
		if (!k->item(p, k, v[i])) {
			bad = true;
			continue;
		}
		for (j = 0; j < i; j++) {
			if ((k->flags & KEY_NOCASE) ? strcasecmp(v[i], v[j]) == 0 :
			    strcmp(v[i], v[j]) == 0)
				break;
		}
		if (j < i) {
			ini_error(p->ini, p->line, "%s: \"%s\" is listed twice",
			    k->name, ini_vis(p->ini, v[i]));
			bad = true;
		}
	}
	if (bad) {
		conf_free_list(v, n);
		return;
	}
	memcpy(conf_field(p, k->off), &v, sizeof v);
	memcpy(conf_field(p, k->noff), &n, sizeof n);
}

/* The one enum setter: a name of k->names, its number stored. */
static void
conf_set_enum(struct parser *p, const struct conf_key *k, const char *value)
{
	char	 use[128];
	size_t	 i, len = 0;
	int	 v;

	for (i = 0; i < k->nnames; i++) {
		if ((k->flags & KEY_NOCASE) ?
		    strcasecmp(value, k->names[i]) == 0 :
		    strcmp(value, k->names[i]) == 0) {
			v = (int)i;
			memcpy(conf_field(p, k->off), &v, sizeof v);
			return;
		}
	}
	/* "use a, b or c" */
	use[0] = '\0';
	for (i = 0; i < k->nnames && len < sizeof use; i++)
		len += (size_t)snprintf(use + len, sizeof use - len, "%s%s",
		    i == 0 ? "" : i + 1 == k->nnames ? " or " : ", ",
		    k->names[i]);
	ini_error(p->ini, p->line, "%s: invalid value \"%s\" (use %s)",
	    k->name, ini_vis(p->ini, value), use);
}

int
conf_tls_parse(const char *name, enum conf_tls *tls)
{
	size_t	i;

	for (i = 0; i < nitems(tls_names); i++) {
		if (strcasecmp(name, tls_names[i]) == 0) {
			*tls = (enum conf_tls)i;
			return 0;
		}
	}
	return -1;
}

static void
conf_set_duration(struct parser *p, const struct conf_key *k,
    const char *value)
{
	uint64_t	ms;

	if (conf_parse_duration(value, &ms) == -1) {
		if (errno == ERANGE)
			ini_error(p->ini, p->line, "%s: duration \"%s\" is too "
			    "long (at most %lluh)", k->name,
			    ini_vis(p->ini, value),
			    (unsigned long long)(CONF_DURATION_MAX / 3600000));
		else
			ini_error(p->ini, p->line, "%s: invalid duration \"%s\" "
			    "(use a number with s, m, h or ms)", k->name,
			    ini_vis(p->ini, value));
		return;
	}
	if (ms == 0 && !(k->flags & KEY_ZERO_OK)) {
		ini_error(p->ini, p->line, "%s: must be greater than 0",
		    k->name);
		return;
	}
	memcpy(conf_field(p, k->off), &ms, sizeof ms);
}

/* yes/true/on/1 or no/false/off/0. */
static void
conf_set_bool(struct parser *p, const struct conf_key *k, const char *value)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	bool	v;
	size_t	i;

	for (i = 0; i < nitems(yes); i++) {
		if (strcasecmp(value, yes[i]) == 0 ||
		    strcasecmp(value, no[i]) == 0) {
			v = strcasecmp(value, yes[i]) == 0;
			memcpy(conf_field(p, k->off), &v, sizeof v);
			return;
		}
	}
	ini_error(p->ini, p->line, "%s: invalid value \"%s\" (use yes or no)",
	    k->name, ini_vis(p->ini, value));
}

/* A string kept as written: its checks, if any, are conf_read_files()'s. */
static void
conf_set_string(struct parser *p, const struct conf_key *k,
    const char *value)
{
	char	*s = xstrdup(value);

	memcpy(conf_field(p, k->off), &s, sizeof s);
}

static void
conf_set_helo(struct parser *p, const struct conf_key *k, const char *value)
{
	if (strlen(value) > CONF_DOMAIN_MAX) {
		ini_error(p->ini, p->line, "%s: \"%s\" is longer than %d bytes",
		    k->name, ini_vis(p->ini, value), CONF_DOMAIN_MAX);
		return;
	}
	if (strpbrk(value, CONF_WS) != NULL || conf_has_ctrl(value)) {
		ini_error(p->ini, p->line, "%s: invalid name \"%s\" (no spaces "
		    "or control characters)", k->name, ini_vis(p->ini, value));
		return;
	}
	if (value[0] == '[' && !conf_is_literal(value)) {
		ini_error(p->ini, p->line, "%s: invalid address literal \"%s\" "
		    "(use [192.0.2.1] or [IPv6:2001:db8::1])", k->name,
		    ini_vis(p->ini, value));
		return;
	}
	p->conf->helo = xstrdup(value);
}

static void
conf_set_max_sessions(struct parser *p, const struct conf_key *k,
    const char *value)
{
	unsigned long	n;

	if (parse_number(value, 1, MAX_SESSIONS, &n) == -1) {
		ini_error(p->ini, p->line, "%s: invalid value \"%s\" (use a "
		    "number from 1 to %d)", k->name, ini_vis(p->ini, value),
		    MAX_SESSIONS);
		return;
	}
	p->conf->max_sessions = (unsigned)n;
}

/* ADDRESS:PORT or [IPv6]:PORT. */
static void
conf_set_local_smtp(struct parser *p, const struct conf_key *k,
    const char *value)
{
	char		 host[CONF_DOMAIN_MAX + 1];
	const char	*colon, *why;
	uint16_t	 port;
	size_t		 len;

	if (value[0] == '[') {
		colon = conf_bracket(value, host, sizeof host);
		if (colon == NULL || colon[0] != ':') {
			ini_error(p->ini, p->line, "%s: invalid value \"%s\" "
			    "(use ADDRESS:PORT or [IPv6]:PORT)", k->name,
			    ini_vis(p->ini, value));
			return;
		}
		why = conf_is_ipv6(host) ? NULL : "is not a valid IPv6 address";
	} else {
		if ((colon = strrchr(value, ':')) == NULL) {
			ini_error(p->ini, p->line, "%s: invalid value \"%s\" "
			    "(use ADDRESS:PORT or [IPv6]:PORT)", k->name,
			    ini_vis(p->ini, value));
			return;
		}
		len = (size_t)(colon - value);
		if (len >= sizeof host) {
			ini_error(p->ini, p->line, "%s: address \"%s\" is "
			    "longer than 255 bytes", k->name,
			    ini_vis(p->ini, value));
			return;
		}
		memcpy(host, value, len);
		host[len] = '\0';
		if (strchr(host, ':') != NULL) {
			ini_error(p->ini, p->line, "%s: put an IPv6 address in "
			    "brackets: \"[%s]:PORT\"", k->name,
			    ini_vis(p->ini, host));
			return;
		}
		why = conf_host_check(host);
	}
	if (why != NULL) {
		ini_error(p->ini, p->line, "%s: address \"%s\" %s", k->name,
		    ini_vis(p->ini, host), why);
		return;
	}
	if (conf_parse_port(colon + 1, &port) == -1) {
		ini_error(p->ini, p->line, "%s: invalid port \"%s\" (use a "
		    "number from 1 to 65535)", k->name,
		    ini_vis(p->ini, colon + 1));
		return;
	}
	p->conf->local_smtp_host = xstrdup(host);
	p->conf->local_smtp_port = port;
}

/* A name, an address, or "[2001:db8::1]" as written in URLs. */
static void
conf_set_host(struct parser *p, const struct conf_key *k, const char *value)
{
	char		 inner[CONF_DOMAIN_MAX + 1];
	const char	*why, *rest;

	if ((rest = conf_bracket(value, inner, sizeof inner)) != NULL &&
	    *rest == '\0')
		why = conf_is_ipv6(inner) ? NULL : "is not a valid IPv6 address";
	else {
		why = conf_host_check(value);
		rest = NULL;
	}
	if (why != NULL) {
		ini_error(p->ini, p->line, "%s: \"%s\" %s", k->name,
		    ini_vis(p->ini, value), why);
		return;
	}
	p->relay->host = xstrdup(rest != NULL ? inner : value);
}

static void
conf_set_port(struct parser *p, const struct conf_key *k, const char *value)
{
	if (conf_parse_port(value, &p->relay->port) == -1)
		ini_error(p->ini, p->line, "%s: invalid port \"%s\" (use a "
		    "number from 1 to 65535)", k->name, ini_vis(p->ini, value));
}

static void
conf_set_source(struct parser *p, const struct conf_key *k, const char *value)
{
	if (!conf_is_ipv4(value) && !conf_is_ipv6(value)) {
		ini_error(p->ini, p->line, "%s: invalid address \"%s\" (use an "
		    "IPv4 or IPv6 address of this host)", k->name,
		    ini_vis(p->ini, value));
		return;
	}
	p->relay->source = xstrdup(value);
}

static void
conf_set_auth_user(struct parser *p, const struct conf_key *k,
    const char *value)
{
	if (strlen(value) > CONF_PASSWORD_MAX || conf_has_ctrl(value)) {
		ini_error(p->ini, p->line, "%s: \"%s\" is longer than %d bytes "
		    "or has a control character", k->name,
		    ini_vis(p->ini, value), CONF_PASSWORD_MAX);
		return;
	}
	p->relay->auth_user = xstrdup(value);
}

/* The name of a systemd credential: a file name. */
static void
conf_set_auth_password_credential(struct parser *p, const struct conf_key *k,
    const char *value)
{
	if (strchr(value, '/') != NULL || strcmp(value, ".") == 0 ||
	    strcmp(value, "..") == 0 || conf_has_ctrl(value) ||
	    strpbrk(value, CONF_WS) != NULL || strlen(value) > 255) {
		ini_error(p->ini, p->line, "%s: \"%s\" is not a credential name "
		    "(a file name: no \"/\", spaces or control characters)",
		    k->name, ini_vis(p->ini, value));
		return;
	}
	p->relay->auth_password_credential = xstrdup(value);
}

/* An absolute path that fits a sockaddr_un. */
static void
conf_set_control_socket(struct parser *p, const struct conf_key *k,
    const char *value)
{
	struct sockaddr_un	sun;

	if (value[0] != '/' || conf_has_ctrl(value) ||
	    strpbrk(value, CONF_WS) != NULL) {
		ini_error(p->ini, p->line, "%s: \"%s\" is not an absolute path",
		    k->name, ini_vis(p->ini, value));
		return;
	}
	if (strlen(value) >= sizeof(sun.sun_path)) {
		ini_error(p->ini, p->line, "%s: \"%s\" is longer than %zu bytes",
		    k->name, ini_vis(p->ini, value), sizeof(sun.sun_path) - 1);
		return;
	}
	free(p->conf->control_socket);
	p->conf->control_socket = xstrdup(value);
}

/*
 * An absolute path to a file.  Its directory need not exist yet (the
 * daemon says when a write fails), but a name that can only be a
 * directory is refused now.
 */
static void
conf_set_metrics_file(struct parser *p, const struct conf_key *k,
    const char *value)
{
	const char	*base;

	if (value[0] != '/') {
		ini_error(p->ini, p->line, "%s: \"%s\" is not an absolute path",
		    k->name, ini_vis(p->ini, value));
		return;
	}
	if (conf_has_ctrl(value) || strpbrk(value, CONF_WS) != NULL) {
		ini_error(p->ini, p->line, "%s: \"%s\" has a space or control "
		    "character", k->name, ini_vis(p->ini, value));
		return;
	}
	if (strlen(value) >= PATH_MAX) {
		ini_error(p->ini, p->line, "%s: \"%s\" is longer than %d bytes",
		    k->name, ini_vis(p->ini, value), PATH_MAX - 1);
		return;
	}
	base = strrchr(value, '/') + 1;
	if (*base == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0) {
		ini_error(p->ini, p->line, "%s: \"%s\" names a directory: add "
		    "a file name (such as etrnd.prom)", k->name,
		    ini_vis(p->ini, value));
		return;
	}
	p->conf->metrics_file = xstrdup(value);
}

/* "192.0.2.0/24", or "192.0.2.1" for one address. */
static const char *
conf_net_fmt(const struct flushwatch_net *net, char *buf, size_t len)
{
	char		a[INET6_ADDRSTRLEN];
	unsigned	max = net->addr.family == AF_INET ? 32 : 128;

	if (inet_ntop(net->addr.family, net->addr.addr, a, sizeof a) == NULL)
		snprintf(a, sizeof a, "?");
	if (net->plen == max)
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s/%u", a, net->plen);
	return buf;
}

static bool
conf_net_equal(const struct flushwatch_net *a, const struct flushwatch_net *b)
{
	return a->addr.family == b->addr.family && a->plen == b->plen &&
	    memcmp(a->addr.addr, b->addr.addr, sizeof a->addr.addr) == 0;
}

/*
 * One delivers-from value into net: true, or false with the error
 * recorded.  Stricter than flushwatch_net_parse(), for values that would
 * parse but not mean what was written: a prefix with host bits set (a
 * typo, of the address or of the length), /0 (every inbound connection
 * would be the relay's), an IPv4-mapped address (the kernel's IPv4
 * connections are compared as IPv4).
 */
static bool
conf_delivers_from_item(struct parser *p, const struct conf_key *k,
    const char *s, struct flushwatch_net *net)
{
	static const unsigned char v4mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	struct flushwatch_net	 masked, one;
	char			 addr[INET6_ADDRSTRLEN];
	char			 a[INET6_ADDRSTRLEN + 4];
	char			 b[INET6_ADDRSTRLEN + 4];
	const char		*slash;
	size_t			 len, i;
	unsigned		 bits;

	if (flushwatch_net_parse(s, net) == -1) {
		/* Which half is wrong: the address, or the length after it? */
		slash = strchr(s, '/');
		len = slash != NULL ? (size_t)(slash - s) : 0;
		if (slash != NULL && len < sizeof addr) {
			memcpy(addr, s, len);
			addr[len] = '\0';
		}
		if (slash != NULL && len < sizeof addr &&
		    flushwatch_net_parse(addr, net) == 0)
			ini_error(p->ini, p->line, "%s: invalid prefix length "
			    "in \"%s\" (use 1 to %u for %s)", k->name,
			    ini_vis(p->ini, s), net->plen, net->addr.family ==
			    AF_INET ? "IPv4" : "IPv6");
		else if (strchr(s, ',') != NULL)
			ini_error(p->ini, p->line, "%s: invalid address \"%s\" "
			    "(separate addresses with spaces)", k->name,
			    ini_vis(p->ini, s));
		else
			ini_error(p->ini, p->line, "%s: invalid address \"%s\" "
			    "(use an IPv4 or IPv6 address or prefix, such as "
			    "192.0.2.25 or 2001:db8::/48)", k->name,
			    ini_vis(p->ini, s));
		return false;
	}
	if (net->plen == 0) {
		ini_error(p->ini, p->line, "%s: \"%s\" matches every address "
		    "(every inbound connection would count as the relay's)",
		    k->name, ini_vis(p->ini, s));
		return false;
	}
	if (net->addr.family == AF_INET6 && net->plen > 96 &&
	    memcmp(net->addr.addr, v4mapped, sizeof v4mapped) == 0) {
		memset(&one, 0, sizeof one);
		one.addr.family = AF_INET;
		memcpy(one.addr.addr, net->addr.addr + 12, 4);
		one.plen = (uint8_t)(net->plen - 96);
		ini_error(p->ini, p->line, "%s: \"%s\" is an IPv4-mapped "
		    "address: write %s", k->name, ini_vis(p->ini, s),
		    conf_net_fmt(&one, a, sizeof a));
		return false;
	}
	masked = *net;
	for (i = 0; i < sizeof masked.addr.addr; i++) {
		bits = i * 8 >= net->plen ? 0 : net->plen - i * 8;
		masked.addr.addr[i] &= (unsigned char)(0xff00 >>
		    (bits > 8 ? 8 : bits));
	}
	if (!conf_net_equal(net, &masked)) {
		one = *net;
		one.plen = net->addr.family == AF_INET ? 32 : 128;
		ini_error(p->ini, p->line, "%s: \"%s\" has host bits set: "
		    "write %s for the network, or %s for one address",
		    k->name, ini_vis(p->ini, s),
		    conf_net_fmt(&masked, a, sizeof a),
		    conf_net_fmt(&one, b, sizeof b));
		return false;
	}
	return true;
}

/* ADDR[/LEN] ...: all or nothing, each once, at most CONF_DELIVERS_FROM_MAX. */
static void
conf_set_delivers_from(struct parser *p, const struct conf_key *k,
    const char *value)
{
	struct flushwatch_net	 nets[CONF_DELIVERS_FROM_MAX];
	char			**v;
	size_t			  n, i, j;
	bool			  bad = false;

	v = conf_split(value, &n);
	if (n > CONF_DELIVERS_FROM_MAX) {
		ini_error(p->ini, p->line, "%s: %zu addresses or prefixes, "
		    "more than %d", k->name, n, CONF_DELIVERS_FROM_MAX);
		conf_free_list(v, n);
		return;
	}
	for (i = 0; i < n; i++) {
		if (!conf_delivers_from_item(p, k, v[i], &nets[i])) {
			/* Matches no valid one below: none is listed twice. */
			memset(&nets[i], 0, sizeof nets[i]);
			bad = true;
			continue;
		}
		for (j = 0; j < i; j++) {
			if (conf_net_equal(&nets[i], &nets[j]))
				break;
		}
		if (j < i) {
			ini_error(p->ini, p->line, "%s: \"%s\" is listed twice",
			    k->name, ini_vis(p->ini, v[i]));
			bad = true;
		}
	}
	conf_free_list(v, n);
	if (bad)
		return;
	p->relay->delivers_from = xreallocarray(NULL, n, sizeof *nets);
	memcpy(p->relay->delivers_from, nets, n * sizeof *nets);
	p->relay->ndelivers_from = n;
}

/* Checks that need the whole [relay] section: run when it ends. */
static void
conf_end_section(struct parser *p)
{
	struct conf_relay	*r = p->relay;
	const unsigned		*seen;
	const char		*why;

	if (p->section != SECTION_RELAY)
		return;
	seen = p->relay_seen[r - p->conf->relays].key;
	/* Invalid domains were reported: keep conf_end from adding more. */
	if (seen[RK_DOMAINS] != 0 && r->domains == NULL)
		r->domains = xcalloc(1, sizeof *r->domains);
	if (seen[RK_AUTH_PASSWORD_FILE] != 0 &&
	    seen[RK_AUTH_PASSWORD_CREDENTIAL] != 0)
		ini_error(p->ini, seen[RK_AUTH_PASSWORD_CREDENTIAL],
		    "relay \"%s\": auth-password-file and "
		    "auth-password-credential: choose one",
		    ini_vis(p->ini, r->name));
	else if ((seen[RK_AUTH_USER] != 0) !=
	    (seen[RK_AUTH_PASSWORD_FILE] != 0 ||
	    seen[RK_AUTH_PASSWORD_CREDENTIAL] != 0))
		ini_error(p->ini, r->line, "relay \"%s\": auth-user goes with "
		    "auth-password-file or auth-password-credential",
		    ini_vis(p->ini, r->name));
	else if (r->auth_user != NULL && r->tls == CONF_TLS_NO &&
	    !r->auth_cleartext)
		ini_error(p->ini, seen[RK_AUTH_USER], "relay \"%s\": "
		    "AUTH needs TLS: set tls to opportunistic, required or "
		    "implicit, or auth-cleartext = yes", ini_vis(p->ini, r->name));
	if (seen[RK_HOST] == 0 && r->host == NULL) {
		if ((why = conf_host_check(r->name)) != NULL)
			ini_error(p->ini, r->line, "relay \"%s\" has no host and "
			    "its name %s", ini_vis(p->ini, r->name), why);
		else
			r->host = xstrdup(r->name);
	}
	p->relay = NULL;
}

/* "[relay NAME]": check the name and start a new relay. */
static void
conf_relay_header(struct parser *p, const char *name, unsigned line)
{
	struct conf		*conf = p->conf;
	struct conf_relay	*r;
	size_t			 i;

	if (*name == '\0') {
		ini_error(p->ini, line, "relay without a name (use [relay "
		    "NAME])");
		return;
	}
	if (strlen(name) > CONF_DOMAIN_MAX) {
		ini_error(p->ini, line, "relay name \"%s\" is longer than %d "
		    "bytes", ini_vis(p->ini, name), CONF_DOMAIN_MAX);
		return;
	}
	if (strpbrk(name, CONF_WS) != NULL || conf_has_ctrl(name)) {
		ini_error(p->ini, line, "invalid relay name \"%s\" (no spaces "
		    "or control characters)", ini_vis(p->ini, name));
		return;
	}
	for (i = 0; i < conf->nrelays; i++) {
		if (strcmp(conf->relays[i].name, name) == 0) {
			ini_error(p->ini, line, "duplicate relay \"%s\" (first "
			    "defined at line %u)", ini_vis(p->ini, name),
			    conf->relays[i].line);
			break;
		}
	}

	/* A duplicate is kept, so that its keys are checked too. */
	conf->relays = xreallocarray(conf->relays, conf->nrelays + 1,
	    sizeof *conf->relays);
	p->relay_seen = xreallocarray(p->relay_seen, conf->nrelays + 1,
	    sizeof *p->relay_seen);
	memset(&p->relay_seen[conf->nrelays], 0, sizeof *p->relay_seen);
	r = &conf->relays[conf->nrelays++];
	memset(r, 0, sizeof *r);
	r->name = xstrdup(name);
	r->port = 25;
	r->command = CONF_CMD_ETRN;
	r->tls = CONF_TLS_OPPORTUNISTIC;
	r->tls_verify = true;
	r->line = line;

	p->relay = r;
	p->section = SECTION_RELAY;
}

/* A header: [daemon] or [relay NAME]; anything else skips its keys. */
static void
conf_header(struct parser *p, const struct ini_item *it)
{
	unsigned	first;

	conf_end_section(p);
	p->section = SECTION_NONE;
	if (strcmp(it->section, "daemon") == 0) {
		/* Keys repeated across both are reported as duplicates. */
		if ((first = ini_section_continue(p->ini)) != 0)
			ini_error(p->ini, it->line, "duplicate [daemon] section "
			    "(first at line %u)", first);
		p->section = SECTION_DAEMON;
	} else if (strncmp(it->section, "relay", 5) == 0 &&
	    (it->section[5] == '\0' || it->section[5] == ' '))
		conf_relay_header(p, it->section + 5 +
		    strspn(it->section + 5, " "), it->line);
	else
		ini_error(p->ini, it->line, "unknown section \"%s\" (use "
		    "[daemon] or [relay NAME])", ini_vis(p->ini, it->section));
	if (p->section == SECTION_NONE)
		ini_skip_section(p->ini);
}

/* "key = value" in the current section. */
static void
conf_key(struct parser *p, const struct ini_item *it)
{
	const struct conf_key	*keys;
	unsigned		*seen;
	size_t			 nkeys, i;

	if (p->section == SECTION_DAEMON) {
		keys = daemon_keys;
		nkeys = nitems(daemon_keys);
		seen = p->daemon_seen;
	} else {
		keys = relay_keys;
		nkeys = nitems(relay_keys);
		seen = p->relay_seen[p->relay - p->conf->relays].key;
	}
	for (i = 0; i < nkeys; i++) {
		if (strcmp(it->key, keys[i].name) == 0)
			break;
	}
	if (i == nkeys) {
		ini_error(p->ini, it->line, "unknown key \"%s\" in [%s]",
		    ini_vis(p->ini, it->key), ini_vis(p->ini, it->section));
		return;
	}
	if (seen[i] == 0)
		seen[i] = it->line;
	if (!ini_key_ok(p->ini, it, (keys[i].flags & KEY_QUEUES) ?
	    INI_HASH_WORDS : 0))
		return;
	p->line = it->line;
	keys[i].set(p, &keys[i], it->value);
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
	/*
	 * The hold-down is the default since settle's default became 0; a
	 * file that sets settle keeps what it meant when it was written:
	 * "settle = 0" asks at every link-up, a settle > 0 waits.
	 */
	if (p->daemon_seen[DK_SETTLE] != 0 &&
	    p->daemon_seen[DK_HOLDDOWN] == 0)
		conf->holddown_ms = 0;
	if (conf->settle_ms > 0 && conf->holddown_ms > 0)
		ini_error(p->ini, p->daemon_seen[DK_HOLDDOWN], "hold-down: "
		    "not with settle = %s (settle waits for the link to stay "
		    "up; the hold-down runs at once: choose one)",
		    fmt_duration(conf->settle_ms, a, sizeof a));
	if (conf->retry_min_ms > conf->retry_max_ms) {
		fmt_duration(conf->retry_min_ms, a, sizeof a);
		fmt_duration(conf->retry_max_ms, b, sizeof b);
		if (p->daemon_seen[DK_RETRY_MAX] != 0)
			ini_error(p->ini, p->daemon_seen[DK_RETRY_MAX],
			    "retry-max: %s is less than retry-min (%s%s)", b,
			    p->daemon_seen[DK_RETRY_MIN] != 0 ? "" : "default ",
			    a);
		else
			ini_error(p->ini, p->daemon_seen[DK_RETRY_MIN],
			    "retry-min: %s is greater than retry-max (default "
			    "%s)", a, b);
	}
	if (conf->flush_window_ms > 0 &&
	    conf->flush_quiet_ms > conf->flush_window_ms) {
		fmt_duration(conf->flush_quiet_ms, a, sizeof a);
		fmt_duration(conf->flush_window_ms, b, sizeof b);
		if (p->daemon_seen[DK_FLUSH_QUIET] != 0)
			ini_error(p->ini, p->daemon_seen[DK_FLUSH_QUIET],
			    "flush-quiet: %s is greater than flush-window "
			    "(%s%s)", a, p->daemon_seen[DK_FLUSH_WINDOW] != 0 ?
			    "" : "default ", b);
		else
			ini_error(p->ini, p->daemon_seen[DK_FLUSH_WINDOW],
			    "flush-window: %s is less than flush-quiet "
			    "(default %s; 0 turns the observation off)", b, a);
	}
	/* [daemon] may come after the relays that use its domains. */
	for (i = 0; i < conf->nrelays; i++) {
		r = &conf->relays[i];
		if (r->ndomains > 0 || r->domains != NULL)
			continue;
		if (conf->ndomains == 0) {
			if (p->daemon_seen[DK_DOMAINS] == 0)
				ini_error(p->ini, r->line, "relay \"%s\" has no "
				    "domains (set domains here, or in [daemon] "
				    "for every relay)", ini_vis(p->ini,
				    r->name));
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

/* Step one: the text into p->conf, no file touched. */
static void
conf_schema(struct parser *p)
{
	struct ini_item	it;

	ini_set_hint(p->ini, "[daemon] or [relay NAME]");
	while (ini_next(p->ini, &it)) {
		if (it.type == INI_SECTION)
			conf_header(p, &it);
		else
			conf_key(p, &it);
	}
	conf_end(p);
}

/*
 * Step two, the files a relay names: below, up to conf_read_files().
 */

/* A file etrnd must be able to read: checked now, not at the first run. */
static bool
conf_readable_file(struct parser *p, const struct conf_key *k,
    unsigned line, const char *path)
{
	struct stat	st;

	if (path[0] != '/') {
		ini_error(p->ini, line, "%s: \"%s\" is not an absolute path",
		    k->name, ini_vis(p->ini, path));
		return false;
	}
	/* A secret is never read through a symbolic link (see below). */
	if ((k->flags & KEY_SECRET) && lstat(path, &st) == 0 &&
	    S_ISLNK(st.st_mode)) {
		ini_error(p->ini, line, "%s: %s is a symbolic link", k->name,
		    ini_vis(p->ini, path));
		return false;
	}
	if (stat(path, &st) == -1 || access(path, R_OK) == -1) {
		if (errno == EACCES && (k->flags & KEY_SECRET))
			ini_error(p->ini, line, "%s: %s: %s (etrnd runs as uid "
			    "%u; the shipped unit's dynamic user cannot read a "
			    "root-only file: use auth-password-credential)",
			    k->name, ini_vis(p->ini, path), strerror(errno),
			    (unsigned)geteuid());
		else
			ini_error(p->ini, line, "%s: %s: %s", k->name,
			    ini_vis(p->ini, path), strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		ini_error(p->ini, line, "%s: %s is not a regular file", k->name,
		    ini_vis(p->ini, path));
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
conf_check_ca(struct parser *p, const struct conf_key *k, unsigned line,
    const char *path)
{
	STACK_OF(X509_INFO)	*infos = NULL;
	struct stat		 st;
	BIO			*bio = NULL;
	unsigned long		 err;
	int			 fd, i, ncerts = 0;
	bool			 ok = false;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1 || fstat(fd, &st) == -1) {
		ini_error(p->ini, line, "%s: %s: %s", k->name,
		    ini_vis(p->ini, path), strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		ini_error(p->ini, line, "%s: %s is not a regular file", k->name,
		    ini_vis(p->ini, path));
		goto done;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		ini_error(p->ini, line, "%s: %s is writable by group or others "
		    "(mode %03o)", k->name, ini_vis(p->ini, path),
		    (unsigned)(st.st_mode & 0777));
		goto done;
	}
	ERR_clear_error();
	if ((bio = BIO_new_fd(fd, BIO_NOCLOSE)) == NULL ||
	    (infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL)) == NULL) {
		err = ERR_peek_last_error();
		ini_error(p->ini, line, "%s: %s is not a PEM bundle of "
		    "certificates (%s)", k->name, ini_vis(p->ini, path),
		    ERR_reason_error_string(err) != NULL ?
		    ERR_reason_error_string(err) : "unreadable");
		goto done;
	}
	for (i = 0; i < sk_X509_INFO_num(infos); i++) {
		if (sk_X509_INFO_value(infos, i)->x509 != NULL)
			ncerts++;
	}
	if (ncerts == 0) {
		ini_error(p->ini, line, "%s: %s holds no certificate (it must "
		    "be a PEM bundle of CA certificates)", k->name,
		    ini_vis(p->ini, path));
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

/*
 * Read a password: the first line of path, opened without blocking (a FIFO
 * swapped in after the check must not hang a reload) and without following
 * a symbolic link (whoever can replace the link chooses the secret we send;
 * systemd's credentials are regular files, so this holds there too).  With
 * strict, like ssh with its keys, a file that belongs to another user than
 * etrnd's (or root) or that group or others can use is refused; a systemd
 * credential is not checked so (systemd made it readable to us alone, on
 * some systems by an ACL that shows in the group bits).  read(2), not stdio,
 * so that no buffer but ours, wiped here, ever holds the secret.  Also
 * etrn(1)'s --password-file.
 */
char *
conf_password_read(const char *path, bool strict, char *err, size_t errlen)
{
	struct stat	 st;
	char		 buf[CONF_PASSWORD_MAX + 2];
	char		 vis[STR_VIS_LEN(INI_VIS_MAX)];
	char		*password = NULL;
	const char	*why = NULL;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd;

	str_vis(vis, path, INI_VIS_MAX, "\"");
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY);
	if (fd == -1 || fstat(fd, &st) == -1) {
		if (errno == ELOOP && lstat(path, &st) == 0 &&
		    S_ISLNK(st.st_mode))
			snprintf(err, errlen, "%s is a symbolic link", vis);
		else
			snprintf(err, errlen, "%s: %s", vis, strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", vis);
		close(fd);
		return NULL;
	}
	if (strict && st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(err, errlen, "%s belongs to uid %u, not to the user "
		    "etrnd runs as (uid %u) or root", vis, (unsigned)st.st_uid,
		    (unsigned)geteuid());
		close(fd);
		return NULL;
	}
	if (strict && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		snprintf(err, errlen, "%s is accessible by group or others "
		    "(mode %03o; chmod 600 it)", vis,
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
		snprintf(err, errlen, "%s: %s", vis, why);
	explicit_bzero(buf, sizeof(buf));
	return password;
}

/* The same, each error at the key's line. */
static char *
conf_read_password(struct parser *p, const struct conf_key *k, unsigned line,
    const char *path, bool strict)
{
	char	 err[STR_VIS_LEN(INI_VIS_MAX) + 128];
	char	*password;

	if ((password = conf_password_read(path, strict, err,
	    sizeof(err))) == NULL)
		ini_error(p->ini, line, "%s: %s", k->name, err);
	return password;
}

void
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

/*
 * A systemd credential (LoadCredential=NAME:FILE in the unit): the one way a
 * DynamicUser service reads a secret that root keeps 0600.  Outside the
 * service there is no $CREDENTIALS_DIRECTORY: "etrnd -t" says so in its
 * summary, and the daemon refuses to start.
 */
static void
conf_read_credential(struct parser *p, struct conf_relay *r, unsigned line)
{
	const struct conf_key	*k = &relay_keys[RK_AUTH_PASSWORD_CREDENTIAL];
	const char		*dir;
	char			*path;
	size_t			 len;

	dir = getenv("CREDENTIALS_DIRECTORY");
	if (dir == NULL || *dir != '/') {
		if (!(p->flags & CONF_CHECK_ONLY))
			ini_error(p->ini, line, "%s: no systemd credentials "
			    "here ($CREDENTIALS_DIRECTORY is not set): run "
			    "etrnd from its unit with LoadCredential=%s:FILE, "
			    "or use auth-password-file", k->name,
			    ini_vis(p->ini, r->auth_password_credential));
		return;
	}
	len = strlen(dir) + strlen(r->auth_password_credential) + 2;
	path = xcalloc(1, len);
	snprintf(path, len, "%s/%s", dir, r->auth_password_credential);
	conf_relay_set_password(r, conf_read_password(p, k, line, path,
	    false));
	free(path);
}

/*
 * Step two: check tls-ca and read the passwords of every relay, errors at
 * their keys' lines; then whether user and password fit AUTH PLAIN.
 */
static void
conf_read_files(struct parser *p)
{
	const struct conf_key	*ca = &relay_keys[RK_TLS_CA];
	const struct conf_key	*pw = &relay_keys[RK_AUTH_PASSWORD_FILE];
	struct conf_relay	*r;
	const unsigned		*seen;
	size_t			 i, len;
	bool			 both;

	for (i = 0; i < p->conf->nrelays; i++) {
		r = &p->conf->relays[i];
		seen = p->relay_seen[i].key;
		if (r->tls_ca != NULL &&
		    (!conf_readable_file(p, ca, seen[RK_TLS_CA], r->tls_ca) ||
		    !conf_check_ca(p, ca, seen[RK_TLS_CA], r->tls_ca))) {
			free(r->tls_ca);
			r->tls_ca = NULL;
		}
		if (r->auth_password_file != NULL &&
		    conf_readable_file(p, pw, seen[RK_AUTH_PASSWORD_FILE],
		    r->auth_password_file))
			conf_relay_set_password(r, conf_read_password(p, pw,
			    seen[RK_AUTH_PASSWORD_FILE], r->auth_password_file,
			    true));
		if (r->auth_password_credential != NULL)
			conf_read_credential(p, r,
			    seen[RK_AUTH_PASSWORD_CREDENTIAL]);

		/* Not when conf_end_section() found the AUTH keys wrong. */
		both = seen[RK_AUTH_PASSWORD_FILE] != 0 &&
		    seen[RK_AUTH_PASSWORD_CREDENTIAL] != 0;
		if (r->auth_user == NULL || r->auth_password == NULL || both ||
		    (r->tls == CONF_TLS_NO && !r->auth_cleartext))
			continue;
		len = strlen(r->auth_user) + strlen(r->auth_password);
		if (len > CONF_AUTH_PLAIN_MAX)
			ini_error(p->ini, seen[RK_AUTH_PASSWORD_FILE] != 0 ?
			    seen[RK_AUTH_PASSWORD_FILE] :
			    seen[RK_AUTH_PASSWORD_CREDENTIAL], "relay \"%s\": "
			    "auth-user and the password have %zu bytes "
			    "together, more than the %d that fit one AUTH "
			    "PLAIN command", ini_vis(p->ini, r->name), len,
			    CONF_AUTH_PLAIN_MAX);
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
	conf->holddown_ms = DEF_HOLDDOWN_MS;
	conf->interval_ms = DEF_INTERVAL_MS;
	conf->run_at_start = true;
	conf->retry_min_ms = DEF_RETRY_MIN_MS;
	conf->retry_max_ms = DEF_RETRY_MAX_MS;
	conf->give_up_ms = DEF_GIVE_UP_MS;
	conf->connect_timeout_ms = DEF_CONNECT_MS;
	conf->reply_timeout_ms = DEF_REPLY_MS;
	conf->max_sessions = DEF_MAX_SESSIONS;
	conf->control_socket = xstrdup(CONF_CONTROL_SOCKET);
	conf->flush_window_ms = FLUSHWATCH_WINDOW_MS;
	conf->flush_quiet_ms = FLUSHWATCH_QUIET_MS;
	return conf;
}

/* Both steps over a reader, which this frees. */
static struct conf *
conf_from_ini(struct ini *ini, const char *path, unsigned flags,
    char **errors)
{
	struct parser	p;

	memset(&p, 0, sizeof p);
	p.ini = ini;
	p.flags = flags;
	p.conf = conf_new(path);
	p.section = SECTION_NONE;

	conf_schema(&p);
	if (!(flags & CONF_NO_FILES))
		conf_read_files(&p);
	free(p.relay_seen);
	if (ini_nerrors(ini) > 0) {
		if (errors != NULL)
			*errors = ini_errors(ini);
		ini_free(ini);
		conf_free(p.conf);
		return NULL;
	}
	ini_free(ini);
	if (errors != NULL)
		*errors = NULL;
	return p.conf;
}

struct conf *
conf_parse(const char *path, const char *text, size_t len, char **errors)
{
	return conf_parse_flags(path, text, len, 0, errors);
}

struct conf *
conf_parse_flags(const char *path, const char *text, size_t len,
    unsigned flags, char **errors)
{
	return conf_from_ini(ini_new(path, text, len), path, flags, errors);
}

struct conf *
conf_load(const char *path, char **errors)
{
	return conf_load_flags(path, 0, errors);
}

struct conf *
conf_load_flags(const char *path, unsigned flags, char **errors)
{
	struct ini	*ini;

	if ((ini = ini_load(path, errors)) == NULL)
		return NULL;
	return conf_from_ini(ini, path, flags, errors);
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
	free(r->delivers_from);
}

static char *
conf_strdup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

struct conf_relay *
conf_relay_dup(const struct conf_relay *r)
{
	struct conf_relay	*d;
	size_t			 i;

	d = xcalloc(1, sizeof(*d));
	*d = *r;
	d->name = xstrdup(r->name);
	d->host = xstrdup(r->host);
	d->domains = xcalloc(r->ndomains + 1, sizeof(*d->domains));
	for (i = 0; i < r->ndomains; i++)
		d->domains[i] = xstrdup(r->domains[i]);
	d->source = conf_strdup_or_null(r->source);
	d->tls_ca = conf_strdup_or_null(r->tls_ca);
	d->auth_user = conf_strdup_or_null(r->auth_user);
	d->auth_password_file = conf_strdup_or_null(r->auth_password_file);
	d->auth_password_credential =
	    conf_strdup_or_null(r->auth_password_credential);
	d->auth_password = conf_strdup_or_null(r->auth_password);
	d->delivers_from = NULL;
	if (r->ndelivers_from > 0) {
		d->delivers_from = xreallocarray(NULL, r->ndelivers_from,
		    sizeof(*d->delivers_from));
		memcpy(d->delivers_from, r->delivers_from,
		    r->ndelivers_from * sizeof(*d->delivers_from));
	}
	return d;
}

void
conf_relay_free(struct conf_relay *r)
{
	if (r == NULL)
		return;
	conf_relay_deinit(r);
	free(r);
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
	free(conf->metrics_file);
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

/*
 * Domains are compared as sets: reordering the list keeps the relay.
 * delivers-from is not compared: it only says which connections a flush
 * window counts, so a change keeps the relay's state and backoff.
 */
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
	char			 net[INET6_ADDRSTRLEN + 4];
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
	if (conf->settle_ms == 0)
		fprintf(f, "  hold-down        %s\n",
		    fmt_duration(conf->holddown_ms, a, sizeof a));
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
	if (conf->flush_window_ms == 0)
		fprintf(f, "  flush-window     off\n");
	else
		fprintf(f, "  flush-window     %s, or until %s after the "
		    "relay's last connection\n",
		    fmt_duration(conf->flush_window_ms, a, sizeof a),
		    fmt_duration(conf->flush_quiet_ms, b, sizeof b));
	fprintf(f, "  metrics-file     %s\n", conf->metrics_file != NULL ?
	    conf->metrics_file : "none");

	for (i = 0; i < conf->nrelays; i++) {
		r = &conf->relays[i];
		fprintf(f, "relay %s\n", r->name);
		fprintf(f, "  host             ");
		conf_print_hostport(f, r->host, r->port);
		fprintf(f, "  command          %s\n", command_names[r->command]);
		fprintf(f, "  source           %s\n",
		    r->source != NULL ? r->source : "(any)");
		if (r->ndelivers_from > 0) {
			fprintf(f, "  delivers-from   ");
			for (j = 0; j < r->ndelivers_from; j++)
				fprintf(f, " %s", conf_net_fmt(
				    &r->delivers_from[j], net, sizeof net));
			fprintf(f, "\n");
		}
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
