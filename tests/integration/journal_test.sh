#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The audit trail: every event type reaches the journal with its fields, JIT_EVENT,
# JIT_SEQ, JIT_HASH, JIT_CHAIN, JIT_HOST, a fixed MESSAGE_ID and a MESSAGE; each audit row is
# in the journal exactly once; an event made while journald is down arrives once it is back;
# `jitctl audit` as table, json and csv; `jitctl audit verify` passes, and fails naming the row
# after the database is edited (more ways to tamper: tamper_test.sh).
source "$(dirname "$0")/lib/harness.sh"

jitd_start

need_id() { [[ $2 =~ ^[0-9]+$ ]] || die "$1: expected an id, got '$2'"; }
pam() { # METHOD SIGNATURE ARGS...: a Pam method as root (what pam_jit does)
    local method=$1
    shift
    run busctl --system -- call io.jitd.Jit1 /io/jitd/Jit1 io.jitd.Jit1.Pam "$method" "$@"
}

# --- make one of every event ---------------------------------------------------------------
note "producing every event type"
setup_resource prod-db prod-db-jit --approver jitbob --max-duration 2s      # resource_changed, policy_changed
setup_resource ttl-box ttl-policy --approver jitbob --request-ttl 1s --max-duration 1h
setup_resource tools tools-auto --action auto-approve --max-duration 1h

R=$(new_request jitalice prod-db 1h "journal story")                     # requested (capped)
need_id request "$R"
as jitbob jitctl approve "$R" --comment "ok" >/dev/null || fail "approve $R"   # approved, granted
EXPIRING=$(request_json "$R" | jq -r .grant_id)
need_id grant "$EXPIRING"
R=$(new_request jitdave prod-db 1h "to be denied") && need_id request "$R"
as jitbob jitctl deny "$R" --comment "no" >/dev/null || fail "deny $R"        # denied
R=$(new_request jitcarol prod-db 1h "to be cancelled") && need_id request "$R"
as jitcarol jitctl cancel "$R" >/dev/null || fail "cancel $R"                 # cancelled
TTL_REQ=$(new_request jitalice ttl-box 1h "to expire pending") && need_id request "$TTL_REQ"

G=$(new_grant jitdave tools 30min) && need_id grant "$G"
spawn_as jitdave sleep 600
CLOSED_PID=$SPAWNED_PID
pam OpenSession sssssuuxss sshd jitdave "" 192.0.2.7 ssh 0 4294967295 "$CLOSED_PID" "" ""   # session_opened
read -r -a REPLY <<<"$OUT"
SID=${REPLY[-1]:-}
if [[ $SID =~ ^[1-9][0-9]*$ ]]; then
    pam CloseSession x "$SID"                                            # session_closed
    expect_eq "CloseSession" "$RC" 0
else
    fail "OpenSession did not register a session: $OUT $ERR"
fi
spawn_as jitdave sleep 600
TERMINATED_PID=$SPAWNED_PID
pam OpenSession sssssuuxss sudo root jitdave "" /dev/pts/3 0 4294967295 "$TERMINATED_PID" "" ""
read -r -a REPLY <<<"$OUT"
expect_contains "sudo session under dave's grant" "$OUT" '"grant"'
as jitadmin jitctl revoke "$G" --reason "end of test" >/dev/null || fail "revoke $G"  # revoked, session_terminated
expect_eventually 30 "the session's process is terminated when its grant is revoked" _pid_gone "$TERMINATED_PID"
pam CheckLogin sssssuu sshd jitmallory "" 198.51.100.9 ssh 0 4294967295                # login_denied
expect_contains "mallory's login denied" "$OUT" '"deny"'

expect_eventually 20 "grant $EXPIRING expires" grant_state_is "$EXPIRING" expired   # expired
expect_eventually 20 "request $TTL_REQ expires pending" request_state_is "$TTL_REQ" expired  # request_expired

# --- the journal holds every event with its fields -------------------------------------------
declare -A FIELDS=(
    [requested]="JIT_REQUEST_ID JIT_USER JIT_RESOURCE JIT_POLICY JIT_REASON JIT_REQUESTED_DURATION JIT_DURATION JIT_CAPPED"
    [approved]="JIT_REQUEST_ID JIT_USER JIT_RESOURCE JIT_ACTOR JIT_COMMENT"
    [denied]="JIT_REQUEST_ID JIT_USER JIT_RESOURCE JIT_ACTOR JIT_COMMENT"
    [granted]="JIT_REQUEST_ID JIT_GRANT_ID JIT_USER JIT_RESOURCE JIT_START JIT_EXPIRY"
    [expired]="JIT_GRANT_ID JIT_USER JIT_RESOURCE JIT_EXPIRY JIT_ACTOR"
    [revoked]="JIT_GRANT_ID JIT_USER JIT_RESOURCE JIT_ACTOR JIT_REASON"
    [cancelled]="JIT_REQUEST_ID JIT_USER JIT_RESOURCE JIT_ACTOR"
    [request_expired]="JIT_REQUEST_ID JIT_USER JIT_RESOURCE JIT_ACTOR"
    [session_opened]="JIT_USER JIT_TARGET JIT_SERVICE JIT_RHOST JIT_TTY JIT_RESOURCE JIT_GRANT_ID JIT_SESSION_PID JIT_LOGIND_SESSION"
    [session_closed]="JIT_USER JIT_TARGET JIT_SERVICE JIT_RHOST JIT_TTY JIT_RESOURCE JIT_GRANT_ID JIT_SESSION_PID JIT_LOGIND_SESSION"
    [session_terminated]="JIT_USER JIT_TARGET JIT_SERVICE JIT_RHOST JIT_TTY JIT_RESOURCE JIT_GRANT_ID JIT_SESSION_PID JIT_LOGIND_SESSION"
    [login_denied]="JIT_USER JIT_TARGET JIT_SERVICE JIT_RHOST JIT_TTY JIT_RESOURCE JIT_GRANT_ID JIT_SESSION_PID JIT_LOGIND_SESSION"
    [resource_changed]="JIT_ACTOR JIT_OBJECT JIT_CHANGE"
    [policy_changed]="JIT_ACTOR JIT_OBJECT JIT_CHANGE"
)

AUDIT=$(audit_json) || die "jitctl --json audit failed"
N=$(jq length <<<"$AUDIT")
LAST_SEQ=$(jq '[.[].seq] | max' <<<"$AUDIT")
journal_complete() { [[ $(journal_events | jq -s "[.[] | select((.JIT_SEQ | tonumber) <= $LAST_SEQ)] | length") -ge $N ]]; }
expect_eventually 20 "all $N audit events reached the journal" journal_complete
EVENTS=$(journal_events | jq -s .)

for ev in "${!FIELDS[@]}"; do
    E=$(jq -c --arg e "$ev" '[.[] | select(.JIT_EVENT == $e)] | first // empty' <<<"$EVENTS")
    if [[ -z $E ]]; then
        fail "journal has no '$ev' event"
        continue
    fi
    missing=()
    for f in JIT_EVENT JIT_SEQ JIT_HASH JIT_CHAIN JIT_HOST MESSAGE_ID MESSAGE SYSLOG_IDENTIFIER ${FIELDS[$ev]}; do
        jq -e --arg f "$f" 'has($f)' <<<"$E" >/dev/null || missing+=("$f")
    done
    if ((${#missing[@]} == 0)); then
        pass "journal '$ev' event has its fields"
    else
        fail "journal '$ev' event lacks ${missing[*]}: $E"
    fi
    jq_eq "'$ev' MESSAGE_ID is a 128-bit id" "$E" '.MESSAGE_ID | test("^[0-9a-f]{32}$")' true
    jq_eq "'$ev' MESSAGE is a non-empty line" "$E" '.MESSAGE | type == "string" and length > 0 and (contains("\n") | not)' true
done

jq_eq "one MESSAGE_ID per event type" "$EVENTS" \
    '[group_by(.JIT_EVENT)[] | [.[].MESSAGE_ID] | unique | length] | all(. == 1)' true
jq_eq "distinct MESSAGE_IDs for distinct types" "$EVENTS" \
    '([.[].MESSAGE_ID] | unique | length) == ([.[].JIT_EVENT] | unique | length)' true
CATALOG=$(find "$JIT_SOURCE_DIR" -path "$JIT_SOURCE_DIR/build*" -prune -o -name '*.catalog*' -print -quit)
if [[ -n $CATALOG ]]; then
    for id in $(jq -r '[.[].MESSAGE_ID] | unique | .[]' <<<"$EVENTS"); do
        expect_true "MESSAGE_ID $id has a catalog entry in ${CATALOG#"$JIT_SOURCE_DIR"/}" \
            grep -qi -- "^-- $id" "$CATALOG"
    done
else
    fail "no journal catalog (*.catalog) in the source tree for the MESSAGE_IDs"
fi

jq_eq "journal seqs are exactly the audit seqs, once each" "$EVENTS" \
    "[.[].JIT_SEQ | tonumber] | sort | . == ([range(1; $LAST_SEQ + 1)])" true
jq_eq "requested event keeps both durations" "$EVENTS" \
    '[.[] | select(.JIT_EVENT == "requested" and .JIT_USER == "jitalice" and .JIT_RESOURCE == "prod-db")][0] | "\(.JIT_REQUESTED_DURATION) \(.JIT_DURATION) \(.JIT_CAPPED)"' \
    "3600 2 true"
jq_eq "expired event's actor is system" "$EVENTS" \
    "[.[] | select(.JIT_EVENT == \"expired\" and .JIT_GRANT_ID == \"$EXPIRING\")][0].JIT_ACTOR" system
jq_eq "session_terminated names the pid" "$EVENTS" \
    "[.[] | select(.JIT_EVENT == \"session_terminated\")][0].JIT_SESSION_PID" "$TERMINATED_PID"
jq_eq "session_opened target and rhost" "$EVENTS" \
    '[.[] | select(.JIT_EVENT == "session_opened" and .JIT_SERVICE == "sshd")][0] | "\(.JIT_TARGET) \(.JIT_RHOST)"' \
    "jitdave 192.0.2.7"
jq_eq "login_denied for mallory" "$EVENTS" \
    '[.[] | select(.JIT_EVENT == "login_denied")][0].JIT_USER' jitmallory

# --- jitctl audit outputs ------------------------------------------------------------------
note "jitctl audit"
expect_exit 0 -m "audit as a table" -- as jitaudit jitctl audit
expect_contains "table mentions the grant" "$OUT" granted
expect_exit 0 -m "audit --output json" -- as jitaudit jitctl audit --output json
jq_eq "json audit has every event" "$OUT" length "$N"
jq_eq "json audit rows have seq, time (RFC 3339 UTC), event" "$OUT" \
    'all(.[]; (.seq | type) == "number" and (.time | test("^[0-9-]{10}T[0-9:]{8}Z$")) and (.event | type) == "string")' true
jq_eq "json audit fields are lower case without JIT_" "$OUT" \
    '[.[] | select(.event == "requested")][0] | has("request_id") and has("requested_duration") and (has("JIT_USER") | not)' true
jq_eq "json audit: a request's ids and durations are numbers, capped a boolean" "$OUT" \
    '[.[] | select(.event == "requested" and .user == "jitalice" and .resource == "prod-db")][0] | [.request_id, .requested_duration, .duration, .capped] | map(type) | join(",")' \
    "number,number,number,boolean"
jq_eq "json audit: the requested durations" "$OUT" \
    '[.[] | select(.event == "requested" and .user == "jitalice" and .resource == "prod-db")][0] | [.requested_duration, .duration, .capped] == [3600, 2, true]' true
jq_eq "json audit: a terminated session's pid and grant are numbers" "$OUT" \
    "[.[] | select(.event == \"session_terminated\")][0] | [.session_pid, .grant_id] == [$TERMINATED_PID, $G]" true
jq_eq "json audit: a denied login's missing grant and pid stay empty text" "$OUT" \
    '[.[] | select(.event == "login_denied")][0] | [.grant_id, .session_pid] == ["", ""]' true
jq_eq "json audit: a grant's expiry stays text" "$OUT" \
    "[.[] | select(.event == \"granted\" and .grant_id == $EXPIRING)][0].expiry | test(\"^[0-9-]{10}T[0-9:]{8}Z\$\")" true
expect_exit 0 -m "audit as a table, requests only" -- as jitaudit jitctl audit --event requested --user jitalice
expect_contains "table shows the requested duration" "$OUT" "requested_duration=3600"
expect_contains "table shows capped as a flag" "$OUT" "capped=yes"
expect_exit 0 -m "audit --output csv" -- as jitaudit jitctl audit --output csv
HEADER=$(head -n1 <<<"$OUT")
expect_contains "csv header" "$HEADER" "seq"
expect_contains "csv header" "$HEADER" "event"
expect_eq "csv rows" "$(($(wc -l <<<"$OUT") - 1))" "$N"
csv_column() { # NAME: its number in the header
    tr ',' '\n' <<<"$HEADER" | grep -nx "$1" | cut -d: -f1
}
CSV_REQUESTED=$(grep ',requested,' <<<"$OUT" | grep -m1 'journal story')
expect_eq "csv: a request's durations and capped" \
    "$(cut -d, -f"$(csv_column requested_duration),$(csv_column duration),$(csv_column capped)" <<<"$CSV_REQUESTED")" \
    "3600,2,true"
expect_exit 0 -m "audit --event granted --output json" -- as jitaudit jitctl audit --event granted --output json
jq_eq "filter by event" "$OUT" 'map(.event) | unique | join(",")' granted
expect_exit 0 -m "audit --user jitdave" -- as jitadmin jitctl --json audit --user jitdave
jq_eq "filter by user" "$OUT" 'map(.user) | unique | join(",")' jitdave
expect_exit 0 -m "audit --since/--until" -- as jitadmin jitctl --json audit --since 2000-01-01 --until 2000-01-02
jq_eq "nothing in 2000" "$OUT" length 0

# --- journal unavailable: the event waits and arrives once -------------------------------------
note "journald down"
journald_stop
expect_exit 0 -m "change while journald is down" -- as jitadmin jitctl resource add made-while-down --account '*'
journald_start
has_object() { journal_events | jq -n -e --arg o "$1" 'any(inputs; .JIT_OBJECT == $o)' >/dev/null; }
expect_eventually 30 "the event reaches the journal once it is back" has_object made-while-down
expect_exit 0 -m "change after journald is back" -- as jitadmin jitctl resource add made-after --account '*'
expect_eventually 10 "the next event arrives too" has_object made-after
expect_eq "the delayed event is in the journal exactly once" \
    "$(journal_events | jq -s '[.[] | select(.JIT_OBJECT == "made-while-down")] | length')" 1
LAST_SEQ=$(audit_json | jq '[.[].seq] | max')
jq_eq "still every seq exactly once" "$(journal_events | jq -s .)" \
    "[.[].JIT_SEQ | tonumber] | sort | . == ([range(1; $LAST_SEQ + 1)])" true

# --- audit verify ---------------------------------------------------------------------------
note "audit verify"
expect_exit 0 -m "audit verify passes" -- as jitaudit jitctl audit verify
expect_exit 0 -m "audit verify --json" -- as root jitctl --json audit verify

TABLE=$(sqlite3 "$T/jit.db" "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%audit%' ORDER BY length(name) LIMIT 1")
[[ -n $TABLE ]] || die "no audit table in $T/jit.db: $(sqlite3 "$T/jit.db" .tables)"
COLUMNS=$(sqlite3 "$T/jit.db" "SELECT name FROM pragma_table_info('$TABLE')")
SEQCOL=$(grep -x -m1 -E 'seq|id' <<<"$COLUMNS")
[[ -n $SEQCOL ]] || die "no seq column in $TABLE: $COLUMNS"
VICTIM=3
# Edit a field the hash covers: the event name if the row has it, else the time.
if grep -qx event <<<"$COLUMNS"; then
    EDIT="event = 'tampered'"
else
    EDIT="time = time + 1"
fi
# Drop any append-only trigger first: whoever edits the file can do that too.
for trig in $(sqlite3 "$T/jit.db" "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = '$TABLE'"); do
    sqlite3 "$T/jit.db" "DROP TRIGGER \"$trig\""
done
sqlite3 "$T/jit.db" "PRAGMA busy_timeout = 5000; UPDATE $TABLE SET $EDIT WHERE $SEQCOL = $VICTIM" >/dev/null ||
    die "cannot edit row $VICTIM of $TABLE"
expect_exit 1 -m "audit verify fails after row $VICTIM was edited" -- as jitaudit jitctl audit verify
expect_contains "verify names the edited row" "$OUT $ERR" "$VICTIM"
expect_exit 1 -m "audit verify --json after the edit" -- as root jitctl --json audit verify
jq_eq "json verify: ok false" "$OUT" .ok false
jq_eq "json verify: first bad seq" "$OUT" .first_bad_seq "$VICTIM"

finish
