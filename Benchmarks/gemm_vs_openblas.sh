#!/usr/bin/env bash
# Zoo's GEMM against OpenBLAS's SGEMM on the zoo's GEMM shapes, one thread, one run (see
# Benchmarks/gemm_vs_openblas.c). OpenBLAS runs the kernels Zoo would make it run: SkylakeX on an
# AVX-512 CPU that OpenBLAS 0.3.21 does not know (set OPENBLAS_CORETYPE to choose).
#
#   Benchmarks/gemm_vs_openblas.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# clang, as SwiftPM builds the package (gcc keeps the 24 accumulators in memory: 2.5× slower).
CC=${CC:-$(command -v clang || echo cc)}
"$CC" -O2 -ISources/CZooGEMM/include Benchmarks/gemm_vs_openblas.c Sources/CZooGEMM/gemm.c -o "$out/gemm" -lopenblas -lm
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; fi
echo "OpenBLAS kernels: ${OPENBLAS_CORETYPE:-its own choice}"
"$out/gemm"
