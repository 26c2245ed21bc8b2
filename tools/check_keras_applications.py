#!/usr/bin/env python3
"""End-to-end check against Keras Applications: VGG16, VGG19 and ResNet50/101/152 built by
tf-keras with random weights (weights=None; nothing downloaded; BN statistics made non-trivial),
saved with save_weights("….h5") — the layout of the files Keras distributes
(vgg16_weights_tf_dim_ordering_tf_kernels.h5, …) — then loaded by `zoo run NAME --weights` by
Keras layer name and run on the same input. Prints max |Zoo − Keras| / max |Keras| of the logits
(the softmax is dropped on both sides: random networks saturate it).

    /tmp/venv-keras/bin/python tools/check_keras_applications.py [--models vgg16,resnet50] [--zoo PATH]
"""
import argparse
import os
import subprocess
import sys
import tempfile

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tf_keras as keras

PAIRS = {"vgg16": ("VGG16", "vgg16", "fc8"), "vgg19": ("VGG19", "vgg19", "fc8"),
         "resnet50": ("ResNet50", "resnet50-keras", "fc"), "resnet101": ("ResNet101", "resnet101-keras", "fc"),
         "resnet152": ("ResNet152", "resnet152-keras", "fc")}
here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--models", default="vgg16,resnet50")
ap.add_argument("--zoo", default=os.path.join(here, "..", ".build", "release", "zoo"))
a = ap.parse_args()
rng = np.random.default_rng(0)
worst = 0.0
with tempfile.TemporaryDirectory() as tmp:
    for name in a.models.split(","):
        cls, zoo_name, logits = PAIRS[name]
        model = getattr(keras.applications, cls)(weights=None, classifier_activation=None)
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                g, b, m, v = layer.get_weights()
                layer.set_weights([rng.uniform(0.5, 1.5, g.shape), rng.uniform(-0.2, 0.2, b.shape),
                                   rng.uniform(-0.5, 0.5, m.shape), rng.uniform(0.5, 1.5, v.shape)])
        path = os.path.join(tmp, name + ".h5")
        model.save_weights(path)
        x = rng.standard_normal((2, 224, 224, 3)).astype(np.float32) * 50
        ref = model.predict(x, verbose=0)
        np.save(os.path.join(tmp, "in.npy"), np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        out = os.path.join(tmp, "out.npy")
        subprocess.run([a.zoo, "run", zoo_name, "--weights", path, "--input", os.path.join(tmp, "in.npy"),
                        "--output", logits, "--save", out, "--force"], check=True)
        err = float(np.abs(np.load(out) - ref).max() / np.abs(ref).max())
        worst = max(worst, err)
        print(f"keras.applications.{cls:10} → {zoo_name:16} max relative difference {err:.2e}", flush=True)
print(f"worst {worst:.2e}")
sys.exit(0 if worst <= 1e-4 else 1)
