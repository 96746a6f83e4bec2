#!/bin/sh
# list.sh -- `actlab list`: every activation of ACT_ACT_LIST appears, with aligned columns;
# --names prints exactly the list; --help exits 0, bad usage exits 2.
set -u
: "${ACTLAB:=./build/actlab}"
fail() { echo "FAIL: $*" >&2; exit 1; }

# The names, read from the list itself (one X(ID, name, ...) row each).
expected=$(sed -n 's/^ *X([A-Z0-9_]*, *\([a-z0-9_]*\), .*/\1/p' include/actlab/act.h)
[ -n "$expected" ] || fail "could not read the activation names from include/actlab/act.h"

out=$("$ACTLAB" list) || fail "actlab list exited $?"
for n in $expected; do
    echo "$out" | awk -v n="$n" '$1 == n { found = 1 } END { exit !found }' ||
        fail "actlab list does not show '$n'"
done
echo "$out" | head -n 1 | grep -q '^NAME  *PARAMETERS  *FORMULA$' ||
    fail "header: $(echo "$out" | head -n 1)"
echo "$out" | grep -q '^swish  *beta=1\* \[C\]  *x\*sigmoid(beta\*x)$' || fail "swish row"
echo "$out" | grep -q '^acon_c  *p1=1\*, p2=0\*, beta=1\* \[C\]  ' || fail "acon_c row"
# Aligned: the formula column starts at the same offset on every line.
cols=$(echo "$out" | awk '
    NR == 1 { want = index($0, "FORMULA") }
    NR > 1 { n = split($0, f, "  +"); if (index($0, f[3]) != want) bad++ }
    END { print bad + 0 }')
[ "$cols" = 0 ] || fail "$cols rows with a misaligned formula column"

names=$("$ACTLAB" list --names) || fail "list --names exited $?"
[ "$names" = "$expected" ] || fail "list --names differs from ACT_ACT_LIST"

"$ACTLAB" list --help >/dev/null || fail "list --help did not exit 0"
"$ACTLAB" list --bogus >/dev/null 2>&1; rc=$?
[ "$rc" = 2 ] || fail "list --bogus exited $rc, want 2"
"$ACTLAB" list extra >/dev/null 2>&1; rc=$?
[ "$rc" = 2 ] || fail "list extra exited $rc, want 2"
echo ok
