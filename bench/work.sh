#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Benchmark 4: work per session.  Instructions (callgrind's Ir, which is
# deterministic: the same binary and the same conversation give the same
# count on any load) for one 3-domain ETRN session of the one-shot `etrn`
# client, the daemon's own session code, against the C server on loopback
# in a namespace of its own:
#   - the session alone: only what runs inside event_base_loop (the
#     session is started from a zero-timeout timer, so that is resolve,
#     connect, greeting, EHLO, 3 x ETRN, QUIT and the teardown);
#   - the whole process (start-up, libevent and evdns set-up, exit),
#     beside the python smtplib one-shot client doing the same session.
# The session figure is compared with bench/callgrind.ref (recorded on the
# machine named there) so that a change that doubles it shows.
. "$(dirname "$0")/lib.sh"
B="4 work per session"
REPS=${REPS:-3}
[ "$QUICK" = 1 ] && REPS=1
command -v valgrind >/dev/null || harness_fail "$B" "valgrind is not installed"
need_netns
NS="etrnd-bench-cg-$$"
ip netns add "$NS" && NAMESPACES+=("$NS")
ip -n "$NS" link set lo up
start_stub s "$NS" 127.0.0.1 25 || harness_fail "$B" "stub server did not start"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

cat >"$T/etrn3.py" <<'PY'
import smtplib
s = smtplib.SMTP("127.0.0.1", 25, local_hostname="site.example", timeout=30)
s.ehlo()
for d in ("a.example", "b.example", "c.example"):
    s.docmd("ETRN", d)
s.quit()
PY

# ir FILE: the total Ir of a callgrind output.
ir() {
	awk '/^(summary|totals):/ {print $2; exit}' "$1"
}

# cg NAME [VALGRIND-OPTION...] -- CMD...: run once under callgrind.
cg() {
	local name=$1 quits
	shift
	quits=$(grep -c " QUIT$" "$T/s.log")
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	ip netns exec "$NS" valgrind --tool=callgrind \
		--callgrind-out-file="$T/$name.cg" "${opts[@]}" "$@" \
		>"$T/$name.out" 2>"$T/$name.err" ||
		harness_fail "$B" "$name failed: $(tail -2 "$T/$name.err")"
	[ "$(grep -c " QUIT$" "$T/s.log")" -gt "$quits" ] ||
		harness_fail "$B" "$name: no session reached the server"
	ir "$T/$name.cg"
}

SESSION="" WHOLE=""
for ((k = 0; k < REPS; k++)); do
	SESSION+="$(cg session --toggle-collect=event_base_loop -- \
		"$ETRN_TOOL" -H site.example 127.0.0.1 a.example b.example c.example),"
	WHOLE+="$(cg whole -- \
		"$ETRN_TOOL" -H site.example 127.0.0.1 a.example b.example c.example),"
done
PYTHON=$(cg python -- "$PY" "$T/etrn3.py")

ref=
[ -r "$BENCH_DIR/callgrind.ref" ] &&
	ref=$(awk '$1 == "session_ir" {print $2}' "$BENCH_DIR/callgrind.ref")
if [ -n "$ref" ]; then
	row "$B" "Ir, one 3-domain session (inside the loop)" instr "$SESSION" \
		"recorded in bench/callgrind.ref" "$ref" \
		"<= 1.5x the recorded figure" "ratio >= 0.667"
else
	row "$B" "Ir, one 3-domain session (inside the loop)" instr "$SESSION" \
		"" "" "report" ""
fi
row "$B" "Ir, whole etrn process (start-up + session + exit)" instr "$WHOLE" \
	"python3 smtplib, whole process" "$PYTHON" "report" ""
top=$(callgrind_annotate "$T/session.cg" 2>/dev/null | python3 -c '
import re, sys
out = []
for line in sys.stdin:
    m = re.match(r"\s*([0-9,]+) \(\s*([0-9.]+)%\)\s+(\S+)", line)
    if m and "PROGRAM TOTALS" not in line and len(out) < 8:
        fn = m.group(3).rsplit(":", 1)[-1]
        out.append("%s %s (%s%%)" % (fn, m.group(1), m.group(2)))
print("; ".join(out))')
note "$B" "top functions of the session (exclusive Ir): $top"
[ -n "$ref" ] && note "$B" "reference: $(grep -v '^session_ir' "$BENCH_DIR/callgrind.ref" | head -1)"
exit 0
