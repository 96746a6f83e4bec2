"""reference.py -- every built-in composed from torch ops: the torch column of ACT_ACT_LIST
(include/actlab/act.h), written so that parameters may be tensors (per channel, broadcast along
dim 1) and so that no branch overflows into a NaN gradient.

Used as the fallback for float64 and CUDA tensors, by the tests as the reference the kernels are
checked against, and by bench/python as the "composition" where torch has no native op.
"""
import torch
import torch.nn.functional as F


def _elu(x, a):
    return torch.where(x > 0, x, a * torch.expm1(torch.clamp(x, max=0)))


def _celu(x, a):
    return torch.clamp(x, min=0) + torch.clamp(a * torch.expm1(torch.clamp(x / a, max=0)), max=0)


def _softplus(x, beta, thr):
    bx = beta * x
    soft = (torch.clamp(bx, min=0) + torch.log1p(torch.exp(-torch.abs(bx)))) / beta
    return torch.where(bx > thr, x, soft)


def _acon_c(x, p1, p2, beta):
    d = (p1 - p2) * x
    return d * torch.sigmoid(beta * d) + p2 * x


# name -> f(x, *params); every built-in of the library has a row (tests check it).
REFERENCE = {
    "relu":        lambda x: torch.relu(x),
    "leaky_relu":  lambda x, a: torch.where(x > 0, x, a * x),
    "prelu":       lambda x, a: torch.where(x > 0, x, a * x),
    "elu":         _elu,
    "selu":        lambda x: 1.0507009873554805 * _elu(x, 1.6732632423543772),
    "celu":        _celu,
    "softplus":    _softplus,
    "sigmoid":     lambda x: torch.sigmoid(x),
    "tanh":        lambda x: torch.tanh(x),
    "hardsigmoid": lambda x: F.hardsigmoid(x),
    "hardswish":   lambda x: F.hardswish(x),
    "relu6":       lambda x: F.relu6(x),
    "silu":        lambda x: F.silu(x),
    "swish":       lambda x, b: x * torch.sigmoid(b * x),
    "gelu":        lambda x: F.gelu(x),
    "gelu_tanh":   lambda x: F.gelu(x, approximate="tanh"),
    "mish":        lambda x: F.mish(x),
    "acon_a":      lambda x, b: x * torch.sigmoid(b * x),
    "acon_b":      lambda x, p, b: _acon_c(x, 1.0, p, b),
    "acon_c":      _acon_c,
    "smu":         lambda x, a, mu: 0.5 * ((1 + a) * x + (1 - a) * x * torch.erf(mu * (1 - a) * x)),
    "smu1":        lambda x, a, mu: 0.5 * ((1 + a) * x + torch.sqrt(((1 - a) * x) ** 2 + mu ** 2)),
}

# Built-ins torch has a native op for (bench/python compares against these).
NATIVE = {
    "relu": F.relu, "elu": F.elu, "selu": F.selu, "celu": F.celu, "softplus": F.softplus,
    "sigmoid": torch.sigmoid, "tanh": torch.tanh, "hardsigmoid": F.hardsigmoid,
    "hardswish": F.hardswish, "relu6": F.relu6, "silu": F.silu, "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "mish": F.mish,
    "leaky_relu": F.leaky_relu,
}


def per_channel(p, x):
    """p (C,) viewed to broadcast along dim 1 of x (N, C, ...); a 0-d p as it is."""
    if p.dim() == 0 or x.dim() < 2:
        return p
    return p.view([1, -1] + [1] * (x.dim() - 2))


def compose(name, x, *params):
    """The torch-op composition of built-in `name` with tensor or float parameters."""
    return REFERENCE[name](x, *[per_channel(p, x) if torch.is_tensor(p) else p
                                for p in params])
