#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# etrnd with a real Postfix secondary MX, in two network namespaces:
#
#   site      site0  192.0.2.1   etrnd, and the site's mail server (a sink)
#   provider  prov0  192.0.2.2   a throwaway Postfix instance, the secondary
#
# Twenty messages for the site wait in Postfix's deferred queue while the
# site's link is down; Postfix would retry in two hours.  etrnd watches
# site0; the demo brings the link up and shows what follows: etrnd's log,
# Postfix's log of the ETRN and the flush, each message arriving, and the
# time from link-up to the last message.
#
# Needs root on Debian 12.  Installs the build dependencies and the postfix
# package (without configuring a system MTA), builds etrnd into build/.
# Touches nothing of the host's own mail system, interfaces or /etc: the
# Postfix instance lives in a temporary directory, everything runs in
# namespaces it creates and removes again (also on failure and Ctrl-C).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

if [ "$(id -u)" -ne 0 ]; then
	echo "demo/postfix.sh needs root: it creates network namespaces," \
	    "installs packages and runs a throwaway Postfix instance." >&2
	echo "Run it as root: demo/postfix.sh" >&2
	exit 1
fi
N=${N:-20}

say() { printf '\n== %s\n' "$*"; }

say "Installing build dependencies and postfix (if missing)"
# Shows what it installs; refuses (and the demo stops) rather than remove
# another MTA that postfix conflicts with.
bash .ci/deps.sh || exit 1

say "Building etrnd into build/"
{ [ -d build ] || meson setup build >/dev/null; } && ninja -C build >/dev/null ||
	exit 1

export ETRND=$PWD/build/src/etrnd
# The test helpers: namespaces, Postfix instance, sink, cleanup trap.
. tests/e2e/lib.sh
set +e

fail() {
	echo "demo failed: $*" >&2
	exit 1
}

say "Setting up the site and provider namespaces (site link down)"
setup_e2e_world
echo "site $NS_SITE: site0 192.0.2.1 (down)   provider $NS_PROV: prov0 192.0.2.2"
setup_postfix mx "192.0.2.2 2001:db8::2" || fail "Postfix did not start"
echo "Postfix $(postconf -c "${PF_DIR[mx]}" -h mail_version 2>/dev/null)" \
    "running as its own instance: postfix -c ${PF_DIR[mx]}"
echo "  relay_domains = $(postconf -h -c "${PF_DIR[mx]}" relay_domains)," \
    "retry after $(postconf -h -c "${PF_DIR[mx]}" minimal_backoff_time)"
start_sink sink || fail "the site's mail server did not start"
echo "the site's mail server listens on 192.0.2.1:25"

say "Queueing $N messages for example.org and sub.example.net at Postfix"
inject mx "$N" demo example.org sub.example.net || fail "injection failed"
wait_deferred mx "$N" 60 || fail "the messages were not deferred"
pf mx postqueue -p | tail -n 1
echo "(each was tried once: 'Network is unreachable'; next try in 2 hours)"

cat >"$T/etrnd.conf" <<CONF
[daemon]
watch = site0
settle = 0
helo = site.example
control-socket = $T/control
# Watch for the secondary's connections back (default 5m and 30s).
flush-window = 20s
flush-quiet = 2s

[relay provider]
host = 192.0.2.2
domains = example.org sub.example.net
CONF
say "Starting etrnd in the site namespace with this configuration"
cat "$T/etrnd.conf"
start_etrnd_e2e "$T/etrnd.conf" "$T/etrnd.log" || fail "etrnd did not start"

say "Bringing the site's link up"
t0=$EPOCHREALTIME
ip -n "$NS_SITE" link set site0 up
wait_delivered sink "$N" 30
status=$?
# Did etrnd see the mail come back?  Its verdict, once the connections
# have stopped for flush-quiet.
wait_for 25 grep -Eq "flush: (delivered|nothing|not observable)" "$T/etrnd.log"

say "etrnd's log"
grep -v -e "^netlink:" -e "RTM_NEWLINK" -e "<- 250-" "$T/etrnd.log"

say "Postfix's log: the ETRN, and the flush"
grep -E "smtpd.*(< [^ ]*: ETRN |> [^ ]*: 250 Queuing)|status=sent" \
	"${PF_DIR[mx]}/maillog" |
	sed -E 's/^[A-Z][a-z]{2} +[0-9]+ //' | awk '
	/status=sent/ { if (++sent > 3) next }
	{ print }
	END { if (sent > 3) printf "... %d messages sent in all\n", sent }'

say "Arriving at the site (ms after link-up)"
awk -v t0="$t0" '{ printf "+%6.1f ms  %-26s %s\n", ($1 - t0) * 1000, $2, $3 }' \
	"$T/sink.log"

echo
if [ "$status" -eq 0 ]; then
	echo "All $N messages arrived; link-up -> last message:" \
	    "$(ms_between "$t0" "$(last_delivery sink)") ms." \
	    "Without etrnd, Postfix would have retried in 2 hours."
else
	echo "Only $(delivered sink) of $N messages arrived." >&2
fi
stop_etrnd() { kill "$ETRND_PID" 2>/dev/null; wait "$ETRND_PID" 2>/dev/null; }
stop_etrnd
echo "Cleaning up (namespaces, Postfix instance, temporary files)."
exit "$status"
