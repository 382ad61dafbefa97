#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/run_expiry_bench.sh [BUILD_DIR [N [LEAD]]]: N grants (default 10000) expiring in the same
# second, LEAD seconds (default 25) after the database is written, each with an open session of a
# real sleeping process; jitd ends them all (bench/expiry_bench.cpp). The last line is
#   expiry: N grants, N sessions ended and audited in X.XX s (p99 lateness Y.YY s)
# The integration harness provides a private mount namespace, journald and dbus-daemon with our
# policy. Needs root; use a build without sanitizers (RelWithDebInfo or Release).
set -uo pipefail
N=${2:-10000}
LEAD=${3:-25}
# shellcheck source=lib/world.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/world.sh"

bench_program expiry_bench

"$BENCH" run "$T/jit.db" "$N" "$LEAD" "$T/ready" >"$T/bench.out" 2>&1 &
bench_pid=$!
track_pid "$bench_pid"
wait_until 900 test -s "$T/ready" || die "expiry_bench did not write the database: $(cat "$T/bench.out")"
expiry=$(<"$T/ready")
# No pre-expiry warnings: the sessions have no terminal, and the warnings are not measured.
jitd_start_timed "$N grants and sessions" "warn_before = 0"
(($(date +%s) < expiry)) || die "jitd was not ready before the expiry second; use a larger LEAD"
wait "$bench_pid"
rc=$?
cat "$T/bench.out"
grep -c 'session_terminated' <(journal_events) | sed 's/^/journal entries of session_terminated: /'
exit "$rc"
