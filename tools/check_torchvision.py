#!/usr/bin/env python3
"""End-to-end check against torchvision: random-weight torchvision models (BN statistics made
non-trivial) → torch.save → tools/torch2zoo.py → `zoo run --weights` on the same input →
max |Zoo − torchvision| / max |torchvision| of the logits. No weights are downloaded.

    /tmp/venv-tv/bin/python tools/check_torchvision.py [--models resnet18,googlenet,…] [--zoo PATH]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision

PAIRS = {"alexnet": "alexnet-torchvision", "vgg11": "vgg11", "vgg16": "vgg16", "googlenet": "googlenet-torchvision",
         "resnet18": "resnet18-v1.5", "resnet50": "resnet50-v1.5", "resnet101": "resnet101-v1.5"}
here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--models", default="alexnet,googlenet,resnet18,resnet50")
ap.add_argument("--zoo", default=os.path.join(here, "..", ".build", "release", "zoo"))
a = ap.parse_args()
worst = 0.0
with tempfile.TemporaryDirectory() as tmp:
    for name in a.models.split(","):
        torch.manual_seed(0)
        kwargs = {"aux_logits": False, "init_weights": True, "transform_input": False} if name == "googlenet" else {}
        m = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5); mod.running_var.uniform_(0.5, 1.5)
                mod.weight.data.uniform_(0.5, 1.5); mod.bias.data.uniform_(-0.2, 0.2)
        pth, h5 = os.path.join(tmp, name + ".pth"), os.path.join(tmp, name + ".h5")
        x = torch.randn(2, 3, 224, 224)
        np.save(os.path.join(tmp, "in.npy"), x.numpy())
        with torch.no_grad():
            ref = m(x).numpy()
        torch.save(m.state_dict(), pth)
        subprocess.run([sys.executable, os.path.join(here, "torch2zoo.py"), PAIRS[name], pth, h5, "--zoo", a.zoo], check=True, capture_output=True)
        out = os.path.join(tmp, "out.npy")
        subprocess.run([a.zoo, "run", PAIRS[name], "--weights", h5, "--input", os.path.join(tmp, "in.npy"), "--output", "fc" if "resnet" in name or name == "googlenet" else "fc8",
                        "--save", out, "--force"], check=True, capture_output=True)
        err = float(np.abs(np.load(out) - ref).max() / np.abs(ref).max())
        worst = max(worst, err)
        print(f"{name:10} → {PAIRS[name]:22} max relative difference {err:.2e}")
print(f"worst {worst:.2e}")
sys.exit(0 if worst <= 1e-5 else 1)
