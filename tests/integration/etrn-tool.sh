#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# etrn(1), the one-shot client: usage errors, result lines, exit statuses,
# sessions of at most 7 domains, -C, -H, -4/-6, -t and SIGINT, against the
# scripted listener; TLS (STARTTLS opportunistic/required, implicit, CA,
# --no-verify) and AUTH (--user, --password-file) against tls-server.py
# with a throwaway CA.  Needs no root: everything is on loopback.
. "$(dirname "$0")/lib.sh"
: "${ETRN:?set ETRN to the etrn binary}"

# listen [ARGS...]: a listener on 127.0.0.1:$port logging to $T/l.log.
listen() {
	local addr=127.0.0.1
	if [ "${1:-}" = "-6" ]; then addr=::1; shift; fi
	rm -f "$T/ready" "$T/l.log"
	python3 "$LISTENER" "$addr" "$port" --log "$T/l.log" \
		--ready "$T/ready" --lifetime 30 "$@" &
	PIDS+=($!)
	wait_for 10 test -e "$T/ready"
}

# run ARGS...: etrn with stdout in $T/out, stderr in $T/err, status in $rc.
run() {
	"$ETRN" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

# expect LINE...: $T/out is exactly these lines.
expect() {
	printf '%s\n' "$@" | diff -u - "$T/out"
}

# Usage errors: 64, a message, never a connection.
check "-V prints the version" bash -c "'$ETRN' -V | grep -qx 'etrn [0-9.]*'"
check "-h prints usage on stdout" bash -c "'$ETRN' -h | grep -q '^usage: etrn '"
run
check "no arguments exits 64" test "$rc" -eq 64
check "... with usage on stderr" grep -q "^usage: etrn " "$T/err"
check "... and nothing on stdout" test ! -s "$T/out"
run 127.0.0.1
check "no domain exits 64" test "$rc" -eq 64
check "... and says so" grep -q "no domain" "$T/err"
run --bogus 127.0.0.1 example.org
check "an unknown option exits 64" test "$rc" -eq 64
run 127.0.0.1 example.org $'bad\001domain'
check "a control character in a domain exits 64" test "$rc" -eq 64
check "... naming the domain (escaped) and the reason" \
	grep -qF 'domain "bad\x01domain" contains a control character' "$T/err"
long=$(printf 'a%.0s' {1..252}).org
run 127.0.0.1 "$long"
check "a 256-byte domain exits 64" test "$rc" -eq 64
check "... naming it and the reason" \
	grep -qF "domain \"$long\" is longer than 255 bytes" "$T/err"
run 127.0.0.1 example.org "with space"
check "a domain with a space exits 64" test "$rc" -eq 64
run -p 0 127.0.0.1 example.org
check "-p 0 exits 64" test "$rc" -eq 64
run -p 65536 127.0.0.1 example.org
check "-p 65536 exits 64" test "$rc" -eq 64
run -p 25x 127.0.0.1 example.org
check "-p 25x exits 64" test "$rc" -eq 64
run -C TURN 127.0.0.1 example.org
check "-C TURN exits 64" test "$rc" -eq 64
check "... and names ETRN and QSND" grep -q "use ETRN or QSND" "$T/err"
run -t 0 127.0.0.1 example.org
check "-t 0 exits 64" test "$rc" -eq 64
run -H "bad name" 127.0.0.1 example.org
check "-H with a space exits 64" test "$rc" -eq 64

# All accepted: one exact line per domain, in argument order; exit 0.
port=$(free_port)
listen
run -p "$port" 127.0.0.1 example.org @example.net '#queue'
check "all accepted exits 0" test "$rc" -eq 0
check "... one exact line per domain" expect \
	"example.org ok 250 Queuing started" \
	"@example.net ok 250 Queuing started" \
	"#queue ok 250 Queuing started"
check "... nothing on stderr" test ! -s "$T/err"
check "... the server got ETRN per domain" \
	test "$(count_lines "$T/l.log" " ETRN ")" -eq 3
check "... and QUIT" grep -q "^[0-9.]* 1 QUIT$" "$T/l.log"

# A 459 policy refusal: exit 1, the server's text, the Postfix hint.
port=$(free_port)
listen --reply "459 <example.org>: service unavailable"
run -p "$port" 127.0.0.1 example.org
check "459 exits 1" test "$rc" -eq 1
check "... with the exact line" \
	expect "example.org refused 459 <example.org>: service unavailable"
check "... and a hint on stderr" grep -q "fast_flush_domains" "$T/err"

# A multi-line reply is flattened onto the result line.
port=$(free_port)
listen --reply $'458-Unable to queue messages\r\n458 try later'
run -p "$port" 127.0.0.1 example.org
check "458 exits 75" test "$rc" -eq 75
check "... its two lines joined by a space" \
	expect "example.org temporary 458 Unable to queue messages try later"

# A server's C1 control (CSI, U+009B) and bidi override (U+202E), valid
# UTF-8 both, reach the terminal escaped byte by byte, never as they are.
port=$(free_port)
listen --reply $'250 ok \xc2\x9b2J \xe2\x80\xaedesrever\tend'
run -p "$port" 127.0.0.1 example.org
check "a reply with C1, bidi and tab bytes exits 0" test "$rc" -eq 0
check "... its text escaped (\\xNN) on the result line" \
	expect 'example.org ok 250 ok \xc2\x9b2J \xe2\x80\xaedesrever\x09end'
check "... and no byte outside printable ASCII on stdout" \
	env LC_ALL=C awk '/[^ -~]/ {exit 1}' "$T/out"
run -v -p "$port" 127.0.0.1 example.org
check "... and with -v, the traced reply (<-) is escaped the same way" \
	grep -qF '<- 250 ok \xc2\x9b2J \xe2\x80\xaedesrever\x09end' "$T/err"
check "... and no byte outside printable ASCII on stderr either" \
	env LC_ALL=C awk '/[^ -~]/ {exit 1}' "$T/err"

# Nothing listening: temporary, no reply code.
port=$(free_port)
run -p "$port" -t 5 127.0.0.1 example.org @example.net
check "connection refused exits 75" test "$rc" -eq 75
check "... every domain temporary with code -" \
	test "$(grep -c '^[^ ]* temporary - .*refused' "$T/out")" -eq 2

# -C QSND sends Post.Office's verb.
port=$(free_port)
listen
run -p "$port" -C qsnd 127.0.0.1 example.org
check "-C QSND exits 0" test "$rc" -eq 0
check "... the server got QSND example.org" \
	grep -q "^[0-9.]* 1 QSND example.org$" "$T/l.log"
check "... and no ETRN" test "$(count_lines "$T/l.log" " ETRN ")" -eq 0

# -H sets the EHLO name.
port=$(free_port)
listen --log-hello
run -p "$port" -H mx.site.example 127.0.0.1 example.org
check "-H exits 0" test "$rc" -eq 0
check "... the server got EHLO mx.site.example" \
	grep -q "^[0-9.]* 1 EHLO mx.site.example$" "$T/l.log"

# Without -H: a name, sent as one word.
port=$(free_port)
listen --log-hello
run -p "$port" 127.0.0.1 example.org
check "default EHLO name is one non-empty word" \
	grep -q "^[0-9.]* 1 EHLO [^ ]\+$" "$T/l.log"

# 9 domains: a session of 7, then one of 2, one after the other.
port=$(free_port)
listen
doms=(d1.example d2.example d3.example d4.example d5.example d6.example
	d7.example d8.example d9.example)
run -p "$port" 127.0.0.1 "${doms[@]}"
check "9 domains exit 0" test "$rc" -eq 0
check "... 9 result lines in order" \
	test "$(cut -d' ' -f1 "$T/out" | tr '\n' ' ')" = "${doms[*]} "
check "... two connections" \
	test "$(count_lines "$T/l.log" " CONNECT ")" -eq 2
check "... 7 ETRNs in the first" \
	test "$(grep -c '^[0-9.]* 1 ETRN ' "$T/l.log")" -eq 7
check "... 2 in the second" \
	test "$(grep -c '^[0-9.]* 2 ETRN ' "$T/l.log")" -eq 2
quit1=$(awk '$2 == 1 && $3 == "QUIT" {print $1}' "$T/l.log")
conn2=$(awk '$2 == 2 && $3 == "CONNECT" {print $1}' "$T/l.log")
check "... the second opened after the first's QUIT" \
	awk -v a="${quit1:-9e99}" -v b="${conn2:-0}" 'BEGIN {exit !(b >= a)}'

# -t bounds the wait for a reply.
port=$(free_port)
listen --delay 20
t0=$EPOCHREALTIME
run -p "$port" -t 1 127.0.0.1 example.org
secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", b - a}')
check "-t 1 against a silent server exits 75" test "$rc" -eq 75
check "... within 4 s (took ${secs}s)" awk -v s="$secs" 'BEGIN {exit !(s < 4)}'
check "... saying no reply came" grep -q "^example.org temporary - no ETRN reply" "$T/out"

# SIGINT while the server sits on its reply: QUIT, report, exit 75.
port=$(free_port)
listen --delay 20
"$ETRN" -p "$port" 127.0.0.1 example.org @example.net >"$T/out" 2>"$T/err" &
epid=$!
wait_for 10 grep -q " ETRN example.org" "$T/l.log"
t0=$EPOCHREALTIME
kill -INT "$epid"
wait "$epid"
rc=$?
secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", b - a}')
check "SIGINT mid-session exits 75" test "$rc" -eq 75
check "... within 3 s (took ${secs}s)" awk -v s="$secs" 'BEGIN {exit !(s < 3)}'
check "... the server got QUIT" wait_for 5 grep -q " QUIT$" "$T/l.log"
check "... every domain reported as interrupted" expect \
	"example.org temporary - interrupted" \
	"@example.net temporary - interrupted"

# -6 against a listener on ::1.
port=$(free_port)
have_ipv6_loopback() {
	python3 -c 'import socket, sys
socket.socket(socket.AF_INET6).bind(("::1", int(sys.argv[1])))' "$1" 2>/dev/null
}
if have_ipv6_loopback "$port"; then
	listen -6
	run -6 -p "$port" ::1 example.org
	check "-6 ::1 exits 0" test "$rc" -eq 0
	check "... with the exact line" expect "example.org ok 250 Queuing started"
	check "... connected over IPv6" grep -q "^[0-9.]* 1 CONNECT ::1$" "$T/l.log"
	run -6 -p "$port" '[::1]' example.org
	check "-6 [::1] (bracketed literal) exits 0" test "$rc" -eq 0
else
	echo "# ::1 is not available here: skipping the -6 checks"
fi

# -4 with an IPv6 literal: a temporary failure that says why, no crash.
run -4 -p 25 ::1 example.org
check "-4 ::1 exits 75" test "$rc" -eq 75
check "... the domain is temporary with code -" \
	grep -q "^example.org temporary - " "$T/out"
check "... and stderr says -4 allows IPv4 only" grep -q "IPv4 only" "$T/err"
check "... and no address was contacted" test "$(wc -l <"$T/out")" -eq 1


# TLS and AUTH: the daemon's choices, on its session code.
if ! command -v openssl >/dev/null; then
	echo "# no openssl command to make a test CA: skipping the TLS checks"
	finish
fi
. "$TESTS_DIR/tls-lib.sh"
make_ca
mkcert good "DNS:mx.test.example,IP:127.0.0.1"
check "test CA and certificate made" test -s "$T/good.pem"
PASSWORD=Wh1sper-$$
printf '%s\n' "$PASSWORD" >"$T/pw"
chmod 600 "$T/pw"

check "-h names the TLS and AUTH options" bash -c \
	"'$ETRN' -h | grep -q -- '--tls mode' && '$ETRN' -h | grep -q -- '--password-file'"
run --tls starttls 127.0.0.1 example.org
check "--tls starttls exits 64" test "$rc" -eq 64
check "... naming the four modes" grep -q "use no, opportunistic, required or implicit" "$T/err"
run --user site 127.0.0.1 example.org
check "--user without --password-file exits 64" test "$rc" -eq 64
run --tls no --user site --password-file "$T/pw" 127.0.0.1 example.org
check "--user with --tls no exits 64" test "$rc" -eq 64
check "... AUTH needs TLS" grep -q "AUTH needs TLS" "$T/err"
run --tls-ca /nonexistent/ca.pem 127.0.0.1 example.org
check "an unloadable --tls-ca exits 66" test "$rc" -eq 66
check "... naming it" grep -q "cannot load CA certificates from /nonexistent/ca.pem" "$T/err"

# STARTTLS, opportunistic by default: verified against --tls-ca.
server starttls --cert "$T/good.pem" --key "$T/good.key"
run -v --tls-ca "$T/ca.pem" -p "$PORT" 127.0.0.1 example.org
check "STARTTLS by default: exits 0" test "$rc" -eq 0
check "... the exact line" expect "example.org ok 250 Queuing started"
check "... ETRN went over TLS" grep -q "ETRN example.org tls=1" "$T/starttls.log"
check "... EHLO again after the handshake" test "$(grep -c -- '-> EHLO' "$T/err")" -eq 2
run -p "$PORT" 127.0.0.1 example.org
check "unknown CA (system store): exits 75" test "$rc" -eq 75
check "... says why" grep -q "^example.org temporary - TLS handshake with 127.0.0.1:$PORT failed: certificate verify failed (unable to get local issuer certificate)" "$T/out"
check "... and sends no ETRN" test "$(count_lines "$T/starttls.log" 'ETRN')" -eq 1
run --no-verify -p "$PORT" 127.0.0.1 example.org
check "--no-verify: exits 0 over TLS" test "$rc" -eq 0
check "... ETRN over TLS again" test "$(count_lines "$T/starttls.log" 'tls=1')" -eq 2
run --tls no -p "$PORT" 127.0.0.1 example.org
check "--tls no: exits 0 in clear, STARTTLS ignored" test "$rc" -eq 0
check "... ETRN in clear" grep -q "ETRN example.org tls=0" "$T/starttls.log"

server nostarttls --cert "$T/good.pem" --key "$T/good.key" --no-starttls
run --tls required -p "$PORT" 127.0.0.1 example.org
check "--tls required without STARTTLS: exits 75" test "$rc" -eq 75
check "... says why" grep -q "does not offer STARTTLS, and tls = required" "$T/out"
check "... no ETRN in clear" test "$(count_lines "$T/nostarttls.log" 'ETRN')" -eq 0

# Implicit TLS (port 465 style): the handshake before the greeting.
server implicit --implicit --cert "$T/good.pem" --key "$T/good.key" \
	--user site --password "$PASSWORD"
run -v --tls implicit --tls-ca "$T/ca.pem" --user site --password-file "$T/pw" \
	-p "$PORT" 127.0.0.1 example.org
check "--tls implicit with AUTH: exits 0" test "$rc" -eq 0
check "... the exact line" expect "example.org ok 250 Queuing started"
check "... the handshake came first" bash -c "sed -n 2p '$T/implicit.log' | grep -q ' TLS TLSv1'"
check "... AUTH, then ETRN, over TLS" grep -q "ETRN example.org tls=1 auth=1" "$T/implicit.log"
check "... one EHLO, no STARTTLS" bash -c \
	"test \$(grep -c -- '-> EHLO' '$T/err') -eq 1 && ! grep -q -- '-> STARTTLS' '$T/err'"
check "... the trace hides the credentials" grep -q -- "-> AUTH PLAIN (credentials hidden)" "$T/err"
server plain
run --tls implicit -p "$PORT" 127.0.0.1 example.org
check "--tls implicit against a plain server: exits 75" test "$rc" -eq 75
check "... a TLS failure with OpenSSL's reason" \
	grep -q "^example.org temporary - TLS handshake with 127.0.0.1:$PORT failed: [a-z]" "$T/out"
check "... nothing sent in clear" bash -c "! grep -q 'ETRN\|EHLO\|QUIT' '$T/plain.log'"
check "... in OpenSSL's words, not a bare code" bash -c "! grep -q 'reason(' '$T/out'"

# AUTH after STARTTLS; a wrong password is a refusal; the file is private.
server auth --cert "$T/good.pem" --key "$T/good.key" --user site --password "$PASSWORD"
run -v --tls-ca "$T/ca.pem" --user site --password-file "$T/pw" -p "$PORT" \
	127.0.0.1 example.org
check "AUTH after STARTTLS: exits 0" test "$rc" -eq 0
check "... AUTH PLAIN, then ETRN" grep -q "ETRN example.org tls=1 auth=1" "$T/auth.log"
check "... the password is in no output" bash -c "! grep -q -- '$PASSWORD' '$T/out' '$T/err'"
pwb64=$(printf '\0site\0%s' "$PASSWORD" | base64)
check "... nor its base64 form" bash -c "! grep -q -- '$pwb64' '$T/err'"
printf 'not-it\n' >"$T/wrongpw"
chmod 600 "$T/wrongpw"
run --tls-ca "$T/ca.pem" --user site --password-file "$T/wrongpw" -p "$PORT" \
	127.0.0.1 example.org
check "a wrong password exits 1 (refused)" test "$rc" -eq 1
check "... the 535 on the result line" \
	expect "example.org refused 535 AUTH failed: 5.7.8 Error: authentication failed"
chmod 644 "$T/pw"
n=$(count_lines "$T/auth.log" CONNECT)
run --tls-ca "$T/ca.pem" --user site --password-file "$T/pw" -p "$PORT" \
	127.0.0.1 example.org
check "a password file others can read exits 66" test "$rc" -eq 66
check "... naming it and the fix" grep -q -- "--password-file: $T/pw is accessible by group or others (mode 644; chmod 600 it)" "$T/err"
check "... and connects nowhere" test "$(count_lines "$T/auth.log" CONNECT)" -eq "$n"
ln -s "$T/wrongpw" "$T/link"
run --tls-ca "$T/ca.pem" --user site --password-file "$T/link" -p "$PORT" \
	127.0.0.1 example.org
check "a password file behind a symbolic link exits 66" test "$rc" -eq 66
check "... and says so" grep -q "$T/link is a symbolic link" "$T/err"
finish
