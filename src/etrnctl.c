/* SPDX-License-Identifier: ISC */
/*
 * etrnctl: talk to a running etrnd over its control socket (see control.h
 * for the protocol): show its state, make it ask its relays now, or make it
 * re-read its configuration and say whether that worked.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
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
#include "log.h"

#define ETRNCTL_TIMEOUT_S	30	/* status, reload, run --no-wait */

static bool	journal;	/* stderr is the journal (ExecReload=) */

/* An error line on stderr, with its journal priority when that is needed. */
static void
ctl_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
ctl_errx(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, journal ? "<3>etrnctl: " : "etrnctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: etrnctl [-s SOCKET] status [--json]\n"
	    "       etrnctl [-s SOCKET] run [--no-wait] [--link IFACE] "
	    "[RELAY...]\n"
	    "       etrnctl [-s SOCKET] reload\n"
	    "  -s, --socket PATH  etrnd's control socket (default %s)\n"
	    "  -V, --version      print the version and exit\n"
	    "  -h, --help         print this help and exit\n",
	    CONF_CONTROL_SOCKET);
}

/* Connect, or say plainly why not: -1 with *status the exit status. */
static int
ctl_connect(const char *path, int *status)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		ctl_errx("%s: path too long", path);
		*status = EX_USAGE;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
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
			ctl_errx("etrnd is not running (nothing "
			    "listens on %s)", path);
			*status = EX_UNAVAILABLE;
			break;
		case EACCES:
		case EPERM:
			ctl_errx("%s: %s (run as root or as a "
			    "member of the socket's group)", path,
			    strerror(errno));
			*status = EX_NOPERM;
			break;
		default:
			ctl_errx("%s: %s", path,
			    strerror(errno));
			*status = EX_UNAVAILABLE;
			break;
		}
		close(fd);
		return -1;
	}
	return fd;
}

/* Join the command words into one request line. */
static char *
ctl_request(int argc, char *argv[])
{
	size_t	len = 2;
	char	*req;
	int	i;

	for (i = 0; i < argc; i++) {
		if (strpbrk(argv[i], " \t\r\n") != NULL || argv[i][0] == '\0') {
			ctl_errx("invalid argument \"%s\"",
			    argv[i]);
			exit(EX_USAGE);
		}
		len += strlen(argv[i]) + 1;
	}
	if (len > CONTROL_LINE_MAX) {
		ctl_errx("request too long");
		exit(EX_USAGE);
	}
	if ((req = calloc(1, len)) == NULL) {
		ctl_errx("%s", strerror(errno));
		exit(EX_OSERR);
	}
	for (i = 0; i < argc; i++) {
		strcat(req, argv[i]);
		strcat(req, i + 1 < argc ? " " : "\n");
	}
	return req;
}

/* Check the command before bothering the daemon. */
static bool
ctl_valid(int argc, char *argv[])
{
	if (strcmp(argv[0], "status") == 0)
		return argc == 1 || (argc == 2 &&
		    strcmp(argv[1], "--json") == 0);
	if (strcmp(argv[0], "reload") == 0)
		return argc == 1;
	if (strcmp(argv[0], "run") == 0) {
		int	i = 1;

		for (; i < argc && argv[i][0] == '-'; i++) {
			if (strcmp(argv[i], "--link") == 0 && i + 1 < argc)
				i++;
			else if (strcmp(argv[i], "--no-wait") != 0)
				return false;
		}
		for (; i < argc; i++)
			if (argv[i][0] == '-')
				return false;
		return true;
	}
	return false;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "socket",	required_argument,	NULL, 's' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 },
	};
	const char	*path = CONF_CONTROL_SOCKET;
	char		*req, *line = NULL;
	size_t		 cap = 0;
	ssize_t		 len;
	FILE		*fp;
	bool		 reload, wait;
	int		 ch, fd, status = -1;

	/* "+": stop at the command, so "run --no-wait" reaches it intact. */
	while ((ch = getopt_long(argc, argv, "+s:Vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
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
	journal = log_stderr_is_journal();
	if (argc == 0 || !ctl_valid(argc, argv)) {
		usage(stderr);
		return EX_USAGE;
	}
	reload = strcmp(argv[0], "reload") == 0;
	wait = false;
	if (strcmp(argv[0], "run") == 0) {
		wait = true;
		for (ch = 1; ch < argc; ch++)
			if (strcmp(argv[ch], "--no-wait") == 0)
				wait = false;
	}
	req = ctl_request(argc, argv);
	signal(SIGPIPE, SIG_IGN);

	if ((fd = ctl_connect(path, &status)) == -1) {
		free(req);
		return status;
	}
	if (!wait) {
		struct timeval tv = { ETRNCTL_TIMEOUT_S, 0 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		ctl_errx("sending to etrnd: %s", strerror(errno));
		free(req);
		close(fd);
		return EX_UNAVAILABLE;
	}
	free(req);
	if ((fp = fdopen(fd, "r")) == NULL) {
		ctl_errx("%s", strerror(errno));
		return EX_OSERR;
	}
	errno = 0;
	while ((len = getline(&line, &cap, fp)) != -1) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (strncmp(line, "- ", 2) == 0) {
			/* A rejected reload's file:line errors are errors. */
			if (reload)
				fprintf(stderr, "%s%s\n", journal ? "<3>" : "",
				    line + 2);
			else
				printf("%s\n", line + 2);
		} else if (strcmp(line, "ok") == 0) {
			status = 0;
			break;
		} else if (strncmp(line, "ok ", 3) == 0) {
			printf("%s\n", line + 3);
			status = 0;
			break;
		} else if (strncmp(line, "exit ", 5) == 0) {
			status = atoi(line + 5);
			break;
		} else if (strncmp(line, "error ", 6) == 0) {
			ctl_errx("%s", line + 6);
			status = 1;
			break;
		} else {
			ctl_errx("unexpected answer from "
			    "etrnd: %.80s", line);
			status = EX_PROTOCOL;
			break;
		}
	}
	if (status == -1) {
		ctl_errx("etrnd closed the connection without "
		    "an answer%s%s", errno != 0 ? ": " : "",
		    errno != 0 ? strerror(errno) : "");
		status = EX_UNAVAILABLE;
	}
	free(line);
	fclose(fp);
	return status;
}
