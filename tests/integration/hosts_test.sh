#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Hosts (docs/fleet.md#hosts, docs/login-decision.md) with the real jitd, jitctl, sudo and
# pam_jit, jitd named db-01 by jitd.conf:
#   - bad host patterns exit 65 with one line and change nothing; jitd refuses a bad host name;
#   - resource list/show and JSON `hosts` (default ["*"], patterns in order);
#   - a grant on a resource for web-* is refused on db-01 where a db-* resource covers the
#     login (the message names only db-01's resource), while a grant on the db-* resource lets
#     the same sudo in; a resource only for other hosts leaves a login unmanaged; pam_jit's
#     snapshot fallback knows only db-01's resources;
#   - sessions carry `host`; `jitctl sessions` lists this host's, `--all` every host's (jitd
#     restarted as db-02 sees db-01's session only with --all); JIT_HOST in the journal.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/realpam.sh"

TIMEOUT_MS=500
realpam_need
jitd_start "host = db-01" "kill_grace = 2s"
SNAPSHOT=$T/run/snapshot

realpam_pamd
realpam_sudoers "jitalice ALL=(ALL:ALL) NOPASSWD: ALL" "jitmallory ALL=(ALL:ALL) NOPASSWD: ALL"
realpam_pam_jit sudo "timeout=${TIMEOUT_MS}ms" "snapshot=$SNAPSHOT"

resource_names() { as root jitctl --json resource list | jq -r '[.[].name] | join(",")'; }

# --- bad patterns and host names --------------------------------------------------------------
note "bad host patterns and host names"
AUDIT_BEFORE=$(audit_count)
for bad in 'web_*' 'db-[0-9' 'db-0]' 'db 01' '' 'db-[.]' "$(printf 'x%.0s' {1..254})"; do
    expect_exit 65 -m "resource add --host '${bad:0:20}' is invalid input" -- \
        as root jitctl resource add bad --service sudo --account root --host 'db-*' --host "$bad"
    expect_contains "the error names the pattern problem" "$ERR" "invalid host pattern"
done
# The same through the bus, past jitctl's own check: jitd refuses it too.
expect_exit 1 -m "AddResource with a bad pattern straight over the bus" -- \
    busctl --system -- call io.jitd.Jit1 /io/jitd/Jit1 io.jitd.Jit1.Manager AddResource ssasasasas \
    bad "" 1 sudo 1 root 0 1 'web_*'
expect_contains "jitd answers InvalidInput" "$ERR" "invalid host pattern"
expect_eq "no resource was added" "$(resource_names)" ""
expect_eq "no audit event was written" "$(audit_count)" "$AUDIT_BEFORE"

printf '[daemon]\nhost = db_01\ndatabase = %s\n' "$T/other.db" >"$T/bad-host.conf"
chmod 0600 "$T/bad-host.conf"
run "$JITD" --config "$T/bad-host.conf"
expect_eq "jitd refuses to start with a bad [daemon] host" "$RC" 1
expect_contains "jitd names the bad host name" "$ERR" 'host name "db_01"'
expect_true "and created no database" test ! -e "$T/other.db"

# --- resources with hosts: list, show, JSON ---------------------------------------------------
note "resources with host patterns"
expect_exit 0 -m "resource web (sudo to root on web-*)" -- \
    as root jitctl resource add web --service sudo --account root --host 'web-*'
expect_contains "add says the hosts" "$OUT" 'hosts web-*'
expect_exit 0 -m "resource db (sudo to root on db-* and backup-[0-9])" -- \
    as root jitctl resource add db --service sudo --account root --host 'db-*' --host 'backup-[0-9]'
expect_exit 0 -m "resource everywhere (sudo to jitcarol, no --host)" -- \
    as root jitctl resource add everywhere --service sudo --account jitcarol
expect_exit 0 -m "resource dave-web (sudo to jitdave on web-*)" -- \
    as root jitctl resource add dave-web --service sudo --account jitdave --host 'WEB-?*'
jq_eq "JSON hosts of web" "$(jcj jitalice resource show web)" '.hosts | tojson' '["web-*"]'
jq_eq "JSON hosts of db, in order" "$(jcj jitalice resource show db)" '.hosts | tojson' \
    '["db-*","backup-[0-9]"]'
jq_eq "JSON hosts without --host: every host" "$(jcj jitalice resource show everywhere)" \
    '.hosts | tojson' '["*"]'
jq_eq "resource list --json has hosts" "$(jcj jitalice resource list)" \
    '[.[] | .name + "=" + (.hosts | join("|"))] | join(" ")' \
    'dave-web=WEB-?* db=db-*|backup-[0-9] everywhere=* web=web-*'
jq_eq "hosts comes after accounts" "$(jcj jitalice resource show db)" 'keys_unsorted[4]' hosts
expect_exit 0 -m "resource list (table)" -- as jitalice jitctl resource list
expect_contains "the table has a HOSTS column" "$OUT" "HOSTS"
expect_contains "the table shows db's patterns" "$OUT" "db-*, backup-[0-9]"
expect_exit 0 -m "resource show (fields)" -- as jitalice jitctl resource show db
expect_contains "show prints Hosts" "$OUT" "Hosts"
expect_contains "show prints the patterns" "$OUT" "db-*, backup-[0-9]"
expect_exit 0 -m "audit of resource_changed" -- as root jitctl --json audit --event resource_changed
jq_eq "the creation event names the hosts" "$OUT" \
    '[.[] | select(.object == "db")][0].change | test("hosts=db-\\*,backup-\\[0-9\\]")' true

expect_exit 0 -m "auto-approve policy" -- as root jitctl policy add auto --action auto-approve
for r in web db everywhere dave-web; do
    expect_exit 0 -m "assign auto to $r" -- as root jitctl policy assign auto "$r"
done
expect_exit 0 -m "activate auto" -- as root jitctl policy activate auto

# --- the login decision on db-01 --------------------------------------------------------------
note "logins on db-01"
expect_sudo "unmanaged: a resource only for web hosts leaves sudo to jitdave alone" \
    allowed jitdave jitmallory -u jitdave
expect_sudo "a resource for every host covers sudo to jitcarol" refused jitcarol jitmallory -u jitcarol

WEB_GRANT=$(new_grant jitalice web 1h) || die "no grant on web"
pass "jitalice holds grant $WEB_GRANT on web (web-*)"
expect_sudo "grant on web: sudo to root on db-01 is refused" refused root jitalice
expect_contains "the refusal names db-01's resource" "$ERR" 'requires a grant on resource "db"'
expect_not_contains "and never the web hosts' resource" "$ERR" '"web"'
expect_exit 0 -m "audit of login_denied" -- as root jitctl --json audit --event login_denied
jq_eq "login_denied names only db" "$OUT" \
    '[.[] | select(.user == "jitalice" and .target == "root")] | last | .resource' db

DB_GRANT=$(new_grant jitalice db 1h) || die "no grant on db"
pass "jitalice holds grant $DB_GRANT on db (db-*)"
expect_sudo "the same sudo under the grant on db is allowed" allowed root jitalice

# --- the snapshot fallback knows only this host's resources -----------------------------------
note "snapshot fallback on db-01"
expect_true "the snapshot has db" grep -q "^rule db " "$SNAPSHOT"
expect_true "the snapshot leaves web out" _not grep -q "^rule web " "$SNAPSHOT"
expect_exit 0 -m "jitalice gives up the db grant" -- as jitalice jitctl revoke "$DB_GRANT"
expect_eventually 5 "the snapshot no longer holds grant $DB_GRANT" \
    _not grep -q "^grant $DB_GRANT " "$SNAPSHOT"
jitd_kill
expect_sudo "jitd down, grant on web only: the snapshot refuses sudo to root" refused root jitalice
expect_sudo "jitd down: sudo to jitdave stays unmanaged" allowed jitdave jitmallory -u jitdave
jitd_restart

# --- sessions and their host ------------------------------------------------------------------
note "sessions carry the host"
DB_GRANT=$(new_grant jitalice db 1h) || die "no second grant on db"
spawn_sudo jitalice sleep 1000
SUDO_PID=$SPAWNED_PID
expect_eventually 10 "jitd registered the sudo session" session_open_for "$DB_GRANT" sudo
SESSION=$(jcj jitalice sessions | jq -c --argjson g "$DB_GRANT" '.[] | select(.grant_id == $g)')
jq_eq "the session's host" "$SESSION" .host db-01
jq_eq "host comes after logind_session" "$SESSION" 'keys_unsorted | index("host") - index("logind_session")' 1
SESSION_ID=$(jq -r .id <<<"$SESSION")
expect_exit 0 -m "sessions (table)" -- as jitalice jitctl sessions
expect_contains "the table shows the host" "$OUT" "db-01"
journal_opened() {
    journal_events | jq -r --arg g "$DB_GRANT" \
        'select(.JIT_EVENT == "session_opened" and .JIT_GRANT_ID == $g) | .JIT_HOST'
}
has_output() { [[ -n $("$@") ]]; }
expect_eventually 10 "session_opened reached the journal" has_output journal_opened
expect_eq "JIT_HOST of session_opened in the journal" "$(journal_opened)" db-01
expect_eq "every event in the journal names db-01" \
    "$(journal_events | jq -r '.JIT_HOST' | sort -u | xargs)" db-01

note "jitd restarted as db-02"
jitd_stop
sed -i 's/^host = db-01$/host = db-02/' "$T/jitd.conf"
grep -qx 'host = db-02' "$T/jitd.conf" || die "could not rename the host"
jitd_restart
expect_eq "jitalice's sessions on db-02: none of db-01's" \
    "$(jcj jitalice sessions | jq -c '[.[].id]')" '[]'
expect_eq "sessions --all: db-01's open session too" \
    "$(jcj jitalice sessions --all | jq -r --argjson s "$SESSION_ID" '.[] | select(.id == $s) | .host + " " + .state')" \
    "db-01 open"
expect_true "db-02 left db-01's sudo running" kill -0 "$SUDO_PID"
expect_exit 0 -m "a change made on db-02" -- as root jitctl resource add-member everywhere jitdave
changed_on_db02() {
    journal_events | jq -r 'select(.JIT_EVENT == "resource_changed" and .JIT_HOST == "db-02") | .JIT_SEQ'
}
expect_eventually 10 "the change reached the journal with JIT_HOST=db-02" has_output changed_on_db02

note "back as db-01: its session is its own again and ends with its grant"
jitd_stop
sed -i 's/^host = db-02$/host = db-01/' "$T/jitd.conf"
jitd_restart
expect_eq "jitalice's sessions on db-01" "$(jcj jitalice sessions | jq -c '[.[].id]')" "[$SESSION_ID]"
TREE=$(tree_of "$SUDO_PID" | xargs)
START_MS=$(now_ms)
expect_exit 0 -m "revoke the db grant" -- as jitalice jitctl revoke "$DB_GRANT"
# shellcheck disable=SC2086
expect_gone_by $((START_MS + 6000)) "the sudo session of the revoked grant" $TREE
jq_eq "the session is terminated" \
    "$(jcj jitalice sessions --all | jq -c --argjson s "$SESSION_ID" '.[] | select(.id == $s)')" \
    .state terminated

realpam_asan_reports
finish
