#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# THE test command (README, .ci/run): installs the dependencies, then
#  1. builds with AddressSanitizer + UndefinedBehaviorSanitizer and runs every unit and
#     integration test (real dbus-daemon, journald, jitd, jitctl, sudo, sshd) with ctest;
#  2. builds the plain configuration and runs the tests on a booted Debian 12 container
#     (systemd-nspawn): jitd as a systemd service, sessions ended through logind, and the
#     Debian packages built, linted and installed (a container cannot load a sanitizer build);
#     and pam_jit's libpam test again, this time under valgrind;
#  3. fuzzes every parser of outside input for 10 s each (scripts/fuzz.sh, clang-14 build in
#     build-fuzz/), beside the package test of step 2; a crash fails the run.
# The integration tests spend most of their time waiting (on grants to expire, on sshd, on
# restarts), so the builds of steps 2 and 3 (plain build, Debian packages, fuzzers) run in the
# background at the lowest CPU priority while the tests of step 1 run: they take the idle
# cores, and the tests keep the CPU whenever they want it.
# Integration tests need root (they create test users, mount a private journal, start their
# own dbus-daemon); without root ctest reports them as skipped. Exits non-zero if any test
# failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

JOBS=${JOBS:-2}
# The fuzzers' 10-second runs mostly replay the corpus; unoptimised, they build in half the time.
export FUZZ_OPT=${FUZZ_OPT:-0}
started=$(date +%s)
step() { printf '\n=== %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }

step "dependencies"
scripts/install-deps.sh

step "configure and build (preset asan: Debug, ASan + UBSan)"
cmake --preset asan
cmake --build --preset asan --parallel "$JOBS"
cmake --preset default >/dev/null

# --- the background lane: the later steps' builds, one after the other ------------------------
lane=$(mktemp -d /tmp/jit-test-lane.XXXXXX)
# lane_step NAME COMMAND...: COMMAND at nice 19, its output in $lane/NAME.log, its exit status
# in $lane/NAME.rc once it is done.
lane_step() {
    local name=$1
    shift
    local rc=0
    nice -n 19 "$@" >"$lane/$name.log" 2>&1 || rc=$?
    echo "$rc" >"$lane/$name.rc"
}
# lane_wait NAME: waits for the lane's step NAME; on failure prints its log and returns non-zero.
lane_wait() {
    while [[ ! -f $lane/$1.rc ]]; do sleep 1; done
    local rc
    rc=$(<"$lane/$1.rc")
    if ((rc != 0)); then
        echo "--- $1 failed (exit $rc): $lane/$1.log" >&2
        tail -n 60 "$lane/$1.log" >&2
    fi
    echo "$1: done after $(($(stat -c %Y "$lane/$1.rc") - started))s (exit $rc)"
    return "$rc"
}
# Job control gives the lane a process group of its own, so it can be held still (below).
set -m
(
    set +e
    lane_step default-build cmake --build --preset default --parallel "$JOBS" --target \
        jitd jitctl pam_jit pam_jit_driver pam_jit_fake_jitd jitd_catalog_check \
        access_index_bench jitd_check_bench pam_bench
    # The fuzzers before the packages: their runs (one core) can then overlap the package build.
    JOBS=$JOBS lane_step fuzz-build scripts/fuzz.sh --build-only
    # These packages are only tested, never shipped: line tables (-g1, appended to dpkg's -g)
    # build much faster and change nothing the tests see.
    JIT_PKG_OUT=$lane/packages JIT_PKG_JOBS=$JOBS DEB_CFLAGS_APPEND=-g1 DEB_CXXFLAGS_APPEND=-g1 \
        lane_step packages bash tests/packaging/build_and_lint.sh
) </dev/null &
lane_pid=$!
set +m
# (Under set -e a failing command in the trap would turn a passing run's exit status into 1: the
# lane is usually gone by then.)
trap 'kill -CONT -- "-$lane_pid" 2>/dev/null || true; kill -- "-$lane_pid" 2>/dev/null || true
      rm -rf "$lane"' EXIT

step "unit and integration tests (asan build; the background lane builds beside them)"
set +e
ctest --preset asan --parallel "$JOBS"
asan_status=$?
set -e

# The valgrind and systemd host tests run once the plain build is done; the packages and the
# fuzzers may still be building at nice 19.
step "the plain build (preset default: RelWithDebInfo; programs and benchmarks)"
build_status=0
lane_wait default-build || build_status=1

step "pam_jit under valgrind and the booted-container systemd test (default build)"
set +e
# pam_module_test checks pam_jit's timeout to within 100 ms: the lane holds still meanwhile.
kill -STOP -- "-$lane_pid" 2>/dev/null
ctest --preset default -L valgrind
valgrind_status=$?
kill -CONT -- "-$lane_pid" 2>/dev/null
ctest --preset default -R '^host\.systemd_host_test$'
systemd_status=$?
set -e

step "the Debian packages (built and linted in the background), installed in a booted container, beside the fuzzers"
fuzz_log=$lane/fuzz-run.log
set +e
(lane_wait fuzz-build && scripts/fuzz.sh 10) >"$fuzz_log" 2>&1 &
fuzz_pid=$!
packages_status=0
lane_wait packages || packages_status=1
grep -E '^FAIL |passed, .* failed$' "$lane/packages.log"
JIT_DEBS_DIR=$lane/packages ctest --preset default -R '^host\.package_install_test$'
package_status=$?
wait "$fuzz_pid"
fuzz_status=$?
set -e
step "fuzz every parser for 10 s (scripts/fuzz.sh, clang-14 + ASan/UBSan): its output"
cat "$fuzz_log"
host_status=$((build_status || valgrind_status || systemd_status || packages_status || package_status))

step "done: asan tests exit $asan_status, container tests exit $host_status, fuzz exit $fuzz_status"
((asan_status == 0 && host_status == 0 && fuzz_status == 0))
