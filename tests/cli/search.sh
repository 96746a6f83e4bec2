#!/bin/sh
# search.sh -- `actlab search` at the synthetic fidelity: run, status, top, export, resume with
# the stored or a differing configuration, the writer lock, Ctrl-C, and the errors of bad input
# (exit 2 with the valid names; a file that is not a journal is never overwritten).
set -u
: "${ACTLAB:=./build/actlab}"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d) || exit 1
trap 'pkill -KILL -P $$ 2>/dev/null; rm -rf "$tmp"' EXIT
A=$ACTLAB
S="$tmp/s.db"

# the whole 1-unit space, exhaustively: the candidate pipeline's counts (docs/search.md)
"$A" search run --journal "$S" --fidelity synthetic --workers 2 --quiet 2>"$tmp/err" ||
    fail "exhaustive run: $(cat "$tmp/err")"
grep -q "space exhausted after 3316 trials" "$tmp/err" || fail "summary: $(cat "$tmp/err")"
"$A" search status "$S" > "$tmp/st" || fail "status"
grep -q "done 3316 " "$tmp/st" || fail "status counts: $(cat "$tmp/st")"
grep -q "SYNTHETIC" "$tmp/st" || fail "status must label the synthetic fidelity"
"$A" search status "$S" --json > "$tmp/st.json" || fail "status --json"
grep -q '"done": 3316' "$tmp/st.json" || fail "status --json counts"
"$A" search top "$S" -k 3 > "$tmp/top" || fail "top"
grep -q "SYNTHETIC" "$tmp/top" || fail "top must label the synthetic fidelity"
[ "$(wc -l < "$tmp/top")" -eq 4 ] || fail "top -k 3: header and 3 rows"
"$A" search top "$S" -k 2 --format csv > "$tmp/top.csv" || fail "top csv"
head -n 1 "$tmp/top.csv" | grep -qx "rank,expr,fidelity,val_acc,val_min,val_max,trials" ||
    fail "csv header"
# the synthetic score's optimum is its target, x*sigmoid(x)
sed -n 2p "$tmp/top.csv" | grep -q '^1,"x\*sigmoid(x)",synthetic,' ||
    fail "rank 1: $(cat "$tmp/top.csv")"
"$A" search top "$S" --format json | grep -q '"rank": 1, "expr": "x\*sigmoid(x)"' ||
    fail "top json"
"$A" search export "$S" --rank 1 | grep -qx 'x\*sigmoid(x)' || fail "export expr"
"$A" search export "$S" --rank 1 --as torch | grep -q "torch" || fail "export torch"
"$A" search export "$S" --rank 2 --as c -o "$tmp/f.c" && grep -q "float" "$tmp/f.c" ||
    fail "export c -o"
"$A" search export "$S" --rank 99999 2>/dev/null; [ $? -eq 2 ] || fail "export past the end"
q=$(sqlite3 -batch "$S" "SELECT status, COUNT(*) FROM candidate GROUP BY status ORDER BY 1")
[ "$q" = "duplicate|218
kept|3316
rejected|798" ] || fail "candidate verdicts: $q"
[ "$(sqlite3 -batch "$S" "SELECT COUNT(*), COUNT(reward) FROM proposal")" = "6250|6250" ] ||
    fail "every one of the 6250 proposals journaled with its reward"

# finalize: the top 3 again with 3 seeds beside relu and swish (here at the synthetic fidelity)
"$A" search finalize "$S" -k 3 --seeds 3 --workers 2 --quiet > "$tmp/fin" 2>/dev/null ||
    fail "finalize"
# x*sigmoid(beta*x) is found (the synthetic score's optimum) and a baseline: "both"
[ "$(grep -c " found \| both " "$tmp/fin")" -eq 3 ] || fail "finalize: 3 found: $(cat "$tmp/fin")"
grep -q "baseline  max(x, 0)" "$tmp/fin" && grep -q "both      x\*sigmoid(beta\*x)" "$tmp/fin" ||
    fail "finalize: the baselines relu and swish: $(cat "$tmp/fin")"
grep -q "± " "$tmp/fin" || fail "finalize: confidence intervals"
n=$(sqlite3 -batch "$S" "SELECT COUNT(*) FROM trial WHERE seed IN (2, 3)")
[ "$n" -eq 8 ] || fail "finalize: 4 functions x seeds 2 and 3 = 8 new trials, got $n"
"$A" search finalize "$S" -k 3 --seeds 3 --format csv --quiet > "$tmp/fin.csv" 2>"$tmp/err" ||
    fail "finalize again"
grep -q "after 0 trials" "$tmp/err" || fail "finalize again must train nothing: $(cat "$tmp/err")"

# a short real search: Fashion-MNIST, the mlp fidelity, with relu as a seed expression
"$A" search run --journal "$tmp/r.db" --fidelity mlp --strategy random --budget 3 --workers 2 \
    --seed-expr "max(x, 0)" > "$tmp/out" 2>"$tmp/err" || fail "real search: $(cat "$tmp/err")"
[ "$(grep -c "^trial " "$tmp/out")" -eq 3 ] || fail "one line per finished trial: $(cat "$tmp/out")"
v=$("$A" search top "$tmp/r.db" --format csv |
    sed -n 's/^[0-9]*,"max(0, x)",mlp,\([0-9.]*\),.*/\1/p')
awk -v v="$v" 'BEGIN { exit !(v > 0.6 && v < 1) }' || fail "relu at the mlp fidelity: val '$v'"

# ASHA: 243 candidates at the synthetic fidelity's first rung (1 of its nominal 9 epochs), the
# top third promoted to 3 epochs, the top third of those to 9; the best of the first rung is
# the best at the top (the synthetic score does not change with epochs)
"$A" search run --journal "$tmp/a.db" --fidelity synthetic --strategy random --budget 243 \
    --asha --workers 2 --quiet 2>/dev/null || fail "asha run"
q=$(sqlite3 -batch "$tmp/a.db" "SELECT fidelity, COUNT(*), SUM(epochs) FROM trial
                                 WHERE state = 'done' GROUP BY 1 ORDER BY 2 DESC")
[ "$q" = "synthetic-e1|243|243
synthetic-e3|81|243
synthetic|27|243" ] || fail "asha rungs: $q"
b1=$("$A" search top "$tmp/a.db" -k 1 --fidelity synthetic-e1 --format csv | sed -n 2p)
b9=$("$A" search top "$tmp/a.db" -k 1 --format csv | sed -n 2p)
[ "${b1%%,synthetic*}" = "${b9%%,synthetic*}" ] || fail "asha lost the best: $b1 vs $b9"
"$A" search status "$tmp/a.db" | grep -q "^rung 1    synthetic-e3 (3 epochs):.* done 81 " ||
    fail "status: the rungs"
"$A" search run --journal "$tmp/x.db" --fidelity proxy --asha 2>"$tmp/err"; [ $? -eq 2 ] ||
    fail "asha on a 1-epoch fidelity must be refused"
grep -q "epochs" "$tmp/err" || fail "asha refusal: $(cat "$tmp/err")"
"$A" search run --journal "$tmp/x.db" --fidelity synthetic --asha --deterministic 2>/dev/null
[ $? -eq 2 ] || fail "asha with --deterministic must be refused"

# a real ASHA promotion continues the first rung's checkpoint and gives what the full run from
# scratch gives, bit for bit (mlp: 2 epochs, eta 2)
"$A" search run --journal "$tmp/b.db" --fidelity mlp --asha --set asha.eta=2 --budget 2 \
    --seed-expr "max(x, 0)" --seed-expr "x*sigmoid(beta*x)" --workers 2 --quiet 2>/dev/null ||
    fail "real asha run"
p=$("$A" search top "$tmp/b.db" -k 1 --format csv | sed -n 2p)
[ -n "$p" ] || fail "nothing promoted to the full mlp run"
e=$(echo "$p" | sed 's/^1,"\(.*\)",mlp,.*/\1/')
"$A" search run --journal "$tmp/e.db" --fidelity mlp --seed-expr "$e" --budget 1 --workers 1 \
    --quiet 2>/dev/null || fail "the same function without asha"
s=$("$A" search top "$tmp/e.db" -k 1 --format csv | sed -n 2p)
[ "$p" = "$s" ] || fail "promoted ($p) and from scratch ($s) differ"

# resume: stored configuration; a finished search has nothing to do; a differing key refused
"$A" search resume "$S" --quiet 2>"$tmp/err" || fail "resume a finished search"
grep -q "after 0 trials" "$tmp/err" || fail "resume re-ran something: $(cat "$tmp/err")"
"$A" search resume "$S" --strategy ppo --seed 9 2>"$tmp/err"; [ $? -eq 2 ] ||
    fail "resume with another strategy must be refused"
grep -q "strategy (exhaustive vs ppo)" "$tmp/err" && grep -q "seed (1 vs 9)" "$tmp/err" ||
    fail "the refusal must name the differing keys: $(cat "$tmp/err")"
"$A" search resume "$S" --budget 10 --quiet 2>/dev/null || fail "budget may change on resume"
"$A" search run --journal "$S" --fidelity synthetic 2>"$tmp/err"; [ $? -eq 2 ] ||
    fail "run on an existing journal"
grep -q "search resume" "$tmp/err" || fail "run on an existing journal must point to resume"

# budget, a PPO search with seed expressions, determinism across worker counts
"$A" search run --journal "$tmp/p1.db" --fidelity synthetic --strategy ppo --units 2 \
    --budget 60 --seed 7 --deterministic --seed-expr "max(x, 0)" --seed-expr "x*sigmoid(beta*x)" \
    --workers 1 --quiet 2>/dev/null || fail "ppo run"
"$A" search run --journal "$tmp/p3.db" --fidelity synthetic --strategy ppo --units 2 \
    --budget 60 --seed 7 --deterministic --seed-expr "max(x, 0)" --seed-expr "x*sigmoid(beta*x)" \
    --workers 3 --quiet 2>/dev/null || fail "ppo run, 3 workers"
"$A" search top "$tmp/p1.db" -k 100 --format csv > "$tmp/p1" &&
    "$A" search top "$tmp/p3.db" -k 100 --format csv > "$tmp/p3" || fail "top ppo"
[ "$(wc -l < "$tmp/p1")" -eq 61 ] || fail "budget 60: $(($(wc -l < "$tmp/p1") - 1)) rows"
cmp -s "$tmp/p1" "$tmp/p3" || fail "deterministic: 1 and 3 workers differ"
grep -q '"max(0, x)"' "$tmp/p1" || fail "the seed expression max(x, 0) was not trained"

# a seed expression in the strategy's space is its first proposal: evolution's first member
"$A" search run --journal "$tmp/i.db" --fidelity synthetic --strategy evolution --budget 30 \
    --set evolution.population=5 --set evolution.tournament=2 --seed-expr "x*sigmoid(beta*x)" \
    --quiet 2>/dev/null || fail "evolution with a seed expression"
q=$(sqlite3 -batch "$tmp/i.db" "SELECT p.ticket, p.mutation, c.canon, p.reward IS NOT NULL
                                 FROM proposal p JOIN candidate c ON c.id = p.candidate_id
                                 WHERE p.ticket = 1")
[ "$q" = "1|seed|x*sigmoid(beta*x)|1" ] || fail "the seed as the first proposal: $q"

# the writer lock; Ctrl-C stops cleanly (exit 130) and resume finishes the work
# (exhaustive with a seed expression: the injected ticket makes its cursor lag the ticket
# counter, which a resume must load)
"$A" search run --journal "$tmp/c.db" --fidelity synthetic --strategy exhaustive --budget 30 \
    --seed-expr "x*sigmoid(beta*x)" --workers 2 --synthetic-ms 200 --quiet 2>/dev/null &
pid=$!
sleep 1
"$A" search resume "$tmp/c.db" 2>"$tmp/err"; rc=$?
[ "$rc" -ne 0 ] && grep -q "in use\|lock\|pid" "$tmp/err" ||
    fail "a second writer must be refused: rc $rc, $(cat "$tmp/err")"
kill -INT "$pid"
wait "$pid"; rc=$?
[ "$rc" -eq 130 ] || fail "Ctrl-C: exit $rc, want 130"
[ "$(sqlite3 -batch "$tmp/c.db" "SELECT COUNT(*) FROM trial WHERE state = 'leased'")" -eq 0 ] ||
    fail "trials left leased after Ctrl-C"
"$A" search resume "$tmp/c.db" --synthetic-ms 1 --quiet 2>/dev/null || fail "resume after ^C"
[ "$(sqlite3 -batch "$tmp/c.db" "SELECT COUNT(*) FROM trial WHERE state = 'done'")" -eq 30 ] ||
    fail "not every trial done after resume"

# bad input: exit 2, the valid names, nothing overwritten
"$A" search run --journal "$tmp/x.db" --strategy nope 2>"$tmp/err"; [ $? -eq 2 ] ||
    fail "unknown strategy"
grep -q "exhaustive" "$tmp/err" || fail "unknown strategy: list the valid ones"
"$A" search run --journal "$tmp/x.db" --space nope 2>"$tmp/err"; [ $? -eq 2 ] ||
    fail "unknown space"
grep -q "full" "$tmp/err" || fail "unknown space: list the presets"
"$A" search run --journal "$tmp/x.db" --fidelity nope 2>"$tmp/err"; [ $? -eq 2 ] ||
    fail "unknown fidelity"
grep -q "proxy" "$tmp/err" || fail "unknown fidelity: list the valid ones"
"$A" search run --journal "$tmp/x.db" --seed-expr "x+*" 2>"$tmp/err"; [ $? -eq 2 ] ||
    fail "bad seed expression"
grep -q "\^" "$tmp/err" || fail "a bad seed expression gets the caret diagnostic"
[ -e "$tmp/x.db" ] && fail "a refused run left a journal behind"
echo "not a journal" > "$tmp/n.db"
"$A" search resume "$tmp/n.db" 2>"$tmp/err"; [ $? -eq 2 ] || fail "not a journal"
[ "$(cat "$tmp/n.db")" = "not a journal" ] || fail "a file that is not a journal was changed"
"$A" search status "$tmp/none.db" 2>/dev/null; [ $? -eq 2 ] || fail "missing journal"
"$A" search run --journal /proc/x.db --fidelity synthetic 2>/dev/null; [ $? -eq 2 ] ||
    fail "unwritable path"
# candidates that diverge: failed_candidate with the floor reward; --max-failed stops (exit 4)
"$A" search run --journal "$tmp/mf.db" --fidelity mlp --strategy random --budget 40 \
    --seed-expr "max(sin(x), cosh(x))" --seed-expr "beta + x + x^2" --max-failed 2 --workers 1 \
    --quiet 2>"$tmp/err"; rc=$?
[ "$rc" -eq 4 ] || fail "--max-failed: exit $rc, want 4: $(cat "$tmp/err")"
n=$(sqlite3 -batch "$tmp/mf.db" "SELECT COUNT(*) FROM trial WHERE state = 'failed_candidate'
                                  AND error LIKE 'diverged%'")
[ "$n" -ge 2 ] || fail "--max-failed: $n diverged trials journaled"

# workers that cannot train (no data): a clear error after 10 lost trials, not a journal of
# failed_infra trials
"$A" search run --journal "$tmp/nd.db" --fidelity mlp --budget 50 --workers 2 \
    --data-dir "$tmp/no-such-dir" --quiet 2>"$tmp/err"; [ $? -eq 1 ] ||
    fail "missing data must stop the search with exit 1"
grep -q "no-such-dir" "$tmp/err" && grep -q "in a row" "$tmp/err" ||
    fail "missing data: the message: $(cat "$tmp/err")"
"$A" search frob 2>/dev/null; [ $? -eq 2 ] || fail "unknown action"
"$A" search --help | grep -q "usage: actlab search" || fail "--help"
exit 0
