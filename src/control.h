/* SPDX-License-Identifier: ISC */
/*
 * control: the daemon's end of etrnctl(8): a unix stream socket served in
 * the event loop, its clients and their deadlines.  The protocol (request
 * and answer grammar) is ctlproto.h's; what status, run and history show
 * is report.h's, what metrics shows metrics.h's.
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

/* Clients served at once: each holds a descriptor (for an fd budget). */
#define CONTROL_CLIENTS_MAX	64
/* The static group whose members may use the socket (sysusers.d). */
#define CONTROL_ADMIN_GROUP	"etrnd-admin"

/* What status shows about the daemon itself; filled by its owner. */
struct control_daemon_info {
	long		 pid;		/* set by control */
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
