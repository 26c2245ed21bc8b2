#!/usr/bin/env bash
# What the engine's choices are worth on this machine: `zoo bench` as it runs by default, with
# Winograd turned off (ZOO_CONVOLUTION=im2col), with OpenBLAS's SGEMM instead of Zoo's own GEMM
# (ZOO_GEMM=openblas), with residual adds as steps of their own (ZOO_FUSED_ADD=0), with im2col
# instead of the direct convolution (ZOO_DIRECT=0), without the GEMM's panel order
# (ZOO_PANELS=0), with batches layer by layer instead of image streams (ZOO_STREAMS=0; batch > 1
# only), and with the OpenBLAS kernels that OpenBLAS itself picked when loaded
# (OPENBLAS_CORETYPE=<its own choice>, which Zoo respects). Variants alternate, ROUNDS times;
# prints each median (ms per batch) and its ratio to the default (> 1: the default is faster).
#
#   Benchmarks/engine_ablation.sh [ROUNDS] [MODELS] [THREADS] [BATCH]
#   Benchmarks/engine_ablation.sh 3 "vgg16 resnet50-v1.5 googlenet-torchvision alexnet-torchvision" "1 2" 1
#   VARIANTS="ZOO_STREAMS=0" Benchmarks/engine_ablation.sh 3 "googlenet-torchvision" "1 2" 8
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
MODELS=${2:-"vgg16 resnet50-v1.5 googlenet-torchvision alexnet-torchvision"}
THREADS=${3:-"1 2"}
BATCH=${4:-1}
ZOO=${ZOO:-.build/release/zoo}
[ -x "$ZOO" ] || swift build -c release --product zoo >/dev/null

# The kernels OpenBLAS picks by itself, from a tiny C program that only asks it.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
cat > "$probe/core.c" <<'EOF'
#include <cblas.h>
#include <stdio.h>
int main(void) { printf("%s\n", openblas_get_corename()); return 0; }
EOF
cc "$probe/core.c" -o "$probe/core" -lopenblas
OWN=$(env -u OPENBLAS_CORETYPE "$probe/core")
echo "OpenBLAS picks by itself: $OWN; Zoo runs: $($ZOO bench lenet5 --runs 1 2>/dev/null | sed -n 's/.*OpenBLAS kernels //p')"

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
bench() { "$@" bench "$model" --batch "$BATCH" --threads "$t" --runs 5 --warmup 1 --json | sed 's/.*"median_ms": *\([0-9.]*\).*/\1/'; }

if [ -n "${VARIANTS:-}" ]; then
  read -r -a VARIANTS <<< "$VARIANTS"
else
  VARIANTS=("ZOO_CONVOLUTION=im2col" "ZOO_GEMM=openblas" "ZOO_FUSED_ADD=0" "ZOO_DIRECT=0" "ZOO_PANELS=0" "OPENBLAS_CORETYPE=$OWN")
  [ "$BATCH" -gt 1 ] && VARIANTS+=("ZOO_STREAMS=0")
fi
printf '%-24s %3s %10s' model thr "default"
for v in "${VARIANTS[@]}"; do printf ' %24s' "$v"; done
printf '\n'
for model in $MODELS; do
  for t in $THREADS; do
    d=()
    declare -A runs=()
    for _ in $(seq "$ROUNDS"); do
      d+=("$(bench env "$ZOO")")
      for v in "${VARIANTS[@]}"; do runs[$v]+="$(bench env "$v" "$ZOO") "; done
    done
    md=$(printf '%s\n' "${d[@]}" | median)
    printf '%-24s %3s %10.1f' "$model" "$t" "$md"
    for v in "${VARIANTS[@]}"; do
      mv=$(printf '%s\n' ${runs[$v]} | median)
      printf ' %15.1f (%5.2f×)' "$mv" "$(awk -v a="$mv" -v b="$md" 'BEGIN {print a / b}')"
    done
    printf '\n'
    unset runs
  done
done
