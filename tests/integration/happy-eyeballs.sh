#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Happy Eyeballs (RFC 8305) with the real daemon: a relay name whose first
# address, IPv6, does not answer and whose second, IPv4, is the ETRN
# listener.  [2001:db8::2]:25 is a listener with backlog 0 and a connection
# waiting in it, so the provider's kernel drops every SYN to it: a connect
# would wait the whole connect-timeout (30s here, and no "unreachable"
# comes back to cut it short).  The ETRN must come after the 250 ms
# stagger instead.  The name comes from
# an /etc/hosts for the site namespace (ip netns exec bind-mounts
# /etc/netns/NS/hosts over /etc/hosts).  Needs root (else 77).

. "$(dirname "$0")/lib.sh"
need_netns
setup_world

# The namespace's hosts file goes with the namespaces, even on failure.
NETNS_ETC=/etc/netns/$NS_SITE
made_netns_dir=0
he_cleanup() {
	rm -rf "$NETNS_ETC"
	[ "$made_netns_dir" -eq 1 ] && rmdir /etc/netns 2>/dev/null
	cleanup
}
trap he_cleanup EXIT
[ -d /etc/netns ] || { mkdir /etc/netns && made_netns_dir=1; }
mkdir -p "$NETNS_ETC"
printf '%s\n' "127.0.0.1 localhost" "2001:db8::2 mx.provider.example" \
	"192.0.2.2 mx.provider.example" >"$NETNS_ETC/hosts"

cat >"$T/he.conf" <<CONF
[daemon]
watch = site0
settle = 0
interval = 0
connect-timeout = 30s

[relay isp]
host = mx.provider.example
domains = example.org
CONF
start_listener he 192.0.2.2
# The silent IPv6 address; a probe checks that SYNs are dropped.
ip netns exec "$NS_PROV" python3 -c '
import select, socket, sys, time
a = ("2001:db8::2", 25)
l = socket.socket(socket.AF_INET6)
l.bind(a)
l.listen(0)
c = socket.create_connection(a, timeout=2)
p = socket.socket(socket.AF_INET6)
p.setblocking(False)
p.connect_ex(a)
if select.select([], [p], [], 0.5)[1]:
	sys.exit(1)
open(sys.argv[1], "w").close()
time.sleep(120)
' "$T/silent.ready" &
PIDS+=($!)
wait_for 10 test -e "$T/silent.ready" ||
	skip "a full listen backlog does not drop SYNs here"
start_etrnd "$T/he.conf" "$T/he.etrnd.log"
# shellcheck disable=SC2016 # awk's $1 and $2
check "the site sees the name's two addresses, IPv6 first" \
	test "$(ip netns exec "$NS_SITE" awk '$2 == "mx.provider.example" \
		{printf "%s ", $1}' /etc/hosts)" = "2001:db8::2 192.0.2.2 "
ip -n "$NS_SITE" link set site0 up
t0=$EPOCHREALTIME
if wait_for 20 grep -q " ETRN example.org$" "$T/he.log"; then
	t1=$(awk '/ ETRN example.org$/ {print $1; exit}' "$T/he.log")
	ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) * 1000}')
	echo "# IPv6 silent, IPv4 answering: ip link set up -> ETRN at the listener: ${ms} ms (connect-timeout 30 s)"
	check "ETRN long before connect-timeout (${ms} ms < 10000 ms)" \
		awk -v m="$ms" 'BEGIN {exit !(m < 10000)}'
else
	not_ok "ETRN within 20 s"
	cat "$T/he.etrnd.log"
fi
check "the IPv6 address was tried first" \
	test "$(grep -m1 -o "connecting to [^ ]*" "$T/he.etrnd.log")" = \
		"connecting to [2001:db8::2]:25"
check "then the IPv4 address, which answered" \
	grep -q "connected to 192.0.2.2:25" "$T/he.etrnd.log"
check "one session, one ETRN" test "$(count_lines "$T/he.log" " ETRN example.org")" -eq 1
if grep "timed out\|asking again\|still failing" "$T/he.etrnd.log"; then
	not_ok "no timeout, no failure, no backoff"
else
	ok "no timeout, no failure, no backoff"
fi
kill "$ETRND_PID"
wait "$ETRND_PID"
check "SIGTERM: clean exit" test $? -eq 0
finish
