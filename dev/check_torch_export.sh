#!/bin/sh
# check_torch_export.sh [ACTLAB] -- dev check (not in make check: torch is a dev/benchmark-only
# dependency): for a set of expressions, runs the nn.Module printed by `actlab expr torch` in
# Debian's PyTorch 1.13 (/usr/bin/python3) and compares f, df/dx and df/dbeta_k (autograd) with
# `actlab expr eval` at the same points; then sinc's autograd derivative near 0 against its
# series. Prints one line per check; exits 1 on a mismatch.
set -eu
ACTLAB=${1:-./build/actlab}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
X="-3 -1.3 -0.4 0.2 0.9 2.5"
while IFS='|' read -r expr params; do
    [ -n "$expr" ] || continue
    pargs=""
    for kv in $params; do pargs="$pargs -p $kv"; done
    # shellcheck disable=SC2086
    "$ACTLAB" expr torch "$expr" > "$tmp/mod.py"
    # shellcheck disable=SC2086
    "$ACTLAB" expr eval --no-header "$expr" $pargs $X > "$tmp/ref.tsv"
    if /usr/bin/python3 - "$tmp/mod.py" "$tmp/ref.tsv" "$params" <<'PY'
import sys, torch
src, ref, params = sys.argv[1], sys.argv[2], sys.argv[3].split()
ns = {}
exec(open(src).read(), ns)
inits = {}
for kv in params:
    k, v = kv.split("=")
    k = "beta1" if k == "beta" else k
    inits[k + "_init"] = float(v)
m = ns["ActExpr"](channels=1, **inits)
rows = [list(map(float, l.split())) for l in open(ref) if l.strip()]
worst = 0.0
for r in rows:
    x = torch.tensor([[r[0]]], dtype=torch.float32, requires_grad=True)
    y = m(x)
    params_ = [p for _, p in sorted(m.named_parameters())]
    g = torch.autograd.grad(y.sum(), [x] + params_)
    got = [y.item(), g[0].item()] + [p.item() for p in g[1:]]
    for a, b in zip(got, r[1:]):
        worst = max(worst, abs(a - b) / max(1e-6, abs(b)))
print("max rel diff %.2e" % worst)
sys.exit(0 if worst < 1e-5 else 1)
PY
    then echo "ok    $expr"; else echo "FAIL  $expr"; fail=1; fi
done <<'LIST'
x*sigmoid(beta*x)|beta=1.5
max(x, sigmoid(x))|
cos(x) - x|
min(x, sin(x))|
atan(x)^2 - x|
sinc(x) + x|
x*asinh(x)^2|
max(x, sigmoid(x)) + beta*cos(x)|beta=0.7
exp(-beta*abs(x - tanh(x)))*x + softplus(x)|beta=1.3
beta1*x + (1 - beta1)*erf(x)*beta2|beta1=0.3 beta2=2
log(abs(x) + eps)*x^2 - sqrt(abs(x))|
x/(sigmoid(x) + eps) - x^3|
LIST

# sinc near 0: autograd of the exported _sinc against sinc' (its Taylor series below 1.5, the
# closed form above, in Python floats), float32 to 1e-6 and float64 to 1e-13 relative, at the
# points where autograd of sin(x)/x cancels (it gave 0 at 2e-4 in float32); finite at 0 and
# at huge |x| (the unselected branch of torch.where must not turn its gradient into NaN).
"$ACTLAB" expr torch "sinc(x)" > "$tmp/sinc.py"
if /usr/bin/python3 - "$tmp/sinc.py" <<'PY'
import math, sys, torch
ns = {}
exec(open(sys.argv[1]).read(), ns)
m = ns["ActExpr"]()

def dsinc(x):
    if abs(x) < 1.5:
        return sum((-1) ** k * 2 * k * x ** (2 * k - 1) / math.factorial(2 * k + 1)
                   for k in range(1, 20))
    return (math.cos(x) - math.sin(x) / x) / x

ok = True
for dt, tol in ((torch.float32, 1e-6), (torch.float64, 1e-13)):
    worst = 0.0
    for v in (0.0, 1e-8, 1e-6, 1e-5, 1e-4, 2e-4, -2e-4, 5e-4, 1e-3, 1e-2, 0.1, 0.5, 1.0, 1.4,
              1.6, 3.0, 1e20, -1e30):
        x = torch.tensor([v], dtype=dt, requires_grad=True)
        y = m(x)
        g = torch.autograd.grad(y.sum(), x)[0].item()
        xv = x.item()
        want, fv = dsinc(xv), (math.sin(xv) / xv if xv else 1.0)
        e = abs(g - want) / abs(want) if want else abs(g)
        ev = abs(y.item() - fv) / abs(fv)
        if not (math.isfinite(g) and e <= tol and ev <= tol):
            print("  %s x=%g: f %.17g (want %.17g), df/dx %.17g (want %.17g)"
                  % (dt, xv, y.item(), fv, g, want))
            ok = False
        worst = max(worst, e)
    print("  %s: max rel err of df/dx %.2e" % (dt, worst))
sys.exit(0 if ok else 1)
PY
then echo "ok    sinc(x) autograd near 0"; else echo "FAIL  sinc(x) autograd near 0"; fail=1; fi
exit $fail
