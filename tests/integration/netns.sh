#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# etrnd watching a real veth in a network namespace, an ETRN listener in
# another: link-up sends ETRN at once; flapping within settle runs once;
# a link taken down mid-backoff stops the retries until it is back.
. "$(dirname "$0")/lib.sh"
need_netns
setup_world

# 1. Link-up -> ETRN, and how long it took.
cat >"$T/a.conf" <<CONF
[daemon]
watch = site0 ppp*
settle = 0
interval = 0

[relay isp]
host = 192.0.2.2
domains = example.org @example.net
CONF
start_listener a 192.0.2.2
start_etrnd "$T/a.conf" "$T/a.etrnd.log"
sleep 0.3
check "no session while the link is down" test "$(count_lines "$T/a.log")" -eq 0
ip -n "$NS_SITE" link set site0 up
t0=$EPOCHREALTIME
if wait_for 10 grep -q "ETRN @example.net" "$T/a.log"; then
	t1=$(awk '/ ETRN example.org$/ {print $1; exit}' "$T/a.log")
	ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) * 1000}')
	echo "# ip link set up -> ETRN example.org at the listener: ${ms} ms"
	ok "link-up sends ETRN example.org and ETRN @example.net"
else
	not_ok "link-up sends ETRN example.org and ETRN @example.net"
	cat "$T/a.etrnd.log"
fi
check "both domains asked in one session" \
	test "$(awk '{print $2}' "$T/a.log" | sort -u | wc -l)" -eq 1
kill "$ETRND_PID"
wait "$ETRND_PID"
check "SIGTERM: clean exit" test $? -eq 0

# 2. Twenty flaps within settle: exactly one run.
ip -n "$NS_SITE" link set site0 down
sed -i 's/^settle = 0/settle = 2s/' "$T/a.conf"
: >"$T/a.log"
start_etrnd "$T/a.conf" "$T/b.etrnd.log"
for i in $(seq 20); do
	ip -n "$NS_SITE" link set site0 up
	ip -n "$NS_SITE" link set site0 down
done
ip -n "$NS_SITE" link set site0 up
wait_for 10 grep -q "ETRN @example.net" "$T/a.log"
sleep 3
check "20 flaps within settle: exactly one session" \
	test "$(count_lines "$T/a.log" "ETRN example.org")" -eq 1
kill "$ETRND_PID"
wait "$ETRND_PID"

# 3. Down mid-backoff: no session while down; back up: ETRN arrives.
kill "${PIDS[0]}"
wait "${PIDS[0]}" 2>/dev/null
cat >"$T/c.conf" <<CONF
[daemon]
watch = site0
settle = 0
retry-min = 1s
retry-max = 1s

[relay isp]
host = 192.0.2.2
source = 192.0.2.11
domains = example.org
CONF
ip -n "$NS_SITE" addr add 192.0.2.11/24 dev site0
: >"$T/c.log"
start_etrnd "$T/c.conf" "$T/c.etrnd.log"
wait_for 10 grep -q "asking again" "$T/c.etrnd.log"
check "refused connection: backoff armed" grep -q "asking again for 1 domain" "$T/c.etrnd.log"
ip -n "$NS_SITE" link set site0 down
wait_for 5 grep -q "no watched link is up" "$T/c.etrnd.log"
before=$(count_lines "$T/c.etrnd.log" "connecting to")
sleep 3
after=$(count_lines "$T/c.etrnd.log" "connecting to")
check "no session while the link is down ($before -> $after attempts)" \
	test "$before" -eq "$after"
start_listener c 192.0.2.2
ip -n "$NS_SITE" link set site0 up
check "link back up: ETRN arrives" wait_for 10 grep -q "ETRN example.org" "$T/c.log"
check "the session came from source = 192.0.2.11" grep -q "CONNECT 192.0.2.11$" "$T/c.log"
kill "$ETRND_PID"
wait "$ETRND_PID"

finish
