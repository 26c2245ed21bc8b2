#!/usr/bin/env python3
"""A noisy neighbour on purpose, for SECONDS seconds, to run a comparison under the kind of
interference that this VM's other tenants cause in its slow spells. Pin it to the other core:

    taskset -c 1 python3 Benchmarks/neighbour.py memory 240 &     # 200 MB copies: memory bandwidth
    taskset -c 1 python3 Benchmarks/neighbour.py cpu 60 5 5 &     # spin 5 ms, sleep 5 ms: a core half taken
    taskset -c 0 /tmp/venv-tv/bin/python Benchmarks/engine_vs_onnxruntime.py --models googlenet,resnet50 \\
        --batches 1 --threads 1 --pairs 20                        # (memory: both engines on core 0)
    python3 Benchmarks/paced_ab.py "ZOO_X=0" "X=1" resnet50-v1.5 --threads 2   # (cpu: two threads, one core shared)

`memory` needs numpy; `cpu` nothing.
"""
import sys
import time

mode = sys.argv[1] if len(sys.argv) > 1 else "memory"
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 60
end = time.time() + seconds
if mode == "memory":
    import numpy as np
    a = np.ones(50_000_000, dtype=np.float32)
    b = np.empty_like(a)
    copies = 0
    while time.time() < end:
        np.copyto(b, a)
        copies += 1
    # Each copy reads 200 MB and writes 200 MB.
    print(f"neighbour: {copies} copies in {seconds:.0f} s, {copies * 0.4 / seconds:.1f} GB/s moved")
elif mode == "cpu":
    on = float(sys.argv[3]) / 1000 if len(sys.argv) > 3 else 0.005
    off = float(sys.argv[4]) / 1000 if len(sys.argv) > 4 else 0.005
    while time.time() < end:
        t = time.perf_counter()
        while time.perf_counter() - t < on:
            pass
        time.sleep(off)
else:
    sys.exit("usage: neighbour.py memory|cpu SECONDS [ON_MS OFF_MS]")
