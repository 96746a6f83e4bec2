#!/usr/bin/python3
"""xcheck_resnet.py -- PyTorch 1.13 replica of `actlab train --model resnet:N` on Fashion-MNIST
(issue 10: is a searched activation's low accuracy an engine bug or the function?). It rebuilds
what actlab does bit for bit where it can: the training subset (splitmix64 shuffle of the 60000
training images seeded by --seed; the first --train-limit of it, validation the last --val), the
per-channel normalisation over that subset, the initial weights (he: N(0, 2/fan_in) from the
same splitmix64 stream and Box-Muller draws, in actlab's block order; torch: U(+-1/sqrt(fan)) on
weights and biases), every epoch's batch order, the model (src/nn/models.c build_resnet: conv
without bias, BN momentum 0.1 eps 1e-5, the activation after the stem BN, inside each block and
after each residual add, 1x1 conv + BN projection shortcuts, global average pool, dense) and SGD
(PyTorch's momentum form, lr constant). The activation is relu, silu or expr:F, whose module
comes from `actlab expr torch F`, so both sides compute the same formula.

  dev/xcheck_resnet.py --act 'expr:max(x, sigmoid(x)) + cos(x)*x' --seeds 1-6 \
      --train-limit 4000 --test-limit 2000 --epochs 2 --lr 0.02
      one line per seed and epoch: train loss/acc (train mode), val and test loss/acc (eval
      mode, running statistics) and test acc in train mode (batch statistics), then mean and
      spread per epoch.
  dev/xcheck_resnet.py ... --seeds 1 --compare DIR
      after training, reads DIR/checkpoint.bin of `actlab train ... --out DIR` with the same
      options and prints the relative difference of every parameter block (weights, BN
      gamma/beta and running statistics) between the two engines: with --train-limit 128
      --epochs 1 (one SGD step) they agree to float rounding if init, data, order, forward,
      backward and the step all match.
--actlab PATH names the CLI (default build/x/actlab, then build/actlab). Needs numpy and torch
(python3-torch, python3-numpy); data from Debian's dataset-fashion-mnist."""
import argparse, gzip, math, os, struct, subprocess, sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

M64 = (1 << 64) - 1


class SplitMix:
    """include/actlab/rng.h: act_rng_next, act_rng_uniform, act_rng_normal."""
    def __init__(self, state):
        self.s = state & M64

    def next(self):
        self.s = (self.s + 0x9e3779b97f4a7c15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M64
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M64
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next() >> 11) * 2.0 ** -53

    def normal(self):
        u1 = ((self.next() >> 11) + 0.5) * 2.0 ** -53
        u2 = self.uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(6.283185307179586 * u2)


def shuffle(a, rng):
    """src/nn/train.c shuffle(): Fisher-Yates from the top, j = next % i."""
    for i in range(len(a), 1, -1):
        j = rng.next() % i
        a[i - 1], a[j] = a[j], a[i - 1]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    magic, n = struct.unpack(">II", b[:8])
    if magic == 0x801:
        return np.frombuffer(b, np.uint8, offset=8)
    rows, cols = struct.unpack(">II", b[8:16])
    return np.frombuffer(b, np.uint8, offset=16).reshape(n, 1, rows, cols)


# ----------------------------------------------------------------------------
# model: the same layers in the same order as models.c build_resnet (non-preact)

def make_act(spec, actlab):
    if spec == "relu":
        return lambda c: nn.ReLU()
    if spec == "silu":
        return lambda c: nn.SiLU()
    if not spec.startswith("expr:"):
        sys.exit("--act: relu, silu or expr:F")
    src = subprocess.run([actlab, "expr", "torch", spec[5:]], check=True, capture_output=True,
                         text=True).stdout
    ns = {}
    exec(src, ns)
    cls = ns["ActExpr"]
    if any(True for _ in cls(4).parameters()):
        sys.exit("expressions with parameters are not replicated (their init and layout)")
    return lambda c: cls(c)


class Block(nn.Module):
    def __init__(self, cin, cout, stride, act):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.a1 = act(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.sc = None
        if stride != 1 or cin != cout:
            self.sc = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                    nn.BatchNorm2d(cout))
        self.a2 = act(cout)

    def forward(self, x):
        h = self.b2(self.c2(self.a1(self.b1(self.c1(x)))))
        return self.a2(h + (x if self.sc is None else self.sc(x)))

    def blocks(self):   # parameter blocks in actlab's creation order
        out = [("conv", self.c1), ("bn", self.b1), ("conv", self.c2), ("bn", self.b2)]
        if self.sc is not None:
            out += [("conv", self.sc[0]), ("bn", self.sc[1])]
        return out


class ResNet(nn.Module):
    def __init__(self, n, act):
        super().__init__()
        self.stem = nn.Conv2d(1, 16, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.act = act(16)
        layers, cin = [], 16
        for s in range(3):
            for b in range(n):
                cout = 16 << s
                layers.append(Block(cin, cout, 2 if s > 0 and b == 0 else 1, act))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.layers(self.act(self.bn(self.stem(x))))
        return self.fc(x.mean(dim=(2, 3)))

    def blocks(self):
        out = [("conv", self.stem), ("bn", self.bn)]
        for blk in self.layers:
            out += blk.blocks()
        return out + [("dense", self.fc)]


def param_blocks(net):
    """(name, tensor, kind) in actlab's block order; kind: he (weights), bias, one, zero."""
    out = []
    for i, (k, m) in enumerate(net.blocks()):
        if k == "conv":
            out.append((f"{i}.conv.w", m.weight, "he"))
        elif k == "bn":
            out += [(f"{i}.bn.gamma", m.weight, "one"), (f"{i}.bn.beta", m.bias, "zero"),
                    (f"{i}.bn.running_mean", m.running_mean, "zero"),
                    (f"{i}.bn.running_var", m.running_var, "one")]
        else:
            out += [(f"{i}.dense.w", m.weight, "he"), (f"{i}.dense.b", m.bias, "bias")]
    return out


def fan_in(t):
    return int(np.prod(t.shape[1:])) if t.dim() > 1 else None


@torch.no_grad()
def init_like_actlab(net, seed, how):
    """src/nn/net.c init_params(): one stream seeded seed * 0x2545f4914f6cdd1d + 12345."""
    rng = SplitMix(seed * 0x2545f4914f6cdd1d + 12345)
    fan = None
    for name, t, kind in param_blocks(net):
        n = t.numel()
        if kind == "he":
            fan = fan_in(t)
        if kind in ("he", "bias") and how == "torch":
            b = 1.0 / math.sqrt(fan)
            v = [b * (2.0 * rng.uniform() - 1.0) for _ in range(n)]
        elif kind == "he":
            sd = math.sqrt(2.0 / fan)
            v = [sd * rng.normal() for _ in range(n)]
        else:
            v = [1.0 if kind == "one" else 0.0] * n
        t.copy_(torch.from_numpy(np.array(v, np.float64).astype(np.float32)).view(t.shape))


# ----------------------------------------------------------------------------
# data, as src/nn/train.c act_train

def load_data(d):
    tr_x = read_idx(os.path.join(d, "train-images-idx3-ubyte.gz"))
    tr_y = read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz"))
    te_x = read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz"))
    te_y = read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"))
    return tr_x, tr_y, te_x, te_y


def split(n_all, seed, val, limit):
    rng = SplitMix(seed ^ 0x9e3779b97f4a7c15)
    perm = list(range(n_all))
    shuffle(perm, rng)
    n_tr = n_all - val
    if limit and limit < n_tr:
        n_tr = limit
    return perm, n_tr


def normaliser(x_u8, idx, dtype):
    v = x_u8[idx].astype(np.float64) / 255.0
    m = v.mean()
    var = (v * v).mean() - m * m
    m32, is32 = np.float32(m), np.float32(1.0 / math.sqrt(max(var, 1e-12)))
    k = np.float32(1.0) / np.float32(255.0)
    return lambda u8: torch.from_numpy((u8.astype(np.float32) * k - m32) * is32).to(dtype)


@torch.no_grad()
def evaluate(net, xs, ys, norm, train_mode=False, batch=128):
    net.train(train_mode)
    if train_mode:   # batch statistics without touching the running ones
        saved = [(m, m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone())
                 for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    loss, hits = 0.0, 0
    for s in range(0, len(ys), batch):
        x, y = norm(xs[s:s + batch]), torch.from_numpy(ys[s:s + batch].astype(np.int64))
        z = net(x)
        loss += F.cross_entropy(z, y, reduction="sum").item()
        hits += (z.argmax(1) == y).sum().item()
    if train_mode:
        for m, rm, rv, nb in saved:
            m.running_mean.copy_(rm); m.running_var.copy_(rv); m.num_batches_tracked.copy_(nb)
    net.train(True)
    return loss / len(ys), hits / len(ys)


def run(a, seed, data, act):
    tr_x, tr_y, te_x, te_y = data
    torch.manual_seed(seed)
    perm, n_tr = split(len(tr_y), seed, a.val, a.train_limit)
    tr_idx = np.array(perm[:n_tr])
    val_idx = np.array(perm[len(perm) - a.val:]) if a.val else None
    norm = normaliser(tr_x, tr_idx, torch.float64 if a.double else torch.float32)
    n_test = min(a.test_limit or len(te_y), len(te_y))
    net = ResNet(a.blocks, act)
    init_like_actlab(net, seed, a.init)
    if a.double:
        net = net.double()
    opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=a.momentum)
    rows = []
    for ep in range(a.epochs):
        erng = SplitMix((seed * 0x100000001b3 + ep * 0x9e3779b97f4a7c15 + 7) & M64)
        order = list(perm[:n_tr])
        shuffle(order, erng)
        order = np.array(order)
        net.train(True)
        tot, hits = 0.0, 0
        for s in range(0, n_tr, a.batch):
            idx = order[s:s + a.batch]
            x, y = norm(tr_x[idx]), torch.from_numpy(tr_y[idx].astype(np.int64))
            z = net(x)
            loss = F.cross_entropy(z, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if not math.isfinite(loss.item()):
                print(f"seed {seed} epoch {ep + 1}: diverged")
                return rows, net, opt
            tot += loss.item() * len(idx)
            hits += (z.argmax(1) == y).sum().item()
        r = {"seed": seed, "epoch": ep + 1, "train_loss": tot / n_tr, "train_acc": hits / n_tr}
        if val_idx is not None:
            r["val_loss"], r["val_acc"] = evaluate(net, tr_x[val_idx], tr_y[val_idx], norm)
        r["test_loss"], r["test_acc"] = evaluate(net, te_x[:n_test], te_y[:n_test], norm)
        _, r["test_acc_trainmode"] = evaluate(net, te_x[:n_test], te_y[:n_test], norm, True)
        rows.append(r)
        print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in r.items()), flush=True)
    return rows, net, opt


def compare(net, opt, ckpt):
    """Parameter blocks of net, and SGD's momentum buffers (after one step: the gradient),
    against actlab's checkpoint (src/nn/ckpt.c: a 72-byte header, the parameter block, each
    layer's blocks padded to 16 floats, then the optimiser state, the momentum first, in the
    same layout). Differences are relative to the block's largest actlab value."""
    with open(ckpt, "rb") as f:
        b = f.read()
    if b[:8] != b"ACTLCKP2":
        sys.exit(f"{ckpt}: not an actlab checkpoint")
    hb = struct.unpack("<I", b[12:16])[0]
    n_params, n_opt = struct.unpack("<QQ", b[16:32])
    p = np.frombuffer(b, np.float32, count=n_params, offset=hb)
    mom = np.frombuffer(b, np.float32, count=n_params, offset=hb + 4 * n_params) \
        if n_opt >= n_params else None
    off, worst, worst_m = 0, 0.0, 0.0

    def rel(mine, theirs):
        mine, theirs = mine.astype(np.float64), theirs.astype(np.float64)
        return np.abs(mine - theirs).max() / max(np.abs(theirs).max(), 1e-30)
    print(f"  {'block':24s} {'n':>6s}  param diff  momentum diff")
    for name, t, _ in param_blocks(net):
        n = t.numel()
        r = rel(t.detach().numpy().ravel(), p[off:off + n])
        worst = max(worst, r)
        line = f"  {name:24s} {n:6d}  {r:10.2e}"
        st = opt.state.get(t, {}) if t.requires_grad else {}
        if mom is not None and "momentum_buffer" in st:
            rm = rel(st["momentum_buffer"].numpy().ravel(), mom[off:off + n])
            worst_m = max(worst_m, rm)
            line += f"  {rm:12.2e}"
        print(line)
        off += (n + 15) // 16 * 16
    if off != n_params:
        print(f"  layout mismatch: {off} floats replicated, checkpoint has {n_params}")
    print(f"worst relative difference: parameters {worst:.2e}, momentum {worst_m:.2e}")


@torch.no_grad()
def load_ckpt(net, ckpt):
    """Copies the parameter block of actlab's checkpoint (BN running statistics included) into
    net, in param_blocks order."""
    with open(ckpt, "rb") as f:
        b = f.read()
    hb = struct.unpack("<I", b[12:16])[0]
    n_params = struct.unpack("<Q", b[16:24])[0]
    p = np.frombuffer(b, np.float32, count=n_params, offset=hb)
    off = 0
    for _, t, _ in param_blocks(net):
        n = t.numel()
        t.copy_(torch.from_numpy(p[off:off + n].copy()).view(t.shape).to(t.dtype))
        off += (n + 15) // 16 * 16


def dump(net, opt, path):
    """Writes net's parameter blocks and momentum buffers in the checkpoint's layout (magic,
    header size, counts, then the two blocks; no CRC, not loadable by actlab), so that --compare
    can measure one PyTorch run against another (float32 against --double)."""
    blocks = param_blocks(net)
    n = sum((t.numel() + 15) // 16 * 16 for _, t, _ in blocks)
    p, m = np.zeros(n, np.float32), np.zeros(n, np.float32)
    off = 0
    for _, t, _ in blocks:
        k = t.numel()
        p[off:off + k] = t.detach().double().numpy().ravel()
        st = opt.state.get(t, {}) if t.requires_grad else {}
        if "momentum_buffer" in st:
            m[off:off + k] = st["momentum_buffer"].double().numpy().ravel()
        off += (k + 15) // 16 * 16
    hdr = b"ACTLCKP2" + struct.pack("<IIQQ", 2, 72, n, 2 * n) + bytes(72 - 32)
    with open(path, "wb") as f:
        f.write(hdr + p.tobytes() + m.tobytes())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--act", default="relu")
    ap.add_argument("--blocks", type=int, default=1, help="resnet:N")
    ap.add_argument("--seeds", default="1", help="e.g. 1-6 or 1,3")
    ap.add_argument("--train-limit", type=int, default=4000)
    ap.add_argument("--test-limit", type=int, default=2000)
    ap.add_argument("--val", type=int, default=5000)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.02)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--init", choices=["he", "torch"], default="he")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--double", action="store_true",
                    help="train in float64 (from the same float32 initial values): the "
                         "reference that both float32 engines' rounding is measured against")
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--actlab", default=None)
    ap.add_argument("--compare", metavar="DIR", help="actlab --out DIR of the same run")
    ap.add_argument("--dump", metavar="DIR", help="write DIR/checkpoint.bin for --compare")
    ap.add_argument("--eval", metavar="DIR", help="no training: evaluate actlab's trained "
                    "DIR/checkpoint.bin (run with the same --seed) on the test images in eval "
                    "and train mode (BN running vs batch statistics); %%s in DIR: the seed")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    actlab = a.actlab or next((p for p in ("build/x/actlab", "build/actlab")
                               if os.path.exists(p)), "actlab")
    seeds = []
    for part in a.seeds.split(","):
        lo, _, hi = part.partition("-")
        seeds += list(range(int(lo), int(hi or lo) + 1))
    data = load_data(a.data_dir)
    act = make_act(a.act, actlab)
    allrows = []
    for s in seeds if a.eval else []:
        tr_x, tr_y, te_x, te_y = data
        perm, n_tr = split(len(tr_y), s, a.val, a.train_limit)
        norm = normaliser(tr_x, np.array(perm[:n_tr]), torch.float32)
        net = ResNet(a.blocks, act)
        load_ckpt(net, os.path.join(a.eval.replace("%s", str(s)), "checkpoint.bin"))
        n_test = min(a.test_limit or len(te_y), len(te_y))
        _, ev = evaluate(net, te_x[:n_test], te_y[:n_test], norm)
        _, trm = evaluate(net, te_x[:n_test], te_y[:n_test], norm, True)
        print(f"seed={s} actlab weights: test_acc eval mode {ev:.4f}, train mode {trm:.4f}")
    if a.eval:
        return
    for s in seeds:
        rows, net, opt = run(a, s, data, act)
        allrows += rows
        if a.dump:
            os.makedirs(a.dump, exist_ok=True)
            dump(net, opt, os.path.join(a.dump, "checkpoint.bin"))
        if a.compare:
            compare(net, opt, os.path.join(a.compare, "checkpoint.bin"))
    for ep in range(1, a.epochs + 1):
        for key in ("train_loss", "test_acc", "test_acc_trainmode"):
            v = np.array([r[key] for r in allrows if r["epoch"] == ep])
            if len(v):
                print(f"epoch {ep} {key}: mean {v.mean():.4f} sd {v.std(ddof=1) if len(v) > 1 else 0:.4f}"
                      f" min {v.min():.4f} max {v.max():.4f} (n={len(v)})")


if __name__ == "__main__":
    main()
