#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A scripted ETRN server for etrnd's integration tests and the demo.

Listens on ADDRESS:PORT, answers like Postfix (220 greeting, EHLO with the
ETRN keyword, "250 Queuing started"), and appends one line per connection
("CONNECT <peer address>"), ETRN and QUIT to --log: "<unix time with microseconds> <connection no> ETRN <arg>".
--reply "CODE TEXT" changes the ETRN answer; --delay S holds each ETRN
answer back S seconds (unless the client speaks first, e.g. QUIT); --exit-after N stops after N
connections; --lifetime S bounds the whole run (tests never hang on it).
--log-hello also logs EHLO and HELO lines (off by default: existing
consumers count the log's lines).
"""
import argparse
import select
import socket
import sys
import threading
import time


def serve(conn, no, args, log):
    record(log, no, "CONNECT %s" % conn.getpeername()[0])
    f = conn.makefile("rwb", buffering=0)
    f.write(b"220 listener.example ESMTP etrn-listener\r\n")
    conn.settimeout(args.lifetime)
    try:
        for raw in f:
            line = raw.decode("ascii", "replace").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if args.log_hello and verb in ("EHLO", "HELO"):
                record(log, no, line)
            if verb == "EHLO":
                f.write(b"250-listener.example\r\n250-ETRN\r\n250 8BITMIME\r\n")
            elif verb == "HELO":
                f.write(b"250 listener.example\r\n")
            elif verb in ("ETRN", "QSND"):
                record(log, no, line)
                if args.delay and select.select([conn], [], [], args.delay)[0]:
                    continue
                f.write(("%s\r\n" % args.reply).encode())
            elif verb == "QUIT":
                record(log, no, line)
                f.write(b"221 2.0.0 Bye\r\n")
                break
            else:
                f.write(b"502 5.5.2 Error: command not recognized\r\n")
    except OSError:
        pass
    finally:
        conn.close()


lock = threading.Lock()


def record(log, no, line):
    with lock:
        log.write("%.6f %d %s\n" % (time.time(), no, line))
        log.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("address")
    ap.add_argument("port", type=int)
    ap.add_argument("--log", required=True)
    ap.add_argument("--reply", default="250 Queuing started")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--exit-after", type=int, default=0)
    ap.add_argument("--lifetime", type=float, default=120.0)
    ap.add_argument("--ready", help="file to create once listening")
    ap.add_argument("--log-hello", action="store_true",
                    help="also log EHLO and HELO lines")
    args = ap.parse_args()

    family = socket.AF_INET6 if ":" in args.address else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.address, args.port))
    srv.listen(64)
    deadline = time.monotonic() + args.lifetime
    log = open(args.log, "a")
    if args.ready:
        open(args.ready, "w").close()
    n = 0
    while time.monotonic() < deadline:
        srv.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            break
        n += 1
        t = threading.Thread(target=serve, args=(conn, n, args, log), daemon=True)
        t.start()
        if args.exit_after and n >= args.exit_after:
            t.join(5)
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
