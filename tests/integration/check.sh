#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# etrnd --check against scripted servers on loopback, with a throwaway CA:
# what each relay offers, the certificate's verdict, AUTH with the password
# as a systemd credential, the failures with their exit statuses -- and no
# ETRN sent to any server.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/tls-lib.sh"

make_ca
mkcert good "DNS:mx.test.example,IP:127.0.0.1"
check "test CA and certificate made" test -s "$T/good.pem"

PASSWORD=Wh1sper-$$
mkdir -m 700 "$T/creds"
printf '%s\n' "$PASSWORD" >"$T/creds/isp-password"
printf 'not-it\n' >"$T/creds/wrong-password"
chmod 400 "$T/creds/isp-password" "$T/creds/wrong-password"

relay() { # NAME PORT KEYS...: a [relay] section
	local name=$1 port=$2
	shift 2
	printf '[relay %s]\nhost = 127.0.0.1\nport = %s\n' "$name" "$port"
	printf '%s\n' "$@"
}
run_check() { # NAME ARGS...: etrnd --check with $T/NAME.conf; sets RC
	local name=$1
	shift
	"$ETRND" --check -c "$T/$name.conf" "$@" >"$T/$name.out" 2>"$T/$name.err"
	RC=$?
}
has() { # NAME PATTERN: the report has a line matching PATTERN
	grep -q -- "$2" "$T/$1.out" || { cat "$T/$1.out" "$T/$1.err"; false; }
}

server auth --cert "$T/good.pem" --key "$T/good.key" --user site \
	--password "$PASSWORD"
AUTH_PORT=$PORT
{
	printf '[daemon]\nconnect-timeout = 5s\nreply-timeout = 5s\n'
	printf 'domains = example.org example.net\n'
	relay good "$AUTH_PORT" "tls = required" "tls-ca = $T/ca.pem" \
	    "auth-user = site" "auth-password-credential = isp-password"
	relay badpw "$AUTH_PORT" "tls = required" "tls-ca = $T/ca.pem" \
	    "auth-user = site" "auth-password-credential = wrong-password"
	relay unknownca "$AUTH_PORT" "tls = required"
	relay closed "$(free_port)"
} >"$T/all.conf"

CREDENTIALS_DIRECTORY=$T/creds run_check all good
check "one good relay: exit 0" test "$RC" -eq 0
check "... says which file, as which uid, and that no ETRN is sent" \
	has all "^etrnd --check: $T/all.conf as uid $(id -u).*; no ETRN is sent$"
check "... reports only the relay named" \
	bash -c "! grep -q '^relay badpw' '$T/all.out'"
check "... the address it connected to" has all "^  connect      127.0.0.1:$AUTH_PORT in [0-9]* ms$"
check "... the greeting" has all "^  greeting     220 .* ([0-9]* ms)$"
check "... what EHLO offers, after TLS" has all "^  EHLO         .*AUTH PLAIN"
check "... the TLS version and the certificate's verdict" \
	has all "^  STARTTLS     TLSv1\.[23] .* in [0-9]* ms; certificate verified (chain to tls-ca, address 127.0.0.1)$"
check "... AUTH with the credential" has all "^  AUTH         PLAIN as site: 235 ([0-9]* ms)$"
check "... the result" has all "^  result       ok ([0-9]* ms in all)$"
check "no ETRN reached the server" test "$(count_lines "$T/auth.log" ETRN)" -eq 0

CREDENTIALS_DIRECTORY=$T/creds run_check all
check "all four relays: exit 1 (a refusal wins over temporary failures)" \
	test "$RC" -eq 1
check "a wrong password: refused with the server's 535" \
	has all "^  result       refused: 535 AUTH failed: 5.7.8"
check "an unknown CA: the handshake's verdict" \
	has all "^  STARTTLS     failed: certificate verify failed (unable to get local issuer certificate)$"
check "nothing listening: the connection error" \
	has all "^  result       failed: 127.0.0.1:[0-9]*: Connection refused$"
check "still no ETRN reached the server" test "$(count_lines "$T/auth.log" ETRN)" -eq 0
check "the password is in no output" \
	bash -c "! grep -q -- '$PASSWORD' '$T/all.out' '$T/all.err'"

run_check all closed
check "only a relay that cannot be reached: exit 75" test "$RC" -eq 75

# Outside the service there is no credential: said, with how to check as
# the service would.
env -u CREDENTIALS_DIRECTORY -u INVOCATION_ID "$ETRND" --check -c "$T/all.conf" \
	good >"$T/nocred.out" 2>"$T/nocred.err"
check "no credentials directory: AUTH not tried, and why" \
	has nocred "^  AUTH         not tried: credential isp-password is not readable here"
check "... and how to check as the service: systemd-run with the credential" \
	has nocred "^    -p LoadCredential=isp-password:FILE"

# AUTH configured but not done (no TLS, auth-cleartext = no): not proven.
server plain --no-starttls --user site --password "$PASSWORD"
{
	printf '[daemon]\ndomains = example.org\n'
	relay plain "$PORT" "tls = opportunistic" "auth-user = site" \
	    "auth-password-credential = isp-password"
} >"$T/plain.conf"
CREDENTIALS_DIRECTORY=$T/creds run_check plain
check "AUTH not done: exit 75, not 0" test "$RC" -eq 75
check "... and why" has plain "^  AUTH         not tried: not sending credentials over a connection without TLS"
check "... the result says it is not verified" \
	has plain "^  result       not verified: AUTH was not done"

# A hostile server: a C1 control (CSI) and a bidi override (U+202E) in
# its greeting and EHLO reach the report escaped (\xNN), never as they are.
port=$(free_port)
python3 - "$port" "$T/hostile.ready" <<'PY' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
s.settimeout(20)
open(sys.argv[2], "w").close()
c, _ = s.accept()
c.settimeout(10)
f = c.makefile("rwb")
f.write(b"220 mx \xc2\x9b2J \xe2\x80\xaelive\r\n")
f.flush()
for line in f:
    verb = line.split()[0].upper() if line.split() else b""
    if verb == b"EHLO":
        f.write(b"250-mx\r\n250 X-\xe2\x80\xaeKEY\r\n")
    elif verb == b"QUIT":
        f.write(b"221 bye\r\n")
        f.flush()
        break
    else:
        f.write(b"502 no\r\n")
    f.flush()
PY
PIDS+=($!)
wait_for 10 test -e "$T/hostile.ready"
{
	printf '[daemon]\ndomains = example.org\n'
	relay hostile "$port" "tls = no"
} >"$T/hostile.conf"
run_check hostile
check "a hostile greeting and EHLO: exit 0" test "$RC" -eq 0
check "... the greeting escaped" \
	has hostile '^  greeting     220 mx \\xc2\\x9b2J \\xe2\\x80\\xaelive ('
check "... the EHLO keywords escaped" \
	has hostile '^  EHLO         X-\\xe2\\x80\\xaeKEY$'
check "... and no byte outside printable ASCII in the report" \
	env LC_ALL=C awk '/[^ -~]/ {exit 1}' "$T/hostile.out"

run_check all nosuchrelay
check "an unknown relay name: exit 64" test "$RC" -eq 64
check "... named" grep -q 'no relay "nosuchrelay"' "$T/all.err"
printf '[daemon]\nwatch = eth0\n' >"$T/none.conf"
run_check none
check "no relays: exit 78" test "$RC" -eq 78
finish
