#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Benchmark 1: link-up -> the first ETRN byte at the server, in two worlds:
#   veth  `ip link set site0 up` returning (tests/integration/lib.sh's
#         world: ARP, a peer that starts transmitting when the kernel says)
#   tun   pppd's order on a tun device named ppp0 (with carrier): it comes
#         up, gets its address, and the default route follows 150 ms
#         later; timed from the route's acknowledgement,
#         when the relay becomes reachable (before it, a connect fails
#         with ENETUNREACH)
# Contenders, in the same run, taking turns in blocks of link-ups:
#   etrnd   the DEFAULT configuration: no settle or hold-down key at all
#   settle  etrnd with `settle = 2s`, the default until issue 11
#   python  veth: a shell loop on `ip -o monitor link` running python
#           smtplib when site0 is UP; bash: the same with a bash /dev/tcp
#           one-liner; on tun, bash fires on the default route's line of
#           `ip -o monitor route`, as a pppd ip-up hook does
# Per link-up, the attempts that failed: SYN/SYN-ACK retransmissions,
# connects that found no route (IpOutNoRoutes: ENETUNREACH), connects
# refused or abandoned (TcpAttemptFails), extra connections at the server.
. "$(dirname "$0")/lib.sh"
B="1 link-up -> ETRN"
REPS=${REPS:-50}
SETTLE_REPS=${SETTLE_REPS:-20}
RECIPE_REPS=${RECIPE_REPS:-$REPS}
if [ "$QUICK" = 1 ]; then REPS=1 SETTLE_REPS=1 RECIPE_REPS=1; fi
# The default hold-down is 2 s: a link back within it is a flap and runs
# at the window's end, by design (the flaps test).  A clean link-up is one
# that comes after it, so etrnd's link-ups after its first wait that long.
GAP=${GAP:-2.1}
# The timestamps that start the clock: linkset reads the time when the
# kernel's acknowledgement wakes it, which on a loaded machine can be late
# by more than etrnd takes; real-time priority makes that wakeup prompt.
RT=()
chrt -f 10 true 2>/dev/null && RT=(chrt -f 10)
need_netns
setup_world
# STATIC_NEIGH=1: permanent ARP entries on both ends, so that a connect
# right at link-up needs no ARP exchange (see bench/README.md).
# Link-down flushes even permanent entries: measure_veth() puts them back.
static_neigh() {
	[ "${STATIC_NEIGH:-0}" = 1 ] || return 0
	ip -n "$NS_SITE" neigh replace 192.0.2.2 dev site0 nud permanent \
		lladdr "$(ip -n "$NS_PROV" -br link show prov0 | awk '{print $3}')"
	ip -n "$NS_PROV" neigh replace 192.0.2.1 dev prov0 nud permanent \
		lladdr "$(ip -n "$NS_SITE" -br link show site0 | awk '{print $3}')"
}
[ "${STATIC_NEIGH:-0}" = 1 ] &&
	note "$B" "STATIC_NEIGH=1: permanent ARP entries on both ends, set again after each link-down"
start_stub s "$NS_PROV" 192.0.2.2 25 || harness_fail "$B" "stub server did not start"
# The secondary behind the "ISP" of the tun world: reached only through
# the site's default route.
ip -n "$NS_PROV" addr add 203.0.113.25/32 dev lo
start_stub u "$NS_PROV" 203.0.113.25 25 || harness_fail "$B" "stub server (tun) did not start"

# conf FILE WATCH HOST [KEY = VALUE]: the contender's configuration.
conf() {
	{
		printf '[daemon]\nwatch = %s\n' "$2"
		[ $# -ge 4 ] && printf '%s\n' "$4"
		printf 'interval = 0\nhelo = site.example\ncontrol-socket = %s\n\n' \
			"$T/ctl.sock"
		printf '[relay isp]\nhost = %s\ndomains = example.org\n' "$3"
	} >"$1"
}
# SETTLE=5ms: look into it with a settle in the default contender's file.
conf "$T/etrnd-veth.conf" site0 192.0.2.2 ${SETTLE:+"settle = $SETTLE"}
conf "$T/settle-veth.conf" site0 192.0.2.2 "settle = 2s"
conf "$T/etrnd-tun.conf" ppp0 203.0.113.25 ${SETTLE:+"settle = $SETTLE"}
conf "$T/settle-tun.conf" ppp0 203.0.113.25 "settle = 2s"
grep -q -e '^settle' -e '^hold-down' "$T/etrnd-veth.conf" &&
	note "$B" "SETTLE=$SETTLE: the etrnd rows are NOT the default configuration"

# The recipes, as an admin would write them.  On veth both fire on a line
# for site0 with UP,LOWER_UP and "state UP" (on the way down the kernel
# first reports the old operstate without UP) and run the client in the
# foreground.  Debian's python3, not whatever python3 comes first in PATH.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
cat >"$T/etrn.py" <<'PY'
import smtplib
s = smtplib.SMTP("192.0.2.2", 25, local_hostname="site.example", timeout=30)
s.ehlo()
s.docmd("ETRN", "example.org")
s.quit()
PY
cat >"$T/python-veth.sh" <<SH
ip -o monitor link | while read -r line; do
	case \$line in
	*" site0@"*",UP,LOWER_UP> "*"state UP"*) $PY $T/etrn.py ;;
	esac
done
SH
# bash_etrn HOST: the /dev/tcp one-liner.
bash_etrn() {
	cat <<SH
(exec 3<>/dev/tcp/$1/25 && read -r -u 3 _ &&
printf 'EHLO site.example\r\n' >&3 &&
while read -r -u 3 l && [ "\${l:3:1}" = - ]; do :; done &&
printf 'ETRN example.org\r\n' >&3 && read -r -u 3 _ &&
printf 'QUIT\r\n' >&3 && read -r -u 3 _)
SH
}
cat >"$T/bash-veth.sh" <<SH
ip -o monitor link | while read -r line; do
	case \$line in
	*" site0@"*",UP,LOWER_UP> "*"state UP"*)
$(bash_etrn 192.0.2.2) ;;
	esac
done
SH
cat >"$T/bash-tun.sh" <<SH
ip -o monitor route | while read -r line; do
	case \$line in
	"default dev ppp0 "*)
$(bash_etrn 203.0.113.25) ;;
	esac
done
SH

# Each contender runs in its own process group (setsid), stopped by it.
GROUPS_STARTED=()
PIPE_PID=
bench_stop_groups() {
	local g
	for g in "${GROUPS_STARTED[@]}"; do
		kill -- "-$g" 2>/dev/null
	done
	[ -n "$PIPE_PID" ] && kill "$PIPE_PID" 2>/dev/null
}
trap 'bench_stop_groups; [ -n "${BENCH_KEEP:-}" ] && cp -a "$T/." "$BENCH_KEEP/"; cleanup' EXIT

# start_contender WHO WORLD
start_contender() {
	case $1 in
	etrnd | settle)
		: >"$T/etrnd.log"
		setsid ip netns exec "$NS_SITE" "$ETRND" ${ETRND_V:-} \
			-c "$T/$1-$2.conf" >"$T/etrnd.log" 2>&1 &
		CPID=$!
		GROUPS_STARTED+=("$CPID")
		wait_for 10 grep -q started "$T/etrnd.log" ||
			harness_fail "$B" "etrnd did not start: $(tail -3 "$T/etrnd.log")"
		;;
	python | bash)
		setsid ip netns exec "$NS_SITE" bash "$T/$1-$2.sh" &
		CPID=$!
		GROUPS_STARTED+=("$CPID")
		sleep 0.3	# ip monitor subscribed
		;;
	esac
}

# Stop it, and leave the links down: the next contender starts with none.
stop_contender() {
	kill -- "-$CPID" 2>/dev/null
	wait "$CPID" 2>/dev/null
	ip -n "$NS_SITE" link set site0 down
	hang_up
}

# counters: "SYN-retransmits no-route attempt-fails" of both namespaces.
counters() {
	local ns
	for ns in "$NS_SITE" "$NS_PROV"; do
		ip netns exec "$ns" nstat -az TcpExtTCPSynRetrans IpOutNoRoutes \
			Ip6OutNoRoutes TcpAttemptFails
	done | awk '/TCPSynRetrans/ {s += $2} /OutNoRoutes/ {r += $2}
		/AttemptFails/ {f += $2} END {print s + 0, r + 0, f + 0}'
}

# before LOG: the counts a link-up is measured against (just before it).
before() {
	N0=$(grep -c " ETRN " "$1")
	C0=$(grep -c " CONNECT" "$1")
	S0=$(counters)
}

# after LOG T0: once the next ETRN is in and its session over, "ms-from-T0
# accept-to-ETRN-ms SYN-retransmits no-route attempt-fails connections".
after() {
	local t1 tc n=$((N0 + 1)) a b
	wait_lines "$1" " ETRN " "$n" 10 || return 1
	t1=$(nth_time "$1" " ETRN " "$n")
	# the same connection's accept at the server
	tc=$(awk -v n="$n" '/ ETRN / && ++k == n {c = $2} END {print c}' "$1")
	tc=$(awk -v c="$tc" '$2 == c && $3 == "CONNECT" {print $1; exit}' "$1")
	# let the session finish before the next link-down
	sleep 0.1
	read -r -a a <<<"$S0"
	read -r -a b <<<"$(counters)"
	echo "$(ms_diff "$2" "$t1") $(ms_diff "$tc" "$t1")" \
		$((b[0] - a[0])) $((b[1] - a[1])) $((b[2] - a[2])) \
		$(($(grep -c " CONNECT" "$1") - C0))
}

# One veth link-up: down, wait the gap, up; the time to the next ETRN.
measure_veth() {
	local t0
	ip -n "$NS_SITE" link set site0 down
	sleep "$1"
	static_neigh
	before "$T/s.log"
	t0=$(ip netns exec "$NS_SITE" "${RT[@]}" "$LINKSET" site0 up) || return 1
	echo "$t0" >>"$T/t0.txt"
	after "$T/s.log" "$t0"
}

# The "modem": tun-pipe.py makes ppp0 in the site and pppp0 in the
# provider and carries packets between them, for the whole benchmark
# (a Python start per call would cost seconds on a loaded machine).
tun_world() {
	[ -n "$PIPE_PID" ] && return 0
	rm -f "$T/pipe.ready"
	ip netns exec "$NS_SITE" python3 "$BENCH_DIR/../tests/integration/tun-pipe.py" \
		ppp0 "$NS_PROV" pppp0 --lifetime 3600 --ready "$T/pipe.ready" \
		</dev/null >>"$T/pipe.log" 2>&1 &
	PIPE_PID=$!
	wait_for 10 test -e "$T/pipe.ready" || return 1
	ip -n "$NS_PROV" link set pppp0 up
	ip -n "$NS_PROV" route add 198.51.100.7/32 dev pppp0
}

# Hang up as pppd does: the address and the routes go with the link.
hang_up() {
	[ -n "$PIPE_PID" ] || return 0
	ip -n "$NS_SITE" link set ppp0 down
	ip -n "$NS_SITE" addr flush dev ppp0
}

# One pppd-order link-up on tun: hang up, wait the gap, up + address, the
# default route 150 ms later; the time from the route to the next ETRN.
measure_tun() {
	local t0
	tun_world || return 1
	hang_up
	sleep "$1"
	before "$T/u.log"
	ip -n "$NS_SITE" link set ppp0 up
	ip -n "$NS_SITE" addr add 198.51.100.7/32 peer 198.51.100.1 dev ppp0
	sleep 0.15
	t0=$(ip netns exec "$NS_SITE" "${RT[@]}" "$LINKSET" ppp0 default-route) ||
		return 1
	after "$T/u.log" "$t0"
}

# The floor for everyone on veth: when the kernel tells netlink listeners
# that site0 is UP (ip monitor's own timestamps, in UTC).
setsid ip netns exec "$NS_SITE" env TZ=UTC "${RT[@]}" ip -ts -o monitor link \
	>"$T/kernel.log" &
GROUPS_STARTED+=($!)
sleep 0.2
declare -A SAMPLES CONV FAILS SYNRT NOROUTE REFUSED EXTRA SLOW WANT

# run_world WORLD CONTENDERS...: every contender's link-ups, interleaved
# in blocks so that a load burst from the machine's other users lands on
# all alike.
run_world() {
	local world=$1 who k i r left gap
	shift
	for who in "$@"; do
		k=$world/$who
		SAMPLES[$k]="" CONV[$k]="" FAILS[$k]="" SYNRT[$k]=0 NOROUTE[$k]=0
		REFUSED[$k]=0 EXTRA[$k]=0 SLOW[$k]=0
		case $who in
		settle) WANT[$k]=$SETTLE_REPS ;;
		python | bash) WANT[$k]=$RECIPE_REPS ;;
		*) WANT[$k]=$REPS ;;
		esac
	done
	BLOCK=5
	[ "$QUICK" = 1 ] && BLOCK=$REPS
	left=1
	while [ "$left" -gt 0 ]; do
		left=0
		for who in "$@"; do
			k=$world/$who
			[ "$(wc -w <<<"${SAMPLES[$k]//,/ }")" -ge "${WANT[$k]}" ] && continue
			start_contender "$who" "$world"
			for ((i = 0; i < BLOCK; i++)); do
				[ "$(wc -w <<<"${SAMPLES[$k]//,/ }")" -ge "${WANT[$k]}" ] && break
				gap=0.25
				[ "$who" = etrnd ] && [ "$i" -gt 0 ] && gap=$GAP
				# In this shell, not $(...): measure_tun keeps PIPE_PID.
				measure_"$world" "$gap" >"$T/r.txt" ||
					harness_fail "$B" "$world $who: no ETRN within 10 s of link-up"
				tally "$k" $(cat "$T/r.txt")
			done
			stop_contender
			[ "$(wc -w <<<"${SAMPLES[$k]//,/ }")" -lt "${WANT[$k]}" ] && left=1
		done
	done
}

# tally KEY MS CONV-MS SYN-RETRANSMITS NO-ROUTE ATTEMPT-FAILS CONNECTIONS
tally() {
	local k=$1 ms=$2 syn=$4 nor=$5 ref=$6 extra=$(($7 > 1 ? $7 - 1 : 0))
	SAMPLES[$k]+="$ms,"
	CONV[$k]+="$3,"
	FAILS[$k]+="$((syn + nor + ref + extra)),"
	SYNRT[$k]=$((SYNRT[$k] + syn))
	NOROUTE[$k]=$((NOROUTE[$k] + nor))
	REFUSED[$k]=$((REFUSED[$k] + ref))
	EXTRA[$k]=$((EXTRA[$k] + extra))
	[ "${ms%.*}" -ge 500 ] && SLOW[$k]=$((SLOW[$k] + 1))
	return 0
}

VETH=${CONTENDERS-etrnd settle python bash}
TUN=${TUN_CONTENDERS-etrnd settle bash}
run_world veth $VETH
run_world tun $TUN

# kernel_floor: per veth link-up, ack -> first UP,LOWER_UP "state UP" line.
KERNEL=$(python3 - "$T/t0.txt" "$T/kernel.log" <<'PY'
import calendar, sys, time
t0s = [float(l) for l in open(sys.argv[1]) if l.strip()]
ups = []
for l in open(sys.argv[2]):
    if " site0@" in l and ",UP,LOWER_UP> " in l and "state UP" in l:
        ts = l[1:l.index("]")]
        sec, frac = ts.split(".")
        ups.append(calendar.timegm(time.strptime(sec, "%Y-%m-%dT%H:%M:%S"))
                   + float("0." + frac))
out = []
for t0 in t0s:
    c = [u for u in ups if t0 - 0.01 <= u < t0 + 5]
    if c:
        out.append("%.3f" % ((min(c) - t0) * 1000))
print(",".join(out))
PY
)
E=${SAMPLES[veth/etrnd]-}
row "$B" "veth: link-up -> kernel's netlink notification (floor, all runs)" ms \
	"$KERNEL" "" "" "" ""
row "$B" "veth: link-up -> ETRN, default configuration" ms "$E" \
	"etrnd settle = 2s" "${SAMPLES[veth/settle]-}" \
	"p50 < 2 ms, p99 < 50 ms" "p50 < 2 && p99 < 50"
row "$B" "veth: failed or extra connects per link-up" n \
	"${FAILS[veth/etrnd]-}" "etrnd settle = 2s" "${FAILS[veth/settle]-}" \
	"none" "max <= 0"
row "$B" "veth: link-up -> ETRN, vs python smtplib recipe" ms "$E" \
	"ip monitor + python smtplib" "${SAMPLES[veth/python]-}" \
	">= 30x faster" "ratio >= 30"
row "$B" "veth: link-up -> ETRN, vs bash /dev/tcp recipe" ms "$E" \
	"ip monitor + bash /dev/tcp" "${SAMPLES[veth/bash]-}" \
	">= 5x faster" "ratio >= 5"
row "$B" "  of which server accept -> ETRN (greeting, EHLO, ETRN)" ms \
	"${CONV[veth/etrnd]-}" "ip monitor + bash /dev/tcp" "${CONV[veth/bash]-}" "" ""
row "$B" "tun (pppd order): default route -> ETRN, default configuration" ms \
	"${SAMPLES[tun/etrnd]-}" "etrnd settle = 2s" "${SAMPLES[tun/settle]-}" \
	"p50 < 2 ms, p99 < 50 ms" "p50 < 2 && p99 < 50"
row "$B" "tun: failed or extra connects per link-up" n \
	"${FAILS[tun/etrnd]-}" "etrnd settle = 2s" "${FAILS[tun/settle]-}" \
	"none" "max <= 0"
row "$B" "tun: default route -> ETRN, vs bash recipe on the route (ip-up hook)" ms \
	"${SAMPLES[tun/etrnd]-}" "ip monitor route + bash /dev/tcp" \
	"${SAMPLES[tun/bash]-}" "" ""
for k in veth/etrnd veth/settle veth/python veth/bash tun/etrnd tun/settle tun/bash; do
	[ -n "${SAMPLES[$k]-}" ] || continue
	n=$(wc -w <<<"${SAMPLES[$k]//,/ }")
	note "$B" "$k: $n link-ups; over 500 ms: ${SLOW[$k]}; SYN/SYN-ACK retransmissions: ${SYNRT[$k]}; connects with no route (ENETUNREACH): ${NOROUTE[$k]}; refused or abandoned: ${REFUSED[$k]}; extra connections: ${EXTRA[$k]}"
done
note "$B" "failed or extra connects = SYN/SYN-ACK retransmissions + connects with no route + refused or abandoned + connections beyond the first, per link-up"
note "$B" "etrnd = no settle or hold-down key in the file; its link-ups come ${GAP} s after its last run (the default hold-down is 2 s: a link back sooner is a flap and waits for the window's end); veth: from \`ip link set site0 up\` returning; tun: ppp0 made, up, address, default route 150 ms later, timed from the route's acknowledgement; ETRN logged by the C stub server (same clock)"
exit 0
