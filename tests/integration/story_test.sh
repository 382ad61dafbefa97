#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The seed's story end to end through jitctl and jitd over a real bus: the admin's policy
# steps, a capped request, the approvals queue, approval -> grant -> automatic expiry, deny,
# auto-approve, N-of-M approvals, no self-approval, pending-request TTL, cancel, revoke,
# duplicates refused and `request --wait`.
source "$(dirname "$0")/lib/harness.sh"

jitd_start

need_id() { [[ $2 =~ ^[0-9]+$ ]] || die "$1: expected an id, got '$2'"; }

# --- the admin's steps (seed: "How to configure JIT policies") --------------------------------
note "admin configures prod-db"
expect_exit 0 -m "admin adds resource prod-db" -- \
    as jitadmin jitctl resource add prod-db --description "Production database" \
    --service sshd --service sudo --account postgres
expect_exit 0 -m "admin adds policy prod-db-jit" -- \
    as jitadmin jitctl --json policy add prod-db-jit --description "JIT access -- Production DB" \
    --action require-approval --approver jitbob --max-duration 10s
jq_eq "new policy name" "$OUT" .name prod-db-jit
jq_eq "new policy description" "$OUT" .description "JIT access -- Production DB"
jq_eq "new policy action" "$OUT" .action require-approval
jq_eq "new policy max_duration" "$OUT" .max_duration 10
jq_eq "new policy auto_expiry (on by default)" "$OUT" .auto_expiry true
jq_eq "new policy approvers" "$OUT" '.approvers | join(",")' jitbob
jq_eq "new policy approvals_required" "$OUT" .approvals_required 1
jq_eq "new policy starts inactive" "$OUT" .active false

expect_exit 0 -m "resource show before assignment" -- as jitalice jitctl --json resource show prod-db
jq_eq "services" "$OUT" '.services | join(",")' sshd,sudo
jq_eq "accounts" "$OUT" '.accounts | join(",")' postgres
jq_eq "alice's access without a policy" "$OUT" .access none

expect_exit 0 -m "admin assigns the policy" -- as jitadmin jitctl policy assign prod-db-jit prod-db
expect_exit 1 -m "request refused while the policy is inactive" -- \
    as jitalice jitctl request prod-db --reason "too early" --duration 1h
expect_exit 0 -m "admin activates the policy" -- as jitadmin jitctl policy activate prod-db-jit

expect_exit 0 -m "policy show" -- as jitadmin jitctl --json policy show prod-db-jit
jq_eq "policy active" "$OUT" .active true
jq_eq "policy resources" "$OUT" '.resources | join(",")' prod-db
expect_exit 0 -m "alice lists resources" -- as jitalice jitctl --json resource list
jq_eq "prod-db's policy in the list" "$OUT" '.[] | select(.name == "prod-db") | .policy' prod-db-jit
jq_eq "alice may request prod-db" "$OUT" '.[] | select(.name == "prod-db") | .access' request

# --- the operator's steps (seed: "How to request JIT access") -------------------------------
note "alice requests more than the maximum"
expect_exit 0 -m "alice requests prod-db for 2h" -- \
    as jitalice jitctl --json request prod-db --reason "Investigate slow queries (INC-1234)" --duration 2h
REQ=$(jq -r .id <<<"$OUT")
need_id "request id" "$REQ"
jq_eq "requester" "$OUT" .requester jitalice
jq_eq "resource" "$OUT" .resource prod-db
jq_eq "reason" "$OUT" .reason "Investigate slow queries (INC-1234)"
jq_eq "requested_duration keeps what was asked" "$OUT" .requested_duration 7200
jq_eq "duration capped to the policy max" "$OUT" .duration 10
jq_eq "capped" "$OUT" .capped true
jq_eq "state" "$OUT" .state pending
jq_eq "decided is null" "$OUT" .decided null
jq_eq "grant_id is null" "$OUT" .grant_id null
jq_eq "created is RFC 3339 UTC" "$OUT" '.created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")' true

# Duplicates: a second pending request for the same user and resource is refused with the id.
expect_exit 1 -m "duplicate request refused" -- \
    as jitalice jitctl request prod-db --reason "again" --duration 1h
expect_number_in "duplicate error names the pending request" "$ERR" "$REQ"

# The approvals queue: the designated approver sees it, nobody else does.
expect_exit 0 -m "bob's approvals" -- as jitbob jitctl --json approvals
jq_eq "bob sees the request" "$OUT" "[.[] | select(.id == $REQ)] | length" 1
expect_exit 0 -m "alice's approvals" -- as jitalice jitctl --json approvals
jq_eq "alice does not see her own request as an approval" "$OUT" "[.[] | select(.id == $REQ)] | length" 0
expect_exit 0 -m "carol's approvals" -- as jitcarol jitctl --json approvals
jq_eq "carol (not an approver of prod-db-jit) does not see it" "$OUT" "[.[] | select(.id == $REQ)] | length" 0
expect_exit 0 -m "mallory's approvals" -- as jitmallory jitctl --json approvals
jq_eq "mallory sees no approvals" "$OUT" length 0
expect_exit 0 -m "alice's requests" -- as jitalice jitctl --json requests
jq_eq "alice sees her pending request" "$OUT" "[.[] | select(.id == $REQ) | .state] | join(\",\")" pending
expect_exit 0 -m "mallory's requests --all" -- as jitmallory jitctl --json requests --all
jq_eq "mallory does not see alice's request" "$OUT" "[.[] | select(.id == $REQ)] | length" 0
expect_exit 77 -m "mallory cannot approve" -- as jitmallory jitctl approve "$REQ"
expect_exit 77 -m "alice cannot approve her own request" -- as jitalice jitctl approve "$REQ"
expect_eq "still pending" "$(request_state "$REQ")" pending

# --- approval -> grant -> automatic expiry ------------------------------------------------
note "bob approves; the grant expires on its own"
expect_exit 0 -m "bob approves" -- as jitbob jitctl --json approve "$REQ" --comment "go ahead"
jq_eq "approved request state" "$OUT" .state approved
jq_eq "approval recorded" "$OUT" '.approvals[0] | "\(.approver) \(.decision) \(.comment)"' "jitbob approve go ahead"
GRANT=$(jq -r .grant_id <<<"$OUT")
need_id "grant id" "$GRANT"
expect_exit 0 -m "alice's grants" -- as jitalice jitctl --json grants
G=$(jq -c ".[] | select(.id == $GRANT)" <<<"$OUT")
jq_eq "grant user" "$G" .user jitalice
jq_eq "grant resource" "$G" .resource prod-db
jq_eq "grant request_id" "$G" .request_id "$REQ"
jq_eq "grant state" "$G" .state active
jq_eq "grant lasts the capped duration" "$G" '(.expiry | fromdateiso8601) - (.start | fromdateiso8601)' 10
expect_exit 0 -m "alice's view of prod-db" -- as jitalice jitctl --json resource show prod-db
jq_eq "alice's access is a grant" "$OUT" .access grant
expect_exit 1 -m "request while holding an active grant refused" -- \
    as jitalice jitctl request prod-db --reason "more" --duration 1h
expect_number_in "error names the active grant" "$ERR" "$GRANT"

expect_eventually 20 "grant $GRANT expires by itself" grant_state_is "$GRANT" expired
expect_exit 0 -m "alice's open grants after expiry" -- as jitalice jitctl --json grants
jq_eq "expired grant is no longer listed" "$OUT" "[.[] | select(.id == $GRANT)] | length" 0
expect_exit 0 -m "alice's grants --all" -- as jitalice jitctl --json grants --all
jq_eq "expired grant listed with --all" "$OUT" ".[] | select(.id == $GRANT) | .state" expired

expect_exit 0 -m "audit for prod-db" -- audit_json --resource prod-db
jq_eq "audit trail of the story" "$OUT" \
    "[.[] | select(.event | IN(\"requested\",\"approved\",\"granted\",\"expired\")) | .event] | join(\",\")" \
    requested,approved,granted,expired
jq_eq "requested event keeps both durations" "$OUT" \
    '.[] | select(.event == "requested") | "\(.requested_duration) \(.duration) \(.capped)"' "7200 10 true"
jq_eq "expired event's actor" "$OUT" '.[] | select(.event == "expired") | .actor' system
jq_eq "approved event's actor" "$OUT" '.[] | select(.event == "approved") | .actor' jitbob

# --- deny ---------------------------------------------------------------------------------
note "deny"
REQ2=$(new_request jitalice prod-db 1h "second look")
need_id "request 2" "$REQ2"
expect_exit 0 -m "bob denies" -- as jitbob jitctl --json deny "$REQ2" --comment "not now"
jq_eq "denied state" "$OUT" .state denied
jq_eq "no grant on deny" "$OUT" .grant_id null
expect_exit 1 -m "cannot approve a denied request" -- as jitbob jitctl approve "$REQ2"
expect_exit 0 -m "alice's requests after deny" -- as jitalice jitctl --json requests
jq_eq "denied request not open" "$OUT" "[.[] | select(.id == $REQ2)] | length" 0
expect_exit 0 -m "alice's requests --state denied" -- as jitalice jitctl --json requests --all --state denied
jq_eq "denied request listed by state" "$OUT" "[.[] | select(.id == $REQ2)] | length" 1
expect_exit 0 -m "alice's grants after deny" -- as jitalice jitctl --json grants
jq_eq "no active grant" "$OUT" length 0

# --- cancel -------------------------------------------------------------------------------
REQ3=$(new_request jitalice prod-db 1h "third")
need_id "request 3" "$REQ3"
expect_exit 77 -m "bob cannot cancel alice's request" -- as jitbob jitctl cancel "$REQ3"
expect_exit 0 -m "alice cancels" -- as jitalice jitctl --json cancel "$REQ3"
jq_eq "cancelled" "$OUT" .state cancelled
expect_exit 1 -m "cancel twice fails" -- as jitalice jitctl cancel "$REQ3"

# --- auto-approve, capping told in human output, revoke -----------------------------------
note "auto-approve and revoke"
setup_resource staging-web staging-auto --action auto-approve --max-duration 1h
expect_exit 0 -m "alice requests staging-web (human output)" -- \
    as jitalice jitctl request staging-web --reason "deploy hotfix" --duration 3h
if ! grep -qi cap <<<"$OUT$ERR"; then fail "human output does not say the request was capped: $OUT"; else pass "human output says capped"; fi
expect_exit 0 -m "alice's grants" -- as jitalice jitctl --json grants --resource staging-web
AG=$(jq -r '.[0].id' <<<"$OUT")
need_id "auto grant" "$AG"
jq_eq "auto-approved grant active" "$OUT" '.[0].state' active
jq_eq "auto grant capped to 1h" "$OUT" '.[0] | (.expiry | fromdateiso8601) - (.start | fromdateiso8601)' 3600
expect_exit 77 -m "mallory cannot revoke alice's grant" -- as jitmallory jitctl revoke "$AG"
expect_exit 77 -m "bob cannot revoke alice's grant" -- as jitbob jitctl revoke "$AG"
expect_exit 77 -m "auditor cannot revoke alice's grant" -- as jitaudit jitctl revoke "$AG"
expect_eq "grant still active" "$(grant_state "$AG")" active
expect_exit 0 -m "alice gives up her own grant" -- as jitalice jitctl --json revoke "$AG" --reason "done"
jq_eq "revoked by owner" "$OUT" .state revoked
expect_exit 1 -m "revoke twice fails" -- as jitalice jitctl revoke "$AG"

DG=$(new_grant jitdave staging-web 30min)
need_id "dave's grant" "$DG"
expect_exit 0 -m "admin revokes dave's grant" -- as jitadmin jitctl --json revoke "$DG" --reason "incident over"
jq_eq "revoked by admin" "$OUT" .state revoked
expect_exit 0 -m "audit revoked" -- audit_json --event revoked
jq_eq "revoke audited with actor and reason" "$OUT" \
    ".[] | select(.grant_id == \"$DG\" or .grant_id == $DG) | \"\(.actor) \(.reason)\"" "jitadmin incident over"

# --- presets, standing members, no automatic expiry -----------------------------------------
note "presets, members, grants without expiry"
expect_exit 0 -m "policy from the incident-response preset" -- \
    as jitadmin jitctl --json policy add incident --preset incident-response --approver jitbob
jq_eq "incident-response preset is 8h" "$OUT" .max_duration 28800
expect_exit 0 -m "admin adds a standing member" -- as jitadmin jitctl resource add-member prod-db jitdave
expect_exit 0 -m "dave's view of prod-db" -- as jitdave jitctl --json resource show prod-db
jq_eq "standing member's access" "$OUT" .access member
expect_exit 0 -m "admin removes the member" -- as jitadmin jitctl resource remove-member prod-db jitdave
expect_exit 0 -m "dave's view after removal" -- as jitdave jitctl --json resource show prod-db
jq_eq "access back to request" "$OUT" .access request
expect_exit 0 -m "policy without automatic expiry" -- \
    as jitadmin jitctl policy add forever-auto --action auto-approve --no-auto-expiry
if grep -qiE 'warn|until revoked' <<<"$OUT$ERR"; then pass "jitctl warns about grants without expiry"; else fail "no warning for --no-auto-expiry: $OUT $ERR"; fi
expect_exit 0 -m "resource forever" -- as jitadmin jitctl resource add forever --account '*'
as jitadmin jitctl policy assign forever-auto forever >/dev/null 2>&1 && as jitadmin jitctl policy activate forever-auto >/dev/null 2>&1 ||
    fail "setup of resource forever"
FG=$(new_grant jitcarol forever 1h)
need_id "grant without expiry" "$FG"
jq_eq "grant without expiry has expiry null" "$(grant_json "$FG")" .expiry null
expect_exit 0 -m "carol gives it up" -- as jitcarol jitctl revoke "$FG"

# --- N-of-M approvals and no self-approval ------------------------------------------------
note "two of three approvers"
setup_resource payments payments-2of3 --approver @jit-approvers --approver jitdave --approvals 2 --max-duration 1h
REQ4=$(new_request jitalice payments 30min "rotate keys")
need_id "request 4" "$REQ4"
expect_exit 0 -m "first approval (bob)" -- as jitbob jitctl --json approve "$REQ4"
jq_eq "one approval leaves it pending" "$OUT" .state pending
jq_eq "one approval recorded" "$OUT" '.approvals | length' 1
jq_eq "approvals_required" "$OUT" .approvals_required 2
run as jitbob jitctl approve "$REQ4"
if [[ $RC != 0 ]]; then pass "bob cannot approve twice (exit $RC)"; else fail "bob approved the same request twice"; fi
expect_eq "still pending after bob's second try" "$(request_state "$REQ4")" pending
expect_exit 0 -m "bob's queue no longer offers it" -- as jitbob jitctl --json approvals
jq_eq "decided request not in bob's approvals" "$OUT" "[.[] | select(.id == $REQ4)] | length" 0
expect_exit 0 -m "second approval (carol)" -- as jitcarol jitctl --json approve "$REQ4"
jq_eq "two approvals grant it" "$OUT" .state approved
G4=$(jq -r .grant_id <<<"$OUT")
need_id "grant 4" "$G4"
expect_eq "grant active" "$(grant_state "$G4")" active

REQ5=$(new_request jitdave payments 30min "check ledgers")
need_id "request 5" "$REQ5"
expect_exit 0 -m "bob approves dave's request" -- as jitbob jitctl approve "$REQ5"
expect_exit 0 -m "carol denies: a single deny ends it" -- as jitcarol jitctl --json deny "$REQ5"
jq_eq "denied after one approval" "$OUT" .state denied

REQ6=$(new_request jitbob payments 30min "bob needs it too")
need_id "request 6" "$REQ6"
expect_exit 0 -m "bob's approvals" -- as jitbob jitctl --json approvals
jq_eq "bob's own request not in his queue" "$OUT" "[.[] | select(.id == $REQ6)] | length" 0
expect_exit 77 -m "bob cannot approve his own request" -- as jitbob jitctl approve "$REQ6"
expect_exit 0 -m "carol approves bob's request" -- as jitcarol jitctl approve "$REQ6"
expect_exit 0 -m "dave approves bob's request" -- as jitdave jitctl --json approve "$REQ6"
jq_eq "bob's request granted by two others" "$OUT" .state approved

# --- pending-request TTL ------------------------------------------------------------------
note "pending requests expire"
setup_resource ttl-box ttl-policy --approver jitbob --request-ttl 2s --max-duration 1h
REQ7=$(new_request jitalice ttl-box 10min "short-lived")
need_id "request 7" "$REQ7"
expect_eventually 20 "pending request expires after its TTL" request_state_is "$REQ7" expired
expect_exit 0 -m "bob's approvals after TTL" -- as jitbob jitctl --json approvals
jq_eq "expired request gone from the queue" "$OUT" "[.[] | select(.id == $REQ7)] | length" 0
expect_exit 1 -m "approve an expired request fails" -- as jitbob jitctl approve "$REQ7"
expect_exit 0 -m "audit request_expired" -- audit_json --event request_expired
jq_eq "request_expired audited" "$OUT" "[.[] | select(.request_id == \"$REQ7\" or .request_id == $REQ7)] | length" 1

# --- request --wait -----------------------------------------------------------------------
note "request --wait"
setup_resource wait-box wait-policy --approver jitbob --max-duration 1h
open_request_of() { # USER RESOURCE: id of USER's pending request on RESOURCE
    as "$1" jitctl --json requests | jq -r --arg r "$2" '.[] | select(.resource == $r) | .id'
}
has_open_request() { [[ -n $(open_request_of "$1" "$2") ]]; }

# start_waiter USER N REASON: USER's `jitctl request wait-box --wait` in the background
# (WAITER; its output in $T/waitN.out and .err); true once its request is pending (id in WREQ).
start_waiter() {
    as "$1" jitctl request wait-box --reason "$3" --duration 10min --wait \
        >"$T/wait$2.out" 2>"$T/wait$2.err" &
    WAITER=$!
    track_pid "$WAITER"
    if wait_until 20 has_open_request "$1" wait-box; then
        WREQ=$(open_request_of "$1" wait-box)
        return 0
    fi
    fail "request --wait did not create a request: $(cat "$T/wait$2.err")"
    return 1
}
# expect_waiter_exit WHEN STATUS: the waiter returns (WHEN: after what) with exit STATUS.
expect_waiter_exit() {
    expect_eventually 20 "the waiter returns $1" _pid_gone "$WAITER"
    wait "$WAITER"
    expect_eq "request --wait exit status $1" "$?" "$2"
}

if start_waiter jitalice 1 "waiting for bob"; then
    expect_true "the waiter is still waiting" kill -0 "$WAITER"
    expect_exit 0 -m "bob approves the waited-for request" -- as jitbob jitctl approve "$WREQ"
    expect_waiter_exit "when granted" 0
fi
if start_waiter jitdave 2 "waiting again"; then
    expect_exit 0 -m "bob denies the waited-for request" -- as jitbob jitctl deny "$WREQ"
    expect_waiter_exit "when denied" 1
fi

expect_exit 1 -m "request --wait=1s times out undecided" -- \
    as jitcarol jitctl request wait-box --reason "nobody answers" --duration 10min --wait=1s

# jitd leaving the bus ends a wait that nobody could satisfy any more (69), instead of hanging.
if start_waiter jitmallory 3 "jitd goes away"; then
    jitd_stop
    expect_waiter_exit "when jitd leaves the bus" 69
    expect_contains "the waiter says why" "$(cat "$T/wait3.err")" "jitd left the bus"
    jitd_restart
fi

finish
