#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Hostile and broken SMTP servers for etrnd's hostile test.

One asyncio process, one listening port per mode, all on ADDRESS.  Each
mode misbehaves in one way:

  silent       accepts and never greets
  slowgreet    greets one byte a second
  endless      "220 " and then an endless line with no CRLF
  longreply    a 10,000-line multi-line reply to EHLO
  closegreet   closes right after the greeting
  garbage      garbage instead of reply codes
  tlsstall     advertises STARTTLS; to STARTTLS answers "220 Ready to start
               TLS" and then says nothing (until a client sends STARTTLS it
               is an ordinary server that accepts ETRN)
  count253     answers ETRN with 253 and a 30-digit pending count
  unsolicited  answers ETRN with 250 and unsolicited data in the same write
  reset        resets the connection (SO_LINGER 0) in the middle of a
               multi-line reply to EHLO

--ports FILE receives "MODE PORT" lines once every port listens (written
to FILE.tmp and renamed, so a reader never sees half of it).  --log FILE
gets one line per event: "<unix time> <mode> <conn no> <EVENT> [detail]",
EVENT being CONNECT, a command verb (EHLO, ETRN, STARTTLS, QUIT, ...), or
CLOSE <seconds the connection lasted> <bytes sent>.  Every wait is bounded:
--lifetime stops the whole server, and no connection outlives it.
"""
import argparse
import asyncio
import os
import socket
import struct
import sys
import time

MODES = ("silent", "slowgreet", "endless", "longreply", "closegreet",
         "garbage", "tlsstall", "count253", "unsolicited", "reset")

GREETING = b"220 hostile.example ESMTP hostile test server\r\n"
EHLO_REPLY = b"250-hostile.example\r\n250-ETRN\r\n250 8BITMIME\r\n"
EHLO_TLS_REPLY = b"250-hostile.example\r\n250-ETRN\r\n250-STARTTLS\r\n250 8BITMIME\r\n"
PENDING_30 = "123456789012345678901234567890"
ENDLESS_MAX = 64 << 20		# bytes: the "endless" line stops here
SILENT_MAX = 60.0		# seconds a silent connection is kept at most


class Log:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1)

    def event(self, mode, no, what):
        self.f.write("%.6f %s %d %s\n" % (time.time(), mode, no, what))


class Conn:
    """One client connection of one mode."""

    counter = 0

    def __init__(self, mode, log, reader, writer):
        Conn.counter += 1
        self.no = Conn.counter
        self.mode = mode
        self.log = log
        self.r = reader
        self.w = writer
        self.sent = 0
        self.t0 = time.monotonic()

    async def send(self, data):
        self.w.write(data)
        self.sent += len(data)
        await self.w.drain()

    async def readline(self, timeout=30.0):
        """One command line, or None at EOF, error or timeout."""
        try:
            line = await asyncio.wait_for(self.r.readline(), timeout)
        except (asyncio.TimeoutError, OSError, ValueError):
            return None
        if not line:
            return None
        return line.decode("ascii", "replace").rstrip("\r\n")

    def rst(self):
        """Close with SO_LINGER 0: the peer gets a RST, not a FIN."""
        sock = self.w.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
        self.w.transport.abort()

    async def until_eof(self, limit):
        """Say nothing until the client goes away (or limit seconds)."""
        try:
            await asyncio.wait_for(self.r.read(), limit)
        except (asyncio.TimeoutError, OSError):
            pass

    async def dialogue(self, ehlo=EHLO_REPLY, etrn=b"250 Queuing started\r\n"):
        """An ordinary server after the greeting, with hooks per verb."""
        while True:
            line = await self.readline()
            if line is None:
                return
            verb = line.split(" ", 1)[0].upper()
            self.log.event(self.mode, self.no, line[:80])
            if verb == "EHLO":
                if self.mode == "longreply":
                    lines = [b"250-line %05d of a very long reply\r\n" % i
                             for i in range(9999)]
                    await self.send(b"".join(lines) + b"250 end\r\n")
                elif self.mode == "reset":
                    lines = [b"250-line %02d before the reset\r\n" % i
                             for i in range(20)]
                    await self.send(b"".join(lines) + b"250-half a li")
                    await asyncio.sleep(0.05)
                    self.rst()
                    return
                else:
                    await self.send(ehlo)
            elif verb == "HELO":
                await self.send(b"250 hostile.example\r\n")
            elif verb == "STARTTLS" and self.mode == "tlsstall":
                await self.send(b"220 Ready to start TLS\r\n")
                # The handshake stalls: never a byte back.
                await self.until_eof(SILENT_MAX)
                return
            elif verb in ("ETRN", "QSND"):
                await self.send(etrn)
            elif verb == "QUIT":
                await self.send(b"221 2.0.0 Bye\r\n")
                return
            else:
                await self.send(b"502 5.5.2 Error: command not recognized\r\n")

    async def run(self):
        m = self.mode
        if m == "silent":
            await self.until_eof(SILENT_MAX)
        elif m == "slowgreet":
            for i in range(len(GREETING)):
                await self.send(GREETING[i:i + 1])
                # A second between bytes, ending early when the client
                # closes, so CLOSE shows when it gave up.
                try:
                    if await asyncio.wait_for(self.r.read(1), 1.0) == b"":
                        return
                except asyncio.TimeoutError:
                    pass
            await self.dialogue()
        elif m == "endless":
            await self.send(b"220 ")
            chunk = b"x" * 4096
            while self.sent < ENDLESS_MAX:
                await self.send(chunk)
        elif m == "closegreet":
            await self.send(GREETING)
        elif m == "garbage":
            await self.send(b"HELLO THERE, this is no SMTP server\r\n")
            await self.dialogue()
        elif m == "tlsstall":
            await self.send(GREETING)
            await self.dialogue(ehlo=EHLO_TLS_REPLY)
        elif m == "count253":
            await self.send(GREETING)
            await self.dialogue(etrn=("253 OK, %s pending messages for node "
                                      "started\r\n" % PENDING_30).encode())
        elif m == "unsolicited":
            await self.send(GREETING)
            await self.dialogue(etrn=b"250 Queuing started\r\n"
                                b"250 and this nobody asked for\r\n")
        else:		# longreply, reset
            await self.send(GREETING)
            await self.dialogue()


def handler(mode, log, lifetime_end):
    async def handle(reader, writer):
        c = Conn(mode, log, reader, writer)
        log.event(mode, c.no, "CONNECT")
        try:
            left = max(0.1, lifetime_end - time.monotonic())
            await asyncio.wait_for(c.run(), left)
        except (asyncio.TimeoutError, OSError):
            pass
        finally:
            log.event(mode, c.no, "CLOSE %.3f %d" %
                      (time.monotonic() - c.t0, c.sent))
            if not writer.transport.is_closing():
                writer.close()
    return handle


async def main_async(args):
    log = Log(args.log)
    end = time.monotonic() + args.lifetime
    modes = args.modes.split(",") if args.modes else MODES
    servers, lines = [], []
    for mode in modes:
        if mode not in MODES:
            print("unknown mode %s" % mode, file=sys.stderr)
            return 2
        srv = await asyncio.start_server(handler(mode, log, end),
                                         args.address, 0, backlog=64)
        servers.append(srv)
        lines.append("%s %d\n" % (mode, srv.sockets[0].getsockname()[1]))
    with open(args.ports + ".tmp", "w") as f:
        f.writelines(lines)
    os.rename(args.ports + ".tmp", args.ports)
    await asyncio.sleep(max(0.0, end - time.monotonic()))
    for srv in servers:
        srv.close()
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("address")
    ap.add_argument("--ports", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--modes", help="comma-separated subset of the modes")
    ap.add_argument("--lifetime", type=float, default=170.0)
    return asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
