#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""etrnd's metrics through real parsers: Debian's python3-prometheus-client.

test_metrics --print gives the OpenMetrics exposition of a fixed table of
events (etrnctl metrics); test_metrics --write PATH the textfile for
node_exporter, in the Prometheus text format 0.0.4.  Each is parsed with
the client's parser for its format, and the families, their types and the
samples checked against that table: not only that it parses.  Exits 77
when the module is missing (it is in .ci/deps-test.sh), except under
CI=true, where that fails.

usage: metrics-parse.py TEST_METRICS
"""
import os
import subprocess
import sys
import tempfile

results = []


def check(what, cond):
    results.append(bool(cond))
    print("%s - %s" % ("ok" if cond else "not ok", what), flush=True)


try:
    from prometheus_client.openmetrics.parser import \
        text_string_to_metric_families as parse_openmetrics
    from prometheus_client.parser import \
        text_string_to_metric_families as parse_text
except ImportError as e:
    if os.environ.get("CI") == "true":
        print("not ok - CI requires python3-prometheus-client: %s" % e)
        sys.exit(1)
    print("skip: python3-prometheus-client is not installed for %s (%s)"
          % (sys.executable, e))
    sys.exit(77)

BIN = sys.argv[1]
# The sample's hostile relay, q"u\o<newline>te<U+00E9>, as status shows it.
HOSTILE = 'q"u\\x5co\\x0ate\\xc3\\xa9'
CONFIGURED = ["isp", "mx2", "new", HOSTILE]
COUNTED = CONFIGURED + ["old"]

FAMILIES = {
    "etrnd_start_time_seconds": ("gauge", "seconds"),
    "etrnd_runs": ("counter", ""),
    "etrnd_etrn_results": ("counter", ""),
    "etrnd_flush_verdicts": ("counter", ""),
    "etrnd_flush_connections": ("counter", ""),
    "etrnd_relay_last_success_timestamp_seconds": ("gauge", "seconds"),
    "etrnd_relay_state": ("gauge", ""),
    "etrnd_sessions_open": ("gauge", ""),
    "etrnd_link_up": ("gauge", ""),
}

# The samples that are not zero; every other one of the families with a
# series per relay must be there, at zero.
NONZERO = {
    ("etrnd_start_time_seconds", ()): 1796115480,
    ("etrnd_runs_total", (("relay", "isp"), ("trigger", "link-up"))): 2,
    ("etrnd_runs_total", (("relay", "isp"), ("trigger", "retry"))): 1,
    ("etrnd_runs_total", (("relay", "mx2"), ("trigger", "manual"))): 1,
    ("etrnd_runs_total", (("relay", HOSTILE), ("trigger", "manual"))): 1,
    ("etrnd_runs_total", (("relay", "old"), ("trigger", "start"))): 1,
    ("etrnd_etrn_results_total", (("class", "ok"), ("relay", "isp"))): 2,
    ("etrnd_etrn_results_total",
     (("class", "temporary"), ("relay", "isp"))): 1,
    ("etrnd_etrn_results_total", (("class", "refused"), ("relay", "isp"))): 1,
    ("etrnd_etrn_results_total",
     (("class", "unsupported"), ("relay", "old"))): 1,
    ("etrnd_flush_verdicts_total",
     (("relay", "isp"), ("verdict", "delivered"))): 1,
    ("etrnd_flush_verdicts_total",
     (("relay", "isp"), ("verdict", "nothing"))): 1,
    ("etrnd_flush_verdicts_total",
     (("relay", "mx2"), ("verdict", "not-observable"))): 1,
    ("etrnd_flush_connections_total", (("relay", "isp"),)): 3,
    ("etrnd_relay_last_success_timestamp_seconds", (("relay", "isp"),)):
        1796126340,
    ("etrnd_relay_state", (("relay", "isp"), ("state", "idle"))): 1,
    ("etrnd_relay_state", (("relay", "mx2"), ("state", "running"))): 1,
    ("etrnd_relay_state", (("relay", "new"), ("state", "backoff"))): 1,
    ("etrnd_relay_state", (("relay", HOSTILE), ("state", "running"))): 1,
    ("etrnd_sessions_open", ()): 2,
    ("etrnd_link_up", (("link", "site0"),)): 1,
}


def expected():
    """Every sample the table makes: (name, sorted labels) -> value."""
    want = {}
    for r in COUNTED:
        for t in ["start", "link-up", "manual", "reload", "interval",
                  "retry"]:
            want[("etrnd_runs_total", (("relay", r), ("trigger", t)))] = 0
        for c in ["ok", "temporary", "refused", "unsupported"]:
            want[("etrnd_etrn_results_total",
                  (("class", c), ("relay", r)))] = 0
        for v in ["delivered", "nothing", "not-observable"]:
            want[("etrnd_flush_verdicts_total",
                  (("relay", r), ("verdict", v)))] = 0
        want[("etrnd_flush_connections_total", (("relay", r),))] = 0
    for r in CONFIGURED:
        for s in ["idle", "queued", "running", "backoff", "waitlink",
                  "noroute", "failed"]:
            want[("etrnd_relay_state", (("relay", r), ("state", s)))] = 0
    want[("etrnd_link_up", (("link", "ppp0"),))] = 0
    want.update(NONZERO)
    return want


def samples(families):
    got, types, dups = {}, {}, 0
    for f in families:
        types[f.name] = (f.type, getattr(f, "unit", ""))
        for s in f.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            dups += key in got
            got[key] = s.value
    return got, types, dups


def compare(fmt, got, types, dups, units):
    want_types = {n: (t, u if units else "") for n, (t, u) in
                  FAMILIES.items()}
    check("%s: the families and their types%s" %
          (fmt, " and units" if units else ""), types == want_types)
    if types != want_types:
        print("# got %r" % types)
    check("%s: no sample twice" % fmt, dups == 0)
    want = expected()
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    wrong = sorted(k for k in want if k in got and got[k] != want[k])
    check("%s: every sample, none missing" % fmt, not missing)
    check("%s: no sample beyond the table" % fmt, not extra)
    check("%s: the values" % fmt, not wrong)
    for k in missing[:5]:
        print("# missing %r" % (k,))
    for k in extra[:5]:
        print("# extra %r = %r" % (k, got[k]))
    for k in wrong[:5]:
        print("# %r: got %r, want %r" % (k, got[k], want[k]))
    check("%s: the hostile relay's label as status shows it" % fmt,
          got.get(("etrnd_runs_total",
                   (("relay", HOSTILE), ("trigger", "manual")))) == 1)
    states = {}
    for (name, labels), v in got.items():
        if name == "etrnd_relay_state":
            r = dict(labels)["relay"]
            states[r] = states.get(r, 0) + v
    check("%s: one state per configured relay" % fmt,
          states == {r: 1 for r in CONFIGURED})


def run(args):
    p = subprocess.run([BIN] + args, stdout=subprocess.PIPE, timeout=30)
    check("test_metrics %s exits 0" % " ".join(args), p.returncode == 0)
    return p.stdout.decode("ascii")


text = run(["--print"])
check("openmetrics: ends with # EOF", text.endswith("\n# EOF\n"))
try:
    got, types, dups = samples(parse_openmetrics(text))
    check("openmetrics: the OpenMetrics parser takes it", True)
    compare("openmetrics", got, types, dups, True)
except ValueError as e:
    check("openmetrics: the OpenMetrics parser takes it (%s)" % e, False)

with tempfile.TemporaryDirectory(prefix="metrics-parse.") as d:
    path = os.path.join(d, "etrnd.prom")
    run(["--write", path])
    check("textfile: the only file in its directory",
          os.listdir(d) == ["etrnd.prom"])
    check("textfile: mode 0644", os.stat(path).st_mode & 0o7777 == 0o644)
    with open(path, encoding="ascii") as f:
        filetext = f.read()
check("textfile: no UNIT or EOF lines (format 0.0.4)",
      "# UNIT" not in filetext and "# EOF" not in filetext)
check("textfile: TYPE names a counter's samples",
      "\n# TYPE etrnd_runs_total counter\n" in filetext)
try:
    got, types, dups = samples(parse_text(filetext))
    check("textfile: the text format parser takes it", True)
    compare("textfile", got, types, dups, False)
except ValueError as e:
    check("textfile: the text format parser takes it (%s)" % e, False)

print("1..%d" % len(results))
sys.exit(0 if all(results) else 1)
