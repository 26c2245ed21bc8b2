#!/usr/bin/env python3
"""Converts a PyTorch state_dict (.pth) into Zoo's weight format for a network of the zoo.

    python tools/torch2zoo.py resnet50-v1.5 resnet50.pth resnet50.h5 [--zoo .build/release/zoo] [--preprocessing torch]

The torchvision models (`alexnet-torchvision`, `vgg11/13/16/19`, `googlenet-torchvision`,
`resnet*-v1.5`) register their modules in the order Zoo's definitions list the same layers, so the
state dict's layers (its tensors grouped by module, in order) are paired with the network's
layers that have parameters (from `zoo summary NAME --format json`), one to one; every pair is
checked by kind and shape before anything is written. Layouts: convolutions are OIHW and linear
layers (out, in) in both; BatchNorm weight/bias/running_mean/running_var become
gamma/beta/moving_mean/moving_variance; num_batches_tracked is dropped. torchvision's classifier
reads its flatten in C, H, W order, as Zoo does. The file is written to a temporary name and
renamed into place; an existing output is never replaced.

Needs torch, h5py and numpy (e.g. the /tmp/venv-tv venv of tools/torch_reference.py).
"""
import argparse
import json
import os
import subprocess
import sys
from collections import OrderedDict

import h5py
import numpy as np
import torch

BN = {"weight": "gamma", "bias": "beta", "running_mean": "moving_mean", "running_var": "moving_variance"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("network"), ap.add_argument("state_dict"), ap.add_argument("output")
    ap.add_argument("--zoo", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "zoo"))
    ap.add_argument("--preprocessing", default="torch")
    a = ap.parse_args()
    if os.path.exists(a.output):
        sys.exit(f"torch2zoo: {a.output} exists; not overwriting it")
    summary = json.loads(subprocess.run([a.zoo, "summary", a.network, "--format", "json"], check=True, capture_output=True, text=True).stdout)
    ours = [l for l in summary["layers"] if l["params"] > 0]
    state = torch.load(a.state_dict, map_location="cpu", weights_only=True)
    if "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    modules = OrderedDict()
    for key, tensor in state.items():
        module, _, name = key.rpartition(".")
        if name == "num_batches_tracked":
            continue
        modules.setdefault(module, OrderedDict())[name] = tensor.detach().float().numpy()
    if len(modules) != len(ours):
        sys.exit(f"torch2zoo: {a.state_dict} has {len(modules)} layers with tensors, {a.network} has {len(ours)} with parameters")
    tmp = a.output + ".partial"
    try:
        with h5py.File(tmp, "w", track_order=True) as f:
            f.attrs["zoo_format"] = "zoo-weights"
            f.attrs["zoo_format_version"] = 1
            f.attrs["architecture"] = summary["name"]
            f.attrs["preprocessing_preset"] = a.preprocessing
            f.attrs["origin"] = f"tools/torch2zoo.py from {os.path.basename(a.state_dict)}"
            for (module, tensors), layer in zip(modules.items(), ours):
                kind = layer["type"]
                if kind == "batchnorm":
                    if set(tensors) != set(BN):
                        sys.exit(f"torch2zoo: {module} ({', '.join(tensors)}) does not look like the BatchNorm {layer['name']}")
                    named = {BN[k]: v for k, v in tensors.items()}
                elif kind in ("conv", "dense"):
                    want = 4 if kind == "conv" else 2
                    if tensors["weight"].ndim != want:
                        sys.exit(f"torch2zoo: {module}.weight has shape {tensors['weight'].shape}; {layer['name']} is a {kind}")
                    named = {"kernel": tensors["weight"], **({"bias": tensors["bias"]} if "bias" in tensors else {})}
                else:
                    sys.exit(f"torch2zoo: cannot convert into a {kind} layer ({layer['name']})")
                g = f.create_group(layer["name"])
                for k, v in named.items():
                    g.create_dataset(k, data=np.ascontiguousarray(v, dtype=np.float32))
                print(f"{module:28} → {layer['name']}")
        os.replace(tmp, a.output)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print(f"wrote {a.output}: {len(ours)} layers")


if __name__ == "__main__":
    main()
