#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# man-lint: run "mandoc -Tlint -Wwarning" on each page given; any message
# fails the test.  Skips (77) when mandoc is not installed (Debian: mandoc).
set -u
if ! command -v mandoc >/dev/null 2>&1; then
	echo "SKIP: mandoc not installed (apt-get install mandoc)"
	exit 77
fi
[ $# -gt 0 ] || { echo "usage: man-lint.sh PAGE..." >&2; exit 64; }
status=0
for page in "$@"; do
	out=$(mandoc -Tlint -Wwarning "$page" 2>&1)
	rc=$?
	if [ -n "$out" ] || [ $rc -ne 0 ]; then
		printf '%s\n' "$out"
		echo "FAIL: $page (mandoc exit $rc)"
		status=1
	else
		echo "ok: $page"
	fi
done
exit $status
