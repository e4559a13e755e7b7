#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# etrnd end to end against a real Sendmail 8.17 secondary MX (Debian's
# package, unpacked, never installed: see mta-lib.sh).  Mail for the site's
# ten domains is queued at Sendmail while the site's link is down; etrnd
# must get it delivered at link-up.
#
#   basic     ten domains written plainly: etrnd's 7-per-session split
#             keeps Sendmail from tarpitting (from its 8th ETRN in one
#             session it sleeps 1 s, 2 s, 4 s ...)
#   refusals  "#unknownqueue" (459 4.5.4 Queue unknownqueue unknown: '#'
#             names a queue group) and ETRN disabled (PrivacyOptions
#             noetrn: 502 5.7.0 Sorry, we do not allow this operation)
#
# usage: sendmail.sh [SCENARIO...]; N=... messages (default 20).  Needs
# root, namespaces, m4 and Debian's sendmail packages (downloaded once),
# else exits 77.
SCENARIOS=(basic refusals)

if [ $# -eq 0 ]; then
	. "$(dirname "$0")/scenarios.sh"
	run_scenarios "$0" "${SCENARIOS[@]}"
	exit
fi

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=mta-lib.sh
. "$(dirname "$0")/mta-lib.sh"
need_sendmail

N=${N:-20}
# Ten domains, none a substring of another (Sendmail's ETRN matches
# recipient addresses by substring).
DOMAINS="d0.example d1.example d2.example d3.example d4.example"
DOMAINS+=" d5.example d6.example d7.example d8.example d9.example"

# What etrnd logs for each refusal (issue 12 section 3: refused, not
# asked again, with Sendmail's hint).
UNKNOWN_LOG='relay isp: ETRN #unknownqueue refused: 459 4.5.4 Queue unknownqueue unknown (Sendmail:'
NOETRN_LOG='relay off: ETRN d0.example refused: 502 5.7.0 Sorry, we do not allow this operation (Sendmail: ETRN is disabled there'

# sendmail_world NAME ADDRESS [PRIVACY]: namespaces, the site's sink
# (once) and a Sendmail instance (else the test ends).
sendmail_world() {
	if [ -z "${NS_SITE:-}" ]; then
		setup_e2e_world
		start_sink sink
	fi
	if ! setup_sendmail "$1" "$2" "$DOMAINS" "${3:-}"; then
		not_ok "Sendmail instance $1 starts"
		show_on_failure "${MTA_DIR[$1]}/stdout" "${MTA_DIR[$1]}/traffic"
		finish
		exit 1
	fi
	echo "# $1: $(mta_versions sendmail)"
}

# etrnd_exits_cleanly: SIGTERM; exit status 0 (a sanitizer report is not).
etrnd_exits_cleanly() {
	local rc
	kill "$ETRND_PID" 2>/dev/null
	wait "$ETRND_PID" 2>/dev/null
	rc=$?
	check "etrnd exits 0 at SIGTERM (got $rc)" test "$rc" -eq 0
}

# 1. Ten domains, plainly: two sessions (7 + 3), no tarpit, all delivered.
scenario_basic() {
	local t0 first last ids d n=0 e
	sendmail_world sm 192.0.2.2
	# shellcheck disable=SC2086
	mta_inject sm "$N" basic $DOMAINS
	check "$N messages queued and tried once at Sendmail while the site is down" \
		sendmail_wait_deferred sm "$N" 30
	check "nothing reached the site yet" test "$(delivered sink)" -eq 0
	conf s <<CONF
[daemon]
watch = site0
settle = 0
helo = site.example

[relay isp]
host = 192.0.2.2
domains = $DOMAINS
CONF
	start_etrnd_e2e "$T/s.conf" "$T/s.log"
	t0=$EPOCHREALTIME
	link_up
	if mta_delivered "$N" 60; then
		first=$(ms_between "$t0" "$(awk 'NR == 1 {print $1}' "$T/sink.log")")
		last=$(ms_between "$t0" "$(last_delivery sink)")
		ok "link-up: all $N messages for the ten domains arrive"
		echo "# sendmail, 10 domains: link-up -> first message $first ms, last $last ms (N=$N)"
	else
		not_ok "link-up: all $N messages arrive ($(delivered sink) did)"
		show_on_failure "$T/s.log" "${MTA_DIR[sm]}/traffic"
	fi
	ids=$(awk '{print $3}' "$T/sink.log" | sort -u | wc -l)
	check "each message exactly once ($ids distinct, $(delivered sink) lines)" \
		test "$ids" -eq "$N" -a "$(delivered sink)" -eq "$N"
	check "Sendmail's queue is empty" \
		wait_until 10 eval "[ \"\$(sendmail_queue sm)\" -eq 0 ]"
	for d in $DOMAINS; do
		grep -q "relay isp: ETRN $d: 250 2.0.0 Queuing for node $d started" \
			"$T/s.log" && n=$((n + 1))
	done
	check "etrnd logged Sendmail's 250 for each of the 10 domains ($n)" \
		test "$n" -eq 10
	e=$(sendmail_etrns sm)
	echo "# ETRNs per session at Sendmail: $e"
	check "Sendmail got them in two sessions of 3 and 7 ETRNs (got: $e)" \
		test "$e" = "3 7"
	check "no 421 4.7.0 (too many bad commands) from Sendmail" \
		test "$(grep -c '>>> 421 4.7.0' "${MTA_DIR[sm]}/traffic")" -eq 0
	etrnd_exits_cleanly
}

# 2. Refusals: '#name' is a queue group; ETRN disabled.
scenario_refusals() {
	sendmail_world sm 192.0.2.2
	sendmail_world off 192.0.2.3 "authwarnings,noetrn"
	conf r <<CONF
[daemon]
watch = site0
settle = 0
retry-min = 1s
retry-max = 1s

[relay isp]
host = 192.0.2.2
domains = d0.example #unknownqueue

[relay off]
host = 192.0.2.3
domains = d0.example
CONF
	start_etrnd_e2e "$T/r.conf" "$T/r.log"
	link_up
	check "#unknownqueue: etrnd logs Sendmail's full reply" wait_until 10 eval \
		"grep -F '459 4.5.4 Queue unknownqueue unknown' '$T/r.log' |
		 grep -qv ' <- 459'"
	check "ETRN disabled: etrnd logs Sendmail's full reply" wait_until 10 eval \
		"grep -F '502 5.7.0 Sorry, we do not allow this operation' '$T/r.log' |
		 grep -qv ' <- 502'"
	grep -E "(459|502) [0-9]\.[0-9]\.[0-9]" "$T/r.log" | grep -v " <- " |
		sed 's/^/# etrnd: /'
	check "459 logged as: $UNKNOWN_LOG..." grep -qF "$UNKNOWN_LOG" "$T/r.log"
	check "502 logged as: $NOETRN_LOG..." grep -qF "$NOETRN_LOG" "$T/r.log"
	check "the accepted domain on the same relay: 250" grep -qF \
		"relay isp: ETRN d0.example: 250 2.0.0 Queuing for node d0.example started" \
		"$T/r.log"
	sleep 4
	check "not asked again: one ETRN #unknownqueue in ~4 s at retry 1s ($(grep -ci '<<< ETRN #unknownqueue' "${MTA_DIR[sm]}/traffic"))" \
		test "$(grep -ci '<<< ETRN #unknownqueue' "${MTA_DIR[sm]}/traffic")" -eq 1
	check "not asked again: one ETRN at the disabled Sendmail ($(grep -ci '<<< ETRN' "${MTA_DIR[off]}/traffic"))" \
		test "$(grep -ci '<<< ETRN' "${MTA_DIR[off]}/traffic")" -eq 1
	check "etrnd still runs" kill -0 "$ETRND_PID"
	etrnd_exits_cleanly
	[ "$FAILED" -eq 0 ] || show_on_failure "$T/r.log"
}

case $1 in
basic) scenario_basic ;;
refusals) scenario_refusals ;;
*) echo "unknown scenario $1; one of: ${SCENARIOS[*]}" >&2; exit 2 ;;
esac
finish
