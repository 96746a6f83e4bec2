#!/bin/sh
# tests/cli/bench.sh -- `actlab bench --quick relu silu` runs, validates every kernel against the
# scalar reference and prints one row per activation/dir/size/threads/isa; the CSV has the same
# rows; an unknown name exits 2 and lists the valid names; a bad option exits 2.
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
echo "bench cli ok"
