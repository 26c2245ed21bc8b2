#!/usr/bin/env python3
"""Where the time goes, layer by layer, in Zoo and in onnxruntime: onnxruntime's own profiler (one
JSON event per node and run) on torchvision's architecture exported to ONNX, and `zoo bench` with
ZOO_PROFILE=1 (each layer's milliseconds on standard error) on the same architecture, same batch
and threads. Prints each side's median time per layer kind and per layer (the slowest first).
Layer names differ between the two (onnxruntime fuses Conv+ReLU, Conv+Add+ReLU, and names nodes
after PyTorch's modules): compare kinds, and layers by their position.

    /tmp/venv-tv/bin/python Benchmarks/layers_vs_onnxruntime.py googlenet [--batch 1] [--threads 1] [--runs 12]

With --paired ROUNDS: the two sides alternate ROUNDS times (a fresh onnxruntime session and a
`zoo bench` run each round, so both see the same minutes of a noisy machine) and each
convolution is printed in network order beside onnxruntime's convolution at the same position,
with the median of the rounds' ratios — for networks whose convolutions both sides run in the
same order (AlexNet, VGG-16, ResNet-50; not GoogLeNet, whose branches onnxruntime orders
differently). Times per image; onnxruntime's profiler under-reports with two threads (its
per-node times then sum to less than its wall time), so compare one thread.
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
ap.add_argument("--paired", type=int, default=0, metavar="ROUNDS")
a = ap.parse_args()


def show(title, per):
    kinds = collections.Counter()
    for (_, kind), ms in per.items():
        kinds[kind] += ms
    print(f"{title}: {sum(per.values()):.2f} ms per batch; by kind: " +
          ", ".join(f"{k} {v:.2f}" for k, v in kinds.most_common()))
    for (name, kind), ms in sorted(per.items(), key=lambda kv: -kv[1])[:a.top]:
        print(f"  {ms:8.3f} ms  {kind:12} {name}")


def profiled_run(path, x, prefix):
    """onnxruntime's profiler events for `a.runs` runs of the model (a fresh session each time)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = a.threads
    options.inter_op_num_threads = 1
    options.enable_profiling = True
    options.profile_file_prefix = prefix
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    for _ in range(a.runs):
        session.run(None, {"x": x})
    return json.load(open(session.end_profiling()))


def ort_convs(path, x, prefix):
    """onnxruntime's convolutions in the order it runs them, each its median ms per image."""
    order, times = [], collections.defaultdict(list)
    for e in profiled_run(path, x, prefix):
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and e["args"].get("op_name") == "Conv":
            name = e["name"][:-len("_kernel_time")]
            if name not in times:
                order.append(name)
            times[name].append(e["dur"] / 1000)
    return [statistics.median(times[n][2:] or times[n]) / a.batch for n in order]


def zoo_profile():
    """(layer, kind, ms) for each layer of each of `a.runs` + 2 runs of `zoo bench` (ZOO_PROFILE=1)."""
    env = dict(os.environ, ZOO_PROFILE="1")
    err = subprocess.run([a.zoo, "bench", ZOO_NAME[a.model], "--batch", str(a.batch), "--threads", str(a.threads),
                          "--runs", str(a.runs), "--warmup", "2"], env=env, check=True, capture_output=True, text=True).stderr
    for line in err.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[2].endswith(" ms"):
            yield parts[0], parts[1], float(parts[2][:-3])


def zoo_convs():
    """Zoo's convolutions in the order it runs them, each its median ms per image."""
    order, times = [], collections.defaultdict(list)
    for name, kind, ms in zoo_profile():
        if kind == "conv":
            if name not in times:
                order.append(name)
            times[name].append(ms)
    # A layer's time per run (with image streams each image's time, summed), the median over the
    # runs after the warm-up ones, per image.
    def per_image(v):
        per = max(1, len(v) // (a.runs + 2))
        sums = [sum(v[i * per:(i + 1) * per]) for i in range(len(v) // per)]
        return statistics.median(sums[2:] or sums) / a.batch
    return order, [per_image(times[n]) for n in order]


def paired(path, x):
    zoo_ms, ort_ms, ratios = collections.defaultdict(list), collections.defaultdict(list), collections.defaultdict(list)
    names = []
    for r in range(a.paired):
        theirs = ort_convs(path, x, os.path.join(os.path.dirname(path), f"ort{r}"))
        names, ours = zoo_convs()
        if len(theirs) != len(ours):
            raise SystemExit(f"{len(ours)} convolutions in Zoo, {len(theirs)} in onnxruntime: not comparable position by position")
        for i, (z, o) in enumerate(zip(ours, theirs)):
            zoo_ms[i].append(z)
            ort_ms[i].append(o)
            ratios[i].append(z / o)
        print(f"round {r + 1}: Zoo {sum(ours):.2f} ms, onnxruntime {sum(theirs):.2f} ms of convolutions per image", flush=True)
    print(f"{'convolution':24} {'Zoo ms':>8} {'ort ms':>8} {'Zoo/ort':>8} {'excess':>8}")
    for i, name in enumerate(names):
        z, o = statistics.median(zoo_ms[i]), statistics.median(ort_ms[i])
        print(f"{name:24} {z:8.3f} {o:8.3f} {statistics.median(ratios[i]):8.2f} {z - o:+8.3f}")
    print(f"{'all':24} {sum(statistics.median(v) for v in zoo_ms.values()):8.2f} {sum(statistics.median(v) for v in ort_ms.values()):8.2f}")


with tempfile.TemporaryDirectory() as tmp:
    kwargs = {"aux_logits": False, "init_weights": True, "transform_input": False} if a.model == "googlenet" else {}
    model = getattr(torchvision.models, a.model)(weights=None, **kwargs).eval()
    path = os.path.join(tmp, a.model + ".onnx")
    torch.onnx.export(model, torch.randn(1, 3, 224, 224), path, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, opset_version=17, dynamo=False)
    x = np.random.default_rng(0).standard_normal((a.batch, 3, 224, 224)).astype(np.float32)
    if a.paired:
        paired(path, x)
        raise SystemExit
    events = profiled_run(path, x, os.path.join(tmp, "ort"))
    times = collections.defaultdict(list)
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            times[(e["name"][:-len("_kernel_time")], e["args"].get("op_name", "?"))].append(e["dur"] / 1000)
    # The first runs warm up: the median of the rest.
    show(f"onnxruntime {ort.__version__}", {k: statistics.median(v[2:] or v) for k, v in times.items()})

    times = collections.defaultdict(list)
    for name, kind, ms in zoo_profile():
        times[(name, kind)].append(ms)
    # A layer's time per batch: the median over the runs after the 2 warm-up runs of its time in
    # each run. With image streams (batch > 1) each image's layers are timed and summed per run:
    # thread time, twice the wall time when two streams run at once.
    def per_run(v):
        per = max(1, len(v) // (a.runs + 2))
        sums = [sum(v[i * per:(i + 1) * per]) for i in range(len(v) // per)]
        return statistics.median(sums[2:] or sums)
    show("zoo", {k: per_run(v) for k, v in times.items()})
