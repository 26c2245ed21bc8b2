#!/bin/bash
# Zoo's GEMM at git revision REV (A) against the working tree's (B), alternating calls on the
# networks' shapes (Benchmarks/gemm_ab.c): the way to see a change of a few per cent on this VM.
#
#     bash Benchmarks/gemm_ab.sh [REV=HEAD] [cold=0|1|2] [reps=21] [MxKxN …]
#
# REV may also be a path to another gemm.c (an experiment beside the working tree's).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
rev=${1:-HEAD}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/a" "$work/b"
cp "$root/Sources/CZooGEMM/include/zoo_gemm.h" "$work/b/"
if [ -f "$rev" ]; then
    cp "$rev" "$work/a.c"
    cp "$root/Sources/CZooGEMM/include/zoo_gemm.h" "$work/a/"
else
    # Each side with its own header (signatures change between revisions).
    git -C "$root" show "$rev:Sources/CZooGEMM/gemm.c" > "$work/a.c"
    git -C "$root" show "$rev:Sources/CZooGEMM/include/zoo_gemm.h" > "$work/a/zoo_gemm.h"
fi
cp "$root/Sources/CZooGEMM/gemm.c" "$work/b.c"
cc=$(command -v clang || command -v gcc)
for side in a b; do
    prefix=$(echo "$side" | tr ab AB)_
    # Every function the side's header declares, renamed for this side.
    renames=""
    for f in $(grep -o 'zoo_[a-z0-9_]*(' "$work/$side/zoo_gemm.h" | tr -d '(' | sort -u); do
        renames="$renames -D$f=$prefix$f"
    done
    "$cc" -O3 -c -I"$work/$side" $renames "$work/$side.c" -o "$work/$side.o"
done
"$cc" -O3 "$here/gemm_ab.c" "$work/a.o" "$work/b.o" -o "$work/gemm_ab"
echo "A: $rev, B: working tree; cold=${2:-0}"
"$work/gemm_ab" "${2:-0}" "${3:-21}" "${@:4}"
