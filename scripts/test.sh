#!/usr/bin/env bash
# THE test command (README, .ci/run): installs the dependencies, builds the ASan+UBSan
# configuration and runs every unit and integration test with ctest. Integration tests need
# root (they create test users, mount a private journal and start their own dbus-daemon);
# without root ctest reports them as skipped. Exits with ctest's status.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

JOBS=${JOBS:-2}
started=$(date +%s)
step() { printf '\n=== %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }

step "dependencies"
scripts/install-deps.sh

step "configure (preset asan: Debug, AddressSanitizer + UndefinedBehaviorSanitizer)"
cmake --preset asan

step "build"
cmake --build --preset asan --parallel "$JOBS"

step "test"
set +e
ctest --preset asan --parallel "$JOBS"
status=$?
set -e

step "done: ctest exit status $status"
exit "$status"
