#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/run_sshd_sudo_bench.sh [BUILD_DIR [ROUNDS]]: what pam_jit adds to a real login. Times
# `ssh jitalice@127.0.0.1 true` (key login to a real sshd) and `sudo -n true` (jitalice to
# root), each with and without pam_jit's lines in the PAM service, interleaved round by round,
# and prints medians, p95 and the ratios. jitalice holds a grant, so with pam_jit every login is
# an allow decided by jitd and a session registered and closed (what a real login pays).
# The integration harness and tests/integration/lib/realpam.sh provide the world (private mount
# namespace, journald, dbus-daemon, jitd, /etc/pam.d and /etc/sudoers.d copies, sshd on a
# loopback port). Needs root. Use a build without sanitizers.
set -uo pipefail
ROUNDS=${2:-100}
# shellcheck source=lib/world.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/world.sh"
source "$SOURCE_DIR/tests/integration/lib/realpam.sh"

realpam_need
[[ ${#REALPAM_ENV[@]} == 0 ]] || die "pam_jit.so is built with ASan; benchmark a build without sanitizers"
jitd_start
realpam_pamd
realpam_sudoers "jitalice ALL=(ALL:ALL) NOPASSWD: ALL"
sshd_start
ssh_key jitalice
setup_resource bench-host bench-jit --action auto-approve --max-duration 4h
grant=$(new_grant jitalice bench-host 4h) || die "no grant"
note "jitalice holds grant $grant on bench-host (sshd, sudo; any account)"

# one KIND: one login, its milliseconds (3 decimals) appended to $T/KIND.ms; aborts on failure.
one() {
    local kind=$1 t0 t1
    t0=$(date +%s%N)
    case $kind in
        ssh*) as jitalice ssh -i "$T/ssh/jitalice.key" "${SSH_OPTS[@]}" -p "$SSHD_PORT" \
            jitalice@127.0.0.1 true </dev/null >/dev/null 2>"$T/.bench" ;;
        sudo*) as jitalice sudo -n true >/dev/null 2>"$T/.bench" ;;
    esac
    local rc=$?
    t1=$(date +%s%N)
    ((rc == 0)) || die "$kind failed (exit $rc): $(<"$T/.bench")"
    printf '%d.%03d\n' $(((t1 - t0) / 1000000)) $(((t1 - t0) / 1000 % 1000)) >>"$T/$kind.ms"
}

with_pam_jit() {
    realpam_pam_jit sshd "snapshot=$T/run/snapshot"
    realpam_pam_jit sudo "snapshot=$T/run/snapshot"
}
without_pam_jit() {
    realpam_no_pam_jit sshd
    realpam_no_pam_jit sudo
}

# Warm up (page cache, sshd's first fork), then interleave.
with_pam_jit
for _ in 1 2 3; do one ssh.warm; one sudo.warm; done
for ((round = 0; round < ROUNDS; round++)); do
    with_pam_jit
    one ssh.jit
    one sudo.jit
    without_pam_jit
    one ssh.plain
    one sudo.plain
done

# Every login with pam_jit was decided by jitd and registered as a session.
registered() { audit_json --event session_opened | jq --arg s "$1" '[.[] | select(.service == $s)] | length'; }
for program in sshd sudo; do
    n=$(registered "$program")
    ((n >= ROUNDS)) || die "jitd registered only $n $program sessions in $ROUNDS rounds"
done

# stats KIND: "median p95 mean" in ms.
stats() {
    sort -n "$T/$1.ms" | awk '{v[NR] = $1; s += $1}
        END {printf "%.2f %.2f %.2f", v[int((NR + 1) / 2)], v[int(NR * 0.95 + 0.5)], s / NR}'
}
printf '%d rounds, interleaved (ms)          median      p95     mean\n' "$ROUNDS"
for kind in ssh.plain ssh.jit sudo.plain sudo.jit; do
    read -r median p95 mean <<<"$(stats "$kind")"
    printf '%-34s %8s %8s %8s\n' "$kind" "$median" "$p95" "$mean"
done
for program in ssh sudo; do
    read -r pm pp _ <<<"$(stats "$program.plain")"
    read -r jm jp _ <<<"$(stats "$program.jit")"
    awk -v p="$program" -v pm="$pm" -v jm="$jm" -v pp="$pp" -v jp="$jp" 'BEGIN {
        printf "%s with/without pam_jit: median %.2fx (+%.1f ms), p95 %.2fx\n", p, jm / pm, jm - pm, jp / pp }'
done
