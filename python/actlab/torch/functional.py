"""functional.py -- functional forms: at.functional.<name>(x, *params, channels=None) for every
built-in (act.h's parameter order; floats or tensors; tensors of shape (C,) make them per
channel along dim 1), at.functional.activation(name, x, ...) and at.functional.expr(formula or
actlab.Program, x, *beta). Gradients flow to tensor parameters that require them."""
import torch

import actlab
from actlab import _lib
from . import _pack, _run, act, uses_kernel

__all__ = ["activation", "expr"]


def _tensors(x, params):
    ts = [p if torch.is_tensor(p) else torch.tensor(float(p), device=x.device)
          for p in params]
    C = None
    for t in ts:
        if t.numel() > 1:
            C = t.numel()
    if C is not None:
        ts = [t.reshape(-1) if t.numel() > 1 else t.reshape(()).expand(C) for t in ts]
    else:
        ts = [t.reshape(()) for t in ts]
    return ts, C


def activation(name, x, *params, **named):
    """Built-in `name`: parameters positionally (act.h's order) or by name; missing ones take
    the defaults."""
    d = actlab.info(name)
    vals = list(params) + [None] * (len(d["params"]) - len(params))
    for k, pname in enumerate(d["params"]):
        if pname in named:
            vals[k] = named.pop(pname)
        if vals[k] is None:
            vals[k] = d["defaults"][k]
    if named:
        raise TypeError("actlab: %s has no parameter %s" % (name, ", ".join(named)))
    ts, C = _tensors(x, vals)
    if not uses_kernel(x):
        ts = [t.to(x.dtype) for t in ts]
    return act(name, x, ts, C)


def expr(formula, x, *beta):
    """An expression (text or actlab.Program) with parameters beta1..betaK (floats, 0-d or (C,)
    tensors; missing: the expression's initial values). float32 CPU only (at.Expr has the
    composed fallback)."""
    prog = formula if isinstance(formula, actlab.Program) else actlab.Program(formula)
    vals = list(beta) + list(prog.init[len(beta):])
    if not uses_kernel(x):
        raise TypeError("actlab: functional.expr runs float32 CPU tensors only (use at.Expr "
                        "for float64 or CUDA); got %s on %s" % (x.dtype, x.device))
    ts, C = _tensors(x, vals)
    return _run(x, _pack(ts, C, x), _lib.expr_forward, _lib.expr_backward, prog.ptr, C)


def _make(name):
    def f(x, *params, **named):
        return activation(name, x, *params, **named)
    d = actlab.info(name)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = "%s(x%s): %s (actlab built-in; float32 CPU runs the kernel)" % (
        name, "".join(", " + p for p in d["params"]), d["formula"])
    return f


for _n in actlab.names():
    globals()[_n] = _make(_n)
    __all__.append(_n)
del _n
