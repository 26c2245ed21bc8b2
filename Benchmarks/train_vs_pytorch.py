#!/usr/bin/env python3
"""Training throughput, side by side with PyTorch on the same network and thread count:
`lenet5-common` (conv 6@5 → tanh → avgpool → conv 16@5 → tanh → avgpool → conv 120@5 → tanh → fc 84
→ tanh → fc 10, softmax cross-entropy), SGD with momentum, batch 64, one pass over the 4,000
training digits of mnist5k (tools/fetch-data.sh), then the loss and error on the 1,000 test digits.
Zoo's figure comes from `zoo train`'s own per-epoch time (training pass + test evaluation); PyTorch's
from the same two steps written in plain PyTorch.
Rounds alternate. Ratio = PyTorch time / Zoo time (≥ 1: Zoo as fast or faster).

    /tmp/venv-tv/bin/python Benchmarks/train_vs_pytorch.py [--rounds 3] [--threads 1] [--zoo .build/release/zoo]
"""
import argparse
import os
import statistics
import subprocess
import tempfile
import time

import torch
import torch.nn as nn

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--batch", type=int, default=64)
ap.add_argument("--zoo", default=os.path.join(here, "..", ".build", "release", "zoo"))
a = ap.parse_args()
torch.set_num_threads(a.threads)
model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
                      nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
x, y = torch.randn(4000, 1, 32, 32), torch.randint(0, 10, (4000,))
tx, ty = torch.randn(1000, 1, 32, 32), torch.randint(0, 10, (1000,))
zoo_t, torch_t = [], []
with tempfile.TemporaryDirectory() as tmp:
    for _ in range(a.rounds):
        out = subprocess.run([a.zoo, "train", "lenet5-common", "--data", "mnist5k", "--cache", os.path.join(here, "..", ".cache", "data"),
                              "--epochs", "1", "--batch", str(a.batch), "-o", os.path.join(tmp, "l.h5"), "--force", "--quiet"],
                             check=True, capture_output=True, text=True).stdout
        with open(os.path.join(tmp, "l.csv")) as f:   # the history, with the epoch's seconds unrounded
            zoo_t.append(float(f.read().splitlines()[1].split(",")[-1]))
        s = time.perf_counter()
        perm = torch.randperm(4000)
        for i in range(0, 4000, a.batch):
            idx = perm[i:i + a.batch]
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
        with torch.no_grad():
            for i in range(0, 1000, 256):
                out = model(tx[i:i + 256])
                loss = nn.functional.cross_entropy(out, ty[i:i + 256], reduction="sum").item()
                errors = (out.argmax(1) != ty[i:i + 256]).sum().item()
        torch_t.append(time.perf_counter() - s)
z, t = statistics.median(zoo_t), statistics.median(torch_t)
print(f"torch {torch.__version__}, {a.threads} thread(s), batch {a.batch}, 4,000 images per pass")
print(f"zoo   {z:6.2f} s per pass  {4000 / z:7.0f} training images/s (each pass also evaluates 1,000)")
print(f"torch {t:6.2f} s per pass  {4000 / t:7.0f} training images/s (the same)")
print(f"ratio torch/zoo = {t / z:.2f}")
