#!/bin/sh
# plot.sh -- `actlab plot` writes valid, non-empty SVG and PNG files, silently and atomically,
# and answers bad names, parameters and output paths with a clear error.
set -u
: "${ACTLAB:=./build/actlab}"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
# fontconfig and libltdl (loaded by PLplot's cairo driver) keep caches until exit.
printf 'leak:libfontconfig.so\nleak:libltdl.so\n' >"$tmp/lsan.supp"
LSAN_OPTIONS="suppressions=$tmp/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
mkdir "$tmp/d"

is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
is_svg() {
    head -c 200 "$1" | grep -q '<?xml' && grep -q '<svg' "$1" && tail -c 100 "$1" | grep -q '</svg>'
}

"$ACTLAB" plot silu gelu --deriv -o "$tmp/d/a.svg" >"$tmp/out" 2>"$tmp/err" ||
    fail "svg plot exited $?"
[ -s "$tmp/out" ] || [ -s "$tmp/err" ] && fail "plot printed: $(cat "$tmp/out" "$tmp/err")"
[ -s "$tmp/d/a.svg" ] && is_svg "$tmp/d/a.svg" || fail "a.svg is not a complete SVG"
# PLplot's svg driver writes text as character references: "silu" in the legend.
grep -q '&#x73;&#x69;&#x6c;&#x75;' "$tmp/d/a.svg" || fail "a.svg has no legend text"
if command -v xmllint >/dev/null 2>&1; then
    xmllint --noout "$tmp/d/a.svg" || fail "a.svg is not well-formed XML"
fi

"$ACTLAB" plot acon_c -p p1=1.2 -p p2=-0.8 --sweep beta=0.5,1,2,10 --deriv --range -6:6 \
    --points 101 --title 'ACON-C #1' -o "$tmp/d/b.png" >"$tmp/out" 2>"$tmp/err" ||
    fail "png plot exited $?"
[ -s "$tmp/out" ] || [ -s "$tmp/err" ] && fail "plot printed: $(cat "$tmp/out" "$tmp/err")"
is_png "$tmp/d/b.png" || fail "b.png does not start with the PNG signature"
[ "$(wc -c <"$tmp/d/b.png")" -gt 5000 ] || fail "b.png is suspiciously small"

"$ACTLAB" plot leaky_relu:a=0.25 smu:alpha=0.25,mu=4 smu1 --legend outside -o "$tmp/d/c.PNG" ||
    fail "per-spec parameters, upper-case extension"
is_png "$tmp/d/c.PNG" || fail "c.PNG is not a PNG"
# Only the outputs are left: no temporary files.
[ "$(ls -A "$tmp/d" | tr '\n' ' ')" = "a.svg b.png c.PNG " ] || fail "left behind: $(ls -A "$tmp/d")"

# expect CODE ARGS... : exit CODE with a message on stderr, and no output file.
expect() {
    want=$1; shift
    "$ACTLAB" plot "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
    [ "$rc" = "$want" ] || fail "plot $* exited $rc, want $want ($(cat "$tmp/err"))"
    [ -s "$tmp/err" ] || fail "plot $*: no error message"
}
expect 2 nosuch -o "$tmp/x.png"
grep -q 'mish' "$tmp/err" || fail "unknown name: valid names not listed"
expect 2 silu -o "$tmp/x.jpg"
expect 2 silu
expect 2 -o "$tmp/x.png"
expect 2 swish -p bogus=1 -o "$tmp/x.png"
expect 2 swish -p beta=x -o "$tmp/x.png"
expect 2 silu --sweep beta=1,2 -o "$tmp/x.png"
expect 2 swish --sweep beta=1,,x -o "$tmp/x.png"
expect 2 swish:beta -o "$tmp/x.png"
expect 2 silu --range 3:1 -o "$tmp/x.png"
expect 2 silu --points 1 -o "$tmp/x.png"
expect 2 silu --legend middle -o "$tmp/x.png"
expect 2 softplus -p beta=0 -o "$tmp/x.png"
[ -e "$tmp/x.png" ] && fail "a failed plot left x.png"
expect 1 silu -o "$tmp/no/such/dir/x.png"
grep -q "^actlab plot: -o '$tmp/no/such/dir/x.png': directory '$tmp/no/such/dir' does not exist$" \
    "$tmp/err" || fail "unwritable output: unclear message: $(cat "$tmp/err")"

"$ACTLAB" plot --help >/dev/null || fail "plot --help did not exit 0"
echo ok
