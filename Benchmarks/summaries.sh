#!/usr/bin/env bash
# How fast the whole zoo is summarised and verified, and how little memory it takes: no weights are
# allocated (VGG-16's 138M parameters alone would be 528 MiB). Reference run, side by side: the same
# binary doing nothing (`zoo --help`), i.e. process start-up.
# Usage: Benchmarks/summaries.sh [RUNS]   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
swift build -c release --product zoo >/dev/null
zoo=.build/release/zoo
names=$($zoo list --json | python3 -c 'import json,sys; print(" ".join(n["name"] for n in json.load(sys.stdin)))')

measure() {  # measure LABEL COMMAND… → median seconds and max RSS over $runs runs
    local label=$1; shift
    local times=() rss=0
    for _ in $(seq "$runs"); do
        local out
        out=$( { /usr/bin/time -f "%e %M" "$@" >/dev/null; } 2>&1 | tail -1)
        times+=("${out% *}")
        (( ${out#* } > rss )) && rss=${out#* }
    done
    local median
    median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf '%-44s %8s s %10s KiB\n' "$label" "$median" "$rss"
    eval "${label//[^a-z]/_}_t=$median"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "runs: $runs (median time, max peak RSS)"
measure "reference: zoo --help" $zoo --help
measure "zoo verify (all networks, every check)" $zoo verify
measure "zoo summary --format json (all $(wc -w <<<"$names") networks)" bash -c "for n in $names; do $zoo summary \$n --format json; done"
measure "zoo summary vgg16" $zoo summary vgg16
echo "VGG-16 weights would take $((138357544 * 4 / 1024)) KiB."
