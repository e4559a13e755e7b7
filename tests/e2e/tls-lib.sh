# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# Helpers for the STARTTLS and AUTH end-to-end tests (tls.sh): a throwaway
# CA and server certificates made with the openssl CLI, Postfix instances
# with TLS and/or Cyrus SASL (a sasldb made by the test), and smtplib
# probes that prove the Postfix side without etrnd.  Builds on lib.sh.
#
# Everything lives under $T: $T/pki for the CA and certificates, and
# $T/NAME/sasl (smtpd.conf) plus $T/NAME/sasldb2 for an instance's SASL.
#
# Why Cyrus and not Dovecot: Debian's Postfix is built with Cyrus SASL
# (postconf -a lists it), libsasl2-modules (PLAIN, LOGIN) and
# libsasl2-modules-db (sasldb) come with it, and with
# "pwcheck_method: auxprop" the smtpd process checks the password itself
# against a file the test writes with saslpasswd2 (package sasl2-bin):
# no daemon to start, no socket, nothing outside $T.  Dovecot would need
# its own auth daemon, configuration tree and socket in the queue.

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROBE="$E2E_DIR/smtp-probe.py"
PKI=$T/pki

# SASL account at the secondary, and the site's password.
SASL_USER=etrnsite
SASL_PASSWORD='S3cret-etrn-Pa55'
# shellcheck disable=SC2034 # used by tls.sh
SASL_WRONG='not-the-password'

# need_tls_tools: the openssl CLI, saslpasswd2 and Cyrus' PLAIN/LOGIN and
# sasldb plugins, else skip (77) naming the Debian packages.
need_tls_tools() {
	command -v openssl >/dev/null || skip "needs the Debian package openssl"
	command -v saslpasswd2 >/dev/null ||
		skip "needs the Debian package sasl2-bin (saslpasswd2)"
	local m
	for m in plain login sasldb; do
		compgen -G "/usr/lib/*/sasl2/lib$m.so*" >/dev/null ||
			skip "needs the Cyrus SASL $m plugin (Debian packages" \
			    "libsasl2-modules, libsasl2-modules-db)"
	done
	postconf -a 2>/dev/null | grep -qx cyrus ||
		skip "this Postfix has no Cyrus SASL server support"
}

# Postfix's smtpd gets its TLS PRNG seed from tlsmgr ("no entropy for TLS
# key generation: disabling TLS support" without it), which lib.sh's
# master.cf leaves out: every instance these tests start gets it added
# before it starts, and its SNI map (sni_settings) is built.  (Wraps lib.sh's start_postfix, which setup_postfix
# calls.)
# PF_NO_TLSMGR[NAME]=1 leaves it out: that instance offers STARTTLS and
# answers it with "454 4.7.0 TLS not available due to local problem".
declare -A PF_NO_TLSMGR
eval "lib_start_postfix() $(declare -f start_postfix | sed 1d)"
start_postfix() {
	local mc=${PF_DIR[$1]}/master.cf
	[ -n "${PF_NO_TLSMGR[$1]:-}" ] || grep -q '^tlsmgr ' "$mc" ||
		echo 'tlsmgr    unix  -       -       n       1000?   1       tlsmgr' >>"$mc"
	if [ -e "${PF_DIR[$1]}/sni" ]; then
		pf "$1" postmap -F "hash:${PF_DIR[$1]}/sni" || return 1
	fi
	lib_start_postfix "$@"
}

# make_ca: $PKI/ca.key and $PKI/ca.crt, a throwaway CA (P-256, 2 days).
make_ca() {
	mkdir -p "$PKI"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$PKI/ca.key" -out "$PKI/ca.crt" -days 2 \
		-subj "/O=etrnd tests/CN=etrnd throwaway test CA $$" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		>"$PKI/openssl.log" 2>&1 || { cat "$PKI/openssl.log"; return 1; }
}

# make_cert NAME CN SAN: $PKI/NAME.key and $PKI/NAME.crt for a server,
# signed by the CA; SAN as for openssl ("DNS:a.example,IP:192.0.2.2").
make_cert() {
	local name=$1 cn=$2 san=$3
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$PKI/$name.key" -out "$PKI/$name.csr" -subj "/CN=$cn" \
		>>"$PKI/openssl.log" 2>&1 || { cat "$PKI/openssl.log"; return 1; }
	printf '%s\n' "subjectAltName=$san" \
		"basicConstraints=critical,CA:FALSE" \
		"keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=serverAuth" >"$PKI/$name.ext"
	openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" \
		-CAkey "$PKI/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
		-days 2 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" \
		>>"$PKI/openssl.log" 2>&1 || { cat "$PKI/openssl.log"; return 1; }
	chmod 600 "$PKI/$name.key"
}

# make_pki: the CA, the right certificate (mx: DNS:mx.provider.example and
# IP:192.0.2.2) and the wrong one (wrong: DNS:wrong.example only).
make_pki() {
	make_ca &&
	make_cert mx mx.provider.example \
		"DNS:mx.provider.example,IP:192.0.2.2,IP:2001:db8::2" &&
	make_cert wrong wrong.example "DNS:wrong.example" &&
	make_cert sni sni.provider.example "DNS:sni.provider.example"
}

# tls_settings CERT: main.cf settings for STARTTLS offered with $PKI/CERT.
# loglevel 1 logs "Anonymous TLS connection established from ...".
tls_settings() {
	printf '%s\n' \
		"smtpd_tls_cert_file = $PKI/$1.crt" \
		"smtpd_tls_key_file = $PKI/$1.key" \
		"smtpd_tls_security_level = may" \
		"smtpd_tls_loglevel = 1" \
		"smtpd_tls_received_header = yes"
}

# sni_settings NAME: instance NAME presents $PKI/sni.crt (DNS:
# sni.provider.example only) to a client that sends that name as SNI, and
# its default certificate to any other: a session that verifies
# sni.provider.example works only if the client sent SNI.
sni_settings() {
	local dir=$T/$1
	mkdir -p "$dir"
	cat "$PKI/sni.key" "$PKI/sni.crt" >"$PKI/sni.pem"
	printf 'sni.provider.example %s\n' "$PKI/sni.pem" >"$dir/sni"
	# (start_postfix builds the map, with the instance's own main.cf.)
	printf '%s\n' "tls_server_sni_maps = hash:$dir/sni"
}

# no_tls_settings: STARTTLS not offered at all.
no_tls_settings() {
	printf '%s\n' "smtpd_tls_security_level = none"
}

# setup_sasl NAME: $T/NAME/sasl/smtpd.conf and $T/NAME/sasldb2 with
# $SASL_USER (realm NAME.provider.example, the instance's myhostname,
# which Postfix hands Cyrus as the default realm).  smtpd runs as postfix
# and reads the sasldb per AUTH.
setup_sasl() {
	local dir=$T/$1
	mkdir -p "$dir/sasl"
	cat >"$dir/sasl/smtpd.conf" <<SASLCONF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $dir/sasldb2
SASLCONF
	printf '%s' "$SASL_PASSWORD" |
		saslpasswd2 -p -c -f "$dir/sasldb2" -u "$1.provider.example" \
		"$SASL_USER" || return 1
	chown postfix "$dir/sasldb2"
	chmod 600 "$dir/sasldb2"
}

# sasl_settings NAME: main.cf settings for Cyrus SASL from setup_sasl, AUTH
# only after STARTTLS, and ETRN only for authenticated clients.
sasl_settings() {
	printf '%s\n' \
		"smtpd_sasl_auth_enable = yes" \
		"smtpd_sasl_type = cyrus" \
		"smtpd_sasl_path = smtpd" \
		"cyrus_sasl_config_path = $T/$1/sasl" \
		"smtpd_sasl_security_options = noanonymous" \
		"smtpd_tls_auth_only = yes" \
		"smtpd_etrn_restrictions = permit_sasl_authenticated, reject"
}

# setup_postfix_with NAME "ADDRS" SETTINGS: setup_postfix with the main.cf
# lines in SETTINGS (one per line, as the *_settings functions print).
setup_postfix_with() {
	local name=$1 addrs=$2 line
	local -a kv=()
	while IFS= read -r line; do
		[ -n "$line" ] && kv+=("${line%% = *}=${line#* = }")
	done <<<"$3"
	setup_postfix "$name" "$addrs" "${kv[@]}"
}

# probe ARGS...: smtp-probe.py from the site namespace (as etrnd would
# connect), output on stdout.
probe() {
	ip netns exec "$NS_SITE" python3 "$PROBE" "$@" 2>&1
}

# write_password FILE PASSWORD [MODE]: the site's password file.
write_password() {
	printf '%s\n' "$2" >"$1"
	chmod "${3:-600}" "$1"
}

# etrnd_has_tls: the etrnd under test can speak STARTTLS: it links
# OpenSSL (through libevent's bufferevent_openssl).
etrnd_has_tls() {
	ldd "$ETRND" 2>/dev/null | grep -q 'libssl\.so'
}

# require_etrnd_tls: fail the scenario clearly when etrnd cannot do TLS.
require_etrnd_tls() {
	if ! etrnd_has_tls; then
		not_ok "etrnd has no STARTTLS support yet ($ETRND)"
		finish
		exit 1
	fi
}

# tls_connections NAME: TLS sessions the instance's smtpd logged from the
# site.
tls_connections() {
	count_lines "${PF_DIR[$1]}/maillog" \
		"TLS connection established from [^ ]*\[192\.0\.2\.1\]"
}

# etrn_any NAME: ETRN commands of any argument the instance logged.
etrn_any() {
	count_lines "${PF_DIR[$1]}/maillog" "< [^ ]*: ETRN "
}

# b64 STRING: base64 of STRING (no newline), for the secret checks.
b64() {
	printf '%s' "$1" | base64 -w0
}

# site_commands NAME CMD [clear|tls]: commands CMD (the first word, any
# case) the instance's smtpd logged from the site (debug_peer_list), all of
# them or only those sent in clear / after the TLS handshake of their
# session.
site_commands() {
	local f=${PF_DIR[$1]}/maillog
	[ -e "$f" ] || { echo 0; return; }
	awk -v cmd="$2" -v want="${3:-all}" '
	match($0, /postfix\/smtpd\[[0-9]+\]: /) {
		pid = substr($0, RSTART, RLENGTH)
		msg = substr($0, RSTART + RLENGTH)
		if (msg ~ /^connect from [^ ]*\[192\.0\.2\.1\]/)
			tls[pid] = 0
		else if (msg ~ /TLS connection established from [^ ]*\[192\.0\.2\.1\]/)
			tls[pid] = 1
		else if (msg ~ /^< [^ ]*\[192\.0\.2\.1\]: /) {
			split(msg, w, " ")
			if (toupper(w[3]) != toupper(cmd))
				next
			if (want == "all" || (want == "tls") == (tls[pid] == 1))
				n++
		}
	}
	END { print n + 0 }' "$f"
}

# auth_plain_blobs NAME: the decoded AUTH PLAIN initial responses the
# instance logged from the site, NULs shown as "^@".
auth_plain_blobs() {
	local b
	grep -o '< [^ ]*\[192\.0\.2\.1\]: AUTH PLAIN [A-Za-z0-9+/=]*' \
		"${PF_DIR[$1]}/maillog" 2>/dev/null | awk '{print $5}' |
		while read -r b; do
			printf '%s' "$b" | base64 -d | cat -v
			echo
		done
}

# no_secret_in FILE PASSWORD: FILE holds neither PASSWORD nor any base64
# form of it etrnd could send (alone, as for AUTH LOGIN; in the PLAIN
# response).
no_secret_in() {
	local f=$1 pw=$2 form
	for form in "$pw" "$(b64 "$pw")" \
	    "$(printf '\0%s\0%s' "$SASL_USER" "$pw" | base64 -w0)"; do
		if grep -qF -- "$form" "$f"; then
			echo "# $f contains \"$form\""
			return 1
		fi
	done
}

# submission_services NAME: the provider's submission services, as
# etrnd.conf(5) EXAMPLES shows them, added to the instance's master.cf
# (reloaded): 587 with STARTTLS required and 465 with implicit TLS
# (smtpd_tls_wrappermode), both with SASL and ETRN only for authenticated
# clients.  Logged as postfix/submission and postfix/smtps.  True once
# both ports accept connections.
submission_services() {
	cat >>"${PF_DIR[$1]}/master.cf" <<'MASTERCF'
587       inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_etrn_restrictions=permit_sasl_authenticated,reject
465       inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_etrn_restrictions=permit_sasl_authenticated,reject
MASTERCF
	pf "$1" postfix reload >>"$T/$1.check" 2>&1 || return 1
	wait_for 15 port_open "${PF_INJECT[$1]}" 587 &&
		wait_for 15 port_open "${PF_INJECT[$1]}" 465
}

# port_open ADDRESS PORT: something in the provider accepts TCP there.
port_open() {
	ip netns exec "$NS_PROV" python3 -c '
import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1)' \
		"$1" "$2" 2>/dev/null
}

# service_sessions NAME SERVICE PATTERN: the instance's SERVICE smtpd
# (syslog_name postfix/SERVICE) logged a site session's end with PATTERN
# (its command counts before the total, "ehlo=2 starttls=1 auth=1 etrn=1
# quit=1").
service_sessions() {
	count_lines "${PF_DIR[$1]}/maillog" \
		"postfix/$2/smtpd\[[0-9]*\]: disconnect from [^ ]*\[192\.0\.2\.1\] $3 commands="
}
