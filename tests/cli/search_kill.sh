#!/bin/sh
# search_kill.sh -- `actlab search` survives the death of its coordinator and of its workers
# (issue 10, docs/search.md "Coordinator"):
#  1. a --deterministic evolution search at the synthetic fidelity is killed with SIGKILL at
#     random moments, over and over, and resumed each time; after every kill the journal's
#     invariants hold (no finished trial re-run or changed, every trial of a known candidate,
#     no proposal rewarded twice), and the final leaderboard equals that of the same search run
#     without interruption with another worker count;
#  2. workers SIGKILLed mid-trial: every trial still completes, exit 0, the deaths re-queued;
#  3. a worker that stops answering (SIGSTOP) is killed at lease expiry, its trial re-queued;
#  4. a full disk stops the search with exit 1, the journal intact, and a resume finishes;
#  5. ASHA killed and resumed completes its rungs.
set -u
: "${ACTLAB:=./build/actlab}"
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v sqlite3 >/dev/null || fail "sqlite3 (the command) is needed: scripts/install-deps.sh"
tmp=$(mktemp -d) || exit 1
trap 'pkill -KILL -P $$ 2>/dev/null; rm -rf "$tmp"' EXIT
q() { sqlite3 -batch "$1" "$2"; }
A=$(cd "$(dirname "$ACTLAB")" && pwd)/$(basename "$ACTLAB")
cd "$tmp" || exit 1

# 1. repeated kill -9 of the coordinator
args="--fidelity synthetic --strategy evolution --set evolution.population=20
      --set evolution.tournament=5 --budget 400 --deterministic --batch 8 --seed 5 --quiet
      --seed-expr x*sigmoid(beta*x)"
# shellcheck disable=SC2086
"$A" search run --journal u.db $args --workers 3 2>/dev/null || fail "uninterrupted run"
"$A" search top u.db -k 400 --format csv > u.top || fail "top u.db"
[ "$(wc -l < u.top)" -eq 401 ] || fail "u.db should rank 400 functions: $(wc -l < u.top)"

kills=0
# shellcheck disable=SC2086
"$A" search run --journal k.db $args --workers 2 --synthetic-ms 15 >/dev/null 2>&1 &
pid=$!
i=0
done_now() { q k.db "SELECT COUNT(*) FROM trial WHERE state = 'done'" 2>/dev/null || echo 0; }
while :; do
    i=$((i + 1))
    # a kill at a random moment once this run has made progress (a loaded machine can take
    # longer than the random delay to start one: killed before any progress, it would never
    # finish), or after 10 s
    d0=$( [ -f k.db ] && done_now || echo 0)
    t=0
    while [ "$t" -lt 100 ] && kill -0 "$pid" 2>/dev/null &&
          { [ ! -f k.db ] || [ "$(done_now)" -le "$d0" ]; }; do
        sleep 0.1
        t=$((t + 1))
    done
    sleep "0.$(( ($(od -An -N2 -tu2 /dev/urandom) % 4) ))"
    if kill -KILL "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
    wait "$pid" 2>/dev/null
    rc=$?
    [ -f k.db ] || fail "no journal after kill $i"
    # invariants of the committed state
    q k.db "PRAGMA integrity_check" | grep -qx ok || fail "integrity after kill $i"
    # a finished trial never changes: compare with the snapshot of the previous round
    q k.db "SELECT id, val_acc, finished FROM trial WHERE state = 'done'" | sort > now.txt
    if [ -f before.txt ]; then
        comm -23 before.txt now.txt | grep -q . && fail "a finished trial changed (kill $i)"
    fi
    mv now.txt before.txt
    n=$(q k.db "SELECT COUNT(*) FROM trial t JOIN candidate c ON c.id = t.candidate_id
                WHERE c.status <> 'kept'")
    [ "$n" -eq 0 ] || fail "a trial of a rejected or duplicate candidate (kill $i)"
    n=$(q k.db "SELECT COUNT(*) FROM proposal p JOIN trial t ON t.id = p.trial_id
                WHERE p.reward IS NOT NULL AND t.state NOT IN ('done', 'failed_candidate')")
    [ "$n" -eq 0 ] || fail "a reward without a result (kill $i)"
    [ "$rc" -eq 0 ] && break
    [ "$i" -ge 40 ] && fail "not finished after 40 kills"
    "$A" search resume k.db --workers 2 --synthetic-ms 15 >/dev/null 2>&1 &
    pid=$!
done
[ "$kills" -ge 3 ] || fail "only $kills kills landed: the test did not test much"
n=$(q k.db "SELECT COUNT(*) FROM trial WHERE state <> 'done'")
[ "$n" -eq 0 ] || fail "$n trials not done at the end"
n=$(q k.db "SELECT COUNT(*) FROM proposal WHERE reward IS NULL")
[ "$n" -eq 0 ] || fail "$n proposals without a reward at the end"
"$A" search top k.db -k 400 --format csv > k.top || fail "top k.db"
cmp -s u.top k.top || fail "killed $kills times, the leaderboard differs: $(diff u.top k.top |
    head -5)"
echo "coordinator killed $kills times: same leaderboard"

# 2. workers killed mid-trial
"$A" search run --journal w.db --fidelity synthetic --strategy random --budget 40 --workers 2 \
    --synthetic-ms 150 --quiet >/dev/null 2>w.err &
pid=$!
sleep 1
for k in 1 2 3; do
    w=$(pgrep -P "$pid" | head -n 1)
    [ -n "$w" ] && kill -KILL "$w"
    sleep 0.7
done
wait "$pid" || fail "the search did not survive its workers: $(cat w.err)"
[ "$(q w.db "SELECT COUNT(*) FROM trial WHERE state = 'done'")" -eq 40 ] ||
    fail "not every trial done after worker kills"
[ "$(q w.db "SELECT COUNT(*) FROM event WHERE kind = 'requeue'")" -ge 1 ] ||
    fail "no trial was re-queued: were the workers killed mid-trial?"

# 3. a worker that stops answering: killed at lease expiry, its trial re-queued
"$A" search run --journal l.db --fidelity synthetic --strategy random --budget 12 --workers 2 \
    --synthetic-ms 300 --lease 1.5 --quiet >/dev/null 2>l.err &
pid=$!
sleep 0.6
w=$(pgrep -P "$pid" | head -n 1)
[ -n "$w" ] && kill -STOP "$w"
wait "$pid" || fail "the search did not survive a stopped worker: $(cat l.err)"
[ "$(q l.db "SELECT COUNT(*) FROM trial WHERE state = 'done'")" -eq 12 ] ||
    fail "not every trial done after a stopped worker"
q l.db "SELECT detail FROM event WHERE kind = 'requeue'" | grep -q "died" ||
    fail "the stopped worker's trial was not re-queued"

# 4. A full disk: the journal cannot grow past 200 KB (ulimit -f, with
# SIGXFSZ ignored so the write fails instead of killing): the search stops with exit 1 and a
# message, the committed state is intact, and a resume with room finishes every trial
(trap '' XFSZ; ulimit -f 400; "$A" search run --journal f.db --fidelity synthetic \
    --strategy random --budget 3000 --workers 2 --quiet 2>f.err)
rc=$?
[ "$rc" -eq 1 ] || fail "a full disk: exit $rc, want 1: $(cat f.err)"
grep -q "intact" f.err || fail "a full disk: the message: $(cat f.err)"
q f.db "PRAGMA integrity_check" | grep -qx ok || fail "a full disk: integrity"
n=$(q f.db "SELECT COUNT(*) FROM trial WHERE state = 'done'")
[ "$n" -gt 0 ] && [ "$n" -lt 3000 ] || fail "a full disk: $n trials done before it filled"
"$A" search resume f.db --quiet 2>/dev/null || fail "resume after the disk filled"
[ "$(q f.db "SELECT COUNT(*) FROM trial WHERE state = 'done'")" -eq 3000 ] ||
    fail "not every trial done after the disk filled and a resume"

# 5. ASHA killed and resumed: the promotions are rebuilt from the journal, the rungs complete
a="--fidelity synthetic --strategy random --budget 81 --asha --workers 2 --synthetic-ms 200
   --seed-expr x*sigmoid(beta*x)"
# shellcheck disable=SC2086
"$A" search run --journal a.db $a --quiet >/dev/null 2>&1 &
pid=$!
akills=0
for k in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    sleep 0.4
    kill -KILL "$pid" 2>/dev/null && akills=$((akills + 1))
    wait "$pid" 2>/dev/null && break
    # shellcheck disable=SC2086
    "$A" search resume a.db --workers 2 --synthetic-ms 200 --quiet >/dev/null 2>&1 &
    pid=$!
done
wait "$pid" 2>/dev/null
"$A" search resume a.db --quiet 2>/dev/null || fail "asha resume"
q=$(q a.db "SELECT fidelity, COUNT(*) FROM trial WHERE state = 'done' GROUP BY 1 ORDER BY 2 DESC")
[ "$q" = "synthetic-e1|81
synthetic-e3|27
synthetic|9" ] || fail "asha after $akills kills: $q"
[ "$akills" -ge 2 ] || fail "asha: only $akills kills landed"
exit 0
