#!/usr/bin/env python3
"""A neighbour that takes memory bandwidth: copies a 200 MB array into another, over and over, for
SECONDS seconds, then prints how much it moved. Pinned to the other core, it stands in for the
other tenants whose traffic slows this VM in its slow spells, so that an engine's comparison can
be run under it on purpose:

    taskset -c 1 python3 Benchmarks/memory_hog.py 240 &
    taskset -c 0 /tmp/venv-tv/bin/python Benchmarks/engine_vs_onnxruntime.py --models googlenet,resnet50 \\
        --batches 1 --threads 1 --pairs 20

Needs numpy.
"""
import sys
import time

import numpy as np

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60
a = np.ones(50_000_000, dtype=np.float32)
b = np.empty_like(a)
end, copies = time.time() + seconds, 0
while time.time() < end:
    np.copyto(b, a)
    copies += 1
# Each copy reads 200 MB and writes 200 MB.
print(f"memory_hog: {copies} copies in {seconds:.0f} s, {copies * 0.4 / seconds:.1f} GB/s moved")
