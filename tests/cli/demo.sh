#!/bin/sh
# demo.sh -- `actlab demo --quick` (the main job, without SVG and benchmark): one PNG per
# activation, the composite figures and index.md, all listed on stdout.
set -u
: "${ACTLAB:=./build/actlab}"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
printf 'leak:libfontconfig.so\nleak:libltdl.so\n' >"$tmp/lsan.supp"
LSAN_OPTIONS="suppressions=$tmp/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS

out="$tmp/new/out"                      # created with its parents
"$ACTLAB" demo --quick --out "$out" >"$tmp/stdout" 2>"$tmp/stderr" ||
    fail "demo exited $?: $(cat "$tmp/stderr")"
[ -s "$tmp/stderr" ] && fail "demo wrote to stderr: $(cat "$tmp/stderr")"

for n in $("$ACTLAB" list --names); do
    f="$out/act_$n.png"
    [ "$(head -c 8 "$f" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
        fail "$f missing or not a PNG"
    grep -qx "  $f" "$tmp/stdout" || fail "$f not listed on stdout"
done
for f in smoothmax_relu_swish acon_c_beta_sweep smu_smu1_leaky_relu gelu_silu_mish; do
    [ -s "$out/$f.png" ] || fail "composite $f.png missing"
    grep -q "actlab plot .* -o $f.png" "$out/index.md" || fail "index.md lacks the command for $f"
done
[ -e "$out/act_silu.svg" ] && fail "--quick wrote SVG"
grep -q "^wrote [0-9]* files to $out/" "$tmp/stdout" || fail "no summary line"
ls -A "$out" | grep -q 'XXXXXX\|\.[A-Za-z0-9]\{6\}$' && fail "temporary files left: $(ls -A "$out")"

"$ACTLAB" demo --help >/dev/null || fail "demo --help did not exit 0"
"$ACTLAB" demo --bogus >/dev/null 2>&1; rc=$?
[ "$rc" = 2 ] || fail "demo --bogus exited $rc, want 2"
: >"$tmp/file"
"$ACTLAB" demo --quick --out "$tmp/file" >/dev/null 2>"$tmp/stderr"; rc=$?
[ "$rc" = 1 ] || fail "demo --out FILE exited $rc, want 1"
grep -q "^actlab demo: --out: '$tmp/file' is not a directory$" "$tmp/stderr" ||
    fail "demo --out FILE: $(cat "$tmp/stderr")"
"$ACTLAB" demo --quick --out '' >/dev/null 2>"$tmp/stderr"; rc=$?
[ "$rc" = 2 ] || fail "demo --out '' exited $rc, want 2"
grep -q "^actlab demo: --out '': empty directory name$" "$tmp/stderr" ||
    fail "demo --out '': $(cat "$tmp/stderr")"
echo ok
