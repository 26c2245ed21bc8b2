#!/usr/bin/env python3
"""Writes the small HDF5 files ZooHDF5's tests read, with h5py (the writer Keras uses), into
Tests/Fixtures/hdf5/ (committed; CI needs no Python):

  kinds.h5      datasets of float32/float64/int32/uint8/strings, ranks 0–4, nested groups, and
                attributes of every kind Keras and h5py write (scalars, arrays, fixed-length bytes,
                variable-length strings, arrays of fixed-length bytes as Keras's `layer_names`, an
                empty float64 array as Keras's `weight_names` of a weightless layer)
  ordered.h5    a group that tracks creation order (members listed z, a, m)
  truncated.h5  kinds.h5 cut to half its length
  not-hdf5.h5   a text file

Rerun: python3 -m venv /tmp/venv-h5 && /tmp/venv-h5/bin/pip install h5py numpy
       /tmp/venv-h5/bin/python tools/make_hdf5_fixtures.py
"""
import os

import h5py
import numpy as np

out = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "hdf5")
os.makedirs(out, exist_ok=True)
kinds = os.path.join(out, "kinds.h5")

with h5py.File(kinds, "w") as f:
    f.attrs["int_scalar"] = np.int64(42)
    f.attrs["float_scalar"] = np.float64(2.5)
    f.attrs["int_array"] = np.array([1, 2, 3], dtype=np.int32)
    f.attrs["float_array"] = np.array([0.5, -1.25], dtype=np.float32)
    f.attrs["vlen_string"] = "hello, wörld"                                  # h5py: variable-length UTF-8
    f.attrs["fixed_string"] = np.bytes_("fixed")                              # fixed-length bytes
    f.attrs["layer_names"] = np.array([b"block1_conv1", b"fc1", b"predictions"])   # as Keras legacy
    f.attrs["vlen_array"] = np.array(["a", "bb", "ccc"], dtype=h5py.string_dtype())
    f.attrs["weight_names_empty"] = np.array([], dtype=np.float64)            # Keras: weightless layer
    f.create_dataset("scalar", data=np.float32(3.5))
    f.create_dataset("vector_f64", data=np.array([1.0, 2.0, 3.0], dtype=np.float64))
    f.create_dataset("matrix_i32", data=np.arange(6, dtype=np.int32).reshape(2, 3))
    f.create_dataset("bytes_u8", data=np.array([0, 128, 255], dtype=np.uint8))
    f.create_dataset("kernel_4d", data=np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5) / 10)
    f.create_dataset("strings", data=np.array(["x.png", "y/ü.jpg"], dtype=h5py.string_dtype()))
    g = f.create_group("a/b")
    d = g.create_dataset("kernel:0", data=np.array([[1, 2], [3, 4]], dtype=np.float32))
    d.attrs["note"] = "nested"

with h5py.File(os.path.join(out, "ordered.h5"), "w", track_order=True) as f:
    for name in ["z", "a", "m"]:
        f.create_group(name)

data = open(kinds, "rb").read()
open(os.path.join(out, "truncated.h5"), "wb").write(data[: len(data) // 2])
open(os.path.join(out, "not-hdf5.h5"), "w").write("this is not an HDF5 file\n")
print("wrote", sorted(os.listdir(out)))
