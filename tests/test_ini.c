/* SPDX-License-Identifier: ISC */
/*
 * test_ini: the INI line reader alone, by a table: text in, the headers and
 * keys it hands out (with their line numbers) and the exact error text out.
 */
#include <sys/stat.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ini.h"

/* How the test's caller treats what it gets. */
#define MERGE	0x01	/* every section continues an earlier one */

/*
 * The caller of the table: it takes every key (INI_HASH_WORDS for a key
 * named "queues"), skips sections named "skip", and writes one line per
 * item: "L [name]", "L [name] continues N", "L key=value", with "!" when
 * ini_key_ok() refused the key.
 */
static char *
drive(struct ini *ini, unsigned how, char **errors)
{
	struct ini_item	 it;
	unsigned	 first;
	char		*trace = NULL;
	size_t		 size = 0;
	FILE		*f;
	bool		 ok;

	assert_non_null(f = open_memstream(&trace, &size));
	while (ini_next(ini, &it)) {
		assert_int_not_equal(it.line, 0);
		assert_non_null(it.section);
		if (it.type == INI_SECTION) {
			assert_null(it.key);
			fprintf(f, "%u [%s]", it.line, it.section);
			if ((how & MERGE) &&
			    (first = ini_section_continue(ini)) != 0)
				fprintf(f, " continues %u", first);
			fprintf(f, "\n");
			if (strcmp(it.section, "skip") == 0)
				ini_skip_section(ini);
			continue;
		}
		assert_int_equal(it.type, INI_KEY);
		assert_non_null(it.key);
		assert_non_null(it.value);
		ok = ini_key_ok(ini, &it, strcmp(it.key, "queues") == 0 ?
		    INI_HASH_WORDS : 0);
		fprintf(f, "%u %s=%s%s\n", it.line, it.key, it.value,
		    ok ? "" : "!");
	}
	assert_int_equal(it.type, INI_END);
	/* The end stays the end. */
	assert_false(ini_next(ini, &it));
	assert_int_equal(fclose(f), 0);
	*errors = ini_nerrors(ini) > 0 ? ini_errors(ini) : NULL;
	return trace;
}

static const struct row {
	const char	*text;
	size_t		 len;		/* 0: strlen(text) */
	unsigned	 how;
	const char	*items;
	const char	*errors;	/* NULL: none */
} rows[] = {
	{ "", 0, 0, "", NULL },
	{ "\n\n  \n\t\n", 0, 0, "", NULL },
	{ "[a]\nk = v\n", 0, 0, "1 [a]\n2 k=v\n", NULL },
	/* No end of line at the end; CRLF; blanks around everything. */
	{ "[a]\nk = v", 0, 0, "1 [a]\n2 k=v\n", NULL },
	{ "  [ a ] \r\n\t k \t=\t v  w \r\n", 0, 0, "1 [a]\n2 k=v  w\n", NULL },
	/* Whole-line comments, "#" and ";", even indented. */
	{ "# c\n; c\n  # c\n[a]\n\t; c\nk = v\n", 0, 0, "4 [a]\n6 k=v\n",
	  NULL },
	/* A key may hold blanks; the first "=" splits. */
	{ "[a]\nsome key = a=b\n", 0, 0, "1 [a]\n2 some key=a=b\n", NULL },
	/* Empty sections reach the caller (libinih's do not). */
	{ "[a]\n[b]\n\n[c]\n", 0, 0, "1 [a]\n2 [b]\n4 [c]\n", NULL },
	/* Blanks in a name count as one space. */
	{ "[relay \t  mx ]\n", 0, 0, "1 [relay mx]\n", NULL },
	{ "[]\n", 0, 0, "1 []\n", NULL },
	/* A UTF-8 byte-order mark, only at the very start. */
	{ "\xef\xbb\xbf[a]\nk = v\n", 0, 0, "1 [a]\n2 k=v\n", NULL },
	{ "[a]\n\xef\xbb\xbf[b]\n", 0, 0, "1 [a]\n",
	  "t.ini:2: malformed line (use key = value, [section] or a # "
	  "comment)\n" },

	/* Lines that are none of the three. */
	{ "[a]\nfoo\nk = v\n", 0, 0, "1 [a]\n3 k=v\n",
	  "t.ini:2: malformed line (use key = value, [section] or a # "
	  "comment)\n" },
	{ "[a]\n = v\n", 0, 0, "1 [a]\n", "t.ini:2: missing key before "
	  "\"=\"\n" },
	{ "k = v\n[a]\n", 0, 0, "2 [a]\n",
	  "t.ini:1: key \"k\" outside any section\n" },
	{ "x\"y\t\x01\xc3\xa9 = 1\n", 0, 0, "",
	  "t.ini:1: key \"x\\x22y\\x09\\x01\\xc3\\xa9\" outside any "
	  "section\n" },
	/* A bad header: its keys are not handed out, nor reported. */
	{ "[a\nk = v\n[b]\nk = v\n", 0, 0, "3 [b]\n4 k=v\n",
	  "t.ini:1: malformed section header (use [NAME])\n" },
	{ "[a]]x\n", 0, 0, "",
	  "t.ini:1: malformed section header (use [NAME])\n" },
	{ "[a] # c\nk = v\n", 0, 0, "",
	  "t.ini:1: comments must be on a line of their own (\"# c\")\n" },
	{ "[a] ;c\n", 0, 0, "",
	  "t.ini:1: comments must be on a line of their own (\";c\")\n" },
	/* A refused section: keys skipped up to the next header. */
	{ "[skip]\nk = v\n\n[a]\nk = v\n", 0, 0, "1 [skip]\n4 [a]\n5 k=v\n",
	  NULL },
	/* A NUL makes a line an error, the others go on, numbered right. */
	{ "[a]\nk = \0v\nj = 1\n", 17, 0, "1 [a]\n3 j=1\n",
	  "t.ini:2: contains a NUL byte\n" },

	/* ini_key_ok(): once per section, not empty, no comment. */
	{ "[a]\nk = 1\nk = 2\n", 0, 0, "1 [a]\n2 k=1\n3 k=2!\n",
	  "t.ini:3: duplicate key \"k\" in [a] (first at line 2)\n" },
	{ "[a]\nk =\nk = 2\n", 0, 0, "1 [a]\n2 k=!\n3 k=2!\n",
	  "t.ini:2: k: empty value\n"
	  "t.ini:3: duplicate key \"k\" in [a] (first at line 2)\n" },
	{ "[a]\nk = \t \n", 0, 0, "1 [a]\n2 k=!\n",
	  "t.ini:2: k: empty value\n" },
	{ "[a]\nK = 1\nk = 2\n", 0, 0, "1 [a]\n2 K=1\n3 k=2\n", NULL },
	/* A repeated section is its own scope unless continued. */
	{ "[a]\nk = 1\n[a]\nk = 2\n", 0, 0, "1 [a]\n2 k=1\n3 [a]\n4 k=2\n",
	  NULL },
	{ "[a]\nk = 1\n[b]\nk = 2\n[ a ]\nk = 3\n", 0, MERGE,
	  "1 [a]\n2 k=1\n3 [b]\n4 k=2\n5 [a] continues 1\n6 k=3!\n",
	  "t.ini:6: duplicate key \"k\" in [a] (first at line 2)\n" },
	/* Comments after a value. */
	{ "[a]\nk = v ; c\n", 0, 0, "1 [a]\n2 k=v ; c!\n",
	  "t.ini:2: k: comments must be on a line of their own (\"; c\")\n" },
	{ "[a]\nk = v ;c\n", 0, 0, "1 [a]\n2 k=v ;c!\n",
	  "t.ini:2: k: comments must be on a line of their own (\";c\")\n" },
	{ "[a]\nk = # none\n", 0, 0, "1 [a]\n2 k=# none!\n",
	  "t.ini:2: k: comments must be on a line of their own (\"# none\")\n" },
	{ "[a]\nk = v #q\n", 0, 0, "1 [a]\n2 k=v #q!\n",
	  "t.ini:2: k: comments must be on a line of their own (\"#q\")\n" },
	{ "[a]\nk = v;w a#b\n", 0, 0, "1 [a]\n2 k=v;w a#b\n", NULL },
	/* INI_HASH_WORDS: "#word" is a word, "#" alone still a comment. */
	{ "[a]\nqueues = #q v\n", 0, 0, "1 [a]\n2 queues=#q v\n", NULL },
	{ "[a]\nqueues = v # q\n", 0, 0, "1 [a]\n2 queues=v # q!\n",
	  "t.ini:2: queues: comments must be on a line of their own "
	  "(\"# q\")\n" },
	{ "[a]\nqueues = v ;q\n", 0, 0, "1 [a]\n2 queues=v ;q!\n",
	  "t.ini:2: queues: comments must be on a line of their own "
	  "(\";q\")\n" },

	/* Errors come by line, whatever the order they were found in. */
	{ "k = 1\n[a]\nj\nj = \nj = 1\n[b\n", 0, 0, "2 [a]\n4 j=!\n5 j=1!\n",
	  "t.ini:1: key \"k\" outside any section\n"
	  "t.ini:3: malformed line (use key = value, [section] or a # "
	  "comment)\n"
	  "t.ini:4: j: empty value\n"
	  "t.ini:5: duplicate key \"j\" in [a] (first at line 4)\n"
	  "t.ini:6: malformed section header (use [NAME])\n" },
};

static void
test_table(void **state)
{
	const struct row	*r;
	struct ini		*ini;
	char			*items, *errors;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		r = &rows[i];
		ini = ini_new("t.ini", r->text, r->len != 0 ? r->len :
		    strlen(r->text));
		items = drive(ini, r->how, &errors);
		if (strcmp(items, r->items) != 0)
			fail_msg("row %zu: items\n--- expected:\n%s--- got:\n%s",
			    i, r->items, items);
		if (r->errors == NULL && errors != NULL)
			fail_msg("row %zu: unexpected errors:\n%s", i, errors);
		if (r->errors != NULL && (errors == NULL ||
		    strcmp(errors, r->errors) != 0))
			fail_msg("row %zu: errors\n--- expected:\n%s--- got:\n%s",
			    i, r->errors, errors != NULL ? errors : "(none)\n");
		free(items);
		free(errors);
		ini_free(ini);
	}
}

/*
 * Beyond libinih's limits: a 5,000-byte line is one value, a 300-byte
 * section name arrives whole.
 */
static void
test_long(void **state)
{
	struct ini_item	 it;
	struct ini	*ini;
	char		*text;
	size_t		 len = 0;

	(void)state;
	text = malloc(6000);
	assert_non_null(text);
	text[len++] = '[';
	memset(text + len, 's', 300);
	len += 300;
	memcpy(text + len, "]\nk = ", 6);
	len += 6;
	memset(text + len, 'v', 5000);
	len += 5000;
	text[len++] = '\n';

	ini = ini_new("t.ini", text, len);
	assert_true(ini_next(ini, &it));
	assert_int_equal(it.type, INI_SECTION);
	assert_int_equal(strlen(it.section), 300);
	assert_true(ini_next(ini, &it));
	assert_int_equal(it.type, INI_KEY);
	assert_int_equal(it.line, 2);
	assert_int_equal(strlen(it.value), 5000);
	assert_true(ini_key_ok(ini, &it, 0));
	assert_false(ini_next(ini, &it));
	assert_int_equal(ini_nerrors(ini), 0);
	ini_free(ini);
	free(text);
}

/* Over INI_FILE_MAX: one file-wide error, no line read. */
static void
test_too_big(void **state)
{
	struct ini_item	 it;
	struct ini	*ini;
	char		*text, *errors;

	(void)state;
	text = malloc(INI_FILE_MAX + 1);
	assert_non_null(text);
	memset(text, '\n', INI_FILE_MAX + 1);
	memcpy(text, "[a]\n", 4);
	ini = ini_new("t.ini", text, INI_FILE_MAX + 1);
	assert_false(ini_next(ini, &it));
	errors = ini_errors(ini);
	assert_string_equal(errors, "t.ini: larger than 1 MiB\n");
	free(errors);
	ini_free(ini);

	/* Exactly the cap is fine. */
	ini = ini_new("t.ini", text, INI_FILE_MAX);
	assert_true(ini_next(ini, &it));
	assert_false(ini_next(ini, &it));
	assert_int_equal(ini_nerrors(ini), 0);
	ini_free(ini);
	free(text);
}

/* The caller's errors join the reader's, by line, file-wide ones last. */
static void
test_caller_errors(void **state)
{
	struct ini_item	 it;
	struct ini	*ini;
	char		*errors;

	(void)state;
	ini = ini_new("t.ini", "[x\n[a]\nk = 1\n", 13);
	ini_set_hint(ini, "[daemon] or [relay NAME]");
	ini_error(ini, 0, "file-wide");
	assert_true(ini_next(ini, &it));
	assert_int_equal(it.line, 2);
	ini_error(ini, it.line, "unknown section \"%s\"",
	    ini_vis(ini, it.section));
	assert_true(ini_next(ini, &it));
	ini_error(ini, 1, "late, but line 1");
	ini_error(ini, it.line, "bad value \"%s\" of \"%s\"",
	    ini_vis(ini, "\\\x7f\x80"), ini_vis(ini, it.key));
	assert_false(ini_next(ini, &it));
	assert_int_equal(ini_nerrors(ini), 5);
	errors = ini_errors(ini);
	assert_string_equal(errors,
	    "t.ini:1: malformed section header (use [daemon] or [relay "
	    "NAME])\n"
	    "t.ini:1: late, but line 1\n"
	    "t.ini:2: unknown section \"a\"\n"
	    "t.ini:3: bad value \"\\x5c\\x7f\\x80\" of \"k\"\n"
	    "t.ini: file-wide\n");
	free(errors);
	ini_free(ini);
}

/* What is echoed back is cut after INI_VIS_MAX bytes. */
static void
test_vis(void **state)
{
	struct ini	*ini;
	char		 s[INI_VIS_MAX + 2];

	(void)state;
	ini = ini_new("t.ini", "", 0);
	memset(s, 'a', sizeof s - 1);
	s[sizeof s - 1] = '\0';
	assert_int_equal(strlen(ini_vis(ini, s)), INI_VIS_MAX + 3);
	assert_string_equal(ini_vis(ini, s) + INI_VIS_MAX, "...");
	s[INI_VIS_MAX] = '\0';
	assert_string_equal(ini_vis(ini, s), s);
	/* Four at once, then a placeholder until the next error. */
	assert_string_equal(ini_vis(ini, "y"), "y");
	assert_string_equal(ini_vis(ini, "x"), "?");
	ini_error(ini, 1, "e");
	assert_string_equal(ini_vis(ini, "x"), "x");
	ini_free(ini);
	ini_free(NULL);
}

/* From a file: read whole; a missing file, a directory or a FIFO refused. */
static void
test_load(void **state)
{
	struct ini_item	 it;
	struct ini	*ini;
	char		 dir[] = "/tmp/test_ini.XXXXXX", path[64];
	char		*errors = NULL, expected[128];
	FILE		*f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/a.ini", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("# c\n[a]\nk = v\n", f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(ini = ini_load(path, &errors));
	assert_true(ini_next(ini, &it));
	assert_int_equal(it.line, 2);
	assert_true(ini_next(ini, &it));
	assert_string_equal(it.value, "v");
	assert_false(ini_next(ini, &it));
	ini_free(ini);
	assert_int_equal(unlink(path), 0);

	errno = 0;
	assert_null(ini_load(path, &errors));
	assert_int_equal(errno, ENOENT);
	snprintf(expected, sizeof expected, "%s: No such file or directory\n",
	    path);
	assert_string_equal(errors, expected);
	free(errors);

	assert_null(ini_load(dir, &errors));
	assert_int_equal(errno, EISDIR);
	free(errors);

	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);
	assert_null(ini_load(path, &errors));
	alarm(0);
	snprintf(expected, sizeof expected, "%s: not a regular file\n", path);
	assert_string_equal(errors, expected);
	free(errors);
	assert_null(ini_load(path, NULL));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_long),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_caller_errors),
		cmocka_unit_test(test_vis),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
