#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# STARTTLS and AUTH through etrnd --once against a scripted server on
# loopback, with a throwaway CA made here: a valid certificate works; an
# unknown CA and a wrong name fail clearly and send no ETRN; tls-verify = no
# works with a warning; opportunistic falls back, required refuses; AUTH
# PLAIN after TLS, a wrong password is a refusal; the password file must be
# private; no password in any log line.  tls = implicit (RFC 8314, port 465
# style): valid certificate with AUTH, wrong name, unknown CA, and a plain
# SMTP server on the port, which fails at once with OpenSSL's reason.  (The real-Postfix versions of
# these are in tests/e2e/.)
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/tls-lib.sh"

# The CA, a certificate for 127.0.0.1 and mx.test.example, a wrong one.
make_ca
mkcert good "DNS:mx.test.example,IP:127.0.0.1"
mkcert wrong "DNS:wrong.example"
check "test CA and certificates made" test -s "$T/good.pem" -a -s "$T/wrong.pem"

PASSWORD=Wh1sper-$$
printf '%s\n' "$PASSWORD" >"$T/password"
chmod 600 "$T/password"

once() { # NAME RELAY-KEYS...: etrnd --once -v; sets RC
	local name=$1
	shift
	{
		echo "[daemon]"
		echo "reply-timeout = 5s"
		echo "connect-timeout = 5s"
		echo "[relay $name]"
		echo "host = 127.0.0.1"
		echo "port = $PORT"
		echo "domains = example.org"
		printf '%s\n' "$@"
	} >"$T/$name.conf"
	"$ETRND" --once -v -c "$T/$name.conf" >"$T/$name.out" 2>"$T/$name.err"
	RC=$?
}

server valid --cert "$T/good.pem" --key "$T/good.key"
once valid "tls-ca = $T/ca.pem"
check "valid certificate: exit 0" test "$RC" -eq 0
check "valid certificate: ETRN went over TLS" grep -q "ETRN example.org tls=1" "$T/valid.log"
check "valid certificate: EHLO again after the handshake" \
	test "$(grep -c -- '-> EHLO' "$T/valid.err")" -eq 2

once unknown "tls = required"
check "unknown CA: exit 75" test "$RC" -eq 75
check "unknown CA: says why" grep -q "TLS handshake with 127.0.0.1:$PORT failed: certificate verify failed (unable to get local issuer certificate)" "$T/unknown.out"
check "unknown CA: no ETRN sent" test "$(count_lines "$T/valid.log" 'ETRN')" -eq 1

server wrong --cert "$T/wrong.pem" --key "$T/wrong.key"
once wrong "tls-ca = $T/ca.pem"
check "wrong name: exit 75" test "$RC" -eq 75
check "wrong name: says why" grep -q "certificate verify failed (.*mismatch)" "$T/wrong.out"
check "wrong name: no ETRN sent" test "$(count_lines "$T/wrong.log" 'ETRN')" -eq 0

once noverify "tls-verify = no"
check "tls-verify = no: exit 0" test "$RC" -eq 0
check "tls-verify = no: warned at start" grep -q "tls-verify = no: the secondary's certificate is not checked" "$T/noverify.err"

server plain
once fallback "tls = opportunistic"
check "opportunistic without STARTTLS: exit 0 in clear" test "$RC" -eq 0
check "opportunistic: ETRN in clear" grep -q "ETRN example.org tls=0" "$T/plain.log"
once required "tls = required"
check "required without STARTTLS: exit 75" test "$RC" -eq 75
check "required: says why" grep -q "does not offer STARTTLS, and tls = required" "$T/required.out"
check "required: no ETRN in clear" test "$(count_lines "$T/plain.log" 'ETRN')" -eq 1

server auth --cert "$T/good.pem" --key "$T/good.key" --user site --password "$PASSWORD"
once auth "tls-ca = $T/ca.pem" "auth-user = site" "auth-password-file = $T/password"
check "AUTH after TLS: exit 0" test "$RC" -eq 0
check "AUTH PLAIN accepted, then ETRN" grep -q "ETRN example.org tls=1 auth=1" "$T/auth.log"
check "the trace hides the credentials" grep -q -- "-> AUTH PLAIN (credentials hidden)" "$T/auth.err"
printf 'not-it\n' >"$T/wrongpw"
chmod 600 "$T/wrongpw"
once authbad "tls-ca = $T/ca.pem" "auth-user = site" "auth-password-file = $T/wrongpw"
check "wrong password: exit 1 (refused)" test "$RC" -eq 1
check "wrong password: the 535 is shown" grep -qx "authbad example.org refused 535 AUTH failed: 5.7.8 Error: authentication failed" "$T/authbad.out"
check "the password is in no log line" \
	bash -c "! cat '$T'/*.err '$T'/*.out | grep -q -- '$PASSWORD'"
pwb64=$(printf '\0site\0%s' "$PASSWORD" | base64)
check "nor its base64 form" bash -c "! cat '$T'/*.err | grep -q -- '$pwb64'"

# tls = implicit: the handshake first, the greeting and one EHLO over TLS.
server implicit --implicit --cert "$T/good.pem" --key "$T/good.key" \
	--user site --password "$PASSWORD"
once implicit "tls = implicit" "tls-ca = $T/ca.pem" "auth-user = site" \
	"auth-password-file = $T/password"
check "implicit: exit 0" test "$RC" -eq 0
check "implicit: the handshake came first" \
	bash -c "sed -n 2p '$T/implicit.log' | grep -q ' TLS TLSv1'"
check "implicit: AUTH PLAIN, then ETRN, over TLS" \
	grep -q "ETRN example.org tls=1 auth=1" "$T/implicit.log"
check "implicit: one EHLO, no STARTTLS" bash -c \
	"test \$(grep -c -- '-> EHLO' '$T/implicit.err') -eq 1 && ! grep -q -- '-> STARTTLS' '$T/implicit.err'"
check "implicit: the greeting read after the handshake" \
	bash -c "grep -n 'TLS up with' '$T/implicit.err' | head -1 | cut -d: -f1 >'$T/l1' && grep -n '<- 220 ' '$T/implicit.err' | head -1 | cut -d: -f1 >'$T/l2' && test \$(cat '$T/l1') -lt \$(cat '$T/l2')"
"$ETRND" -t -c "$T/implicit.conf" >"$T/implicit-t.out" 2>&1
check "implicit: etrnd -t shows it" \
	grep -q "^  tls              implicit, ca $T/ca.pem\$" "$T/implicit-t.out"
"$ETRND" --check -c "$T/implicit.conf" >"$T/implicit-check.out" 2>&1
check "implicit: etrnd --check shows it" grep -q \
	"^  TLS          implicit, TLSv1\.[23] .* certificate verified (chain to tls-ca, address 127.0.0.1)\$" \
	"$T/implicit-check.out"

once implunknown "tls = implicit"
check "implicit, unknown CA: exit 75" test "$RC" -eq 75
check "implicit, unknown CA: says why" grep -q "implunknown example.org temporary .*TLS handshake with 127.0.0.1:$PORT failed: certificate verify failed (unable to get local issuer certificate)" "$T/implunknown.out"
check "implicit, unknown CA: no ETRN sent" test "$(count_lines "$T/implicit.log" 'ETRN')" -eq 1

server implwrong --implicit --cert "$T/wrong.pem" --key "$T/wrong.key"
once implwrong "tls = implicit" "tls-ca = $T/ca.pem"
check "implicit, wrong name: exit 75" test "$RC" -eq 75
check "implicit, wrong name: says why" grep -q "certificate verify failed (.*mismatch)" "$T/implwrong.out"
check "implicit, wrong name: nothing after the handshake" \
	bash -c "! grep -q 'ETRN\|QUIT\| TLS ' '$T/implwrong.log'"

# A plain SMTP server on the port: its greeting is no ServerHello.
server implplain
once implplain "tls = implicit"
check "implicit, plain server: exit 75" test "$RC" -eq 75
check "implicit, plain server: a TLS failure with OpenSSL's reason, not a timeout" \
	grep -q "implplain example.org temporary .*TLS handshake with 127.0.0.1:$PORT failed: [a-z]" "$T/implplain.out"
check "implicit, plain server: ... not a timeout" \
	bash -c "! grep -q 'did not finish' '$T/implplain.out'"
check "implicit, plain server: ... OpenSSL's words, not a bare code" \
	bash -c "! grep -q 'reason(' '$T/implplain.out'"
check "implicit, plain server: nothing sent in clear" \
	bash -c "! grep -q 'ETRN\|QUIT\|EHLO' '$T/implplain.log'"

chmod 644 "$T/password"
once perms "tls-ca = $T/ca.pem" "auth-user = site" "auth-password-file = $T/password"
check "world-readable password file: exit 78" test "$RC" -eq 78
check "... naming the file and the fix" grep -q "auth-password-file: $T/password is accessible by group or others (mode 644; chmod 600 it)" "$T/perms.err"
finish
