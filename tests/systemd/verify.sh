#!/bin/bash
# SPDX-License-Identifier: ISC
#
# verify.sh: lint the built etrnd.service.
#
#   verify.sh UNIT [MANDIR]
#
# 1. systemd-analyze verify.  It exits 0 for misspelled keys and bad values
#    ("Unknown key ..., ignoring"), so any output at all is a failure.  The
#    unit names binaries and man pages that are not installed on the build
#    machine: verify runs against a scratch root (--root=) holding the host's
#    unit directory, placeholder executables at the unit's Exec paths and
#    the unit itself, with --man=no; the man pages are checked against
#    MANDIR (the source tree's man/) instead.
# 2. systemd-analyze security --offline=true: print the exposure score and
#    fail above 1.1 (--threshold is on a x10 scale).
# 3. The settings the package relies on: RestartPreventExitStatus=78 (a bad
#    configuration leaves the unit failed, no restart loop) and
#    Group=etrnd-admin beside DynamicUser=yes with RuntimeDirectoryMode=0750
#    (members of the static group reach the control socket).
#
# Exit 77 (skip) if systemd-analyze is missing.

set -u

MAX_EXPOSURE=11		# 1.1

unit=${1:?usage: verify.sh UNIT [MANDIR]}
mandir=${2:-}
name=$(basename "$unit")
fail=0
n=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); echo "not ok $n - $*"; fail=1; }

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze not found (Debian: apt-get install systemd)"
	exit 77
fi
if [ ! -r "$unit" ]; then
	echo "Bail out! $unit: not readable"
	exit 1
fi
echo "# $(systemd-analyze --version | head -n 1)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/etrnd-verify.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# The host's units, for the dependencies (sysinit.target, network.target).
sysunitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
for d in "$sysunitdir" /usr/lib/systemd/system /lib/systemd/system; do
	if [ -n "$d" ] && [ -e "$d/sysinit.target" ]; then
		sysunitdir=$d
		break
	fi
done
if [ ! -e "$sysunitdir/sysinit.target" ]; then
	echo "SKIP: no systemd unit directory on this machine"
	exit 77
fi
root=$tmp/root
mkdir -p "$root/usr/lib/systemd" "$root/etc/systemd/system"
cp -R "$sysunitdir" "$root/usr/lib/systemd/system"
cp "$unit" "$root/etc/systemd/system/$name"

# Placeholders for the absolute paths in Exec*= (prefixes such as "-", "@"
# or "!" stripped); relative or missing ones are verify's to report.
sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\(\/[^ ]*\).*/\1/p' "$unit" | sort -u |
while read -r exe; do
	mkdir -p "$root$(dirname "$exe")"
	printf '#!/bin/sh\nexit 0\n' > "$root$exe"
	chmod 755 "$root$exe"
done

out=$(cd "$tmp" && systemd-analyze verify --man=no --root="$root" \
    "$root/etc/systemd/system/$name" 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ -z "$out" ]; then
	ok "systemd-analyze verify $name: no output"
else
	notok "systemd-analyze verify $name (exit $rc):"
	printf '%s\n' "$out" | sed "s|$root||g; s/^/#   /"
fi

# Documentation=man:PAGE(SECTION) must name a page in the source tree.
if [ -n "$mandir" ]; then
	docs=$(sed -n 's/^Documentation=//p' "$unit" | tr ' ' '\n' |
	    sed -n 's/^man:\([^()]*\)(\([0-9a-z]*\))$/\1.\2/p')
	missing=
	for page in $docs; do
		[ -r "$mandir/$page" ] || missing="$missing $page"
	done
	if [ -z "$docs" ]; then
		notok "Documentation= names no man page"
	elif [ -z "$missing" ]; then
		ok "Documentation= man pages exist:" $docs
	else
		notok "Documentation= man pages missing in $mandir:$missing"
	fi
fi

out=$(systemd-analyze security --no-pager --offline=true \
    --threshold=$MAX_EXPOSURE "$unit" 2>&1)
rc=$?
score=$(printf '%s\n' "$out" |
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
# What the score still counts against the unit.
printf '%s\n' "$out" | grep '✗' | sed 's/  */ /g; s/^/#   /'
if [ $rc -eq 0 ] && [ -n "$score" ]; then
	ok "systemd-analyze security: exposure $score (at most 1.1)"
else
	notok "systemd-analyze security: exposure ${score:-unknown}, over 1.1 (exit $rc)"
	[ -n "$score" ] || printf '%s\n' "$out" | sed 's/^/#   /'
fi

# setting KEY VALUE: the unit sets KEY to exactly VALUE, once.
setting() {
	local vals
	vals=$(sed -n "s/^$1=//p" "$unit")
	if [ "$vals" = "$2" ]; then
		ok "$1=$2"
	else
		notok "$1= is '$(printf '%s' "$vals" | tr '\n' ' ')', not '$2'"
	fi
}
setting RestartPreventExitStatus 78
setting Group etrnd-admin
setting DynamicUser yes
setting RuntimeDirectoryMode 0750

exit $fail
