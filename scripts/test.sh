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
# Integration tests need root (they create test users, mount a private journal, start their
# own dbus-daemon); without root ctest reports them as skipped. Exits non-zero if any test
# failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

JOBS=${JOBS:-2}
started=$(date +%s)
step() { printf '\n=== %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }

step "dependencies"
scripts/install-deps.sh

step "configure and build (preset asan: Debug, ASan + UBSan)"
cmake --preset asan
cmake --build --preset asan --parallel "$JOBS"

step "unit and integration tests (asan build)"
set +e
ctest --preset asan --parallel "$JOBS"
asan_status=$?
set -e

step "configure and build (preset default: RelWithDebInfo; programs and benchmarks)"
cmake --preset default
cmake --build --preset default --parallel "$JOBS" --target \
    jitd jitctl pam_jit pam_jit_driver pam_jit_fake_jitd jitd_catalog_check \
    access_index_bench jitd_check_bench pam_bench

# The timing-sensitive checks (pam_jit under valgrind, the systemd host test) run alone; the
# fuzzers then run beside the package test, which spends much of its time waiting on the
# container and apt, so the two overlap instead of adding up.
step "pam_jit under valgrind and the booted-container systemd test (default build)"
set +e
ctest --preset default -L valgrind
valgrind_status=$?
ctest --preset default -R '^host\.systemd_host_test$'
systemd_status=$?
set -e

step "the Debian packages in a booted container, beside the fuzzers (scripts/fuzz.sh 10)"
fuzz_log=$(mktemp /tmp/jit-fuzz.XXXXXX.log)
set +e
scripts/fuzz.sh 10 >"$fuzz_log" 2>&1 &
fuzz_pid=$!
ctest --preset default -R '^host\.package_install_test$'
package_status=$?
wait "$fuzz_pid"
fuzz_status=$?
set -e
step "fuzz every parser for 10 s (scripts/fuzz.sh, clang-14 + ASan/UBSan): its output"
cat "$fuzz_log"
rm -f "$fuzz_log"
host_status=$((valgrind_status || systemd_status || package_status))

step "done: asan tests exit $asan_status, container tests exit $host_status, fuzz exit $fuzz_status"
((asan_status == 0 && host_status == 0 && fuzz_status == 0))
