#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Benchmark 3: idle cost.  WINDOW seconds (60; --quick 5) with a watched
# link that stays up and interval = 0, after the start-up run is over:
# voluntary context switches (each is a sleep that ended: a wakeup), CPU
# time and RSS from /proc.  Side by side, in the same window: the same
# etrnd with WATCHDOG_USEC set (its pings are the only wakeups it should
# have) and the bash recipe of benchmark 1 (a shell loop reading
# `ip -o monitor link`, counted over all its processes).  Then strace -c
# on the etrnd without a watchdog, to name any syscall it makes.
# The site has an MTA (a stub listening on 192.0.2.1:25), so the start-up
# run's accepted ETRN opens a flush window; nothing comes back, so the
# window runs its whole FLUSH_S seconds (its 1 s polls are counted, as
# the cost of a window), and the idle window starts after its verdict.
. "$(dirname "$0")/lib.sh"
B="3 idle"
WINDOW=${WINDOW:-60}
STRACE_S=10
WD_USEC=2000000
FLUSH_S=5
if [ "$QUICK" = 1 ]; then WINDOW=5 STRACE_S=2 FLUSH_S=2; fi
need_netns
setup_world
ip -n "$NS_SITE" link set site0 up
# Let the link's own start-up events pass (IPv6 link-local DAD ends with
# an RTM_NEWADDR a second or so later): they would wake etrnd, rightly.
sleep 3
start_stub s "$NS_PROV" 192.0.2.2 25 || harness_fail "$B" "stub server did not start"
start_stub mta "$NS_SITE" 192.0.2.1 25 || harness_fail "$B" "the site's MTA stub did not start"

for v in plain wd; do
	cat >"$T/$v.conf" <<CONF
[daemon]
watch = site0
settle = 0
interval = 0
helo = site.example
control-socket = $T/$v.sock
flush-window = ${FLUSH_S}s
flush-quiet = 1s

[relay isp]
host = 192.0.2.2
domains = example.org
CONF
done
GROUPS_STARTED=()
stop_groups() {
	local g
	for g in "${GROUPS_STARTED[@]}"; do
		kill -- "-$g" 2>/dev/null
	done
}
trap 'stop_groups; cleanup' EXIT

setsid ip netns exec "$NS_SITE" "$ETRND" -c "$T/plain.conf" >"$T/plain.log" 2>&1 &
P_PLAIN=$!
GROUPS_STARTED+=("$P_PLAIN")
setsid ip netns exec "$NS_SITE" env WATCHDOG_USEC=$WD_USEC "$ETRND" -v \
	-c "$T/wd.conf" >"$T/wd.log" 2>&1 &
P_WD=$!
GROUPS_STARTED+=("$P_WD")
cat >"$T/recipe.sh" <<'SH'
ip -o monitor link | while read -r line; do
	case $line in
	*" site0@"*",UP,LOWER_UP> "*"state UP"*)
		(exec 3<>/dev/tcp/192.0.2.2/25 && read -r -u 3 _ &&
		printf 'EHLO site.example\r\n' >&3 &&
		while read -r -u 3 l && [ "${l:3:1}" = - ]; do :; done &&
		printf 'ETRN example.org\r\n' >&3 && read -r -u 3 _ &&
		printf 'QUIT\r\n' >&3 && read -r -u 3 _) ;;
	esac
done
SH
setsid ip netns exec "$NS_SITE" bash "$T/recipe.sh" &
P_RECIPE=$!
GROUPS_STARTED+=("$P_RECIPE")

# Both etrnds have sent their start-up ETRN (run-at-start); their flush
# windows are open.
wait_for 10 eval '[ "$(grep -c " QUIT$" "$T/s.log")" -ge 2 ]' ||
	harness_fail "$B" "etrnd's start-up runs did not reach the server"

# counters PID...: "VOLUNTARY NONVOLUNTARY CPU_TICKS RSS_KIB" summed.
counters() {
	local p v=0 n=0 c=0 r=0
	for p in "$@"; do
		[ -r "/proc/$p/status" ] || continue
		v=$((v + $(proc_field "$p" voluntary_ctxt_switches)))
		n=$((n + $(proc_field "$p" nonvoluntary_ctxt_switches)))
		c=$((c + $(proc_cpu_ticks "$p")))
		r=$((r + $(proc_field "$p" VmRSS)))
	done
	echo "$v $n $c $r"
}
# The recipe's processes: bash, its subshell and ip.
recipe_pids() {
	pgrep -g "$P_RECIPE" | tr '\n' ' '
}
# The window's cost: the plain etrnd's wakeups from its ETRN's answer to
# the verdict ("nothing came back": the stub MTA gets no connection).
read -r f0 _ < <(counters "$P_PLAIN")
wait_for $((FLUSH_S + 10)) grep -q "flush: nothing came back" "$T/plain.log" ||
	harness_fail "$B" "no flush verdict within $((FLUSH_S + 10)) s"
read -r f1 _ < <(counters "$P_PLAIN")
wait_for 10 grep -q "flush: nothing came back" "$T/wd.log" ||
	harness_fail "$B" "no flush verdict (watchdog etrnd)"
sleep 1

RP=$(recipe_pids)
read -r a0 an0 ac0 _ < <(counters "$P_PLAIN")
read -r b0 _ < <(counters "$P_WD")
read -r c0 cn0 cc0 _ < <(counters $RP)
sleep "$WINDOW"
read -r a1 an1 ac1 ar < <(counters "$P_PLAIN")
read -r b1 _ < <(counters "$P_WD")
read -r c1 cn1 cc1 cr < <(counters $RP)
HZ=$(getconf CLK_TCK)
ms() { awk -v t="$1" -v hz="$HZ" 'BEGIN {printf "%.0f", t * 1000 / hz}'; }
expected=$(awk -v w="$WINDOW" -v u="$WD_USEC" 'BEGIN {printf "%d", w / (u / 2e6)}')

row "$B" "wakeups (voluntary ctx switches) in ${WINDOW} s" count $((a1 - a0)) \
	"ip monitor + bash recipe" $((c1 - c0)) "0 (no wakeups)" "max <= 0"
row "$B" "  during a ${FLUSH_S} s flush window before it (1 s polls)" count $((f1 - f0)) \
	"" "" "~${FLUSH_S} (one per poll)" ""
row "$B" "  same, WATCHDOG_USEC=${WD_USEC} (expect ~$expected)" count $((b1 - b0)) \
	"" "" "~$expected (WATCHDOG_USEC/2)" ""
row "$B" "involuntary ctx switches in ${WINDOW} s" count $((an1 - an0)) \
	"ip monitor + bash recipe" $((cn1 - cn0)) "" ""
row "$B" "CPU time in ${WINDOW} s" ms "$(ms $((ac1 - ac0)))" \
	"ip monitor + bash recipe" "$(ms $((cc1 - cc0)))" "" ""
row "$B" "RSS while idle" KiB "$ar" "ip monitor + bash recipe (all)" "$cr" "" ""

# strace -c: which syscalls, if any, the idle daemon makes.
st() {
	timeout -s INT "$STRACE_S" strace -c -f -p "$1" -o "$T/strace.$2" \
		>/dev/null 2>&1
	awk '/^-+ / {getline; print ($4 == "total" ? $3 : $4) + 0; exit}' "$T/strace.$2"
}
# ip netns exec and env exec'd etrnd: the PIDs are etrnd's own.
s_plain=$(st "$P_PLAIN" plain)
# The watchdog one: every epoll_wait and the timeout it slept with, to
# show how many wakeups each ping costs.
timeout -s INT "$STRACE_S" strace -e trace=epoll_wait -p "$P_WD" \
	-o "$T/strace.wd" >/dev/null 2>&1
wd_waits=$(grep -c '^epoll_wait' "$T/strace.wd")
wd_hist=$(sed -n 's/^epoll_wait(.*, \(-\{0,1\}[0-9]*\)) *= .*/\1/p' "$T/strace.wd" |
	sort -n | uniq -c | awk '{printf "%s%d x %s ms", (k++ ? ", " : ""), $1, $2}')
note "$B" "strace -c over ${STRACE_S} s: etrnd ${s_plain:-0} syscalls; with the watchdog ${wd_waits:-0} epoll_wait (timeouts: ${wd_hist:-none}) for $((STRACE_S * 2000000 / WD_USEC)) pings"
note "$B" "one window of ${WINDOW} s, all three side by side (n=1 each); RSS is VmRSS (the recipe: bash, its subshell and ip summed)"
exit 0
