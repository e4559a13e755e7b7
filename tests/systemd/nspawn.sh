#!/bin/bash
# SPDX-License-Identifier: ISC
#
# nspawn.sh: etrnd from its Debian package under a real systemd 252, with a
# real Postfix secondary that wants AUTH for ETRN.
#
#   nspawn.sh BUILDDIR
#
# Boots a minimal Debian 12 tree with systemd-nspawn, installs the package
# into it with dpkg (the .deb from $ETRND_TEST_DEB, else built with
# .ci/build-deb into BUILDDIR/deb) and drives systemctl inside with
# nsenter:
#
#   install   dpkg -i works offline (the tree has the package's
#             dependencies); with the shipped /etc/etrnd.conf (no relay)
#             the unit is enabled, active and idle, and does not restart;
#   group     Group=etrnd-admin next to DynamicUser=yes: the dynamic UID
#             with the static group; a member of etrnd-admin runs
#             "etrnctl status", anyone else gets a permission message;
#   badstart  a bad /etc/etrnd.conf at start: failed after one attempt
#             (exit 78, no restart loop), file:line in the journal and in
#             "systemctl status";
#   start     Type=notify start returns, active, Status: line, "started" at
#             priority info, the hardening in effect (uid, capabilities,
#             seccomp, user namespace, runtime directory);
#   netlink   under that sandbox etrnd sees host0 (a veth) go down and up and
#             sends ETRN to a scripted secondary on the other end;
#   flush     mail queued at a real Postfix secondary (its own instance,
#             tests/e2e, with Cyrus SASL and STARTTLS; ETRN only after
#             AUTH) while host0 was down reaches the site's SMTP server on
#             the container's address after link-up; the AUTH password
#             is a systemd credential (LoadCredential= in a drop-in, the
#             file root:root 0600);
#   reload    systemctl reload with a good file succeeds, with a broken one
#             fails, logs file:line at priority err and keeps the daemon
#             (same MainPID) on the old configuration;
#   watchdog  with WatchdogSec=2s the pings keep it alive; SIGSTOP wedges it,
#             systemd aborts it and Restart=on-failure starts a new one;
#   stop      systemctl stop returns quickly, clean exit, "stopping" logged;
#   purge     dpkg --purge leaves no file behind (the tree's file list before
#             the install and after the purge, but for the journal, logs
#             and dpkg/apt state), the unit, /etc/etrnd.conf and the
#             catalog entries gone; the group etrnd-admin stays (Debian
#             does not remove system groups on purge).
#
# The Debian tree is built once with debootstrap from the mirror this
# machine's apt uses (apt-mirror.sh; ETRND_TEST_MIRROR overrides it) and
# kept in ETRND_TEST_CACHE (default /var/cache/etrnd-test), keyed by a hash
# of the package list (which includes the package's dependencies); each run
# boots an overlay (or a copy) of it, so runs never change the cache.  The
# container's network is a namespace of its own whose veth peer sits in a
# second namespace (the provider: Postfix and the scripted secondary), all
# in 198.51.100.0/24 (RFC 5737): nothing on the host's network changes.
#
# Needs root, systemd-nspawn (systemd-container), debootstrap, nsenter, ip,
# python3, postfix, sasl2-bin, openssl and the Cyrus PLAIN/LOGIN/sasldb
# plugins, and .ci/deps-build.sh's packages to build the .deb unless
# ETRND_TEST_DEB names one.  Exits 77 with the reason otherwise, or when systemd-nspawn
# cannot boot a container on this machine (unless ETRND_TEST_REQUIRE_NSPAWN
# is set: then every skip fails).

set -u

build=${1:?usage: nspawn.sh BUILDDIR}
build=$(cd "$build" && pwd) || exit 1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
srcdir=$(cd "$here/../.." && pwd)

SUITE=bookworm
CACHE=${ETRND_TEST_CACHE:-/var/cache/etrnd-test}
# A booting systemd and ip(8); the package's own dependencies are added
# from the .deb (dpkg -i must work offline).
BASE_PKGS=systemd,systemd-sysv,dbus,iproute2,libevent-core-2.1-7,libevent-extra-2.1-7,libnl-3-200,libnl-route-3-200,libsystemd0,libevent-openssl-2.1-7,libssl3,ca-certificates
CACHE_VERSION=1		# bump when the tree's preparation below changes

NET=198.51.100		# container host0 .2 (the site), provider .1
SMTP_PORT=2525		# the scripted secondary
CLOSED_PORT=2526	# nothing listens: a relay that fails
CRED=isp-password	# the AUTH password's credential name
ADMIN=mailadm		# a member of etrnd-admin
GUEST=guest		# not a member

# The e2e suite's Postfix, SASL and certificate helpers (its own Postfix
# instances under $T, never /etc/postfix).  They need ETRND set and bring
# check/ok/skip/wait_for of their own: ours below replace them.
export ETRND=${ETRND:-$build/src/etrnd}
# shellcheck source=../e2e/tls-lib.sh
. "$here/../e2e/tls-lib.sh"

n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); echo "not ok $n - $*"; fail=1; }
skipped() { n=$((n + 1)); echo "ok $n - # SKIP $*"; }
note() { echo "# $*"; }
# check DESCRIPTION COMMAND...: ok if COMMAND succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else notok "$desc"; fi
}
# Set ETRND_TEST_REQUIRE_NSPAWN=1 on CI machines that must run this test:
# its skips then fail.
skip77() {
	echo "SKIP: $*"
	[ -z "${ETRND_TEST_REQUIRE_NSPAWN:-}" ] || exit 1
	exit 77
}
skip() { skip77 "$@"; }
bail() {
	echo "Bail out! $*"
	exit 1
}
# wait_for SECONDS COMMAND...: retry COMMAND until it succeeds, bounded.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.2
	done
}

# --- preconditions ----------------------------------------------------------

[ "$(id -u)" -eq 0 ] || skip77 "needs root (systemd-nspawn, debootstrap, ip netns)"
for t in systemd-nspawn:systemd-container debootstrap:debootstrap \
    nsenter:util-linux ip:iproute2 flock:util-linux python3:python3 \
    dpkg-deb:dpkg postfix:postfix postconf:postfix postqueue:postfix \
    postmap:postfix saslpasswd2:sasl2-bin openssl:openssl; do
	command -v "${t%%:*}" >/dev/null 2>&1 ||
		skip77 "${t%%:*} not found (Debian: apt-get install ${t#*:})"
done
getent passwd postfix >/dev/null && getent group postdrop >/dev/null ||
	skip77 "needs the postfix user and postdrop group (package postfix)"
for m in plain login sasldb; do
	compgen -G "/usr/lib/*/sasl2/lib$m.so*" >/dev/null ||
		skip77 "needs the Cyrus SASL $m plugin (libsasl2-modules, libsasl2-modules-db)"
done
postconf -a 2>/dev/null | grep -qx cyrus ||
	skip77 "this Postfix has no Cyrus SASL server support"

# --- the package ---------------------------------------------------------------

run_start=$SECONDS
deb=${ETRND_TEST_DEB:-}
if [ -z "$deb" ]; then
	[ -x "$srcdir/.ci/build-deb" ] ||
		bail "no package: $srcdir/.ci/build-deb missing and ETRND_TEST_DEB unset"
	command -v dpkg-buildpackage >/dev/null 2>&1 ||
		skip77 "dpkg-buildpackage not found to build the package" \
		    "(run .ci/deps-build.sh, or set ETRND_TEST_DEB to a .deb)"
	note "building the package: .ci/build-deb $build/deb"
	t0=$SECONDS
	rm -rf "$build/deb"
	# The suite runs on its own: no second run inside dpkg-buildpackage.
	DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-nocheck} timeout 600 \
	    "$srcdir/.ci/build-deb" "$build/deb" > "$build/deb.log" 2>&1
	rc=$?
	deb=$(ls "$build"/deb/etrnd_*.deb 2>/dev/null | head -n 1)
	if [ -z "$deb" ]; then
		tail -n 30 "$build/deb.log" | sed 's/^/#   /'
		bail ".ci/build-deb made no etrnd_*.deb (exit $rc, log: $build/deb.log)"
	elif [ "$rc" != 0 ]; then
		# Built, then lintian objected: CI's own "deb" check
		# reports that; the package is still tested here.
		note ".ci/build-deb exit $rc after building the package (lintian?):"
		grep -E '^(  [EWI]: |build-deb:)' "$build/deb.log" | tail -n 10 |
		    sed 's/^/#   /'
	fi
	note "package built in $((SECONDS - t0))s"
fi
[ -r "$deb" ] || bail "$deb: no such package"
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
note "package $(dpkg-deb -W --showformat='${Package} ${Version} ${Architecture}' "$deb") ($deb)"

# The package's dependencies (first of each alternative, no versions) join
# the tree's list: dpkg -i then works offline.
deps=$(dpkg-deb -W --showformat='${Depends},${Pre-Depends}' "$deb" | tr ',' '\n' |
    sed 's/|.*//; s/([^)]*)//g; s/:any//; s/[[:space:]]//g' | sed '/^$/d' | sort -u)
PKGS=$BASE_PKGS
for d in $deps; do
	case ",$PKGS," in *",$d,"*) ;; *) PKGS=$PKGS,$d ;; esac
done

# --- the cached Debian tree ---------------------------------------------------

key=$(printf '%s\n' "$CACHE_VERSION" "$SUITE" minbase "$PKGS" "$(uname -m)" |
    sha256sum | cut -c1-12)
tree=$CACHE/$SUITE-$key

# Debootstrap into a temporary directory and rename it into place only when
# complete, under a lock, so concurrent or interrupted runs never see half a
# tree.
build_tree() {
	local tmp=$tree.tmp.$$

	note "building $tree (debootstrap $SUITE from $MIRROR; once per cache)"
	rm -rf "$tmp"
	if ! timeout 900 debootstrap --variant=minbase --include="$PKGS" \
	    "$SUITE" "$tmp" "$MIRROR" > "$CACHE/debootstrap.log" 2>&1; then
		tail -n 20 "$CACHE/debootstrap.log" | sed 's/^/#   /'
		rm -rf "$tmp"
		return 1
	fi
	chroot "$tmp" apt-get clean
	rm -rf "$tmp"/var/lib/apt/lists/* "$tmp"/var/log/*.log
	# An empty machine-id: each boot makes its own.
	: > "$tmp/etc/machine-id"
	echo "$PKGS" > "$tmp/.etrnd-test-tree"
	mv "$tmp" "$tree"
}

mkdir -p "$CACHE" || bail "$CACHE: cannot create"
exec 9> "$CACHE/.lock"
if ! timeout 1200 flock 9; then
	bail "$CACHE/.lock: still locked after 20 minutes"
fi
if [ ! -e "$tree/.etrnd-test-tree" ]; then
	rm -rf "$CACHE"/*.tmp.*	# interrupted builds; we hold the lock
	# The mirror this machine's apt already uses, never one of ours.
	MIRROR=${ETRND_TEST_MIRROR:-$("$here/apt-mirror.sh" "$SUITE")}
	[ -n "$MIRROR" ] || skip77 "no Debian mirror for '$SUITE main' in" \
	    "/etc/apt/sources.list.d/*.sources or /etc/apt/sources.list" \
	    "(or set ETRND_TEST_MIRROR)"
	start=$SECONDS
	if ! build_tree; then
		# No mirror here: that is the machine, not etrnd.
		skip77 "debootstrap $SUITE failed (no access to $MIRROR?); see $CACHE/debootstrap.log"
	fi
	note "tree built in $((SECONDS - start))s"
else
	note "using cached tree $tree"
fi
# Shared while booted: a rebuild (new key) never touches this one anyway.
flock -u 9

# --- per-run state and cleanup -------------------------------------------------

work=$(mktemp -d /var/tmp/etrnd-nspawn.XXXXXX) || bail "mktemp"
root=$work/root
ns_c=etrnd-c-$$		# the container's network namespace (the site)
ns_p=etrnd-p-$$		# the provider's
# For the e2e helpers: Postfix, inject and the probe run in the provider's
# namespace, the site's SMTP server in the container's.
# shellcheck disable=SC2034
NS_SITE=$ns_c
# shellcheck disable=SC2034
NS_PROV=$ns_p
nspawn_pid=
cpid=
peer_pid=
overlay=0

nspawn_cleanup() {
	local i

	if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
		# nspawn turns SIGTERM into a clean shutdown of the container.
		kill -TERM "$nspawn_pid" 2>/dev/null
		for i in $(seq 1 50); do
			kill -0 "$nspawn_pid" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$nspawn_pid" 2>/dev/null; then
			[ -n "$cpid" ] && kill -KILL "$cpid" 2>/dev/null
			kill -KILL "$nspawn_pid" 2>/dev/null
		fi
		wait "$nspawn_pid" 2>/dev/null
	fi
	if [ -n "$peer_pid" ]; then
		kill "$peer_pid" 2>/dev/null
		wait "$peer_pid" 2>/dev/null
	fi
	# The Postfix instances, the sink (PIDS) and both namespaces
	# (NAMESPACES), then $T.
	e2e_cleanup
	[ "$overlay" = 1 ] && umount "$root" 2>/dev/null
	if [ "$fail" != 0 ] && [ -n "${KEEP:-}" ]; then
		echo "# kept $work"
	else
		rm -rf "$work"
	fi
}
trap nspawn_cleanup EXIT
trap 'exit 1' INT TERM

# The run's tree: an overlay on the cache, else a copy.
mkdir -p "$work/upper" "$work/ovl" "$root"
if mount -t overlay overlay \
    -o "lowerdir=$tree,upperdir=$work/upper,workdir=$work/ovl" "$root" \
    2>/dev/null; then
	overlay=1
else
	note "no overlayfs here: copying the tree"
	cp -a "$tree/." "$root/" || bail "cannot copy $tree"
fi
# The package, where dpkg inside finds it (in both file lists: the purge
# check compares the tree from here on).
mkdir -p "$root/var/tmp/etrnd-test"
cp "$deb" "$root/var/tmp/etrnd-test/etrnd.deb"

# --- network: host0 in the container, the provider on its peer ---------------

ip netns add "$ns_c" && NAMESPACES+=("$ns_c") &&
	ip netns add "$ns_p" && NAMESPACES+=("$ns_p") || bail "ip netns add"
# Distinct ifindexes: the kernel defers operstate changes of a device
# whose ifindex equals its peer's by up to a second (linkwatch).
ip -n "$ns_p" link add veth-c index 20 type veth \
    peer name host0 netns "$ns_c" index 10 || bail "cannot create a veth pair"
ip -n "$ns_p" addr add "$NET.1/24" dev veth-c
ip -n "$ns_p" link set lo up
ip -n "$ns_p" link set veth-c up
# Postfix's delivery attempts fail at once while the site is down.
ip netns exec "$ns_p" sysctl -qw net.ipv4.conf.veth-c.ignore_routes_with_linkdown=1
ip -n "$ns_c" addr add "$NET.2/24" dev host0
ip -n "$ns_c" link set lo up
ip -n "$ns_c" link set host0 up

# A scripted secondary: 220, EHLO lists ETRN, 250 to ETRN.  It records
# every command it receives.
: > "$work/peer.log"
ip netns exec "$ns_p" python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(8)
log = open(sys.argv[3], "a", buffering=1)
while True:
    c, _ = s.accept()
    c.settimeout(30)
    try:
        c.sendall(b"220 peer ESMTP\r\n")
        for line in c.makefile("rb"):
            cmd = line.decode("ascii", "replace").strip()
            log.write(cmd + "\n")
            verb = cmd.split(" ")[0].upper()
            if verb == "EHLO":
                c.sendall(b"250-peer\r\n250 ETRN\r\n")
            elif verb in ("HELO", "ETRN"):
                c.sendall(b"250 Queuing started\r\n")
            elif verb == "QUIT":
                c.sendall(b"221 bye\r\n")
                break
            else:
                c.sendall(b"502 no\r\n")
    except OSError:
        pass
    c.close()
' "$NET.1" "$SMTP_PORT" "$work/peer.log" &
peer_pid=$!

# The real secondary: the e2e suite's Postfix instance "mx" on $NET.1:25,
# relaying the site's domains to [$NET.2]:25, STARTTLS with a throwaway CA,
# Cyrus SASL (sasldb), ETRN only for authenticated clients.
# shellcheck disable=SC2034 # setup_postfix's transport map
SITE_HOP=$NET.2
if ! { make_ca && make_cert mx mx.provider.example \
    "DNS:mx.provider.example,IP:$NET.1"; }; then
	bail "the test CA and certificate"
fi
setup_sasl mx || bail "the sasldb"
if ! setup_postfix_with mx "$NET.1" "$(tls_settings mx; sasl_settings mx
    printf '%s\n' "mynetworks = 127.0.0.0/8" "debug_peer_list = $NET.2")"; then
	show_on_failure "$T/mx.check" "$T/mx/maillog"
	bail "the Postfix instance does not start"
fi

# --- boot ---------------------------------------------------------------------

systemd-nspawn --register=no --keep-unit --quiet -D "$root" -b \
    --network-namespace-path="/run/netns/$ns_c" --link-journal=no \
    --console=read-only --resolv-conf=off --timezone=off \
    > "$work/console.log" 2>&1 < /dev/null &
nspawn_pid=$!

# The container's PID 1: the child of nspawn that is pid 1 in its namespace.
find_init() {
	local c
	for c in $(cat /proc/"$nspawn_pid"/task/*/children 2>/dev/null); do
		if [ "$(awk '/^NSpid:/ { print $NF }' /proc/"$c"/status 2>/dev/null)" = 1 ]; then
			echo "$c"
			return 0
		fi
	done
	return 1
}

# Inside the container, bounded, with a clean environment.
C() {
	timeout 60 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
	    SYSTEMD_PAGER=cat SYSTEMD_COLORS=0 \
	    nsenter -t "$cpid" -a -- "$@"
}

dump_console() {
	note "console (last 30 lines):"
	tail -n 30 "$work/console.log" | sed 's/^/#   /'
}

boot_start=$SECONDS
for i in $(seq 1 150); do
	cpid=$(find_init) && break
	kill -0 "$nspawn_pid" 2>/dev/null || break
	sleep 0.2
done
if [ -z "$cpid" ]; then
	dump_console
	skip77 "systemd-nspawn cannot start a container here (console above)"
fi
note "nspawn pid $nspawn_pid, container init pid $cpid"

booted() {
	local s
	s=$(C systemctl is-system-running 2>/dev/null)
	case $s in
	running|degraded) return 0 ;;
	*) return 1 ;;
	esac
}
if wait_for 90 booted; then
	ok "container booted in $((SECONDS - boot_start))s ($(C systemctl is-system-running))"
else
	dump_console
	skip77 "the container did not boot within 90s ($(C systemctl is-system-running 2>&1))"
fi
failed_units=$(C systemctl --failed --no-legend --plain 2>/dev/null | awk '{ print $1 }')
[ -z "$failed_units" ] || note "failed units in the container (not etrnd's):" $failed_units

# --- helpers on the unit ---------------------------------------------------------

prop() { C systemctl show -p "$1" --value etrnd.service; }
# etrnd's own lines (not PID 1's about the unit): journalctl ARGS...
ejournal() { C journalctl --no-pager -q _SYSTEMD_UNIT=etrnd.service "$@"; }
ujournal() { C journalctl --no-pager -q -u etrnd.service "$@"; }
has_line() {		# has_line PATTERN JOURNAL-ARGS...
	local pat=$1
	shift
	ejournal "$@" -o cat | grep -q -- "$pat"
}
ulog_has() {
	local pat=$1
	shift
	ujournal "$@" -o cat | grep -q -- "$pat"
}
is_active() { [ "$(C systemctl is-active etrnd.service)" = active ]; }
status_has() { prop StatusText | grep -q -- "$1"; }
peer_count() { grep -c -- "^ETRN $1\$" "$work/peer.log" 2>/dev/null; }
peer_more() { [ "$(peer_count "$1")" -gt "$2" ]; }
dump_journal() {
	note "journalctl -u etrnd (last 30 lines):"
	ujournal -o short-monotonic | tail -n 30 | sed 's/^/#   /'
}
# The container's files, as the host sees the tree: type and path, but the
# journal and logs, dpkg's and apt's state, and the package we brought.
tree_files() {
	(cd "$root" && find . -xdev \( -path ./var/log -o \
	    -path ./var/lib/dpkg -o -path ./var/lib/apt -o \
	    -path ./var/cache/apt -o -path ./var/cache/debconf -o \
	    -path ./var/tmp/etrnd-test \) -prune -o -printf '%y %p\n') |
	    LC_ALL=C sort
}
# setpriv as USER (with USER's groups): COMMAND... inside the container.
as_user() {
	local u=$1
	shift
	C setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"
}

# --- install ---------------------------------------------------------------------

# Two users first (their files are the admin's, in both lists), then the
# tree as it was before the package.
C useradd -M -s /bin/sh "$ADMIN" && C useradd -M -s /bin/sh "$GUEST" ||
	bail "useradd in the container"
tree_files > "$work/files.before"

t0=$SECONDS
if out=$(C dpkg -i /var/tmp/etrnd-test/etrnd.deb 2>&1); then
	ok "dpkg -i etrnd.deb, offline ($((SECONDS - t0))s)"
else
	notok "dpkg -i etrnd.deb, offline"
	printf '%s\n' "$out" | sed 's/^/#   /'
	bail "the package does not install"
fi
printf '%s\n' "$out" | grep -iE 'warn|error|created symlink' | sed 's/^/#   /'
conf_path=/etc/etrnd.conf
conf_name=etrnd.conf
unit_file=$(C systemctl show -p FragmentPath --value etrnd.service)
owner=$(C dpkg -S "$unit_file" 2>/dev/null)
check "the unit from the package: $owner" test "${owner%%:*}" = etrnd
check "is-enabled: enabled" test "$(C systemctl is-enabled etrnd.service)" = enabled
check "/etc/etrnd.conf is a conffile of the package" \
    eval "C dpkg-query -W -f='\${Conffiles}\n' etrnd | grep -q '^ */etc/etrnd.conf '"
check "the shipped /etc/etrnd.conf has no [relay] section in force" \
    eval "! grep -q '^\[relay' '$root$conf_path'"
tree_files > "$work/files.installed"
note "dpkg -i added $(comm -13 "$work/files.before" "$work/files.installed" | wc -l) paths"
# The journal catalog, through systemd's dpkg trigger.
catalog_id=$(sed -n 's/^-- \([0-9a-f]\{32\}\).*/\1/p' \
    "$root/usr/lib/systemd/catalog/etrnd.catalog" 2>/dev/null | head -n 1)
in_catalog() { C journalctl --list-catalog 2>/dev/null | grep -q "^$catalog_id "; }
check "journalctl --list-catalog has etrnd's entries (${catalog_id:-none})" \
    eval "[ -n '$catalog_id' ] && in_catalog"
if wait_for 15 is_active; then
	ok "with the shipped configuration the unit is active"
else
	notok "with the shipped configuration the unit is active ($(C systemctl is-active etrnd.service))"
	dump_journal
fi
idle_pid=$(prop MainPID)
check "idle: Status says no relays ($(prop StatusText))" \
    wait_for 10 status_has "no relays"
check "journal: \"no relays configured\"" \
    wait_for 10 has_line "no relays configured"
# Longer than RestartSec=5s: a restart loop would show by now.
sleep 6
check "after 6s: still active, same MainPID $idle_pid, NRestarts=$(prop NRestarts)" \
    test "$(C systemctl is-active etrnd.service)/$(prop MainPID)/$(prop NRestarts)" = \
    "active/$idle_pid/0"

# --- the admin group ---------------------------------------------------------------

gid=$(C getent group etrnd-admin | cut -d: -f3)
check "the package made the static group etrnd-admin (gid $gid)" test -n "$gid"
st=$(C cat /proc/"$idle_pid"/status)
uid=$(printf '%s\n' "$st" | awk '/^Uid:/ { print $2 }')
egid=$(printf '%s\n' "$st" | awk '/^Gid:/ { print $2 }')
check "Group=etrnd-admin with DynamicUser=yes: dynamic uid $uid, gid $egid = etrnd-admin" \
    test "${uid:-0}" -ge 61184 -a "${uid:-0}" -le 65519 -a "$egid" = "$gid"
check "/run/etrnd: 750 $uid:etrnd-admin ($(C stat -c '%a %u:%g' /run/etrnd))" \
    test "$(C stat -c '%a %u:%g' /run/etrnd)" = "750 $uid:$gid"
check "/run/etrnd/control: socket, 660 $uid:etrnd-admin ($(C stat -c '%F %a %u:%g' /run/etrnd/control))" \
    test "$(C stat -c '%F %a %u:%g' /run/etrnd/control)" = "socket 660 $uid:$gid"
C usermod -aG etrnd-admin "$ADMIN" || notok "usermod -aG etrnd-admin $ADMIN"
if out=$(as_user "$ADMIN" etrnctl status 2>&1) &&
    grep -q "pid $idle_pid" <<<"$out"; then
	ok "$ADMIN (in etrnd-admin, not root) runs etrnctl status"
else
	notok "$ADMIN (in etrnd-admin, not root) runs etrnctl status"
fi
printf '%s\n' "$out" | head -n 8 | sed "s/^/#   $ADMIN\$ /"
if out=$(as_user "$GUEST" etrnctl status 2>&1); then
	notok "$GUEST (not in etrnd-admin) is refused by etrnctl status"
else
	ok "$GUEST (not in etrnd-admin) is refused by etrnctl status"
fi
printf '%s\n' "$out" | sed "s/^/#   $GUEST\$ /"
check "... with a message that says permission" \
    grep -qi 'permission' <<<"$out"

# --- a bad configuration at start ----------------------------------------------------

cp "$root$conf_path" "$work/shipped.conf"
printf '%s\n' "[daemon]" "watch = host0" "frobnicate = yes" > "$root$conf_path"
restarts=$(prop NRestarts)
since=$(C date +%s)
if C systemctl restart etrnd.service 2>/dev/null; then
	notok "a bad configuration: systemctl restart fails"
else
	ok "a bad configuration: systemctl restart fails"
fi
# Longer than RestartSec=5s.
sleep 7
check "failed, not restarting ($(prop ActiveState)/$(prop SubState))" \
    test "$(prop ActiveState)/$(prop SubState)" = failed/failed
check "Result=exit-code, ExecMainStatus=78 ($(prop Result), $(prop ExecMainStatus))" \
    test "$(prop Result)/$(prop ExecMainStatus)" = exit-code/78
check "NRestarts unchanged ($restarts -> $(prop NRestarts))" \
    test "$(prop NRestarts)" = "$restarts"
attempts=$(ujournal --since "@$since" -o cat | grep -c 'status=78')
check "one attempt: one exit with status 78 in the journal ($attempts)" \
    test "$attempts" = 1
check "journal: $conf_name:3: at priority err (3)" \
    has_line "$conf_name:3:" -p 3..3 --since "@$since"
if C systemctl status etrnd.service --no-pager -l 2>&1 | grep -q "$conf_name:3:"; then
	ok "systemctl status etrnd shows the error"
else
	notok "systemctl status etrnd shows the error"
fi
C systemctl status etrnd.service --no-pager -l -n 4 2>&1 | sed 's/^/#   /'
C systemctl reset-failed etrnd.service

# --- the real configuration, with the password as a credential --------------------

# The password: root's file, 0600; a drop-in hands it to the dynamic user.
mkdir -p "$root/etc/etrnd"
printf '%s\n' "$SASL_PASSWORD" > "$root/etc/etrnd/$CRED.password"
chmod 0600 "$root/etc/etrnd/$CRED.password"
chown 0:0 "$root/etc/etrnd/$CRED.password"
cp "$PKI/ca.crt" "$root/etc/etrnd/provider-ca.crt"
chmod 0644 "$root/etc/etrnd/provider-ca.crt"
mkdir -p "$root/etc/systemd/system/etrnd.service.d"
cat > "$root/etc/systemd/system/etrnd.service.d/credentials.conf" <<-EOF
[Service]
LoadCredential=$CRED:/etc/etrnd/$CRED.password
EOF

# The relay "peer" is the scripted secondary; "closed" gets connection
# refused (a warning); "isp" is Postfix, STARTTLS and AUTH.  settle = 0:
# ETRN as soon as host0 is usable.
write_conf() {
	{
		cat <<-EOF
		[daemon]
		watch = host0
		settle = 0
		retry-min = 10m
		connect-timeout = 5s
		reply-timeout = 10s
		helo = etrnd-test.example

		[relay peer]
		host = $NET.1
		port = $SMTP_PORT
		domains = example.org

		[relay closed]
		host = $NET.1
		port = $CLOSED_PORT
		domains = example.net

		[relay isp]
		host = $NET.1
		domains = example.org example.net
		tls = required
		tls-ca = /etc/etrnd/provider-ca.crt
		auth-user = $SASL_USER
		auth-password-credential = $CRED
		EOF
		cat
	} > "$root$conf_path"
	chmod 0644 "$root$conf_path"
}
write_conf < /dev/null
C systemctl daemon-reload
check "the password file: root:root 0600 ($(C stat -c '%U:%G %a' /etc/etrnd/$CRED.password))" \
    test "$(C stat -c '%U:%G %a' /etc/etrnd/$CRED.password)" = "root:root 600"
check "etrnd -t as root accepts the configuration" \
    C etrnd -t -c "$conf_path"

# --- start -----------------------------------------------------------------------

# The kernel's linkwatch reports operstate UP up to a second after the
# carrier: start etrnd only then, so the first dump already sees host0 up.
host0_up() { ip -n "$ns_c" link show host0 | grep -q 'state UP'; }
wait_for 10 host0_up || note "host0 not operstate UP: $(ip -n "$ns_c" -br link show host0)"

t0=$SECONDS
if C systemctl start etrnd.service; then
	ok "systemctl start etrnd (Type=notify: returned on READY=1, $((SECONDS - t0))s)"
else
	notok "systemctl start etrnd"
	C systemctl status etrnd.service --no-pager -l | sed 's/^/#   /'
	dump_journal
	exit 1
fi
check "is-active: active" is_active
pid1=$(prop MainPID)
note "MainPID $pid1"
status=$(C systemctl status etrnd.service --no-pager -l)
if printf '%s\n' "$status" | grep -q '^ *Status: "'; then
	ok "systemctl status has a Status: line:$(printf '%s\n' "$status" | sed -n 's/^ *Status:/ /p')"
else
	notok "systemctl status has a Status: line"
	printf '%s\n' "$status" | sed 's/^/#   /'
fi
check "etrnd sees host0 under the sandbox (Status: host0 up)" \
    wait_for 10 status_has "host0 up"
check "\"started\" logged at priority info (6)" \
    wait_for 10 has_line "etrnd .* started: 3 relays, a watched link is up" -p 6..6
check "SubState running (READY=1 received)" \
    test "$(prop SubState)" = running

# The sandbox, as seen from outside the service.
st=$(C cat /proc/"$pid1"/status)
uid=$(printf '%s\n' "$st" | awk '/^Uid:/ { print $2 }')
check "runs as a dynamic user (uid $uid)" test "${uid:-0}" -ge 61184 -a "${uid:-0}" -le 65519
check "no capabilities (CapEff, CapBnd 0)" sh -c \
    "printf '%s\n' \"\$1\" | grep -q '^CapEff:[[:space:]]*0*\$' &&
     printf '%s\n' \"\$1\" | grep -q '^CapBnd:[[:space:]]*0*\$'" sh "$st"
check "NoNewPrivs and a seccomp filter" sh -c \
    "printf '%s\n' \"\$1\" | grep -q '^NoNewPrivs:[[:space:]]*1' &&
     printf '%s\n' \"\$1\" | grep -q '^Seccomp:[[:space:]]*2'" sh "$st"
uidmap=$(C cat /proc/"$pid1"/uid_map | awk '{ print $1 ":" $2 ":" $3 }' | tr '\n' ' ')
check "PrivateUsers: own user namespace (uid_map $uidmap)" \
    test "$(C cat /proc/"$pid1"/uid_map | wc -l)" -le 2 -a \
    "$(C readlink /proc/"$pid1"/ns/user)" != "$(C readlink /proc/1/ns/user)"
check "same network namespace as the container (sees its links)" \
    test "$(C readlink /proc/"$pid1"/ns/net)" = "$(C readlink /proc/1/ns/net)"
check "RuntimeDirectory /run/etrnd mode 750, owned by the service user" \
    test "$(C stat -c '%a %u' /run/etrnd)" = "750 $uid"
check "control socket /run/etrnd/control mode 660 despite UMask=0077" \
    test "$(C stat -c %a /run/etrnd/control)" = 660
check "the credential: /run/credentials/etrnd.service/$CRED" \
    C test -e "/run/credentials/etrnd.service/$CRED"

# --- netlink and ETRN through the sandbox -------------------------------------------

check "ETRN example.org reached the secondary at start (AF_INET allowed)" \
    wait_for 15 peer_more example.org 0
check "relay closed: connection failure logged at priority warning (4)" \
    wait_for 15 has_line "relay closed:" -p 4..4
before=$(peer_count example.org)
ip -n "$ns_c" link set host0 down
check "host0 down seen (rtnetlink multicast under PrivateUsers)" \
    wait_for 10 status_has "host0 down"
ip -n "$ns_c" link set host0 up
check "host0 up seen again" wait_for 10 status_has "host0 up"
check "link up sent ETRN again" wait_for 15 peer_more example.org "$before"

# --- mail queued while the site was down reaches it after link-up ----------------------

pf_log=${PF_DIR[mx]}/maillog
# from_site PATTERN: lines Postfix's smtpd logged from the site that match.
from_site() {
	grep -c -- "\[$NET\.2\]: $1" "$pf_log" 2>/dev/null
}
out=$(probe "$NET.1" 25 --ca "$PKI/ca.crt" --etrn example.org)
check "(the secondary refuses ETRN without AUTH: 554)" \
    grep -q '^ETRN 554 ' <<<"$out"
# Let the start's sessions end before the link goes down under them.
wait_for 15 eval "[ -z \"\$(ip netns exec '$ns_p' ss -Htn state established '( sport = :25 )')\" ]"
auth_before=$(from_site "AUTH ")
ip -n "$ns_c" link set host0 down
wait_for 10 status_has "host0 down" || note "host0 down not seen"
start_sink sink "$NET.2" || bail "the site's SMTP server does not start"
if inject mx 4 flush example.org example.net >/dev/null &&
    wait_deferred mx 4; then
	ok "4 messages for the site queued and deferred at Postfix (site down)"
else
	notok "4 messages for the site queued and deferred at Postfix (site down)"
fi
check "nothing delivered while host0 is down" test "$(delivered sink)" -eq 0
t0=$SECONDS
ip -n "$ns_c" link set host0 up
if wait_delivered sink 4 45; then
	ok "link up: all 4 arrived at the site's $NET.2:25 in $((SECONDS - t0))s"
else
	notok "link up: all 4 arrived at the site's $NET.2:25 ($(delivered sink) of 4)"
	show_on_failure "$pf_log"
	dump_journal
fi
check "Postfix saw STARTTLS, then AUTH from the site" \
    test "$(from_site "AUTH ")" -gt "$auth_before" -a \
    "$(grep -c "TLS connection established from [^ ]*\[$NET\.2\]" "$pf_log")" -ge 1
check "Postfix accepted ETRN example.net after AUTH (250)" \
    grep -q "\[$NET\.2\]: 250 Queuing started" "$pf_log"
check "relay isp: ETRN accepted, logged by etrnd" \
    has_line "relay isp:"
grep -E "\[$NET\.2\]: (AUTH|ETRN|235|250 Queuing)" "$pf_log" | tail -n 4 |
    sed 's/.*smtpd\[[0-9]*\]: /#   postfix: /; s/\(AUTH [A-Z]*\) .*/\1 .../'
check "the password is in no journal line" \
    eval "! C journalctl --no-pager -o cat | grep -qF -- '$SASL_PASSWORD'"
stop_sink

# --- reload -----------------------------------------------------------------------

write_conf <<-EOF

[relay third]
host = $NET.1
port = $SMTP_PORT
domains = example.com
EOF
if out=$(C systemctl reload etrnd.service 2>&1); then
	ok "systemctl reload with a good file succeeds"
else
	notok "systemctl reload with a good file succeeds: $out"
fi
check "reloaded: 4 relays (journal)" \
    wait_for 10 has_line "reloaded .*: 4 relays"
check "same MainPID after reload" test "$(prop MainPID)" = "$pid1"

# An unknown key on the file's last line.
write_conf <<-EOF

[relay third]
host = $NET.1
domains = example.com
frobnicate = yes
EOF
badline=$(wc -l < "$root$conf_path")
if out=$(C systemctl reload etrnd.service 2>&1); then
	notok "systemctl reload with a broken file fails"
else
	ok "systemctl reload with a broken file fails"
	printf '%s\n' "$out" | sed 's/^/#   /'
fi
check "journal: $conf_name:$badline: error at priority err (3)" \
    wait_for 10 has_line "$conf_name:$badline:" -p 3..3
check "journal: keeping the previous configuration" \
    wait_for 10 has_line "keeping the previous configuration"
check "still active after the failed reload" is_active
check "same MainPID after the failed reload" test "$(prop MainPID)" = "$pid1"
ejournal -p 3..3 -o cat | sed 's/^/#   err: /'
write_conf < /dev/null		# the good file again, for the restarts

# --- the packaged ppp hook ------------------------------------------------------------

# pppd runs /etc/ppp/ip-up.d/etrnd IFACE TTY SPEED LOCAL REMOTE IPPARAM;
# with a watched interface it makes etrnd ask now (its etrnctl path is the
# package's).
before=$(peer_count example.org)
check "/etc/ppp/ip-up.d/etrnd host0 ...: exit 0" \
    C /etc/ppp/ip-up.d/etrnd host0 /dev/ttyS0 115200 "$NET.2" "$NET.1" ""
check "... and etrnd sent ETRN again" wait_for 15 peer_more example.org "$before"

# --- watchdog -----------------------------------------------------------------------

cat > "$root/etc/systemd/system/etrnd.service.d/50-test-watchdog.conf" <<-EOF
[Service]
WatchdogSec=2s
RestartSec=1s
LimitCORE=0
EOF
C systemctl daemon-reload
if ! out=$(C systemctl restart etrnd.service 2>&1); then
	notok "systemctl restart with WatchdogSec=2s"
	printf '%s\n' "$out" | sed 's/^/#   /'
	dump_journal
fi
pid2=$(prop MainPID)
restarts=$(prop NRestarts)
note "WatchdogSec=2s, MainPID $pid2"
# Three watchdog periods: the loop's pings must keep it alive.
sleep 6
check "alive after 3 x WatchdogSec (pings at half the period)" \
    test "$(prop MainPID)" = "$pid2" -a "$(C systemctl is-active etrnd.service)" = active
C sh -c 'kill -STOP "$1"' sh "$pid2"	# procps is not in the tree: dash's kill
t0=$SECONDS
restarted() {
	local p
	p=$(prop MainPID)
	[ "$p" != 0 ] && [ "$p" != "$pid2" ] && is_active
}
if wait_for 30 restarted; then
	ok "SIGSTOP: watchdog fired, restarted in $((SECONDS - t0))s (MainPID $pid2 -> $(prop MainPID))"
else
	notok "SIGSTOP: restarted by the watchdog within 30s"
	dump_journal
fi
check "journal: Watchdog timeout" ulog_has "Watchdog timeout"
check "NRestarts went up ($restarts -> $(prop NRestarts))" \
    test "$(prop NRestarts)" -gt "$restarts"
ujournal -o cat | grep -E "Watchdog timeout|SIGABRT|status=6|Scheduled restart" |
    sed 's/^/#   /'
pid3=$(prop MainPID)

# --- stop ------------------------------------------------------------------------------

t0=$SECONDS
if C systemctl stop etrnd.service; then
	ok "systemctl stop returned in $((SECONDS - t0))s"
else
	notok "systemctl stop"
fi
check "stopped well before TimeoutStopSec (10s)" test $((SECONDS - t0)) -lt 5
check "is-active: inactive" test "$(C systemctl is-active etrnd.service)" = inactive
check "clean exit (Result=success, status 0)" \
    test "$(prop Result)/$(prop ExecMainStatus)" = success/0
check "journal: SIGTERM: stopping" has_line "SIGTERM: stopping"
check "journal: stopped" has_line "^stopped$"
if out=$(C /etc/ppp/ip-up.d/etrnd host0 /dev/ttyS0 115200 "$NET.2" "$NET.1" "" 2>&1) &&
    [ -z "$out" ]; then
	ok "the ppp hook while etrnd is stopped: exit 0, silent"
else
	notok "the ppp hook while etrnd is stopped: exit 0, silent: $out"
fi
[ -n "$pid3" ] && ejournal _PID="$pid3" -o cat | tail -n 3 | sed 's/^/#   /'

# --- priorities, as journald stored them -------------------------------------------------

note "journalctl _SYSTEMD_UNIT=etrnd.service -o verbose (PRIORITY, MESSAGE):"
ejournal -o verbose | grep -E '^ *(PRIORITY|MESSAGE)=' | paste - - |
    sed 's/^ *//; s/[[:space:]]\+/ /g; s/^/#   /' | head -n 40

# --- purge -------------------------------------------------------------------------------

# The admin's own files go first (the drop-ins, the password, the CA), as
# an admin removing etrnd would; then dpkg removes the rest.
rm -rf "$root/etc/systemd/system/etrnd.service.d" "$root/etc/etrnd"
if out=$(C dpkg --purge etrnd 2>&1); then
	ok "dpkg --purge etrnd"
else
	notok "dpkg --purge etrnd"
	printf '%s\n' "$out" | sed 's/^/#   /'
fi
check "the unit is gone (systemctl cat fails)" \
    eval "! C systemctl cat etrnd.service >/dev/null 2>&1"
check "$unit_file is gone" test ! -e "$root$unit_file"
check "/etc/etrnd.conf is gone" test ! -e "$root$conf_path"
check "the catalog database no longer has etrnd's entries" \
    eval "[ -n '$catalog_id' ] && ! in_catalog"
tree_files > "$work/files.after"
if diff -u "$work/files.before" "$work/files.after" > "$work/files.diff"; then
	ok "nothing left behind: the same $(wc -l < "$work/files.after") files as before dpkg -i"
else
	notok "nothing left behind (files before dpkg -i vs after dpkg --purge)"
	sed -n '3,$p' "$work/files.diff" | grep '^[-+]' | head -n 40 | sed 's/^/#   /'
fi
# Debian's practice: a package's system users and groups outlive a purge
# (files elsewhere may still carry the GID; dh_installsysusers removes
# nothing).  etrnd-admin stays, with the members the admin put in it.
check "etrnd-admin stays after the purge (Debian keeps system groups): $(C getent group etrnd-admin)" \
    test "$(C getent group etrnd-admin | cut -d: -f3)" = "$gid"

# --- power off ----------------------------------------------------------------------------

C systemctl poweroff >/dev/null 2>&1
for i in $(seq 1 150); do
	kill -0 "$nspawn_pid" 2>/dev/null || break
	sleep 0.2
done
if kill -0 "$nspawn_pid" 2>/dev/null; then
	notok "container powered off within 30s"
else
	wait "$nspawn_pid"
	rc=$?
	check "container powered off (nspawn exit $rc)" test "$rc" -eq 0
	nspawn_pid=
fi

note "run time $((SECONDS - run_start))s"
[ "$fail" = 0 ] || dump_console
echo "1..$n"
exit $fail
