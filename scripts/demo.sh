#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job: installs the dependencies, builds jit (preset "default"), starts jitd on a
# local demo setup and plays the seed's story with jitctl:
#   an admin creates resource prod-db and policy prod-db-jit ("JIT access -- Production DB":
#   require approval, approver bob, maximum 1min, automatic expiry), assigns and activates it;
#   alice requests 2h with a reason and is capped to 1min; bob approves from his approvals
#   queue; alice holds the grant; the grant expires by itself; the audit trail is shown from
#   jitctl and from the journal.
# jitd is left running; the script ends by printing how to use jitctl against it.
#
# Everything lives in ./demo/ (config, SQLite state demo/jit.db, snapshot, logs). jitd uses the
# system bus when one runs (our bus policy is installed into /etc/dbus-1/system.d), otherwise a
# private dbus-daemon started here. If no journald runs, one is started. Demo users are created
# if missing: jitadmin (group jit-admin), alice (operator), bob (approver).
# Run it again at any time: it stops the previous demo jitd and starts over from an empty state.
#
# scripts/demo.sh --fleet plays the story across a fleet instead: three jitd hosts on private
# buses sharing one throw-away PostgreSQL store, then the store stopped and started again (see
# scripts/lib/demo_fleet.sh). It stops everything it started when it ends.
#
# DEMO_BUILD_DIR=DIR: use the jitd, jitctl and pam_jit already built in DIR (for example
# build-asan); nothing is installed or built (tests/integration/demo_fleet_test.sh does this).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEMO=$REPO/demo
BUILD=$REPO/build
JITD=$BUILD/jitd/jitd
SYSTEM_BUS_SOCKET=/run/dbus/system_bus_socket
POLICY_MAX=1min

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
info() { printf '   %s\n' "$*"; }
die() {
    printf 'demo: %s\n' "$*" >&2
    exit 1
}
# wait_for SECONDS CMD...: polls CMD until it succeeds or the deadline passes.
wait_for() {
    local deadline=$(($(date +%s) + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        (($(date +%s) < deadline)) || return 1
        sleep 0.2
    done
}

# shown ARGS...: the arguments as a reader would type them (quoted when they contain blanks).
shown() {
    local arg out=()
    for arg in "$@"; do
        [[ $arg =~ [[:space:]] ]] && arg="\"$arg\""
        out+=("$arg")
    done
    printf '%s' "${out[*]}"
}

FLEET_DEMO=0
case ${1:-} in
    --fleet) FLEET_DEMO=1 ;;
    "") ;;
    *) die "usage: demo.sh [--fleet]" ;;
esac
TARGETS=(jitd jitctl)
((FLEET_DEMO == 0)) || TARGETS+=(pam_jit)

[[ $EUID -eq 0 ]] || die "run me as root (I install packages, create demo users and start jitd)"

if [[ -n ${DEMO_BUILD_DIR:-} ]]; then
    BUILD=$(cd "$DEMO_BUILD_DIR" && pwd)
    JITD=$BUILD/jitd/jitd
    bold "1-2. Using the build in $BUILD (DEMO_BUILD_DIR: nothing installed or built)"
else
    bold "1. Dependencies"
    "$REPO/scripts/install-deps.sh"

    bold "2. Build (cmake --preset default)"
    cmake --preset default -S "$REPO" >/dev/null
    cmake --build --preset default --parallel 2 --target "${TARGETS[@]}"
fi
[[ -x $JITD && -x $BUILD/jitctl/jitctl ]] || die "the build did not produce jitd and jitctl"

if ((FLEET_DEMO)); then
    # shellcheck disable=SC2034 # both are lib/demo_fleet.sh's
    JITCTL_BUILT=$BUILD/jitctl/jitctl
    PAM_JIT=$BUILD/pam_jit/pam_jit.so
    [[ -f $PAM_JIT ]] || die "the build did not produce pam_jit.so"
    command -v pamtester >/dev/null || die "pamtester is not installed (scripts/install-deps.sh)"
    # shellcheck source=lib/demo_fleet.sh
    source "$REPO/scripts/lib/demo_fleet.sh"
    exit 0
fi

bold "3. Starting jitd"
mkdir -p "$DEMO"
chmod 0755 "$DEMO"

# Stop what a previous run started (checked by pid file and command line, never by name).
stop_pidfile() {
    local file=$1 pattern=$2 pid
    [[ -s $file ]] || return 0
    pid=$(<"$file")
    if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$pattern"; then
        info "stopping the previous $(basename "$file" .pid) (pid $pid)"
        kill "$pid" 2>/dev/null || true
        wait_for 20 bash -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
}
stop_pidfile "$DEMO/jitd.pid" "$DEMO/jitd.conf"

# The bus and jitctl must be reachable by the demo users; when the checkout is not (say, under
# /root), the socket and a copy of jitctl go to /run/jit-demo instead.
if setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$DEMO" 2>/dev/null &&
    setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$BUILD/jitctl/jitctl" 2>/dev/null; then
    RUNDIR=$DEMO
    JITCTL=$BUILD/jitctl/jitctl
else
    RUNDIR=/run/jit-demo
    mkdir -p "$RUNDIR"
    chmod 0755 "$RUNDIR"
    install -m 0755 "$BUILD/jitctl/jitctl" "$RUNDIR/jitctl"
    JITCTL=$RUNDIR/jitctl
fi

# journald: the audit trail goes to the journal; start one if none runs (no systemd here).
if [[ -S /run/systemd/journal/socket ]] && pgrep -x systemd-journal >/dev/null; then
    info "journald is running"
else
    info "no journald running: starting /lib/systemd/systemd-journald"
    setsid /lib/systemd/systemd-journald </dev/null >>"$DEMO/journald.log" 2>&1 &
    echo $! >"$DEMO/journald.pid"
    wait_for 10 test -S /run/systemd/journal/socket || die "journald did not start (see $DEMO/journald.log)"
fi

# The bus: the system bus when it answers, else our own dbus-daemon with our policy.
if [[ -S $SYSTEM_BUS_SOCKET ]] && busctl --address="unix:path=$SYSTEM_BUS_SOCKET" list >/dev/null 2>&1; then
    BUS_ADDRESS=unix:path=$SYSTEM_BUS_SOCKET
    if ! cmp -s "$REPO/dbus/io.jitd.Jit1.conf" /etc/dbus-1/system.d/io.jitd.Jit1.conf; then
        info "installing the bus policy /etc/dbus-1/system.d/io.jitd.Jit1.conf"
        install -D -m 0644 "$REPO/dbus/io.jitd.Jit1.conf" /etc/dbus-1/system.d/io.jitd.Jit1.conf
        busctl --address="$BUS_ADDRESS" call org.freedesktop.DBus /org/freedesktop/DBus \
            org.freedesktop.DBus ReloadConfig >/dev/null
    fi
    info "using the system bus"
else
    stop_pidfile "$DEMO/dbus.pid" "$DEMO/dbus.conf"
    BUS_ADDRESS=unix:path=$RUNDIR/bus.socket
    rm -f "$RUNDIR/bus.socket"
    # shellcheck source=lib/private_bus.sh
    source "$REPO/scripts/lib/private_bus.sh"
    private_bus_config "unix:path=$RUNDIR/bus.socket" "$REPO" \
        "  <fork/>
  <pidfile>$DEMO/dbus.pid</pidfile>" >"$DEMO/dbus.conf"
    dbus-daemon --config-file="$DEMO/dbus.conf" --nosyslog || die "cannot start dbus-daemon"
    wait_for 10 busctl --address="$BUS_ADDRESS" list || die "the private bus does not answer"
    info "no system bus: started a private dbus-daemon on $RUNDIR/bus.socket"
fi
export DBUS_SYSTEM_BUS_ADDRESS=$BUS_ADDRESS

name_owned() {
    [[ $(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        NameHasOwner s io.jitd.Jit1 2>/dev/null) == "b true" ]]
}
if name_owned; then
    die "another jitd already owns io.jitd.Jit1 on this bus; stop it first (e.g. systemctl stop jitd)"
fi

# A fresh state for every run.
rm -f "$DEMO"/jit.db "$DEMO"/jit.db-wal "$DEMO"/jit.db-shm "$DEMO"/snapshot
cat >"$DEMO/jitd.conf" <<EOF
# jitd configuration for the demo (see man/jitd.conf.5). Short durations so expiry shows quickly.
[daemon]
database = $DEMO/jit.db
snapshot = $DEMO/snapshot
admin_groups = jit-admin
auditor_groups = jit-audit
min_duration = 30s
EOF
setsid "$JITD" --config "$DEMO/jitd.conf" </dev/null >>"$DEMO/jitd.log" 2>&1 &
JITD_PID=$!
echo "$JITD_PID" >"$DEMO/jitd.pid"
wait_for 20 name_owned || die "jitd did not come up; last lines of $DEMO/jitd.log: $(tail -n 5 "$DEMO/jitd.log")"
info "jitd runs (pid $JITD_PID) with $DEMO/jitd.conf, state in $DEMO/jit.db"

bold "4. Demo users"
getent group jit-admin >/dev/null || groupadd jit-admin
getent group jit-audit >/dev/null || groupadd jit-audit
for u in jitadmin alice bob; do
    id "$u" >/dev/null 2>&1 || useradd -m -s /bin/bash "$u"
done
id -nG jitadmin | tr ' ' '\n' | grep -qx jit-admin || usermod -a -G jit-admin jitadmin
info "jitadmin (group jit-admin) configures; alice requests access; bob approves"

# as USER ARGS...: shows and runs `jitctl ARGS` as USER.
as() {
    local user=$1
    shift
    printf '\n\033[36m%s$ jitctl %s\033[0m\n' "$user" "$(shown "$@")"
    setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups \
        env HOME="/home/$user" USER="$user" DBUS_SYSTEM_BUS_ADDRESS="$BUS_ADDRESS" "$JITCTL" "$@"
}
# quiet_as USER ARGS...: the same without showing it (for ids the story needs).
quiet_as() {
    local user=$1
    shift
    setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups \
        env HOME="/home/$user" USER="$user" DBUS_SYSTEM_BUS_ADDRESS="$BUS_ADDRESS" "$JITCTL" "$@"
}

bold "5. The admin configures a JIT policy (seed: Policies > New policy)"
as jitadmin resource add prod-db --description "Production database" \
    --service sshd --service sudo --account postgres
as jitadmin policy add prod-db-jit --description "JIT access -- Production DB" \
    --action require-approval --approver bob --max-duration "$POLICY_MAX"
as jitadmin policy assign prod-db-jit prod-db
as jitadmin policy activate prod-db-jit
as jitadmin policy show prod-db-jit

bold "6. alice requests access with a reason, for longer than the policy allows"
as alice resource list
as alice request prod-db --reason "Investigate slow queries (INC-1234)" --duration 2h
as alice requests

bold "7. bob approves from his approvals queue"
as bob approvals
REQUEST_ID=$(quiet_as bob --json approvals | jq -r '[.[] | select(.resource == "prod-db")][0].id')
[[ $REQUEST_ID =~ ^[0-9]+$ ]] || die "bob's approvals queue does not show alice's request"
as bob approve "$REQUEST_ID" --comment "go ahead"

bold "8. alice holds a grant until it expires"
as alice grants
GRANT=$(quiet_as alice --json grants | jq -c '[.[] | select(.resource == "prod-db")][0]')
GRANT_ID=$(jq -r .id <<<"$GRANT")
EXPIRY=$(jq -r '.expiry | fromdateiso8601' <<<"$GRANT")
[[ $GRANT_ID =~ ^[0-9]+$ && $EXPIRY =~ ^[0-9]+$ ]] || die "alice has no grant on prod-db"
grant_expired() {
    [[ $(quiet_as alice --json grants --all |
        jq -r --argjson id "$GRANT_ID" '.[] | select(.id == $id) | .state') == expired ]]
}
deadline=$((EXPIRY + 30))
info "nobody touches it: jitd's timer ends it at $(date -u -d "@$EXPIRY" +%FT%TZ)"
shown_left=
until grant_expired; do
    now=$(date +%s)
    ((now < deadline)) || die "grant $GRANT_ID did not expire by $(date -u -d "@$EXPIRY" +%FT%TZ) + 30s"
    left=$((EXPIRY - now))
    ((left < 0)) && left=0
    if [[ -t 1 ]]; then
        printf '\r   %3ss left ' "$left"
    elif ((left % 15 == 0)) && [[ $left != "$shown_left" ]]; then
        info "${left}s left"
        shown_left=$left
    fi
    sleep 1
done
[[ -t 1 ]] && printf '\r'
info "grant $GRANT_ID has expired"
as alice grants --all

bold "9. The audit trail"
as jitadmin audit --resource prod-db
as jitadmin audit verify
# This jitd's entries only (_PID): other jitd instances may log to the same journal.
printf '\n\033[36mroot$ journalctl SYSLOG_IDENTIFIER=jitd _PID=%s\033[0m\n' "$JITD_PID"
wait_for 10 bash -c "journalctl --no-pager -o json SYSLOG_IDENTIFIER=jitd _PID=$JITD_PID JIT_EVENT=expired | grep -q ." ||
    info "(the expired event has not reached the journal yet)"
journalctl --no-pager SYSLOG_IDENTIFIER=jitd _PID="$JITD_PID" -o short-iso | grep -v '^-- ' || true
printf '\n\033[36mroot$ journalctl SYSLOG_IDENTIFIER=jitd _PID=%s JIT_EVENT=granted -o verbose\033[0m\n' "$JITD_PID"
journalctl --no-pager SYSLOG_IDENTIFIER=jitd _PID="$JITD_PID" JIT_EVENT=granted -o verbose -n 1 || true

bold "jitd keeps running (pid $JITD_PID). Try it yourself:"
cat <<EOF
   export DBUS_SYSTEM_BUS_ADDRESS=$BUS_ADDRESS
   $JITCTL status
   runuser -u alice -- $JITCTL request prod-db --reason "one more look" --duration 30s
   runuser -u bob -- $JITCTL approvals
   $JITCTL audit --output csv
   journalctl -t jitd -f
   Logs: $DEMO/jitd.log   Stop: kill \$(cat $DEMO/jitd.pid)   Start over: $0
EOF
