#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/run_jitd_check_bench.sh [BUILD_DIR [N]]: the login check through the bus against a
# jitd holding 10k resources and 100k active grants, vs Peer.Ping to the same jitd over the
# same connection (bench/jitd_check_bench.cpp). The integration harness provides a private
# mount namespace, journald and dbus-daemon with our policy. Needs root; use a build without
# sanitizers (RelWithDebInfo or Release).
set -uo pipefail
N=${2:-20000}
# shellcheck source=lib/world.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/world.sh"

bench_program jitd_check_bench

"$BENCH" populate "$T/jit.db" || die "cannot populate $T/jit.db"
jitd_start_timed "the state"
"$BENCH" measure "$N"
