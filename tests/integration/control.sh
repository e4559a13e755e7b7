#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# etrnctl against a running etrnd: status (text and JSON), run (waiting,
# --no-wait, unknown relay, --link), reload (good and bad), many clients at
# once, silent, garbage and vanishing clients, and no daemon at all; run's
# flush verdicts (streamed after the results, a wait longer than the write
# timeout, without --watch, a client gone while waiting), history, metrics and
# metrics-file (written, moved by a reload, a failure warned once, removed
# at a clean stop); how etrnctl finds the socket (-s, -c FILE) and says why
# it cannot; a second etrnd on the same socket refuses to start; what a peer
# sends reaches no log or answer unescaped; clients that trickle their
# request are cut off at one deadline; running out of descriptors pauses
# accept() instead of spinning.  Loopback only.
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

[relay long]
host = 127.0.0.1
port = $port
domains = a-rather-long-domain-name-for-the-status-table.example.org b.example

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
check "no daemon: says what it tried and why" \
	grep -qx "etrnctl: no etrnd is listening on $SOCK (given with -s)" "$T/err"
"$ETRNCTL" -c "$T/etrnd.conf" status >/dev/null 2>"$T/err"
check "no daemon, -c FILE: exit 69" test $? -eq 69
check "no daemon, -c FILE: names the file's control-socket" \
	grep -qx "etrnctl: no etrnd is listening on $SOCK (from $T/etrnd.conf's control-socket)" "$T/err"
"$ETRNCTL" -c "$T/nosuch.conf" status 2>"$T/err"
check "-c with a missing file: exit 78" test $? -eq 78
check "... naming it" grep -q "cannot read $T/nosuch.conf: No such file" "$T/err"
"$ETRNCTL" -s "$SOCK" -c "$T/etrnd.conf" status 2>"$T/err"
check "-s and -c together: usage error" test $? -eq 64
printf '[daemon]\ncontrol-socket = %s\nsettle = soon\n' "$SOCK" >"$T/broken.conf"
"$ETRNCTL" -c "$T/broken.conf" reload 2>"$T/err"
check "-c with a broken file: exit 78, no guessing at another socket" test $? -eq 78
check "... with the file's errors" grep -q "^$T/broken.conf:3: settle: " "$T/err"

# The socket's directory must exist: a clear start-up error, not a warning.
sed "s|^control-socket = .*|control-socket = $T/nodir/control|" \
	"$T/etrnd.conf" >"$T/nodir.conf"
# (Bounded: an etrnd that only warned would run on.)
timeout 10 "$ETRND" -c "$T/nodir.conf" 2>"$T/err"
rc=$?
check "no socket directory: exit 1 (a start-up error, not 78)" test $rc -eq 1
check "no socket directory: says what to do" grep -q \
	"control socket $T/nodir/control: $T/nodir does not exist: run under systemd (RuntimeDirectory=etrnd), create it, or set control-socket in $T/nodir.conf" \
	"$T/err"

"$ETRND" -c "$T/etrnd.conf" 2>"$T/etrnd.log" &
DPID=$!
PIDS+=("$DPID")
wait_for 10 test -S "$SOCK"
check "socket is mode 0660" test "$(stat -c %a "$SOCK")" = 660
fds_before=$(ls /proc/"$DPID"/fd | wc -l)
check "-c FILE: etrnctl finds the socket through control-socket" \
	"$ETRNCTL" -c "$T/etrnd.conf" status

# A second daemon on the same socket refuses to start and sends nothing.
etrn_before=$(count_lines "$T/l.log" " ETRN ")
timeout 10 "$ETRND" -c "$T/etrnd.conf" 2>"$T/second.err"
rc=$?
check "second etrnd on the same socket: exit 73" test $rc -eq 73
check "second etrnd: names the first one's pid and what to do" grep -q \
	"another etrnd (pid $DPID) is serving $SOCK; stop it first (systemctl stop etrnd)" \
	"$T/second.err"
sleep 0.3
check "second etrnd: sent no ETRN" \
	test "$(count_lines "$T/l.log" " ETRN ")" -eq "$etrn_before"
check "second etrnd: the first still serves" ctl status
"$ETRND" -t -c "$T/etrnd.conf" >/dev/null 2>&1
check "etrnd -t needs no socket: exit 0 while the daemon runs" test $? -eq 0
printf '[daemon]\ncontrol-socket = %s\n\n[relay isp]\nhost = 127.0.0.1\nport = %s\ndomains = example.org\n' \
	"$SOCK" "$port" >"$T/once.conf"
timeout 20 "$ETRND" --once -c "$T/once.conf" >"$T/out" 2>/dev/null
check "etrnd --once needs no socket: runs while the daemon does" \
	grep -qx "isp example.org ok 250 Queuing started" "$T/out"

# Outside the journal, the daemon's lines say when and who.
check "stderr lines carry a timestamp and etrnd[pid]" grep -Eq \
	"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{4} etrnd\[$DPID\]: etrnd .* started" \
	"$T/etrnd.log"

ctl status >"$T/out"
check "status: exit 0" test $? -eq 0
check "status: one line per relay" test "$(grep -c '^relay ' "$T/out")" -eq 4
check "status: lists each domain" grep -q "^  @example.net " "$T/out"
check "status: a header with version, pid, uptime, file and last reload" \
	grep -Eq "^etrnd [0-9.]+, pid $DPID, up [0-9a-z]+, configuration $T/etrnd.conf; last reload: not reloaded since start$" "$T/out"
check "status: says the time zone" grep -Eq "^times in [A-Za-z+0-9-]+ \([+-][0-9]{4}\)$" "$T/out"
check "status: column headings" grep -Eq \
	"^  DOMAIN +RESULT +CODE +PENDING +LAST ATTEMPT +REPLY$" "$T/out"
check "status: how the kernel reaches a relay given by address" grep -Eq \
	"^  route: (local|link down)$" "$T/out"

# (Without --watch: the results only, whatever listens on port 25 here.)
ctl run isp >"$T/out"
check "run isp: exit 0" test $? -eq 0
check "run isp: the --once lines" diff -u - "$T/out" <<OUT
isp example.org ok 250 Queuing started
isp @example.net ok 250 Queuing started
OUT
ctl run long >/dev/null
ctl status >"$T/out"
check "status: columns line up under a long domain name" awk '
	/^  DOMAIN / { want = index($0, "RESULT"); att = index($0, "LAST ATTEMPT") }
	/^  [^ D]/ && !/^  (route|flush|hint)[: (]/ && want { n++; if (substr($0, want - 2, 2) != "  " ||
	    substr($0, want, 1) == " " || substr($0, att, 1) == " ") bad++ }
	END { exit !(n == 6 && bad == 0) }' "$T/out"
check "status: last attempt, absolute with zone and relative" grep -Eq \
	"^  a-rather-long-domain-name-for-the-status-table.example.org +ok +250 +- +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} [A-Za-z+0-9-]+ \((now|[0-9]+(ms|s) ago)\) +Queuing started$" \
	"$T/out"
check "status: never asked shows -" grep -Eq "^  s.example +none +- +- +- +-$" "$T/out"
ctl run down >"$T/out"
check "run down: refused connection exits 75" test $? -eq 75
check "run down: temporary line" grep -q "^down a.example temporary - .*refused" "$T/out"
ctl run nosuch 2>"$T/err"
check "run of an unknown relay: exit 1" test $? -eq 1
check "run of an unknown relay: names it" grep -q 'no relay "nosuch"' "$T/err"
t0=$EPOCHREALTIME
ctl run --no-wait slow >"$T/out"
rc=$?
check "run --no-wait: exit 0 at once" awk -v a="$t0" -v b="$EPOCHREALTIME" -v rc=$rc \
	'BEGIN {exit !(rc == 0 && b - a < 2)}'
check "run --no-wait: says ok" grep -qx ok "$T/out"


ctl status --json >"$T/json"
check "status --json: the documented shape" python3 - "$T/json" "$DPID" "$T/etrnd.conf" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
# Backward compatible: every old key keeps its meaning; new ones are added.
assert set(d) == {"version", "links", "relays", "pid", "started", "config",
                  "last_reload"}, d.keys()
assert d["pid"] == int(sys.argv[2]) and d["config"] == sys.argv[3]
assert isinstance(d["started"], int) and d["last_reload"] is None
names = [r["name"] for r in d["relays"]]
assert names == ["isp", "long", "down", "slow"], names
isp = d["relays"][0]
assert set(isp) == {"name", "host", "port", "state", "failures",
                    "last_success", "next_retry", "route", "domains",
                    "flush"}, isp.keys()
# Watching, or a verdict, where this host's port 25 listens; else none.
assert isp["flush"] is None or isp["flush"]["verdict"] in (
    "watching", "delivered", "nothing", "not-observable"), isp["flush"]
assert isp["route"] in ("local", "link down"), isp["route"]
assert isp["port"] > 0 and isp["state"] == "idle" and isp["failures"] == 0
assert isinstance(isp["last_success"], int)
dom = isp["domains"][1]
assert set(dom) == {"domain", "result", "code", "text", "pending", "last_ok",
                    "last_attempt", "sent_as", "detail"}
assert dom["sent_as"] is None and dom["detail"] is None
assert dom["domain"] == "@example.net" and dom["result"] == "ok"
assert dom["code"] == 250 and dom["text"] == "Queuing started"
assert dom["pending"] is None
assert dom["last_attempt"] >= dom["last_ok"] > 0
down = d["relays"][2]
assert down["failures"] == 1 and down["domains"][0]["result"] == "temporary"
assert down["domains"][0]["code"] is None
assert isinstance(down["domains"][0]["last_attempt"], int)
assert down["domains"][0]["last_ok"] is None
PY

# --link and --no-wait in either order, parsed alike at both ends.
ctl run --link --no-wait 2>"$T/err"
check "run --link --no-wait: usage error (64)" test $? -eq 64
check "... saying what was wrong" grep -q "^etrnctl: --link needs an interface name" "$T/err"
ctl run --link 2>"$T/err"
check "run --link: usage error (64)" test $? -eq 64
t0=$EPOCHREALTIME
ctl run --link nosuch0 --no-wait down >"$T/out" 2>&1
rc=$?
check "run --link IFACE --no-wait: exit 0 at once" awk -v a="$t0" -v b="$EPOCHREALTIME" -v rc=$rc \
	'BEGIN {exit !(rc == 0 && b - a < 2)}'
check "run --link IFACE --no-wait: the daemon took IFACE as the link" \
	wait_for 5 grep -q "control: nosuch0 is up (link tool hook)" "$T/etrnd.log"
ctl run --no-wait --link eth9 >"$T/out"
check "run --no-wait --link UNWATCHED: nothing to do" grep -qx "eth9 is not watched; nothing to do" "$T/out"
python3 - "$SOCK" >"$T/raw" <<'PY'
import socket, sys
for req in (b"run --link --no-wait\n", b"run --link\n", b"run --link a/b\n",
            b"run --link eth9 --no-wait\n"):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sys.argv[1])
    s.sendall(req)
    print(s.makefile("rb").readline().decode().rstrip())
    s.close()
PY
check "daemon: --link --no-wait is an error, not an interface name" diff -u - "$T/raw" <<'OUT'
error --link needs an interface name (run [--no-wait | --watch] [--link IFACE] [RELAY...])
error --link needs an interface name (run [--no-wait | --watch] [--link IFACE] [RELAY...])
error --link: "a/b" is not an interface name (1 to 15 bytes; no "/", ":", space or control character)
ok eth9 is not watched; nothing to do
OUT

# Reload: a bad file is refused with its errors, the old one stays.
cp "$T/etrnd.conf" "$T/good.conf"
printf '[daemon]\nsettle = soon\n' >"$T/etrnd.conf"
ctl reload 2>"$T/err"
check "bad reload: exit 1" test $? -eq 1
check "bad reload: file:line error" grep -q "^$T/etrnd.conf:2: settle: invalid duration" "$T/err"
ctl status >"$T/out"
check "bad reload: the old relays are still there" \
	test "$(grep -c '^relay ' "$T/out")" -eq 4
check "bad reload: the status header says so" grep -q \
	"; last reload: FAILED at .* (the previous configuration stays in use)$" "$T/out"
check "bad reload: ... with the first error" grep -q "^  $T/etrnd.conf:2: settle: invalid duration" "$T/out"
ctl status --json >"$T/json"
check "bad reload: status --json last_reload" python3 - "$T/json" "$T/etrnd.conf" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["last_reload"]
assert r["ok"] is False and isinstance(r["time"], int), r
assert r["error"].startswith(sys.argv[2] + ":2: settle: invalid duration"), r
PY
: >"$T/journal"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/journal") ctl reload 2>>"$T/journal"
check "bad reload under systemd: errors at journal priority 3" \
	bash -c "grep -q '^<3>$T/etrnd.conf:2: ' '$T/journal' &&
		grep -q '^<3>etrnctl: configuration not reloaded' '$T/journal'"
# A reload cannot move the socket: the tools find it through the file.
sed "s|^control-socket = .*|control-socket = $T/moved|" "$T/good.conf" \
	>"$T/etrnd.conf"
ctl reload 2>"$T/err"
check "reload moving control-socket: exit 1" test $? -eq 1
check "... saying it takes a restart" grep -q \
	"control-socket changed from $SOCK to $T/moved: a reload cannot move the socket; restart etrnd" "$T/err"
ctl status >/dev/null 2>&1
check "... and still serving the old socket" test $? -eq 0
cp "$T/good.conf" "$T/etrnd.conf"
sed -i '/^\[relay slow\]/,$d' "$T/etrnd.conf"
ctl reload >"$T/out"
check "good reload: exit 0" test $? -eq 0
check "good reload: says ok" grep -qx ok "$T/out"
"$ETRNCTL" -c "$T/etrnd.conf" reload >/dev/null
check "reload through -c FILE (as ExecReload= would): exit 0" test $? -eq 0
ctl status >"$T/out"
check "good reload: the removed relay is gone" \
	test "$(grep -c '^relay ' "$T/out")" -eq 3
check "good reload: the header says ok" grep -Eq \
	"; last reload: ok at [0-9-]+ [0-9:]+ [^ ]+ \((now|[0-9]+(ms|s) ago)\)$" "$T/out"

# Permission: someone outside root and the admin group gets told why.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	chmod 0711 "$T"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$ETRNCTL" -s "$SOCK" status >/dev/null 2>"$T/err"
	rc=$?
	chmod 0700 "$T"
	check "not root nor etrnd-admin: exit 77" test $rc -eq 77
	check "not root nor etrnd-admin: says who may" grep -qx \
		"etrnctl: permission denied on $SOCK: only root and members of group etrnd-admin may use it" \
		"$T/err"
else
	echo "ok - # SKIP permission check needs root and setpriv"
fi
cp "$T/good.conf" "$T/etrnd.conf"
ctl reload

# Neither -s nor -c: the default configuration file's control-socket, as
# for ExecReload= and the ppp hook.  The file is put in place in a private
# mount namespace (with an empty /run), so the host's are never touched.
conf_path=$("$ETRND" -h | sed -n 's/.*configuration file (default \(.*\))$/\1/p')
conf_dir=$(dirname "$conf_path")
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null && [ -d "$conf_dir" ]; then
	mkdir "$T/etc"
	cp "$T/etrnd.conf" "$T/etc/$(basename "$conf_path")"
	in_ns() {
		unshare -m sh -c 'mount --make-rprivate / &&
			mount -t tmpfs tmpfs /run && mount --bind "$1" "$2" &&
			shift 2 && exec "$@"' _ \
			"$T/etc" "$conf_dir" "$@"
	}
	in_ns "$ETRNCTL" status >"$T/out" 2>"$T/err"
	check "no -s or -c: etrnctl follows $conf_path's control-socket" \
		grep -q "^relay isp " "$T/out"
	hooked=$(count_lines "$T/etrnd.log" "nosuch0 is up (link tool hook)")
	in_ns env -u ETRND_CONTROL ETRNCTL="$ETRNCTL" \
		"$TESTS_DIR/../../conf/ppp/ip-up.d/etrnd" nosuch0 /dev/ttyS0 115200 \
		198.51.100.7 198.51.100.1 ""
	check "the ppp hook, without ETRND_CONTROL, reaches the same daemon" \
		wait_for 5 test "$(count_lines "$T/etrnd.log" "nosuch0 is up (link tool hook)")" -gt "$hooked"
	printf '[daemon]\ncontrol-socket = %s\nsettle = soon\n' "$SOCK" \
		>"$T/etc/$(basename "$conf_path")"
	in_ns "$ETRNCTL" reload >/dev/null 2>"$T/err"
	rc=$?
	check "a broken default file: etrnctl tries the default socket (69)" test $rc -eq 69
	check "... and shows the file's errors" grep -q "^$conf_path:3: settle: " "$T/err"
	mv "$T/etc/$(basename "$conf_path")" "$T/etc/x"
	in_ns "$ETRNCTL" status >/dev/null 2>"$T/err"
	check "no configuration file: the default socket, and says so" grep -qx \
		"etrnctl: no etrnd is listening on /run/etrnd/control (the default; $conf_path does not exist)" \
		"$T/err"
else
	echo "ok - # SKIP default configuration file: needs root, unshare and $conf_dir"
fi

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

# Hostile names: refused or escaped, never echoed raw to a terminal or log.
python3 - "$SOCK" >"$T/raw" <<'PY2'
import socket, sys
for req in (b"run --link ppp0\x1b]0;pwned\x07\n", b"run --link ppp0\r\x1b[2K\n",
            b"run --link a\xc2\x9b2J\n", b"run --link e\xc3\xa90\n",
            b"run nosuch\x9b31m\n", b"\x1b[31mstatus\n"):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sys.argv[1])
    s.sendall(req)
    print(s.makefile("rb").readline().decode("ascii").rstrip())
    s.close()
PY2
check "hostile names: refused or answered, every byte escaped" diff -u - "$T/raw" <<'OUT'
error argument 3 ("ppp0\x1b]0;pwned\x07") is empty or has a space or control character
error argument 3 ("ppp0\x0d\x1b[2K") is empty or has a space or control character
error --link: "a\xc2\x9b2J" is not an interface name (1 to 15 bytes; no "/", ":", space or control character)
ok e\xc3\xa90 is not watched; nothing to do
error no relay "nosuch\x9b31m"
error argument 1 ("\x1b[31mstatus") is empty or has a space or control character
OUT

# Trickling clients: one deadline from accept for the whole request, not
# one per byte; while 64 of them hold every slot, etrnctl still gets in.
python3 - "$SOCK" "$T/trickle.up" >"$T/trickle" <<'PY2' &
import select, socket, sys, time
socks = []
end = time.monotonic() + 5
for i in range(64):
    s = socket.socket(socket.AF_UNIX)
    s.setblocking(False)
    while True:
        try:
            s.connect(sys.argv[1])
            break
        except BlockingIOError:
            # The backlog is full until the daemon accepts: bounded retry.
            if time.monotonic() > end:
                raise
            time.sleep(0.01)
    socks.append(s)
t0 = time.monotonic()
open(sys.argv[2], "w").close()
closed = {}
next_byte = t0
while len(closed) < len(socks) and time.monotonic() - t0 < 8:
    now = time.monotonic()
    if now >= next_byte:
        for s in socks:
            if s not in closed:
                try:
                    s.send(b"s")
                except OSError:
                    closed[s] = now - t0
        next_byte += 1
    live = [s for s in socks if s not in closed]
    r, _, _ = select.select(live, [], [], max(0.01, next_byte - time.monotonic()))
    for s in r:
        try:
            data = s.recv(100)
        except OSError:
            data = b""
        if data == b"" or data.startswith(b"error"):
            closed[s] = time.monotonic() - t0
print(len(closed), sum(1 for t in closed.values() if 4 <= t < 7),
      max(closed.values(), default=99))
PY2
TRICKLE=$!
PIDS+=("$TRICKLE")
wait_for 10 test -e "$T/trickle.up"
sleep 1
timeout 5 "$ETRNCTL" -s "$SOCK" status >"$T/out" 2>"$T/err"
check "64 trickling clients: etrnctl status still answered meanwhile" \
	grep -q "^relay isp " "$T/out"
wait "$TRICKLE"
read -r n_closed n_on_time last <"$T/trickle"
check "trickling clients: all 64 cut off before 7s (cut $n_closed, last at ${last}s)" \
	test "$n_closed" -eq 64
check "trickling clients: at the 5s deadline, but the one etrnctl displaced ($n_on_time of 64 at 4-7s)" \
	test "$n_on_time" -ge 63
ctl status >/dev/null
check "trickling clients gone: etrnctl status works" test $? -eq 0

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

check "the daemon's log holds no raw ESC, CR, BEL or C1 byte" \
	bash -c "! LC_ALL=C grep -qaP '[\\x1b\\r\\x07\\x80-\\x9f]' '$T/etrnd.log'"

kill "$DPID"
wait "$DPID"
check "clean exit" test $? -eq 0
check "socket removed at exit" test ! -e "$SOCK"

# Root outside systemd: the socket belongs to group etrnd-admin when that
# group exists (here only in a private mount namespace's /etc/group), and
# a member who is not root may use it.
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null &&
    command -v setpriv >/dev/null; then
	cp /etc/group "$T/group"
	echo "etrnd-admin:x:64999:" >>"$T/group"
	chmod 0711 "$T"
	timeout 30 unshare -m sh -c 'mount --make-rprivate / &&
		mount --bind "$1" /etc/group && exec "$2" -c "$3"' _ \
		"$T/group" "$ETRND" "$T/etrnd.conf" 2>"$T/group.log" &
	GPID=$!
	PIDS+=("$GPID")
	wait_for 10 grep -q "started" "$T/group.log"
	check "root, group etrnd-admin present: the socket is root:etrnd-admin 0660" \
		test "$(stat -c %u:%g:%a "$SOCK")" = 0:64999:660
	setpriv --reuid=65534 --regid=65534 --groups=64999 \
		"$ETRNCTL" -s "$SOCK" status >"$T/out" 2>"$T/err"
	check "a member of etrnd-admin, not root, may use it" test $? -eq 0
	kill "$GPID"
	wait "$GPID"
	chmod 0700 "$T"
else
	echo "ok - # SKIP admin group: needs root, unshare and setpriv"
fi

# No relay at all: the daemon starts idle, says so once (log and STATUS=),
# and a reload that adds a relay puts it to work.
printf '[daemon]\nwatch = nosuch0\ncontrol-socket = %s\n' "$SOCK" >"$T/empty.conf"
python3 - "$T/notify" "$T/notify.log" "$T/notify.up" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[3], "w").close()
s.settimeout(1)
end = time.monotonic() + 30
with open(sys.argv[2], "w") as out:
    while time.monotonic() < end:
        try:
            out.write(s.recv(4096).decode() + "\n")
            out.flush()
        except socket.timeout:
            pass
PY
PIDS+=($!)
wait_for 10 test -e "$T/notify.up"
NOTIFY_SOCKET="$T/notify" "$ETRND" -c "$T/empty.conf" 2>"$T/empty.log" &
DPID=$!
PIDS+=("$DPID")
wait_for 10 grep -q "started" "$T/empty.log"
check "no relays: the daemon starts" kill -0 "$DPID"
check "no relays: says so once, at notice" test "$(grep -c \
	"no relays configured in $T/empty.conf: nothing to do until a reload adds one" \
	"$T/empty.log")" -eq 1
check "no relays: STATUS= says what to do" wait_for 5 grep -qx \
	"STATUS=Idle: no relays configured (edit $T/empty.conf, then systemctl reload etrnd)" \
	"$T/notify.log"
ctl status >"$T/out"
check "no relays: status says none are configured" grep -q "^relays: none configured" "$T/out"
cat >>"$T/empty.conf" <<CONF

[relay isp]
host = 127.0.0.1
port = $port
domains = example.org
CONF
ctl reload >/dev/null
check "no relays: a reload that adds one works" test $? -eq 0
ctl run isp >"$T/out"
check "no relays: ... and the new relay answers a run" grep -qx "isp example.org ok 250 Queuing started" "$T/out"
check "no relays: STATUS= moves on" wait_for 5 grep -q "^STATUS=.*isp" "$T/notify.log"
kill "$DPID"
wait "$DPID"
check "no relays: clean exit" test $? -eq 0

# Out of descriptors: 40 clients hold connections against an etrnd with 32
# descriptors.  accept() fails with EMFILE; the listener pauses (one
# warning), rather than spinning on the pending connection, and takes
# clients again once they go.  With watch unset, a link name that is valid
# UTF-8 is taken, and logged escaped.
SOCK2="$T/control2"
c1=$(free_port)
python3 "$LISTENER" 127.0.0.1 "$c1" --log "$T/c1.log" --ready "$T/ready3" \
	--reply "250 Queuing $(printf '\xc2\x9b')31m started" --lifetime 120 &
PIDS+=($!)
wait_for 10 test -e "$T/ready3"
printf '[daemon]\ncontrol-socket = %s\n\n[relay c1]\nhost = 127.0.0.1\nport = %s\ndomains = c1.example\n' \
	"$SOCK2" "$c1" >"$T/fd.conf"
(ulimit -n 32 && exec "$ETRND" -v -c "$T/fd.conf") 2>"$T/fd.log" &
FPID=$!
PIDS+=("$FPID")
wait_for 10 test -S "$SOCK2"
"$ETRNCTL" -s "$SOCK2" run c1 >"$T/c1.out"
"$ETRNCTL" -s "$SOCK2" status >"$T/out"
check "run: a C1 control in a server's reply is escaped" grep -qx \
	'c1 c1.example ok 250 Queuing \\xc2\\x9b31m started' "$T/c1.out"
check "status: a C1 control in a server's reply is escaped" grep -q \
	'^  c1.example .* Queuing \\xc2\\x9b31m started$' "$T/out"
check "status: no raw C1 byte at all" \
	bash -c "! LC_ALL=C grep -qaP '[\\x1b\\x80-\\x9f]' '$T/out'"
"$ETRNCTL" -s "$SOCK2" status --json >"$T/c1.json"
check "status --json: valid JSON, the reply text escaped as in the table" \
	python3 - "$T/c1.json" <<'PY'
import json, sys
raw = open(sys.argv[1], "rb").read()
assert all(0x20 <= b < 0x7f for b in raw.rstrip(b"\n")), raw
d = json.loads(raw)
text = d["relays"][0]["domains"][0]["text"]
assert text == "Queuing \\xc2\\x9b31m started", text
assert not any(0x80 <= ord(ch) <= 0x9f or ch == "\x1b" for ch in text)
PY
"$ETRNCTL" -s "$SOCK2" run --no-wait --link "w$(printf '\xc3\xa9')0" >/dev/null
check "unwatched by default rules, UTF-8 name: logged escaped" wait_for 5 \
	grep -q 'control: w\\xc3\\xa90 is up (link tool hook)' "$T/fd.log"
python3 - "$SOCK2" >"$T/raw" <<'PY2'
import socket, sys
for req in (b"run --no-wait --link a\xc2\x9b2J\n", b"run --no-wait --link p\x9b0\n",
            b"run --no-wait --link \xe2\x80\xaeppp0\n"):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sys.argv[1])
    s.sendall(req)
    print(s.makefile("rb").readline().decode("ascii").rstrip())
    s.close()
PY2
check "watch unset: C1 controls in a name are refused" \
	test "$(grep -c '^error --link: .* is not an interface name' "$T/raw")" -eq 2
check "watch unset: a bidi override is taken, and logged escaped" grep -q \
	'control: \\xe2\\x80\\xaeppp0 is up (link tool hook)' "$T/fd.log"
check "watch unset: no control: log line holds a raw C1 byte or ESC" \
	bash -c "! LC_ALL=C grep -qaP 'control: .*[\\x1b\\r\\x07\\x80-\\x9f]' '$T/fd.log'"
cpu() { awk '{ print $14 + $15 }' /proc/"$FPID"/stat; }
python3 - "$SOCK2" "$T/fd.up" "$T/fd.go" <<'PY2' &
import os, socket, sys, time
socks = []
end = time.monotonic() + 3
for i in range(40):
    s = socket.socket(socket.AF_UNIX)
    s.setblocking(False)
    while True:
        try:
            s.connect(sys.argv[1])
            socks.append(s)
            break
        except BlockingIOError:
            # Backlog full: the daemon accepts, or is out of descriptors.
            if time.monotonic() > end:
                break
            time.sleep(0.01)
    if s not in socks:
        s.close()
        break
open(sys.argv[2], "w").write(str(len(socks)))
end = time.monotonic() + 20
while not os.path.exists(sys.argv[3]) and time.monotonic() < end:
    time.sleep(0.05)
PY2
HOLD=$!
PIDS+=("$HOLD")
wait_for 10 test -e "$T/fd.up"
check "EMFILE: reached with $(cat "$T/fd.up") clients connected or queued" \
	wait_for 5 grep -q "control: accept: Too many open files" "$T/fd.log"
cpu0=$(cpu)
sleep 3
cpu1=$(cpu)
accepts=$(count_lines "$T/fd.log" "accept")
touch "$T/fd.go"
wait "$HOLD"
check "EMFILE: fewer than 20 accept lines in 3s (got $accepts)" test "$accepts" -lt 20
check "EMFILE: warned once" test "$(count_lines "$T/fd.log" \
	"control: accept: Too many open files; pausing, retrying every 1000ms")" -eq 1
check "EMFILE: no busy loop (CPU $((cpu1 - cpu0)) ticks in 3s)" \
	test $((cpu1 - cpu0)) -lt 50
check "EMFILE: etrnctl works again once the clients go" \
	wait_for 10 "$ETRNCTL" -s "$SOCK2" status
check "EMFILE: and says so" grep -q "control: accepting clients again" "$T/fd.log"
kill "$FPID"
wait "$FPID"
check "EMFILE: clean exit" test $? -eq 0

# Flush verdicts.  The site's MTA is a listener on local-smtp's port (so
# the window watches it, whatever listens on port 25 here); the relays are
# on 127.0.3.1, so nothing the MTA sees comes from them and each window
# runs its whole flush-window: longer than the daemon's 10 s write
# timeout, which must count only while an answer waits to be taken.
SOCK3="$T/control3"
mta=$(free_port)
python3 "$LISTENER" 127.0.0.1 "$mta" --log "$T/mta.log" --ready "$T/ready4" \
	--lifetime 120 &
PIDS+=($!)
fl=$(free_port)
python3 "$LISTENER" 127.0.3.1 "$fl" --log "$T/fl.log" --ready "$T/ready5" \
	--lifetime 120 &
PIDS+=($!)
wait_for 10 test -e "$T/ready4"
wait_for 10 test -e "$T/ready5"
mkdir "$T/prom"
write_flush_conf() {
	cat >"$T/flush.conf" <<CONF
[daemon]
control-socket = $SOCK3
local-smtp = 127.0.0.1:$mta
flush-window = 12s
flush-quiet = 1s
metrics-file = $1

[relay fl]
host = 127.0.3.1
port = $fl
domains = f.example

[relay other]
host = 127.0.3.1
port = $fl
domains = o.example
CONF
}
write_flush_conf "$T/prom/etrnd.prom"
"$ETRND" -v -c "$T/flush.conf" 2>"$T/flush.log" &
LPID=$!
PIDS+=("$LPID")
wait_for 10 test -S "$SOCK3"
ctl3() { "$ETRNCTL" -s "$SOCK3" "$@"; }
check "metrics-file: written at start" wait_for 5 test -s "$T/prom/etrnd.prom"

ctl3 run fl >"$T/out"
check "run without --watch: exit 0" test $? -eq 0
check "run without --watch: the results only" diff -u - "$T/out" <<OUT
fl f.example ok 250 Queuing started
OUT
# Waiting: the result line shows while etrnctl still waits for the verdict.
ctl3 run --watch fl >"$T/run.out" 2>"$T/run.err" &
RUNPID=$!
PIDS+=("$RUNPID")
check "run: the result line is printed before the verdict is in" \
	wait_for 10 grep -qx "fl f.example ok 250 Queuing started" "$T/run.out"
check "run: ... while etrnctl waits on" kill -0 "$RUNPID"
wait "$RUNPID"
rc=$?
check "run: exit 0, from the results (nothing came back is no failure)" \
	test "$rc" -eq 0
check "run: the results, then nothing came back within the 12 s window (after more than the 10 s write timeout), and the hint" \
	awk -v port="$mta" '
	NR == 1 && $0 == "fl f.example ok 250 Queuing started" { r = 1 }
	NR == 2 && /^fl flush nothing came back within 12s/ { f = 1 }
	NR == 3 && index($0, "  hint: check that port 25 is reachable from outside (it arrives here on port " port ")") == 1 { h = 1 }
	END { exit !(r && f && h && NR == 3) }' "$T/run.out"
check "run: no error" test ! -s "$T/run.err"

# A client gone while it waits for the verdicts is dropped then, not when
# the window closes (12 s after the run began).
ctl3 run --watch fl >"$T/gone.out" &
gpid=$!
PIDS+=("$gpid")
wait_for 10 grep -q "^fl f.example ok" "$T/gone.out"
fds_waiting=$(ls /proc/"$LPID"/fd | wc -l)
kill "$gpid"
wait "$gpid" 2>/dev/null
check "a client gone while waiting for the verdicts: its descriptor is closed while the window is open" \
	wait_for 5 bash -c "[ \$(ls /proc/$LPID/fd | wc -l) -lt $fds_waiting ]"
check "... and the daemon still answers" bash -c "\"$ETRNCTL\" -s \"$SOCK3\" status >/dev/null"

# history: every relay's runs or one configured relay's; JSON parses.
ctl3 history >"$T/hist" 2>"$T/err"
check "history: exit 0" test $? -eq 0
check "history: shows fl's runs" grep -qw "fl" "$T/hist"
ctl3 run other >/dev/null
ctl3 history --json >"$T/hist.json"
ctl3 history --json fl >"$T/hist-fl.json"
check "history --json: one line, one object; history fl only fl's runs" \
	python3 - "$T/hist.json" "$T/hist-fl.json" <<'PY'
import json, sys
def relays(path):
    lines = open(path).read().splitlines()
    assert len(lines) == 1, lines
    seen = []
    def walk(v):
        if isinstance(v, dict):
            if isinstance(v.get("relay"), str):
                seen.append(v["relay"])
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(json.loads(lines[0]))
    return seen
every, fl = relays(sys.argv[1]), relays(sys.argv[2])
assert "fl" in every and "other" in every, every
assert fl and set(fl) == {"fl"}, fl
PY
ctl3 history nosuch 2>"$T/err"
check "history of an unknown relay: exit 1" test $? -eq 1
check "... naming it as run does" grep -qx 'etrnctl: no relay "nosuch"' "$T/err"
ctl3 history fl other 2>"$T/err"
check "history of two relays: usage error (64)" test $? -eq 64
check "... saying one at most" grep -q "history: one relay at most" "$T/err"

# metrics: the exposition as it is, "# EOF" last, the verdict counted.
ctl3 metrics >"$T/metrics"
check "metrics: exit 0" test $? -eq 0
check "metrics: ends with # EOF" test "$(tail -n 1 "$T/metrics")" = "# EOF"
check "metrics: no data-line prefix" bash -c "! grep -q '^- ' '$T/metrics'"
check "metrics: the window's verdict counted" grep -Eq \
	'^etrnd_flush_verdicts_total\{relay="fl",verdict="nothing"\} [1-9]' \
	"$T/metrics"
check "metrics-file: follows the runs" wait_for 5 grep -Eq \
	'^etrnd_flush_verdicts_total\{relay="fl",verdict="nothing"\} [1-9]' \
	"$T/prom/etrnd.prom"
ctl3 metrics extra 2>/dev/null
check "metrics with an argument: usage error (64)" test $? -eq 64

# metrics-file moved by a reload: the new one written, the old one gone.
write_flush_conf "$T/prom/moved.prom"
ctl3 reload >/dev/null
check "metrics-file moved: the new file is written" \
	wait_for 5 test -s "$T/prom/moved.prom"
check "metrics-file moved: the old one is removed" \
	test ! -e "$T/prom/etrnd.prom"
# A directory that is not there: warned once, however many changes follow,
# then written again once it exists.
write_flush_conf "$T/nodir/etrnd.prom"
ctl3 reload >/dev/null
# Changes until a second write has failed (at most one a second).
for i in $(seq 10); do
	ctl3 run other >/dev/null
	grep -q "metrics-file $T/nodir/etrnd.prom: .*, still" "$T/flush.log" &&
		break
	sleep 0.5
done
check "metrics-file failing: tried again, warned once" bash -c "
	grep -q 'metrics-file $T/nodir/etrnd.prom: .*, still' '$T/flush.log' &&
	[ \$(grep -c 'metrics-file $T/nodir/etrnd.prom: No such file or directory; trying again' '$T/flush.log') -eq 1 ]"
mkdir "$T/nodir"
ctl3 run other >/dev/null
check "metrics-file: written once the directory exists" \
	wait_for 5 test -s "$T/nodir/etrnd.prom"
check "... and says so" wait_for 5 grep -q \
	"metrics-file $T/nodir/etrnd.prom: written again" "$T/flush.log"
kill "$LPID"
wait "$LPID"
check "flush daemon: clean exit" test $? -eq 0
check "metrics-file: removed at a clean stop" test ! -e "$T/nodir/etrnd.prom"
finish
