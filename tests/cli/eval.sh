#!/bin/sh
# eval.sh -- `actlab eval` against the 10-digit test vectors (docs/references.md), and
# its errors: unknown name, parameter or preset, bad numbers -> exit 2 with a clear message.
set -u
: "${ACTLAB:=./build/actlab}"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# check "ARGS" X COL WANT: column COL (1 = x, 2 = f, 3 = df/dx, 4.. = df/dp) of the line for X.
check() {
    line=$("$ACTLAB" eval $1 -- "$2") || fail "actlab eval $1 $2 exited $?"
    echo "$line" | awk -v c="$3" -v w="$4" '
        { v = $c; d = v - w; if (d < 0) d = -d; a = w < 0 ? -w : w
          if (d > 5e-7 * (a > 0.01 ? a : 0.01)) exit 1 }' ||
        fail "eval $1 $2: column $3 of '$line' is not $4 (relative tolerance 5e-7)"
}

check silu 1 2 0.7310585786
check silu 1 3 0.9276705119
check silu -3 2 -0.1422776195
check silu -3 3 -0.08810410602
check "swish -p beta=2" -1 2 -0.119202922
check "swish -p beta=2" -1 3 -0.09078424878
check "swish -p beta=2" -1 4 0.1049935854
check gelu 0.5 2 0.3457312306
check gelu 0.5 3 0.8674951247
check gelu_tanh -1 2 -0.1588080094
check mish -0.5 2 -0.2207437747
check mish 0 3 0.6
check hardswish 0.5 3 0.6666666667
check selu -1 2 -1.111330738
check "acon_c -p p1=1.5 -p p2=0.25 -p beta=2" 1 2 1.405177275
check "acon_c -p p1=1.5 -p p2=0.25 -p beta=2" 1 3 1.624251389
check "acon_c -p p1=1.5 -p p2=0.25 -p beta=2" 1 4 1.099401111
check "acon_c -p p1=1.5 -p p2=0.25 -p beta=2" 1 5 -0.09940111134
check "acon_c -p p1=1.5 -p p2=0.25 -p beta=2" 1 6 0.1095370571
check "smu -p alpha=0.25 -p mu=1" -0.5 2 -0.2367280795
check "smu --preset original" 1 2 1
check "smu1 -p alpha=0.25 -p mu=1" -1 3 0.4

# Negative X without "--", several X, one line each, full precision.
out=$("$ACTLAB" eval swish -p beta=2 -1 0 1) || fail "eval with negative X exited $?"
[ "$(echo "$out" | wc -l)" -eq 3 ] || fail "want 3 lines, got: $out"
echo "$out" | head -n 1 | grep -q '^-1	-0.1192029[0-9]*	' || fail "first line: $out"
# No header when stdout is not a TTY; --header forces it.
"$ACTLAB" eval silu 1 | grep -q '^x' && fail "header printed to a pipe"
hdr=$("$ACTLAB" eval acon_c --header 1 | head -n 1)
[ "$hdr" = "$(printf 'x\tf\tdf/dx\tdf/dp1\tdf/dp2\tdf/dbeta')" ] || fail "header: $hdr"

# expect_usage ARGS... : exit 2 and a message on stderr.
expect_usage() {
    "$ACTLAB" eval "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
    [ "$rc" = 2 ] || fail "eval $* exited $rc, want 2"
    [ -s "$tmp/err" ] || fail "eval $*: no error message"
}
expect_usage nosuch 1
grep -q 'silu' "$tmp/err" || fail "unknown name: valid names not listed"
grep -q "unknown activation 'nosuch'" "$tmp/err" || fail "unknown name: message"
expect_usage swish -p bogus=1 1
grep -q 'beta' "$tmp/err" || fail "bad -p: valid parameters not listed"
expect_usage swish -p beta=abc 1
expect_usage swish -p beta 1
expect_usage relu -p a=1 1
expect_usage silu 1x
expect_usage silu
expect_usage
expect_usage silu --bogus 1
expect_usage softplus -p beta=0 1
expect_usage smu --preset nosuch 1
grep -q 'original' "$tmp/err" || fail "bad preset: valid presets not listed"

"$ACTLAB" eval --help >/dev/null || fail "eval --help did not exit 0"
echo ok
