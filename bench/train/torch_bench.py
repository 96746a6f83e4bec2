#!/usr/bin/python3
"""torch_bench.py -- PyTorch 1.13 side of bench/train: training images/s for the same models,
batch and optimiser as `actlab train --bench` (SGD momentum 0.9, lr 0.01, cross-entropy, relu or
the named activation; frelu and acon_frelu in the mobile models), on Fashion-MNIST-shaped random
data (throughput does not depend on the pixel values). Models: mlp:WxD[,bn], cnn, resnet:N and the
mobile models of src/nn/models.c (shufflenetv2:W, mobilenet:ALPHA, tfnet[:W]), built as there
(their learnable parameter counts equal actlab's). Usage: torch_bench.py MODEL ACT THREADS
BATCHES [BATCH]. Prints one line: torch model=... act=... threads=... images_per_s=... params=..."""
import sys, time
import torch
import torch.nn as nn

model, act, threads, batches = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
batch = int(sys.argv[5]) if len(sys.argv) > 5 else 128
torch.set_num_threads(threads)
torch.manual_seed(0)
ACTS = {"relu": nn.ReLU, "silu": nn.SiLU, "swish": nn.SiLU, "gelu": nn.GELU}

class FReLU(nn.Module):           # max(x, BN(dwconv3x3(x) + b)), as src/nn/frelu.c
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1, groups=c); self.bn = nn.BatchNorm2d(c)
    def forward(self, x):
        return torch.max(x, self.bn(self.conv(x)))

class AconFReLU(FReLU):           # BN2((x - T) sigmoid(x - T) + T), T as FReLU's
    def __init__(self, c):
        super().__init__(c); self.bn2 = nn.BatchNorm2d(c)
    def forward(self, x):
        t = self.bn(self.conv(x)); d = x - t
        return self.bn2(d * torch.sigmoid(d) + t)

def A(c=None):                    # the activation; c: channels (FReLU and ACON-FReLU need them)
    if act in ("frelu", "acon_frelu"):
        if c is None:
            sys.exit(act + ": only in the mobile models here")
        return FReLU(c) if act == "frelu" else AconFReLU(c)
    return ACTS[act]()

def mlp(w, d, bn=False):   # actlab's mlp:WxD[,bn]: dense[-BN]-act per hidden layer
    layers, fan = [nn.Flatten()], 784
    for _ in range(d):
        layers += [nn.Linear(fan, w), *([nn.BatchNorm1d(w)] if bn else []), A()]
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

def conv_bn(cin, cout, k=1, stride=1, groups=1, act=True):   # conv (no bias)-BN[-act]
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
              nn.BatchNorm2d(cout)]
    return layers + [A(cout)] if act else layers

def shuffle(x, g):
    n, c, h, w = x.shape
    return x.view(n, g, c // g, h, w).transpose(1, 2).reshape(n, c, h, w)

class ShuffleUnit(nn.Module):     # ShuffleNetV2's units, Fig. 3 (c) and (d), torchvision's layout
    def __init__(self, cin, cout, stride):
        super().__init__()
        b, self.stride = cout // 2, stride
        if stride == 2:
            self.left = nn.Sequential(*conv_bn(cin, cin, 3, 2, cin, False), *conv_bn(cin, b))
        self.right = nn.Sequential(*conv_bn(cin if stride == 2 else b, b),
                                   *conv_bn(b, b, 3, stride, b, False), *conv_bn(b, b))
    def forward(self, x):
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            return shuffle(torch.cat((x1, self.right(x2)), 1), 2)
        return shuffle(torch.cat((self.left(x), self.right(x)), 1), 2)

def shufflenetv2(w):              # src/nn/models.c build_shufflenetv2: stem stride 1, no max-pool
    chans = {0.5: (48, 96, 192), 1.0: (116, 232, 464), 1.5: (176, 352, 704),
             2.0: (244, 488, 976)}[w]
    last, cin, layers = 2048 if w == 2.0 else 1024, 24, conv_bn(1, 24, 3)
    for c, n in zip(chans, (4, 8, 4)):
        for i in range(n):
            layers.append(ShuffleUnit(cin, c, 2 if i == 0 else 1)); cin = c
    return nn.Sequential(*layers, *conv_bn(cin, last), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(last, 10))

def mobilenet(a):                 # build_mobilenet: stem and the block to 128 at stride 1
    cin, layers = int(32 * a), conv_bn(1, int(32 * a), 3)
    for c, s in zip((64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024),
                    (1, 1, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1)):
        layers += conv_bn(cin, cin, 3, s, cin) + conv_bn(cin, int(c * a)); cin = int(c * a)
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 10))

class TFBlock(nn.Module):         # build_tfnet's tf_block: act(x + main(x)) or act(pool(cat))
    def __init__(self, c, stride):
        super().__init__()
        self.main = nn.Sequential(*conv_bn(c, c), *conv_bn(c, c, act=False))
        self.pool = nn.MaxPool2d(3, 2, 1) if stride == 2 else None
        self.act = A(2 * c if stride == 2 else c)
    def forward(self, x):
        if self.pool is None:
            return self.act(x + self.main(x))
        return self.act(self.pool(torch.cat((x, self.main(x)), 1)))

def tfnet(w):                     # build_tfnet: stem stride 1, stages of 2, 3, 8, 3 blocks
    c = int(16 * w); layers = conv_bn(1, c, 3)
    for n in (2, 3, 8, 3):
        for i in range(n):
            layers.append(TFBlock(c, 2 if i == 0 else 1)); c = 2 * c if i == 0 else c
    layers += conv_bn(c, 1024) + [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers, *([nn.Dropout(0.2)] if w > 0.5 else []), nn.Linear(1024, 10))

if model.startswith("mlp:"):
    spec = model[4:].split(","); w, d = spec[0].split("x")
    net = mlp(int(w), int(d), bn="bn" in spec[1:])
elif model == "cnn":
    net = cnn()
elif model.startswith("resnet:"):
    net = resnet(int(model[7:]))
elif model.startswith("shufflenetv2:"):
    net = shufflenetv2(float(model[13:]))
elif model.startswith("mobilenet:"):
    net = mobilenet(float(model[10:]))
elif model == "tfnet" or model.startswith("tfnet:"):
    net = tfnet(float(model[6:]) if ":" in model else 0.5)
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
params = sum(p.numel() for p in net.parameters())
print(f"torch model={model} act={act} threads={threads} images_per_s={batches * batch / dt:.1f}"
      f" images_per_cpu_s={batches * batch / dc:.1f} params={params}")
