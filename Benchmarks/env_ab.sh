#!/bin/bash
# Two settings of the engine's environment switches against each other, `zoo bench` runs
# alternating (A, B, A, B, …) so that both see the same minutes of this VM's drift; prints each
# side's median and the median of the pairs' ratios B/A.
#
#     bash Benchmarks/env_ab.sh "ZOO_BALANCE=0" "ZOO_BALANCE=1" resnet50-v1.5 [threads=2] [batch=1] [pairs=8]
#
# Use "X=1" for a side without a switch set. RUNS (default 3) and WARMUP (default 1) set each
# `zoo bench`'s timed and untimed runs (what the engine learns in its first runs — the cut
# between threads, side by side or not — wants WARMUP=3). Needs a release build (`make build`).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
zoo="$here/../.build/release/zoo"
A=$1; B=$2; M=$3; T=${4:-2}; N=${5:-1}; P=${6:-8}
ra=(); rb=(); rr=()
ms() { env $1 "$zoo" bench "$M" --threads "$T" --batch "$N" --runs "${RUNS:-3}" --warmup "${WARMUP:-1}" --json | sed 's/.*"median_ms": *\([0-9.]*\).*/\1/'; }
for i in $(seq "$P"); do
    a=$(ms "$A"); b=$(ms "$B")
    ra+=("$a"); rb+=("$b"); rr+=("$(awk -v a="$a" -v b="$b" 'BEGIN{print b/a}')")
done
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
echo "$M, $T threads, batch $N: A ($A) $(med "${ra[@]}") ms, B ($B) $(med "${rb[@]}") ms, median B/A $(med "${rr[@]}")"
