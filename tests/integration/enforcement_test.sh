#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The enforcement boundary: approvals go with the person behind root (the audit login uid),
# roles are current on an open connection, per-user request limits (also across a restart),
# bounded audit replies, and jitd's refusal of a jitd.conf that others could change.
source "$(dirname "$0")/lib/harness.sh"

need_id() { [[ $2 =~ ^[0-9]+$ ]] || die "$1: expected an id, got '$2'"; }

# as_login USER CMD...: CMD as root in a process whose audit login uid is USER's, as in a root
# shell that USER reached with sudo. (The harness runs with the login uid unset, and a process
# may set it once.)
as_login() {
    local uid
    uid=$(id -u "$1") || return 125
    shift
    bash -c 'echo "$1" >/proc/self/loginuid || exit 125; shift; exec "$@"' as_login "$uid" "$@"
}

# The approved/denied events of request ID in the audit log, as JSON lines.
decisions_of() { audit_json --event "$2" | jq -c --argjson id "$1" '.[] | select(.request_id == $id)'; }

state_digest() {
    {
        as root jitctl --json requests --all
        as root jitctl --json grants --all
        audit_count
    } 2>&1 | sha256sum
}

jitd_start
setup_resource app app-policy --approver jitbob --max-duration 1h

# --- the person behind root -------------------------------------------------------------------
R=$(new_request jitalice app 10min) && need_id request "$R"
BEFORE=$(state_digest)
expect_exit 77 -m "root logged in as the requester cannot approve her request" -- \
    as_login jitalice jitctl approve "$R"
expect_contains "the refusal says it is her own request" "$ERR" "own request"
expect_contains "the refusal names her login" "$ERR" "jitalice"
expect_exit 77 -m "root logged in as the requester cannot deny her request" -- \
    as_login jitalice jitctl deny "$R"
expect_exit 77 -m "bare root (no login user) cannot approve by default" -- \
    as root jitctl approve "$R"
expect_contains "the refusal names root_approves" "$ERR" "root_approves"
expect_exit 77 -m "root logged in as a non-approver cannot approve" -- \
    as_login jitmallory jitctl approve "$R"
expect_contains "the refusal names the login user" "$ERR" "jitmallory"
expect_eq "the refused decisions changed nothing" "$(state_digest)" "$BEFORE"
expect_eq "request still pending" "$(request_state "$R")" pending

expect_exit 0 -m "root logged in as the approver approves" -- \
    as_login jitbob jitctl approve "$R" --comment "via sudo"
expect_eq "request approved" "$(request_state "$R")" approved
APPROVED=$(decisions_of "$R" approved)
jq_eq "audit: JIT_ACTOR is the person" "$APPROVED" .actor jitbob
jq_eq "audit: JIT_ACTOR_LOGIN is the login user" "$APPROVED" .actor_login jitbob
jq_eq "request: the approver is the person" "$(request_json "$R")" '.approvals[0].approver' jitbob
expect_eventually 10 "journal: approved event with JIT_ACTOR=jitbob and JIT_ACTOR_LOGIN=jitbob" \
    bash -c "journalctl --no-pager -o json SYSLOG_IDENTIFIER=jitd JIT_EVENT=approved JIT_REQUEST_ID=$R |
        jq -n -e 'any(inputs; .JIT_ACTOR == \"jitbob\" and .JIT_ACTOR_LOGIN == \"jitbob\")'"

# An event of a user's own account carries no JIT_ACTOR_LOGIN; one made through root does.
as root jitctl revoke "$(request_json "$R" | jq -r .grant_id)" >/dev/null 2>&1 || die "setup: revoke"
R2=$(new_request jitalice app 10min) && need_id request "$R2"
expect_exit 0 -m "bob approves from his own account" -- as jitbob jitctl approve "$R2"
jq_eq "audit: no JIT_ACTOR_LOGIN for bob's own account" "$(decisions_of "$R2" approved)" \
    '.actor_login // "none"' none
expect_exit 0 -m "root logged in as bob revokes" -- \
    as_login jitbob jitctl revoke "$(request_json "$R2" | jq -r .grant_id)" --reason done
jq_eq "audit: the revoke carries JIT_ACTOR_LOGIN" \
    "$(audit_json --event revoked | jq -c '.[-1]')" '"\(.actor) \(.actor_login)"' "jitbob jitbob"

# N-of-M counts persons: bob and root-as-bob are one.
as root jitctl policy add two-policy --approver jitbob --approver jitcarol --approvals 2 \
    >/dev/null 2>&1 || die "setup: two-policy"
as root jitctl resource add two --account '*' >/dev/null 2>&1 || die "setup: resource two"
as root jitctl policy assign two-policy two >/dev/null 2>&1 || die "setup: assign"
as root jitctl policy activate two-policy >/dev/null 2>&1 || die "setup: activate"
R3=$(new_request jitalice two 10min) && need_id request "$R3"
expect_exit 0 -m "bob approves (1 of 2)" -- as jitbob jitctl approve "$R3"
expect_exit 1 -m "root logged in as bob is the same person: no second approval" -- \
    as_login jitbob jitctl approve "$R3"
expect_eq "still pending after one person" "$(request_state "$R3")" pending
expect_exit 0 -m "root logged in as carol approves (2 of 2)" -- as_login jitcarol jitctl approve "$R3"
expect_eq "approved by two persons" "$(request_state "$R3")" approved

# --- roles are current on an open connection --------------------------------------------------
# A private copy of /etc/group in this mount namespace (rewritten in place, so the bind mount
# keeps showing it) lets the test change jitdave's groups without touching the host's.
cp /etc/group "$T/group.orig" && cp /etc/group "$T/group" && chmod 0644 "$T/group"
mount --bind "$T/group" /etc/group || die "cannot bind a copy of /etc/group"
cat >"$T/roles.py" <<'EOF'
import os, sys, time
import dbus
bus = dbus.SystemBus()
jit = dbus.Interface(bus.get_object("io.jitd.Jit1", "/io/jitd/Jit1"), "io.jitd.Jit1.Manager")
def roles():
    print(" ".join(str(r) for r in jit.GetStatus()["roles"]) or "none", flush=True)
roles()
deadline = time.monotonic() + 30
while not os.path.exists(sys.argv[1]) and time.monotonic() < deadline:
    time.sleep(0.05)
roles()
EOF
# Debian's python3 with python3-dbus: one process, one connection, two calls.
PY=/usr/bin/python3
if "$PY" -c 'import dbus' 2>/dev/null; then
    spawn_as jitdave "$PY" "$T/roles.py" "$T/roles.go" >"$T/roles.out" 2>&1
    ROLES_PID=$SPAWNED_PID
    wait_until 20 test -s "$T/roles.out" || fail "the open connection's first GetStatus: $(cat "$T/roles.out")"
    sed 's/^\(jit-audit:[^:]*:[^:]*:.*\)$/\1,jitdave/' "$T/group.orig" >"$T/group"
    touch "$T/roles.go"
    wait_until 30 _pid_gone "$ROLES_PID"
    mapfile -t ROLES <"$T/roles.out"
    expect_not_contains "before the group change: no auditor role" "${ROLES[0]:-}" auditor
    expect_contains "after the group change, same connection: auditor" "${ROLES[1]:-}" auditor
    cat "$T/group.orig" >"$T/group"
else
    fail "python3-dbus (for $PY) is needed to call jitd twice on one connection"
fi

# --- limits -----------------------------------------------------------------------------------
# requests_per_hour (default 30): a flood of 70 by one user, each request cancelled so that
# max_pending_per_user is not what stops it.
OK=0 LIMITED=0 LIMIT_MSG=
for i in $(seq 1 70); do
    run as jitcarol jitctl --json request app --reason "flood $i" --duration 5min
    if ((RC == 0)); then
        OK=$((OK + 1))
        as jitcarol jitctl cancel "$(jq -r .id <<<"$OUT")" >/dev/null 2>&1 || fail "cancel flood $i"
    elif ((RC == 1)) && [[ $ERR == *requests_per_hour* ]]; then
        LIMITED=$((LIMITED + 1))
        LIMIT_MSG=$ERR
    else
        fail "flood request $i: exit $RC: $ERR"
    fi
done
expect_eq "requests accepted in the hour" "$OK" 30
expect_eq "requests refused by requests_per_hour" "$LIMITED" 40
expect_contains "the refusal names the limit" "$LIMIT_MSG" "requests_per_hour = 30"
expect_exit 0 -m "another user can still request" -- \
    as jitdave jitctl request app --reason "not flooding" --duration 5min
jitd_stop
jitd_restart
expect_exit 1 -m "the hourly count survives a jitd restart" -- \
    as jitcarol jitctl request app --reason "after restart" --duration 5min
expect_contains "still the hourly limit" "$ERR" requests_per_hour

# max_pending_per_user (default 5): six resources under one policy, jitmallory asks for each.
for i in 1 2 3 4 5 6; do
    as root jitctl resource add "p$i" --account '*' >/dev/null 2>&1 || die "setup: resource p$i"
    as root jitctl policy assign app-policy "p$i" >/dev/null 2>&1 || die "setup: assign p$i"
done
for i in 1 2 3 4 5; do
    expect_exit 0 -m "pending request $i of 5" -- \
        as jitmallory jitctl request "p$i" --reason "pending $i" --duration 5min
done
expect_exit 1 -m "a sixth pending request is refused" -- \
    as jitmallory jitctl request p6 --reason "pending 6" --duration 5min
expect_contains "the refusal names the limit" "$ERR" "max_pending_per_user = 5"

# --- bounded audit replies --------------------------------------------------------------------
TOTAL=$(as root jitctl --json audit --limit 1000000 | jq length)
((TOTAL > 60)) && pass "audit holds $TOTAL events" || fail "audit holds only $TOTAL events"
jq_eq "audit --limit 7 gives 7 events" "$(as root jitctl --json audit --limit 7 2>/dev/null)" length 7
run as root jitctl --json audit --limit 7
expect_contains "audit --limit says more events match" "$ERR" "more match"
jq_eq "audit --limit 7 gives the first seqs" "$OUT" '[.[].seq] == [range(1;8)]' true
run as root jitctl --json audit --limit "$TOTAL"
expect_eq "audit --limit TOTAL says nothing more" "$ERR" ""
expect_exit 64 -m "audit --limit 0 is a usage error" -- as root jitctl audit --limit 0

# --- root_approves = yes, in a second jitd run -------------------------------------------------
jitd_stop
echo "root_approves = yes" >>"$T/jitd.conf"
jitd_restart
R4=$(new_request jitdave p1 10min) && need_id request "$R4"
expect_exit 0 -m "bare root approves with root_approves = yes" -- as root jitctl approve "$R4"
jq_eq "audit: bare root is the actor, without JIT_ACTOR_LOGIN" "$(decisions_of "$R4" approved)" \
    '"\(.actor) \(.actor_login // "none")"' "root none"
R5=$(new_request jitdave p2 10min) && need_id request "$R5"
expect_exit 77 -m "root logged in as the requester still cannot approve" -- \
    as_login jitdave jitctl approve "$R5"

# --- jitd.conf must be root's alone -----------------------------------------------------------
jitd_stop
# start_refused DESCRIPTION NEEDLE: jitd exits non-zero at start, naming NEEDLE.
start_refused() {
    run timeout 20 "$JITD" --config "$T/jitd.conf"
    expect_ne "$1: jitd exit status" "$RC" 0
    expect_contains "$1: the error names it" "$ERR" "$2"
}
chmod 0666 "$T/jitd.conf"
start_refused "world-writable jitd.conf" "$T/jitd.conf"
chmod 0664 "$T/jitd.conf"
start_refused "group-writable jitd.conf" "$T/jitd.conf"
chmod 0644 "$T/jitd.conf"
chown jitmallory "$T/jitd.conf"
start_refused "jitd.conf owned by a user" "$T/jitd.conf"
chown root "$T/jitd.conf"
chmod 0777 "$T"
start_refused "world-writable directory of jitd.conf" "directory $T"
chmod 0755 "$T"
jitd_restart
pass "jitd starts with a root-owned 0644 jitd.conf in a root-owned 0755 directory"

finish
