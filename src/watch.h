/* SPDX-License-Identifier: ISC */
/*
 * watch: which interfaces a "watch" list covers.  Pure: names and globs in,
 * a yes or no out.  Shared by the configuration (checks, etrnd -t) and the
 * link table.
 */
#ifndef ETRND_WATCH_H
#define ETRND_WATCH_H

#include <stdbool.h>
#include <stddef.h>

/*
 * With no positive entry, the interfaces a container or VM host makes for
 * its guests are not watched: their coming and going says nothing about
 * this site's uplink.  NULL-terminated fnmatch(3) patterns.
 */
extern const char *const watch_default_exclude[];

/*
 * Whether the list (names or globs, "!glob" excludes) covers ifname.  An
 * exclusion always wins.  Without positive entries every interface but
 * loopback and watch_default_exclude counts; with them, only what they
 * match.  An empty list is "no positive entries".
 */
bool	watch_match(char * const *watch, size_t nwatch, const char *ifname,
	    bool loopback);

#endif
