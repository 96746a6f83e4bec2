#!/bin/sh
# search_mpi.sh -- `actlab search --transport mpi` under Open MPI's mpirun (issue 11,
# docs/search.md "MPI"), coordinator + 2 worker ranks oversubscribed on this machine:
#  0. a build without MPI, a single rank and --workers each get a clear error;
#  a. a synthetic search completes;
#  b. a worker rank SIGKILLed mid-run: every trial completes, its trial re-queued, exit 0;
#  c. the coordinator SIGKILLed: the workers exit on their own (watchdog), and a resume under
#     MPI completes with no finished trial re-run or changed; SIGTERM to the coordinator while
#     the workers train: a clean stop that ends the job at once;
#  d. --deterministic: the leaderboard equals the local transport's for the same seed;
#  e. one journal moves between transports: local -> MPI -> local, and finalize under MPI;
#  f. a short real-fidelity search (mlp, Fashion-MNIST) under MPI.
# Without an MPI in the build (make asan builds with MPI=0, and says so with ACTLAB_NO_MPI=1)
# only part 0 runs.
set -u
: "${ACTLAB:=./build/actlab}"
: "${B:=build}"
fail() { echo "FAIL: $*" >&2; exit 1; }
A=$(cd "$(dirname "$ACTLAB")" && pwd)/$(basename "$ACTLAB")
NOMPI=$(cd "$B" && pwd)/tests/actlab-nompi
tmp=$(mktemp -d) || exit 1
trap 'pkill -KILL -f "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
q() { sqlite3 -batch "$1" "$2"; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1   # CI runs as root
MPIRUN="mpirun --oversubscribe --enable-recovery -np 3"
syn="--fidelity synthetic --strategy random --seed 3"

# 0. the errors
if [ -x "$NOMPI" ]; then
    "$NOMPI" search run --transport mpi --journal n.db $syn 2> err && fail "no-MPI build ran"
    [ $? -eq 2 ] || fail "no-MPI build: exit $? (want 2)"
    grep -q "built without MPI" err || fail "no-MPI build's message: $(cat err)"
    [ ! -e n.db ] || fail "no-MPI build created the journal"
fi
if [ "${ACTLAB_NO_MPI:-0}" = 1 ]; then
    "$A" search run --transport mpi --journal n.db $syn 2> err
    [ $? -eq 2 ] && grep -q "built without MPI" err || fail "MPI=0 build: $(cat err)"
    echo "this build has no MPI (ACTLAB_NO_MPI=1): only its error is checked"
    exit 0
fi
command -v mpirun >/dev/null || fail "mpirun is needed: scripts/install-deps.sh"
command -v sqlite3 >/dev/null || fail "sqlite3 (the command) is needed: scripts/install-deps.sh"
"$A" search run --transport mpi --journal n.db $syn 2> err
[ $? -eq 2 ] && grep -q "mpirun -np N+1" err || fail "a single rank: $(cat err)"
"$A" search run --transport mpi --workers 2 --journal n.db $syn 2> err
[ $? -eq 2 ] && grep -q "does not go with --transport mpi" err || fail "--workers: $(cat err)"
[ ! -e n.db ] || fail "a refused run created the journal"

# pid_of JOURNAL RANK: the process of that rank in the job running on JOURNAL
pid_of() {
    for p in $(pgrep -f "search (run|resume) .*$tmp/$1"); do
        r=$(tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')
        [ "$r" = "$2" ] && echo "$p" && return 0
    done
    return 1
}
# wait_done JOURNAL N: until the journal holds N done trials (30 s at most; sqlite3 would
# create the file if asked before the search does)
wait_done() {
    i=0
    while [ ! -e "$1" ] ||
          [ "$(q "$1" "SELECT COUNT(*) FROM trial WHERE state = 'done'" 2>/dev/null || echo 0)" \
            -lt "$2" ]; do
        i=$((i + 1))
        [ "$i" -gt 300 ] && fail "$1: fewer than $2 trials done after 30 s: $(tail -3 "${1%.db}.err")"
        sleep 0.1
    done
}
done_count() { q "$1" "SELECT COUNT(*) FROM trial WHERE state = 'done'"; }
# ended FILE: rank 0's last line says the search reached its budget (mpirun --enable-recovery
# exits 0 whatever its ranks' exit codes: docs/search.md, "MPI")
ended() { grep -q "budget reached after" "$1" || fail "$1: $(tail -3 "$1")"; }

# a. completes
timeout 120 $MPIRUN "$A" search run --transport mpi --journal "$tmp/a.db" $syn --budget 30 \
    --synthetic-ms 20 > a.out 2> a.err || fail "a: exit $?: $(tail -3 a.err)"
ended a.err
[ "$(done_count a.db)" -eq 30 ] || fail "a: $(done_count a.db) of 30 trials done"
[ "$(grep -c '^trial ' a.out)" -eq 30 ] || fail "a: rank 0 should print 30 trial lines"

# b. a worker rank killed mid-run
timeout 120 $MPIRUN "$A" search run --transport mpi --journal "$tmp/b.db" $syn --budget 20 \
    --synthetic-ms 300 --lease 2 > b.out 2> b.err &
job=$!
wait_done b.db 2
p=$(pid_of b.db 1) || fail "b: no rank 1"
kill -KILL "$p"
wait "$job" || fail "b: exit $? after a worker's death: $(tail -3 b.err)"
ended b.err
[ "$(done_count b.db)" -eq 20 ] || fail "b: $(done_count b.db) of 20 trials done"
grep -q "after 20 trials .*(1 re-queued" b.err || fail "b: the dead rank's trial: $(tail -1 b.err)"

# c. the coordinator killed
timeout 120 $MPIRUN "$A" search run --transport mpi --journal "$tmp/c.db" $syn --budget 24 \
    --synthetic-ms 300 --lease 2 > c.out 2> c.err &
job=$!
wait_done c.db 4
p=$(pid_of c.db 0) || fail "c: no rank 0"
kill -KILL "$p"
t0=$(date +%s)
wait "$job"
rc=$?
[ "$rc" -ne 124 ] || fail "c: the workers did not exit after their coordinator died"
# the watchdog: 2 * lease + 10 s of silence
[ $(( $(date +%s) - t0 )) -le 40 ] || fail "c: the job took $(( $(date +%s) - t0 )) s to end"
pgrep -f "$tmp/c.db" >/dev/null && fail "c: a worker rank outlived the job"
q c.db "SELECT id, val_acc, finished FROM trial WHERE state = 'done'" | sort > c.before
[ -s c.before ] || fail "c: nothing journaled before the kill"
timeout 120 $MPIRUN "$A" search resume "$tmp/c.db" --transport mpi --synthetic-ms 300 \
    > c2.out 2> c2.err || fail "c: resume exit $?: $(tail -3 c2.err)"
ended c2.err
[ "$(done_count c.db)" -eq 24 ] || fail "c: $(done_count c.db) of 24 trials done after resume"
q c.db "SELECT id, val_acc, finished FROM trial WHERE state = 'done'" | sort > c.after
comm -23 c.before c.after | grep -q . && fail "c: a finished trial was re-run or changed"

# c2. Ctrl-C (SIGTERM to rank 0) while the workers train: a clean stop, the running trials back
# in the queue, and the job ends at once (MPI_Abort), not after the trials
timeout 120 $MPIRUN "$A" search run --transport mpi --journal "$tmp/g.db" $syn --budget 8 \
    --synthetic-ms 4000 > g.out 2> g.err &
job=$!
wait_done g.db 2
p=$(pid_of g.db 0) || fail "c2: no rank 0"
t0=$(date +%s)
kill -TERM "$p"
wait "$job"
[ $(( $(date +%s) - t0 )) -le 12 ] || fail "c2: the job took $(( $(date +%s) - t0 )) s to end: $(grep -v PMIX g.err | head -3)"
grep -q "interrupted after" g.err || fail "c2: $(tail -3 g.err)"
[ "$(q g.db "SELECT COUNT(*) FROM trial WHERE state = 'leased'")" -eq 0 ] ||
    fail "c2: leased trials left after a clean stop"
timeout 120 $MPIRUN "$A" search resume "$tmp/g.db" --transport mpi --synthetic-ms 20 \
    > g2.out 2> g2.err || fail "c2: resume exit $?"
ended g2.err
[ "$(done_count g.db)" -eq 8 ] || fail "c2: $(done_count g.db) of 8 trials done after resume"

# d. --deterministic: MPI and local give the same leaderboard
det="--fidelity synthetic --strategy evolution --set evolution.population=20
     --set evolution.tournament=5 --budget 60 --deterministic --batch 4 --seed 5 --quiet"
# shellcheck disable=SC2086
timeout 120 $MPIRUN "$A" search run --transport mpi --journal "$tmp/d1.db" $det 2> d1.err ||
    fail "d: MPI exit $?: $(tail -3 d1.err)"
ended d1.err
# shellcheck disable=SC2086
"$A" search run --journal d2.db $det --workers 1 2> d2.err || fail "d: local exit $?"
"$A" search top d1.db -k 100 --format csv > d1.top && "$A" search top d2.db -k 100 \
    --format csv > d2.top || fail "d: top"
[ "$(wc -l < d1.top)" -eq 61 ] || fail "d: 60 functions expected, got $(($(wc -l < d1.top) - 1))"
cmp -s d1.top d2.top || fail "d: MPI and local leaderboards differ: $(diff d1.top d2.top | head -4)"

# e. local -> MPI -> local
"$A" search run --journal "$tmp/e.db" $syn --budget 10 --workers 2 --quiet 2> e.err ||
    fail "e: local run"
timeout 120 $MPIRUN "$A" search resume "$tmp/e.db" --transport mpi --budget 20 --quiet \
    2> e2.err || fail "e: MPI resume exit $?: $(tail -3 e2.err)"
ended e2.err
[ "$(done_count e.db)" -eq 20 ] || fail "e: $(done_count e.db) of 20 after the MPI resume"
"$A" search resume e.db --budget 30 --workers 2 --quiet 2> e3.err || fail "e: local resume"
[ "$(done_count e.db)" -eq 30 ] || fail "e: $(done_count e.db) of 30 after the local resume"
# and finalize under MPI: the top 2 and the baselines, 2 seeds each (the found ones have the
# search's seed 3 too); only rank 0 prints, its trial lines on stderr
timeout 120 $MPIRUN "$A" search finalize "$tmp/e.db" -k 2 --seeds 2 --fidelity synthetic \
    --transport mpi --format csv > e4.out 2> e4.err || fail "e: finalize exit $?"
grep -q "all trials finished" e4.err || fail "e: finalize: $(tail -3 e4.err)"
[ "$(grep -c '^[0-9]' e4.out)" -eq 4 ] && ! grep -q '^trial' e4.out ||
    fail "e: finalize's CSV should list 4 functions and nothing else: $(cat e4.out)"

# f. a real fidelity: Fashion-MNIST, mlp
timeout 300 $MPIRUN "$A" search run --transport mpi --journal "$tmp/f.db" --fidelity mlp \
    --strategy exhaustive --budget 2 --seed-expr "max(x, 0)" --seed-expr "x*sigmoid(beta*x)" \
    > f.out 2> f.err || fail "f: exit $?: $(tail -3 f.err)"
ended f.err
[ "$(done_count f.db)" -eq 2 ] || fail "f: $(done_count f.db) of 2 trainings done"
# both seeded functions trained to better than chance on the validation split
n=$(q f.db "SELECT COUNT(*) FROM trial WHERE state = 'done' AND val_acc > 0.5")
[ "$n" -eq 2 ] || fail "f: $n of 2 trainings above 50% validation accuracy"
echo "ok"
