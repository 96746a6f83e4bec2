#!/bin/sh
# python_install.sh -- both ways of installing the Python package work from outside the
# repository: `make install PREFIX=...` (the package in PREFIX/lib/pythonX.Y/dist-packages finds
# PREFIX/lib/libactlab.so through its _paths.py, with no ACTLAB_LIB), and
# `pip install ./python --no-build-isolation` (no network; the library from ACTLAB_LIB). With
# the C++ extension built, the installed package carries it.
set -eu
B=${B:-build}
. python/tests/env.sh
needs numpy torch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Under `make asan` (SAN_CFLAGS set) anything rebuilt must keep the sanitizer flags.
if [ -n "${SAN_CFLAGS:-}" ]; then
    make -s install B="$B" PREFIX="$tmp/prefix" MPI=0 \
        CFLAGS="-O1 -g $SAN_CFLAGS -fno-omit-frame-pointer" LDFLAGS="$SAN_CFLAGS" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
else
    make -s install B="$B" PREFIX="$tmp/prefix" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
fi
site=$(ls -d "$tmp"/prefix/lib/python3*/dist-packages)
check='import actlab, actlab.torch as at, torch, sys
y = at.ACON_C(4)(torch.ones(2, 4, 3))
assert y.shape == (2, 4, 3) and abs(float(y[0, 0, 0]) - 0.7310586) < 1e-6, y
print(actlab.library_path)'
lib=$(cd "$tmp" && env -u ACTLAB_LIB PYTHONPATH="$site" "$PY" -c "$check")
[ "$lib" = "$tmp/prefix/lib/libactlab.so.0" ] || { echo "make install: loaded '$lib'"; exit 1; }
# the C++ extension, where it was built, is installed into the package and used from there
if [ -f "$B/actlab_torch_ext.so" ]; then
    b=$(cd "$tmp" && env -u ACTLAB_LIB PYTHONPATH="$site" "$PY" -c \
        'import actlab.torch as at; print(at.binding, at.ext_error)')
    [ "$b" = "extension None" ] || { echo "make install: binding '$b'"; exit 1; }
fi
# without _paths.py the installed actlab.pc leads to the library (pkg-config's libdir)
mkdir "$tmp/nopaths"
cp -r "$site/actlab" "$tmp/nopaths/"
rm "$tmp/nopaths/actlab/_paths.py"
lib=$(cd "$tmp" && env -u ACTLAB_LIB PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" \
    PYTHONPATH="$tmp/nopaths" "$PY" -c "$check")
[ "$lib" = "$tmp/prefix/lib/libactlab.so.0" ] || { echo "pkg-config: loaded '$lib'"; exit 1; }

if "$PY" -m pip --version >/dev/null 2>&1; then
    cp -r python "$tmp/src"
    rm -rf "$tmp/src/build" "$tmp/src"/*.egg-info
    "$PY" -m pip install --no-build-isolation --no-deps --no-index --no-warn-script-location \
        --target "$tmp/pip" "$tmp/src" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
    lib=$(cd "$tmp" && PYTHONPATH="$tmp/pip" "$PY" -c "$check")
    [ "$lib" = "$ACTLAB_LIB" ] || { echo "pip install: loaded '$lib'"; exit 1; }
else
    echo "no pip for $PY: the pip way is not checked"
fi
