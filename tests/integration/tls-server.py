#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A scripted SMTP server with STARTTLS and AUTH for etrnd's TLS tests.

Listens on 127.0.0.1:PORT; --cert/--key enable STARTTLS; --no-starttls
hides it; --implicit makes it a port 465 server (RFC 8314: the handshake
first, the greeting over TLS, no STARTTLS); --user/--password enable AUTH PLAIN and LOGIN (only after TLS
unless --auth-cleartext).  Logs one line per event to --log: "CONNECT",
"TLS <version>", "AUTH ok|fail <mechanism>", "ETRN <arg> tls=<0|1>
auth=<0|1>", "QUIT".  Bounded by --lifetime.
"""
import argparse
import base64
import socket
import ssl
import threading
import time

lock = threading.Lock()


def record(log, text):
    with lock:
        log.write("%.6f %s\n" % (time.time(), text))
        log.flush()


def serve(conn, args, log, ctx):
    record(log, "CONNECT")
    conn.settimeout(args.lifetime)
    f = conn.makefile("rwb", buffering=0)
    tls = authed = False

    def send(s):
        f.write((s + "\r\n").encode())

    def readline():
        line = f.readline()
        if not line:
            raise EOFError
        return line.decode("ascii", "replace").rstrip("\r\n")

    try:
        if args.implicit:
            conn = ctx.wrap_socket(conn, server_side=True)
            f = conn.makefile("rwb", buffering=0)
            tls = True
            record(log, "TLS " + conn.version())
        send("220 mx.test.example ESMTP")
        while True:
            line = readline()
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                caps = ["mx.test.example", "ETRN"]
                if ctx and not tls and not args.no_starttls:
                    caps.append("STARTTLS")
                if args.user and (tls or args.auth_cleartext):
                    caps.append("AUTH PLAIN LOGIN")
                for c in caps[:-1]:
                    send("250-" + c)
                send("250 " + caps[-1])
            elif verb == "STARTTLS" and ctx and not tls:
                send("220 2.0.0 Ready to start TLS")
                conn = ctx.wrap_socket(conn, server_side=True)
                f = conn.makefile("rwb", buffering=0)
                tls = True
                record(log, "TLS " + conn.version())
            elif verb == "AUTH" and args.user:
                parts = line.split(" ")
                mech = parts[1].upper() if len(parts) > 1 else ""
                if mech == "PLAIN":
                    blob = parts[2] if len(parts) > 2 else ""
                    _, user, pw = base64.b64decode(blob).split(b"\0")
                elif mech == "LOGIN":
                    send("334 VXNlcm5hbWU6")
                    user = base64.b64decode(readline())
                    send("334 UGFzc3dvcmQ6")
                    pw = base64.b64decode(readline())
                else:
                    send("504 5.5.4 unknown mechanism")
                    continue
                if (user.decode(), pw.decode()) == (args.user, args.password):
                    authed = True
                    record(log, "AUTH ok " + mech)
                    send("235 2.7.0 Authentication successful")
                else:
                    record(log, "AUTH fail " + mech)
                    send("535 5.7.8 Error: authentication failed")
            elif verb == "ETRN":
                record(log, "%s tls=%d auth=%d" % (line, tls, authed))
                if args.user and not authed:
                    send("554 5.7.1 Etrn command rejected: Access denied")
                else:
                    send("250 Queuing started")
            elif verb == "QUIT":
                record(log, "QUIT")
                send("221 2.0.0 Bye")
                break
            else:
                send("502 5.5.2 Error: command not recognized")
    except (EOFError, OSError, ssl.SSLError) as e:
        record(log, "CLOSED %s" % type(e).__name__)
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--no-starttls", action="store_true")
    ap.add_argument("--implicit", action="store_true")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--auth-cleartext", action="store_true")
    ap.add_argument("--lifetime", type=float, default=60)
    args = ap.parse_args()
    ctx = None
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.port))
    srv.listen(16)
    log = open(args.log, "a")
    if args.ready:
        open(args.ready, "w").close()
    end = time.monotonic() + args.lifetime
    while time.monotonic() < end:
        srv.settimeout(max(0.1, end - time.monotonic()))
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            break
        threading.Thread(target=serve, args=(conn, args, log, ctx),
                         daemon=True).start()


if __name__ == "__main__":
    main()
