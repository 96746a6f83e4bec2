#!/bin/sh
# run-tests.sh BUILD_DIR -- the whole test suite: the C unit tests (BUILD_DIR/tests/run), the
# command-line tests (tests/cli/*.sh, one test each; exit 77 means skipped, with the reason on its
# last line, counted in neither total) and the docs-staleness check. Prints every result and ends
# with the line "N passed, N failed"; exits non-zero on any failure.
set -u
B=${1:-build}
cd "$(dirname "$0")/.."
passed=0
failed=0

out=$(mktemp)
trap 'rm -f "$out"' EXIT

"./$B/tests/run" | tee "$out"
line=$(tail -n 1 "$out")
p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
if [ -z "$p" ]; then
    echo "unit tests: runner crashed or printed no summary" >&2
    failed=$((failed + 1))
else
    passed=$((passed + p))
    failed=$((failed + f))
fi

for t in tests/cli/*.sh; do
    [ -f "$t" ] || continue
    rc=0
    ACTLAB="./$B/actlab" B="$B" sh "$t" >"$out" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then
        printf '%-48s ok\n' "cli/$(basename "$t" .sh)"
        passed=$((passed + 1))
    elif [ "$rc" -eq 77 ]; then     # a test that cannot run here says why on its last line
        printf '%-48s skipped (%s)\n' "cli/$(basename "$t" .sh)" "$(tail -n 1 "$out")"
    else
        printf '%-48s FAIL\n' "cli/$(basename "$t" .sh)"
        sed 's/^/    /' "$out"
        failed=$((failed + 1))
    fi
done

if "./$B/gen_docs" | cmp -s - docs/activations.md; then
    printf '%-48s ok\n' "docs_activations_up_to_date"
    passed=$((passed + 1))
else
    printf '%-48s FAIL (run make docs)\n' "docs_activations_up_to_date"
    failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
