#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Scheduled starts with the real sudo, jitd and jitctl (`jitctl request --start`):
#   - a start in the past or beyond max_schedule_ahead is invalid input (65);
#   - approved early, the grant is scheduled: sudo is refused, saying when access starts; the
#     start survives a jitd restart; at the start the grant is active (`granted` written then)
#     and sudo works; at its end sudo is refused again;
#   - `request --start --wait` returns as soon as the request is decided.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/realpam.sh"

realpam_need
jitd_start "max_schedule_ahead = 2d" "warn_before = 0"
realpam_pamd
realpam_sudoers "jitalice ALL=(ALL:ALL) NOPASSWD: ALL"
realpam_pam_jit sudo "timeout=2s" "snapshot=$T/run/snapshot"

setup_resource night night-policy --service sudo --account root \
    -- --approver jitbob --max-duration 1h

# sudo_is allowed|refused: jitalice's `sudo -n id -un`.
sudo_is() {
    sudo_as jitalice id -un
    if [[ $1 == allowed ]]; then
        [[ $RC == 0 && $OUT == root ]]
    else
        [[ $RC != 0 && -z $OUT ]]
    fi
}
expect_sudo() {
    if sudo_is "$2"; then
        pass "$1: $2"
    else
        fail "$1: want $2, got rc $RC, stdout '$OUT', stderr '${ERR:0:300}'"
    fi
}

# --- how far ahead ------------------------------------------------------------------------------
expect_exit 65 -m "a start beyond max_schedule_ahead is invalid" -- \
    as jitalice jitctl request night --reason "night job" --duration 10min --start +3d
expect_contains "the refusal names the limit" "$ERR" max_schedule_ahead
expect_exit 65 -m "a start in the past is invalid" -- \
    as jitalice jitctl request night --reason "night job" --duration 10min \
    --start 2020-01-01T00:00:00Z
expect_exit 65 -m "a start that is no time is invalid" -- \
    as jitalice jitctl request night --reason "night job" --duration 10min --start tomorrow
expect_eq "nothing was requested" "$(as root jitctl --json requests --all | jq length)" 0

# --- approved early: scheduled, refused, then active, then over ---------------------------------
expect_sudo "no request: sudo" refused
REQUEST=$(as jitalice jitctl --json request night --reason "night job" --duration 15s --start +30s)
R=$(jq -r .id <<<"$REQUEST")
START=$(jq -r .start <<<"$REQUEST")
[[ $R =~ ^[0-9]+$ && $START == *Z ]] || die "request --start: $REQUEST"
START_EPOCH=$(date -d "$START" +%s)
pass "request $R starts at $START"
expect_exit 0 -m "bob approves before the start" -- as jitbob jitctl approve "$R"
G=$(request_json "$R" | jq -r .grant_id)
expect_eq "the grant is scheduled" "$(grant_state "$G")" scheduled
jq_eq "the grant starts at the requested start" "$(grant_json "$G")" .start "$START"
expect_eq "no granted event before the start" \
    "$(audit_json --event granted | jq --argjson g "$G" '[.[] | select(.grant_id == $g)] | length')" 0
expect_sudo "scheduled: sudo" refused
expect_contains "the refusal says when access starts" "$ERR" "starts at"
expect_exit 1 -m "a second request while one is scheduled is refused" -- \
    as jitalice jitctl request night --reason again --duration 10min
expect_contains "the refusal names the scheduled grant" "$ERR" "grant $G"

jitd_stop
jitd_restart
STATE=$(grant_state "$G")
if (($(date +%s) < START_EPOCH)); then
    expect_eq "after a restart the grant is still scheduled" "$STATE" scheduled
else
    note "the restart took past the start (a slow machine): grant $G is $STATE"
fi

expect_eventually 60 "the start has come" bash -c "[[ \$(date +%s) -ge $START_EPOCH ]]"
expect_eventually 20 "the grant is active" grant_state_is "$G" active
expect_true "not before its start" test "$(date +%s)" -ge "$START_EPOCH"
expect_sudo "active: sudo" allowed
GRANTED=$(audit_json --event granted | jq -c --argjson g "$G" '.[] | select(.grant_id == $g)')
jq_eq "granted is written at the start" "$GRANTED" .start "$START"
expect_eventually 60 "the grant expires at the end of its window" grant_state_is "$G" expired
expect_sudo "expired: sudo" refused

# --- --wait returns when decided ------------------------------------------------------------------
spawn_as jitalice jitctl request night --reason "later job" --duration 10min --start +1d --wait=60s
WAITER=$SPAWNED_PID
one_pending() {
    [[ $(as root jitctl --json requests --all | jq '[.[] | select(.state == "pending")] | length') == 1 ]]
}
expect_eventually 20 "the waiting request is pending" one_pending
R2=$(as root jitctl --json requests --all | jq -r '[.[] | select(.state == "pending")][0].id')
expect_exit 0 -m "bob approves the scheduled request" -- as jitbob jitctl approve "$R2"
expect_eventually 20 "request --wait returns once decided" _pid_gone "$WAITER"
wait "$WAITER"
expect_eq "request --wait exits 0 (granted, scheduled)" "$?" 0
expect_eq "its grant is scheduled" "$(grant_state "$(request_json "$R2" | jq -r .grant_id)")" scheduled

finish
