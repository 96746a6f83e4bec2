#!/bin/sh
# tests/cli/train.sh -- actlab train end to end on a small Fashion-MNIST proxy: outputs
# (metrics.csv, summary.json, checkpoint), resume (the stored run, its whole record, conflicting
# flags refused), --clip, refused -p values, option errors that name the option, outputs checked
# before training, one run per directory, usage errors, --conv winograd vs gemm and
# --init torch on a cnn epoch, --init gain and lsuv (errors, the record, lsuv's resume), the
# divergence exit code, the mobile models and their width errors,
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
# the resumed run's record continues the stored one: all three epochs (issue 8, defect 5)
[ "$(wc -l < "$d/res/metrics.csv")" -eq 4 ]
head -3 "$d/res/metrics.csv" | cmp -s - "$d/run/metrics.csv"
grep -q '"resumed_epochs": 2' "$d/res/summary.json"
# summary.json's seconds cover every epoch: at least the sum of the three epochs' training time
secs=$(sed -n 's/.*"seconds": \([0-9.e-]*\).*/\1/p' "$d/res/summary.json")
awk -F, -v s="$secs" 'NR > 1 { t += $8 } END { exit !(s >= t) }' "$d/res/metrics.csv"

# --resume alone continues the stored run in its directory, the same bits as a straight run
# (defect 8): 2 epochs, kill, resume to 4 == 4 straight
"$A" train --model mlp:32x1 --epochs 2 --train-limit 2000 --test-limit 1000 --val 500 \
    --batch 100 --lr 0.05 --opt adam --seed 3 --out "$d/k" --quiet
"$A" train --resume "$d/k/checkpoint.bin" --epochs 4 --quiet
"$A" train --model mlp:32x1 --epochs 4 --train-limit 2000 --test-limit 1000 --val 500 \
    --batch 100 --lr 0.05 --opt adam --seed 3 --out "$d/k4" --quiet
cut -d, -f1-7 "$d/k/metrics.csv" > "$d/k.a"
cut -d, -f1-7 "$d/k4/metrics.csv" > "$d/k.b"
cmp "$d/k.a" "$d/k.b"
grep -q '"opt": "adam"' "$d/k/summary.json"
# the thread count and the GEMM back-end say how a machine computes the run, not which run it
# is: both may change on --resume and are recorded; the thread count does not change the bits
# (2 epochs on 2 threads, 2 more on 1 == 4 straight on 1)
"$A" train --model mlp:32x1 --epochs 2 --train-limit 2000 --test-limit 1000 --val 500 \
    --batch 100 --lr 0.05 --opt adam --seed 3 --threads 2 --out "$d/t2" --quiet
grep -q '"threads": 2' "$d/t2/summary.json"
"$A" train --resume "$d/t2/checkpoint.bin" --epochs 4 --threads 1 --quiet
cut -d, -f1-7 "$d/t2/metrics.csv" | cmp - "$d/k.b"
g=$(sed -n 's/.*"gemm": "\([a-z]*\)".*/\1/p' "$d/t2/summary.json")
[ "$g" = onednn ] || [ "$g" = openblas ]
"$A" train --resume "$d/t2/checkpoint.bin" --epochs 5 --gemm openblas --quiet
grep -q '"gemm": "openblas"' "$d/t2/summary.json"
[ "$(wc -l < "$d/t2/metrics.csv")" -eq 6 ]
set +e
ACTLAB_GEMM=mkl "$A" train --help >/dev/null 2>"$d/err"; [ $? -eq 2 ] || exit 1
grep -q "ACTLAB_GEMM=mkl: unknown back-end (valid: openblas" "$d/err" || exit 1
"$A" train --gemm mkl 2>"$d/err"; [ $? -eq 2 ] || exit 1
grep -q -- "--gemm wants openblas" "$d/err" || exit 1
set -e
# a flag that conflicts with the stored run is an error naming it; nothing is trained
set +e
for bad in "--opt sgd" "--batch 64" "--seed 4" "--lr 0.1" "--train-limit 1000" "--act swish" \
           "--clip 1"; do
    # shellcheck disable=SC2086
    "$A" train --resume "$d/k/checkpoint.bin" --epochs 6 $bad --quiet 2>"$d/err"
    [ $? -eq 2 ] || exit 1
    grep -q -- "${bad%% *} .*conflicts with the checkpoint" "$d/err" || exit 1
done
"$A" train --resume "$d/k/checkpoint.bin" --quiet 2>"$d/err"; [ $? -eq 2 ] || exit 1
grep -q "already has 4 of 4 epochs" "$d/err" || exit 1
[ "$(wc -l < "$d/k/metrics.csv")" -eq 5 ] || exit 1
set -e
# an explicit repeat of the stored value is fine
"$A" train --resume "$d/k/checkpoint.bin" --epochs 5 --batch 100 --opt adam --quiet
[ "$(wc -l < "$d/k/metrics.csv")" -eq 6 ]

# --clip is applied and recorded (defect 1): a clip of 1e-6 leaves the net near chance
"$A" train --model mlp:32x1 --epochs 1 --train-limit 2000 --val 500 --test-limit 500 \
    --lr 0.05 --clip 1e-6 --out "$d/clip" --quiet
grep -q '"clip": 1e-06' "$d/clip/summary.json"
acc=$(sed -n 's/.*"train_acc": \([0-9.]*\).*/\1/p' "$d/clip/summary.json")
awk -v a="$acc" 'BEGIN { exit !(a < 0.3) }'

# invalid activation parameters are refused before training (defect 2)
set +e
for p in "swish -p beta=nan" "acon_c -p p1=inf" "smu1 -p mu=nan" "softplus -p beta=0"; do
    # shellcheck disable=SC2086
    "$A" train --act $p --train-limit 1000 --val 500 --epochs 1 --quiet --out "$d/p" 2>"$d/err"
    [ $? -eq 2 ] || exit 1
    grep -q "is not defined at" "$d/err" || exit 1
    [ ! -e "$d/p/summary.json" ] || exit 1
done

# numeric option errors name the option (defect 11)
"$A" train --epochs 0 2>"$d/err"; grep -q -- "--epochs wants an integer" "$d/err" || exit 1
"$A" compare --seeds 0 2>"$d/err"; grep -q -- "--seeds wants an integer" "$d/err" || exit 1
"$A" train --lr abc 2>"$d/err"; grep -q -- "--lr wants a number" "$d/err" || exit 1

# outputs are checked before any data is read or epoch trained (defect 13)
: > "$d/afile"
"$A" train --out "$d/afile" --quiet 2>"$d/err"; [ $? -eq 1 ] || exit 1
grep -q "not a directory" "$d/err" || exit 1
"$A" train --out "$d/afile/sub" --quiet 2>"$d/err"; [ $? -eq 1 ] || exit 1
"$A" train --out "" --quiet 2>"$d/err"; [ $? -ne 0 ] || exit 1
grep -q -- "--out .*empty" "$d/err" || exit 1

# one run per directory (defect 7): a second run on a directory in use is refused, the first
# finishes and its record is whole
"$A" train --model mlp:32x1 --epochs 3 --train-limit 20000 --val 500 --test-limit 500 \
    --out "$d/busy" --quiet &
pid=$!
i=0
while [ ! -s "$d/busy/.actlab.lock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
"$A" train --model mlp:32x1 --epochs 1 --train-limit 1000 --val 500 --out "$d/busy" \
    --quiet 2>"$d/err"
rc=$?
wait $pid || exit 1
[ $rc -eq 1 ] || exit 1
grep -q "in use by another actlab run (pid $pid)" "$d/err" || exit 1
[ "$(wc -l < "$d/busy/metrics.csv")" -eq 4 ] || exit 1
grep -q '"epochs": 3' "$d/busy/summary.json" || exit 1
ls -A "$d/busy" | grep -q -e tmp -e "^\.checkpoint" -e "^\.metrics" -e "^\.summary" && exit 1
set -e

# the mobile models (issue 12): shufflenetv2:0.5 and tfnet with ACON-FReLU train a short epoch
# on 28x28 images; a width multiplier outside the papers' is a usage error naming the valid ones
"$A" train --model shufflenetv2:0.5 --epochs 1 --train-limit 300 --test-limit 200 --val 100 \
    --batch 50 --quiet --out "$d/shuf"
grep -q '"model": "shufflenetv2:0.5"' "$d/shuf/summary.json"
grep -q '"status": "ok"' "$d/shuf/summary.json"
"$A" train --model tfnet --act acon_frelu --epochs 1 --train-limit 300 --test-limit 200 \
    --val 100 --batch 50 --quiet --out "$d/tfnet"
grep -q '"status": "ok"' "$d/tfnet/summary.json"
set +e
"$A" train --model shufflenetv2:0.3 --quiet 2>"$d/err"; [ $? -eq 2 ] || exit 1
grep -q "shufflenetv2:W with W one of 0.5, 1.0, 1.5, 2.0" "$d/err" || exit 1
"$A" train --model mobilenet:x --quiet 2>"$d/err"; [ $? -eq 2 ] || exit 1
grep -q "mobilenet:ALPHA with ALPHA one of 0.25, 0.5, 0.75, 1.0" "$d/err" || exit 1
"$A" train --model nonsense --quiet 2>"$d/err"; [ $? -eq 2 ] || exit 1
grep -q "shufflenetv2:W, mobilenet:ALPHA, tfnet\[:W\]" "$d/err" || exit 1
set -e

# usage errors exit 2
set +e
"$A" train --model nonsense --quiet >/dev/null 2>&1; [ $? -eq 2 ] || exit 1
"$A" train --act no_such_act --quiet >/dev/null 2>&1; [ $? -eq 2 ] || exit 1
"$A" train --epochs 0 >/dev/null 2>&1; [ $? -eq 2 ] || exit 1
"$A" train --conv fft --quiet 2>&1 | grep -q "auto, gemm or winograd" || exit 1
"$A" train --conv fft --quiet >/dev/null 2>&1; [ $? -eq 2 ] || exit 1
"$A" train --init xavier --quiet >/dev/null 2>&1; [ $? -eq 2 ] || exit 1
"$A" train --init bogus --quiet 2>&1 | grep -q "he, torch, gain or lsuv, not 'bogus'" || exit 1
"$A" train --init bogus --quiet >/dev/null 2>&1; [ $? -eq 2 ] || exit 1
"$A" compare --init bogus --quiet >/dev/null 2>&1; [ $? -eq 2 ] || exit 1
# gain integrates an activation function: a layer activation is refused, pointing at lsuv
"$A" train --act meta_acon --init gain --epochs 1 --train-limit 500 --val 100 --quiet 2>&1 |
    grep -q "use lsuv" || exit 1
"$A" train --act meta_acon --init gain --epochs 1 --train-limit 500 --val 100 --quiet \
    >/dev/null 2>&1; [ $? -eq 2 ] || exit 1
# the matched initialisations are recorded; lsuv runs once, before training: 1 epoch + resume
# gives the numbers of 2 epochs straight
for i in gain lsuv; do
    "$A" train --model mlp:32x3 --act silu --init $i --epochs 2 --train-limit 1500 \
        --test-limit 500 --val 500 --quiet --out "$d/init_$i" >/dev/null 2>&1 || exit 1
    grep -q "\"init\": \"$i\"" "$d/init_$i/summary.json" || exit 1
done
"$A" train --model mlp:32x3 --act silu --init lsuv --epochs 1 --train-limit 1500 \
    --test-limit 500 --val 500 --quiet --out "$d/lsuv1" >/dev/null 2>&1 || exit 1
"$A" train --model mlp:32x3 --act silu --init lsuv --epochs 2 --train-limit 1500 \
    --test-limit 500 --val 500 --quiet --resume "$d/lsuv1/checkpoint.bin" --out "$d/lsuv2" \
    >/dev/null 2>&1 || exit 1
[ "$(cut -d, -f1-7 "$d/lsuv2/metrics.csv")" = "$(cut -d, -f1-7 "$d/init_lsuv/metrics.csv")" ] ||
    exit 1
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

# compare: an expression with commas is one activation (defect 10)
"$A" compare --acts 'relu,expr:max(x, 0)' --seeds 1 --model mlp:16x1 --epochs 1 \
    --train-limit 1000 --test-limit 500 --val 500 --lr 0.05 --out "$d/cmpx" > "$d/cmpx.txt"
grep -q "^expr:max(x, 0) " "$d/cmpx.txt"
[ -f "$d/cmpx/expr:max_x__0_-seed1/summary.json" ]
# an expression result equals the built-in it spells
r=$(awk '$1 == "relu" && $3 == "+-" { print $2 }' "$d/cmpx.txt")
e=$(awk '$1 == "expr:max(x," && $4 == "+-" { print $3 }' "$d/cmpx.txt")
[ -n "$r" ] && [ "$r" = "$e" ]

# compare: table with mean +- std, csv and plots
"$A" compare --acts relu,swish --seeds 2 --model mlp:16x1 --epochs 1 --train-limit 1000 \
    --test-limit 500 --val 500 --lr 0.05 --out "$d/cmp" > "$d/cmp.txt"
grep -q "swish .*+-" "$d/cmp.txt"
[ -s "$d/cmp/curves.svg" ] && [ -s "$d/cmp/bars.png" ] && [ -s "$d/cmp/compare.csv" ]
