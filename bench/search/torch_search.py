#!/usr/bin/python3
"""torch_search.py -- the PyTorch 1.13 side of bench/search: what a user would otherwise do to
evaluate a list of candidate activations: a plain in-process training loop, one candidate after
another, the data loaded once.

Usage: torch_search.py ACTLAB MODEL TRAIN_LIMIT EPOCHS CANDFILE [PART NPARTS]
  ACTLAB      the actlab binary (`actlab expr torch EXPR` gives each candidate's nn.Module)
  MODEL       mlp:WxD, cnn or resnet:N (as src/nn/models.c builds them)
  CANDFILE    one expression a line; PART/NPARTS: this process takes lines i with
              i % NPARTS == PART (default 0 1)

It matches an `actlab search` trial (orch/fidelity.c, act_run_config_default,
act_train_config_default): Fashion-MNIST, the same split as src/nn/train.c (the same splitmix64
permutation with seed 1: validation its last 5,000 images, training its first TRAIN_LIMIT), the
same per-epoch shuffles, normalisation by the training split's mean and std, batch 128 (the last
batch partial), cross-entropy, SGD lr 0.02 momentum 0.9 no weight decay, constant lr, He-normal
weights and zero biases, the activation at every position (the stem too) with per-channel betas
starting at the module's defaults, the validation accuracy after every epoch (a search's trial
evaluates no test set, on either side),
a non-finite loss ends the candidate as failed. torch.set_num_threads(1).

Prints one tab-separated line per candidate: torch_cand, expr, val_acc (nan when failed),
seconds (training and evaluation), and a last line: torch_total n=... seconds=... load_s=..."""
import gzip, math, subprocess, sys, time
import numpy as np
import torch
import torch.nn as nn

M64 = (1 << 64) - 1


def splitmix(state):
    """One act_rng_next step: (new state, value)."""
    state = (state + 0x9e3779b97f4a7c15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M64
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M64
    return state, z ^ (z >> 31)


def shuffle(a, state):
    """src/nn/train.c shuffle(): Fisher-Yates from the top with next % i."""
    for i in range(len(a), 1, -1):
        state, v = splitmix(state)
        j = v % i
        a[i - 1], a[j] = a[j], a[i - 1]
    return state


def read_idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    nd = b[3]
    dims = [int.from_bytes(b[4 + 4 * k: 8 + 4 * k], "big") for k in range(nd)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


def main():
    actlab, model, train_limit, epochs, candfile = sys.argv[1:6]
    train_limit, epochs = int(train_limit), int(epochs)
    part, nparts = (int(sys.argv[6]), int(sys.argv[7])) if len(sys.argv) > 7 else (0, 1)
    torch.set_num_threads(1)
    seed, batch, n_val, lr = 1, 128, 5000, 0.02
    with open(candfile) as f:
        cands = [ln.strip() for ln in f if ln.strip()]
    cands = [c for i, c in enumerate(cands) if i % nparts == part]

    t_load = time.perf_counter()
    d = "/usr/share/datasets/fashion-mnist/"
    xtr = read_idx(d + "train-images-idx3-ubyte.gz")
    ytr = read_idx(d + "train-labels-idx1-ubyte.gz")
    N = len(xtr)
    perm = list(range(N))
    shuffle(perm, seed ^ 0x9e3779b97f4a7c15)
    n_tr = min(N - n_val, train_limit) if train_limit else N - n_val
    tr_idx, val_idx = perm[:n_tr], perm[N - n_val:]
    px = xtr[tr_idx].astype(np.float64) / 255.0
    mean, std = px.mean(), math.sqrt(max((px * px).mean() - px.mean() ** 2, 1e-12))
    def norm(a):
        return torch.from_numpy(((a.astype(np.float32) / 255.0 - np.float32(mean))
                                 / np.float32(std)).astype(np.float32)).unsqueeze(1)
    X, Y = norm(xtr), torch.from_numpy(ytr.astype(np.int64))
    Xv, Yv = X[val_idx], Y[val_idx]
    orders = []
    for ep in range(epochs):
        o = list(tr_idx)
        shuffle(o, (seed * 0x100000001b3 + ep * 0x9e3779b97f4a7c15 + 7) & M64)
        orders.append(torch.tensor(o, dtype=torch.int64))
    load_s = time.perf_counter() - t_load

    def build(Act):
        if model.startswith("mlp:"):
            w, dep = (int(v) for v in model[4:].split("x"))
            layers, fan = [nn.Flatten()], 784
            for _ in range(dep):
                layers += [nn.Linear(fan, w), Act(w)]
                fan = w
            net = nn.Sequential(*layers, nn.Linear(fan, 10))
        elif model == "cnn":
            net = nn.Sequential(nn.Conv2d(1, 32, 3), Act(32), nn.Conv2d(32, 64, 3), Act(64),
                                nn.MaxPool2d(2), nn.Flatten(), nn.Linear(9216, 128), Act(128),
                                nn.Linear(128, 10))
        elif model.startswith("resnet:"):
            class Block(nn.Module):   # bench/train/torch_bench.py's, per-channel activations
                def __init__(self, cin, cout, stride):
                    super().__init__()
                    self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
                    self.b1 = nn.BatchNorm2d(cout)
                    self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
                    self.b2 = nn.BatchNorm2d(cout)
                    self.a1, self.a2 = Act(cout), Act(cout)
                    self.sc = None
                    if stride != 1 or cin != cout:
                        self.sc = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                                nn.BatchNorm2d(cout))

                def forward(self, x):
                    h = self.b2(self.c2(self.a1(self.b1(self.c1(x)))))
                    return self.a2(h + (x if self.sc is None else self.sc(x)))
            layers, cin = [nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), Act(16)], 16
            for st in range(3):
                for b in range(int(model[7:])):
                    cout = 16 << st
                    layers.append(Block(cin, cout, 2 if st > 0 and b == 0 else 1))
                    cin = cout
            net = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
        else:
            sys.exit("unknown model " + model)
        for m in net.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        return net

    def accuracy(net, x, y):
        hits = 0
        with torch.no_grad():
            for s in range(0, len(x), batch):
                hits += (net(x[s:s + batch]).argmax(1) == y[s:s + batch]).sum().item()
        return hits / len(x)

    loss_fn = nn.CrossEntropyLoss()
    t_all = time.perf_counter()
    for expr in cands:
        t0 = time.perf_counter()
        src = subprocess.run([actlab, "expr", "torch", "--", expr], check=True,
                             capture_output=True, text=True).stdout
        ns = {}
        exec(src, ns)
        torch.manual_seed(seed)
        net = build(ns["ActExpr"])
        opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
        val = float("nan")
        ok = True
        for ep in range(epochs):
            net.train()
            for s in range(0, n_tr, batch):
                idx = orders[ep][s:s + batch]
                opt.zero_grad()
                loss = loss_fn(net(X[idx]), Y[idx])
                if not math.isfinite(loss.item()):
                    ok = False
                    break
                loss.backward()
                opt.step()
            if not ok:
                break
            net.eval()
            val = accuracy(net, Xv, Yv)   # a search's trial: validation only, as actlab's
        if not ok or not math.isfinite(val):
            val = float("nan")
        print(f"torch_cand\t{expr}\t{val:.4f}\t{time.perf_counter() - t0:.3f}", flush=True)
    print(f"torch_total n={len(cands)} seconds={time.perf_counter() - t_all:.2f}"
          f" load_s={load_s:.2f}", flush=True)


main()
