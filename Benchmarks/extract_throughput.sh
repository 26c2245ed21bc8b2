#!/usr/bin/env bash
# Extraction throughput (`zoo extract --layer fc7`, decoding overlapped with the network) against
# `zoo bench` for the same network and batch: decoding must not be the bottleneck (goal: within 10 %).
# Images: scikit-image's real photos (tools/fetch-skimage-data.sh), each used 16 times (symlinks).
# Usage: Benchmarks/extract_throughput.sh [NETWORK] [BATCH]   (default vgg16 16)
set -euo pipefail
cd "$(dirname "$0")/.."
net=${1:-vgg16}; batch=${2:-16}
tools/fetch-skimage-data.sh >/dev/null
swift build -c release --product zoo >/dev/null
zoo=.build/release/zoo
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/images"
n=0
for i in $(seq 16); do for f in chelsea.png coffee.png astronaut.png rocket.jpg; do
    ln -s "$PWD/.cache/data/skimage/$f" "$work/images/$(printf %03d $n)-$f"; n=$((n + 1))
done; done
start=$(date +%s.%N)
$zoo extract "$net" "$work/images" --layer fc7 --batch "$batch" -o "$work/codes.h5" --quiet >/dev/null
end=$(date +%s.%N)
extract=$(awk -v n=$n -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", n / (e - s) }')
bench=$($zoo bench "$net" --batch "$batch" --runs 3 --json | python3 -c 'import json,sys; print("%.2f" % json.load(sys.stdin)["images_per_s"])')
echo "$net, batch $batch, $n real photos (PNG and JPEG, 300×451 to 512×640): extract $extract images/s (whole command, incl. start-up and writing), bench $bench images/s"
awk -v a="$extract" -v b="$bench" 'BEGIN { printf "extract / bench = %.2f (goal ≥ 0.90)\n", a / b }'
