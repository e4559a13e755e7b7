# SPDX-License-Identifier: ISC
# Shared by the loopback TLS tests (tls.sh, check.sh), sourced after lib.sh:
# a throwaway CA in $T and scripted STARTTLS/AUTH servers on free ports.
command -v openssl >/dev/null || skip "needs the openssl command"
SERVER="$TESTS_DIR/tls-server.py"

# make_ca: $T/ca.pem and ca.key, a CA made for this run.
make_ca() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
		-subj "/CN=etrnd test CA" -keyout "$T/ca.key" \
		-out "$T/ca.pem" 2>/dev/null
}

# mkcert NAME SAN: $T/NAME.pem and NAME.key, signed by the CA.
mkcert() {
	(cd "$T" &&
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$1.key" \
		-out "$1.csr" 2>/dev/null &&
	printf 'subjectAltName=%s\n' "$2" >"$1.ext" &&
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key \
		-CAcreateserial -days 2 -extfile "$1.ext" -out "$1.pem" \
		2>/dev/null)
}

# server NAME ARGS...: tls-server.py on a free port, logging to $T/NAME.log;
# sets PORT.
server() {
	local name=$1
	shift
	PORT=$(free_port)
	rm -f "$T/$name.ready"
	python3 "$SERVER" "$PORT" --log "$T/$name.log" --ready "$T/$name.ready" \
		--lifetime 60 "$@" &
	PIDS+=($!)
	wait_for 10 test -e "$T/$name.ready"
}
