#!/bin/sh
# check_torch_export.sh [ACTLAB] -- dev check (not in make check: torch is a dev/benchmark-only
# dependency): for a set of expressions, runs the nn.Module printed by `actlab expr torch` in
# Debian's PyTorch 1.13 (/usr/bin/python3) and compares f, df/dx and df/dbeta_k (autograd) with
# `actlab expr eval` at the same points. Prints one line per expression; exits 1 on a mismatch.
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
exit $fail
