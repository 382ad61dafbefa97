#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Bad inputs through jitctl and raw D-Bus calls: each gets the right exit code (docs/jitctl.md: 64
# usage, 65 invalid input, 1 failed/not found, 77 not permitted), one clear line on stderr, and
# changes nothing (jitd's whole database is compared before and after every call).
source "$(dirname "$0")/lib/harness.sh"

jitd_start

# Something to aim at: a resource with an active require-approval policy, a pending request of
# alice and an active grant of dave (auto-approve).
setup_resource prod-db prod-db-jit --approver jitbob --max-duration 4h
setup_resource tools tools-auto --action auto-approve --max-duration 1h
PENDING=$(new_request jitalice prod-db 1h "baseline request")
[[ $PENDING =~ ^[0-9]+$ ]] || die "setup: pending request: $PENDING"
GRANT=$(new_grant jitdave tools 30min)
[[ $GRANT =~ ^[0-9]+$ ]] || die "setup: grant: $GRANT"

# Everything jitd keeps (resources, policies, members, requests, grants, sessions, the audit
# log and its chain) is in its database: one dump of it stands for the state.
state_digest() {
    sqlite3 -readonly "$T/jit.db" .dump 2>&1 | sha256sum
}
BASELINE=$(state_digest)
CASES=0

# bad CODE USER ARGS...: jitctl ARGS as USER exits CODE with one stderr line, nothing changes.
bad() {
    local code=$1 user=$2
    shift 2
    CASES=$((CASES + 1))
    expect_exit "$code" -m "[$CASES] $user: jitctl $(printf '%q ' "$@")" -- as "$user" jitctl "$@"
    local now
    now=$(state_digest)
    if [[ $now != "$BASELINE" ]]; then
        fail "[$CASES] state changed after: jitctl $*"
        BASELINE=$now
    fi
}

LONG_NAME=$(printf 'a%.0s' {1..65})
LONG_REASON=$(printf 'r%.0s' {1..1025})
LONG_DESC=$(printf 'd%.0s' {1..257})
LONG_COMMENT=$(printf 'c%.0s' {1..1025})

note "durations"
for d in 0 0s -5m 5 5x "" "1h junk" 99999999999d h "1h -5m" "5 parsecs" "1e3s"; do
    bad 65 jitalice request tools --reason "valid reason" --duration="$d"
done
bad 65 root policy add p-bad --max-duration 0 --approver jitbob
bad 65 root policy add p-bad --max-duration 31d --approver jitbob           # above max_duration_limit (30d)
bad 65 root policy add p-bad --max-duration 500ms --approver jitbob         # unknown unit
bad 65 root policy add p-bad --request-ttl=-1h --approver jitbob
bad 65 root policy add p-bad --request-ttl soon --approver jitbob
bad 65 jitalice request wait-none --reason "x" --duration 1h --wait=forever

note "names"
for n in Prod-DB .hidden -dash "a/b" "a b" "$LONG_NAME" "" "prod;rm" "ünïcode" "_under"; do
    # A list option right before "--" keeps CLI11 from seeing NAME: a plain one goes last.
    bad 65 root resource add --account '*' --description "bad name" -- "$n"
done
bad 65 root policy add "Bad.Policy" --approver jitbob
bad 65 root resource add okname --service "ss hd" --account '*'
bad 65 root resource add okname --service "" --account '*'
bad 65 root resource add okname --account "Root!"
bad 65 root resource add okname --member "@" --account '*'
bad 65 root resource add okname --member "@@admins" --account '*'
bad 65 root resource add okname --member "Alice" --account '*'
bad 65 root resource add okname --description "$LONG_DESC" --account '*'
bad 65 root resource add okname --description $'two\nlines' --account '*'
bad 65 root resource add-member prod-db "bad user"
bad 65 root policy add p-bad --approver "Bob" --approver jitbob
bad 65 root policy add p-bad --approver "@" --approver jitbob

note "unknown objects"
bad 1 jitalice request nosuch --reason "x" --duration 1h
bad 1 jitalice resource show nosuch
bad 1 jitalice policy show nosuch
bad 1 root resource remove nosuch
bad 1 root policy remove nosuch
bad 1 root policy assign nosuch prod-db
bad 1 root policy assign prod-db-jit nosuch
bad 1 root policy activate nosuch
bad 1 root resource add-member nosuch jitalice
bad 1 jitbob approve 999999
bad 1 jitbob deny 999999
bad 1 jitalice cancel 999999
bad 1 jitdave revoke 999999
bad 1 root resource add prod-db --account "*"              # exists
bad 1 root policy add prod-db-jit --approver jitbob    # exists

note "reasons and comments"
bad 65 jitalice request tools --reason "" --duration 1h
bad 65 jitalice request tools --reason "$LONG_REASON" --duration 1h
bad 65 jitalice request tools --reason $'line one\nline two' --duration 1h
bad 65 jitalice request tools --reason $'bell\x07' --duration 1h
bad 65 jitalice request tools --reason $'tab\there' --duration 1h
bad 65 jitalice request tools --reason $'bidi \u202e override' --duration 1h
bad 65 jitalice request tools --reason $'bad utf8 \xff\xfe' --duration 1h
bad 65 jitbob approve "$PENDING" --comment "$LONG_COMMENT"
bad 65 jitbob deny "$PENDING" --comment $'x\ny'
bad 65 jitdave revoke "$GRANT" --reason $'gone\r'

note "policy options"
# Values CLI11 itself may reject while parsing count as usage (64) or invalid input (65).
bad "64|65" root policy add p-bad --action sometimes --approver jitbob
bad 65 root policy add p-bad --approvals 0 --approver jitbob
bad "64|65" root policy add p-bad --approvals=-1 --approver jitbob
bad "64|65" root policy add p-bad --approvals many --approver jitbob
bad "64|65" root policy add p-bad --preset nosuch --approver jitbob

note "ids, states, timestamps, formats"
for id in abc -3 1.5 "" 99999999999999999999; do
    bad "64|65" jitbob approve -- "$id"
done
bad "65|1" jitbob approve 0                                # ids start at 1
bad "64|65" jitalice cancel x1
bad "64|65" jitdave revoke -- -1
bad "64|65" jitalice requests --state bogus
bad "64|65" jitalice requests --all --state PENDING
for ts in yesterday 2026-13-01 "12:00" "2026-02-30T00:00:00Z" "@abc"; do
    bad 65 root audit --since "$ts"
done
bad 65 root audit --until "not a time"
bad "64|65" root audit --output xml

note "usage"
bad 64 jitalice
bad 64 jitalice frobnicate
bad 64 jitalice request tools --duration 1h                 # no --reason
bad 64 jitalice request tools --reason "no duration"
bad 64 jitalice request --reason "no resource" --duration 1h
bad 64 jitalice resource
bad 64 jitalice approve
bad 64 jitalice requests --no-such-flag
bad 64 root resource add
bad 64 root resource add okname        # --account has no default: name the accounts, or '*'
bad 64 root policy assign only-one-arg

note "raw D-Bus calls (busctl as root, bypassing jitctl's own checks)"
# bad_call ERROR_NAME SIGNATURE METHOD ARGS...: the call fails with that D-Bus error, nothing
# changes. dbus-send shows the error name; busctl checks the same call exits 1 with one line.
bad_call() {
    local want=$1 method=$2 sig=$3
    shift 3
    CASES=$((CASES + 1))
    run as root busctl --system -- call io.jitd.Jit1 /io/jitd/Jit1 io.jitd.Jit1.Manager "$method" "$sig" "$@"
    if [[ $RC == 1 && -n $ERR && $ERR != *$'\n'* ]]; then
        pass "[$CASES] busctl $method $sig $(printf '%q ' "$@")-> $ERR"
    else
        fail "[$CASES] busctl $method $sig $(printf '%q ' "$@"): exit $RC, stderr '$ERR', stdout '$OUT'"
    fi
    # The same call once more through dbus-send to read the error name.
    local args=() i=0 t
    for ((i = 0; i < ${#sig}; i++)); do
        t=${sig:i:1}
        case $t in
        s) args+=("string:$1") ;;
        x) args+=("int64:$1") ;;
        i) args+=("int32:$1") ;;
        b) args+=("boolean:$1") ;;
        a)  # as: count then items, as busctl takes them
            local n=$1 items=()
            shift
            for ((; n > 0; n--)); do items+=("$1"); shift; done
            args+=("array:string:$(IFS=,; echo "${items[*]}")")
            i=$((i + 1))
            continue
            ;;
        esac
        shift
    done
    run as root dbus-send --system --print-reply --dest=io.jitd.Jit1 /io/jitd/Jit1 \
        "io.jitd.Jit1.Manager.$method" "${args[@]}"
    local name ok=false
    for name in ${want//|/ }; do [[ $ERR == *"$name"* ]] && ok=true; done
    if $ok; then pass "[$CASES] error name of $method is one of $want"; else fail "[$CASES] $method: want $want, got: $ERR"; fi
    local now
    now=$(state_digest)
    if [[ $now != "$BASELINE" ]]; then
        fail "[$CASES] state changed after raw $method $*"
        BASELINE=$now
    fi
}
INVALID=io.jitd.Jit1.Error.InvalidInput
NOTFOUND=io.jitd.Jit1.Error.NotFound
ARGS=org.freedesktop.DBus.Error.InvalidArgs

bad_call $INVALID CreateRequest ssxx tools "valid reason" -5 0
bad_call $INVALID CreateRequest ssxx tools "valid reason" 0 0
bad_call $INVALID CreateRequest ssxx tools "" 3600 0
bad_call $INVALID CreateRequest ssxx tools $'multi\nline' 3600 0
bad_call $INVALID CreateRequest ssxx "" "valid reason" 3600 0
bad_call $INVALID CreateRequest ssxx "UPPER" "valid reason" 3600 0
bad_call $INVALID CreateRequest ssxx tools "valid reason" 3600 1                 # start in the past
bad_call $INVALID CreateRequest ssxx tools "valid reason" 3600 99999999999       # start too far ahead
bad_call $ARGS CreateRequest ssi tools "valid reason" 3600     # wrong type: int32 duration
bad_call $ARGS CreateRequest ssx tools "valid reason" 3600      # missing argument
bad_call $INVALID AddResource ssasasasas "" "" 0 0 0 0
bad_call $INVALID AddResource ssasasasas "Bad Name" "" 0 0 0 0
bad_call $INVALID AddResource ssasasasas okname "" 1 "bad service" 1 "*" 0 0
bad_call $INVALID AddResource ssasasasas okname "" 1 sshd 1 "Root!" 0 0
bad_call $INVALID AddResource ssasasasas okname "" 1 sshd 1 "*" 1 "@" 0
bad_call $INVALID AddResource ssasasasas okname "" 0 1 "*" 0 0          # no service
bad_call $INVALID AddResource ssasasasas okname "" 1 sshd 1 "*" 0 1 "web_*"   # bad host pattern
bad_call $INVALID AddResource ssasasasas okname "" 1 sshd 1 "*" 0 1 "db-[0-9"  # unclosed bracket
bad_call $INVALID AddPolicy sssasixbxsi p-bad "" bogus 1 jitbob 1 0 true 3600 "" 0
bad_call $INVALID AddPolicy sssasixbxsi p-bad "" require-approval 1 jitbob 0 3600 true 3600 "" 0
bad_call $INVALID AddPolicy sssasixbxsi p-bad "" require-approval 1 jitbob -2 3600 true 3600 "" 0
bad_call $INVALID AddPolicy sssasixbxsi p-bad "" require-approval 1 jitbob 1 -3600 true 3600 "" 0
bad_call $INVALID AddPolicy sssasixbxsi p-bad "" require-approval 1 jitbob 1 3600 true -1 "" 0
bad_call $INVALID AddPolicy sssasixbxsi p-bad "" require-approval 0 1 3600 true 3600 "" 0   # no approver
bad_call $INVALID AddPolicy sssasixbxsi p-bad "" auto-approve 1 "Bob" 1 3600 true 3600 "" 0
bad_call $INVALID AddPolicy sssasixbxsi p-bad "" auto-approve 0 1 3600 true 3600 "(INC" 0    # bad reason pattern
bad_call $INVALID AddPolicy sssasixbxsi p-bad "" auto-approve 0 1 3600 true 3600 "" -1      # bad minimum length
bad_call $INVALID ListRequests bs false bogus
bad_call "$INVALID|$NOTFOUND" Approve xs -1 ""
bad_call "$INVALID|$NOTFOUND" Revoke xs 0 ""
bad_call $NOTFOUND GetRequest x 424242
bad_call $ARGS GetRequest s 1                                  # id as a string
bad_call $NOTFOUND GetResource s nosuch
bad_call $INVALID GetResource s ""
bad_call $NOTFOUND AssignPolicy ss nosuch prod-db
bad_call org.freedesktop.DBus.Error.UnknownMethod NoSuchMethod s x

expect_eq "alice's request untouched" "$(request_state "$PENDING")" pending
expect_eq "dave's grant untouched" "$(grant_state "$GRANT")" active
if ((CASES >= 30)); then pass "$CASES bad inputs tried"; else fail "only $CASES bad inputs"; fi
# The comparison sees a change: the same kind of call, made valid, changes the digest.
expect_exit 0 -m "a valid request" -- as jitcarol jitctl request prod-db --reason "valid reason" --duration 1h
expect_ne "a valid request changes the state" "$(state_digest)" "$BASELINE"

finish
