"""actlab -- actlab's activation kernels from Python (numpy; no torch needed).

    import actlab, numpy as np
    x = np.random.randn(8, 4).astype(np.float32)
    y = actlab.forward("gelu", x)
    dx = actlab.backward("gelu", x, np.ones_like(x))
    y = actlab.forward("acon_c", x, p1=np.ones(4), p2=0.25, beta=2.0)      # per channel: axis 1
    dx, dp = actlab.backward("acon_c", x, np.ones_like(x), p1=np.ones(4), param_grads=True)
    prog = actlab.Program("max(x, sigmoid(beta*x))")                        # any expression

float32 in, float32 out (other dtypes are cast). `import actlab.torch` for PyTorch modules.
The API, the library search and the threads: docs/python.md.
"""
import ctypes

import numpy as np

from . import _lib
from ._lib import Error

__all__ = ["forward", "backward", "names", "info", "Program", "Error", "set_num_threads",
           "get_num_threads", "library_path"]
__version__ = "0.1.0"

library_path = _lib.path


# --------------------------------------------------------------------------------------------
# the activation table

def _read_table():
    table = {}
    i = 0
    while True:
        d = _lib.act_info(i)
        if not d:
            break
        d = d.contents
        n = d.n_params
        table[d.name.decode()] = {
            "id": i,
            "name": d.name.decode(),
            "formula": d.formula.decode(),
            "params": tuple(d.param_names[k].decode() for k in range(n)),
            "defaults": tuple(float(d.defaults[k]) for k in range(n)),
            "learnable": tuple(bool(d.learnable >> k & 1) for k in range(n)),
            "per_channel": bool(d.flags & _lib.FLAG_CHANNEL),
            "paper_init": bool(d.flags & _lib.FLAG_RANDP),
            "kinks": tuple(float(d.kinks[k]) for k in range(d.n_kinks)),
        }
        i += 1
    return table


_TABLE = _read_table()


def names():
    """The built-in activations, in the library's order (act.h, ACT_ACT_LIST)."""
    return list(_TABLE)


def info(name):
    """A dict describing built-in `name`: id, formula, params, defaults, learnable, per_channel,
    paper_init, kinks. KeyError listing the valid names for an unknown one."""
    try:
        return dict(_TABLE[name])
    except KeyError:
        raise KeyError("actlab: no activation %r; valid names: %s"
                       % (name, ", ".join(_TABLE))) from None


# --------------------------------------------------------------------------------------------
# threads

_user_threads = None
_threads_epoch = 0      # bumped by every set_num_threads: actlab.torch then sets its count again
_threads_hooks = []     # f(user: bool) called by set_num_threads (actlab.torch's extension)


def set_num_threads(n):
    """Threads of the kernels (process-wide). None: follow torch.get_num_threads() in
    actlab.torch and the library's default (ACTLAB_THREADS, else 1) in the numpy API."""
    global _user_threads, _threads_epoch
    if n is not None:
        _lib.check(_lib.threads_set(int(n)), "set_num_threads(%r)" % (n,))
    _user_threads = n
    _threads_epoch += 1
    for hook in _threads_hooks:
        hook(n is not None)


def get_num_threads():
    """The library's current thread count."""
    return _lib.threads_get()


# --------------------------------------------------------------------------------------------
# numpy API

def _f32(a):
    return np.ascontiguousarray(a, dtype=np.float32)


def _layout(x, n_params, values):
    """values: one scalar or 1-D array per parameter. Returns (p, flags, shape, C):
    per channel (axis 1) when any value has more than one element."""
    sizes = [np.size(v) for v in values]
    C = max(sizes) if sizes else 1
    if C <= 1:
        p = np.array([float(np.asarray(v).reshape(-1)[0]) for v in values], dtype=np.float32)
        return p, 0, _lib.Shape(1, 1, x.size), 1
    if x.ndim < 2 or x.shape[1] != C:
        raise ValueError("actlab: per-channel parameters of length %d need x of shape "
                         "(N, %d, ...), got %s" % (C, C, x.shape))
    p = np.empty((n_params, C), dtype=np.float32)
    for k, v in enumerate(values):
        v = np.asarray(v, dtype=np.float32).reshape(-1)
        if v.size not in (1, C):
            raise ValueError("actlab: parameter %d has %d values for %d channels"
                             % (k, v.size, C))
        p[k] = v
    inner = x.size // (x.shape[0] * C) if x.size else 0
    return p, _lib.PER_CHANNEL, _lib.Shape(x.shape[0], C, inner), C


def _params(d, params):
    unknown = set(params) - set(d["params"])
    if unknown:
        raise TypeError("actlab: %s has no parameter %s; its parameters: %s"
                        % (d["name"], ", ".join(sorted(unknown)), ", ".join(d["params"]) or
                           "none"))
    return [params.get(n, dflt) for n, dflt in zip(d["params"], d["defaults"])]


def forward(name, x, **params):
    """y = f(x; params) for built-in `name`. Parameters by name (act.h's names: p1, p2, beta,
    alpha, mu, ...): a scalar, or a length-C array for per-channel values along axis 1.
    Missing ones take the defaults. Returns a new float32 array of x's shape."""
    d = info(name)
    x = _f32(x)
    p, flags, s, _ = _layout(x, len(d["params"]), _params(d, params))
    y = np.empty_like(x)
    _lib.check(_lib.act_forward(d["id"], p.ctypes.data if p.size else None, flags,
                                x.ctypes.data, y.ctypes.data, s), "forward(%s)" % name)
    return y


def backward(name, x, dy, param_grads=False, **params):
    """dx = dy * f'(x; params), float32, x's shape. With param_grads=True returns (dx, dp):
    dp a dict parameter name -> gradient (a float for scalar parameters, a length-C array for
    per-channel ones), summed over the tensor (per channel: over every axis but 1)."""
    d = info(name)
    x = _f32(x)
    dy = _f32(dy)
    if dy.shape != x.shape:
        raise ValueError("actlab: dy has shape %s, x %s" % (dy.shape, x.shape))
    p, flags, s, C = _layout(x, len(d["params"]), _params(d, params))
    dx = np.empty_like(x)
    dp = np.zeros_like(p)
    _lib.check(_lib.act_backward(d["id"], p.ctypes.data if p.size else None,
                                 flags | _lib.DX_ASSIGN, x.ctypes.data, dy.ctypes.data,
                                 dx.ctypes.data, dp.ctypes.data if p.size else None, s),
               "backward(%s)" % name)
    if not param_grads:
        return dx
    grads = {n: (dp[k].copy() if flags else float(dp[k])) for k, n in enumerate(d["params"])}
    return dx, grads


# --------------------------------------------------------------------------------------------
# expressions

class Program:
    """A compiled expression of actlab's language (docs/expr-grammar.md), e.g.
    "max(x, sigmoid(beta*x)) + cos(x)*x", with parameters beta1..betaK (beta = beta1).

        prog.forward(x, beta=None)                 beta: K scalars, or (K, C) per channel
        prog.backward(x, dy, beta=None, param_grads=False)
    Pickles as its source text."""

    def __init__(self, source):
        self.source = source
        self._prog = None
        e = ctypes.c_void_p()
        diag = _lib.Diag()
        rc = _lib.expr_parse(source.encode(), ctypes.byref(e), ctypes.byref(diag))
        if rc != 0:
            msg = diag.msg.decode(errors="replace")
            raise ValueError("actlab: cannot parse %r: column %d: %s"
                             % (source, diag.col, msg or _lib.strerror(rc).decode()))
        try:
            self.n_params = _lib.expr_n_params(e)
            self.init = tuple(float(_lib.expr_param_init(e, k)) for k in range(self.n_params))
            out = ctypes.c_void_p()
            _lib.check(_lib.expr_print(e, _lib.EXPR_TORCH, ctypes.byref(out)), "print")
            self.torch_source = ctypes.string_at(out.value).decode()
            _lib.libc_free(out)
            prog = ctypes.c_void_p()
            _lib.check(_lib.expr_compile(e, ctypes.byref(prog)), "compile %r" % source)
            self._prog = prog
        finally:
            _lib.expr_free(e)
        self.text = _lib.prog_text(self._prog).decode()
        self.ptr = self._prog.value

    def __reduce__(self):
        return (Program, (self.source,))

    def __del__(self):
        if getattr(self, "_prog", None) is not None and _lib is not None:
            _lib.prog_free(self._prog)
            self._prog = None

    def __repr__(self):
        return "actlab.Program(%r)" % self.source

    def _p(self, x, beta):
        if beta is None:
            beta = self.init
        return _layout(x, self.n_params, list(beta))

    def forward(self, x, beta=None):
        x = _f32(x)
        p, flags, s, _ = self._p(x, beta)
        y = np.empty_like(x)
        _lib.check(_lib.expr_forward(self.ptr, p.ctypes.data if p.size else None, flags,
                                     x.ctypes.data, y.ctypes.data, s), "expr forward")
        return y

    def backward(self, x, dy, beta=None, param_grads=False):
        x, dy = _f32(x), _f32(dy)
        if dy.shape != x.shape:
            raise ValueError("actlab: dy has shape %s, x %s" % (dy.shape, x.shape))
        p, flags, s, _ = self._p(x, beta)
        dx = np.empty_like(x)
        dp = np.zeros_like(p)
        _lib.check(_lib.expr_backward(self.ptr, p.ctypes.data if p.size else None,
                                      flags | _lib.DX_ASSIGN, x.ctypes.data, dy.ctypes.data,
                                      dx.ctypes.data, dp.ctypes.data if p.size else None, s),
                   "expr backward")
        return (dx, dp) if param_grads else dx
