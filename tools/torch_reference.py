#!/usr/bin/env python3
"""What PyTorch says about every architecture: per-layer output shapes, parameter counts and MACs,
recorded by forward hooks on a batch of one, for torchvision's models and for the papers'
networks transcribed into plain torch.nn. Output: Tests/Fixtures/reference/<model>.json
(committed; the Swift tests compare Zoo's definitions with it and need no Python).

Each file: {"model", "source", "constructor", "torch", "torchvision",
            "layers": [{"module", "type", "output", "params", "macs"?}, …]  (leaf modules in call order),
            "totals": {"input", "params", "trainable", "buffers", "macs"}}
`params` counts a module's own parameters; `buffers` counts BN running statistics
(num_batches_tracked excluded); `macs` = multiply-accumulates per sample of Conv2d and Linear
layers, from the actual output shape. No weights are downloaded: every model is built with
random weights.

Rerun: python3 -m venv /tmp/venv-tv && /tmp/venv-tv/bin/pip install torch torchvision
       /tmp/venv-tv/bin/python tools/torch_reference.py
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "reference")
os.makedirs(OUT, exist_ok=True)


def record(name, model, input_shape, constructor, source, expect=None):
    model.eval()
    layers, seen = [], set()

    def hook(module, inputs, output):
        path = names[id(module)]
        entry = {"module": path, "type": type(module).__name__, "output": list(output.shape[1:]),
                 "params": 0 if path in seen else sum(p.numel() for p in module.parameters(recurse=False))}
        seen.add(path)
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            entry["macs"] = output.numel() // output.shape[0] * (module.in_channels // module.groups) * kh * kw
        elif isinstance(module, nn.Linear):
            entry["macs"] = module.in_features * module.out_features
        layers.append(entry)

    names = {id(m): n for n, m in model.named_modules()}
    handles = [m.register_forward_hook(hook) for n, m in model.named_modules() if len(list(m.children())) == 0]
    with torch.no_grad():
        model(torch.zeros(1, *input_shape))
    for h in handles:
        h.remove()
    totals = {
        "input": list(input_shape),
        "params": sum(p.numel() for p in model.parameters()),
        "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "buffers": sum(b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked")),
        "macs": sum(l.get("macs", 0) for l in layers),
    }
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump({"model": name, "source": source, "constructor": constructor, "torch": torch.__version__,
                   "torchvision": torchvision.__version__, "note": "buffers exclude BN num_batches_tracked",
                   "layers": layers, "totals": totals}, f, separators=(",", ":"))
    status = "" if expect is None else ("ok" if totals["trainable"] == expect else f"EXPECTED {expect:,}")
    print(f"{name:22} params {totals['trainable']:>12,}  MACs {totals['macs'] / 1e9:7.3f}G  {status}")
    if expect is not None:
        assert totals["trainable"] == expect, name


tv = torchvision.models
record("alexnet", tv.alexnet(weights=None), (3, 224, 224), "torchvision.models.alexnet(weights=None)", "torchvision", 61100840)
for n, e in [("vgg11", 132863336), ("vgg13", 133047848), ("vgg16", 138357544), ("vgg19", 143667240)]:
    record(n, getattr(tv, n)(weights=None), (3, 224, 224), f"torchvision.models.{n}(weights=None)", "torchvision", e)
record("googlenet", tv.googlenet(weights=None, aux_logits=False, init_weights=True, transform_input=False), (3, 224, 224),
       "torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True, transform_input=False)", "torchvision", 6624904)
for n, e in [("resnet18", 11689512), ("resnet34", 21797672), ("resnet50", 25557032), ("resnet101", 44549160), ("resnet152", 60192808)]:
    record(n, getattr(tv, n)(weights=None), (3, 224, 224), f"torchvision.models.{n}(weights=None)", "torchvision", e)


# --- The papers' networks in plain torch.nn (independent transcriptions of papers.md) ------------
def alexnet_paper(groups):
    return [
        ("conv1", nn.Conv2d(3, 96, 11, 4)), ("relu1", nn.ReLU()), ("norm1", nn.LocalResponseNorm(5, 5e-4, 0.75, 2.0)), ("pool1", nn.MaxPool2d(3, 2)),
        ("conv2", nn.Conv2d(96, 256, 5, padding=2, groups=groups)), ("relu2", nn.ReLU()), ("norm2", nn.LocalResponseNorm(5, 5e-4, 0.75, 2.0)), ("pool2", nn.MaxPool2d(3, 2)),
        ("conv3", nn.Conv2d(256, 384, 3, padding=1)), ("relu3", nn.ReLU()),
        ("conv4", nn.Conv2d(384, 384, 3, padding=1, groups=groups)), ("relu4", nn.ReLU()),
        ("conv5", nn.Conv2d(384, 256, 3, padding=1, groups=groups)), ("relu5", nn.ReLU()), ("pool5", nn.MaxPool2d(3, 2)),
        ("flatten", nn.Flatten()), ("fc6", nn.Linear(9216, 4096)), ("relu6", nn.ReLU()), ("drop6", nn.Dropout()),
        ("fc7", nn.Linear(4096, 4096)), ("relu7", nn.ReLU()), ("drop7", nn.Dropout()), ("fc8", nn.Linear(4096, 1000))]


def named(pairs):
    m = nn.Sequential()
    for n, mod in pairs:
        m.add_module(n, mod)
    return m


record("alexnet_paper", named(alexnet_paper(2)), (3, 227, 227), "plain torch.nn, papers.md §2.2 (groups=2 on conv2/4/5)", "paper", 60965224)
record("alexnet_ungrouped", named(alexnet_paper(1)), (3, 227, 227), "plain torch.nn, papers.md §2.4", "paper", 62378344)


def zfnet(w3, w4, w5):
    return named([
        ("conv1", nn.Conv2d(3, 96, 7, 2, padding=1)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(3, 2, ceil_mode=True)), ("norm1", nn.LocalResponseNorm(5, 5e-4, 0.75, 2.0)),
        ("conv2", nn.Conv2d(96, 256, 5, 2)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(3, 2, ceil_mode=True)), ("norm2", nn.LocalResponseNorm(5, 5e-4, 0.75, 2.0)),
        ("conv3", nn.Conv2d(256, w3, 3, padding=1)), ("relu3", nn.ReLU()), ("conv4", nn.Conv2d(w3, w4, 3, padding=1)), ("relu4", nn.ReLU()),
        ("conv5", nn.Conv2d(w4, w5, 3, padding=1)), ("relu5", nn.ReLU()), ("pool5", nn.MaxPool2d(3, 2)),
        ("flatten", nn.Flatten()), ("fc6", nn.Linear(6 * 6 * w5, 4096)), ("relu6", nn.ReLU()), ("drop6", nn.Dropout()),
        ("fc7", nn.Linear(4096, 4096)), ("relu7", nn.ReLU()), ("drop7", nn.Dropout()), ("fc8", nn.Linear(4096, 1000))])


record("zfnet", zfnet(384, 384, 256), (3, 224, 224), "plain torch.nn, papers.md §3.1", "paper", 62357608)
record("zfnet_b", zfnet(512, 1024, 512), (3, 224, 224), "plain torch.nn, papers.md §3.1 variant (b)", "paper", 107627624)
record("lenet5_common", named([
    ("C1", nn.Conv2d(1, 6, 5)), ("t1", nn.Tanh()), ("S2", nn.AvgPool2d(2)), ("C3", nn.Conv2d(6, 16, 5)), ("t3", nn.Tanh()),
    ("S4", nn.AvgPool2d(2)), ("C5", nn.Conv2d(16, 120, 5)), ("t5", nn.Tanh()), ("flatten", nn.Flatten()),
    ("F6", nn.Linear(120, 84)), ("t6", nn.Tanh()), ("OUTPUT", nn.Linear(84, 10))]), (1, 32, 32), "plain torch.nn, papers.md §1.6", "paper", 61706)


class Inception(nn.Module):
    def __init__(self, cin, n1, r3, n3, r5, n5, pp):
        super().__init__()
        self.b1 = nn.Sequential(nn.Conv2d(cin, n1, 1), nn.ReLU())
        self.b2 = nn.Sequential(nn.Conv2d(cin, r3, 1), nn.ReLU(), nn.Conv2d(r3, n3, 3, padding=1), nn.ReLU())
        self.b3 = nn.Sequential(nn.Conv2d(cin, r5, 1), nn.ReLU(), nn.Conv2d(r5, n5, 5, padding=2), nn.ReLU())
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, padding=1), nn.Conv2d(cin, pp, 1), nn.ReLU())

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


rows = [("3a", 192, 64, 96, 128, 16, 32, 32), ("3b", 256, 128, 128, 192, 32, 96, 64), "pool",
        ("4a", 480, 192, 96, 208, 16, 48, 64), ("4b", 512, 160, 112, 224, 24, 64, 64), ("4c", 512, 128, 128, 256, 24, 64, 64),
        ("4d", 512, 112, 144, 288, 32, 64, 64), ("4e", 528, 256, 160, 320, 32, 128, 128), "pool",
        ("5a", 832, 256, 160, 320, 32, 128, 128), ("5b", 832, 384, 192, 384, 48, 128, 128)]
g = [("conv1", nn.Conv2d(3, 64, 7, 2, padding=3)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(3, 2, ceil_mode=True)),
     ("norm1", nn.LocalResponseNorm(5, 1e-4, 0.75)), ("conv2_reduce", nn.Conv2d(64, 64, 1)), ("relu2r", nn.ReLU()),
     ("conv2", nn.Conv2d(64, 192, 3, padding=1)), ("relu2", nn.ReLU()), ("norm2", nn.LocalResponseNorm(5, 1e-4, 0.75)),
     ("pool2", nn.MaxPool2d(3, 2, ceil_mode=True))]
pools = iter(["pool3", "pool4"])
for r in rows:
    g.append((next(pools), nn.MaxPool2d(3, 2, ceil_mode=True)) if r == "pool" else ("inception_" + r[0], Inception(*r[1:])))
g += [("pool5", nn.AvgPool2d(7, 1)), ("drop", nn.Dropout(0.4)), ("flatten", nn.Flatten()), ("fc", nn.Linear(1024, 1000))]
record("googlenet_paper", named(g), (3, 224, 224), "plain torch.nn, papers.md §5.1 (true 5×5, LRN, biases, no BN)", "paper", 6998552)


class BasicA(nn.Module):
    """torchvision's BasicBlock with an option-A shortcut (every second pixel, zero channels)."""
    def __init__(self, cin, w, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, w, 3, stride, 1, bias=False); self.bn1 = nn.BatchNorm2d(w); self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(w, w, 3, 1, 1, bias=False); self.bn2 = nn.BatchNorm2d(w)
        self.stride, self.pad = stride, w - cin

    def forward(self, x):
        h = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        s = x[:, :, ::self.stride, ::self.stride]
        if self.pad:
            s = F.pad(s, (0, 0, 0, 0, 0, self.pad))
        return self.relu(h + s)


def resnet_a(blocks):
    m = [("conv1", nn.Conv2d(3, 64, 7, 2, 3, bias=False)), ("bn1", nn.BatchNorm2d(64)), ("relu", nn.ReLU()), ("maxpool", nn.MaxPool2d(3, 2, 1))]
    cin = 64
    for s, (n, w) in enumerate(zip(blocks, [64, 128, 256, 512])):
        for b in range(n):
            m.append((f"layer{s + 1}_{b}", BasicA(cin, w, 2 if (b == 0 and s > 0) else 1)))
            cin = w
    m += [("avgpool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("fc", nn.Linear(512, 1000))]
    return named(m)


record("resnet18_optionA", resnet_a([2, 2, 2, 2]), (3, 224, 224), "torchvision BasicBlock with option-A shortcuts", "paper", 11515688)
record("resnet34_optionA", resnet_a([3, 4, 6, 3]), (3, 224, 224), "torchvision BasicBlock with option-A shortcuts", "paper", 21623848)


def resnet_v1(name):
    """torchvision's ResNet with the stride moved back to the first 1×1 (the authors' release)."""
    m = getattr(tv, name)(weights=None)
    for layer in [m.layer2, m.layer3, m.layer4]:
        block = layer[0]
        block.conv1.stride, block.conv2.stride = (2, 2), (1, 1)
    m.maxpool = nn.MaxPool2d(3, 2, ceil_mode=True)
    return m


for n, e in [("resnet50", 25557032), ("resnet101", 44549160), ("resnet152", 60192808)]:
    record(n + "_v1", resnet_v1(n), (3, 224, 224), f"torchvision.models.{n} with stride 2 on conv1 of each first bottleneck, Caffe stem pool", "authors' release", e)
