#!/usr/bin/env python3
"""Where the time goes, layer by layer, in Zoo and in onnxruntime: onnxruntime's own profiler (one
JSON event per node and run) on torchvision's architecture exported to ONNX, and `zoo bench` with
ZOO_PROFILE=1 (each layer's milliseconds on standard error) on the same architecture, same batch
and threads. Prints each side's median time per layer kind and per layer (the slowest first).
Layer names differ between the two (onnxruntime fuses Conv+ReLU, Conv+Add+ReLU, and names nodes
after PyTorch's modules): compare kinds, and layers by their position.

    /tmp/venv-tv/bin/python Benchmarks/layers_vs_onnxruntime.py googlenet [--batch 1] [--threads 1] [--runs 12]
"""
import argparse
import collections
import json
import os
import statistics
import subprocess
import tempfile

import numpy as np
import onnxruntime as ort
import torch
import torchvision

ZOO_NAME = {"alexnet": "alexnet-torchvision", "vgg16": "vgg16", "googlenet": "googlenet-torchvision",
            "resnet18": "resnet18-v1.5", "resnet50": "resnet50-v1.5"}
here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("model", choices=sorted(ZOO_NAME))
ap.add_argument("--batch", type=int, default=1)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--runs", type=int, default=12)
ap.add_argument("--top", type=int, default=15)
ap.add_argument("--zoo", default=os.path.join(here, "..", ".build", "release", "zoo"))
a = ap.parse_args()


def show(title, per):
    kinds = collections.Counter()
    for (_, kind), ms in per.items():
        kinds[kind] += ms
    print(f"{title}: {sum(per.values()):.2f} ms per batch; by kind: " +
          ", ".join(f"{k} {v:.2f}" for k, v in kinds.most_common()))
    for (name, kind), ms in sorted(per.items(), key=lambda kv: -kv[1])[:a.top]:
        print(f"  {ms:8.3f} ms  {kind:12} {name}")


with tempfile.TemporaryDirectory() as tmp:
    kwargs = {"aux_logits": False, "init_weights": True, "transform_input": False} if a.model == "googlenet" else {}
    model = getattr(torchvision.models, a.model)(weights=None, **kwargs).eval()
    path = os.path.join(tmp, a.model + ".onnx")
    torch.onnx.export(model, torch.randn(1, 3, 224, 224), path, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, opset_version=17, dynamo=False)
    options = ort.SessionOptions()
    options.intra_op_num_threads = a.threads
    options.inter_op_num_threads = 1
    options.enable_profiling = True
    options.profile_file_prefix = os.path.join(tmp, "ort")
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((a.batch, 3, 224, 224)).astype(np.float32)
    for _ in range(a.runs):
        session.run(None, {"x": x})
    events = json.load(open(session.end_profiling()))
    times = collections.defaultdict(list)
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            times[(e["name"][:-len("_kernel_time")], e["args"].get("op_name", "?"))].append(e["dur"] / 1000)
    # The first runs warm up: the median of the rest.
    show(f"onnxruntime {ort.__version__}", {k: statistics.median(v[2:] or v) for k, v in times.items()})

    env = dict(os.environ, ZOO_PROFILE="1")
    err = subprocess.run([a.zoo, "bench", ZOO_NAME[a.model], "--batch", str(a.batch), "--threads", str(a.threads),
                          "--runs", str(a.runs), "--warmup", "2"], env=env, check=True, capture_output=True, text=True).stderr
    times = collections.defaultdict(list)
    for line in err.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[2].endswith(" ms"):
            times[(parts[0], parts[1])].append(float(parts[2][:-3]))
    # A layer's time per batch: the median over the runs after the 2 warm-up runs of its time in
    # each run. With image streams (batch > 1) each image's layers are timed and summed per run:
    # thread time, twice the wall time when two streams run at once.
    def per_run(v):
        per = max(1, len(v) // (a.runs + 2))
        sums = [sum(v[i * per:(i + 1) * per]) for i in range(len(v) // per)]
        return statistics.median(sums[2:] or sums)
    show("zoo", {k: per_run(v) for k, v in times.items()})
