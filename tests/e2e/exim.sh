#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# etrnd end to end against a real Exim 4.96 secondary MX (Debian's package,
# unpacked, never installed: see mta-lib.sh), in both of Exim's ETRN modes.
# Mail for the site is queued at Exim while the site's link is down (its
# own retry is hours away); etrnd must get it delivered at link-up.
#
#   builtin        no smtp_etrn_command: Exim accepts only "ETRN #domain"
#                  (and runs exim -R domain); domains written with '#'
#   builtin-plain  the same server, domains written plainly: Exim answers
#                  501 argument must begin with #, and etrnd must retry in
#                  the form asked for (issue 12 section 2)
#   command        smtp_etrn_command = exim -R $domain: the raw argument is
#                  passed on, so the plain form is the one that works
#   refusals       the ETRN ACL denies the site: 458 ETRN not permitted
#
# usage: exim.sh [SCENARIO...]; N=... messages (default 20).  Needs root,
# namespaces and Debian's exim4 packages (downloaded once), else exits 77.
SCENARIOS=(builtin builtin-plain command refusals)

if [ $# -eq 0 ]; then
	. "$(dirname "$0")/scenarios.sh"
	run_scenarios "$0" "${SCENARIOS[@]}"
	exit
fi

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=mta-lib.sh
. "$(dirname "$0")/mta-lib.sh"
need_exim

N=${N:-20}

# The form "builtin" writes its domains in: '#', as a user who knows the
# server may; "builtin-plain" covers the plain form (etrnd switches to '#'
# when Exim's 501 asks for it, issue 12 section 2).
BUILTIN_FORM='#'

# What etrnd logs for the ACL's 458 (issue 12 section 3): a temporary
# failure at first, retried; the same reply DENY_STOPS_AFTER times in a row
# is taken as a refusal and not asked again (empty: retried for ever, so
# only the rate is bounded).
DENY_LOG='relay isp: ETRN #example.org: temporary failure: 458 ETRN not permitted for 192.0.2.1'
DENY_FINAL='relay isp: ETRN #example.org: 458 ETRN not permitted for 192.0.2.1: the same temporary reply 3 times in a row, taken as a refusal; not asking again'
DENY_STOPS_AFTER=3

# exim_world NAME MODE [ACL-HOSTS]: namespaces, the site's sink, an Exim
# instance "mx" on 192.0.2.2 (else the test ends).
exim_world() {
	setup_e2e_world
	start_sink sink
	if ! setup_exim mx 192.0.2.2 "$@"; then
		not_ok "Exim instance ($2) starts"
		show_on_failure "${MTA_DIR[mx]}/stdout" "$(exim_log mx)" \
		    "${MTA_DIR[mx]}/log/paniclog"
		finish
		exit 1
	fi
	echo "# $(mta_versions exim)"
}

# etrn_conf NAME DOMAINS...: etrnd's configuration for relay "isp".
etrn_conf() {
	local name=$1
	shift
	conf "$name" <<CONF
[daemon]
watch = site0
settle = 0
helo = site.example
retry-min = 1s
retry-max = 2s

[relay isp]
host = 192.0.2.2
domains = $*
CONF
}

# queue_while_down TAG: N messages queued and deferred at Exim.
queue_while_down() {
	mta_inject mx "$N" "$1" example.org sub.example.net
	check "$N messages queued and deferred at Exim while the site is down" \
		exim_wait_deferred mx "$N" 30
	check "nothing reached the site yet" test "$(delivered sink)" -eq 0
}

# link_up_delivers WHAT [T0]: the link up (or up since T0); all N arrive,
# each once; prints the figures.  False when they do not.
link_up_delivers() {
	local what=$1 t0=${2:-} first last ids
	if [ -z "$t0" ]; then
		t0=$EPOCHREALTIME
		link_up
	fi
	if ! mta_delivered "$N" 30; then
		not_ok "$what: all $N messages arrive ($(delivered sink) did)"
		return 1
	fi
	first=$(ms_between "$t0" "$(awk 'NR == 1 {print $1}' "$T/sink.log")")
	last=$(ms_between "$t0" "$(last_delivery sink)")
	ok "$what: all $N messages arrive"
	echo "# exim $what: link-up -> first message $first ms, last $last ms (N=$N)"
	ids=$(awk '{print $3}' "$T/sink.log" | sort -u | wc -l)
	check "each message exactly once ($ids distinct, $(delivered sink) lines)" \
		test "$ids" -eq "$N" -a "$(delivered sink)" -eq "$N"
	check "Exim's queue is empty" wait_until 10 eval "[ \"\$(exim_queue mx)\" -eq 0 ]"
}

# etrnd_exits_cleanly: SIGTERM; exit status 0 (a sanitizer report is not).
etrnd_exits_cleanly() {
	local rc
	kill "$ETRND_PID" 2>/dev/null
	wait "$ETRND_PID" 2>/dev/null
	rc=$?
	check "etrnd exits 0 at SIGTERM (got $rc)" test "$rc" -eq 0
}

# 1. Built-in ETRN handling: "#domain".
scenario_builtin() {
	local f=$BUILTIN_FORM
	exim_world builtin
	queue_while_down builtin
	etrn_conf e "${f}example.org" "${f}sub.example.net"
	start_etrnd_e2e "$T/e.conf" "$T/e.log"
	link_up_delivers "built-in ETRN, domains = ${f}example.org ${f}sub.example.net" || show_on_failure "$T/e.log" "$(exim_log mx)"
	check "etrnd logged Exim's 250 OK for both" eval \
		"grep -q 'ETRN #example.org: 250 OK' '$T/e.log' &&
		 grep -q 'ETRN #sub.example.net: 250 OK' '$T/e.log'"
	check "Exim ran exim -R example.org and -R sub.example.net" eval \
		"grep -q 'Start queue run: .* -R example.org$' '$(exim_log mx)' &&
		 grep -q 'Start queue run: .* -R sub.example.net$' '$(exim_log mx)'"
	etrnd_exits_cleanly
}

# 2. Built-in, domains written plainly: etrnd must send '#domain' when
# Exim's 501 asks for it.
scenario_builtin_plain() {
	local t0
	exim_world builtin
	queue_while_down plain
	etrn_conf p example.org sub.example.net
	start_etrnd_e2e "$T/p.conf" "$T/p.log"
	t0=$EPOCHREALTIME
	link_up
	wait_until 15 eval "grep -q '501 argument must begin with #' '$T/p.log' ||
		[ \"\$(delivered sink)\" -gt 0 ]"
	sleep 1
	link_up_delivers "built-in ETRN, domains = example.org sub.example.net" \
		"$t0" || show_on_failure "$T/p.log" "$(exim_log mx)"
	check "Exim's 501 was answered by ETRN #example.org in the same session" \
		eval "grep -A1 ' <- 501 argument must begin with #' '$T/p.log' |
		      grep -q ' -> ETRN #example.org$' &&
		      [ \"\$(grep -c ' connected to ' '$T/p.log')\" -eq 1 ]"
	etrnd_exits_cleanly
}

# 3. smtp_etrn_command = exim -R $domain: the plain form.
scenario_command() {
	exim_world command
	queue_while_down command
	etrn_conf c example.org sub.example.net
	start_etrnd_e2e "$T/c.conf" "$T/c.log"
	link_up_delivers "smtp_etrn_command, domains = example.org sub.example.net" || show_on_failure "$T/c.log" "$(exim_log mx)"
	check "etrnd logged Exim's 250 OK for both, plainly" eval \
		"grep -q 'ETRN example.org: 250 OK' '$T/c.log' &&
		 grep -q 'ETRN sub.example.net: 250 OK' '$T/c.log'"
	check "etrnd never sent #example.org (here it matches nothing)" \
		test "$(grep -c '#example' "$T/c.log")" -eq 0
	etrnd_exits_cleanly
}

# 4. The ETRN ACL denies the site: 458 ETRN not permitted for 192.0.2.1.
scenario_refusals() {
	local n
	exim_world builtin "192.0.2.99"
	etrn_conf r "#example.org"
	start_etrnd_e2e "$T/r.conf" "$T/r.log"
	link_up
	check "ACL deny: etrnd logs Exim's full reply" wait_until 10 eval \
		"grep -F '458 ETRN not permitted for 192.0.2.1' '$T/r.log' |
		 grep -qv ' <- 458'"
	grep -F "458 ETRN not permitted" "$T/r.log" | grep -v " <- 458" |
		head -3 | sed 's/^/# etrnd: /'
	check "ACL deny logged as: $DENY_LOG" grep -qF "$DENY_LOG" "$T/r.log"
	if [ -n "$DENY_STOPS_AFTER" ]; then
		check "after $DENY_STOPS_AFTER identical 458s: $DENY_FINAL..." \
			wait_until 15 grep -qF "$DENY_FINAL" "$T/r.log"
		grep -F "$DENY_FINAL" "$T/r.log" | sed 's/^/# etrnd: /'
		sleep 3
		n=$(grep -c "rejected ETRN #example.org" "$(exim_log mx)")
		check "not asked again after that ($n ETRNs at Exim)" \
			test "$n" -eq "$DENY_STOPS_AFTER"
	else
		sleep 4
		n=$(grep -c "rejected ETRN #example.org" "$(exim_log mx)")
		check "retried with backoff, but bounded (1-5 ETRNs in ~5 s at retry 1-2s, got $n)" \
			test "$n" -ge 1 -a "$n" -le 5
	fi
	check "etrnd still runs" kill -0 "$ETRND_PID"
	etrnd_exits_cleanly
	[ "$FAILED" -eq 0 ] || show_on_failure "$T/r.log" "$(exim_log mx)"
}

case $1 in
builtin) scenario_builtin ;;
builtin-plain) scenario_builtin_plain ;;
command) scenario_command ;;
refusals) scenario_refusals ;;
*) echo "unknown scenario $1; one of: ${SCENARIOS[*]}" >&2; exit 2 ;;
esac
finish
