#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Crash torture (jitd(8), docs/durability.md): jitd is killed with SIGKILL at random moments
# while several clients make requests, approve them, take short grants and log in through
# pam_jit. Each client writes down what jitd acknowledged (exit 0, PAM_SUCCESS). After every
# restart, with the clients held still, the test checks
#   (a) every acknowledged request, approval, revocation, grant and session is stored, with its
#       audit events, each event once;
#   (b) `jitctl audit verify` passes;
#   (c) the journal holds every event of the chain once: no seq twice, none missing once jitd
#       has caught up;
#   (d) no grant outlived its expiry by more than 2 s of jitd's running time (below).
# The kill moments come from a seed printed at the start; JIT_CRASH_SEED=N replays them
# (the clients' timing is the machine's). JIT_CRASH_ROUNDS sets the number of crashes under load.
source "$(dirname "$0")/lib/harness.sh"

MODULE=$JIT_BUILD_DIR/pam_jit/pam_jit.so
DRIVER=$JIT_BUILD_DIR/pam_jit/pam_jit_driver
for f in "$MODULE" "$DRIVER"; do
    [[ -x $f ]] || die "missing $f (build pam_jit, pam_jit_driver)"
done
ROUNDS=${JIT_CRASH_ROUNDS:-3}
SEED=${JIT_CRASH_SEED:-$(($(od -An -N2 -tu2 /dev/urandom) % 32768))}
note "seed $SEED (replay the kill moments with JIT_CRASH_SEED=$SEED)"
RANDOM=$SEED
ACK=$T/acked
mkdir -p "$ACK"
for f in grants requests approved revoked opened closed lapsing; do : >"$ACK/$f"; done
now_ms() { date +%s%3N; }

jitd_start "kill_grace = 1s" "max_pending_per_user = 1000" "requests_per_hour = 100000"
for i in 0 1 2 3; do
    setup_resource "quick$i" "quick$i-auto" --action auto-approve --max-duration 2s
    setup_resource "gated$i" "gated$i-jit" --approver jitbob --max-duration 1h
done
setup_resource lapse lapse-auto --action auto-approve --max-duration 2s
setup_resource shell shell-auto --action auto-approve --max-duration 1h
SHELL_GRANT=$(new_grant jitcarol shell 1h) || die "no grant for the logins"
CHAIN=$(as root jitctl --json audit verify | jq -r '.chain')

# No snapshot for pam_jit: while jitd is down a login is denied, so every session that opened
# was registered by jitd (the fallback has tests of its own).
mkdir -p "$T/pam.d"
PAM_ARGS="timeout=5s snapshot=$T/no-fallback/snapshot"
cat >"$T/pam.d/sudo" <<EOF2
account [success=done ignore=ignore default=die] $MODULE $PAM_ARGS
account required pam_permit.so
session [success=done ignore=ignore default=die] $MODULE $PAM_ARGS
session required pam_permit.so
EOF2

# --- clients: each loops until $T/stop exists and appends what jitd acknowledged -------------
running() { [[ ! -e $T/stop ]]; }
# checkpoint NAME: while $T/pause exists (the test checks), the client waits here with
# $T/idle.NAME present; it removes that file when it goes on.
checkpoint() {
    while [[ -e $T/pause ]] && running; do
        touch "$T/idle.$1"
        sleep 0.05
    done
    rm -f "$T/idle.$1"
}
CLIENTS=(grants requests approvals logins) # their checkpoint names

# request_loop USER PREFIX DURATION ACK-FILE JQ: USER asks for PREFIX0..3 in turn until the test
# stops; each acknowledged request appends JQ of its answer to $ACK/ACK-FILE.
request_loop() {
    local user=$1 prefix=$2 duration=$3 ack=$4 fields=$5 i=0 out
    while running; do
        checkpoint "$ack"
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
        checkpoint approvals
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
        checkpoint logins
        out=$(bash -c 'echo "PID $$"; exec "$@"' drive "$DRIVER" run --confdir "$T/pam.d" \
            --service sudo --user jitcarol --ruser jitcarol --tty /dev/pts/7 \
            account user=root open close 2>&1)
        pid=$(awk '$1 == "PID" {print $2}' <<<"$out")
        grep -q '^open PAM_SUCCESS' <<<"$out" && echo "$pid" >>"$ACK/opened"
        grep -q 'closed jitd session' <<<"$out" && echo "$pid" >>"$ACK/closed"
    done
}

# pause_clients / resume_clients: hold every client at its checkpoint, and let them go on.
all_idle() {
    local c
    for c in "${CLIENTS[@]}"; do [[ -e $T/idle.$c ]] || return 1; done
}
none_idle() { ! compgen -G "$T/idle.*" >/dev/null; }
pause_clients() {
    touch "$T/pause"
    wait_until 60 all_idle || die "the clients did not reach their checkpoints within 60s"
}
resume_clients() {
    rm -f "$T/pause"
    wait_until 60 none_idle || die "the clients did not leave their checkpoints within 60s"
}

# --- the checks after a restart ---------------------------------------------------------------
AUDIT=$T/audit.json
# missing_or_twice EVENT FIELD FILE: the ids in FILE whose EVENT (FIELD = id) is not exactly once.
missing_or_twice() {
    jq -r --arg e "$1" --arg f "$2" --rawfile ids "$3" '
        [.[] | select(.event == $e) | .[$f] | tostring] as $seen
        | ($ids | split("\n") | map(select(. != ""))) as $want
        | [$want[] | . as $id | select(($seen | map(select(. == $id)) | length) != 1)]
        | join(" ")' "$AUDIT"
}
# not_in JSONFILE FILTER IDSFILE: the ids in IDSFILE not among FILTER's ids.
not_in() {
    jq -r --rawfile ids "$3" "[$2 | tostring] as \$have
        | \$ids | split(\"\n\") | map(select(. != \"\" and (. as \$i | \$have | index(\$i) | not)))
        | join(\" \")" "$1"
}
# journal_missing LO HI: the seqs LO..HI of the chain that $T/journal.json lacks.
journal_missing() {
    jq -n -r --arg c "$CHAIN" --argjson lo "$1" --argjson hi "$2" '
        (reduce (inputs | select(.JIT_CHAIN == $c) | .JIT_SEQ) as $s ({}; .[$s] = true)) as $have
        | [range($lo; $hi + 1) | tostring | select($have[.] | not)] | join(" ")' "$T/journal.json"
}
journal_caught_up() {
    journal_events >"$T/journal.json"
    [[ -z $(journal_missing "$@") ]]
}

# (d) measures, for each grant with an expiry that passed, jitd's running time between the
# expiry and the moment the grant ended: the time the journal received its `expired` event
# (the grant's end is committed before that event is sent, so this is an upper bound), or for a
# grant still listed active, the moment before the listing; the `expired` event's audit time
# (whole seconds) plus 1 s is an upper bound too, and the smaller of the two counts. "Running
# time" leaves out each downtime in $T/down, from just before the SIGKILL until the next jitd
# owns io.jitd.Jit1 again (its start-up, during which it ends the grants that lapsed while it
# was down, is part of the downtime): nothing can end a grant while jitd is dead, so a grant
# that lapsed then is held to 2 s after the restart, measured from max(expiry, restart).
OVERRUN='def uptime($a; $b): ($b - $a)
    - ([$down[] | ([$b, .[1]] | min) - ([$a, .[0]] | max) | select(. > 0)] | add // 0);
    ($now / 1000) as $now |
    ($grants | map({key: (.id | tostring), value: .expiry}) | from_entries) as $expiry
    | ($audit | map(select(.event == "expired")
        | {key: (.grant_id | tostring), value: ((.time | fromdateiso8601) + 1)}) | from_entries) as $by
    | ([inputs | select(.JIT_CHAIN == $c and .JIT_EVENT == "expired")] | group_by(.JIT_GRANT_ID)
        | map(.[0] | {id: .JIT_GRANT_ID, e: ($expiry[.JIT_GRANT_ID] | fromdateiso8601),
                     at: ([(.__REALTIME_TIMESTAMP | tonumber) / 1e6, $by[.JIT_GRANT_ID] // infinite] | min)}
              | .u = uptime(.e; .at))) as $ended
    | ($grants | map(select(.state == "active" and .expiry != null)
        | {id, e: (.expiry | fromdateiso8601)} | select(.e < $now)
        | .u = uptime(.e; $now))) as $active'
# overrun_report: one line per grant over the bound. overrun_stats: "ENDED DOWNTIMES WORST":
# the grants that expired, the downtimes that held the expiry of one of them, the longest
# running time measured.
overrun_report() {
    jq -n -r --slurpfile down "$T/down.json" --slurpfile grants "$T/grants.json" --slurpfile audit "$AUDIT" --arg c "$CHAIN" \
        --argjson now "$1" "\$down[0] as \$down | \$grants[0] as \$grants | \$audit[0] as \$audit | $OVERRUN
        | (\$ended | map(select(.u > 2) | \"grant \\(.id) ended after \\(.u) s of jitd running time past its expiry\")),
          (\$active | map(select(.u > 2) | \"grant \\(.id) still active \\(.u) s of jitd running time past its expiry\"))
        | .[]" "$T/journal.json"
}
overrun_stats() {
    jq -n -r --slurpfile down "$T/down.json" --slurpfile grants "$T/grants.json" --slurpfile audit "$AUDIT" --arg c "$CHAIN" \
        --argjson now "$1" "\$down[0] as \$down | \$grants[0] as \$grants | \$audit[0] as \$audit | $OVERRUN
        | \"\\(\$ended | length) \\([\$down[] | . as \$d | select(any(\$ended[]; \$d[0] <= .e and .e <= \$d[1]))] | length) \\([\$ended[].u, \$active[].u, 0] | max)\"" \
        "$T/journal.json"
}

# check_state LABEL: (a)-(d) for everything acknowledged so far; the clients are held still.
check_state() {
    local label=$1 snap=$T/snap t0 lo hi
    rm -rf "$snap"
    cp -r "$ACK" "$snap"
    t0=$(now_ms)
    # The records before the audit log: a grant that jitd ends in between has its event there.
    as root jitctl --json grants --all >"$T/grants.json" || die "cannot list grants"
    as root jitctl --json requests --all >"$T/requests.json" || die "cannot list requests"
    audit_json >"$AUDIT" || die "cannot read the audit log"
    note "$label: acknowledged $(wc -l <"$snap/grants") grants, $(wc -l <"$snap/requests") requests," \
        "$(wc -l <"$snap/approved") approvals, $(wc -l <"$snap/revoked") revocations," \
        "$(wc -l <"$snap/opened") sessions opened, $(wc -l <"$snap/closed") closed"

    # (a) Each acknowledged change has its audit events, once, and its record.
    cut -d' ' -f1 "$snap/grants" >"$T/grant-ids"
    cut -d' ' -f2 "$snap/grants" >"$T/grant-requests"
    jq -r '.[] | select(.state == "expired") | .id' "$T/grants.json" >"$T/expired-ids"
    expect_eq "$label: acknowledged grants each granted once" "$(missing_or_twice granted grant_id "$T/grant-ids")" ""
    expect_eq "$label: their requests each requested once" "$(missing_or_twice requested request_id "$T/grant-requests")" ""
    expect_eq "$label: acknowledged requests each requested once" "$(missing_or_twice requested request_id "$snap/requests")" ""
    expect_eq "$label: acknowledged approvals each approved once" "$(missing_or_twice approved request_id "$snap/approved")" ""
    expect_eq "$label: approved requests each granted once" "$(missing_or_twice granted request_id "$snap/approved")" ""
    expect_eq "$label: acknowledged revocations each revoked once" "$(missing_or_twice revoked grant_id "$snap/revoked")" ""
    expect_eq "$label: acknowledged logins each session_opened once" "$(missing_or_twice session_opened session_pid "$snap/opened")" ""
    expect_eq "$label: acknowledged logouts each session_closed once" "$(missing_or_twice session_closed session_pid "$snap/closed")" ""
    expect_eq "$label: grants that lapsed while jitd was down each granted once" "$(missing_or_twice granted grant_id "$snap/lapsing")" ""
    expect_eq "$label: expired grants each expired once" "$(missing_or_twice expired grant_id "$T/expired-ids")" ""
    expect_eq "$label: acknowledged requests are stored" "$(not_in "$T/requests.json" '.[].id' "$snap/requests")" ""
    expect_eq "$label: approved requests are stored approved" \
        "$(not_in "$T/requests.json" '.[] | select(.state == "approved") | .id' "$snap/approved")" ""
    expect_eq "$label: acknowledged grants are stored" "$(not_in "$T/grants.json" '.[].id' "$T/grant-ids")" ""
    expect_eq "$label: revoked grants are stored revoked" \
        "$(not_in "$T/grants.json" '.[] | select(.state == "revoked") | .id' "$snap/revoked")" ""
    expect_eq "$label: grants that lapsed while jitd was down are stored expired" \
        "$(not_in "$T/grants.json" '.[] | select(.state == "expired") | .id' "$snap/lapsing")" ""
    jq_eq "$label: the login grant is still active" "$(cat "$T/grants.json")" \
        ".[] | select(.id == $SHELL_GRANT) | .state" active

    # (b) The hash chain, and the journal's copy of it, verify.
    expect_exit 0 -m "$label: audit verify passes" -- as root jitctl audit verify

    # (c) The journal holds each event of the chain once: every seq up to the head read above
    # arrives (jitd sends what the journal lacks after a restart), and none twice.
    lo=$(jq '[.[].seq] | min' "$AUDIT")
    hi=$(jq '[.[].seq] | max' "$AUDIT")
    wait_until 20 journal_caught_up "$lo" "$hi"
    expect_eq "$label: the journal holds events $lo..$hi" "$(journal_missing "$lo" "$hi")" ""
    expect_eq "$label: no event twice in the journal" "$(jq -n -r --arg c "$CHAIN" '[inputs
        | select(.JIT_CHAIN == $c) | .JIT_SEQ] | group_by(.) | map(select(length > 1)[0]) | join(" ")' \
        "$T/journal.json")" ""

    # (d) No grant outlived its expiry by more than 2 s of jitd's running time.
    jq -R 'split(" ") | map(tonumber / 1000)' "$T/down" | jq -s . >"$T/down.json"
    expect_eq "$label: no grant outlived its expiry by more than 2 s" "$(overrun_report "$t0" | xargs)" ""
    read -r ended in_down worst <<<"$(overrun_stats "$t0")"
    note "$label: $ended grants expired; longest overrun ${worst}s"
    expect_eq "$label: a grant lapsed during each downtime" "$in_down" "$(wc -l <"$T/down")"
}

# --- the crashes ------------------------------------------------------------------------------
# crash: jitmallory takes a 2-second grant and jitd is killed at once, normally before it lapses
# (check_state asserts that every downtime held some grant's expiry); jitd stays down until that
# expiry has passed, then starts again. $T/down gets "KILL-MS BACK-MS" (BACK: jitd owns
# io.jitd.Jit1 again).
: >"$T/down"
crash() {
    local out expiry_bound killed launched
    out=$(as jitmallory jitctl --json request lapse --reason crash --duration 2s) || die "no lapsing grant"
    jq -r '.grant_id' <<<"$out" >>"$ACK/lapsing"
    killed=$(now_ms)
    jitd_kill
    # The grant started before now (whole seconds), so it expires at or before this second + 2.
    expiry_bound=$((($(date +%s) + 2) * 1000 + 100))
    wait_until 5 _past "$expiry_bound" || die "the clock did not pass $expiry_bound"
    launched=$(now_ms)
    jitd_restart
    echo "$killed $(now_ms)" >>"$T/down"
    note "jitd killed, down $((launched - killed)) ms, started again in $(($(now_ms) - launched)) ms"
}
_past() { (($(now_ms) > $1)); }

for client in quick_grants gated_requests approvals logins; do
    "$client" &
    track_pid $!
done
for ((round = 1; round <= ROUNDS; round++)); do
    # A random moment, 0.3 to 2 s into the clients' work: not a synchronisation.
    sleep "$((RANDOM % 2)).$((RANDOM % 7 + 3))$((RANDOM % 10))"
    crash
    pause_clients
    note "clients paused"
    check_state "crash $round"
    resume_clients
done
touch "$T/stop"
for pid in "${HARNESS_PIDS[@]}"; do { wait "$pid"; } 2>/dev/null; done
HARNESS_PIDS=()
# One more kill at rest, so the last acknowledged changes also cross a crash.
crash
check_state "crash at rest"
(($(wc -l <"$ACK/grants") > 0 && $(wc -l <"$ACK/approved") > 0 && $(wc -l <"$ACK/opened") > 0)) ||
    fail "every client got something acknowledged"

finish
