#!/usr/bin/env python3
"""Writes Weights/imagenet_classes.txt: the 1,000 ImageNet category names, one per line in class
index order, as torchvision's wheel carries them (torchvision/models/_meta.py, _IMAGENET_CATEGORIES).
Used by `zoo predict` for Keras and torchvision ImageNet weights that name no classes themselves.

Rerun: python3 -m venv /tmp/venv-tv && /tmp/venv-tv/bin/pip install torchvision
       /tmp/venv-tv/bin/python tools/make_imagenet_classes.py
"""
import os

from torchvision.models._meta import _IMAGENET_CATEGORIES

path = os.path.join(os.path.dirname(__file__), "..", "Weights", "imagenet_classes.txt")
with open(path, "w") as f:
    f.write("\n".join(_IMAGENET_CATEGORIES) + "\n")
print(len(_IMAGENET_CATEGORIES), "classes →", os.path.normpath(path))
