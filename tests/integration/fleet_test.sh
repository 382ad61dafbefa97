#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A fleet (docs/fleet.md#the-change-feed): two real jitd, db-01 on the harness's bus and db-02
# on a bus of its own, sharing one PostgreSQL 15 server (tests/integration/lib/postgres.sh),
# with real sudo and pam_jit on db-01:
#   - a resource added on db-01 is on db-02; alice asks on db-01, bob approves on db-02, and
#     alice's sudo on db-01, refused before, is let in once the approval arrives;
#   - root revokes on db-02: alice's running sudo session on db-01 ends, and db-01 records it;
#   - a 2-of-2 request approved on both hosts at the same moment: two approvals, one grant;
#   - a short grant expires with both hosts running: one `expired` event, not two;
#   - the fleet's audit chain verifies from either host; db-02 killed (-9) while db-01 grants
#     access knows the grant once restarted;
#   - status names the host and the store; with the store stopped it says so, db-01 still lets
#     alice in under her grant and refuses mallory (pam_jit decides from db-01's snapshot), a
#     change exits 69 naming the store; once the store is back, both logins are audited once
#     as db-01's and changes flow between the hosts again.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/realpam.sh"

realpam_need
PG_SCRIPT=$JIT_SOURCE_DIR/tests/integration/lib/postgres.sh
PG_DIR=$(mktemp -d /tmp/jit-fleet-pg.XXXXXX) || die "mktemp"
JITD_B_PID=
_fleet_finish() {
    [[ -z $JITD_B_PID ]] || { kill "$JITD_B_PID" 2>/dev/null; wait "$JITD_B_PID" 2>/dev/null; }
    [[ -z $JITD_PID ]] || jitd_stop
    bash "$PG_SCRIPT" stop "$PG_DIR" immediate >/dev/null 2>&1
    rm -rf "$PG_DIR"
    _harness_finish
}
CHECK_CLEANUP=_fleet_finish

bash "$PG_SCRIPT" start "$PG_DIR" || die "cannot start PostgreSQL"
runuser -u postgres -- /usr/lib/postgresql/15/bin/psql -q -h "$PG_DIR/socket" -U postgres \
    -c "CREATE DATABASE fleet" postgres >/dev/null 2>&1 || die "cannot create the fleet database"
STORE=("[store]" "backend = postgresql" "url = host=$PG_DIR/socket dbname=fleet user=postgres")

# --- db-02: a bus and a jitd of its own ---------------------------------------------------------
BUS_B=unix:path=$T/dbus-b/system_bus_socket
mkdir -p "$T/dbus-b" && chmod 0755 "$T/dbus-b"
private_bus_config "$BUS_B" "$JIT_SOURCE_DIR" '' >"$T/dbus-b.conf"
dbus-daemon --config-file="$T/dbus-b.conf" --nofork --nopidfile --nosyslog >>"$T/dbus-b.log" 2>&1 &
track_pid $!
wait_until 10 test -S "$T/dbus-b/system_bus_socket" || die "the second dbus-daemon did not start"
# on_b CMD...: CMD against db-02's bus.
on_b() { DBUS_SYSTEM_BUS_ADDRESS=$BUS_B "$@"; }

printf '%s\n' "[daemon]" "host = db-02" "database = $T/b.db" "snapshot = $T/run-b/snapshot" \
    "min_duration = 1s" "authorized_keys_dir = $T/keys-b" "${STORE[@]}" >"$T/jitd-b.conf"
jitd_start "host = db-01" "kill_grace = 2s" "${STORE[@]}"
# jitd_b_start: db-02's jitd, waiting until it owns its name.
jitd_b_start() {
    on_b "$JITD" --config "$T/jitd-b.conf" >>"$T/jitd-b.log" 2>&1 &
    JITD_B_PID=$!
    wait_until 30 on_b name_has_owner io.jitd.Jit1 ||
        die "db-02's jitd did not start: $(tail -n 5 "$T/jitd-b.log")"
}
jitd_b_start
pass "two jitd share the store: db-01 and db-02"

realpam_pamd
realpam_sudoers "jitalice ALL=(ALL:ALL) NOPASSWD: ALL" "jitmallory ALL=(ALL:ALL) NOPASSWD: ALL"
realpam_pam_jit sudo "timeout=2s" "snapshot=$T/run/snapshot"

# --- a change on one host is on the other -------------------------------------------------------
setup_resource prod-db prod-jit --approver @jit-approvers --max-duration 1h
b_has_resource() { [[ $(on_b as root jitctl --json resource list | jq -r '.[].name') == prod-db ]]; }
expect_eventually 5 "db-02 knows the resource db-01 added" b_has_resource

expect_sudo "alice's sudo on db-01 before any grant" refused root jitalice
REQ=$(new_request jitalice prod-db 30m) || die "no request"
b_request_is() { [[ $(on_b as root jitctl --json requests --all | jq -r --argjson id "$REQ" '.[] | select(.id == $id) | .state') == "$1" ]]; }
expect_eventually 5 "db-02 knows alice's request $REQ" b_request_is pending
expect_exit 0 -m "bob approves it on db-02" -- on_b as jitbob jitctl approve "$REQ" --comment ok
GRANT=$(on_b as root jitctl --json requests --all | jq -r --argjson id "$REQ" '.[] | select(.id == $id) | .grant_id')
[[ $GRANT =~ ^[0-9]+$ ]] || die "no grant for request $REQ on db-02"
expect_eventually 5 "db-01 knows grant $GRANT is active" grant_state_is "$GRANT" active
expect_sudo "alice's sudo on db-01 under the grant approved on db-02" allowed root jitalice

# --- a revoke on db-02 ends db-01's session -----------------------------------------------------
spawn_sudo jitalice sh -c 'trap "" TERM; exec sleep 600'
SUDO_PID=$SPAWNED_PID
expect_eventually 10 "alice's sudo session is open on db-01" session_open_for "$GRANT" sudo
START_MS=$(now_ms)
expect_exit 0 -m "root revokes grant $GRANT on db-02" -- on_b as root jitctl revoke "$GRANT" --reason done
expect_gone_by $((START_MS + (2 + 4) * 1000)) "alice's sudo on db-01" "$SUDO_PID"
expect_exit 0 -m "the audit of session_terminated" -- as root jitctl --json audit --event session_terminated
jq_eq "db-01 recorded the end of its session under grant $GRANT" "$OUT" \
    "[.[] | select((.grant_id|tostring) == \"$GRANT\" and .host == \"db-01\")] | length" 1
expect_sudo "alice's sudo on db-01 after the revoke on db-02" refused root jitalice

# --- two approvals at once on two hosts ---------------------------------------------------------
setup_resource pair-db pair-jit --approver jitbob --approver jitcarol --approvals 2
REQ2=$(new_request jitdave pair-db 30m) || die "no request"
b_request_is_3() { [[ $(on_b as root jitctl --json requests --all | jq -r --argjson id "$REQ3" '.[] | select(.id == $id) | .state') == pending ]]; }
b_request_is_2() { [[ $(on_b as root jitctl --json requests --all | jq -r --argjson id "$REQ2" '.[] | select(.id == $id) | .state') == pending ]]; }
expect_eventually 5 "db-02 knows dave's request $REQ2" b_request_is_2
as jitbob jitctl approve "$REQ2" >"$T/approve-a.out" 2>&1 &
APPROVE_A=$!
on_b as jitcarol jitctl approve "$REQ2" >"$T/approve-b.out" 2>&1
RC_B=$?
wait "$APPROVE_A"
RC_A=$?
expect_eq "both approvals succeed (db-01 $(<"$T/approve-a.out"); db-02 $(<"$T/approve-b.out"))" "$RC_A $RC_B" "0 0"
expect_eventually 5 "the request is approved" request_state_is "$REQ2" approved
jq_eq "it holds both approvals" "$(request_json "$REQ2")" '[.approvals[].approver] | sort | join(",")' \
    "jitbob,jitcarol"
expect_exit 0 -m "the audit of granted" -- as root jitctl --json audit --event granted
jq_eq "one grant for it" "$OUT" "[.[] | select((.request_id|tostring) == \"$REQ2\")] | length" 1

# --- an expiry is recorded once ---------------------------------------------------------------
setup_resource ops ops-auto --action auto-approve
SHORT=$(new_grant jitcarol ops 3s) || die "no grant"
expect_eventually 5 "db-02 knows grant $SHORT" on_b as root jitctl --json grants --all
expect_eventually 15 "grant $SHORT expired" grant_state_is "$SHORT" expired
b_grant_expired() { [[ $(on_b as root jitctl --json grants --all | jq -r --argjson id "$SHORT" '.[] | select(.id == $id) | .state') == expired ]]; }
expect_eventually 5 "db-02 knows it expired" b_grant_expired
expect_exit 0 -m "the audit of expired" -- as root jitctl --json audit --event expired
jq_eq "one expired event for grant $SHORT" "$OUT" "[.[] | select((.grant_id|tostring) == \"$SHORT\")] | length" 1

# --- one chain ----------------------------------------------------------------------------------
expect_exit 0 -m "the chain verifies on db-01" -- as root jitctl audit verify
expect_exit 0 -m "and on db-02" -- on_b as root jitctl audit verify

# --- a host killed while the others change the store -----------------------------------------
kill -KILL "$JITD_B_PID"
wait "$JITD_B_PID" 2>/dev/null
JITD_B_PID=
KILLED_GRANT=$(new_grant jitbob ops 1h) || die "no grant while db-02 was down"
jitd_b_start
jq_eq "db-02, restarted after kill -9, knows grant $KILLED_GRANT made meanwhile" \
    "$(on_b as root jitctl --json grants --all)" \
    "[.[] | select(.id == $KILLED_GRANT) | .state] | join(\",\")" active
expect_exit 0 -m "and the chain still verifies" -- on_b as root jitctl audit verify

# --- status -------------------------------------------------------------------------------------
expect_exit 0 -m "status on db-02" -- on_b as jitalice jitctl --json status
jq_eq "it names the host and its store, reachable and not behind" "$OUT" \
    '"\(.host) \(.store) \(.store_reachable) \(.store_behind)"' "db-02 postgresql true 0"

# --- the store goes away ------------------------------------------------------------------------
LONG=$(new_grant jitalice ops 1h) || die "no grant"
expect_eventually 5 "db-02 knows grant $LONG" on_b as root jitctl --json grants --all
bash "$PG_SCRIPT" stop "$PG_DIR" immediate >/dev/null 2>&1 || die "cannot stop PostgreSQL"
expect_exit 0 -m "status while the store is down" -- as jitalice jitctl --json status
jq_eq "it says the store is unreachable" "$OUT" .store_reachable false
expect_sudo "alice's sudo on db-01 under grant $LONG while the store is down" allowed root jitalice
expect_sudo "mallory's sudo on db-01 while the store is down" refused root jitmallory
expect_exit 69 -m "a change while the store is down" -- as jitdave jitctl request ops --reason x --duration 5m
expect_contains "the error names the store" "$ERR" "PostgreSQL store fleet"
bash "$PG_SCRIPT" start "$PG_DIR" >/dev/null || die "cannot start PostgreSQL again"
expect_eventually 10 "status says it is reachable again" \
    sh -c "jitctl --json status | jq -e '.store_reachable'"
expect_eventually 10 "the logins decided while the store was down are audited" \
    sh -c "jitctl --json audit --event login_fallback | jq -e 'length > 0'"
expect_exit 0 -m "the audit of login_fallback" -- as root jitctl --json audit --event login_fallback
jq_eq "each login decided meanwhile is audited once, as db-01's" "$OUT" \
    '[.[] | "\(.user) \(.outcome) \(.host)"] | sort | join(",")' \
    "jitalice allowed db-01,jitmallory denied db-01"
REQ3=$(new_request jitalice prod-db 10m) || die "no request after the store came back"
expect_eventually 5 "db-02 follows again: it knows request $REQ3" b_request_is_3

finish
