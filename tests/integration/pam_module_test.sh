#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pam_jit.so through libpam: every path of pam_jit(8) with a private PAM config directory
# (pam_jit_driver uses pam_start_confdir, so /etc/pam.d is never read).
#   - what the module exports;
#   - jitd unreachable (no bus): the snapshot fallback (unmanaged, member, @group member, grant,
#     expired grant, deny, no/corrupt/truncated/unsafe snapshot), the spool and the files it
#     refuses, fail=open, exempt=, quiet, debug, unknown arguments;
#   - a caller that is not root: left alone;
#   - over the private bus against pam_jit_fake_jitd (canned verdicts): what jitd is told, the
#     session registered and closed, messages, refusals, and the timeout bound with a stopped
#     jitd, a slow jitd (one timeout per login) and a stopped dbus-daemon;
#   - the same against the real jitd when it is built;
#   - valgrind on the main paths.
source "$(dirname "$0")/lib/harness.sh"

MODULE=$JIT_BUILD_DIR/pam_jit/pam_jit.so
DRIVER=$JIT_BUILD_DIR/pam_jit/pam_jit_driver
FAKE=$JIT_BUILD_DIR/pam_jit/pam_jit_fake_jitd
for f in "$MODULE" "$DRIVER" "$FAKE"; do
    [[ -x $f ]] || die "missing $f (build pam_jit, pam_jit_driver, pam_jit_fake_jitd)"
done

PRIVATE_BUS=$DBUS_SYSTEM_BUS_ADDRESS
NO_BUS=unix:path=$T/no-such-bus-socket
BUS=$NO_BUS # the bus the driver talks to
FB=$T/fallback
mkdir -m 0700 "$FB"
SNAPSHOT=$FB/snapshot
SPOOL=$FB/fallback.log
LOGIN_UID=$(</proc/self/loginuid) # the driver's: spooled with each decision
WRAP=() # e.g. valgrind

# pam_conf SERVICE ARGS...: account and session stacks for SERVICE that make pam_jit's own
# result visible: libpam turns a stack of nothing but PAM_IGNORE into PAM_PERM_DENIED, so
# PAM_IGNORE jumps on to pam_debug, which returns PAM_MODULE_UNKNOWN (reported as PAM_IGNORE by
# drive); any other result ends the stack with pam_jit's own code.
pam_conf() {
    local service=$1 control='[success=done ignore=ignore default=die]'
    shift
    mkdir -p "$T/pam.d"
    cat >"$T/pam.d/$service" <<EOF
account $control $MODULE $*
account required pam_debug.so acct=module_unknown
session $control $MODULE $*
session required pam_debug.so open_session=module_unknown close_session=module_unknown
EOF
}

# drive DRIVER-ARGS...: one PAM transaction; sets OUT/ERR/RC (see run), RESULTS
# ("account=PAM_X open=PAM_Y ..."), MSGS (the conversation) and the milliseconds of each step in
# MS_account, MS_open, MS_close. The driver's pid is the first line of OUT ("PID n").
drive() {
    run bash -c 'echo "PID $$"; exec "$@"' drive env DBUS_SYSTEM_BUS_ADDRESS="$BUS" \
        "${WRAP[@]}" "$DRIVER" run --confdir "$T/pam.d" "$@"
    RESULTS=$(awk '$1 ~ /^(account|open|close)$/ {printf "%s%s=%s", sep, $1, $2; sep=" "}' <<<"$OUT")
    RESULTS=${RESULTS//PAM_MODULE_UNKNOWN/PAM_IGNORE}
    MSGS=$(grep '^MSG ' <<<"$OUT" | grep -vE '^MSG info (acct|open_session|close_session)=') # not pam_debug's
    DRIVER_PID=$(awk '$1 == "PID" {print $2}' <<<"$OUT")
    MS_account=$(awk '$1 == "account" {print $3}' <<<"$OUT")
    MS_open=$(awk '$1 == "open" {print $3}' <<<"$OUT")
    if sanitizer_report "$T/.err" >/dev/null; then
        fail "sanitizer report from pam_jit_driver $*: $(sanitizer_report "$T/.err")"
    fi
}

# sudo_as USER [STEP...]: sudo's order: account as USER (ruser USER), then PAM_USER=root and the
# session stack. Steps default to "account user=root open close"; when the session is refused
# the close step is left out (libpam would replay the frozen open chain, not ask pam_jit).
sudo_as() {
    local user=$1
    shift
    (($# > 0)) || set -- account user=root open close
    drive --service sudo --user "$user" --ruser "$user" --tty /dev/pts/9 "$@"
}

snapshot() {
    run "$DRIVER" snapshot "$SNAPSHOT" "$@"
    [[ $RC == 0 ]] || die "snapshot: $ERR"
}
spool_lines() { wc -l 2>/dev/null <"$SPOOL" || echo 0; }
last_spool() { tail -n 1 "$SPOOL" | cut -f2-; } # without the epoch

# --- exports ----------------------------------------------------------------------------------
note "exports"
expect_eq "exported symbols" "$(nm -D --defined-only "$MODULE" | awk '{print $3}' | sort | xargs)" \
    "pam_sm_acct_mgmt pam_sm_authenticate pam_sm_chauthtok pam_sm_close_session pam_sm_open_session pam_sm_setcred"
needed=$(readelf -d "$MODULE" | awk '/NEEDED/ {print $5}' | xargs)
expect_not_contains "NEEDED libraries" "$needed" sqlite
expect_not_contains "NEEDED libraries" "$needed" spdlog
expect_not_contains "NEEDED libraries" "$needed" fmt

# --- jitd unreachable: the snapshot fallback --------------------------------------------------
note "fallback (no bus)"
snapshot --resource "prod-db:sshd,sudo:root:jitalice,@jit-approvers" \
    --resource "ops:sshd:root,postgres:" \
    --grant 7:jitdave:prod-db:+3600 --grant 8:jitmallory:prod-db:-60 --grant 9:jitaudit:prod-db:none
chmod 0600 "$SNAPSHOT"
pam_conf sudo "snapshot=$SNAPSHOT"
pam_conf sshd "snapshot=$SNAPSHOT"
pam_conf login "snapshot=$SNAPSHOT"

sudo_as jitalice
expect_eq "member: sudo jitalice -> root" "$RESULTS" \
    "account=PAM_IGNORE open=PAM_SUCCESS close=PAM_SUCCESS"
expect_contains "member logged" "$ERR" "allowed (snapshot): service=sudo requester=jitalice target=root"
expect_contains "fallback logged with its cause" "$ERR" "jitd unreachable, deciding from the snapshot"
expect_eq "member: no message" "$MSGS" ""

sudo_as jitbob
expect_eq "@group member: sudo jitbob -> root" "$RESULTS" \
    "account=PAM_IGNORE open=PAM_SUCCESS close=PAM_SUCCESS"

sudo_as jitdave
expect_eq "grant: sudo jitdave -> root" "$RESULTS" \
    "account=PAM_IGNORE open=PAM_SUCCESS close=PAM_SUCCESS"
expect_contains "grant: told when it ends" "$MSGS" \
    "MSG info jit: access granted by grant 7 on prod-db until $(date -u +%Y)"
expect_contains "grant logged" "$ERR" "resource=prod-db grant=7 until"

sudo_as jitaudit
expect_contains "grant without expiry: until revoked" "$MSGS" \
    "MSG info jit: access granted by grant 9 on prod-db until revoked"

sudo_as jitmallory account user=root open
expect_eq "expired grant: denied in the session stack" "$RESULTS" \
    "account=PAM_IGNORE open=PAM_PERM_DENIED"
expect_eq "expired grant: the message names resource and command" "$MSGS" \
    'MSG error jit: access to root on this host requires a grant on resource "prod-db". Request it with: jitctl request prod-db --reason "..." --duration 1h'
expect_contains "deny logged" "$ERR" "denied (snapshot): service=sudo requester=jitmallory target=root"

drive --service sshd --user root --rhost 198.51.100.7 --tty ssh account
expect_eq "deny: ssh root, two resources" "$RESULTS" "account=PAM_PERM_DENIED"
expect_contains "deny lists both resources" "$MSGS" \
    'requires a grant on one of the resources "ops", "prod-db". Request one with: jitctl request ops'

drive --service sshd --user jitalice --rhost 198.51.100.7 --tty ssh account open
expect_eq "unmanaged ssh login passes" "$RESULTS" "account=PAM_IGNORE open=PAM_IGNORE"
drive --service login --user root --tty tty1 account open
expect_eq "unmanaged service (root console) passes" "$RESULTS" "account=PAM_IGNORE open=PAM_IGNORE"

note "fallback spool"
rm -f "$SPOOL"
drive --service sshd --user root --rhost $'198.51.100.7\tforged\nline' --tty ssh account
expect_eq "spool: one line per decision" "$(spool_lines)" 1
expect_eq "spool: fields, control characters as ?" "$(last_spool)" \
    $'denied\tsshd\troot\t\t198.51.100.7?forged?line\tssh\t0\t0\t\t0\t'"$LOGIN_UID"$'\t'
expect_true "spool: epoch first" grep -qE "^[0-9]{10,}"$'\t' "$SPOOL"
expect_eq "spool: mode 0600" "$(stat -c %a "$SPOOL")" 600
sudo_as jitdave
expect_eq "spool: sudo's two decisions" "$(tail -n 2 "$SPOOL" | cut -f2-7 | tr '\t\n' ',|')" \
    "allowed,sudo,jitdave,jitdave,,/dev/pts/9|allowed,sudo,root,jitdave,,/dev/pts/9|"
# The session stack's line names the session it let open, so jitd can end it with its grant.
expect_true "spool: session line carries pid and grant" \
    grep -qE $'\t[1-9][0-9]*\t7\t\t0\t[0-9]+\t$' <(tail -n 1 "$SPOOL")
exec 8>>"$SPOOL" && flock -x 8 # as jitd does while it audits and empties the spool
before=$(spool_lines)
drive --service sshd --user root account
exec 8>&-
expect_eq "spool locked: decision unchanged" "$RESULTS" "account=PAM_PERM_DENIED"
expect_contains "spool locked: logged" "$ERR" "cannot append to the fallback spool $SPOOL"
expect_eq "spool locked: not written" "$(spool_lines)" "$before"
expect_true "spool locked: gave up within 100 ms (took ${MS_account} ms)" test "$MS_account" -lt 100
pam_conf sshd "snapshot=$FB/link-dir/snapshot"
mkdir "$FB/link-dir" && ln -s "$T/elsewhere" "$FB/link-dir/fallback.log"
drive --service sshd --user root account
expect_true "spool: a symlink is never followed" test ! -e "$T/elsewhere"
expect_contains "spool: failure logged" "$ERR" "cannot append to the fallback spool"

# Only jitd reads the spool: a file or directory someone else could have put there is refused.
pam_conf sshd "snapshot=$SNAPSHOT"
planted() { # DESCRIPTION EXPECTED-LOG FILE: the line is refused, FILE unchanged, decision unchanged
    local before
    before=$(sha256sum <"$3")
    drive --service sshd --user root account
    expect_eq "$1: decision unchanged" "$RESULTS" "account=PAM_PERM_DENIED"
    expect_contains "$1: refused and logged" "$ERR" "cannot append to the fallback spool $SPOOL: $2"
    expect_eq "$1: not written" "$(sha256sum <"$3")" "$before"
}
mv "$SPOOL" "$FB/spool.kept"
install -m 0600 -o jitalice /dev/null "$SPOOL"
planted "spool owned by another user" "not owned by root" "$SPOOL"
chown root "$SPOOL" && chmod 0644 "$SPOOL"
planted "spool readable by others" "accessible to group or others" "$SPOOL"
chmod 0640 "$SPOOL"
planted "spool readable by its group" "accessible to group or others" "$SPOOL"
rm "$SPOOL" && printf 'precious\n' >"$T/precious" && chmod 0600 "$T/precious"
ln "$T/precious" "$SPOOL"
planted "spool hard-linked to another file" "has 2 links" "$T/precious"
rm "$SPOOL"
chmod 0770 "$FB"
planted "spool directory writable by its group" "directory $FB is writable by group or others" /dev/null
expect_true "group-writable directory: no spool created" test ! -e "$SPOOL"
chmod 0700 "$FB" && chown jitalice "$FB"
planted "spool directory owned by another user" "directory $FB is not owned by root" /dev/null
expect_true "directory of another user: no spool created" test ! -e "$SPOOL"
chown root "$FB"
mv "$FB/spool.kept" "$SPOOL"

note "unusable snapshots"
pam_conf sshd "snapshot=$FB/missing"
drive --service sshd --user root --rhost 198.51.100.7 account
expect_eq "no snapshot: unavailable" "$RESULTS" "account=PAM_AUTHINFO_UNAVAIL"
expect_contains "no snapshot: the user is told" "$MSGS" \
    "MSG error jit: access to root on this host cannot be checked right now (jitd is unreachable)."
expect_eq "no snapshot: spooled" "$(last_spool)" \
    $'unavailable\tsshd\troot\t\t198.51.100.7\t\t0\t0\t\t0\t'"$LOGIN_UID"$'\t'
drive --service sshd --user jitalice account
expect_eq "no snapshot: even unmanaged logins are refused (nothing to decide from)" "$RESULTS" \
    "account=PAM_AUTHINFO_UNAVAIL"

pam_conf sshd "snapshot=$FB/bad"
unsafe_snapshot() { # DESCRIPTION EXPECTED-LOG
    drive --service sshd --user root account
    expect_eq "$1: unavailable" "$RESULTS" "account=PAM_AUTHINFO_UNAVAIL"
    expect_contains "$1: logged" "$ERR" "$2"
}
printf 'garbage\n' >"$FB/bad" && chmod 0600 "$FB/bad"
unsafe_snapshot "corrupt snapshot" "corrupt"
head -n -1 "$SNAPSHOT" >"$FB/bad"
unsafe_snapshot "truncated snapshot" "corrupt"
cp "$SNAPSHOT" "$FB/bad" && chmod 0620 "$FB/bad"
unsafe_snapshot "group-writable snapshot" "writable by group or others"
chmod 0602 "$FB/bad"
unsafe_snapshot "world-writable snapshot" "writable by group or others"
chmod 0600 "$FB/bad" && chown jitalice "$FB/bad"
unsafe_snapshot "snapshot not owned by root" "not owned by root"
rm "$FB/bad" && ln -s "$SNAPSHOT" "$FB/bad"
unsafe_snapshot "symlinked snapshot" "snapshot $FB/bad"
rm "$FB/bad" && mkdir "$FB/bad"
unsafe_snapshot "directory as snapshot" "not a regular file"

note "arguments"
pam_conf sshd "snapshot=$SNAPSHOT fail=open"
before=$(spool_lines)
drive --service sshd --user root --rhost 198.51.100.7 --tty ssh account open
expect_eq "fail=open: allowed" "$RESULTS" "account=PAM_IGNORE open=PAM_IGNORE"
expect_contains "fail=open: logged loudly" "$ERR" "jitd unreachable, allowing (fail=open)"
expect_eq "fail=open: spooled" "$(tail -n 2 "$SPOOL" | cut -f2 | xargs)" "open open"
expect_eq "fail=open: two spool lines" "$(($(spool_lines) - before))" 2

pam_conf sudo "snapshot=$SNAPSHOT exempt=breakglass,jitmallory,@jit-admin"
before=$(spool_lines)
sudo_as jitmallory
expect_eq "exempt user" "$RESULTS" "account=PAM_SUCCESS open=PAM_SUCCESS close=PAM_SUCCESS"
expect_contains "exempt use logged" "$ERR" \
    "allowed (exempt, jitd not asked): service=sudo requester=jitmallory target=root"
expect_eq "exempt: both stacks spooled for jitd to audit" \
    "$(($(spool_lines) - before)) $(tail -n 2 "$SPOOL" | cut -f2-7 | tr '\t\n' ',|')" \
    "2 exempt,sudo,jitmallory,jitmallory,,/dev/pts/9|exempt,sudo,root,jitmallory,,/dev/pts/9|"
sudo_as jitadmin
expect_eq "exempt @group" "$RESULTS" "account=PAM_SUCCESS open=PAM_SUCCESS close=PAM_SUCCESS"
sudo_as jitdave
expect_eq "not exempt: decided as usual" "$RESULTS" \
    "account=PAM_IGNORE open=PAM_SUCCESS close=PAM_SUCCESS"

pam_conf sudo "snapshot=$SNAPSHOT quiet"
sudo_as jitmallory account user=root open
expect_eq "quiet: still denied" "$RESULTS" "account=PAM_IGNORE open=PAM_PERM_DENIED"
expect_eq "quiet: nothing said" "$MSGS" ""
sudo_as jitdave
expect_eq "quiet: no grant notice" "$MSGS" ""

pam_conf sudo "snapshot=$SNAPSHOT frobnicate timeout=5 fail=sometimes exempt=Not-A-User debug"
sudo_as jitmallory account user=root open
expect_eq "bad arguments ignored, decision unchanged" "$RESULTS" \
    "account=PAM_IGNORE open=PAM_PERM_DENIED"
expect_contains "unknown argument logged" "$ERR" "ignoring unknown argument 'frobnicate'"
expect_contains "bad timeout logged" "$ERR" "ignoring timeout=5"
expect_contains "bad fail= logged" "$ERR" "ignoring fail=sometimes"
expect_contains "bad exempt entry logged" "$ERR" "ignoring exempt entry 'Not-A-User'"
expect_contains "debug: the bus attempt" "$ERR" "CheckLogin unreachable after"
expect_contains "session stack does not wait again" "$ERR" \
    "jitd did not answer an earlier call of this login"

pam_conf sshd "snapshot=$SNAPSHOT"
drive --service sshd account
expect_eq "no PAM_USER: fail closed" "$RESULTS" "account=PAM_USER_UNKNOWN"

# A screen locker checks its own user's account as that user (pam-auth-update puts pam_jit in
# common-account). Not being root, it cannot switch to another account, so it cannot use a
# grant: pam_jit leaves it alone instead of failing closed on a snapshot it cannot read.
note "a caller that is not root"
pam_conf sshd "snapshot=$SNAPSHOT debug"
before=$(spool_lines)
WRAP=(setpriv --reuid=jitalice --regid="$(id -g jitalice)" --init-groups)
drive --service sshd --user root account open
expect_eq "not root, jitd unreachable: ignored, not denied" "$RESULTS" \
    "account=PAM_IGNORE open=PAM_IGNORE"
drive --service sshd --user jitalice account
WRAP=()
expect_eq "not root, its own account: ignored" "$RESULTS" "account=PAM_IGNORE"
expect_contains "not root: said at debug level" "$ERR" "not running as root (euid $(id -u jitalice)), nothing to decide"
expect_not_contains "not root: nothing else logged" "$ERR" "snapshot"
expect_eq "not root: nothing spooled" "$(spool_lines)" "$before"
drive --service sshd --user root account
expect_eq "root again: decided as usual" "$RESULTS" "account=PAM_PERM_DENIED"

# --- over the bus, against a fake jitd --------------------------------------------------------
BUS=$PRIVATE_BUS
FAKE_PID=
start_fake() {
    : >"$T/fake.out"
    "$FAKE" "$@" >"$T/fake.out" 2>&1 &
    FAKE_PID=$!
    track_pid "$FAKE_PID"
    wait_until 10 grep -q READY "$T/fake.out" || die "fake jitd did not start: $(<"$T/fake.out")"
}
stop_fake() {
    stop_pid "$FAKE_PID" TERM
    wait_until 10 _name_released || die "io.jitd.Jit1 still owned"
}

note "bus: grant"
pam_conf sshd "snapshot=$SNAPSHOT"
start_fake --verdict grant --resource prod-db --resources prod-db --grant-id 7 \
    --expiry 1795709100 --session-id 42
drive --service sshd --user root --rhost 192.0.2.1 --tty ssh --env XDG_SESSION_ID=c5 \
    account open close
expect_eq "grant: ssh root" "$RESULTS" "account=PAM_SUCCESS open=PAM_SUCCESS close=PAM_SUCCESS"
expect_eq "grant: told once (account and session share the handle)" "$MSGS" \
    "MSG info jit: access granted by grant 7 on prod-db until 2026-11-26 16:05:00 UTC"
fake_calls=$(<"$T/fake.out")
expect_contains "CheckLogin arguments" "$fake_calls" \
    "CheckLogin service=sshd user=root ruser= rhost=192.0.2.1 tty=ssh"
expect_contains "OpenSession: pid of the opener, logind session" "$fake_calls" \
    "OpenSession service=sshd user=root ruser= rhost=192.0.2.1 tty=ssh pid=$DRIVER_PID logind_session=c5"
expect_contains "CloseSession with the registered id" "$fake_calls" "CloseSession id=42"
# One process, one login: the session call goes out on the account call's connection, which it
# then closes; the logout connects anew.
sender_of() { grep "^$1 " "$T/fake.out" | tail -n 1 | sed -n 's/.* sender=\([^ ]*\)$/\1/p'; }
expect_eq "one connection for the account and session calls" "$(sender_of OpenSession)" \
    "$(sender_of CheckLogin)"
expect_ne "the logout on a connection of its own" "$(sender_of CloseSession)" \
    "$(sender_of OpenSession)"
expect_contains "allow logged from jitd" "$ERR" "allowed (jitd): service=sshd requester=root target=root"
before=$(spool_lines)
sudo_as jitalice
expect_eq "sudo: ruser is the requester" "$(grep OpenSession "$T/fake.out" | tail -n 1 | cut -d' ' -f2-4)" \
    "service=sudo user=root ruser=jitalice"
expect_true "no logind session: empty" grep -qE 'OpenSession .*logind_session= ' "$T/fake.out"
expect_eq "answered by jitd: no spool line" "$(spool_lines)" "$before"
stop_fake

start_fake --verdict grant --resource prod-db --resources prod-db --grant-id 3 --expiry 0 --session-id 0
drive --service sshd --user root account open close
expect_eq "grant until revoked, no session id" "$RESULTS" \
    "account=PAM_SUCCESS open=PAM_SUCCESS close=PAM_SUCCESS"
expect_eq "until revoked" "$MSGS" "MSG info jit: access granted by grant 3 on prod-db until revoked"
expect_not_contains "no session registered: no CloseSession" "$(<"$T/fake.out")" CloseSession
stop_fake

note "bus: other verdicts"
start_fake --verdict deny --resources prod-db,ops
drive --service sshd --user root account
expect_eq "deny (account)" "$RESULTS" "account=PAM_PERM_DENIED"
expect_contains "deny names the resources" "$MSGS" 'one of the resources "prod-db", "ops"'
sudo_as jitalice account user=root open
expect_eq "deny (session, sudo)" "$RESULTS" "account=PAM_PERM_DENIED open=PAM_PERM_DENIED"
stop_fake
start_fake --verdict member --resource prod-db --resources prod-db
drive --service sshd --user root account open close
expect_eq "member" "$RESULTS" "account=PAM_SUCCESS open=PAM_SUCCESS close=PAM_SUCCESS"
expect_eq "member: nothing said" "$MSGS" ""
stop_fake
start_fake --verdict unmanaged
drive --service sshd --user root account open
expect_eq "unmanaged" "$RESULTS" "account=PAM_IGNORE open=PAM_IGNORE"
stop_fake
start_fake --verdict sideways
drive --service sshd --user root account
expect_eq "malformed reply: falls back (snapshot denies root)" "$RESULTS" "account=PAM_PERM_DENIED"
expect_contains "malformed reply logged" "$ERR" "malformed CheckLogin reply"
stop_fake

note "bus: jitd answers with an error"
# An error is an answer: decided from the snapshot in both modes, never opened by fail=open.
pam_conf sshd "snapshot=$SNAPSHOT fail=open"
for error in io.jitd.Jit1.Error.PermissionDenied io.jitd.Jit1.Error.Internal org.freedesktop.DBus.Error.Failed; do
    start_fake --error "$error"
    drive --service sshd --user root account open
    expect_eq "$error: decided from the snapshot even with fail=open (root denied)" "$RESULTS" \
        "account=PAM_PERM_DENIED open=PAM_PERM_DENIED"
    expect_contains "$error: logged" "$ERR" "jitd answered with an error, deciding from the snapshot: CheckLogin refused: $error"
    sudo_as jitalice
    expect_eq "$error: the snapshot's member is let in" "$RESULTS" \
        "account=PAM_IGNORE open=PAM_SUCCESS close=PAM_SUCCESS"
    stop_fake
done

note "bus: jitd not running"
pam_conf sudo "snapshot=$SNAPSHOT"
sudo_as jitdave
expect_eq "no owner of io.jitd.Jit1: snapshot decides" "$RESULTS" \
    "account=PAM_IGNORE open=PAM_SUCCESS close=PAM_SUCCESS"
expect_contains "cause logged" "$ERR" "org.freedesktop.DBus.Error.ServiceUnknown"

note "bus: the timeout bound"
# A login never waits longer than timeout plus a few milliseconds (pam_jit(8)). The bound checked
# here leaves room for a loaded CI machine; the measured times are printed.
TIMEOUT_MS=300
SLACK_MS=100
pam_conf sudo "snapshot=$SNAPSHOT timeout=${TIMEOUT_MS}ms"
pam_conf sshd "snapshot=$SNAPSHOT timeout=${TIMEOUT_MS}ms fail=open"
within_bound() { # DESCRIPTION MS
    if [[ $2 =~ ^[0-9]+$ ]] && (($2 >= TIMEOUT_MS - 5 && $2 <= TIMEOUT_MS + SLACK_MS)); then
        pass "$1: ${2} ms (timeout ${TIMEOUT_MS} ms)"
    else
        fail "$1: took '${2}' ms, want ${TIMEOUT_MS}..$((TIMEOUT_MS + SLACK_MS))"
    fi
}
# The session stack of a login whose account check already timed out falls back at once.
at_once() { # DESCRIPTION MS
    if [[ $2 =~ ^[0-9]+$ ]] && (($2 < SLACK_MS)); then
        pass "$1: ${2} ms"
    else
        fail "$1: took '${2}' ms, want < ${SLACK_MS} ms (the timeout is paid once per login)"
    fi
}
start_fake --verdict member --resource prod-db --resources prod-db
kill -STOP "$FAKE_PID"
sudo_as jitdave
expect_eq "jitd hung: snapshot decides" "$RESULTS" "account=PAM_IGNORE open=PAM_SUCCESS close=PAM_SUCCESS"
within_bound "jitd hung: account" "$MS_account"
at_once "jitd hung: open_session" "$MS_open"
expect_contains "jitd hung: timeout logged" "$ERR" "timed out"
drive --service sshd --user root account
expect_eq "jitd hung, fail=open" "$RESULTS" "account=PAM_IGNORE"
within_bound "jitd hung, fail=open" "$MS_account"
kill -CONT "$FAKE_PID"
stop_fake

# A slow jitd that answers: the account check uses 240 of the 300 ms, the session stack gets
# what is left, not a timeout of its own.
start_fake --verdict grant --resource prod-db --resources prod-db --grant-id 7 --expiry 0 \
    --session-id 42 --delay 240
sudo_as jitdave
expect_eq "slow jitd: account answered, the session decided by the snapshot" "$RESULTS" \
    "account=PAM_SUCCESS open=PAM_SUCCESS close=PAM_SUCCESS"
within_bound "slow jitd: account + session" "$((MS_account + MS_open))"
# Our deadline or sd-bus's call timeout (the same instant): either way OpenSession timed out.
expect_true "slow jitd: the session stack timed out" grep -qE \
    'session\): jitd unreachable, deciding from the snapshot: (timed out OpenSession|OpenSession failed: .*NoReply)' \
    <<<"$ERR"
expect_not_contains "slow jitd: no session registered, none closed" "$(<"$T/fake.out")" CloseSession
stop_fake
# Slow but in time for both stacks (250 ms each of a 600 ms timeout): the session is
# registered, and the logout, no part of the login, unregisters it with a timeout of its own.
pam_conf sudo "snapshot=$SNAPSHOT timeout=600ms"
start_fake --verdict grant --resource prod-db --resources prod-db --grant-id 7 --expiry 0 \
    --session-id 42 --delay 250
sudo_as jitdave
expect_eq "slow jitd in time: all answered" "$RESULTS" \
    "account=PAM_SUCCESS open=PAM_SUCCESS close=PAM_SUCCESS"
expect_contains "slow jitd in time: the session stack asked jitd" "$(<"$T/fake.out")" OpenSession
expect_contains "slow jitd in time: the logout unregistered the session" "$(<"$T/fake.out")" \
    "CloseSession id=42"
expect_not_contains "slow jitd in time: nothing fell back" "$ERR" "jitd unreachable"
stop_fake
pam_conf sudo "snapshot=$SNAPSHOT timeout=${TIMEOUT_MS}ms"

kill -STOP "$DBUS_PID"
sudo_as jitdave
expect_eq "dbus-daemon hung: snapshot decides" "$RESULTS" \
    "account=PAM_IGNORE open=PAM_SUCCESS close=PAM_SUCCESS"
within_bound "dbus-daemon hung: account" "$MS_account"
at_once "dbus-daemon hung: open_session" "$MS_open"
expect_contains "dbus-daemon hung: logged" "$ERR" "timed out connecting to the system bus"
drive --service sshd --user root account
within_bound "dbus-daemon hung, fail=open" "$MS_account"
kill -CONT "$DBUS_PID"
expect_eventually 10 "bus answers again" busctl --system list --no-pager

# --- against the real jitd -------------------------------------------------------------------
JSNAP=$T/run/snapshot
JSPOOL=$T/run/fallback.log
BUS=$PRIVATE_BUS
pam_conf sudo "snapshot=$JSNAP timeout=2s"
jitd_start
for cmd in "resource add prod-db --service sshd --service sudo --account root --member jitalice" \
    "policy add prod-db-auto --action auto-approve --max-duration 1h" \
    "policy assign prod-db-auto prod-db" "policy activate prod-db-auto"; do
    # shellcheck disable=SC2086 # word splitting wanted
    as root jitctl $cmd >/dev/null 2>"$T/.setup" || die "jitctl $cmd: $(<"$T/.setup")"
done
# What jitd's RFC 3339 expiry looks like in pam_jit's notice.
notice_time() { local t=${1%Z}; echo "${t/T/ } UTC"; }

note "jitd: decisions"
sudo_as jitdave account user=root open
expect_eq "jitd: no grant, sudo to root refused" "$RESULTS" "account=PAM_IGNORE open=PAM_PERM_DENIED"
expect_eq "jitd: the message" "$MSGS" \
    'MSG error jit: access to root on this host requires a grant on resource "prod-db". Request it with: jitctl request prod-db --reason "..." --duration 1h'
expect_contains "jitd: decided by jitd" "$ERR" "denied (jitd): service=sudo requester=jitdave target=root"
expect_eq "jitd: denial audited" \
    "$(audit_json --event login_denied | jq -r '.[-1] | [.user, .target, .service, .resource] | join(" ")')" \
    "jitdave root sudo prod-db"
sudo_as jitalice
expect_eq "jitd: standing member" "$RESULTS" "account=PAM_IGNORE open=PAM_SUCCESS close=PAM_SUCCESS"

grant=$(new_grant jitdave prod-db 1h)
[[ $grant =~ ^[0-9]+$ ]] || die "no grant: $grant"
expiry=$(grant_json "$grant" | jq -r .expiry)
sudo_as jitdave
expect_eq "jitd: under a grant" "$RESULTS" "account=PAM_IGNORE open=PAM_SUCCESS close=PAM_SUCCESS"
expect_eq "jitd: grant notice" "$MSGS" \
    "MSG info jit: access granted by grant $grant on prod-db until $(notice_time "$expiry")"
session=$(as root jitctl --json sessions --all | jq -c --argjson g "$grant" '[.[] | select(.grant_id == $g)] | last')
jq_eq "jitd: session registered with the opener's pid" "$session" .pid "$DRIVER_PID"
jq_eq "jitd: session fields" "$session" '[.user, .target, .service, .tty] | join(" ")' \
    "jitdave root sudo /dev/pts/9"
jq_eq "jitd: closed at close_session" "$session" .state closed

note "jitd: a session ended with its grant"
mkfifo "$T/hold"
(exec env DBUS_SYSTEM_BUS_ADDRESS="$BUS" "$DRIVER" run --confdir "$T/pam.d" --service sudo \
    --user jitdave --ruser jitdave --tty /dev/pts/8 --env XDG_SESSION_ID= \
    account user=root open wait close <"$T/hold" >"$T/held.out" 2>"$T/held.err") &
held=$!
track_pid "$held"
exec 7>"$T/hold"
expect_eventually 10 "held session opened" grep -q '^open PAM_SUCCESS' "$T/held.out"
jq_eq "jitd: the held session is open" \
    "$(as root jitctl --json sessions --all | jq -c --argjson p "$held" '.[] | select(.pid == $p)')" .state open
as root jitctl revoke "$grant" --reason "pam_module_test" >/dev/null 2>&1 || fail "revoke $grant"
expect_eventually 15 "jitd ended the session's process at revocation" _pid_gone "$held"
exec 7>&-
sudo_as jitdave account user=root open
expect_eq "jitd: after revocation, refused" "$RESULTS" "account=PAM_IGNORE open=PAM_PERM_DENIED"

note "jitd: stopped, hung, back"
grant=$(new_grant jitdave prod-db 1h)
[[ $grant =~ ^[0-9]+$ ]] || die "no grant: $grant"
expect_eventually 10 "jitd's snapshot holds the grant" grep -q "^grant $grant " "$JSNAP"
jitd_stop
rm -f "$JSPOOL"
sudo_as jitdave
expect_eq "jitd stopped: grant honoured from its snapshot" "$RESULTS" \
    "account=PAM_IGNORE open=PAM_SUCCESS close=PAM_SUCCESS"
expect_contains "jitd stopped: notice" "$MSGS" "access granted by grant $grant on prod-db"
sudo_as jitmallory account user=root open
expect_eq "jitd stopped: no grant, refused" "$RESULTS" "account=PAM_IGNORE open=PAM_PERM_DENIED"
expect_eq "jitd stopped: spooled" "$(cut -f2-4 "$JSPOOL" | tr '\t' ' ' | xargs -d '\n')" \
    "allowed sudo jitdave allowed sudo root allowed sudo jitmallory denied sudo root"
jitd_restart
expect_eventually 10 "jitd back: spool audited and emptied" test ! -s "$JSPOOL"
expect_eq "jitd back: fallback decisions in the audit log" \
    "$(audit_json --event login_fallback | jq -r '[.[] | .user + ":" + .target + ":" + .outcome] | join(" ")')" \
    "jitdave:jitdave:allowed jitdave:root:allowed jitmallory:jitmallory:allowed jitmallory:root:denied"

pam_conf sudo "snapshot=$JSNAP timeout=${TIMEOUT_MS}ms"
kill -STOP "$JITD_PID"
sudo_as jitdave
kill -CONT "$JITD_PID"
expect_eq "jitd hung: grant honoured from its snapshot" "$RESULTS" \
    "account=PAM_IGNORE open=PAM_SUCCESS close=PAM_SUCCESS"
within_bound "jitd hung: account" "$MS_account"
at_once "jitd hung: open_session" "$MS_open"

note "jitd: a caller that is not root"
pam_conf sshd "snapshot=$JSNAP"
WRAP=(setpriv --reuid=jitalice --regid="$(id -g jitalice)" --init-groups)
drive --service sshd --user root account open
WRAP=()
expect_eq "not root: jitd not asked, ignored" "$RESULTS" "account=PAM_IGNORE open=PAM_IGNORE"
expect_not_contains "not root: no refusal" "$ERR" "PermissionDenied"
jitd_stop

# --- valgrind ---------------------------------------------------------------------------------
# A sanitizer build cannot run under valgrind, nor be loaded by the uninstrumented pamtester;
# there the sanitizers themselves check every driver run above.
if readelf -d "$MODULE" | grep -q 'libasan'; then
    note "valgrind skipped: sanitizer build"
elif ! command -v valgrind >/dev/null; then
    fail "valgrind is not installed"
else
    note "valgrind"
    WRAP=(valgrind -q --leak-check=full --error-exitcode=99)
    valgrind_clean() { # DESCRIPTION
        if [[ $RC == 0 && $ERR != *"=="[0-9]*"=="* ]]; then
            pass "$1: valgrind clean"
        else
            fail "$1: valgrind exit $RC: ${ERR:0:2000}"
        fi
    }
    pam_conf sudo "snapshot=$SNAPSHOT"
    BUS=$NO_BUS
    sudo_as jitdave
    valgrind_clean "fallback grant"
    sudo_as jitmallory
    valgrind_clean "fallback deny"
    pam_conf sshd "snapshot=$FB/missing"
    drive --service sshd --user root account
    valgrind_clean "no snapshot"
    BUS=$PRIVATE_BUS
    pam_conf sshd "snapshot=$SNAPSHOT"
    start_fake --verdict grant --resource prod-db --resources prod-db --grant-id 7 --expiry 0 --session-id 9
    drive --service sshd --user root --env XDG_SESSION_ID=c1 account open close
    valgrind_clean "jitd grant, session opened and closed"
    stop_fake
    start_fake --error io.jitd.Jit1.Error.PermissionDenied
    drive --service sshd --user root account
    valgrind_clean "jitd refusal"
    stop_fake
    pam_conf sshd "snapshot=$SNAPSHOT timeout=500ms"
    kill -STOP "$DBUS_PID"
    drive --service sshd --user root account
    kill -CONT "$DBUS_PID"
    valgrind_clean "dbus-daemon hung"
    WRAP=()

    # pamtester reads /etc/pam.d: ours is a bind mount inside this test's mount namespace.
    mkdir "$T/etc-pam.d"
    printf 'account required %s snapshot=%s\nsession required %s snapshot=%s\n' \
        "$MODULE" "$SNAPSHOT" "$MODULE" "$SNAPSHOT" >"$T/etc-pam.d/sudo"
    mount --bind "$T/etc-pam.d" /etc/pam.d || die "cannot bind $T/etc-pam.d over /etc/pam.d"
    run env DBUS_SYSTEM_BUS_ADDRESS="$NO_BUS" valgrind -q --leak-check=full --error-exitcode=99 \
        pamtester -v -I ruser=jitdave -I tty=/dev/pts/9 sudo root acct_mgmt open_session close_session
    valgrind_clean "pamtester, fallback grant"
    expect_contains "pamtester: the session opened" "$OUT$ERR" "successfully opened a session"
fi

finish
