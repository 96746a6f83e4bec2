#!/usr/bin/python3
"""torch_bench.py -- PyTorch 1.13 side of bench/train: training images/s for the same models,
batch and optimiser as `actlab train --bench` (SGD momentum 0.9, lr 0.01, cross-entropy, relu or
the named activation), on Fashion-MNIST-shaped random data (throughput does not depend on the
pixel values). Usage: torch_bench.py MODEL ACT THREADS BATCHES [BATCH]. Prints one line:
torch model=... act=... threads=... images_per_s=..."""
import sys, time
import torch
import torch.nn as nn

model, act, threads, batches = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
batch = int(sys.argv[5]) if len(sys.argv) > 5 else 128
torch.set_num_threads(threads)
torch.manual_seed(0)
A = {"relu": nn.ReLU, "silu": nn.SiLU, "swish": nn.SiLU, "gelu": nn.GELU}[act]

def mlp(w, d):
    layers, fan = [nn.Flatten()], 784
    for _ in range(d):
        layers += [nn.Linear(fan, w), A()]
        fan = w
    return nn.Sequential(*layers, nn.Linear(fan, 10))

def cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3), A(), nn.Conv2d(32, 64, 3), A(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(9216, 128), A(), nn.Linear(128, 10))

class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False); self.b2 = nn.BatchNorm2d(cout)
        self.a1, self.a2 = A(), A()
        self.sc = None
        if stride != 1 or cin != cout:
            self.sc = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
    def forward(self, x):
        h = self.b2(self.c2(self.a1(self.b1(self.c1(x)))))
        return self.a2(h + (x if self.sc is None else self.sc(x)))

def resnet(n):
    layers, cin = [nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), A()], 16
    for s in range(3):
        for b in range(n):
            cout = 16 << s
            layers.append(Block(cin, cout, 2 if s > 0 and b == 0 else 1)); cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))

if model.startswith("mlp:"):
    w, d = model[4:].split("x"); net = mlp(int(w), int(d))
elif model == "cnn":
    net = cnn()
elif model.startswith("resnet:"):
    net = resnet(int(model[7:]))
else:
    sys.exit("unknown model " + model)
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()
x = torch.randn(batch, 1, 28, 28)
y = torch.randint(0, 10, (batch,))
def step():
    opt.zero_grad(); loss = loss_fn(net(x), y); loss.backward(); opt.step()
for _ in range(batches):     # warm-up, as actlab's first epoch
    step()
t0, c0 = time.perf_counter(), time.process_time()
for _ in range(batches):
    step()
dt, dc = time.perf_counter() - t0, time.process_time() - c0
print(f"torch model={model} act={act} threads={threads} images_per_s={batches * batch / dt:.1f}"
      f" images_per_cpu_s={batches * batch / dc:.1f}")
