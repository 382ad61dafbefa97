#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/run_fleet_bench.sh [BUILD_DIR [HOSTS [ROUNDS]]]: how fast a grant and its revocation
# reach every host of a fleet (docs/fleet.md#the-change-feed). One PostgreSQL 15 server
# (tests/integration/lib/postgres.sh) and HOSTS jitd (default 100, named h001, h002, ...), each
# owning io.jitd.Jit1 on a private dbus-daemon of its own with jit's bus policy. Root adds an
# auto-approve resource on h001; then ROUNDS times (default 20) jitalice requests it on h001 and
# gets a grant, and once every host knows the grant root revokes it on h001.
#
# A host "knows" a grant when its PAM snapshot ([daemon] snapshot, rewritten by rename after every
# change that affects logins, docs/login-decision.md) holds the grant's `grant ID ...` line, and
# knows the revocation when a rewrite no longer holds it. One inotifywait watches all the hosts'
# snapshot directories and stamps every rewrite as it arrives; nothing polls the hosts. A sample
# is one host in one round, timed from the start of the jitctl call on h001 (so it includes that
# call, whose own time is printed too). The last line is
#   fleet: H hosts, grant propagation p50 X ms p99 Y ms, revoke p50 X ms p99 Y ms, connections per host C
# with the connections to the fleet's database from pg_stat_activity, divided by the hosts.
#
# The hosts' state directories (snapshots, keys) are on a tmpfs in the private mount namespace
# (FLEET_TMPFS=0 keeps them on /tmp's disk): a real host syncs its snapshot to a disk of its own,
# not one disk shared by every host. PostgreSQL runs with fsync off (as in the tests). jitd starts
# BATCH (default 10) at a time. The integration harness provides the mount namespace, journald
# (shared by all the hosts) and the test users. Needs root, inotify-tools, PostgreSQL 15 and a
# build without sanitizers (cmake --preset default; targets jitd jitctl).
set -uo pipefail
HOSTS=${2:-100}
ROUNDS=${3:-20}
BATCH=${BATCH:-10}
# shellcheck source=lib/world.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/world.sh"

need_programs
need_unsanitized "$JITD"
command -v inotifywait >/dev/null || die "no inotifywait (apt-get install inotify-tools)"
PG_BIN=/usr/lib/postgresql/15/bin
[[ -x $PG_BIN/pg_ctl ]] || die "no PostgreSQL 15 in $PG_BIN (apt-get install postgresql-15)"
((HOSTS >= 1 && ROUNDS >= 1 && BATCH >= 1)) || die "HOSTS, ROUNDS and BATCH must be positive"

PG_SCRIPT=$SOURCE_DIR/tests/integration/lib/postgres.sh
PG_DIR=$T/pg
HOSTS_DIR=$T/hosts
JITD_PIDS=()
BUS_PIDS=()
INOTIFY_PID=
READER_PID=
INOTIFY_LIMIT=/proc/sys/fs/inotify/max_user_instances
INOTIFY_LIMIT_WAS=

# --- cleanup: every jitd at once, then the buses, the watcher, PostgreSQL, then the harness -----
fleet_stop() {
    local pid deadline
    ((${#JITD_PIDS[@]} == 0)) || kill -TERM "${JITD_PIDS[@]}" 2>/dev/null
    deadline=$(($(date +%s) + 20))
    for pid in "${JITD_PIDS[@]}"; do
        while kill -0 "$pid" 2>/dev/null && (($(date +%s) < deadline)); do sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        { wait "$pid"; } 2>/dev/null
    done
    JITD_PIDS=()
    # The reader ends with inotifywait (end of the fifo).
    [[ -z $INOTIFY_PID ]] || { kill -TERM "$INOTIFY_PID" 2>/dev/null; wait "$INOTIFY_PID" 2>/dev/null; }
    [[ -z $READER_PID ]] || { kill -TERM "$READER_PID" 2>/dev/null; wait "$READER_PID" 2>/dev/null; }
    INOTIFY_PID=""
    READER_PID=""
    ((${#BUS_PIDS[@]} == 0)) || kill -TERM "${BUS_PIDS[@]}" 2>/dev/null
    for pid in "${BUS_PIDS[@]}"; do { wait "$pid"; } 2>/dev/null; done
    BUS_PIDS=()
    if [[ -f $PG_DIR/data/postmaster.pid ]]; then
        bash "$PG_SCRIPT" stop "$PG_DIR" immediate >/dev/null 2>&1
    fi
    mountpoint -q "$HOSTS_DIR" && umount "$HOSTS_DIR"
    if [[ -n $INOTIFY_LIMIT_WAS ]]; then
        echo "$INOTIFY_LIMIT_WAS" >"$INOTIFY_LIMIT"
        INOTIFY_LIMIT_WAS=""
    fi
    return 0
}
fleet_finish() {
    trap - EXIT
    fleet_stop
    harness_cleanup
}
# shellcheck disable=SC2034 # finish (scripts/lib/check.sh) runs it
CHECK_CLEANUP=fleet_finish
trap 'fleet_stop; harness_cleanup' EXIT
trap 'exit 130' INT TERM

# --- PostgreSQL: one server, room for two connections per host --------------------------------
psql_fleet() {
    runuser -u postgres -- "$PG_BIN/psql" -qAtX -h "$PG_DIR/socket" -U postgres "$@"
}
mkdir -p "$PG_DIR"
bash "$PG_SCRIPT" start "$PG_DIR" >"$T/pg-start.log" 2>&1 || die "cannot start PostgreSQL: $(tail -n 5 "$T/pg-start.log")"
MAX_CONNECTIONS=$((HOSTS * 2 + 50))
psql_fleet -c "ALTER SYSTEM SET max_connections = $MAX_CONNECTIONS" postgres ||
    die "cannot raise max_connections"
{ bash "$PG_SCRIPT" stop "$PG_DIR" && bash "$PG_SCRIPT" start "$PG_DIR"; } >>"$T/pg-start.log" 2>&1 ||
    die "cannot restart PostgreSQL: $(tail -n 5 "$T/pg-start.log")"
psql_fleet -c "CREATE DATABASE fleet" postgres || die "cannot create the fleet database"
note "PostgreSQL 15 in $PG_DIR (max_connections $(psql_fleet -c 'SHOW max_connections' postgres))"

# --- the hosts ----------------------------------------------------------------------------------
# Every dbus-daemon and every jitd holds an inotify instance, and the limit is per user (root):
# the machine's default of 128 would leave the hosts, the watcher below and every other root
# process without one. Raised for the run and put back on exit.
INOTIFY_LIMIT_WAS=$(<"$INOTIFY_LIMIT")
echo $((INOTIFY_LIMIT_WAS + HOSTS * 2 + 16)) >"$INOTIFY_LIMIT" || die "cannot raise $INOTIFY_LIMIT"
mkdir -p "$HOSTS_DIR"
if [[ ${FLEET_TMPFS:-1} == 1 ]]; then
    mount -t tmpfs -o mode=0755 tmpfs "$HOSTS_DIR" || die "cannot mount a tmpfs on $HOSTS_DIR"
fi
host_name() { printf 'h%03d' "$1"; }
host_dir() { echo "$HOSTS_DIR/$(host_name "$1")"; }
host_bus() { echo "unix:path=$(host_dir "$1")/bus/system_bus_socket"; }
# on_host I CMD...: CMD with host I's bus as the system bus (functions included).
on_host() {
    local i=$1
    shift
    DBUS_SYSTEM_BUS_ADDRESS=$(host_bus "$i") "$@"
}

# host_start I: host I's dbus-daemon (waited for) and jitd (not waited for).
host_start() {
    local i=$1 dir
    dir=$(host_dir "$i")
    mkdir -p "$dir/bus" "$dir/run"
    chmod 0755 "$dir" "$dir/bus"
    private_bus_config "$(host_bus "$i")" "$SOURCE_DIR" '' >"$dir/dbus.conf"
    dbus-daemon --config-file="$dir/dbus.conf" --nofork --nopidfile --nosyslog >>"$dir/dbus.log" 2>&1 &
    BUS_PIDS+=($!)
    wait_until 10 test -S "$dir/bus/system_bus_socket" || die "$(host_name "$i")'s dbus-daemon did not start"
    printf '%s\n' "[daemon]" "host = $(host_name "$i")" "database = $dir/jit.db" \
        "snapshot = $dir/run/snapshot" "authorized_keys_dir = $dir/keys" "min_duration = 1s" \
        "max_pending_per_user = 1000000" "requests_per_hour = 1000000" \
        "[store]" "backend = postgresql" "url = host=$PG_DIR/socket dbname=fleet user=postgres" \
        >"$dir/jitd.conf"
    # Not through on_host: $! must be jitd itself, not a subshell around a function.
    DBUS_SYSTEM_BUS_ADDRESS=$(host_bus "$i") "$JITD" --config "$dir/jitd.conf" >>"$dir/jitd.log" 2>&1 &
    JITD_PIDS+=($!)
}
# host_wait I: until host I's jitd owns io.jitd.Jit1 (60 s), or abort with its log.
host_wait() {
    local i=$1 pid=${JITD_PIDS[$(($1 - 1))]}
    local deadline=$(($(date +%s) + 60))
    until on_host "$i" name_has_owner io.jitd.Jit1; do
        kill -0 "$pid" 2>/dev/null || die "$(host_name "$i")'s jitd exited: $(tail -n 5 "$(host_dir "$i")/jitd.log")"
        (($(date +%s) < deadline)) || die "$(host_name "$i")'s jitd did not own io.jitd.Jit1 within 60s"
        sleep 0.1
    done
}

# h001 first: it migrates the empty store; the others find the schema current.
started=$(date +%s%N)
host_start 1
host_wait 1
for ((first = 2; first <= HOSTS; first += BATCH)); do
    last=$((first + BATCH - 1 < HOSTS ? first + BATCH - 1 : HOSTS))
    for ((i = first; i <= last; i++)); do host_start "$i"; done
    for ((i = first; i <= last; i++)); do host_wait "$i"; done
done
note "$HOSTS jitd own io.jitd.Jit1 on $HOSTS buses, $((($(date +%s%N) - started) / 1000000)) ms after the first started"

# --- the watcher: every snapshot rewrite of every host, stamped as it arrives --------------------
# One line per rewrite: EPOCH-SECONDS.MICROSECONDS HOST " " GRANT-ID " " ... (the grant lines it holds).
WATCH_LOG=$T/snapshots.log
: >"$WATCH_LOG"
watch_dirs=()
for ((i = 1; i <= HOSTS; i++)); do watch_dirs+=("$(host_dir "$i")/run"); done
mkfifo "$T/snapshots.fifo" || die "cannot make $T/snapshots.fifo"
stdbuf -oL inotifywait -m -e moved_to,close_write --format '%w%f' "${watch_dirs[@]}" \
    >"$T/snapshots.fifo" 2>"$T/inotifywait.err" &
INOTIFY_PID=$!
while IFS= read -r path; do
    [[ $path == */run/snapshot ]] || continue
    stamp=$EPOCHREALTIME
    ids=" "
    while read -r kind id _; do [[ $kind == grant ]] && ids+="$id "; done <"$path"
    host=${path%/run/snapshot}
    printf '%s %s %s\n' "$stamp" "${host##*/}" "$ids"
done <"$T/snapshots.fifo" >>"$WATCH_LOG" &
READER_PID=$!
wait_until 30 grep -q 'Watches established' "$T/inotifywait.err" ||
    die "inotifywait did not start: $(cat "$T/inotifywait.err")"

# --- the admin's resource, then the rounds ------------------------------------------------------
on_host 1 setup_resource fleet-db fleet-auto --description "fleet bench" --service sudo \
    --account root -- --action auto-approve --max-duration 4h

# known_by_all SINCE GRANT present|gone: whether every host rewrote its snapshot after SINCE
# with (present) or without (gone) GRANT; prints "HOST MS" per host: its first such stamp minus
# SINCE.
known_by_all() {
    awk -v since="$1" -v grant=" $2 " -v want="$3" -v hosts="$HOSTS" '
        $1 >= since && !($2 in first) {
            line = $0
            sub(/^[^ ]+ [^ ]+ /, " ", line)
            has = index(line " ", grant) > 0
            if ((want == "present") == has) { first[$2] = ($1 - since) * 1000; n++ }
        }
        END {
            if (n < hosts) exit 1
            for (h in first) printf "%s %.1f\n", h, first[h]
        }' "$WATCH_LOG"
}
# missing SINCE GRANT present|gone: the hosts that have not (for the abort message).
missing() {
    local i lagging=()
    for ((i = 1; i <= HOSTS; i++)); do
        awk -v since="$1" -v host="$(host_name "$i")" -v grant=" $2 " -v want="$3" '
            $1 >= since && $2 == host {
                line = $0; sub(/^[^ ]+ [^ ]+ /, " ", line)
                if ((want == "present") == (index(line " ", grant) > 0)) { found = 1; exit }
            }
            END { exit !found }' "$WATCH_LOG" || lagging+=("$(host_name "$i")")
    done
    echo "${#lagging[@]} hosts: ${lagging[*]:0:20}"
}
# propagate SINCE GRANT present|gone FILE: waits (60 s) until every host has it, appends the
# samples to FILE as "ROUND HOST MS" lines and prints the slowest host's ms.
propagate() {
    local since=$1 grant=$2 want=$3 file=$4 samples
    wait_until 60 known_by_all "$since" "$grant" "$want" ||
        die "grant $grant not $want on every host within 60s; missing on: $(missing "$since" "$grant" "$want")"
    samples=$(known_by_all "$since" "$grant" "$want")
    awk -v r="$round" '{ print r, $0 }' <<<"$samples" >>"$file"
    sort -n -k2 <<<"$samples" | tail -n 1 | cut -d' ' -f2
}
# ms_since A B: "ROUND MS" from stamp A to stamp B.
ms_since() { awk -v r="$round" -v a="$1" -v b="$2" 'BEGIN { printf "%d %.1f\n", r, (b - a) * 1000 }'; }

# cpu_ticks PID...: the user + system CPU clock ticks the processes used so far.
cpu_ticks() {
    local pid
    for pid in "$@"; do awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null; done |
        awk '{ s += $1 } END { print s + 0 }'
}
pg_backends() { ps -o pid= --ppid "$(head -n 1 "$PG_DIR/data/postmaster.pid")"; }
# shellcheck disable=SC2046 # one pid a word
pg_ticks() { cpu_ticks $(pg_backends); }
jitd_ticks_before=$(cpu_ticks "${JITD_PIDS[@]}")
pg_ticks_before=$(pg_ticks)
rounds_started=$EPOCHREALTIME
# What the store did during the rounds: the change feed's rows (who wrote them) and commits.
feed_head=$(psql_fleet -c "SELECT COALESCE(max(seq), 0) FROM change_log" fleet)
commits_before=$(psql_fleet -c "SELECT xact_commit FROM pg_stat_database WHERE datname = 'fleet'" postgres)
: >"$T/grant.ms" && : >"$T/revoke.ms" && : >"$T/grant-call.ms" && : >"$T/revoke-call.ms"
for ((round = 1; round <= ROUNDS; round++)); do
    t0=$EPOCHREALTIME
    out=$(on_host 1 as jitalice jitctl --json request fleet-db --reason "fleet round $round" --duration 1h 2>"$T/.err") ||
        die "round $round: the request on h001 failed: $(<"$T/.err")"
    t1=$EPOCHREALTIME
    grant=$(jq -r '.grant_id' <<<"$out")
    [[ $grant =~ ^[0-9]+$ ]] || die "round $round: no grant in $out"
    ms_since "$t0" "$t1" >>"$T/grant-call.ms"
    slowest_grant=$(propagate "$t0" "$grant" present "$T/grant.ms")

    t0=$EPOCHREALTIME
    on_host 1 as root jitctl revoke "$grant" --reason "fleet round $round" >/dev/null 2>"$T/.err" ||
        die "round $round: the revoke of grant $grant on h001 failed: $(<"$T/.err")"
    t1=$EPOCHREALTIME
    ms_since "$t0" "$t1" >>"$T/revoke-call.ms"
    slowest_revoke=$(propagate "$t0" "$grant" gone "$T/revoke.ms")
    note "round $round: grant $grant on all $HOSTS hosts after ${slowest_grant} ms, its revocation after ${slowest_revoke} ms"
done

rounds_took=$(awk -v a="$rounds_started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
jitd_cpu=$(awk -v a="$jitd_ticks_before" -v b="$(cpu_ticks "${JITD_PIDS[@]}")" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.1f", (b - a) / hz }')
pg_cpu=$(awk -v a="$pg_ticks_before" -v b="$(pg_ticks)" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (b - a) / hz }')
# --- results ------------------------------------------------------------------------------------
# percentiles FILE [HOST-REGEX]: "p50 p99 max" of the samples ("ROUND [HOST ]MS" lines) in FILE,
# of the hosts matching HOST-REGEX if given (nearest rank).
percentiles() {
    awk -v re="${2:-.}" 'NF == 2 || $2 ~ re { print $NF }' "$1" | sort -n | awk '{ v[NR] = $1 }
        END {
            p50 = int(NR * 0.50 + 0.999999); p99 = int(NR * 0.99 + 0.999999)
            printf "%.0f %.0f %.0f", v[p50], v[p99], v[NR]
        }'
}
read -r grant_p50 grant_p99 grant_max <<<"$(percentiles "$T/grant.ms")"
read -r revoke_p50 revoke_p99 revoke_max <<<"$(percentiles "$T/revoke.ms")"
read -r own_grant_p50 _ _ <<<"$(percentiles "$T/grant.ms" '^h001$')"
read -r own_revoke_p50 _ _ <<<"$(percentiles "$T/revoke.ms" '^h001$')"
# The same samples from the moment the jitctl call on h001 returned (negative: before it did).
after_call() { awk 'NR == FNR { call[$1] = $2; next } { printf "%d %s %.1f\n", $1, $2, $3 - call[$1] }' "$1" "$2"; }
after_call "$T/grant-call.ms" "$T/grant.ms" >"$T/grant-after-call.ms"
after_call "$T/revoke-call.ms" "$T/revoke.ms" >"$T/revoke-after-call.ms"
read -r late_grant_p50 late_grant_p99 _ <<<"$(percentiles "$T/grant-after-call.ms")"
read -r late_revoke_p50 late_revoke_p99 _ <<<"$(percentiles "$T/revoke-after-call.ms")"
read -r call_grant_p50 _ _ <<<"$(percentiles "$T/grant-call.ms")"
read -r call_revoke_p50 _ _ <<<"$(percentiles "$T/revoke-call.ms")"
connections=$(psql_fleet -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'fleet'" postgres)
per_host=$(awk -v c="$connections" -v h="$HOSTS" 'BEGIN { printf "%.2f", c / h }')
rss=$(for pid in "${JITD_PIDS[@]}"; do awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"; done |
    awk '{ s += $1 } END { printf "%.1f MiB total, %.1f MiB per host", s / 1024, s / 1024 / NR }')
note "$(wc -l <"$T/grant.ms") grant and $(wc -l <"$T/revoke.ms") revoke samples ($HOSTS hosts x $ROUNDS rounds)"
note "grant:  p50 $grant_p50 ms, p99 $grant_p99 ms, max $grant_max ms (h001's own snapshot p50 $own_grant_p50 ms; the jitctl request on h001 p50 $call_grant_p50 ms)"
note "revoke: p50 $revoke_p50 ms, p99 $revoke_p99 ms, max $revoke_max ms (h001's own snapshot p50 $own_revoke_p50 ms; the jitctl revoke on h001 p50 $call_revoke_p50 ms)"
feed_rows=$(psql_fleet -F: -R', ' -c "SELECT CASE WHEN host = 'h001' THEN 'h001' ELSE 'others' END, kind, count(*)
    FROM change_log WHERE seq > $feed_head GROUP BY 1, 2 ORDER BY 1, 2" fleet)
commits_after=$(psql_fleet -c "SELECT xact_commit FROM pg_stat_database WHERE datname = 'fleet'" postgres)
note "counted from the return of the jitctl call on h001 instead: grant p50 $late_grant_p50 ms p99 $late_grant_p99 ms, revoke p50 $late_revoke_p50 ms p99 $late_revoke_p99 ms"
note "change feed rows written during the rounds (writer:kind:rows): ${feed_rows:-none}"
note "CPU during the $ROUNDS rounds ($rounds_took s): all jitd $jitd_cpu s, PostgreSQL's backends $pg_cpu s"
note "PostgreSQL commits in the fleet database during the rounds: $((commits_after - commits_before)) ($(((commits_after - commits_before) / ROUNDS)) a round; the statistics lag by up to a second)"
note "PostgreSQL: $connections connections to the fleet database from $HOSTS hosts; jitd RSS $rss; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'fleet: %d hosts, grant propagation p50 %s ms p99 %s ms, revoke p50 %s ms p99 %s ms, connections per host %s\n' \
    "$HOSTS" "$grant_p50" "$grant_p99" "$revoke_p50" "$revoke_p99" "$per_host"
