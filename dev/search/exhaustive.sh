#!/bin/sh
# dev/search/exhaustive.sh [BUILD_DIR] -- the project's first real result (issue 10): the
# exhaustive search of the 1-unit space (full preset: 6,250 strings, 3,316 distinct functions
# after the filters and dedup) at the proxy fidelity, 2 workers, seed 1, with relu, swish and
# max(x, sigmoid(x)) seeded so they rank among the rest. Resumable: it runs or resumes the
# journal dev/search/exhaustive_proxy.db, so it runs in chunks across sessions (Ctrl-C or kill
# it any time; `actlab search status` shows where it is). After each chunk it writes the
# leaderboard (CSV) and the status beside the journal, and a consistent copy of the journal
# (sqlite3 .backup: exhaustive_proxy.snapshot.db) that is committed; the live journal is not
# (.gitignore), and a clone without it resumes from the snapshot.
set -u
B=${1:-build}
cd "$(dirname "$0")/../.."
A="./$B/actlab"
J=dev/search/exhaustive_proxy.db
W=${WORKERS:-2}
[ -x "$A" ] || { echo "exhaustive: $A not built" >&2; exit 1; }
S=dev/search/exhaustive_proxy.snapshot.db    # the committed copy (a fresh clone starts from it)
[ ! -e "$J" ] && [ -e "$S" ] && cp "$S" "$J"
if [ -e "$J" ]; then
    "$A" search resume "$J" --workers "$W"
else
    "$A" search run --journal "$J" --space full --units 1 --strategy exhaustive \
        --fidelity proxy --seed 1 --workers "$W" --seed-expr "max(x, 0)" \
        --seed-expr "x*sigmoid(beta*x)" --seed-expr "max(x, sigmoid(x))"
fi
rc=$?
"$A" search top "$J" -k 100000 --format csv > dev/search/exhaustive_proxy_top.csv
"$A" search status "$J" > dev/search/exhaustive_proxy_status.txt
sqlite3 "$J" ".backup '$S.tmp'" && mv "$S.tmp" "$S"
exit $rc
