#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every Debian 12 package needed to build and test jit. Idempotent: when everything is
# already installed it does nothing (and needs no network); otherwise it refreshes the apt lists
# only when they are missing or older than a day, then installs what is missing.
#
# It never starts a service: while it installs, a policy-rc.d that forbids service starts is in
# place (unless the host already has one), so openssh-server or dbus do not come up here.
set -euo pipefail

PACKAGES=(
    # build
    build-essential cmake ninja-build pkg-config clang-format clang-format-15
    # fuzzing (scripts/fuzz.sh): clang with libFuzzer and the sanitizer runtimes
    clang-14 libclang-rt-14-dev
    # libraries
    libpam0g-dev libsystemd-dev libsqlite3-dev libspdlog-dev libfmt-dev libssl-dev
    libcli11-dev nlohmann-json3-dev libinih-dev libpq-dev libtoml11-dev
    # the fleet store's tests start a real PostgreSQL server
    postgresql-15
    libgtest-dev libgmock-dev googletest libbenchmark-dev
    # integration tests: bus, journal, PAM, users, tools the scripts call
    dbus-daemon dbus-bin systemd pamtester libpam-wrapper openssh-server openssh-client sudo
    sqlite3 jq util-linux procps passwd python3 python3-dbus libxml2-utils valgrind
    # bench/run_fleet_bench.sh watches the hosts' snapshots
    inotify-tools
    # booted Debian 12 container tests (tests/host) and the Debian packages (tests/packaging)
    mmdebstrap systemd-container debhelper dpkg-dev lintian
)

log() { printf 'install-deps: %s\n' "$*"; }

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ $status == installed ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
    log "all ${#PACKAGES[@]} packages already installed"
    exit 0
fi
log "missing: ${missing[*]}"
if [[ $EUID -ne 0 ]]; then
    log "must run as root to install them" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# Refresh the package lists when there are none or the newest is older than a day.
lists_fresh() {
    local newest
    newest=$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 -print -quit 2>/dev/null)
    [[ -n $newest ]]
}
if ! lists_fresh; then
    log "refreshing apt lists"
    apt-get update -q
fi

# Forbid service starts for the duration of the install (Debian's invoke-rc.d honours this,
# with or without systemd as init). Keep an existing policy untouched.
policy=/usr/sbin/policy-rc.d
our_policy=false
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# installed by jit scripts/install-deps.sh while it runs\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    our_policy=true
fi
remove_policy() { if $our_policy; then rm -f "$policy"; fi; }
trap remove_policy EXIT

apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
log "installed: ${missing[*]}"
