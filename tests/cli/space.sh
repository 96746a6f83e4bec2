#!/bin/sh
# space.sh -- `actlab space`: the 1-unit enumeration with filters and dedup (counts and CSV),
# sampling, presets, errors.
set -u
: "${ACTLAB:=./build/actlab}"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

"$ACTLAB" space enumerate --units 1 -o "$tmp/all.csv" > "$tmp/out" || fail "enumerate"
grep -q "^space full, 1 unit: 6250 candidates$" "$tmp/out" || fail "count: $(cat "$tmp/out")"
[ "$(wc -l < "$tmp/all.csv")" -eq 6251 ] || fail "CSV should have 6250 rows and a header"

"$ACTLAB" space enumerate --units 1 --filter --dedup -o "$tmp/kept.csv" > "$tmp/out" ||
    fail "enumerate --filter --dedup"
grep -q "^kept: 5177$" "$tmp/out" || fail "kept: $(cat "$tmp/out")"
grep -q "^distinct functions among kept: 3316$" "$tmp/out" || fail "distinct"
grep -q "^rejected nonfinite  487$" "$tmp/out" || fail "nonfinite"
[ "$(wc -l < "$tmp/kept.csv")" -eq 5178 ] || fail "kept CSV rows"
grep -q '"x\*sigmoid(x)","x\*sigmoid(x)",kept' "$tmp/kept.csv" || fail "swish-1 row"
ls -A "$tmp" | grep -q 'kept\.csv\.' && fail "temporary file left behind: $(ls -A "$tmp")"

"$ACTLAB" space enumerate --units 1 --preset bxg | grep -q "250 candidates" || fail "bxg preset"
[ "$("$ACTLAB" space sample --units 3 -n 25 --seed 7 | wc -l)" -eq 25 ] || fail "sample"
a=$("$ACTLAB" space sample --units 2 -n 5 --seed 3)
b=$("$ACTLAB" space sample --units 2 -n 5 --seed 3)
[ "$a" = "$b" ] || fail "sampling is not reproducible from the seed"
"$ACTLAB" space presets | grep -q "^no-div" || fail "presets"
"$ACTLAB" space primitives | grep -c "^unary" | grep -q "^25$" || fail "25 unary primitives"
"$ACTLAB" space enumerate --units 2 2>/dev/null; [ $? -eq 2 ] || fail "2 units is too many"
"$ACTLAB" space enumerate --preset nope 2>/dev/null; [ $? -eq 2 ] || fail "unknown preset"
"$ACTLAB" space --help | grep -q "usage: actlab space" || fail "--help"
exit 0
