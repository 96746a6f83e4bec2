#!/bin/sh
# search_report.sh -- `actlab search report`: the files of a small synthetic evolution search
# (index.html with the rank-1 function and the SYNTHETIC label, every figure embedded as the
# bytes of its SVG file; summary.md with the same leaderboard, figures linked; leaderboard.csv
# byte for byte `search top --format csv`; SVG figures), the page rendered by headless Chromium
# (every figure decoded, no console errors, not blank), a report while the search runs, a
# fidelity with no results, a rerun into the same directory, and the exit codes of bad input and
# an unwritable directory.
set -u
: "${ACTLAB:=./build/actlab}"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d) || exit 1
bg=
trap '[ -n "$bg" ] && kill "$bg" 2>/dev/null; rm -rf "$tmp"' EXIT
A=$ACTLAB
# a journal name that needs HTML escaping: index.html shows it
J="$tmp/a<b&c\"d's.db"
FIGS="top_functions.svg top_derivatives.svg learning_curve.svg reward_hist.svg"
FILES="index.html summary.md leaderboard.csv $FIGS"
# how PLplot's svg driver writes text: every character as &#xNN;
ent() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n' | sed 's/\(..\)/\&#x\1;/g'; }

"$A" search run --journal "$J" --fidelity synthetic --strategy evolution --budget 150 \
    --workers 2 --quiet 2>"$tmp/err" || fail "search run: $(cat "$tmp/err")"

K=7
R="$tmp/rep"
"$A" search report "$J" -o "$R" -k $K > "$tmp/out" 2>"$tmp/err" ||
    fail "report: $(cat "$tmp/err")"
for f in $FILES; do
    [ -s "$R/$f" ] || fail "$f missing or empty"
    grep -qxF "$R/$f" "$tmp/out" || fail "stdout must list $f: $(cat "$tmp/out")"
done
[ "$(wc -l < "$tmp/out")" -eq 7 ] || fail "stdout: one line per file: $(cat "$tmp/out")"

# leaderboard.csv: the bytes of `search top -k K --format csv`, for K and the default 20
"$A" search top "$J" -k $K --format csv > "$tmp/top.csv" || fail "search top"
cmp "$tmp/top.csv" "$R/leaderboard.csv" || fail "leaderboard.csv differs from search top -k $K"
[ "$(wc -l < "$R/leaderboard.csv")" -eq $((K + 1)) ] || fail "leaderboard.csv: header + $K rows"

# index.html: the rank-1 function (HTML-escaped), the SYNTHETIC label, the escaped journal
# name, every figure embedded (the bytes of its file), nothing fetched from elsewhere
H="$R/index.html"
e1=$(sed -n '2s/^1,"\(.*\)",synthetic,.*$/\1/p' "$tmp/top.csv" | sed 's/""/"/g')
[ -n "$e1" ] || fail "no rank 1 in $(cat "$tmp/top.csv")"
h1=$(printf '%s' "$e1" | sed "s/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/\"/\&quot;/g; \
s/'/\&#39;/g")
grep -qF "<td class=\"n\">1</td><td><code>$h1</code>" "$H" || fail "index.html: rank 1 '$h1'"
grep -qF "SYNTHETIC: an analytic score, no training" "$H" || fail "index.html: SYNTHETIC label"
grep -qF "The top $K kept candidates at fidelity synthetic" "$H" ||
    fail "index.html: the leaderboard's fidelity"
grep -qF "<th>val acc (SYNTHETIC)</th>" "$H" || fail "index.html: the leaderboard's SYNTHETIC label"
grep -qF "a&lt;b&amp;c&quot;d&#39;s.db" "$H" || fail "index.html: the journal name escaped"
grep -qF "a<b&c" "$H" && fail "index.html: an unescaped journal name"
grep -qF "strategy=evolution" "$H" || fail "index.html: the configuration"
grep -q "<td>kept</td><td class=\"n\">150</td>" "$H" || fail "index.html: kept candidates"
grep -q "<td class=\"n\">150</td><td class=\"n\">0</td><td class=\"n\">0</td><td" "$H" ||
    fail "index.html: trial counts (done 150)"
grep -o '<img [^>]*>' "$H" > "$tmp/imgs"
[ "$(wc -l < "$tmp/imgs")" -eq 4 ] || fail "index.html: 4 figures, not $(wc -l < "$tmp/imgs")"
i=0
for f in $FIGS; do
    i=$((i + 1))
    sed -n "${i}p" "$tmp/imgs" > "$tmp/img"
    grep -qF "alt=\"$f\"" "$tmp/img" || fail "index.html: figure $i is not $f"
    sed -n 's/.* src="data:image\/svg+xml;base64,\([A-Za-z0-9+\/=]*\)".*/\1/p' "$tmp/img" |
        base64 -d > "$tmp/img.svg" 2>/dev/null || fail "index.html: $f is not embedded (base64)"
    cmp -s "$tmp/img.svg" "$R/$f" || fail "index.html: the embedded $f differs from the file"
done
if command -v sqlite3 > /dev/null; then
    q=$(sqlite3 -batch "$J" "SELECT COUNT(*) || ' strategy proposals (repeats included), ' ||
        COUNT(reward) || ' with a reward' FROM proposal") || fail "sqlite3"
    grep -qF "$q" "$H" || fail "index.html: proposals, not '$q'"
fi
# one inline script (the figure counter) and data: images only
grep -Eiq '<script[^>]*src|(src|href)="//|@import|url\(' "$H" &&
    fail "index.html must be self-contained"
grep -Eio '(src|href)="[a-z]*:' "$H" | grep -qvx 'src="data:' && fail "index.html: a non-data URI"
[ "$(grep -o '<script' "$H" | wc -l)" -eq 1 ] || fail "index.html: one script, the counter"
head -n 1 "$H" | grep -qx '<!DOCTYPE html>' && tail -n 1 "$H" | grep -qx '</html>' ||
    fail "index.html is not a whole page"

# summary.md: the same leaderboard (the rank-1 row, the header), the figures linked to the files
M="$R/summary.md"
m1=$(printf '%s' "$e1" | sed 's/|/\\|/g')
grep -qF "| 1 | \`$m1\` |" "$M" || fail "summary.md: rank 1 '$m1'"
grep -qF "| rank | function (canonical) | val acc (SYNTHETIC) |" "$M" ||
    fail "summary.md: the leaderboard's header"
[ "$(grep -c '^| [0-9]* | `' "$M")" -eq $K ] || fail "summary.md: $K leaderboard rows"
grep -qF "The top $K kept candidates at fidelity synthetic" "$M" ||
    fail "summary.md: the leaderboard's fidelity"
for f in $FIGS; do
    grep -qxF "![$f]($f)" "$M" || fail "summary.md must link $f"
done
grep -qx '```' "$M" && grep -qx 'strategy=evolution' "$M" || fail "summary.md: the configuration"

# the page in headless Chromium: every figure decoded, no console errors, not blank
. "$(dirname "$0")/lib/browser.sh"
mkdir "$tmp/browser" || fail "mkdir"
browser_check "$H" "$tmp/browser" 4 || fail "index.html in headless Chromium"

# the figures: whole SVGs; the titles name the strategy and label the synthetic score
for f in $FIGS; do
    head -c 5 "$R/$f" | grep -Eq '^(<\?xml|<svg)' || fail "$f does not start as SVG"
    tail -c 16 "$R/$f" | grep -q '</svg>' || fail "$f is not a whole SVG"
done
grep -qF "$(ent 'evolution: reward per proposal')" "$R/learning_curve.svg" ||
    fail "learning_curve.svg: the strategy in the title"
for f in learning_curve.svg reward_hist.svg; do
    grep -qF "$(ent 'SYNTHETIC: an analytic score')" "$R/$f" || fail "$f: SYNTHETIC label"
done
grep -qF "$(ent "1. $(printf '%s' "$e1" | cut -c1-20)")" "$R/top_functions.svg" ||
    fail "top_functions.svg: the rank-1 function in the legend"

# the same journal again into the same directory: replaced, the same bytes
mkdir "$tmp/first" && cp "$R"/* "$tmp/first/" || fail "copy"
"$A" search report "$J" -o "$R" -k $K > /dev/null 2>"$tmp/err" || fail "rerun: $(cat "$tmp/err")"
for f in $FILES; do
    cmp -s "$tmp/first/$f" "$R/$f" || fail "rerun: $f differs"
done
[ "$(ls -A "$R" | wc -l)" -eq 7 ] || fail "rerun left other files: $(ls -A "$R")"
"$A" search report "$J" -o "$tmp/rep20" > /dev/null 2>&1 || fail "report with the default -k"
"$A" search top "$J" --format csv | cmp -s - "$tmp/rep20/leaderboard.csv" ||
    fail "leaderboard.csv differs from search top (default -k)"

# finalize's seeds: the spread over seeds, still the rows of search top
"$A" search finalize "$J" -k 2 --seeds 3 --fidelity synthetic --workers 2 > /dev/null 2>&1 ||
    fail "search finalize"
"$A" search report "$J" -o "$R" -k $K > /dev/null 2>"$tmp/err" ||
    fail "after finalize: $(cat "$tmp/err")"
"$A" search top "$J" -k $K --format csv | cmp -s - "$R/leaderboard.csv" ||
    fail "after finalize: leaderboard.csv differs from search top"
grep -q '<td class="n">\[0\.[0-9]*, 0\.[0-9]*\] ± 0\.[0-9]*</td><td class="n">3</td>' \
    "$R/index.html" || fail "after finalize: a row with 3 seeds and its spread"
grep -q '| \[0\.[0-9]*, 0\.[0-9]*\] ± 0\.[0-9]* | 3 |' "$R/summary.md" ||
    fail "after finalize: summary.md, a row with 3 seeds and its spread"

# a fidelity without results: the leaderboard is empty, figures of nothing are removed
"$A" search report "$J" -o "$R" --fidelity mlp > "$tmp/out" 2>"$tmp/err" ||
    fail "report --fidelity mlp: $(cat "$tmp/err")"
"$A" search top "$J" --fidelity mlp --format csv | cmp -s - "$R/leaderboard.csv" ||
    fail "--fidelity mlp: leaderboard.csv differs from search top"
[ -e "$R/top_functions.svg" ] || [ -e "$R/reward_hist.svg" ] &&
    fail "--fidelity mlp: stale figures left in $R"
grep -q "No top_functions.svg" "$R/index.html" || fail "--fidelity mlp: index.html"
grep -q "No top_functions.svg" "$R/summary.md" || fail "--fidelity mlp: summary.md"
grep -q '<img .*top_functions' "$R/index.html" && fail "--fidelity mlp: a removed figure shown"

# while a search runs (the writer holds its lock): the report only reads
"$A" search run --journal "$tmp/live.db" --fidelity synthetic --strategy random --budget 60 \
    --workers 2 --synthetic-ms 40 --quiet 2>/dev/null &
bg=$!
sleep 0.4
"$A" search report "$tmp/live.db" -o "$tmp/live" > /dev/null 2>"$tmp/err" ||
    fail "report during a search: $(cat "$tmp/err")"
wait "$bg" || fail "the search run beside the report failed"
bg=
[ -s "$tmp/live/index.html" ] || fail "report during a search: no index.html"

# bad input: exit 2, nothing written; an unwritable directory: cli_check_output's 1
"$A" search report "$J" 2>"$tmp/err"; [ $? -eq 2 ] || fail "missing -o must exit 2"
grep -q -- "-o DIR is required" "$tmp/err" || fail "missing -o: $(cat "$tmp/err")"
"$A" search report -o "$tmp/x" 2>/dev/null; [ $? -eq 2 ] || fail "missing FILE must exit 2"
"$A" search report "$J" -o "$tmp/x" -k 0 2>/dev/null; [ $? -eq 2 ] || fail "-k 0 must exit 2"
"$A" search report "$J" -o "$tmp/x" -k 3x 2>/dev/null; [ $? -eq 2 ] || fail "-k 3x must exit 2"
"$A" search report "$J" -o "" 2>/dev/null; [ $? -eq 2 ] || fail "-o '' must exit 2"
"$A" search report "$tmp/none.db" -o "$tmp/x" 2>/dev/null; [ $? -eq 2 ] ||
    fail "a missing journal must exit 2"
printf 'not a journal\n' > "$tmp/text"
"$A" search report "$tmp/text" -o "$tmp/x" 2>"$tmp/err"; [ $? -eq 2 ] ||
    fail "not a journal must exit 2"
grep -q "not an actlab journal" "$tmp/err" || fail "not a journal: $(cat "$tmp/err")"
[ "$(cat "$tmp/text")" = "not a journal" ] || fail "not a journal: the file was changed"
[ -e "$tmp/x" ] && fail "bad input must write nothing"
"$A" search report "$J" -o /proc/x 2>"$tmp/err"; [ $? -eq 1 ] ||
    fail "an unwritable directory must exit 1 (cli_check_output)"
grep -q "/proc/x" "$tmp/err" || fail "unwritable directory: $(cat "$tmp/err")"
exit 0
