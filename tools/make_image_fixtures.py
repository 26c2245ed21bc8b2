#!/usr/bin/env python3
"""Small images with known pixel values for ZooImages' tests, written by Pillow, into
Tests/Fixtures/images/ (committed; CI needs no Python), with expected.json holding the values:
PNG grey/RGB/RGBA/16-bit/palette, JPEG RGB and grey (Pillow's decoded pixels), a JPEG with EXIF
orientation 6, Pillow's bilinear resize of a small image (shrink and enlarge), and bad files.

Rerun: python3 -m venv /tmp/venv-img && /tmp/venv-img/bin/pip install numpy pillow
       /tmp/venv-img/bin/python tools/make_image_fixtures.py
"""
import io
import json
import os

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "images")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(0)
expected = {}

grey = rng.integers(0, 256, (3, 4), dtype=np.uint8)
Image.fromarray(grey, "L").save(os.path.join(OUT, "grey.png"))
expected["grey.png"] = {"width": 4, "height": 3, "channels": 1, "pixels": grey.flatten().tolist()}
rgb = rng.integers(0, 256, (3, 4, 3), dtype=np.uint8)
Image.fromarray(rgb, "RGB").save(os.path.join(OUT, "rgb.png"))
expected["rgb.png"] = {"width": 4, "height": 3, "channels": 3, "pixels": rgb.flatten().tolist()}
rgba = rng.integers(0, 256, (2, 3, 4), dtype=np.uint8)
Image.fromarray(rgba, "RGBA").save(os.path.join(OUT, "rgba.png"))
expected["rgba.png"] = {"width": 3, "height": 2, "channels": 4, "pixels": rgba.flatten().tolist()}
g16 = (rng.integers(0, 65536, (2, 3))).astype(np.uint16)
Image.fromarray(g16).save(os.path.join(OUT, "grey16.png"))
expected["grey16.png"] = {"width": 3, "height": 2, "channels": 1, "pixels_16bit": g16.flatten().tolist()}
pal = Image.fromarray(rgb, "RGB").convert("P", palette=Image.ADAPTIVE, colors=4)
pal.save(os.path.join(OUT, "palette.png"))
expected["palette.png"] = {"width": 4, "height": 3, "channels": 3, "pixels": np.asarray(pal.convert("RGB")).flatten().tolist()}

photo = np.clip(np.add.outer(np.arange(16), np.arange(24))[:, :, None] * [10, 5, 3] % 256 + rng.integers(0, 20, (16, 24, 3)), 0, 255).astype(np.uint8)
for name, img in [("rgb.jpg", Image.fromarray(photo, "RGB")), ("grey.jpg", Image.fromarray(photo[:, :, 0], "L"))]:
    img.save(os.path.join(OUT, name), quality=95)
    decoded = np.asarray(Image.open(os.path.join(OUT, name)))
    expected[name] = {"width": 24, "height": 16, "channels": 1 if decoded.ndim == 2 else 3, "pixels": decoded.flatten().tolist()}

# EXIF orientation 6: the stored image must be turned 90° clockwise to be upright.
stored = rng.integers(0, 256, (8, 16, 3), dtype=np.uint8)
exif = Image.Exif(); exif[0x0112] = 6
Image.fromarray(stored, "RGB").save(os.path.join(OUT, "exif6.jpg"), quality=100, exif=exif.tobytes())
upright = np.asarray(Image.open(os.path.join(OUT, "exif6.jpg")).transpose(Image.Transpose.ROTATE_270))
expected["exif6.jpg"] = {"width": 8, "height": 16, "channels": 3, "pixels": upright.flatten().tolist()}

src = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
Image.fromarray(src).save(os.path.join(OUT, "resize-source.png"))
for label, size in [("shrink", (10, 7)), ("enlarge", (50, 40))]:
    r = np.asarray(Image.fromarray(src).resize(size, Image.BILINEAR, reducing_gap=None))
    expected["resize-" + label] = {"width": size[0], "height": size[1], "pixels": r.flatten().tolist()}

data = open(os.path.join(OUT, "rgb.png"), "rb").read()
open(os.path.join(OUT, "truncated.png"), "wb").write(data[: len(data) // 2])
data = open(os.path.join(OUT, "rgb.jpg"), "rb").read()
open(os.path.join(OUT, "truncated.jpg"), "wb").write(data[: len(data) // 2])
open(os.path.join(OUT, "text.png"), "w").write("not an image\n")
open(os.path.join(OUT, "empty.jpg"), "w").close()
with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f)
print(sorted(os.listdir(OUT)))
