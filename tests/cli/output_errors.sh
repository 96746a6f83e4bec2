#!/bin/sh
# output_errors.sh -- write errors are never silent: a failing stdout (/dev/full) makes every
# command exit 1 with one "actlab CMD: cannot write to standard output: ..." line, while a
# closed pipe (`| head -1`) still ends it quietly; output paths are checked before the work
# (empty: exit 2; missing or non-directory parent, /proc: exit 1, naming the option and the
# path); output files are complete or absent (a write that fails mid-file leaves neither the
# file nor a temporary file). Every failure is reported; the test exits 1 if any.
set -u
: "${ACTLAB:=./build/actlab}"
bad=0
fail() { echo "FAIL: $*" >&2; bad=$((bad + 1)); }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
printf 'leak:libfontconfig.so\nleak:libltdl.so\n' >"$tmp/lsan.supp"
LSAN_OPTIONS="suppressions=$tmp/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
d="$tmp/d"
mkdir "$d"
: >"$d/file"

# Only "file" (and what a test made on purpose) may be left in $d: no temporary files.
clean() {
    left=$(ls -A "$d" | grep -vx 'file' | tr '\n' ' ')
    [ -z "$left" ] || fail "$1: left behind in the directory: $left"
    find "$d" -mindepth 1 ! -name file -exec rm -rf {} + 2>/dev/null
}

# ---------------------------------------------------------------------------------------------
# stdout on a full device: exit 1 (or the command's own failure code) and exactly one message.

# full CMD ARGS... : CMD's stdout goes to /dev/full.
full() {
    cmd=$1
    "$ACTLAB" "$@" >/dev/full 2>"$tmp/err"; rc=$?
    [ "$rc" = 1 ] || fail "$* >/dev/full exited $rc, want 1"
    n=$(grep -c "^actlab $cmd: cannot write to standard output: " "$tmp/err")
    [ "$n" = 1 ] || fail "$* >/dev/full: want one 'cannot write to standard output' line, got:
$(cat "$tmp/err")"
}
full list
full list --names
full list --help
full eval relu 1 2 3
full expr print "x*sigmoid(x)"
full expr c "x*sigmoid(beta*x)"
full expr torch "x*sigmoid(beta*x)"
full expr eval "x*sigmoid(x)" 1 2
full expr fingerprint "x*sigmoid(x)"
full expr bench -n 4096 "x*sigmoid(x)"
full space sample --units 2 -n 20
full space sample --units 2 -n 100000           # fails mid-way, many buffers
full space presets
full space primitives
full space enumerate --preset bxg
full bench --quick --min-ms 0.2 relu
full demo --quick --out "$d/demo"
rm -rf "$d/demo"
"$ACTLAB" --help >/dev/full 2>"$tmp/err"; rc=$?
[ "$rc" = 1 ] && grep -q "^actlab: cannot write to standard output: " "$tmp/err" ||
    fail "actlab --help >/dev/full exited $rc: $(cat "$tmp/err")"

# A failed command keeps its own exit code, and the stdout message is still printed once.
"$ACTLAB" expr eval "x" 1 abc >/dev/full 2>"$tmp/err"; rc=$?
[ "$rc" = 2 ] || fail "expr eval with a bad X >/dev/full exited $rc, want 2"

# A closed pipe is not an error to report: the default SIGPIPE ends the command quietly.
( "$ACTLAB" space sample --units 3 -n 200000 2>"$tmp/err"; echo $? >"$tmp/rc" ) | head -n 1 \
    >/dev/null
rc=$(cat "$tmp/rc")
if [ "$rc" = 141 ] || [ "$rc" = 269 ]; then     # 128 + SIGPIPE (ksh: 256 + SIGPIPE)
    [ -s "$tmp/err" ] && fail "space sample | head -1 printed: $(cat "$tmp/err")"
elif [ "$rc" != 1 ]; then                      # SIGPIPE ignored by whoever started us: EPIPE
    fail "space sample | head -1 exited $rc"
fi
"$ACTLAB" list | head -n 1 | grep -q '^NAME' || fail "list | head -1"

# ---------------------------------------------------------------------------------------------
# output paths: checked before the work; the message names the option and the path.

# expect CODE OPTION PATH ARGS... : `actlab ARGS` exits CODE, prints nothing to stdout, and its
# message names OPTION and PATH.
expect() {
    want=$1 opt=$2 path=$3
    shift 3
    "$ACTLAB" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
    [ "$rc" = "$want" ] || fail "$* exited $rc, want $want: $(cat "$tmp/err")"
    [ -s "$tmp/out" ] && fail "$*: printed a result before failing: $(head -3 "$tmp/out")"
    grep -q -- "$opt" "$tmp/err" && grep -qF -- "'$path'" "$tmp/err" ||
        fail "$*: message does not name $opt and '$path': $(cat "$tmp/err")"
    clean "$*"
}
expect 2 --out '' demo --quick --out ''
expect 2 -o '' plot relu -o ''
expect 2 -o '' expr c x -o ''
expect 2 -o '' space enumerate --preset bxg -o ''
expect 2 --csv '' bench --quick relu --csv ''

expect 1 -o /nonexistent/dir/x.png plot relu -o /nonexistent/dir/x.png
grep -q "/nonexistent/dir'* does not exist" "$tmp/err" || fail "missing directory not named"
expect 1 -o "$d/file/x.png" plot relu -o "$d/file/x.png"
grep -q "not a directory" "$tmp/err" || fail "plot under a file: $(cat "$tmp/err")"
expect 1 -o "$d/file/x.svg" expr plot x -o "$d/file/x.svg"
expect 1 -o "$d/file/x.c" expr c x -o "$d/file/x.c"
expect 1 -o "$d/file/x.csv" space enumerate --units 1 -o "$d/file/x.csv"
expect 1 --csv "$d/file/x.csv" bench --quick --min-ms 0.2 relu --csv "$d/file/x.csv"
expect 1 --csv "$d/file/x.csv" bench --quick --expr x --csv "$d/file/x.csv"
expect 1 --out "$d/file/sub" demo --quick --out "$d/file/sub"
expect 1 --out "$d/file" demo --quick --out "$d/file"
expect 1 -o /proc/x.png plot relu -o /proc/x.png
expect 1 -o /proc/x.c expr c x -o /proc/x.c
mkdir "$tmp/dir.png"
expect 1 -o "$tmp/dir.png" plot relu -o "$tmp/dir.png"
grep -q "is a directory" "$tmp/err" || fail "plot onto a directory: $(cat "$tmp/err")"

# A run that fails after opening its --csv (a bad expression, stdout full) leaves no CSV.
"$ACTLAB" bench --quick --expr "x*sigmod(x)" --csv "$d/e.csv" >/dev/null 2>&1; rc=$?
[ "$rc" = 2 ] || fail "bench --expr with a bad expression exited $rc, want 2"
[ -e "$d/e.csv" ] && fail "bench --expr with a bad expression left $d/e.csv"
"$ACTLAB" bench --quick --min-ms 0.2 relu --csv "$d/s.csv" >/dev/full 2>/dev/null &&
    fail "bench --csv >/dev/full exited 0"
[ -e "$d/s.csv" ] && fail "bench --csv >/dev/full left $d/s.csv"
clean "bench --csv after a failure"

# ---------------------------------------------------------------------------------------------
# output files: complete or absent. With SIGXFSZ ignored and a 16-block file size limit, a
# write past the limit fails with EFBIG in the middle of the file.

# short CODE FILE ARGS... : with writes limited, `actlab ARGS` exits CODE, names FILE, and leaves
# neither FILE nor a temporary file.
short() {
    want=$1 file=$2
    shift 2
    ( trap '' XFSZ; ulimit -f 16; exec "$ACTLAB" "$@" ) >/dev/null 2>"$tmp/err"; rc=$?
    [ "$rc" = "$want" ] || fail "$* (file size limit) exited $rc, want $want: $(cat "$tmp/err")"
    grep -qF -- "$file" "$tmp/err" || fail "$* (file size limit): no message naming $file"
    [ -e "$file" ] && fail "$* (file size limit): left a truncated $file ($(wc -c <"$file") B)"
    clean "$* (file size limit)"
}
short 1 "$d/big.png" plot relu silu gelu mish --points 20001 --deriv -o "$d/big.png"
short 1 "$d/big.svg" plot relu silu gelu mish --points 20001 --deriv -o "$d/big.svg"
short 1 "$d/big.csv" space enumerate --units 1 -o "$d/big.csv"

# An existing output is replaced only by a complete one: a failed write leaves it as it was.
echo old >"$d/keep.csv"
( trap '' XFSZ; ulimit -f 16; exec "$ACTLAB" space enumerate --units 1 -o "$d/keep.csv" ) \
    >/dev/null 2>&1 && fail "space enumerate with a file size limit succeeded"
[ "$(cat "$d/keep.csv")" = old ] || fail "a failed write changed the existing output"
rm -f "$d/keep.csv"
clean "failed overwrite"

# A successful write replaces the file and keeps its permissions; nothing else is left.
echo old >"$d/mode.c"
chmod 0640 "$d/mode.c"
"$ACTLAB" expr c x -o "$d/mode.c" || fail "expr c -o over an existing file"
grep -q act_expr_f "$d/mode.c" || fail "expr c -o did not replace the file"
[ "$(stat -c %a "$d/mode.c")" = 640 ] || fail "expr c -o changed the mode to $(stat -c %a "$d/mode.c")"
rm -f "$d/mode.c"
clean "overwrite"

# A destination that is not a regular file (a FIFO, a link to a device) is written in place,
# never replaced by a regular file.
mkfifo "$d/fifo"
timeout 10 cat "$d/fifo" >"$tmp/out" &
"$ACTLAB" expr print "x + 1" -o "$d/fifo" || fail "expr print -o FIFO"
wait
[ "$(cat "$tmp/out")" = "x + 1" ] || fail "expr print -o FIFO gave '$(cat "$tmp/out")'"
[ -p "$d/fifo" ] || fail "expr print -o FIFO replaced the FIFO"
ln -s /dev/null "$d/null"
"$ACTLAB" expr c x -o "$d/null" || fail "expr c -o LINK-TO-/dev/null"
[ -L "$d/null" ] || fail "expr c -o LINK-TO-/dev/null replaced the link"
rm -f "$d/fifo" "$d/null"
clean "non-regular destinations"

[ "$bad" = 0 ] || { echo "$bad failures" >&2; exit 1; }
echo ok
