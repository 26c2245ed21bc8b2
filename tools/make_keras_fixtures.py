#!/usr/bin/env python3
"""Real Keras weight files for ZooWeights' tests, written by the real writers, into
Tests/Fixtures/keras/ (committed; CI needs no Python):

  legacy_weights.h5   tf-keras (Keras 2) model.save_weights("….h5"): root `layer_names`, per-layer `weight_names`
  legacy_model.h5     tf-keras model.save("….h5"): the same under `model_weights`
  keras3.weights.h5   Keras 3 model.save_weights: layers/<class name>/vars/<i>, the layer's name in vars' `name`
  definition.yaml     the same network as a Zoo definition, with `keras:` names where Zoo's differ
  input.npy           a batch of 2 in Zoo's layout [N, C, H, W]
  expected.npy        Keras's output for it (softmax probabilities)
  expected_fc1.npy    Keras's `fc1` activations (after its ReLU)

The network is small but has every conversion the loader makes: a Conv2D kernel (HWIO → OIHW),
BatchNormalization (γ, β, moving mean and variance), and a Dense layer after a Flatten of a 2×2×6
channels-last map (rows permuted to Zoo's C, H, W flatten order).

Rerun: python3 -m venv /tmp/venv-keras && /tmp/venv-keras/bin/pip install tensorflow-cpu tf-keras h5py
       /tmp/venv-keras/bin/python tools/make_keras_fixtures.py
"""
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras
import numpy as np
import tf_keras

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "keras")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(0)


def build(k):
    inp = k.Input((8, 8, 3))
    x = k.layers.Conv2D(4, 3, padding="same", activation="relu", name="block1_conv1")(inp)
    x = k.layers.BatchNormalization(epsilon=1e-3, name="block1_bn")(x)
    x = k.layers.MaxPooling2D(2, name="block1_pool")(x)
    x = k.layers.Conv2D(6, 3, name="block2_conv1")(x)
    x = k.layers.Flatten(name="flatten")(x)
    x = k.layers.Dense(5, activation="relu", name="fc1")(x)
    x = k.layers.Dense(3, activation="softmax", name="predictions")(x)
    return k.Model(inp, x)


legacy, modern = build(tf_keras), build(keras)
weights = []
for w in legacy.get_weights():
    weights.append(rng.standard_normal(w.shape).astype(np.float32) * 0.5)
# BatchNormalization: γ, β, moving mean, moving variance (> 0).
bn = [l for l in legacy.layers if l.name == "block1_bn"][0]
bn_index = sum(len(l.get_weights()) for l in legacy.layers[: legacy.layers.index(bn)])
weights[bn_index + 3] = np.abs(weights[bn_index + 3]) + 0.5
legacy.set_weights(weights)
modern.set_weights(weights)

x_nhwc = rng.standard_normal((2, 8, 8, 3)).astype(np.float32)
expected = legacy.predict(x_nhwc, verbose=0)
assert np.allclose(expected, modern.predict(x_nhwc, verbose=0), atol=1e-6)
fc1 = tf_keras.Model(legacy.input, legacy.get_layer("fc1").output).predict(x_nhwc, verbose=0)

legacy.save_weights(os.path.join(OUT, "legacy_weights.h5"))
legacy.save(os.path.join(OUT, "legacy_model.h5"))
modern.save_weights(os.path.join(OUT, "keras3.weights.h5"))
np.save(os.path.join(OUT, "input.npy"), np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2)))
np.save(os.path.join(OUT, "expected.npy"), expected.astype(np.float32))
np.save(os.path.join(OUT, "expected_fc1.npy"), fc1.astype(np.float32))
with open(os.path.join(OUT, "definition.yaml"), "w") as f:
    f.write("""# The network of tools/make_keras_fixtures.py, as a Zoo definition.
name: kerasnet
input: [3, 8, 8]
layers:
  - {name: conv1, type: conv, filters: 4, kernel: 3, padding: same, keras: block1_conv1}
  - {name: relu1, type: relu}
  - {name: bn1, type: batchnorm, epsilon: 0.001, keras: block1_bn}
  - {name: pool1, type: maxpool, kernel: 2, keras: block1_pool}
  - {name: conv2, type: conv, filters: 6, kernel: 3, keras: block2_conv1}
  - {name: flatten, type: flatten}
  - {name: fc1_linear, type: dense, units: 5, keras: fc1}
  - {name: fc1, type: relu}
  - {name: predictions, type: dense, units: 3}
  - {name: prob, type: softmax}
""")
print("keras", keras.__version__, "tf-keras", tf_keras.__version__, "→", sorted(os.listdir(OUT)))
