#!/bin/sh
# readme.sh -- the C example in README.md compiles against the public headers alone (strict
# warnings, each header on its own) and runs; keeps the README true.
set -eu
B=${B:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/^```c$/ { on = 1; next } /^```$/ { on = 0 } on' README.md > "$tmp/example.c"
[ -s "$tmp/example.c" ] || { echo "no C example in README.md"; exit 1; }
for h in include/actlab/*.h; do
    printf '#include "actlab/%s"\n' "$(basename "$h")" > "$tmp/h.c"
    cc -std=c11 -Wall -Wextra -Wpedantic -Werror -Iinclude -c "$tmp/h.c" -o "$tmp/h.o" \
        || { echo "header $h does not compile on its own"; exit 1; }
done
cc ${SAN_CFLAGS:-} -std=c11 -Wall -Wextra -Wpedantic -Werror -Iinclude "$tmp/example.c" "$B/libactlab.a" \
    $(pkg-config --libs openblas 2>/dev/null || echo -lopenblas) -lz -lm -fopenmp -o "$tmp/example"
"$tmp/example" > "$tmp/out"
cat "$tmp/out"
grep -q '^y\[0\] = ' "$tmp/out"
grep -q 'at x = 3: ' "$tmp/out"
