# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Real sudo and sshd against pam_jit.so: sourced after harness.sh by sudo_test.sh, sshd_test.sh
# and bench/run_sshd_sudo_bench.sh.
#
# Everything here happens inside the harness's private mount namespace: /etc/pam.d and
# /etc/sudoers.d become bind mounts of copies in $T, the login records (utmp, wtmp, btmp,
# lastlog) empty private files, and sshd gets a tmpfs as its privilege separation directory, so
# nothing of the machine's is written.
#
# Sanitizer builds: an ASan-instrumented pam_jit.so cannot be dlopen()ed into an uninstrumented
# program unless libasan is loaded first. sshd (started as root) gets it through LD_PRELOAD.
# sudo is setuid, so the loader ignores LD_PRELOAD paths; in secure mode it still preloads a
# bare library name found in the system library directories when that file is set-user-ID, so
# the namespace gets a set-user-ID copy of libasan bind-mounted over the real one (again only
# inside the namespace). REALPAM_ENV holds what every sudo and sshd run needs.

PAM_JIT=$JIT_BUILD_DIR/pam_jit/pam_jit.so
REALPAM_ENV=()
SSHD_PID=
SSHD_PORT=

realpam_need() {
    need_programs
    [[ -f $PAM_JIT ]] || die "no pam_jit.so at $PAM_JIT (build the pam_jit target)"
    local program
    for program in /usr/bin/sudo /usr/sbin/sshd /usr/bin/ssh /usr/bin/ssh-keygen; do
        [[ -x $program ]] || die "$program is not installed"
    done
    _realpam_sanitizer_env
}

# The runtime pam_jit.so was linked against, when it was built with ASan.
_realpam_libasan() { ldd "$PAM_JIT" 2>/dev/null | awk '$1 ~ /^libasan\.so/ {print $3; exit}'; }

_realpam_sanitizer_env() {
    local libasan
    libasan=$(_realpam_libasan)
    [[ -n $libasan ]] || return 0
    # A set-user-ID copy of the very file, over the original: the loader's secure-mode rule.
    local real
    real=$(readlink -f "$libasan")
    install -m 4755 -o root -g root "$real" "$T/libasan-setuid.so" ||
        die "cannot copy $real"
    mount --bind "$T/libasan-setuid.so" "$real" || die "cannot bind a set-user-ID libasan over $real"
    # sudo and sshd are not ours: their own leaks are not our failures, and LeakSanitizer cannot
    # stop the world inside sshd's sandboxed children. pam_module_test runs pam_jit under
    # valgrind and LeakSanitizer; here ASan still catches memory errors in the module.
    REALPAM_ENV=(LD_PRELOAD="$(basename "$libasan")"
        ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:log_path=$T/asan")
    note "pam_jit.so is built with ASan: sudo and sshd run with $(basename "$libasan") preloaded"
}

# realpam_asan_reports: fails the test for every ASan report written by sudo or sshd.
realpam_asan_reports() {
    local report
    for report in "$T"/asan.*; do
        [[ -e $report ]] || continue
        fail "ASan report from a real program ($report): $(head -c 3000 "$report")"
    done
}

# --- /etc/pam.d -------------------------------------------------------------------------------
# realpam_pamd: a copy of /etc/pam.d in $T/pam.d, bind-mounted over /etc/pam.d. libpam reads
# the service file at every pam_start, so later edits of $T/pam.d take effect at once.
# pam_motd is left out: it would rewrite the machine's /run/motd.dynamic at every ssh login.
realpam_pamd() {
    cp -a /etc/pam.d "$T/pam.d" || die "cannot copy /etc/pam.d"
    sed -i '/pam_motd\.so/d' "$T"/pam.d/* || die "cannot edit $T/pam.d"
    mount --bind "$T/pam.d" /etc/pam.d || die "cannot bind $T/pam.d over /etc/pam.d"
    _realpam_private_login_records
}

# sshd and sudo record logins in utmp, wtmp, btmp and lastlog: empty private ones here.
_realpam_private_login_records() {
    local file
    mkdir -p "$T/records"
    for file in /run/utmp /var/log/wtmp /var/log/btmp /var/log/lastlog; do
        [[ -f $file ]] || continue
        install -m "$(stat -c %a "$file")" -o "$(stat -c %u "$file")" -g "$(stat -c %g "$file")" \
            /dev/null "$T/records/${file##*/}" || die "cannot make a private $file"
        mount --bind "$T/records/${file##*/}" "$file" || die "cannot bind a private $file"
    done
}

# realpam_pam_jit SERVICE [ARGS...]: SERVICE's pam_jit lines (account and session, appended
# after the stack it already has, so after pam_systemd) with ARGS, replacing earlier ones.
realpam_pam_jit() {
    local file=$T/pam.d/$1
    shift
    [[ -f $file ]] || die "no PAM service file $file"
    grep -vF "$PAM_JIT" "$file" >"$file.new"
    {
        echo "account required $PAM_JIT $*"
        echo "session required $PAM_JIT $*"
    } >>"$file.new"
    mv "$file.new" "$file"
}

# realpam_no_pam_jit SERVICE: SERVICE's file as the machine has it.
realpam_no_pam_jit() {
    grep -vF "$PAM_JIT" "$T/pam.d/$1" >"$T/pam.d/$1.new"
    mv "$T/pam.d/$1.new" "$T/pam.d/$1"
}

# --- sudo -------------------------------------------------------------------------------------
# realpam_sudoers LINE...: an /etc/sudoers.d of one drop-in with LINEs (root-owned, 0440, as
# sudo demands), bind-mounted over the machine's.
realpam_sudoers() {
    mkdir -m 0755 "$T/sudoers.d"
    printf '%s\n' "$@" >"$T/sudoers.d/jit-test"
    chown root:root "$T/sudoers.d/jit-test"
    chmod 0440 "$T/sudoers.d/jit-test"
    visudo -cq -f "$T/sudoers.d/jit-test" || die "visudo rejects the test drop-in"
    mount --bind "$T/sudoers.d" /etc/sudoers.d || die "cannot bind $T/sudoers.d over /etc/sudoers.d"
}

# sudo_as USER SUDO-ARGS...: `sudo -n SUDO-ARGS` run by USER (see run: OUT, ERR, RC) and its
# wall time in MS.
sudo_as() {
    local user=$1
    shift
    timed run as "$user" env "${REALPAM_ENV[@]}" sudo -n "$@"
}

# expect_sudo DESCRIPTION allowed|refused TARGET USER [SUDO-OPTIONS...]: USER runs
# `sudo -n SUDO-OPTIONS id -un`; allowed means it printed TARGET, refused that it failed silently.
# A sanitizer report from pam_jit fails it either way.
expect_sudo() {
    local desc=$1 want=$2 target=$3
    shift 3
    sudo_as "$@" id -un
    if sanitizer_report <<<"$ERR" >/dev/null; then
        fail "$desc: sanitizer report: $ERR"
    elif [[ $want == allowed && $RC == 0 && $OUT == "$target" ]]; then
        pass "$desc: allowed (${MS} ms)"
    elif [[ $want == refused && $RC != 0 && -z $OUT ]]; then
        pass "$desc: refused (${MS} ms)"
    else
        fail "$desc: want $want, got rc $RC, stdout '$OUT', stderr '${ERR:0:400}'"
    fi
}

# expect_revoke_kills DESCRIPTION PROCESSES...: root revokes $GRANT while PROCESSES (a live
# session whose command ignores SIGTERM) run; they are gone within kill_grace (KILL_GRACE, in
# seconds) plus 4 s (room for a loaded machine: unended, the command runs for ever), and not
# before kill_grace from the moment jitctl was started: SIGKILL came after the grace. (jitd starts the grace when it commits the revoke,
# between the two; jitctl's own start-up, slow in a sanitizer build, counts in neither.) Sets
# START_MS.
expect_revoke_kills() {
    local desc=$1 answered
    shift
    START_MS=$(now_ms)
    expect_exit 0 -m "root revokes grant $GRANT" -- as root jitctl revoke "$GRANT" --reason "done"
    answered=$(now_ms)
    expect_gone_by $((answered + (KILL_GRACE + 4) * 1000)) "$desc" "$@"
    if (($(now_ms) - START_MS < KILL_GRACE * 1000 - 200)); then
        fail "the command ignored SIGTERM, yet it was gone before kill_grace"
    else
        pass "SIGKILL came after kill_grace"
    fi
}

# expect_session_audit SERVICE REVOKED_GRANT REVOKED_PID EXPIRED_GRANT CLOSED [OPENED_CONDITION]:
# the audit trail of a login under a grant that was revoked while it ran (pid REVOKED_PID) and
# of one whose grant expired: session_opened (with the jq OPENED_CONDITION too),
# session_terminated for both, and at least CLOSED session_closed under the revoked grant (the
# logins that finished).
expect_session_audit() {
    local service=$1 revoked=$2 pid=$3 expired=$4 closed=$5 opened=${6:-true}
    local under="(.grant_id|tostring) == \"$revoked\""
    expect_exit 0 -m "audit of session_opened" -- as root jitctl --json audit --event session_opened
    jq_eq "session_opened under the revoked grant, with $service's pid" "$OUT" \
        "[.[] | select($under and (.session_pid|tostring) == \"$pid\" and .service == \"$service\" and $opened)] | length" 1
    expect_exit 0 -m "audit of session_terminated" -- as root jitctl --json audit --event session_terminated
    jq_eq "session_terminated for the revoked grant" "$OUT" \
        "[.[] | select($under and (.session_pid|tostring) == \"$pid\")] | length" 1
    jq_eq "session_terminated for the expired grant" "$OUT" \
        "[.[] | select((.grant_id|tostring) == \"$expired\" and .service == \"$service\")] | length" 1
    expect_exit 0 -m "audit of session_closed" -- as root jitctl --json audit --event session_closed
    jq_eq "session_closed for the $service logins that finished" "$OUT" \
        "[.[] | select($under and .service == \"$service\")] | length >= $closed" true
}

# spawn_sudo USER SUDO-ARGS...: sudo -n in the background; its pid in SPAWNED_PID.
spawn_sudo() {
    local user=$1
    shift
    spawn_as "$user" env "${REALPAM_ENV[@]}" sudo -n "$@"
}

# --- sshd -------------------------------------------------------------------------------------
# sshd_start [sshd_config LINE...]: a real sshd on a free loopback port (SSHD_PORT) with its
# own host key, the users' keys from $T/ssh/authorized_keys/USER and UsePAM yes. The LINEs come
# first: sshd takes a keyword's first value, so they override the defaults. sshd insists
# on /run/sshd (its compiled-in privilege separation directory): a tmpfs there, inside the
# namespace; the empty mount point is created when the machine has none.
sshd_start() {
    mkdir -p "$T/ssh/authorized_keys"
    chmod 0755 "$T/ssh" "$T/ssh/authorized_keys"
    if [[ ! -e $T/ssh/host_key ]]; then
        ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/host_key" || die "cannot make a host key"
    fi
    [[ -d /run/sshd ]] || mkdir -m 0755 /run/sshd || die "cannot create /run/sshd"
    mountpoint -q /run/sshd || mount -t tmpfs -o mode=0755 tmpfs /run/sshd ||
        die "cannot mount a tmpfs on /run/sshd"
    local _
    for _ in 1 2 3 4 5; do
        SSHD_PORT=$(_free_port) || die "no free loopback port"
        {
            printf '%s\n' "$@"
            echo "ListenAddress 127.0.0.1"
            echo "HostKey $T/ssh/host_key"
            echo "PidFile none"
            echo "UsePAM yes"
            echo "PubkeyAuthentication yes"
            echo "PasswordAuthentication no"
            echo "KbdInteractiveAuthentication no"
            echo "AuthorizedKeysFile $T/ssh/authorized_keys/%u"
            # $T lives under the world-writable /tmp, which StrictModes refuses.
            echo "StrictModes no"
            echo "PermitRootLogin no"
            echo "UseDNS no"
            echo "PrintMotd no"
            echo "LogLevel VERBOSE"
        } >"$T/sshd_config"
        : >"$T/sshd.log"
        env "${REALPAM_ENV[@]}" /usr/sbin/sshd -D -e -f "$T/sshd_config" -p "$SSHD_PORT" \
            >>"$T/sshd.log" 2>&1 &
        SSHD_PID=$!
        track_pid "$SSHD_PID"
        if wait_until 10 _sshd_up; then
            return 0
        fi
        stop_pid "$SSHD_PID" TERM
        note "sshd did not come up on port $SSHD_PORT: $(tail -n 3 "$T/sshd.log")"
    done
    die "sshd did not start"
}
_sshd_up() {
    kill -0 "$SSHD_PID" 2>/dev/null || return 2
    grep -q "Server listening on 127.0.0.1 port $SSHD_PORT" "$T/sshd.log"
}
_free_port() {
    local port _
    for _ in {1..50}; do
        port=$((20000 + RANDOM % 40000))
        if ! ss -Htln "sport = :$port" | grep -q .; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

sshd_stop() {
    [[ -n $SSHD_PID ]] || return 0
    stop_pid "$SSHD_PID" TERM
    SSHD_PID=
}

# ssh_key USER: a key pair for USER ($T/ssh/USER.key, owned by USER) and its authorized_keys.
ssh_key() {
    local user=$1
    ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/$user.key" || die "cannot make a key for $user"
    chown "$user:" "$T/ssh/$user.key" "$T/ssh/$user.key.pub"
    install -m 0644 "$T/ssh/$user.key.pub" "$T/ssh/authorized_keys/$user"
}

# The ssh client options of every login: key only, no known_hosts, never a prompt.
SSH_OPTS=(-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
    -o LogLevel=ERROR -o ConnectTimeout=20)

# ssh_as USER [CMD...]: USER logs in as USER over ssh with their key and runs CMD, or a login
# shell reading ssh's stdin (see run: OUT, ERR, RC) and its wall time in MS.
ssh_as() {
    local user=$1
    shift
    timed run as "$user" ssh -i "$T/ssh/$user.key" "${SSH_OPTS[@]}" -p "$SSHD_PORT" \
        "$user@127.0.0.1" "$@"
}

# spawn_ssh USER CMD...: an ssh login in the background; the client's pid in SPAWNED_PID. stdin
# is /dev/null so that the session does not end on its own; stderr goes to $T/ssh-client.log.
spawn_ssh() {
    local user=$1
    shift
    spawn_as "$user" ssh -n -i "$T/ssh/$user.key" "${SSH_OPTS[@]}" -p "$SSHD_PORT" \
        "$user@127.0.0.1" "$@" 2>>"$T/ssh-client.log"
}

# --- processes and time -----------------------------------------------------------------------
# timed CMD...: runs CMD and puts its wall time in milliseconds in MS.
timed() {
    local t0
    t0=$(date +%s%N)
    "$@"
    MS=$((($(date +%s%N) - t0) / 1000000))
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# tree_of PID: PID and all its descendants, one per line.
tree_of() {
    ps -e -o pid=,ppid= | awk -v root="$1" '
        { parent[$1] = $2; pids[NR] = $1 }
        END {
            keep[root] = 1; print root
            do {
                grown = 0
                for (i in pids) {
                    p = pids[i]
                    if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; print p; grown = 1 }
                }
            } while (grown)
        }'
}

# all_gone PID...: none of the processes runs any more (zombies count as gone).
all_gone() {
    local pid
    for pid in "$@"; do
        _pid_gone "$pid" || return 1
    done
}

# --- jitd sessions ----------------------------------------------------------------------------
# open_sessions_json: root's view of the sessions jitd has open.
open_sessions_json() { as root jitctl --json sessions --all | jq -c '[.[] | select(.state == "open")]'; }

# session_open_for GRANT_ID SERVICE: jitd holds an open session under the grant.
session_open_for() {
    [[ $(open_sessions_json | jq --argjson g "$1" --arg s "$2" \
        '[.[] | select(.grant_id == $g and .service == $s)] | length') -ge 1 ]]
}

# session_pid_for GRANT_ID SERVICE: the registered pid of that session.
session_pid_for() {
    open_sessions_json | jq -r --argjson g "$1" --arg s "$2" \
        '[.[] | select(.grant_id == $g and .service == $s)][0].pid'
}

# audit_events_json EVENT: the audit events of that type, as root sees them.
audit_events_json() { as root jitctl --json audit --event "$1"; }

# --- grants and assertions --------------------------------------------------------------------
# grant_for USER RESOURCE DURATION: USER requests RESOURCE, jitbob approves; the grant id in
# GRANT. The resource's policy must name jitbob as approver.
grant_for() {
    local req
    req=$(new_request "$1" "$2" "$3" "maintenance by $1") || die "request failed"
    as jitbob jitctl approve "$req" --comment ok >/dev/null 2>"$T/.setup" ||
        die "approve $req: $(<"$T/.setup")"
    GRANT=$(request_json "$req" | jq -r .grant_id)
    [[ $GRANT =~ ^[0-9]+$ ]] || die "no grant for request $req"
}

# grant_expiry GRANT_ID: its expiry in epoch seconds.
grant_expiry() { date -d "$(grant_json "$1" | jq -r .expiry)" +%s; }

# _ge "CMD ARGS" N: CMD's output (a number) is at least N (for wait_until).
_ge() {
    local got
    # shellcheck disable=SC2086
    got=$($1) || return 1
    [[ $got =~ ^[0-9]+$ ]] && ((got >= $2))
}
# _past EPOCH: the clock is past EPOCH.
_past() { (($(date +%s) > $1)); }

# expect_within_timeout DESCRIPTION [BASE_MS]: the last timed login (MS) did not wait for the
# bus's default call timeout (25 s): it took at most TIMEOUT_MS + 4 s more than BASE_MS (what the
# same login costs with jitd answering; 0 for sudo), so the module's own timeout decided. The
# exact bound (one timeout per login: the session stack falls back at once once the account
# check timed out) is checked on the module's own clock in pam_module_test, where a loaded
# machine's scheduling does not blur it.
expect_within_timeout() {
    local base=${2:-0}
    if ((MS - base <= TIMEOUT_MS + 4000)); then
        pass "$1: ${MS} ms (base ${base} ms), the module's timeout is ${TIMEOUT_MS} ms"
    else
        fail "$1: ${MS} ms (base ${base} ms), more than timeout ${TIMEOUT_MS} ms + 4 s"
    fi
}

# expect_gone_by DEADLINE_MS DESCRIPTION PID...: polls until the processes are gone; passes when
# that happened by DEADLINE_MS (epoch milliseconds). Reports the time since START_MS (when the
# grant ended).
expect_gone_by() {
    local deadline=$1 desc=$2 at
    shift 2
    while ! all_gone "$@" && (($(now_ms) < deadline + 2000)); do
        sleep 0.05
    done
    at=$(now_ms)
    if ! all_gone "$@"; then
        fail "$desc: still running $((at - START_MS)) ms after the grant ended: $(ps -o pid=,user=,args= -p "$(tr ' ' , <<<"$*")" | xargs)"
    elif ((at <= deadline)); then
        pass "$desc: gone $((at - START_MS)) ms after the grant ended"
    else
        fail "$desc: gone only $((at - START_MS)) ms after the grant ended (limit $((deadline - START_MS)) ms)"
    fi
}

# runs_sleep PID: a `sleep` runs among PID and its descendants (the session's command started).
runs_sleep() { ps -o comm= -p "$(tree_of "$1" | paste -sd,)" | grep -qx sleep; }
