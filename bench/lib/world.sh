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

# bench_program NAME: sets BENCH to the benchmark program NAME of this build, which must exist,
# and needs a jitd built without sanitizers (the benchmark measures jitd).
bench_program() {
    BENCH=$JIT_BUILD_DIR/bench/$1
    [[ -x $BENCH ]] || die "no $BENCH (build the $1 target)"
    need_unsanitized "$JIT_BUILD_DIR/jitd/jitd"
}

# jitd_memory: jitd's resident memory now and at its peak, from /proc/PID/status.
jitd_memory() {
    awk '/^VmRSS:/ { rss = $2 } /^VmHWM:/ { peak = $2 }
         END { printf "RSS %.1f MiB, peak RSS %.1f MiB", rss / 1024, peak / 1024 }' \
        "/proc/$JITD_PID/status"
}

# jitd_start_timed WHAT [CONFIG_LINE...]: jitd_start, then notes how long jitd took to load WHAT
# and own its name.
jitd_start_timed() {
    local what=$1 started
    shift
    started=$(date +%s%N)
    jitd_start "$@"
    note "jitd loaded $what and owned its name in $((($(date +%s%N) - started) / 1000000)) ms"
}
