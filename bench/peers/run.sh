#!/bin/sh
# bench/peers/run.sh BUILD_DIR -- actlab side by side with PyTorch 1.13 (ATEN_CPU_CAPABILITY=avx512
# and the default) and oneDNN 2.6, in one run, interleaved per (size, thread count): for each,
# `actlab bench --csv`, torch_act.py twice, onednn_act. Then report.py prints the ratio table and
# PASS/MISS per target of the issue. A benchmark: never fails the build (exit 0 unless a tool is
# missing or BUILD_DIR/actlab does not run).
# Settings (environment): SIZES="16 20 24" THREADS="1 2" ROUNDS=1 MIN_MS=25 REPS=5 REPS_LARGE=3
#   ACTS="relu silu ..." PYTHON=/usr/bin/python3; QUICK=1 = a smoke run (sizes 12 16, 1 thread,
#   2 ms reps). Results: BUILD_DIR/peers/results.csv and BUILD_DIR/peers/report.txt.
set -u
B=${1:-build}
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
if [ "${QUICK:-0}" = 1 ]; then
    SIZES=${SIZES:-"12 16"} THREADS=${THREADS:-1} MIN_MS=${MIN_MS:-2} REPS=${REPS:-1}
    REPS_LARGE=${REPS_LARGE:-1}
fi
SIZES=${SIZES:-"16 20 24"}
THREADS=${THREADS:-"1 2"}
ROUNDS=${ROUNDS:-1}
MIN_MS=${MIN_MS:-25}
REPS=${REPS:-5}
REPS_LARGE=${REPS_LARGE:-3}
ACTS=${ACTS:-"relu leaky_relu prelu elu selu celu softplus sigmoid tanh hardsigmoid hardswish relu6 silu gelu gelu_tanh mish acon_c smu"}

OUT="$B/peers"
mkdir -p "$OUT"
CSV="$OUT/results.csv"
REPORT="$OUT/report.txt"

[ -x "$B/actlab" ] || { echo "run.sh: $B/actlab not built (make all)" >&2; exit 1; }
if ! cc -O2 -std=c11 -D_GNU_SOURCE -fopenmp bench/peers/onednn_act.c -o "$OUT/onednn_act" -ldnnl; then
    echo "run.sh: cannot build the oneDNN driver (libdnnl-dev missing? scripts/install-deps.sh --bench)" >&2
    exit 1
fi
"$PY" -c 'import torch' 2>/dev/null || {
    echo "run.sh: $PY cannot import torch (python3-torch missing? scripts/install-deps.sh --bench)" >&2
    exit 1; }

{
    echo "# actlab vs PyTorch vs oneDNN, $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "# host: $(uname -srm); cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(nproc) cpus; load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# torch $("$PY" -c 'import torch; print(torch.__version__)'), oneDNN $(dpkg-query -W -f='${Version}' libdnnl2 2>/dev/null || echo '?'), $(cc --version | head -n 1)"
    echo "# sizes 2^{$SIZES}, threads {$THREADS}, rounds $ROUNDS, min $MIN_MS ms x $REPS reps ($REPS_LARGE at >= 2^22); interleaved per (size, threads)"
} | tee "$REPORT"

echo "impl,activation,dir,log2n,threads,ns_per_elem,label,bound_ns" > "$CSV"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
fails=0
r=1
while [ "$r" -le "$ROUNDS" ]; do
    for t in $THREADS; do
        for n in $SIZES; do
            echo "round $r, 2^$n, $t thread(s): actlab" >&2
            reps=$REPS
            [ "$n" -ge 22 ] && reps=$REPS_LARGE
            # shellcheck disable=SC2086
            if ! "$B/actlab" bench --sizes "$n" --threads "$t" --min-ms "$MIN_MS" --reps "$reps" \
                    --csv "$tmp" $ACTS >/dev/null; then
                fails=1
            fi
            # activation,dir,log2n,threads,isa,ns,gbps,bound_ns,frac,valid,err
            awk -F, 'NR > 1 { print "actlab," $1 "," $2 "," $3 "," $4 "," $6 "," $5 "," $8 }' \
                "$tmp" >> "$CSV"
            for cap in avx512 default; do
                echo "round $r, 2^$n, $t thread(s): torch $cap" >&2
                if [ "$cap" = avx512 ]; then
                    env ATEN_CPU_CAPABILITY=avx512 OMP_NUM_THREADS="$t" "$PY" bench/peers/torch_act.py \
                        --threads "$t" --sizes "$n" --min-ms "$MIN_MS" --reps "$REPS" \
                        --reps-large "$REPS_LARGE" --label avx512 $ACTS >> "$CSV"
                else
                    env -u ATEN_CPU_CAPABILITY OMP_NUM_THREADS="$t" "$PY" bench/peers/torch_act.py \
                        --threads "$t" --sizes "$n" --min-ms "$MIN_MS" --reps "$REPS" \
                        --reps-large "$REPS_LARGE" --label default $ACTS >> "$CSV"
                fi
            done
            echo "round $r, 2^$n, $t thread(s): oneDNN" >&2
            # shellcheck disable=SC2086
            OMP_NUM_THREADS="$t" "$OUT/onednn_act" --sizes "$n" --min-ms "$MIN_MS" --reps "$REPS" \
                --reps-large "$REPS_LARGE" $ACTS >> "$CSV"
        done
    done
    r=$((r + 1))
done

"$PY" bench/peers/report.py "$CSV" | tee -a "$REPORT"
[ "$fails" -eq 0 ] || echo "WARNING: actlab bench reported kernels failing validation (FAIL cells)" | tee -a "$REPORT"
echo "results: $CSV, report: $REPORT"
exit 0
