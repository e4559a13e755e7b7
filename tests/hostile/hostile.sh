#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# etrnd against hostile and broken servers (tests/hostile/server.py, one
# port per mode) and one well-behaved relay, all on the loopback of a
# network namespace whose veth is up, so that etrnd is online and backs off
# and retries.  Short deadlines: reply-timeout = connect-timeout = 2s,
# retry-min = 1s, retry-max = 2s.  For every mode: the exact log line at
# etrnd's default verbosity, the session over within its deadline (server
# side and etrnctl side), the result class, backoff and retries (the
# failure count grows), bounded memory, and the good relay served quickly
# all the while.  Needs root (else exits 77).
. "$(dirname "$0")/../integration/lib.sh"
: "${ETRNCTL:?set ETRNCTL to the etrnctl binary}"
HOSTILE_DIR=$(cd "$(dirname "$0")" && pwd)
SOCK="$T/control"
ctl() { timeout 20 "$ETRNCTL" -s "$SOCK" "$@"; }

RSS_BOUND_KB=$((16 * 1024))	# VmHWM bound for the daemon
DEADLINE_S=2			# reply-timeout and connect-timeout
# Each "etrnctl run good" while hostiles run: a run held up behind a
# hostile session would take at least that session's deadline.  Not a speed
# target (bench/ measures speed): a bound on being blocked.
GOOD_BOUND_MS=$((DEADLINE_S * 1000))
SLACK_S=1			# scheduling slack on this 2-core machine
ROUNDS=3			# "etrnctl run" rounds over every mode at once

need_netns
NS="etrnd-hostile-$$"
NS_SITE=$NS
ip netns add "$NS" && NAMESPACES+=("$NS")
ip -n "$NS" link set lo up
# Both ends in one namespace: site0 only needs to be up with an address.
ip -n "$NS" link add site0 index 10 type veth peer name prov0 index 20
ip -n "$NS" addr add 192.0.2.1/24 dev site0
ip -n "$NS" link set prov0 up
ip -n "$NS" link set site0 up
wait_for 10 bash -c "ip -n $NS link show site0 | grep -q 'state UP'" ||
	{ echo "site0 did not come up"; exit 1; }

ip netns exec "$NS" python3 "$HOSTILE_DIR/server.py" 127.0.0.1 \
	--ports "$T/ports" --log "$T/server.log" --lifetime 170 &
PIDS+=($!)
ip netns exec "$NS" python3 "$LISTENER" 127.0.0.1 2525 --log "$T/good.log" \
	--ready "$T/good.ready" --lifetime 170 &
PIDS+=($!)
wait_for 10 test -e "$T/ports" -a -e "$T/good.ready" ||
	{ echo "servers did not start"; exit 1; }
declare -A PORT
while read -r mode port; do PORT[$mode]=$port; done <"$T/ports"
MODES=(silent slowgreet endless longreply closegreet garbage tlsstall
	count253 unsolicited reset)
# Modes whose every session must end as a temporary failure.
TEMP_MODES=(silent slowgreet endless longreply closegreet garbage reset)

{
	cat <<CONF
[daemon]
watch = site0
settle = 0
helo = site.example
control-socket = $SOCK
reply-timeout = ${DEADLINE_S}s
connect-timeout = ${DEADLINE_S}s
retry-min = 1s
retry-max = 2s

[relay good]
host = 127.0.0.1
port = 2525
domains = good.example
CONF
	for mode in "${MODES[@]}"; do
		printf '\n[relay %s]\nhost = 127.0.0.1\nport = %s\ndomains = a.example%s\n' \
			"$mode" "${PORT[$mode]}" \
			"$([ "$mode" = unsolicited ] && echo " b.example")"
	done
	# The same server with one domain: the unsolicited data then follows
	# the reply to the last ETRN.
	printf '\n[relay unsolicited1]\nhost = 127.0.0.1\nport = %s\ndomains = c.example\n' \
		"${PORT[unsolicited]}"
} >"$T/etrnd.conf"

# Default verbosity: every line checked below is one an operator sees.
ip netns exec "$NS" "$ETRND" -c "$T/etrnd.conf" >"$T/etrnd.log" 2>&1 &
DPID=$!
PIDS+=("$DPID")
wait_for 10 grep -q "started" "$T/etrnd.log" ||
	{ echo "etrnd did not start"; cat "$T/etrnd.log"; exit 1; }
check "etrnd started online (run at start)" \
	grep -q "a watched link is up" "$T/etrnd.log"

# The good relay, asked again and again for the whole test.
(
	for ((i = 0; i < 1000; i++)); do
		[ -e "$T/stop" ] && break
		t0=$EPOCHREALTIME
		timeout 10 "$ETRNCTL" -s "$SOCK" run good >/dev/null 2>&1
		rc=$?
		echo "$rc $(awk -v a="$t0" -v b="$EPOCHREALTIME" \
			'BEGIN {printf "%d", (b - a) * 1000}')" >>"$T/good.lat"
		sleep 0.05
	done
) &
GOOD_LOOP=$!
PIDS+=("$GOOD_LOOP")

# Rounds of "etrnctl run MODE" for every mode at once.  A run that finds a
# retry in flight waits for it and then for its own session: two deadlines.
RUN_BOUND_MS=$(((2 * DEADLINE_S + 2 * SLACK_S) * 1000))
for ((round = 1; round <= ROUNDS; round++)); do
	for mode in "${MODES[@]}"; do
		(
			t0=$EPOCHREALTIME
			ctl run "$mode" >"$T/run.$mode.$round" 2>&1
			rc=$?
			echo "$rc $(awk -v a="$t0" -v b="$EPOCHREALTIME" \
				'BEGIN {printf "%d", (b - a) * 1000}')" \
				>"$T/rc.$mode.$round"
		) &
		PIDS+=($!)
	done
	wait_for 30 bash -c "[ \$(ls $T/rc.*.$round 2>/dev/null | wc -l) -eq ${#MODES[@]} ]"
	sleep 0.5
done

expected_rc() {
	case $1 in
	count253) echo 0 ;;
	tlsstall) if grep -q " tlsstall [0-9]* STARTTLS" "$T/server.log"; then
			echo 75; else echo 0; fi ;;
	*) echo 75 ;;
	esac
}
for mode in "${MODES[@]}"; do
	want=$(expected_rc "$mode")
	rcs="" worst=0 bad=0
	for ((round = 1; round <= ROUNDS; round++)); do
		read -r rc ms <"$T/rc.$mode.$round" 2>/dev/null || { rc=x; ms=999999; }
		rcs="$rcs $rc"
		[ "$rc" = "$want" ] || bad=1
		[ "$ms" -gt "$worst" ] && worst=$ms
	done
	check "$mode: etrnctl run exits $want each round (got$rcs)" test $bad -eq 0
	check "$mode: etrnctl run returns within ${RUN_BOUND_MS} ms (slowest ${worst} ms)" \
		test "$worst" -le "$RUN_BOUND_MS"
done

# Server side: no connection of any mode outlived the deadline.
for mode in "${MODES[@]}"; do
	read -r n max < <(awk -v m="$mode" '$2 == m && $4 == "CLOSE" {
		n++; if ($5 > max) max = $5 } END {printf "%d %.3f\n", n, max}' \
		"$T/server.log")
	check "$mode: $n sessions, the longest ${max}s (deadline ${DEADLINE_S}s + ${SLACK_S}s)" \
		awk -v n="$n" -v max="$max" -v b=$((DEADLINE_S + SLACK_S)) \
		'BEGIN {exit !(n >= 1 && max <= b)}'
done

# The log line naming each problem, as etrnd words it.
phrase() {
	local p="127\\.0\\.0\\.1:${PORT[$1]}"
	case $1 in
	silent|slowgreet) echo "no GREETING reply from $p within ${DEADLINE_S}s" ;;
	endless) echo "protocol error: reply line longer than 510 octets \\(in reply to [A-Z]+\\)" ;;
	longreply) echo "protocol error: more than 64 lines in one reply \\(in reply to EHLO\\)" ;;
	closegreet) echo "(connection closed by $p while waiting for the EHLO reply|connection to $p failed while waiting for the EHLO reply: .*)" ;;
	garbage) echo "protocol error: reply line without a 3-digit code \\(in reply to GREETING\\)" ;;
	reset) echo "connection to $p failed while waiting for the EHLO reply: Connection reset by peer" ;;
	esac
}
for mode in "${TEMP_MODES[@]}"; do
	check "$mode: logs \"$(phrase "$mode")\"" \
		grep -Eq "etrnd\[[0-9]*\]: relay $mode: ETRN a\\.example: temporary failure: $(phrase "$mode")\$" \
		"$T/etrnd.log"
	check "$mode: logs its backoff" \
		grep -Eq "etrnd\[[0-9]*\]: relay $mode: asking again for 1 domain in [12]s\$" "$T/etrnd.log"
done
check "unsolicited: logs the protocol error for the domain not yet asked" \
	grep -q "etrnd\[[0-9]*\]: relay unsolicited: ETRN b\\.example: temporary failure: protocol error: unsolicited data after a reply, before ETRN\$" \
	"$T/etrnd.log"
check "count253: logs the reply without a pending count" \
	grep -q "etrnd\[[0-9]*\]: relay count253: ETRN a\\.example: 253 OK, 123456789012345678901234567890 pending messages for node started\$" \
	"$T/etrnd.log"

# Backoff and retry: the failure count keeps growing with no one asking.
ctl status --json >"$T/s1.json"
sleep 6
ctl status --json >"$T/s2.json"
cat >"$T/status.py" <<'PY'
import json, sys
s1 = {r["name"]: r for r in json.load(open(sys.argv[1]))["relays"]}
s2 = {r["name"]: r for r in json.load(open(sys.argv[2]))["relays"]}
what, name = sys.argv[3], sys.argv[4]
a, b = s1[name], s2[name]
dom = {d["domain"]: d for d in b["domains"]}
print("    %s: %s, failures %d -> %d; %s" % (name, b["state"], a["failures"],
      b["failures"], "; ".join("%s %s %s pending=%s" % (d["domain"], d["result"],
      d["code"], d["pending"]) for d in b["domains"])))
if what == "temp":
    ok = (a["failures"] >= 1 and b["failures"] > a["failures"] and
          b["state"] in ("backoff", "running") and
          dom["a.example"]["result"] == "temporary" and
          dom["a.example"]["code"] is None)
elif what == "253":
    d = dom["a.example"]
    ok = (b["failures"] == 0 and b["state"] == "idle" and d["result"] == "ok"
          and d["code"] == 253 and d["pending"] is None)
elif what == "ok":
    d = dom["a.example"]
    ok = b["failures"] == 0 and d["result"] == "ok" and d["code"] == 250
elif what == "unsolicited":
    # Its retries ask b.example alone, whose 250 then ends the session.
    ok = (dom["a.example"]["result"] == "ok" and dom["a.example"]["code"] == 250)
sys.exit(0 if ok else 1)
PY
for mode in "${TEMP_MODES[@]}"; do
	check "$mode: temporary, code null, in backoff, failures growing" \
		python3 "$T/status.py" "$T/s1.json" "$T/s2.json" temp "$mode"
done
check "count253: success, pending null (a 30-digit count is ignored)" \
	python3 "$T/status.py" "$T/s1.json" "$T/s2.json" 253 count253
check "unsolicited: a.example accepted" \
	python3 "$T/status.py" "$T/s1.json" "$T/s2.json" unsolicited unsolicited
check "unsolicited: retried b.example alone after the backoff" \
	awk '$2 == "unsolicited" && $4 == "ETRN" { e[$3] = e[$3] " " $5 }
	    END { for (c in e) if (e[c] == " b.example") n++; exit !(n >= 1) }' \
	"$T/server.log"

if grep -q " tlsstall [0-9]* STARTTLS" "$T/server.log"; then
	check "tlsstall: a stalled TLS handshake ends as a temporary failure" \
		python3 "$T/status.py" "$T/s1.json" "$T/s2.json" temp tlsstall
	# The wording is new (STARTTLS is being written): ask only for TLS.
	line=$(grep -m1 "etrnd\[[0-9]*\]: relay tlsstall: ETRN a\.example: temporary failure: " "$T/etrnd.log")
	check "tlsstall: logs a line naming TLS (\"${line#*failure: }\")" \
		grep -q "etrnd\[[0-9]*\]: relay tlsstall: ETRN a\.example: temporary failure: .*TLS" "$T/etrnd.log"
	check "tlsstall: logs its backoff" \
		grep -Eq "etrnd\[[0-9]*\]: relay tlsstall: asking again for 1 domain in [12]s\$" "$T/etrnd.log"
else
	check "tlsstall: no STARTTLS sent, the ETRN is accepted" \
		python3 "$T/status.py" "$T/s1.json" "$T/s2.json" ok tlsstall
	echo "ok - # SKIP etrnd has no STARTTLS yet: the stalled handshake is untested"
fi

# Unsolicited data after the reply to the last ETRN: every domain has its
# answer, so the session's protocol error is logged on its own.
check "unsolicited1: the protocol error after the last ETRN reply is logged" \
	grep -q "etrnd\[[0-9]*\]: relay unsolicited1: .*unsolicited data.*the replies already received stand" "$T/etrnd.log"

# Memory.
check_memory memory "$RSS_BOUND_KB" "$DPID"

# The good relay, all the while.
touch "$T/stop"
wait "$GOOD_LOOP" 2>/dev/null
read -r n nfail min med p95 max < <(python3 -c '
import sys
rows = [l.split() for l in open(sys.argv[1])]
v = sorted(int(r[1]) for r in rows) or [0]
print(len(rows), sum(r[0] != "0" for r in rows), v[0], v[len(v) // 2],
      v[min(len(v) - 1, int(len(v) * 0.95))], v[-1])' "$T/good.lat")
echo "    good: $n runs, latency min ${min} ms, median ${med} ms, p95 ${p95} ms, max ${max} ms"
check "good: at least 50 runs while the hostiles ran ($n)" test "$n" -ge 50
check "good: every run accepted ($nfail failed)" test "$nfail" -eq 0
check "good: every run within ${GOOD_BOUND_MS} ms (max ${max} ms)" \
	test "$max" -le "$GOOD_BOUND_MS"

check "daemon still running" kill -0 "$DPID"
kill "$DPID"
wait "$DPID"
check "clean exit on SIGTERM" test $? -eq 0
finish
