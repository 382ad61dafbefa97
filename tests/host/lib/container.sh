# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# A real systemd host for tests: a Debian 12 container booted with systemd-nspawn (systemd as
# PID 1, journald, the system bus, logind), entered with nsenter. Sourced by tests/host/*_test.sh.
#
#   container_rootfs            build once and cache the rootfs; prints its path
#   container_boot NAME [ARG]   boot it in the background (extra ARGs go to systemd-nspawn,
#                               e.g. --bind-ro=/some/dir:/mnt/dir) and wait until systemd inside
#                               reports running or degraded
#   container_exec CMD...       run CMD inside (all of the container's namespaces, clean env)
#   container_stop              clean poweroff, SIGKILL as the fallback; container_boot sets it as
#                               the EXIT trap (and makes INT/TERM exit), replacing the caller's
#
# Environment:
#   JIT_TEST_CACHE              cache folder (default /var/cache/jit-test)
#   CONTAINER_EXTRA_PACKAGES    more packages for the rootfs (space separated); part of the cache key
#   CONTAINER_BUILD_DIR         when set, bind-mounted read-only at /opt/jit
#   CONTAINER_NETWORK=host      share the host's network (default: --private-network, loopback only)
#   CONTAINER_BOOT_TIMEOUT      seconds to wait for boot (default 60)
#
# The host needs `mmdebstrap` and `systemd-container` (Debian packages). The host does not run
# systemd, hence --register=no and --keep-unit; the unified cgroup hierarchy because nspawn's
# legacy-hierarchy containers hang at shutdown here. --volatile=overlay keeps every change in a
# tmpfs, so the cached rootfs is never modified and each boot starts from the same state.

: "${JIT_TEST_CACHE:=/var/cache/jit-test}"
: "${CONTAINER_BOOT_TIMEOUT:=60}"

# What every test host has: systemd with logind and the system bus, sshd and ssh, sudo, the
# tools the tests look with, and the runtime libraries of jitd, jitctl and pam_jit.so.
CONTAINER_PACKAGES=(
    systemd systemd-sysv dbus libpam-systemd
    openssh-server openssh-client sudo procps iproute2
    libsqlite3-0 libpq5 libspdlog1.10 libfmt9 libinih1 libssl3 libsystemd0
)
# Bump when the way the rootfs is made changes, so cached ones are rebuilt.
CONTAINER_RECIPE=1

CONTAINER_NAME=
CONTAINER_PID=         # the container's init, as the host sees it
CONTAINER_NSPAWN_PID=  # systemd-nspawn, started by us
CONTAINER_LOG=

_container_say() { printf '%s   [container] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# Prints the host's apt source files for Debian bookworm (the mirror this machine uses), one per
# line; mmdebstrap pastes each into the rootfs. Other suites and third-party archives are left out.
_container_apt_sources() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        grep -Eq '^[^#]*([[:space:]]|^)bookworm(-updates|-security)?([[:space:]]|$)' "$f" && echo "$f"
    done
}

_container_package_list() {
    # shellcheck disable=SC2206  # word splitting of the extra list is intended
    local pkgs=("${CONTAINER_PACKAGES[@]}" ${CONTAINER_EXTRA_PACKAGES:-})
    printf '%s\n' "${pkgs[@]}" | sort -u
}

# Prints the rootfs path, building it first when the cache has none for this package list.
# Concurrent callers wait on a lock; the build goes to a temp dir renamed into place when done,
# so an interrupted build never leaves a half rootfs under the final name.
container_rootfs() {
    local pkgs key rootfs tmp started sources
    pkgs=$(_container_package_list)
    key=$(printf 'recipe %s\n%s\n' "$CONTAINER_RECIPE" "$pkgs" | sha256sum | cut -c1-12)
    rootfs=$JIT_TEST_CACHE/rootfs-bookworm-$key
    mkdir -p "$JIT_TEST_CACHE" || return 1
    (
        flock 9 || exit 1
        [[ -d $rootfs ]] && exit 0
        rm -rf "$JIT_TEST_CACHE"/.rootfs-build.*  # left by an interrupted build; we hold the lock
        mapfile -t sources < <(_container_apt_sources)
        if ((${#sources[@]} == 0)); then
            _container_say "no bookworm entry in /etc/apt/sources.list*; using mmdebstrap's default mirror"
        fi
        tmp=$(mktemp -d "$JIT_TEST_CACHE/.rootfs-build.XXXXXX") || exit 1
        rmdir "$tmp"  # mmdebstrap wants to create the directory itself
        started=$SECONDS
        _container_say "building $rootfs ($(wc -l <<<"$pkgs") packages) with mmdebstrap"
        # minbase has no /etc/hosts, and sudo needs one to resolve the host name; without the
        # /etc/hostname mmdebstrap copied from the host, the container is named by `nspawn -M`.
        # shellcheck disable=SC2016  # $1 is the hook's argument, expanded by mmdebstrap
        if ! mmdebstrap --variant=minbase --include="$(paste -sd, <<<"$pkgs")" \
            --customize-hook='printf "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" >"$1/etc/hosts"' \
            --customize-hook='rm -f "$1/etc/hostname"' \
            bookworm "$tmp" "${sources[@]}" >"$tmp.log" 2>&1; then
            _container_say "mmdebstrap failed; last lines of $tmp.log:"
            tail -n 20 "$tmp.log" >&2
            rm -rf "$tmp"
            exit 1
        fi
        mv -T "$tmp" "$rootfs" || exit 1
        rm -f "$tmp.log"
        _container_say "rootfs built in $((SECONDS - started))s"
    ) 9>"$JIT_TEST_CACHE/.rootfs.lock" || return 1
    echo "$rootfs"
}

# The container's init: the child of nspawn that is PID 1 in its own PID namespace.
_container_find_init() {
    local child nspid
    for child in $(pgrep -P "$CONTAINER_NSPAWN_PID"); do
        nspid=$(awk '/^NSpid:/ { print $NF }' "/proc/$child/status" 2>/dev/null)
        if [[ $nspid == 1 ]]; then
            echo "$child"
            return 0
        fi
    done
    return 1
}

# Seconds since an $EPOCHREALTIME value, to the hundredth.
_container_elapsed() {
    local now=${EPOCHREALTIME/./} then=${1/./}
    local cs=$(((now - then) / 10000))
    printf '%d.%02d' $((cs / 100)) $((cs % 100))
}

# _container_gave_up WHY: true, after saying WHY and showing the end of the container's log, when
# the container died or the boot deadline ($deadline, set by the caller) has passed.
_container_gave_up() {
    _container_alive && ((SECONDS < deadline)) && return 1
    _container_say "$1; its log ($CONTAINER_LOG):"
    tail -n 30 "$CONTAINER_LOG" >&2
    return 0
}

_container_alive() { [[ -n $CONTAINER_NSPAWN_PID ]] && kill -0 "$CONTAINER_NSPAWN_PID" 2>/dev/null; }

container_boot() {
    local name=$1 rootfs deadline state started
    shift
    rootfs=$(container_rootfs) || return 1
    CONTAINER_NAME=$name
    CONTAINER_LOG=$(mktemp "/tmp/jit-container-$name.XXXXXX.log")
    local args=(-D "$rootfs" -M "$name" -b --register=no --keep-unit --console=passive
        --volatile=overlay)
    [[ ${CONTAINER_NETWORK:-} == host ]] || args+=(--private-network)
    [[ -n ${CONTAINER_BUILD_DIR:-} ]] && args+=("--bind-ro=$CONTAINER_BUILD_DIR:/opt/jit")
    started=$EPOCHREALTIME
    SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn "${args[@]}" "$@" \
        </dev/null >"$CONTAINER_LOG" 2>&1 &
    CONTAINER_NSPAWN_PID=$!
    # A signal (ctest's timeout, ^C) exits through the EXIT trap too, so the container goes down.
    trap container_stop EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    deadline=$((SECONDS + CONTAINER_BOOT_TIMEOUT))
    until CONTAINER_PID=$(_container_find_init); do
        _container_gave_up "systemd-nspawn did not start the container" && return 1
        sleep 0.05
    done
    # Poll until systemd has finished booting ("starting" and "initializing" mean not yet; the
    # bus may not answer at all at first).
    while :; do
        state=$(container_exec systemctl is-system-running 2>/dev/null)
        [[ $state == running || $state == degraded ]] && break
        _container_gave_up "boot did not finish (state '${state:-no answer}')" && return 1
        sleep 0.1
    done
    # sudo resolves the host name, which nspawn sets to NAME at boot.
    # shellcheck disable=SC2016  # expanded inside the container
    container_exec sh -c 'printf "127.0.1.1\t%s\n" "$(hostname)" >>/etc/hosts'
    _container_say "$name booted ($state) in $(_container_elapsed "$started")s, init pid $CONTAINER_PID"
    if [[ $state == degraded ]]; then
        _container_say "failed units: $(container_exec systemctl --failed --plain --no-legend | awk '{print $1}' | paste -sd' ')"
    fi
}

# Runs inside every namespace of the container (the user namespace is the host's and skipped),
# with a clean environment so nothing from the host's leaks in.
container_exec() {
    nsenter -t "$CONTAINER_PID" -a -- env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 TERM=dumb "$@"
}

# container_as USER CMD...: runs CMD inside the container as USER. setpriv, not runuser or su:
# no PAM stack, so nothing depends on the stack under test and no logind session is made that
# checks on a user's sessions would have to tell apart.
container_as() {
    local user=$1
    shift
    container_exec setpriv --reuid="$user" --regid="$user" --init-groups \
        env HOME="/home/$user" USER="$user" LOGNAME="$user" "$@"
}

# ssh options for logging in to the container with the key /root/alice_key the tests make.
# shellcheck disable=SC2034  # used by the tests that source this
CONTAINER_SSH_OPTS=(-i /root/alice_key -o BatchMode=yes -o StrictHostKeyChecking=no
    -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10)

container_stop() {
    _container_alive || return 0
    local deadline=$((SECONDS + 30))
    [[ -n $CONTAINER_PID ]] && container_exec systemctl poweroff --no-block >/dev/null 2>&1
    while _container_alive && ((SECONDS < deadline)); do
        sleep 0.1
    done
    if _container_alive; then
        # SIGKILL to the namespace's init takes every process in the container with it.
        _container_say "$CONTAINER_NAME did not power off within 30s; killing it"
        [[ -n $CONTAINER_PID ]] && kill -KILL "$CONTAINER_PID" 2>/dev/null
        deadline=$((SECONDS + 10))
        while _container_alive && ((SECONDS < deadline)); do
            sleep 0.1
        done
        _container_alive && kill -KILL "$CONTAINER_NSPAWN_PID" 2>/dev/null
    fi
    wait "$CONTAINER_NSPAWN_PID" 2>/dev/null
    CONTAINER_NSPAWN_PID=
    CONTAINER_PID=
    rm -f "$CONTAINER_LOG"
}
