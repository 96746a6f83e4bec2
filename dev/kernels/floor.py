#!/usr/bin/env python3
"""floor.py -- the instruction floor of each AVX-512 block kernel on Zen 4, from its machine code.

    python3 dev/kernels/floor.py build/k/src/act/act_avx512.o [names...]

Disassembles the hot loop of every fwdv_<name> / bwdv_<name> leaf (act_simd.h; the loop without
parameter gradients, plain stores), counts its instructions by the pipes they use, and prints
cycles per 16 elements for each resource and their maximum (the floor). Per-instruction costs
are those measured by dev/kernels/zen_ports.c on the project VM (AMD EPYC, Zen 4), which match
the structure in AMD's "Software Optimization Guide for the AMD Zen4 Microarchitecture" (pub.
57647): four 256-bit FP pipes, two with FMA/MUL (FP0, FP1) and two with ADD (FP2, FP3); a
512-bit op takes a pair for one cycle:
  A  (FMA pair)  vfmadd/vfmsub/vfnmadd, vmulps, compares into a mask register (vcmpps,
                 vpcmpd, vptestmd, vpmovd2m), vrcp14ps, vfixupimmps, vpternlogd: 1 cycle;
                 vdivps and vsqrtps also take about 3 A cycles
  B  (ADD pair)  vaddps, vsubps, vmaxps, vminps, vrndscaleps, vgetexpps, vgetmantps, vcvt*,
                 vector shifts: 1 cycle; vscalefps: 2
  any            vandps/vorps/vxorps/vpandd/..., vpaddd, vblendmps, masked moves: either pair
  divider        vdivps 6 cycles, vsqrtps 10 (not pipelined; runs beside the pipes)
  store          2 cycles per 512-bit store; load 1 per 512-bit load or memory operand
floor = max(A, B, (A + B + any) / 2, divider, store, load). The loop is found as the body of the
backward branch with the most 512-bit stores and no streaming stores; unrolled loops are divided
by their vector count (stores per iteration).
"""
import re
import subprocess
import sys

A_OPS = re.compile(r"^v(fn?m(add|sub)\d+ps|mulps|cmp\w*ps|pcmp\w+|ptestn?m\w|pmov\w2m|rcp14ps|"
                   r"fixupimmps|pternlog\w)$")
B_OPS = re.compile(r"^v(addps|subps|maxps|minps|rndscaleps|getexpps|getmantps|cvt\w+|ps[lr]l\w+|"
                   r"psra\w+|ps[lr]lv\w+)$")
ANY_OPS = re.compile(r"^v(andn?ps|orps|xorps|pandn?[dq]?|por[dq]?|pxor[dq]?|padd[dq]|psub[dq]|"
                     r"blendm\w+|pblendm\w+)$")


def disasm(obj):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", obj], capture_output=True,
                         text=True, check=True).stdout
    funcs, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <([\w.]+)>:", line)
        if m:
            cur = funcs.setdefault(m.group(1), [])
            continue
        m = re.match(r"^\s+([0-9a-f]+):\s+(\S+)\s*(.*)$", line)
        if m and cur is not None:
            cur.append((int(m.group(1), 16), m.group(2), m.group(3)))
    return funcs


def hot_loop(ins, fwd):
    best = None
    for k, (addr, op, args) in enumerate(ins):
        if not op.startswith("j"):
            continue
        m = re.match(r"^([0-9a-f]+)\s", args)
        if not m or int(m.group(1), 16) >= addr:
            continue
        tgt = int(m.group(1), 16)
        body = [i for i in ins if tgt <= i[0] <= addr]
        # stores of y or dx: indexed addressing (stack temporaries are not)
        stores = sum(1 for i in body if i[1].startswith("vmov") and "zmm" in i[2]
                     and re.search(r"%zmm\d+,\s*-?(0x[0-9a-f]+)?\(%\w+,%\w+,4\)", i[2]))
        if any(i[1].startswith("vmovnt") for i in body) or stores == 0:
            continue
        key = (stores, -len(body)) if fwd else (-len(body), stores)
        if best is None or key > best[0]:
            best = (key, body, stores)
    return best


def cost(body):
    c = dict(A=0.0, B=0.0, any=0.0, div=0.0, store=0.0, load=0.0)
    for _, op, args in body:
        if "zmm" not in args and not op.startswith("vbroadcast"):
            continue
        mem = "(" in args
        if op.startswith("vmov") and not "{%k" in args:
            if re.search(r"%zmm\d+,\s*-?(0x[0-9a-f]+)?\(", args):
                c["store"] += 2
            elif mem:
                c["load"] += 1
            continue
        if mem:
            c["load"] += 1
        if op.startswith("vbroadcast"):
            continue
        if op in ("vdivps", "vsqrtps"):
            c["A"] += 3
            c["div"] += 6 if op == "vdivps" else 10
        elif op == "vscalefps":
            c["B"] += 2
        elif A_OPS.match(op):
            c["A"] += 1
        elif B_OPS.match(op):
            c["B"] += 1
        elif ANY_OPS.match(op) or op.startswith("vmov"):
            c["any"] += 1
        else:
            c["any"] += 1
    return c


def main():
    funcs = disasm(sys.argv[1])
    names = sys.argv[2:]
    print(f"{'kernel':<18} {'A':>5} {'B':>5} {'any':>5} {'div':>5} {'st':>4} {'ld':>4} "
          f"{'floor':>6} {'c/elem':>7}   (cycles per 16 elements)")
    for fn in sorted(funcs):
        m = re.match(r"^(fwdv|bwdv)_(\w+?)(\.\w+\.\d+)?$", fn)
        if not m or (names and m.group(2) not in names):
            continue
        h = hot_loop(funcs[fn], m.group(1) == "fwdv")
        if not h:
            continue
        _, body, stores = h
        c = cost(body)
        # vectors per iteration: fwd stores y once per vector, bwd stores dx once per vector
        nv = stores
        for k in c:
            c[k] /= nv
        fl = max(c["A"], c["B"], (c["A"] + c["B"] + c["any"]) / 2, c["div"], c["store"],
                 c["load"])
        d = "fwd" if m.group(1) == "fwdv" else "bwd"
        print(f"{m.group(2) + ' ' + d:<18} {c['A']:5.1f} {c['B']:5.1f} {c['any']:5.1f} "
              f"{c['div']:5.1f} {c['store']:4.1f} {c['load']:4.1f} {fl:6.1f} {fl / 16:7.3f}")


if __name__ == "__main__":
    main()
