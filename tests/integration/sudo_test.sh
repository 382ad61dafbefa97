#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The real sudo with pam_jit (pam_jit(8)) inside the harness's mount namespace: a copy of
# /etc/pam.d whose sudo service ends with pam_jit's account and session lines, and an
# /etc/sudoers.d that lets the test users run anything with NOPASSWD.
#   - unmanaged sudo passes; no grant -> refused, the message names the resource and the
#     jitctl command; request + approve -> sudo works and the session is registered;
#   - revoke ends a live sudo whose command ignores SIGTERM (SIGKILL after kill_grace), expiry
#     ends a plain one; both within kill_grace + 4 s, and the next sudo is refused;
#   - jitd hung (SIGSTOP) and then dead (SIGKILL), fail=closed: the snapshot decides (a live
#     grant works until its expiry, the rest is refused, unmanaged sudo passes), each sudo
#     without waiting for the bus default; the fallback is audited once jitd is back; fail=open allows;
#   - the audit events of all this.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/realpam.sh"

KILL_GRACE=2
TIMEOUT_MS=500
realpam_need
jitd_start "kill_grace = ${KILL_GRACE}s"
SNAPSHOT=$T/run/snapshot
PAM_ARGS=("timeout=${TIMEOUT_MS}ms" "snapshot=$SNAPSHOT")

realpam_pamd
realpam_sudoers "jitalice ALL=(ALL:ALL) NOPASSWD: ALL" "jitmallory ALL=(ALL:ALL) NOPASSWD: ALL"
sudo_as jitalice id -un
[[ $RC == 0 && $OUT == root ]] || die "sudo does not work without pam_jit: rc $RC: $ERR"
realpam_pam_jit sudo "${PAM_ARGS[@]}"

# prod-root: sudo to root only, so sudo to other accounts (and sudo's account stack, where the
# target is the requester) is not managed.
setup_resource prod-root root-jit --description "root on this host" --service sudo --account root \
    -- --approver jitbob --max-duration 1h

# live_sudo USER CMD...: a background `sudo -n CMD` registered by jitd under $GRANT; its pid in
# SUDO_PID and the processes of the session (sudo and the command) in TREE.
live_sudo() {
    spawn_sudo "$@"
    SUDO_PID=$SPAWNED_PID
    wait_until 10 session_open_for "$GRANT" sudo || die "jitd registered no sudo session under grant $GRANT"
    expect_eq "registered pid is sudo's" "$(session_pid_for "$GRANT" sudo)" "$SUDO_PID"
    wait_until 10 runs_sleep "$SUDO_PID" || die "sudo's command does not run: $(tree_of "$SUDO_PID" | xargs)"
    TREE=$(tree_of "$SUDO_PID" | xargs)
    if [[ -n ${REALPAM_ENV[*]} ]]; then
        expect_true "sudo runs with ASan's runtime preloaded" grep -q libasan "/proc/$SUDO_PID/maps"
    fi
    note "live sudo: pid $SUDO_PID, processes $TREE"
}

# --- no grant ---------------------------------------------------------------------------------
note "no grant"
expect_sudo "unmanaged: jitmallory sudo -u jitdave" allowed jitdave jitmallory -u jitdave
expect_sudo "jitalice sudo to root without a grant" refused root jitalice
expect_contains "the refusal names the resource" "$ERR" 'resource "prod-root"'
expect_contains "the refusal gives the command" "$ERR" 'jitctl request prod-root --reason'

# --- request, approve, sudo -------------------------------------------------------------------
note "request and approval"
grant_for jitalice prod-root 1h
pass "jitalice requested, jitbob approved: grant $GRANT"
expect_sudo "jitalice sudo to root under the grant" allowed root jitalice
# No "access granted ... until" notice here: sudo 1.9.13 passes PAM_SILENT to pam_acct_mgmt and
# pam_open_session (its pam_silent option came in 1.9.16), so no module's PAM_TEXT_INFO shows.
expect_sudo "unmanaged target still passes" allowed jitdave jitalice -u jitdave
expect_sudo "jitmallory (no grant) still refused" refused root jitmallory
closed_sessions() { # GRANT_ID: how many of its sessions are closed
    as root jitctl --json sessions --all |
        jq --argjson g "$1" '[.[] | select(.grant_id == $g and .state == "closed")] | length'
}
expect_eventually 10 "the finished sudo's session is closed" _ge "closed_sessions $GRANT" 1

# --- revoke ends a live sudo whose command ignores SIGTERM ------------------------------------
note "revoke ends a live sudo (SIGTERM ignored: SIGKILL after kill_grace)"
live_sudo jitalice sh -c 'trap "" TERM; sleep 1000'
# shellcheck disable=SC2086 # the processes, one word each
expect_revoke_kills "the live sudo and its command" $TREE
jq_eq "grant state" "$(grant_json "$GRANT")" .state revoked
expect_sudo "next sudo after the revoke" refused root jitalice
REVOKED_GRANT=$GRANT
REVOKED_PID=$SUDO_PID

# --- expiry ends a live sudo ------------------------------------------------------------------
note "expiry ends a live sudo"
grant_for jitalice prod-root 4s
EXPIRY=$(grant_expiry "$GRANT")
live_sudo jitalice sleep 1000
START_MS=$((EXPIRY * 1000))
# shellcheck disable=SC2086
expect_gone_by $((START_MS + (KILL_GRACE + 4) * 1000)) "the live sudo at expiry" $TREE
expect_eventually 5 "grant $GRANT expired" grant_state_is "$GRANT" expired
expect_sudo "next sudo after the expiry" refused root jitalice
EXPIRED_GRANT=$GRANT

# --- audit ------------------------------------------------------------------------------------
note "audit"
expect_exit 0 -m "audit of login_denied" -- as root jitctl --json audit --event login_denied
jq_eq "login_denied for jitalice -> root via sudo" "$OUT" \
    '[.[] | select(.user == "jitalice" and .target == "root" and .service == "sudo" and .resource == "prod-root")] | length > 0' true
expect_session_audit sudo "$REVOKED_GRANT" "$REVOKED_PID" "$EXPIRED_GRANT" 1

# --- jitd hung, then dead: fail=closed --------------------------------------------------------
note "jitd hung (SIGSTOP), fail=closed"
grant_for jitalice prod-root 22s
EXPIRY=$(grant_expiry "$GRANT")
expect_eventually 5 "the snapshot holds grant $GRANT" grep -q "^grant $GRANT jitalice prod-root " "$SNAPSHOT"
# What a sudo costs here with jitd answering (sudo, PAM and an ASan build under load): the hung
# and dead cases may take the module's timeout on top of it, not more.
expect_sudo "jitd answering: jitalice (the base time)" allowed root jitalice
BASE_MS=$MS
kill -STOP "$JITD_PID"
expect_sudo "hung: jitalice's live grant works from the snapshot" allowed root jitalice
expect_within_timeout "hung: granted sudo" "$BASE_MS"
expect_sudo "hung: jitmallory (no grant) refused" refused root jitmallory
expect_within_timeout "hung: refused sudo" "$BASE_MS"
expect_contains "hung: the refusal still names the command" "$ERR" 'jitctl request prod-root'
expect_sudo "hung: unmanaged sudo passes" allowed jitdave jitmallory -u jitdave
expect_within_timeout "hung: unmanaged sudo" "$BASE_MS"

note "jitd dead (SIGKILL), fail=closed"
jitd_kill
expect_sudo "dead: jitalice's live grant works from the snapshot" allowed root jitalice
expect_within_timeout "dead: granted sudo" "$BASE_MS"
expect_sudo "dead: jitmallory refused" refused root jitmallory
expect_sudo "dead: unmanaged sudo passes" allowed jitdave jitmallory -u jitdave
wait_until 30 _past "$EXPIRY" || die "the clock does not pass $EXPIRY"
expect_sudo "dead: the grant's expiry holds without jitd" refused root jitalice

note "jitd back: the fallback decisions are audited"
jitd_restart
expect_eventually 10 "grant $GRANT, lapsed while jitd was down, is expired" grant_state_is "$GRANT" expired
fallbacks() { # USER OUTCOME: how many login_fallback events for USER -> root with OUTCOME
    audit_events_json login_fallback |
        jq --arg u "$1" --arg o "$2" '[.[] | select(.user == $u and .target == "root" and .outcome == $o)] | length'
}
expect_eventually 10 "login_fallback events audited" _ge "fallbacks jitalice denied" 1
expect_exit 0 -m "audit of login_fallback" -- as root jitctl --json audit --event login_fallback
jq_eq "fallback: jitalice allowed to root" "$OUT" \
    '[.[] | select(.user == "jitalice" and .target == "root" and .outcome == "allowed")] | length >= 2' true
jq_eq "fallback: jitmallory denied" "$OUT" \
    '[.[] | select(.user == "jitmallory" and .target == "root" and .outcome == "denied")] | length >= 2' true
jq_eq "fallback: jitalice denied after the expiry" "$OUT" \
    '[.[] | select(.user == "jitalice" and .target == "root" and .outcome == "denied")] | length >= 1' true

# --- fail=open --------------------------------------------------------------------------------
note "fail=open"
realpam_pam_jit sudo "${PAM_ARGS[@]}" fail=open
expect_sudo "jitd up, fail=open: jitmallory still refused" refused root jitmallory
jitd_kill
expect_sudo "jitd dead, fail=open: jitmallory allowed" allowed root jitmallory
expect_within_timeout "fail=open sudo" "$BASE_MS"
kill -STOP "$DBUS_PID"
expect_sudo "bus hung, fail=open: jitmallory allowed" allowed root jitmallory
expect_within_timeout "bus hung, fail=open sudo" "$BASE_MS"
kill -CONT "$DBUS_PID"
wait_until 10 busctl --system list --no-pager || die "the bus does not answer again"
jitd_restart
expect_eventually 10 "fail=open audited" _ge "fallbacks jitmallory open" 2

realpam_asan_reports
finish
