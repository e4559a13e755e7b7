#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# install: "meson install --destdir" from a build directory into a temporary
# tree, then check the layout a Debian package would ship: etrnd and etrnctl
# in sbindir, etrn in bindir, the unit in systemd's unit directory (for
# prefix /usr; the prefix's lib/systemd/system otherwise), the catalog and
# the sysusers.d file likewise, the man pages, the sample configuration and
# the ppp hook as examples under datadir/doc (never a live file in
# sysconfdir); that the installed etrnd accepts the installed example; and
# that every path agrees with the prefix: the configuration file etrnd
# reads by default is the one its man pages, and the unit, name, and the
# hook runs the installed etrnctl.  Prints the tree.  Needs no root.
#
# The given build is checked; when its prefix is not /usr/local, a second
# build with --prefix=/usr/local (tests off) is made and checked as well,
# since that is the install the README tells people to make by hand.
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

T=$(mktemp -d "${TMPDIR:-/tmp}/etrnd-install.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

failed=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; failed=1; }

# man_text FILE: a man page's text, compressed or not.
man_text() {
	case $1 in
	*.gz) gzip -dc "$1" ;;
	*) cat "$1" ;;
	esac
}

# check_install BUILD DESTDIR: install BUILD into DESTDIR and check it.
check_install() {
	local build=$1 D=$2
	mkdir -p "$D"
	# meson test has built everything already; do not run ninja from here.
	if ! meson install -C "$build" --destdir "$D" --no-rebuild \
	    >"$D.log" 2>&1; then
		cat "$D.log"
		fail "meson install -C $build"
		return
	fi

	# The directories this build was configured with, absolute.
	local prefix bindir sbindir datadir mandir sysconfdir
	eval "$(meson introspect "$build" --buildoptions | python3 -c '
import json, shlex, sys
opts = {o["name"]: o["value"] for o in json.load(sys.stdin)}
for k in ("prefix", "bindir", "sbindir", "datadir", "mandir", "sysconfdir"):
    v = str(opts[k])
    if not v.startswith("/"):
        v = opts["prefix"].rstrip("/") + "/" + v
    print("%s=%s" % (k, shlex.quote(v)))
')"
	# systemd's directories as meson.build chooses them.
	local unitdir catalogdir sysusersdir
	if [ "$prefix" = /usr ] && pkg-config --exists systemd 2>/dev/null; then
		unitdir=$(pkg-config --variable=systemdsystemunitdir systemd)
		catalogdir=$(pkg-config --variable=catalogdir systemd)
		sysusersdir=$(pkg-config --variable=sysusersdir systemd)
	else
		unitdir=$prefix/lib/systemd/system
		catalogdir=$prefix/lib/systemd/catalog
		sysusersdir=$prefix/lib/sysusers.d
	fi
	echo "--- $build: prefix=$prefix sysconfdir=$sysconfdir sbindir=$sbindir"
	echo "    unitdir=$unitdir catalogdir=$catalogdir sysusersdir=$sysusersdir"
	local conf=$sysconfdir/etrnd.conf docdir=$datadir/doc/etrnd

	# Every file meson says it installs is in the tree.
	local missing
	missing=$(meson introspect "$build" --installed | python3 -c '
import json, os, sys
for dst in json.load(sys.stdin).values():
    if not os.path.lexists(sys.argv[1] + dst):
        print(dst)
' "$D")
	if [ -n "$missing" ]; then
		fail "listed by meson but not installed: $missing"
	else
		pass "every file meson lists is installed"
	fi

	# Programs: regular executable files in the right directory.
	check_prog() {
		local dir=$1 name=$2 wrong=$3
		if [ -f "$D$dir/$name" ] && [ -x "$D$dir/$name" ]; then
			pass "$dir/$name"
		else
			fail "$dir/$name missing or not executable"
		fi
		[ ! -e "$D$wrong/$name" ] || fail "$name also installed in $wrong"
	}
	check_prog "$sbindir" etrnd "$bindir"
	check_prog "$sbindir" etrnctl "$bindir"
	check_prog "$bindir" etrn "$sbindir"

	# The configuration path compiled into etrnd.
	local help
	help=$("$D$sbindir/etrnd" -h 2>&1)
	if printf '%s\n' "$help" | grep -qF "(default $conf)"; then
		pass "etrnd reads $conf by default"
	else
		fail "etrnd -h does not name $conf as the default:"
		printf '%s\n' "$help" | sed 's/^/    /'
	fi

	# The unit, with the paths substituted.
	local unit=$D$unitdir/etrnd.service
	if [ -f "$unit" ]; then
		pass "$unitdir/etrnd.service"
		grep -qx "ExecStart=$sbindir/etrnd -c $conf" "$unit" &&
			pass "ExecStart=$sbindir/etrnd -c $conf" ||
			fail "etrnd.service: ExecStart= is not '$sbindir/etrnd -c $conf'"
		grep -qx "ExecReload=$sbindir/etrnctl reload" "$unit" ||
			fail "etrnd.service: ExecReload= does not run $sbindir/etrnctl"
		! grep -q "@[A-Z_]*@" "$unit" ||
			fail "etrnd.service: unsubstituted @VARIABLE@ left"
	else
		fail "$unitdir/etrnd.service missing"
	fi

	# Man pages: mdoc, fully substituted, naming this build's paths only.
	local pages="man8/etrnd.8 man5/etrnd.conf.5 man8/etrnctl.8" p f text
	[ ! -f "$srcdir/man/etrn.1" ] || pages="$pages man1/etrn.1"
	for p in $pages; do
		f=$D$mandir/$p
		[ -f "$f" ] || f=$f.gz
		if [ ! -f "$f" ]; then
			fail "$mandir/$p missing (a new page needs meson setup --reconfigure)"
			continue
		fi
		text=$(man_text "$f")
		if printf '%s\n' "$text" | grep -q '^\.Dt '; then
			pass "${f#"$D"}"
		else
			fail "${f#"$D"} is not an mdoc page"
		fi
		! printf '%s\n' "$text" | grep -n "@[A-Z_]*@" ||
			fail "${f#"$D"}: unsubstituted @VARIABLE@ left"
		[ "$conf" = /etc/etrnd.conf ] ||
			! printf '%s\n' "$text" |
			    grep -nE "(^|[^[:alnum:]/._-])/etc/etrnd\.conf" ||
			fail "${f#"$D"} names /etc/etrnd.conf, not $conf"
		[ "$sbindir" = /usr/sbin ] ||
			! printf '%s\n' "$text" | grep -n "/usr/sbin/etrn" ||
			fail "${f#"$D"} names /usr/sbin, not $sbindir"
		[ "$datadir" = /usr/share ] ||
			! printf '%s\n' "$text" | grep -n "/usr/share/doc/etrnd" ||
			fail "${f#"$D"} names /usr/share/doc/etrnd, not $docdir"
	done
	for p in man8/etrnd.8 man5/etrnd.conf.5; do
		f=$D$mandir/$p
		[ -f "$f" ] || f=$f.gz
		[ -f "$f" ] || continue
		if man_text "$f" | grep -q "^\.\(It \)\{0,1\}Pa $conf"; then
			pass "$p names $conf"
		else
			fail "$p does not name $conf"
		fi
	done
	f=$D$mandir/man8/etrnctl.8
	[ -f "$f" ] || f=$f.gz
	if [ -f "$f" ] && man_text "$f" | grep -q "^$sbindir/etrnctl run "; then
		pass "etrnctl(8) shows the hook running $sbindir/etrnctl"
	else
		fail "etrnctl(8) does not show $sbindir/etrnctl in the hook"
	fi

	# The sample configuration: an example, never a live file in /etc.
	local example=$docdir/examples/etrnd.conf
	if [ -f "$D$example" ]; then
		pass "$example"
		[ "$(stat -c %a "$D$example")" = 644 ] ||
			fail "$example has mode $(stat -c %a "$D$example"), not 644"
	else
		fail "$example missing"
	fi
	if [ -e "$D$sysconfdir" ] && [ -n "$(find "$D$sysconfdir" ! -type d)" ]; then
		fail "files installed in $sysconfdir: $(find "$D$sysconfdir" ! -type d)"
	else
		pass "nothing installed in $sysconfdir"
	fi

	# The ppp hook: runs the installed etrnctl; -s only with ETRND_CONTROL.
	local hook=$docdir/examples/ppp/ip-up.d/etrnd
	if [ -f "$D$hook" ] && [ -x "$D$hook" ]; then
		pass "$hook"
		grep -qF "\${ETRNCTL:-$sbindir/etrnctl}" "$D$hook" &&
			pass "the hook runs $sbindir/etrnctl" ||
			fail "$hook does not run $sbindir/etrnctl"
		! grep -n "@[A-Z_]*@" "$D$hook" ||
			fail "$hook: unsubstituted @VARIABLE@ left"
		sh -n "$D$hook" || fail "$hook: sh -n"
		printf '#!/bin/sh\necho "$*" >>"%s"\n' "$D.args" >"$D.etrnctl"
		chmod 755 "$D.etrnctl"
		: >"$D.args"
		env -u ETRND_CONTROL ETRNCTL="$D.etrnctl" PPP_IFACE=ppp0 \
			"$D$hook" ppp0 /dev/ttyS0 115200 198.51.100.7 \
			198.51.100.1 isp
		ETRND_CONTROL=/run/other/control ETRNCTL="$D.etrnctl" \
			"$D$hook" ppp1 /dev/ttyS0 115200 198.51.100.7 \
			198.51.100.1 isp
		if [ "$(cat "$D.args")" = "run --no-wait --link ppp0
-s /run/other/control run --no-wait --link ppp1" ]; then
			pass "the hook passes -s only when ETRND_CONTROL is set"
		else
			fail "the hook ran etrnctl with: $(cat "$D.args")"
		fi
		rm -f "$D.args" "$D.etrnctl"
	else
		fail "$hook missing or not executable"
	fi

	# The journal catalog, where journalctl --update-catalog looks.
	if [ -f "$D$catalogdir/etrnd.catalog" ]; then
		pass "$catalogdir/etrnd.catalog"
		# One entry per MESSAGE_ID that log.c sends.
		[ "$(grep -c '^-- [0-9a-f]\{32\}$' "$D$catalogdir/etrnd.catalog")" -eq \
		    "$(grep -c '"[0-9a-f]\{32\}"' "$srcdir/src/log.c")" ] ||
			fail "etrnd.catalog: not one entry per event"
	else
		fail "$catalogdir/etrnd.catalog missing"
	fi
	# The admin group, for systemd-sysusers.
	if grep -qx "g etrnd-admin -" "$D$sysusersdir/etrnd.conf" 2>/dev/null; then
		pass "$sysusersdir/etrnd.conf creates the group etrnd-admin"
	else
		fail "$sysusersdir/etrnd.conf missing or without 'g etrnd-admin -'"
	fi
	local stray
	stray=$(cd "$D" && find . ! -type d | sed 's|^\.||' |
		grep -v -e "^$prefix/" -e "^$unitdir/" -e "^$catalogdir/" \
		    -e "^$sysusersdir/" || true)
	[ -z "$stray" ] ||
		fail "installed outside $prefix, $unitdir, $catalogdir and $sysusersdir: $stray"
	if [ "$prefix" != /usr ]; then
		stray=$(cd "$D" && find . ! -type d | sed 's|^\.||' |
			grep -v "^$prefix/" || true)
		[ -z "$stray" ] || fail "installed outside $prefix: $stray"
	fi

	# The installed daemon accepts the installed example.
	if [ -x "$D$sbindir/etrnd" ] && [ -f "$D$example" ]; then
		local out rc
		out=$("$D$sbindir/etrnd" -t -c "$D$example" 2>&1)
		rc=$?
		if [ $rc -eq 0 ]; then
			pass "etrnd -t -c $example"
		else
			echo "$out"
			fail "etrnd -t -c $example exited $rc"
		fi
	fi

	echo "--- installed tree (mode, size, path):"
	(cd "$D" && find . -mindepth 1 ! -type d -printf '%M %8s %P\n' | sort -k3)
}

check_install "$build" "$T/given"

given_prefix=$(meson introspect "$build" --buildoptions | python3 -c '
import json, sys
print([o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"][0])')
if [ "$given_prefix" != /usr/local ]; then
	echo "--- a second build with --prefix=/usr/local"
	if meson setup "$T/build-local" "$srcdir" --prefix=/usr/local \
	    -Dtests=false >"$T/setup.log" 2>&1 &&
	    ninja -C "$T/build-local" >"$T/ninja.log" 2>&1; then
		check_install "$T/build-local" "$T/local"
	else
		tail -30 "$T/setup.log" "$T/ninja.log" 2>/dev/null
		fail "meson setup/ninja with --prefix=/usr/local"
	fi
fi

if [ $failed -ne 0 ]; then
	echo "install: FAILED"
	exit 1
fi
echo "install: all checks passed"
