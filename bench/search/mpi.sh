#!/bin/sh
# bench/search/mpi.sh [BUILD_DIR] -- the MPI transport's benchmark (issue 11, section 4), every
# ratio measured in this run against the local transport (bench/search/README.md):
#   1. the coordinator under MPI: synthetic trials of 0 and 5 ms, journaled per second, with
#      32 and 64 worker ranks oversubscribed on this machine, next to as many local worker
#      processes (target >= 1000 trials/s);
#   2. trials per hour at the proxy fidelity, 1 and 2 workers, MPI next to local on the same
#      candidates, alternating (target: MPI no slower than local by more than 5%).
# Every timed command holds /tmp/actlab-bench.lock. Env: N_SYN (4000 trials), RANKS ("32 64"
# workers), SYN_MS ("0 5"), N_CAND (12), REPS (2: part 2, best of, alternating), SKIP_SYN=1,
# SKIP_PROXY=1, KEEP=DIR (keep journals and logs).
set -u
B=${1:-build}
cd "$(dirname "$0")/../.."
A=$(pwd)/$B/actlab
LOCK=/tmp/actlab-bench.lock
N_SYN=${N_SYN:-4000}
RANKS=${RANKS:-"32 64"}
SYN_MS=${SYN_MS:-"0 5"}
N_CAND=${N_CAND:-12}
REPS=${REPS:-2}
W=${KEEP:-$(mktemp -d /tmp/actlab-mpi-bench.XXXXXX)}
mkdir -p "$W"
[ -x "$A" ] || { echo "no $A: make B=$B all" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "no mpirun: scripts/install-deps.sh" >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN="mpirun --oversubscribe --enable-recovery"
q() { sqlite3 -separator ' ' "$@"; }
div() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.3f", $1 / $2; else print "n/a" }'; }

# timed OUT CMD...: under the lock, output to OUT; sets wall (seconds).
timed() {
    out=$1
    shift
    flock "$LOCK" /usr/bin/time -f "%e" -o "$W/time" "$@" > "$out" 2>&1
    rc=$?
    wall=$(tail -1 "$W/time")
    return $rc
}
# rate JOURNAL: finished trials per second from the first proposal to the last result
rate() {
    q "$1" "select printf('%.0f', count(*) / ((select max(finished) from trial) -
        (select min(created) from proposal))) from trial where state = 'done'"
}
# ok LOG N: the run's last line says N trials finished (mpirun --enable-recovery exits 0
# whatever the search did)
ok() { grep -q "after $2 trials" "$1" || echo "  FAILED: $(tail -2 "$1" | tr '\n' ' ')"; }

echo "actlab search MPI benchmark, $(date -u +%Y-%m-%d) $(uname -n), $(mpirun --version | head -1)"
echo "cpu: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1) x $(nproc)"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg); work dir $W"
if [ "${SKIP_SYN:-0}" != 1 ]; then
echo
echo "== 1. coordinator: random 2-unit synthetic search, budget $N_SYN, trials/s journaled"
echo "   (first proposal to last result; target >= 1000 under MPI)"
printf '%-8s %-6s %12s %12s %8s\n' workers ms mpi/s local/s mpi/local
for n in $RANKS; do
    for ms in $SYN_MS; do
        set -- --fidelity synthetic --synthetic-ms "$ms" --strategy random --units 2 \
            --budget "$N_SYN" --quiet
        jm=$W/syn-mpi-$n-$ms.db jl=$W/syn-local-$n-$ms.db
        rm -f "$jm" "$jm".* "$jl" "$jl".*
        timed "$W/syn-mpi.log" $MPIRUN -np $((n + 1)) "$A" search run --transport mpi \
            --journal "$jm" "$@"
        ok "$W/syn-mpi.log" "$N_SYN"
        timed "$W/syn-local.log" "$A" search run --journal "$jl" --workers "$n" "$@"
        ok "$W/syn-local.log" "$N_SYN"
        rm_=$(rate "$jm") rl=$(rate "$jl")
        printf '%-8s %-6s %12s %12s %8s\n' "$n" "$ms" "$rm_" "$rl" "$(div "$rm_" "$rl")"
    done
done

fi   # SKIP_SYN
[ "${SKIP_PROXY:-0}" = 1 ] && exit 0

# The candidates: distinct kept 1-unit functions, trained as one search each time.
set --
k=0
for e in "max(x, 0)" "x*sigmoid(beta*x)" "max(x, sigmoid(x))" "x*tanh(softplus(x))" \
    "softplus(x)" "tanh(x)" "max(x, tanh(x))" "x*erf(x)" "min(x, sin(x))" "x + sinc(x)" \
    "max(beta*x, softplus(x))" "cos(x) - x" "x*asinh(x)^2" "sinh(x) - atan(x)"; do
    [ "$k" -ge "$N_CAND" ] && break
    set -- "$@" --seed-expr "$e"
    k=$((k + 1))
done
echo
echo "== 2. proxy fidelity (resnet:1, 6k images, 1 epoch), $k candidates, trials per hour from"
echo "   the whole command's wall time (start-up included), best of $REPS, local and MPI"
echo "   alternating; target: MPI >= 0.95x local"
printf '%-8s %10s %10s %10s %10s %10s\n' workers mpi_s local_s mpi/h local/h mpi/local
best() { if [ -z "$1" ]; then echo "$2"; else echo "$1 $2" | awk '{ print ($2 < $1) ? $2 : $1 }'; fi; }
for n in 1 2; do
    jm=$W/proxy-mpi-$n.db jl=$W/proxy-local-$n.db
    wl="" wm=""
    r=0
    while [ "$r" -lt "$REPS" ]; do
        rm -f "$jm" "$jm".* "$jl" "$jl".*
        timed "$W/proxy-local-$n.log" "$A" search run --journal "$jl" --fidelity proxy \
            --workers "$n" --budget "$k" --quiet "$@"
        ok "$W/proxy-local-$n.log" "$k"
        wl=$(best "$wl" "$wall")
        timed "$W/proxy-mpi-$n.log" $MPIRUN -np $((n + 1)) "$A" search run --transport mpi \
            --journal "$jm" --fidelity proxy --budget "$k" --quiet "$@"
        ok "$W/proxy-mpi-$n.log" "$k"
        wm=$(best "$wm" "$wall")
        r=$((r + 1))
    done
    # both trained the same functions to the same accuracies (same seeds, same code)
    same=$(q "$jm" "attach '$jl' as l; select count(*) from trial t join candidate c
        on c.id = t.candidate_id join l.candidate lc on lc.canon = c.canon join l.trial lt
        on lt.candidate_id = lc.id where t.val_acc = lt.val_acc")
    printf '%-8s %10s %10s %10.0f %10.0f %10s   (%s of %s results bit-identical)\n' "$n" \
        "$wm" "$wl" "$(echo "$k $wm" | awk '{print 3600 * $1 / $2}')" \
        "$(echo "$k $wl" | awk '{print 3600 * $1 / $2}')" "$(div "$wl" "$wm")" "$same" "$k"
done
