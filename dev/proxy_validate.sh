#!/bin/sh
# dev/proxy_validate.sh [BUILD_DIR] [OUT_DIR] -- the measurement behind the search's default proxy
# fidelity (issue 10): does a cheap training run rank activation functions like a 5-10x more
# expensive one? 40 random distinct 1-unit functions (seeded draw among the kept, deduplicated
# representatives of `actlab space enumerate --filter --dedup`) plus known-good (relu, swish,
# max(x, sigmoid(x)), gelu-like) and known-poor ones are trained at each fidelity below with
# `actlab train` (validation accuracy, never the test set, decides), 2 seeds each, per-channel
# beta as in the paper. Resumable: OUT/results.csv gets one row per finished run and a rerun
# skips what is there, so it runs in chunks across sessions (kill it any time).
# Then:  /usr/bin/python3 dev/proxy_report.py OUT/results.csv   (Spearman of each fidelity
# against the reference, seed noise, known-good vs known-poor).
set -u
B=${1:-build}
OUT=${2:-dev/proxy}
A="./$B/actlab"
cd "$(dirname "$0")/.."
[ -x "$A" ] || { echo "proxy_validate: $A not built" >&2; exit 1; }
mkdir -p "$OUT"
CANDS="$OUT/candidates.txt"
RES="$OUT/results.csv"

if [ ! -s "$CANDS" ]; then
    "$A" space enumerate --units 1 --filter --dedup -o "$OUT/enum.csv" >/dev/null || exit 1
    # kept representatives (id == rep), a seeded shuffle, the first 40
    awk -F'"' 'NR > 1 { split($1, a, ","); n = split($NF, b, ","); if (b[2] == "kept" && a[1] == b[4]) print $4 }' \
        "$OUT/enum.csv" |
        awk 'BEGIN { srand(20261207) } { print rand() "\t" $0 }' | sort -k1,1 | cut -f2- |
        head -40 > "$CANDS.tmp"
    {
        echo "known-good	max(x, 0)"
        echo "known-good	x*sigmoid(beta*x)"
        echo "known-good	max(x, sigmoid(x))"
        echo "known-good	x*sigmoid(1.702*x)"
        echo "known-poor	sin(x)"
        echo "known-poor	x"
        echo "known-poor	cos(x)"
        echo "known-poor	exp(-x^2)"
        sed 's/^/random	/' "$CANDS.tmp"
    } > "$CANDS"
    rm -f "$CANDS.tmp" "$OUT/enum.csv"
fi
[ -s "$RES" ] || echo "fidelity,seed,kind,expr,status,val_acc,test_acc,seconds" > "$RES"

# name | actlab train arguments
FIDELITIES="mlp12k2|--model mlp:256x2 --train-limit 12000 --epochs 2
cnn6k1|--model cnn --train-limit 6000 --epochs 1
resnet1_6k1|--model resnet:1 --train-limit 6000 --epochs 1
ref_resnet1_30k3|--model resnet:1 --train-limit 30000 --epochs 3"

echo "$FIDELITIES" | while IFS='|' read -r fid args; do
    for seed in 1 2; do
        while IFS='	' read -r kind expr; do
            key="$fid,$seed,$kind,\"$expr\","
            grep -qF -- "$key" "$RES" && continue
            d=$(mktemp -d)
            # shellcheck disable=SC2086
            "$A" train $args --act "expr:$expr" --per-channel on --seed "$seed" --threads 1 \
                --test-limit 5000 --quiet --out "$d" >/dev/null 2>"$d/err"
            st=$(sed -n 's/.*"status": "\([a-z_]*\)".*/\1/p' "$d/summary.json" 2>/dev/null)
            va=$(sed -n 's/.*"val_acc": \([0-9.eE+-]*\).*/\1/p' "$d/summary.json" 2>/dev/null)
            ta=$(sed -n 's/.*"test_acc": \([0-9.eE+-]*\).*/\1/p' "$d/summary.json" 2>/dev/null)
            sec=$(sed -n 's/.*"seconds": \([0-9.eE+-]*\).*/\1/p' "$d/summary.json" 2>/dev/null)
            [ -n "$st" ] || st="error:$(head -c 80 "$d/err" | tr ',\n' ';;')"
            echo "$key$st,${va:-nan},${ta:-nan},${sec:-nan}" >> "$RES"
            rm -rf "$d"
        done < "$CANDS"
    done
done
