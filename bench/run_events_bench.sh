#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/run_events_bench.sh [BUILD_DIR [N]]: durable audit events per second through jitd. Four
# requesters each request access to N resources (default 1000) and four approvers approve them,
# each client its own process and bus connection (bench/events_bench.cpp). The last line is
#   events: E durable events in X.XX s from C clients: R events/s
# The integration harness provides a private mount namespace, journald and dbus-daemon with our
# policy. Needs root; use a build without sanitizers (RelWithDebInfo or Release).
set -uo pipefail
N=${2:-1000}
# shellcheck source=lib/world.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/world.sh"

bench_program events_bench

"$BENCH" populate "$T/jit.db" "$N" || die "cannot populate $T/jit.db"
# Limits high enough for one user's N requests; the clients are the test users.
jitd_start "max_pending_per_user = 1000000" "requests_per_hour = 1000000"
"$BENCH" run "$T/jit.db" "$N" jitalice:jitbob jitdave:jitcarol jitmallory:jitbob jitadmin:jitcarol
