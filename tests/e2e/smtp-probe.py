#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""One SMTP session with python's smtplib, to prove the Postfix side of the
TLS and AUTH tests on its own (no etrnd): EHLO, optionally STARTTLS
(verifying the server against --ca, with --name as the host name checked
and sent as SNI), optionally AUTH, then ETRN.  Prints one line per step:

    EHLO <keyword> <keyword>...          (upper case, after TLS if any)
    TLS <version> <cipher>
    AUTH <code> <text>
    ETRN <code> <text>
    ERROR <step> <exception>

and exits 0 once the session ran to its end (whatever the server said),
1 on a connection or TLS error (after printing the ERROR line)."""

import argparse
import smtplib
import ssl
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--ca", help="CA bundle, or \"system\" for OpenSSL's "
                    "default store; implies STARTTLS")
    ap.add_argument("--name", help="host name to verify (default: host)")
    ap.add_argument("--user")
    ap.add_argument("--password-file")
    ap.add_argument("--etrn", action="append", default=[])
    a = ap.parse_args()

    step = "connect"
    try:
        s = smtplib.SMTP(a.host, a.port, timeout=10)
        # starttls() verifies (and sends as SNI) the name in _host.
        if a.name:
            s._host = a.name
        step = "EHLO"
        s.ehlo("probe.example")
        if a.ca:
            step = "STARTTLS"
            ctx = ssl.create_default_context(
                cafile=None if a.ca == "system" else a.ca)
            s.starttls(context=ctx)
            print("TLS %s %s" % (s.sock.version(), s.sock.cipher()[0]))
            step = "EHLO"
            s.ehlo("probe.example")
        print("EHLO " + " ".join(sorted(k.upper() for k in s.esmtp_features)),
              "AUTH=" + s.esmtp_features.get("auth", "").strip().upper()
              if "auth" in s.esmtp_features else "")
        if a.user:
            step = "AUTH"
            with open(a.password_file) as f:
                password = f.readline().rstrip("\r\n")
            try:
                code, text = s.login(a.user, password)
            except smtplib.SMTPAuthenticationError as e:
                code, text = e.smtp_code, e.smtp_error
            except smtplib.SMTPNotSupportedError as e:
                code, text = 0, str(e).encode()
            print("AUTH %d %s" % (code, text.decode(errors="replace")))
        for d in a.etrn:
            step = "ETRN"
            code, text = s.docmd("ETRN", d)
            print("ETRN %d %s" % (code, text.decode(errors="replace")))
        s.quit()
    except (OSError, ValueError, smtplib.SMTPException) as e:
        print("ERROR %s %s" % (step, e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
