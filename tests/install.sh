#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# install: "meson install --destdir" from a build directory into a temporary
# tree, then check the layout a Debian package would ship: etrnd and etrnctl
# in sbindir, etrn in bindir, the unit in systemd's unit directory, the man
# pages, the sample configuration as an example under datadir/doc (never a
# live file in sysconfdir); and that the installed etrnd accepts the
# installed example.  Prints the tree.  Needs no root.
#
# usage: install.sh BUILDDIR (or MESON_BUILD_ROOT in the environment)
set -uo pipefail

srcdir=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${MESON_BUILD_ROOT:-}}
if [ -z "$build" ] || [ ! -d "$build/meson-info" ]; then
	echo "usage: install.sh BUILDDIR (a configured meson build directory)" >&2
	exit 64
fi
build=$(cd "$build" && pwd)

T=$(mktemp -d "${TMPDIR:-/tmp}/etrnd-install.XXXXXX")
trap 'rm -rf "$T"' EXIT

failed=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; failed=1; }

# meson test has built everything already; do not run ninja again from here.
if ! meson install -C "$build" --destdir "$T" --no-rebuild >"$T.log" 2>&1; then
	cat "$T.log"
	rm -f "$T.log"
	echo "FAIL: meson install"
	exit 1
fi
rm -f "$T.log"

# The directories this build was configured with.
eval "$(meson introspect "$build" --buildoptions | python3 -c '
import json, shlex, sys
opts = {o["name"]: o["value"] for o in json.load(sys.stdin)}
for k in ("prefix", "bindir", "sbindir", "datadir", "mandir", "sysconfdir"):
    print("%s=%s" % (k, shlex.quote(str(opts[k]))))
')"
abs() { case $1 in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac; }
bindir=$(abs "$bindir")
sbindir=$(abs "$sbindir")
datadir=$(abs "$datadir")
mandir=$(abs "$mandir")
sysconfdir=$(abs "$sysconfdir")
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null) ||
	unitdir=
[ -n "$unitdir" ] || unitdir=$prefix/lib/systemd/system
echo "prefix=$prefix bindir=$bindir sbindir=$sbindir unitdir=$unitdir"

# Every file meson says it installs is in the tree.
missing=$(meson introspect "$build" --installed | python3 -c '
import json, os, sys
for dst in json.load(sys.stdin).values():
    if not os.path.lexists(sys.argv[1] + dst):
        print(dst)
' "$T")
if [ -n "$missing" ]; then
	fail "listed by meson but not installed: $missing"
else
	pass "every file meson lists is installed"
fi

# An installed program: a regular executable file in the right directory.
check_prog() {
	local dir=$1 name=$2 wrong=$3
	if [ -f "$T$dir/$name" ] && [ -x "$T$dir/$name" ]; then
		pass "$dir/$name"
	else
		fail "$dir/$name missing or not executable"
	fi
	[ ! -e "$T$wrong/$name" ] || fail "$name also installed in $wrong"
}
# Programs this build defines (etrnctl and etrn may not exist yet).
targets=$(meson introspect "$build" --targets | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    if t["type"] == "executable" and not t["name"].startswith("test_"):
        print(t["name"])
')
check_prog "$sbindir" etrnd "$bindir"
for t in $targets; do
	case $t in
	etrnctl) check_prog "$sbindir" etrnctl "$bindir" ;;
	etrn) check_prog "$bindir" etrn "$sbindir" ;;
	etrnd) ;;
	*) echo "note: executable $t is not checked" ;;
	esac
done

# The unit, with the paths substituted.
unit=$T$unitdir/etrnd.service
if [ -f "$unit" ]; then
	pass "$unitdir/etrnd.service"
	grep -q "^ExecStart=$sbindir/etrnd " "$unit" ||
		fail "etrnd.service: ExecStart= does not run $sbindir/etrnd"
	! grep -q "@[A-Z_]*@" "$unit" ||
		fail "etrnd.service: unsubstituted @VARIABLE@ left"
else
	fail "$unitdir/etrnd.service missing"
fi

# Man pages, compressed or not; etrn(1) once its page is in the tree.
pages="man8/etrnd.8 man5/etrnd.conf.5 man8/etrnctl.8"
[ ! -f "$srcdir/man/etrn.1" ] || pages="$pages man1/etrn.1"
for p in $pages; do
	f=$T$mandir/$p
	[ -f "$f" ] || f=$f.gz
	if [ ! -f "$f" ]; then
		fail "$mandir/$p missing (a new page needs meson setup --reconfigure)"
		continue
	fi
	case $f in
	*.gz) head=$(gzip -dc "$f" | head -c 4096) ;;
	*) head=$(head -c 4096 "$f") ;;
	esac
	if printf '%s' "$head" | grep -q '^\.Dt '; then
		pass "${f#"$T"}"
	else
		fail "${f#"$T"} is not an mdoc page"
	fi
done

# The sample configuration: an example, never a live file in /etc.
example=$datadir/doc/etrnd/examples/etrnd.conf
if [ -f "$T$example" ]; then
	pass "$example"
	[ "$(stat -c %a "$T$example")" = 644 ] ||
		fail "$example has mode $(stat -c %a "$T$example"), not 644"
else
	fail "$example missing"
fi
if [ -e "$T$sysconfdir" ] && [ -n "$(find "$T$sysconfdir" ! -type d)" ]; then
	fail "files installed in $sysconfdir: $(find "$T$sysconfdir" ! -type d)"
else
	pass "nothing installed in $sysconfdir"
fi
# The journal catalog, where journalctl --update-catalog looks.
catalogdir=$(pkg-config --variable=catalogdir systemd 2>/dev/null) ||
	catalogdir=
[ -n "$catalogdir" ] || catalogdir=$prefix/lib/systemd/catalog
if [ -f "$T$catalogdir/etrnd.catalog" ]; then
	pass "$catalogdir/etrnd.catalog"
	[ "$(grep -c '^-- [0-9a-f]\{32\}$' "$T$catalogdir/etrnd.catalog")" -eq 5 ] ||
		fail "etrnd.catalog: not one entry per event"
else
	fail "$catalogdir/etrnd.catalog missing"
fi
stray=$(cd "$T" && find . ! -type d | sed 's|^\.||' |
	grep -v -e "^$prefix/" -e "^$unitdir/" -e "^$catalogdir/" || true)
[ -z "$stray" ] || fail "installed outside $prefix, $unitdir and $catalogdir: $stray"

# The installed daemon accepts the installed example.
if [ -x "$T$sbindir/etrnd" ] && [ -f "$T$example" ]; then
	out=$("$T$sbindir/etrnd" -t -c "$T$example" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		pass "etrnd -t -c $example"
	else
		echo "$out"
		fail "etrnd -t -c $example exited $rc"
	fi
fi

echo "--- installed tree (mode, size, path):"
(cd "$T" && find . -mindepth 1 ! -type d -printf '%M %8s %P\n' | sort -k3)

if [ $failed -ne 0 ]; then
	echo "install: FAILED"
	exit 1
fi
echo "install: all checks passed"
