#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Who may do what (docs/concepts.md): every io.jitd.Jit1.Manager method (through jitctl) and
# every io.jitd.Jit1.Pam method (raw, through dbus-send, which shows the error name) for root,
# an admin, an auditor, an approver, a requester and an unrelated user. A denied call exits 77
# (PermissionDenied) and changes nothing. Signals, which every local user may receive, name no
# user or resource.
source "$(dirname "$0")/lib/harness.sh"

jitd_start

need_id() { [[ $2 =~ ^[0-9]+$ ]] || die "$1: expected an id, got '$2'"; }

# Roles: root, jitadmin (jit-admin), jitaudit (jit-audit), jitbob (approver of the policies
# below), jitalice (requester), jitmallory (nobody).
setup_resource app app-policy --approver jitbob --max-duration 1h
setup_resource auto auto-policy --action auto-approve --max-duration 1h

# allowed USER ARGS...: jitctl ARGS as USER succeeds. denied USER ARGS...: exits 77.
allowed() {
    local user=$1
    shift
    expect_exit 0 -m "$user may: jitctl $*" -- as "$user" jitctl "$@"
}
denied() {
    local user=$1
    shift
    expect_exit 77 -m "$user may not: jitctl $*" -- as "$user" jitctl "$@"
}

state_digest() {
    {
        as root jitctl --json resource list
        as root jitctl --json policy list
        as root jitctl --json requests --all
        as root jitctl --json grants --all
        audit_count
    } 2>&1 | sha256sum
}

EVERYONE=(root jitadmin jitaudit jitbob jitalice jitmallory)
MANAGERS=(root jitadmin)
NON_MANAGERS=(jitaudit jitbob jitalice jitmallory)
READERS=(root jitadmin jitaudit)
NON_READERS=(jitbob jitalice jitmallory)

# --- GetStatus, ListResources, GetResource, ListPolicies, GetPolicy, ListApprovals, ListRequests,
#     ListGrants, ListSessions: everyone (filtered to what they may see) -----------------------
for u in "${EVERYONE[@]}"; do
    allowed "$u" status
    allowed "$u" resource list
    allowed "$u" resource show app
    allowed "$u" policy list
    allowed "$u" policy show app-policy
    allowed "$u" approvals
    allowed "$u" requests
    allowed "$u" requests --all
    allowed "$u" grants
    allowed "$u" grants --all
    allowed "$u" sessions
    allowed "$u" sessions --all
done

# --- AddResource, AddResourceMember, RemoveResourceMember, RemoveResource: managers -----------
BEFORE=$(state_digest)
for u in "${NON_MANAGERS[@]}"; do
    denied "$u" resource add "by-$u" --account '*'
    denied "$u" resource add-member app jitmallory
    denied "$u" resource remove-member app jitmallory
    denied "$u" resource remove app
done
expect_eq "denied resource changes changed nothing" "$(state_digest)" "$BEFORE"
for u in "${MANAGERS[@]}"; do
    allowed "$u" resource add "by-$u" --account '*'
    allowed "$u" resource add-member "by-$u" jitdave
    allowed "$u" resource remove-member "by-$u" jitdave
    allowed "$u" resource remove "by-$u"
done

# --- AddPolicy, AssignPolicy, SetPolicyActive, RemovePolicy: managers -------------------------
as root jitctl resource add spare --account '*' >/dev/null 2>&1 || die "setup: resource spare"
as root jitctl policy add spare-policy --approver jitbob >/dev/null 2>&1 || die "setup: policy spare-policy"
BEFORE=$(state_digest)
for u in "${NON_MANAGERS[@]}"; do
    denied "$u" policy add "pol-by-$u" --approver jitbob
    denied "$u" policy assign spare-policy spare
    denied "$u" policy activate spare-policy
    denied "$u" policy deactivate app-policy
    denied "$u" policy remove spare-policy
done
expect_eq "denied policy changes changed nothing" "$(state_digest)" "$BEFORE"
for u in "${MANAGERS[@]}"; do
    allowed "$u" policy add "pol-by-$u" --approver jitbob
    allowed "$u" policy assign "pol-by-$u" spare
    allowed "$u" policy activate "pol-by-$u"
    allowed "$u" policy deactivate "pol-by-$u"
    allowed "$u" policy remove "pol-by-$u"
done

# --- CreateRequest: anyone, for themselves ------------------------------------------------------
for u in jitalice jitbob jitmallory jitadmin; do
    allowed "$u" request app --reason "authz test" --duration 10min
done

# --- GetRequest-style visibility, Approve, Deny, Cancel ----------------------------------------
# A pending request of alice that every denied caller tries to decide or cancel.
as jitalice jitctl cancel "$(as jitalice jitctl --json requests | jq -r '.[0].id')" >/dev/null 2>&1 ||
    die "setup: cancel alice's first request"
PENDING=$(new_request jitalice app 10min)
need_id "pending request" "$PENDING"
for u in jitadmin jitaudit jitbob jitmallory; do
    allowed "$u" --json requests --all
    if [[ $u == jitadmin || $u == jitaudit ]]; then
        jq_eq "$u sees alice's request in requests --all" "$OUT" "[.[] | select(.id == $PENDING)] | length" 1
    else
        jq_eq "$u does not see alice's request in requests --all" "$OUT" "[.[] | select(.id == $PENDING)] | length" 0
    fi
done
allowed jitbob --json approvals
jq_eq "approver bob sees alice's request in approvals" "$OUT" "[.[] | select(.id == $PENDING)] | length" 1
for u in jitadmin jitaudit jitmallory jitalice; do
    allowed "$u" --json approvals
    jq_eq "$u has no approval for alice's request" "$OUT" "[.[] | select(.id == $PENDING)] | length" 0
done

BEFORE=$(state_digest)
for u in jitadmin jitaudit jitalice jitmallory; do
    denied "$u" approve "$PENDING"
    denied "$u" deny "$PENDING"
done
for u in jitadmin jitaudit jitbob jitmallory; do
    denied "$u" cancel "$PENDING"
done
expect_eq "denied decisions changed nothing" "$(state_digest)" "$BEFORE"
expect_eq "alice's request still pending" "$(request_state "$PENDING")" pending

# Allowed: the approver decides; the requester and root cancel.
allowed jitbob approve "$PENDING"
GRANT=$(request_json "$PENDING" | jq -r .grant_id)
need_id "grant from bob's approval" "$GRANT"
as jitalice jitctl revoke "$GRANT" >/dev/null 2>&1 || die "setup: revoke $GRANT"
# Root with no login user (this test's) decides nothing unless jitd.conf says root_approves =
# yes (enforcement_test covers root acting for its login user).
R=$(new_request jitalice app 10min) && need_id req "$R"
denied root approve "$R"
denied root deny "$R"
allowed jitbob deny "$R"
R=$(new_request jitalice app 10min) && need_id req "$R"
allowed jitalice cancel "$R"
R=$(new_request jitalice app 10min) && need_id req "$R"
allowed root cancel "$R"

# --- ListGrants visibility, Revoke ---------------------------------------------------------------
AG=$(new_grant jitalice auto 10min)
need_id "alice's auto grant" "$AG"
for u in "${EVERYONE[@]}"; do
    allowed "$u" --json grants --all
    case $u in
    root | jitadmin | jitaudit | jitalice)
        jq_eq "$u sees alice's grant" "$OUT" "[.[] | select(.id == $AG)] | length" 1
        ;;
    *)
        jq_eq "$u does not see alice's grant" "$OUT" "[.[] | select(.id == $AG)] | length" 0
        ;;
    esac
done
allowed jitadmin --json grants --all --user jitalice
jq_eq "admin filters grants by user" "$OUT" "[.[] | select(.id == $AG)] | length" 1

BEFORE=$(state_digest)
for u in jitaudit jitbob jitmallory; do
    denied "$u" revoke "$AG"
done
expect_eq "denied revokes changed nothing" "$(state_digest)" "$BEFORE"
allowed jitalice revoke "$AG"
AG=$(new_grant jitalice auto 10min) && need_id grant "$AG"
allowed jitadmin revoke "$AG"
AG=$(new_grant jitalice auto 10min) && need_id grant "$AG"
allowed root revoke "$AG"

# --- QueryAudit, VerifyAudit: root, admins, auditors -----------------------------------------
for u in "${READERS[@]}"; do
    allowed "$u" audit
    allowed "$u" audit verify
done
for u in "${NON_READERS[@]}"; do
    denied "$u" audit
    denied "$u" audit verify
done

# --- io.jitd.Jit1.Pam: root only -----------------------------------------------------------------
# dbus-send prints the error name; busctl only the message.
pam_call() { # USER METHOD ARGS...
    local user=$1 method=$2
    shift 2
    run as "$user" dbus-send --system --print-reply --reply-timeout=5000 --dest=io.jitd.Jit1 \
        /io/jitd/Jit1 "io.jitd.Jit1.Pam.$method" "$@"
}
CHECK_ARGS=(string:login string:jitalice string: string: string:tty1 uint32:0 uint32:4294967295)
OPEN_ARGS=(string:sshd string:jitalice string: string:10.0.0.1 string:ssh uint32:0 uint32:4294967295 int64:1 string: string:)
# The bus policy refuses them before jitd sees them (jitd checks the uid again: unit tests).
for u in jitadmin jitaudit jitbob jitalice jitmallory; do
    pam_call "$u" CheckLogin "${CHECK_ARGS[@]}"
    expect_contains "the bus refuses $u Pam.CheckLogin" "$ERR" org.freedesktop.DBus.Error.AccessDenied
    pam_call "$u" OpenSession "${OPEN_ARGS[@]}"
    expect_contains "the bus refuses $u Pam.OpenSession" "$ERR" org.freedesktop.DBus.Error.AccessDenied
    pam_call "$u" CloseSession int64:1
    expect_contains "the bus refuses $u Pam.CloseSession" "$ERR" org.freedesktop.DBus.Error.AccessDenied
done
pam_call root CheckLogin "${CHECK_ARGS[@]}"
expect_eq "root may call Pam.CheckLogin (exit)" "$RC" 0
expect_contains "CheckLogin verdict for an unmanaged login" "$OUT" '"unmanaged"'

# A session under a grant: root opens and closes it.
AG=$(new_grant jitalice auto 10min) && need_id grant "$AG"
spawn_as jitalice sleep 600
SESSION_PID=$SPAWNED_PID
run as root busctl --system call io.jitd.Jit1 /io/jitd/Jit1 io.jitd.Jit1.Pam OpenSession \
    sssssuuxss sshd jitalice "" 10.0.0.1 ssh 0 4294967295 "$SESSION_PID" "" ""
expect_eq "root may call Pam.OpenSession (exit)" "$RC" 0
# Reply: s s as x x x  -> verdict resource resources grant_id expiry session_id
read -r -a REPLY <<<"$OUT"
SESSION=${REPLY[-1]:-}
expect_contains "OpenSession verdict under a grant" "$OUT" '"grant"'
if [[ $SESSION =~ ^[1-9][0-9]*$ ]]; then
    pass "OpenSession registered session $SESSION"
    allowed jitalice --json sessions
    jq_eq "alice sees her session" "$OUT" "[.[] | select(.id == $SESSION)] | length" 1
    allowed jitmallory --json sessions --all
    jq_eq "mallory does not see alice's session" "$OUT" "[.[] | select(.id == $SESSION)] | length" 0
    allowed jitaudit --json sessions --all
    jq_eq "auditor sees alice's session" "$OUT" "[.[] | select(.id == $SESSION)] | length" 1
    pam_call root CloseSession "int64:$SESSION"
    expect_eq "root may call Pam.CloseSession (exit)" "$RC" 0
else
    fail "OpenSession returned no session id: $OUT $ERR"
fi

# --- signals: any local user may listen, so they carry ids and states, never who or what -------
note "signals"
spawn_as jitmallory dbus-monitor --system "type='signal',interface='io.jitd.Jit1.Manager'" \
    >"$T/signals" 2>&1
MONITOR_PID=$SPAWNED_PID
# dbus-monitor's own NameAcquired shows it is connected; a signal sent before it has its match
# would be missed, so one GrantEnded (of the earlier auto grant) shows the match is in place.
wait_until 10 grep -q NameAcquired "$T/signals" || die "dbus-monitor did not start: $(<"$T/signals")"
as root jitctl revoke "$AG" >/dev/null 2>&1 || fail "revoke $AG"
wait_until 10 grep -q "member=GrantEnded" "$T/signals" || die "mallory's monitor sees no signal"
R=$(new_request jitalice app 10min "signal check") && need_id request "$R"
as jitbob jitctl approve "$R" >/dev/null 2>&1 || fail "approve $R"
G=$(request_json "$R" | jq -r .grant_id) && need_id grant "$G"
as root jitctl revoke "$G" >/dev/null 2>&1 || fail "revoke $G"
grants_ended() { [[ $(grep -c "member=GrantEnded" "$T/signals") -ge 2 ]]; }
expect_eventually 10 "mallory's monitor saw alice's request through to its grant's end" grants_ended
stop_pid "$MONITOR_PID"
# signal_args MEMBER: the arguments of each MEMBER signal, one signal per line.
signal_args() {
    awk -v member="member=$1" '
        /^signal / { if (on) print args; on = index($0, member) > 0; args = ""; next }
        on { sub(/^ +/, ""); args = args (args == "" ? "" : " ") $0 }
        END { if (on) print args }' "$T/signals"
}
expect_eq "RequestCreated carries the id only" "$(signal_args RequestCreated)" "int64 $R"
expect_eq "RequestDecided carries id and state" "$(signal_args RequestDecided)" "int64 $R string \"approved\""
expect_eq "GrantStarted carries id and request id only" "$(signal_args GrantStarted)" "int64 $G int64 $R"
expect_eq "GrantEnded carries id and state" "$(signal_args GrantEnded | tail -n 1)" "int64 $G string \"revoked\""
expect_not_contains "no signal names the requester" "$(<"$T/signals")" jitalice
expect_not_contains "no signal names the resource" "$(<"$T/signals")" '"app"'

finish
