/* SPDX-License-Identifier: ISC */
/*
 * control: the daemon's end of etrnctl(8): a unix stream socket served in
 * the event loop.  One request line per connection:
 *
 *   status [--json]               the links and relays
 *   run [--no-wait] [--link IFACE] [RELAY...]
 *                                 ask now and wait for the results; with
 *                                 --link, only if IFACE is watched
 *   reload                        re-read the configuration, synchronously
 *
 * The answer is any number of data lines, each starting with "- ", and one
 * final line: "ok" (perhaps followed by a note), "exit N" (run: the status
 * etrnd --once would give) or "error MESSAGE".
 */
#ifndef ETRND_CONTROL_H
#define ETRND_CONTROL_H

struct event_base;
struct linkstate;
struct sched;
struct control;

#define CONTROL_LINE_MAX	4096	/* a request, and each answer line */

struct control_ops {
	/* 0, or -1 with *errors: the parse errors, one per line, malloc'd. */
	int	(*reload)(void *arg, char **errors);
	void	 *arg;
};

/*
 * Listen on path (mode 0660; a stale socket is replaced).  links may be
 * NULL.  NULL with errno on failure.
 */
struct control	*control_new(struct event_base *, const char *path,
		    struct sched *, struct linkstate *,
		    const struct control_ops *);
/* Closes every client and removes the socket.  NULL is a no-op. */
void		 control_free(struct control *);

#endif
