#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# bash completion for etrnctl and etrn, sourced into this bash and called as
# bash calls it (COMP_WORDS, COMP_CWORD): commands, options, relay names
# from a running etrnd (through -s or -c), interface names for --link.
# Needs neither root nor the bash-completion package.  Loopback only.
. "$(dirname "$0")/lib.sh"
: "${ETRNCTL:?set ETRNCTL to the etrnctl binary}"
: "${COMPLETION_DIR:?set COMPLETION_DIR to the completion directory}"
PATH=$(dirname "$ETRNCTL"):$PATH
. "$COMPLETION_DIR/etrnctl"
. "$COMPLETION_DIR/etrn"

# comp FUNCTION WORD...: complete the last word; the candidates, sorted.
comp() {
	local f=$1
	shift
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	"$f" 2>"$T/comp.err"
	printf '%s\n' "${COMPREPLY[@]}" | sort | paste -sd' '
}
# expect WHAT WANT FUNCTION WORD...
expect() {
	local what=$1 want=$2 got
	shift 2
	got=$(comp "$@")
	if [ "$got" = "$want" ] && [ ! -s "$T/comp.err" ]; then
		ok "$what"
	else
		not_ok "$what: got \"$got\", want \"$want\" $(cat "$T/comp.err")"
	fi
}

check "complete -p etrnctl uses _etrnctl" bash -c \
	". '$COMPLETION_DIR/etrnctl'; complete -p etrnctl | grep -q _etrnctl"
expect "etrnctl st<TAB>" "status" _etrnctl etrnctl st
expect "etrnctl <TAB>: the commands" "history metrics reload run status" _etrnctl etrnctl ""
expect "etrnctl r<TAB>" "reload run" _etrnctl etrnctl r
expect "etrnctl --s<TAB>" "--socket" _etrnctl etrnctl --s
expect "etrnctl -s SOCK st<TAB>" "status" _etrnctl etrnctl -s /x st
expect "etrnctl status --<TAB>" "--json" _etrnctl etrnctl status --
expect "etrnctl run --<TAB>" "--link --no-wait --watch" _etrnctl etrnctl run --
expect "etrnctl history --<TAB>" "--json" _etrnctl etrnctl history --
expect "etrnctl metrics <TAB>: nothing" "" _etrnctl etrnctl metrics ""
expect "etrnctl reload <TAB>: nothing" "" _etrnctl etrnctl reload ""
# The machine's own interfaces starting with l (lo, perhaps lxcbr0...).
expect "etrnctl run --link l<TAB>: interfaces" \
	"$(ls /sys/class/net | grep '^l' | sort | tr '\n' ' ' | sed 's/ $//')" \
	_etrnctl etrnctl run --link l

# Relay names, from the running daemon; none (and no noise) without it.
SOCK=$T/control
expect "etrnctl run <TAB>, no daemon: nothing" "" _etrnctl etrnctl -s "$SOCK" run ""
cat >"$T/etrnd.conf" <<CONF
[daemon]
watch = nosuch0
control-socket = $SOCK

[relay isp]
host = 127.0.0.1
port = 9
domains = example.org

[relay mx2]
host = 127.0.0.1
port = 9
domains = example.org
CONF
"$ETRND" -c "$T/etrnd.conf" 2>"$T/etrnd.log" &
PIDS+=($!)
wait_for 10 test -S "$SOCK"
expect "etrnctl -s SOCK run <TAB>: the relays" "isp mx2" _etrnctl etrnctl -s "$SOCK" run ""
expect "etrnctl -c FILE run m<TAB>" "mx2" _etrnctl etrnctl -c "$T/etrnd.conf" run m
expect "etrnctl -s SOCK run --no-wait i<TAB>" "isp" _etrnctl etrnctl -s "$SOCK" run --no-wait i
expect "etrnctl -s SOCK history <TAB>: the relays" "isp mx2" _etrnctl etrnctl -s "$SOCK" history ""

expect "etrn -C <TAB>" "ETRN QSND" _etrn etrn -C ""
expect "etrn --h<TAB>" "--help" _etrn etrn --h
expect "etrn -<TAB> offers -4 and -6" "$(printf '%s\n' -4 -6 -C -H -V -h -p -t -v --help --version --tls --tls-ca --no-verify --user --password-file | sort | paste -sd' ')" _etrn etrn -
expect "etrn --tls <TAB>" "implicit no opportunistic required" _etrn etrn --tls ""
expect "etrn --tls i<TAB>" "implicit" _etrn etrn --tls i
: >"$T/isp.password"
expect "etrn --password-file DIR/is<TAB>: files" "$T/isp.password" _etrn etrn --password-file "$T/is"
expect "etrn --user <TAB>: nothing" "" _etrn etrn --user ""
finish
