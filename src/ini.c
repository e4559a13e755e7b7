/* SPDX-License-Identifier: ISC */
/*
 * ini: the line reader under conf.c.  Text in, headers and keys with their
 * line numbers out, every error kept as "file:line: message" and the
 * reading carried on to the end, so that a user sees all of them at once.
 *
 * Why not libinih, which Debian ships: its callback gets no line number,
 * an empty section never reaches it, and a section name is silently cut at
 * 49 bytes, all three fixed at compile time in Debian 12's build, while
 * every error here must carry its exact file:line and no name may change
 * unseen.  (Its 200-byte line limit is no reason: a run-time knob there.)
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ini.h"
#include "util.h"

#define INI_WS		" \t"
#define INI_NVIS	4

enum ini_state {
	INI_NONE,		/* before the first header */
	INI_IN,			/* in a section */
	INI_SKIP,		/* after a bad or refused header */
};

struct ini_seen {
	char		*key;
	unsigned	 line;
};

struct ini_section {
	char		*name;
	unsigned	 line;
	struct ini_seen	*seen;		/* keys taken, when this is a scope */
	size_t		 nseen;
};

struct ini_err {
	unsigned	 line;
	size_t		 seq;
	char		*msg;
};

struct ini {
	char		*path;
	const char	*hint;
	char		*own;		/* ini_load()'s copy of the file */
	const char	*cur, *end;
	unsigned	 line;
	char		*buf;		/* the current line */

	enum ini_state	 state;
	struct ini_section *sections;
	size_t		 nsections;
	size_t		 scope;		/* where this section's keys count */

	struct ini_err	*errors;
	size_t		 nerrors;

	char		 vis[INI_NVIS][STR_VIS_LEN(INI_VIS_MAX)];
	size_t		 nvis;
};

struct ini *
ini_new(const char *path, const char *text, size_t len)
{
	struct ini	*ini;

	ini = xcalloc(1, sizeof *ini);
	ini->path = xstrdup(path);
	ini->hint = "[NAME]";
	ini->cur = text;
	ini->end = text + len;
	if (len > INI_FILE_MAX) {
		ini_error(ini, 0, "larger than 1 MiB");
		ini->cur = ini->end;
	} else if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		ini->cur += 3;
	return ini;
}

/*
 * read(2) after an fstat, opened with O_NONBLOCK: a FIFO or a device given
 * as the file is refused at once instead of hanging whoever reads it.
 */
struct ini *
ini_load(const char *path, char **errors)
{
	struct ini	*ini;
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0, size = 0;
	ssize_t		 n;
	int		 fd, saved;
	const char	*why = NULL;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1 || fstat(fd, &st) == -1)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		why = "not a regular file";
		errno = EINVAL;
		goto fail;
	}
	for (;;) {
		/* One byte past the cap, so that ini_new() sees it. */
		if (len == size) {
			if (size > INI_FILE_MAX)
				break;
			size = size == 0 ? 8192 : size * 2;
			if (size > INI_FILE_MAX + 1)
				size = INI_FILE_MAX + 1;
			buf = xreallocarray(buf, size, 1);
		}
		n = read(fd, buf + len, size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	ini = ini_new(path, buf == NULL ? "" : buf, len);
	ini->own = buf;
	return ini;

fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	free(buf);
	if (errors != NULL && asprintf(errors, "%s: %s\n", path,
	    why != NULL ? why : strerror(saved)) == -1)
		*errors = xstrdup("out of memory\n");
	errno = saved;
	return NULL;
}

void
ini_free(struct ini *ini)
{
	size_t	i, j;

	if (ini == NULL)
		return;
	for (i = 0; i < ini->nsections; i++) {
		for (j = 0; j < ini->sections[i].nseen; j++)
			free(ini->sections[i].seen[j].key);
		free(ini->sections[i].seen);
		free(ini->sections[i].name);
	}
	free(ini->sections);
	for (i = 0; i < ini->nerrors; i++)
		free(ini->errors[i].msg);
	free(ini->errors);
	free(ini->buf);
	free(ini->own);
	free(ini->path);
	free(ini);
}

void
ini_set_hint(struct ini *ini, const char *hint)
{
	ini->hint = hint;
}

void
ini_error(struct ini *ini, unsigned line, const char *fmt, ...)
{
	struct ini_err	*e;
	va_list		 ap;
	char		*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	if (msg == NULL)
		msg = xstrdup("out of memory");

	ini->errors = xreallocarray(ini->errors, ini->nerrors + 1,
	    sizeof *ini->errors);
	e = &ini->errors[ini->nerrors];
	e->line = line;
	e->seq = ini->nerrors++;
	e->msg = msg;
	ini->nvis = 0;
}

const char *
ini_vis(struct ini *ini, const char *s)
{
	if (ini->nvis == INI_NVIS)
		return "?";
	return str_vis(ini->vis[ini->nvis++], s, INI_VIS_MAX, "\"");
}

size_t
ini_nerrors(const struct ini *ini)
{
	return ini->nerrors;
}

/* By line, file-wide errors (line 0) last; in order of report within one. */
static int
ini_error_cmp(const void *a, const void *b)
{
	const struct ini_err	*ea = a, *eb = b;
	unsigned		 la, lb;

	la = ea->line == 0 ? UINT32_MAX : ea->line;
	lb = eb->line == 0 ? UINT32_MAX : eb->line;
	if (la != lb)
		return la < lb ? -1 : 1;
	return ea->seq < eb->seq ? -1 : ea->seq > eb->seq;
}

char *
ini_errors(struct ini *ini)
{
	struct ini_err	*e;
	char		*text = NULL;
	size_t		 size = 0, i;
	FILE		*f;

	qsort(ini->errors, ini->nerrors, sizeof *ini->errors, ini_error_cmp);
	if ((f = open_memstream(&text, &size)) == NULL)
		return xstrdup("out of memory\n");
	for (i = 0; i < ini->nerrors; i++) {
		e = &ini->errors[i];
		if (e->line == 0)
			fprintf(f, "%s: %s\n", ini->path, e->msg);
		else
			fprintf(f, "%s:%u: %s\n", ini->path, e->line, e->msg);
	}
	if (fclose(f) != 0 || text == NULL) {
		free(text);
		return xstrdup("out of memory\n");
	}
	return text;
}

/*
 * Where a comment starts inside what follows a header or a value, or NULL.
 * Comments are whole lines only, so "domains = example.org ; ours" would
 * send "ETRN ;" and "ETRN ours": a word that is "#" or ";" alone, or starts
 * with ";", is a comment, and so is a word starting with "#" unless
 * INI_HASH_WORDS ("#queue").  The first word counts too ("watch = # none").
 */
static const char *
ini_comment(const char *s, unsigned flags)
{
	for (;;) {
		s += strspn(s, INI_WS);
		if (*s == '\0')
			return NULL;
		if (*s == ';' || (*s == '#' && (!(flags & INI_HASH_WORDS) ||
		    s[1] == '\0' || strchr(INI_WS, s[1]) != NULL)))
			return s;
		s += strcspn(s, INI_WS);
	}
}

/* The next line, NUL-free, without its end of line; false at the end. */
static bool
ini_getline(struct ini *ini)
{
	const char	*start, *nl;
	size_t		 len;

	while (ini->cur < ini->end) {
		ini->line++;
		start = ini->cur;
		if ((nl = memchr(start, '\n', (size_t)(ini->end - start))) ==
		    NULL)
			nl = ini->end;
		len = (size_t)(nl - start);
		ini->cur = nl < ini->end ? nl + 1 : ini->end;
		if (memchr(start, '\0', len) != NULL) {
			ini_error(ini, ini->line, "contains a NUL byte");
			continue;
		}
		if (len > 0 && start[len - 1] == '\r')
			len--;
		free(ini->buf);
		ini->buf = xcalloc(1, len + 1);
		memcpy(ini->buf, start, len);
		return true;
	}
	return false;
}

/* Strip blanks at both ends, in place. */
static char *
ini_trim(char *s)
{
	size_t	len;

	s += strspn(s, INI_WS);
	len = strlen(s);
	while (len > 0 && strchr(INI_WS, s[len - 1]) != NULL)
		s[--len] = '\0';
	return s;
}

/* A line starting with "[" (trimmed): a new section, or false. */
static bool
ini_header(struct ini *ini, char *line)
{
	struct ini_section	*s;
	size_t			 len = strlen(line);
	char			*name, *o;
	const char		*rest, *comment;

	ini->state = INI_SKIP;
	if (len < 2 || line[len - 1] != ']') {
		if ((rest = strchr(line, ']')) != NULL &&
		    (comment = ini_comment(rest + 1, 0)) ==
		    rest + 1 + strspn(rest + 1, INI_WS))
			ini_error(ini, ini->line, "comments must be on a line "
			    "of their own (\"%s\")", ini_vis(ini, comment));
		else
			ini_error(ini, ini->line, "malformed section header "
			    "(use %s)", ini->hint);
		return false;
	}
	line[len - 1] = '\0';
	name = ini_trim(line + 1);
	/* "[relay  a]" and "[relay a]" are one name. */
	for (o = line; *name != '\0'; name++) {
		if (strchr(INI_WS, *name) == NULL)
			*o++ = *name;
		else if (o[-1] != ' ')
			*o++ = ' ';
	}
	*o = '\0';

	ini->sections = xreallocarray(ini->sections, ini->nsections + 1,
	    sizeof *ini->sections);
	s = &ini->sections[ini->nsections];
	memset(s, 0, sizeof *s);
	s->name = xstrdup(line);
	s->line = ini->line;
	ini->scope = ini->nsections++;
	ini->state = INI_IN;
	return true;
}

bool
ini_next(struct ini *ini, struct ini_item *item)
{
	char	*line, *eq, *key;

	memset(item, 0, sizeof *item);
	while (ini_getline(ini)) {
		line = ini_trim(ini->buf);
		if (*line == '\0' || *line == '#' || *line == ';')
			continue;
		if (*line == '[') {
			if (!ini_header(ini, line))
				continue;
			item->type = INI_SECTION;
			item->line = ini->line;
			item->section = ini->sections[ini->nsections - 1].name;
			return true;
		}
		if ((eq = strchr(line, '=')) == NULL) {
			ini_error(ini, ini->line, "malformed line (use key = "
			    "value, [section] or a # comment)");
			continue;
		}
		*eq = '\0';
		key = ini_trim(line);
		if (*key == '\0') {
			ini_error(ini, ini->line, "missing key before \"=\"");
			continue;
		}
		if (ini->state == INI_NONE) {
			ini_error(ini, ini->line, "key \"%s\" outside any "
			    "section", ini_vis(ini, key));
			continue;
		}
		if (ini->state == INI_SKIP)
			continue;
		item->type = INI_KEY;
		item->line = ini->line;
		item->section = ini->sections[ini->nsections - 1].name;
		item->key = key;
		item->value = ini_trim(eq + 1);
		return true;
	}
	item->type = INI_END;
	item->line = ini->line;
	return false;
}

void
ini_skip_section(struct ini *ini)
{
	if (ini->state == INI_IN)
		ini->state = INI_SKIP;
}

unsigned
ini_section_continue(struct ini *ini)
{
	const char	*name;
	size_t		 i;

	if (ini->nsections == 0)
		return 0;
	name = ini->sections[ini->nsections - 1].name;
	for (i = 0; i + 1 < ini->nsections; i++) {
		if (strcmp(ini->sections[i].name, name) == 0) {
			ini->scope = i;
			return ini->sections[i].line;
		}
	}
	return 0;
}

bool
ini_key_ok(struct ini *ini, const struct ini_item *item, unsigned flags)
{
	struct ini_section	*s = &ini->sections[ini->scope];
	const char		*comment;
	size_t			 i;

	for (i = 0; i < s->nseen; i++) {
		if (strcmp(s->seen[i].key, item->key) == 0) {
			ini_error(ini, item->line, "duplicate key \"%s\" in "
			    "[%s] (first at line %u)", ini_vis(ini, item->key),
			    ini_vis(ini, item->section), s->seen[i].line);
			return false;
		}
	}
	s->seen = xreallocarray(s->seen, s->nseen + 1, sizeof *s->seen);
	s->seen[s->nseen].key = xstrdup(item->key);
	s->seen[s->nseen++].line = item->line;

	if (*item->value == '\0') {
		ini_error(ini, item->line, "%s: empty value",
		    ini_vis(ini, item->key));
		return false;
	}
	if ((comment = ini_comment(item->value, flags)) != NULL) {
		ini_error(ini, item->line, "%s: comments must be on a line of "
		    "their own (\"%s\")", ini_vis(ini, item->key),
		    ini_vis(ini, comment));
		return false;
	}
	return true;
}
