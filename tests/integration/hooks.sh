#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# conf/ppp/ip-up.d/etrnd called the way pppd (through Debian's
# /etc/ppp/ip-up and run-parts) calls it: a watched interface makes etrnd
# ask its relays, an unwatched one does nothing, and with no daemon
# running the hook exits 0 quietly.  Loopback only.
. "$(dirname "$0")/lib.sh"
: "${ETRNCTL:?set ETRNCTL to the etrnctl binary}"
HOOK="$TESTS_DIR/../../conf/ppp/ip-up.d/etrnd"
SOCK="$T/control"
export ETRNCTL ETRND_CONTROL="$SOCK"

# pppd's six arguments, and Debian's PPP_* variables.
ip_up() {
	PPP_IFACE=$1 PPP_TTY=/dev/ttyS0 PPP_SPEED=115200 \
	PPP_LOCAL=198.51.100.7 PPP_REMOTE=198.51.100.1 PPP_IPPARAM=isp \
		"$HOOK" "$1" /dev/ttyS0 115200 198.51.100.7 198.51.100.1 isp
}

ip_up ppp0 >"$T/out" 2>&1
check "no daemon: the hook exits 0" test $? -eq 0
check "no daemon: and says nothing" test ! -s "$T/out"

port=$(free_port)
python3 "$LISTENER" 127.0.0.1 "$port" --log "$T/l.log" --ready "$T/ready" \
	--lifetime 60 &
PIDS+=($!)
wait_for 10 test -e "$T/ready"
cat >"$T/etrnd.conf" <<CONF
[daemon]
watch = ppp*
control-socket = $SOCK

[relay isp]
host = 127.0.0.1
port = $port
domains = example.org
CONF
"$ETRND" -c "$T/etrnd.conf" 2>"$T/etrnd.log" &
PIDS+=($!)
wait_for 10 test -S "$SOCK"

ip_up eth7 >"$T/out" 2>&1
check "unwatched interface: exit 0" test $? -eq 0
sleep 0.5
check "unwatched interface: no session" test "$(count_lines "$T/l.log" CONNECT)" -eq 0

ip_up ppp0 >"$T/out" 2>&1
check "watched ppp0: exit 0" test $? -eq 0
check "watched ppp0: etrnd asks the relay" \
	wait_for 10 grep -q "ETRN example.org" "$T/l.log"
check "watched ppp0: etrnd logs why" grep -q "ppp0 is up (link tool hook)" "$T/etrnd.log"

# Positional arguments alone, as a bare pppd ip-up script gets them.
: >"$T/l.log"
env -u PPP_IFACE "$HOOK" ppp1 /dev/ttyS1 57600 198.51.100.8 198.51.100.1 ""
check "arguments only: etrnd asks again" \
	wait_for 10 grep -q "ETRN example.org" "$T/l.log"
finish
