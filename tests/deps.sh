#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# deps: .ci/deps-test.sh and .ci/deps-build.sh against fake apt-get,
# dpkg-query, id and debconf-set-selections (a PATH override; the machine's
# packages are never touched): a missing postfix on an Exim host is refused
# with the conflict named and nothing installed; a harmless missing package
# is installed and named; nothing missing means no apt call at all; an
# unknown package stops before installing.  Needs no root.
set -uo pipefail
srcdir=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/etrnd-deps.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

failed=0 n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); echo "not ok $n - $*"; failed=1; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; fi; }

mkdir "$T/bin"
# dpkg-query: everything is installed but the packages in $FAKE_MISSING.
cat >"$T/bin/dpkg-query" <<'FAKE'
#!/bin/sh
for a; do p=$a; done
case " $FAKE_MISSING " in
*" $p "*) exit 1 ;;
esac
echo "install ok installed"
FAKE
# apt-get: logs each call; the simulation removes Exim for postfix, like
# Debian's postfix on a host with exim4-daemon-light; $FAKE_UNKNOWN is a
# package apt does not know (no package lists yet, say).
cat >"$T/bin/apt-get" <<'FAKE'
#!/bin/sh
echo "apt-get $*" >>"$FAKE_LOG"
case " $* " in
*" -s "*)
	for a; do
		case $a in
		postfix)
			echo "Remv exim4-daemon-light [4.96-15+deb12u4]"
			echo "Remv exim4-base [4.96-15+deb12u4]"
			echo "Inst postfix (3.7.11-0+deb12u1 Debian:12.8/stable [amd64])" ;;
		-*|install) ;;
		*)
			if [ "$a" = "${FAKE_UNKNOWN:-}" ]; then
				echo "E: Unable to locate package $a"
				exit 100
			fi
			echo "Inst $a (1.0 Debian:12.8/stable [amd64])" ;;
		esac
	done ;;
esac
exit 0
FAKE
printf '#!/bin/sh\necho 0\n' >"$T/bin/id"
printf '#!/bin/sh\ncat >>"$FAKE_LOG.debconf"\n' >"$T/bin/debconf-set-selections"
chmod 755 "$T"/bin/*

# run SCRIPT MISSING...: the script with the fakes; output in $T/out.
run() {
	local script=$1
	shift
	: >"$T/log"
	FAKE_UNKNOWN=${FAKE_UNKNOWN:-} FAKE_MISSING="$*" FAKE_LOG="$T/log" PATH="$T/bin:$PATH" \
		bash "$srcdir/.ci/$script" >"$T/out" 2>&1
}
installs() { grep -q "^apt-get install -y" "$T/log"; }

run deps-test.sh postfix
rc=$?
sed 's/^/#   /' "$T/out"
check "postfix on an Exim host: refused (exit 1)" test $rc -eq 1
check "the message names postfix and what it would remove" \
	grep -q "postfix would remove exim4-daemon-light exim4-base: not installing" "$T/out"
check "nothing installed" eval '! installs'
check "the simulation was asked" grep -q "^apt-get install -s" "$T/log"

run deps-test.sh postfix fetchmail
rc=$?
check "postfix and fetchmail: refused, fetchmail not installed either" \
	eval 'test $rc -eq 1 && ! installs'
check "the culprit is named, not fetchmail" \
	eval 'grep -q "postfix would remove" "$T/out" && ! grep -q "fetchmail would" "$T/out"'

run deps-test.sh fetchmail strace
rc=$?
sed 's/^/#   /' "$T/out"
check "fetchmail and strace missing, no conflict: exit 0" test $rc -eq 0
check "they are installed, without recommends" \
	grep -q "^apt-get install -y -q --no-install-recommends fetchmail strace$" "$T/log"
check "and named on the output" grep -q "installing fetchmail strace" "$T/out"

run deps-build.sh
rc=$?
check "nothing missing: exit 0" test $rc -eq 0
check "nothing missing: apt not called" test ! -s "$T/log"

FAKE_UNKNOWN=meson run deps-build.sh meson
rc=$?
check "unknown package: refused (exit 1), no install attempted" \
	eval 'test $rc -eq 1 && ! installs'
check "unknown package: apt's message is shown" \
	grep -q "Unable to locate package meson" "$T/out"

# deps.sh: the wrapper stops at the first refusal.
run deps.sh postfix
rc=$?
check "deps.sh with postfix refused: exit non-zero" test $rc -ne 0
check "deps.sh: the build part still ran first" grep -q "^deps-build:" "$T/out"

exit $failed
