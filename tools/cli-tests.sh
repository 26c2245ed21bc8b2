#!/usr/bin/env bash
# End-to-end checks of the `zoo` command on shipped data (run by `make test` after the unit tests):
# training on an .npy pair with a new head, exact resume, loading the result back, and the errors a
# user meets. Usage: tools/cli-tests.sh [path/to/zoo]
set -euo pipefail
cd "$(dirname "$0")/.."
ZOO=${1:-.build/debug/zoo}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "cli-tests: FAIL: $*" >&2; exit 1; }
expect() { grep -q -- "$1" "$2" || { cat "$2" >&2; fail "expected \`$1\` in the output above"; }; }
X=Tests/Fixtures/mnist/test-digits.npy Y=Tests/Fixtures/mnist/test-labels-mod3.npy
TRAIN=(train lenet5-common --data "$X" --labels "$Y" --from Weights/lenet5-common.h5 --freeze C3 --test-fraction 0 --batch 4 --quiet)

# Three classes from a ten-class network: a new head, trained, written with its classes.
"$ZOO" "${TRAIN[@]}" --epochs 3 -o "$T/whole.h5" > "$T/out" 2>&1 || { cat "$T/out"; fail "zoo train"; }
expect "head \`OUTPUT\`: 10 → 3 classes" "$T/out"
expect "frozen: C1, C3" "$T/out"
expect "10 train, 0 test, 3 classes" "$T/out"
# Two epochs, then --resume to three: the same file contents as three in one go.
"$ZOO" "${TRAIN[@]}" --epochs 2 -o "$T/part.h5" > /dev/null
"$ZOO" "${TRAIN[@]}" --epochs 3 -o "$T/part.h5" --resume > "$T/out" 2>&1
expect "resuming after epoch 2" "$T/out"
expect "momentum restored" "$T/out"
"$ZOO" run lenet5-common --weights "$T/whole.h5" --input "$X" --save "$T/a.npy" > /dev/null
"$ZOO" run lenet5-common --weights "$T/part.h5" --input "$X" --save "$T/b.npy" > /dev/null
cmp -s "$T/a.npy" "$T/b.npy" || fail "resumed training differs from training in one go"
# The file loads into the catalogue network with a three-unit head; predictions name its classes.
"$ZOO" predict lenet5-common --weights "$T/whole.h5" "$X" --top 3 > "$T/out" 2>&1
expect "#9:" "$T/out"
[ "$(grep -c '%' "$T/out")" = 30 ] || { cat "$T/out"; fail "expected 3 classes for each of 10 digits"; }
# Errors a user meets: an existing output, LeNet-5's RBF head, labels that do not match.
if "$ZOO" "${TRAIN[@]}" --epochs 1 -o "$T/whole.h5" > "$T/out" 2>&1; then fail "overwrote an existing output"; fi
expect "exists" "$T/out"
if "$ZOO" train lenet5 --data "$X" --labels "$Y" --epochs 1 -o "$T/rbf.h5" > "$T/out" 2>&1; then fail "lenet5 accepted 3 classes"; fi
expect "RBF" "$T/out"
if "$ZOO" train lenet5-common --data "$X" --labels "$X" --epochs 1 -o "$T/bad.h5" > "$T/out" 2>&1; then fail "accepted images as labels"; fi
expect "labels for the 10 inputs" "$T/out"
[ ! -e "$T/bad.h5" ] || fail "a failed run left an output file"
# zoo bench alternating two rules for steps ready together; a rule it does not know.
"$ZOO" bench lenet5 --threads 2 --runs 3 --warmup 1 --rounds one-at-a-time --against side-by-side > "$T/out" 2>&1 || { cat "$T/out"; fail "zoo bench --against"; }
expect "rounds one-at-a-time: median" "$T/out"
expect "alternating with side-by-side" "$T/out"
if "$ZOO" bench lenet5 --against sideways > "$T/out" 2>&1; then fail "accepted an unknown rule"; fi
expect "one-at-a-time" "$T/out"
# zoo bench at a batch says where its image streams end (LeNet-5: at the fully-connected tail).
"$ZOO" bench lenet5 --batch 3 --runs 1 --warmup 0 > "$T/out" 2>&1 || { cat "$T/out"; fail "zoo bench --batch 3"; }
expect "image streams up to flatten, then the whole batch" "$T/out"
"$ZOO" bench lenet5 --batch 3 --runs 1 --warmup 0 --json > "$T/out" 2>&1 || { cat "$T/out"; fail "zoo bench --json"; }
expect '"streams_end":"flatten"' "$T/out"
# The default thread count follows the CPUs the process may use (taskset: one).
if command -v taskset > /dev/null; then
    taskset -c 0 "$ZOO" bench lenet5 --runs 1 --warmup 0 > "$T/out" 2>&1 || { cat "$T/out"; fail "zoo bench under taskset"; }
    expect "batch 1, 1 thread," "$T/out"
fi
# zoo bench --paced: one timed run, one line, per line of input.
printf '\n\n\n' | "$ZOO" bench lenet5 --paced --warmup 0 > "$T/out" 2>&1 || { cat "$T/out"; fail "zoo bench --paced"; }
[ "$(grep -cE '^[0-9]+\.[0-9]+$' "$T/out")" = 3 ] || { cat "$T/out"; fail "expected three times from --paced"; }
if "$ZOO" bench lenet5 --paced --against side-by-side < /dev/null > "$T/out" 2>&1; then fail "--paced with --against"; fi
expect "not with --against" "$T/out"
echo "cli-tests: all passed"
