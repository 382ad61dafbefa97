#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Restart (jitd(8)): state, timers and pending journal events survive SIGTERM and SIGKILL of
# jitd. A grant that lapses while jitd is down is ended at start-up with its expired event; a
# pending request stays pending; an active grant stays active and its timer still fires; an
# audit event that could not reach the journal before the kill arrives after the restart, once;
# and a restart never kills a session. Sessions whose process ended without a logout are closed
# (at start-up, and as soon as the process ends while jitd runs). At start-up jitd refuses a snapshot
# directory others could write and makes a missing one root's alone; it audits what pam_jit
# spooled (exempt logins too) and leaves alone a spool others could have written.
source "$(dirname "$0")/lib/harness.sh"

CONFIG=("kill_grace = 1s")
jitd_start "${CONFIG[@]}"

need_id() { [[ $2 =~ ^[0-9]+$ ]] || die "$1: expected an id, got '$2'"; }
expiry_of() { grant_json "$1" | jq -r '.expiry | fromdateiso8601'; }
# past EPOCH: the wall clock is beyond EPOCH (for waiting out a grant while jitd is down).
past() { (($(date +%s) > $1)); }
journal_has() { # EVENT KEY VALUE
    journal_events | jq -n -e --arg e "$1" --arg k "$2" --arg v "$3" \
        'any(inputs; .JIT_EVENT == $e and .[$k] == $v)' >/dev/null
}
journal_count() { # EVENT KEY VALUE
    journal_events | jq -s --arg e "$1" --arg k "$2" --arg v "$3" \
        '[.[] | select(.JIT_EVENT == $e and .[$k] == $v)] | length'
}

setup_resource short short-auto --action auto-approve --max-duration 3s
setup_resource long long-auto --action auto-approve --max-duration 1h
setup_resource gated gated-jit --approver jitbob --max-duration 1h

for how in TERM KILL; do
    note "=== jitd stopped with SIG$how"
    LAPSING=$(new_grant jitalice short 3s) && need_id "lapsing grant" "$LAPSING"
    LONG=$(new_grant jitcarol long 30min) && need_id "long grant" "$LONG"
    PENDING=$(new_request jitdave gated 10min "waiting across a restart") && need_id request "$PENDING"
    LAPSE_AT=$(expiry_of "$LAPSING")
    [[ $LAPSE_AT =~ ^[0-9]+$ ]] || die "no expiry for grant $LAPSING"
    spawn_as jitcarol sleep 600
    SESSION_PID=$SPAWNED_PID
    run busctl --system -- call io.jitd.Jit1 /io/jitd/Jit1 io.jitd.Jit1.Pam OpenSession \
        sssssuuxss sshd jitcarol "" 203.0.113.5 ssh 0 4294967295 "$SESSION_PID" "" ""
    expect_contains "carol's session under her grant" "$OUT" '"grant"'
    BEFORE_SEQ=$(audit_json | jq '[.[].seq] | max')

    if [[ $how == TERM ]]; then
        jitd_stop
        expect_eq "jitd exits 0 on SIGTERM" "$JITD_STATUS" 0
    else
        jitd_kill
    fi
    expect_exit 69 -m "jitctl while jitd is down" -- as jitalice jitctl status
    expect_eventually 20 "grant $LAPSING's expiry passes while jitd is down" past "$LAPSE_AT"
    jitd_restart

    expect_eventually 10 "lapsed grant $LAPSING ended at start-up" grant_state_is "$LAPSING" expired
    expect_eventually 10 "its expired event is in the journal" journal_has expired JIT_GRANT_ID "$LAPSING"
    expect_exit 0 -m "audit of grant $LAPSING" -- audit_json --event expired
    jq_eq "expired audited once, by system" "$OUT" \
        "[.[] | select((.grant_id | tostring) == \"$LAPSING\") | .actor] | join(\",\")" system
    expect_eq "pending request $PENDING still pending" "$(request_state "$PENDING")" pending
    expect_exit 0 -m "bob still sees it" -- as jitbob jitctl --json approvals
    jq_eq "pending request in bob's queue" "$OUT" "[.[] | select(.id == $PENDING)] | length" 1
    expect_eq "long grant $LONG still active" "$(grant_state "$LONG")" active
    expect_true "carol's session process survived the restart" kill -0 "$SESSION_PID"
    expect_exit 0 -m "carol's sessions" -- as jitcarol jitctl --json sessions
    jq_eq "carol's session still open" "$OUT" "[.[] | select(.pid == $SESSION_PID) | .state] | join(\",\")" open
    expect_exit 0 -m "audit verify after SIG$how" -- as root jitctl audit verify

    # The pending request can still be decided; the long grant can still be revoked (which also
    # ends carol's session).
    expect_exit 0 -m "bob approves the request made before the restart" -- as jitbob jitctl approve "$PENDING"
    as jitdave jitctl revoke "$(request_json "$PENDING" | jq -r .grant_id)" >/dev/null 2>&1 ||
        fail "revoke dave's grant"
    expect_exit 0 -m "revoke carol's long grant" -- as jitadmin jitctl revoke "$LONG"
    expect_eventually 20 "carol's session ended with her grant" _pid_gone "$SESSION_PID"
    if (($(audit_json | jq '[.[].seq] | max') > BEFORE_SEQ)); then
        pass "audit seq grows after restart"
    else
        fail "audit seq did not grow after restart"
    fi
done

note "=== a timer armed before SIGKILL still fires after the restart"
TIMED=$(new_grant jitalice long 6s) && need_id "timed grant" "$TIMED"
jitd_kill
jitd_restart
expect_eq "grant $TIMED active right after the restart" "$(grant_state "$TIMED")" active
expect_eventually 20 "grant $TIMED expires on its re-armed timer" grant_state_is "$TIMED" expired
expect_eventually 10 "expired event for $TIMED in the journal" journal_has expired JIT_GRANT_ID "$TIMED"

note "=== an event not yet in the journal survives SIGKILL"
journald_stop
expect_exit 0 -m "change while journald is down" -- as jitadmin jitctl resource add made-before-kill --account '*'
jitd_kill
journald_start
jitd_restart
expect_eventually 30 "the event reaches the journal after the restart" journal_has resource_changed JIT_OBJECT made-before-kill
expect_exit 0 -m "one more change" -- as jitadmin jitctl resource add made-after-restart --account '*'
expect_eventually 10 "the next event arrives" journal_has resource_changed JIT_OBJECT made-after-restart
expect_eq "the delayed event is in the journal exactly once" \
    "$(journal_count resource_changed JIT_OBJECT made-before-kill)" 1

note "=== SIGTERM leaves nothing for the next start to redo"
LAST=$(journal_events | jq -s 'length')
jitd_stop
expect_eq "jitd exits 0 on SIGTERM" "$JITD_STATUS" 0
jitd_restart
expect_exit 0 -m "status after the last restart" -- as root jitctl --json status
expect_exit 0 -m "a change after the last restart" -- as jitadmin jitctl resource add final --account '*'
expect_eventually 10 "its event arrives" journal_has resource_changed JIT_OBJECT final
expect_eq "no event was sent twice across restarts" \
    "$(journal_events | jq -s '[.[].JIT_SEQ] | (length == (unique | length))')" true
expect_eq "exactly one new event since the stop" "$(journal_events | jq -s 'length')" "$((LAST + 1))"
expect_exit 0 -m "audit verify at the end" -- as root jitctl audit verify

# open_session PID: registers a session of carol's under her grant on "long"; prints its id.
open_session() {
    run busctl --system -- call io.jitd.Jit1 /io/jitd/Jit1 io.jitd.Jit1.Pam OpenSession \
        sssssuuxss sshd jitcarol "" 203.0.113.5 ssh 0 4294967295 "$1" "" ""
    read -r -a REPLY <<<"$OUT"
    echo "${REPLY[-1]:-}"
}
session_state() { as root jitctl --json sessions --all | jq -r --argjson s "$1" '.[] | select(.id == $s) | .state'; }
session_state_is() { [[ $(session_state "$1") == "$2" ]]; }
closed_by() {
    audit_json --event session_closed |
        jq -r --argjson p "$1" '[.[] | select(.session_pid == $p) | .closed_by] | join(",")'
}

note "=== sessions whose process ended without a logout are closed"
REAP_GRANT=$(new_grant jitcarol long 30min) && need_id "grant" "$REAP_GRANT"
spawn_as jitcarol sleep 600
GONE_PID=$SPAWNED_PID
GONE=$(open_session "$GONE_PID") && need_id "session" "$GONE"
spawn_as jitcarol sleep 600
KEPT_PID=$SPAWNED_PID
KEPT=$(open_session "$KEPT_PID") && need_id "session" "$KEPT"
jitd_stop
stop_pid "$GONE_PID" KILL
jitd_restart
expect_eq "session $GONE, whose process died while jitd was down, closed at start-up" \
    "$(session_state "$GONE")" closed
expect_eq "closed because its process is gone" "$(closed_by "$GONE_PID")" "process gone"
expect_eq "session $KEPT, whose process runs, still open" "$(session_state "$KEPT")" open
stop_pid "$KEPT_PID" KILL
expect_eventually 10 "session $KEPT closed as soon as its process died (jitd watches it)" \
    session_state_is "$KEPT" closed
expect_eq "closed because its process is gone" "$(closed_by "$KEPT_PID")" "process gone"
spawn_as jitcarol sleep 600
LIVE_PID=$SPAWNED_PID
LIVE=$(open_session "$LIVE_PID") && need_id "session" "$LIVE"
expect_eq "session $LIVE, registered while jitd runs, open" "$(session_state "$LIVE")" open
stop_pid "$LIVE_PID" KILL
expect_eventually 10 "session $LIVE closed as soon as its process died" session_state_is "$LIVE" closed
expect_eq "closed because its process is gone" "$(closed_by "$LIVE_PID")" "process gone"
expect_eq "grant $REAP_GRANT still active" "$(grant_state "$REAP_GRANT")" active

note "=== the snapshot directory is root's alone"
jitd_stop
chmod 0777 "$T/run"
run timeout 30 "$JITD" --config "$T/jitd.conf"
expect_eq "jitd refuses to start with a world-writable snapshot directory" "$RC" 1
expect_contains "and says why" "$ERR" "the snapshot directory $T/run is writable by group or others"
chmod 0755 "$T/run"
FRESH=$T/fresh/run
sed -i "s|^snapshot = .*|snapshot = $FRESH/snapshot|" "$T/jitd.conf"
jitd_restart
expect_eq "a missing snapshot directory is made root's alone" "$(stat -c %a "$FRESH")" 700

note "=== pam_jit's spool"
jitd_stop
NOW=$(date +%s)
install -m 0600 /dev/null "$FRESH/fallback.log"
printf '%s\texempt\tsudo\troot\tjitmallory\t\t/dev/pts/4\t0\t0\t\t0\t4294967295\n' "$NOW" >>"$FRESH/fallback.log"
printf '%s\tdenied\tsshd\troot\t\t198.51.100.7\tssh\t0\t0\t\t0\t4294967295\n' "$NOW" >>"$FRESH/fallback.log"
jitd_restart
expect_eventually 10 "spool audited and emptied at start-up" test ! -s "$FRESH/fallback.log"
expect_eq "an exempt login pam_jit spooled is audited" \
    "$(audit_json --event login_fallback | jq -r '[.[] | .user + ":" + .target + ":" + .outcome] | join(" ")')" \
    "jitmallory:root:exempt root:root:denied"
rm "$FRESH/fallback.log"
install -m 0644 /dev/null "$FRESH/fallback.log"
printf '%s\tallowed\tsshd\troot\t\t198.51.100.8\tssh\t0\t0\t\n' "$NOW" >>"$FRESH/fallback.log"
refused_logged() { grep -q "not reading pam_jit's fallback log $FRESH/fallback.log: accessible to group or others" "$T/jitd.log"; }
expect_eventually 10 "a spool others can read is refused and logged" refused_logged
expect_eq "and left as it is" "$(wc -l <"$FRESH/fallback.log")" 1
expect_eq "and not audited" "$(audit_json --event login_fallback | jq length)" 2

finish
