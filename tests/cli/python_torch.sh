#!/bin/sh
# python_torch.sh -- actlab.torch against the same functions composed from torch ops, for every
# built-in (default and perturbed parameters, scalar and per channel), Meta-ACON, random
# expressions; module conventions, dtypes, threads, from_search (python/tests/test_torch.py).
set -eu
B=${B:-build}
. python/tests/env.sh
needs numpy torch
"$PY" python/tests/test_torch.py
