#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The interim demo: build etrnd, check the shipped configuration with -t,
# then ask a scripted ETRN server on loopback with --once and show the
# conversation.  Touches nothing outside a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."

# Only what building needs (no Postfix, no test tools); it never removes
# a package.
if [ "$(id -u)" -eq 0 ]; then
	bash .ci/deps-build.sh
fi
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null

tmp=$(mktemp -d /tmp/etrnd-demo.XXXXXX)
lpid=
cleanup() {
	[ -n "$lpid" ] && kill "$lpid" 2>/dev/null && wait "$lpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== etrnd -t conf/etrnd.conf"
build/src/etrnd -t -c conf/etrnd.conf

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$tmp/etrnd.conf" <<CONF
[relay demo]
host = 127.0.0.1
port = $port
domains = example.org @example.net #queue
CONF
python3 tests/integration/etrn-listener.py 127.0.0.1 "$port" \
	--log "$tmp/etrn.log" --ready "$tmp/ready" --lifetime 30 &
lpid=$!
for _ in $(seq 250); do [ -e "$tmp/ready" ] && break; sleep 0.02; done

echo
echo "== etrnd --once -v against an ETRN server on 127.0.0.1:$port"
status=0
build/src/etrnd --once -v -c "$tmp/etrnd.conf" || status=$?
echo
echo "== what the server received"
cat "$tmp/etrn.log"
echo
echo "etrnd --once exited $status (0: every domain accepted)"
exit "$status"
