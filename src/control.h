/* SPDX-License-Identifier: ISC */
/*
 * control: the daemon's end of etrnctl(8): a unix stream socket served in
 * the event loop, and the request grammar both ends parse with the same
 * function (control_req_parse).  One request line per connection:
 *
 *   status [--json]               the daemon, its links and relays
 *   run [--no-wait] [--link IFACE] [RELAY...]
 *                                 ask now and wait for the results; with
 *                                 --link, only if IFACE is watched
 *   reload                        re-read the configuration, synchronously
 *
 * The answer is any number of data lines, each starting with "- ", and one
 * final line: "ok" (perhaps followed by a note), "exit N" (run: the status
 * etrnd --once would give) or "error MESSAGE".  Whatever of the peer's an
 * answer, a log line or status repeats has backslash and every byte outside
 * printable ASCII (and a quote inside quotes) escaped as \xNN, as does a
 * server's reply text in status.  IFACE must be an interface name
 * the kernel would take (1 to 15 bytes, no "/", ":", space or control
 * character, not "." or ".."; bytes above 0x7e only as UTF-8 without C1).
 */
#ifndef ETRND_CONTROL_H
#define ETRND_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct event_base;
struct linkstate;
struct sched;
struct control;

#define CONTROL_LINE_MAX	4096	/* a request, and each answer line */
#define CONTROL_WORDS_MAX	256
/* Clients served at once: each holds a descriptor (for an fd budget). */
#define CONTROL_CLIENTS_MAX	64
/* The static group whose members may use the socket (sysusers.d). */
#define CONTROL_ADMIN_GROUP	"etrnd-admin"

enum control_verb {
	CONTROL_STATUS,
	CONTROL_RUN,
	CONTROL_RELOAD,
};

/* A parsed request; its strings point into the words it was parsed from. */
struct control_req {
	enum control_verb	 verb;
	bool			 json;		/* status --json */
	bool			 wait;		/* run: false with --no-wait */
	const char		*link;		/* run --link IFACE, or NULL */
	char * const		*relays;	/* run: the relays named */
	size_t			 nrelays;
};

/*
 * Parse the words of a request (etrnctl's arguments after its options, or
 * the daemon's split request line).  0, or -1 with a message in err that
 * says what was wrong ("--link needs an interface name"), the words it
 * quotes escaped.
 */
int	control_req_parse(char * const *words, size_t n, struct control_req *,
	    char *err, size_t errlen);
/* The canonical request line, newline included; -1 if it does not fit. */
int	control_req_format(const struct control_req *, char *buf, size_t len);

/* What status shows about the daemon itself; filled by its owner. */
struct control_daemon_info {
	const char	*conf_path;
	int64_t		 started;	/* wall seconds */
	int64_t		 reload_time;	/* wall seconds, 0 = never reloaded */
	bool		 reload_ok;
	const char	*reload_error;	/* the first error, or NULL */
};

struct control_ops {
	/* 0, or -1 with *errors: the parse errors, one per line, malloc'd. */
	int	(*reload)(void *arg, char **errors);
	void	(*info)(void *arg, struct control_daemon_info *);
	void	 *arg;
};

/*
 * Listen on path (mode 0660; a stale socket is replaced).  links may be
 * NULL.  NULL with errno on failure: EADDRINUSE when another process
 * serves the socket (control_serving_pid() says which), EACCES when one is
 * there that we may not connect to (it is left alone).
 */
struct control	*control_new(struct event_base *, const char *path,
		    struct sched *, struct linkstate *,
		    const struct control_ops *);
/* Closes every client and removes the socket.  NULL is a no-op. */
void		 control_free(struct control *);

/*
 * Who serves the socket at path: its pid (SO_PEERCRED); 0 when something
 * answers but its pid is unknown, or the socket is busy or not ours to use
 * (EAGAIN, EACCES); -1 when nothing does.
 */
pid_t		 control_serving_pid(const char *path);

#endif
