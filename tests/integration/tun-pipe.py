#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Two tun devices in two network namespaces, joined by this process: a VPN.

tun-pipe.py NAME PEER-NETNS PEER-NAME [--lifetime S] [--ready FILE]: makes
the tun device NAME in the namespace it runs in and PEER-NAME in the named
namespace (ip netns), and copies every packet from one to the other until
killed or for at most S seconds.  Like a VPN client's device, NAME has
carrier from the start and carries traffic once it has addresses and
routes; both devices disappear when the process exits.
"""
import argparse
import ctypes
import fcntl
import os
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000


def tun_open(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF,
                struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("peer_netns")
    ap.add_argument("peer_name")
    ap.add_argument("--lifetime", type=float, default=120.0)
    ap.add_argument("--ready")
    args = ap.parse_args()

    here = tun_open(args.name)
    libc = ctypes.CDLL(None, use_errno=True)
    nsfd = os.open("/run/netns/" + args.peer_netns, os.O_RDONLY)
    if libc.setns(nsfd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    os.close(nsfd)
    there = tun_open(args.peer_name)
    other = {here: there, there: here}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.ready:
        open(args.ready, "w").close()
    deadline = time.monotonic() + args.lifetime
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return 0
        ready, _, _ = select.select([here, there], [], [], min(left, 1.0))
        for fd in ready:
            try:
                os.write(other[fd], os.read(fd, 65536))
            except OSError:
                pass  # a device down or a packet nobody wants: dropped


if __name__ == "__main__":
    sys.exit(main())
