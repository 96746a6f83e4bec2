#!/bin/sh
# bench/train/run.sh [BUILD_DIR] -- training throughput, actlab vs PyTorch 1.13, side by side in
# one run: the same models (mlp:512x2, mlp:256x20, cnn, resnet:3), batch 128, SGD momentum 0.9,
# relu, with 1 and 2 threads, interleaved (actlab, torch, actlab, torch) so load changes hit both.
# actlab: one OpenMP pool, OpenBLAS single-threaded. PyTorch: torch.set_num_threads(T) and
# OPENBLAS_NUM_THREADS=1 (its best-behaved setting, reference/performance.md section 8) as well
# as its default OPENBLAS_NUM_THREADS=T. PROFILE=1 adds actlab's per-layer profile.
set -u
B=${1:-build}
cd "$(dirname "$0")/../.."
ACT=${ACT:-relu}
MODELS=${MODELS:-"mlp:512x2 mlp:256x20 cnn resnet:3"}
THREADS=${THREADS:-"1 2"}
printf '%-11s %-3s %12s %12s %12s %8s\n' model thr actlab_img/s torch_b1 torch_bT ratio
for m in $MODELS; do
    case $m in mlp:512x2) n=100 ;; mlp:256x20) n=60 ;; cnn) n=12 ;; *) n=8 ;; esac
    for t in $THREADS; do
        a=$("./$B/actlab" train --model "$m" --act "$ACT" --threads "$t" --bench "$n" --lr 0.01 \
            --val 0 | sed -n 's/.*images_per_s=\([0-9.]*\).*/\1/p')
        p1=$(OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/train/torch_bench.py "$m" "$ACT" "$t" "$n" \
            | sed -n 's/.*images_per_s=\([0-9.]*\).*/\1/p')
        pT=$(OPENBLAS_NUM_THREADS=$t /usr/bin/python3 bench/train/torch_bench.py "$m" "$ACT" "$t" "$n" \
            | sed -n 's/.*images_per_s=\([0-9.]*\).*/\1/p')
        best=$(echo "$p1 $pT" | awk '{print ($1 > $2) ? $1 : $2}')
        ratio=$(echo "$a $best" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "n/a" }')
        printf '%-11s %-3s %12s %12s %12s %8s\n' "$m" "$t" "$a" "$p1" "$pT" "$ratio"
        if [ "${PROFILE:-0}" = 1 ]; then
            "./$B/actlab" train --model "$m" --act "$ACT" --threads "$t" --bench "$n" --lr 0.01 \
                --val 0 --profile | sed -n '/^profile/,$p'
        fi
    done
done
echo "ratio = actlab / best PyTorch configuration (target >= 1.5)"
