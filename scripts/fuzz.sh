#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fuzzes every parser of outside input (fuzz/*_fuzzer.cpp, libFuzzer):
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#   scripts/fuzz.sh --build-only [TARGET...]
# Builds the targets with clang-14, AddressSanitizer and UndefinedBehaviorSanitizer in
# build-fuzz/ (FUZZ_BUILD_DIR), then runs each TARGET (default: all, one after the other) for
# SECONDS (default 60) on a copy of its seed corpus fuzz/corpus/TARGET, so the tree's corpus
# stays as committed. At the first crash, leak or timeout it stops with exit status 1 and keeps
# the input that caused it in build-fuzz/fuzz-crashes/TARGET/ (reproduce with
# build-fuzz/fuzz/TARGET_fuzzer FILE). The last line is always
#   fuzz: N targets, M execs, K crashes
# --build-only builds the targets and runs nothing (scripts/test.sh builds them early, in the
# background, and runs them later). FUZZ_OPT is the optimisation level (default 1; scripts/test.sh
# uses 0 for its 10-second runs, which mostly replay the corpus: that build takes half the time).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_only=false
seconds=60
if [[ ${1:-} == --build-only ]]; then
    build_only=true
    shift
elif (($# > 0)); then
    seconds=$1
    shift
fi
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds == 0)); then
    echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...] | scripts/fuzz.sh --build-only [TARGET...]" >&2
    exit 64
fi
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
opt=${FUZZ_OPT:-1}
[[ $opt =~ ^[0-3]$ ]] || { echo "fuzz: FUZZ_OPT must be 0, 1, 2 or 3, not '$opt'" >&2; exit 64; }
jobs=${JOBS:-2}

all_targets=()
for source in fuzz/*_fuzzer.cpp; do
    name=${source##*/}
    all_targets+=("${name%_fuzzer.cpp}")
done
targets=("$@")
((${#targets[@]} > 0)) || targets=("${all_targets[@]}")
for target in "${targets[@]}"; do
    if [[ ! -f fuzz/${target}_fuzzer.cpp ]]; then
        echo "fuzz: unknown target '$target' (known: ${all_targets[*]})" >&2
        exit 64
    fi
done

for tool in clang-14 clang++-14; do
    command -v "$tool" >/dev/null || { echo "fuzz: $tool missing (scripts/install-deps.sh)" >&2; exit 1; }
done

# -O1 keeps the sanitizers' reports readable and runs several times faster than -O0. Line tables
# are all the debug information a report's file:line needs, and build much faster than -g.
started=$(date +%s)
mkdir -p "$build_dir"
CC=clang-14 CXX=clang++-14 cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_FLAGS="-O$opt" -DCMAKE_CXX_FLAGS="-O$opt" -DCMAKE_C_FLAGS_DEBUG=-gline-tables-only \
    -DCMAKE_CXX_FLAGS_DEBUG=-gline-tables-only -DJIT_SANITIZE=ON -DJIT_BUILD_FUZZ=ON \
    -DJIT_BUILD_TESTS=OFF -DJIT_BUILD_BENCH=OFF >"$build_dir/configure.log" 2>&1 ||
    { cat "$build_dir/configure.log" >&2; exit 1; }
cmake --build "$build_dir" --parallel "$jobs" --target "${targets[@]/%/_fuzzer}"
echo "fuzz: built ${#targets[@]} targets in $(($(date +%s) - started))s"
$build_only && exit 0

total_execs=0
crashes=0
ran=0
for target in "${targets[@]}"; do
    work=$build_dir/fuzz-run/$target
    kept=$build_dir/fuzz-crashes/$target
    rm -rf "$work"
    mkdir -p "$work/corpus" "$kept"
    if [[ -d fuzz/corpus/$target ]]; then
        cp fuzz/corpus/"$target"/* "$work/corpus/"
    fi
    set +e
    "$build_dir/fuzz/${target}_fuzzer" -max_total_time="$seconds" -print_final_stats=1 \
        -timeout=10 -rss_limit_mb=2048 -max_len=4096 -artifact_prefix="$kept/" \
        "$work/corpus" >"$work/log" 2>&1
    status=$?
    set -e
    ran=$((ran + 1))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
    execs=${execs:-0}
    total_execs=$((total_execs + execs))
    if ((status != 0)); then
        crashes=$((crashes + 1))
        grep -a -m 5 -E 'fuzz property failed|ERROR: |runtime error|what\(\)' "$work/log" >&2 || true
        tail -n 12 "$work/log" >&2
        echo "fuzz: $target: FAILED (exit $status) after $execs execs; input kept in $kept/" \
            "(whole log: $work/log)" >&2
        break
    fi
    echo "fuzz: $target: $execs execs in ${seconds}s, corpus $(ls "$work/corpus" | wc -l) inputs"
done

echo "fuzz: $ran targets, $total_execs execs, $crashes crashes"
((crashes == 0))
