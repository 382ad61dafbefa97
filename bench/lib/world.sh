# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Sourced first by bench/run_*.sh [BUILD_DIR ...]: the integration harness's world for a
# benchmark (a private mount namespace, journald, dbus-daemon with our policy, the test users,
# jitd), which prints numbers rather than "N passed". BUILD_DIR (default $JIT_BUILD_DIR, else
# build/) is made absolute: PAM loads the module by this path.

SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export JIT_SOURCE_DIR=$SOURCE_DIR
JIT_BUILD_DIR=$(realpath "${1:-${JIT_BUILD_DIR:-$SOURCE_DIR/build}}")
export JIT_BUILD_DIR
# shellcheck source=../../tests/integration/lib/harness.sh
source "$SOURCE_DIR/tests/integration/lib/harness.sh"
trap 'harness_cleanup' EXIT

# need_unsanitized FILE: a sanitizer build would measure the sanitizer.
need_unsanitized() {
    if ldd "$1" | grep -q libasan; then
        die "$1 is built with ASan; benchmark a build without sanitizers"
    fi
}
