#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Structured journal entries without a journald: in a private mount
# namespace a tmpfs over /run holds a datagram socket where sd_journal_send
# looks for journald, and stderr is made the "journal stream".  etrnd --once
# against an accepting, a refusing and an unreachable relay must send one
# entry per key event with its MESSAGE_ID and ETRND_* fields, each ID must
# be explained by systemd/etrnd.catalog, and no event may also go to stderr.
# With --watch and a site MTA that the accepting relay never connects back
# to, "nothing came back" is an entry of its own too.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root for a private mount namespace"
unshare -m true 2>/dev/null || skip "mount namespaces unavailable here"
SRC=$(cd "$TESTS_DIR/../.." && pwd)

ok_port=$(free_port)
no_port=$(free_port)
dead_port=$(free_port)
mta_port=$(free_port)
python3 "$LISTENER" 127.0.0.1 "$ok_port" --log "$T/ok.log" --ready "$T/r1" \
	--lifetime 60 &
PIDS+=($!)
python3 "$LISTENER" 127.0.0.1 "$no_port" --log "$T/no.log" --ready "$T/r2" \
	--reply "459 <example.net>: service unavailable" --lifetime 60 &
PIDS+=($!)
python3 "$LISTENER" 127.0.0.1 "$mta_port" --log "$T/mta.log" --ready "$T/r3" \
	--lifetime 60 &
PIDS+=($!)
wait_for 10 test -e "$T/r1" -a -e "$T/r2" -a -e "$T/r3"
cat >"$T/etrnd.conf" <<CONF
[daemon]
local-smtp = 127.0.0.1:$mta_port
flush-window = 1s
flush-quiet = 500ms

[relay good]
host = 127.0.0.1
port = $ok_port
domains = example.org

[relay picky]
host = 127.0.0.1
port = $no_port
domains = example.net

[relay gone]
host = 127.0.0.1
port = $dead_port
domains = example.com
CONF

cat >"$T/sink.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[3], "w").close()
s.settimeout(float(sys.argv[4]))
with open(sys.argv[2], "w") as out:
    try:
        while True:
            out.write(s.recv(65536).decode() + "\n--\n")
            out.flush()
    except socket.timeout:
        pass
PY
: >"$T/stderr"
unshare -m bash -c '
	mount -t tmpfs tmpfs /run || exit 1
	mkdir -p /run/systemd/journal
	python3 "$1/sink.py" /run/systemd/journal/socket "$1/entries" "$1/up" 5 &
	for i in $(seq 100); do [ -e "$1/up" ] && break; sleep 0.05; done
	JOURNAL_STREAM=$(stat -c %d:%i "$1/stderr") \
		"$2" --once --watch -c "$1/etrnd.conf" >"$1/stdout" \
		2>>"$1/stderr"
	echo $? >"$1/rc"
	wait
' _ "$T" "$ETRND"
check "--once ran (exit 1: a refusal)" test "$(cat "$T/rc")" -eq 1

entry() { # MESSAGE_ID FIELD=VALUE...: an entry with all of these
	python3 - "$T/entries" "$@" <<'PY'
import sys
entries = [dict(l.split("=", 1) for l in e.splitlines() if "=" in l)
           for e in open(sys.argv[1]).read().split("\n--\n")]
want = dict(a.split("=", 1) for a in sys.argv[3:])
want["MESSAGE_ID"] = sys.argv[2]
sys.exit(0 if any(all(e.get(k) == v for k, v in want.items())
                  for e in entries) else 1)
PY
}
check "ETRN accepted: an entry with relay, domain, code" \
	entry 71a29438ccf34fe9988173e26556ecde ETRND_RELAY=good \
	ETRND_DOMAIN=example.org ETRND_REPLY_CODE=250 PRIORITY=6
check "ETRN refused: an entry with the 459 at priority 3" \
	entry 34e094cdb7744938ac120d6fa8aa4d00 ETRND_RELAY=picky \
	ETRND_DOMAIN=example.net ETRND_REPLY_CODE=459 PRIORITY=3
check "relay unreachable: an entry at priority 4" \
	entry e5c69f9480ed45eebfdca2d739e2d9da ETRND_RELAY=gone \
	ETRND_DOMAIN=example.com PRIORITY=4
check "nothing came back: an entry for the relay at priority 4" \
	entry 63d55c2232b047a7be4ee27c2ac18f47 ETRND_RELAY=good PRIORITY=4
check "... whose message has the hint" python3 - "$T/entries" <<'PY'
import sys
ok = any("MESSAGE_ID=63d55c2232b047a7be4ee27c2ac18f47" in e and
         "MESSAGE=relay good: flush: nothing came back within 1s" in e and
         "reachable from outside" in e
         for e in open(sys.argv[1]).read().split("\n--\n"))
sys.exit(0 if ok else 1)
PY
check "events are not written to stderr as well" \
	bash -c "! grep -q 'ETRN example.org: 250' '$T/stderr'"
check "other lines keep their <N> prefix on stderr" \
	bash -c "! grep -qv '^<[0-7]>' '$T/stderr'"
ids=$(grep -o '"[0-9a-f]\{32\}"' "$SRC/src/log.c" | tr -d '"' | sort)
cat_ids=$(grep -o '^-- [0-9a-f]\{32\}$' "$SRC/systemd/etrnd.catalog" |
	cut -c4- | sort)
check "the catalog explains every MESSAGE_ID" test "$ids" = "$cat_ids"
check "seven event types" test "$(echo "$ids" | wc -l)" -eq 7
finish
