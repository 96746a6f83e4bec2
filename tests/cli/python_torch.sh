#!/bin/sh
# python_torch.sh -- actlab.torch against the same functions composed from torch ops, for every
# built-in (default and perturbed parameters, scalar and per channel), Meta-ACON, random
# expressions; module conventions, dtypes, threads, from_search (python/tests/test_torch.py).
# With the C++ extension built (B/actlab_torch_ext.so) the checks run through it, with its
# bitwise comparison against the ctypes path, then again with it hidden (the ctypes fallback),
# and a file that does not load falls back to ctypes too.
set -eu
B=${B:-build}
. python/tests/env.sh
needs numpy torch
if [ -f "$B/actlab_torch_ext.so" ]; then
    ACTLAB_EXPECT_BINDING=extension "$PY" python/tests/test_torch.py
    echo "--- the same with the extension hidden (ACTLAB_TORCH_EXT=0)"
    ACTLAB_TORCH_EXT=0 ACTLAB_EXPECT_BINDING=ctypes "$PY" python/tests/test_torch.py
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    echo "not a shared object" > "$tmp/actlab_torch_ext.so"
    ACTLAB_TORCH_EXT="$tmp/actlab_torch_ext.so" "$PY" -c '
import torch, actlab.torch as at
assert at.binding == "ctypes" and "actlab_torch_ext.so" in at.ext_error, (at.binding, at.ext_error)
y = at.ACON_C(4)(torch.ones(2, 4, 3, requires_grad=True))
y.sum().backward()
assert abs(float(y[0, 0, 0]) - 0.7310586) < 1e-6, y
print("an unloadable extension: ctypes (%s)" % at.ext_error)'
else
    echo "no $B/actlab_torch_ext.so (libtorch-dev, pybind11-dev): the ctypes path only"
    ACTLAB_EXPECT_BINDING=ctypes "$PY" python/tests/test_torch.py
fi
