/* SPDX-License-Identifier: ISC */
/*
 * reply: the SMTP reply reader (RFC 5321 4.2), sans I/O.  The session hands
 * over one line at a time, without its CRLF; every limit a peer could abuse
 * is checked here again, so the reader is safe to fuzz on its own.
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "reply.h"

#define XSTR(x)		STR(x)
#define STR(x)		#x

/* The messages below name these numbers. */
_Static_assert(REPLY_LINE_MAX == 512, "update the line length message");
_Static_assert(REPLY_LINES_MAX == 64, "update the line count message");

/* More digits than this are not a count a server means. */
#define PENDING_DIGITS_MAX	10

void
reply_init(struct reply_parser *p)
{
	memset(p, 0, sizeof(*p));
}

/* Control characters other than TAB, and DEL; bytes >= 0x80 are UTF-8 text. */
static bool
reply_has_control(const char *s, size_t len)
{
	size_t		i;
	unsigned char	c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return true;
	}
	return false;
}

/* Append one line's text, '\n' between lines, keeping room for the NUL. */
static void
reply_append(struct reply *r, const char *text, size_t len)
{
	size_t	room;

	if (r->nlines > 1) {
		if (r->textlen + 1 >= sizeof(r->text)) {
			r->truncated = true;
			return;
		}
		r->text[r->textlen++] = '\n';
	}
	room = sizeof(r->text) - 1 - r->textlen;
	if (len > room) {
		len = room;
		r->truncated = true;
	}
	memcpy(r->text + r->textlen, text, len);
	r->textlen += len;
	r->text[r->textlen] = '\0';
}

static enum reply_status
reply_error(struct reply_parser *p, const char *error)
{
	p->error = error;
	p->in_reply = false;
	return REPLY_ERROR;
}

enum reply_status
reply_feed(struct reply_parser *p, const char *line, size_t len)
{
	struct reply	*r = &p->reply;
	int		 code;
	bool		 last;

	/* An error is final; a finished reply makes room for the next one. */
	if (p->error != NULL)
		return REPLY_ERROR;
	if (!p->in_reply && r->nlines > 0)
		reply_init(p);

	if (len > REPLY_LINE_MAX - 2)
		return reply_error(p, "reply line longer than 510 octets");
	if (len < 3 || line[0] < '0' || line[0] > '9' ||
	    line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9')
		return reply_error(p, "reply line without a 3-digit code");
	if (line[0] < '2' || line[0] > '5')
		return reply_error(p, "reply code not in the range 2xx-5xx");
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');

	if (len == 3)
		last = true;		/* a bare "250" is a complete line */
	else if (line[3] == ' ')
		last = true;
	else if (line[3] == '-')
		last = false;
	else
		return reply_error(p,
		    "reply code not followed by a space or '-'");

	if (reply_has_control(line, len))
		return reply_error(p, "control character in reply");
	if (r->nlines > 0 && code != r->code)
		return reply_error(p,
		    "reply code changed within a multi-line reply");
	if (r->nlines >= REPLY_LINES_MAX)
		return reply_error(p,
		    "more than " XSTR(REPLY_LINES_MAX) " lines in one reply");

	r->code = code;
	r->nlines++;
	if (len > 4)
		reply_append(r, line + 4, len - 4);
	else
		reply_append(r, "", 0);

	p->in_reply = !last;
	return last ? REPLY_DONE : REPLY_MORE;
}

/* Skip an RFC 3463 enhanced status code ("2.0.0 ") at the start of s. */
static const char *
reply_skip_status(const char *s)
{
	const char	*p = s;
	int		 part, n;

	if (*p < '2' || *p > '5' || p[1] != '.')
		return s;
	p += 2;
	for (part = 0; part < 2; part++) {
		for (n = 0; *p >= '0' && *p <= '9'; n++)
			p++;
		if (n < 1 || n > 3)
			return s;
		if (part == 0 && *p++ != '.')
			return s;
	}
	if (*p != ' ' && *p != '\0')
		return s;
	return p;
}

/* A digit run glued to letters or dots is part of a name ("mx1.example"). */
static bool
reply_is_word_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || c == '.';
}

int
reply_pending_count(const struct reply *r, unsigned long *count)
{
	const char	*s, *start;
	unsigned long	 n;
	int		 digits;

	if (r->code != 253)
		return -1;

	/* RFC 1985: "OK, <n> pending"; be liberal where "OK," is missing. */
	if ((s = strstr(r->text, "OK,")) != NULL)
		s += 3;
	else
		s = reply_skip_status(r->text);

	/* The first run of digits that stands as a word of its own. */
	for (;;) {
		while (*s != '\0' && (*s < '0' || *s > '9'))
			s++;
		if (*s == '\0')
			return -1;
		start = s;
		while (*s >= '0' && *s <= '9')
			s++;
		if ((start == r->text || !reply_is_word_char(start[-1])) &&
		    !reply_is_word_char(*s))
			break;
	}
	if (start > r->text && start[-1] == '-')
		return -1;		/* a negative count is nonsense */

	n = 0;
	for (digits = 0, s = start; *s >= '0' && *s <= '9'; s++) {
		if (++digits > PENDING_DIGITS_MAX)
			return -1;
		if (n > ((unsigned long)LONG_MAX - (unsigned long)(*s - '0')) /
		    10)
			return -1;
		n = n * 10 + (unsigned long)(*s - '0');
	}
	*count = n;
	return 0;
}
