"""test_train.py -- a small CNN trained for 300 SGD steps with at.ACON_C (the kernel) and with the
same ACON-C composed from torch ops, from the same seed and data: the loss curves agree within
1e-4 relative at every step (measured: 4e-7; two orderings of the torch ops differ as much; at
lr 0.05 rounding differences grow to 1e-3 by step 300 for either), the trained beta agrees, and
the loss falls (the check is not vacuous).
Run by tests/cli/python_train.sh; exits 1 on failure."""
import sys

import torch
import torch.nn as nn

import actlab.torch as at
from actlab.torch import reference

STEPS = 300


class ComposedAconC(nn.Module):
    """ACON-C from torch ops, the same parameter names as at.ACON_C."""

    def __init__(self, channels):
        super().__init__()
        self.p1 = nn.Parameter(torch.ones(channels))
        self.p2 = nn.Parameter(torch.zeros(channels))
        self.beta = nn.Parameter(torch.ones(channels))

    def forward(self, x):
        return reference.compose("acon_c", x, self.p1, self.p2, self.beta)


def net(act):
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), act(8), nn.Conv2d(8, 8, 3, stride=2),
                         act(8), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))


def train(act, init_state, data, labels):
    torch.manual_seed(0)
    model = net(act)
    model.load_state_dict(init_state)
    opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    losses = []
    for step in range(STEPS):
        i = (step * 16) % data.shape[0]
        loss = nn.functional.cross_entropy(model(data[i:i + 16]), labels[i:i + 16])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, model


torch.manual_seed(1)
data = torch.randn(128, 1, 10, 10)
w = torch.randn(4, 100)
labels = (data.reshape(128, -1) @ w.t()).argmax(dim=1)
init = net(lambda c: at.ACON_C(c, init="paper", seed=3)).state_dict()
la, ma = train(at.ACON_C, init, data, labels)
lb, mb = train(ComposedAconC, init, data, labels)
worst = max(abs(a - b) / abs(b) for a, b in zip(la, lb))
first, last = sum(la[:10]) / 10, sum(la[-10:]) / 10
print("loss %.4f -> %.4f; worst relative difference of the curves %.2e" % (first, last, worst))
ok = worst < 1e-4 and last < 0.7 * first
pa, pb = ma[1].beta.detach(), mb[1].beta.detach()
drift = ((pa - pb).abs().max() / pb.abs().max()).item()
print("trained ACON-C beta: relative difference %.2e (moved %.3f from 1)"
      % (drift, (pb - 1).abs().max().item()))
ok = ok and drift < 1e-4 and (pb - 1).abs().max() > 1e-2
print("ok" if ok else "FAIL")
sys.exit(0 if ok else 1)
