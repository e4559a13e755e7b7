#!/bin/bash
# SPDX-License-Identifier: ISC
#
# apt-mirror.sh: the Debian mirror this machine's apt already uses for a
# suite's main component, for debootstrap.  The repository names no mirror
# host: the tests take the one the admin configured.
#
#   apt-mirror.sh SUITE [APT-ETC]
#
# Looks at the deb822 files APT-ETC/sources.list.d/*.sources (a stanza
# whose Types has "deb", Suites has SUITE and Components has "main", not
# "Enabled: no"), then the one-line files APT-ETC/sources.list and
# APT-ETC/sources.list.d/*.list ("deb [options] URI SUITE ... main ...").
# Prints the first URI found (http, https or file) and exits 0, or exits 1
# saying nothing.  APT-ETC defaults to /etc/apt.

set -u
suite=${1:?usage: apt-mirror.sh SUITE [APT-ETC]}
etc=${2:-/etc/apt}

# deb822: stanzas separated by blank lines; fields may continue on
# indented lines; "#" lines are comments.
deb822() {
	awk -v suite="$suite" '
	function has(list, word,   n, i, w) {
		n = split(list, w, /[ \t]+/)
		for (i = 1; i <= n; i++)
			if (w[i] == word)
				return 1
		return 0
	}
	function stanza() {
		if (has(f["types"], "deb") && has(f["suites"], suite) &&
		    has(f["components"], "main") &&
		    tolower(f["enabled"]) != "no" && f["uris"] != "") {
			n = split(f["uris"], u, /[ \t]+/)
			for (k = 1; k <= n; k++)
				if (u[k] != "") { print u[k]; found = 1; exit }
		}
		delete f
	}
	/^#/ { next }
	/^[ \t]*$/ { stanza(); key = ""; next }
	/^[ \t]/ { if (key != "") f[key] = f[key] " " $0; next }
	{
		key = tolower(substr($0, 1, index($0, ":") - 1))
		f[key] = substr($0, index($0, ":") + 1)
	}
	END { if (!found) stanza() }' "$@" | sed -n '1{s/^[ \t]*//;p}'
}

# One-line style: "deb [opt=val ...] URI SUITE COMPONENT...".
oneline() {
	sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$@" 2>/dev/null |
	    awk -v suite="$suite" '
	$1 == "deb" && $3 == suite {
		for (i = 4; i <= NF; i++)
			if ($i == "main") { print $2; exit }
	}'
}

uri=
for f in "$etc"/sources.list.d/*.sources; do
	[ -r "$f" ] || continue
	uri=$(deb822 "$f")
	[ -n "$uri" ] && break
done
if [ -z "$uri" ]; then
	for f in "$etc/sources.list" "$etc"/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		uri=$(oneline "$f")
		[ -n "$uri" ] && break
	done
fi
case $uri in
http://*|https://*|file:/*) echo "${uri%/}" ;;
*) exit 1 ;;
esac
