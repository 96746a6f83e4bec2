#!/bin/sh
# configs/resnet20-acon.sh -- ResNet-20 (the Swish paper's child network) with ACON-C on
# Fashion-MNIST: SGD 0.1, Nesterov momentum, weight decay 5e-4 on weights only, cosine schedule
# with one warm-up epoch, random crop (pad 2).
exec "${ACTLAB:-./build/actlab}" train --data fashion-mnist --model resnet:3 --act acon_c \
    --epochs 5 --batch 128 --opt sgd --lr 0.1 --nesterov --wd 5e-4 --sched cosine --warmup 1 \
    --crop 2 --seed 1 --threads 2 --out "${1:-out/resnet20-acon}"
