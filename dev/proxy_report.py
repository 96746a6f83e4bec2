#!/usr/bin/python3
"""dev/proxy_report.py RESULTS.csv [REFERENCE] -- reads dev/proxy_validate.sh's results and prints,
per fidelity: how many runs, the seed noise (median over functions of the std of the validation
accuracy across seeds), the Spearman rank correlation of its mean validation accuracy against the
reference fidelity's (default: the one whose name starts with "ref") over the functions both
have, and the known-good against the known-poor means. A failed run (diverged, invalid) counts
at the floor reward, chance accuracy 0.1, as the search scores it. Plain Python, no numpy."""
import csv
import math
import statistics
import sys


def ranks(v):
    order = sorted(range(len(v)), key=lambda i: v[i])
    r = [0.0] * len(v)
    i = 0
    while i < len(order):   # ties share the mean rank
        j = i
        while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return r


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    ma, mb = statistics.fmean(ra), statistics.fmean(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = math.sqrt(sum((x - ma) ** 2 for x in ra))
    vb = math.sqrt(sum((y - mb) ** 2 for y in rb))
    return cov / (va * vb) if va > 0 and vb > 0 else float("nan")


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "dev/proxy/results.csv"
    runs = {}   # fidelity -> expr -> [val_acc per seed]
    kinds = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            acc = float(row["val_acc"]) if row["status"] == "ok" else 0.1
            if math.isnan(acc):
                acc = 0.1
            runs.setdefault(row["fidelity"], {}).setdefault(row["expr"], []).append(acc)
            kinds[row["expr"]] = row["kind"]
    ref = sys.argv[2] if len(sys.argv) > 2 else next((f for f in runs if f.startswith("ref")),
                                                      None)
    print(f"{'fidelity':18} {'runs':>5} {'funcs':>5} {'seed sd':>8} {'spearman':>9} "
          f"{'n':>3} {'good':>7} {'poor':>7}")
    for fid, by in runs.items():
        means = {e: statistics.fmean(v) for e, v in by.items()}
        sds = [statistics.stdev(v) for v in by.values() if len(v) >= 2]
        noise = statistics.median(sds) if sds else float("nan")
        rho, n = float("nan"), 0
        if ref and ref in runs and fid != ref:
            common = [e for e in means if e in runs[ref] and len(runs[ref][e]) > 0]
            n = len(common)
            if n >= 3:
                rho = spearman([means[e] for e in common],
                               [statistics.fmean(runs[ref][e]) for e in common])
        good = [m for e, m in means.items() if kinds[e] == "known-good"]
        poor = [m for e, m in means.items() if kinds[e] == "known-poor"]
        g = statistics.fmean(good) if good else float("nan")
        p = statistics.fmean(poor) if poor else float("nan")
        print(f"{fid:18} {sum(len(v) for v in by.values()):5d} {len(by):5d} {noise:8.4f} "
              f"{rho:9.3f} {n:3d} {g:7.4f} {p:7.4f}")


if __name__ == "__main__":
    main()
