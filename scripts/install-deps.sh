#!/bin/sh
# install-deps.sh -- installs the Debian packages actlab's build, tests and main job need.
# Idempotent: checks each package with dpkg -s and runs `apt-get update` once, only when
# something is missing. As root it installs; otherwise it prints the exact command to run.
#   scripts/install-deps.sh           build, tests, main job
#   scripts/install-deps.sh --bench   also what the benchmarks alone need (nothing today)
# python3, python3-numpy and python3-torch are for the Python package's tests (python/,
# tests/cli/python_*.sh) and the benchmarks; the C library and its C tests never use them.
# g++, libtorch-dev and pybind11-dev build actlab.torch's optional C++ extension (Makefile,
# python-ext; without them the package runs through ctypes).
set -eu

PKGS="make gcc clang pkg-config libopenblas-dev libdnnl-dev zlib1g-dev libplplot-dev
      plplot-driver-cairo libsqlite3-dev sqlite3 procps dataset-fashion-mnist
      openmpi-bin libopenmpi-dev chromium python3 python3-numpy python3-torch
      g++ libtorch-dev pybind11-dev"
BENCH_PKGS=""

want=$PKGS
[ "${1:-}" = "--bench" ] && want="$PKGS $BENCH_PKGS"

missing=""
for p in $want; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing Debian packages:$missing" >&2
    echo "install-deps: run as root:  apt-get update && $cmd" >&2
    exit 1
fi
echo "install-deps: installing$missing" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive $cmd
