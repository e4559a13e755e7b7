/* SPDX-License-Identifier: ISC */
/*
 * log: the daemon's one logging dialect.  Lines go to stderr; when stderr is
 * the journal (JOURNAL_STREAM names it) each line carries an sd-daemon "<N>"
 * priority prefix, and otherwise, once log_set_tag() named the program, a
 * timestamp and "name[pid]:".  Pure modules never call this: only the
 * boundaries do.
 */
#ifndef ETRND_LOG_H
#define ETRND_LOG_H

#include <stdarg.h>

#define LOG_FMT(a, b) __attribute__((format(printf, a, b)))

/* verbose: 0 = info and up, 1 = debug (the -v trace). */
void	log_init(int verbose);
/*
 * Outside the journal, start each line with the local time and
 * "name[pid]: " (a daemon's log file at 3 am); NULL: plain lines (etrnd -t,
 * whose file:line errors are read by people and editors).
 */
void	log_set_tag(const char *name);
int	log_getverbose(void);

/* log_warn appends ": strerror(errno)"; the x variants do not. */
void	log_warn(const char *, ...) LOG_FMT(1, 2);
void	log_warnx(const char *, ...) LOG_FMT(1, 2);
void	log_err(const char *, ...) LOG_FMT(1, 2);	/* LOG_ERR, no errno */
void	log_notice(const char *, ...) LOG_FMT(1, 2);
void	log_info(const char *, ...) LOG_FMT(1, 2);
void	log_debug(const char *, ...) LOG_FMT(1, 2);

/*
 * Key events, for `journalctl -x` and for scripts: under journald each goes
 * to the journal as a structured entry with a MESSAGE_ID of its type and
 * ETRND_* fields (explained by systemd/etrnd.catalog); elsewhere it is an
 * ordinary line.  Fields that do not apply are NULL or 0.
 */
enum log_event {
	LOG_EV_LINK_UP,		/* a watched link became usable */
	LOG_EV_ETRN_ACCEPTED,	/* 250-253 */
	LOG_EV_ETRN_REFUSED,	/* a permanent refusal */
	LOG_EV_RELAY_UNREACHABLE, /* no SMTP conversation at all */
	LOG_EV_GAVE_UP,		/* failing for longer than give-up */
	LOG_EV_FLUSH_DELIVERED,	/* the secondary's connections came */
	LOG_EV_FLUSH_NOTHING,	/* ETRN accepted, nothing came back */
};

struct log_fields {
	const char	*relay;		/* ETRND_RELAY */
	const char	*domain;	/* ETRND_DOMAIN */
	int		 code;		/* ETRND_REPLY_CODE, 0 = none */
	const char	*link;		/* ETRND_LINK */
};

void	log_event(int pri, enum log_event, const struct log_fields *,
	    const char *, ...) LOG_FMT(4, 5);

/* Broken invariants and out-of-memory only; never for peer input. */
__attribute__((noreturn)) void fatal(const char *, ...) LOG_FMT(1, 2);
__attribute__((noreturn)) void fatalx(const char *, ...) LOG_FMT(1, 2);

#endif
