/* SPDX-License-Identifier: ISC */
/*
 * ctlproto: the control protocol's grammar, once for etrnctl and etrnd
 * (see ctlproto.h): requests parsed and formatted, answers produced and
 * classified.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <net/if.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "ctlproto.h"
#include "log.h"
#include "util.h"

const char *const ctlproto_usage[] = {
	CTLPROTO_USAGE_STATUS,
	CTLPROTO_USAGE_RUN,
	CTLPROTO_USAGE_HISTORY,
	CTLPROTO_USAGE_METRICS,
	CTLPROTO_USAGE_RELOAD,
	NULL,
};

/* For the message about an unknown command. */
#define USAGE_ALL	CTLPROTO_USAGE_STATUS ", " CTLPROTO_USAGE_RUN ", " \
			CTLPROTO_USAGE_HISTORY ", " \
			CTLPROTO_USAGE_METRICS ", " CTLPROTO_USAGE_RELOAD

static int	req_error(char *, size_t, const char *, ...) LOG_FMT(3, 4);

static int
req_error(char *err, size_t len, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* A word the line protocol can carry: no space, no control character. */
bool
ctlproto_word_ok(const char *w)
{
	const unsigned char	*p;

	if (*w == '\0')
		return false;
	for (p = (const unsigned char *)w; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

/* A peer's word, quotes escaped too, for a message in quotes. */
#define VIS_MAX		64
struct vis {
	char	s[STR_VIS_LEN(VIS_MAX)];
};

static const char *
vis(const char *w, struct vis *v)
{
	return str_vis(v->s, w, VIS_MAX, "\"");
}

/* run --link IFACE: once, and a name the kernel would take. */
static int
req_link(struct ctlproto_req *req, const char *link, char *err, size_t len)
{
	struct vis	v1, v2;

	if (*link == '\0')
		return req_error(err, len, "--link needs an interface name ("
		    CTLPROTO_USAGE_RUN ")");
	if (req->link != NULL)
		return req_error(err, len, "--link given twice (\"%s\" and "
		    "\"%s\")", vis(req->link, &v1), vis(link, &v2));
	if (!ifname_valid(link))
		return req_error(err, len, "--link: \"%s\" is not an interface "
		    "name (1 to %d bytes; no \"/\", \":\", space or control "
		    "character)", vis(link, &v1), IFNAMSIZ - 1);
	req->link = link;
	return 0;
}

static int
req_parse_run(char * const *words, size_t n, struct ctlproto_req *req,
    char *err, size_t len)
{
	const char	*w, *link;
	struct vis	 v1;
	size_t		 i, first = 0;
	bool		 opts = true;

	/* Relays are the words that are not options, in order; after "--",
	 * every word is a relay ("-x" is a valid relay name). */
	for (i = 1; i < n; i++) {
		w = words[i];
		if (opts && w[0] == '-') {
			if (strcmp(w, "--") == 0)
				opts = false;
			else if (strcmp(w, "--no-wait") == 0)
				req->wait = false;
			else if (strcmp(w, "--watch") == 0)
				req->flush = true;
			else if (strcmp(w, "--link") == 0 ||
			    strncmp(w, "--link=", 7) == 0) {
				if (w[6] == '=')
					link = w + 7;
				else if (i + 1 < n && words[i + 1][0] != '-')
					link = words[++i];
				else
					link = "";
				if (req_link(req, link, err, len) == -1)
					return -1;
			} else
				return req_error(err, len, "run: unknown "
				    "option \"%s\" (" CTLPROTO_USAGE_RUN ")",
				    vis(w, &v1));
			continue;
		}
		/* The relay names must be together, in their order. */
		if (first == 0)
			first = i;
		if (req->nrelays > 0 && first + req->nrelays != i)
			return req_error(err, len, "run: options go before "
			    "the relay names (" CTLPROTO_USAGE_RUN ")");
		req->nrelays++;
	}
	if (req->flush && !req->wait)
		return req_error(err, len, "run: --watch waits for the flush "
		    "verdicts, --no-wait for nothing: not both ("
		    CTLPROTO_USAGE_RUN ")");
	req->relays = req->nrelays > 0 ? words + first : NULL;
	return 0;
}

/* history [--json] [RELAY]: one relay at most, before or after --json. */
static int
req_parse_history(char * const *words, size_t n, struct ctlproto_req *req,
    char *err, size_t len)
{
	const char	*w;
	struct vis	 v1, v2;
	size_t		 i;
	bool		 opts = true;

	for (i = 1; i < n; i++) {
		w = words[i];
		if (opts && strcmp(w, "--") == 0) {
			opts = false;
			continue;
		}
		if (opts && strcmp(w, "--json") == 0) {
			req->json = true;
			continue;
		}
		if (opts && w[0] == '-')
			return req_error(err, len, "history: unknown option "
			    "\"%s\" (" CTLPROTO_USAGE_HISTORY ")", vis(w, &v1));
		if (req->nrelays > 0)
			return req_error(err, len, "history: one relay at "
			    "most (got \"%s\" and \"%s\")",
			    vis(req->relays[0], &v1), vis(w, &v2));
		req->relays = words + i;
		req->nrelays = 1;
	}
	return 0;
}

int
ctlproto_req_parse(char * const *words, size_t n, struct ctlproto_req *req,
    char *err, size_t len)
{
	struct vis	v;
	size_t		i;

	memset(req, 0, sizeof(*req));
	req->wait = true;
	if (n == 0)
		return req_error(err, len, "no command given (status, run, "
		    "history, metrics, reload)");
	if (n > CTLPROTO_WORDS_MAX)
		return req_error(err, len, "more than %d words",
		    CTLPROTO_WORDS_MAX);
	for (i = 0; i < n; i++)
		if (!ctlproto_word_ok(words[i]))
			return req_error(err, len, "argument %zu (\"%s\") is "
			    "empty or has a space or control character", i + 1,
			    vis(words[i], &v));
	if (strcmp(words[0], "status") == 0) {
		req->verb = CTLPROTO_STATUS;
		for (i = 1; i < n; i++) {
			if (strcmp(words[i], "--json") != 0)
				return req_error(err, len, "status: unexpected "
				    "\"%s\" (" CTLPROTO_USAGE_STATUS ")",
				    vis(words[i], &v));
			req->json = true;
		}
		return 0;
	}
	if (strcmp(words[0], "reload") == 0) {
		req->verb = CTLPROTO_RELOAD;
		if (n > 1)
			return req_error(err, len, "reload takes no arguments "
			    "(got \"%s\")", vis(words[1], &v));
		return 0;
	}
	if (strcmp(words[0], "metrics") == 0) {
		req->verb = CTLPROTO_METRICS;
		if (n > 1)
			return req_error(err, len, "metrics takes no arguments "
			    "(got \"%s\")", vis(words[1], &v));
		return 0;
	}
	if (strcmp(words[0], "run") == 0) {
		req->verb = CTLPROTO_RUN;
		return req_parse_run(words, n, req, err, len);
	}
	if (strcmp(words[0], "history") == 0) {
		req->verb = CTLPROTO_HISTORY;
		return req_parse_history(words, n, req, err, len);
	}
	return req_error(err, len, "unknown command \"%s\" (" USAGE_ALL ")",
	    vis(words[0], &v));
}

int
ctlproto_req_format(const struct ctlproto_req *req, char *buf, size_t len)
{
	size_t	off, i;
	int	n;
	bool	dashes = false;

	switch (req->verb) {
	case CTLPROTO_STATUS:
		n = snprintf(buf, len, "status%s\n", req->json ? " --json" : "");
		return n < 0 || (size_t)n >= len ? -1 : 0;
	case CTLPROTO_METRICS:
		n = snprintf(buf, len, "metrics\n");
		return n < 0 || (size_t)n >= len ? -1 : 0;
	case CTLPROTO_RELOAD:
		n = snprintf(buf, len, "reload\n");
		return n < 0 || (size_t)n >= len ? -1 : 0;
	case CTLPROTO_HISTORY:
	case CTLPROTO_RUN:
		break;
	}
	/*
	 * history and run: the verb and its options, then the relays, after
	 * "--" if one looks like an option.  An interface name that does
	 * is glued to --link.
	 */
	for (i = 0; i < req->nrelays; i++)
		if (req->relays[i][0] == '-')
			dashes = true;
	if (req->verb == CTLPROTO_HISTORY)
		n = snprintf(buf, len, "history%s", req->json ? " --json" : "");
	else
		n = snprintf(buf, len, "run%s%s%s%s",
		    req->wait ? "" : " --no-wait",
		    req->flush ? " --watch" : "",
		    req->link == NULL ? "" : req->link[0] == '-' ? " --link=" :
		    " --link ", req->link != NULL ? req->link : "");
	if (n < 0 || (size_t)n >= len)
		return -1;
	off = (size_t)n;
	if (dashes) {
		if (off + 3 >= len)
			return -1;
		memcpy(buf + off, " --", 4);
		off += 3;
	}
	for (i = 0; i < req->nrelays; i++) {
		n = snprintf(buf + off, len - off, " %s", req->relays[i]);
		if (n < 0 || (size_t)n >= len - off)
			return -1;
		off += (size_t)n;
	}
	if (off + 2 > len)
		return -1;
	memcpy(buf + off, "\n", 2);
	return 0;
}

size_t
ctlproto_split(char *line, char **words, size_t max)
{
	size_t	n = 0;
	char	*w;

	while (n < max && (w = strsep(&line, " \t")) != NULL)
		if (*w != '\0')
			words[n++] = w;
	return n;
}

int
ctlproto_answer_parse(const char *line, struct ctlproto_answer *a)
{
	const char	*p;
	int		 status = 0;

	memset(a, 0, sizeof(*a));
	if (strncmp(line, "- ", 2) == 0) {
		a->kind = CTLPROTO_DATA;
		a->text = line + 2;
		return 0;
	}
	if (strcmp(line, "ok") == 0 || strncmp(line, "ok ", 3) == 0) {
		a->kind = CTLPROTO_OK;
		a->text = line[2] == ' ' ? line + 3 : NULL;
		return 0;
	}
	if (strncmp(line, "error ", 6) == 0 && line[6] != '\0') {
		a->kind = CTLPROTO_ERROR;
		a->text = line + 6;
		return 0;
	}
	if (strncmp(line, "exit ", 5) != 0)
		return -1;
	/* 0 to 255 in decimal, nothing else. */
	for (p = line + 5; *p >= '0' && *p <= '9' && p - line < 8; p++)
		status = status * 10 + (*p - '0');
	if (p == line + 5 || *p != '\0' || p - line > 8 || status > 255 ||
	    (line[5] == '0' && p - line > 6))
		return -1;
	a->kind = CTLPROTO_EXIT;
	a->status = status;
	return 0;
}

void
ctlproto_answer_add(struct evbuffer *out, const struct ctlproto_answer *a)
{
	switch (a->kind) {
	case CTLPROTO_DATA:
		evbuffer_add_printf(out, "- %s\n", a->text);
		break;
	case CTLPROTO_OK:
		if (a->text != NULL)
			evbuffer_add_printf(out, "ok %s\n", a->text);
		else
			evbuffer_add(out, "ok\n", 3);
		break;
	case CTLPROTO_EXIT:
		evbuffer_add_printf(out, "exit %d\n", a->status);
		break;
	case CTLPROTO_ERROR:
		evbuffer_add_printf(out, "error %s\n", a->text);
		break;
	}
}

int
ctlproto_sockaddr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}
