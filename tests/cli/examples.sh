#!/bin/sh
# tests/cli/examples.sh -- examples/worker.c, built against the public API only: one candidate
# expression trains through act_run_train; a deadline stops a run cleanly (ACT_ECANCELED).
set -eu
B=${B:-build}
W="./$B/examples/worker"
[ -x "$W" ]
out=$("$W" 'max(x, sigmoid(beta*x))' 120 1500)
echo "$out" | grep -q '^OK epochs=2 '
acc=$(echo "$out" | sed -n 's/.*test_acc=\([0-9.]*\).*/\1/p')
awk -v a="$acc" 'BEGIN { exit !(a > 0.5) }'
# a deadline already past after the first batch: stopped, not failed, no epoch completed
out=$("$W" 'x*tanh(softplus(x))' 0 60000)
echo "$out" | grep -q '^ECANCELED epochs=0 .*stopped by the caller at epoch 1, batch 1'
