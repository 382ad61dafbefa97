#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sessions end by their cgroup: a process that left a granted sudo session's process tree
# (setsid -f, a double fork) ends with the grant, with the real sudo and pam_jit in the
# harness's namespace (no systemd here: jitd makes cgroup v2 groups itself).
#   - under a grant, `sudo -u root setsid -f ...` returns at once (sudo's session closes) and its
#     escaped process keeps running: a logout ends nothing;
#   - the process runs in the group jitd made for the session, not in the caller's;
#   - revoke ends it, including a double-forked one that ignores SIGTERM (SIGKILL after
#     kill_grace), and the empty group is removed; the grant's expiry ends one the same way;
#   - with no cgroup2 mount in the namespace, jitd mounts one of its own and still ends it;
#   - an unmanaged sudo's escaped process is left alone.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/realpam.sh"

KILL_GRACE=2
realpam_need
CG2=$(awk '$9 == "cgroup2" && $4 == "/" { print $5; exit }' /proc/self/mountinfo)
[[ -n $CG2 ]] || die "this host has no cgroup2 mount to test with"
# Under systemd jitd asks systemd for scopes, which the harness's private bus cannot reach:
# that path is tests/host/systemd_host_test.sh's.
if [[ -d /run/systemd/system ]]; then
    echo "SKIP: systemd runs here; jitd would make systemd scopes (see tests/host)" >&2
    trap - EXIT
    harness_cleanup
    exit 77
fi
jitd_start "kill_grace = ${KILL_GRACE}s"
realpam_pamd
realpam_sudoers "jitalice ALL=(ALL:ALL) NOPASSWD: ALL"
realpam_pam_jit sudo "timeout=2s" "snapshot=$T/run/snapshot"

setup_resource prod-root root-jit --description "root on this host" --service sudo --account root \
    -- --approver jitbob --max-duration 1h

mkdir -p "$T/pids"
chmod 0777 "$T/pids"
# escape NAME [IGNORE_TERM] [SUDO-OPTIONS...]: jitalice runs `sudo -n SUDO-OPTIONS setsid -f sh`
# whose shell writes its pid to $T/pids/NAME and sleeps; with IGNORE_TERM=double it double-forks
# instead of setsid and ignores SIGTERM. sudo returns at once; the escaped pid lands in ESCAPED.
escape() {
    local name=$1 how=${2:-setsid}
    shift 2 || shift $#
    local file=$T/pids/$name script
    rm -f "$file"
    if [[ $how == double ]]; then
        script="(sh -c 'echo \$\$ > $file; trap \"\" TERM; exec sleep 1000 <&- >&- 2>&-' &) &"
        sudo_as jitalice "$@" sh -c "$script"
    else
        sudo_as jitalice "$@" setsid -f sh -c "echo \$\$ > $file; exec sleep 1000 <&- >&- 2>&-"
    fi
    [[ $RC == 0 ]] || die "sudo for $name failed: rc $RC: $ERR"
    wait_until 10 test -s "$file" || die "the escaped process $name did not start"
    ESCAPED=$(<"$file")
    track_pid "$ESCAPED"
    wait_until 5 runs_sleep "$ESCAPED" || die "$name does not sleep: $(ps -o args= -p "$ESCAPED")"
}
cgroup_of() { awk -F: '$1 == "0" { print $3 }' "/proc/$1/cgroup"; }
alive() { ! _pid_gone "$1"; }
sid_of() { ps -o sid= -p "$1" | tr -d ' '; }
closed_sessions() {
    as root jitctl --json sessions --all |
        jq --argjson g "$1" '[.[] | select(.grant_id == $g and .state == "closed")] | length'
}

# --- a logout ends nothing ----------------------------------------------------------------------
note "granted sudo: the escaped process runs on after the session closed"
grant_for jitalice prod-root 1h
escape setsid
PID1=$ESCAPED
GROUP1=$(cgroup_of "$PID1")
expect_eventually 10 "sudo's session is closed (sudo returned)" _ge "closed_sessions $GRANT" 1
expect_ne "the escaped process left sudo's session (setsid)" "$(sid_of "$PID1")" "$(sid_of $$)"
expect_contains "it runs in a group jitd made for the session" "$GROUP1" "/jit/session-"
expect_ne "not in the caller's group" "$GROUP1" "$(cgroup_of $$)"
expect_true "the group exists on the cgroup2 mount" test -d "$CG2$GROUP1"
expect_true "the escaped process still runs under the live grant" alive "$PID1"
escape double double
PID2=$ESCAPED
expect_contains "a double fork stays in a session's group" "$(cgroup_of "$PID2")" "/jit/session-"
expect_ne "each session has its own group" "$(cgroup_of "$PID2")" "$GROUP1"
expect_true "the double-forked process runs" alive "$PID2"
expect_true "the setsid one still runs" alive "$PID1"

# unmanaged sudo (to jitdave): no group, nothing ends it with the grant
escape unmanaged setsid -u jitdave
PID_UNMANAGED=$ESCAPED
expect_not_contains "an unmanaged sudo gets no jit group" "$(cgroup_of "$PID_UNMANAGED")" "/jit/"

# --- revoke ends them -------------------------------------------------------------------------
note "revoke ends the escaped processes"
START_MS=$(now_ms)
expect_exit 0 -m "revoke grant $GRANT" -- as root jitctl revoke "$GRANT" --reason "done"
expect_gone_by $((START_MS + (KILL_GRACE + 4) * 1000)) "escaped processes (setsid, double fork ignoring SIGTERM)" "$PID1" "$PID2"
expect_eventually 10 "the empty group is removed" test ! -d "$CG2$GROUP1"
expect_true "the unmanaged sudo's escaped process runs on" alive "$PID_UNMANAGED"
kill -KILL "$PID_UNMANAGED"

# --- expiry ends them -------------------------------------------------------------------------
note "expiry ends an escaped process"
grant_for jitalice prod-root 5s
EXPIRY=$(grant_expiry "$GRANT")
escape expiring setsid
PID3=$ESCAPED
expect_true "it runs before the expiry" alive "$PID3"
START_MS=$((EXPIRY * 1000))
expect_gone_by $((START_MS + (KILL_GRACE + 4) * 1000)) "escaped process at expiry" "$PID3"
expect_eventually 5 "grant $GRANT expired" grant_state_is "$GRANT" expired

# --- no cgroup2 mount: jitd mounts its own ----------------------------------------------------
note "no cgroup2 mount in the namespace: jitd mounts one beside its snapshot"
jitd_stop
umount "$CG2" || die "cannot unmount $CG2 in the test namespace"
jitd_restart
grant_for jitalice prod-root 1h
escape private setsid
PID4=$ESCAPED
GROUP4=$(cgroup_of "$PID4")
expect_true "jitd mounted cgroup2 on $T/run/cgroup2" \
    awk -v m="$T/run/cgroup2" '$5 == m && $9 == "cgroup2" { found = 1 } END { exit !found }' /proc/self/mountinfo
expect_contains "the escaped process runs in jitd's group" "$(cgroup_of "$PID4")" "/jit/session-"
START_MS=$(now_ms)
expect_exit 0 -m "revoke grant $GRANT" -- as root jitctl revoke "$GRANT" --reason "done"
expect_gone_by $((START_MS + (KILL_GRACE + 4) * 1000)) "escaped process (jitd's own mount)" "$PID4"
expect_eventually $((KILL_GRACE + 5)) "jitd removed its emptied group" test ! -d "$T/run/cgroup2$GROUP4"

expect_contains "jitd logged the groups it made" "$(<"$T/jitd.log")" "placed in cgroup /jit/session-"
# Groups of sessions that ended without escapees wait for jitd's periodic sweep; the hierarchy
# is the host's, so remove the empty ones now (rmdir leaves a populated group alone).
rmdir "$T"/run/cgroup2/jit/session-* 2>/dev/null
realpam_asan_reports
finish
