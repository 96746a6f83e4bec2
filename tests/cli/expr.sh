#!/bin/sh
# expr.sh -- `actlab expr`: print/canon round trip, eval against the 10-digit test vectors
# (docs/references.md; same format as `actlab eval`), exports (LaTeX, C compiled and run,
# PyTorch text), fingerprint, plot, bench, and errors (caret line, did-you-mean, exit code 2).
set -u
: "${ACTLAB:=./build/actlab}"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# check "EXPR" "OPTS" X COL WANT: column COL of the eval line for X (relative tolerance 5e-7)
check() {
    line=$("$ACTLAB" expr eval "$1" $2 -- "$3") || fail "expr eval '$1' $3 exited $?"
    echo "$line" | awk -F'\t' -v c="$4" -v w="$5" '
        { v = $c; d = v - w; if (d < 0) d = -d; a = w < 0 ? -w : w
          if (d > 5e-7 * (a > 0.01 ? a : 0.01)) exit 1 }' ||
        fail "expr eval '$1' $3: column $4 of '$line' is not $5"
}
check "x*sigmoid(beta*x)" "-p beta=2" -1 2 -0.119202922
check "x*sigmoid(beta*x)" "-p beta=2" -1 3 -0.09078424878
check "x*sigmoid(beta*x)" "-p beta=2" -1 4 0.1049935854
check "max(x, sigmoid(x))" "" 0.5 3 0.2350037122
check "cos(x) - x" "" 3 2 -3.989992497
check "sinc(x) + x" "" 0 3 1
# sinc' near 0, where (x cos x - sin x)/x^2 cancels (it gave 0 at 2e-4): -x/3 + x^3/30 - ...
check "sinc(x)" "" 2e-4 3 -6.66666674e-05
check "sinc(x)" "" -5e-4 3 1.66666679e-04
check "sinc(x)" "" 1e-3 3 -3.33333330e-04
check "sinc(x)" "" 1 3 -0.301168679
check "x*asinh(x)^2" "" -3 3 6.757007094
check "log(abs(x) + eps)" "--eps 0.5" 0 2 -0.6931471806

# same line format as `actlab eval`: x, f, f', then one column per parameter
n=$("$ACTLAB" expr eval "beta1*x + beta2*sin(x)" 1 2 | awk -F'\t' '{ print NF }' | sort -u)
[ "$n" = 5 ] || fail "eval with two parameters printed $n columns, want 5"
"$ACTLAB" expr eval --header "x*sigmoid(beta*x)" 1 | head -1 | grep -q "^x	f	df/dx	df/dbeta$" ||
    fail "eval header"
a=$("$ACTLAB" eval swish -p beta=2 0.5) || fail "actlab eval swish"
b=$("$ACTLAB" expr eval "x*sigmoid(beta*x)" -p beta=2 0.5) || fail "expr eval"
[ "$a" = "$b" ] || fail "expr eval '$b' differs from actlab eval '$a'"

# print / canon round trip
p=$("$ACTLAB" expr print "sigmoid(x)*x + -(-2)") || fail "print"
[ "$p" = "sigmoid(x)*x + (-(-2))" ] || fail "print gave '$p'"
c=$("$ACTLAB" expr canon "sigmoid(x)*x + -(-2)") || fail "canon"
[ "$c" = "2 + x*sigmoid(x)" ] || fail "canon gave '$c'"
c2=$("$ACTLAB" expr canon "$c") || fail "canon of canon"
[ "$c" = "$c2" ] || fail "canon not idempotent: '$c' -> '$c2'"

# exports
"$ACTLAB" expr latex "x*sigmoid(beta*x)" | grep -q 'x \\cdot \\sigma\\left(\\beta \\cdot x\\right)' ||
    fail "latex"
"$ACTLAB" expr torch "x*sigmoid(beta*x) + sinc(x)" -p beta=1.5 > "$tmp/m.py" || fail "torch"
grep -q "beta1_init=1.5" "$tmp/m.py" && grep -q "nn.Parameter" "$tmp/m.py" || fail "torch text"
"$ACTLAB" expr c "x*sigmoid(beta*x) + sinc(x) - max(x, 0)^2/(cosh(x) + eps)" -o "$tmp/f.c" ||
    fail "c export"
if command -v cc >/dev/null 2>&1; then
    cat >> "$tmp/f.c" <<'EOC'
#include <stdio.h>
int main(void)
{
    const float beta[1] = { 2.0f };
    printf("%.9g\n", (double)act_expr_f(0.7f, beta));
    return 0;
}
EOC
    cc -std=c11 -Wall -Wextra -Werror -O2 "$tmp/f.c" -lm -o "$tmp/f" || fail "generated C does not compile"
    got=$("$tmp/f")
    want=$("$ACTLAB" expr eval "x*sigmoid(beta*x) + sinc(x) - max(x, 0)^2/(cosh(x) + eps)" \
           -p beta=2 0.7 | cut -f2)
    awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 1e-6) }' ||
        fail "generated C gives $got, actlab $want"
    # act_sinc_ across its series threshold and beyond, against the evaluator (1e-6 relative)
    "$ACTLAB" expr c "sinc(x)" -o "$tmp/s.c" || fail "c export of sinc"
    cat >> "$tmp/s.c" <<'EOC'
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        printf("%.9g\n", (double)act_expr_f(strtof(argv[i], NULL), NULL));
    return 0;
}
EOC
    cc -std=c11 -Wall -Wextra -Werror -O2 "$tmp/s.c" -lm -o "$tmp/s" ||
        fail "sinc C does not compile"
    xs="0 1e-8 -5e-5 1e-4 2e-4 -1e-3 0.5 1.5 3.14159274 10 -1e20"
    # shellcheck disable=SC2086
    "$tmp/s" $xs > "$tmp/s.got"
    # shellcheck disable=SC2086
    "$ACTLAB" expr eval "sinc(x)" -- $xs | cut -f2 > "$tmp/s.want"
    paste "$tmp/s.got" "$tmp/s.want" | awk '{ d = $1 - $2; if (d < 0) d = -d; a = $2 < 0 ? -$2 : $2
        if (d > 1e-6 * a + 1e-30) { print "x #" NR ": C " $1 ", actlab " $2; bad = 1 } }
        END { exit bad }' || fail "generated act_sinc_ differs from actlab"
fi
# the PyTorch export's autograd derivative of sinc near 0 (only where Debian's PyTorch is
# installed: a dev dependency; dev/check_torch_export.sh checks more)
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
    "$ACTLAB" expr torch "sinc(x)" > "$tmp/sinc.py" || fail "torch export of sinc"
    /usr/bin/python3 - "$tmp/sinc.py" <<'PY' || fail "torch autograd of sinc near 0"
import sys, torch
ns = {}
exec(open(sys.argv[1]).read(), ns)
m = ns["ActExpr"]()
for v in (2e-4, -5e-4, 1e-3):
    x = torch.tensor([v], dtype=torch.float32, requires_grad=True)
    g = torch.autograd.grad(m(x).sum(), x)[0].item()
    xv = x.item()
    want = -xv / 3 + xv ** 3 / 30
    if abs(g - want) > 1e-6 * abs(want):
        sys.exit("sinc'(%g): autograd %.9g, want %.9g" % (xv, g, want))
PY
fi

# fingerprint: canonical text, verdict, 16 hex digits
"$ACTLAB" expr fingerprint "x - max(x, 0)" > "$tmp/a" || fail "fingerprint"
"$ACTLAB" expr fingerprint "min(x, 0)" > "$tmp/b" || fail "fingerprint"
fa=$(grep '^fingerprint' "$tmp/a" | cut -f2)
fb=$(grep '^fingerprint' "$tmp/b" | cut -f2)
[ "$fa" = "$fb" ] && [ ${#fa} -eq 16 ] || fail "fingerprints '$fa' '$fb'"
"$ACTLAB" expr fingerprint "sqrt(x)" | grep -q "verdict	nonfinite" || fail "verdict"

# bench prints a ratio line
"$ACTLAB" expr bench -n 4096 "x*sigmoid(beta*x)" | grep -q "^ratio expr/swish" || fail "bench"

# plot, written atomically
if "$ACTLAB" expr plot "x*sigmoid(beta*x)" -o "$tmp/p.svg" 2>"$tmp/err"; then
    [ -s "$tmp/p.svg" ] || fail "plot wrote nothing"
    ls -A "$tmp" | grep -q 'p\.svg\.' && fail "temporary plot file left behind: $(ls -A "$tmp")"
else
    cat "$tmp/err" >&2
    fail "plot failed"
fi

# errors: exit 2, column, caret, hint
"$ACTLAB" expr print "x*sigmod(x)" 2>"$tmp/err" >/dev/null
[ $? -eq 2 ] || fail "parse error should exit 2"
grep -q "1:3: unknown function 'sigmod'; did you mean 'sigmoid'?" "$tmp/err" || fail "message"
grep -q "^    ^$" "$tmp/err" || fail "caret line"
"$ACTLAB" expr frobnicate "x" 2>/dev/null; [ $? -eq 2 ] || fail "unknown action"
"$ACTLAB" expr eval "x" -p gamma=1 1 2>/dev/null; [ $? -eq 2 ] || fail "bad parameter"
"$ACTLAB" expr eval "x" abc 2>/dev/null; [ $? -eq 2 ] || fail "bad X"
"$ACTLAB" expr --help | grep -q "usage: actlab expr" || fail "--help"
exit 0
