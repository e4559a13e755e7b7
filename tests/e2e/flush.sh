#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# etrnd's flush observation (issue 13) end to end against a real Postfix
# secondary MX, in network namespaces: after the secondary accepted ETRN,
# did its mail come back to the site's MTA (the sink on :25)?  Each
# scenario checks the verdict in etrnctl status --json against what the
# sink itself accepted (sink_conns), the log line, and the relay's state.
#
#   delivered       a normal flush: "delivered", as many connections as the
#                   sink accepted, from the provider's address
#   broken-return   the secondary's route to the site goes nowhere (its
#                   transport: 203.0.113.99, blackholed in the provider's
#                   namespace, so no packet leaves it): ETRN 250, then
#                   "nothing" after the window, a warning with the hint,
#                   and no failure, no retry
#   second-address  Postfix delivers from a second provider address: not
#                   counted ("nothing", other_connections, the hint names
#                   delivers-from) until delivers-from names it
#   no-listener     nothing listens on the site's :25: "not-observable",
#                   reason "no-listener"
#   metrics         etrnctl metrics (OpenMetrics) and the metrics-file
#                   (text format 0.0.4) parse with python3-prometheus-
#                   client's parsers and count two runs (link-up: delivered, manual: nothing);
#                   etrnctl history --json lists both with their verdicts
#
# usage: flush.sh [SCENARIO...]; without arguments every scenario runs,
# each in its own process.  Needs root and the Debian package postfix
# (else exits 77); "metrics" also python3-prometheus-client (else 77, but
# a failure under CI=true).  ETRND and ETRNCTL name the binaries.
SCENARIOS=(delivered broken-return second-address no-listener metrics)

if [ $# -eq 0 ]; then
	# shellcheck source=scenarios.sh
	. "$(dirname "$0")/scenarios.sh"
	run_scenarios "$0" "${SCENARIOS[@]}"
	exit
fi

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
: "${ETRNCTL:?set ETRNCTL to the etrnctl binary}"
need_postfix

# Debian's python3 (python3-prometheus-client is its package), whatever
# python3 comes first in PATH.
DEB_PY3=/usr/bin/python3
[ -x "$DEB_PY3" ] || DEB_PY3=python3

# The flush window of every scenario: short, so that "nothing" comes soon.
WINDOW=8s
QUIET=2s

# etrnd's configuration NAME for relay isp at 192.0.2.2, flushing the
# site's domains, with the short window; extra [daemon] and [relay] lines.
flush_conf() {
	local name=$1 daemon_extra=${2:-} relay_extra=${3:-}
	conf "$name" <<CONF
[daemon]
watch = site0
settle = 0
helo = site.example
flush-window = $WINDOW
flush-quiet = $QUIET
$daemon_extra

[relay isp]
host = 192.0.2.2
domains = example.org sub.example.net
$relay_extra
CONF
}

# ctl CONF ARGS...: etrnctl against the etrnd started with CONF (its
# control-socket line), bounded.
ctl() {
	local c=$1
	shift
	timeout 30 "$ETRNCTL" -c "$c" "$@"
}

# relay_get CONF RELAY EXPR: a Python expression over relay RELAY's object
# r and its "flush" object f (None when null) in etrnctl status --json;
# strings printed as they are, anything else as JSON.
relay_get() {
	ctl "$1" status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
r = [r for r in d["relays"] if r["name"] == sys.argv[1]][0]
f = r.get("flush")
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v))' "$2" "$3"
}

# flush_get CONF RELAY FIELD: one field of the relay's flush object
# ("null" when the object itself is null).
flush_get() {
	relay_get "$1" "$2" "None if f is None else f.get('$3')"
}

# verdict_final CONF RELAY: the relay's last run has a window and its
# verdict is final (not "watching").
verdict_final() {
	local v
	v=$(relay_get "$1" "$2" \
	    "'-' if f is None or not f.get('last_run') else f['verdict']" \
	    2>/dev/null) || return 1
	[ -n "$v" ] && [ "$v" != "-" ] && [ "$v" != watching ]
}

# wait_verdict CONF RELAY: until the verdict is final; bounded by the
# window and a margin.
wait_verdict() {
	wait_secs 30 verdict_final "$1" "$2"
}

# verdict_or_stop CONF RELAY LOG: one check, that the window closes with a
# verdict; false (and LOG shown) when it does not, for the scenario to stop.
verdict_or_stop() {
	if wait_verdict "$1" "$2"; then
		ok "relay $2: the window closes with a verdict"
		return 0
	fi
	not_ok "relay $2: the window closes with a verdict"
	show_on_failure "$3"
	return 1
}

# not_failed CONF RELAY: neither backing off nor failed, no failure counted.
not_failed() {
	local st
	st=$(relay_get "$1" "$2" "r['state'] + ' ' + str(r['failures'])") ||
		return 1
	case $st in
	backoff* | failed*) return 1 ;;
	esac
	[ "${st#* }" = 0 ]
}

# log_has LOG RELAY WORD...: a line of etrnd's log about RELAY's flush that
# has every WORD (fixed strings, any case).
log_has() {
	local log=$1 relay=$2 lines w
	shift 2
	lines=$(grep -F "relay $relay: flush" "$log") || return 1
	for w in "$@"; do
		lines=$(grep -iF -- "$w" <<<"$lines") || return 1
	done
}

# world: the namespaces and a Postfix secondary for the site, the site's
# link still down.
world() {
	setup_e2e_world
	if ! setup_postfix mx "192.0.2.2 2001:db8::2"; then
		not_ok "Postfix instance starts"
		finish
		exit 1
	fi
}

# 1. A normal flush: delivered, counted as the sink counted.
scenario_delivered() {
	local n=10 conns got
	world
	start_sink sink
	inject mx "$n" fl example.org sub.example.net
	check "$n messages deferred while the site is down" wait_deferred mx "$n"
	flush_conf d
	start_etrnd_e2e "$T/d.conf" "$T/d.log"
	check "before any run: no flush shown" \
		test "$(relay_get "$T/d.conf" isp 'f')" = null
	link_up
	check "link-up: all $n messages arrive" wait_delivered sink "$n" 30
	verdict_or_stop "$T/d.conf" isp "$T/d.log" || return
	conns=$(sink_conns sink 192.0.2.2)
	got=$(flush_get "$T/d.conf" isp connections)
	check "verdict: delivered" \
		test "$(flush_get "$T/d.conf" isp verdict)" = delivered
	check "connections: $got, as many as the sink accepted from 192.0.2.2 ($conns)" \
		test "$got" = "$conns" -a "$conns" -ge 1
	check "... and the sink accepted none from anywhere else" \
		test "$(sink_conns sink)" -eq "$conns"
	check "from: the provider's address" \
		test "$(flush_get "$T/d.conf" isp from)" = '["192.0.2.2"]'
	check "no other connections" \
		test "$(flush_get "$T/d.conf" isp other_connections)" = 0
	check "no reason, last run" test \
		"$(relay_get "$T/d.conf" isp '[f["reason"], f["last_run"]]')" = \
		'[null, true]'
	check "first and last seen after the ETRN, in order" \
		relay_get "$T/d.conf" isp \
		'0 <= f["first_ms"] <= f["last_ms"] or exit(1)'
	check "logged: delivered, $got connections from 192.0.2.2" \
		log_has "$T/d.log" isp delivered "$got connection" 192.0.2.2
	check "no 'nothing came back' warning" \
		eval "! log_has '$T/d.log' isp nothing"
	check "etrnctl status (text) shows it" \
		eval "ctl '$T/d.conf' status | grep -q delivered"
	[ "$FAILED" -eq 0 ] || show_on_failure "$T/d.log" "$T/sink.conns"
	stop_etrnd
}

# 2. The secondary accepts ETRN but its way back to the site is broken.
scenario_broken_return() {
	setup_e2e_world
	# Nobody answers 203.0.113.99, and no packet for it leaves the
	# provider's namespace: the kernel discards it there.
	ip -n "$NS_PROV" route add blackhole 203.0.113.99/32
	# shellcheck disable=SC2034 # read by setup_postfix
	SITE_HOP=203.0.113.99
	if ! setup_postfix mx "192.0.2.2 2001:db8::2"; then
		not_ok "Postfix instance starts (transport to 203.0.113.99)"
		return
	fi
	start_sink sink
	inject mx 4 br example.org sub.example.net
	check "4 messages deferred (no way to 203.0.113.99)" wait_deferred mx 4
	flush_conf b
	start_etrnd_e2e "$T/b.conf" "$T/b.log"
	link_up
	check "ETRN accepted: 250" wait_for 10 \
		grep -q "ETRN example.org: 250" "$T/b.log"
	check "Postfix tried the broken route again after the ETRN" wait_for 10 \
		eval "[ \"\$(grep -c 'connect to 203.0.113.99' '${PF_DIR[mx]}/maillog')\" -ge 2 ]"
	verdict_or_stop "$T/b.conf" isp "$T/b.log" || return
	check "verdict: nothing" \
		test "$(flush_get "$T/b.conf" isp verdict)" = nothing
	check "no connections, none from elsewhere" test \
		"$(relay_get "$T/b.conf" isp '[f["connections"], f["other_connections"], f["reason"]]')" \
		= '[0, 0, null]'
	check "the sink saw no connection" test "$(sink_conns sink)" -eq 0
	check "the window: flush-window's 8s, watched to its end" \
		relay_get "$T/b.conf" isp \
		'f["window_ms"] == 8000 <= f["elapsed_ms"] or exit(1)'
	check "logged: nothing came back" log_has "$T/b.log" isp nothing
	check "... with the hint: inbound port 25, MX" \
		log_has "$T/b.log" isp nothing "port 25" MX
	check "etrnctl status shows the hint" \
		eval "ctl '$T/b.conf' status | grep -q 'hint: .*port 25'"
	check "not a failure: relay neither backing off nor failed" \
		not_failed "$T/b.conf" isp
	check "no retry was armed" \
		test "$(count_lines "$T/b.log" "asking again for")" -eq 0
	check "one ETRN per domain" test "$(etrn_seen mx example.org)" -eq 1
	check "the mail stays queued at the secondary" \
		test "$(queue_total mx)" -eq 4
	[ "$FAILED" -eq 0 ] || show_on_failure "$T/b.log"
	stop_etrnd
}

# 3. The provider delivers from another address than the one etrnd asks.
scenario_second_address() {
	local before conns got
	setup_e2e_world
	# 198.51.100.2: the provider's outbound address; the site reaches it
	# over the same veth (198.51.100.1 there).
	ip -n "$NS_PROV" addr add 198.51.100.2/24 dev prov0
	ip -n "$NS_SITE" addr add 198.51.100.1/24 dev site0
	if ! setup_postfix mx "192.0.2.2 2001:db8::2" \
	    "smtp_bind_address = 198.51.100.2"; then
		not_ok "Postfix instance starts"
		return
	fi
	start_sink sink
	inject mx 6 sa example.org sub.example.net
	check "6 messages deferred" wait_deferred mx 6
	flush_conf a
	start_etrnd_e2e "$T/a.conf" "$T/a.log"
	link_up
	check "link-up: all 6 arrive, from 198.51.100.2" eval \
		"wait_delivered sink 6 30 && [ \"\$(sink_conns sink 198.51.100.2)\" -ge 1 ]"
	verdict_or_stop "$T/a.conf" isp "$T/a.log" || return
	conns=$(sink_conns sink 198.51.100.2)
	got=$(flush_get "$T/a.conf" isp other_connections)
	check "without delivers-from: verdict nothing" \
		test "$(flush_get "$T/a.conf" isp verdict)" = nothing
	check "... no connection counted from the relay" \
		test "$(flush_get "$T/a.conf" isp connections)" = 0
	check "... other_connections $got, as the sink accepted from 198.51.100.2 ($conns)" \
		test "$got" = "$conns" -a "$conns" -ge 1
	check "... other_from: 198.51.100.2" \
		test "$(flush_get "$T/a.conf" isp other_from)" = '["198.51.100.2"]'
	check "... the hint names delivers-from" \
		log_has "$T/a.log" isp nothing delivers-from
	check "... not a failure" not_failed "$T/a.conf" isp
	[ "$FAILED" -eq 0 ] || show_on_failure "$T/a.log"
	stop_etrnd

	# Again with delivers-from: counted.
	check "Postfix closed its cached connections to the site" wait_site_idle
	link_down
	inject mx 6 sb example.org sub.example.net
	check "6 more deferred" wait_deferred mx 6
	before=$(sink_conns sink 198.51.100.2)
	flush_conf f "" "delivers-from = 198.51.100.2"
	start_etrnd_e2e "$T/f.conf" "$T/f.log"
	link_up
	check "link-up: the 6 arrive" wait_delivered sink 6 30 sb
	verdict_or_stop "$T/f.conf" isp "$T/f.log" || return
	conns=$(($(sink_conns sink 198.51.100.2) - before))
	got=$(flush_get "$T/f.conf" isp connections)
	check "delivers-from = 198.51.100.2: verdict delivered" \
		test "$(flush_get "$T/f.conf" isp verdict)" = delivered
	check "... connections $got, as the sink accepted ($conns)" \
		test "$got" = "$conns" -a "$conns" -ge 1
	check "... from: 198.51.100.2" \
		test "$(flush_get "$T/f.conf" isp from)" = '["198.51.100.2"]'
	check "... logged as delivered from 198.51.100.2" \
		log_has "$T/f.log" isp delivered 198.51.100.2
	[ "$FAILED" -eq 0 ] || show_on_failure "$T/f.log"
	stop_etrnd
}

# 4. No MTA listens on the site's port 25: nothing can be observed.
scenario_no_listener() {
	local out
	world
	inject mx 4 nl example.org sub.example.net
	check "4 messages deferred" wait_deferred mx 4
	flush_conf n
	start_etrnd_e2e "$T/n.conf" "$T/n.log"
	link_up
	check "nothing listens on the site's :25" test -z \
		"$(ip netns exec "$NS_SITE" ss -Htln '( sport = :25 )')"
	check "link-up: ETRN accepted: 250" wait_for 10 \
		grep -q "ETRN example.org: 250" "$T/n.log"
	verdict_or_stop "$T/n.conf" isp "$T/n.log" || return
	check "verdict: not-observable, reason no-listener" test \
		"$(relay_get "$T/n.conf" isp '[f["verdict"], f["reason"]]')" = \
		'["not-observable", "no-listener"]'
	check "logged: not observable" log_has "$T/n.log" isp observable
	check "not a failure" not_failed "$T/n.conf" isp
	check "Postfix found the site's port closed (the mail stays queued)" \
		wait_for 10 grep -q "Connection refused" "${PF_DIR[mx]}/maillog"
	# etrnctl run waits for the verdict and prints it after the results.
	out=$(ctl "$T/n.conf" run --watch isp)
	check "etrnctl run: result lines, then 'isp flush not observable'" \
		eval "grep -q '^isp example.org ok 250' <<<\"\$out\" &&
		    tail -1 <<<\"\$out\" | grep -q '^isp flush not.observable'"
	[ "$FAILED" -eq 0 ] || { echo "# etrnctl run:"; echo "$out" | sed 's/^/#   /'; }
	stop_etrnd
}

# The parsers of Debian's python3-prometheus-client: "openmetrics" (etrnctl
# metrics; fails on any error, a missing "# EOF" too) or "text", the
# Prometheus text format 0.0.4 of the metrics-file (node_exporter's).
METRICS_PARSER='
import sys
if sys.argv[1] == "openmetrics":
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
else:
    from prometheus_client.parser import text_string_to_metric_families
fams = list(text_string_to_metric_families(sys.stdin.read()))
'

# metrics_sum FORMAT NAME [LABEL=VALUE...]: from an exposition in FORMAT
# on standard input, parsed, the sum of the samples NAME whose labels match
# (0 when there are none).
metrics_sum() {
	"$DEB_PY3" -c "$METRICS_PARSER"'
name, want = sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:])
print("%g" % sum(s.value for f in fams for s in f.samples
                 if s.name == name and
                 all(s.labels.get(k) == v for k, v in want.items())))' "$@"
}

# metrics_parses FORMAT: the exposition on standard input parses, and has
# counters for runs, ETRN results and flush verdicts.
metrics_parses() {
	"$DEB_PY3" -c "$METRICS_PARSER"'
types = {f.name: f.type for f in fams}
need = ("etrnd_runs", "etrnd_etrn_results", "etrnd_flush_verdicts")
bad = [n for n in need if types.get(n) != "counter"]
sys.exit("not counters: %s" % bad if bad else 0)' "$1"
}

# history_runs CONF: "RELAY TRIGGER VERDICT" per run in etrnctl history
# --json, oldest first.
history_runs() {
	ctl "$1" history --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
for run in (d["runs"] if isinstance(d, dict) else d):
    f = run.get("flush")
    print(run["relay"], run["trigger"], f["verdict"] if f else "-")'
}

# 5 and 6. Metrics and history count the runs as they happen.
scenario_metrics() {
	local m0 file out
	if ! "$DEB_PY3" -c 'import prometheus_client.openmetrics.parser' \
	    2>/dev/null; then
		[ "${CI:-}" = true ] &&
			{ not_ok "python3-prometheus-client is installed"; return; }
		skip "needs the Debian package python3-prometheus-client"
	fi
	file=$T/etrnd.prom
	world
	start_sink sink
	inject mx 6 me example.org sub.example.net
	check "6 messages deferred" wait_deferred mx 6
	# No run at start: the first is link-up's.
	flush_conf m "run-at-start = no
metrics-file = $file"
	start_etrnd_e2e "$T/m.conf" "$T/m.log"
	ctl "$T/m.conf" metrics >"$T/m0.prom"
	check "etrnctl metrics parses (OpenMetrics), with runs, results and flush verdicts" \
		metrics_parses openmetrics <"$T/m0.prom"
	m0=$(metrics_sum openmetrics etrnd_runs_total relay=isp <"$T/m0.prom")
	check "no run yet: etrnd_runs_total{relay=isp} is 0" test "$m0" = 0

	# Run 1, at link-up: the 6 messages come back.
	link_up
	check "link-up: the 6 arrive" wait_delivered sink 6 30
	verdict_or_stop "$T/m.conf" isp "$T/m.log" || return
	check "run 1: delivered" \
		test "$(flush_get "$T/m.conf" isp verdict)" = delivered
	# Run 2, by hand: Postfix says 250 with an empty queue too.
	out=$(ctl "$T/m.conf" run --watch isp)
	check "run 2 (etrnctl run): exit 0 (nothing came back is no failure)" \
		test $? -eq 0
	check "... the results, 'isp flush nothing' once the window closed, the hint" \
		awk '
		NR <= 2 && /^isp [a-z.]+ ok 250 / { r++ }
		NR == 3 && /^isp flush nothing came back within 8s/ { f = 1 }
		NR == 4 && /^  hint: check that port 25 / { h = 1 }
		END { exit !(r == 2 && f && h && NR == 4) }' <<<"$out"
	check "run 2: nothing" test "$(flush_get "$T/m.conf" isp verdict)" = nothing

	ctl "$T/m.conf" metrics >"$T/m1.prom"
	check "etrnctl metrics still parses" metrics_parses openmetrics <"$T/m1.prom"
	check "etrnd_runs_total{relay=isp}: 2 more (link-up 1, manual 1)" test \
		"$(metrics_sum openmetrics etrnd_runs_total relay=isp <"$T/m1.prom") $(metrics_sum openmetrics etrnd_runs_total relay=isp trigger=link-up <"$T/m1.prom") $(metrics_sum openmetrics etrnd_runs_total relay=isp trigger=manual <"$T/m1.prom")" \
		= "$((m0 + 2)) 1 1"
	check "etrnd_flush_verdicts_total{relay=isp}: delivered 1, nothing 1" test \
		"$(metrics_sum openmetrics etrnd_flush_verdicts_total relay=isp verdict=delivered <"$T/m1.prom") $(metrics_sum openmetrics etrnd_flush_verdicts_total relay=isp verdict=nothing <"$T/m1.prom")" \
		= "1 1"
	check "etrnd_etrn_results_total{relay=isp,class=ok}: 4 (2 runs, 2 domains)" \
		test "$(metrics_sum openmetrics etrnd_etrn_results_total relay=isp class=ok <"$T/m1.prom")" = 4
	check "metrics-file written" test -s "$file"
	check "metrics-file parses (text format 0.0.4)" metrics_parses text <"$file"
	check "metrics-file counts the same runs and verdicts" wait_secs 5 eval \
		"[ \"\$(metrics_sum text etrnd_runs_total relay=isp <'$file') \$(metrics_sum text etrnd_flush_verdicts_total relay=isp <'$file')\" = '2 2' ]"
	check "no temporary file left beside it" test "$(find "$T" -maxdepth 1 \
		-name '*etrnd.prom*' ! -name etrnd.prom | wc -l)" -eq 0

	check "etrnctl history --json: the two runs with their verdicts" test \
		"$(history_runs "$T/m.conf" | tr '\n' ';')" = \
		"isp link-up delivered;isp manual nothing;"
	check "etrnctl history (text) shows both verdicts" eval \
		"ctl '$T/m.conf' history >'$T/h.txt' && grep -q delivered '$T/h.txt' &&
		 grep -q nothing '$T/h.txt'"
	if [ "$FAILED" -ne 0 ]; then
		show_on_failure "$T/m.log" "$T/m1.prom" "$T/h.txt"
		echo "# etrnctl run:"; echo "$out" | sed 's/^/#   /'
	fi
	stop_etrnd
}

case $1 in
delivered) scenario_delivered ;;
broken-return) scenario_broken_return ;;
second-address) scenario_second_address ;;
no-listener) scenario_no_listener ;;
metrics) scenario_metrics ;;
*) echo "unknown scenario $1; one of: ${SCENARIOS[*]}" >&2; exit 2 ;;
esac
finish
