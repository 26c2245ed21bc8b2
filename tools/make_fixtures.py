#!/usr/bin/env python3
"""PyTorch reference outputs for Zoo's engine: every layer kind and its edge cases, and whole small
networks. Each case is a folder under Tests/Fixtures/layers/:

  definition.yaml   the network as a Zoo definition (or `zoo: NAME` for a network of the zoo)
  input.npy         the input batch, [N, C, H, W]
  params/L.P.npy    parameter P of layer L in Zoo's layout (conv OIHW, dense (out, in), …)
  expected/L.npy    PyTorch's output of layer L for the batch

The Swift tests build the network from the definition, load the parameters, run the engine and
require max|ours − torch| / max|torch| ≤ 1e-5 for every expected output. CI uses the committed
files and needs no Python.

Rerun: python3 -m venv /tmp/venv-torch && /tmp/venv-torch/bin/pip install torch==2.13.0+cpu numpy
       /tmp/venv-torch/bin/python tools/make_fixtures.py
"""
import os
import shutil

import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)   # references in float64, stored as float32
ROOT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "layers")


def save(path, array):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.save(path, np.ascontiguousarray(np.asarray(array, dtype=np.float32)))


def case(name, definition, x, params, outputs):
    folder = os.path.join(ROOT, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    with open(os.path.join(folder, "definition.yaml"), "w") as f:
        f.write(definition.strip() + "\n")
    save(os.path.join(folder, "input.npy"), x.detach().numpy())
    for layer, tensors in params.items():
        for p, v in tensors.items():
            save(os.path.join(folder, "params", f"{layer}.{p}.npy"), v.detach().numpy())
    for layer, v in outputs.items():
        save(os.path.join(folder, "expected", f"{layer}.npy"), v.detach().numpy())
    print(f"{name}: " + ", ".join(f"{k} {tuple(v.shape)}" for k, v in outputs.items()))


def f32(t):
    """Round parameters and inputs to float32 first, so the reference sees what Zoo sees."""
    return torch.tensor(np.asarray(t.detach().numpy(), dtype=np.float32), dtype=torch.float64)


def rand(*shape):
    return f32(torch.randn(*shape))


def net(inp, layers):
    return f"name: case\ninput: {inp}\nlayers:\n" + "\n".join("  - " + l for l in layers)


# --- convolution -------------------------------------------------------------------------------
x = rand(2, 3, 9, 9); w = rand(4, 3, 3, 3); b = rand(4)
case("conv_stride_pad", net([3, 9, 9], ["{name: c, type: conv, filters: 4, kernel: 3, stride: 2, padding: 1}"]),
     x, {"c": {"kernel": w, "bias": b}}, {"c": F.conv2d(x, w, b, stride=2, padding=1)})

x = rand(2, 2, 6, 7); w = rand(3, 2, 3, 2); b = rand(3)
# Zoo padding [top, bottom, left, right] = [0, 1, 2, 0]; F.pad takes (left, right, top, bottom).
case("conv_asymmetric_padding", net([2, 6, 7], ["{name: c, type: conv, filters: 3, kernel: [3, 2], padding: [0, 1, 2, 0]}"]),
     x, {"c": {"kernel": w, "bias": b}}, {"c": F.conv2d(F.pad(x, (2, 0, 0, 1)), w, b)})

x = rand(2, 4, 11, 11); w = rand(6, 2, 3, 3)
case("conv_dilation_groups", net([4, 11, 11], ["{name: c, type: conv, filters: 6, kernel: 3, dilation: 2, groups: 2, bias: false}"]),
     x, {"c": {"kernel": w}}, {"c": F.conv2d(x, w, None, dilation=2, groups=2)})

x = rand(3, 8, 5, 5); w = rand(5, 8, 1, 1); b = rand(5)
case("conv_pointwise", net([8, 5, 5], ["{name: c, type: conv, filters: 5, kernel: 1}"]),
     x, {"c": {"kernel": w, "bias": b}}, {"c": F.conv2d(x, w, b)})

x = rand(2, 3, 7, 7); w = rand(4, 3, 3, 3); b = rand(4)
case("conv_same_stride2", net([3, 7, 7], ["{name: c, type: conv, filters: 4, kernel: 3, stride: 2, padding: same}"]),
     x, {"c": {"kernel": w, "bias": b}}, {"c": F.conv2d(F.pad(x, (1, 1, 1, 1)), w, b, stride=2)})

# LeNet-5's C3: a connection table, as a dense kernel masked by Table I.
table = [[0,1,2],[1,2,3],[2,3,4],[3,4,5],[0,4,5],[0,1,5],[0,1,2,3],[1,2,3,4],[2,3,4,5],[0,3,4,5],[0,1,4,5],[0,1,2,5],[0,1,3,4],[1,2,4,5],[0,2,3,5],[0,1,2,3,4,5]]
x = rand(2, 6, 14, 14); links = rand(60, 5, 5); b = rand(16)
dense = torch.zeros(16, 6, 5, 5)
k = 0
for j, inputs in enumerate(table):
    for i in inputs:
        dense[j, i] = links[k]; k += 1
case("conv_connection_table", net([6, 14, 14], [f"{{name: C3, type: conv, filters: 16, kernel: 5, connections: {table}}}"]),
     x, {"C3": {"kernel": links, "bias": b}}, {"C3": F.conv2d(x, dense, b)})

# --- pooling -----------------------------------------------------------------------------------
x = rand(2, 3, 10, 10)
case("maxpool_ceil_padding", net([3, 10, 10], ["{name: p, type: maxpool, kernel: 3, stride: 2, padding: 1, rounding: ceil}"]),
     x, {}, {"p": F.max_pool2d(x, 3, 2, padding=1, ceil_mode=True)})
x = rand(2, 3, 11, 11)
case("maxpool_ceil_caffe", net([3, 11, 11], ["{name: p, type: maxpool, kernel: 3, stride: 2, rounding: ceil}"]),
     x, {}, {"p": F.max_pool2d(x, 3, 2, ceil_mode=True)})
x = rand(2, 2, 10, 10)
for include in (True, False):
    case(f"avgpool_ceil_padding_{'include' if include else 'exclude'}",
         net([2, 10, 10], [f"{{name: p, type: avgpool, kernel: 3, stride: 2, padding: 1, rounding: ceil, count_include_pad: {str(include).lower()}}}"]),
         x, {}, {"p": F.avg_pool2d(x, 3, 2, padding=1, ceil_mode=True, count_include_pad=include)})
x = rand(2, 5, 7, 7)
case("global_average", net([5, 7, 7], ["{name: g, type: gap}"]), x, {}, {"g": x.mean(dim=(2, 3), keepdim=True)})

# LeNet's trainable subsampling: (sum of the 2×2 window) × coefficient + bias, per map.
x = rand(2, 6, 8, 8); coef = rand(6); bias = rand(6)
sub = F.avg_pool2d(x, 2) * 4 * coef.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)
case("subsample", net([6, 8, 8], ["{name: S2, type: subsample, kernel: 2}"]), x, {"S2": {"coefficient": coef, "bias": bias}}, {"S2": sub})

# --- normalisation -----------------------------------------------------------------------------
x = rand(2, 7, 4, 4) * 3
case("lrn_paper", net([7, 4, 4], ["{name: n, type: lrn, size: 5, alpha: 1e-4, beta: 0.75, k: 2, alpha_convention: paper}"]),
     x, {}, {"n": F.local_response_norm(x, 5, alpha=5e-4, beta=0.75, k=2.0)})
case("lrn_averaged", net([7, 4, 4], ["{name: n, type: lrn, size: 5, alpha: 1e-4, beta: 0.75, k: 1, alpha_convention: averaged}"]),
     x, {}, {"n": F.local_response_norm(x, 5, alpha=1e-4, beta=0.75, k=1.0)})
case("lrn_even_size", net([7, 4, 4], ["{name: n, type: lrn, size: 4, alpha: 0.01, beta: 0.5, k: 1, alpha_convention: averaged}"]),
     x, {}, {"n": F.local_response_norm(x, 4, alpha=0.01, beta=0.5, k=1.0)})

x = rand(2, 3, 6, 6); w = rand(4, 3, 3, 3); b = rand(4)
g, bt, m, v = rand(4), rand(4), rand(4), f32(torch.rand(4) + 0.5)
conv = F.conv2d(x, w, b, padding=1)
bn = F.batch_norm(conv, m, v, g, bt, training=False, eps=1e-3)
case("conv_batchnorm_relu", net([3, 6, 6], ["{name: c, type: conv, filters: 4, kernel: 3, padding: 1}",
                                              "{name: bn, type: batchnorm, epsilon: 0.001}", "{name: r, type: relu}"]),
     x, {"c": {"kernel": w, "bias": b}, "bn": {"gamma": g, "beta": bt, "moving_mean": m, "moving_variance": v}},
     {"c": conv, "bn": bn, "r": F.relu(bn)})

# --- activations, dense, joins ----------------------------------------------------------------
x = rand(3, 2, 3, 3); w1 = rand(7, 18); b1 = rand(7); w2 = rand(5, 7); b2 = rand(5)
h = F.linear(x.flatten(1), w1, b1)
t = 1.7159 * torch.tanh(h * 2 / 3)
o = F.linear(t, w2, b2)
case("dense_tanh_softmax", net([2, 3, 3], ["{name: flatten, type: flatten}", "{name: fc1, type: dense, units: 7}",
                                            "{name: act, type: scaled_tanh}", "{name: fc2, type: dense, units: 5}",
                                            "{name: th, type: tanh}", "{name: prob, type: softmax, input: fc2}",
                                            "{name: sig, type: sigmoid, input: fc2}"]),
     x, {"fc1": {"kernel": w1, "bias": b1}, "fc2": {"kernel": w2, "bias": b2}},
     {"fc1": h, "act": t, "fc2": o, "th": torch.tanh(o), "prob": F.softmax(o, dim=1), "sig": torch.sigmoid(o)})
x1 = rand(1, 18); w1 = rand(4, 18)
case("dense_single_vector", net([2, 3, 3], ["{name: flatten, type: flatten}", "{name: fc, type: dense, units: 4, bias: false}"]),
     x1.view(1, 2, 3, 3), {"fc": {"kernel": w1}}, {"fc": F.linear(x1, w1)})

protos = f32(torch.randint(0, 2, (10, 6)).double() * 2 - 1); x = rand(3, 6)
case("rbf", "name: case\ninput: [6]\nlayers:\n  - {name: out, type: rbf, units: 10}\n", x, {"out": {"prototypes": protos}},
     {"out": ((x[:, None, :] - protos[None]) ** 2).sum(-1)})

# ResNet option A: identity of every second pixel, zero-padded channels, added to a strided conv.
x = rand(2, 4, 6, 6); w = rand(8, 4, 3, 3)
body = F.conv2d(x, w, None, stride=2, padding=1)
short = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, 0, 4))
case("pad_shortcut_add", net([4, 6, 6], ["{name: body, type: conv, filters: 8, kernel: 3, stride: 2, padding: 1, rounding: floor, bias: false}",
                                          "{name: short, type: pad_shortcut, filters: 8, stride: 2, input: in}",
                                          "{name: sum, type: add, inputs: [body, short]}", "{name: out, type: relu}"]),
     x, {"body": {"kernel": w}}, {"short": short, "sum": body + short, "out": F.relu(body + short)})

# --- blocks and whole networks ----------------------------------------------------------------
def conv_params(cin, cout, k, bias=True):
    """Weights scaled by 1/sqrt(fan-in), as trained networks have them: the activations of a whole
    network then stay in the range real inputs give (unscaled N(0, 1) weights saturate every tanh)."""
    return {"kernel": f32(torch.randn(cout, cin, k, k) / (cin * k * k) ** 0.5), **({"bias": rand(cout) * 0.1} if bias else {})}


def dense_params(cin, cout):
    return {"kernel": f32(torch.randn(cout, cin) / cin ** 0.5), "bias": f32(torch.randn(cout) * 0.1)}

# One GoogLeNet inception block (3a's columns at a quarter width) on a 16-channel 7×7 map.
cols = dict(n1=16, r3=24, n3=32, r5=4, n5=8, pp=8); cin = 16
x = rand(2, cin, 7, 7)
P = {"b1": conv_params(cin, cols["n1"], 1), "b2r": conv_params(cin, cols["r3"], 1), "b2": conv_params(cols["r3"], cols["n3"], 3),
     "b3r": conv_params(cin, cols["r5"], 1), "b3": conv_params(cols["r5"], cols["n5"], 5), "b4": conv_params(cin, cols["pp"], 1)}
c = lambda t, p, pad=0: F.relu(F.conv2d(t, p["kernel"], p["bias"], padding=pad))
y1 = c(x, P["b1"]); y2 = c(c(x, P["b2r"]), P["b2"], 1); y3 = c(c(x, P["b3r"]), P["b3"], 2)
y4 = c(F.max_pool2d(x, 3, 1, padding=1), P["b4"])
inception = """
name: case
input: [16, 7, 7]
blocks:
  inception:
    args: [n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj]
    layers:
      - {name: b1_1x1, type: conv, filters: $n1x1, kernel: 1, input: in}
      - {name: b1_relu, type: relu}
      - {name: b2_reduce, type: conv, filters: $n3x3_reduce, kernel: 1, input: in}
      - {name: b2_reduce_relu, type: relu}
      - {name: b2_3x3, type: conv, filters: $n3x3, kernel: 3, padding: 1}
      - {name: b2_relu, type: relu}
      - {name: b3_reduce, type: conv, filters: $n5x5_reduce, kernel: 1, input: in}
      - {name: b3_reduce_relu, type: relu}
      - {name: b3_5x5, type: conv, filters: $n5x5, kernel: 5, padding: 2}
      - {name: b3_relu, type: relu}
      - {name: b4_pool, type: maxpool, kernel: 3, stride: 1, padding: 1, input: in}
      - {name: b4_proj, type: conv, filters: $pool_proj, kernel: 1}
      - {name: b4_relu, type: relu}
      - {name: concat, type: concat, inputs: [b1_relu, b2_relu, b3_relu, b4_relu]}
layers:
  - {name: inception_3a, block: inception, args: [16, 24, 32, 4, 8, 8]}
"""
names = {"b1": "b1_1x1", "b2r": "b2_reduce", "b2": "b2_3x3", "b3r": "b3_reduce", "b3": "b3_5x5", "b4": "b4_proj"}
case("inception_block", inception, x, {f"inception_3a.{names[k]}": v for k, v in P.items()},
     {"inception_3a.concat": torch.cat([y1, y2, y3, y4], 1), "inception_3a.b2_3x3": F.conv2d(c(x, P["b2r"]), P["b2"]["kernel"], P["b2"]["bias"], padding=1)})

def bn_params(ch):
    return {"gamma": rand(ch), "beta": rand(ch), "moving_mean": rand(ch), "moving_variance": f32(torch.rand(ch) + 0.5)}

def bn(t, p):
    return F.batch_norm(t, p["moving_mean"], p["moving_variance"], p["gamma"], p["beta"], training=False, eps=1e-5)

resnet_blocks = """
name: case
input: [CIN, 8, 8]
blocks:
  basic:
    args: [width, stride, shortcut]
    layers:
      - {name: conv_a, type: conv, filters: $width, kernel: 3, stride: $stride, padding: 1, rounding: floor, bias: false, input: in}
      - {name: bn_a, type: batchnorm}
      - {name: relu_a, type: relu}
      - {name: conv_b, type: conv, filters: $width, kernel: 3, padding: 1, bias: false}
      - {name: bn_b, type: batchnorm}
      - {name: shortcut, type: identity, input: in, when: "$shortcut == identity"}
      - {name: proj, type: conv, filters: $width, kernel: 1, stride: $stride, rounding: floor, bias: false, input: in, when: "$shortcut == projection"}
      - {name: shortcut, type: batchnorm, when: "$shortcut == projection"}
      - {name: add, type: add, inputs: [bn_b, shortcut]}
      - {name: relu, type: relu}
  bottleneck:
    args: [width, stride, stride_on]
    layers:
      - {name: conv_a, type: conv, filters: $width, kernel: 1, stride: $stride, rounding: floor, bias: false, input: in, when: "$stride_on == first"}
      - {name: conv_a, type: conv, filters: $width, kernel: 1, bias: false, input: in, when: "$stride_on == middle"}
      - {name: bn_a, type: batchnorm}
      - {name: relu_a, type: relu}
      - {name: conv_b, type: conv, filters: $width, kernel: 3, padding: 1, bias: false, when: "$stride_on == first"}
      - {name: conv_b, type: conv, filters: $width, kernel: 3, stride: $stride, padding: 1, rounding: floor, bias: false, when: "$stride_on == middle"}
      - {name: bn_b, type: batchnorm}
      - {name: relu_b, type: relu}
      - {name: conv_c, type: conv, filters: "${4*width}", kernel: 1, bias: false}
      - {name: bn_c, type: batchnorm}
      - {name: proj, type: conv, filters: "${4*width}", kernel: 1, stride: $stride, rounding: floor, bias: false, input: in}
      - {name: shortcut, type: batchnorm}
      - {name: add, type: add, inputs: [bn_c, shortcut]}
      - {name: relu, type: relu}
layers:
  - BLOCK
"""

def basic(x, p, stride, projection):
    h = F.relu(bn(F.conv2d(x, p["conv_a"]["kernel"], stride=stride, padding=1), p["bn_a"]))
    h = bn(F.conv2d(h, p["conv_b"]["kernel"], padding=1), p["bn_b"])
    s = bn(F.conv2d(x, p["proj"]["kernel"], stride=stride), p["shortcut"]) if projection else x
    return F.relu(h + s)

for label, cin, width, stride, projection in [("basic_identity", 8, 8, 1, False), ("basic_projection", 4, 8, 2, True)]:
    x = rand(2, cin, 8, 8)
    p = {"conv_a": conv_params(cin, width, 3, False), "bn_a": bn_params(width), "conv_b": conv_params(width, width, 3, False), "bn_b": bn_params(width)}
    if projection:
        p.update({"proj": conv_params(cin, width, 1, False), "shortcut": bn_params(width)})
    d = resnet_blocks.replace("CIN", str(cin)).replace("BLOCK", f"{{name: conv3_1, block: basic, args: [{width}, {stride}, {'projection' if projection else 'identity'}]}}")
    case(f"resnet_{label}", d, x, {f"conv3_1.{k}": v for k, v in p.items()}, {"conv3_1.relu": basic(x, p, stride, projection), "conv3_1.bn_a": bn(F.conv2d(x, p["conv_a"]["kernel"], stride=stride, padding=1), p["bn_a"])})

for stride_on in ("first", "middle"):
    cin, width = 8, 4
    x = rand(2, cin, 8, 8)
    p = {"conv_a": conv_params(cin, width, 1, False), "bn_a": bn_params(width), "conv_b": conv_params(width, width, 3, False),
         "bn_b": bn_params(width), "conv_c": conv_params(width, 4 * width, 1, False), "bn_c": bn_params(4 * width),
         "proj": conv_params(cin, 4 * width, 1, False), "shortcut": bn_params(4 * width)}
    sa, sb = (2, 1) if stride_on == "first" else (1, 2)
    h = F.relu(bn(F.conv2d(x, p["conv_a"]["kernel"], stride=sa), p["bn_a"]))
    h = F.relu(bn(F.conv2d(h, p["conv_b"]["kernel"], stride=sb, padding=1), p["bn_b"]))
    h = bn(F.conv2d(h, p["conv_c"]["kernel"]), p["bn_c"])
    s = bn(F.conv2d(x, p["proj"]["kernel"], stride=2), p["shortcut"])
    d = resnet_blocks.replace("CIN", str(cin)).replace("BLOCK", f"{{name: conv3_1, block: bottleneck, args: [{width}, 2, {stride_on}]}}")
    case(f"resnet_bottleneck_stride_{stride_on}", d, x, {f"conv3_1.{k}": v for k, v in p.items()}, {"conv3_1.relu": F.relu(h + s)})

# LeNet-5 as tutorials write it (the zoo's lenet5-common).
x = rand(2, 1, 32, 32)
p = {"C1": conv_params(1, 6, 5), "C3": conv_params(6, 16, 5), "C5": conv_params(16, 120, 5),
     "F6": dense_params(120, 84), "OUTPUT": dense_params(84, 10)}
h = F.avg_pool2d(torch.tanh(F.conv2d(x, p["C1"]["kernel"], p["C1"]["bias"])), 2)
h = F.avg_pool2d(torch.tanh(F.conv2d(h, p["C3"]["kernel"], p["C3"]["bias"])), 2)
h = torch.tanh(F.conv2d(h, p["C5"]["kernel"], p["C5"]["bias"])).flatten(1)
f6 = torch.tanh(F.linear(h, p["F6"]["kernel"], p["F6"]["bias"]))
case("lenet5_common", "zoo: lenet5-common", x, p, {"F6_act": f6, "prob": F.softmax(F.linear(f6, p["OUTPUT"]["kernel"], p["OUTPUT"]["bias"]), 1)})

# The paper's LeNet-5: Table I, trainable subsampling, A·tanh(S·a), RBF output.
A, S = 1.7159, 2 / 3
sq = lambda t: A * torch.tanh(S * t)
p = {"C1": conv_params(1, 6, 5), "S2": {"coefficient": f32(torch.rand(6) * 0.5), "bias": rand(6) * 0.1},
     "C3": {"kernel": f32(torch.randn(60, 5, 5) / 10), "bias": rand(16) * 0.1},
     "S4": {"coefficient": f32(torch.rand(16) * 0.5), "bias": rand(16) * 0.1}, "C5": conv_params(16, 120, 5),
     "F6": dense_params(120, 84), "OUTPUT": {"prototypes": f32(torch.randint(0, 2, (10, 84)).double() * 2 - 1)}}
dense = torch.zeros(16, 6, 5, 5); k = 0
for j, inputs in enumerate(table):
    for i in inputs:
        dense[j, i] = p["C3"]["kernel"][k]; k += 1
subs = lambda t, q: F.avg_pool2d(t, 2) * 4 * q["coefficient"].view(1, -1, 1, 1) + q["bias"].view(1, -1, 1, 1)
h = sq(subs(sq(F.conv2d(x, p["C1"]["kernel"], p["C1"]["bias"])), p["S2"]))
h = sq(subs(sq(F.conv2d(h, dense, p["C3"]["bias"])), p["S4"]))
h = sq(F.conv2d(h, p["C5"]["kernel"], p["C5"]["bias"])).flatten(1)
f6 = sq(F.linear(h, p["F6"]["kernel"], p["F6"]["bias"]))
case("lenet5_paper", "zoo: lenet5", x, p, {"F6_act": f6, "OUTPUT": ((f6[:, None, :] - p["OUTPUT"]["prototypes"][None]) ** 2).sum(-1)})


def square_conv_case(name, shape, filters, scale, batch=1, padding=1, bn_relu=False, kernel=3, stride=1):
    """A kernel × kernel convolution (stride 1, or `stride`, rounding down) of `batch` random inputs
    of `shape`, filters drawn / `scale`: with a bias, or (`bn_relu`) without, followed by a batch
    norm (folded by the engine) and a ReLU."""
    x = rand(batch, *shape); w = f32(torch.randn(filters, shape[0], kernel, kernel) / scale)
    pad = (f", padding: {padding}" if padding else "") + (f", stride: {stride}, rounding: floor" if stride != 1 else "")
    if bn_relu:
        p = bn_params(filters)
        layers = [f"{{name: c, type: conv, filters: {filters}, kernel: {kernel}{pad}, bias: false}}", "{name: bn, type: batchnorm}",
                  "{name: relu, type: relu}"]
        case(name, net(shape, layers), x, {"c": {"kernel": w}, "bn": p},
             {"relu": F.relu(bn(F.conv2d(x, w, padding=padding, stride=stride), p))})
    else:
        b = rand(filters)
        case(name, net(shape, [f"{{name: c, type: conv, filters: {filters}, kernel: {kernel}{pad}}}"]), x, {"c": {"kernel": w, "bias": b}},
             {"c": F.conv2d(x, w, b, padding=padding, stride=stride)})


# 3×3 convolutions with odd output sizes (half-outside tiles), padding, and a folded batch norm +
# ReLU (below Winograd's 64 channels: the direct convolution; Winograd's own cases at the end).
square_conv_case("conv_winograd_odd", [32, 29, 31], 24, 10, batch=2)
square_conv_case("conv_winograd_bn_relu", [16, 32, 30], 32, 10, padding=0, bn_relu=True)

# Winograd: F(4×4, 3×3) on maps of ≥ 28 × 28 with ≥ 64 channels (tiles up to three quarters
# outside the map at the right and bottom, a filter count off the GEMM's 8-row panels, a folded
# batch norm + ReLU, two images), F(2×2, 3×3) on a smaller map.
square_conv_case("conv_winograd4_odd", [64, 29, 31], 64, 24, batch=2)
square_conv_case("conv_winograd4_bn_relu", [64, 30, 28], 68, 24, bn_relu=True)
square_conv_case("conv_winograd2", [64, 15, 17], 40, 24)

# Larger kernels as Winograd F(4×4, 3×3)'s 3 × 3 pieces (where AVX-512 runs): a 5 × 5 layer on
# AlexNet's 27 × 27 conv2 map (two images), one with a folded batch norm + ReLU on 14 × 14.
square_conv_case("conv_winograd5x5", [64, 27, 27], 48, 40, batch=2, padding=2, kernel=5)
square_conv_case("conv_winograd5x5_bn_relu", [32, 14, 14], 40, 30, padding=2, bn_relu=True, kernel=5)

# 3 × 3 convolutions with stride 2 by Winograd's phases (≥ 32 filters, ≥ 64 channels, outputs of
# ≥ 14 × 14, where AVX-512 runs): odd sizes whose last tiles reach past the map (15 × 16 from
# 29 × 31, two images), and an unpadded one with a folded batch norm + ReLU.
square_conv_case("conv_winograd_s2", [64, 29, 31], 40, 24, batch=2, stride=2)
square_conv_case("conv_winograd_s2_bn_relu", [64, 30, 33], 48, 24, padding=0, bn_relu=True, stride=2)
