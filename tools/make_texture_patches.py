#!/usr/bin/env python3
"""Cuts scikit-image's real texture photos (brick, grass, gravel; fetched by
tools/fetch-skimage-data.sh) into 12 patches each — 128×128 regions of the 512×512 photos, scaled
to 64×64 — as a small three-class image folder: Tests/Fixtures/textures/<class>/NN.png. Also writes
Tests/Fixtures/photos/chelsea.jpg (the cat, 256 wide). These real images are what the transfer
tests and the `make run` demo use; CI reads the committed files and needs no Python.

Rerun: tools/fetch-skimage-data.sh && /tmp/venv-img/bin/python tools/make_texture_patches.py (Pillow)
"""
import os

from PIL import Image

here = os.path.dirname(__file__)
src = os.path.join(here, "..", ".cache", "data", "skimage")
out = os.path.join(here, "..", "Tests", "Fixtures", "textures")
for name in ["brick", "grass", "gravel"]:
    image = Image.open(os.path.join(src, name + ".png")).convert("L")
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    n = 0
    for row in range(3):
        for col in range(4):
            box = (col * 128, row * 128 + 64, col * 128 + 128, row * 128 + 192)
            image.crop(box).resize((64, 64), Image.BILINEAR).save(os.path.join(folder, f"{n:02d}.png"), optimize=True)
            n += 1
photos = os.path.join(here, "..", "Tests", "Fixtures", "photos")
os.makedirs(photos, exist_ok=True)
cat = Image.open(os.path.join(src, "chelsea.png")).convert("RGB")
cat.resize((256, round(256 * cat.height / cat.width)), Image.BILINEAR).save(os.path.join(photos, "chelsea.jpg"), quality=90)
print("wrote", out, "and", photos)
