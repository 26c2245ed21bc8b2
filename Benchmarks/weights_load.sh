#!/usr/bin/env bash
# Loading a VGG-16-sized Zoo weight file (528 MB, made by `zoo weights init`) from the page cache,
# side by side with `cat FILE > /dev/null` and h5py reading every dataset (if a Python with h5py is
# given). Reports median seconds, GB/s and peak RSS over RUNS runs, alternating the three.
# Usage: Benchmarks/weights_load.sh [RUNS] [PYTHON_WITH_H5PY]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}; py=${2:-}
swift build -c release --product zoo >/dev/null
zoo=.build/release/zoo
file=${TMPDIR:-/tmp}/zoo-vgg16-bench.h5
[ -s "$file" ] || $zoo weights init vgg16 -o "$file" --seed 1 >/dev/null
bytes=$(stat -c %s "$file")
cat "$file" > /dev/null   # into the page cache
declare -A times rss
for _ in $(seq "$runs"); do
    for tool in zoo cat h5py; do
        case $tool in
            zoo) cmd=("$zoo" weights check vgg16 "$file");;
            cat) cmd=(bash -c "cat '$file' > /dev/null");;
            h5py) [ -n "$py" ] || continue
                  cmd=("$py" -c "import h5py,sys; f=h5py.File(sys.argv[1]); [f[k][n][...] for k in f for n in f[k]]" "$file");;
        esac
        out=$( { /usr/bin/time -f "%e %M" "${cmd[@]}" >/dev/null; } 2>&1 | tail -1)
        times[$tool]+="${out% *} "; rss[$tool]=${out#* }
    done
done
echo "file: $file ($bytes bytes); $runs runs each, alternating; $(nproc) cores"
for tool in zoo cat h5py; do
    [ -n "${times[$tool]:-}" ] || continue
    median=$(tr ' ' '\n' <<<"${times[$tool]}" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    awk -v t="$median" -v b="$bytes" -v r="${rss[$tool]}" -v n="$tool" 'BEGIN { printf "%-5s %6.2f s  %5.2f GB/s  peak RSS %7.1f MiB (%.2f× the file)\n", n, t, b / t / 1e9, r / 1024, r * 1024 / b }'
done
