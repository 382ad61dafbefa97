#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Shared accounts over ssh: the person behind the key (docs/shared-accounts-over-ssh.md). The
# real sshd with pam_jit, its AuthorizedKeysFile naming jitd's authorized keys directory after
# the account's own file. jitdave plays the shared account (postgres, deploy); jitalice and
# jitmallory are people with registered keys; a stray key sits in jitdave's own file.
#   - jitctl key add/list/remove: fingerprints as ssh-keygen -lf prints them, one owner per key,
#     options refused, plain users see their own keys only, audited;
#   - jitd's file for jitdave: root-owned, readable by jitdave's group, holding exactly the keys
#     of who may enter now;
#   - alice's key refused without a grant, let in with one; the session is alice's (sessions,
#     audit JIT_USER, JIT_TARGET, JIT_FINGERPRINT) and ends at expiry, when her key leaves the
#     file; mallory's key and the stray key stay refused;
#   - jitd dead: the snapshot decides by the key too, and the fallback is audited as alice's.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/realpam.sh"

KILL_GRACE=2
TIMEOUT_MS=500
realpam_need
jitd_start "kill_grace = ${KILL_GRACE}s" "warn_before = 0"
SNAPSHOT=$T/run/snapshot
KEYS=$T/keys
ACCOUNT=jitdave
PAM_ARGS=("timeout=${TIMEOUT_MS}ms" "snapshot=$SNAPSHOT")

realpam_pamd
realpam_pam_jit sshd "${PAM_ARGS[@]}"
sshd_start "AuthorizedKeysFile $T/ssh/authorized_keys/%u $KEYS/%u"
mkdir -p "$T/ssh/authorized_keys"

# person_key NAME OWNER: a key pair $T/ssh/NAME.key that OWNER (a local user) holds.
person_key() {
    ssh-keygen -q -t ed25519 -N '' -C "$1@laptop" -f "$T/ssh/$1.key" || die "cannot make key $1"
    chown "$2:" "$T/ssh/$1.key" "$T/ssh/$1.key.pub"
}
person_key alice jitalice
person_key mallory jitmallory
person_key stray jitmallory
# Standing keys in the shared account's own authorized_keys, from before jit: a stray one
# nobody registered, and jitmallory's (registered, so it counts as hers wherever it sits).
cat "$T/ssh/stray.key.pub" "$T/ssh/mallory.key.pub" >"$T/ssh/authorized_keys/$ACCOUNT"
chmod 0644 "$T/ssh/authorized_keys/$ACCOUNT"

fingerprint_of() { ssh-keygen -lf "$T/ssh/$1.key.pub" | awk '{print $2}'; }
ALICE_FP=$(fingerprint_of alice)
MALLORY_FP=$(fingerprint_of mallory)

# shared_login DESCRIPTION allowed|refused HOLDER KEY: HOLDER logs into the shared account with
# KEY and runs `id -un`.
shared_login() {
    local desc=$1 want=$2 holder=$3 key=$4
    timed run as "$holder" ssh -i "$T/ssh/$key.key" "${SSH_OPTS[@]}" -p "$SSHD_PORT" \
        "$ACCOUNT@127.0.0.1" id -un </dev/null
    # Refused by the account stack, sshd closes the connection (255); by the session stack (the
    # key is known only there) it shows pam_jit's message and ends the session unstarted (254).
    if [[ $want == allowed && $RC == 0 && $OUT == "$ACCOUNT" ]]; then
        pass "$desc: allowed (${MS} ms)"
    elif [[ $want == refused && ($RC == 255 || $RC == 254) ]] && ! grep -qx "$ACCOUNT" <<<"$OUT"; then
        pass "$desc: refused (rc $RC, ${MS} ms)"
    else
        fail "$desc: want $want, got rc $RC, stdout '$OUT', stderr '${ERR:0:400}'"
    fi
}

# The keys jitd's file for the shared account lists (their fingerprints, sorted).
file_fingerprints() {
    [[ -f $KEYS/$ACCOUNT ]] || return 1
    grep -v '^#' "$KEYS/$ACCOUNT" | ssh-keygen -lf - 2>/dev/null | awk '{print $2}' | sort | paste -sd,
}
file_lists() { [[ $(file_fingerprints) == "$1" ]]; }

note "the shared account's resource"
setup_resource shared shared-jit --description "the shared account" --service sshd --account "$ACCOUNT" \
    -- --approver jitbob --max-duration 1h

note "registering keys"
expect_exit 0 -m "jitalice registers her key from a file" -- \
    as jitalice jitctl --json key add "$T/ssh/alice.key.pub"
jq_eq "the fingerprint is ssh-keygen's" "$OUT" .fingerprint "$ALICE_FP"
jq_eq "the key is jitalice's" "$OUT" .user jitalice
jq_eq "type and comment" "$OUT" '[.type, .comment] | join(",")' "ssh-ed25519,alice@laptop"
jq_eq "added is RFC 3339 UTC" "$OUT" '.added | test("^[0-9-]+T[0-9:]+Z$")' true
expect_exit 1 -m "jitmallory cannot take jitalice's key" -- \
    as jitmallory jitctl key add "$T/ssh/alice.key.pub"
expect_contains "the conflict says why, not whose" "$ERR" "already registered to another user"
expect_exit 1 -m "nor can an admin give it to jitmallory" -- \
    as jitadmin jitctl key add "$T/ssh/alice.key.pub" --user jitmallory
expect_contains "the admin learns whose it is" "$ERR" "already registered to jitalice"
expect_exit 65 -m "a key with options is refused" -- \
    as jitmallory bash -c "printf 'command=\"/bin/true\" %s\n' \"\$(cat $T/ssh/mallory.key.pub)\" | jitctl key add -"
expect_contains "the refusal names the options" "$ERR" "options"
expect_exit 77 -m "jitmallory cannot register a key for someone else" -- \
    as jitmallory jitctl key add "$T/ssh/mallory.key.pub" --user jitalice
expect_exit 0 -m "jitmallory registers her own key on stdin" -- \
    as jitmallory bash -c "jitctl key add - <$T/ssh/mallory.key.pub"
expect_exit 0 -m "jitmallory lists her keys" -- as jitmallory jitctl --json key list
jq_eq "plain users see their own keys only" "$OUT" '[.[].user] | unique | join(",")' jitmallory
expect_exit 77 -m "nor ask for someone else's" -- as jitmallory jitctl key list --user jitalice
expect_exit 0 -m "the auditor lists everyone's" -- as jitaudit jitctl --json key list
jq_eq "both keys" "$OUT" '[.[].user] | sort | join(",")' jitalice,jitmallory
expect_exit 0 -m "key_added audited" -- as root jitctl --json audit --event key_added
jq_eq "key_added: JIT_USER, JIT_FINGERPRINT, JIT_ACTOR" "$OUT" \
    "[.[] | select(.user == \"jitalice\" and .fingerprint == \"$ALICE_FP\" and .actor == \"jitalice\")] | length" 1

note "jitd's authorized keys file for $ACCOUNT"
expect_eventually 5 "the file exists and lists nobody yet" file_lists ""
expect_eq "root-owned, the account's group, 0640" "$(stat -c '%U %G %a' "$KEYS/$ACCOUNT")" \
    "root $(id -gn "$ACCOUNT") 640"
expect_eq "the directory: root, 0755" "$(stat -c '%U %a' "$KEYS")" "root 755"
expect_true "$ACCOUNT can read it (sshd reads it as the account)" as "$ACCOUNT" cat "$KEYS/$ACCOUNT"
expect_exit 1 -m "another user cannot" -- as jitmallory cat "$KEYS/$ACCOUNT"

note "no grant"
# Nobody may enter with a key: sshd's account stack, which does not know the key yet, refuses
# as for the account itself. (Her key is not in jitd's file either: sshd may refuse it first.)
shared_login "jitalice's key without a grant" refused jitalice alice
shared_login "the stray key in $ACCOUNT's own authorized_keys" refused jitmallory stray
shared_login "jitmallory's registered key in $ACCOUNT's own authorized_keys" refused jitmallory mallory
denials() { # USER [FINGERPRINT]: login_denied of an ssh login into the shared account
    audit_events_json login_denied | jq --arg u "$1" --arg t "$ACCOUNT" --arg f "${2:-}" \
        '[.[] | select(.user == $u and .target == $t and .service == "sshd" and (.fingerprint // "") == $f)] | length'
}
expect_eventually 5 "login_denied audited (the account stack: as $ACCOUNT)" _ge "denials $ACCOUNT" 2

note "with a grant"
grant_for jitalice shared 20s
EXPIRY=$(grant_expiry "$GRANT")
expect_eventually 5 "the file lists jitalice's key" file_lists "$ALICE_FP"
shared_login "jitalice's key under her grant" allowed jitalice alice
shared_login "jitmallory's registered key (no grant of hers)" refused jitmallory mallory
expect_eventually 5 "denied in the session stack, audited as jitmallory's with her key" \
    _ge "denials jitmallory $MALLORY_FP" 1
shared_login "the stray key (unregistered: the account itself, no grant)" refused jitmallory stray

spawn_as jitalice ssh -n -i "$T/ssh/alice.key" "${SSH_OPTS[@]}" -p "$SSHD_PORT" \
    "$ACCOUNT@127.0.0.1" "sleep 1000" 2>>"$T/ssh-client.log"
CLIENT_PID=$SPAWNED_PID
wait_until 15 session_open_for "$GRANT" sshd || die "no sshd session registered under grant $GRANT"
SESSION_PID=$(session_pid_for "$GRANT" sshd)
TREE=$(tree_of "$SESSION_PID" | xargs)
expect_exit 0 -m "jitalice lists her sessions" -- as jitalice jitctl --json sessions
jq_eq "the session is jitalice's, into $ACCOUNT" "$OUT" \
    "[.[] | select(.grant_id == $GRANT and .user == \"jitalice\" and .target == \"$ACCOUNT\")] | length" 1
expect_exit 0 -m "session_opened" -- as root jitctl --json audit --event session_opened
jq_eq "session_opened: JIT_USER the person, JIT_TARGET the account, JIT_FINGERPRINT the key" "$OUT" \
    "[.[] | select(.user == \"jitalice\" and .target == \"$ACCOUNT\" and .fingerprint == \"$ALICE_FP\" and (.grant_id|tostring) == \"$GRANT\")] | length >= 2" true

note "expiry"
START_MS=$((EXPIRY * 1000))
# shellcheck disable=SC2086
expect_gone_by $((START_MS + (KILL_GRACE + 4) * 1000)) "the session's processes at expiry" $TREE
expect_eventually 5 "the ssh client saw the session end" all_gone "$CLIENT_PID"
expect_eventually 5 "jitalice's key left the file" file_lists ""
expect_exit 0 -m "session_terminated" -- as root jitctl --json audit --event session_terminated
jq_eq "session_terminated is jitalice's, with the key" "$OUT" \
    "[.[] | select(.user == \"jitalice\" and .target == \"$ACCOUNT\" and .fingerprint == \"$ALICE_FP\")] | length" 1
shared_login "jitalice's key after the expiry" refused jitalice alice

note "jitd dead: the snapshot knows the keys"
grant_for jitalice shared 1h
expect_eventually 5 "the snapshot holds jitalice's key" grep -q "^key $ALICE_FP jitalice " "$SNAPSHOT"
jitd_kill
shared_login "dead: jitalice's key under her grant" allowed jitalice alice
shared_login "dead: jitmallory's key" refused jitmallory mallory
shared_login "dead: the stray key" refused jitmallory stray
jitd_restart
fallbacks() { # USER OUTCOME
    audit_events_json login_fallback | jq --arg u "$1" --arg o "$2" --arg t "$ACCOUNT" \
        '[.[] | select(.user == $u and .target == $t and .outcome == $o)] | length'
}
expect_eventually 10 "fallback: jitalice allowed, audited as hers" _ge "fallbacks jitalice allowed" 1
expect_eventually 10 "fallback: jitmallory denied, audited as hers" _ge "fallbacks jitmallory denied" 1
expect_eventually 10 "fallback: the stray key denied, audited as the account's" _ge "fallbacks $ACCOUNT denied" 1
expect_exit 0 -m "login_fallback" -- as root jitctl --json audit --event login_fallback
jq_eq "the fallback names the key" "$OUT" \
    "[.[] | select(.user == \"jitalice\" and .fingerprint == \"$ALICE_FP\")] | length >= 1" true

note "removing a key"
expect_exit 1 -m "jitmallory cannot remove jitalice's key (not found to her)" -- \
    as jitmallory jitctl key remove "$ALICE_FP"
expect_exit 0 -m "jitalice removes her key" -- as jitalice jitctl key remove "$ALICE_FP"
expect_eventually 5 "the file no longer lists it, grant or not" file_lists ""
shared_login "the removed key logs in as the account itself: refused" refused jitalice alice
expect_exit 0 -m "key_removed audited" -- as root jitctl --json audit --event key_removed
jq_eq "key_removed" "$OUT" \
    "[.[] | select(.user == \"jitalice\" and .fingerprint == \"$ALICE_FP\" and .actor == \"jitalice\")] | length" 1
expect_exit 0 -m "an admin removes jitmallory's key" -- as jitadmin jitctl key remove "$MALLORY_FP"

note "an account no longer covered loses its file"
expect_exit 0 -m "revoke the grant" -- as root jitctl revoke "$GRANT" --reason done
expect_exit 0 -m "remove the resource" -- as root jitctl resource remove shared
expect_eventually 5 "the stale file is removed" bash -c "[[ ! -e $KEYS/$ACCOUNT ]]"

sshd_stop
realpam_asan_reports
finish
