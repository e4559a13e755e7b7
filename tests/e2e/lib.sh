# SPDX-License-Identifier: ISC
# Helpers for etrnd's end-to-end tests against a real Postfix secondary.
# Builds on ../integration/lib.sh (namespaces, check/ok/not_ok/finish,
# wait_for, the cleanup trap) and adds throwaway Postfix instances, the
# site's mail sink and mail injection.
#
#   site      site0  192.0.2.1/24 2001:db8::1/64   etrnd, sink.py on :25
#   provider  prov0  192.0.2.2/24 2001:db8::2/64   Postfix instance(s)
#
# A Postfix instance here is a directory $T/NAME holding main.cf,
# master.cf, transport(.db), queue/, data/ and maillog.  Every postfix
# command gets "-c $T/NAME" (so MAIL_CONFIG points there); nothing reads
# or writes the host's /etc/postfix except the package's read-only
# postfix-files and dynamicmaps.cf.  The master daemon runs inside the
# provider namespace (started with ip netns exec) and listens on the
# provider's address(es) plus its own loopback address 127.0.0.N, where
# the tests inject mail over SMTP.

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../integration/lib.sh
. "$E2E_DIR/../integration/lib.sh"

PATH=$PATH:/usr/sbin:/sbin
SINK="$E2E_DIR/sink.py"
INJECT="$E2E_DIR/inject.py"
# shellcheck disable=SC2034 # used by the scripts that source this
TUN_HOLDER="$E2E_DIR/tun-holder.py"
# mktemp made $T 0700; Postfix's unprivileged processes must reach their
# queue inside it.
chmod 755 "$T"

# Postfix's next hop for the site's domains (the sink): the transport map
# entry smtp:[$SITE_HOP]:25.  Set before setup_postfix.
SITE_HOP=192.0.2.1
# The site's domains, relayed (and fast-flushed) by every instance.
SITE_DOMAINS="example.org example.net sub.example.net"

POSTFIX_NAMES=()
NETNS_ETC=()
declare -A PF_DIR PF_INJECT
PF_COUNT=0

e2e_cleanup() {
	local name d
	for name in "${POSTFIX_NAMES[@]}"; do
		stop_postfix "$name"
	done
	for d in "${NETNS_ETC[@]}"; do
		rm -rf "$d"
	done
	# /etc/netns itself goes too if a test run made it and no other
	# namespace's directory is left in it (runs may overlap).
	if [ -e /etc/netns/.etrnd-e2e ] &&
	    [ -z "$(ls -A /etc/netns | grep -v '^\.etrnd-e2e$')" ]; then
		rm -f /etc/netns/.etrnd-e2e
		rmdir /etc/netns 2>/dev/null
	fi
	# E2E_KEEP=DIR: keep a copy of the logs and Postfix instances.
	[ -n "${E2E_KEEP:-}" ] && rm -rf "$E2E_KEEP" && cp -a "$T" "$E2E_KEEP"
	cleanup
}
trap e2e_cleanup EXIT

# need_postfix: root, namespaces and the Postfix programs, else skip (77).
need_postfix() {
	[ "$(id -u)" -eq 0 ] ||
		skip "needs root (network namespaces and a Postfix instance)"
	local p
	for p in postfix postconf postqueue postmap; do
		command -v "$p" >/dev/null || skip "needs the Debian package" \
		    "postfix (missing $p); install it without configuring a" \
		    "system MTA: echo 'postfix postfix/main_mailer_type select" \
		    "No configuration' | debconf-set-selections &&" \
		    "DEBIAN_FRONTEND=noninteractive apt-get install -y" \
		    "--no-install-recommends postfix"
	done
	if ! getent passwd postfix >/dev/null ||
	    ! getent group postdrop >/dev/null; then
		skip "needs the postfix user and postdrop group (package postfix)"
	fi
	need_netns
}

# setup_e2e_world: setup_world, and make the provider fail fast while the
# site is down: routes over a veth without carrier are ignored, so a
# delivery attempt gets "Network is unreachable" at once.
setup_e2e_world() {
	setup_world
	ip netns exec "$NS_PROV" sysctl -qw \
		net.ipv4.conf.prov0.ignore_routes_with_linkdown=1 \
		net.ipv6.conf.prov0.ignore_routes_with_linkdown=1 \
		net.ipv6.conf.prov0.keep_addr_on_down=1
}

# pf NAME CMD ARGS...: run a Postfix command for instance NAME in the
# provider namespace.
pf() {
	local name=$1 cmd=$2
	shift 2
	ip netns exec "$NS_PROV" "$cmd" -c "${PF_DIR[$name]}" "$@"
}

# setup_postfix NAME "ADDRESS..." [KEY=VALUE...]: create and start an
# instance listening on ADDRESS... (IPv4 and/or IPv6) and on 127.0.0.N;
# KEY=VALUE override main.cf.  Returns non-zero if it does not start.
setup_postfix() {
	local name=$1 addrs=$2 dir d
	shift 2
	dir=$T/$name
	PF_COUNT=$((PF_COUNT + 1))
	PF_DIR[$name]=$dir
	PF_INJECT[$name]=127.0.0.$((10 + PF_COUNT))
	mkdir -p "$dir/queue" "$dir/data"
	# Postfix insists that each inet_interfaces address is on an
	# interface (loopback routes all of 127/8, but that is not enough).
	ip -n "$NS_PROV" addr add "${PF_INJECT[$name]}/32" dev lo
	chown postfix "$dir/data"
	cat >"$dir/main.cf" <<MAINCF
# Throwaway secondary MX for etrnd's tests (instance "$name").
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = $name.provider.example
mydomain = provider.example
myorigin = \$myhostname
mydestination =
local_recipient_maps =
local_transport = error:no local delivery
alias_maps =
alias_database =
biff = no
inet_interfaces = ${PF_INJECT[$name]}, ${addrs// /, }
inet_protocols = all
mynetworks = 127.0.0.0/8 [::1]/128 192.0.2.0/24 [2001:db8::]/64
relay_domains = $SITE_DOMAINS
transport_maps = hash:$dir/transport
smtpd_etrn_restrictions = permit_mynetworks, reject
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_connect_timeout = 2s
minimal_backoff_time = 2h
maximal_backoff_time = 4h
queue_run_delay = 2h
maillog_file = $dir/maillog
maillog_file_prefixes = $T
debug_peer_list = 192.0.2.1 [2001:db8::1]
smtputf8_enable = no
MAINCF
	cat >"$dir/master.cf" <<'MASTERCF'
# service type  private unpriv  chroot  wakeup  maxproc command
smtp      inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
MASTERCF
	: >"$dir/transport"
	for d in $SITE_DOMAINS; do
		printf '%s\tsmtp:[%s]:25\n' "$d" "$SITE_HOP" >>"$dir/transport"
	done
	if [ $# -gt 0 ]; then
		postconf -c "$dir" -e "$@" || return 1
	fi
	pf "$name" postmap "hash:$dir/transport" || return 1
	POSTFIX_NAMES+=("$name")
	start_postfix "$name"
}

# start_postfix NAME: start (again); true once it accepts SMTP.
start_postfix() {
	local name=$1
	pf "$name" postfix check >"$T/$name.check" 2>&1 ||
		{ cat "$T/$name.check"; return 1; }
	pf "$name" postfix start >>"$T/$name.check" 2>&1 ||
		{ cat "$T/$name.check"; return 1; }
	wait_for 15 smtp_ready "${PF_INJECT[$name]}"
}

# smtp_ready ADDRESS: something in the provider answers SMTP on :25.
smtp_ready() {
	ip netns exec "$NS_PROV" python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 25), timeout=1)
sys.exit(0 if s.recv(4).startswith(b"220") else 1)' "$1" 2>/dev/null
}

# master_pid NAME: the PID of the instance's master, if it runs.
master_pid() {
	local f=${PF_DIR[$1]}/queue/pid/master.pid pid
	[ -r "$f" ] || return 1
	pid=$(tr -d ' \n' <"$f")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# stop_postfix NAME: "postfix stop" (which waits up to 5 s), then kill
# the master left over, by its PID file, if there is one.
stop_postfix() {
	local name=$1 pid
	pid=$(master_pid "$name") || return 0
	pf "$name" postfix stop >/dev/null 2>&1
	wait_for 6 eval "! kill -0 $pid 2>/dev/null" && return 0
	kill -9 -- "-$pid" "$pid" 2>/dev/null
	wait_for 2 eval "! kill -0 $pid 2>/dev/null"
}

# inject NAME COUNT TAG DOMAIN...: queue COUNT messages at instance NAME
# over SMTP, round-robin over DOMAIN..., Message-IDs <TAG.i@e2e.example>.
inject() {
	local name=$1 count=$2 tag=$3
	shift 3
	ip netns exec "$NS_PROV" python3 "$INJECT" --tag "$tag" \
		"${PF_INJECT[$name]}" 25 "$count" "$@"
}

# queue_count NAME QUEUE: messages in the instance's QUEUE (deferred,
# active, incoming, hold).
queue_count() {
	pf "$1" postqueue -j 2>/dev/null |
		grep -c "\"queue_name\": *\"$2\""
}

# queue_total NAME: messages in any queue.
queue_total() {
	pf "$1" postqueue -j 2>/dev/null | grep -c '"queue_name"'
}

# wait_deferred NAME N [SECONDS]: until at least N messages sit in the
# deferred queue (a delivery attempt failed), at most SECONDS (30).
wait_deferred() {
	local name=$1 n=$2 limit=${3:-30} i
	for ((i = 0; i < limit * 5; i++)); do
		[ "$(queue_count "$name" deferred)" -ge "$n" ] && return 0
		sleep 0.2
	done
	echo "# $name: only $(queue_count "$name" deferred) of $n deferred:"
	pf "$name" postqueue -p | tail -20
	return 1
}

# start_sink NAME [ADDRESS]: the site's SMTP server on ADDRESS:25 (default
# "::", IPv4 and IPv6) in the site namespace, logging to $T/NAME.log (the
# messages) and $T/NAME.conns (the connections it accepted, sink_conns).
start_sink() {
	local name=$1 addr=${2:-::}
	rm -f "$T/$name.ready"
	ip netns exec "$NS_SITE" python3 "$SINK" "$addr" 25 \
		--log "$T/$name.log" --ready "$T/$name.ready" --lifetime 300 \
		--conns "$T/$name.conns" &
	SINK_PID=$!
	PIDS+=("$SINK_PID")
	wait_for 10 test -e "$T/$name.ready"
}

# wait_site_idle [SECONDS]: until no SMTP connection to the site is open.
# Postfix keeps idle connections to the sink cached for 2 s; taking the
# link down under one makes its next reuse hang (RSET timeout, 20 s).
wait_site_idle() {
	wait_for "${1:-10}" eval "[ -z \"\$(ip netns exec '$NS_SITE' \
		ss -Htn state established '( sport = :25 )')\" ]"
}

# start_etrnd_e2e CONF LOG: start_etrnd, with LOG created first (so its
# wait never greps a file that does not exist yet).
start_etrnd_e2e() {
	: >"$2"
	start_etrnd "$@"
}

stop_sink() {
	kill "$SINK_PID" 2>/dev/null
	wait "$SINK_PID" 2>/dev/null
	return 0
}

# sink_conns NAME [ADDRESS]: SMTP connections the sink NAME accepted (from
# ADDRESS; IPv4-mapped peers are written as IPv4).
sink_conns() {
	local f=$T/$1.conns
	[ -e "$f" ] || { echo 0; return; }
	if [ $# -ge 2 ]; then
		awk -v a="$2" '$2 == a {n++} END {print n + 0}' "$f"
	else
		wc -l <"$f"
	fi
}

# wait_secs SECONDS COMMAND...: like wait_for, for a COMMAND that takes
# time itself (etrnctl and python3): bounded by the clock, not by a count,
# polling every 200 ms.
wait_secs() {
	local end
	end=$(awk -v n="$EPOCHREALTIME" -v s="$1" 'BEGIN {printf "%.3f", n + s}')
	shift
	while :; do
		"$@" && return 0
		awk -v n="$EPOCHREALTIME" -v e="$end" 'BEGIN {exit !(n < e)}' ||
			return 1
		sleep 0.2
	done
}

# delivered LOG [PATTERN]: messages the sink recorded (matching PATTERN).
delivered() {
	count_lines "$T/$1.log" "${2:-.}"
}

# wait_delivered LOG N SECONDS [PATTERN]: until N messages arrived.
wait_delivered() {
	local log=$1 n=$2 limit=$3 pat=${4:-.}
	wait_for "$limit" eval \
		"[ \"\$(delivered '$log' '$pat')\" -ge $n ]"
}

# last_delivery LOG: unix time of the last message the sink recorded.
last_delivery() {
	awk 'END {print $1}' "$T/$1.log"
}

# ms_since T0 T1: milliseconds from T0 to T1 (unix times with fractions).
ms_between() {
	awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", (b - a) * 1000}'
}

# etrn_seen NAME ARG: ETRN commands with ARG the instance's smtpd logged
# (debug_peer_list logs each command from the site).
etrn_seen() {
	local f=${PF_DIR[$1]}/maillog
	[ -e "$f" ] || { echo 0; return; }
	grep -c -- "< [^ ]*: ETRN $2\$" "$f"
}

# netns_file NS FILE LINE...: /etc/FILE (hosts, resolv.conf) for processes
# started in namespace NS (ip netns exec bind-mounts /etc/netns/NS/FILE
# over it); removed in cleanup.
netns_file() {
	local d=/etc/netns/$1 file=$2
	shift 2
	# ip(8) ignores files directly in /etc/netns: mark it as ours.
	mkdir /etc/netns 2>/dev/null && : >/etc/netns/.etrnd-e2e
	mkdir -p "$d"
	NETNS_ETC+=("$d")
	printf '%s\n' "$@" >"$d/$file"
}

# netns_hosts LINE...: an /etc/hosts for processes started in the site
# namespace.
netns_hosts() {
	netns_file "$NS_SITE" hosts "$@"
}

# show_on_failure FILE...: print files (indented) into the test output.
show_on_failure() {
	local f
	for f in "$@"; do
		echo "# --- $f"
		[ -e "$f" ] && tail -40 "$f" | sed 's/^/#   /'
	done
}

# conf NAME: etrnd's configuration for a scenario, from standard input.
conf() {
	cat >"$T/$1.conf"
}

link_up() {
	ip -n "$NS_SITE" link set site0 up
}

link_down() {
	ip -n "$NS_SITE" link set site0 down
}

stop_etrnd() {
	kill "$ETRND_PID" 2>/dev/null
	wait "$ETRND_PID" 2>/dev/null
	return 0
}
