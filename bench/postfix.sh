#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Benchmark 5: end to end through a real Postfix secondary (the harness of
# tests/e2e/: Debian's Postfix in the provider namespace, the site's mail
# sink on 192.0.2.1:25).  N messages are queued while site0 is down; then
# `ip link set site0 up`, and the time to the first and the last message
# at the sink, for
#   etrnd      the daemon, running before the link-up, settle = 0;
#   ideal      a one-shot `etrn` fired by hand right after the link-up;
#   fetchmail  fetchmail in ETRN daemon mode (-d 3600, its own HOME,
#              rcfile and pidfile in $T, in the site namespace), woken
#              right after the link-up by running `fetchmail` again, as
#              Debian's "awaken" does (SIGUSR1 to the daemon).
# Postfix's own flush time is the ideal's ETRN -> last message.
# shellcheck disable=SC2034 # read by lib.sh
BENCH_E2E=1
. "$(dirname "$0")/lib.sh"
B="5 end to end (Postfix)"
NS_LIST=${NS_LIST:-"20 200"}
REPS20=${REPS20:-5}
REPS200=${REPS200:-3}
if [ "$QUICK" = 1 ]; then NS_LIST=20 REPS20=1; fi
need_postfix
command -v fetchmail >/dev/null ||
	harness_fail "$B" "fetchmail is not installed (apt-get install fetchmail)"
setup_e2e_world
setup_postfix mx "192.0.2.2 2001:db8::2" ||
	harness_fail "$B" "the Postfix instance did not start"
start_sink sink || harness_fail "$B" "the site's sink did not start"
fm_pid=

cat >"$T/etrnd.conf" <<CONF
[daemon]
watch = site0
settle = 0
helo = site.example
control-socket = $T/ctl.sock

[relay isp]
host = 192.0.2.2
domains = example.org sub.example.net
CONF

# fetchmail's world: nothing of the host's.  It runs as the package's
# fetchmail user, as /etc/init.d/fetchmail does (as root its pidfile would
# be the host's /run/fetchmail.pid), with HOME and FETCHMAILHOME $T/fm:
# rcfile $T/fm/fetchmailrc, pidfile $T/fm/fetchmail.pid.  The waking call
# names no option: "can't accept options while a background fetchmail is
# running".
getent passwd fetchmail >/dev/null ||
	harness_fail "$B" "no fetchmail user (package fetchmail)"
mkdir -p "$T/fm"
cat >"$T/fm/fetchmailrc" <<RC
set daemon 3600
set no syslog
poll 192.0.2.2 proto etrn fetchdomains example.org, sub.example.net
RC
chown -R fetchmail "$T/fm"
chmod 700 "$T/fm"
chmod 600 "$T/fm/fetchmailrc"
fm() {
	exec ip netns exec "$NS_SITE" setpriv --reuid=fetchmail \
		--regid=nogroup --clear-groups env HOME="$T/fm" \
		FETCHMAILHOME="$T/fm" fetchmail "$@"
}

stop_fetchmail() {
	[ -n "$fm_pid" ] || return 0
	kill "$fm_pid" 2>/dev/null
	wait "$fm_pid" 2>/dev/null
	fm_pid=
	rm -f "$T/fm/fetchmail.pid"
}
trap 'stop_fetchmail; e2e_cleanup' EXIT

# Before the link-up: the contender's daemon, started while site0 is down.
prepare() {
	case $1 in
	etrnd)
		start_etrnd_e2e "$T/etrnd.conf" "$T/etrnd.log" ||
			harness_fail "$B" "etrnd did not start"
		;;
	fetchmail)
		(fm -N -d 3600 >>"$T/fm.out" 2>&1) &
		fm_pid=$!
		PIDS+=("$fm_pid")
		# its start-up poll fails (the link is down); then it sleeps
		wait_for 10 test -s "$T/fm/fetchmail.pid" ||
			harness_fail "$B" "fetchmail daemon did not start: $(tail -2 "$T/fm.out")"
		sleep 0.5
		;;
	esac
}

# Right after the link-up: what the contender's hook does.
trigger() {
	case $1 in
	ideal)
		T_ETRN=$EPOCHREALTIME
		ip netns exec "$NS_SITE" "$ETRN_TOOL" -H site.example 192.0.2.2 \
			example.org sub.example.net >>"$T/ideal.out" 2>&1
		;;
	fetchmail)
		(fm >>"$T/fm.out" 2>&1)
		;;
	esac
}

finish_contender() {
	case $1 in
	etrnd) kill "$ETRND_PID"; wait "$ETRND_PID" 2>/dev/null ;;
	fetchmail) stop_fetchmail ;;
	esac
}

rep=0
# Samples, comma-separated, keyed "WHO,N"; FLUSH keyed N.
declare -A FIRST LAST FLUSH
# one N WHO: one link-up; appends to FIRST, LAST (and FLUSH for ideal).
one() {
	local n=$1 who=$2 before t0 first last
	rep=$((rep + 1))
	wait_site_idle 10
	ip -n "$NS_SITE" link set site0 down
	inject mx "$n" "b$rep" example.org sub.example.net ||
		harness_fail "$B" "injecting $n messages failed"
	wait_deferred mx "$n" 120 >/dev/null ||
		harness_fail "$B" "$n messages were not deferred"
	prepare "$who"
	before=$(delivered sink)
	t0=$(ip netns exec "$NS_SITE" "$LINKSET" site0 up) ||
		harness_fail "$B" "link-up failed"
	trigger "$who"
	if ! wait_delivered sink $((before + n)) 60; then
		finish_contender "$who"
		harness_fail "$B" "$who, N=$n: $(($(delivered sink) - before)) of $n messages arrived in 60 s"
	fi
	first=$(awk -v k=$((before + 1)) 'NR == k {print $1}' "$T/sink.log")
	last=$(awk -v k=$((before + n)) 'NR == k {print $1}' "$T/sink.log")
	FIRST[$who,$n]+="$(ms_diff "$t0" "$first"),"
	LAST[$who,$n]+="$(ms_diff "$t0" "$last"),"
	[ "$who" = ideal ] && FLUSH[$n]+="$(ms_diff "$T_ETRN" "$last"),"
	finish_contender "$who"
}

for n in $NS_LIST; do
	reps=$REPS20
	[ "$n" -ge 100 ] && reps=$REPS200
	for ((k = 0; k < reps; k++)); do
		for who in etrnd ideal fetchmail; do
			one "$n" "$who"
		done
	done
	row "$B" "N=$n: link-up -> first message" ms "${FIRST[etrnd,$n]}" \
		"fetchmail -d, woken by hook" "${FIRST[fetchmail,$n]}" \
		"sooner than fetchmail" "ratio > 1"
	row "$B" "N=$n: link-up -> first message" ms "${FIRST[etrnd,$n]}" \
		"ideal: etrn by hand at link-up" "${FIRST[ideal,$n]}" "" ""
	row "$B" "N=$n: link-up -> last message" ms "${LAST[etrnd,$n]}" \
		"Postfix's flush (ideal: ETRN -> last)" "${FLUSH[$n]}" \
		"<= 1.1x Postfix's flush" "ratio >= 0.909"
	row "$B" "N=$n: link-up -> last message" ms "${LAST[etrnd,$n]}" \
		"fetchmail -d, woken by hook" "${LAST[fetchmail,$n]}" "" ""
done
note "$B" "Debian's own /etc/ppp/ip-up.d/fetchmail runs 'invoke-rc.d fetchmail try-restart' (stop, sleep 1, start: its start-up poll sends the ETRN), so with the packaged hook add about 1 s to fetchmail's figures; the rows above use the faster awakening (SIGUSR1) of /etc/init.d/fetchmail awaken"
note "$B" "fetchmail $(fetchmail --version 2>/dev/null | head -1 | awk '{sub(/\+.*/, "", $5); print $5}'); contenders take turns link-up by link-up; each link-up flushes N messages queued while site0 was down"
exit 0
