# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# Shared by the benchmark scripts in bench/: reuses the test helpers
# (namespaces, bounded waits, cleanup of every PID and namespace made) and
# adds the result file that bench/run prints as one table.
#
# A benchmark appends to $BENCH_OUT, one tab-separated line per row:
#   R  BENCH  METRIC  UNIT  ETRND-SAMPLES  BASELINE-NAME  BASELINE-SAMPLES
#      TARGET-TEXT  TARGET-EXPR
# samples comma-separated (one value is fine); TARGET-EXPR is checked by
# table.py ("p50 < 1.5", "ratio >= 30", "max <= 0", "" for none); ratio is
# baseline median / etrnd median.  And free-text notes:
#   N  BENCH  TEXT
# A benchmark exits non-zero only when its harness broke.

: "${BENCH_OUT:?run the benchmarks through bench/run}"
: "${STUB:?run the benchmarks through bench/run}"
: "${ETRN_TOOL:?run the benchmarks through bench/run}"
: "${LINKSET:?run the benchmarks through bench/run}"
: "${RUSAGE:?run the benchmarks through bench/run}"
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# BENCH_E2E=1: the real-Postfix helpers (which include the others).
if [ "${BENCH_E2E:-0}" = 1 ]; then
	# shellcheck source=../tests/e2e/lib.sh
	. "$BENCH_DIR/../tests/e2e/lib.sh"
else
	# shellcheck source=../tests/integration/lib.sh
	. "$BENCH_DIR/../tests/integration/lib.sh"
fi
PATH=$PATH:/usr/sbin:/sbin
QUICK=${QUICK:-0}

# row BENCH METRIC UNIT ETRND BASELINE-NAME BASELINE TARGET-TEXT TARGET-EXPR
row() {
	local IFS=$'\t'
	printf 'R\t%s\n' "$*" >>"$BENCH_OUT"
}

note() {
	local b=$1
	shift
	printf 'N\t%s\t%s\n' "$b" "$*" >>"$BENCH_OUT"
}

# join_csv VALUES...: "a,b,c"
join_csv() {
	local IFS=,
	echo "$*"
}

# harness_fail BENCH MESSAGE: say why and exit 1 (the harness broke).
harness_fail() {
	note "$1" "HARNESS FAILURE: $2"
	echo "bench $1: harness failure: $2" >&2
	exit 1
}

# start_stub NAME NETNS ADDRESS PORT: the C ETRN server, logging to
# $T/NAME.log; sets STUB_PID.
start_stub() {
	local name=$1 ns=$2 addr=$3 port=$4
	rm -f "$T/$name.ready"
	: >"$T/$name.log"
	ip netns exec "$ns" "$STUB" -l "$T/$name.log" -r "$T/$name.ready" \
		-t 900 "$addr" "$port" &
	STUB_PID=$!
	PIDS+=("$STUB_PID")
	wait_for 10 test -e "$T/$name.ready"
}

# wait_lines FILE PATTERN N SECONDS: until FILE has N lines matching,
# polling every 2 ms (a latency benchmark cannot poll at 20 ms), bounded.
wait_lines() {
	local f=$1 pat=$2 n=$3 limit=$4 i
	for ((i = 0; i < limit * 500; i++)); do
		[ "$(grep -c -- "$pat" "$f" 2>/dev/null)" -ge "$n" ] && return 0
		sleep 0.002
	done
	return 1
}

# nth_time FILE PATTERN N: the timestamp (field 1) of the Nth match.
nth_time() {
	awk -v pat="$2" -v n="$3" '$0 ~ pat && ++k == n {print $1; exit}' "$1"
}

ms_diff() {
	awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (b - a) * 1000}'
}

# proc_field PID FIELD: a line of /proc/PID/status, the number only.
proc_field() {
	awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"
}

# proc_cpu_ticks PID: utime + stime in clock ticks.
proc_cpu_ticks() {
	awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$1/stat"
}
