# env.sh -- sourced by tests/cli/python_*.sh (from the repository root, B set): the interpreter
# (Debian's /usr/bin/python3, where python3-numpy and python3-torch live; PYTHON overrides), the
# package from python/ and the library of build B. Under `make asan` (SAN_CFLAGS set) a python
# process can only load the sanitized libactlab.so with the sanitizer runtimes preloaded; leak
# checking is off there (the interpreter keeps its allocations to the end by design).
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3 || echo python3)
PYTHONPATH="$PWD/python${PYTHONPATH:+:$PYTHONPATH}"
ACTLAB_LIB="$PWD/$B/libactlab.so"
export PYTHONPATH ACTLAB_LIB
if [ -n "${SAN_CFLAGS:-}" ]; then
    LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
    ASAN_OPTIONS=detect_leaks=0
    export LD_PRELOAD ASAN_OPTIONS
fi
# needs MODULE...: exits 77 (the runner's "skipped") naming a missing module; `make check`
# installs them (scripts/install-deps.sh), so there this never skips.
needs()
{
    for m in "$@"; do
        "$PY" -c "import $m" 2>/dev/null ||
            { echo "skipped: $PY cannot import $m (scripts/install-deps.sh installs it)"; exit 77; }
    done
}
