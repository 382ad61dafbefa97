#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/run_pam_bench.sh [BUILD_DIR [N]]: runs bench/pam_bench (a login's PAM account check
# through pam_jit.so vs connect + Peer.Ping to jitd) against a live jitd on a private bus.
# The integration harness provides the world: a private mount namespace, journald, dbus-daemon
# with our policy, the test users and jitd. jitalice holds a grant on a resource covering sshd
# logins, so every check is an allow that jitd decides. Needs root. Use a build without
# sanitizers (RelWithDebInfo or Release).
set -uo pipefail
N=${2:-2000}
# shellcheck source=lib/world.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/world.sh"

BENCH=$JIT_BUILD_DIR/bench/pam_bench
MODULE=$JIT_BUILD_DIR/pam_jit/pam_jit.so
[[ -x $BENCH ]] || die "no $BENCH (build the pam_bench target)"
[[ -f $MODULE ]] || die "no $MODULE (build the pam_jit target)"
need_unsanitized "$MODULE"

jitd_start
setup_resource bench-host bench-jit --action auto-approve --max-duration 4h
grant=$(new_grant jitalice bench-host 4h) || die "no grant"
note "jitalice holds grant $grant on bench-host (sshd, sudo; any account)"
"$BENCH" "$MODULE" sshd jitalice "$N" "snapshot=$T/run/snapshot"
