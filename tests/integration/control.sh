#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# etrnctl against a running etrnd: status (text and JSON), run (waiting,
# --no-wait, unknown relay), reload (good and bad), many clients at once,
# silent, garbage and vanishing clients, and no daemon at all.  Loopback only.
. "$(dirname "$0")/lib.sh"
: "${ETRNCTL:?set ETRNCTL to the etrnctl binary}"
SOCK="$T/control"
ctl() { "$ETRNCTL" -s "$SOCK" "$@"; }

port=$(free_port)
python3 "$LISTENER" 127.0.0.1 "$port" --log "$T/l.log" --ready "$T/ready" \
	--lifetime 120 &
PIDS+=($!)
wait_for 10 test -e "$T/ready"
slow=$(free_port)
python3 "$LISTENER" 127.0.0.1 "$slow" --log "$T/slow.log" --ready "$T/ready2" \
	--delay 30 --lifetime 120 &
PIDS+=($!)
wait_for 10 test -e "$T/ready2"
dead=$(free_port)

write_conf() {
	cat >"$T/etrnd.conf" <<CONF
[daemon]
watch = nosuch0
control-socket = $SOCK
retry-min = 30m
reply-timeout = 3s

[relay isp]
host = 127.0.0.1
port = $port
domains = example.org @example.net

[relay down]
host = 127.0.0.1
port = $dead
domains = a.example

[relay slow]
host = 127.0.0.1
port = $slow
domains = s.example
CONF
}
write_conf
"$ETRNCTL" -s "$SOCK" status >/dev/null 2>"$T/err"
check "no daemon: exit 69" test $? -eq 69
check "no daemon: says so plainly" grep -q "etrnd is not running" "$T/err"

"$ETRND" -c "$T/etrnd.conf" 2>"$T/etrnd.log" &
DPID=$!
PIDS+=("$DPID")
wait_for 10 test -S "$SOCK"
check "socket is mode 0660" test "$(stat -c %a "$SOCK")" = 660
fds_before=$(ls /proc/"$DPID"/fd | wc -l)

ctl status >"$T/out"
check "status: exit 0" test $? -eq 0
check "status: one line per relay" test "$(grep -c '^relay ' "$T/out")" -eq 3
check "status: lists each domain" grep -q "^  @example.net " "$T/out"

ctl run isp >"$T/out"
check "run isp: exit 0" test $? -eq 0
check "run isp: the --once lines" diff -u - "$T/out" <<OUT
isp example.org ok 250 Queuing started
isp @example.net ok 250 Queuing started
OUT
ctl run down >"$T/out"
check "run down: refused connection exits 75" test $? -eq 75
check "run down: temporary line" grep -q "^down a.example temporary - .*refused" "$T/out"
ctl run nosuch 2>"$T/err"
check "run of an unknown relay: exit 1" test $? -eq 1
check "run of an unknown relay: names it" grep -q 'no relay "nosuch"' "$T/err"
t0=$EPOCHREALTIME
ctl run --no-wait slow
rc=$?
check "run --no-wait: exit 0 at once" awk -v a="$t0" -v b="$EPOCHREALTIME" -v rc=$rc \
	'BEGIN {exit !(rc == 0 && b - a < 2)}'

ctl status --json >"$T/json"
check "status --json: the documented shape" python3 - "$T/json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert set(d) == {"version", "links", "relays"}, d.keys()
names = [r["name"] for r in d["relays"]]
assert names == ["isp", "down", "slow"], names
isp = d["relays"][0]
assert set(isp) == {"name", "host", "port", "state", "failures",
                    "last_success", "next_retry", "domains"}, isp.keys()
assert isp["port"] > 0 and isp["state"] == "idle" and isp["failures"] == 0
assert isinstance(isp["last_success"], int)
dom = isp["domains"][1]
assert set(dom) == {"domain", "result", "code", "text", "pending", "last_ok"}
assert dom["domain"] == "@example.net" and dom["result"] == "ok"
assert dom["code"] == 250 and dom["text"] == "Queuing started"
assert dom["pending"] is None
down = d["relays"][1]
assert down["failures"] == 1 and down["domains"][0]["result"] == "temporary"
assert down["domains"][0]["code"] is None
PY

# Reload: a bad file is refused with its errors, the old one stays.
cp "$T/etrnd.conf" "$T/good.conf"
printf '[daemon]\nsettle = soon\n' >"$T/etrnd.conf"
ctl reload 2>"$T/err"
check "bad reload: exit 1" test $? -eq 1
check "bad reload: file:line error" grep -q "^$T/etrnd.conf:2: settle: invalid duration" "$T/err"
ctl status >"$T/out"
check "bad reload: the old relays are still there" \
	test "$(grep -c '^relay ' "$T/out")" -eq 3
: >"$T/journal"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/journal") ctl reload 2>>"$T/journal"
check "bad reload under systemd: errors at journal priority 3" \
	bash -c "grep -q '^<3>$T/etrnd.conf:2: ' '$T/journal' &&
		grep -q '^<3>etrnctl: configuration not reloaded' '$T/journal'"
cp "$T/good.conf" "$T/etrnd.conf"
sed -i '/^\[relay slow\]/,$d' "$T/etrnd.conf"
ctl reload
check "good reload: exit 0" test $? -eq 0
ctl status >"$T/out"
check "good reload: the removed relay is gone" \
	test "$(grep -c '^relay ' "$T/out")" -eq 2
cp "$T/good.conf" "$T/etrnd.conf"
ctl reload

# Fifty clients at once.
for i in $(seq 50); do
	ctl status >"$T/many.$i" &
	PIDS+=($!)
done
wait_for 20 bash -c "[ \$(cat $T/many.* 2>/dev/null | grep -c '^relay isp ') -eq 50 ]"
check "50 clients at once all answered" \
	test "$(cat "$T"/many.* | grep -c '^relay isp ')" -eq 50

# Garbage, an overlong line, a NUL byte: an error line each, no crash.
python3 - "$SOCK" >"$T/garbage" <<'PY'
import socket, sys
for req in (b"frobnicate\n", b"x" * 5000, b"status\0x\n", b"run --bogus\n", b"\n"):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sys.argv[1])
    s.sendall(req)
    print(s.makefile("rb").readline().decode().rstrip())
    s.close()
PY
check "bad requests: five error lines" test "$(grep -c '^error ' "$T/garbage")" -eq 5

# A client that says nothing is dropped; one that vanishes mid-run costs nothing.
check "silent client: dropped after the request deadline" python3 - "$SOCK" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(15)
t = time.monotonic()
data = s.recv(100)
sys.exit(0 if data == b"" and 3 < time.monotonic() - t < 12 else 1)
PY
ctl run slow >/dev/null &
cpid=$!
wait_for 10 grep -q "ETRN s.example" "$T/slow.log"
kill "$cpid"
wait "$cpid" 2>/dev/null
ctl status >"$T/out"
check "a client gone mid-run: the daemon still answers" grep -q "^relay slow" "$T/out"
check "daemon still running" kill -0 "$DPID"
wait_for 10 bash -c "[ \$(ls /proc/$DPID/fd | wc -l) -le $fds_before ]"
check "no file descriptor left behind ($fds_before before, $(ls /proc/"$DPID"/fd | wc -l) after)" \
	test "$(ls /proc/"$DPID"/fd | wc -l)" -le "$fds_before"

kill "$DPID"
wait "$DPID"
check "clean exit" test $? -eq 0
check "socket removed at exit" test ! -e "$SOCK"
finish
