/* SPDX-License-Identifier: ISC */
/*
 * Tests for util: the escaping every log line and answer goes through,
 * the interface-name rule both config and control use, and the number
 * parser of config and etrn(1) -- by tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <string.h>
#include <cmocka.h>

#include "util.h"

static void
test_str_vis(void **state)
{
	static const struct {
		const char	*in, *also;
		size_t		 max;
		const char	*want;
	} t[] = {
		{ "plain text", "", 64, "plain text" },
		{ "back\\slash", "", 64, "back\\x5cslash" },
		{ "esc\x1b[2J cr\r", "", 64, "esc\\x1b[2J cr\\x0d" },
		{ "c1 \xc2\x9b and bidi \xe2\x80\xae", "", 64,
		    "c1 \\xc2\\x9b and bidi \\xe2\\x80\\xae" },
		{ "del\x7f", "", 64, "del\\x7f" },
		{ "say \"hi\"", "\"", 64, "say \\x22hi\\x22" },
		{ "abcdef", "", 3, "abc..." },
		{ "", "", 8, "" },
	};
	char	out[STR_VIS_LEN(64)];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(str_vis(out, t[i].in, t[i].max,
		    t[i].also), t[i].want);
}

static void
test_ifname_valid(void **state)
{
	static const struct {
		const char	*name;
		bool		 ok;
	} t[] = {
		{ "eth0", true }, { "ppp0", true }, { "wg-site", true },
		{ "ppp*", true }, { "abcdefghijklmno", true },
		{ "w\xc3\xa9" "0", true },
		{ "", false }, { ".", false }, { "..", false },
		{ "abcdefghijklmnop", false }, { "a/b", false },
		{ "eth0:1", false }, { "a b", false }, { "a\tb", false },
		{ "a\x1b", false }, { "a\x7f", false }, { "a\xa0", false },
		{ "a\xc2\x85", false }, { "a\xc3", false },
		{ "a\xe2\x80", false },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		print_message("  \"%s\"\n", t[i].name);
		assert_int_equal(ifname_valid(t[i].name), t[i].ok);
	}
}

static void
test_parse_number(void **state)
{
	static const struct {
		const char	*s;
		unsigned long	 min, max;
		int		 rc;
		unsigned long	 want;
	} t[] = {
		{ "25", 1, 65535, 0, 25 },
		{ "65535", 1, 65535, 0, 65535 },
		{ "65536", 1, 65535, -1, 0 },
		{ "0", 1, 65535, -1, 0 },
		{ "0", 0, 5, 0, 0 },
		{ "9", 0, 5, -1, 0 },
		{ "007", 1, 10, 0, 7 },
		{ "", 0, 10, -1, 0 },
		{ "+5", 0, 10, -1, 0 },
		{ "-5", 0, 10, -1, 0 },
		{ " 5", 0, 10, -1, 0 },
		{ "5 ", 0, 10, -1, 0 },
		{ "5x", 0, 10, -1, 0 },
		{ "99999999999999999999999999", 0, ULONG_MAX, -1, 0 },
		{ "18446744073709551615", 0, ULONG_MAX, 0, ULONG_MAX },
	};
	unsigned long	v;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = 12345;
		print_message("  \"%s\" in [%lu, %lu]\n", t[i].s, t[i].min,
		    t[i].max);
		assert_int_equal(parse_number(t[i].s, t[i].min, t[i].max, &v),
		    t[i].rc);
		assert_int_equal(v, t[i].rc == 0 ? t[i].want : 12345);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_str_vis),
		cmocka_unit_test(test_ifname_valid),
		cmocka_unit_test(test_parse_number),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
