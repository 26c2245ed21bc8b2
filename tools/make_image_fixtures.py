#!/usr/bin/env python3
"""Small images with known pixel values for ZooImages' tests, into Tests/Fixtures/images/
(committed; CI needs no Python), with expected.json holding the values.

- PNG written by Pillow: grey, RGB, RGBA, 16-bit grey, palette (4 colours), palette with a
  transparent entry (tRNS).
- PNG written by hand (zlib + struct below), for the layouts Pillow cannot write from numpy:
  16-bit RGB, 16-bit RGBA, 16-bit grey+alpha, 8-bit grey+alpha, an interlaced (Adam7) RGB image.
- JPEG RGB and grey at quality 95, with the pixels Pillow's decoder returns (the tests allow ±2).
- JPEG with EXIF orientation 6 and 3 (Pillow's Exif, little-endian "II"), and orientation 8 in a
  hand-made big-endian ("MM") APP1 segment; expected = Pillow's decoded pixels turned upright.
- Pillow's resize(..., BILINEAR, reducing_gap=None) of a 32×24 RGB image: a shrink to 10×7, a
  strong shrink to 3×2, a one-axis shrink to 13×24 and an enlargement to 50×40.
- The eight EXIF orientations applied by Pillow to a 3×2 image (the reference for `oriented`).
- Bad files: truncated PNG and JPEG, a PNG with a damaged IDAT (CRC mismatch), a JPEG whose
  frame header is garbage, a text file named .png, an empty .jpg, a GIF named .jpg.

Rerun: python3 -m venv /tmp/venv-img && /tmp/venv-img/bin/pip install numpy pillow
       /tmp/venv-img/bin/python tools/make_image_fixtures.py
"""
import json
import os
import struct
import zlib

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "images")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(0)
expected = {}


def path(name):
    return os.path.join(OUT, name)


def record(name, array, **extra):
    a = np.asarray(array)
    h, w = a.shape[:2]
    entry = {"width": w, "height": h, "channels": 1 if a.ndim == 2 else a.shape[2], "pixels": a.flatten().tolist()}
    entry.update(extra)
    expected[name] = entry


# --- PNG through Pillow -------------------------------------------------------------------------
grey = rng.integers(0, 256, (3, 4), dtype=np.uint8)
Image.fromarray(grey).save(path("grey.png"))
record("grey.png", grey)
rgb = rng.integers(0, 256, (3, 4, 3), dtype=np.uint8)
Image.fromarray(rgb).save(path("rgb.png"))
record("rgb.png", rgb)
rgba = rng.integers(0, 256, (2, 3, 4), dtype=np.uint8)
Image.fromarray(rgba).save(path("rgba.png"))
record("rgba.png", rgba)
g16 = rng.integers(0, 65536, (2, 3)).astype(np.uint16)
Image.fromarray(g16).save(path("grey16.png"))
expected["grey16.png"] = {"width": 3, "height": 2, "channels": 1, "pixels_16bit": g16.flatten().tolist()}
pal = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
pal.save(path("palette.png"))
record("palette.png", pal.convert("RGB"))

# --- JPEG through Pillow ------------------------------------------------------------------------
photo = np.clip(np.add.outer(np.arange(16), np.arange(24))[:, :, None] * [10, 5, 3] % 256
                + rng.integers(0, 20, (16, 24, 3)), 0, 255).astype(np.uint8)
for name, img in [("rgb.jpg", Image.fromarray(photo)), ("grey.jpg", Image.fromarray(photo[:, :, 0]))]:
    img.save(path(name), quality=95)
    record(name, Image.open(path(name)))

# EXIF orientation 6: the stored image must be turned 90° clockwise to be upright.
stored = rng.integers(0, 256, (8, 16, 3), dtype=np.uint8)
exif = Image.Exif()
exif[0x0112] = 6
Image.fromarray(stored).save(path("exif6.jpg"), quality=100, exif=exif.tobytes())
record("exif6.jpg", Image.open(path("exif6.jpg")).transpose(Image.Transpose.ROTATE_270))

# --- Resize references --------------------------------------------------------------------------
src = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
Image.fromarray(src).save(path("resize-source.png"))
for label, size in [("shrink", (10, 7)), ("enlarge", (50, 40)), ("shrink-strong", (3, 2)), ("shrink-x", (13, 24))]:
    r = Image.fromarray(src).resize(size, Image.Resampling.BILINEAR, reducing_gap=None)
    record("resize-" + label, r)

# --- Bad files ----------------------------------------------------------------------------------
data = open(path("rgb.png"), "rb").read()
open(path("truncated.png"), "wb").write(data[: len(data) // 2])
data = open(path("rgb.jpg"), "rb").read()
open(path("truncated.jpg"), "wb").write(data[: len(data) // 2])
open(path("text.png"), "w").write("not an image\n")
open(path("empty.jpg"), "w").close()


# --- Added later (appended so that the values above stay as they were) ---------------------------
def png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def write_png(name, array, colour_type, bit_depth, interlace=False):
    """A minimal PNG encoder: filter type 0 on every row, optional Adam7 interlacing."""
    a = np.asarray(array)
    h, w = a.shape[:2]
    dtype = ">u2" if bit_depth == 16 else "u1"

    def rows(sub):
        return b"".join(b"\x00" + sub[y].astype(dtype).tobytes() for y in range(sub.shape[0]))

    if interlace:
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        raw = b"".join(rows(a[y0::dy, x0::dx]) for x0, y0, dx, dy in passes if a[y0::dy, x0::dx].size)
    else:
        raw = rows(a)
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, colour_type, 0, 0, 1 if interlace else 0)
    png = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b"")
    open(path(name), "wb").write(png)
    return png


rgb16 = rng.integers(0, 65536, (2, 3, 3)).astype(np.uint16)
write_png("rgb16.png", rgb16, 2, 16)
expected["rgb16.png"] = {"width": 3, "height": 2, "channels": 3, "pixels_16bit": rgb16.flatten().tolist()}
rgba16 = rng.integers(0, 65536, (2, 3, 4)).astype(np.uint16)
rgba16[0, 0, 3] = 0          # a fully transparent pixel: its colour must survive (no premultiplication)
rgba16[0, 1, 3] = 65535
write_png("rgba16.png", rgba16, 6, 16)
expected["rgba16.png"] = {"width": 3, "height": 2, "channels": 4, "pixels_16bit": rgba16.flatten().tolist()}
ga16 = rng.integers(0, 65536, (2, 2, 2)).astype(np.uint16)
write_png("grey-alpha16.png", ga16, 4, 16)
expected["grey-alpha16.png"] = {"width": 2, "height": 2, "channels": 4, "pixels_16bit": ga16.flatten().tolist()}
ga = rng.integers(0, 256, (2, 3, 2), dtype=np.uint8)
write_png("grey-alpha.png", ga, 4, 8)
record("grey-alpha.png", np.concatenate([ga[:, :, :1]] * 3 + [ga[:, :, 1:]], axis=2))   # → RGBA
inter = rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)
write_png("interlaced.png", inter, 2, 8, interlace=True)
record("interlaced.png", Image.open(path("interlaced.png")).convert("RGB"))
assert (np.asarray(Image.open(path("interlaced.png")).convert("RGB")) == inter).all()

palt = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
palt.save(path("palette-transparent.png"), transparency=1)
record("palette-transparent.png", Image.open(path("palette-transparent.png")).convert("RGBA"))

stored3 = rng.integers(0, 256, (6, 10, 3), dtype=np.uint8)
exif = Image.Exif()
exif[0x0112] = 3
Image.fromarray(stored3).save(path("exif3.jpg"), quality=100, exif=exif.tobytes())
record("exif3.jpg", Image.open(path("exif3.jpg")).transpose(Image.Transpose.ROTATE_180))

# Orientation 8 (turn 90° counter-clockwise) in a big-endian TIFF header, with a dummy tag first.
stored8 = rng.integers(0, 256, (6, 10, 3), dtype=np.uint8)
Image.fromarray(stored8).save(path("exif8-motorola.jpg"), quality=100)
body = open(path("exif8-motorola.jpg"), "rb").read()
tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 2)
tiff += struct.pack(">HHI", 0x010F, 2, 4) + b"Zoo\x00"             # Make = "Zoo"
tiff += struct.pack(">HHIH", 0x0112, 3, 1, 8) + b"\x00\x00"         # Orientation = 8
tiff += struct.pack(">I", 0)
app1 = b"Exif\x00\x00" + tiff
body = body[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + body[2:]
open(path("exif8-motorola.jpg"), "wb").write(body)
check = Image.open(path("exif8-motorola.jpg"))
assert check.getexif().get(0x0112) == 8
record("exif8-motorola.jpg", check.transpose(Image.Transpose.ROTATE_90))

png = bytearray(open(path("rgb.png"), "rb").read())
idat = png.index(b"IDAT")
png[idat + 6] ^= 0xFF                                                  # inside the compressed data
open(path("corrupt.png"), "wb").write(bytes(png))
jpg = bytearray(open(path("rgb.jpg"), "rb").read())
sof = jpg.index(b"\xff\xc0")
jpg[sof + 4: sof + 19] = b"\x00" * 15                                   # frame header: 0 lines, 0 columns…
open(path("corrupt.jpg"), "wb").write(bytes(jpg))
open(path("animation.jpg"), "wb").write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")

# The eight EXIF orientations of a 3×2 grey image (values 0…5), turned upright by Pillow's own
# mapping (ImageOps.exif_transpose): the reference for Image.oriented(_:).
small = Image.fromarray(np.arange(6, dtype=np.uint8).reshape(2, 3))
transposes = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
              4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270,
              7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}
for o, t in transposes.items():
    record(f"orientation-{o}", small if t is None else small.transpose(t))

with open(path("expected.json"), "w") as f:
    json.dump(expected, f)
print(sorted(os.listdir(OUT)))

# --- Real photos (optional): scikit-image's data files, if tools/fetch-skimage-data.sh has run -------
# Pillow's decoded values at 64 fixed positions per file, and torchvision's ImageNet pipeline
# (Resize(256) → CenterCrop(224) → ToTensor → Normalize) written out with Pillow alone, sampled at
# 64 positions, for chelsea.png and rocket.jpg. Committed as skimage-expected.json (small).
SKIMAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".cache", "data", "skimage")
if os.path.isdir(SKIMAGE):
    real = {}
    pick = np.random.default_rng(1)
    for name in ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "brick.png", "grass.png", "gravel.png"]:
        a = np.asarray(Image.open(os.path.join(SKIMAGE, name)))
        h, w = a.shape[:2]
        ys, xs = pick.integers(0, h, 64), pick.integers(0, w, 64)
        real[name] = {"width": w, "height": h, "channels": 1 if a.ndim == 2 else a.shape[2],
                      "samples": [[int(x), int(y)] + np.atleast_1d(a[y, x]).astype(int).tolist() for x, y in zip(xs, ys)]}
    for name in ["chelsea.png", "rocket.jpg"]:
        im = Image.open(os.path.join(SKIMAGE, name)).convert("RGB")
        w, h = im.size
        size = (256, int(256 * h / w)) if w <= h else (int(256 * w / h), 256)      # torchvision: truncated
        r = im.resize(size, Image.Resampling.BILINEAR)
        left, top = int(round((size[0] - 224) / 2.0)), int(round((size[1] - 224) / 2.0))
        c = np.asarray(r.crop((left, top, left + 224, top + 224)), dtype=np.float32) / 255
        t = ((c - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]).transpose(2, 0, 1)   # CHW
        cs, ys, xs = pick.integers(0, 3, 64), pick.integers(0, 224, 64), pick.integers(0, 224, 64)
        real["torch-" + name] = {"samples": [[int(ch), int(y), int(x), float(t[ch, y, x])] for ch, y, x in zip(cs, ys, xs)]}
    with open(path("skimage-expected.json"), "w") as f:
        json.dump(real, f)
    print("skimage-expected.json written")
