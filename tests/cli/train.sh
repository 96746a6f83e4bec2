#!/bin/sh
# tests/cli/train.sh -- actlab train end to end on a small Fashion-MNIST proxy: outputs
# (metrics.csv, summary.json, checkpoint), resume, usage errors, --conv winograd vs gemm and
# --init torch on a cnn epoch, the divergence exit code,
# a corrupt data file named in the error, and compare's table and plots.
set -eu
A=${ACTLAB:-./build/actlab}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT

"$A" train --help | grep -q -- "--model"
"$A" compare --help | grep -q -- "--acts"

# a short run writes one metrics row per epoch and a summary with the configuration
"$A" train --model mlp:32x1 --epochs 2 --train-limit 2000 --test-limit 1000 --val 500 \
    --batch 100 --lr 0.05 --out "$d/run" --quiet
[ "$(wc -l < "$d/run/metrics.csv")" -eq 3 ]
grep -q '"status": "ok"' "$d/run/summary.json"
grep -q '"epochs": 2' "$d/run/summary.json"
grep -q '"model": "mlp:32x1"' "$d/run/summary.json"
acc=$(sed -n 's/.*"test_acc": \([0-9.]*\).*/\1/p' "$d/run/summary.json")
awk -v a="$acc" 'BEGIN { exit !(a > 0.6) }'
[ -f "$d/run/checkpoint.bin" ]

# resume the 2-epoch checkpoint for a third epoch
"$A" train --model mlp:32x1 --epochs 3 --train-limit 2000 --test-limit 1000 --val 500 \
    --batch 100 --lr 0.05 --resume "$d/run/checkpoint.bin" --out "$d/res" --quiet
grep -q '"epochs": 3' "$d/res/summary.json"
[ "$(wc -l < "$d/res/metrics.csv")" -eq 2 ]

# usage errors exit 2
set +e
"$A" train --model nonsense --quiet >/dev/null 2>&1; [ $? -eq 2 ] || exit 1
"$A" train --act no_such_act --quiet >/dev/null 2>&1; [ $? -eq 2 ] || exit 1
"$A" train --epochs 0 >/dev/null 2>&1; [ $? -eq 2 ] || exit 1
"$A" train --conv fft --quiet 2>&1 | grep -q "auto, gemm or winograd" || exit 1
"$A" train --conv fft --quiet >/dev/null 2>&1; [ $? -eq 2 ] || exit 1
"$A" train --init xavier --quiet >/dev/null 2>&1; [ $? -eq 2 ] || exit 1
# the same small cnn epoch with Winograd and with the plain sums (from the same initial
# weights, PyTorch's init): both train, the choices are recorded, and the losses agree
for c in winograd gemm; do
    "$A" train --model cnn --epochs 1 --train-limit 1500 --test-limit 500 --val 500 \
        --init torch --conv $c --quiet --out "$d/cv_$c" >/dev/null 2>&1 || exit 1
    grep -q "\"conv\": \"$c\"" "$d/cv_$c/summary.json" || exit 1
    grep -q '"init": "torch"' "$d/cv_$c/summary.json" || exit 1
done
lw=$(sed -n 's/.*"train_loss": \([0-9.]*\).*/\1/p' "$d/cv_winograd/summary.json")
lg=$(sed -n 's/.*"train_loss": \([0-9.]*\).*/\1/p' "$d/cv_gemm/summary.json")
awk -v a="$lw" -v b="$lg" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d < 0.01 * b) }' || exit 1
# a huge learning rate diverges: exit 3 and status "diverged"
"$A" train --model mlp:32x1 --epochs 1 --train-limit 2000 --val 500 --lr 90 --quiet \
    --out "$d/div" >/dev/null 2>&1
[ $? -eq 3 ] || exit 1
grep -q '"status": "diverged"' "$d/div/summary.json" || exit 1
# a truncated data file is named in the error, exit 1
mkdir "$d/bad"
printf '\000\000\010\003\000\000\000\002' > "$d/bad/train-images-idx3-ubyte"
"$A" train --data-dir "$d/bad" --quiet 2>"$d/err"; [ $? -eq 1 ] || exit 1
grep -q "train-images-idx3-ubyte" "$d/err" || exit 1
set -e

# compare: table with mean +- std, csv and plots
"$A" compare --acts relu,swish --seeds 2 --model mlp:16x1 --epochs 1 --train-limit 1000 \
    --test-limit 500 --val 500 --lr 0.05 --out "$d/cmp" > "$d/cmp.txt"
grep -q "swish .*+-" "$d/cmp.txt"
[ -s "$d/cmp/curves.svg" ] && [ -s "$d/cmp/bars.png" ] && [ -s "$d/cmp/compare.csv" ]
