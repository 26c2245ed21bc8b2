#!/usr/bin/env bash
# Real photos from the scikit-image 0.26.0 wheel on PyPI (the issue's source; no hub): chelsea.png,
# coffee.png, astronaut.png, rocket.jpg and the textures brick.png, grass.png, gravel.png, into
# .cache/data/skimage/ (git-ignored). The wheel's SHA-256 is checked first. Idempotent.
# Usage: tools/fetch-skimage-data.sh [CACHE_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${1:-$root/.cache/data}"
out="$cache/skimage"
wheel="scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl"
sha="74aa5518ccea28121f57a95374581d3b979839adc25bb03f289b1bc9b99c58af"
files="chelsea.png coffee.png astronaut.png rocket.jpg brick.png grass.png gravel.png"
mkdir -p "$out" "$cache/wheels"
missing=0
for f in $files; do [ -s "$out/$f" ] || missing=1; done
if [ $missing = 0 ]; then echo "skimage data: $out (cached)"; exit 0; fi
if [ ! -s "$cache/wheels/$wheel" ]; then
    echo "downloading scikit-image==0.26.0"
    python3 -m pip download --no-deps --quiet --disable-pip-version-check -d "$cache/wheels" scikit-image==0.26.0 \
        --only-binary=:all: --python-version 3.11 --platform manylinux_2_28_x86_64
fi
echo "$sha  $cache/wheels/$wheel" | sha256sum --check --quiet || { echo "SHA-256 mismatch for $wheel" >&2; exit 1; }
python3 - "$cache/wheels/$wheel" "$out" $files <<'PY'
import os, sys, zipfile
wheel, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for n in names:
        tmp = os.path.join(out, n + ".partial")
        with open(tmp, "wb") as f:
            f.write(z.read("skimage/data/" + n))
        os.replace(tmp, os.path.join(out, n))
PY
echo "skimage data: $out ($(echo $files | wc -w) files)"
