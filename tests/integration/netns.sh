#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# etrnd watching a real veth in a network namespace, an ETRN listener in
# another: link-up sends ETRN at once; flapping within settle runs once;
# a link taken down mid-backoff stops the retries until it is back; a
# route that comes after the address (pppd's order) is waited for, not
# failed on; a redial with a new address ends the session it strands; an
# IPv6 address in duplicate address detection is waited for, not failed on.
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

# 4. pppd's order: the address first, the route to the relay 150 ms later.
# No connection is tried before the route (the kernel says "no route"),
# nothing is counted as a failure or backed off, and the ETRN goes out as
# soon as the route is there.
ip -n "$NS_SITE" link set site0 down
ip -n "$NS_SITE" addr add 198.51.100.7/32 dev site0
ip -n "$NS_PROV" addr add 203.0.113.2/24 dev prov0
ip -n "$NS_PROV" route add 198.51.100.7/32 dev prov0
cat >"$T/d.conf" <<CONF
[daemon]
watch = site0
settle = 0

[relay isp]
host = 203.0.113.2
domains = example.org
CONF
start_listener d 203.0.113.2
start_etrnd "$T/d.conf" "$T/d.etrnd.log"
ip -n "$NS_SITE" link set site0 up
wait_for 5 grep -q "not reachable yet" "$T/d.etrnd.log"
sleep 0.15
check "no route yet: no session, no connection tried" \
	test "$(count_lines "$T/d.etrnd.log" "connecting to")" -eq 0
t0=$EPOCHREALTIME
ip -n "$NS_SITE" route add 203.0.113.0/24 dev site0 src 198.51.100.7
if wait_for 5 grep -q "ETRN example.org" "$T/d.log"; then
	t1=$(awk '/ ETRN example.org$/ {print $1; exit}' "$T/d.log")
	ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) * 1000}')
	echo "# ip route add -> ETRN example.org at the listener: ${ms} ms"
	ok "the route appears: ETRN at once"
else
	not_ok "the route appears: ETRN at once"
	cat "$T/d.etrnd.log"
fi
sleep 0.5
check "exactly one session" test "$(count_lines "$T/d.log" "ETRN example.org")" -eq 1
check "one connection tried in all" \
	test "$(count_lines "$T/d.etrnd.log" "connecting to")" -eq 1
if grep "temporary failure\|asking again\|still failing" "$T/d.etrnd.log"; then
	not_ok "no failure logged, no backoff"
else
	ok "no failure logged, no backoff"
fi
kill "$ETRND_PID"
wait "$ETRND_PID"

# 5. A redial with a new address while a session waits for its reply: the
# stranded session ends when its link goes, and the relay is asked afresh
# as soon as the route is back -- not after reply-timeout.
ip -n "$NS_PROV" addr add 203.0.113.3/24 dev prov0
ip -n "$NS_PROV" route add 198.51.100.8/32 dev prov0
cat >"$T/e.conf" <<CONF
[daemon]
watch = site0
settle = 0
hold-down = 0
reply-timeout = 60s

[relay isp]
host = 203.0.113.3
domains = example.org
CONF
start_listener e 203.0.113.3 --delay 4
start_etrnd "$T/e.conf" "$T/e.etrnd.log"
check "a first session waits for its reply" \
	wait_for 5 grep -q "ETRN example.org" "$T/e.log"
check "... from 198.51.100.7" grep -q "^[0-9.]* 1 CONNECT 198.51.100.7$" "$T/e.log"
ip -n "$NS_SITE" link set site0 down
ip -n "$NS_SITE" addr del 198.51.100.7/32 dev site0
ip -n "$NS_SITE" addr add 198.51.100.8/32 dev site0
ip -n "$NS_SITE" link set site0 up
t0=$EPOCHREALTIME
ip -n "$NS_SITE" route add 203.0.113.0/24 dev site0 src 198.51.100.8
if wait_for 8 grep -q "^[0-9.]* 2 ETRN example.org" "$T/e.log"; then
	t1=$(awk '$2 == 2 && $3 == "ETRN" {print $1; exit}' "$T/e.log")
	ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) * 1000}')
	echo "# link back with a new address -> ETRN again: ${ms} ms"
	ok "after the redial: asked again at once, not after reply-timeout"
else
	not_ok "after the redial: asked again at once, not after reply-timeout"
	cat "$T/e.etrnd.log"
fi
check "the stranded session ended when its link went away" \
	grep -q "went away; ending it" "$T/e.etrnd.log"
check "the new session came from the new address" \
	grep -q "^[0-9.]* 2 CONNECT 198.51.100.8$" "$T/e.log"
if grep "temporary failure\|asking again\|still failing" "$T/e.etrnd.log"; then
	not_ok "the redial is no failure: no backoff"
else
	ok "the redial is no failure: no backoff"
fi
kill "$ETRND_PID"
wait "$ETRND_PID"

# 6. IPv6 with duplicate address detection on: the site's only IPv6
# address is tentative for about a second after link-up, and the kernel
# offers no usable source until it is not.  One run, as soon as it is
# usable: no EADDRNOTAVAIL, no failure, no backoff.
ip -n "$NS_SITE" link set site0 down
ip -n "$NS_SITE" addr del 2001:db8::1/64 dev site0
ip -n "$NS_SITE" addr add 2001:db8::7/64 dev site0
cat >"$T/f.conf" <<CONF
[daemon]
watch = site0
settle = 0

[relay isp]
host = 2001:db8::2
domains = example.org
CONF
start_listener f 2001:db8::2
start_etrnd "$T/f.conf" "$T/f.etrnd.log"
ip -n "$NS_SITE" link set site0 up
t0=$EPOCHREALTIME
if wait_for 10 grep -q "ETRN example.org" "$T/f.log"; then
	t1=$(awk '/ ETRN example.org$/ {print $1; exit}' "$T/f.log")
	ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) * 1000}')
	echo "# link-up with DAD -> ETRN over IPv6: ${ms} ms"
	ok "IPv6 with DAD: ETRN once the address is usable"
else
	not_ok "IPv6 with DAD: ETRN once the address is usable"
	cat "$T/f.etrnd.log"
fi
sleep 0.5
check "IPv6 with DAD: exactly one session" \
	test "$(count_lines "$T/f.log" "ETRN example.org")" -eq 1
check "IPv6 with DAD: from the address that was tentative" \
	grep -q "CONNECT 2001:db8::7$" "$T/f.log"
if grep "temporary failure\|asking again\|still failing\|assign requested" \
    "$T/f.etrnd.log"; then
	not_ok "IPv6 with DAD: no failure, no backoff"
else
	ok "IPv6 with DAD: no failure, no backoff"
fi
kill "$ETRND_PID"
wait "$ETRND_PID"

finish
