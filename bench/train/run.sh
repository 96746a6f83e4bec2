#!/bin/sh
# bench/train/run.sh [BUILD_DIR] -- training throughput, actlab vs PyTorch 1.13, side by side in
# one run: the same models (mlp:512x2, mlp:256x20, mlp:128x50,bn, cnn, resnet:3, and the mobile
# models shufflenetv2:0.5, mobilenet:0.25, tfnet), batch 128, SGD momentum 0.9, relu (ACT=acon_frelu
# MODELS=tfnet: the ACON paper's TFNet), with 1 and 2 threads, interleaved (actlab, torch, ...) so
# load changes hit both; each side's figure is the best of REPS (3) alternating runs (single runs
# on this shared VM moved by up to 1.6x at 2 threads).
# actlab: one OpenMP pool, its GEMM back-end (oneDNN by default, ACTLAB_GEMM) one thread per
# call. PyTorch: torch.set_num_threads(T) with
# OPENBLAS_NUM_THREADS=1 and =T (its default); the better of the two is compared.
# Two figures each: images per wall second, and images per process CPU second (robust when other
# jobs share the cores; for 1 thread it is the uncontended speed). PROFILE=1 adds actlab's
# per-layer forward/backward profile. BATCHES=N times N batches per run for every model (a quick
# check that the lines come out; the figures want the defaults).
set -u
B=${1:-build}
cd "$(dirname "$0")/../.."
ACT=${ACT:-relu}
MODELS=${MODELS:-"mlp:512x2 mlp:256x20 mlp:128x50,bn cnn resnet:3 shufflenetv2:0.5 mobilenet:0.25 tfnet"}
THREADS=${THREADS:-"1 2"}
REPS=${REPS:-3}
get() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
max() { echo "$1 $2" | awk '{print ($1 > $2) ? $1 : $2}'; }
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "n/a" }'; }
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-16s %-3s %10s %10s %10s %10s %7s %7s\n' model thr actlab/s actlab/cpu torch/s \
    torch/cpu x_wall x_cpu
for m in $MODELS; do
    case $m in mlp:512x2) n=100 ;; mlp:256x20|mlp:128x50,bn) n=60 ;; cnn) n=12 ;; *) n=8 ;; esac
    n=${BATCHES:-$n}
    for t in $THREADS; do
        aw=0 ac=0 pw=0 pc=0
        r=0
        while [ "$r" -lt "$REPS" ]; do   # the best of REPS alternating runs, for both sides
            o=$("./$B/actlab" train --model "$m" --act "$ACT" --threads "$t" --bench "$n" --lr 0.01 --val 0)
            gemm=$(echo "$o" | sed -n 's/.* gemm=\([a-z]*\).*/\1/p')
            aw=$(max "$aw" "$(echo "$o" | get images_per_s)")
            ac=$(max "$ac" "$(echo "$o" | get images_per_cpu_s)")
            for ob in 1 "$t"; do
                o=$(OPENBLAS_NUM_THREADS=$ob /usr/bin/python3 bench/train/torch_bench.py "$m" "$ACT" "$t" "$n")
                pw=$(max "$pw" "$(echo "$o" | get images_per_s)")
                pc=$(max "$pc" "$(echo "$o" | get images_per_cpu_s)")
            done
            r=$((r + 1))
        done
        printf '%-16s %-3s %10s %10s %10s %10s %7s %7s\n' "$m" "$t" "$aw" "$ac" "$pw" "$pc" \
            "$(ratio "$aw" "$pw")" "$(ratio "$ac" "$pc")"
        if [ "${PROFILE:-0}" = 1 ]; then
            "./$B/actlab" train --model "$m" --act "$ACT" --threads "$t" --bench "$n" --lr 0.01 \
                --val 0 --profile | sed -n '/^profile/,$p'
        fi
    done
done
echo "x = actlab / the better PyTorch configuration (target >= 1.5); actlab GEMM back-end: ${gemm:-?}"
echo "(ACTLAB_GEMM=openblas|onednn picks it; the default is oneDNN where built in)"
