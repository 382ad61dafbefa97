# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# scripts/demo.sh --fleet: sourced by demo.sh once jitd, jitctl and pam_jit are built (JITD,
# JITCTL_BUILT, PAM_JIT; demo.sh's bold, info, die, wait_for, shown). The seed's story played
# across a fleet (docs/fleet.md):
#   - web-01, web-02 and db-01 are three jitd, each on a private dbus-daemon of its own with
#     jit's bus policy, all with [store] backend = postgresql on one throw-away PostgreSQL 15
#     (initdb as postgres in a temp dir, unix socket only, no TCP);
#   - the admin adds resource prod-db (hosts db-*) and its policy on web-01; alice asks on
#     web-01, bob approves on web-02; alice's login into postgres on db-01 (pam_jit's account
#     stack, run by pamtester as sshd would) is refused before and allowed once the approval
#     arrives; a revoke on web-02 ends it on every host;
#   - alice gets a short grant and the store is stopped (pg_ctl stop -m immediate): db-01 still
#     decides logins from what it holds, a change is tried, the grant expires on time; the store
#     is started again, every host shows the expiry, and the audit chain verifies.
# A step that goes otherwise than expected stops the demo with exit status 1; what jitd does not
# do yet is printed as "not yet" (and listed at the end) without failing it.
# Everything lives in a temp dir: the store, the buses, the hosts' configurations, snapshots and
# logs, and pamtester's PAM service file, bind-mounted over /etc/pam.d only inside pamtester's
# own mount namespace. Outside it, as in demo.sh: the demo users, and a journald when none runs.
# Everything the demo started is stopped when it exits, and the temp dir is removed.

FLEET_HOSTS=(web-01 web-02 db-01)
FLEET=$(mktemp -d /tmp/jit-demo-fleet.XXXXXX) || die "mktemp"
chmod 0755 "$FLEET"
PG_DIR=$FLEET/pg
PG_DB=jit
PG_UP=0
FLEET_JOURNALD_PID=
declare -A BUS JITD_PIDS DBUS_PIDS
NOT_YET=()

# shellcheck source=postgres.sh
source "$REPO/scripts/lib/postgres.sh"
# shellcheck source=private_bus.sh
source "$REPO/scripts/lib/private_bus.sh"

# --- cleanup ----------------------------------------------------------------------------------
# stop_child PID: SIGTERM, SIGKILL after 10 s; returns the child's exit status.
stop_child() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    local rc=0
    wait "$pid" 2>/dev/null || rc=$?
    return "$rc"
}

fleet_cleanup() {
    local status=$? host rc
    trap - EXIT INT TERM
    set +e
    for host in "${FLEET_HOSTS[@]}"; do
        [[ -n ${JITD_PIDS[$host]:-} ]] || continue
        stop_child "${JITD_PIDS[$host]}"
        rc=$?
        if ((rc != 0)); then
            printf 'demo: jitd %s exited with status %s on SIGTERM\n' "$host" "$rc" >&2
            status=1
        fi
        if grep -E -q 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$FLEET/$host/jitd.log"; then
            printf 'demo: sanitizer report from jitd %s:\n' "$host" >&2
            grep -E -A30 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$FLEET/$host/jitd.log" | head -40 >&2
            status=1
        fi
    done
    for host in "${FLEET_HOSTS[@]}"; do
        [[ -z ${DBUS_PIDS[$host]:-} ]] || stop_child "${DBUS_PIDS[$host]}"
    done
    ((PG_UP == 0)) || pg_stop "$PG_DIR" immediate
    [[ -z $FLEET_JOURNALD_PID ]] || stop_child "$FLEET_JOURNALD_PID"
    if ((status != 0)); then
        for host in "${FLEET_HOSTS[@]}"; do
            [[ -s $FLEET/$host/jitd.log ]] || continue
            printf -- '--- last lines of %s jitd.log ---\n' "$host" >&2
            tail -n 15 "$FLEET/$host/jitd.log" >&2
        done
    fi
    rm -rf "$FLEET"
    exit "$status"
}
trap fleet_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- helpers ----------------------------------------------------------------------------------
ms_now() { echo $(($(date +%s%N) / 1000000)); }

# jitctl_on HOST USER ARGS...: jitctl ARGS as USER against HOST's jitd, quietly.
jitctl_on() {
    local host=$1 user=$2
    shift 2
    setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups \
        env HOME="$(getent passwd "$user" | cut -d: -f6)" USER="$user" LOGNAME="$user" \
        DBUS_SYSTEM_BUS_ADDRESS="${BUS[$host]}" "$JITCTL" "$@"
}
# on HOST USER ARGS...: shows and runs it; a failure stops the demo.
on() {
    printf '\n\033[36m%s@%s$ jitctl %s\033[0m\n' "$2" "$1" "$(shown "${@:3}")"
    jitctl_on "$@" || die "jitctl ${*:3} on $1 failed"
}
# try HOST USER ARGS...: shows and runs it, whatever it answers; its exit status in TRY_RC.
try() {
    printf '\n\033[36m%s@%s$ jitctl %s\033[0m\n' "$2" "$1" "$(shown "${@:3}")"
    TRY_RC=0
    jitctl_on "$@" 2>&1 || TRY_RC=$?
    info "(exit status $TRY_RC)"
}
not_yet() {
    printf '   \033[33mnot yet:\033[0m %s\n' "$*"
    NOT_YET+=("$*")
}

# until_true SECONDS CMD...: polls CMD every 50 ms; SEEN says how long it took (each look is a
# jitctl call, which takes its own time, most of it in a sanitizer build).
until_true() {
    local start deadline looks=1
    start=$(ms_now)
    deadline=$((start + $1 * 1000))
    shift
    until "$@" >/dev/null 2>&1; do
        (($(ms_now) < deadline)) || return 1
        sleep 0.05
        looks=$((looks + 1))
    done
    if ((looks == 1)); then
        SEEN="at the first look"
    else
        SEEN="after $(($(ms_now) - start)) ms, $looks looks"
    fi
}

# grant_state HOST ID: the grant's state as HOST's jitd tells it.
grant_state() {
    jitctl_on "$1" root --json grants --all | jq -r --argjson id "$2" '.[] | select(.id == $id) | .state'
}
grant_state_is() { [[ $(grant_state "$1" "$2") == "$3" ]]; }
request_state_is() {
    [[ $(jitctl_on "$1" root --json requests --all |
        jq -r --argjson id "$2" '.[] | select(.id == $id) | .state') == "$3" ]]
}
# wait_on SECONDS "HOST..." WHAT CHECK ARGS...: CHECK HOST ARGS... on each HOST.
wait_on() {
    local seconds=$1 hosts=$2 what=$3 host
    shift 3
    for host in $hosts; do
        until_true "$seconds" "$1" "$host" "${@:2}" || die "$host does not see $what after ${seconds}s"
        info "$host sees $what ($SEEN)"
    done
}

# The login: pamtester runs HOST's PAM service sshd (pam_jit's account stack, with HOST's
# snapshot) as sshd would for USER logging in as TARGET. The service file is bind-mounted over
# /etc/pam.d in pamtester's own mount namespace; HOST's bus comes from DBUS_SYSTEM_BUS_ADDRESS.
PAMTESTER_ENV=()
LIBASAN=$(ldd "$PAM_JIT" 2>/dev/null | awk '$1 ~ /^libasan\.so/ {print $3; exit}')
if [[ -n $LIBASAN ]]; then
    # An ASan build of pam_jit.so needs the runtime loaded first in the uninstrumented pamtester.
    PAMTESTER_ENV=(LD_PRELOAD="$LIBASAN" ASAN_OPTIONS=detect_leaks=0)
fi
# login_decision HOST USER TARGET: prints pamtester's output; LOGIN is allowed or refused.
login_decision() {
    local host=$1 user=$2 target=$3 out rc=0
    printf '\n\033[36mroot@%s$ pamtester -I ruser=%s sshd %s acct_mgmt\033[0m\n' "$host" "$user" "$target"
    out=$(unshare --mount --propagation private -- bash -c 'mount --bind "$1" /etc/pam.d && shift && exec "$@"' \
        _ "$FLEET/$host/pam.d" env DBUS_SYSTEM_BUS_ADDRESS="${BUS[$host]}" "${PAMTESTER_ENV[@]}" \
        pamtester -I ruser="$user" sshd "$target" acct_mgmt 2>&1) || rc=$?
    [[ -z $out ]] || sed 's/^/   /' <<<"$out"
    if ((rc == 0)); then LOGIN=allowed; else LOGIN=refused; fi
}
# expect_login HOST USER TARGET allowed|refused
expect_login() {
    login_decision "$1" "$2" "$3"
    [[ $LOGIN == "$4" ]] || die "$2's login into $3 on $1 was $LOGIN, not $4"
    info "=> $LOGIN"
}

# --- 3. the store -----------------------------------------------------------------------------
bold "3. The store: a throw-away PostgreSQL 15 (unix socket only, no TCP)"
pg_start "$PG_DIR" || die "cannot start PostgreSQL in $PG_DIR"
PG_UP=1
pg_createdb "$PG_DIR" "$PG_DB" || die "cannot create database $PG_DB"
STORE_URL=$(pg_conninfo "$PG_DIR" "$PG_DB")
info "PostgreSQL runs in $PG_DIR, database $PG_DB: url = $STORE_URL"

# journald: the audit trail goes to the journal and `audit verify` compares with it.
if [[ -S /run/systemd/journal/socket ]] && pgrep -x systemd-journal >/dev/null; then
    info "journald is running"
else
    info "no journald running: starting /lib/systemd/systemd-journald until the demo ends"
    /lib/systemd/systemd-journald </dev/null >>"$FLEET/journald.log" 2>&1 &
    FLEET_JOURNALD_PID=$!
    wait_for 10 test -S /run/systemd/journal/socket || die "journald did not start"
fi

# --- 4. three hosts ---------------------------------------------------------------------------
bold "4. Three hosts: web-01, web-02, db-01 (a jitd each, each on its own bus, one store)"
install -m 0755 "$JITCTL_BUILT" "$FLEET/jitctl"
JITCTL=$FLEET/jitctl
name_owned_on() {
    [[ $(busctl --address="${BUS[$1]}" call org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus NameHasOwner s io.jitd.Jit1 2>/dev/null) == "b true" ]]
}
for host in "${FLEET_HOSTS[@]}"; do
    dir=$FLEET/$host
    mkdir -p "$dir/bus" "$dir/pam.d" "$dir/keys"
    chmod 0755 "$dir" "$dir/bus"
    BUS[$host]=unix:path=$dir/bus/system_bus_socket
    private_bus_config "${BUS[$host]}" "$REPO" '' >"$dir/dbus.conf"
    dbus-daemon --config-file="$dir/dbus.conf" --nofork --nopidfile --nosyslog >>"$dir/dbus.log" 2>&1 &
    DBUS_PIDS[$host]=$!
    cat >"$dir/jitd.conf" <<EOF
# jitd configuration of the demo host $host (see docs/jitd.conf.md and docs/fleet.md).
[daemon]
host = $host
database = $dir/jit.db
snapshot = $dir/snapshot
authorized_keys_dir = $dir/keys
admin_groups = jit-admin
auditor_groups = jit-audit
min_duration = 1s
kill_grace = 2s

[store]
backend = postgresql
url = $STORE_URL
EOF
    printf 'account required %s snapshot=%s timeout=2s\n' "$PAM_JIT" "$dir/snapshot" >"$dir/pam.d/sshd"
done
for host in "${FLEET_HOSTS[@]}"; do
    wait_for 10 busctl --address="${BUS[$host]}" list || die "$host's dbus-daemon does not answer"
    DBUS_SYSTEM_BUS_ADDRESS=${BUS[$host]} "$JITD" --config "$FLEET/$host/jitd.conf" \
        </dev/null >>"$FLEET/$host/jitd.log" 2>&1 &
    JITD_PIDS[$host]=$!
done
for host in "${FLEET_HOSTS[@]}"; do
    until_true 30 name_owned_on "$host" ||
        die "jitd $host did not come up: $(tail -n 5 "$FLEET/$host/jitd.log")"
    info "$host: jitd pid ${JITD_PIDS[$host]}, bus ${BUS[$host]}, config $FLEET/$host/jitd.conf"
done

# --- 5. users ---------------------------------------------------------------------------------
bold "5. Demo users"
(
    # The integration tests create users in parallel under this lock; useradd must not race.
    flock -w 60 9 || exit 1
    getent group jit-admin >/dev/null || groupadd jit-admin
    getent group jit-audit >/dev/null || groupadd jit-audit
    for u in jitadmin alice bob; do
        id "$u" >/dev/null 2>&1 || useradd -m -s /bin/bash "$u"
    done
    id -nG jitadmin | tr ' ' '\n' | grep -qx jit-admin || usermod -a -G jit-admin jitadmin
) 9>/tmp/.jit-test-users.lock || die "cannot create the demo users"
id postgres >/dev/null 2>&1 || die "no postgres account (the PostgreSQL 15 package creates it)"
info "jitadmin (group jit-admin) configures; alice requests access; bob approves"
info "a login is pam_jit's account stack for sshd, run by pamtester as sshd would"

# --- 6. the story across the fleet ------------------------------------------------------------
bold "6. On web-01 the admin adds resource prod-db for the db-* hosts, and its policy"
on web-01 jitadmin resource add prod-db --description "Production database" \
    --service sshd --account postgres --host 'db-*'
on web-01 jitadmin policy add prod-db-jit --description "JIT access -- Production DB" \
    --action require-approval --approver bob --max-duration 1min
on web-01 jitadmin policy assign prod-db-jit prod-db
on web-01 jitadmin policy activate prod-db-jit
policy_active() { jitctl_on "$1" root --json resource list | jq -e '.[] | select(.name == "prod-db" and .policy == "prod-db-jit")'; }
wait_on 5 "web-02 db-01" "prod-db under policy prod-db-jit" policy_active
on db-01 jitadmin resource show prod-db

bold "7. alice's login into postgres on db-01, before any grant"
expect_login db-01 alice postgres refused

bold "8. alice asks on web-01, with a reason, for longer than the policy allows"
on web-01 alice request prod-db --reason "Investigate slow queries (INC-1234)" --duration 2h
REQ=$(jitctl_on web-01 alice --json requests | jq -r '[.[] | select(.resource == "prod-db")][0].id')
[[ $REQ =~ ^[0-9]+$ ]] || die "alice's request is not listed on web-01"

bold "9. bob approves it on web-02"
wait_on 5 web-02 "request $REQ pending" request_state_is "$REQ" pending
on web-02 bob approvals
on web-02 bob approve "$REQ" --comment "go ahead"
GRANT=$(jitctl_on web-02 root --json requests --all | jq -r --argjson id "$REQ" '.[] | select(.id == $id) | .grant_id')
[[ $GRANT =~ ^[0-9]+$ ]] || die "request $REQ has no grant on web-02"
wait_on 5 "web-01 db-01" "grant $GRANT active" grant_state_is "$GRANT" active
on db-01 alice grants

bold "10. alice's login on db-01, under the grant approved on web-02"
expect_login db-01 alice postgres allowed

bold "11. The admin revokes grant $GRANT on web-02: it ends on every host"
on web-02 jitadmin revoke "$GRANT" --reason "done with INC-1234"
wait_on 5 "web-01 db-01" "grant $GRANT revoked" grant_state_is "$GRANT" revoked
expect_login db-01 alice postgres refused

# short_grant SECONDS REASON: alice asks on web-01, bob approves on web-02; the grant in GRANT,
# active on db-01.
short_grant() {
    on web-01 alice request prod-db --reason "$2" --duration "$1"s
    local req
    req=$(jitctl_on web-01 alice --json requests | jq -r '[.[] | select(.resource == "prod-db")][0].id')
    [[ $req =~ ^[0-9]+$ ]] || die "alice's request is not listed on web-01"
    until_true 5 request_state_is web-02 "$req" pending || die "web-02 does not see request $req"
    on web-02 bob approve "$req" --comment ok
    GRANT=$(jitctl_on web-02 root --json requests --all | jq -r --argjson id "$req" '.[] | select(.id == $id) | .grant_id')
    [[ $GRANT =~ ^[0-9]+$ ]] || die "request $req has no grant"
    until_true 5 grant_state_is db-01 "$GRANT" active || die "db-01 does not see grant $GRANT active"
    EXPIRY=$(grant_expiry web-02 "$GRANT")
    info "grant $GRANT, active on db-01 ($SEEN), expires at $(date -u -d "@$EXPIRY" +%T)"
}
grant_expiry() {
    jitctl_on "$1" root --json grants --all |
        jq -r --argjson id "$2" '.[] | select(.id == $id) | .expiry | fromdateiso8601'
}
# sleep_until EPOCH: waits for the clock (the expiry is the thing shown, not a synchronisation).
sleep_until() {
    local left
    left=$(($1 - $(date +%s)))
    ((left <= 0)) || sleep "$left"
}

# --- 12-15. the store goes away ---------------------------------------------------------------
bold "12. alice gets a grant for 8s, then the store stops (pg_ctl stop -m immediate)"
short_grant 8 "Check the failover runbook (CHG-78)"
expect_login db-01 alice postgres allowed
printf '\n\033[36mroot$ pg_ctl stop -m immediate\033[0m\n'
pg_stop "$PG_DIR" immediate || die "pg_ctl stop failed"
PG_UP=0
info "the store is down"

bold "13. With the store down, db-01 still decides logins"
try db-01 root status
login_decision db-01 alice postgres
if [[ $LOGIN == allowed ]]; then
    info "=> allowed: db-01 decides from what it holds (grant $GRANT until $(date -u -d "@$EXPIRY" +%T))"
elif (($(date +%s) >= EXPIRY)); then
    die "the demo was too slow: grant $GRANT expired before the login with the store down"
else
    not_yet "db-01 refused alice's login under active grant $GRANT while the store is down"
fi
login_decision db-01 bob postgres
[[ $LOGIN == refused ]] || die "bob, without a grant, was let into postgres on db-01"
info "=> refused: bob holds no grant"
info "a change needs the store: bob asks for access on web-01"
try web-01 bob request prod-db --reason "Check the replica (INC-1236)" --duration 30s
if ((TRY_RC == 0)); then
    info "=> web-01 took the request while the store is down"
else
    not_yet "a change made while the store is down is refused (jitctl exit $TRY_RC), not kept until the store is back"
fi

bold "14. Grant $GRANT expires on time, store or not"
info "its expiry: $(date -u -d "@$EXPIRY" +%T)"
sleep_until "$EXPIRY"
login_decision db-01 alice postgres
[[ $LOGIN == refused ]] || die "db-01 still lets alice in after grant $GRANT expired (store down)"
info "=> refused at $(date -u +%T): db-01 ends grant $GRANT at its expiry without the store"
state=$(grant_state db-01 "$GRANT" 2>&1) || true
if [[ $state == expired ]]; then
    info "db-01 lists grant $GRANT as expired"
else
    not_yet "db-01 still lists grant $GRANT as '$state' past its expiry: the state changes only once the expiry is recorded in the store (logins are refused all the same)"
fi

bold "15. The store is back"
printf '\n\033[36mroot$ pg_ctl start\033[0m\n'
pg_start "$PG_DIR" || die "cannot start PostgreSQL again"
PG_UP=1
store_reachable() { [[ $(jitctl_on "$1" root --json status | jq -r .store_reachable) == true ]]; }
wait_on 10 "db-01" "the store" store_reachable
on db-01 root status
for host in "${FLEET_HOSTS[@]}"; do
    until_true 10 grant_state_is "$host" "$GRANT" expired ||
        die "$host: grant $GRANT is '$(grant_state "$host" "$GRANT" 2>&1)' 10s after the store came back"
    info "$host sees grant $GRANT expired ($SEEN)"
done
EVENTS=$(jitctl_on web-01 jitadmin --json audit --event expired |
    jq -c --argjson id "$GRANT" '[.[] | select(.grant_id == $id)]')
[[ $(jq length <<<"$EVENTS") == 1 ]] || die "grant $GRANT has not one expired event: $EVENTS"
info "one expired event for grant $GRANT, recorded by $(jq -r '.[0].host' <<<"$EVENTS") at $(jq -r '.[0].time' <<<"$EVENTS") (its expiry was $(date -u -d "@$EXPIRY" +%FT%TZ))"
# bob's refused login on db-01 while the store was down: audited (login_denied, or
# login_fallback when pam_jit decided from the snapshot), or lost?
bob_logins=$(jitctl_on web-01 jitadmin --json audit --user bob |
    jq -r '[.[] | select(.event == "login_denied" or .event == "login_fallback") |
        "\(.event) (\(.outcome // "denied")) recorded by \(.host)"] | join("; ")')
if [[ -n $bob_logins ]]; then
    info "bob's refused login while the store was down is in the audit log: $bob_logins"
else
    not_yet "bob's refused login on db-01 while the store was down left no audit event (neither login_denied nor login_fallback)"
fi
on web-01 alice grants --all
try web-01 bob request prod-db --reason "Check the replica (INC-1236)" --duration 30s
((TRY_RC == 0)) || die "web-01 refuses bob's request with the store back"
wait_on 5 "web-02" "bob's request" request_state_is "$(jitctl_on web-01 bob --json requests | jq -r '.[0].id')" pending

bold "16. One audit chain for the fleet"
on web-01 jitadmin audit --resource prod-db
on web-01 jitadmin audit verify
on db-01 jitadmin audit verify

bold "Done"
if ((${#NOT_YET[@]} > 0)); then
    info "not yet in jitd:"
    for item in "${NOT_YET[@]}"; do info "  - $item"; done
fi
info "everything the demo started is stopped on exit and $FLEET removed"
