#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Queue test mail at a Postfix instance over SMTP (no sendmail/postdrop,
so nothing depends on the host's /etc/postfix).

inject.py ADDRESS PORT COUNT DOMAIN... sends COUNT messages over one
session, message i to user<i>@<DOMAIN[i % len]> with Message-ID
<TAG.<i>@e2e.example> (--tag).  Prints nothing; exits non-zero on any
SMTP error.
"""
import argparse
import smtplib
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("address")
    ap.add_argument("port", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("domains", nargs="+")
    ap.add_argument("--tag", default="e2e")
    ap.add_argument("--timeout", type=float, default=30.0)
    args = ap.parse_args()

    s = smtplib.SMTP(args.address, args.port, local_hostname="inject.example",
                     timeout=args.timeout)
    s.ehlo()
    for i in range(args.count):
        dom = args.domains[i % len(args.domains)]
        rcpt = "user%d@%s" % (i, dom)
        msg = ("From: sender@provider.example\r\n"
               "To: %s\r\n"
               "Subject: etrnd e2e %s %d\r\n"
               "Message-ID: <%s.%d@e2e.example>\r\n"
               "Date: %s\r\n"
               "\r\n"
               "Test message %d for %s.\r\n") % (
                   rcpt, args.tag, i, args.tag, i,
                   time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
                   i, rcpt)
        s.sendmail("sender@provider.example", [rcpt], msg)
    s.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
