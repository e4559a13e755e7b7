#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# etrnd end to end against a real Postfix secondary MX, in network
# namespaces.  Mail for the site is queued at Postfix while the site's link
# is down; Postfix's own retry is hours away; etrnd must get it delivered
# when the link comes up.
#
# usage: postfix.sh [SCENARIO...]
#   Without arguments every scenario runs, each in its own process (own
#   namespaces, Postfix instances and temporary directory).  N=200 changes
#   the number of messages in "basic" and "control" (default 20).
#   Needs root and the Debian package postfix (else exits 77).
SCENARIOS=(basic control ipv6 subdomains ppp interval two-relays refusals
	postfix-down local-smtp)

if [ $# -eq 0 ]; then
	. "$(dirname "$0")/scenarios.sh"
	run_scenarios "$0" "${SCENARIOS[@]}"
	exit
fi

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_postfix

N=${N:-20}

# conf NAME: write $T/NAME.conf from stdin.
# A Postfix secondary for the site, and the site's mail server.
world_with_postfix() {
	setup_e2e_world
	if ! setup_postfix mx "192.0.2.2 2001:db8::2"; then
		not_ok "Postfix instance starts"
		finish
		exit 1
	fi
}

# 1. The whole point: queued mail arrives as soon as the link is up.
scenario_basic() {
	local t0 ms ids
	world_with_postfix
	start_sink sink
	inject mx "$N" basic example.org sub.example.net
	check "$N messages deferred while the site is down" wait_deferred mx "$N" 60
	check "nothing reached the site yet" test "$(delivered sink)" -eq 0
	conf e <<CONF
[daemon]
watch = site0
settle = 0
helo = site.example

[relay isp]
host = 192.0.2.2
domains = example.org sub.example.net
CONF
	start_etrnd_e2e "$T/e.conf" "$T/e.log"
	t0=$EPOCHREALTIME
	link_up
	if wait_delivered sink "$N" 60; then
		ms=$(ms_between "$t0" "$(last_delivery sink)")
		ok "link-up: all $N messages arrive"
		echo "# link-up -> first message: $(ms_between "$t0" \
		    "$(awk 'NR == 1 {print $1}' "$T/sink.log")") ms"
		echo "# link-up -> last message: $ms ms (N=$N)"
	else
		not_ok "link-up: all $N messages arrive ($(delivered sink) did)"
		show_on_failure "$T/e.log" "${PF_DIR[mx]}/maillog"
	fi
	ids=$(awk '{print $3}' "$T/sink.log" | sort -u | wc -l)
	check "each message exactly once ($ids distinct, $(delivered sink) lines)" \
		test "$ids" -eq "$N" -a "$(delivered sink)" -eq "$N"
	check "Postfix's maillog shows ETRN example.org and ETRN sub.example.net" \
		test "$(etrn_seen mx example.org)" -eq 1 -a \
		"$(etrn_seen mx sub.example.net)" -eq 1
	check "etrnd logged both answers" eval \
		"grep -q 'ETRN example.org: 250 Queuing started' '$T/e.log' &&
		 grep -q 'ETRN sub.example.net: 250 Queuing started' '$T/e.log'"
	check "Postfix's queue is empty" test "$(queue_total mx)" -eq 0
	stop_etrnd
}

# 2. Control: the same without etrnd; Postfix waits for its own backoff.
scenario_control() {
	world_with_postfix
	start_sink sink
	inject mx "$N" control example.org sub.example.net
	check "$N messages deferred while the site is down" wait_deferred mx "$N" 60
	link_up
	sleep 10
	check "without etrnd: nothing arrives within 10 s of link-up" \
		test "$(delivered sink)" -eq 0
	check "all $N still deferred" test "$(queue_count mx deferred)" -eq "$N"
	check "no ETRN in Postfix's maillog" \
		test "$(grep -c ': ETRN ' "${PF_DIR[mx]}/maillog")" -eq 0
}

# 3. IPv6 only: no IPv4 address on either end of the veth; the relay as an
# IPv6 literal, then as a name from /etc/hosts in the site namespace.
scenario_ipv6() {
	setup_e2e_world
	ip -n "$NS_SITE" addr del 192.0.2.1/24 dev site0
	ip -n "$NS_PROV" addr del 192.0.2.2/24 dev prov0
	# shellcheck disable=SC2034 # read by setup_postfix
	SITE_HOP=2001:db8::1
	if ! setup_postfix mx "2001:db8::2"; then
		not_ok "Postfix instance starts"
		return
	fi
	check "the site has no IPv4 address on site0" \
		test -z "$(ip -n "$NS_SITE" -4 addr show dev site0)"
	start_sink sink 2001:db8::1
	inject mx 10 v6lit example.org sub.example.net
	check "10 messages deferred (site down)" wait_deferred mx 10
	conf lit <<CONF
[daemon]
watch = site0
settle = 0
helo = [IPv6:2001:db8::1]

[relay isp]
host = 2001:db8::2
domains = example.org sub.example.net
CONF
	start_etrnd_e2e "$T/lit.conf" "$T/lit.log"
	link_up
	check "relay 2001:db8::2: all 10 arrive over IPv6" \
		wait_delivered sink 10 30 v6lit
	check "Postfix saw the ETRN from 2001:db8::1" \
		grep -q "\[2001:db8::1\]: ETRN example.org$" "${PF_DIR[mx]}/maillog"
	stop_etrnd
	check "Postfix closed its cached connections to the site" wait_site_idle

	link_down
	inject mx 10 v6name example.org sub.example.net
	check "10 more deferred (site down again)" wait_deferred mx 10
	# etrnd starts while /etc/hosts still has yesterday's address; the
	# admin fixes it before the link comes up: no restart, no reload.
	netns_hosts "127.0.0.1 localhost" "2001:db8::99 mx.provider.example"
	sed 's/^host = .*/host = mx.provider.example/' "$T/lit.conf" >"$T/name.conf"
	start_etrnd_e2e "$T/name.conf" "$T/name.log"
	netns_hosts "127.0.0.1 localhost" "2001:db8::2 mx.provider.example"
	link_up
	if wait_delivered sink 10 30 v6name; then
		ok "relay mx.provider.example (/etc/hosts): all 10 arrive"
	else
		not_ok "relay mx.provider.example (/etc/hosts): all 10 arrive"
		show_on_failure "$T/name.log"
	fi
	check "etrnd connected to the name's IPv6 address, as the hosts file says now" \
		grep -q "connected to .*2001:db8::2" "$T/name.log"
	check "... and never to the address the file had at start" \
		test "$(grep -c "2001:db8::99" "$T/name.log")" -eq 0
	stop_etrnd
}

# 4. Postfix strips "@": ETRN @example.net flushes example.net only.
scenario_subdomains() {
	world_with_postfix
	start_sink sink
	inject mx 10 sub example.net sub.example.net
	check "10 messages deferred (5 example.net, 5 sub.example.net)" \
		wait_deferred mx 10
	conf at <<CONF
[daemon]
watch = site0
settle = 0

[relay isp]
host = 192.0.2.2
domains = @example.net
CONF
	start_etrnd_e2e "$T/at.conf" "$T/at.log"
	link_up
	check "ETRN @example.net: example.net's 5 arrive" \
		wait_delivered sink 5 30 "@example\.net "
	sleep 3
	check "sub.example.net's 5 stay queued at Postfix" \
		test "$(delivered sink "@sub\.example\.net ")" -eq 0 -a \
		"$(queue_count mx deferred)" -eq 5
	check "Postfix received ETRN @example.net" \
		test "$(etrn_seen mx @example.net)" -eq 1
	stop_etrnd

	sed 's/^domains = .*/domains = @example.net sub.example.net/' \
		"$T/at.conf" >"$T/both.conf"
	start_etrnd_e2e "$T/both.conf" "$T/both.log"
	check "with sub.example.net listed too: its 5 arrive" \
		wait_delivered sink 5 30 "@sub\.example\.net "
	check "all 10 delivered, queue empty" \
		test "$(delivered sink)" -eq 10 -a "$(queue_total mx)" -eq 0
	stop_etrnd
}

# ppp0 emulated with tun (no PPP in the test kernel): a holder process
# gives it carrier; when the holder exits the device is deleted, like a
# hang-up.
HOLDER_PID=
ppp_dial() {
	local addr=$1 peer=$2
	rm -f "$T/holder.ready"
	ip netns exec "$NS_SITE" python3 "$TUN_HOLDER" ppp0 \
		--ready "$T/holder.ready" --lifetime 120 &
	HOLDER_PID=$!
	PIDS+=("$HOLDER_PID")
	wait_for 5 test -e "$T/holder.ready" || return 1
	ip -n "$NS_SITE" link set ppp0 up
	[ -z "$addr" ] || ip -n "$NS_SITE" addr add "$addr" peer "$peer" dev ppp0
}

ppp_hangup() {
	kill "$HOLDER_PID" 2>/dev/null
	wait "$HOLDER_PID" 2>/dev/null
	wait_for 5 eval "! ip -n '$NS_SITE' link show ppp0 >/dev/null 2>&1"
}

sessions() {
	count_lines "$T/l.log" CONNECT
}

# wait_sessions N: exactly N sessions reached the listener (and stay N
# for 0.5 s).
wait_sessions() {
	wait_for 5 eval "[ \"\$(sessions)\" -ge $1 ]" || return 1
	sleep 0.5
	[ "$(sessions)" -eq "$1" ]
}

# 5. A ppp-like link as the trigger (watch = ppp0); the ETRN listener is
# reached over the veth.  The brief's pppd demand-mode placeholders are
# 10.64.64.64/10.112.112.112; these tests only use documentation ranges, so
# 198.51.100.64 (peer 198.51.100.112) stands for the placeholder and
# 198.51.100.7 (peer 198.51.100.1) for the address the call assigns.
scenario_ppp() {
	setup_e2e_world
	link_up
	start_listener l 192.0.2.2
	conf addr <<CONF
[daemon]
watch = ppp0
link-up = address
settle = 0

[relay isp]
host = 192.0.2.2
domains = example.org
CONF
	start_etrnd_e2e "$T/addr.conf" "$T/addr.log"
	sleep 0.5
	check "no ppp0: no session" test "$(sessions)" -eq 0

	ppp_dial "" ""
	sleep 0.5
	check "ppp0 up with carrier but no address yet: no session" \
		test "$(sessions)" -eq 0
	ip -n "$NS_SITE" addr add 198.51.100.7 peer 198.51.100.1 dev ppp0
	check "call 1: address 198.51.100.7 appears: one session" wait_sessions 1
	ppp_hangup
	wait_for 5 grep -q "link ppp0: down" "$T/addr.log"
	sleep 0.5
	check "hang-up (ppp0 deleted): no session" test "$(sessions)" -eq 1
	ppp_dial 198.51.100.7 198.51.100.1
	check "call 2 (new ppp0, same name): one more session" wait_sessions 2
	ppp_hangup

	# Demand mode: ppp0 waits with placeholder addresses...
	ppp_dial 198.51.100.64 198.51.100.112
	check "demand: ppp0 up with the placeholder: one session" wait_sessions 3
	# ...and the call changes them while ppp0 stays up.
	ip -n "$NS_SITE" addr add 198.51.100.7 peer 198.51.100.1 dev ppp0
	ip -n "$NS_SITE" addr del 198.51.100.64 peer 198.51.100.112 dev ppp0
	check "demand: call connects, address changes on a link that stays up: one session" \
		wait_sessions 4
	# pppd itself clears the old address before setting the new one.
	ip -n "$NS_SITE" addr del 198.51.100.7 peer 198.51.100.1 dev ppp0
	ip -n "$NS_SITE" addr add 198.51.100.8 peer 198.51.100.1 dev ppp0
	check "pppd's order (delete, then add): exactly one session" \
		wait_sessions 5
	stop_etrnd

	# link-up = running ignores a change on a link that stays up.
	sed -e 's/^link-up = .*/link-up = running/' -e '/^settle/a run-at-start = no' \
		"$T/addr.conf" >"$T/run.conf"
	start_etrnd_e2e "$T/run.conf" "$T/run.log"
	ip -n "$NS_SITE" addr add 198.51.100.9 peer 198.51.100.1 dev ppp0
	ip -n "$NS_SITE" addr del 198.51.100.8 peer 198.51.100.1 dev ppp0
	sleep 1
	check "link-up = running: an address change alone asks nothing" \
		test "$(sessions)" -eq 5
	ppp_hangup
	ppp_dial 198.51.100.7 198.51.100.1
	check "link-up = running: a new call does" wait_sessions 6
	ppp_hangup
	stop_etrnd
	[ "$FAILED" -eq 0 ] || show_on_failure "$T/addr.log" "$T/l.log"
}

# 6. interval, no link event at all (the link is up before etrnd starts).
scenario_interval() {
	local t0
	world_with_postfix
	link_up
	# The site's MTA is not running: Postfix's first attempt fails.
	inject mx 6 interval example.org sub.example.net
	check "6 messages deferred (site MTA down)" wait_deferred mx 6
	start_sink sink
	conf i <<CONF
[daemon]
watch = site0
settle = 0
interval = 2s
run-at-start = no

[relay isp]
host = 192.0.2.2
domains = example.org sub.example.net
CONF
	t0=$EPOCHREALTIME
	start_etrnd_e2e "$T/i.conf" "$T/i.log"
	sleep 1.5
	check "run-at-start = no: no ETRN in the first 1.5 s" \
		test "$(etrn_seen mx example.org)" -eq 0
	check "the first interval run delivers all 6" wait_delivered sink 6 5
	sleep "$(awk -v a="$t0" -v b="$EPOCHREALTIME" \
		'BEGIN {d = 7.5 - (b - a); print (d > 0 ? d : 0)}')"
	check "interval = 2s: ETRN keeps arriving (3 in 7.5 s, got $(etrn_seen mx example.org))" \
		test "$(etrn_seen mx example.org)" -ge 3 -a \
		"$(etrn_seen mx sub.example.net)" -ge 3
	check "no link event in etrnd's log" \
		test "$(grep -c "link site0: up" "$T/i.log")" -eq 1
	stop_etrnd
}

# 7. Two secondaries, flushed concurrently in one run.
scenario_two_relays() {
	local a b done1
	setup_e2e_world
	ip -n "$NS_PROV" addr add 192.0.2.3/24 dev prov0
	if ! setup_postfix mx1 "192.0.2.2" || ! setup_postfix mx2 "192.0.2.3"; then
		not_ok "two Postfix instances start"
		return
	fi
	start_sink sink
	inject mx1 10 two1 example.org sub.example.net
	inject mx2 10 two2 example.org sub.example.net
	check "10 deferred at mx1" wait_deferred mx1 10
	check "10 deferred at mx2" wait_deferred mx2 10
	conf t <<CONF
[daemon]
watch = site0
settle = 0

[relay mx1]
host = 192.0.2.2
domains = example.org sub.example.net

[relay mx2]
host = 192.0.2.3
domains = example.org sub.example.net
CONF
	start_etrnd_e2e "$T/t.conf" "$T/t.log"
	link_up
	check "link-up: mx1's 10 arrive" wait_delivered sink 10 30 two1
	check "link-up: mx2's 10 arrive" wait_delivered sink 10 30 two2
	check "both secondaries got their ETRNs" \
		test "$(etrn_seen mx1 example.org)" -eq 1 -a \
		"$(etrn_seen mx2 example.org)" -eq 1
	a=$(grep -n "relay mx1: connecting to" "$T/t.log" | head -1 | cut -d: -f1)
	b=$(grep -n "relay mx2: connecting to" "$T/t.log" | head -1 | cut -d: -f1)
	done1=$(grep -n "session SMTP -> DONE" "$T/t.log" | head -1 | cut -d: -f1)
	check "concurrent: both sessions open before either ends" \
		test -n "$a" -a -n "$b" -a -n "$done1" -a "${a:-0}" -lt "${done1:-0}" \
		-a "${b:-0}" -lt "${done1:-0}"
	stop_etrnd
}

# 8. Postfix refuses: 459 (not in fast_flush_domains) and 554
# (smtpd_etrn_restrictions = reject).  Permanent: logged with the full
# reply, never retried, and not asked again by interval runs.
scenario_refusals() {
	setup_e2e_world
	ip -n "$NS_PROV" addr add 192.0.2.3/24 dev prov0
	if ! setup_postfix mx1 "192.0.2.2" ||
	    ! setup_postfix mx2 "192.0.2.3" "smtpd_etrn_restrictions = reject"; then
		not_ok "two Postfix instances start"
		return
	fi
	conf r <<CONF
[daemon]
watch = site0
settle = 0
interval = 2s
retry-min = 1s
retry-max = 1s

[relay isp]
host = 192.0.2.2
domains = example.org example.com

[relay strict]
host = 192.0.2.3
domains = example.org
CONF
	start_etrnd_e2e "$T/r.conf" "$T/r.log"
	link_up
	check "459: logged as refused with Postfix's full text" wait_for 10 \
		grep -qF "relay isp: ETRN example.com refused: 459 <example.com>: service unavailable" "$T/r.log"
	check "554: logged as refused with Postfix's full text" wait_for 10 \
		grep -qF "relay strict: ETRN example.org refused: 554 5.7.1 <example.org>: Etrn command rejected: Access denied" "$T/r.log"
	check "the accepted domain on the same relay: 250" \
		grep -qF "relay isp: ETRN example.org: 250 Queuing started" "$T/r.log"
	sleep 5
	check "459: not asked again (1 ETRN example.com at Postfix in 5 s)" \
		test "$(etrn_seen mx1 example.com)" -eq 1
	check "554: not asked again (1 ETRN example.org at the strict Postfix)" \
		test "$(etrn_seen mx2 example.org)" -eq 1
	check "interval runs went on for the accepted domain ($(etrn_seen mx1 example.org) ETRN example.org)" \
		test "$(etrn_seen mx1 example.org)" -ge 2
	check "no retry was armed" test "$(count_lines "$T/r.log" "asking again for")" -eq 0
	stop_etrnd
	[ "$FAILED" -eq 0 ] || show_on_failure "$T/r.log"
}

# 9. Postfix down at link-up, back 3 s later: etrnd retries with backoff.
scenario_postfix_down() {
	local t0 ms
	world_with_postfix
	start_sink sink
	inject mx 10 down example.org sub.example.net
	check "10 messages deferred" wait_deferred mx 10
	stop_postfix mx
	check "Postfix stopped" eval "! smtp_ready 192.0.2.2"
	conf d <<CONF
[daemon]
watch = site0
settle = 0
retry-min = 1s
retry-max = 2s

[relay isp]
host = 192.0.2.2
domains = example.org sub.example.net
CONF
	start_etrnd_e2e "$T/d.conf" "$T/d.log"
	t0=$EPOCHREALTIME
	link_up
	sleep 3
	check "Postfix starts again 3 s after link-up" start_postfix mx
	if wait_delivered sink 10 20; then
		ms=$(ms_between "$t0" "$(last_delivery sink)")
		ok "all 10 arrive after the retries"
		echo "# link-up -> last message with Postfix down for 3 s: $ms ms"
	else
		not_ok "all 10 arrive after the retries ($(delivered sink) did)"
		show_on_failure "$T/d.log"
	fi
	check "etrnd retried ($(count_lines "$T/d.log" "asking again for") backoffs)" \
		test "$(count_lines "$T/d.log" "asking again for")" -ge 2
	check "every backoff between 1s and 2s" eval \
		"! grep 'asking again for' '$T/d.log' | grep -vqE ' in (1s|2s)$'"
	stop_etrnd
}

# 10. local-smtp: the site's MTA comes up 2 s after the link.
scenario_local_smtp() {
	world_with_postfix
	inject mx 10 lsa example.org sub.example.net
	check "10 messages deferred" wait_deferred mx 10
	conf w <<CONF
[daemon]
watch = site0
settle = 0
connect-timeout = 10s
local-smtp = 192.0.2.1:25

[relay isp]
host = 192.0.2.2
domains = example.org sub.example.net
CONF
	start_etrnd_e2e "$T/w.conf" "$T/w.log"
	link_up
	sleep 2
	start_sink sink
	check "local-smtp: all 10 arrive in the run" wait_delivered sink 10 15 lsa
	check "etrnd waited for the site's MTA" \
		grep -q "local-smtp 192.0.2.1:25: not accepting connections yet" "$T/w.log"
	check "so Postfix never found the site's MTA closed" \
		test "$(grep -c "Connection refused" "${PF_DIR[mx]}/maillog")" -eq 0
	check "one run, one ETRN per domain" \
		test "$(etrn_seen mx example.org)" -eq 1
	stop_etrnd
	stop_sink
	link_down

	inject mx 10 lsb example.org sub.example.net
	check "10 more deferred" wait_deferred mx 10
	grep -v '^local-smtp' "$T/w.conf" >"$T/nw.conf"
	start_etrnd_e2e "$T/nw.conf" "$T/nw.log"
	link_up
	sleep 2
	start_sink sink2
	check "ETRN was sent at link-up" wait_for 5 \
		eval "[ \"\$(etrn_seen mx example.org)\" -eq 2 ]"
	sleep 10
	check "without local-smtp: nothing arrives within 12 s" \
		test "$(delivered sink2)" -eq 0
	check "Postfix tried while the site's MTA was down, deferred again" \
		test "$(queue_count mx deferred)" -eq 10 -a \
		"$(grep -c "connect to 192.0.2.1\[192.0.2.1\]:25: Connection refused" \
		"${PF_DIR[mx]}/maillog")" -ge 1
	stop_etrnd
}

case $1 in
basic) scenario_basic ;;
control) scenario_control ;;
ipv6) scenario_ipv6 ;;
subdomains) scenario_subdomains ;;
ppp) scenario_ppp ;;
interval) scenario_interval ;;
two-relays) scenario_two_relays ;;
refusals) scenario_refusals ;;
postfix-down) scenario_postfix_down ;;
local-smtp) scenario_local_smtp ;;
*) echo "unknown scenario $1; one of: ${SCENARIOS[*]}" >&2; exit 2 ;;
esac
finish
