/* SPDX-License-Identifier: ISC */
/*
 * ctlproto: the control protocol between etrnctl(8) and etrnd, written
 * once and used by both ends: a request (words) parsed into a verb, its
 * options and the relays named, and formatted back into the line etrnctl
 * sends; answer lines produced by the daemon and classified by etrnctl;
 * the usage text of the verbs; the socket's address.  No I/O, no logging.
 * One request line per connection:
 *
 *   status [--json]               the daemon, its links and relays
 *   run [--no-wait | --watch] [--link IFACE] [RELAY...]
 *                                 ask now and wait for the results; with
 *                                 --watch, then for the flush verdicts of
 *                                 the windows the runs opened; with
 *                                 --link, only if IFACE is watched
 *   history [--json] [RELAY]      the runs kept in memory, oldest first
 *   metrics                       the OpenMetrics exposition, "# EOF" last
 *   reload                        re-read the configuration, synchronously
 *
 * In run and history, "--" ends the options (a relay's name may start
 * with "-").
 *
 * The answer is any number of data lines, each starting with "- ", and one
 * final line: "ok" (perhaps followed by a note), "exit N" (run: the status
 * etrnd --once would give, 0 to 255) or "error MESSAGE".  A run's result
 * lines come as soon as its runs are over; its flush lines, and "exit N",
 * when the windows have their verdicts (up to flush-window later), so a
 * client waiting for a run reads with no deadline.  Whatever of the
 * peer's an answer, a log line or status repeats has backslash and every
 * byte outside printable ASCII (and a quote inside quotes) escaped as
 * \xNN, as does a server's reply text in status.  IFACE must be an
 * interface name the kernel would take (1 to 15 bytes, no "/", ":", space
 * or control character, not "." or ".."; bytes above 0x7e only as UTF-8
 * without C1).
 */
#ifndef ETRND_CTLPROTO_H
#define ETRND_CTLPROTO_H

#include <stdbool.h>
#include <stddef.h>

struct evbuffer;
struct sockaddr_un;

#define CTLPROTO_LINE_MAX	4096	/* a request, and each answer line */
#define CTLPROTO_WORDS_MAX	256

/* Each verb's usage, for etrnctl's usage() and the daemon's errors. */
#define CTLPROTO_USAGE_STATUS	"status [--json]"
#define CTLPROTO_USAGE_RUN	"run [--no-wait | --watch] [--link IFACE] " \
				"[RELAY...]"
#define CTLPROTO_USAGE_HISTORY	"history [--json] [RELAY]"
#define CTLPROTO_USAGE_METRICS	"metrics"
#define CTLPROTO_USAGE_RELOAD	"reload"
/* Every verb's, in the order above, then NULL. */
extern const char *const ctlproto_usage[];

enum ctlproto_verb {
	CTLPROTO_STATUS,
	CTLPROTO_RUN,
	CTLPROTO_HISTORY,
	CTLPROTO_METRICS,
	CTLPROTO_RELOAD,
};

/* A parsed request; its strings point into the words it was parsed from. */
struct ctlproto_req {
	enum ctlproto_verb	 verb;
	bool			 json;		/* status, history --json */
	bool			 wait;		/* run: false with --no-wait */
	bool			 flush;		/* run --watch */
	const char		*link;		/* run --link IFACE, or NULL */
	char * const		*relays;	/* run, history (at most one):
						 * the relays named */
	size_t			 nrelays;
};

/*
 * Parse the words of a request (etrnctl's arguments after its options, or
 * the daemon's split request line).  0, or -1 with a message in err that
 * says what was wrong ("--link needs an interface name"), the words it
 * quotes escaped.
 */
int	ctlproto_req_parse(char * const *words, size_t n,
	    struct ctlproto_req *, char *err, size_t errlen);
/* The canonical request line, newline included; -1 if it does not fit. */
int	ctlproto_req_format(const struct ctlproto_req *, char *buf,
	    size_t len);
/* Split a request line into words on spaces and tabs, in place. */
size_t	ctlproto_split(char *line, char **words, size_t max);
/* A word the line protocol can carry: not empty, no space or control. */
bool	ctlproto_word_ok(const char *);

enum ctlproto_kind {
	CTLPROTO_DATA,		/* "- TEXT" */
	CTLPROTO_OK,		/* "ok" or "ok NOTE": the end */
	CTLPROTO_EXIT,		/* "exit N": the end of a run */
	CTLPROTO_ERROR,		/* "error MESSAGE": the end */
};

/* One answer line; text points into the line parsed. */
struct ctlproto_answer {
	enum ctlproto_kind	 kind;
	const char		*text;	/* data, note (or NULL), message */
	int			 status;	/* exit N */
};

/* Classify an answer line (no newline).  0, or -1: not an answer. */
int	ctlproto_answer_parse(const char *line, struct ctlproto_answer *);
/* Append one answer line, newline included. */
void	ctlproto_answer_add(struct evbuffer *, const struct ctlproto_answer *);

/* The socket's address; -1 with ENAMETOOLONG if path does not fit. */
int	ctlproto_sockaddr(const char *path, struct sockaddr_un *);

#endif
