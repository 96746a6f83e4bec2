#!/bin/sh
# bench/search/run.sh [BUILD_DIR] -- the search's benchmark (issue 10, section 8), every ratio
# measured in this run (bench/search/README.md):
#   1. coordinator overhead: synthetic trials of 0 ms, journaled per second, 1..32 workers,
#      asynchronous and --deterministic (target >= 1000/s);
#   2. pruning: an exhaustive 1-unit synthetic search, the share of its 6,250 proposals that
#      never reach training (target >= 46%);
#   3. worker scaling at the proxy fidelity: the same candidates with 1 and 2 workers
#      (target 2 workers >= 1.8x trials per hour);
#   4. actlab search vs a plain PyTorch 1.13 loop (bench/search/torch_search.py) on the same
#      candidates, model, data and budget, at mlp, cnn and proxy (resnet:1), 1 and 2
#      processes (targets: >= 1.2x at mlp, >= 3x at cnn and resnet fidelities); with the mean
#      validation accuracy of each side (a check that both train the same thing).
# Every timed command holds /tmp/actlab-bench.lock; sides alternate (actlab, torch, ...).
# Env: N_OVERHEAD (10000 trials), WORKERS ("1 2 4 8 16 32"), REPS (2: part 1 best of),
# N_CAND (20 candidates, 10 1-unit + 10 2-unit interleaved), FIDS ("mlp cnn proxy"),
# SKIP_TORCH=1, SKIP_TRAIN=1 (parts 1 and 2 only), SKIP_OVERHEAD=1 (parts 3 and 4 only),
# KEEP=DIR (keep journals and logs there).
set -u
B=${1:-build}
cd "$(dirname "$0")/../.."
A=./$B/actlab
PY=/usr/bin/python3
LOCK=/tmp/actlab-bench.lock
N_OVERHEAD=${N_OVERHEAD:-10000}
WORKERS=${WORKERS:-"1 2 4 8 16 32"}
REPS=${REPS:-2}
N_CAND=${N_CAND:-20}
FIDS=${FIDS:-"mlp cnn proxy"}
W=${KEEP:-$(mktemp -d /tmp/actlab-search-bench.XXXXXX)}
mkdir -p "$W"
[ -x "$A" ] || { echo "no $A: make B=$B all" >&2; exit 2; }

# timed OUT CMD...: runs CMD under the lock, stdout+stderr to OUT; sets wall and cpu (user +
# system seconds of CMD and the children it waited for, the workers included).
timed() {
    out=$1
    shift
    flock "$LOCK" /usr/bin/time -f "%e %U %S" -o "$W/time" "$@" > "$out" 2>&1
    rc=$?
    wall=$(tail -1 "$W/time" | awk '{print $1}')
    cpu=$(tail -1 "$W/time" | awk '{printf "%.1f", $2 + $3}')
    return $rc
}
div() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "n/a" }'; }
per_h() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.0f", 3600 * $1 / $2; else print 0 }'; }
max() { echo "$1 $2" | awk '{print ($1 > $2) ? $1 : $2}'; }
q() { sqlite3 -separator ' ' "$@"; }

echo "actlab search benchmark, $(date -u +%Y-%m-%d) $(uname -n)"
echo "cpu: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1) x $(nproc)"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg); work dir $W"

if [ "${SKIP_OVERHEAD:-0}" != 1 ]; then
echo
echo "== 1. coordinator overhead: random 2-unit synthetic search, --synthetic-ms 0, budget" \
    "$N_OVERHEAD, best of $REPS (target >= 1000 trials/s)"
printf '%-7s %-14s %10s %8s %8s %10s\n' workers mode trials/s wall_s cpu_s trials
for w in $WORKERS; do
    for mode in async deterministic; do
        best=0 bw=0 bc=0 n=0
        r=0
        while [ "$r" -lt "$REPS" ]; do
            j=$W/ovh-$w-$mode.db
            rm -f "$j" "$j".*
            set -- --journal "$j" --fidelity synthetic --synthetic-ms 0 --strategy random \
                --units 2 --budget "$N_OVERHEAD" --workers "$w" --quiet
            [ "$mode" = deterministic ] && set -- "$@" --deterministic
            timed "$W/ovh.log" "$A" search run "$@" || echo "exit $rc: $(tail -3 "$W/ovh.log")"
            # "budget reached after N trials in T s": the run's own figure (T excludes start-up)
            n=$(sed -n 's/.* after \([0-9]*\) trials in \([0-9.]*\) s.*/\1/p' "$W/ovh.log")
            t=$(sed -n 's/.* after \([0-9]*\) trials in \([0-9.]*\) s.*/\2/p' "$W/ovh.log")
            # the rate over the span from the first proposal to the last result (the summary's
            # T has one decimal)
            span=$(q "$j" "select (select max(finished) from trial) -
                (select min(created) from proposal)")
            rate=$(echo "${n:-0} ${span:-0}" | awk '{ if ($2 > 0) printf "%.0f", $1 / $2
                else print 0 }')
            if [ "$(max "$rate" "$best")" = "$rate" ] && [ "$rate" != "$best" ]; then
                best=$rate bw=$wall bc=$cpu
            fi
            r=$((r + 1))
        done
        jt=$(q "$j" "select count(*) from trial where state = 'done'")
        [ "$jt" = "$n" ] || echo "MISMATCH: summary says $n trials, journal holds $jt done"
        printf '%-7s %-14s %10s %8s %8s %10s\n' "$w" "$mode" "$best" "$bw" "$bc" "$n"
    done
done

echo
echo "== 2. pruning: exhaustive 1-unit synthetic search (target >= 46% removed before training)"
j=$W/exh.db
rm -f "$j" "$j".*
timed "$W/exh.log" "$A" search run --journal "$j" --fidelity synthetic --synthetic-ms 0 \
    --strategy exhaustive --workers 2 --quiet || echo "exit $rc: $(tail -3 "$W/exh.log")"
tail -1 "$W/exh.log"
props=$(q "$j" "select count(*) from proposal")
trials=$(q "$j" "select count(*) from trial")
echo "proposals $props, trials $trials, wall $wall s"
echo "candidates (distinct canonical forms): $(q "$j" "select status || ' ' || count(*) \
    from candidate group by status order by status" | tr '\n' ' ')"
echo "proposals by their candidate's status: $(q "$j" "select c.status || ' ' || count(*) \
    from proposal p join candidate c on c.id = p.candidate_id group by c.status \
    order by c.status" | tr '\n' ' ')"
echo "rejections by reason: $(q "$j" "select reject_reason || ' ' || count(*) from candidate \
    where status = 'rejected' group by reject_reason order by count(*) desc" | tr '\n' ' ')"
echo "removed before training: 1 - $trials/6250 = $(echo "$trials" | \
    awk '{printf "%.1f%%", 100 * (1 - $1 / 6250)}')"

fi   # SKIP_OVERHEAD
[ "${SKIP_TRAIN:-0}" = 1 ] && exit 0

# The candidates: 1-unit functions (the paper's and common ones) interleaved with 2-unit ones
# from `actlab space sample --units 2 -n 30 --seed 3`; kept only if the filters keep them and
# their fingerprints differ, so that `--budget N` trains exactly these.
cat > "$W/cands.all" << 'EOF'
max(x, 0)
max(beta*x, softplus(x))
x*sigmoid(beta*x)
min(max(0, x), min(softplus(x), erf(x)))
tanh(x)
sin(tanh(x) + atan(x))*max(0, x)
x*tanh(softplus(x))
(beta + x)*sigmoid(x^3)
softplus(x)
beta1 + beta2*(tanh(x)*sigmoid(beta3 + x))
max(x, sigmoid(x))
beta*atan(x + cos(x)) + (x + cos(x))*(1 - beta)
cos(x) - x
exp(-(beta1*abs(beta2 + x - asinh(x))))
min(x, sin(x))
beta1*(beta2*atan(x) + (1 - beta2)*x^2)*atan(x)
max(x, tanh(x))
exp(-(beta*(x^3 - tanh(x))^2))
x + sinc(x)
sinh(x) - atan(x)
x*erf(x)
sigmoid(cosh(x)/(eps + atan(x))) - x
x*asinh(x)^2
min(x^2, cosh((beta + x)*softplus(x)))
EOF
: > "$W/cands"
: > "$W/fps"
while IFS= read -r e; do
    [ "$(wc -l < "$W/cands")" -ge "$N_CAND" ] && break
    fp=$("$A" expr fingerprint -- "$e" | awk -F'\t' '$1 == "verdict" { v = $2 }
        $1 == "fingerprint" { f = $2 } END { if (v == "kept") print f }')
    if [ -n "$fp" ] && ! grep -qx "$fp" "$W/fps"; then
        echo "$fp" >> "$W/fps"
        echo "$e" >> "$W/cands"
    else
        echo "dropped (filtered or a functional duplicate): $e"
    fi
done < "$W/cands.all"
NC=$(wc -l < "$W/cands")
set --
while IFS= read -r e; do
    set -- "$@" --seed-expr "$e"
done < "$W/cands"
SEEDS_FILE=$W/seeds
: > "$SEEDS_FILE"
for a in "$@"; do printf '%s\n' "$a" >> "$SEEDS_FILE"; done

# actlab_run FID WORKERS: the candidates as one search; sets wall, cpu, a_ok (trials done).
actlab_run() {
    fid=$1 nw=$2
    j=$W/$fid-w$nw.db
    rm -f "$j" "$j".*
    set --
    while IFS= read -r a; do set -- "$@" "$a"; done < "$SEEDS_FILE"
    timed "$W/$fid-w$nw.log" "$A" search run --journal "$j" --fidelity "$fid" --workers "$nw" \
        --budget "$NC" "$@" || echo "actlab exit $rc: $(tail -3 "$W/$fid-w$nw.log")"
    set -- "$fid" "$nw"
    nt=$(q "$j" "select count(*) from trial")
    ns=$(q "$j" "select count(distinct c.expr) from trial t join candidate c \
        on c.id = t.candidate_id")
    [ "$nt" = "$NC" ] && [ "$ns" = "$NC" ] || \
        echo "MISMATCH: $1 w$2 journal holds $nt trials of $ns candidates, wanted $NC"
    a_ok=$(q "$j" "select count(*) from trial where state = 'done'")
}

# torch_run FID PROCS: torch_search.py over the candidates, PROCS processes each taking its
# share; sets wall, cpu, t_ok.
torch_run() {
    o=$W/torch-$1-p$2
    # the model, training images and epochs of each row of orch/fidelity.c
    case $1 in
        mlp) set -- "$2" mlp:256x2 12000 2 ;;
        cnn) set -- "$2" cnn 6000 1 ;;
        proxy) set -- "$2" resnet:1 6000 1 ;;
        resnet1) set -- "$2" resnet:1 30000 3 ;;
        *) echo "torch_run: no PyTorch model for fidelity $1" >&2; exit 2 ;;
    esac
    if [ "$1" = 1 ]; then
        timed "$o.log" "$PY" bench/search/torch_search.py "$A" "$2" "$3" "$4" "$W/cands"
    else
        timed "$o.log" sh -c 'i=0; while [ $i -lt $1 ]; do "$2" bench/search/torch_search.py \
            "$3" "$4" "$5" "$6" "$7" $i $1 > "$8.part$i" 2>&1 & i=$((i + 1)); done; wait' \
            sh "$1" "$PY" "$A" "$2" "$3" "$4" "$W/cands" "$o"
        cat "$o".part* >> "$o.log"
    fi
    t_ok=$(awk -F'\t' '$1 == "torch_cand" && $3 != "nan"' "$o.log" | wc -l)
}

# The mean validation accuracy of each side over the candidates both trained without failure.
acc_compare() {
    q "$W/$1-w1.db" "select c.expr || '	' || t.val_acc from trial t join candidate c \
        on c.id = t.candidate_id where t.state = 'done'" > "$W/acc-a"
    awk -F'\t' '$1 == "torch_cand" && $3 != "nan" { print $2 "\t" $3 }' \
        "$W/torch-$1-p1.log" > "$W/acc-t"
    awk -F'\t' 'NR == FNR { a[$1] = $2; next } ($1 in a) { n++; sa += a[$1]; st += $2
        d = a[$1] - $2; if (d < 0) d = -d; if (d > md) { md = d; mx = $1 } }
        END { if (n) printf "  mean val acc on %d common candidates: actlab %.4f, torch %.4f" \
            " (max |diff| %.4f: %s)\n", n, sa / n, st / n, md, mx }' "$W/acc-a" "$W/acc-t"
}

echo
echo "== 3./4. $NC candidates ($(wc -l < "$W/cands.all") listed), trials per hour from the whole"
echo "   command's wall time (start-up and data loading included); cpu_s: user + system"
printf '%-6s %-16s %8s %8s %8s %6s\n' fid side wall_s cpu_s cand/h ok
for f in $FIDS; do
    actlab_run "$f" 1; a1w=$wall a1c=$cpu a1ok=$a_ok
    printf '%-6s %-16s %8s %8s %8s %6s\n' "$f" "actlab 1 worker" "$a1w" "$a1c" \
        "$(per_h "$NC" "$a1w")" "$a1ok"
    if [ "${SKIP_TORCH:-0}" != 1 ]; then
        torch_run "$f" 1; t1w=$wall t1c=$cpu
        printf '%-6s %-16s %8s %8s %8s %6s\n' "$f" "torch 1 proc" "$t1w" "$t1c" \
            "$(per_h "$NC" "$t1w")" "$t_ok"
    fi
    actlab_run "$f" 2; a2w=$wall a2c=$cpu
    printf '%-6s %-16s %8s %8s %8s %6s\n' "$f" "actlab 2 workers" "$a2w" "$a2c" \
        "$(per_h "$NC" "$a2w")" "$a_ok"
    echo "  $f worker scaling (3.): 2 workers / 1 = $(div "$a1w" "$a2w")x trials per hour" \
        "(target >= 1.8); cpu 2/1 = $(div "$a2c" "$a1c")"
    if [ "${SKIP_TORCH:-0}" != 1 ]; then
        torch_run "$f" 2; t2w=$wall t2c=$cpu
        printf '%-6s %-16s %8s %8s %8s %6s\n' "$f" "torch 2 procs" "$t2w" "$t2c" \
            "$(per_h "$NC" "$t2w")" "$t_ok"
        echo "  $f actlab / torch (4.): 1 process $(div "$t1w" "$a1w")x, 2 processes" \
            "$(div "$t2w" "$a2w")x in wall time; cpu $(div "$t1c" "$a1c")x," \
            "$(div "$t2c" "$a2c")x (targets: mlp >= 1.2, cnn and proxy >= 3)"
        acc_compare "$f"
    fi
done
echo "logs and journals: $W"
