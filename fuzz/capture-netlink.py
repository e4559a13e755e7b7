#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
Capture real rtnetlink messages for fuzz/corpus/netlink/: the seeds are the
bytes the kernel sends etrnd's notification socket (RTMGRP_LINK and the
IPv4/IPv6 address groups) and a link + address dump, taken in a network
namespace of our own so the host's interfaces are neither seen nor touched.

    sudo fuzz/capture-netlink.py OUTDIR

Each seed is what a few recv() calls return, concatenated.  The dump seed is
framed the way fuzz_netlink.c reads an NLMSG_DONE: one before the dump
(resync begins), one after it (resync ends).  Needs root, ip(8) and the
veth and tun drivers.
"""
import os
import socket
import struct
import subprocess
import sys
import time

RTMGRP_LINK = 0x1
RTMGRP_IPV4_IFADDR = 0x10
RTMGRP_IPV6_IFADDR = 0x100
NLMSG_DONE = 3
RTM_GETLINK = 18
RTM_GETADDR = 22
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300


def drain(sk):
    """Everything queued now, as received."""
    out = b""
    sk.settimeout(0.3)
    while True:
        try:
            out += sk.recv(65536)
        except socket.timeout:
            return out


def messages(buf):
    """Split a buffer into (type, bytes) per nlmsghdr."""
    off = 0
    while off + 16 <= len(buf):
        length, mtype = struct.unpack_from("=IH", buf, off)
        if length < 16 or off + length > len(buf):
            break
        yield mtype, buf[off:off + length]
        off += (length + 3) & ~3


def done(seq=0):
    return struct.pack("=IHHIIi", 20, NLMSG_DONE, 0x2, seq, 0, 0)


def dump(kind):
    sk = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    sk.bind((0, 0))
    # struct rtgenmsg, padded to 4 bytes.
    sk.send(struct.pack("=IHHIIBxxx", 20, kind, NLM_F_REQUEST | NLM_F_DUMP,
                        1, 0, socket.AF_UNSPEC))
    out = b""
    while True:
        buf = sk.recv(65536)
        for mtype, msg in messages(buf):
            if mtype == NLMSG_DONE:
                sk.close()
                return out
            out += msg


def ip(*args):
    subprocess.run(["ip", *args], check=True)


def inner(outdir):
    sk = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    sk.bind((0, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR))
    seeds = {}

    def step(name, *cmds, settle=0.0):
        for c in cmds:
            ip(*c)
        time.sleep(settle)
        seeds[name] = drain(sk)

    step("lo-up", ("link", "set", "lo", "up"))
    step("veth-add", ("link", "add", "veth0", "type", "veth", "peer",
                      "name", "veth1"))
    step("addr-add", ("addr", "add", "192.0.2.1/24", "dev", "veth0"),
         ("-6", "addr", "add", "2001:db8::1/64", "dev", "veth0", "nodad"))
    step("veth-up", ("link", "set", "veth1", "up"),
         ("link", "set", "veth0", "up"), settle=2.5)
    step("ppp-like", ("tuntap", "add", "dev", "ppp0", "mode", "tun"),
         ("addr", "add", "10.64.64.64", "peer", "10.112.112.112/32", "dev",
          "ppp0"),
         ("link", "set", "ppp0", "up"))
    # Dump while everything is in place: DONE, links, addresses, DONE.
    seeds["dump"] = done() + dump(RTM_GETLINK) + dump(RTM_GETADDR) + done()
    step("addr-del", ("addr", "del", "192.0.2.1/24", "dev", "veth0"))
    step("rename", ("link", "set", "veth0", "down"),
         ("link", "set", "veth0", "name", "site0"),
         ("link", "set", "site0", "up"))
    step("link-del", ("link", "del", "site0"), ("tuntap", "del", "dev",
                                                "ppp0", "mode", "tun"))
    os.makedirs(outdir, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes, "
              f"{sum(1 for _ in messages(data))} messages")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--inner":
        inner(sys.argv[2])
        return
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUTDIR")
    os.execvp("unshare", ["unshare", "--net", sys.executable,
                          os.path.abspath(__file__), "--inner",
                          os.path.abspath(sys.argv[1])])


if __name__ == "__main__":
    main()
