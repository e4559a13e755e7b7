#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Print bench/run's results file (see bench/lib.sh for its lines) as one
table: per row the median and spread (min-max; p10-p90 from 10 samples
on, and p99 from 50) of etrnd and of the baseline, their ratio (baseline
/ etrnd), the target and whether it is met.  Never fails on a missed
target."""
import math
import operator
import re
import sys

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt,
       ">=": operator.ge, "==": operator.eq}


def nums(csv):
    out = []
    for v in csv.split(","):
        v = v.strip()
        if v:
            try:
                out.append(float(v))
            except ValueError:
                pass
    return out


def pct(xs, p):
    """Linear-interpolated percentile of sorted xs."""
    if not xs:
        return math.nan
    k = (len(xs) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def fmt(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    a = abs(x)
    if a == 0:
        return "0"
    if a >= 1e6:
        return "%.3g M" % (x / 1e6) if a < 1e9 else "%.3g G" % (x / 1e9)
    if a >= 100:
        return "%.0f" % x
    if a >= 10:
        return "%.1f" % x
    return "%.3g" % x


def summary(xs):
    if not xs:
        return "-", math.nan
    xs = sorted(xs)
    med = pct(xs, 50)
    if len(xs) == 1:
        return fmt(med), med
    if len(xs) >= 50:
        spread = "p10-p90 %s-%s, p99 %s" % (
            fmt(pct(xs, 10)), fmt(pct(xs, 90)), fmt(pct(xs, 99)))
    elif len(xs) >= 10:
        spread = "p10-p90 %s-%s" % (fmt(pct(xs, 10)), fmt(pct(xs, 90)))
    else:
        spread = "%s-%s" % (fmt(xs[0]), fmt(xs[-1]))
    return "%s [%s] n=%d" % (fmt(med), spread, len(xs)), med


def check(expr, xs, ratio):
    """'p50 < 1.5 && p99 < 50 && ratio >= 30' over etrnd's samples xs."""
    if not expr.strip():
        return "-"
    xs = sorted(xs)
    ok = True
    for part in expr.split("&&"):
        m = re.fullmatch(r"\s*(p50|p90|p99|max|min|ratio)\s*(<=|>=|==|<|>)\s*"
                         r"([-0-9.e]+)\s*", part)
        if not m:
            return "?"
        what, op, val = m.group(1), m.group(2), float(m.group(3))
        if what == "ratio":
            x = ratio
        elif not xs:
            x = math.nan
        else:
            x = {"p50": pct(xs, 50), "p90": pct(xs, 90), "p99": pct(xs, 99),
                 "max": xs[-1], "min": xs[0]}[what]
        if x is None or math.isnan(x):
            return "n/a"
        ok = ok and OPS[op](x, val)
    return "MET" if ok else "MISSED"


def main():
    rows, notes, order = {}, {}, []
    for line in open(sys.argv[1]):
        f = line.rstrip("\n").split("\t")
        if f[0] == "R" and len(f) >= 9:
            b = f[1]
            if b not in order:
                order.append(b)
            rows.setdefault(b, []).append(f[1:9])
        elif f[0] == "N" and len(f) >= 3:
            if f[1] not in order:
                order.append(f[1])
            notes.setdefault(f[1], []).append(f[2])
    hdr = ("metric", "unit", "etrnd median [spread]", "baseline",
           "baseline median [spread]", "base/etrnd", "target", "")
    table = []
    for b in order:
        for (_, metric, unit, e, bname, bv, ttext, texpr) in rows.get(b, []):
            ex, bx = nums(e), nums(bv)
            es, em = summary(ex)
            bs, bm = summary(bx)
            ratio = None
            if bx and ex and em not in (0, None) and not math.isnan(em):
                ratio = bm / em
            rs = "-" if ratio is None else (
                "%.3g" % ratio if ratio < 1000 else "%.0f" % ratio)
            table.append((b, (metric, unit, es, bname or "-", bs, rs,
                              ttext or "-", check(texpr, ex, ratio))))
    widths = [len(h) for h in hdr]
    for _, r in table:
        widths = [max(w, len(c)) for w, c in zip(widths, r)]

    def line(cells):
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    last = None
    print(line(hdr))
    print(line(["-" * w for w in widths]))
    for b, r in table:
        if b != last:
            if last is not None:
                for n in notes.get(last, []):
                    print("    note: " + n)
            print("[%s]" % b)
            last = b
        print(line(r))
    for b in order:
        if b == last or b not in [t[0] for t in table]:
            for n in notes.get(b, []):
                print("[%s] note: %s" % (b, n) if b != last else
                      "    note: " + n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
