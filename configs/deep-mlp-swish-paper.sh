#!/bin/sh
# configs/deep-mlp-swish-paper.sh -- a deep plain MLP in the style of the Swish paper's depth
# experiment (mlp:256x50 needs BN or a careful learning rate to train; this uses BN).
exec "${ACTLAB:-./build/actlab}" compare --acts relu,swish,acon_c --model mlp:256x50,bn \
    --epochs 3 --seeds 2 --lr 0.02 --train-limit 20000 --out "${1:-out/deep-mlp}"
