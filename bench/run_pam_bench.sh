#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/run_pam_bench.sh [BUILD_DIR [N]]: runs bench/pam_bench (a login's PAM account check
# through pam_jit.so vs connect + Peer.Ping to jitd) against a live jitd on a private bus.
# The integration harness provides the world: a private mount namespace, journald, dbus-daemon
# with our policy, the test users and jitd. jitalice holds a grant on a resource covering sshd
# logins, so every check is an allow that jitd decides. Needs root. Use a build without
# sanitizers (RelWithDebInfo or Release).
set -uo pipefail
SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export JIT_SOURCE_DIR=$SOURCE_DIR
JIT_BUILD_DIR=$(realpath "${1:-${JIT_BUILD_DIR:-$SOURCE_DIR/build}}")
export JIT_BUILD_DIR # absolute: PAM loads the module by this path
N=${2:-2000}
source "$SOURCE_DIR/tests/integration/lib/harness.sh"
trap 'harness_cleanup' EXIT # a benchmark prints numbers, not "N passed"

BENCH=$JIT_BUILD_DIR/bench/pam_bench
MODULE=$JIT_BUILD_DIR/pam_jit/pam_jit.so
[[ -x $BENCH ]] || die "no $BENCH (build the pam_bench target)"
[[ -f $MODULE ]] || die "no $MODULE (build the pam_jit target)"
if ldd "$MODULE" | grep -q libasan; then
    die "$MODULE is built with ASan; benchmark a build without sanitizers"
fi

jitd_start
setup_resource bench-host bench-jit --action auto-approve --max-duration 4h
grant=$(new_grant jitalice bench-host 4h) || die "no grant"
note "jitalice holds grant $grant on bench-host (sshd, sudo; any account)"
"$BENCH" "$MODULE" sshd jitalice "$N" "snapshot=$T/run/snapshot"
