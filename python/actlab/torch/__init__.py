"""actlab.torch -- actlab's kernels as PyTorch modules with exact autograd (CPU, float32).

    import torch, actlab.torch as at
    at.Activation("smu")            any built-in; parameters as nn.Parameters / buffers
    at.ACON_C(64)                   one class per built-in, named as its ACT_ACT_* id
    at.MetaACON(64)                 Meta-ACON-C (acon.py's MetaAconC) around the ACON-C kernel
    at.Expr("max(x, sigmoid(beta*x))", channels=64)      any expression, trainable beta
    at.from_search("s.db", rank=1)  the winner of an actlab search
    at.functional.silu(x)           functional forms

Each kernel runs inside an autograd node whose backward calls actlab's backward (input and
parameter gradients): the C++ extension actlab_torch_ext.so where it was built (`make` with
libtorch-dev and pybind11-dev; at.binding == "extension"), else a torch.autograd.Function over
ctypes (at.binding == "ctypes"); the two give bitwise the same results. float32 CPU tensors take
the kernels; float16 and bfloat16 CPU tensors too, through float32; float64 and CUDA tensors take
the same function composed from torch ops (reference.py). docs/python.md.
"""
try:
    import torch
except ImportError as _e:
    raise ImportError("actlab.torch needs PyTorch, which is not installed (Debian: apt-get install "
                      "python3-torch; scripts/install-deps.sh installs it); the numpy API, "
                      "`import actlab`, works without it") from _e

import os
import sqlite3

import torch.nn as nn

import actlab
from actlab import _lib
from . import reference
from .reference import per_channel as _per_channel

__all__ = ["Activation", "MetaACON", "Expr", "from_search", "functional", "uses_kernel",
           "binding"]

_threads_seen = None
_F32 = torch.float32
_STRIDED = torch.strided


def _sync_threads():
    """The kernels follow torch.get_num_threads() unless actlab.set_num_threads() was called."""
    global _threads_seen
    if actlab._user_threads is not None:
        return
    seen = (torch.get_num_threads(), actlab._threads_epoch)
    if seen != _threads_seen:
        _lib.check(_lib.threads_set(seen[0]), "threads")
        _threads_seen = seen


def _ext_candidates():
    """Where actlab_torch_ext.so may be: $ACTLAB_TORCH_EXT (a file; "0" or "": none), else
    next to the libactlab.so that was loaded (a build directory, ACTLAB_LIB's), then the package
    directory (`make install` puts it there)."""
    env = os.environ.get("ACTLAB_TORCH_EXT")
    if env is not None:
        return [] if env in ("", "0") else [env]
    out = []
    if os.sep in _lib.path:
        out.append(os.path.join(os.path.dirname(os.path.realpath(_lib.path)), _EXT_FILE))
    out.append(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            _EXT_FILE))
    return out


def _load_ext():
    """The extension module, or (None, why not). It calls the library ctypes loaded, through
    the addresses of its functions."""
    import ctypes
    import importlib.machinery
    import importlib.util
    why = []
    for path in _ext_candidates():
        if not os.path.exists(path):
            why.append("%s: no such file" % path)
            continue
        try:
            loader = importlib.machinery.ExtensionFileLoader("actlab_torch_ext", path)
            spec = importlib.util.spec_from_file_location("actlab_torch_ext", path,
                                                          loader=loader)
            mod = importlib.util.module_from_spec(spec)
            loader.exec_module(mod)
            addr = [ctypes.cast(f, ctypes.c_void_p).value for f in
                    (_lib.act_forward, _lib.act_backward, _lib.expr_forward,
                     _lib.expr_backward, _lib.threads_set)]
            mod.init(*addr, _lib.Error)
            return mod, None
        except Exception as e:         # noqa: BLE001 (any failure: the ctypes path)
            why.append("%s: %s" % (path, e))
    return None, "; ".join(why) or "ACTLAB_TORCH_EXT=%s" % os.environ.get("ACTLAB_TORCH_EXT")


_EXT_FILE = "actlab_torch_ext.so"
_ext, ext_error = _load_ext()
binding = "extension" if _ext is not None else "ctypes"
if _ext is not None:
    actlab._threads_hooks.append(_ext.set_user_threads)
    _ext.set_user_threads(actlab._user_threads is not None)


def uses_kernel(x):
    """Whether tensor x goes through actlab's kernels (float32 on the CPU, strided); other
    tensors take the torch-op composition."""
    return x.dtype is _F32 and x.is_cpu and x.layout is _STRIDED


def _half(x):
    """float16 / bfloat16 on the CPU: run in float32 and cast back (torch's CPU composition
    lacks ops such as erf in half precision)."""
    return x.device.type == "cpu" and x.dtype in (torch.float16, torch.bfloat16)


def _ptr(t):
    return t.data_ptr() if t is not None and t.numel() else None


def _layout(x, C):
    """(outer, channels, inner) of a contiguous x, channels along dim 1 (C None: flat)."""
    if C is None:
        return _lib.Shape(1, 1, x.numel())
    if x.dim() < 2 or x.shape[1] != C:
        raise ValueError("actlab: expected an input of shape (N, %d, ...), got %s"
                         % (C, tuple(x.shape)))
    n = x.shape[0]
    return _lib.Shape(n, C, x.numel() // (n * C) if n * C else 0)


def _forward(x, p, fwd, handle, C):
    """The kernel's forward on contiguous float32 x; p detached, contiguous (or None)."""
    shape = _layout(x, C)
    y = torch.empty_like(x)
    _sync_threads()
    rc = fwd(handle, _ptr(p), 0 if C is None else _lib.PER_CHANNEL, x.data_ptr(), y.data_ptr(),
             shape)
    if rc:
        raise _lib.Error(rc, "forward")
    return y, shape


class _Kernel(torch.autograd.Function):
    """y = f(x; p): x contiguous float32, p (n_params, C) per channel or (n_params,) or None;
    fwd/bwd: the C entry points, handle their first argument (activation id or program)."""

    @staticmethod
    def forward(ctx, x, p, fwd, bwd, handle, C):
        if p is not None:
            p = p.detach().contiguous()
        y, shape = _forward(x, p, fwd, handle, C)
        ctx.save_for_backward(x, p)
        flags = _lib.DX_ASSIGN if C is None else _lib.DX_ASSIGN | _lib.PER_CHANNEL
        ctx.info = (bwd, handle, flags, shape)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, p = ctx.saved_tensors
        bwd, handle, flags, shape = ctx.info
        want_x, want_p = ctx.needs_input_grad[:2]
        gy = gy.contiguous()
        dx = torch.empty_like(x)
        dp = torch.zeros_like(p) if want_p else None
        _sync_threads()
        rc = bwd(handle, _ptr(p), flags, x.data_ptr(), gy.data_ptr(), dx.data_ptr(), _ptr(dp),
                 shape)
        if rc:
            raise _lib.Error(rc, "backward")
        return (dx if want_x else None), dp, None, None, None, None


def _run(x, p, fwd, bwd, handle, C):
    """The kernel on float32 CPU x: through autograd when a gradient is wanted, else directly
    (inference skips the autograd.Function's cost)."""
    if _ext is not None:
        return _ext.run(1 if fwd is _lib.expr_forward else 0, handle, x, p,
                        -1 if C is None else C)
    x = x.contiguous()
    if torch.is_grad_enabled() and (x.requires_grad or (p is not None and p.requires_grad)):
        return _Kernel.apply(x, p, fwd, bwd, handle, C)
    return _forward(x, None if p is None else p.detach().contiguous(), fwd, handle, C)[0]


def _pack(params, C, x):
    """The parameters as one (n_params, C) or (n_params,) float32 tensor (autograd-tracked)."""
    if not params:
        return None
    if C is None:
        return torch.stack([p.reshape(()) for p in params]).to(torch.float32)
    return torch.stack([p.expand(C) for p in params]).to(torch.float32)


def act(name, x, params=(), channels=None):
    """Built-in `name` on x with parameter tensors `params` (each 0-d, or (C,) with channels=C
    along dim 1). The common path of Activation and functional."""
    d = actlab.info(name)
    if len(params) != len(d["params"]):
        raise TypeError("actlab: %s takes %d parameters (%s), got %d"
                        % (name, len(d["params"]), ", ".join(d["params"]), len(params)))
    if _half(x):
        return act(name, x.float(), params, channels).to(x.dtype)
    if not uses_kernel(x):
        return reference.compose(name, x, *params)
    if _ext is not None:
        return _ext.act(d["id"], x, list(params), -1 if channels is None else channels)
    return _run(x, _pack(params, channels, x), _lib.act_forward, _lib.act_backward, d["id"],
                channels)


# --------------------------------------------------------------------------------------------
# modules

def _as_tensor(v, C):
    t = torch.as_tensor(v, dtype=torch.float32).clone()
    if C is None:
        if t.numel() != 1:
            raise ValueError("actlab: %d parameter values without channels=" % t.numel())
        return t.reshape(())
    return t.expand(C).clone() if t.numel() == 1 else t.reshape(C)


class Activation(nn.Module):
    """Built-in activation `name` (actlab.names()). channels=None: scalar parameters and any
    input shape; channels=C: per-channel parameters (C,) along dim 1 of (N, C, ...).
    Parameter values by name (act.h's names) override the defaults; init="paper" draws ACON-C's
    p1, p2 as the library does (act_act_init_params with `seed`). learnable: None (the table's
    learnable column), True, False, or a collection of parameter names; the others are buffers
    (in state_dict, no gradient)."""

    def __init__(self, name, channels=None, init="default", seed=0, learnable=None, **values):
        super().__init__()
        d = actlab.info(name)
        self.name = name
        self.act_id = d["id"]
        self.channels = channels
        self.param_names = d["params"]
        unknown = set(values) - set(d["params"])
        if unknown:
            raise TypeError("actlab: %s has no parameter %s; its parameters: %s"
                            % (name, ", ".join(sorted(unknown)), ", ".join(d["params"])))
        init_vals = list(d["defaults"])
        if init == "paper":
            import numpy as np
            C = channels or 1
            buf = np.empty(len(init_vals) * C, dtype=np.float32)
            _lib.check(_lib.act_init_params(d["id"], _lib.INIT_PAPER, seed, C, buf.ctypes.data),
                       "init_params")
            buf = buf.reshape(len(init_vals), C)
            init_vals = [row if channels else row[0] for row in buf]
        elif init != "default":
            raise ValueError("actlab: init is 'default' or 'paper', not %r" % (init,))
        for k, pname in enumerate(d["params"]):
            if learnable is None:
                learn = d["learnable"][k]
            elif isinstance(learnable, bool):
                learn = learnable
            else:
                learn = pname in learnable
            t = _as_tensor(values.get(pname, init_vals[k]), channels)
            if learn:
                self.register_parameter(pname, nn.Parameter(t))
            else:
                self.register_buffer(pname, t)

    def params(self):
        return [getattr(self, n) for n in self.param_names]

    def forward(self, x):
        if x.dtype is _F32 and x.is_cpu and x.layout is _STRIDED:   # act(), minus look-ups
            if _ext is not None:
                return _ext.module(self.act_id, x, self._parameters, self._buffers,
                                   self.param_names,
                                   -1 if self.channels is None else self.channels)
            p = _pack(self.params(), self.channels, x) if self.param_names else None
            return _run(x, p, _lib.act_forward, _lib.act_backward, self.act_id, self.channels)
        return act(self.name, x, self.params(), self.channels)

    def extra_repr(self):
        s = repr(self.name)
        if self.channels is not None:
            s += ", channels=%d" % self.channels
        learn = [n for n, _ in self.named_parameters(recurse=False)]
        return s + (", learnable=%s" % learn if learn else "")


def _named_class(name):
    cls_name = name.upper()

    def __init__(self, channels=None, **kw):
        Activation.__init__(self, name, channels, **kw)

    cls = type(cls_name, (Activation,), {
        "__init__": __init__,
        "__doc__": "%s: f(x) = %s (actlab built-in %r; see Activation)"
                   % (cls_name, actlab.info(name)["formula"], name),
        "__module__": __name__,
    })
    return cls_name, cls


for _n in actlab.names():
    _cn, _cls = _named_class(_n)
    globals()[_cn] = _cls
    __all__.append(_cn)
del _n, _cn, _cls


_ACON_C = actlab.info("acon_c")["id"]


class MetaACON(nn.Module):
    """Meta-ACON-C, as MetaAconC in nmaac/acon acon.py (arXiv 2009.04759): per sample and
    channel beta = sigmoid(bn2(fc2(bn1(fc1(mean over dims 2.. of x))))), hidden max(r, C // r),
    then ACON-C with that beta: y = (p1 - p2) x sigmoid(beta (p1 - p2) x) + p2 x. The generator is
    torch ops (Linear, BatchNorm1d); the ACON-C part is one actlab kernel call over the tensor seen
    as (1, N*C, inner) with per-(sample, channel) parameters, whose backward gives the gradients
    of x, p1, p2 and beta. p1, p2 ~ N(0, 1) as acon.py (torch.randn). Input (N, C, ...)."""

    def __init__(self, channels, r=16, bn=True):
        super().__init__()
        hidden = max(r, channels // r)
        self.channels, self.r, self.bn = channels, r, bn
        self.fc1 = nn.Linear(channels, hidden)
        self.bn1 = nn.BatchNorm1d(hidden) if bn else nn.Identity()
        self.fc2 = nn.Linear(hidden, channels)
        self.bn2 = nn.BatchNorm1d(channels) if bn else nn.Identity()
        self.p1 = nn.Parameter(torch.randn(channels))
        self.p2 = nn.Parameter(torch.randn(channels))

    def beta(self, x):
        m = x.reshape(x.shape[0], x.shape[1], -1).mean(dim=2)
        return torch.sigmoid(self.bn2(self.fc2(self.bn1(self.fc1(m)))))

    def forward(self, x):
        if x.dim() < 2 or x.shape[1] != self.channels:
            raise ValueError("actlab: MetaACON(%d) expects (N, %d, ...), got %s"
                             % (self.channels, self.channels, tuple(x.shape)))
        if _half(x):
            return self.forward(x.float()).to(x.dtype)
        beta = self.beta(x)                                     # (N, C)
        if not uses_kernel(x):
            bshape = list(beta.shape) + [1] * (x.dim() - 2)
            return reference.REFERENCE["acon_c"](x, _per_channel(self.p1, x),
                                                 _per_channel(self.p2, x), beta.view(bshape))
        N, C = x.shape[0], x.shape[1]
        p = torch.stack([self.p1.expand(N, C), self.p2.expand(N, C), beta.to(torch.float32)])
        xs = x.contiguous().view(1, N * C, -1)
        y = _run(xs, p.reshape(3, N * C), _lib.act_forward, _lib.act_backward, _ACON_C, N * C)
        return y.view(x.shape)

    def extra_repr(self):
        return "channels=%d, r=%d, bn=%s" % (self.channels, self.r, self.bn)


class Expr(nn.Module):
    """Any expression of actlab's language (docs/expr-grammar.md), compiled by the library:
    at.Expr("max(x, sigmoid(beta*x)) + cos(x)*x", channels=64). Parameters beta1..betaK are
    nn.Parameters (shape (C,) per channel with channels=C, else scalars), initialised as the
    expression says (1.0 unless set); their names match `actlab expr torch`'s module, so
    state_dicts load into each other. float64 and CUDA inputs run the PyTorch form the library
    prints (act_expr_print, ACT_EXPR_TORCH)."""

    def __init__(self, formula, channels=None):
        super().__init__()
        self.formula = formula
        self.channels = channels
        self.prog = actlab.Program(formula)
        for k in range(self.prog.n_params):
            self.register_parameter("beta%d" % (k + 1),
                                    nn.Parameter(_as_tensor(self.prog.init[k], channels)))
        self._torch_cls = None

    def params(self):
        return [getattr(self, "beta%d" % (k + 1)) for k in range(self.prog.n_params)]

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_torch_cls"] = None
        return state

    def _composed(self, x):
        if self._torch_cls is None:
            ns = {}
            exec(compile(self.prog.torch_source, "<actlab expr torch>", "exec"), ns)
            self._torch_cls = ns["ActExpr"]
        cls = self._torch_cls
        view = type("View", (), {"_per_channel": staticmethod(cls._per_channel),
                                 "eps": 1e-7})()
        for k, p in enumerate(self.params()):
            setattr(view, "beta%d" % (k + 1), p)
        return cls.forward(view, x)

    def forward(self, x):
        if _half(x):
            return self.forward(x.float()).to(x.dtype)
        if not uses_kernel(x):
            return self._composed(x)
        if _ext is not None:
            return _ext.expr(self.prog.ptr, x, self.params(),
                             -1 if self.channels is None else self.channels)
        return _run(x, _pack(self.params(), self.channels, x), _lib.expr_forward,
                    _lib.expr_backward, self.prog.ptr, self.channels)

    def extra_repr(self):
        s = repr(self.prog.text)
        return s + (", channels=%d" % self.channels if self.channels is not None else "")


def from_search(db, rank=1, fidelity=None, channels=None):
    """The rank-th function (1 = best) of an actlab search journal `db` as an Expr: the
    leaderboard of `actlab search top` (kept candidates, done trials with a val_acc at one
    fidelity, by mean val_acc then candidate id; docs/search.md). fidelity: the search's own
    (its configuration in the journal) unless given. LookupError if there is no such rank."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        if fidelity is None:
            fidelity = _journal_fidelity(con)
        row = con.execute(
            "SELECT c.canon, AVG(t.val_acc) AS val FROM trial t "
            "JOIN candidate c ON c.id = t.candidate_id "
            "WHERE t.fidelity = ? AND t.state = 'done' AND t.val_acc IS NOT NULL "
            "AND c.status = 'kept' GROUP BY c.id ORDER BY val DESC, c.id LIMIT 1 OFFSET ?",
            (fidelity, int(rank) - 1)).fetchone()
    finally:
        con.close()
    if row is None:
        raise LookupError("actlab: %s has no rank %d at fidelity %r" % (db, rank, fidelity))
    return Expr(row[0], channels=channels)


def _journal_fidelity(con):
    rows = con.execute("SELECT key, value FROM meta").fetchall()
    meta = dict(rows)
    if "fidelity" in meta:
        return meta["fidelity"]
    for line in meta.get("config", "").splitlines():
        k, _, v = line.partition("=")
        if k.strip() == "fidelity":
            return v.strip()
    raise LookupError("actlab: the journal names no fidelity; pass fidelity=")


from . import functional  # noqa: E402  (needs act above)
