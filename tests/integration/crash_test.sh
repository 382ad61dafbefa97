#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Crash torture (jitd(8), docs/durability.md): jitd is killed with SIGKILL at random moments
# while several clients make requests, approve them, take short grants and log in through
# pam_jit. Each client writes down what jitd acknowledged (exit 0). After the last restart:
# every acknowledged request, approval, grant and session is in the database with its audit
# events, each event once; `jitctl audit verify` passes; the journal holds each event of the
# chain once; no grant outlived its expiry by more than 2 s beyond the time jitd was down.
source "$(dirname "$0")/lib/harness.sh"

MODULE=$JIT_BUILD_DIR/pam_jit/pam_jit.so
DRIVER=$JIT_BUILD_DIR/pam_jit/pam_jit_driver
for f in "$MODULE" "$DRIVER"; do
    [[ -x $f ]] || die "missing $f (build pam_jit, pam_jit_driver)"
done
ROUNDS=${JIT_CRASH_ROUNDS:-4}
ACK=$T/acked
mkdir -p "$ACK"

jitd_start "kill_grace = 1s" "max_pending_per_user = 1000" "requests_per_hour = 100000"
for i in 0 1 2 3; do
    setup_resource "quick$i" "quick$i-auto" --action auto-approve --max-duration 2s
    setup_resource "gated$i" "gated$i-jit" --approver jitbob --max-duration 1h
done
setup_resource shell shell-auto --action auto-approve --max-duration 1h
SHELL_GRANT=$(new_grant jitcarol shell 1h) || die "no grant for the logins"

# No snapshot for pam_jit: while jitd is down a login is denied, so every session that opened
# was registered by jitd (the fallback has tests of its own).
mkdir -p "$T/pam.d"
PAM_ARGS="timeout=5s snapshot=$T/no-fallback/snapshot"
cat >"$T/pam.d/sudo" <<EOF
account [success=done ignore=ignore default=die] $MODULE $PAM_ARGS
account required pam_permit.so
session [success=done ignore=ignore default=die] $MODULE $PAM_ARGS
session required pam_permit.so
EOF

# --- clients: each loops until $T/stop exists and appends what jitd acknowledged -------------
running() { [[ ! -e $T/stop ]]; }

# request_loop USER PREFIX DURATION ACK-FILE JQ: USER asks for PREFIX0..3 in turn until the test
# stops; each acknowledged request appends JQ of its answer to $ACK/ACK-FILE.
request_loop() {
    local user=$1 prefix=$2 duration=$3 ack=$4 fields=$5 i=0 out
    while running; do
        if out=$(as "$user" jitctl --json request "$prefix$((i % 4))" --reason crash --duration "$duration" 2>/dev/null); then
            jq -r "$fields" <<<"$out" >>"$ACK/$ack"
        fi
        i=$((i + 1))
    done
}
# jitalice takes 2-second grants on quick0..3 (auto-approved): "GRANT REQUEST" per success.
quick_grants() { request_loop jitalice quick 2s grants '"\(.grant_id) \(.id)"'; }
# jitdave asks for gated0..3 (pending until approved): "REQUEST" per success.
gated_requests() { request_loop jitdave gated 10min requests '.id'; }

# jitbob approves what waits for him: "REQUEST" per approval; once approved, jitdave's grant is
# revoked by jitdave (so the resource can be asked for again): "GRANT" per revocation.
approvals() {
    local id out grant
    while running; do
        for id in $(as jitbob jitctl --json approvals 2>/dev/null | jq -r '.[].id'); do
            out=$(as jitbob jitctl --json approve "$id" 2>/dev/null) || continue
            echo "$id" >>"$ACK/approved"
            grant=$(jq -r '.grant_id' <<<"$out")
            if as jitdave jitctl revoke "$grant" --reason done >/dev/null 2>&1; then
                echo "$grant" >>"$ACK/revoked"
            fi
        done
    done
}

# jitcarol logs in with sudo through pam_jit under her grant: "PID" per session jitd registered
# (the session step succeeded) and per session jitd closed (pam_jit logs it).
logins() {
    local out pid
    while running; do
        out=$(bash -c 'echo "PID $$"; exec "$@"' drive "$DRIVER" run --confdir "$T/pam.d" \
            --service sudo --user jitcarol --ruser jitcarol --tty /dev/pts/7 \
            account user=root open close 2>&1)
        pid=$(awk '$1 == "PID" {print $2}' <<<"$out")
        grep -q '^open PAM_SUCCESS' <<<"$out" && echo "$pid" >>"$ACK/opened"
        grep -q 'closed jitd session' <<<"$out" && echo "$pid" >>"$ACK/closed"
    done
}

for client in quick_grants gated_requests approvals logins; do
    "$client" &
    track_pid $!
done

# --- the crashes ------------------------------------------------------------------------------
: >"$T/down"
for ((round = 1; round <= ROUNDS; round++)); do
    # A random moment, 0.3 to 2 s into the clients' work: not a synchronisation.
    sleep "$(printf '0.%03d' $((RANDOM % 1000)))"
    sleep "$((RANDOM % 2)).$((RANDOM % 7 + 3))"
    down_at=$(date +%s)
    jitd_kill
    jitd_restart
    echo "$down_at $(date +%s)" >>"$T/down"
done
touch "$T/stop"
for pid in "${HARNESS_PIDS[@]}"; do { wait "$pid"; } 2>/dev/null; done
HARNESS_PIDS=()
# One more kill at rest, so the last acknowledged changes also cross a crash.
down_at=$(date +%s)
jitd_kill
jitd_restart
echo "$down_at $(date +%s)" >>"$T/down"

for f in grants requests approved revoked opened closed; do touch "$ACK/$f"; done
note "acknowledged: $(wc -l <"$ACK/grants") grants, $(wc -l <"$ACK/requests") requests," \
    "$(wc -l <"$ACK/approved") approvals, $(wc -l <"$ACK/revoked") revocations," \
    "$(wc -l <"$ACK/opened") sessions opened, $(wc -l <"$ACK/closed") closed, $ROUNDS crashes"
(($(wc -l <"$ACK/grants") > 0 && $(wc -l <"$ACK/approved") > 0 && $(wc -l <"$ACK/opened") > 0)) ||
    fail "every client got something acknowledged"

# --- after the last restart -------------------------------------------------------------------
AUDIT=$T/audit.json
audit_json >"$AUDIT" || die "cannot read the audit log"
as root jitctl --json requests --all >"$T/requests.json" || die "cannot list requests"
as root jitctl --json grants --all >"$T/grants.json" || die "cannot list grants"

# missing_or_twice EVENT FIELD FILE: the ids in FILE whose EVENT (FIELD = id) is not exactly once.
missing_or_twice() {
    jq -r --arg e "$1" --arg f "$2" --rawfile ids "$3" '
        [.[] | select(.event == $e) | .[$f] | tostring] as $seen
        | ($ids | split("\n") | map(select(. != ""))) as $want
        | [$want[] | . as $id | select(($seen | map(select(. == $id)) | length) != 1)]
        | join(" ")' "$AUDIT"
}
cut -d' ' -f1 "$ACK/grants" >"$T/grant-ids"
cut -d' ' -f2 "$ACK/grants" >"$T/grant-requests"
expect_eq "acknowledged grants each granted once" "$(missing_or_twice granted grant_id "$T/grant-ids")" ""
expect_eq "their requests each requested once" "$(missing_or_twice requested request_id "$T/grant-requests")" ""
expect_eq "acknowledged requests each requested once" "$(missing_or_twice requested request_id "$ACK/requests")" ""
expect_eq "acknowledged approvals each approved once" "$(missing_or_twice approved request_id "$ACK/approved")" ""
expect_eq "approved requests each granted once" "$(missing_or_twice granted request_id "$ACK/approved")" ""
expect_eq "acknowledged revocations each revoked once" "$(missing_or_twice revoked grant_id "$ACK/revoked")" ""
expect_eq "acknowledged logins each session_opened once" "$(missing_or_twice session_opened session_pid "$ACK/opened")" ""
expect_eq "acknowledged logouts each session_closed once" "$(missing_or_twice session_closed session_pid "$ACK/closed")" ""

# The records themselves, in their acknowledged state or later.
not_in() { # JSONFILE FILTER IDSFILE: the ids not matched by FILTER's ids
    jq -r --rawfile ids "$3" "[$2 | tostring] as \$have
        | \$ids | split(\"\n\") | map(select(. != \"\" and (. as \$i | \$have | index(\$i) | not)))
        | join(\" \")" "$1"
}
expect_eq "acknowledged requests are stored" "$(not_in "$T/requests.json" '.[].id' "$ACK/requests")" ""
expect_eq "approved requests are stored approved" \
    "$(not_in "$T/requests.json" '.[] | select(.state == "approved") | .id' "$ACK/approved")" ""
expect_eq "acknowledged grants are stored" "$(not_in "$T/grants.json" '.[].id' "$T/grant-ids")" ""
expect_eq "revoked grants are stored revoked" \
    "$(not_in "$T/grants.json" '.[] | select(.state == "revoked") | .id' "$ACK/revoked")" ""
jq_eq "the login grant is still active" "$(cat "$T/grants.json")" \
    ".[] | select(.id == $SHELL_GRANT) | .state" active

expect_exit 0 -m "audit verify passes after $((ROUNDS + 1)) crashes" -- as root jitctl audit verify

CHAIN=$(as root jitctl --json audit verify | jq -r '.chain')
HEAD=$(jq '[.[].seq] | max' "$AUDIT")
journal_seqs() { journal_events | jq -r --arg c "$CHAIN" 'select(.JIT_CHAIN == $c) | .JIT_SEQ'; }
journal_complete() { (($(journal_seqs | sort -un | wc -l) >= HEAD)); }
expect_eventually 10 "the journal holds all $HEAD events" journal_complete
expect_eq "no event twice in the journal" "$(journal_seqs | sort -n | uniq -d | xargs)" ""

# Expiry: each expired event within 2 s of the grant's expiry, plus the time jitd was down.
jq -R 'split(" ") | map(tonumber)' "$T/down" | jq -s . >"$T/down.json"
late=$(jq -r --slurpfile down "$T/down.json" '
    .[] | select(.event == "expired")
    | (.expiry | fromdateiso8601) as $exp | (.time | fromdateiso8601) as $at
    | select($at - $exp > 2)
    | select([$down[0][] | select(.[0] <= $exp + 2 and $at <= .[1] + 2)] | length == 0)
    | "grant \(.grant_id) ended \($at - $exp)s after its expiry"' "$AUDIT" | xargs)
expect_eq "no grant outlived its expiry by more than 2 s (beyond jitd's downtime)" "$late" ""
now=$(date +%s)
overdue=$(jq -r --argjson now "$now" '.[] | select(.state == "active" and .expiry != null)
    | select((.expiry | fromdateiso8601) < $now - 2) | .id' "$T/grants.json" | xargs)
expect_eq "no active grant is more than 2 s past its expiry" "$overdue" ""

finish
