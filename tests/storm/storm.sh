#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Storms: etrnd in a site namespace watching site0 (settle = 1s), with 100
# slow relays (tests/storm/slowrelays.py, 100 ports on the site's loopback,
# 0.7-2.6 s per session) being asked, takes all at once: 1,000 link flaps
# in about 10 s (ip -batch, 2,000 "link set" lines in 100 chunks) and a
# SIGHUP after each chunk (every 100 ms or so), alternating between two valid files that differ only
# in a daemon setting no relay depends on, every tenth an invalid file.
# Then: no crash and exit 0 on SIGTERM, no file descriptor leaked, never two
# sessions to one relay, bounded memory, and exactly one session per relay
# after the flapping stops.  Needs root (else exits 77).
. "$(dirname "$0")/../integration/lib.sh"
: "${ETRNCTL:?set ETRNCTL to the etrnctl binary}"
STORM_DIR=$(cd "$(dirname "$0")" && pwd)
SOCK="$T/control"
ctl() { timeout 20 "$ETRNCTL" -s "$SOCK" "$@"; }

NRELAYS=100
FLAPS=1000		# up+down pairs
CHUNKS=100		# ip -batch files, paced CHUNK_PAUSE apart: about 10 s
CHUNK_PAUSE=0.1
HWM_BOUND_KB=$((32 * 1024))
MANUAL=50		# r000..r049 are asked by hand at the start of the storm

need_netns
setup_world

ip netns exec "$NS_SITE" python3 "$STORM_DIR/slowrelays.py" 127.0.0.1 \
	--count "$NRELAYS" --ports "$T/ports" --log "$T/relays.log" \
	--lifetime 280 &
PIDS+=($!)
wait_for 20 test -e "$T/ports" || { echo "relays did not start"; exit 1; }

# conf VARIANT: a (give-up = 6h), b (give-up = 7h) or bad.
conf() {
	cat <<CONF
[daemon]
watch = site0
settle = 1s
helo = site.example
control-socket = $SOCK
retry-min = 1s
retry-max = 2s
CONF
	case $1 in
	a) echo "give-up = 6h" ;;
	b) echo "give-up = 7h" ;;
	bad) echo "settle = soon" ;;
	esac
	while read -r i port; do
		printf '\n[relay r%03d]\nhost = 127.0.0.1\nport = %s\ndomains = r%03d.example\n' \
			"$i" "$port" "$i"
	done <"$T/ports"
}
for v in a b bad; do conf "$v" >"$T/conf.$v"; done
cp "$T/conf.a" "$T/etrnd.conf"
# install VARIANT: atomically, so etrnd never reads half a file.
install_conf() {
	cp "$T/conf.$1" "$T/etrnd.conf.tmp" && mv "$T/etrnd.conf.tmp" "$T/etrnd.conf"
}

start_etrnd "$T/etrnd.conf" "$T/etrnd.log" ||
	{ echo "etrnd did not start"; cat "$T/etrnd.log"; exit 1; }
check "etrnd started with the link down" grep -q "no watched link is up" "$T/etrnd.log"
fds() { ls /proc/"$ETRND_PID"/fd | wc -l; }
fds_before=$(fds)

# The flaps: CHUNKS batch files, together 2*FLAPS lines alternating up and
# down from up (the link is down now), one last "up" after them.  Chunks of
# per-1 and per+1 lines in turn, so that the reload after each chunk finds
# the link up and down in turn.
per=$((2 * FLAPS / CHUNKS))
n=0
for ((c = 0; c < CHUNKS; c++)); do
	size=$((c % 2 ? per + 1 : per - 1))
	for ((j = 0; j < size; j++, n++)); do
		((n % 2)) && echo "link set site0 down" || echo "link set site0 up"
	done >"$T/flap.$c"
done

manual=()
for ((i = 0; i < MANUAL; i++)); do manual+=("$(printf 'r%03d' "$i")"); done

# One loop paces both: a batch of flaps, a reload, a pause; the flaps and
# the reloads end together, so the settle after the last flap is the only
# trigger left.
T_START=$EPOCHREALTIME
ctl run --no-wait "${manual[@]}" || not_ok "etrnctl run --no-wait at the start"
flap_errors=0
for ((c = 0; c < CHUNKS; c++)); do
	ip -n "$NS_SITE" -batch "$T/flap.$c" || flap_errors=$((flap_errors + 1))
	if ((c % 10 == 9)); then install_conf bad
	elif ((c % 2)); then install_conf b
	else install_conf a
	fi
	kill -HUP "$ETRND_PID" 2>/dev/null
	# Ask the same relays again while the storm goes on, early enough
	# that their sessions end long before it does.
	((c == 25)) && { ctl run --no-wait "${manual[@]}" || not_ok "second run"; }
	sleep "$CHUNK_PAUSE"
done
install_conf a
kill -HUP "$ETRND_PID" 2>/dev/null
ip -n "$NS_SITE" link set site0 up
T_END=$EPOCHREALTIME
check "$((2 * FLAPS)) link changes by ip -batch without error" test "$flap_errors" -eq 0
echo "    storm: $(awk -v a="$T_START" -v b="$T_END" 'BEGIN {printf "%.1f", b - a}') s," \
	"$(grep -c 'link site0: up' "$T/etrnd.log") link-ups seen by etrnd," \
	"$(grep -c 'etrnd\[[0-9]*\]: reloading ' "$T/etrnd.log") reloads seen," \
	"$(grep -c 'not reloaded; keeping the previous configuration' "$T/etrnd.log") rejected"
check "etrnd survived the storm" kill -0 "$ETRND_PID"

# After the storm: settle, then one session per relay.
wait_for 30 bash -c "[ \$(awk -v t=$T_END '\$4 == \"OPEN\" && \$1 > t' $T/relays.log | wc -l) -ge $NRELAYS ]"
all_idle() {
	ctl status --json >"$T/status.json" 2>/dev/null &&
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if all(r["state"] == "idle" for r in d["relays"]) else 1)' "$T/status.json"
}
wait_for 30 all_idle
# Nothing more may start: give a stray run time to show itself.
sleep 3
all_idle
check "every relay idle after the storm" test $? -eq 0
check "every relay's last ETRN accepted" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
bad = [r["name"] for r in d["relays"]
       if [x["result"] for x in r["domains"]] != ["ok"]]
print("    not ok:", bad[:10]) if bad else None
sys.exit(1 if bad or len(d["relays"]) != int(sys.argv[2]) else 0)' \
	"$T/status.json" "$NRELAYS"

cat >"$T/sessions.py" <<'PY'
import sys
log, ports, t_end, manual = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
idx = {int(p): int(i) for i, p in (l.split() for l in open(ports))}
before, after, maxopen, first_after, last_after = {}, {}, {}, None, None
for line in open(log):
    f = line.split()
    if f[3] != "OPEN":
        continue
    t, port, n = float(f[0]), int(f[1]), int(f[4])
    maxopen[port] = max(maxopen.get(port, 0), n)
    if t > t_end:
        after[port] = after.get(port, 0) + 1
        first_after = t if first_after is None else min(first_after, t)
        last_after = t if last_after is None else max(last_after, t)
    else:
        before[port] = before.get(port, 0) + 1
what = sys.argv[5]
if what == "figures":
    print("    sessions: %d during the storm, %d after it; first after the "
          "last flap +%.2f s, last +%.2f s" % (sum(before.values()),
          sum(after.values()), (first_after or t_end) - t_end,
          (last_after or t_end) - t_end))
    sys.exit(0)
if what == "concurrency":
    worst = max(maxopen.values())
    print("    most sessions open at once to one relay: %d" % worst)
    sys.exit(0 if worst == 1 else 1)
if what == "after":
    counts = [after.get(p, 0) for p in idx]
    wrong = {"r%03d" % idx[p]: after.get(p, 0) for p in idx if after.get(p, 0) != 1}
    if wrong:
        print("    not exactly one:", dict(list(wrong.items())[:10]))
    sys.exit(0 if not wrong else 1)
if what == "manual":
    asked = [p for p in idx if idx[p] < manual and before.get(p, 0) >= 1]
    sys.exit(0 if len(asked) == manual else 1)
if what == "unasked":
    # Relays nobody asked: a reload that changes no relay must not run them.
    ran = ["r%03d" % idx[p] for p in idx if idx[p] >= manual and before.get(p, 0)]
    if ran:
        print("    run during the storm: %d relays, e.g. %s" % (len(ran), ran[:5]))
    sys.exit(0 if not ran else 1)
PY
sess() { python3 "$T/sessions.py" "$T/relays.log" "$T/ports" "$T_END" "$MANUAL" "$@"; }
sess figures
check "never two sessions to one relay" sess concurrency
check "the relays asked by hand had their sessions during the storm" sess manual
check "exactly one session per relay after the flapping stopped" sess after
check "reloads that change no relay ran none of the $((NRELAYS - MANUAL)) relays not asked" \
	sess unasked

fds_after=$(fds)
check "no file descriptor leaked ($fds_before before the storm, $fds_after after)" \
	test "$fds_after" -le "$fds_before"
check_memory memory "$HWM_BOUND_KB" "$ETRND_PID"
check "the last valid file is in force (status answers, $NRELAYS relays)" \
	test "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["relays"]))' "$T/status.json")" -eq "$NRELAYS"

kill "$ETRND_PID"
wait "$ETRND_PID"
check "exit 0 on SIGTERM" test $? -eq 0
finish
