/* SPDX-License-Identifier: ISC */
/*
 * stub-smtpd: the ETRN server for etrnd's benchmarks.  It answers like
 * Postfix (220 greeting, EHLO listing ETRN, "250 Queuing started", 221)
 * and logs "<unix time, microseconds> <connection no> CONNECT|ETRN x|QUIT"
 * to --log, the format of tests/integration/etrn-listener.py.  Unlike that
 * listener it is one epoll loop in C: a thousand concurrent sessions cost
 * it nothing, and a link-up figure of a millisecond measures the client,
 * not a Python thread start.
 *
 * usage: stub-smtpd [-l LOG] [-r READYFILE] [-t LIFETIME_S] ADDRESS PORT
 * ADDRESS 0.0.0.0 in a namespace of its own accepts all of 127.0.0.0/8.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN	1024
#define MAX_EVENTS	256

struct conn {
	int	fd;
	long	no;
	size_t	len;
	char	buf[LINE_MAX_LEN];
};

static FILE *logfp;

static void
record(long no, const char *what)
{
	struct timeval tv;

	if (logfp == NULL)
		return;
	gettimeofday(&tv, NULL);
	fprintf(logfp, "%lld.%06ld %ld %s\n", (long long)tv.tv_sec,
	    (long)tv.tv_usec, no, what);
	fflush(logfp);
}

/* Small replies to a fresh socket buffer never block. */
static void
say(struct conn *c, const char *s)
{
	ssize_t n = write(c->fd, s, strlen(s));

	(void)n;
}

static void
conn_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* One command line; returns -1 when the connection is to be closed. */
static int
conn_line(struct conn *c, char *line)
{
	char rec[LINE_MAX_LEN + 16];

	if (strncasecmp(line, "EHLO", 4) == 0)
		say(c, "250-stub.example\r\n250-PIPELINING\r\n250-ETRN\r\n"
		    "250 8BITMIME\r\n");
	else if (strncasecmp(line, "HELO", 4) == 0)
		say(c, "250 stub.example\r\n");
	else if (strncasecmp(line, "ETRN", 4) == 0 ||
	    strncasecmp(line, "QSND", 4) == 0) {
		snprintf(rec, sizeof(rec), "%s", line);
		record(c->no, rec);
		say(c, "250 Queuing started\r\n");
	} else if (strncasecmp(line, "QUIT", 4) == 0) {
		record(c->no, "QUIT");
		say(c, "221 2.0.0 Bye\r\n");
		return -1;
	} else
		say(c, "502 5.5.2 Error: command not recognized\r\n");
	return 0;
}

static int
conn_read(struct conn *c)
{
	char *nl, *p;
	ssize_t n;

	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n <= 0)
		return n == -1 && errno == EAGAIN ? 0 : -1;
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	p = c->buf;
	while ((nl = strchr(p, '\n')) != NULL) {
		*nl = '\0';
		if (nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		if (conn_line(c, p) == -1)
			return -1;
		p = nl + 1;
	}
	c->len -= (size_t)(p - c->buf);
	memmove(c->buf, p, c->len);
	return c->len >= sizeof(c->buf) - 1 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	struct epoll_event ev, evs[MAX_EVENTS];
	struct sockaddr_storage ss;
	struct conn *c;
	const char *ready = NULL;
	double lifetime = 300;
	time_t deadline;
	long nconn = 0;
	socklen_t sl;
	int ch, ep, lfd, fd, i, n, one = 1;

	while ((ch = getopt(argc, argv, "l:r:t:")) != -1) {
		switch (ch) {
		case 'l':
			if ((logfp = fopen(optarg, "a")) == NULL)
				err(1, "%s", optarg);
			break;
		case 'r':
			ready = optarg;
			break;
		case 't':
			lifetime = atof(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2)
		goto usage;
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, argv[optind],
	    &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port =
		    htons((unsigned short)atoi(argv[optind + 1]));
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, argv[optind],
	    &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port =
		    htons((unsigned short)atoi(argv[optind + 1]));
		sl = sizeof(struct sockaddr_in6);
	} else
		errx(1, "%s: not an address", argv[optind]);

	if ((lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		err(1, "socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&ss, sl) == -1)
		err(1, "bind %s:%s", argv[optind], argv[optind + 1]);
	if (listen(lfd, 4096) == -1)
		err(1, "listen");
	if ((ep = epoll_create1(0)) == -1)
		err(1, "epoll_create1");
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	if (ready != NULL && (fd = open(ready, O_WRONLY | O_CREAT, 0644)) != -1)
		close(fd);

	deadline = time(NULL) + (time_t)lifetime;
	while (time(NULL) < deadline) {
		n = epoll_wait(ep, evs, MAX_EVENTS, 1000);
		for (i = 0; i < n; i++) {
			if ((c = evs[i].data.ptr) != NULL) {
				if (conn_read(c) == -1)
					conn_close(ep, c);
				continue;
			}
			while ((fd = accept4(lfd, NULL, NULL,
			    SOCK_NONBLOCK)) != -1) {
				char rec[80];
				struct sockaddr_storage peer;
				socklen_t pl = sizeof(peer);
				char host[INET6_ADDRSTRLEN] = "?";

				if ((c = calloc(1, sizeof(*c))) == NULL)
					err(1, "calloc");
				c->fd = fd;
				c->no = ++nconn;
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				    sizeof(one));
				if (getpeername(fd, (struct sockaddr *)&peer,
				    &pl) == 0) {
					if (peer.ss_family == AF_INET)
						inet_ntop(AF_INET, &((struct
						    sockaddr_in *)&peer)->sin_addr,
						    host, sizeof(host));
					else
						inet_ntop(AF_INET6, &((struct
						    sockaddr_in6 *)&peer)->sin6_addr,
						    host, sizeof(host));
				}
				snprintf(rec, sizeof(rec), "CONNECT %s", host);
				record(c->no, rec);
				say(c, "220 stub.example ESMTP stub-smtpd\r\n");
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			}
		}
	}
	return 0;
usage:
	fprintf(stderr, "usage: stub-smtpd [-l log] [-r ready] [-t lifetime]"
	    " address port\n");
	return 2;
}
