/* SPDX-License-Identifier: ISC */
/*
 * fuzz_ctlproto: what a control client sends, through the grammar as the
 * daemon takes it (one line, at most CTLPROTO_LINE_MAX bytes, no NUL,
 * split into words and parsed), and what the daemon answers, through
 * etrnctl's classification.  Beyond the sanitizers, it checks what both
 * ends rely on: an error message is printable ASCII whatever the peer
 * sent (its bytes escaped); a parsed request formats into one line that
 * fits and parses back to the same request, and formats the same again
 * (etrnctl sends the canonical line, the daemon must take it as meant);
 * an answer line that classifies is produced back byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "ctlproto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			abort();
}

/* Two requests mean the same. */
static void
check_same(const struct ctlproto_req *a, const struct ctlproto_req *b)
{
	size_t	i;

	if (a->verb != b->verb || a->json != b->json || a->wait != b->wait ||
	    a->flush != b->flush || a->nrelays != b->nrelays ||
	    (a->link == NULL) != (b->link == NULL) ||
	    (a->link != NULL && strcmp(a->link, b->link) != 0))
		abort();
	for (i = 0; i < a->nrelays; i++)
		if (strcmp(a->relays[i], b->relays[i]) != 0)
			abort();
}

static void
fuzz_request(char *line)
{
	static char		*words[CTLPROTO_WORDS_MAX + 1];
	static char		*words2[CTLPROTO_WORDS_MAX + 1];
	static char		 canon[CTLPROTO_LINE_MAX + 2];
	static char		 canon2[CTLPROTO_LINE_MAX + 2];
	static char		 copy[CTLPROTO_LINE_MAX + 2];
	struct ctlproto_req	 req, req2;
	char			 err[1024];
	size_t			 n, n2;

	n = ctlproto_split(line, words, CTLPROTO_WORDS_MAX + 1);
	if (ctlproto_req_parse(words, n, &req, err, sizeof(err)) == -1) {
		check_printable(err);
		return;
	}
	/* Never longer than what it came from: it always fits. */
	if (ctlproto_req_format(&req, canon, sizeof(canon)) == -1)
		abort();
	n = strlen(canon);
	if (n == 0 || canon[n - 1] != '\n' || strchr(canon, '\n') !=
	    canon + n - 1 || n - 1 > CTLPROTO_LINE_MAX)
		abort();
	memcpy(copy, canon, n - 1);
	copy[n - 1] = '\0';
	n2 = ctlproto_split(copy, words2, CTLPROTO_WORDS_MAX + 1);
	if (ctlproto_req_parse(words2, n2, &req2, err, sizeof(err)) == -1)
		abort();
	check_same(&req, &req2);
	if (ctlproto_req_format(&req2, canon2, sizeof(canon2)) == -1 ||
	    strcmp(canon, canon2) != 0)
		abort();
}

static void
fuzz_answer(const char *line)
{
	struct ctlproto_answer	 a;
	struct evbuffer		*b;
	char			*out;
	size_t			 len;

	/* Only canonical lines classify ("exit 007" does not). */
	if (ctlproto_answer_parse(line, &a) == -1)
		return;
	if ((b = evbuffer_new()) == NULL)
		abort();
	ctlproto_answer_add(b, &a);
	out = evbuffer_readln(b, &len, EVBUFFER_EOL_LF);
	if (out == NULL || evbuffer_get_length(b) != 0 ||
	    strcmp(out, line) != 0)
		abort();
	free(out);
	evbuffer_free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char	line[CTLPROTO_LINE_MAX + 1];
	size_t		len;
	const uint8_t	*nl;

	/* The first line, as evbuffer_readln(EOL_CRLF) gives it. */
	nl = memchr(data, '\n', size);
	len = nl != NULL ? (size_t)(nl - data) : size;
	if (len > 0 && data[len - 1] == '\r')
		len--;
	if (len > CTLPROTO_LINE_MAX || memchr(data, '\0', len) != NULL)
		return 0;
	memcpy(line, data, len);
	line[len] = '\0';
	fuzz_answer(line);
	fuzz_request(line);
	return 0;
}
