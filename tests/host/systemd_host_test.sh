#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# jit on a real systemd host (issue 4): boots a Debian 12 container (systemd PID 1, journald,
# the system bus, logind, sshd), installs this build there, runs jitd as a systemd service and
# puts pam_jit into sshd's and sudo's PAM stacks. Then the story: alice's ssh login is refused
# without a grant; bob approves her request; two ssh sessions of hers run, one with a sudo inside
# and a `sudo setsid -f` whose process leaves sudo's tree (jitd gave that sudo a transient scope
# of its own); jitd warns on their terminals before expiry; at expiry it ends all of it (the ssh
# sessions through logind, the sudo sessions by their scopes, the escaped process too), the next
# login is refused again, and the journal holds the audit trail.
#
# Usage: systemd_host_test.sh [BUILD_DIR]   (default $JIT_BUILD_DIR, else SOURCE/build)
# BUILD_DIR must hold jitd/jitd, jitctl/jitctl and pam_jit/pam_jit.so. Needs root, mmdebstrap
# and systemd-container on the host (exit 77 = skipped without them). See lib/container.sh for
# the rootfs cache.

# shellcheck disable=SC2317  # the predicates below are called through wait_until
set -uo pipefail

HOST_TEST_DIR=$(cd "$(dirname "$0")" && pwd)
: "${JIT_SOURCE_DIR:=$(cd "$HOST_TEST_DIR/../.." && pwd)}"
JIT_BUILD_DIR=${1:-${JIT_BUILD_DIR:-$JIT_SOURCE_DIR/build}}

if [[ $EUID -ne 0 ]]; then
    echo "SKIP: booting a container needs root" >&2
    exit 77
fi
for tool in mmdebstrap systemd-nspawn nsenter jq; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIP: $tool is not installed (apt-get install mmdebstrap systemd-container jq)" >&2
        exit 77
    fi
done

source "$HOST_TEST_DIR/lib/check.sh"
source "$HOST_TEST_DIR/lib/container.sh"

JIT_BUILD_DIR=$(cd "$JIT_BUILD_DIR" 2>/dev/null && pwd) || die "no build dir '$JIT_BUILD_DIR'"
for artifact in jitd/jitd jitctl/jitctl pam_jit/pam_jit.so; do
    [[ -f $JIT_BUILD_DIR/$artifact ]] || die "$JIT_BUILD_DIR/$artifact is missing: build jitd jitctl pam_jit"
done

# The story's clock: the policy caps grants at MAX_DURATION; jitd warns WARN_BEFORE ahead of
# expiry and gives processes KILL_GRACE between SIGTERM and SIGKILL.
MAX_DURATION=20
WARN_BEFORE=8
KILL_GRACE=2

SSH_OPTS=("${CONTAINER_SSH_OPTS[@]}")
c() { container_exec "$@"; }
as() { container_as "$@"; }  # see lib/container.sh
alice_logind_sessions() { c loginctl list-sessions --no-legend | awk '$3 == "alice" { print $1 }' | sort -n; }
has_alice_session() { [[ -n $(alice_logind_sessions) ]]; }
two_alice_sessions() { [[ $(alice_logind_sessions | wc -l) == 2 ]]; }
no_alice_session() { [[ -z $(alice_logind_sessions) ]]; }
story_processes() { c pgrep -af '^(sudo -n )?sleep 100[0-3]$'; }
no_story_processes() { ! story_processes >/dev/null; }
three_sessions_registered() {
    [[ $(as alice jitctl --json sessions | jq 'length') == 3 ]]
}
jitd_ready() { c busctl --system status io.jitd.Jit1 >/dev/null 2>&1; }

# --- the host ---------------------------------------------------------------------------------
CONTAINER_BUILD_DIR=$JIT_BUILD_DIR
boot_started=$SECONDS
container_boot jit-host "--bind-ro=$JIT_SOURCE_DIR:/opt/jit-src" || die "the container did not boot"
pass "container booted with systemd, logind and the system bus ($((SECONDS - boot_started))s incl. rootfs)"

expect_exit 0 -m "runtime libraries of jitd, jitctl and pam_jit.so are in the rootfs" \
    c bash -c '! ldd /opt/jit/jitd/jitd /opt/jit/jitctl/jitctl /opt/jit/pam_jit/pam_jit.so | grep "not found"'

# Install like a package would; a unit file from the tree when there is one. Everything lands in
# the container's tmpfs overlay and vanishes with it.
UNIT_FILE=$JIT_SOURCE_DIR/systemd/jitd.service
note "installing the build into the container"
if ! c bash -euxs >"$CHECK_TMP/install.log" 2>&1 <<EOF; then
security_dir=\$(dirname "\$(find /lib /usr/lib -path '*/security/pam_unix.so' -print -quit)")
install -m 0755 /opt/jit/jitd/jitd /usr/sbin/jitd
install -m 0755 /opt/jit/jitctl/jitctl /usr/bin/jitctl
install -m 0644 /opt/jit/pam_jit/pam_jit.so "\$security_dir/pam_jit.so"
install -m 0644 /opt/jit-src/dbus/io.jitd.Jit1.conf /usr/share/dbus-1/system.d/io.jitd.Jit1.conf
systemctl reload dbus

install -d -m 0755 /etc/jit
cat >/etc/jit/jitd.conf <<CONF
[daemon]
min_duration = 5s
kill_grace = ${KILL_GRACE}s
warn_before = ${WARN_BEFORE}s
CONF

groupadd -f jit-admin
useradd -m -s /bin/bash alice
useradd -m -s /bin/bash bob
useradd -m -s /bin/bash -G jit-admin carol
ssh-keygen -q -t ed25519 -N '' -C alice -f /root/alice_key
install -d -m 0700 -o alice -g alice /home/alice/.ssh
install -m 0600 -o alice -g alice /root/alice_key.pub /home/alice/.ssh/authorized_keys
echo 'alice ALL=(root) NOPASSWD: ALL' >/etc/sudoers.d/alice
chmod 0440 /etc/sudoers.d/alice

# pam_jit(8): account, and session after pam_systemd (which common-session runs).
for service in sshd sudo; do
    printf '%s\n' 'account required pam_jit.so' 'session required pam_jit.so' >>/etc/pam.d/\$service
done
EOF
    cat "$CHECK_TMP/install.log"
    die "installing the build failed"
fi
pass "installed jitd, jitctl, pam_jit.so, the bus policy, users and PAM lines"

if [[ -f $UNIT_FILE ]]; then
    note "starting jitd from $UNIT_FILE"
    exec_path=$(sed -n 's/^ExecStart=[-@:+!]*\([^ ]*\).*/\1/p' "$UNIT_FILE" | head -n1)
    [[ -n $exec_path && $exec_path != /usr/sbin/jitd ]] && c install -D -m 0755 /opt/jit/jitd/jitd "$exec_path"
    c install -m 0644 /opt/jit-src/systemd/jitd.service /etc/systemd/system/jitd.service
    if [[ -f $JIT_SOURCE_DIR/dbus/io.jitd.Jit1.service ]]; then
        c install -D -m 0644 /opt/jit-src/dbus/io.jitd.Jit1.service \
            /usr/share/dbus-1/system-services/io.jitd.Jit1.service
    fi
    c systemctl daemon-reload
    expect_exit 0 -m "systemctl start jitd (unit file)" c systemctl start jitd
else
    note "no systemd/jitd.service in the tree: starting jitd with systemd-run"
    expect_exit 0 -m "systemd-run --unit=jitd (Type=notify)" \
        c systemd-run --unit=jitd -p Type=notify -p StateDirectory=jitd -p RuntimeDirectory=jitd \
        /usr/sbin/jitd
fi
if ! wait_until 10 jitd_ready; then
    c journalctl --no-pager -u jitd | tail -n 30
    die "jitd does not own io.jitd.Jit1 on the container's system bus"
fi
expect_eq "jitd service state" "$(c systemctl is-active jitd)" active
expect_exit 0 -m "jitctl status as a plain user over the system bus" as alice jitctl status

# --- the admin's steps ------------------------------------------------------------------------
expect_exit 0 -m "carol (jit-admin) adds resource prod-shell (sshd+sudo, accounts alice and root)" \
    as carol jitctl resource add prod-shell --description "Shell on this host" \
    --service sshd --service sudo --account alice --account root
expect_exit 0 -m "carol adds policy shell-jit (approver bob, max ${MAX_DURATION}s)" \
    as carol jitctl policy add shell-jit --approver bob --max-duration "${MAX_DURATION}s"
expect_exit 0 -m "carol assigns shell-jit to prod-shell" as carol jitctl policy assign shell-jit prod-shell
expect_exit 0 -m "carol activates shell-jit" as carol jitctl policy activate shell-jit

# --- no grant: refused ------------------------------------------------------------------------
expect_exit 255 -m "ssh alice@localhost refused without a grant" c ssh "${SSH_OPTS[@]}" alice@localhost true
expect_contains "ssh tells alice how to request access" "$ERR" "jitctl request prod-shell"
expect_exit 1 -m "sudo -n true refused for alice without a grant" as alice sudo -n true
expect_contains "sudo tells alice how to request access" "$ERR" "jitctl request prod-shell"
expect_eq "no logind session of alice" "$(alice_logind_sessions)" ""

# --- request, approval, grant -----------------------------------------------------------------
expect_exit 0 -m "alice requests prod-shell for 1h" \
    as alice jitctl --json request prod-shell --reason "Restart the stuck worker (INC-42)" --duration 1h
REQ=$(jq -r .id <<<"$OUT")
jq_eq "request capped to the policy max" "$OUT" '"\(.capped) \(.duration)"' "true $MAX_DURATION"
expect_exit 0 -m "bob approves request $REQ" as bob jitctl approve "$REQ"
expect_exit 0 -m "alice's grants" as alice jitctl --json grants
GRANT=$(jq -r '.[0].id' <<<"$OUT")
EXPIRY=$(jq -r '.[0].expiry' <<<"$OUT")
jq_eq "alice holds one active grant on prod-shell" "$OUT" '[.[] | "\(.resource) \(.state)"] | join(",")' \
    "prod-shell active"
EXPIRY_EPOCH=$(date -u -d "$EXPIRY" +%s) || die "grant expiry '$EXPIRY' is not a time"

# --- the logins and a sudo inside one --------------------------------------------------------
# ssh runs as transient services inside the container (their output, with jitd's warnings written
# to the session's terminal, goes to the journal); -tt gives the sessions a pty.
expect_exit 0 -m "alice logs in over ssh and runs sudo -n sleep inside (unit alice-ssh)" \
    c systemd-run --unit=alice-ssh --quiet ssh -tt "${SSH_OPTS[@]}" alice@localhost \
    'sudo -n setsid -f sleep 1003; sudo -n sleep 1001 & sleep 1000'
if ! wait_until 10 has_alice_session; then
    fail "no logind session of alice appeared; ssh said: $(c journalctl --no-pager -u alice-ssh -o cat | tail -n 5)"
fi
expect_exit 0 -m "alice logs in over ssh a second time, no sudo (unit alice-ssh2)" \
    c systemd-run --unit=alice-ssh2 --quiet ssh -tt "${SSH_OPTS[@]}" alice@localhost 'sleep 1002'
if wait_until 10 two_alice_sessions; then
    mapfile -t LOGIND_SESSIONS < <(alice_logind_sessions)
    pass "logind sessions ${LOGIND_SESSIONS[*]} of alice exist"
else
    fail "alice does not have 2 logind sessions: '$(alice_logind_sessions | paste -sd' ')'; ssh said: $(c journalctl --no-pager -u alice-ssh2 -o cat | tail -n 5)"
    LOGIND_SESSIONS=()
fi
if wait_until 10 three_sessions_registered; then
    pass "jitd registered the two ssh sessions and the sudo session"
else
    fail "jitd does not list 3 open sessions of alice: $(as alice jitctl --json sessions)"
fi
run as alice jitctl --json sessions
jq_eq "the ssh sessions carry logind's ids" "$OUT" \
    '[.[] | select(.service == "sshd") | "\(.grant_id) \(.target) \(.logind_session)"] | sort | join(",")' \
    "$(for id in "${LOGIND_SESSIONS[@]}"; do echo "$GRANT alice $id"; done | sort | paste -sd,)"
jq_eq "the sudo session runs as root under the same grant" "$OUT" \
    '.[] | select(.service == "sudo") | "\(.grant_id) \(.user) \(.target)"' "$GRANT alice root"
# sudo with use_pty (Debian's default) runs as two processes.
expect_eq "sleep under ssh and sudo run" "$(story_processes | cut -d' ' -f2- | sort -u | paste -sd,)" \
    "sleep 1000,sleep 1001,sleep 1002,sleep 1003,sudo -n sleep 1001"
# `sudo setsid -f` left sudo's process tree and its logind session: jitd gave that sudo session
# a transient scope of its own, where the escaped process still runs; the grant's end stops it.
ESCAPED_CGROUP=$(c sh -c 'cat /proc/$(pgrep -xf "sleep 1003")/cgroup')
expect_contains "sudo setsid -f: the escaped process runs in a jit scope" "$ESCAPED_CGROUP" \
    "/jit-session-"

# jitd(8): a restart reloads the sessions and kills nothing; the grant's timers are re-armed.
JITD_PID_BEFORE=$(c systemctl show -P MainPID jitd)
expect_exit 0 -m "systemctl restart jitd while the sessions run" c systemctl restart jitd
wait_until 10 jitd_ready || fail "jitd does not own io.jitd.Jit1 after the restart"
JITD_PID_AFTER=$(c systemctl show -P MainPID jitd)
if [[ $JITD_PID_AFTER != 0 && $JITD_PID_AFTER != "$JITD_PID_BEFORE" ]]; then
    pass "jitd runs again as a new process ($JITD_PID_BEFORE -> $JITD_PID_AFTER)"
else
    fail "jitd's main pid after the restart: '$JITD_PID_AFTER' (before: $JITD_PID_BEFORE)"
fi
expect_eq "after the restart: the same logind sessions" "$(alice_logind_sessions | paste -sd' ')" \
    "${LOGIND_SESSIONS[*]}"
expect_eq "after the restart: the same processes" \
    "$(story_processes | cut -d' ' -f2- | sort -u | paste -sd,)" "sleep 1000,sleep 1001,sleep 1002,sleep 1003,sudo -n sleep 1001"
run as alice jitctl --json sessions
jq_eq "after the restart: jitd still lists the 3 open sessions" "$OUT" 'length' 3

# --- expiry -----------------------------------------------------------------------------------
note "waiting for the grant to expire at $EXPIRY"
# Milliseconds from the grant's expiry until now.
ms_after_expiry() { echo $(((${EPOCHREALTIME/./} - EXPIRY_EPOCH * 1000000) / 1000)); }
wait_for=$((EXPIRY_EPOCH - $(date +%s) + KILL_GRACE + 10))
if wait_until "$wait_for" no_alice_session; then
    pass "alice's logind sessions are gone $(ms_after_expiry) ms after expiry"
else
    fail "alice still has logind session(s) $(alice_logind_sessions | paste -sd' ') $(ms_after_expiry) ms after expiry"
fi
if wait_until $((KILL_GRACE + 1)) no_story_processes; then
    gone_ms=$(ms_after_expiry)
    pass "the processes of the ssh sessions and of the sudo are gone ($gone_ms ms after expiry)"
    if ((gone_ms <= (KILL_GRACE + 1) * 1000)); then
        pass "they were gone within kill_grace + 1s"
    else
        fail "they took $gone_ms ms, more than kill_grace + 1s"
    fi
else
    fail "still running after expiry + kill_grace: $(story_processes | paste -sd,)"
fi
WARNING="jit: your access to prod-shell ends at"
for unit in alice-ssh alice-ssh2; do
    expect_eq "the ssh client of $unit ended" "$(c systemctl show -P ActiveState "$unit")" failed
    expect_contains "$unit was told by pam_jit until when the grant lasts" \
        "$(c journalctl --no-pager -u "$unit" -o cat)" "jit: access granted by grant $GRANT on prod-shell until"
done
# The sudo session's PAM_TTY is the ssh session's pty: alice-ssh gets its warning through it.
expect_contains "jitd warned on the terminal of the ssh session with sudo before expiry" \
    "$(c journalctl --no-pager -u alice-ssh -o cat)" "$WARNING"
expect_contains "jitd warned on the terminal of the plain ssh session before expiry" \
    "$(c journalctl --no-pager -u alice-ssh2 -o cat)" "$WARNING"
expect_exit 0 -m "alice's grants --all" as alice jitctl --json grants --all
jq_eq "the grant expired" "$OUT" ".[] | select(.id == $GRANT) | .state" expired
expect_exit 0 -m "alice's sessions --all" as alice jitctl --json sessions --all
# The sudo that ran setsid -f returned at once: its session closed, its escaped process ended
# with the grant all the same (above).
jq_eq "the live sessions were terminated, the setsid sudo's had closed" "$OUT" \
    "[.[] | select(.grant_id == $GRANT) | \"\(.service) \(.state)\"] | sort | join(\",\")" \
    "sshd terminated,sshd terminated,sudo closed,sudo terminated"

expect_exit 255 -m "ssh alice@localhost refused after expiry" c ssh "${SSH_OPTS[@]}" alice@localhost true
expect_contains "ssh tells alice how to request access again" "$ERR" "jitctl request prod-shell"
expect_exit 1 -m "sudo -n true refused for alice after expiry" as alice sudo -n true

# --- the audit trail in the journal -----------------------------------------------------------
EVENTS=$(c journalctl --no-pager -o json SYSLOG_IDENTIFIER=jitd)
journal_has() {
    local desc=$1 filter=$2 want=$3 got
    got=$(jq -rs "[.[] | select(.JIT_EVENT != null) | $filter] | length" <<<"$EVENTS" 2>&1)
    expect_eq "journal: $desc" "$got" "$want"
}
journal_has "login_denied for ssh and sudo before the grant and after expiry" \
    'select(.JIT_EVENT == "login_denied" and .JIT_USER == "alice")' 4
journal_has "requested, capped" \
    "select(.JIT_EVENT == \"requested\" and .JIT_REQUEST_ID == \"$REQ\" and .JIT_CAPPED == \"true\")" 1
journal_has "approved by bob" \
    "select(.JIT_EVENT == \"approved\" and .JIT_REQUEST_ID == \"$REQ\" and .JIT_ACTOR == \"bob\")" 1
journal_has "granted" "select(.JIT_EVENT == \"granted\" and .JIT_GRANT_ID == \"$GRANT\")" 1
journal_has "session_opened for two ssh sessions and two sudo" \
    "select(.JIT_EVENT == \"session_opened\" and .JIT_GRANT_ID == \"$GRANT\")" 4
journal_has "expired by the system" \
    "select(.JIT_EVENT == \"expired\" and .JIT_GRANT_ID == \"$GRANT\" and .JIT_ACTOR == \"system\")" 1
for id in "${LOGIND_SESSIONS[@]}"; do
    journal_has "session_terminated for the ssh session with logind id $id" \
        "select(.JIT_EVENT == \"session_terminated\" and .JIT_SERVICE == \"sshd\" and .JIT_LOGIND_SESSION == \"$id\")" 1
done
journal_has "session_terminated for the sudo session" \
    "select(.JIT_EVENT == \"session_terminated\" and .JIT_SERVICE == \"sudo\" and .JIT_TARGET == \"root\")" 1
journal_has "one session_closed (the setsid sudo): terminated sessions stay terminated" \
    "select(.JIT_EVENT == \"session_closed\" and .JIT_GRANT_ID == \"$GRANT\")" 1
journal_has "every audit event has a MESSAGE_ID and JIT_SEQ" \
    'select(.MESSAGE_ID == null or .JIT_SEQ == null)' 0
expect_exit 0 -m "the SQLite audit chain verifies (jitctl audit verify)" as carol jitctl audit verify
expect_exit 0 -m "jitctl audit lists the terminations" \
    as carol jitctl --json audit --event session_terminated --user alice
jq_eq "jitctl audit: 3 session_terminated events of grant $GRANT" "$OUT" \
    "[.[] | select(.grant_id == \"$GRANT\" or .grant_id == $GRANT)] | length" 3

if ((CHECK_FAILED > 0)); then
    note "jitd's journal in the container:"
    c journalctl --no-pager -o short-precise -u jitd | tail -n 60
fi
finish
