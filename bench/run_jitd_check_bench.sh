#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/run_jitd_check_bench.sh [BUILD_DIR [N]]: the login check through the bus against a
# jitd holding 10k resources, 100k active grants and 1M audit events (EVENTS=N sets the
# history), vs Peer.Ping to the same jitd over the same connection (bench/jitd_check_bench.cpp);
# also jitd's start and restart times and its resident memory after each. The
# integration harness provides a private mount namespace, journald and dbus-daemon with our
# policy. Needs root; use a build without sanitizers (RelWithDebInfo or Release).
set -uo pipefail
N=${2:-20000}
# shellcheck source=lib/world.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/world.sh"

bench_program jitd_check_bench

"$BENCH" populate "$T/jit.db" "${EVENTS:-1000000}" || die "cannot populate $T/jit.db"
jitd_start_timed "the state"
note "jitd after start: $(jitd_memory)"
"$BENCH" measure "$N"
note "jitd after the calls: $(jitd_memory)"
# The first start also took the grant-review fingerprints of grants that had none (as after an
# upgrade); a restart is what a host running for a while sees.
jitd_stop
jitd_start_timed "the state again (restart)"
note "jitd after the restart: $(jitd_memory)"
