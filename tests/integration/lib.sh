# SPDX-License-Identifier: ISC
# Shared helpers for etrnd's shell tests: a bounded wait, cleanup of every
# process and namespace the test made (by PID and by name it chose), and
# the two-namespace world joined by a veth pair.
#
#   site      site0  192.0.2.1/24 2001:db8::1/64   (etrnd runs here)
#   provider  prov0  192.0.2.2/24 2001:db8::2/64   (the ETRN listener)

set -u

: "${ETRND:?set ETRND to the etrnd binary}"
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LISTENER="$TESTS_DIR/etrn-listener.py"

T=$(mktemp -d /tmp/etrnd-test.XXXXXX)
PIDS=()
NAMESPACES=()
PASSED=0
FAILED=0

cleanup() {
	local p ns
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
		# One the test stopped (SIGSTOP) gets its SIGTERM when continued.
		kill -CONT "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	for ns in "${NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

skip() {
	echo "SKIP: $*"
	exit 77
}

ok() {
	echo "ok - $*"
	PASSED=$((PASSED + 1))
}

not_ok() {
	echo "not ok - $*"
	FAILED=$((FAILED + 1))
}

# check DESCRIPTION COMMAND...: one assertion.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

# wait_for SECONDS COMMAND...: poll every 20 ms, bounded.
wait_for() {
	local limit=$1 i n
	shift
	n=$((limit * 50))
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.02
	done
	return 1
}

# count_lines FILE [PATTERN]
count_lines() {
	if [ ! -e "$1" ]; then echo 0; return; fi
	if [ $# -ge 2 ]; then grep -c -- "$2" "$1"; else wc -l <"$1"; fi
}

need_netns() {
	[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
	command -v ip >/dev/null || skip "needs iproute2"
	ip netns add "etrnd-probe-$$" 2>/dev/null ||
		skip "network namespaces unavailable here"
	ip netns del "etrnd-probe-$$"
}

# setup_world: two namespaces, a veth pair, the site end left down.
setup_world() {
	NS_SITE="etrnd-site-$$"
	NS_PROV="etrnd-prov-$$"
	ip netns add "$NS_SITE" && NAMESPACES+=("$NS_SITE")
	ip netns add "$NS_PROV" && NAMESPACES+=("$NS_PROV")
	ip -n "$NS_SITE" link set lo up
	ip -n "$NS_PROV" link set lo up
	# Distinct ifindexes: the kernel defers operstate changes of a device
	# whose ifindex equals its iflink (its peer's index) by up to a
	# second (linkwatch); two fresh namespaces would both say 2.
	ip link add site0 netns "$NS_SITE" index 10 type veth \
		peer name prov0 netns "$NS_PROV" index 20
	ip -n "$NS_SITE" addr add 192.0.2.1/24 dev site0
	ip -n "$NS_PROV" addr add 192.0.2.2/24 dev prov0
	ip -n "$NS_SITE" addr add 2001:db8::1/64 dev site0 nodad
	ip -n "$NS_PROV" addr add 2001:db8::2/64 dev prov0 nodad
	ip netns exec "$NS_SITE" sysctl -qw net.ipv6.conf.site0.keep_addr_on_down=1
	ip -n "$NS_PROV" link set prov0 up
}

# start_listener NAME ADDRESS [ARGS...]: an ETRN listener in the provider.
start_listener() {
	local name=$1 addr=$2
	shift 2
	rm -f "$T/$name.ready"
	ip netns exec "$NS_PROV" python3 "$LISTENER" "$addr" 25 \
		--log "$T/$name.log" --ready "$T/$name.ready" --lifetime 120 \
		"$@" &
	PIDS+=($!)
	wait_for 10 test -e "$T/$name.ready"
}

# start_etrnd CONF LOG: etrnd in the site namespace, -v, until it is ready.
# A CONF without control-socket gets one of the test's own: a second etrnd
# on /run/etrnd/control (another test's, a real one) refuses to start.
start_etrnd() {
	if ! grep -q '^control-socket' "$1"; then
		CTL_N=$((${CTL_N:-0} + 1))
		if grep -q '^\[daemon\]$' "$1"; then
			sed -i "/^\[daemon\]$/a control-socket = $T/ctl.$CTL_N" "$1"
		else
			sed -i "1i [daemon]\ncontrol-socket = $T/ctl.$CTL_N\n" "$1"
		fi
	fi
	ip netns exec "$NS_SITE" ${ETRND_WRAP:-} "$ETRND" -v -c "$1" >"$2" 2>&1 &
	ETRND_PID=$!
	PIDS+=("$ETRND_PID")
	wait_for 10 grep -q "started" "$2"
}

# free_port: a TCP port on 127.0.0.1 that nothing uses right now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# check_memory WHAT KB-BOUND PID: VmHWM under a bound, but only where it
# means something: AddressSanitizer's shadow memory is not the daemon's.
check_memory() {
	local hwm rss
	hwm=$(awk '/^VmHWM:/ {print $2}' /proc/"$3"/status)
	rss=$(awk '/^VmRSS:/ {print $2}' /proc/"$3"/status)
	if grep -q "libasan\|__asan_init" /proc/"$3"/maps 2>/dev/null ||
	    nm "$ETRND" 2>/dev/null | grep -q "__asan_init"; then
		echo "ok - $1: VmRSS ${rss} kB, VmHWM ${hwm} kB # SKIP built with AddressSanitizer"
		PASSED=$((PASSED + 1))
		return
	fi
	check "$1: VmRSS ${rss} kB, VmHWM ${hwm} kB (bound $2 kB)" \
		test "$hwm" -le "$2"
}

now() {
	echo "$EPOCHREALTIME"
}
