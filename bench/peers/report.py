"""report.py -- the table and target check of bench/peers/run.sh.

    report.py RESULTS.csv

RESULTS.csv rows: impl,activation,dir,log2n,threads,ns_per_elem,label[,bound_ns]
  impl  actlab | onednn | torch-alloc | torch-out | torch-compose
  label the ISA (actlab: avx512...; torch: the ATEN_CPU_CAPABILITY it ran with; oneDNN: impl)
Repeated rows (several rounds) keep the minimum. Prints, per thread count, a table of actlab
ns/elem (fraction of the STREAM bound measured by actlab in the same run) and the ratios
actlab time / peer time (< 1: actlab faster); then PASS/MISS per target of the issue:
  T1  n = 2^20, 1 thread: actlab <= 0.5 x PyTorch AVX-512 (best of alloc/out) and
      <= 0.5 x oneDNN, forward and backward, for every activation they have
  T2  acon_c, smu at n = 2^20, 1 thread: actlab <= 0.25 x the torch composition (best of
      the capabilities), forward and backward
  T3  relu, leaky_relu, prelu forward >= 90% of the copy bound at 2^20 and 2^24, every
      thread count measured
A benchmark, not a test: always exits 0 unless the input is unreadable.
"""
import csv
import sys
from collections import defaultdict


def load(path):
    best = {}        # (impl_key, act, dir, log2n, threads) -> ns
    bound = {}       # (dir, log2n, threads) -> ns
    labels = {}
    failed = set()
    with open(path) as f:
        for row in csv.reader(f):
            if len(row) < 7 or row[0] == "impl":
                continue
            impl, act, d, n, t, ns, label = row[:7]
            n, t, ns = int(n), int(t), float(ns)
            if impl.startswith("torch"):
                key = f"torch-{label}-{impl.split('-', 1)[1]}"     # torch-avx512-out
            else:
                key = impl
            labels[(key, act, d)] = label
            k = (key, act, d, n, t)
            if ns <= 0:
                failed.add(k)
                continue
            if k not in best or ns < best[k]:
                best[k] = ns
            if impl == "actlab" and len(row) > 7 and float(row[7]) > 0:
                bk = (d, n, t)
                bound[bk] = min(bound.get(bk, 1e30), float(row[7]))
    return best, bound, labels, failed


def torch_best(best, cap, act, d, n, t):
    """Fastest torch variant (alloc/out, or compose) with capability cap: (ns, variant)."""
    got = [(best[k], k[0].split("-", 2)[2]) for k in
           ((f"torch-{cap}-{v}", act, d, n, t) for v in ("alloc", "out", "compose")) if k in best]
    return min(got) if got else (None, None)


def fmt_ratio(a, b):
    return f"{a / b:.2f}" if a and b else "-"


def main():
    best, bound, labels, failed = load(sys.argv[1])
    acts = []
    for (key, act, d, n, t) in list(best) + list(failed):
        if key == "actlab" and act not in acts:
            acts.append(act)
    sizes = sorted({k[3] for k in best})
    threads = sorted({k[4] for k in best})
    caps = sorted({k[0].split("-")[1] for k in best if k[0].startswith("torch")})
    other_cap = [c for c in caps if c != "avx512"]

    print("ratio = actlab time / peer time (below 1: actlab faster). t512 = PyTorch "
          "ATEN_CPU_CAPABILITY=avx512, best of alloc/out (compose for acon_c, smu);")
    print("tdef = PyTorch default capability, best of alloc/out/compose; dnnl = oneDNN 2.6. "
          "actlab cell: ns/elem (fraction of the STREAM copy/triad bound, same run).")
    for t in threads:
        print(f"\n### {t} thread{'s' if t > 1 else ''}\n")
        head = "| activation | dir |"
        sep = "|---|---|"
        for n in sizes:
            head += f" actlab 2^{n} | t512 | tdef | dnnl |"
            sep += "---|---|---|---|"
        print(head)
        print(sep)
        for act in acts:
            for d in ("fwd", "bwd"):
                line = f"| {act} | {d} |"
                for n in sizes:
                    a = best.get(("actlab", act, d, n, t))
                    if ("actlab", act, d, n, t) in failed:
                        cell = "FAIL"
                    elif a:
                        b = bound.get((d, n, t))
                        cell = f"{a:.3g}" + (f" ({100 * b / a:.0f}%)" if b else "")
                    else:
                        cell = "-"
                    t5, _ = torch_best(best, "avx512", act, d, n, t)
                    td = None
                    for c in other_cap:
                        v, _ = torch_best(best, c, act, d, n, t)
                        td = v if td is None or (v and v < td) else td
                    dn = best.get(("onednn", act, d, n, t))
                    line += f" {cell} | {fmt_ratio(a, t5)} | {fmt_ratio(a, td)} | {fmt_ratio(a, dn)} |"
                print(line)

    print("\n### targets (n = 2^20 unless stated)\n")
    res = defaultdict(int)

    def verdict(ok, text):
        res["PASS" if ok else "MISS"] += 1
        print(f"{'PASS' if ok else 'MISS'}  {text}")

    n, t = 20, 1
    for act in acts:
        if act in ("acon_c", "smu"):
            continue
        for d in ("fwd", "bwd"):
            a = best.get(("actlab", act, d, n, t))
            t5, v5 = torch_best(best, "avx512", act, d, n, t)
            dn = best.get(("onednn", act, d, n, t))
            for peer, pv, name in ((t5, v5, "torch avx512"), (dn, None, "oneDNN")):
                if not peer:
                    continue
                label = f"{name} {pv}" if pv else f"{name} {labels.get(('onednn', act, d), '')}"
                if not a:
                    verdict(False, f"T1 {act:<11} {d} 1T: actlab missing/failed vs {label} "
                                   f"{peer:.3g} ns")
                    continue
                verdict(a <= 0.5 * peer, f"T1 {act:<11} {d} 1T: actlab {a:.3g} / {label} "
                                         f"{peer:.3g} ns = {a / peer:.2f} (target <= 0.50)")
    for act in ("acon_c", "smu"):
        for d in ("fwd", "bwd"):
            a = best.get(("actlab", act, d, n, t))
            comp = [v for c in caps for v in [torch_best(best, c, act, d, n, t)[0]] if v]
            if not comp:
                continue
            peer = min(comp)
            if not a:
                verdict(False, f"T2 {act:<11} {d} 1T: actlab missing/failed")
                continue
            verdict(a <= 0.25 * peer, f"T2 {act:<11} {d} 1T: actlab {a:.3g} / torch composition "
                                      f"{peer:.3g} ns = {a / peer:.3f} (target <= 0.25)")
    for act in ("relu", "leaky_relu", "prelu"):
        for nn in (20, 24):
            for tt in threads:
                a = best.get(("actlab", act, "fwd", nn, tt))
                b = bound.get(("fwd", nn, tt))
                if not a or not b:
                    if ("actlab", act, "fwd", nn, tt) in failed:
                        verdict(False, f"T3 {act:<11} fwd 2^{nn} {tt}T: actlab failed")
                    continue
                verdict(b / a >= 0.9, f"T3 {act:<11} fwd 2^{nn} {tt}T: {a:.3g} ns, copy bound "
                                      f"{b:.3g} ns = {100 * b / a:.0f}% of bound (target >= 90%)")
    print(f"\n{res['PASS']} targets met, {res['MISS']} missed")


if __name__ == "__main__":
    main()
