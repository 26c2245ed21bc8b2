#!/usr/bin/env bash
# What two of the engine's choices are worth on this machine: `zoo bench` as it runs by default,
# with Winograd turned off (ZOO_CONVOLUTION=im2col), and with the OpenBLAS kernels that OpenBLAS
# itself picked when loaded (OPENBLAS_CORETYPE=<its own choice>, which Zoo respects). Variants
# alternate, ROUNDS times; prints each median (ms per batch) and the ratio to the default.
#
#   Benchmarks/engine_ablation.sh [ROUNDS] [MODELS] [THREADS] [BATCH]
#   Benchmarks/engine_ablation.sh 3 "vgg16 resnet50-v1.5 googlenet-torchvision alexnet-torchvision" "1 2" 1
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

printf '%-24s %3s %12s %14s %8s %16s %8s\n' model thr "default ms" "im2col-only ms" ratio "$OWN kernels ms" ratio
for model in $MODELS; do
  for t in $THREADS; do
    d=(); w=(); o=()
    for _ in $(seq "$ROUNDS"); do
      d+=("$(bench env "$ZOO")")
      w+=("$(bench env ZOO_CONVOLUTION=im2col "$ZOO")")
      o+=("$(bench env OPENBLAS_CORETYPE="$OWN" "$ZOO")")
    done
    md=$(printf '%s\n' "${d[@]}" | median); mw=$(printf '%s\n' "${w[@]}" | median); mo=$(printf '%s\n' "${o[@]}" | median)
    printf '%-24s %3s %12.1f %14.1f %8.2f %16.1f %8.2f\n' "$model" "$t" "$md" "$mw" "$(awk -v a="$mw" -v b="$md" 'BEGIN {print a / b}')" "$mo" "$(awk -v a="$mo" -v b="$md" 'BEGIN {print a / b}')"
  done
done
