#!/bin/sh
# install.sh -- `make install PREFIX=...` installs the libraries, headers, actlab.pc and the
# binary; a program built with `pkg-config --cflags --libs actlab` runs against the shared
# library; the installed actlab runs.
set -eu
B=${B:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Under `make asan` (SAN_CFLAGS set) anything rebuilt must keep the sanitizer flags.
if [ -n "${SAN_CFLAGS:-}" ]; then
    make -s install B="$B" PREFIX="$tmp/prefix" CFLAGS="-O1 -g $SAN_CFLAGS -fno-omit-frame-pointer" \
        LDFLAGS="$SAN_CFLAGS" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
else
    make -s install B="$B" PREFIX="$tmp/prefix" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
fi
for f in lib/libactlab.a lib/libactlab.so lib/libactlab.so.0 lib/pkgconfig/actlab.pc \
         include/actlab/actlab.h include/actlab/act.h bin/actlab; do
    [ -e "$tmp/prefix/$f" ] || { echo "missing $f"; exit 1; }
done
printf '#include <actlab/actlab.h>\n#include <stdio.h>\nint main(void)\n{\n    float x = 1.0f, y;\n    int rc = act_act_forward(ACT_ACT_SILU, NULL, 0, &x, &y, act_shape_flat(1));\n    printf("%%.7f\\n", (double)y);\n    return rc;\n}\n' > "$tmp/t.c"
PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" cc ${SAN_CFLAGS:-} -std=c11 -Wall -Werror "$tmp/t.c" \
    $(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs actlab) \
    -Wl,-rpath,"$tmp/prefix/lib" -o "$tmp/t"
[ "$("$tmp/t")" = "0.7310586" ] || { echo "silu(1) via the installed library: $("$tmp/t")"; exit 1; }
"$tmp/prefix/bin/actlab" list >/dev/null
# statically, actlab.pc's Libs.private bring OpenBLAS, oneDNN (when built in), zlib, OpenMP
printf '#include <actlab/actlab.h>\n#include <stdio.h>\nint main(void)\n{\n    act_net *n = NULL;\n    act_net_config c = act_net_config_default();\n    int rc = act_net_new(&c, &n, NULL);\n    printf("%%s\\n", act_gemm_name(act_net_gemm(n)));\n    act_net_free(n);\n    return rc;\n}\n' > "$tmp/s.c"
PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" cc ${SAN_CFLAGS:-} -std=c11 -Wall -Werror "$tmp/s.c" \
    $(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags actlab) \
    "$tmp/prefix/lib/libactlab.a" \
    $(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --static --libs-only-l --libs-only-other actlab | sed 's/-lactlab//') \
    -o "$tmp/s"
g=$("$tmp/s")
[ "$g" = onednn ] || [ "$g" = openblas ] || { echo "static program: gemm '$g'"; exit 1; }
