#!/usr/bin/env python3
"""Fits kotae's decision to answer or decline (src/core/matcher.rs).

Input: the file `kotae eval SET --signals FILE` writes, one case per line:
in scope (0/1), best fact right (0/1), vetoed (0/1: declined whatever the
model says), then the features of
`Signals::features` (bias first). A logistic model learns when the best fact
is a right answer; then a coordinate search moves the weights to maximise
right answers plus out-of-scope declines on the same data, each time with
the lowest threshold whose share of out-of-scope questions answered stays
at or under --max-oos-answered. Prints the
constants to paste into matcher.rs, and the trade-off around them.

    python3 tools/fit_decision.py FILE... [--max-oos-answered 0.20] [--check OTHER]
                                       [--start W0,W1,...]

--start begins the search from given weights (the lexical model's, with
zeros for the cosine features, to fit the hybrid one) instead of the
logistic fit.

Plain Python, no dependencies: the data is a few hundred lines.
"""
import argparse
import math


def read(path):
    rows = []
    for line in open(path, encoding="utf-8"):
        parts = line.split("\t")
        if len(parts) < 4:
            continue
        in_scope, right, vetoed = int(parts[0]), int(parts[1]), int(parts[2])
        rows.append((in_scope, right, vetoed, [float(x) for x in parts[3:]]))
    return rows


def fit(rows, l2=0.01, steps=20000, rate=0.5):
    """A logistic model of "the best fact is right", on the cases no veto declines."""
    rows = [r for r in rows if not r[2]]
    n = len(rows[0][3])
    w = [0.0] * n
    for _ in range(steps):
        grad = [0.0] * n
        for in_scope, right, _, x in rows:
            y = 1.0 if in_scope and right else 0.0
            z = sum(a * b for a, b in zip(w, x))
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            for i in range(n):
                grad[i] += (p - y) * x[i]
        for i in range(n):
            reg = l2 * w[i] if i > 0 else 0.0
            w[i] -= rate * (grad[i] / len(rows) + reg)
    return w


def answerable(vetoed, x):
    """Whether the model decides: no veto, and some content in common."""
    return not vetoed and x[1] > 0


def score(rows, w, t):
    """(in-scope right answers, in-scope total, out-of-scope declined, out-of-scope total)."""
    right = total = declined = oos = 0
    for in_scope, ok, vetoed, x in rows:
        answers = answerable(vetoed, x) and sum(a * b for a, b in zip(w, x)) >= t
        if in_scope:
            total += 1
            right += int(answers and ok)
        else:
            oos += 1
            declined += int(not answers)
    return right, total, declined, oos


def threshold(rows, w, max_oos):
    """The lowest threshold that answers at most max_oos of the out-of-scope rows."""
    oos = sorted((sum(a * b for a, b in zip(w, x)) for s, _, v, x in rows if not s and answerable(v, x)), reverse=True)
    n = sum(1 for s, _, _, _ in rows if not s)
    allowed = int(max_oos * n)
    if allowed >= len(oos):
        return -1e9
    return oos[allowed] + 1e-4


def objective(rows, w, max_oos):
    t = threshold(rows, w, max_oos)
    right, _, declined, _ = score(rows, w, t)
    return right + declined, t


def search(rows, w, max_oos):
    best, _ = objective(rows, w, max_oos)
    for step in (0.5, 0.25, 0.1, 0.05, 0.02):
        improved = True
        while improved:
            improved = False
            for i in range(len(w)):
                for d in (step, -step):
                    trial = list(w)
                    trial[i] += d
                    j, _ = objective(rows, trial, max_oos)
                    if j > best:
                        best, w, improved = j, trial, True
    return w


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file", nargs="+", help="signals files, fitted on together")
    ap.add_argument("--max-oos-answered", type=float, default=0.20)
    ap.add_argument("--check", help="another signals file to report on, never fitted on")
    ap.add_argument("--start", help="comma-separated weights to start the search from")
    args = ap.parse_args()
    rows = [r for f in args.file for r in read(f)]
    start = [float(x) for x in args.start.split(",")] if args.start else fit(rows)
    w = search(rows, start, args.max_oos_answered)
    t = threshold(rows, w, args.max_oos_answered)
    print("weights: &[%s]," % ", ".join("%.3f" % v for v in w))
    print("threshold: %.3f," % t)
    for label, data in [("fitted on", rows)] + ([("check", read(args.check))] if args.check else []):
        for dt in (-0.5, 0.0, 0.5):
            right, total, declined, oos = score(data, w, t + dt)
            print("%-9s threshold %+.3f: in scope right %d/%d = %.3f, out of scope declined %d/%d = %.3f"
                  % (label, t + dt, right, total, right / total, declined, oos, declined / max(oos, 1)))


if __name__ == "__main__":
    main()
