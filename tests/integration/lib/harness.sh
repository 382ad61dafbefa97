# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Integration test harness: sourced by every tests/integration/*_test.sh.
#
# On sourcing it re-executes the test inside a private mount namespace, then gives the test a
# world of its own: a temp dir $T, a private systemd-journald (tmpfs over the journal
# directories), a private system dbus-daemon that loads OUR bus policy from the source tree
# (its socket dir is also bind-mounted over /run/dbus, so setuid programs such as sudo find it),
# the test users, and helpers to start jitd and act as those users. Everything it starts is
# killed on exit; the mounts vanish with the namespace.
#
# Environment (set by tests/integration/CMakeLists.txt; defaults for running a script by hand):
#   JIT_SOURCE_DIR  source tree (default: two levels above this file's directory)
#   JIT_BUILD_DIR   build tree holding jitd/jitd and jitctl/jitctl (default: $JIT_SOURCE_DIR/build)
#   JIT_KEEP_TMP=1  keep $T after the run (it is printed)
#
# Test users (created idempotently, shared by all tests):
#   jitadmin (jit-admin)  jitaudit (jit-audit)  jitalice jitbob jitcarol jitdave  jitmallory
#   jit-approvers = jitbob, jitcarol
#
# The assertions (pass, fail, expect_*, wait_until, finish, die) are scripts/lib/check.sh's.

# --- namespace --------------------------------------------------------------------------------
if [[ $EUID -ne 0 ]]; then
    echo "SKIP: integration tests need root (users, mounts, journald)" >&2
    exit 77
fi
if [[ -z ${JIT_HARNESS_NS:-} ]]; then
    export JIT_HARNESS_NS=$$
    exec unshare --mount --propagation private -- bash "$0" "$@"
fi

set -uo pipefail
shopt -s extglob

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${JIT_SOURCE_DIR:=$(cd "$HARNESS_DIR/../../.." && pwd)}"
: "${JIT_BUILD_DIR:=$JIT_SOURCE_DIR/build}"
export JIT_SOURCE_DIR JIT_BUILD_DIR
# shellcheck source=../../../scripts/lib/private_bus.sh
source "$JIT_SOURCE_DIR/scripts/lib/private_bus.sh"
# shellcheck source=../../../scripts/lib/check.sh
source "$JIT_SOURCE_DIR/scripts/lib/check.sh"
TEST_NAME=$CHECK_NAME
# jitctl's refusals are one line on stderr; the assertions hold every test to that.
CHECK_ONE_LINE_ERRORS=1
CHECK_CLEANUP=_harness_finish

# Sanitizer builds: report and fail loudly; a leak in a CLI run is a failure too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LC_ALL=C.UTF-8 TZ=UTC

HARNESS_PIDS=()  # background processes to kill on exit
JITD_PID=
JITD_STATUS= # exit status of the last jitd_stop/jitd_kill
JOURNALD_PID=
DBUS_PID=

# --- processes --------------------------------------------------------------------------------
track_pid() { HARNESS_PIDS+=("$1"); }

# stop_pid PID [SIGNAL]: signal it and reap it (SIGKILL after 10s).
stop_pid() {
    local pid=$1 sig=${2:-TERM}
    kill -0 "$pid" 2>/dev/null || {
        wait "$pid" 2>/dev/null
        return 0
    }
    kill "-$sig" "$pid" 2>/dev/null
    if ! wait_until 10 _pid_gone "$pid"; then
        kill -KILL "$pid" 2>/dev/null
    fi
    { wait "$pid"; } 2>/dev/null
    return 0
}
_pid_gone() { ! kill -0 "$1" 2>/dev/null || [[ $(ps -o stat= -p "$1" 2>/dev/null) == Z* ]]; }

harness_cleanup() {
    local pid
    if [[ -n $JITD_PID ]]; then
        # jitd must still run, and stop cleanly (exit 0, so no leak report either) on SIGTERM.
        if ! kill -0 "$JITD_PID" 2>/dev/null; then
            { wait "$JITD_PID"; } 2>/dev/null
            pid=$?
            fail "jitd died during the test (status $pid)"
        else
            kill -TERM "$JITD_PID"
            kill -CONT "$JITD_PID" 2>/dev/null # a test may have left it stopped
            wait_until 20 _pid_gone "$JITD_PID" || kill -KILL "$JITD_PID" 2>/dev/null
            { wait "$JITD_PID"; } 2>/dev/null
            pid=$?
            if ((pid != 0)); then
                fail "jitd exited with status $pid on SIGTERM at the end"
            fi
        fi
        JITD_PID=
    fi
    for pid in "${HARNESS_PIDS[@]}"; do stop_pid "$pid" TERM; done
    [[ -n $DBUS_PID ]] && stop_pid "$DBUS_PID" TERM
    [[ -n $JOURNALD_PID ]] && stop_pid "$JOURNALD_PID" TERM
    if [[ -n ${T:-} && -d $T ]]; then
        if [[ -s $T/jitd.log ]] && sanitizer_report "$T/jitd.log" >/dev/null; then
            fail "sanitizer report in jitd.log:"
            grep -E -A30 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$T/jitd.log" | head -60
        fi
        if ((CHECK_FAILED > 0)) && [[ -s $T/jitd.log ]]; then
            printf -- '--- last lines of jitd.log ---\n'
            tail -n 40 "$T/jitd.log"
            printf -- '---\n'
        fi
        if [[ ${JIT_KEEP_TMP:-0} == 1 ]]; then
            printf 'kept %s\n' "$T"
        else
            rm -rf "$T"
        fi
    fi
}
# finish's first step: the EXIT trap is finish itself.
_harness_finish() {
    trap - EXIT
    harness_cleanup
}
trap 'finish' EXIT

# --- temp dir and binaries --------------------------------------------------------------------
T=$(mktemp -d "${TMPDIR:-/tmp}/jit-$TEST_NAME.XXXXXX") || exit 1
chmod 0755 "$T"
CHECK_TMP=$T
mkdir -p "$T/bin" "$T/run"

JITD=$JIT_BUILD_DIR/jitd/jitd
# jitctl is copied where every test user can run it (the build tree may be under /root).
JITCTL=$T/bin/jitctl
if [[ -x $JIT_BUILD_DIR/jitctl/jitctl ]]; then
    install -m 0755 "$JIT_BUILD_DIR/jitctl/jitctl" "$JITCTL"
fi
export PATH="$T/bin:$PATH"
need_programs() {
    [[ -x $JITD ]] || die "no jitd at $JITD (build first)"
    [[ -x $JITCTL ]] || die "no jitctl at $JIT_BUILD_DIR/jitctl/jitctl (build first)"
}

# --- journald ---------------------------------------------------------------------------------
# A private, volatile journal: tmpfs over the sockets dir and both journal dirs, and a
# journald.conf without rate limits (tests send bursts) bind-mounted over the host's.
journal_setup() {
    local d
    for d in /run/systemd/journal /run/log/journal /var/log/journal; do
        mkdir -p "$d"
        mount -t tmpfs -o mode=0755 tmpfs "$d" || die "cannot mount tmpfs on $d"
    done
    cat >"$T/journald.conf" <<'EOF'
[Journal]
Storage=volatile
RateLimitIntervalSec=0
RateLimitBurst=0
ForwardToSyslog=no
ForwardToKMsg=no
ForwardToConsole=no
ForwardToWall=no
ReadKMsg=no
EOF
    if [[ -e /etc/systemd/journald.conf ]]; then
        mount --bind "$T/journald.conf" /etc/systemd/journald.conf || die "cannot bind journald.conf"
    fi
}

journald_start() {
    rm -f /run/systemd/journal/socket
    /lib/systemd/systemd-journald >>"$T/journald.log" 2>&1 &
    JOURNALD_PID=$!
    wait_until 10 test -S /run/systemd/journal/socket || die "journald did not create its socket"
}

journald_stop() {
    [[ -n $JOURNALD_PID ]] || return 0
    stop_pid "$JOURNALD_PID" TERM
    JOURNALD_PID=
}

# jitd's audit events (entries with JIT_EVENT) as JSON lines, oldest first.
journal_events() {
    journalctl --no-pager -o json SYSLOG_IDENTIFIER=jitd 2>/dev/null | jq -c 'select(.JIT_EVENT != null)'
}

# --- dbus-daemon ------------------------------------------------------------------------------
# A system bus like Debian's system.conf (deny own and method calls by default, allow replies and
# signals) that includes our policy file from the source tree.
bus_start() {
    mkdir -p "$T/dbus"
    chmod 0755 "$T/dbus"
    private_bus_config "unix:path=$T/dbus/system_bus_socket" "$JIT_SOURCE_DIR" \
        '  <policy user="root">
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>' >"$T/dbus.conf"
    dbus-daemon --config-file="$T/dbus.conf" --nofork --nopidfile --nosyslog >>"$T/dbus.log" 2>&1 &
    DBUS_PID=$!
    wait_until 10 test -S "$T/dbus/system_bus_socket" || die "dbus-daemon did not start: $(cat "$T/dbus.log")"
    export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/dbus/system_bus_socket"
    mkdir -p /run/dbus
    mount --bind "$T/dbus" /run/dbus || die "cannot bind $T/dbus over /run/dbus"
    wait_until 10 busctl --system list --no-pager || die "the private bus does not answer"
}

# name_has_owner NAME
name_has_owner() {
    [[ $(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        NameHasOwner s "$1" 2>/dev/null) == "b true" ]]
}

# --- users ------------------------------------------------------------------------------------
TEST_USERS=(jitadmin jitaudit jitalice jitbob jitcarol jitdave jitmallory)

users_setup() {
    (
        # Tests run in parallel; useradd must not race for /etc/passwd.
        flock -w 60 9 || exit 1
        local g u
        for g in jit-admin jit-audit jit-approvers; do
            getent group "$g" >/dev/null || groupadd "$g" || exit 1
        done
        for u in "${TEST_USERS[@]}"; do
            id "$u" >/dev/null 2>&1 || useradd -m -s /bin/bash "$u" || exit 1
        done
        _ensure_in_group jitadmin jit-admin && _ensure_in_group jitaudit jit-audit &&
            _ensure_in_group jitbob jit-approvers && _ensure_in_group jitcarol jit-approvers
    ) 9>/tmp/.jit-test-users.lock || die "cannot create the test users"
}
_ensure_in_group() {
    id -nG "$1" | tr ' ' '\n' | grep -qx "$2" || usermod -a -G "$2" "$1"
}

# as USER CMD...: runs CMD as USER with USER's groups, keeping the environment (the bus address).
as() {
    local user=$1
    shift
    if [[ $user == root ]]; then
        "$@"
        return
    fi
    setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups \
        env HOME="/home/$user" USER="$user" LOGNAME="$user" "$@"
}

# spawn_as USER CMD...: starts CMD as USER in the background with CMD's own pid in SPAWNED_PID
# (the process replaces the subshell, so that pid is the command's), tracked for cleanup.
spawn_as() {
    local user=$1
    shift
    (exec setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups \
        env HOME="/home/$user" USER="$user" LOGNAME="$user" "$@") &
    SPAWNED_PID=$!
    track_pid "$SPAWNED_PID"
}

# --- jitd -------------------------------------------------------------------------------------
# jitd_start [CONFIG LINE]...: writes $T/jitd.conf ([daemon] with the test database and snapshot,
# min_duration 1s, unless the given lines set them, plus the given lines) and starts jitd, waiting until it owns
# io.jitd.Jit1. Output goes to $T/jitd.log.
jitd_start() {
    need_programs
    {
        echo "[daemon]"
        # Defaults for the test, unless a given line sets the key (each key may appear once);
        # never the machine's /var/lib/jitd-keys.
        local key line given=" "
        for line in "$@"; do given+="${line%%[ =]*} "; done
        for line in "database = $T/jit.db" "snapshot = $T/run/snapshot" "min_duration = 1s" \
            "authorized_keys_dir = $T/keys"; do
            key=${line%% *}
            [[ $given == *" $key "* ]] || echo "$line"
        done
        printf '%s\n' "$@"
    } >"$T/jitd.conf"
    jitd_restart
}

# jitd_restart: starts jitd again with the current $T/jitd.conf.
jitd_restart() {
    need_programs
    [[ -z $JITD_PID ]] || die "jitd_start: jitd already runs (pid $JITD_PID)"
    echo "=== jitd start $(check_ts)" >>"$T/jitd.log"
    "$JITD" --config "$T/jitd.conf" >>"$T/jitd.log" 2>&1 &
    JITD_PID=$!
    local deadline=$(($(date +%s) + 30))
    until name_has_owner io.jitd.Jit1; do
        if ! kill -0 "$JITD_PID" 2>/dev/null; then
            wait "$JITD_PID"
            local rc=$?
            JITD_PID=
            die "jitd exited with status $rc during start-up: $(tail -n 5 "$T/jitd.log")"
        fi
        (($(date +%s) < deadline)) || die "jitd did not own io.jitd.Jit1 within 30s"
        sleep 0.1
    done
}

# jitd_stop: SIGTERM and wait; JITD_STATUS holds its exit status.
jitd_stop() { _jitd_end TERM; }
# jitd_kill: SIGKILL and wait.
jitd_kill() { _jitd_end KILL; }
_jitd_end() {
    [[ -n $JITD_PID ]] || return 0
    kill "-$1" "$JITD_PID" 2>/dev/null
    kill -CONT "$JITD_PID" 2>/dev/null # a test may have left it stopped (SIGSTOP)
    if ! wait_until 20 _pid_gone "$JITD_PID"; then
        fail "jitd did not exit within 20s of SIG$1"
        kill -KILL "$JITD_PID" 2>/dev/null
    fi
    # Braces: bash reports a killed job on the shell's stderr, which this silences.
    { wait "$JITD_PID"; } 2>/dev/null
    # shellcheck disable=SC2034 # read by the tests
    JITD_STATUS=$?
    JITD_PID=
    wait_until 10 _name_released || fail "io.jitd.Jit1 still owned after jitd exited"
}
_name_released() { ! name_has_owner io.jitd.Jit1; }

# --- jitctl shortcuts -------------------------------------------------------------------------
# jc USER ARGS...: jitctl ARGS as USER; output in OUT/ERR/RC (see run).
jc() {
    local user=$1
    shift
    run as "$user" jitctl "$@"
}

# jcj USER ARGS...: jitctl --json ARGS as USER, printing stdout (for $(...)); fails on non-zero.
jcj() {
    local user=$1
    shift
    as "$user" jitctl --json "$@"
}

# audit_count: number of audit rows (as root).
audit_count() { as root jitctl --json audit | jq 'length'; }

# request_json ID / grant_json ID: one record as root sees it (from the --all lists).
request_json() { as root jitctl --json requests --all | jq -c --argjson id "$1" '.[] | select(.id == $id)'; }
grant_json() { as root jitctl --json grants --all | jq -c --argjson id "$1" '.[] | select(.id == $id)'; }
request_state() { request_json "$1" | jq -r '.state'; }
grant_state() { grant_json "$1" | jq -r '.state'; }
# For wait_until: request_state_is ID STATE, grant_state_is ID STATE.
request_state_is() { [[ $(request_state "$1") == "$2" ]]; }
grant_state_is() { [[ $(grant_state "$1") == "$2" ]]; }

# audit_json [ARGS]: `jitctl --json audit ARGS` as root.
audit_json() { as root jitctl --json audit "$@"; }

# setup_resource NAME POLICY [RESOURCE-OPTIONS... --] [POLICY-OPTIONS...]: as root, adds a
# resource (by default sshd+sudo to any account; options before a `--` replace that), a policy
# with the given options, assigns and activates it. Aborts on failure.
setup_resource() {
    local name=$1 policy=$2
    shift 2
    local resource_options=(--description "test resource $name" --account '*') arg
    if [[ " $* " == *" -- "* ]]; then
        resource_options=()
        while (($#)); do
            arg=$1
            shift
            [[ $arg == -- ]] && break
            resource_options+=("$arg")
        done
    fi
    as root jitctl resource add "$name" "${resource_options[@]}" >/dev/null 2>"$T/.setup" ||
        die "setup: resource add $name: $(<"$T/.setup")"
    as root jitctl policy add "$policy" --description "test policy $policy" "$@" >/dev/null 2>"$T/.setup" ||
        die "setup: policy add $policy $*: $(<"$T/.setup")"
    as root jitctl policy assign "$policy" "$name" >/dev/null 2>"$T/.setup" ||
        die "setup: policy assign $policy $name: $(<"$T/.setup")"
    as root jitctl policy activate "$policy" >/dev/null 2>"$T/.setup" ||
        die "setup: policy activate $policy: $(<"$T/.setup")"
    pass "resource $name under the active policy $policy"
}

# new_request USER RESOURCE DURATION [REASON]: creates a request as USER and prints its id.
new_request() {
    local out
    out=$(as "$1" jitctl --json request "$2" --reason "${4:-testing $2}" --duration "$3" 2>"$T/.setup") ||
        { echo "new_request $*: $(<"$T/.setup")" >&2; return 1; }
    jq -r '.id' <<<"$out"
}

# new_grant USER RESOURCE DURATION: on an auto-approve resource, requests and prints the grant id.
new_grant() {
    local out
    out=$(as "$1" jitctl --json request "$2" --reason "testing $2" --duration "$3" 2>"$T/.setup") ||
        { echo "new_grant $*: $(<"$T/.setup")" >&2; return 1; }
    jq -r '.grant_id' <<<"$out"
}

# --- start the world --------------------------------------------------------------------------
note "test $TEST_NAME in $T (build $JIT_BUILD_DIR)"
journal_setup
journald_start
bus_start
users_setup
