#!/bin/bash
# SPDX-License-Identifier: ISC
#
# nspawn.sh: etrnd under a real systemd 252, with the unit as built.
#
#   nspawn.sh BUILDDIR
#
# Boots a minimal Debian 12 tree with systemd-nspawn, installs BUILDDIR's
# etrnd (and etrnctl when it has been built), unit and a test config into
# it, and drives systemctl inside with nsenter:
#
#   start     Type=notify start returns, active, Status: line, "started" at
#             priority info, the hardening in effect (uid, capabilities,
#             seccomp, user namespace, runtime directory);
#   netlink   under that sandbox etrnd sees host0 (a veth) go down and up and
#             sends ETRN to a fake secondary on the other end;
#   reload    systemctl reload with a good file succeeds, with a broken one
#             fails, logs file:line at priority err and keeps the daemon
#             (same MainPID) on the old configuration -- only once etrnctl
#             is built, otherwise reported as skipped;
#   watchdog  with WatchdogSec=2s the pings keep it alive; SIGSTOP wedges it,
#             systemd aborts it and Restart=on-failure starts a new one;
#   stop      systemctl stop returns quickly, clean exit, "stopping" logged.
#
# The Debian tree is built once with debootstrap (needs Debian's mirror) and
# kept in ETRND_TEST_CACHE (default /var/cache/etrnd-test), keyed by a hash
# of the package list; each run boots an overlay (or a copy) of it, so runs
# never change the cache.  The container's network is a namespace of its
# own whose veth peer sits in a second private namespace: nothing on the
# host's network changes.
#
# Needs root, systemd-nspawn (systemd-container), debootstrap, nsenter and
# ip; python3 for the fake secondary.  Exits 77 with the reason otherwise,
# or when systemd-nspawn cannot boot a container on this machine (unless
# ETRND_TEST_REQUIRE_NSPAWN is set).

set -u

build=${1:?usage: nspawn.sh BUILDDIR}
build=$(cd "$build" && pwd) || exit 1

SUITE=bookworm
MIRROR=${ETRND_TEST_MIRROR:-http://deb.debian.org/debian}
CACHE=${ETRND_TEST_CACHE:-/var/cache/etrnd-test}
# What etrnd links to (ldd: libevent core and extra, libnl, libnl-route,
# libsystemd, libevent_openssl and OpenSSL for STARTTLS, the CA store;
# their own dependencies come with them), plus a booting
# systemd and ip(8).
PKGS=systemd,systemd-sysv,dbus,iproute2,libevent-core-2.1-7,libevent-extra-2.1-7,libnl-3-200,libnl-route-3-200,libsystemd0,libevent-openssl-2.1-7,libssl3,ca-certificates
CACHE_VERSION=1		# bump when the tree's preparation below changes

NET=10.213.0		# container host0 .2, fake secondary .1
SMTP_PORT=2525		# the fake secondary
CLOSED_PORT=2526	# nothing listens: a relay that fails

n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); echo "not ok $n - $*"; fail=1; }
skip() { n=$((n + 1)); echo "ok $n - # SKIP $*"; }
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
bail() {
	echo "Bail out! $*"
	exit 1
}

# --- preconditions ----------------------------------------------------------

[ "$(id -u)" -eq 0 ] || skip77 "needs root (systemd-nspawn, debootstrap, ip netns)"
for t in systemd-nspawn:systemd-container debootstrap:debootstrap \
    nsenter:util-linux ip:iproute2 flock:util-linux; do
	command -v "${t%%:*}" >/dev/null 2>&1 ||
		skip77 "${t%%:*} not found (Debian: apt-get install ${t#*:})"
done
[ -x "$build/src/etrnd" ] || bail "$build/src/etrnd: not built"
[ -r "$build/systemd/etrnd.service" ] || bail "$build/systemd/etrnd.service: not built"
etrnctl=
[ -x "$build/src/etrnctl" ] && etrnctl=$build/src/etrnctl
if command -v python3 >/dev/null 2>&1; then python3=python3; else python3=; fi

unit=$build/systemd/etrnd.service
# Paths from the unit as built: ExecStart=SBINDIR/etrnd -c SYSCONFDIR/etrnd.conf
sbin_etrnd=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
conf_path=$(sed -n 's/^ExecStart=.* -c \([^ ]*\).*/\1/p' "$unit")
[ -n "$sbin_etrnd" ] && [ -n "$conf_path" ] ||
	bail "$unit: cannot find ExecStart=... -c FILE"
sbindir=$(dirname "$sbin_etrnd")
conf_name=$(basename "$conf_path")

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
ns_c=etrnd-c-$$		# the container's network namespace
ns_p=etrnd-p-$$		# the fake secondary's
nspawn_pid=
cpid=
peer_pid=
overlay=0

cleanup() {
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
	[ "$overlay" = 1 ] && umount "$root" 2>/dev/null
	ip netns del "$ns_c" 2>/dev/null
	ip netns del "$ns_p" 2>/dev/null
	if [ "$fail" != 0 ] && [ -n "${KEEP:-}" ]; then
		echo "# kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
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

# --- install etrnd, the unit and the configuration ------------------------------

install -D -m 0755 "$build/src/etrnd" "$root$sbindir/etrnd"
if [ -n "$etrnctl" ]; then
	install -D -m 0755 "$etrnctl" "$root$sbindir/etrnctl"
fi
install -D -m 0644 "$unit" "$root/usr/lib/systemd/system/etrnd.service"

missing=$(chroot "$root" ldd "$sbindir/etrnd" 2>&1 | grep 'not found')
[ -z "$missing" ] || bail "libraries missing from the tree (add to PKGS): $missing"

# The relay "peer" is the fake secondary; "closed" gets connection refused
# (a warning).  settle = 0: ETRN as soon as host0 is usable.
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
		EOF
		cat
	} > "$root$conf_path"
	chmod 0644 "$root$conf_path"
}
mkdir -p "$root$(dirname "$conf_path")"
write_conf < /dev/null

# --- network: host0 in the container, the fake secondary on its peer ----------

ip netns add "$ns_c" && ip netns add "$ns_p" || bail "ip netns add"
ip -n "$ns_p" link add veth-c type veth peer name host0 netns "$ns_c" ||
	bail "cannot create a veth pair"
ip -n "$ns_p" addr add "$NET.1/24" dev veth-c
ip -n "$ns_p" link set lo up
ip -n "$ns_p" link set veth-c up
ip -n "$ns_c" addr add "$NET.2/24" dev host0
ip -n "$ns_c" link set host0 up

# A scripted secondary: 220, EHLO lists ETRN, 250 to ETRN.  It records
# every command it receives.
if [ -n "$python3" ]; then
	: > "$work/peer.log"
	ip netns exec "$ns_p" "$python3" -c '
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

# wait_for SECONDS COMMAND...: retry COMMAND until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.2
	done
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
    wait_for 10 has_line "etrnd .* started: 2 relays, a watched link is up" -p 6..6
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
if C test -S /run/etrnd/control; then
	check "control socket /run/etrnd/control mode 660 despite UMask=0077" \
	    test "$(C stat -c %a /run/etrnd/control)" = 660
else
	skip "control socket not created (no control socket in this etrnd yet)"
fi

# --- netlink and ETRN through the sandbox -------------------------------------------

if [ -n "$python3" ]; then
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
else
	skip "python3 missing: no fake secondary"
fi

# --- reload -----------------------------------------------------------------------

if [ -n "$etrnctl" ]; then
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
	check "reloaded: 3 relays (journal)" \
	    wait_for 10 has_line "reloaded .*: 3 relays"
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
else
	for c in "reload with a good file succeeds" \
	    "reload with a broken file fails" \
	    "parse error file:line at priority err (3)" \
	    "still active, same MainPID after the failed reload"; do
		skip "etrnctl not built yet ($c)"
	done
fi

# --- watchdog -----------------------------------------------------------------------

mkdir -p "$root/etc/systemd/system/etrnd.service.d"
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
[ -n "$pid3" ] && ejournal _PID="$pid3" -o cat | tail -n 3 | sed 's/^/#   /'

# --- priorities, as journald stored them -------------------------------------------------

note "journalctl _SYSTEMD_UNIT=etrnd.service -o verbose (PRIORITY, MESSAGE):"
ejournal -o verbose | grep -E '^ *(PRIORITY|MESSAGE)=' | paste - - |
    sed 's/^ *//; s/[[:space:]]\+/ /g; s/^/#   /' | head -n 40

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

[ "$fail" = 0 ] || dump_console
echo "1..$n"
exit $fail
