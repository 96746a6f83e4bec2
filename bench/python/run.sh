#!/bin/sh
# bench/python/run.sh [BUILD_DIR] [bench.py options] -- actlab.torch side by side with PyTorch
# (bench.py: per-call overhead, activation layer fwd+bwd, training steps; 1 and 2 threads). A
# benchmark, not a test: not in `make check`. Needs Debian's python3 with python3-torch and
# python3-numpy (scripts/install-deps.sh). Timings are only meaningful on an otherwise idle
# machine.
set -eu
B=${1:-build}
[ $# -gt 0 ] && shift
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
[ -f "$B/libactlab.so" ] || { echo "run.sh: $B/libactlab.so not built (make all)" >&2; exit 1; }
ACTLAB_LIB="$PWD/$B/libactlab.so" PYTHONPATH="$PWD/python" exec "$PY" bench/python/bench.py "$@"
