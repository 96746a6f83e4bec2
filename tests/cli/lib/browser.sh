# tests/cli/lib/browser.sh -- sourced by the report tests (study.sh, search_report.sh), not a test
# itself (run-tests.sh runs tests/cli/*.sh only). browser_check opens an HTML report in headless
# Chromium (scripts/install-deps.sh installs it) and checks that it rendered: every image decoded
# (the report writer's data-figures-loaded="k/n" on <body>, tools/actlab/report.h, with k = n and
# at least MIN), no console message, a screenshot that is not (nearly) one colour.

# browser_check HTML WORKDIR MIN: 0 when HTML renders; otherwise 1 and a "FAIL: ..." line on
# stderr. WORKDIR (an existing scratch directory) takes Chromium's profile and the outputs.
browser_check() {
    _html=$1 _w=$2 _min=$3
    case $_html in /*) ;; *) _html=$PWD/$_html ;; esac
    _c=$(command -v chromium || true)
    [ -n "$_c" ] || { echo "FAIL: chromium not installed (scripts/install-deps.sh installs it)" >&2
                      return 1; }
    # chromium writes its profile under HOME
    HOME="$_w" timeout 60 "$_c" --headless --no-sandbox --disable-gpu --virtual-time-budget=5000 \
        --enable-logging=stderr --v=0 --dump-dom "file://$_html" > "$_w/dom" 2> "$_w/console" ||
        { echo "FAIL: chromium --dump-dom $_html: $(tail -n 3 "$_w/console")" >&2; return 1; }
    _loaded=$(sed -n 's/.*data-figures-loaded="\([0-9]*\/[0-9]*\)".*/\1/p' "$_w/dom")
    [ -n "$_loaded" ] || { echo "FAIL: $_html: no data-figures-loaded (the page's script)" >&2
                           return 1; }
    _k=${_loaded%/*} _n=${_loaded#*/}
    [ "$_k" -eq "$_n" ] && [ "$_k" -ge "$_min" ] ||
        { echo "FAIL: $_html: $_loaded figures decoded, want all and at least $_min" >&2
          return 1; }
    if grep -i 'CONSOLE' "$_w/console" >&2; then
        echo "FAIL: $_html: console messages (above)" >&2
        return 1
    fi
    rm -f "$_w/shot.png"
    HOME="$_w" timeout 60 "$_c" --headless --no-sandbox --disable-gpu --window-size=1200,1600 \
        --screenshot="$_w/shot.png" "file://$_html" > /dev/null 2>&1
    [ -s "$_w/shot.png" ] || { echo "FAIL: $_html: no screenshot" >&2; return 1; }
    /usr/bin/python3 - "$_w/shot.png" <<'PY' || { echo "FAIL: $_html: screenshot" >&2; return 1; }
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6), "unexpected PNG format"
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
prev, colours, i = bytearray(stride), set(), 0
for y in range(h):
    f, row = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = row[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if f == 1: row[x] = (row[x] + a) & 255
        elif f == 2: row[x] = (row[x] + b) & 255
        elif f == 3: row[x] = (row[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            row[x] = (row[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = row
    if y % 8 == 0:
        colours.update(bytes(row[k:k + 3]) for k in range(0, stride, bpp))
assert len(colours) > 20, "the screenshot is (nearly) one colour: %d colours" % len(colours)
PY
    return 0
}
