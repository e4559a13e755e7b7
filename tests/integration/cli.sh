#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# etrnd's command line: -t, exit statuses, --once against a local listener,
# what the log says at 3 am (a repeated failure, Postfix hints, timestamps).
# Needs no root: everything is on loopback.
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$TESTS_DIR/../.." && pwd)

check "-t accepts the shipped conf/etrnd.conf" \
	"$ETRND" -t -c "$SRC/conf/etrnd.conf"
"$ETRND" -t -c "$SRC/conf/etrnd.conf" >"$T/summary"
"$ETRND" -t -c "$SRC/conf/etrnd.conf" 2>&1 >/dev/null | grep -q \
	"no relays configured: etrnd would start and do nothing"
check "... which names no relay, and -t says etrnd would do nothing" \
	test $? -eq 0
# The example relays in it, uncommented as its text says, are valid.
sed -e 's/^#\(\[relay \)/\1/' \
    -e 's/^#\(host\|tls\|auth-user\|auth-password-credential\|domains\) = /\1 = /' \
    "$SRC/conf/etrnd.conf" >"$T/example.conf"
"$ETRND" -t -c "$T/example.conf" >"$T/summary"
check "the sample's example, uncommented, is valid" test $? -eq 0
check "-t prints the relays it understood" grep -q "^relay mx3$" "$T/summary"
check "... with [daemon]'s domains" \
	grep -q "domains  *example.org example.net (from \[daemon\])" "$T/summary"
check "-V prints the version" bash -c "'$ETRND' -V | grep -q '^etrnd [0-9]'"
check "-h prints usage" bash -c "'$ETRND' -h | grep -q 'usage: etrnd'"
"$ETRND" --bogus >/dev/null 2>&1
check "an unknown option exits 64" test $? -eq 64
for modes in "-t --once" "-t --check" "--once --check"; do
	# shellcheck disable=SC2086
	"$ETRND" $modes -c "$SRC/conf/etrnd.conf" >/dev/null 2>"$T/err"
	check "$modes together exit 64" test $? -eq 64
	check "... saying to choose one" grep -q "choose one" "$T/err"
done
"$ETRND" --watch -c "$SRC/conf/etrnd.conf" >/dev/null 2>"$T/err"
check "--watch without --once exits 64" test $? -eq 64
check "... saying it goes with --once" grep -q "watch goes with --once" "$T/err"
"$ETRND" -c "$T/missing.conf" -t 2>"$T/err"
check "a missing config exits 78" test $? -eq 78
check "... and names the file" grep -q "missing.conf" "$T/err"
check "... and points at the documented sample" grep -Eq \
	"^$T/missing.conf does not exist: copy the documented sample /.*/doc/etrnd/examples/etrnd.conf there and edit it" \
	"$T/err"
check "-t: plain lines, no timestamp" grep -q "^$T/missing.conf" "$T/err"

# No relay: -t warns and passes, --once has nothing to do (78).
printf '[daemon]\nwatch = ppp*\n' >"$T/empty.conf"
"$ETRND" -t -c "$T/empty.conf" >/dev/null 2>"$T/err"
check "-t with no relay: exit 0" test $? -eq 0
check "-t with no relay: a warning line" grep -qx \
	"$T/empty.conf: no relays configured: etrnd would start and do nothing until a reload adds one" "$T/err"
"$ETRND" --once -c "$T/empty.conf" >/dev/null 2>"$T/err"
check "--once with no relay: exit 78" test $? -eq 78
check "--once with no relay: says so" grep -q "no relays configured in $T/empty.conf: nothing to do" "$T/err"

# -t as another uid than the service's: a password file root can read is
# closed to the dynamic user the unit runs as.
printf 'secret\n' >"$T/password"
chmod 600 "$T/password"
cat >"$T/auth.conf" <<CONF
[relay isp]
host = 127.0.0.1
domains = example.org
tls = no
auth-user = site
auth-password-file = $T/password
auth-cleartext = yes
CONF
"$ETRND" -t -c "$T/auth.conf" >/dev/null 2>"$T/err"
check "-t with auth-password-file: exit 0" test $? -eq 0
check "-t with auth-password-file: says which uid checked it and what to use" grep -q \
	"relay isp: auth-password-file $T/password was checked as uid $(id -u).*, but the etrnd service runs as a dynamic user that cannot read root-only files: use auth-password-credential" \
	"$T/err"

cat >"$T/bad.conf" <<CONF
[daemon]
settle = soon
colour = blue

[relay isp]
host = 127.0.0.1
CONF
"$ETRND" -t -c "$T/bad.conf" 2>"$T/err"
check "a bad config exits 78" test $? -eq 78
check "... with file:line for the bad value" grep -q "^$T/bad.conf:2: " "$T/err"
check "... and for the unknown key" grep -q "^$T/bad.conf:3: " "$T/err"
check "... and for the relay without domains" grep -q "^$T/bad.conf:5: " "$T/err"

# Under systemd, stderr is the journal: lines carry <N> priorities.
: >"$T/journal"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/journal") \
	"$ETRND" -t -c "$T/bad.conf" 2>>"$T/journal"
check "journal stderr: errors carry <3>" grep -q "^<3>$T/bad.conf:2: " "$T/journal"
check "plain stderr: no priority prefix" grep -q "^$T/bad.conf:2: " "$T/err"

# --once against listeners on loopback.
port=$(free_port)
once_conf() {
	cat >"$T/once.conf" <<CONF
[daemon]
connect-timeout = 5s
reply-timeout = 5s
control-socket = $T/control
# No flush window (whatever listens on port 25 here): its own test below.
flush-window = 0

[relay isp]
host = 127.0.0.1
port = $1
domains = example.org @example.net
CONF
}
listen() {
	rm -f "$T/ready" "$T/l.log"
	python3 "$LISTENER" 127.0.0.1 "$port" --log "$T/l.log" \
		--ready "$T/ready" --exit-after 1 --lifetime 20 "$@" &
	PIDS+=($!)
	wait_for 10 test -e "$T/ready"
}

once_conf "$port"
listen
"$ETRND" --once -c "$T/once.conf" >"$T/out" 2>"$T/err"
check "--once: all accepted exits 0" test $? -eq 0
check "--once: one result line per domain" test "$(wc -l <"$T/out")" -eq 2
check "--once: result line format" \
	grep -qx "isp @example.net ok 250 Queuing started" "$T/out"

port=$(free_port)
once_conf "$port"
"$ETRND" --once -c "$T/once.conf" >"$T/out" 2>"$T/err"
check "--once: connection refused exits 75" test $? -eq 75
check "--once: refused connection is temporary" \
	grep -q "^isp example.org temporary - .*refused" "$T/out"

listen --reply "459 <example.org>: service unavailable"
"$ETRND" --once -c "$T/once.conf" >"$T/out" 2>"$T/err"
check "--once: a 459 refusal exits 1" test $? -eq 1
check "--once: 459 is shown with the server's text" \
	grep -qx "isp example.org refused 459 <example.org>: service unavailable" "$T/out"
check "--once: 459 logs the fast_flush_domains hint" \
	grep -q "fast_flush_domains" "$T/err"
check "--once: ... and says that the hint is about Postfix" \
	grep -q "(Postfix: the domain is not in the secondary's fast_flush_domains" "$T/err"
check "--once: stderr lines carry a timestamp and etrnd[pid]" grep -Eq \
	"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}[+-][0-9]{4} etrnd\[[0-9]+\]: relay isp: ETRN example.org refused: 459 " \
	"$T/err"

# A failure that repeats names the domain and the reason, every time.
# Retries need a watched link that is up: a veth pair in a namespace.
if [ "$(id -u)" -eq 0 ] && ip netns add "etrnd-cli-$$" 2>/dev/null; then
	NAMESPACES+=("etrnd-cli-$$")
	NS="ip netns exec etrnd-cli-$$"
	ip -n "etrnd-cli-$$" link set lo up
	ip -n "etrnd-cli-$$" link add cli0 type veth peer name cli1
	ip -n "etrnd-cli-$$" addr add 192.0.2.1/24 dev cli0
	ip -n "etrnd-cli-$$" link set cli1 up
	ip -n "etrnd-cli-$$" link set cli0 up
	port=$(free_port)
	once_conf "$port"
	sed -i 's/^domains = .*/domains = busy.example.org/; s/^reply-timeout = 5s/&\nwatch = cli0\nsettle = 0\nretry-min = 1s\nretry-max = 1s/' \
		"$T/once.conf"
	rm -f "$T/ready" "$T/l.log"
	$NS python3 "$LISTENER" 127.0.0.1 "$port" --log "$T/l.log" --ready "$T/ready" \
		--lifetime 20 --reply "458 Unable to queue messages for node busy.example.org" &
	PIDS+=($!)
	wait_for 10 test -e "$T/ready"
	$NS "$ETRND" -c "$T/once.conf" 2>"$T/err" &
	dpid=$!
	PIDS+=("$dpid")
	check "repeated failure: names the domain and the reason" wait_for 10 grep -q \
		"relay isp: busy.example.org still failing (458 Unable to queue messages for node busy.example.org); asking again for 1 domain in 1s$" \
		"$T/err"
	check "repeated failure: the first one said it in full" grep -q \
		"relay isp: ETRN busy.example.org: temporary failure: 458 Unable to queue" "$T/err"
	kill "$dpid"
	wait "$dpid"
else
	echo "ok - # SKIP repeated failure: needs root for a network namespace"
fi

# SIGTERM while a server sits on its reply: QUIT, and out within seconds.
port=$(free_port)
once_conf "$port"
sed -i 's/^reply-timeout = 5s/reply-timeout = 60s\nwatch = nosuch0/' "$T/once.conf"
listen --delay 30
"$ETRND" -c "$T/once.conf" 2>"$T/err" &
dpid=$!
PIDS+=("$dpid")
wait_for 10 grep -q "started" "$T/err"
kill -USR1 "$dpid"
check "SIGUSR1 asks every relay" wait_for 10 grep -q "ETRN example.org" "$T/l.log"
t0=$EPOCHREALTIME
kill -TERM "$dpid"
wait "$dpid"
rc=$?
secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", b - a}')
check "SIGTERM mid-session: exit 0 after ${secs}s" test "$rc" -eq 0
check "SIGTERM mid-session: within 4 s" awk -v s="$secs" 'BEGIN {exit !(s < 4)}'
check "SIGTERM mid-session: the server got QUIT" wait_for 5 grep -q " QUIT$" "$T/l.log"

# local-smtp: the site's own MTA starts 1 s late; ETRN waits for it.
port=$(free_port)
mta=$(free_port)
once_conf "$port"
sed -i "s/^reply-timeout = 5s/&\nlocal-smtp = 127.0.0.1:$mta/" "$T/once.conf"
listen
( sleep 1; exec python3 "$LISTENER" 127.0.0.1 "$mta" --log "$T/mta.log" \
	--ready "$T/mta.ready" --lifetime 20 ) &
PIDS+=($!)
"$ETRND" --once -c "$T/once.conf" >"$T/out" 2>"$T/err"
check "local-smtp: --once still succeeds" test $? -eq 0
check "local-smtp: said it was waiting" grep -q "not accepting connections yet" "$T/err"
etrn_at=$(awk '/ ETRN / {print $1; exit}' "$T/l.log")
ready_at=$(stat -c %.Y "$T/mta.ready" 2>/dev/null || echo 0)
check "local-smtp: ETRN sent only after the local MTA listened" \
	awk -v e="$etrn_at" -v r="$ready_at" 'BEGIN {exit !(e >= r && r > 0)}'

# --once --watch waits for the flush window's verdict and prints it after
# the results, with the hint; the exit status stays the results'.  The site's
# MTA is a listener on local-smtp's port that the relay (on 127.0.3.1)
# never connects back to.
port=$(free_port)
mta=$(free_port)
once_conf "$port"
sed -i -e "s/^host = 127.0.0.1$/host = 127.0.3.1/" -e "s/^flush-window = 0$/flush-window = 2s\nflush-quiet = 1s\nlocal-smtp = 127.0.0.1:$mta/" "$T/once.conf"
rm -f "$T/ready"
python3 "$LISTENER" 127.0.3.1 "$port" --log "$T/fl.log" --ready "$T/ready" \
	--lifetime 20 &
PIDS+=($!)
python3 "$LISTENER" 127.0.0.1 "$mta" --log "$T/mta2.log" \
	--ready "$T/mta2.ready" --lifetime 20 &
PIDS+=($!)
wait_for 10 test -e "$T/ready"
wait_for 10 test -e "$T/mta2.ready"
# Without --watch, the results only: no window is opened.
"$ETRND" --once -c "$T/once.conf" >"$T/out" 2>"$T/err"
check "--once without --watch: exit 0" test $? -eq 0
check "--once without --watch: the results only" \
	awk 'NR <= 2 && / ok 250 Queuing started$/ { r++ } END { exit !(r == 2 && NR == 2) }' "$T/out"
check "--once without --watch: no flush line in the log" \
	eval '! grep -q "flush:" "$T/err"'
"$ETRND" --once --watch -c "$T/once.conf" >"$T/out" 2>"$T/err"
check "--once with a flush window: exit 0, from the results" test $? -eq 0
check "--once: the results, then nothing came back and the hint" \
	awk -v port="$mta" '
	NR <= 2 && / ok 250 Queuing started$/ { r++ }
	NR == 3 && /^isp flush nothing came back within 2s/ { f = 1 }
	NR == 4 && index($0, "  hint: check that port 25 is reachable from outside (it arrives here on port " port ")") == 1 { h = 1 }
	END { exit !(r == 2 && f && h && NR == 4) }' "$T/out"

# max-sessions = 1024 needs more descriptors than a 256 soft limit: etrnd
# raises it (within the hard limit) at start.
printf '[daemon]\nmax-sessions = 1024\ncontrol-socket = %s\nwatch = nosuch0\n' \
	"$T/fd.ctl" >"$T/fd.conf"
if command -v prlimit >/dev/null; then
	prlimit --nofile=256:4096 "$ETRND" -c "$T/fd.conf" 2>"$T/fd.err" &
	fdpid=$!
	PIDS+=($fdpid)
	wait_for 5 test -S "$T/fd.ctl"
	check "the soft descriptor limit is raised for max-sessions" \
		grep -Eq "^Max open files +1152 +4096 " "/proc/$fdpid/limits"
	kill "$fdpid"
fi

finish
