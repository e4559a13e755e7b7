#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Hold a tun device open so that it has carrier, like pppd holds ppp0.

tun-holder.py NAME [--lifetime S] [--ready FILE]: attaches to the tun
device NAME (IFF_TUN | IFF_NO_PI), creating it if it does not exist, and
sleeps until killed or for at most S seconds.  A device this process
created disappears when it exits (RTM_DELLINK, as on a ppp hang-up); one
made persistent by "ip tuntap add" stays, without carrier.
"""
import argparse
import fcntl
import os
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("--lifetime", type=float, default=120.0)
    ap.add_argument("--ready")
    args = ap.parse_args()

    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF,
                struct.pack("16sH", args.name.encode(), IFF_TUN | IFF_NO_PI))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.ready:
        open(args.ready, "w").close()
    deadline = time.monotonic() + args.lifetime
    while time.monotonic() < deadline:
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
