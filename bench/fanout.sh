#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Benchmark 2: fan-out.  RELAYS relays (default 1000) on distinct
# 127.0.0.0/8 addresses, one domain each, all answered by one C server
# bound to 0.0.0.0:25 in a namespace of their own.  etrnd --once (start,
# every session, exit: trigger to all sessions done, start-up included)
# against the one-shot `etrn` client run once per relay in sequence, as a
# looping ip-up script would.  Wall time, peak RSS, CPU seconds.
. "$(dirname "$0")/lib.sh"
B="2 fan-out"
RELAYS=${RELAYS:-1000}
REPS=${REPS:-5}
BASE_REPS=${BASE_REPS:-3}
if [ "$QUICK" = 1 ]; then RELAYS=100 REPS=1 BASE_REPS=1; fi
need_netns
NS="etrnd-bench-fan-$$"
ip netns add "$NS" && NAMESPACES+=("$NS")
ip -n "$NS" link set lo up
start_stub s "$NS" 0.0.0.0 25 || harness_fail "$B" "stub server did not start"

# relay_addr I: 127.1.x.y, distinct for I < 64000.
relay_addr() {
	echo "127.1.$(($1 / 250)).$(($1 % 250 + 1))"
}

{
	cat <<CONF
[daemon]
helo = site.example
control-socket = $T/ctl.sock
CONF
	for ((i = 0; i < RELAYS; i++)); do
		printf '\n[relay r%d]\nhost = %s\ndomains = d%d.example\n' \
			"$i" "$(relay_addr "$i")" "$i"
	done
} >"$T/fan.conf"
max_sessions=$(awk '/^max-sessions/ {print $3}' "$T/fan.conf")
for ((i = 0; i < RELAYS; i++)); do
	echo "$(relay_addr "$i") d$i.example"
done >"$T/relays.txt"
export ETRN_TOOL
cat >"$T/loop.sh" <<'SH'
# What a looping ip-up script does: one client per relay, in turn.
while read -r host dom; do
	"$ETRN_TOOL" -H site.example "$host" "$dom" >/dev/null || exit 1
done <"$1"
SH

quits() { grep -c " QUIT$" "$T/s.log"; }

# run_one NAME CMD...: one timed run; checks every relay got its QUIT.
run_one() {
	local name=$1 before r
	shift
	before=$(quits)
	r=$(ip netns exec "$NS" "$RUSAGE" "$@" 3>&1 \
		>>"$T/$name.out" 2>>"$T/$name.err") ||
		harness_fail "$B" "$name: rusage wrapper failed"
	set -- $r
	[ "$5" -eq 0 ] || harness_fail "$B" "$name exited $5: $(tail -2 "$T/$name.err")"
	[ $(($(quits) - before)) -eq "$RELAYS" ] ||
		harness_fail "$B" "$name: $(($(quits) - before)) of $RELAYS sessions completed"
	WALL+="$1," RSS+="$(awk -v k="$2" 'BEGIN {printf "%.2f", k / 1024}')," CPU+="$(awk -v u="$3" -v s="$4" 'BEGIN {printf "%.3f", u + s}'),"
}

WALL="" RSS="" CPU=""
for ((k = 0; k < REPS; k++)); do
	run_one etrnd "$ETRND" --once -c "$T/fan.conf"
done
E_WALL=$WALL E_RSS=$RSS E_CPU=$CPU
WALL="" RSS="" CPU=""
for ((k = 0; k < BASE_REPS; k++)); do
	run_one loop bash "$T/loop.sh" "$T/relays.txt"
done

row "$B" "$RELAYS relays: trigger -> all done (etrnd --once, incl. start-up)" ms \
	"$E_WALL" "etrn per relay, in sequence" "$WALL" \
	"all $RELAYS in < 1 s" "$([ "$RELAYS" -ge 1000 ] && echo "max < 1000")"
row "$B" "$RELAYS relays: peak RSS" MiB "$E_RSS" \
	"etrn per relay (largest one)" "$RSS" "< 8 MiB" "max < 8"
row "$B" "$RELAYS relays: CPU (user+sys)" s "$E_CPU" \
	"etrn per relay (sum)" "$CPU" "" ""
note "$B" "etrnd with max-sessions ${max_sessions:-64 (the default)}; every run checked: $RELAYS QUITs at the server; the baseline's RSS is its largest single process"
exit 0
