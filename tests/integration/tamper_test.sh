#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tamper evidence against the journal: every journal event carries JIT_HASH, JIT_CHAIN and
# JIT_HOST, and `jitctl audit verify` compares the database with the journal. An edited row, a
# truncated tail, a chain rewritten from scratch, a database replaced by an older copy of itself
# (and then written on) each fail verification naming the first bad seq, while the untouched
# database passes. After a rollback jitd logs it at start and sends no event twice.
source "$(dirname "$0")/lib/harness.sh"

DB=$T/jit.db
jitd_start

head_seq() { audit_json | jq '[.[].seq] | max // 0'; }
chain_events() { journal_events | jq -c --arg c "$CHAIN" 'select(.JIT_CHAIN == $c)'; }
journal_has_seq() { [[ $(chain_events | jq -s "[.[] | select((.JIT_SEQ | tonumber) == $1)] | length") -ge 1 ]]; }
# The database as a file of its own (WAL included), safe while jitd runs.
backup() { sqlite3 "$DB" ".backup '$1'" || die "cannot back up $DB to $1"; }
# With jitd stopped: puts COPY in place of the database.
restore() {
    rm -f "$DB" "$DB-wal" "$DB-shm"
    cp "$1" "$DB" || die "cannot restore $1"
}
# verify_fails_at SEQ DESCRIPTION: jitctl audit verify exits 1 naming SEQ, also in --json.
verify_fails_at() {
    expect_exit 1 -m "audit verify fails: $2" -- as jitaudit jitctl audit verify
    expect_contains "verify names seq $1 ($2)" "$ERR" "at seq $1:"
    expect_exit 1 -m "audit verify --json: $2" -- as root jitctl --json audit verify
    jq_eq "json verify: first_bad_seq ($2)" "$OUT" .first_bad_seq "$1"
    jq_eq "json verify: ok false ($2)" "$OUT" .ok false
}
verify_passes() {
    expect_exit 0 -m "audit verify passes: $1" -- as jitaudit jitctl audit verify
    expect_exit 0 -m "audit verify --json: $1" -- as root jitctl --json audit verify
    jq_eq "json verify: ok ($1)" "$OUT" .ok true
    jq_eq "json verify: the journal was compared ($1)" "$OUT" .journal_compared true
}

# --- a history, a backup in the middle of it ------------------------------------------------
note "a few changes, a backup, more changes"
setup_resource box box-policy --approver jitbob --max-duration 1h
setup_resource tools tools-auto --action auto-approve --max-duration 1h
R1=$(new_request jitalice box 30min "before the backup") || die "request"
as jitbob jitctl approve "$R1" >/dev/null || die "approve $R1"
CHAIN=$(sqlite3 "$DB" "SELECT value FROM meta WHERE name = 'audit_chain'")
[[ $CHAIN =~ ^[0-9a-f]{32}$ ]] || die "no chain identity in $DB: '$CHAIN'"
OLD_HEAD=$(head_seq)
expect_eventually 20 "event $OLD_HEAD reached the journal" journal_has_seq "$OLD_HEAD"
backup "$T/older.db"

R2=$(new_request jitcarol box 30min "after the backup") || die "request"
as jitbob jitctl approve "$R2" >/dev/null || die "approve $R2"
G=$(new_grant jitdave tools 30min) || die "grant"
[[ $G =~ ^[0-9]+$ ]] || die "no grant id: '$G'"
HEAD=$(head_seq)
((HEAD > OLD_HEAD + 2)) || die "expected more events after the backup ($OLD_HEAD, $HEAD)"
expect_eventually 20 "event $HEAD reached the journal" journal_has_seq "$HEAD"

EVENTS=$(chain_events | jq -s .)
jq_eq "every event carries JIT_HASH, JIT_CHAIN and JIT_HOST" "$EVENTS" \
    'all(.[]; (.JIT_HASH | test("^[0-9a-f]{64}$")) and .JIT_CHAIN != null and .JIT_HOST != null)' true
jq_eq "JIT_HOST is the host's name" "$EVENTS" '[.[].JIT_HOST] | unique | join(",")' "$(hostname)"
jq_eq "JIT_HASH is the row's hash" "$EVENTS" \
    ".[] | select(.JIT_SEQ == \"$HEAD\") | .JIT_HASH" "$(sqlite3 "$DB" "SELECT hash FROM audit_events WHERE seq = $HEAD")"
jq_eq "audit json shows the host" "$(audit_json)" '[.[].host] | unique | join(",")' "$(hostname)"

note "the untouched database"
verify_passes "untouched"
jq_eq "json verify: the chain" "$OUT" .chain "$CHAIN"
jq_eq "json verify: every row found in the journal" "$OUT" .rows_in_journal "$HEAD"
jq_eq "json verify: no other chains yet" "$OUT" .other_chain_events 0
jitd_stop
backup "$T/pristine.db"

# --- an edited row -----------------------------------------------------------------------------
note "an edited row"
sqlite3 "$DB" "UPDATE audit_fields SET value = 'jitmallory' WHERE seq = 3 AND name = 'JIT_ACTOR'"
jitd_restart
verify_fails_at 3 "row 3 edited"
jitd_stop
restore "$T/pristine.db"

# --- a truncated tail, the chain head moved back with it --------------------------------------
note "a truncated tail"
KEEP=$((HEAD - 2))
sqlite3 "$DB" "DELETE FROM audit_fields WHERE seq > $KEEP; DELETE FROM audit_events WHERE seq > $KEEP;
    UPDATE meta SET value = '$KEEP' WHERE name = 'audit_head_seq';
    UPDATE meta SET value = (SELECT hash FROM audit_events WHERE seq = $KEEP) WHERE name = 'audit_head_hash';" ||
    die "cannot truncate"
jitd_restart
expect_exit 0 -m "the truncated chain is consistent in itself" -- \
    sqlite3 "$DB" "SELECT 1 FROM audit_events WHERE seq = $KEEP"
verify_fails_at $((KEEP + 1)) "tail after $KEEP deleted"
expect_contains "jitd said at start that the journal holds more" "$(<"$T/jitd.log")" \
    "up to seq $HEAD, but the database ends at seq $KEEP"
jitd_stop
restore "$T/pristine.db"

# --- a chain rewritten from scratch -------------------------------------------------------------
# A database of other events, consistently hashed, given this chain's identity.
note "a chain rewritten from scratch"
rm -f "$DB" "$DB-wal" "$DB-shm"
jitd_restart
for name in forged-one forged-two forged-three; do
    as root jitctl resource add "$name" --account root >/dev/null || die "resource add $name"
done
FORGED_HEAD=$(head_seq)
jitd_stop
sqlite3 "$DB" "UPDATE meta SET value = '$CHAIN' WHERE name = 'audit_chain'" || die "cannot set chain"
jitd_restart
verify_fails_at 1 "chain rewritten"
jitd_stop
restore "$T/pristine.db"

note "the untouched database again"
jitd_restart
verify_passes "pristine after the forgeries"
jq_eq "json verify: the forged database's own events count as another chain" "$OUT" \
    .other_chain_events "$FORGED_HEAD"
expect_exit 0 -m "human verify output" -- as jitaudit jitctl audit verify
expect_contains "verify says how many events of other chains it saw" "$OUT" "$FORGED_HEAD of other chains"
jitd_stop

# --- an older copy of the database restored ----------------------------------------------------
# Its journal progress is set back too (as after a crash): whatever the journal already holds
# must not be sent again.
note "the database replaced by its older copy"
restore "$T/older.db"
sqlite3 "$DB" "UPDATE meta SET value = '0' WHERE name = 'journal_sent_seq'" || die "cannot reset progress"
jitd_restart
verify_fails_at $((OLD_HEAD + 1)) "older copy restored"
expect_contains "jitd said at start that the database was rolled back" "$(<"$T/jitd.log")" \
    "up to seq $HEAD, but the database ends at seq $OLD_HEAD"
jq_eq "no event of the chain was sent twice" "$(chain_events | jq -s .)" \
    '[group_by(.JIT_SEQ)[] | [.[].JIT_HASH] | length] | max' 1
expect_contains "jitd skipped what the journal holds" "$(<"$T/jitd.log")" \
    "$OLD_HEAD audit event(s) after seq 0 are in the journal already; not sent again"

note "the rolled-back database written on"
as jitadmin jitctl resource add after-rollback --account root >/dev/null || fail "resource add after the rollback"
expect_eventually 20 "the new event reached the journal" journal_has_seq $((OLD_HEAD + 1))
verify_fails_at $((OLD_HEAD + 1)) "rolled back and written on"
expect_contains "verify says the chain forked" "$ERR" "also holds a different event"

finish
