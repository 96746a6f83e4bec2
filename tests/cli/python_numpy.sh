#!/bin/sh
# python_numpy.sh -- the numpy API (`import actlab`) without torch: values, input and parameter
# gradients against float64 formulas and central differences, expressions, errors, threads
# (python/tests/test_numpy.py).
set -eu
B=${B:-build}
. python/tests/env.sh
needs numpy
"$PY" python/tests/test_numpy.py
