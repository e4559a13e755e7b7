# SPDX-License-Identifier: ISC
# run_scenarios SCRIPT SCENARIO...: with no scenario named on the command
# line, an e2e script runs each of its scenarios in a process of its own
# and prints the summed "N passed, N failed".  Sourced before lib.sh, so
# the driver itself makes no namespaces or temporary directories.
run_scenarios() {
	local script=$1 s out rc p f npassed=0 nfailed=0
	shift
	for s in "$@"; do
		echo "# === $s"
		out=$(bash "$script" "$s" 2>&1)
		rc=$?
		printf '%s\n' "$out"
		[ "$rc" -eq 77 ] && exit 77
		p=$(printf '%s\n' "$out" | awk '/^[0-9]+ passed, [0-9]+ failed$/ {print $1}' | tail -1)
		f=$(printf '%s\n' "$out" | awk '/^[0-9]+ passed, [0-9]+ failed$/ {print $3}' | tail -1)
		npassed=$((npassed + ${p:-0}))
		nfailed=$((nfailed + ${f:-0}))
		if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
			nfailed=$((nfailed + 1))
		fi
	done
	echo "$npassed passed, $nfailed failed"
	[ "$nfailed" -eq 0 ]
}
