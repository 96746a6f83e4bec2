#!/bin/sh
# tests/cli/bench.sh -- `actlab bench --quick relu silu` runs, validates every kernel against the
# scalar reference and prints one row per activation/dir/size/threads/isa; the CSV has the same
# rows; an unknown name exits 2 and lists the valid names; a bad option exits 2. --expr validates
# expressions and prints ratio/verdict rows beside the built-in swish (functional, not timed).
set -eu
A=${ACTLAB:-./build/actlab}
B=${B:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$A" bench --quick --min-ms 0.2 --csv "$tmp/b.csv" relu silu >"$tmp/out" 2>"$tmp/err" || {
    echo "actlab bench --quick failed"; cat "$tmp/out" "$tmp/err"; exit 1; }
cat "$tmp/out"
# 2 activations x 2 dirs x 2 sizes (quick: 2^10, 2^16) x 1 thread x 1 isa = 8 rows, all ok
rows=$(grep -Ec '^(relu|silu) +(fwd|bwd) +2\^(10|16) +1 +[a-z0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+% +ok$' "$tmp/out")
[ "$rows" -eq 8 ] || { echo "expected 8 ok rows, got $rows"; exit 1; }
grep -q '^# bound n=2^10 threads=1: copy' "$tmp/out" || { echo "no bound line"; exit 1; }
[ "$(grep -c ',1,' "$tmp/b.csv")" -eq 8 ] || { echo "csv rows wrong"; cat "$tmp/b.csv"; exit 1; }
head -n 1 "$tmp/b.csv" | grep -q '^activation,dir,log2n,threads,isa,ns_per_elem' || exit 1

# the scalar path against itself, 2 threads
"$A" bench --quick --min-ms 0.2 --isa scalar --threads 2 --sizes 12 gelu >"$tmp/out2" 2>&1 || {
    echo "actlab bench --isa scalar failed"; cat "$tmp/out2"; exit 1; }
[ "$(grep -c ' ok$' "$tmp/out2")" -eq 2 ] || { cat "$tmp/out2"; exit 1; }

# unknown activation: exit 2, the valid names listed
set +e
"$A" bench --quick no_such_act >"$tmp/out3" 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "unknown name: exit $rc, want 2"; cat "$tmp/out3"; exit 1; }
grep -q "unknown activation 'no_such_act'" "$tmp/out3" || { cat "$tmp/out3"; exit 1; }
grep -q "silu" "$tmp/out3" || { echo "valid names not listed"; exit 1; }

# bad options: exit 2
for bad in "--sizes 99" "--threads 0" "--isa sse9" "--reps x" "--bogus"; do
    set +e
    # shellcheck disable=SC2086
    "$A" bench $bad relu >/dev/null 2>&1
    rc=$?
    set -e
    [ "$rc" -eq 2 ] || { echo "'$bad': exit $rc, want 2"; exit 1; }
done
"$A" bench --help | grep -q '^usage: actlab bench' || exit 1

# --expr: 2 expressions x 2 dirs at 2^12, validated, ratio vs swish and a verdict (not timed)
"$A" bench --quick --expr "x*sigmoid(beta*x)" --expr "x*tanh(beta*x) + max(x, sigmoid(x))" \
    --csv "$tmp/e.csv" >"$tmp/out4" 2>&1 || { echo "bench --expr failed"; cat "$tmp/out4"; exit 1; }
cat "$tmp/out4"
grep -q '^# E1 = x\*sigmoid(beta\*x)' "$tmp/out4" || { echo "no E1 line"; exit 1; }
rows=$(grep -Ec '^E[12] +(fwd|bwd) +2\^12 +1 +[a-z0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +(1\.5|3\.0) +(PASS|MISS) +ok$' "$tmp/out4")
[ "$rows" -eq 4 ] || { echo "expected 4 --expr rows, got $rows"; exit 1; }
grep -Eq '^E1 .* 1\.5 +(PASS|MISS)' "$tmp/out4" || { echo "swish target not 1.5"; exit 1; }
grep -Eq '^E2 .* 3\.0 +(PASS|MISS)' "$tmp/out4" || { echo "other target not 3.0"; exit 1; }
[ "$(grep -c ',1$' "$tmp/e.csv")" -eq 4 ] || { echo "expr csv rows wrong"; cat "$tmp/e.csv"; exit 1; }
# the swish target follows the canonical form, not the spelling
"$A" bench --quick --expr "sigmoid(x*beta)*x" >"$tmp/out5" 2>&1 || { cat "$tmp/out5"; exit 1; }
grep -Eq '^E1 .* 1\.5 +(PASS|MISS) +ok$' "$tmp/out5" || { cat "$tmp/out5"; exit 1; }
# a bad expression, or names with --expr: exit 2
for bad in "--expr x*sigmod(x)" "--expr x relu"; do
    set +e
    # shellcheck disable=SC2086
    "$A" bench --quick $bad >"$tmp/out6" 2>&1
    rc=$?
    set -e
    [ "$rc" -eq 2 ] || { echo "'$bad': exit $rc, want 2"; cat "$tmp/out6"; exit 1; }
done
set +e
"$A" bench --quick --expr "x*sigmod(x)" >"$tmp/out7" 2>&1
set -e
grep -q "did you mean 'sigmoid'" "$tmp/out7" || { cat "$tmp/out7"; exit 1; }
echo "bench cli ok"
