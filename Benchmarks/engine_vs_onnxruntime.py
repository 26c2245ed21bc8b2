#!/usr/bin/env python3
"""Zoo's forward pass side by side with onnxruntime on this machine: the same architecture (exported
from torchvision with random weights), the same batch and thread count, runs alternating; prints
median ms per batch and the ratio (onnxruntime time / Zoo time: ≥ 1 means Zoo is as fast or faster),
of the medians, the median of each round's own ratio (less affected by a machine's drift) and the
ratio of each side's fastest run ("best": on a shared VM other tenants only ever add time, so the
fastest run is the nearest to each engine's own speed; report it beside the medians, not instead).

    /tmp/venv-tv/bin/pip install onnxruntime onnx
    /tmp/venv-tv/bin/python Benchmarks/engine_vs_onnxruntime.py [--models alexnet,vgg16,googlenet,resnet50]
        [--batches 1,8] [--threads 1,2] [--rounds 3] [--runs 5] [--pairs 0] [--zoo .build/release/zoo]

With --pairs N the two alternate run by run (N pairs, which goes first alternating; Zoo through one
`zoo bench --paced` process per cell) instead of in rounds of --runs each: on a VM whose speed
drifts from second to second, each pair's ratio then compares the two in the same second; the
columns after it are the middle half (25th–75th percentile) of the pairs' ratios and a 95 %
confidence interval of their median (distribution-free: order statistics of the binomial), and a
last table says which cells are met (the interval above 1), missed (below 1) or undecided (it
holds 1: more pairs, or a quieter machine, would tell).

Zoo runs through `zoo bench --json` (its own process, random weights, the same shapes). The
torchvision variants are used on both sides: alexnet-torchvision, vgg16, googlenet-torchvision,
resnet50-v1.5.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import tempfile
import time

import numpy as np
import onnxruntime as ort
import torch
import torchvision

from paced import PacedZoo

ZOO_NAME = {"alexnet": "alexnet-torchvision", "vgg16": "vgg16", "googlenet": "googlenet-torchvision",
            "resnet18": "resnet18-v1.5", "resnet50": "resnet50-v1.5"}
here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--models", default="alexnet,vgg16,googlenet,resnet50")
ap.add_argument("--batches", default="1,8")
ap.add_argument("--threads", default="1,2")
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--runs", type=int, default=5)
ap.add_argument("--zoo", default=os.path.join(here, "..", ".build", "release", "zoo"))
ap.add_argument("--pairs", type=int, default=0,
                help="alternate run by run instead of by rounds: this many Zoo/onnxruntime pairs per cell "
                     "(`zoo bench --paced` kept running beside the session; 'per round' is then per pair)")
ap.add_argument("--gap", type=float, default=100,
                help="with --pairs: ms of sleep before each run (onnxruntime's threads spin for 20-60 ms after a run, "
                     "which would take a core from Zoo's next run)")
a = ap.parse_args()


def ort_once(session, x):
    s = time.perf_counter()
    session.run(None, {"x": x})
    return (time.perf_counter() - s) * 1000


def median_interval(ratios, level=0.95):
    """A distribution-free confidence interval of the median of `ratios` (sorted): the k-th
    smallest and k-th largest, with k the largest whose binomial tail P(B < k), B ~ Bin(n, ½), is at
    most (1 − level)/2 (n = 30: the 10th and 21st). None when n is too small (n < 6 at 95 %)."""
    n, tail, k = len(ratios), 0.0, 0
    for j in range(n + 1):
        p = math.comb(n, j) / 2 ** n
        if tail + p > (1 - level) / 2:
            break
        tail += p
        k = j + 1
    return (ratios[k - 1], ratios[n - k]) if k > 0 else None


def paced(name, batch, threads, session, x, pairs):
    """Zoo's and onnxruntime's runs one by one, alternating which goes first, so that each pair
    shares the same second of the machine's drift: Zoo's times from one `zoo bench --paced` process."""
    zoo = PacedZoo(a.zoo, ZOO_NAME[name], batch, threads)

    def zoo_once():
        time.sleep(a.gap / 1000)
        return zoo.run()

    def ort_paced():
        time.sleep(a.gap / 1000)
        return ort_once(session, x)

    zoo_times, ort_times = [], []
    for i in range(pairs):
        if i % 2 == 0:
            zoo_times.append(zoo_once()); ort_times.append(ort_paced())
        else:
            ort_times.append(ort_paced()); zoo_times.append(zoo_once())
    zoo.close()
    return zoo_times, ort_times

print(f"onnxruntime {ort.__version__}, torch {torch.__version__}, {os.cpu_count()} cores")
print(f"{'model':10} {'batch':>5} {'thr':>3} {'zoo ms':>9} {'ort ms':>9} {'ort/zoo':>8} {'per round':>10} {'best':>6}"
      + (f" {'pairs p25–p75':>14} {'median 95% CI':>14}" if a.pairs > 0 else ""))
verdicts = []
with tempfile.TemporaryDirectory() as tmp:
    for name in a.models.split(","):
        kwargs = {"aux_logits": False, "init_weights": True, "transform_input": False} if name == "googlenet" else {}
        model = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
        path = os.path.join(tmp, name + ".onnx")
        torch.onnx.export(model, torch.randn(1, 3, 224, 224), path, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, opset_version=17, dynamo=False)
        for batch in map(int, a.batches.split(",")):
            x = np.random.default_rng(0).standard_normal((batch, 3, 224, 224)).astype(np.float32)
            for threads in map(int, a.threads.split(",")):
                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
                session.run(None, {"x": x})
                if a.pairs > 0:
                    session.run(None, {"x": x})
                    zoo_times, ort_times = paced(name, batch, threads, session, x, a.pairs)
                    z, o = statistics.median(zoo_times), statistics.median(ort_times)
                    ratios = sorted(ot / zt for zt, ot in zip(zoo_times, ort_times))
                    # The middle half of the pairs' ratios: how far one pair says from the next.
                    q1, _, q3 = statistics.quantiles(ratios, n=4)
                    interval = median_interval(ratios)
                    shown = f"{interval[0]:8.2f}–{interval[1]:.2f}" if interval else f"{'-':>14}"
                    print(f"{name:10} {batch:5d} {threads:3d} {z:9.1f} {o:9.1f} {o / z:8.2f} {statistics.median(ratios):10.2f} "
                          f"{min(ort_times) / min(zoo_times):6.2f} {q1:8.2f}–{q3:.2f} {shown}", flush=True)
                    if interval:
                        verdict = "met" if interval[0] >= 1 else "missed" if interval[1] < 1 else "undecided"
                        verdicts.append(f"{name} b{batch} t{threads}: {verdict} ({interval[0]:.2f}–{interval[1]:.2f})")
                    continue
                zoo_times, ort_times, zoo_best, ort_best = [], [], float("inf"), float("inf")
                for _ in range(a.rounds):   # alternate the two
                    out = subprocess.run([a.zoo, "bench", ZOO_NAME[name], "--batch", str(batch), "--threads", str(threads),
                                          "--runs", str(a.runs), "--warmup", "1", "--json"], check=True, capture_output=True, text=True).stdout
                    result = json.loads(out)
                    zoo_times.append(result["median_ms"])
                    zoo_best = min(zoo_best, result["min_ms"])
                    t = [ort_once(session, x) for _ in range(a.runs)]
                    ort_times.append(statistics.median(t))
                    ort_best = min(ort_best, min(t))
                z, o = statistics.median(zoo_times), statistics.median(ort_times)
                # Each round's two runs are seconds apart: their ratio drifts less than the medians'.
                per_round = statistics.median(ot / zt for zt, ot in zip(zoo_times, ort_times))
                print(f"{name:10} {batch:5d} {threads:3d} {z:9.1f} {o:9.1f} {o / z:8.2f} {per_round:10.2f} {ort_best / zoo_best:6.2f}",
                      flush=True)
if verdicts:
    print("Target ≥ 1.0 (the 95 % interval of the pairs' median ratio): " + "; ".join(verdicts))
