"""test_torch.py -- actlab.torch against the same functions composed from torch ops (float64):
every built-in at default and perturbed parameters, scalar and per channel; input and parameter
gradients in every requires_grad combination; Meta-ACON; random expressions against the
library's printed PyTorch form; module conventions; threads; from_search.
Run by tests/cli/python_torch.sh; prints one line per check, exits 1 on any failure."""
import copy
import io
import os
import pickle
import random
import sqlite3
import tempfile

import torch

import actlab
import actlab.torch as at
from actlab.torch import reference

from harness import check, count, finish   # noqa: E402


def close(a, b, rtol, atol):
    """max |a - b| / (atol + rtol |b|) <= 1, a in float32, b the float64 reference."""
    a, b = a.detach().double(), b.detach().double()
    if a.shape != b.shape:
        return False, float("inf")
    err = ((a - b).abs() / (atol + rtol * b.abs())).max().item() if a.numel() else 0.0
    return err <= 1.0, err


torch.manual_seed(1)
random.seed(1)

# the binding: the C++ extension where it was built (tests/cli/python_torch.sh says which to
# expect), else ctypes
print("binding: %s%s" % (at.binding, " (%s)" % at.ext_error if at.ext_error else ""))
want_binding = os.environ.get("ACTLAB_EXPECT_BINDING")
if want_binding:
    check(at.binding == want_binding, "binding %s, expected %s (%s)"
          % (at.binding, want_binding, at.ext_error))

# --------------------------------------------------------------------------------------------
# every built-in

check(set(reference.REFERENCE) == set(actlab.names()),
      "reference.REFERENCE covers exactly the library's table: %s"
      % sorted(set(reference.REFERENCE) ^ set(actlab.names())))

# Perturbed values: inside each function's domain, away from the defaults.
PERTURB = {"alpha": 0.6, "a": 0.3, "beta": 1.7, "threshold": 2.0, "p": 0.35, "p1": 1.4,
           "p2": -0.3, "mu": 1.9}


def inputs(name, shape):
    x = torch.randn(shape, dtype=torch.float64) * 2.5
    for k in actlab.info(name)["kinks"] + ((0.0,) if name in ("relu", "leaky_relu", "prelu",
                                                               "elu", "selu") else ()):
        near = (x - k).abs() < 0.05
        x = torch.where(near, x + 0.1, x)
    return x


def run_builtin(name, vals, C, shape):
    """kernel (float32) vs reference (float64): y, dx and every parameter gradient."""
    d = actlab.info(name)
    m = at.Activation(name, channels=C, learnable=True,
                      **{n: v for n, v in zip(d["params"], vals)})
    x64 = inputs(name, shape)
    gy = torch.randn(shape, dtype=torch.float64)
    x = x64.float().requires_grad_()
    y = m(x)
    y.backward(gy.float())
    xr = x64.clone().requires_grad_()
    pr = [p.detach().double().requires_grad_() for p in m.params()]
    yr = reference.compose(name, xr, *pr)
    yr.backward(gy)
    tag = "%s params=%s C=%s shape=%s" % (name, [round(float(v.mean()) if torch.is_tensor(v)
                                                       else v, 3) for v in vals], C, shape)
    ok, e = close(y, yr, 1e-5, 1e-6)
    check(ok, "%s: y err %.3g" % (tag, e))
    ok, e = close(x.grad, xr.grad, 1e-5, 1e-6)
    check(ok, "%s: dx err %.3g" % (tag, e))
    for n, p, q in zip(d["params"], m.params(), pr):
        if q.grad is None:              # softplus threshold: a comparison, no gradient
            q.grad = torch.zeros_like(q)
        if p.grad is None:
            check(False, "%s: d%s missing" % (tag, n))
            continue
        # a parameter gradient sums |x.numel() / C| terms: tolerance relative to that scale
        scale = (gy.abs() * x64.abs()).sum() / (C or 1)
        ok, e = close(p.grad, q.grad, 1e-5, 1e-6 * float(scale))
        check(ok, "%s: d%s err %.3g (%s vs %s)" % (tag, n, e, p.grad, q.grad))
        check(bool(q.grad.abs().max() > 0) or n == "threshold",
              "%s: d%s is zero in the reference too (a vacuous check)" % (tag, n))


for name in actlab.names():
    d = actlab.info(name)
    defaults = list(d["defaults"])
    perturbed = [PERTURB[n] for n in d["params"]]
    for vals in ([defaults, perturbed] if d["params"] else [[]]):
        run_builtin(name, vals, None, (4, 3, 5, 6))
        if d["params"]:
            # per channel: different values in every channel
            pc = [torch.tensor(v) * (1 + 0.15 * torch.arange(3.0)) for v in vals]
            run_builtin(name, pc, 3, (4, 3, 5, 6))
            run_builtin(name, pc, 3, (7, 3))                  # dense (N, C)
print("built-ins: %d checks" % count())

# --------------------------------------------------------------------------------------------
# requires_grad combinations, non-contiguous inputs, float64, shapes

m = at.ACON_C(3, init="paper", seed=5)
x0 = torch.randn(2, 3, 4, 5)
for want_x in (False, True):
    for want_p in (False, True):
        mm = copy.deepcopy(m)
        for p in mm.parameters():
            p.requires_grad_(want_p)
        x = x0.clone().requires_grad_(want_x)
        y = mm(x)
        check(y.requires_grad == (want_x or want_p), "requires_grad x=%s p=%s" % (want_x, want_p))
        if y.requires_grad:
            y.sum().backward()
            check((x.grad is not None) == want_x, "x.grad set iff wanted (p=%s)" % want_p)
            check(all((p.grad is not None) == want_p for p in mm.parameters()),
                  "p.grad set iff wanted (x=%s)" % want_x)

xt = torch.randn(2, 3, 6, 5).transpose(2, 3)           # non-contiguous
check(not xt.is_contiguous(), "transposed input is non-contiguous")
check(torch.equal(m(xt), m(xt.contiguous())), "non-contiguous input gives the same values")
xcl = torch.randn(2, 3, 4, 4).to(memory_format=torch.channels_last)
check(torch.equal(m(xcl), m(xcl.contiguous())), "channels_last input gives the same values")
xs = torch.randn(2, 3, 4, 4)[:, :, ::2, 1::2]
check(torch.equal(m(xs), m(xs.contiguous())), "strided slice gives the same values")
for shape in ((5, 3), (2, 3, 7), (2, 3, 2, 2, 2), (0, 3, 4)):
    xx = torch.randn(shape)
    check(m(xx).shape == xx.shape, "shape %s" % (shape,))
try:
    m(torch.randn(2, 4, 3))
    check(False, "a wrong channel count raises")
except ValueError as e:
    check("(N, 3, ...)" in str(e), "a wrong channel count says what it expects: %s" % e)

m64 = copy.deepcopy(m).double()
x64 = torch.randn(2, 3, 4, 5, dtype=torch.float64, requires_grad=True)
y64 = m64(x64)
check(y64.dtype == torch.float64, "float64 in, float64 out")
check(not at.uses_kernel(x64) and at.uses_kernel(x64.float()), "float64 takes the composition")
ok, e = close(m(x64.float()), y64, 2e-5, 2e-6)
check(ok, "float64 fallback agrees with the float32 kernel (%.3g)" % e)
y64.sum().backward()
check(x64.grad is not None and m64.p1.grad.dtype == torch.float64, "float64 gradients")
with torch.no_grad():
    yn = m(x0)
check(yn.grad_fn is None and torch.equal(yn, m(x0)), "no_grad: the direct path, same values")
# a tensor on another device (CUDA when there is one; "meta" here) takes the composition
for mod in (at.ACON_C(3), at.SMU(), at.MetaACON(3, r=2), at.Expr("max(x, beta*sin(x))", 3)):
    xm = torch.randn(2, 3, 4, device="meta")
    check(mod.to("meta")(xm).device.type == "meta", "non-CPU input: %s composed on its device"
          % type(mod).__name__)
sm = at.Activation("smu")
check(sm(torch.randn(3, dtype=torch.float16)).dtype == torch.float16, "float16 composition")
check(sm(torch.randn(())).shape == (), "0-d input with scalar parameters")

# --------------------------------------------------------------------------------------------
# module conventions: state_dict, pickling, repr, buffers, unknown names

a = at.Activation("smu", alpha=0.2, mu=3.0)
check([n for n, _ in a.named_parameters()] == ["mu"], "smu: mu learnable, alpha a buffer")
check(set(a.state_dict()) == {"alpha", "mu"}, "state_dict holds parameters and buffers")
b = at.Activation("smu")
b.load_state_dict(a.state_dict())
xx = torch.randn(5, 7)
check(torch.equal(a(xx), b(xx)), "state_dict round-trip")
for mod in (at.ACON_C(4, init="paper", seed=3), at.SMU1(), at.MetaACON(4, r=2),
            at.Expr("x*sigmoid(beta*x) + beta2*sin(x)", channels=4),
            torch.nn.Sequential(at.GELU(), at.PRELU(4))):
    buf = io.BytesIO()
    torch.save(mod, buf)
    buf.seek(0)
    mod2 = torch.load(buf)
    mod.eval()
    mod2.eval()
    xx = torch.randn(2, 4, 3)
    check(torch.equal(mod(xx), mod2(xx)), "torch.save/load round-trip of %s" % type(mod).__name__)
    check(torch.equal(mod(xx), pickle.loads(pickle.dumps(mod))(xx)),
          "pickle round-trip of %s" % type(mod).__name__)
check("channels=4" in repr(at.ACON_C(4)) and "learnable" in repr(at.ACON_C(4)), "extra_repr")
try:
    at.Activation("smoo")
    check(False, "an unknown name raises")
except KeyError as e:
    check("smu" in str(e), "an unknown name lists the valid ones")
try:
    at.Activation("smu", beta=1.0)
    check(False, "an unknown parameter raises")
except TypeError as e:
    check("alpha" in str(e), "an unknown parameter lists the valid ones")
p = at.ACON_C(8, init="paper", seed=42)
check(p.p1.std() > 0.3 and torch.all(p.beta == 1), "init='paper': p1, p2 ~ N(0,1), beta = 1")

# functional forms
xx = torch.randn(4, 3, 5)
check(torch.equal(at.functional.silu(xx), at.SILU()(xx)), "functional.silu")
pp = torch.tensor([1.0, 2.0, 0.5], requires_grad=True)
yf = at.functional.acon_c(xx, pp, 0.25, beta=2.0)
yr = reference.compose("acon_c", xx, pp.detach(), 0.25, 2.0)
check(torch.allclose(yf, yr, rtol=1e-5, atol=1e-6), "functional.acon_c, mixed tensor/float")
yf.sum().backward()
check(pp.grad is not None and pp.grad.shape == (3,), "functional: per-channel parameter grad")

# --------------------------------------------------------------------------------------------
# threads: results independent of the count (tensors above the kernels' threading threshold)

if torch.get_num_threads() >= 1:
    xx = torch.randn(8, 16, 40, 40)
    res = []
    for n in (1, 2, 3):
        torch.set_num_threads(n)
        mm = at.ACON_C(16, init="paper", seed=9)
        x = xx.clone().requires_grad_()
        y = mm(x)
        y.backward(torch.ones_like(y))
        check(actlab.get_num_threads() == n, "kernels follow torch.set_num_threads(%d)" % n)
        res.append((y, x.grad, mm.p1.grad, mm.beta.grad))
    check(all(torch.equal(a, b) for r in res[1:] for a, b in zip(res[0], r)),
          "values and gradients bitwise identical for 1, 2, 3 threads")
    actlab.set_num_threads(1)
    torch.set_num_threads(2)
    at.SILU()(xx)
    check(actlab.get_num_threads() == 1, "actlab.set_num_threads overrides torch's count")
    actlab.set_num_threads(None)
    at.SILU()(xx)
    check(actlab.get_num_threads() == 2, "set_num_threads(None) follows torch again")
    actlab.set_num_threads(1)                  # torch's count unchanged in between
    at.SILU()(xx)
    actlab.set_num_threads(None)
    at.SILU()(xx)
    check(actlab.get_num_threads() == 2, "set_num_threads(None) restores torch's unchanged count")

# --------------------------------------------------------------------------------------------
# Meta-ACON: the kernel path against the same module in float64 (composition)

for bn in (True, False):
    torch.manual_seed(3)
    ma = at.MetaACON(6, r=2, bn=bn)
    mb = copy.deepcopy(ma).double()
    x64 = torch.randn(5, 6, 4, 3, dtype=torch.float64)
    gy = torch.randn(5, 6, 4, 3, dtype=torch.float64)
    xa = x64.float().requires_grad_()
    xb = x64.clone().requires_grad_()
    ya, yb = ma(xa), mb(xb)
    ya.backward(gy.float())
    yb.backward(gy)
    ok, e = close(ya, yb, 1e-4, 1e-5)
    check(ok, "MetaACON bn=%s: y err %.3g" % (bn, e))
    ok, e = close(xa.grad, xb.grad, 1e-3, 1e-4)
    check(ok, "MetaACON bn=%s: dx err %.3g" % (bn, e))
    scale = max(float(p.grad.abs().max()) for p in mb.parameters())
    for (n, pa), pb in zip(ma.named_parameters(), mb.parameters()):
        ok, e = close(pa.grad, pb.grad, 1e-3, 1e-4 * scale)
        check(ok, "MetaACON bn=%s: d%s err %.3g" % (bn, n, e))
        # a bias right before a batch norm has a zero gradient (the norm removes it)
        if not (bn and n in ("fc1.bias", "fc2.bias", "bn1.bias")):
            check(float(pb.grad.abs().max()) > 1e-3 * scale,
                  "MetaACON bn=%s: d%s not vacuous" % (bn, n))

# --------------------------------------------------------------------------------------------
# random expressions: the compiled program against the library's printed PyTorch form

UN = ["sin(%s)", "cos(%s)", "tanh(%s)", "sigmoid(%s)", "softplus(%s)", "atan(%s)", "asinh(%s)",
      "erf(%s)", "(%s)^2", "abs(%s)", "-(%s)", "exp(-abs(%s))", "sqrt(abs(%s) + 1)",
      "log(abs(%s) + 1)", "sinc(%s)", "mish(%s)", "silu(%s)"]
BIN = ["%s + %s", "%s - %s", "%s*%s", "max(%s, %s)", "min(%s, %s)", "%s/(abs(%s) + 1)"]
LEAF = ["x", "x", "beta*x", "beta2", "beta3*x", "0.5"]


def rand_expr(depth):
    if depth == 0 or random.random() < 0.2:
        return random.choice(LEAF)
    if random.random() < 0.5:
        return random.choice(UN) % rand_expr(depth - 1)
    return random.choice(BIN) % (rand_expr(depth - 1), rand_expr(depth - 1))


n_expr = 0
while n_expr < 25:
    src = rand_expr(3)
    if "x" not in src.replace("beta", ""):
        continue
    n_expr += 1
    for C in (None, 3):
        e = at.Expr(src, channels=C)
        with torch.no_grad():
            for k, p in enumerate(e.params()):
                p.copy_(torch.rand(p.shape) + 0.5 + 0.2 * k)
        e64 = copy.deepcopy(e).double()
        x64 = torch.randn(4, 3, 5, dtype=torch.float64) * 2
        gy = torch.randn(4, 3, 5, dtype=torch.float64)
        xa, xb = x64.float().requires_grad_(), x64.clone().requires_grad_()
        ya, yb = e(xa), e64(xb)
        ya.backward(gy.float())
        yb.backward(gy)
        tag = "Expr %r C=%s" % (e.prog.text, C)
        ok, err = close(ya, yb, 1e-4, 1e-5)
        check(ok, "%s: y err %.3g" % (tag, err))
        ok, err = close(xa.grad, xb.grad, 1e-3, 1e-4)
        check(ok, "%s: dx err %.3g" % (tag, err))
        for k, (pa, pb) in enumerate(zip(e.params(), e64.params())):
            if pb.grad is None:            # the printed form dropped an unused parameter
                pb.grad = torch.zeros_like(pb)
            ok, err = close(pa.grad, pb.grad, 1e-3, 1e-4 * float((gy.abs()).sum()))
            check(ok, "%s: dbeta%d err %.3g (%s vs %s)" % (tag, k + 1, err, pa.grad, pb.grad))
e = at.Expr("max(x, sigmoid(beta*x)) + cos(x)*x", channels=4)
check([n for n, _ in e.named_parameters()] == ["beta1"], "Expr parameters are beta1..betaK")
try:
    at.Expr("x*sigmoid(bta*x)")
    check(False, "a misspelt expression raises")
except ValueError as err:
    check("column" in str(err), "a parse error names the column: %s" % err)
check(torch.equal(at.functional.expr("x*sigmoid(beta*x)", xx, 1.0), at.SILU()(xx)),
      "functional.expr")

# --------------------------------------------------------------------------------------------
# from_search: the leaderboard query on a small journal, and on the committed snapshot

with tempfile.TemporaryDirectory() as tmp:
    db = os.path.join(tmp, "s.db")
    con = sqlite3.connect(db)
    con.executescript(
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE candidate(id INTEGER PRIMARY KEY, canon TEXT, expr TEXT, status TEXT);"
        "CREATE TABLE trial(id INTEGER PRIMARY KEY, candidate_id INTEGER, fidelity TEXT,"
        " seed INTEGER, state TEXT, val_acc REAL);"
        "INSERT INTO meta VALUES('config', 'strategy=random\nfidelity=proxy\n"
        "fidelity.def=x\n');"
        "INSERT INTO candidate VALUES(1, 'max(x, 0)', 'max(x, 0)', 'kept'),"
        " (2, 'x*sigmoid(beta*x)', 'x*sigmoid(beta*x)', 'kept'),"
        " (3, 'sin(x)', 'sin(x)', 'rejected'), (4, 'tanh(x)', 'tanh(x)', 'kept');"
        "INSERT INTO trial VALUES(1, 1, 'proxy', 1, 'done', 0.80),"
        " (2, 2, 'proxy', 1, 'done', 0.85),"
        " (3, 2, 'proxy', 2, 'done', 0.83), (4, 3, 'proxy', 1, 'done', 0.99),"
        " (5, 4, 'proxy', 1, 'failed', 0.99), (6, 4, 'mlp', 1, 'done', 0.95),"
        " (7, 1, 'proxy', 2, 'done', 0.82);")
    con.commit()
    con.close()
    check(at.from_search(db, rank=1).prog.text == "x*sigmoid(beta*x)", "from_search rank 1")
    check(at.from_search(db, rank=2).prog.text == "max(x, 0)", "from_search rank 2")
    check(at.from_search(db, fidelity="mlp").prog.text == "tanh(x)", "from_search fidelity=")
    g = at.from_search(db, rank=1, channels=5)
    check(g.beta1.shape == (5,), "from_search channels=")
    try:
        at.from_search(db, rank=3)
        check(False, "from_search past the last rank raises")
    except LookupError:
        pass
# the committed journal, copied: opening a WAL journal, even read-only, creates -shm/-wal files
snap_dir = tempfile.mkdtemp()
snap = os.path.join(snap_dir, "snapshot.db")
actlab_bin = os.environ.get("ACTLAB")
if os.path.exists("dev/search/exhaustive_proxy.snapshot.db") and actlab_bin and \
        os.path.exists(actlab_bin):
    import shutil
    import subprocess
    shutil.copy("dev/search/exhaustive_proxy.snapshot.db", snap)
    top = subprocess.run([actlab_bin, "search", "top", snap, "-k", "3", "--format", "csv"],
                         capture_output=True, text=True).stdout.splitlines()
    check(len(top) == 4, "actlab search top on the snapshot: %s" % top)
    for r in range(1, len(top)):
        want = top[r].split('"')[1]
        got = at.from_search(snap, rank=r)
        check(got.prog.text == actlab.Program(want).text,
              "from_search(snapshot, %d) = %r, actlab search top: %r" % (r, got.prog.text, want))

    shutil.rmtree(snap_dir)

# --------------------------------------------------------------------------------------------
# the extension against the ctypes path: bitwise the same values and gradients

def both(fn):
    """fn() run through the extension and then through ctypes (at._ext hidden)."""
    ext = at._ext
    try:
        a = fn()
        at._ext = None
        b = fn()
    finally:
        at._ext = ext
    return a, b


def identical(a, b):
    if a is None or b is None:
        return a is None and b is None
    return a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)


def same(what, fn):
    a, b = both(fn)
    bad = [k for k, (u, v) in enumerate(zip(a, b)) if not identical(u, v)]
    check(len(a) == len(b) and not bad, "extension vs ctypes, %s: results %s differ" % (what, bad))


def module_run(name, vals, C, shape, learnable=True, want_x=True):
    def f():
        torch.manual_seed(11)
        m = at.Activation(name, channels=C, learnable=learnable,
                          **{n: v for n, v in zip(actlab.info(name)["params"], vals)})
        x = inputs(name, shape).float().requires_grad_(want_x)
        gy = torch.randn(shape)
        y = m(x)
        if y.requires_grad:
            y.backward(gy)
        return [y, x.grad] + [getattr(m, n).grad for n in m.param_names]
    return f


n_before = count()
if at._ext is not None:
    for name in actlab.names():
        d = actlab.info(name)
        defaults = list(d["defaults"])
        perturbed = [PERTURB[n] for n in d["params"]]
        for vals in ([defaults, perturbed] if d["params"] else [[]]):
            tag = "%s %s" % (name, vals)
            same(tag + " scalar", module_run(name, vals, None, (4, 3, 5, 6)))
            same(tag + " scalar, large", module_run(name, vals, None, (2, 3, 64, 65)))
            if d["params"]:
                pc = [torch.tensor(v) * (1 + 0.15 * torch.arange(3.0)) for v in vals]
                same(tag + " per channel", module_run(name, pc, 3, (4, 3, 5, 6)))
                same(tag + " per channel (N, C)", module_run(name, pc, 3, (7, 3)))
                same(tag + " per channel, large", module_run(name, pc, 3, (2, 3, 64, 65)))
                same(tag + " table's learnable", module_run(name, vals, None, (4, 3, 5, 6),
                                                            learnable=None))
                same(tag + " no input grad", module_run(name, pc, 3, (4, 3, 5, 6),
                                                        want_x=False))
                same(tag + " no parameter grad", module_run(name, pc, 3, (4, 3, 5, 6),
                                                            learnable=False))

    def functional_run(p_of):
        def f():
            torch.manual_seed(12)
            x = torch.randn(4, 3, 5, requires_grad=True)
            ps = p_of()
            y = at.functional.acon_c(x, *ps)
            y.backward(torch.randn(4, 3, 5))
            return [y, x.grad] + [p.grad if torch.is_tensor(p) else None for p in ps]
        return f
    # mixed tensor and float parameters (a stride-0 expand), float64 and (1,)-shaped tensors
    # (the stack path), a 0-d tensor broadcast over channels (the expand's sum)
    same("functional, mixed", functional_run(
        lambda: [torch.tensor([1.0, 2.0, 0.5], requires_grad=True), 0.25, 2.0]))
    same("functional, float64 parameters", functional_run(
        lambda: [torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64, requires_grad=True),
                 torch.tensor(0.25, dtype=torch.float64, requires_grad=True), 2.0]))
    same("functional, 0-d over channels", functional_run(
        lambda: [torch.tensor([1.0, 2.0, 0.5], requires_grad=True),
                 torch.tensor(0.25, requires_grad=True), torch.tensor(1.5, requires_grad=True)]))

    def scalar1_run():
        torch.manual_seed(13)
        x = torch.randn(6, 5, requires_grad=True)
        a = torch.tensor([0.3], requires_grad=True)
        y = at.functional.leaky_relu(x, a)
        y.backward(torch.randn(6, 5))
        return [y, x.grad, a.grad]
    same("functional, (1,) parameter", scalar1_run)

    def meta_run(bn):
        def f():
            torch.manual_seed(14)
            m = at.MetaACON(6, r=2, bn=bn)
            x = torch.randn(5, 6, 4, 3, requires_grad=True)
            y = m(x)
            y.backward(torch.randn(5, 6, 4, 3))
            return [y, x.grad] + [p.grad for p in m.parameters()]
        return f
    same("MetaACON bn", meta_run(True))
    same("MetaACON no bn", meta_run(False))

    def expr_run(src, C):
        def f():
            torch.manual_seed(15)
            e = at.Expr(src, channels=C)
            with torch.no_grad():
                for k, p in enumerate(e.params()):
                    p.copy_(torch.rand(p.shape) + 0.5 + 0.2 * k)
            x = torch.randn(4, 3, 50, requires_grad=True)
            y = e(x)
            y.backward(torch.randn(4, 3, 50))
            return [y, x.grad] + [p.grad for p in e.params()]
        return f
    for src in ("max(x, sigmoid(beta*x)) + cos(x)*x", "beta*x + beta2*sin(x) + beta3*tanh(x) "
                "+ beta4*x*x", "sin(x) + x"):
        for C in (None, 3):
            same("Expr %r C=%s" % (src, C), expr_run(src, C))

    def nograd_run():
        torch.manual_seed(16)
        x = torch.randn(4, 3, 5)
        with torch.no_grad():
            return [at.ACON_C(3, init="paper", seed=2)(x), at.SMU()(x), at.RELU()(x)]
    same("no_grad", nograd_run)

    def softplus_zero():
        try:
            at.Activation("softplus", beta=0.0)(torch.randn(3, requires_grad=True))
        except actlab.Error as err:
            return [torch.tensor(err.status)]
        return [None]
    a, b = both(softplus_zero)
    check(a[0] is not None and identical(a[0], b[0]),
          "a library error is actlab.Error through both bindings: %s %s" % (a, b))
    check(at.binding == "extension", "at.binding says extension")
    print("extension vs ctypes: %d checks" % (count() - n_before))

finish()
