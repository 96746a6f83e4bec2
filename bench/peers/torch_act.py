"""torch_act.py -- PyTorch activation kernels timed the way `actlab bench` times its own.

Benchmark-only peer of bench/peers/run.sh; run with the Debian interpreter (/usr/bin/python3,
python3-torch 1.13). The CPU capability is chosen by the caller through ATEN_CPU_CAPABILITY
before this process starts; --label names it in the output.

    torch_act.py --threads T [--sizes 16,20,24] [--reps N] [--reps-large N] [--min-ms M]
                 [--label avx512] [NAME...]

Variants (the columns of bench/RESULTS.md take the best of them per cell):
  alloc    the normal call, which allocates its output (backward: aten *_backward)
  out      the aten .out / .grad_input overload into a preallocated tensor
  compose  ACON-C and SMU written with torch ops: forward under no_grad; backward is
           torch.autograd.grad of the retained graph w.r.t. x and the per-channel parameters
Layout: flat tensors, except prelu, acon_c and smu: (outer, 64, inner) with per-channel
parameters, inner = min(256, n/64), as actlab bench does.
Inputs x ~ U(-4, 4), dy ~ U(-1, 1), seeded. Time = min over reps; each rep repeats the call
until it lasts >= min-ms. Prints CSV rows: impl,activation,dir,log2n,threads,ns_per_elem,label
"""
import argparse
import sys
import time

import torch
import torch.nn.functional as F

aten = torch.ops.aten
CHANNELS = 64
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def measure(fn, reps, min_s):
    """Min seconds per call; the calibration run reaching min_s counts as the first rep."""
    def run(iters):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        return time.perf_counter() - t0

    run(1)
    iters = 1
    while True:
        t = run(iters)
        if t >= min_s:
            break
        want = 1.2 * min_s / t * iters if t > 0 else 2 * iters
        iters = min(100 * iters, max(2 * iters, int(want)))
    best = t / iters
    for _ in range(reps - 1):
        best = min(best, run(iters) / iters)
    return best


def shape_of(n, per_channel):
    if not per_channel or n % CHANNELS:
        return (n,)
    inner = min(256, n // CHANNELS)
    return (n // (CHANNELS * inner), CHANNELS, inner)


def chan(t):
    """Per-channel parameter (64,) viewed to broadcast over (outer, 64, inner)."""
    return t.view(1, CHANNELS, 1)


def acon_c(x, p1, p2, beta):
    d = chan(p1) - chan(p2)
    dx = d * x
    return dx * torch.sigmoid(chan(beta) * dx) + chan(p2) * x


def smu(x, alpha, mu):
    a, m = chan(alpha), chan(mu)
    c = 1 - a
    return ((1 + a) * x + c * x * torch.erf(m * c * x)) / 2


def cases(name, x, y, dy, dx, gen):
    """{variant: (forward fn, backward fn or None)} for one activation; None if not in torch."""
    if name == "relu":
        return {"alloc": (lambda: torch.relu(x), lambda: aten.threshold_backward(dy, x, 0.0)),
                "out": (lambda: aten.relu.out(x, out=y),
                        lambda: aten.threshold_backward.grad_input(dy, x, 0.0, grad_input=dx))}
    if name == "leaky_relu":
        return {"alloc": (lambda: F.leaky_relu(x, 0.01),
                          lambda: aten.leaky_relu_backward(dy, x, 0.01, False)),
                "out": (lambda: aten.leaky_relu.out(x, 0.01, out=y),
                        lambda: aten.leaky_relu_backward.grad_input(dy, x, 0.01, False,
                                                                    grad_input=dx))}
    if name == "prelu":
        w = torch.full((CHANNELS,), 0.25)
        return {"alloc": (lambda: torch.prelu(x, w), lambda: aten.prelu_backward(dy, x, w))}
    if name in ("elu", "selu", "celu"):
        alpha, scale, iscale = {"elu": (1.0, 1.0, 1.0), "selu": (SELU_ALPHA, SELU_SCALE, 1.0),
                                "celu": (1.0, 1.0, 1.0)}[name]
        fwd = {"elu": lambda: F.elu(x, 1.0), "selu": lambda: torch.selu(x),
               "celu": lambda: torch.celu(x, 1.0)}[name]
        return {"alloc": (fwd, lambda: aten.elu_backward(dy, alpha, scale, iscale, False, x)),
                "out": (lambda: aten.elu.out(x, alpha, scale, iscale, out=y),
                        lambda: aten.elu_backward.grad_input(dy, alpha, scale, iscale, False, x,
                                                             grad_input=dx))}
    if name == "softplus":
        return {"alloc": (lambda: F.softplus(x, 1.0, 20.0),
                          lambda: aten.softplus_backward(dy, x, 1.0, 20.0)),
                "out": (lambda: aten.softplus.out(x, 1.0, 20.0, out=y),
                        lambda: aten.softplus_backward.grad_input(dy, x, 1.0, 20.0,
                                                                  grad_input=dx))}
    if name in ("sigmoid", "tanh"):
        f = torch.sigmoid if name == "sigmoid" else torch.tanh
        bw = aten.sigmoid_backward if name == "sigmoid" else aten.tanh_backward
        yv = f(x)       # torch's backward takes the output
        fo = aten.sigmoid.out if name == "sigmoid" else aten.tanh.out
        return {"alloc": (lambda: f(x), lambda: bw(dy, yv)),
                "out": (lambda: fo(x, out=y), lambda: bw.grad_input(dy, yv, grad_input=dx))}
    if name == "hardsigmoid":
        return {"alloc": (lambda: F.hardsigmoid(x), lambda: aten.hardsigmoid_backward(dy, x)),
                "out": (lambda: aten.hardsigmoid.out(x, out=y),
                        lambda: aten.hardsigmoid_backward.grad_input(dy, x, grad_input=dx))}
    if name == "hardswish":
        return {"alloc": (lambda: F.hardswish(x), lambda: aten.hardswish_backward(dy, x)),
                "out": (lambda: aten.hardswish.out(x, out=y),
                        lambda: aten.hardswish_backward.out(dy, x, out=dx))}
    if name == "relu6":
        return {"alloc": (lambda: F.relu6(x), lambda: aten.hardtanh_backward(dy, x, 0.0, 6.0)),
                "out": (lambda: aten.hardtanh.out(x, 0.0, 6.0, out=y),
                        lambda: aten.hardtanh_backward.grad_input(dy, x, 0.0, 6.0,
                                                                  grad_input=dx))}
    if name == "silu":
        return {"alloc": (lambda: F.silu(x), lambda: aten.silu_backward(dy, x)),
                "out": (lambda: aten.silu.out(x, out=y),
                        lambda: aten.silu_backward.grad_input(dy, x, grad_input=dx))}
    if name in ("gelu", "gelu_tanh"):
        ap = "none" if name == "gelu" else "tanh"
        return {"alloc": (lambda: F.gelu(x, approximate=ap),
                          lambda: aten.gelu_backward(dy, x, approximate=ap)),
                "out": (lambda: aten.gelu.out(x, approximate=ap, out=y),
                        lambda: aten.gelu_backward.grad_input(dy, x, approximate=ap,
                                                              grad_input=dx))}
    if name == "mish":
        return {"alloc": (lambda: F.mish(x), lambda: aten.mish_backward(dy, x))}
    if name in ("acon_c", "smu"):
        if name == "acon_c":   # reference init: p1, p2 ~ N(0, 1), beta = 1
            params = [torch.randn(CHANNELS, generator=gen), torch.randn(CHANNELS, generator=gen),
                      torch.ones(CHANNELS)]
            f = acon_c
        else:                  # defaults of iFe1er/SMU_pytorch smu.py: alpha 0.01, mu 2.5
            params = [torch.full((CHANNELS,), 0.01), torch.full((CHANNELS,), 2.5)]
            f = smu

        def fwd():
            with torch.no_grad():
                return f(x, *params)
        xg = x.detach().clone().requires_grad_(True)
        pg = [p.detach().clone().requires_grad_(True) for p in params]
        yg = f(xg, *pg)        # graph retained across calls
        return {"compose": (fwd, lambda: torch.autograd.grad(yg, [xg] + pg, dy,
                                                             retain_graph=True))}
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sizes", default="16,20,24")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--reps-large", type=int, default=3)
    ap.add_argument("--min-ms", type=float, default=25.0)
    ap.add_argument("--label", default="default")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    names = a.names or ["relu", "leaky_relu", "prelu", "elu", "selu", "celu", "softplus",
                        "sigmoid", "tanh", "hardsigmoid", "hardswish", "relu6", "silu", "gelu",
                        "gelu_tanh", "mish", "acon_c", "smu"]
    gen = torch.Generator().manual_seed(1)
    for log2n in [int(s) for s in a.sizes.split(",")]:
        n = 1 << log2n
        reps = a.reps_large if log2n >= 22 else a.reps
        for name in names:
            per_channel = name in ("prelu", "acon_c", "smu")
            shp = shape_of(n, per_channel)
            x = (torch.rand(n, generator=gen) * 8 - 4).view(shp)
            dy = (torch.rand(n, generator=gen) * 2 - 1).view(shp)
            y, dx = torch.empty_like(x), torch.empty_like(x)
            cs = cases(name, x, y, dy, dx, gen)
            if cs is None:
                print(f"torch_act.py: no torch kernel for '{name}' (skipped)", file=sys.stderr)
                continue
            for variant, (fwd, bwd) in cs.items():
                for d, fn in (("fwd", fwd), ("bwd", bwd)):
                    if fn is None:
                        continue
                    t = measure(fn, reps, 1e-3 * a.min_ms)
                    print(f"torch-{variant},{name},{d},{log2n},{a.threads},{1e9 * t / n:.6g},"
                          f"{a.label}", flush=True)


if __name__ == "__main__":
    main()
