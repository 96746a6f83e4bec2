"""test_numpy.py -- the numpy API (`import actlab`) with torch made unimportable: values against
numpy formulas in float64, gradients against central differences in float64 of those formulas
(input and parameter gradients, scalar and per channel), expressions, errors.
Run by tests/cli/python_numpy.sh; exits 1 on any failure."""
import pickle
import sys

sys.modules["torch"] = None          # the numpy API must not need torch

import numpy as np                   # noqa: E402

import actlab                        # noqa: E402

from harness import check, finish   # noqa: E402


def erf(x):
    from math import erf as e
    return np.vectorize(e)(x)


def sig(z):
    return 1 / (1 + np.exp(-z))


# float64 formulas for a few built-ins (the torch references cover all of them)
F = {
    "silu": (lambda x: x * sig(x), {}),
    "gelu": (lambda x: 0.5 * x * (1 + erf(x / np.sqrt(2))), {}),
    "elu": (lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
            {"alpha": 0.7}),
    "acon_c": (lambda x, p1, p2, beta: (p1 - p2) * x * sig(beta * (p1 - p2) * x) + p2 * x,
               {"p1": 1.3, "p2": -0.2, "beta": 1.6}),
    "smu": (lambda x, alpha, mu: 0.5 * ((1 + alpha) * x + (1 - alpha) * x *
                                        erf(mu * (1 - alpha) * x)), {"alpha": 0.2, "mu": 1.5}),
}

rng = np.random.default_rng(7)
x = (rng.standard_normal((3, 4, 5)) * 2).astype(np.float32)
x[np.abs(x) < 0.05] += 0.1
dy = rng.standard_normal(x.shape).astype(np.float32)
xd, dyd = x.astype(np.float64), dy.astype(np.float64)

for name, (f, params) in F.items():
    for per_channel in (False, True) if params else (False,):
        if per_channel:
            pv = {k: v * (1 + 0.1 * np.arange(4)) for k, v in params.items()}
            pb = {k: v.reshape(1, 4, 1) for k, v in pv.items()}
        else:
            pv = pb = params
        tag = "%s per_channel=%s" % (name, per_channel)
        y = actlab.forward(name, x, **pv)
        check(y.dtype == np.float32 and y.shape == x.shape, "%s: float32, x's shape" % tag)
        yr = f(xd, **pb)
        check(np.allclose(y, yr, rtol=1e-5, atol=1e-6), "%s: y" % tag)
        dx = actlab.backward(name, x, dy, **pv)
        h = 1e-6
        dxr = dyd * (f(xd + h, **pb) - f(xd - h, **pb)) / (2 * h)
        check(np.allclose(dx, dxr, rtol=1e-5, atol=1e-5), "%s: dx %g" % (
            tag, np.abs(dx - dxr).max()))
        if params:
            dx2, dp = actlab.backward(name, x, dy, param_grads=True, **pv)
            check(np.array_equal(dx, dx2), "%s: dx the same with param_grads" % tag)
            for k in params:
                up = dict(pb)
                dn = dict(pb)
                up[k] = pb[k] + h
                dn[k] = pb[k] - h
                g = dyd * (f(xd, **up) - f(xd, **dn)) / (2 * h)
                want = g.sum(axis=(0, 2)) if per_channel else g.sum()
                check(np.allclose(dp[k], want, rtol=1e-4, atol=1e-4),
                      "%s: d%s %s vs %s" % (tag, k, dp[k], want))
                check(np.shape(dp[k]) == ((4,) if per_channel else ()), "%s: d%s shape" % (tag, k))

y64 = actlab.forward("silu", x.astype(np.float64))
check(y64.dtype == np.float32, "float64 input is cast to float32")
xt = np.asfortranarray(x)
check(np.array_equal(actlab.forward("smu", xt), actlab.forward("smu", x)), "non-contiguous input")
check(actlab.forward("silu", np.zeros((0, 3))).shape == (0, 3), "empty input")
check(actlab.forward("acon_c", np.zeros((2, 4, 0)), p1=np.ones(4)).shape == (2, 4, 0),
      "empty per-channel input")

try:
    actlab.forward("smoo", x)
    check(False, "unknown name raises")
except KeyError as e:
    check("smu" in str(e), "unknown name lists the valid ones")
try:
    actlab.forward("smu", x, beta=1.0)
    check(False, "unknown parameter raises")
except TypeError as e:
    check("alpha" in str(e), "unknown parameter lists the valid ones")
try:
    actlab.forward("acon_c", x, p1=np.ones(3))
    check(False, "wrong channel count raises")
except ValueError:
    pass
try:
    actlab.forward("softplus", x, beta=0.0)
    check(False, "softplus beta = 0 is refused by the library")
except actlab.Error as e:
    check(e.status == -2, "library status in actlab.Error: %s" % e)

d = actlab.info("acon_c")
check(d["params"] == ("p1", "p2", "beta") and d["per_channel"] and d["paper_init"],
      "info(acon_c)")
check(len(actlab.names()) >= 22 and actlab.names()[0] == "relu", "names()")

prog = actlab.Program("x*sigmoid(beta*x)")
check(prog.n_params == 1 and prog.init == (1.0,), "Program parameters")
check(np.allclose(prog.forward(x, [1.0]), actlab.forward("silu", x), rtol=1e-6, atol=1e-7),
      "Program = silu at beta = 1")
pb = np.array([[0.5, 1.0, 1.5, 2.0]])
dxp, dpp = prog.backward(x, dy, pb, param_grads=True)
dxs, dps = actlab.backward("swish", x, dy, param_grads=True, beta=pb[0])
check(np.allclose(dxp, dxs, rtol=1e-5, atol=1e-6) and
      np.allclose(dpp[0], dps["beta"], rtol=1e-4, atol=1e-5), "Program per channel = swish")
check(pickle.loads(pickle.dumps(prog)).text == prog.text, "Program pickles")
try:
    actlab.Program("x*sigmoid(bta*x)")
    check(False, "parse error raises")
except ValueError as e:
    check("column" in str(e), "parse error: %s" % e)

n0 = actlab.get_num_threads()
actlab.set_num_threads(2)
check(actlab.get_num_threads() == 2, "set_num_threads")
big = rng.standard_normal((4, 8, 64, 64)).astype(np.float32)
a = actlab.backward("acon_c", big, big, param_grads=True, p1=np.ones(8) * 1.2)
actlab.set_num_threads(1)
b = actlab.backward("acon_c", big, big, param_grads=True, p1=np.ones(8) * 1.2)
check(np.array_equal(a[0], b[0]) and all(np.array_equal(a[1][k], b[1][k]) for k in a[1]),
      "bitwise the same for 1 and 2 threads")
actlab.set_num_threads(n0)
try:
    actlab.set_num_threads(0)
    check(False, "0 threads refused")
except actlab.Error:
    pass

finish()
