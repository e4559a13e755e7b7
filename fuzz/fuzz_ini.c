/* SPDX-License-Identifier: ISC */
/*
 * fuzz_ini: any text through the INI line reader alone, driven as conf.c
 * drives it: every key taken (with "#word" values for keys starting with
 * "d"), every other section continued or skipped.
 *
 * Beyond the sanitizers, it checks the reader's contract: line numbers
 * never go back and stay within the text, a section name is trimmed with
 * blanks as single spaces, a key is non-empty and trimmed, no string holds
 * an end of line, and the error text is one "fuzz.ini[:N]: message\n" per
 * line, given exactly when errors were counted.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ini.h"

#define FUZZ_PATH	"fuzz.ini"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Trimmed: no blank at either end, and no end of line anywhere. */
static void
fuzz_check_trimmed(const char *s, bool may_be_empty)
{
	size_t	len = strlen(s);

	if (strchr(s, '\n') != NULL)
		abort();
	if (len == 0) {
		if (!may_be_empty)
			abort();
		return;
	}
	if (strchr(" \t", s[0]) != NULL || strchr(" \t", s[len - 1]) != NULL)
		abort();
}

/*
 * "fuzz.ini:N: message\n" with N from 1 up, never going back, or
 * "fuzz.ini: message\n" (file-wide) after all of them.
 */
static void
fuzz_check_errors(const char *text, size_t n)
{
	const char	*p = text;
	unsigned long	 line, last = 1;
	char		*end;

	for (; n > 0; n--) {
		if (strncmp(p, FUZZ_PATH ":", strlen(FUZZ_PATH ":")) != 0)
			abort();
		p += strlen(FUZZ_PATH ":");
		if (*p == ' ')
			last = ULONG_MAX;
		else {
			line = strtoul(p, &end, 10);
			if (end == p || *end != ':' || line < last ||
			    last == ULONG_MAX)
				abort();
			last = line;
			p = end + 1;
		}
		if (*p != ' ' || (p = strchr(p, '\n')) == NULL)
			abort();
		p++;
	}
	if (*p != '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ini_item	 it;
	struct ini	*ini;
	unsigned	 last = 0, n = 0;
	char		*errors;

	ini = ini_new(FUZZ_PATH, (const char *)data, size);
	ini_set_hint(ini, "[NAME]");
	while (ini_next(ini, &it)) {
		if (it.line < last || it.line == 0 || it.line > size + 1)
			abort();
		last = it.line;
		if (it.section == NULL)
			abort();
		fuzz_check_trimmed(it.section, true);
		if (strchr(it.section, '\t') != NULL ||
		    strstr(it.section, "  ") != NULL)
			abort();
		if (it.type == INI_SECTION) {
			if (it.key != NULL || it.value != NULL)
				abort();
			if (n++ % 3 == 1)
				(void)ini_section_continue(ini);
			else if (n % 3 == 0)
				ini_skip_section(ini);
			continue;
		}
		if (it.type != INI_KEY || it.key == NULL || it.value == NULL)
			abort();
		fuzz_check_trimmed(it.key, false);
		fuzz_check_trimmed(it.value, true);
		if (strchr(it.key, '=') != NULL)
			abort();
		if (ini_key_ok(ini, &it, it.key[0] == 'd' ? INI_HASH_WORDS : 0) &&
		    (it.value[0] == '\0' || it.value[0] == ';'))
			abort();
		if (n % 5 == 0)
			ini_error(ini, it.line, "caller: \"%s\"",
			    ini_vis(ini, it.value));
	}
	if (it.type != INI_END || ini_next(ini, &it))
		abort();
	if (ini_nerrors(ini) > 0) {
		errors = ini_errors(ini);
		fuzz_check_errors(errors, ini_nerrors(ini));
		free(errors);
	}
	ini_free(ini);
	return 0;
}
