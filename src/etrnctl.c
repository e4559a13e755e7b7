/* SPDX-License-Identifier: ISC */
/*
 * etrnctl: talk to a running etrnd over its control socket (see ctlproto.h
 * for the protocol): show its state, its recent runs or its metrics, make
 * it ask its relays now (and say what came back), or make it re-read its
 * configuration and say whether that worked.
 *
 * Which socket: -s SOCKET; else control-socket in -c FILE; else the one in
 * the default configuration file if that exists; else the default socket.
 * So ExecReload= and the ppp hook follow control-socket by themselves.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "conf.h"
#include "control.h"
#include "ctlproto.h"
#include "log.h"
#include "util.h"

/* All but a waiting run, whose answer may take flush-window and more. */
#define ETRNCTL_TIMEOUT_S	30

/*
 * An error line on stderr through log: with the journal's "<3>" when
 * stderr is the journal (ExecReload=), plain on a terminal.
 */
static void
ctl_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
ctl_errx(const char *fmt, ...)
{
	char	msg[4096];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("etrnctl: %s", msg);
}

static void
usage(FILE *fp)
{
	size_t	i;

	for (i = 0; ctlproto_usage[i] != NULL; i++)
		fprintf(fp, "%s etrnctl [-s SOCKET | -c FILE] %s\n",
		    i == 0 ? "usage:" : "      ", ctlproto_usage[i]);
	fprintf(fp,
	    "  -s, --socket PATH  etrnd's control socket\n"
	    "  -c, --config FILE  use the control-socket set in FILE (default "
	    "%s,\n"
	    "                     else %s)\n"
	    "  -V, --version      print the version and exit\n"
	    "  -h, --help         print this help and exit\n",
	    ETRND_CONF_PATH, CONF_CONTROL_SOCKET);
}

/* A configuration's file:line errors, each a line of its own. */
static void
ctl_print_errors(const char *errors)
{
	const char	*p = errors, *nl;

	for (; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p) - 1;
		log_err("%.*s", (int)(nl - p + (*nl != '\n')), p);
	}
}

/* The socket to use, and where that choice came from, for messages. */
struct ctl_where {
	char	*path;
	char	 origin[512];
	char	*errors;	/* the file's, when they hid control-socket */
};

/*
 * Apply the one rule for finding the socket.  0, or -1 with *status set
 * when -c names a file that cannot be read.
 */
static int
ctl_find_socket(const char *sock, const char *file, struct ctl_where *w,
    int *status)
{
	struct conf	*conf;
	char		*errors = NULL;
	const char	*path = file != NULL ? file : ETRND_CONF_PATH;
	int		 fd;

	if (sock != NULL) {
		w->path = strdup(sock);
		snprintf(w->origin, sizeof(w->origin), "given with -s");
		goto done;
	}
	/* Only whether it can be read: the parser reports the rest. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		if (file != NULL) {
			ctl_errx("cannot read %s: %s", file, strerror(errno));
			*status = EX_CONFIG;
			return -1;
		}
		w->path = strdup(CONF_CONTROL_SOCKET);
		snprintf(w->origin, sizeof(w->origin), "the default; %s %s",
		    path, errno == ENOENT ? "does not exist" :
		    "cannot be read");
		goto done;
	}
	close(fd);
	if ((conf = conf_load_flags(path, CONF_NO_FILES, &errors)) == NULL) {
		/* -c FILE named the daemon: never guess another. */
		if (file != NULL) {
			ctl_print_errors(errors);
			ctl_errx("%s has errors, so its control-socket cannot be "
			    "read", file);
			free(errors);
			*status = EX_CONFIG;
			return -1;
		}
		/* A reload of a broken default file must still reach the
		 * daemon, which reports the errors itself. */
		w->errors = errors;
		w->path = strdup(CONF_CONTROL_SOCKET);
		snprintf(w->origin, sizeof(w->origin), "the default; %s has "
		    "errors, so its control-socket was not read", path);
		goto done;
	}
	w->path = strdup(conf->control_socket);
	if (strcmp(conf->control_socket, CONF_CONTROL_SOCKET) == 0)
		snprintf(w->origin, sizeof(w->origin), "the default; %s sets "
		    "no other control-socket", path);
	else
		snprintf(w->origin, sizeof(w->origin), "from %s's "
		    "control-socket", path);
	conf_free(conf);
done:
	if (w->path == NULL) {
		ctl_errx("%s", strerror(errno));
		*status = EX_OSERR;
		return -1;
	}
	return 0;
}

/* Connect, or say plainly what was tried and why it failed. */
static int
ctl_connect(const struct ctl_where *w, int *status)
{
	struct sockaddr_un	sun;
	int			fd;

	if (ctlproto_sockaddr(w->path, &sun) == -1) {
		ctl_errx("%s: path too long for a socket (%s)", w->path,
		    w->origin);
		*status = EX_USAGE;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		ctl_errx("socket: %s", strerror(errno));
		*status = EX_OSERR;
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		switch (errno) {
		case ENOENT:
		case ECONNREFUSED:
		case ENOTDIR:
			ctl_errx("no etrnd is listening on %s (%s)", w->path,
			    w->origin);
			*status = EX_UNAVAILABLE;
			break;
		case EACCES:
		case EPERM:
			ctl_errx("permission denied on %s: only root and "
			    "members of group %s may use it", w->path,
			    CONTROL_ADMIN_GROUP);
			*status = EX_NOPERM;
			break;
		default:
			ctl_errx("%s (%s): %s", w->path, w->origin,
			    strerror(errno));
			*status = EX_UNAVAILABLE;
			break;
		}
		close(fd);
		return -1;
	}
	return fd;
}

/* Read the answer; its final line gives the exit status. */
static int
ctl_answer(FILE *fp, const struct ctlproto_req *req)
{
	struct ctlproto_answer	 a;
	char			*line = NULL, shown[STR_VIS_LEN(80)];
	size_t			 cap = 0;
	ssize_t			 len;
	int			 status = -1;

	errno = 0;
	while (status == -1 && (len = getline(&line, &cap, fp)) != -1) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (ctlproto_answer_parse(line, &a) == -1) {
			ctl_errx("unexpected answer from etrnd: %s",
			    str_vis(shown, line, 80, ""));
			status = EX_PROTOCOL;
			break;
		}
		switch (a.kind) {
		case CTLPROTO_DATA:
			/*
			 * A rejected reload's file:line errors are errors.
			 * The rest as it comes: a run's results are shown
			 * while its flush verdicts are awaited.
			 */
			if (req->verb == CTLPROTO_RELOAD)
				log_err("%s", a.text);
			else {
				printf("%s\n", a.text);
				fflush(stdout);
			}
			break;
		case CTLPROTO_OK:
			/* A reload says it worked; status and run show it. */
			if (a.text != NULL)
				printf("%s\n", a.text);
			else if (req->verb == CTLPROTO_RELOAD ||
			    (req->verb == CTLPROTO_RUN && !req->wait))
				printf("ok\n");
			status = 0;
			break;
		case CTLPROTO_EXIT:
			status = a.status;
			break;
		case CTLPROTO_ERROR:
			ctl_errx("%s", a.text);
			status = 1;
			break;
		}
	}
	if (status == -1) {
		ctl_errx("etrnd closed the connection without an answer%s%s",
		    errno != 0 ? ": " : "", errno != 0 ? strerror(errno) : "");
		status = EX_UNAVAILABLE;
	}
	free(line);
	return status;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "socket",	required_argument,	NULL, 's' },
		{ "config",	required_argument,	NULL, 'c' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 },
	};
	const char		*sock = NULL, *file = NULL;
	char			 req_line[CTLPROTO_LINE_MAX + 2], err[256];
	struct ctlproto_req	 req;
	struct ctl_where	 where = { NULL, "", NULL };
	FILE			*fp;
	int			 ch, fd, status = -1;

	log_init(0);
	/* "+": stop at the command, so "run --no-wait" reaches it intact. */
	while ((ch = getopt_long(argc, argv, "+s:c:Vh", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'c':
			file = optarg;
			break;
		case 'V':
			printf("etrnctl %s\n", ETRND_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (sock != NULL && file != NULL) {
		ctl_errx("-s and -c both name the socket: give one");
		return EX_USAGE;
	}
	if (ctlproto_req_parse(argv, (size_t)argc, &req, err,
	    sizeof(err)) == -1) {
		ctl_errx("%s", err);
		return EX_USAGE;
	}
	if (ctlproto_req_format(&req, req_line, sizeof(req_line)) == -1 ||
	    strlen(req_line) > CTLPROTO_LINE_MAX) {
		ctl_errx("request longer than %d bytes", CTLPROTO_LINE_MAX);
		return EX_USAGE;
	}
	if (ctl_find_socket(sock, file, &where, &status) == -1)
		return status;
	signal(SIGPIPE, SIG_IGN);

	if ((fd = ctl_connect(&where, &status)) == -1) {
		/* Perhaps the daemon is where the broken file says. */
		if (where.errors != NULL)
			ctl_print_errors(where.errors);
		free(where.errors);
		free(where.path);
		return status;
	}
	free(where.errors);
	free(where.path);
	if (req.verb != CTLPROTO_RUN || !req.wait) {
		struct timeval tv = { ETRNCTL_TIMEOUT_S, 0 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (write(fd, req_line, strlen(req_line)) != (ssize_t)strlen(req_line)) {
		ctl_errx("sending to etrnd: %s", strerror(errno));
		close(fd);
		return EX_UNAVAILABLE;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		ctl_errx("%s", strerror(errno));
		close(fd);
		return EX_OSERR;
	}
	status = ctl_answer(fp, &req);
	fclose(fp);
	return status;
}
