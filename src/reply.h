/* SPDX-License-Identifier: ISC */
/*
 * reply: the SMTP reply reader (RFC 5321 4.2), sans I/O.  Fed one line at a
 * time without its line ending; enforces the limits a peer must not exceed:
 * line length, continuation count, a 3-digit code, the '-' or ' ' separator,
 * the same code on every line, no control characters.
 */
#ifndef ETRND_REPLY_H
#define ETRND_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#define REPLY_LINE_MAX		512	/* octets incl. CRLF, RFC 5321 4.5.3.1.5 */
#define REPLY_LINES_MAX		64	/* continuation lines we accept */
#define REPLY_TEXT_MAX		2048	/* text kept; the rest is dropped */

struct reply {
	int	 code;			/* 200..599 */
	size_t	 nlines;
	char	 text[REPLY_TEXT_MAX];	/* lines' text joined with '\n' */
	size_t	 textlen;
	bool	 truncated;
};

enum reply_status {
	REPLY_MORE,		/* a continuation line: feed the next */
	REPLY_DONE,		/* complete: see parser.reply */
	REPLY_ERROR,		/* protocol error: see parser.error */
};

struct reply_parser {
	struct reply	 reply;
	bool		 in_reply;	/* saw a continuation line */
	const char	*error;		/* static message on REPLY_ERROR */
};

void		  reply_init(struct reply_parser *);
/* A line without CRLF.  After REPLY_DONE or REPLY_ERROR, reply_init again. */
enum reply_status reply_feed(struct reply_parser *, const char *line,
		    size_t len);
/*
 * The <n> of "253 OK, <n> pending messages for node <x> started".
 * 0 and *count, or -1 when absent or out of range (it is only a hint).
 */
int		  reply_pending_count(const struct reply *, unsigned long *count);

#endif
