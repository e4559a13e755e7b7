#!/bin/bash
# SPDX-License-Identifier: ISC
#
# Run each fuzz target for a short, bounded time on a copy of its seed
# corpus (the tree is never written), with its dictionary if it has one.
# Fails on the first crash, leak, timeout or sanitizer report; the input
# that caused it is kept in BUILDDIR/artifacts/ for the CI log and upload.
#
#   run-smoke.sh SRCDIR BUILDDIR TARGET...
#
# FUZZ_SECONDS: time per target (default 20).
set -euo pipefail

if [ $# -lt 3 ]; then
	echo "usage: $0 SRCDIR BUILDDIR TARGET..." >&2
	exit 2
fi
srcdir=$1
builddir=$2
shift 2
seconds=${FUZZ_SECONDS:-20}

work=$(mktemp -d "${TMPDIR:-/tmp}/etrnd-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
artifacts=$builddir/artifacts
mkdir -p "$artifacts"

status=0
for t in "$@"; do
	exe=$builddir/fuzz_$t
	mkdir -p "$work/$t"
	cp -R "$srcdir/corpus/$t/." "$work/$t/"
	args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10
	    -print_final_stats=1 -close_fd_mask=2
	    -artifact_prefix="$artifacts/$t-")
	if [ -f "$srcdir/$t.dict" ]; then
		args+=(-dict="$srcdir/$t.dict")
	fi
	echo "== fuzz_$t: ${seconds}s on $(ls "$work/$t" | wc -l) seeds"
	if ! "$exe" "${args[@]}" "$work/$t"; then
		echo "== fuzz_$t: FAILED; reproduce with: $exe $artifacts/$t-*" >&2
		status=1
	fi
done
exit $status
