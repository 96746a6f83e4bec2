#!/bin/sh
# python_train.sh -- a small CNN trained 300 steps with at.ACON_C follows the loss curve of the
# same network with ACON-C composed from torch ops (python/tests/test_train.py).
set -eu
B=${B:-build}
. python/tests/env.sh
needs numpy torch
"$PY" python/tests/test_train.py
