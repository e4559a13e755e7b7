#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The site's mail server for etrnd's end-to-end tests and the demo.

A small ESMTP server that accepts every message and appends one line per
message to --log: "<unix time with microseconds> <recipients, comma
separated> <Message-ID>".  It speaks what Postfix's smtp client needs:
EHLO/HELO, MAIL, RCPT, DATA (dot-terminated, dot-unstuffed), RSET, NOOP,
QUIT; no PIPELINING, so the client works in lock-step.  Each connection
gets its own thread.  Listens on ADDRESS:PORT ("::" accepts IPv4 too);
--ready FILE is created once listening; --lifetime S bounds the whole run.
--conns FILE appends one line per accepted connection, "<unix time>
<peer address> <peer port>" (IPv4-mapped addresses as IPv4): the
connections a flush made, for etrnd's flush observation to be compared
with.
"""
import argparse
import socket
import sys
import threading
import time

lock = threading.Lock()


def record(log, rcpts, msgid):
    with lock:
        log.write("%.6f %s %s\n" % (time.time(), ",".join(rcpts) or "-",
                                    msgid or "-"))
        log.flush()


def record_conn(conns, peer):
    addr = peer[0]
    if addr.startswith("::ffff:") and "." in addr:
        addr = addr[7:]
    with lock:
        conns.write("%.6f %s %d\n" % (time.time(), addr, peer[1]))
        conns.flush()


def serve(conn, args, log):
    conn.settimeout(min(60.0, args.lifetime))
    f = conn.makefile("rwb", buffering=0)

    def say(text):
        f.write(text.encode() + b"\r\n")

    say("220 site.example ESMTP e2e-sink")
    sender, rcpts = None, []
    try:
        while True:
            raw = f.readline(4096)
            if not raw:
                break
            line = raw.decode("ascii", "replace").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                say("250-site.example")
                say("250-8BITMIME")
                say("250 SIZE 10240000")
            elif verb == "HELO":
                say("250 site.example")
            elif verb == "MAIL":
                sender, rcpts = line[5:].strip(), []
                say("250 2.1.0 Ok")
            elif verb == "RCPT":
                if sender is None:
                    say("503 5.5.1 Error: need MAIL command")
                    continue
                addr = line[5:].strip()
                if addr.upper().startswith("TO:"):
                    addr = addr[3:].strip()
                rcpts.append(addr.split(" ", 1)[0].strip("<>"))
                say("250 2.1.5 Ok")
            elif verb == "DATA":
                if not rcpts:
                    say("503 5.5.1 Error: need RCPT command")
                    continue
                say("354 End data with <CR><LF>.<CR><LF>")
                msgid, in_header = None, True
                while True:
                    d = f.readline(65536)
                    if not d:
                        return
                    if d in (b".\r\n", b".\n"):
                        break
                    if d.startswith(b".."):
                        d = d[1:]
                    if in_header:
                        if d in (b"\r\n", b"\n"):
                            in_header = False
                        elif d.lower().startswith(b"message-id:"):
                            msgid = d[11:].decode("ascii", "replace").strip()
                record(log, rcpts, msgid)
                say("250 2.0.0 Ok: queued")
                sender, rcpts = None, []
            elif verb == "RSET":
                sender, rcpts = None, []
                say("250 2.0.0 Ok")
            elif verb == "NOOP":
                say("250 2.0.0 Ok")
            elif verb == "QUIT":
                say("221 2.0.0 Bye")
                break
            else:
                say("502 5.5.2 Error: command not recognized")
    except OSError:
        pass
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("address")
    ap.add_argument("port", type=int)
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready")
    ap.add_argument("--lifetime", type=float, default=300.0)
    ap.add_argument("--conns")
    args = ap.parse_args()

    family = socket.AF_INET6 if ":" in args.address else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6 and args.address == "::":
        srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    srv.bind((args.address, args.port))
    srv.listen(128)
    log = open(args.log, "a")
    conns = open(args.conns, "a") if args.conns else None
    if args.ready:
        open(args.ready, "w").close()
    deadline = time.monotonic() + args.lifetime
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        srv.settimeout(left)
        try:
            conn, peer = srv.accept()
        except socket.timeout:
            break
        if conns:
            record_conn(conns, peer)
        threading.Thread(target=serve, args=(conn, args, log),
                         daemon=True).start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
