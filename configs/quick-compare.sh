#!/bin/sh
# configs/quick-compare.sh -- the `make run` comparison (what `actlab demo` calls):
# relu, swish, acon_c, smu; mlp:256x2; 12k Fashion-MNIST images; 4 epochs; 2 seeds; 1 thread.
exec "${ACTLAB:-./build/actlab}" compare --quick --out "${1:-out/compare}"
