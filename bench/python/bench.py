"""bench.py -- actlab.torch side by side with PyTorch in one run, float32 CPU (bench/python/run.sh
runs it; docs/python.md has the figures). For each thread count:
  overhead  per-call cost at 2^10 elements: the raw binding (ctypes, and cffi / a CPython
            extension where they can be built here, for the binding choice), the numpy API, and
            module fwd+bwd against torch's native op
  layer     fwd+bwd of the activation layer alone at (128, 64, 28, 28) and at 2^16, 2^20
            elements: actlab module vs native torch (silu, gelu, mish, elu, softplus, ...) or vs
            the torch-op composition (acon_c, meta_acon, smu, smu1, an expression)
  train     one SGD step (forward, loss, backward, update) of a small CNN and ResNet-20 (CIFAR,
            batch 32, 32x32) with the activation swapped
Every figure is the best of at least REPS timed runs after a warm-up, actlab and its baseline
alternating; ratio = baseline time / actlab time (> 1: actlab faster). Values are checked
against the baseline before timing.
The module path is actlab.torch's C++ extension where it was built, else ctypes
(ACTLAB_TORCH_EXT=0 hides the extension: the before/after of docs/python.md's speed table).
Usage: bench.py [--threads 1,2] [--reps N] [--quick] [--acts relu,acon_c,...] [--no-train]
(--acts: only those layers, at every size, compositions included)"""
import argparse
import os
import subprocess
import sys
import sysconfig
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import actlab
import actlab.torch as at
from actlab import _lib
from actlab.torch import reference

EXPR = "max(x, sigmoid(beta*x)) + cos(x)*x"


def compare(fa, fb, reps, min_s=0.0):
    """Best-of times of fa and fb, run alternately (a shared machine's interference hits both
    alike; the minimum is the least disturbed run): at least reps each and min_s seconds."""
    fa()
    fb()
    ta, tb = [], []
    t_end = time.perf_counter() + min_s
    while len(ta) < reps or time.perf_counter() < t_end:
        for f, ts in ((fa, ta), (fb, tb)):
            t0 = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t0)
    return min(ta), min(tb)


def per_call(fn, n=2000, rounds=5):
    best = float("inf")
    fn()
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


# --------------------------------------------------------------------------------------------
# modules: actlab and its baseline

class Composed(nn.Module):
    """A built-in from torch ops (reference.py) with the same parameters as the actlab module."""

    def __init__(self, src):
        super().__init__()
        self.name = src.name
        self.channels = src.channels
        for n in src.param_names:
            v = getattr(src, n)
            if isinstance(v, nn.Parameter):
                self.register_parameter(n, nn.Parameter(v.detach().clone()))
            else:
                self.register_buffer(n, v.clone())
        self.param_names = src.param_names

    def forward(self, x):
        return reference.compose(self.name, x, *[getattr(self, n) for n in self.param_names])


class ComposedMeta(at.MetaACON):
    """Meta-ACON with the ACON-C part from torch ops (acon.py's MetaAconC)."""

    def forward(self, x):
        beta = self.beta(x).view(x.shape[0], x.shape[1], *([1] * (x.dim() - 2)))
        return reference.REFERENCE["acon_c"](x, reference.per_channel(self.p1, x),
                                             reference.per_channel(self.p2, x), beta)


class Native(nn.Module):
    def __init__(self, name):
        super().__init__()
        self.name = name
        self.f = reference.NATIVE[name]

    def forward(self, x):
        return self.f(x)


def pair(name, C):
    """(actlab module, baseline module, baseline kind)."""
    if name == "meta_acon":
        torch.manual_seed(0)
        a = at.MetaACON(C)
        b = ComposedMeta(C)
        b.load_state_dict(a.state_dict())
        return a, b, "composition"
    if name == "expr":
        a = at.Expr(EXPR, channels=C)
        b = at.Expr(EXPR, channels=C)
        b.forward = b._composed                          # the library's printed PyTorch form
        return a, b, "composition"
    d = actlab.info(name)
    ch = C if d["per_channel"] else None
    a = at.Activation(name, channels=ch, init="paper" if d["paper_init"] else "default", seed=1)
    if name in reference.NATIVE:
        return a, Native(name), "native"
    return a, Composed(a), "composition"


def fwd_bwd(m, x, gy):
    def run():
        for p in m.parameters():
            p.grad = None
        x.grad = None
        m(x).backward(gy)
    return run


# --------------------------------------------------------------------------------------------
# the binding choice: raw per-call cost of act_act_forward on 2^10 elements

EXT_C = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <actlab/actlab.h>
static PyObject *fwd(PyObject *self, PyObject *const *a, Py_ssize_t n)
{
    (void)self; (void)n;
    act_shape s = { PyLong_AsSize_t(a[5]), PyLong_AsSize_t(a[6]), PyLong_AsSize_t(a[7]) };
    int rc = act_act_forward((act_act_id)PyLong_AsLong(a[0]), PyLong_AsVoidPtr(a[1]),
                             (unsigned)PyLong_AsLong(a[2]), PyLong_AsVoidPtr(a[3]),
                             PyLong_AsVoidPtr(a[4]), s);
    return PyLong_FromLong(rc);
}
static PyMethodDef m[] = { { "fwd", (PyCFunction)(void (*)(void))fwd, METH_FASTCALL, "" },
                           { 0 } };
static struct PyModuleDef d = { PyModuleDef_HEAD_INIT, "actlab_ext", 0, -1, m };
PyMODINIT_FUNC PyInit_actlab_ext(void) { return PyModule_Create(&d); }
"""


def build_ext(tmp):
    inc = sysconfig.get_paths()["include"]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    libdir = os.path.dirname(os.path.realpath(_lib.path))
    src = os.path.join(tmp, "actlab_ext.c")
    with open(src, "w") as f:
        f.write(EXT_C)
    link = os.path.join(tmp, "libactlab.so.0")
    os.symlink(os.path.realpath(_lib.path), link)
    out = os.path.join(tmp, "actlab_ext" + sysconfig.get_config_var("EXT_SUFFIX"))
    r = subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-I" + inc,
                        "-I" + os.path.join(root, "include"), src, "-L" + tmp, "-l:libactlab.so.0",
                        "-Wl,-rpath," + tmp, "-o", out], capture_output=True, text=True)
    del libdir
    if r.returncode != 0:
        return None
    sys.path.insert(0, tmp)
    import actlab_ext
    return actlab_ext


def binding_overhead():
    n = 1 << 10
    x = torch.randn(n)
    y = torch.empty(n)
    silu = actlab.info("silu")["id"]
    rows = []
    f = _lib.act_forward
    rows.append(("ctypes (the package's binding)",
                 per_call(lambda: f(silu, None, 0, x.data_ptr(), y.data_ptr(),
                                    _lib.Shape(1, 1, n)))))
    try:
        import cffi
        ffi = cffi.FFI()
        ffi.cdef("typedef struct { size_t outer, channels, inner; } act_shape;"
                 "int act_act_forward(int, const float *, unsigned, const float *, float *,"
                 " act_shape);")
        C = ffi.dlopen(_lib.path)
        rows.append(("cffi ABI mode", per_call(lambda: C.act_act_forward(
            silu, ffi.NULL, 0, ffi.cast("float *", x.data_ptr()),
            ffi.cast("float *", y.data_ptr()), (1, 1, n)))))
    except ImportError:
        rows.append(("cffi ABI mode (python3-cffi not installed)", float("nan")))
    tmp = tempfile.mkdtemp()
    ext = build_ext(tmp)
    if ext:
        rows.append(("CPython extension (METH_FASTCALL)", per_call(
            lambda: ext.fwd(silu, 0, 0, x.data_ptr(), y.data_ptr(), 1, 1, n))))
    else:
        rows.append(("CPython extension (cannot build: python3-dev?)", float("nan")))
    xs = x.numpy()
    rows.append(("numpy API actlab.forward('silu', x)", per_call(lambda: actlab.forward("silu",
                                                                                       xs))))
    rows.append(("torch F.silu(x) forward, for scale", per_call(lambda: F.silu(x))))
    return rows


# --------------------------------------------------------------------------------------------

def small_cnn(act):
    return nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), act(32),
                         nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), act(64),
                         nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), act(64),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


class Block(nn.Module):
    def __init__(self, cin, cout, stride, act):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.a1 = act(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.a2 = act(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                       nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.b2(self.c2(self.a1(self.b1(self.c1(x)))))
        return self.a2(y + (x if self.short is None else self.short(x)))


def resnet20(act):
    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), act(16)]
    cin = 16
    for cout, stride in ((16, 1), (32, 2), (64, 2)):
        for i in range(3):
            layers.append(Block(cin, cout, stride if i == 0 else 1, act))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def train_step(model_fn, act, x, t):
    torch.manual_seed(0)
    model = model_fn(act)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), t).backward()
        opt.step()
    return step


def act_factory(name, which):
    def make(C):
        a, b, _ = pair(name, C)
        return a if which == "actlab" else b
    return make


# --------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="a smoke run: small sizes, 1 rep")
    ap.add_argument("--acts", help="comma-separated layers, timed at every size")
    ap.add_argument("--no-train", action="store_true", help="skip the training steps")
    a = ap.parse_args()
    reps = 1 if a.quick else a.reps
    layer_acts = ["silu", "gelu", "mish", "elu", "softplus", "relu", "leaky_relu", "sigmoid",
                  "tanh", "hardswish", "acon_c", "meta_acon", "smu", "smu1", "expr"]
    if a.acts:
        layer_acts = a.acts.split(",")
    print("actlab %s (%s, binding %s), torch %s, numpy %s; ISA %s"
          % (actlab.__version__, _lib.path, at.binding, torch.__version__, np.__version__,
             subprocess.run(["cat", "/proc/cpuinfo"], capture_output=True,
                            text=True).stdout.count("avx512f") and "avx512 CPU" or "cpu"))
    for nt in [int(t) for t in a.threads.split(",")]:
        torch.set_num_threads(nt)
        print("\n=== %d thread%s ===" % (nt, "s" if nt > 1 else ""))
        print("\n-- per-call overhead at 2^10 elements (microseconds) --")
        for label, t in binding_overhead():
            print("  %-48s %8.2f" % (label, t * 1e6))
        x = torch.randn(4, 256, requires_grad=True)
        gy = torch.randn(4, 256)
        for name in ("silu", "acon_c"):
            m, base, kind = pair(name, 256)
            ta = min(per_call(fwd_bwd(m, x, gy), n=500) for _ in range(2))
            tb = min(per_call(fwd_bwd(base, x, gy), n=500) for _ in range(2))
            print("  module fwd+bwd %-8s actlab %7.2f   %-11s %7.2f   (difference %+.2f)"
                  % (name, ta * 1e6, kind, tb * 1e6, (ta - tb) * 1e6))

        shapes = [((128, 64, 28, 28), "(128,64,28,28)")]
        if not a.quick:
            shapes += [((16, 64, 64), "2^16"), ((64, 64, 256), "2^20")]
        else:
            shapes = [((2, 64, 16, 16), "(2,64,16,16)")]
        print("\n-- activation layer fwd+bwd (ms); ratio = baseline / actlab --")
        print("  %-10s %-15s %10s %12s %10s %7s" % ("act", "shape", "actlab", "baseline",
                                                    "kind", "ratio"))
        for shape, label in shapes:
            for name in layer_acts:
                m, base, kind = pair(name, shape[1])
                if label != shapes[0][1] and kind != "native" and not a.acts:
                    continue                  # small sizes: the native comparison only
                torch.manual_seed(2)
                x = torch.randn(shape, requires_grad=True)
                gy = torch.randn(shape)
                with torch.no_grad():
                    err = (m(x) - base(x)).abs().max().item()
                assert err < 1e-4 * max(1.0, x.abs().max().item()), (name, err)
                ta, tb = compare(fwd_bwd(m, x, gy), fwd_bwd(base, x, gy), reps, 0.3)
                print("  %-10s %-15s %10.3f %12.3f %10s %7.2f" % (name, label, ta * 1e3,
                                                              tb * 1e3, kind, tb / ta))
                sys.stdout.flush()

        if a.no_train:
            continue
        print("\n-- one training step, batch 32, 3x32x32 (ms); ratio = baseline / actlab --")
        torch.manual_seed(3)
        xb = torch.randn(8 if a.quick else 32, 3, 32, 32)
        tb_ = torch.randint(0, 10, (xb.shape[0],))
        for mname, mfn in (("small_cnn", small_cnn), ("resnet20", resnet20)):
            for name in ("silu", "gelu", "acon_c", "smu", "meta_acon"):
                _, _, kind = pair(name, 16)
                ta, tb = compare(train_step(mfn, act_factory(name, "actlab"), xb, tb_),
                                 train_step(mfn, act_factory(name, "base"), xb, tb_), reps)
                print("  %-10s %-10s %10.2f %12.2f %12s %7.2f" % (mname, name, ta * 1e3,
                                                                tb * 1e3, kind, tb / ta))
                sys.stdout.flush()


if __name__ == "__main__":
    main()
