#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""etrnd and systemd's notify protocol, without systemd.

Binds an AF_UNIX datagram socket, starts etrnd with NOTIFY_SOCKET and
WATCHDOG_USEC pointing at it, and checks what arrives and in what order:
READY=1 and STATUS= at start, WATCHDOG=1 pings, RELOADING=1 + READY=1 on
SIGHUP (also with a broken config, which is logged and kept out), SIGUSR1
running every relay, STOPPING=1 on SIGTERM and a clean exit.  No root.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

ETRND = os.environ["ETRND"]
HERE = os.path.dirname(os.path.abspath(__file__))
results = []


def check(what, cond):
    results.append(bool(cond))
    print("%s - %s" % ("ok" if cond else "not ok", what), flush=True)


class Notify:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.msgs = []

    def read_until(self, pred, timeout):
        """Collect datagrams until pred(msg) holds or timeout; bounded."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                data = self.sock.recv(4096).decode()
            except socket.timeout:
                break
            self.msgs.append(data)
            if pred(data):
                return data
        return None


def main():
    tmp = tempfile.mkdtemp(prefix="etrnd-notify.")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    lst_log = os.path.join(tmp, "listener.log")
    ready = os.path.join(tmp, "ready")
    listener = subprocess.Popen([sys.executable, os.path.join(HERE, "etrn-listener.py"),
                                 "127.0.0.1", str(port), "--log", lst_log,
                                 "--ready", ready, "--lifetime", "30"])
    conf = os.path.join(tmp, "etrnd.conf")
    good = ("[daemon]\nwatch = nosuch0\nsettle = 0\ncontrol-socket = %s\n\n"
            "[relay isp]\nhost = 127.0.0.1\nport = %d\ndomains = example.org\n"
            % (os.path.join(tmp, "control"), port))
    with open(conf, "w") as f:
        f.write(good)
    n = Notify(os.path.join(tmp, "notify"))
    env = dict(os.environ, NOTIFY_SOCKET=os.path.join(tmp, "notify"),
               WATCHDOG_USEC="200000")
    env.pop("WATCHDOG_PID", None)
    err = open(os.path.join(tmp, "etrnd.log"), "w")
    d = subprocess.Popen([ETRND, "-c", conf], env=env, stderr=err)
    try:
        for _ in range(250):
            if os.path.exists(ready):
                break
            time.sleep(0.02)
        check("READY=1 at start", n.read_until(lambda m: "READY=1" in m, 10))
        check("STATUS= names the watched link and the relay",
              any(m.startswith("STATUS=") and "isp" in m for m in n.msgs)
              or n.read_until(lambda m: m.startswith("STATUS="), 2))
        t0 = time.monotonic()
        pings = 0
        while time.monotonic() - t0 < 1.0:
            if n.read_until(lambda m: m == "WATCHDOG=1", 1.0):
                pings += 1
        check("WATCHDOG=1 every half WATCHDOG_USEC (%d pings in 1 s)" % pings,
              5 <= pings <= 15)

        n.msgs.clear()
        d.send_signal(signal.SIGHUP)
        r = n.read_until(lambda m: "RELOADING=1" in m, 5)
        check("SIGHUP: RELOADING=1 with MONOTONIC_USEC",
              r and "MONOTONIC_USEC=" in r)
        check("SIGHUP: READY=1 after reloading",
              n.read_until(lambda m: m == "READY=1", 5))

        with open(conf, "w") as f:
            f.write("[daemon]\nsettle = never\n")
        n.msgs.clear()
        d.send_signal(signal.SIGHUP)
        check("broken reload: RELOADING=1 then READY=1",
              n.read_until(lambda m: "RELOADING=1" in m, 5) and
              n.read_until(lambda m: m == "READY=1", 5))
        check("broken reload: daemon still running", d.poll() is None)

        d.send_signal(signal.SIGUSR1)
        ok = False
        for _ in range(250):
            if os.path.exists(lst_log) and "ETRN example.org" in open(lst_log).read():
                ok = True
                break
            time.sleep(0.02)
        check("SIGUSR1 with the old config: ETRN example.org sent", ok)

        n.msgs.clear()
        d.send_signal(signal.SIGTERM)
        check("SIGTERM: STOPPING=1", n.read_until(lambda m: "STOPPING=1" in m, 5))
        try:
            rc = d.wait(5)
        except subprocess.TimeoutExpired:
            rc = None
        check("SIGTERM: exit 0 within 5 s", rc == 0)
    finally:
        if d.poll() is None:
            d.kill()
            d.wait()
        listener.kill()
        listener.wait()
        err.close()
    log = open(os.path.join(tmp, "etrnd.log")).read()
    check("broken reload: file:line error logged",
          "%s:2: settle: invalid duration" % conf in log)
    check("broken reload: says it keeps the previous configuration",
          "keeping the previous configuration" in log)
    if not all(results):
        sys.stdout.write(log)
    passed = sum(results)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    subprocess.run(["rm", "-rf", tmp])
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
