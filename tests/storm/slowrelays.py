#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Many slow ETRN servers in one asyncio process, for etrnd's storm test.

Listens on COUNT ports of ADDRESS (chosen by the kernel) and writes
"INDEX PORT" lines to --ports once all listen (via a rename).  Every
connection is answered like Postfix, slowly: 0.1-0.3 s before the greeting
and the EHLO reply, 0.5-2 s before each ETRN reply.  --log gets one line per
event, "<unix time> <port> <conn no> <EVENT> [detail]": OPEN <connections
now open on this port, this one included>, ETRN <arg>, CLOSE.  --lifetime
bounds the whole run.
"""
import argparse
import asyncio
import os
import random
import sys
import time


class Relays:
    def __init__(self, log):
        self.log = open(log, "a", buffering=1)
        self.open = {}
        self.conns = 0

    def event(self, port, no, what):
        self.log.write("%.6f %d %d %s\n" % (time.time(), port, no, what))

    def handler(self):
        async def handle(reader, writer):
            port = writer.get_extra_info("sockname")[1]
            self.conns += 1
            no = self.conns
            self.open[port] = self.open.get(port, 0) + 1
            self.event(port, no, "OPEN %d" % self.open[port])
            try:
                await asyncio.wait_for(self.session(reader, writer), 60)
            except (asyncio.TimeoutError, OSError):
                pass
            finally:
                self.open[port] -= 1
                self.event(port, no, "CLOSE")
                writer.close()
        return handle

    async def session(self, r, w):
        await asyncio.sleep(random.uniform(0.1, 0.3))
        w.write(b"220 slow.example ESMTP\r\n")
        while True:
            line = await r.readline()
            if not line:
                return
            cmd = line.decode("ascii", "replace").rstrip("\r\n")
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                await asyncio.sleep(random.uniform(0.1, 0.3))
                w.write(b"250-slow.example\r\n250 ETRN\r\n")
            elif verb == "ETRN":
                self.event(w.get_extra_info("sockname")[1], 0, cmd)
                await asyncio.sleep(random.uniform(0.5, 2.0))
                w.write(b"250 Queuing started\r\n")
            elif verb == "QUIT":
                w.write(b"221 Bye\r\n")
                await w.drain()
                return
            else:
                w.write(b"502 5.5.2 Error: command not recognized\r\n")
            await w.drain()


async def main_async(args):
    relays = Relays(args.log)
    servers, lines = [], []
    for i in range(args.count):
        srv = await asyncio.start_server(relays.handler(), args.address, 0,
                                         backlog=16)
        port = srv.sockets[0].getsockname()[1]
        servers.append(srv)
        lines.append("%d %d\n" % (i, port))
    with open(args.ports + ".tmp", "w") as f:
        f.writelines(lines)
    os.rename(args.ports + ".tmp", args.ports)
    await asyncio.sleep(args.lifetime)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("address")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--ports", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--lifetime", type=float, default=280.0)
    return asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
