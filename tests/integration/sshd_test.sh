#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The real sshd with pam_jit (pam_jit(8)) inside the harness's mount namespace: sshd -D on
# a free loopback port with its own host key, UsePAM yes and a copy of /etc/pam.d whose sshd
# service ends with pam_jit's account and session lines; key logins with the real ssh client.
#   - an unmanaged login passes; no grant -> refused and audited; request + approve -> login
#     works, the session is registered with sshd's pid and the user is told when the grant ends;
#   - revoke ends a live session whose command ignores SIGTERM (SIGKILL after kill_grace),
#     expiry ends a plain one; every process of the session is gone within kill_grace + 4 s
#     (no logind here: jitd signals the registered pid's tree), and the next login is refused;
#   - warn_before expiry, the warning reaches an interactive (pty) session's terminal, once,
#     though sshd registers the session's tty as "ssh";
#   - jitd hung (SIGSTOP) and then dead (SIGKILL), fail=closed: the snapshot decides within
#     timeout; the fallback is audited once jitd is back; fail=open allows.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/realpam.sh"

KILL_GRACE=2
WARN_BEFORE=10
TIMEOUT_MS=500
realpam_need
jitd_start "kill_grace = ${KILL_GRACE}s" "warn_before = ${WARN_BEFORE}s"
SNAPSHOT=$T/run/snapshot
PAM_ARGS=("timeout=${TIMEOUT_MS}ms" "snapshot=$SNAPSHOT")

realpam_pamd
realpam_pam_jit sshd "${PAM_ARGS[@]}"
sshd_start
for user in jitalice jitmallory jitdave; do ssh_key "$user"; done

# ssh-users: logins into jitalice and jitmallory; jitdave's account is not managed.
setup_resource ssh-users ssh-jit --description "ssh logins" --service sshd --account jitalice --account jitmallory \
    -- --approver jitbob --max-duration 1h

# expect_login DESCRIPTION allowed|refused USER: USER logs in with their key and runs `id -un`;
# allowed means it printed USER, refused that ssh failed without running it.
expect_login() {
    local desc=$1 want=$2 user=$3
    ssh_as "$user" id -un </dev/null
    if [[ $want == allowed && $RC == 0 && $OUT == "$user" ]]; then
        pass "$desc: allowed (${MS} ms)"
    elif [[ $want == refused && $RC == 255 && -z $OUT ]]; then
        pass "$desc: refused (${MS} ms)"
    else
        fail "$desc: want $want, got rc $RC, stdout '$OUT', stderr '${ERR:0:400}'"
    fi
}

# spawn_ssh_tty USER CMD...: spawn_ssh with a pty (ssh -tt, like an interactive login); what
# the session's terminal shows goes to $T/ssh-tty.out.
spawn_ssh_tty() {
    local user=$1
    shift
    spawn_as "$user" ssh -tt -i "$T/ssh/$user.key" "${SSH_OPTS[@]}" -p "$SSHD_PORT" \
        "$user@127.0.0.1" "$@" </dev/null >"$T/ssh-tty.out" 2>>"$T/ssh-client.log"
}

# live_ssh [-t] USER REMOTE-COMMAND: a background login registered by jitd under $GRANT (-t:
# with a pty, see spawn_ssh_tty); the client's pid in CLIENT_PID, the registered (sshd) pid in
# SSHD_SESSION_PID, the session's processes on the server in TREE.
live_ssh() {
    if [[ $1 == -t ]]; then
        shift
        spawn_ssh_tty "$@"
    else
        spawn_ssh "$@"
    fi
    CLIENT_PID=$SPAWNED_PID
    wait_until 15 session_open_for "$GRANT" sshd || die "jitd registered no sshd session under grant $GRANT"
    SSHD_SESSION_PID=$(session_pid_for "$GRANT" sshd)
    expect_eq "registered pid is a child of the listening sshd" \
        "$(ps -o ppid= -p "$SSHD_SESSION_PID" | xargs)" "$SSHD_PID"
    wait_until 10 runs_sleep "$SSHD_SESSION_PID" ||
        die "the session's command does not run: $(tree_of "$SSHD_SESSION_PID" | xargs)"
    TREE=$(tree_of "$SSHD_SESSION_PID" | xargs)
    note "live ssh: client $CLIENT_PID, sshd $SSHD_SESSION_PID, processes $(ps -o pid=,user=,args= -p "$(tr ' ' , <<<"$TREE")" | tr -s ' ' | paste -sd';')"
}

note "no grant"
expect_login "unmanaged: jitdave logs in" allowed jitdave
BASE_MS=$MS
expect_login "jitalice without a grant" refused jitalice
expect_eventually 5 "sshd logs the PAM refusal" \
    grep -q "Access denied for user jitalice by PAM account configuration" "$T/sshd.log"
login_denials() { # USER: login_denied events for an ssh login as USER from 127.0.0.1
    audit_events_json login_denied | jq --arg u "$1" \
        '[.[] | select(.user == $u and .target == $u and .service == "sshd" and .rhost == "127.0.0.1" and .resource == "ssh-users")] | length'
}
expect_eventually 5 "login_denied audited" _ge "login_denials jitalice" 1

note "request and approval"
grant_for jitalice ssh-users 1h
pass "jitalice requested, jitbob approved: grant $GRANT"
expect_login "jitalice under the grant" allowed jitalice
BASE_MS=$MS
# sshd shows PAM's messages only to a login without a command (a shell): one reading "exit".
ssh_as jitalice <<<exit
expect_eq "interactive login under the grant" "$RC" 0
expect_contains "the login tells when the grant ends" "$OUT" "jit: access granted by grant $GRANT on ssh-users until"
expect_login "jitmallory (no grant) still refused" refused jitmallory

note "revoke ends a live session (SIGTERM ignored: SIGKILL after kill_grace)"
live_ssh jitalice "trap '' TERM; sleep 1000; true"
# shellcheck disable=SC2086 # the processes, one word each
expect_revoke_kills "the session's processes on the server" $TREE
expect_eventually 5 "the ssh client saw the session end" all_gone "$CLIENT_PID"
expect_login "next login after the revoke" refused jitalice
REVOKED_GRANT=$GRANT
REVOKED_PID=$SSHD_SESSION_PID

note "warn_before expiry the session's terminal is warned; expiry ends the session"
# The session must be open before the warning is due: 12 s for an ssh login of an ASan build
# on a loaded machine (5 s was not always enough).
grant_for jitalice ssh-users $((WARN_BEFORE + 12))s
EXPIRY=$(grant_expiry "$GRANT")
live_ssh -t jitalice "sleep 1000"
(($(date +%s) < EXPIRY - WARN_BEFORE)) ||
    fail "the session opened only after the warning was due: the test machine is too slow"
# sshd registered the tty "ssh" (it opens the PAM session before the pty): jitd finds the pty
# from the session's processes.
expect_eq "the session's registered tty" \
    "$(open_sessions_json | jq -r --argjson g "$GRANT" '[.[] | select(.grant_id == $g)][0].tty')" ssh
expect_eventually $((EXPIRY - $(date +%s))) "the warning reaches the ssh session's terminal before expiry" \
    grep -q "jit: your access to ssh-users ends at" "$T/ssh-tty.out"
expect_true "the warning names jitctl extend with the grant" grep -q "jitctl extend $GRANT " "$T/ssh-tty.out"
expect_eventually 5 "jitd logs on which terminal it warned" \
    grep -q "warned on /dev/pts/[0-9]* that grant $GRANT ends at" "$T/jitd.log"
START_MS=$((EXPIRY * 1000))
# shellcheck disable=SC2086
expect_gone_by $((START_MS + (KILL_GRACE + 4) * 1000)) "the session's processes at expiry" $TREE
expect_eventually 5 "the ssh client saw the session end" all_gone "$CLIENT_PID"
expect_eventually 5 "grant $GRANT expired" grant_state_is "$GRANT" expired
expect_eq "the terminal got the warning once" "$(grep -c "jit: your access to ssh-users ends at" "$T/ssh-tty.out")" 1
expect_login "next login after the expiry" refused jitalice
EXPIRED_GRANT=$GRANT

note "audit"
expect_session_audit sshd "$REVOKED_GRANT" "$REVOKED_PID" "$EXPIRED_GRANT" 2 \
    '.rhost == "127.0.0.1" and .target == "jitalice"'

note "jitd hung (SIGSTOP), fail=closed"
grant_for jitalice ssh-users 24s
EXPIRY=$(grant_expiry "$GRANT")
expect_eventually 5 "the snapshot holds grant $GRANT" grep -q "^grant $GRANT jitalice ssh-users " "$SNAPSHOT"
expect_login "jitd answering: jitalice (the base time)" allowed jitalice
BASE_MS=$MS
kill -STOP "$JITD_PID"
expect_login "hung: jitalice's live grant works from the snapshot" allowed jitalice
expect_within_timeout "hung: granted login" "$BASE_MS"
expect_login "hung: jitmallory (no grant) refused" refused jitmallory
expect_within_timeout "hung: refused login" "$BASE_MS"
expect_login "hung: unmanaged jitdave passes" allowed jitdave
expect_within_timeout "hung: unmanaged login" "$BASE_MS"

note "jitd dead (SIGKILL), fail=closed"
jitd_kill
expect_login "dead: jitalice's live grant works from the snapshot" allowed jitalice
expect_within_timeout "dead: granted login" "$BASE_MS"
expect_login "dead: jitmallory refused" refused jitmallory
expect_login "dead: unmanaged jitdave passes" allowed jitdave
wait_until 30 _past "$EXPIRY" || die "the clock does not pass $EXPIRY"
expect_login "dead: the grant's expiry holds without jitd" refused jitalice

note "jitd back: the fallback decisions are audited"
jitd_restart
expect_eventually 10 "grant $GRANT, lapsed while jitd was down, is expired" grant_state_is "$GRANT" expired
fallbacks() { # USER OUTCOME: login_fallback events for an ssh login as USER with OUTCOME
    audit_events_json login_fallback | jq --arg u "$1" --arg o "$2" \
        '[.[] | select(.user == $u and .target == $u and .service == "sshd" and .outcome == $o)] | length'
}
expect_eventually 10 "fallback: jitalice allowed, audited" _ge "fallbacks jitalice allowed" 2
expect_eventually 10 "fallback: jitmallory denied, audited" _ge "fallbacks jitmallory denied" 2
expect_eventually 10 "fallback: jitalice denied after the expiry, audited" _ge "fallbacks jitalice denied" 1

note "fail=open"
realpam_pam_jit sshd "${PAM_ARGS[@]}" fail=open
expect_login "jitd up, fail=open: jitmallory still refused" refused jitmallory
jitd_kill
expect_login "jitd dead, fail=open: jitmallory allowed" allowed jitmallory
expect_within_timeout "fail=open login" "$BASE_MS"
jitd_restart
expect_eventually 10 "fail=open audited" _ge "fallbacks jitmallory open" 1

sshd_stop
realpam_asan_reports
finish
