#!/usr/bin/env bash
# Memory-bound kernels in the cache states a network leaves them (Benchmarks/memory_bound.c): a
# fully-connected layer at batch 1 (Zoo's dot products against OpenBLAS's SGEMV, W from memory) and
# 3 × 3 / 2 max pooling with its input in cache, L2 flushed, or from memory. OpenBLAS runs the
# kernels Zoo would choose (SkylakeX on an AVX-512 CPU that OpenBLAS 0.3.21 does not know; set
# OPENBLAS_CORETYPE to choose). Run twice with ZOO_POOL_PREFETCH=0 and without to see the pooling's
# prefetch.
#
#   Benchmarks/memory_bound.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
CC=${CC:-$(command -v clang || echo cc)}
"$CC" -O2 -ISources/CZooGEMM/include $(pkg-config --cflags openblas) Benchmarks/memory_bound.c Sources/CZooGEMM/gemm.c \
    -o "$out/memory_bound" $(pkg-config --libs openblas) -lm
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; fi
echo "OpenBLAS kernels: ${OPENBLAS_CORETYPE:-its own choice}"
"$out/memory_bound"
