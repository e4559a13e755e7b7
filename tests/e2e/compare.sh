#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The three real secondaries side by side: Postfix, Exim (built-in ETRN)
# and Sendmail, one after another in the same namespaces, each with N
# messages (default 20) for the site queued while its link was down and
# etrnd configured with the same plainly written domains.  Each must
# deliver everything at link-up; the figures (link-up -> first and last
# message at the site) are printed in a table, not judged.
#
# usage: compare.sh.  Needs root, namespaces, postfix and Debian's exim4
# and sendmail packages (downloaded once, see mta-lib.sh), else exits 77.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=mta-lib.sh
. "$(dirname "$0")/mta-lib.sh"
need_postfix
need_exim
need_sendmail

N=${N:-20}
DOMAINS="example.org sub.example.net"
TABLE=()

# round NAME LABEL ADDRESS: queue N messages at instance NAME (on ADDRESS)
# while the link is down, then link-up with etrnd asking only NAME; a row
# of the table.
round() {
	local name=$1 label=$2 addr=$3 t0 first last
	link_down
	# shellcheck disable=SC2086 # the domains, one argument each
	if [ "${MTA_KIND[$name]:-postfix}" = postfix ]; then
		inject "$name" "$N" "$name" $DOMAINS
		check "$label: $N deferred" wait_deferred "$name" "$N" 60
	else
		mta_inject "$name" "$N" "$name" $DOMAINS
		check "$label: $N queued and tried" \
			"${MTA_KIND[$name]}_wait_deferred" "$name" "$N" 30
	fi
	conf "$name" <<CONF
[daemon]
watch = site0
settle = 0
helo = site.example

[relay $name]
host = $addr
domains = $DOMAINS
CONF
	start_etrnd_e2e "$T/$name.conf" "$T/$name.log"
	t0=$EPOCHREALTIME
	link_up
	if mta_delivered "$N" 60 "<$name\."; then
		first=$(ms_between "$t0" "$(grep "<$name\." "$T/sink.log" |
			awk 'NR == 1 {print $1}')")
		last=$(ms_between "$t0" "$(grep "<$name\." "$T/sink.log" |
			awk 'END {print $1}')")
		ok "$label: all $N arrive after link-up"
		TABLE+=("$(printf '%-34s %6s %6s' "$label" "$first" "$last")")
	else
		not_ok "$label: all $N arrive ($(delivered sink "<$name\.") did)"
		show_on_failure "$T/$name.log"
	fi
	stop_etrnd
	wait_site_idle 15
}

setup_e2e_world
ip -n "$NS_PROV" addr add 192.0.2.3/24 dev prov0
ip -n "$NS_PROV" addr add 192.0.2.4/24 dev prov0
start_sink sink
if ! setup_postfix pf 192.0.2.2 || ! setup_exim ex 192.0.2.3 builtin ||
    ! setup_sendmail sm 192.0.2.4 "$SITE_DOMAINS"; then
	not_ok "the three secondaries start"
	finish
	exit 1
fi
round pf "Postfix $(postconf -d -h mail_version 2>/dev/null)" 192.0.2.2
round ex "Exim 4.96 (built-in ETRN)" 192.0.2.3
round sm "Sendmail 8.17" 192.0.2.4
echo "# link-up -> message at the site, ms (N=$N, domains = $DOMAINS):"
printf '#   %-34s %6s %6s\n' secondary first last
printf '#   %s\n' "${TABLE[@]}"
finish
