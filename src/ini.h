/* SPDX-License-Identifier: ISC */
/*
 * ini: a strict INI line reader that knows no keys.  It hands out
 * "[section]" headers and "key = value" lines with their line numbers,
 * skips blank lines and whole-line comments, rejects anything else (a
 * comment after a header or a value too), checks on request that a key is
 * set once per section and not empty, and collects every error, its
 * caller's as well, into one "file:line: message" text.  Pure: it never
 * logs, and its only I/O is ini_load() reading the one file.
 */
#ifndef ETRND_INI_H
#define ETRND_INI_H

#include <stdbool.h>
#include <stddef.h>

#define INI_FILE_MAX	(1024 * 1024)	/* a config file is never this big */
#define INI_VIS_MAX	48		/* bytes of a bad value echoed back */

enum ini_type {
	INI_END,
	INI_SECTION,		/* a well-formed "[name]" header */
	INI_KEY,		/* "key = value" inside a section */
};

/* Strings point into the reader and last until the next ini_next(). */
struct ini_item {
	enum ini_type	 type;
	unsigned	 line;
	const char	*section;	/* the current section's name: trimmed,
					   each run of blanks one space */
	const char	*key;		/* INI_KEY: trimmed, never empty */
	const char	*value;		/* INI_KEY: trimmed, may be empty */
};

/* ini_key_ok() flags. */
#define INI_HASH_WORDS	0x01	/* "#word" in the value is a word, not a
				   comment (only "#" alone is one) */

/*
 * A reader over text (not copied: it must outlive the reader); path only
 * names the file in messages.  A UTF-8 byte-order mark is skipped, a text
 * over INI_FILE_MAX is one error and no lines.
 */
struct ini	*ini_new(const char *path, const char *text, size_t len);
/*
 * The same over a file, opened without blocking: a FIFO or a device is
 * refused at once.  NULL with errno and *errors set to "path: why\n" when
 * the file cannot be read.
 */
struct ini	*ini_load(const char *path, char **errors);
void		 ini_free(struct ini *);

/* How to write a header, for "malformed section header (use HINT)". */
void		 ini_set_hint(struct ini *, const char *hint);

/* The next header or key into *item; false at the end of the text. */
bool		 ini_next(struct ini *, struct ini_item *item);
/* Hand out no key until the next header (the caller refused this one). */
void		 ini_skip_section(struct ini *);
/*
 * The section just handed out goes on with the first earlier one of the
 * same name: a key set in both is a duplicate.  Returns that section's
 * line, 0 if there is none.
 */
unsigned	 ini_section_continue(struct ini *);
/*
 * The caller knows this key: check that its section has not set it before,
 * that the value is not empty and has no comment after it.  False, with the
 * error recorded, if not.
 */
bool		 ini_key_ok(struct ini *, const struct ini_item *,
		    unsigned flags);

/* Record an error at a line (0: the whole file, listed last). */
void		 ini_error(struct ini *, unsigned line, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/*
 * s escaped for a message (str_vis(): \xNN for '"', '\\' and every byte
 * outside printable ASCII, cut after INI_VIS_MAX bytes).  Valid until the
 * next ini_error(), which may use four of them.
 */
const char	*ini_vis(struct ini *, const char *s);
size_t		 ini_nerrors(const struct ini *);
/* All errors, by line, as one malloc'd "file:line: message\n" text. */
char		*ini_errors(struct ini *);

#endif
