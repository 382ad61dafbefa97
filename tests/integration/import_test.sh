#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Moving a single host into a fleet (docs/fleet.md#moving-a-single-host-into-a-fleet) with the
# real jitd and jitctl and a PostgreSQL 15 server (tests/integration/lib/postgres.sh):
#   - a single host's jitd (SQLite) makes resources, policies, an approved request with its
#     grant and a pending request;
#   - jitd --import refuses an SQLite [store] and --database, with one line and status 1;
#   - it imports the stopped host's database into an empty fleet store (status 0, one line),
#     leaving the file as it was and nothing beside it; a second import is refused (status 1)
#     and changes nothing;
#   - jitd on the fleet store shows the same requests and grants, every event once more with
#     JIT_IMPORTED_SEQ and then `imported`, and `jitctl audit verify` passes.
source "$(dirname "$0")/lib/harness.sh"

PG_SCRIPT=$JIT_SOURCE_DIR/tests/integration/lib/postgres.sh
PG_DIR=$(mktemp -d /tmp/jit-import-pg.XXXXXX) || die "mktemp"
_import_finish() {
    [[ -z $JITD_PID ]] || jitd_stop
    bash "$PG_SCRIPT" stop "$PG_DIR" immediate >/dev/null 2>&1
    rm -rf "$PG_DIR"
    _harness_finish
}
CHECK_CLEANUP=_import_finish

# --- a single host ----------------------------------------------------------------------------
jitd_start "host = db-01"
setup_resource ops ops-auto --action auto-approve
setup_resource prod-db prod-jit --approver @jit-approvers
GRANT=$(new_grant jitalice ops 1h) || die "no grant"
APPROVED=$(new_request jitdave prod-db 1h) || die "no request"
expect_exit 0 -m "bob approves dave's request" -- as jitbob jitctl approve "$APPROVED"
PENDING=$(new_request jitcarol prod-db 2h) || die "no request"
EVENTS=$(audit_count)
GRANTS=$(as root jitctl --json grants --all | jq -c '[.[] | {id, user, resource, state}]')
REQUESTS=$(as root jitctl --json requests --all | jq -c '[.[] | {id, requester, state, grant_id}]')
jitd_stop
SUM_BEFORE=$(sha256sum <"$T/jit.db")
FILES_BEFORE=$(ls "$T")

# --- refusals before any store is touched ------------------------------------------------------
expect_exit 1 -m "an SQLite [store] is refused" -- "$JITD" --import "$T/jit.db" --config "$T/jitd.conf"
expect_contains "it says the store is not PostgreSQL" "$ERR" "is not backend = postgresql"
expect_exit 1 -m "--database with --import is refused" -- \
    "$JITD" --import "$T/jit.db" --database "$T/other.db" --config "$T/jitd.conf"
expect_true "and made no database" test ! -e "$T/other.db"

# --- the fleet store --------------------------------------------------------------------------
bash "$PG_SCRIPT" start "$PG_DIR" || die "cannot start PostgreSQL"
runuser -u postgres -- /usr/lib/postgresql/15/bin/psql -q -h "$PG_DIR/socket" -U postgres \
    -c "CREATE DATABASE fleet" postgres >/dev/null 2>&1 || die "cannot create the fleet database"
printf '\n[store]\nbackend = postgresql\nurl = host=%s/socket dbname=fleet user=postgres\n' \
    "$PG_DIR" >>"$T/jitd.conf"

expect_exit 0 -m "jitd --import copies the database" -- "$JITD" --import "$T/jit.db" --config "$T/jitd.conf"
expect_contains "it says what it imported" "$OUT" "resources=2 policies=2 requests=3 grants=2"
expect_contains "and where the events went" "$OUT" "its audit events as seqs 1-$EVENTS of the fleet chain"
expect_eq "the file is as it was" "$(sha256sum <"$T/jit.db")" "$SUM_BEFORE"
expect_eq "nothing new beside it" "$(ls "$T")" "$FILES_BEFORE"

expect_exit 1 -m "a second import is refused" -- "$JITD" --import "$T/jit.db" --config "$T/jitd.conf"
expect_contains "it names what the store holds" "$ERR" "the fleet store already holds 2 resources"

# --- jitd on the fleet store ------------------------------------------------------------------
jitd_restart
expect_eq "the same grants" \
    "$(as root jitctl --json grants --all | jq -c '[.[] | {id, user, resource, state}]')" "$GRANTS"
expect_eq "the same requests" \
    "$(as root jitctl --json requests --all | jq -c '[.[] | {id, requester, state, grant_id}]')" \
    "$REQUESTS"
expect_eq "every event once more, then imported" "$(audit_count)" "$((EVENTS + 1))"
expect_exit 0 -m "the audit log" -- as root jitctl --json audit
jq_eq "the imported events keep their seqs in JIT_IMPORTED_SEQ" "$OUT" \
    '[.[:-1][] | .imported_seq == (.seq | tostring)] | all' true
jq_eq "the last event is imported" "$OUT" '.[-1] | "\(.event) \(.imported_seq) \(.host)"' \
    "imported 1-$EVENTS db-01"
expect_exit 0 -m "the fleet's chain verifies" -- as root jitctl audit verify
jq_eq "grant $GRANT is still alice's" "$(grant_json "$GRANT")" '"\(.user) \(.state)"' "jitalice active"
jq_eq "pending request $PENDING is still pending" "$(request_json "$PENDING")" .state pending

finish
