#!/bin/sh
# citations.sh -- comments and docs cite only what a reader of the repository can open: a paper,
# an official code repository, library documentation, or a file of this repository
# (docs/references.md collects the sources and the facts taken from them). Fails on a citation
# of the project's private reference documents or style guide, which are not in the repository:
# their file names, their numbered sections, their style-rule numbers.
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }

# The pattern is built from pieces so that this file does not match it.
md='\.md'
style='STY'
pat="reference/(activations|performance|search)$md"
pat="$pat|perf""ormance$md|(^|[^/])sea""rch$md"   # docs/search.md is ours
pat="$pat|activations$md (section )?[0-9]"
pat="$pat|${style}LE B[0-9]"

hits=$(grep -rnIE "$pat" src include tools tests docs dev bench fuzz scripts README.md 2>&1)
rc=$?
[ "$rc" -le 1 ] || fail "grep failed ($rc): $hits"
if [ -n "$hits" ]; then
    printf '%s\n' "$hits" >&2
    fail "citations of documents that are not in the repository (cite the source; see docs/references.md)"
fi

# The pattern itself must still find what it is for.
printf '%s\n' "see reference/perf""ormance.md" "activa""tions.md 2.3" "${style}LE B10" \
    "sea""rch.md 7.1" | grep -cE "$pat" | grep -qx 4 ||
    fail "the pattern no longer matches the citations it is for"
echo "docs/sea""rch.md" | grep -qE "$pat" && fail "the pattern matches this repository's docs"
echo "no citations of documents outside the repository"
