/* SPDX-License-Identifier: ISC */
/*
 * test_watch: which interfaces a watch list covers, by a table: lists and
 * names in, yes or no out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"
#include "watch.h"

static void
test_table(void **state)
{
	static const struct {
		const char	*watch;		/* space-separated, "" = unset */
		const char	*ifname;
		bool		 loopback;
		bool		 watched;
	} t[] = {
		/* Unset: every interface but loopback and guests' links. */
		{ "", "eth0", false, true },
		{ "", "ppp0", false, true },
		{ "", "wwan0", false, true },
		{ "", "wg0", false, true },
		{ "", "tun0", false, true },
		{ "", "br0", false, true },	/* a host's own bridge */
		{ "", "host0", false, true },	/* nspawn container's uplink */
		{ "", "lo", true, false },
		{ "", "docker0", false, false },
		{ "", "br-3f2a9c1d0e4b", false, false },
		{ "", "veth1a2b3c4", false, false },
		{ "", "virbr0", false, false },
		{ "", "vnet3", false, false },
		{ "", "lxcbr0", false, false },
		{ "", "lxdbr0", false, false },
		{ "", "ve-mycontainer", false, false },
		{ "", "vb-mycontainer", false, false },
		{ "", "vz-zone", false, false },
		{ "", "podman0", false, false },
		{ "", "cni0", false, false },
		{ "", "flannel.1", false, false },
		{ "", "cali1234abcd", false, false },
		{ "", "vboxnet0", false, false },
		{ "", "vmnet8", false, false },
		/* Only exclusions: the default set, minus them. */
		{ "!wlan*", "eth0", false, true },
		{ "!wlan*", "wlan0", false, false },
		{ "!wlan*", "docker0", false, false },
		{ "!wlan*", "lo", true, false },
		/* Positive entries: exactly what they match, minus exclusions. */
		{ "ppp*", "ppp0", false, true },
		{ "ppp*", "eth0", false, false },
		{ "veth*", "veth0", false, true },
		{ "* !docker* !virbr*", "eth0", false, true },
		{ "* !docker* !virbr*", "docker0", false, false },
		{ "* !docker* !virbr*", "virbr0", false, false },
		{ "* !docker* !virbr*", "veth9", false, true },
		{ "!ppp1 ppp*", "ppp1", false, false },
		{ "!ppp1 ppp*", "ppp0", false, true },
		{ "lo", "lo", true, true },
	};
	char	 buf[128], *words[8], *w;
	size_t	 i, n;

	(void)state;
	for (i = 0; i < nitems(t); i++) {
		snprintf(buf, sizeof buf, "%s", t[i].watch);
		n = 0;
		for (w = strtok(buf, " "); w != NULL && n < nitems(words);
		    w = strtok(NULL, " "))
			words[n++] = w;
		if (watch_match(words, n, t[i].ifname, t[i].loopback) !=
		    t[i].watched)
			fail_msg("watch \"%s\", %s: expected %s", t[i].watch,
			    t[i].ifname, t[i].watched ? "watched" :
			    "not watched");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
