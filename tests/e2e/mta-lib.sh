# SPDX-License-Identifier: ISC
# Real Exim and Sendmail secondaries for etrnd's end-to-end tests, beside
# lib.sh's Postfix.  Neither is installed (each conflicts with postfix and
# would take the machine's MTA away): Debian's packages are fetched with
# "apt-get download" from the machine's own apt sources, unpacked with
# "dpkg -x" into a cache under the build directory ($E2E_MTA_CACHE), and
# run from there as instances of their own in the provider namespace, each
# with its configuration, spool, logs and /etc/hosts under $T.
#
#   Exim 4.96      exim4-daemon-light exim4-base exim4-config; needs the
#                  library libidn12 installed and the system user
#                  Debian-exim (made here if missing, as exim4-base would)
#   Sendmail 8.17  sendmail-bin sendmail-cf, and libwrap0 unpacked beside
#                  it (found through LD_LIBRARY_PATH: the cached binary has
#                  no setgid bit, so the loader honours it); m4 builds the .cf
#
# Sourced after lib.sh.  Without the packages the tests skip (77) with the
# reason, except in CI (CI=true), where they must run and fail instead.

MTA_CACHE=${E2E_MTA_CACHE:-$(dirname "$ETRND")/../e2e-mta}
declare -A MTA_ROOT MTA_DIR MTA_PID MTA_INJECT MTA_KIND
MTA_NAMES=()

mta_cleanup() {
	local name
	for name in "${MTA_NAMES[@]}"; do
		mta_stop "$name"
	done
	e2e_cleanup
}
trap mta_cleanup EXIT

# mta_unavailable REASON...: skip, or fail where CI requires these tests.
mta_unavailable() {
	if [ "${CI:-}" = true ]; then
		not_ok "CI requires the real-MTA tests to run: $*"
		finish
		exit 1
	fi
	skip "$@"
}

# mta_fetch NAME PKG...: the unpacked tree of PKG... in $MTA_CACHE/NAME
# (made once; later runs reuse it), in MTA_ROOT[NAME].  False with the
# reason on stderr when the packages cannot be downloaded or unpacked.
mta_fetch() {
	local name=$1 dl tree f rc=0
	shift
	MTA_ROOT[$name]=$MTA_CACHE/$name
	[ -e "$MTA_CACHE/$name/.complete" ] && return 0
	mkdir -p "$MTA_CACHE" || return 1
	# One run unpacks at a time; the others wait for it (bounded).
	exec {lock}>"$MTA_CACHE/.lock"
	flock -w 300 "$lock" || { exec {lock}>&-; return 1; }
	if [ ! -e "$MTA_CACHE/$name/.complete" ]; then
		# apt-get download drops to the _apt user: a directory it
		# can write into.
		dl=$T/dl-$name
		tree=$MTA_CACHE/.$name.$$
		mkdir -p "$dl" && chmod 777 "$dl"
		if ! (cd "$dl" && apt-get download -q "$@") >"$T/dl-$name.log" 2>&1; then
			# A fresh machine may have no package lists yet.
			apt-get update -q >>"$T/dl-$name.log" 2>&1
			(cd "$dl" && apt-get download -q "$@") >>"$T/dl-$name.log" 2>&1 ||
				rc=1
		fi
		rm -rf "$tree"
		if [ $rc -eq 0 ]; then
			mkdir -p "$tree"
			for f in "$dl"/*.deb; do
				if ! dpkg-deb -x "$f" "$tree"; then
					rc=1
					break
				fi
				dpkg-deb -f "$f" Package Version |
					awk '{print $2}' | paste -sd' ' >>"$tree/.versions"
			done
		fi
		if [ $rc -eq 0 ]; then
			rm -rf "${MTA_CACHE:?}/$name"
			if mv "$tree" "$MTA_CACHE/$name"; then
				: >"$MTA_CACHE/$name/.complete"
			else
				rc=1
			fi
		else
			sed 's/^/# /' "$T/dl-$name.log" | tail -5 >&2
			rm -rf "$tree"
		fi
		rm -rf "$dl"
	fi
	exec {lock}>&-
	return $rc
}

# wait_until SECONDS COMMAND...: poll every 0.1 s until COMMAND succeeds,
# for at most SECONDS of wall-clock time (lib.sh's wait_for counts polls,
# which take much longer than 20 ms on a loaded machine).
wait_until() {
	local end i
	end=$((${EPOCHREALTIME/./} + $1 * 1000000))
	shift
	for ((i = 0; i < 100000; i++)); do
		"$@" && return 0
		[ "${EPOCHREALTIME/./}" -lt "$end" ] || return 1
		sleep 0.1
	done
	return 1
}

# mta_delivered N SECONDS [PATTERN]: until the sink has N messages.
mta_delivered() {
	wait_until "$2" eval "[ \"\$(delivered sink '${3:-.}')\" -ge $1 ]"
}

# mta_versions NAME: "package version" of each unpacked package, one line.
mta_versions() {
	paste -sd, "${MTA_ROOT[$1]}/.versions" | sed 's/,/, /g'
}

# mta_common NAME KIND ADDRESS: the instance's directory and the addresses
# it listens on (ADDRESS on prov0, added if missing, and 127.0.0.N for
# injecting); its /etc/hosts in the provider namespace (Sendmail waits a
# minute on an unqualified host name) and a resolv.conf with no server.
mta_common() {
	local name=$1 kind=$2 addr=$3
	PF_COUNT=$((PF_COUNT + 1))
	MTA_NAMES+=("$name")
	# shellcheck disable=SC2034 # read by compare.sh
	MTA_KIND[$name]=$kind
	MTA_DIR[$name]=$T/$name
	MTA_INJECT[$name]=127.0.0.$((10 + PF_COUNT))
	mkdir -p "$T/$name"
	ip -n "$NS_PROV" addr add "${MTA_INJECT[$name]}/32" dev lo
	ip -n "$NS_PROV" -4 addr show dev prov0 | grep -q " $addr/" ||
		ip -n "$NS_PROV" addr add "$addr/24" dev prov0
	netns_file "$NS_PROV" hosts "127.0.0.1 localhost" \
		"192.0.2.2 $(hostname).provider.example $(hostname)" \
		"192.0.2.1 site.example"
	netns_file "$NS_PROV" resolv.conf "nameserver 127.0.0.1" \
		"options timeout:1 attempts:1"
}

# mta_start NAME COMMAND...: run the server in the foreground in a session
# of its own in the provider namespace (so mta_stop ends it and the
# children it forks by process group); true once it answers SMTP.
mta_start() {
	local name=$1
	shift
	ip netns exec "$NS_PROV" setsid "$@" \
		>>"${MTA_DIR[$name]}/stdout" 2>&1 </dev/null &
	MTA_PID[$name]=$!
	wait_until 30 smtp_ready "${MTA_INJECT[$name]}"
}

# mta_stop NAME: SIGTERM to the server's process group, then SIGKILL for
# what is left after 5 s.
mta_stop() {
	local pid=${MTA_PID[$1]:-}
	[ -n "$pid" ] || return 0
	MTA_PID[$1]=
	kill -TERM -- "-$pid" 2>/dev/null
	wait_until 5 eval "! kill -0 -- -$pid 2>/dev/null"
	kill -KILL -- "-$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# mta_inject NAME COUNT TAG DOMAIN...: like lib.sh's inject, to NAME.
mta_inject() {
	local name=$1 count=$2 tag=$3
	shift 3
	ip netns exec "$NS_PROV" python3 "$INJECT" --tag "$tag" \
		"${MTA_INJECT[$name]}" 25 "$count" "$@"
}

# need_exim: root, namespaces, Exim's packages unpacked, libidn12 and the
# user Debian-exim; else skip (or fail in CI).
need_exim() {
	need_netns
	mta_fetch exim exim4-daemon-light exim4-base exim4-config ||
		mta_unavailable "cannot download or unpack Debian's exim4" \
		    "packages (apt-get download exim4-daemon-light exim4-base" \
		    "exim4-config)"
	EXIM=${MTA_ROOT[exim]}/usr/sbin/exim4
	if ! ldd "$EXIM" >/dev/null 2>&1 || ldd "$EXIM" | grep -q 'not found'; then
		mta_unavailable "Exim needs libraries that are not installed:" \
		    "$(ldd "$EXIM" 2>&1 | awk '/not found/ {print $1}' | paste -sd' ')" \
		    "(apt-get install libidn12; .ci/deps-test.sh does)"
	fi
	if ! getent passwd Debian-exim >/dev/null; then
		useradd --system --user-group --home-dir /var/spool/exim4 \
			--no-create-home --shell /usr/sbin/nologin Debian-exim ||
			mta_unavailable "cannot create the user Debian-exim"
	fi
}

# setup_exim NAME ADDRESS MODE [ACL-HOSTS]: an Exim secondary on ADDRESS
# relaying $SITE_DOMAINS to the site ($SITE_HOP), with an ETRN ACL that
# accepts ACL-HOSTS (default the site's addresses) and denies the rest.
# MODE "builtin": no smtp_etrn_command (only "ETRN #domain" is accepted);
# "command": smtp_etrn_command = exim -R $domain (the raw argument).
setup_exim() {
	local name=$1 addr=$2 mode=$3 acl=${4:-"192.0.2.1 : 2001:db8::1"}
	local dir d cmd=''
	mta_common "$name" exim "$addr"
	dir=${MTA_DIR[$name]}
	mkdir -p "$dir/spool" "$dir/log"
	chown Debian-exim:Debian-exim "$dir/spool" "$dir/log"
	# Exim 4.96 will not put the client's (tainted) argument into a
	# command ("Tainted arg 4 for ETRN processing command"): an admin
	# passes it through a lookup in a table of the site's domains, whose
	# values are not tainted.  Any other argument ("#example.org", say)
	# runs a queue run that matches nothing: 250 OK, nothing delivered,
	# as a raw "-R #example.org" would.
	if [ "$mode" = command ]; then
		for d in $SITE_DOMAINS; do
			printf '%s: %s\n' "$d" "$d"
		done >"$dir/etrn-args"
		cmd="smtp_etrn_command = $EXIM -C $dir/exim.conf -R \
\${lookup{\$domain}lsearch{$dir/etrn-args}{\$value}{nomatch.invalid}}"
	fi
	cat >"$dir/exim.conf" <<EXIMCONF
# Throwaway Exim secondary MX for etrnd's tests (instance "$name", $mode).
exim_path = $EXIM
spool_directory = $dir/spool
log_file_path = $dir/log/%slog
pid_file_path = $dir/exim.pid
primary_hostname = $name.provider.example
qualify_domain = provider.example
local_interfaces = <; ${MTA_INJECT[$name]} ; $addr
daemon_smtp_ports = 25
never_users = nobody
keep_environment =
tls_advertise_hosts =
host_lookup =
rfc1413_hosts =
# Try each message at once, however many arrive in one session (the
# default queues them after the 10th): the test waits for N deferrals.
smtp_accept_queue_per_connection = 0
message_logs = false
log_selector = +smtp_connection +incoming_port +deliver_time +queue_time \
	+received_recipients +smtp_protocol_error +smtp_syntax_error \
	+millisec +pid
domainlist relay_to_domains = ${SITE_DOMAINS// / : }
acl_smtp_rcpt = acl_rcpt
acl_smtp_etrn = acl_etrn
$cmd

begin acl
acl_rcpt:
  accept domains = +relay_to_domains
  deny message = relay not permitted

acl_etrn:
  accept hosts = <; ${acl// : / ; }
  deny message = ETRN not permitted for \$sender_host_address

begin routers
site:
  driver = manualroute
  domains = +relay_to_domains
  transport = site_smtp
  route_list = * $SITE_HOP byname

begin transports
site_smtp:
  driver = smtp
  port = 25
  connect_timeout = 2s
  hosts_avoid_tls = *

begin retry
# As on a real secondary: after a failure, hours until its own next try.
* * F,4h,2h
EXIMCONF
	mta_start "$name" "$EXIM" -C "$dir/exim.conf" -bdf
}

# exim_log NAME: the instance's main log.
exim_log() {
	echo "${MTA_DIR[$1]}/log/mainlog"
}

# exim_queue NAME: messages in the instance's queue (its spool's header
# files, counted directly: cheaper than a run of exim -bpc).
exim_queue() {
	find "${MTA_DIR[$1]}/spool/input" -name '*-H' 2>/dev/null | wc -l
}

# exim_wait_deferred NAME N [SECONDS]: until N messages are queued and at
# least N delivery attempts have been deferred (== lines in the log).
exim_wait_deferred() {
	local name=$1 n=$2 limit=${3:-30}
	wait_until "$limit" eval "[ \"\$(count_lines '$(exim_log "$name")' ' == ')\" -ge $n ] &&
		[ \"\$(exim_queue '$name')\" -ge $n ]" && return 0
	echo "# $name: $(exim_queue "$name") queued," \
	    "$(count_lines "$(exim_log "$name")" ' == ') deferrals of $n"
	return 1
}

# need_sendmail: root, namespaces, Sendmail's packages and libwrap0
# unpacked; else skip (or fail in CI).
need_sendmail() {
	local lib
	need_netns
	mta_fetch sendmail sendmail-bin sendmail-cf libwrap0 ||
		mta_unavailable "cannot download or unpack Debian's sendmail" \
		    "packages (apt-get download sendmail-bin sendmail-cf libwrap0)"
	command -v m4 >/dev/null ||
		mta_unavailable "Sendmail's configuration needs m4" \
		    "(apt-get install m4; .ci/deps-test.sh does)"
	SENDMAIL=${MTA_ROOT[sendmail]}/usr/libexec/sendmail/sendmail
	SENDMAIL_CF=${MTA_ROOT[sendmail]}/usr/share/sendmail/cf
	lib=${MTA_ROOT[sendmail]}/usr/lib/x86_64-linux-gnu
	# setgid mail: the loader would ignore LD_LIBRARY_PATH (libwrap).
	chmod g-s "$SENDMAIL"
	SENDMAIL_ENV=(env "LD_LIBRARY_PATH=$lib")
	if ! "${SENDMAIL_ENV[@]}" ldd "$SENDMAIL" >/dev/null 2>&1 ||
	    "${SENDMAIL_ENV[@]}" ldd "$SENDMAIL" | grep -q 'not found'; then
		mta_unavailable "Sendmail needs libraries that are not" \
		    "installed: $("${SENDMAIL_ENV[@]}" ldd "$SENDMAIL" 2>&1 |
		    awk '/not found/ {print $1}' | paste -sd' ')"
	fi
}

# setup_sendmail NAME ADDRESS "DOMAIN..." [PRIVACY]: a Sendmail secondary
# on ADDRESS relaying DOMAIN... to the site ($SITE_HOP) through its
# mailertable, with PrivacyOptions PRIVACY (default authwarnings; add
# noetrn to refuse ETRN).  Its SMTP traffic (every command and reply, by
# process) goes to $T/NAME/traffic (-X): it has no log file of its own.
setup_sendmail() {
	local name=$1 addr=$2 doms=$3 privacy=${4:-authwarnings} dir d
	mta_common "$name" sendmail "$addr"
	dir=${MTA_DIR[$name]}
	mkdir -p "$dir/queue"
	chmod 700 "$dir/queue"
	: >"$dir/mailertable"
	: >"$dir/relay-domains"
	for d in $doms; do
		printf '%s\tesmtp:[%s]\n' "$d" "$SITE_HOP" >>"$dir/mailertable"
		echo "$d" >>"$dir/relay-domains"
	done
	: >"$dir/local-host-names"
	echo "hosts files" >"$dir/service.switch"
	cat >"$dir/sendmail.mc" <<MC
divert(-1)
Throwaway Sendmail secondary MX for etrnd's tests (instance "$name").
divert(0)dnl
VERSIONID(\`etrnd e2e $name')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`$name.provider.example')dnl
define(\`QUEUE_DIR', \`$dir/queue')dnl
define(\`STATUS_FILE', \`$dir/statistics')dnl
define(\`confPID_FILE', \`$dir/sendmail.pid')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`confCW_FILE', \`-o $dir/local-host-names')dnl
define(\`confSERVICE_SWITCH_FILE', \`$dir/service.switch')dnl
define(\`confPRIVACY_FLAGS', \`$privacy')dnl
define(\`confTO_CONNECT', \`2s')dnl
define(\`confTO_ICONNECT', \`2s')dnl
define(\`confTO_IDENT', \`0')dnl
define(\`confDELIVERY_MODE', \`background')dnl
define(\`confLOG_LEVEL', \`9')dnl
define(\`confQUEUE_LA', \`999')dnl
define(\`confREFUSE_LA', \`999')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`mailertable', \`hash -o $dir/mailertable')dnl
RELAY_DOMAIN_FILE(\`$dir/relay-domains')dnl
DAEMON_OPTIONS(\`Port=smtp, Addr=${MTA_INJECT[$name]}, Name=inject')dnl
DAEMON_OPTIONS(\`Port=smtp, Addr=$addr, Name=MTA')dnl
MAILER(\`smtp')dnl
MC
	m4 -D_CF_DIR_="$SENDMAIL_CF/" "$SENDMAIL_CF/m4/cf.m4" \
		"$dir/sendmail.mc" >"$dir/sendmail.cf" 2>"$dir/m4.err" ||
		{ cat "$dir/m4.err"; return 1; }
	"${SENDMAIL_ENV[@]}" "${MTA_ROOT[sendmail]}/usr/libexec/sendmail/makemap" \
		-C "$dir/sendmail.cf" hash "$dir/mailertable" \
		<"$dir/mailertable" 2>"$dir/makemap.err" ||
		{ cat "$dir/makemap.err"; return 1; }
	mta_start "$name" "${SENDMAIL_ENV[@]}" "$SENDMAIL" -C "$dir/sendmail.cf" \
		-bD -X "$dir/traffic"
}

# sendmail_queue NAME: messages in the instance's queue.
sendmail_queue() {
	find "${MTA_DIR[$1]}/queue" -name 'qf*' 2>/dev/null | wc -l
}

# sendmail_deferred NAME: queued messages with a failed delivery attempt
# (their qf file counts tries on its N line).
sendmail_deferred() {
	grep -l '^N[1-9]' "${MTA_DIR[$1]}"/queue/qf* 2>/dev/null | wc -l
}

# sendmail_wait_deferred NAME N [SECONDS]: until N messages are queued,
# each tried once.
sendmail_wait_deferred() {
	local name=$1 n=$2 limit=${3:-30}
	wait_until "$limit" eval "[ \"\$(sendmail_deferred '$name')\" -ge $n ]" &&
		return 0
	echo "# $name: $(sendmail_queue "$name") queued," \
	    "$(sendmail_deferred "$name") tried, of $n"
	return 1
}

# sendmail_etrns NAME: the ETRN commands each of the instance's SMTP
# sessions received, one count per session that had any (from -X).
sendmail_etrns() {
	awk '$2 == "<<<" && toupper($3) == "ETRN" {n[$1]++}
	     END {for (p in n) print n[p]}' "${MTA_DIR[$1]}/traffic" | sort -n |
		paste -sd' '
}
