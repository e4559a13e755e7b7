/* SPDX-License-Identifier: ISC */
/*
 * conf: what /etc/etrnd.conf means ([daemon], [relay NAME], their keys),
 * on top of ini.c's line reader (through which conf_load() reads the
 * file).  Two steps, neither of which logs:
 *  - the schema: text to struct conf, touching no file;
 *  - the files, unless CONF_NO_FILES: for each relay, tls-ca is stat(2)ed,
 *    refused if not absolute, not a regular file or writable by group or
 *    others, and its certificates loaded once and dropped; the password is
 *    read from auth-password-file (no symbolic link, owned by etrnd's
 *    user or root, no access for group or others) or from
 *    $CREDENTIALS_DIRECTORY/NAME for auth-password-credential, and kept
 *    in auth_password.
 * Every error of both is collected as "file:line: message" and the parse
 * goes on, so a user sees all of them at once.
 */
#ifndef ETRND_CONF_H
#define ETRND_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "flushwatch.h"

#define CONF_DOMAIN_MAX		255	/* RFC 5321 domain length */
#define CONF_ETRN_PER_SESSION	7	/* Sendmail throttles from the 8th */
#define CONF_CONTROL_SOCKET	"/run/etrnd/control"
#define CONF_DELIVERS_FROM_MAX	8	/* delivers-from values per relay */
#define CONF_DURATION_MAX	(8760ULL * 3600 * 1000)	/* 1 year, in ms */

enum conf_linkup {
	CONF_LINKUP_RUNNING,	/* up + carrier + global address */
	CONF_LINKUP_ADDRESS,	/* also: a new global address while up */
};

enum conf_tls {
	CONF_TLS_NO,
	CONF_TLS_OPPORTUNISTIC,	/* STARTTLS when offered */
	CONF_TLS_REQUIRED,	/* never ETRN or AUTH in clear */
	CONF_TLS_IMPLICIT,	/* TLS from the connect on (RFC 8314, 465) */
};

#define CONF_PASSWORD_MAX	256
/*
 * AUTH PLAIN sends base64(NUL user NUL password) (RFC 4616) on one command
 * line of 512 bytes with its CRLF (RFC 5321 4.5.3.1.4, RFC 4954 4):
 * "AUTH PLAIN " and CRLF leave 498 characters, 124 base64 quanta of 3 bytes,
 * so user and password together may have 370 bytes.  etrn.c asserts this
 * against its command buffer.
 */
#define CONF_AUTH_PLAIN_MAX	370

enum conf_command {
	CONF_CMD_ETRN,
	CONF_CMD_QSND,		/* Post.Office's proprietary verb */
};

struct conf_relay {
	char		 *name;		/* [relay NAME] */
	char		 *host;		/* DNS name or literal; default NAME */
	uint16_t	  port;		/* default 25 */
	char		**domains;	/* ETRN arguments, validated */
	size_t		  ndomains;
	bool		  domains_from_daemon; /* copied from [daemon] */
	enum conf_command command;
	char		 *source;	/* local address literal or NULL */
	enum conf_tls	  tls;		/* default opportunistic */
	char		 *tls_ca;	/* PEM bundle, NULL = system store */
	bool		  tls_verify;	/* default yes */
	char		 *auth_user;	/* NULL = no AUTH */
	char		 *auth_password_file;
	char		 *auth_password_credential; /* a systemd credential */
	char		 *auth_password; /* read at parse time; NULL only
					    under CONF_CHECK_ONLY */
	bool		  auth_cleartext; /* default no */
	/* delivers-from: where the provider's mail comes from besides the
	 * relay's own addresses (at most CONF_DELIVERS_FROM_MAX) */
	struct flushwatch_net *delivers_from;
	size_t		  ndelivers_from;
	unsigned	  line;		/* line of the section header */
};

struct conf {
	char		 *path;
	char		**watch;	/* names or fnmatch(3) globs */
	size_t		  nwatch;	/* 0 = every non-loopback interface */
	enum conf_linkup  linkup;
	uint64_t	  settle_ms;		/* default 2s; 0: hold-down */
	uint64_t	  holddown_ms;		/* default 0: every link-up */
	uint64_t	  interval_ms;		/* default 0 = off */
	bool		  run_at_start;		/* default yes */
	char		 *helo;			/* NULL = host's FQDN */
	uint64_t	  retry_min_ms;		/* default 30s */
	uint64_t	  retry_max_ms;		/* default 30m */
	uint64_t	  give_up_ms;		/* default 6h */
	uint64_t	  connect_timeout_ms;	/* default 30s */
	uint64_t	  reply_timeout_ms;	/* default 5m */
	unsigned	  max_sessions;		/* default 64 */
	char		 *local_smtp_host;	/* local-smtp = ADDR:PORT, or NULL */
	uint16_t	  local_smtp_port;
	char		 *control_socket;	/* default CONF_CONTROL_SOCKET */
	uint64_t	  flush_window_ms;	/* default 5m; 0: not watched */
	uint64_t	  flush_quiet_ms;	/* default 30s */
	char		 *metrics_file;		/* NULL: none written */
	char		**domains;		/* default for relays, or NULL */
	size_t		  ndomains;
	struct conf_relay *relays;
	size_t		  nrelays;
};

/*
 * Parse a file, both steps.  On success return the config and set *errors
 * to NULL.
 * On failure return NULL and set *errors to a malloc'd text of one
 * "file:line: message\n" per problem (line 0 is omitted: "file: message").
 */
struct conf	*conf_load(const char *path, char **errors);
/* The same from memory; path is only used in messages.  For tests, fuzzing. */
struct conf	*conf_parse(const char *path, const char *text, size_t len,
		    char **errors);

/* conf_load_flags() flags. */
#define CONF_NO_FILES	0x01	/* neither read nor check the files named
				   (secrets, CA): for etrnctl, which only
				   wants control-socket */
#define CONF_CHECK_ONLY	0x02	/* etrnd -t: a credential outside the
				   service is not an error */
struct conf	*conf_load_flags(const char *path, unsigned flags,
		    char **errors);
struct conf	*conf_parse_flags(const char *path, const char *text,
		    size_t len, unsigned flags, char **errors);
void		 conf_free(struct conf *);

/*
 * Same host, port, source, command, domains, TLS and AUTH: keep the
 * relay's state.  delivers-from is not compared (a change keeps it).
 */
bool		 conf_relay_equal(const struct conf_relay *,
		    const struct conf_relay *);
const struct conf_relay *conf_relay_find(const struct conf *, const char *name);
/*
 * A relay's settings on their own, for a session that may outlive its
 * configuration (a reload): a deep copy, the password included; freed
 * (the password wiped) by conf_relay_free().  NULL is a no-op there.
 */
struct conf_relay *conf_relay_dup(const struct conf_relay *);
void		 conf_relay_free(struct conf_relay *);

/* "90", "30s", "5m", "6h", "250ms" -> milliseconds; 0 or -1 (EINVAL/ERANGE). */
int		 conf_parse_duration(const char *, uint64_t *ms);
/*
 * Check one ETRN argument: "example.org", "@example.org" or "#queue".  A
 * plain or "@" argument must be a domain name (LDH labels of 1 to 63 bytes)
 * or an address literal; a queue name any printable word.  NULL if valid,
 * else why not ("has an empty label (\"..\")"): static, or valid until the
 * next call.
 */
const char	*conf_domain_check(const char *arg);

/*
 * A password file as auth-password-file reads it: its first line, no
 * symbolic link, a regular file and, with strict, owned by this user or
 * root with no access for group or others.  A copy, or NULL with why
 * (the path escaped, no key name) in err.  Free with conf_password_free().
 */
char		*conf_password_read(const char *path, bool strict, char *err,
		    size_t errlen);
/* Wipe and free; NULL is a no-op. */
void		 conf_password_free(char *);

/* A value of the tls key ("implicit", any case): 0, or -1 if none. */
int		 conf_tls_parse(const char *name, enum conf_tls *);

/* The -t summary: relays, domains, watched links, timings. */
void		 conf_print_summary(const struct conf *, FILE *);

#endif
