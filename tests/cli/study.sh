#!/bin/sh
# tests/cli/study.sh -- actlab study end to end on tiny studies: a study runs, is killed with -9
# mid-way and resumed without training a finished unit again; --jobs changes no summary; the
# report's Markdown numbers (mean, 95% t interval, paired difference to relu) recomputed here
# from the unit summaries;
# bad configurations named by file:line with the valid keys (exit 2); the committed studies
# parse in both variants; the HTML report rendered by headless Chromium (not blank, every figure
# decoded, no console errors).
set -eu
A=${ACTLAB:-./build/actlab}
d=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$d"' EXIT

"$A" study --help | grep -q "study run STUDY"
"$A" study run --help | grep -q -- "--quick"

# the committed studies parse, full and quick
for s in depth mobile tfnet beta beta_long search; do
    "$A" study run "$s" --dry-run > "$d/dry" && grep -q "(full)" "$d/dry"
    "$A" study run "$s" --quick --dry-run > "$d/dry" && grep -q "(quick)" "$d/dry"
done
"$A" study run depth --dry-run | grep -q "1440 units"

# --- a tiny study: its report's numbers, recomputed from the unit summaries
cat > "$d/tiny.conf" <<'CONF'
title = tiny
claim = none
budget = seconds
acts = relu swish
models = mlp:16x1 mlp:16x2
seeds = 3
lr = 0.05
epochs = 2
train_images = 1000
val_images = 500
test_images = 500
dump_params = on
CONF
"$A" study run "$d/tiny.conf" --out "$d/s" --jobs 3 > "$d/log"
[ "$(ls "$d/s/units" | wc -l)" -eq 12 ]
grep -q "12 of 12 units done" "$d/log" && grep -q "3 at once" "$d/log"
# the summaries do not depend on how many units train at once (all but the wall time)
"$A" study run "$d/tiny.conf" --out "$d/s1" --jobs 1 > "$d/log1" && grep -q "1 at once" "$d/log1"
for f in "$d"/s/units/*.json; do
    grep -v '"seconds"' "$f" > "$d/a" && grep -v '"seconds"' "$d/s1/units/${f##*/}" > "$d/b"
    cmp "$d/a" "$d/b"
done
"$A" study report "$d/s" -o "$d/r" > /dev/null
[ -s "$d/r/index.html" ] && [ -s "$d/r/summary.md" ]
for f in depth_0_0 bars_0_0_0 curves_0_0_0 functions param_swish_beta; do
    [ -s "$d/r/figures/$f.svg" ]
done
# summary.md links the figure files
for f in depth_0_0 bars_0_0_0 curves_0_0_0 functions param_swish_beta; do
    grep -qF "](figures/$f.svg)" "$d/r/summary.md"
done
# every figure is embedded: no image refers to a file
[ "$(grep -o '<img [^>]*>' "$d/r/index.html" | wc -l)" -ge 7 ]
! grep -o '<img [^>]*>' "$d/r/index.html" | grep -v 'src="data:image/svg+xml;base64,' | grep -q .
# the swish row of mlp:16x1: mean, CI (t_{0.975,2} = 4.302653) and the difference to relu
num() { sed -n 's/.*"'"$2"'": \([0-9.e-]*\).*/\1/p' "$1"; }
for s in 1 2 3; do
    echo "$(num "$d/s/units/swish__mlp-16x1__bnoff__he__lr0.05__s$s.json" test_acc)" \
         "$(num "$d/s/units/relu__mlp-16x1__bnoff__he__lr0.05__s$s.json" test_acc)"
done > "$d/pairs"
row=$(grep '^| mlp:16x1 | off | he | swish |' "$d/r/summary.md")
echo "$row" | tr -d '[],|+' | awk -v pairs="$d/pairs" '
    BEGIN { t = 4.302653; n = 0
            while ((getline line < pairs) > 0) { split(line, v, " "); a[n] = v[1]; b[n] = v[2]; n++ }
            for (i = 0; i < n; i++) { m += a[i] / n; dm += (a[i] - b[i]) / n }
            for (i = 0; i < n; i++) { q += (a[i] - m)^2; dq += (a[i] - b[i] - dm)^2 }
            h = t * sqrt(q / (n - 1)) / sqrt(n); dh = t * sqrt(dq / (n - 1)) / sqrt(n)
            # the paired t test, 2 degrees of freedom: P(|T| >= x) = 1 - x / sqrt(2 + x^2);
            # one comparison in the block, so Holm leaves p as it is
            x = dm / (sqrt(dq / (n - 1)) / sqrt(n)); x = x < 0 ? -x : x
            p = 1 - x / sqrt(2 + x * x) }
    function near(x, y) { return (x - y < 6e-5 && y - x < 6e-5) }
    { ok = $6 == 3 && near($7, m) && near($8, m - h) && near($9, m + h) && $10 == 0 &&
           near($11, dm) && near($12, dm - dh) && near($13, dm + dh) && near($14, p) &&
           $15 == $14
      sig = (dm - dh > 0 || dm + dh < 0) ? "better|worse" : "no significant difference"
      if (!ok || $0 !~ sig) {
          print "row: " $0; print "want", m, m - h, m + h, dm, dm - dh, dm + dh, p; exit 1 } }'
grep -q '^| mlp:16x2 | off | he | relu | 0.05 | 3 | .* | baseline |$' "$d/r/summary.md"
# the parameter table: swish's beta in mlp:16x1 (16 channels x 3 seeds), its mean, median and
# median distance moved recomputed from the summaries' trained and initial arrays (initial: 1)
arr() { sed -n 's/.*"'"$2"'": \[\(.*\)\].*/\1/p' "$1" | tr ',' '\n' | tr -d ' '; }
for s in 1 2 3; do
    f="$d/s/units/swish__mlp-16x1__bnoff__he__lr0.05__s$s.json"
    arr "$f" act_param.beta > "$d/tb"
    arr "$f" act_param_init.beta > "$d/ib"
    [ "$(wc -l < "$d/tb")" -eq 16 ] && [ "$(sort -u "$d/ib")" = 1 ]
    paste "$d/tb" "$d/ib"
done > "$d/beta"
! awk '$1 != $2 { moved = 1 } END { exit moved }' "$d/beta"
row=$(grep '^| swish | beta | mlp:16x1 |' "$d/r/summary.md")
med() { sort -g | awk '{ v[NR] = $1 } END { h = (NR - 1) / 2; i = int(h)
                                             print v[i + 1] + (h - i) * (v[i + 2] - v[i + 1]) }'; }
want="48 $(awk '{ m += $1 / 48 } END { print m }' "$d/beta") $(cut -f1 "$d/beta" | med)"
want="$want $(awk '{ x = $1 - $2; print x < 0 ? -x : x }' "$d/beta" | med)"
echo "$row" | tr -d '|' | awk -v w="$want" '
    function near(x, y) { return (x - y < 6e-5 && y - x < 6e-5) }
    { split(w, v, " ")
      if (!($4 == v[1] && near($5, v[2]) && near($8, v[3]) && near($10, v[4]))) {
          print "row: " $0; print "want", w; exit 1 } }'

# --- runs that diverge are recorded, counted, shown and never retried
cat > "$d/div.conf" <<'CONF'
title = diverging
budget = seconds
acts = relu swish
models = mlp:16x1
seeds = 2
lr = 100
epochs = 2
train_images = 1000
val_images = 500
test_images = 500
CONF
"$A" study run "$d/div.conf" --out "$d/dv" > "$d/dlog"
[ "$(grep -c ': diverged in epoch [12] of 2' "$d/dlog")" -eq 4 ]
grep -q "4 of 4 units done (4 trained now in .*, 4 of them diverged)" "$d/dlog"
[ "$(grep -l '"status": "diverged"' "$d"/dv/units/*.json | wc -l)" -eq 4 ]
grep -q '"test_acc": null' "$d/dv/units/relu__mlp-16x1__bnoff__he__lr100__s1.json"
"$A" study report "$d/dv" -o "$d/dr" > /dev/null
grep -q '4 of 4 done, 4 diverged' "$d/dr/summary.md"
grep -q '^| mlp:16x1 | off | he | relu | 100 | 0 | - | - | 2 | ' "$d/dr/summary.md"
"$A" study run "$d/div.conf" --out "$d/dv" > "$d/dlog2"
grep -q "4 of 4 units already done" "$d/dlog2" && ! grep -q '^\[' "$d/dlog2"

# --- kill -9 mid-way, then the same command: no finished unit is trained again
cat > "$d/kill.conf" <<'CONF'
title = kill
budget = seconds
acts = relu swish silu
models = mlp:128x4
seeds = 4
lr = 0.05
epochs = 2
train_images = 8000
val_images = 1000
test_images = 1000
CONF
"$A" study run "$d/kill.conf" --out "$d/k" > "$d/klog" 2>&1 &
pid=$!
i=0
while [ "$(ls "$d/k/units" 2>/dev/null | grep -c json)" -lt 2 ] && [ $i -lt 600 ]; do
    sleep 0.1
    i=$((i + 1))
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=
n0=$(ls "$d/k/units" | grep -c json)
[ "$n0" -ge 2 ] && [ "$n0" -lt 12 ]
(cd "$d/k/units" && for f in *.json; do echo "$f $(stat -c %y "$f") $(cksum < "$f")"; done) \
    > "$d/before"
"$A" study run "$d/kill.conf" --out "$d/k" > "$d/klog2"
grep -q "$n0 of 12 units already done" "$d/klog2"
[ "$(grep -c '^\[' "$d/klog2")" -eq $((12 - n0)) ]
[ "$(ls "$d/k/units" | grep -c json)" -eq 12 ]
(cd "$d/k/units" && while read -r f rest; do
    echo "$f $(stat -c %y "$f") $(cksum < "$f")"; done) < "$d/before" > "$d/after"
cmp "$d/before" "$d/after"
# a third run trains nothing
"$A" study run "$d/kill.conf" --out "$d/k" > "$d/klog3"
grep -q "12 of 12 units already done" "$d/klog3"
# another configuration in the same directory is refused
sed 's/epochs = 2/epochs = 3/' "$d/kill.conf" > "$d/kill2.conf"
set +e
"$A" study run "$d/kill2.conf" --out "$d/k" > /dev/null 2> "$d/err"; ec=$?
set -e
[ $ec -eq 2 ] && grep -q "another configuration" "$d/err"
# ... but other threads and a revised budget line change no result: accepted (nothing to train)
sed 's/budget = seconds/budget = a few seconds/' "$d/kill.conf" > "$d/kill3.conf"
"$A" study run "$d/kill3.conf" --out "$d/k" --threads 2 > "$d/klog4"
grep -q "12 of 12 units already done" "$d/klog4" && grep -q "^threads = 2$" "$d/k/study.conf"
# ... and a study grows by whole seeds: only the new seed's units train, the others are kept
(cd "$d/k/units" && cksum *.json) > "$d/sum4"
sed 's/seeds = 4/seeds = 5/' "$d/kill.conf" > "$d/kill5.conf"
"$A" study run "$d/kill5.conf" --out "$d/k" > "$d/klog5"
grep -q "12 of 15 units already done" "$d/klog5" && [ "$(grep -c '^\[' "$d/klog5")" -eq 3 ]
[ "$(grep -c '^\[.* seed 5: ok' "$d/klog5")" -eq 3 ]
(cd "$d/k/units" && cksum $(cut -d' ' -f3 "$d/sum4")) | cmp - "$d/sum4"

# --- the initialisations: one unit each, recorded in the unit's name and summary
cat > "$d/init.conf" <<'CONF'
title = inits
budget = seconds
acts = silu
baseline = silu
models = mlp:16x3
init = he torch gain lsuv
seeds = 1
lr = 0.05
epochs = 1
train_images = 500
val_images = 200
test_images = 200
CONF
"$A" study run "$d/init.conf" --out "$d/i" > /dev/null
for i in he torch gain lsuv; do
    grep -q "\"init\": \"$i\"" "$d/i/units/silu__mlp-16x3__bnoff__${i}__lr0.05__s1.json"
done
[ "$(cat "$d"/i/units/*.json | grep config_hash | sort -u | wc -l)" -eq 4 ]

# --- bad configurations: file:line, the valid keys, exit 2
bad() {   # bad LINE-TEXT EXPECTED-MESSAGE
    printf 'title = x\nbudget = y\n%s\nacts = relu swish\nmodels = mlp:16x1\n' "$1" > "$d/bad.conf"
    set +e
    "$A" study run "$d/bad.conf" --out "$d/b" > /dev/null 2> "$d/err"; ec=$?
    set -e
    [ $ec -eq 2 ] || { echo "exit $ec for '$1'"; cat "$d/err"; exit 1; }
    grep -q "$2" "$d/err" || { echo "no '$2' for '$1'"; cat "$d/err"; exit 1; }
}
bad "epoch = 3" "bad.conf:3: unknown key 'epoch'"
grep -q "valid keys: title claim budget" "$d/err"
bad "seeds = 0" "bad.conf:3: seeds wants a number in \[1, 100\]"
bad "bn = maybe" "bad.conf:3: bn wants off and/or on"
bad "init = xavier" "init wants he, torch, gain and/or lsuv"
bad "[slow]" "bad.conf:3: unknown section '\[slow\]'"
bad "acts[cnn] = relu" "bad.conf:3: acts\[cnn\]: not one of the models"
printf 'title = x\nbudget = y\nacts = relu swsh\nmodels = mlp:16x1\n' > "$d/bad.conf"
set +e
"$A" study run "$d/bad.conf" --out "$d/b" > /dev/null 2> "$d/err"; ec=$?
set -e
[ $ec -eq 2 ] && grep -q "bad.conf:3: activation 'swsh'" "$d/err"
set +e
"$A" study run nosuchstudy > /dev/null 2> "$d/err"; ec=$?
set -e
[ $ec -eq 2 ] && grep -q "no study 'nosuchstudy'" "$d/err"

# --- the HTML report in headless Chromium: rendered, every figure decoded, no console errors
. "$(dirname "$0")/lib/browser.sh"
browser_check "$d/r/index.html" "$d" 7
echo ok
