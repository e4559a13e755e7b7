#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# etrnd's STARTTLS and AUTH end to end against a real Postfix secondary MX
# (issue 5, sections 1 and 2), in network namespaces, with a throwaway CA
# made by the test and Cyrus SASL with a sasldb made by the test.
#
# usage: tls.sh [SCENARIO...]
#   Without arguments every scenario runs, each in its own process.
#   Needs root and the Debian packages postfix, openssl, sasl2-bin,
#   libsasl2-modules and libsasl2-modules-db (else exits 77).
#
#   harness        the Postfix side alone, with python's smtplib (no etrnd)
#   tls-valid      a certificate from tls-ca: the name (SNI), then the IP
#   tls-wrong-name certificate for another name: clear failure, retried,
#                  no ETRN; then tls-verify = no goes through
#   tls-unknown-ca no tls-ca: the system store lacks the CA: no ETRN
#   tls-fallback   no STARTTLS offered, tls = opportunistic: ETRN in clear
#   tls-required   no STARTTLS, or STARTTLS refused, tls = required: no ETRN
#   auth-ok        AUTH PLAIN over TLS, ETRN only for authenticated clients
#   auth-login     the same where the server offers only AUTH LOGIN
#   auth-wrong     wrong password: 535, refused, not retried
#   auth-no-tls    tls = no with AUTH: config error; a server that offers
#                  AUTH in clear gets none unless auth-cleartext = yes
#   password-file  the password file's mode and owner (etrnd -t)
#   submission     port 25 blocked: ETRN on the submission port 587 with
#                  STARTTLS (tls = required) and AUTH, ETRN only after
#                  AUTH: refused without, flushed with
#   smtps          the same on an smtps service (465, wrapper mode) with
#                  tls = implicit; and etrn(1) --tls implicit there
SCENARIOS=(harness tls-valid tls-wrong-name tls-unknown-ca tls-fallback
	tls-required auth-ok auth-login auth-wrong auth-no-tls password-file
	submission smtps)

if [ $# -eq 0 ]; then
	. "$(dirname "$0")/scenarios.sh"
	run_scenarios "$0" "${SCENARIOS[@]}"
	exit
fi

# shellcheck source=tls-lib.sh
. "$(dirname "$0")/tls-lib.sh"

# The world, the CA and certificates, and Postfix instance "mx" on
# 192.0.2.2 with the main.cf lines that the shell commands SETTINGS print
# (run once the certificates exist); with "sasl", its sasldb and SASL
# configuration first.
world_tls() {
	need_postfix
	need_tls_tools
	setup_e2e_world
	if ! make_pki; then
		not_ok "the test CA and certificates are made"
		finish
		exit 1
	fi
	if [ "${2:-}" = sasl ] && ! setup_sasl mx; then
		not_ok "the sasldb is made"
		finish
		exit 1
	fi
	if ! setup_postfix_with mx "192.0.2.2" "$(eval "$1")"; then
		not_ok "Postfix instance starts"
		finish
		exit 1
	fi
}

# The relay's name from the site, as in a real setup.
hosts_mx() {
	netns_hosts "127.0.0.1 localhost" \
		"192.0.2.2 mx.provider.example sni.provider.example"
}

# retries LOG: the backoffs etrnd logged.
retries() {
	count_lines "$1" "asking again for"
}

# log_has LOG PATTERN...: one line of LOG matches every (extended regex)
# PATTERN, case-insensitively.
log_has() {
	local log=$1
	shift
	[ -e "$log" ] || return 1
	awk -v pats="$(printf '%s\n' "$@")" '
	BEGIN { n = split(tolower(pats), p, "\n") }
	{
		l = tolower($0)
		for (i = 1; i <= n; i++)
			if (l !~ p[i])
				next
		found = 1
		exit
	}
	END { exit !found }' "$log"
}

# has TEXT REGEX / lacks TEXT REGEX: whether TEXT has a line matching.
has() {
	grep -qE -- "$2" <<<"$1"
}

lacks() {
	! grep -qE -- "$2" <<<"$1"
}

# not_given_up LOG: nothing was logged as a permanent refusal.
not_given_up() {
	[ "$(count_lines "$1" "not asking again")" -eq 0 ]
}

# The Postfix side on its own: what etrnd will meet, proved with smtplib.
scenario_harness() {
	local out
	world_tls "tls_settings mx; sasl_settings mx; sni_settings mx" sasl
	link_up
	hosts_mx
	write_password "$T/pw" "$SASL_PASSWORD"
	write_password "$T/bad" "$SASL_WRONG"

	out=$(probe 192.0.2.2 25 --ca "$PKI/ca.crt" --user "$SASL_USER" \
		--password-file "$T/pw" --etrn example.org)
	printf '%s\n' "$out" | sed 's/^/#   /'
	check "STARTTLS with the test CA, IP SAN 192.0.2.2: TLS 1.2 or 1.3" \
		grep -qE '^TLS TLSv1\.[23] ' <<<"$out"
	check "after TLS, AUTH PLAIN and LOGIN are offered" \
		grep -qE '^EHLO .*AUTH=.*PLAIN' <<<"$out"
	check "the right password: 235" grep -q '^AUTH 235 ' <<<"$out"
	check "ETRN after AUTH: 250 Queuing started" \
		grep -q '^ETRN 250 Queuing started' <<<"$out"
	check "Postfix logged the TLS connection" \
		test "$(tls_connections mx)" -ge 1

	out=$(probe 192.0.2.2 25 --ca "$PKI/ca.crt" --user "$SASL_USER" \
		--password-file "$T/bad" --etrn example.org)
	printf '%s\n' "$out" | sed 's/^/#   /'
	check "a wrong password: 535" \
		grep -q '^AUTH 535 5.7.8 Error: authentication failed' <<<"$out"
	check "ETRN without AUTH: 554" \
		grep -q '^ETRN 554 5.7.1 <example.org>: Etrn command rejected' <<<"$out"

	out=$(probe 192.0.2.2 25 --etrn example.org)
	printf '%s\n' "$out" | sed 's/^/#   /'
	check "in clear: STARTTLS offered" has "$out" '^EHLO .*STARTTLS'
	check "in clear: AUTH not offered (smtpd_tls_auth_only)" \
		lacks "$out" '^EHLO .*AUTH'
	check "in clear: ETRN rejected with 554" \
		grep -q '^ETRN 554 ' <<<"$out"

	out=$(probe mx.provider.example 25 --ca "$PKI/ca.crt" --etrn example.org)
	check "the name mx.provider.example (DNS SAN, from /etc/netns hosts)" \
		grep -qE '^TLS TLSv1' <<<"$out"
	out=$(probe 192.0.2.2 25 --ca "$PKI/ca.crt" --name sni.provider.example)
	check "SNI sni.provider.example: Postfix presents the sni certificate" \
		has "$out" '^TLS TLSv1'
	out=$(probe 192.0.2.2 25 --ca "$PKI/ca.crt" --name wrong.example)
	check "a name not in the certificate: hostname mismatch" \
		grep -qi '^ERROR STARTTLS .*hostname mismatch' <<<"$out"
	out=$(probe 192.0.2.2 25 --ca system)
	check "the system store does not know the test CA" \
		grep -q '^ERROR STARTTLS .*unable to get local issuer certificate' \
		<<<"$out"
}

# A certificate from the CA given as tls-ca: first the name, resolved in
# the site's namespace (checked against the DNS SAN), with the default tls
# (opportunistic); then the IP literal against the IP SAN, with tls =
# required; then sni.provider.example, a name only the certificate Postfix
# picks by SNI has: it works only if etrnd sends SNI.
scenario_tls_valid() {
	world_tls "tls_settings mx; sni_settings mx"
	require_etrnd_tls
	start_sink sink
	hosts_mx
	inject mx 10 name example.org sub.example.net
	check "10 messages deferred while the site is down" wait_deferred mx 10
	conf name <<CONF
[daemon]
watch = site0
settle = 0
helo = site.example

[relay isp]
host = mx.provider.example
domains = example.org sub.example.net
tls-ca = $PKI/ca.crt
CONF
	start_etrnd_e2e "$T/name.conf" "$T/name.log"
	link_up
	if wait_delivered sink 10 30 name; then
		ok "host = mx.provider.example: all 10 arrive"
	else
		not_ok "host = mx.provider.example: all 10 arrive ($(delivered sink))"
		show_on_failure "$T/name.log" "${PF_DIR[mx]}/maillog"
	fi
	check "Postfix logged an Anonymous TLS connection from the site" \
		grep -q "Anonymous TLS connection established from [^ ]*\[192\.0\.2\.1\]" \
		"${PF_DIR[mx]}/maillog"
	check "both ETRNs reached Postfix, after the handshake" \
		test "$(site_commands mx ETRN tls)" -eq 2
	check "no ETRN in clear" test "$(site_commands mx ETRN clear)" -eq 0
	check "etrnd sent EHLO again after TLS (2 EHLOs in the session)" \
		test "$(site_commands mx EHLO)" -eq 2
	check "etrnd logged 250 for both" eval \
		"grep -q 'ETRN example.org: 250 Queuing started' '$T/name.log' &&
		 grep -q 'ETRN sub.example.net: 250 Queuing started' '$T/name.log'"
	check "etrnd's trace shows STARTTLS" grep -q -- "-> STARTTLS" "$T/name.log"
	stop_etrnd
	check "Postfix closed its cached connections to the site" wait_site_idle

	link_down
	inject mx 10 ip example.org sub.example.net
	check "10 more deferred (site down again)" wait_deferred mx 10
	sed -e 's/^host = .*/host = 192.0.2.2/' -e '/^tls-ca/a tls = required' \
		"$T/name.conf" >"$T/ip.conf"
	start_etrnd_e2e "$T/ip.conf" "$T/ip.log"
	link_up
	if wait_delivered sink 10 30 ip; then
		ok "host = 192.0.2.2 (IP SAN), tls = required: all 10 arrive"
	else
		not_ok "host = 192.0.2.2 (IP SAN), tls = required: all 10 arrive"
		show_on_failure "$T/ip.log" "${PF_DIR[mx]}/maillog"
	fi
	check "two TLS sessions in all, all four ETRNs over TLS" \
		test "$(tls_connections mx)" -eq 2 -a \
		"$(site_commands mx ETRN tls)" -eq 4 -a \
		"$(site_commands mx ETRN clear)" -eq 0
	stop_etrnd
	check "Postfix closed its cached connections to the site" wait_site_idle

	link_down
	inject mx 10 sni example.org sub.example.net
	check "10 more deferred (site down again)" wait_deferred mx 10
	sed 's/^host = .*/host = sni.provider.example/' "$T/ip.conf" >"$T/sni.conf"
	start_etrnd_e2e "$T/sni.conf" "$T/sni.log"
	link_up
	if wait_delivered sink 10 30 sni; then
		ok "host = sni.provider.example: SNI sent, Postfix's SNI certificate verified, all 10 arrive"
	else
		not_ok "host = sni.provider.example: SNI sent, Postfix's SNI certificate verified, all 10 arrive"
		show_on_failure "$T/sni.log" "${PF_DIR[mx]}/maillog"
	fi
	check "Postfix's queue is empty" test "$(queue_total mx)" -eq 0
	stop_etrnd
}

# The server's certificate names another host (DNS:wrong.example only),
# asked for by name (relay byname: mx.provider.example, checked against
# the DNS SANs) and by address (relay byip: 192.0.2.2, checked against the
# IP SANs).  Even with the default tls = opportunistic, a failed
# verification is no reason to go on in clear: temporary failure, retried,
# no ETRN.  Then tls-verify = no: on, over TLS, with a warning at start.
scenario_tls_wrong_name() {
	local r what
	world_tls "tls_settings wrong"
	require_etrnd_tls
	start_sink sink
	hosts_mx
	inject mx 4 wrong example.org
	check "4 messages deferred" wait_deferred mx 4
	conf w <<CONF
[daemon]
watch = site0
settle = 0
retry-min = 1s
retry-max = 2s

[relay byname]
host = mx.provider.example
domains = example.org
tls-ca = $PKI/ca.crt

[relay byip]
host = 192.0.2.2
domains = example.org
tls-ca = $PKI/ca.crt
CONF
	start_etrnd_e2e "$T/w.conf" "$T/w.log"
	link_up
	for r in "byname:hostname" "byip:IP address"; do
		what="relay ${r%%:*}: a temporary failure: certificate verify failed (${r#*:} mismatch)"
		if wait_for 10 log_has "$T/w.log" "relay ${r%%:*}: " \
		    "temporary failure" "TLS handshake with 192\.0\.2\.2" \
		    "certificate verify failed \(${r#*:} mismatch\)"; then
			ok "$what"
		else
			not_ok "$what"
			show_on_failure "$T/w.log"
		fi
		echo "# $(grep -m1 "relay ${r%%:*}: .*temporary failure" "$T/w.log")"
	done
	sleep 4
	check "both retried as temporary" eval \
		"[ \$(grep -c 'relay byname: .*asking again for' '$T/w.log') -ge 2 ] &&
		 [ \$(grep -c 'relay byip: .*asking again for' '$T/w.log') -ge 2 ]"
	check "the retries reached Postfix (STARTTLS $(site_commands mx STARTTLS) times)" \
		test "$(site_commands mx STARTTLS)" -ge 4
	check "no ETRN reached Postfix, in clear or not" \
		test "$(etrn_any mx)" -eq 0
	check "no TLS session was completed" test "$(tls_connections mx)" -eq 0
	check "nothing delivered" test "$(delivered sink)" -eq 0
	check "not given up as refused" not_given_up "$T/w.log"
	stop_etrnd

	# tls-verify = no: by explicit choice, with a warning at start.
	sed -e '/^\[relay byip\]/,$d' -e '/^tls-ca/a tls-verify = no' \
		"$T/w.conf" >"$T/nv.conf"
	start_etrnd_e2e "$T/nv.conf" "$T/nv.log"
	check "tls-verify = no: all 4 arrive" wait_delivered sink 4 20
	check "tls-verify = no: the ETRN went over TLS" \
		test "$(site_commands mx ETRN tls)" -eq 1 -a \
		"$(site_commands mx ETRN clear)" -eq 0
	check "tls-verify = no: etrnd warned at start (before \"started\")" \
		eval "sed '/ started: /q' '$T/nv.log' | grep -qi 'tls-verify'"
	check "tls-verify = no: the session says the certificate was not verified" \
		log_has "$T/nv.log" "relay byname: " "not verified"
	stop_etrnd
}

# No tls-ca: the default store (the system's) does not know the test CA.
scenario_tls_unknown_ca() {
	world_tls "tls_settings mx"
	require_etrnd_tls
	start_sink sink
	hosts_mx
	inject mx 4 unknown example.org
	check "4 messages deferred" wait_deferred mx 4
	conf u <<CONF
[daemon]
watch = site0
settle = 0
retry-min = 1s
retry-max = 2s

[relay isp]
host = mx.provider.example
domains = example.org
CONF
	start_etrnd_e2e "$T/u.conf" "$T/u.log"
	link_up
	if wait_for 10 log_has "$T/u.log" "mx\.provider\.example|192\.0\.2\.2" \
	    "certificate verify failed" "unable to get local issuer certificate"; then
		ok "etrnd logs: certificate verify failed (unable to get local issuer certificate)"
	else
		not_ok "etrnd logs: certificate verify failed (unable to get local issuer certificate)"
		show_on_failure "$T/u.log"
	fi
	echo "# $(grep -m1 -i 'verify failed' "$T/u.log")"
	sleep 4
	check "retried as temporary ($(retries "$T/u.log") backoffs in 4 s)" \
		test "$(retries "$T/u.log")" -ge 2
	check "no ETRN reached Postfix" test "$(etrn_any mx)" -eq 0
	check "nothing delivered" test "$(delivered sink)" -eq 0
	stop_etrnd
}

# Postfix offers no STARTTLS; tls = opportunistic goes on in clear.
scenario_tls_fallback() {
	world_tls "no_tls_settings"
	require_etrnd_tls
	start_sink sink
	inject mx 10 fallback example.org sub.example.net
	check "10 messages deferred" wait_deferred mx 10
	conf f <<CONF
[daemon]
watch = site0
settle = 0

[relay isp]
host = 192.0.2.2
domains = example.org sub.example.net
tls = opportunistic
tls-ca = $PKI/ca.crt
CONF
	start_etrnd_e2e "$T/f.conf" "$T/f.log"
	link_up
	if wait_delivered sink 10 30; then
		ok "no STARTTLS offered, tls = opportunistic: all 10 arrive"
	else
		not_ok "no STARTTLS offered, tls = opportunistic: all 10 arrive"
		show_on_failure "$T/f.log" "${PF_DIR[mx]}/maillog"
	fi
	check "both ETRNs in clear" \
		test "$(site_commands mx ETRN clear)" -eq 2
	check "etrnd sent no STARTTLS" \
		test "$(site_commands mx STARTTLS)" -eq 0
	check "no TLS session" test "$(tls_connections mx)" -eq 0
	check "etrnd logged 250 for both" \
		test "$(count_lines "$T/f.log" ": 250 Queuing started")" -eq 2
	stop_etrnd
}

# tls = required: never ETRN in clear, whether STARTTLS is not offered
# (mx, 192.0.2.2) or offered and refused (mx454, 192.0.2.3: smtpd without
# tlsmgr answers "454 4.7.0 TLS not available due to local problem").
scenario_tls_required() {
	world_tls "no_tls_settings"
	require_etrnd_tls
	ip -n "$NS_PROV" addr add 192.0.2.3/24 dev prov0
	PF_NO_TLSMGR[mx454]=1
	if ! setup_postfix_with mx454 "192.0.2.3" "$(tls_settings mx)"; then
		not_ok "the second Postfix instance starts"
		return
	fi
	start_sink sink
	inject mx 4 req example.org
	inject mx454 4 req454 example.org
	check "4 + 4 messages deferred" \
		eval "wait_deferred mx 4 && wait_deferred mx454 4"
	conf r <<CONF
[daemon]
watch = site0
settle = 0
retry-min = 1s
retry-max = 2s

[relay plain]
host = 192.0.2.2
domains = example.org
tls = required
tls-ca = $PKI/ca.crt

[relay broken]
host = 192.0.2.3
domains = example.org
tls = required
tls-ca = $PKI/ca.crt
CONF
	start_etrnd_e2e "$T/r.conf" "$T/r.log"
	link_up
	if wait_for 10 log_has "$T/r.log" "relay plain" "temporary failure" \
	    "STARTTLS" "required"; then
		ok "no STARTTLS offered: etrnd says why (STARTTLS, tls = required)"
	else
		not_ok "no STARTTLS offered: etrnd says why (STARTTLS, tls = required)"
		show_on_failure "$T/r.log"
	fi
	echo "# $(grep -m1 'relay plain.*temporary failure' "$T/r.log")"
	if wait_for 10 log_has "$T/r.log" "relay broken" "temporary failure" \
	    "454" "STARTTLS" "4\.7\.0 TLS not available"; then
		ok "STARTTLS refused (454): a temporary failure with Postfix's reply"
	else
		not_ok "STARTTLS refused (454): a temporary failure with Postfix's reply"
		show_on_failure "$T/r.log"
	fi
	echo "# $(grep -m1 'relay broken.*temporary failure' "$T/r.log")"
	check "mx454 really refused STARTTLS" \
		grep -q "454 4.7.0 TLS not available" "${PF_DIR[mx454]}/maillog"
	sleep 4
	check "both retried as temporary" eval \
		"[ \$(grep -c 'relay plain.*asking again for' '$T/r.log') -ge 2 ] &&
		 [ \$(grep -c 'relay broken.*asking again for' '$T/r.log') -ge 2 ]"
	check "no ETRN reached either Postfix" \
		test "$(etrn_any mx)" -eq 0 -a "$(etrn_any mx454)" -eq 0
	check "nothing delivered" test "$(delivered sink)" -eq 0
	check "not given up as refused" not_given_up "$T/r.log"
	stop_etrnd
}

# The secondary relays to the site only for authenticated clients; AUTH
# after TLS with the right password.
auth_world() {
	world_tls "tls_settings mx; sasl_settings mx; printf '%s\\n' ${*@Q}" sasl
}

# auth_conf NAME PASSWORDFILE: etrnd's config for AUTH over TLS.
auth_conf() {
	conf "$1" <<CONF
[daemon]
watch = site0
settle = 0
retry-min = 1s
retry-max = 2s

[relay isp]
host = mx.provider.example
domains = example.org sub.example.net
tls-ca = $PKI/ca.crt
auth-user = $SASL_USER
auth-password-file = $2
CONF
}

# auth_flush MECH: AUTH MECH over TLS, then both domains are flushed.
auth_flush() {
	local mech=$1 tag=$2
	start_sink sink
	hosts_mx
	inject mx 10 "$tag" example.org sub.example.net
	check "10 messages deferred" wait_deferred mx 10
	write_password "$T/pw" "$SASL_PASSWORD"
	auth_conf a "$T/pw"
	start_etrnd_e2e "$T/a.conf" "$T/a.log"
	link_up
	if wait_delivered sink 10 30; then
		ok "AUTH $mech over TLS: all 10 arrive"
	else
		not_ok "AUTH $mech over TLS: all 10 arrive ($(delivered sink))"
		show_on_failure "$T/a.log" "${PF_DIR[mx]}/maillog"
	fi
	check "etrnd logged 250 for both" \
		test "$(count_lines "$T/a.log" ": 250 Queuing started")" -eq 2
	check "AUTH $mech sent once, after the TLS handshake" \
		test "$(site_commands mx AUTH tls)" -eq 1 -a \
		"$(site_commands mx AUTH clear)" -eq 0
	check "Postfix: one session with STARTTLS, AUTH and both ETRNs" \
		grep -qE "disconnect from [^ ]*\[192\.0\.2\.1\] ehlo=2 starttls=1 auth=1 etrn=2 quit=1" \
		"${PF_DIR[mx]}/maillog"
	if [ "$mech" = PLAIN ]; then
		check "the -v trace shows \"-> AUTH PLAIN (credentials hidden)\"" \
			grep -q -- "-> AUTH PLAIN (credentials hidden)$" "$T/a.log"
	else
		check "the -v trace shows \"-> AUTH LOGIN\", then the user name and password hidden" \
			test "$(count_lines "$T/a.log" "-> AUTH LOGIN$")" -eq 1 -a \
			"$(count_lines "$T/a.log" "-> (credentials hidden)$")" -eq 2
	fi
	check "etrnd's log holds neither the password nor its base64 forms" \
		no_secret_in "$T/a.log" "$SASL_PASSWORD"
	stop_etrnd
}

scenario_auth_ok() {
	auth_world
	require_etrnd_tls
	auth_flush PLAIN authok
	# Postfix's own peer debugging (debug_peer_list) logs the response
	# etrnd sent: authzid empty, authcid, password.
	check "the AUTH PLAIN response was \\0$SASL_USER\\0<password>" \
		test "$(auth_plain_blobs mx)" = "^@$SASL_USER^@$SASL_PASSWORD"
	# Control for the secret checks: the same search does find it where
	# it is (Postfix's peer debugging logs the AUTH line).
	check "(control: the secret search finds the response in Postfix's maillog)" \
		eval "! no_secret_in '${PF_DIR[mx]}/maillog' '$SASL_PASSWORD' >/dev/null"
}

# Only LOGIN offered (smtpd_sasl_mechanism_filter).
scenario_auth_login() {
	auth_world "smtpd_sasl_mechanism_filter = login"
	require_etrnd_tls
	auth_flush LOGIN authlogin
	check "Postfix offered only LOGIN" \
		grep -qE "> [^ ]*\[192\.0\.2\.1\]: 250-AUTH LOGIN$" \
		"${PF_DIR[mx]}/maillog"
}

# A wrong password: 535 is the server's final word on these credentials.
scenario_auth_wrong() {
	auth_world
	require_etrnd_tls
	start_sink sink
	hosts_mx
	inject mx 4 wrongpw example.org
	check "4 messages deferred" wait_deferred mx 4
	write_password "$T/bad" "$SASL_WRONG"
	auth_conf b "$T/bad"
	start_etrnd_e2e "$T/b.conf" "$T/b.log"
	link_up
	if wait_for 10 log_has "$T/b.log" "refused" "535" \
	    "5\.7\.8 Error: authentication failed"; then
		ok "535: logged as refused with Postfix's full text"
	else
		not_ok "535: logged as refused with Postfix's full text"
		show_on_failure "$T/b.log"
	fi
	echo "# $(grep -m1 'refused: 535' "$T/b.log")"
	sleep 5
	check "not retried: one AUTH at Postfix in 5 s ($(site_commands mx AUTH))" \
		test "$(site_commands mx AUTH)" -eq 1
	check "no retry was armed" test "$(retries "$T/b.log")" -eq 0
	check "no ETRN after the failed AUTH" test "$(etrn_any mx)" -eq 0
	check "nothing delivered" test "$(delivered sink)" -eq 0
	check "etrnd's log holds neither password" eval \
		"no_secret_in '$T/b.log' '$SASL_WRONG' &&
		 no_secret_in '$T/b.log' '$SASL_PASSWORD'"
	stop_etrnd
}

# tls = no with AUTH and auth-cleartext = no: a config error.  Then a
# server that offers AUTH in clear (no TLS, smtpd_tls_auth_only = no):
# opportunistic TLS finds no STARTTLS and etrnd still sends no AUTH;
# auth-cleartext = yes does.
scenario_auth_no_tls() {
	local out rc
	need_postfix
	need_tls_tools
	write_password "$T/pw" "$SASL_PASSWORD"
	conf n <<CONF
[daemon]
watch = site0

[relay isp]
host = 192.0.2.2
domains = example.org
tls = no
auth-user = $SASL_USER
auth-password-file = $T/pw
CONF
	out=$("$ETRND" -t -c "$T/n.conf" 2>&1)
	rc=$?
	echo "# etrnd -t: $out"
	check "etrnd -t refuses tls = no with AUTH: exit 78 (got $rc)" test "$rc" -eq 78
	check "the message names the file and the auth-user line" \
		grep -qF "$T/n.conf:8: " <<<"$out"
	check "the message says AUTH needs TLS" grep -qi "AUTH needs TLS" <<<"$out"
	setup_e2e_world
	ip netns exec "$NS_SITE" timeout 10 "$ETRND" -v -c "$T/n.conf" \
		>"$T/n.log" 2>&1
	rc=$?
	check "etrnd itself refuses to start: exit 78 (got $rc)" test "$rc" -eq 78
	check "... with the same file:line message" \
		grep -qF "$T/n.conf:8: " "$T/n.log"

	make_pki || { not_ok "the test CA is made"; return; }
	setup_sasl mx || { not_ok "the sasldb is made"; return; }
	if ! setup_postfix_with mx "192.0.2.2" "$(no_tls_settings;
	    sasl_settings mx | sed 's/^\(smtpd_tls_auth_only =\).*/\1 no/')"; then
		not_ok "Postfix instance starts"
		return
	fi
	start_sink sink
	inject mx 4 notls example.org
	check "4 messages deferred" wait_deferred mx 4
	link_up
	out=$(probe 192.0.2.2 25)
	check "(Postfix offers AUTH in clear)" has "$out" '^EHLO .*AUTH'
	check "(and no STARTTLS)" lacks "$out" 'STARTTLS'
	sed -e 's/^tls = no/tls = opportunistic/' -e '/^watch/a settle = 0' \
		"$T/n.conf" >"$T/o.conf"
	start_etrnd_e2e "$T/o.conf" "$T/o.log"
	if wait_for 10 log_has "$T/o.log" "ETRN example.org" "554"; then
		ok "tls = opportunistic, no TLS to be had: ETRN without AUTH, 554"
	else
		not_ok "tls = opportunistic, no TLS to be had: ETRN without AUTH, 554"
		show_on_failure "$T/o.log"
	fi
	check "no AUTH reached Postfix" test "$(site_commands mx AUTH)" -eq 0
	check "etrnd says why it sent no credentials" \
		log_has "$T/o.log" "without TLS|cleartext"
	echo "# $(grep -m1 -iE 'without TLS|cleartext' "$T/o.log")"
	check "nothing delivered" test "$(delivered sink)" -eq 0
	stop_etrnd

	sed '/^auth-password-file/a auth-cleartext = yes' "$T/o.conf" >"$T/c.conf"
	start_etrnd_e2e "$T/c.conf" "$T/c.log"
	check "auth-cleartext = yes: AUTH in clear, 4 arrive" \
		wait_delivered sink 4 20
	check "auth-cleartext = yes: one AUTH, in clear" \
		test "$(site_commands mx AUTH clear)" -eq 1
	check "auth-cleartext = yes: etrnd warned at start (before \"started\")" \
		eval "sed '/ started: /q' '$T/c.log' | grep -qi 'auth-cleartext'"
	check "etrnd's log holds no password" no_secret_in "$T/c.log" "$SASL_PASSWORD"
	stop_etrnd
}

# The password file: only its owner (etrnd's user or root) may read it.
scenario_password_file() {
	local out rc mode
	[ "$(id -u)" -eq 0 ] || skip "needs root (chown of the password file)"
	write_password "$T/pw" "$SASL_PASSWORD"
	conf p <<CONF
[daemon]
watch = site0

[relay isp]
host = 192.0.2.2
domains = example.org
auth-user = $SASL_USER
auth-password-file = $T/pw
CONF
	for mode in 644 640 604 660; do
		chmod "$mode" "$T/pw"
		out=$("$ETRND" -t -c "$T/p.conf" 2>&1)
		rc=$?
		check "mode $mode: etrnd -t exits 78 (got $rc)" test "$rc" -eq 78
		check "mode $mode: the message names file:line and the password file" \
			eval "grep -qF '$T/p.conf:8: ' <<<\"\$out\" &&
			    grep -qF '$T/pw' <<<\"\$out\""
	done
	echo "# $(head -1 <<<"$out")"
	chmod 600 "$T/pw"
	out=$("$ETRND" -t -c "$T/p.conf" 2>&1)
	rc=$?
	check "mode 600, owned by root: etrnd -t accepts it (got $rc)" test "$rc" -eq 0
	check "etrnd -t does not print the password" \
		no_secret_in <(printf '%s\n' "$out") "$SASL_PASSWORD"
	chown nobody "$T/pw"
	out=$("$ETRND" -t -c "$T/p.conf" 2>&1)
	rc=$?
	check "mode 600 but owned by nobody: exit 78 (got $rc)" test "$rc" -eq 78
	check "... naming the owner" grep -qiE "uid|owner|belongs" <<<"$out"
	echo "# $(head -1 <<<"$out")"
	chown root "$T/pw"
	: >"$T/pw"
	out=$("$ETRND" -t -c "$T/p.conf" 2>&1)
	rc=$?
	check "an empty password file: exit 78 (got $rc)" test "$rc" -eq 78
}

# The provider's submission services (587, 465) beside port 25, 10
# messages for example.org deferred at mx, the site's link up and its sink
# listening.  Port 25 itself is not what these scenarios use.
submission_world() {
	world_tls "tls_settings mx; sasl_settings mx" sasl
	require_etrnd_tls
	if ! submission_services mx; then
		not_ok "Postfix's submission services 587 and 465 start"
		show_on_failure "$T/mx.check" "${PF_DIR[mx]}/maillog"
		finish
		exit 1
	fi
	start_sink sink
	hosts_mx
	inject mx 10 "$1" example.org
	check "10 messages deferred" wait_deferred mx 10
	link_up
	write_password "$T/pw" "$SASL_PASSWORD"
}

# once_conf NAME PORT TLS [auth]: etrnd's configuration for one relay on
# PORT with tls = TLS, with AUTH or without.
once_conf() {
	{
		printf '%s\n' "[daemon]" "connect-timeout = 10s" \
		    "reply-timeout = 10s" "" "[relay isp]" \
		    "host = mx.provider.example" "port = $2" "tls = $3" \
		    "tls-ca = $PKI/ca.crt" "domains = example.org"
		if [ "${4:-}" = auth ]; then
			printf '%s\n' "auth-user = $SASL_USER" \
			    "auth-password-file = $T/pw"
		fi
	} | conf "$1"
}

# once NAME: etrnd --once -v in the site namespace; sets RC.
once() {
	ip netns exec "$NS_SITE" "$ETRND" --once -v -c "$T/$1.conf" \
		>"$T/$1.out" 2>"$T/$1.log"
	RC=$?
	sed 's/^/#   /' "$T/$1.out"
}

# The refusal without AUTH, on SERVICE at PORT with TLS: the session was
# there (TLS, EHLO), Postfix said 554, etrnd classified it as refused.
refused_without_auth() {
	local service=$1 port=$2 tls=$3 pattern=$4
	once_conf "no$service" "$port" "$tls"
	once "no$service"
	check "$service without AUTH: exit 1, refused" test "$RC" -eq 1
	check "... Postfix's 554 on the result line, classified as refused" \
		grep -q "^isp example.org refused 554 5.7.1 <example.org>: Etrn command rejected: Access denied" \
		"$T/no$service.out"
	check "... the session ended at $service: $pattern" \
		test "$(service_sessions mx "$service" "$pattern")" -eq 1
	check "... nothing delivered" test "$(delivered sink)" -eq 0
}

# With AUTH, on SERVICE at PORT with TLS: flushed, in one session at
# SERVICE whose command counts are PATTERN; no secret in etrnd's log.
flushed_with_auth() {
	local service=$1 port=$2 tls=$3 pattern=$4
	once_conf "$service" "$port" "$tls" auth
	once "$service"
	check "$service with tls = $tls and AUTH: exit 0" test "$RC" -eq 0
	check "... the result line" grep -qx "isp example.org ok 250 Queuing started" "$T/$service.out"
	if wait_delivered sink 10 30; then
		ok "... all 10 messages arrive"
	else
		not_ok "... all 10 messages arrive ($(delivered sink))"
		show_on_failure "$T/$service.log" "${PF_DIR[mx]}/maillog"
	fi
	check "... one session at $service: $pattern" \
		test "$(service_sessions mx "$service" "$pattern")" -eq 1
	check "... etrnd's log holds neither the password nor its base64 forms" \
		no_secret_in "$T/$service.log" "$SASL_PASSWORD"
}

# Port 25 blocked: submission (587), STARTTLS required, AUTH.
scenario_submission() {
	submission_world sub
	refused_without_auth submission 587 required \
		"ehlo=2 starttls=1 etrn=0/1 quit=1"
	flushed_with_auth submission 587 required \
		"ehlo=2 starttls=1 auth=1 etrn=1 quit=1"
	check "... no connection to port 25 from the site" \
		test "$(count_lines "${PF_DIR[mx]}/maillog" "postfix/smtpd\[[0-9]*\]: connect from [^ ]*\[192\.0\.2\.1\]")" -eq 0
}

# Port 25 blocked: smtps (465, implicit TLS), AUTH; then etrn(1).
scenario_smtps() {
	submission_world smtps
	refused_without_auth smtps 465 implicit "ehlo=1 etrn=0/1 quit=1"
	flushed_with_auth smtps 465 implicit "ehlo=1 auth=1 etrn=1 quit=1"
	check "... TLS set up by the smtps service (wrapper mode: before the greeting)" \
		grep -qE "postfix/smtps/smtpd\[[0-9]*\]: (Anonymous|Trusted|Untrusted|Verified) TLS connection established from [^ ]*\[192\.0\.2\.1\]" \
		"${PF_DIR[mx]}/maillog"
	check "... etrnd traced no STARTTLS" bash -c "! grep -q -- '-> STARTTLS' '$T/smtps.log'"
	if [ -n "${ETRN:-}" ] && [ -x "$ETRN" ]; then
		ip netns exec "$NS_SITE" "$ETRN" -p 465 --tls implicit \
			--tls-ca "$PKI/ca.crt" --user "$SASL_USER" \
			--password-file "$T/pw" mx.provider.example example.org \
			>"$T/etrn.out" 2>&1
		RC=$?
		sed 's/^/#   /' "$T/etrn.out"
		check "etrn(1) --tls implicit --user at smtps: exit 0" test "$RC" -eq 0
		check "... the result line" grep -qx "example.org ok 250 Queuing started" "$T/etrn.out"
		check "... a second session at smtps with AUTH and ETRN" \
			test "$(service_sessions mx smtps "ehlo=1 auth=1 etrn=1 quit=1")" -eq 2
	fi
}

case $1 in
harness) scenario_harness ;;
tls-valid) scenario_tls_valid ;;
tls-wrong-name) scenario_tls_wrong_name ;;
tls-unknown-ca) scenario_tls_unknown_ca ;;
tls-fallback) scenario_tls_fallback ;;
tls-required) scenario_tls_required ;;
auth-ok) scenario_auth_ok ;;
auth-login) scenario_auth_login ;;
auth-wrong) scenario_auth_wrong ;;
auth-no-tls) scenario_auth_no_tls ;;
password-file) scenario_password_file ;;
submission) scenario_submission ;;
smtps) scenario_smtps ;;
*) echo "unknown scenario $1; one of: ${SCENARIOS[*]}" >&2; exit 2 ;;
esac
finish
