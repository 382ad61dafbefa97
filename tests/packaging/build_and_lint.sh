#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the Debian packages from a clean copy of the source tree and checks them: lintian
# without any error or warning, every file where the issue wants it, the conffile and the
# maintainer scripts, the journal catalog against jitd's MESSAGE_IDs, the unit's exposure
# score, and (as root) the pam-auth-update profile's lines in a throwaway copy of /etc/pam.d.
# Prints "N passed, M failed"; exits 1 if anything failed.
#
#   JIT_SOURCE_DIR  source tree (default: two levels above this script)
#   JIT_PKG_OUT     keep the work directory (copy, .debs, lintian output) here instead of a
#                   temporary one that is removed at the end
#   JIT_PKG_JOBS    parallel build jobs (default 2)
#
# Needs: dpkg-dev, debhelper and lintian (Rules-Requires-Root: no, so no fakeroot), and
# the build dependencies in debian/control.
set -uo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${JIT_SOURCE_DIR:=$(cd "$SCRIPT_DIR/../.." && pwd)}"
: "${JIT_PKG_JOBS:=2}"
export LC_ALL=C.UTF-8

PASSED=0
FAILED=0
pass() {
    PASSED=$((PASSED + 1))
    printf 'ok   %s\n' "$*"
}
fail() {
    FAILED=$((FAILED + 1))
    printf 'FAIL %s\n' "$*"
}
check() { # DESCRIPTION COMMAND...: pass when the command succeeds
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}
summary() {
    printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
    ((FAILED == 0))
}
die() { # a step the rest depends on failed
    fail "$*"
    summary
    exit 1
}

if [[ -n ${JIT_PKG_OUT:-} ]]; then
    WORK=$JIT_PKG_OUT
    rm -rf "$WORK"
    mkdir -p "$WORK" || die "cannot create $WORK"
else
    WORK=$(mktemp -d /tmp/jit-pkg.XXXXXX) || die "cannot create a work directory"
    trap 'rm -rf "$WORK"' EXIT
fi

for tool in dpkg-buildpackage dh lintian systemd-analyze journalctl; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done

# --- build from a clean copy -----------------------------------------------------------------
# Only what git knows (tracked, or new and not ignored): no build trees, no local debris.
VERSION=$(dpkg-parsechangelog -l "$JIT_SOURCE_DIR/debian/changelog" -S Version)
COPY=$WORK/jit-$VERSION
mkdir -p "$COPY"
# shellcheck disable=SC2016  # $f is the inner shell's
(cd "$JIT_SOURCE_DIR" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
    tar --null -T - -cf -) | tar -xf - -C "$COPY" || die "cannot copy the source tree"
CMAKE_VERSION=$(sed -n 's/^project(jit VERSION \([0-9.]*\).*/\1/p' "$COPY/CMakeLists.txt")
check "debian/changelog version $VERSION is the CMake project version ($CMAKE_VERSION)" \
    test "$VERSION" = "$CMAKE_VERSION"

printf '     building the packages (log: %s)\n' "$WORK/build.log"
if (cd "$COPY" && DEB_BUILD_OPTIONS="parallel=$JIT_PKG_JOBS" dpkg-buildpackage -us -uc -b) \
    >"$WORK/build.log" 2>&1; then
    pass "dpkg-buildpackage -us -uc -b"
else
    tail -n 40 "$WORK/build.log"
    die "dpkg-buildpackage -us -uc -b"
fi
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
CHANGES=$WORK/jit_${VERSION}_${ARCH}.changes
JITD_DEB=$WORK/jitd_${VERSION}_${ARCH}.deb
PAM_DEB=$WORK/libpam-jit_${VERSION}_${ARCH}.deb
for deb in "$JITD_DEB" "$PAM_DEB" "$CHANGES"; do
    [[ -f $deb ]] || die "missing ${deb##*/}"
done

# --- lintian ---------------------------------------------------------------------------------
lintian --display-info "$CHANGES" >"$WORK/lintian.log" 2>&1
LINTIAN_BAD=$(grep -E '^[EW]: ' "$WORK/lintian.log")
if [[ -z $LINTIAN_BAD ]]; then
    pass "lintian: no errors, no warnings ($(grep -c '^[IPN]: ' "$WORK/lintian.log") info lines)"
else
    printf '%s\n' "$LINTIAN_BAD"
    fail "lintian: $(grep -c . <<<"$LINTIAN_BAD") error/warning line(s)"
fi

# --- contents --------------------------------------------------------------------------------
contents() { dpkg-deb --fsys-tarfile "$1" | tar -t | sed 's|^\./|/|'; }
has_files() { # DEB PATH...: every path is in the package
    local list missing=()
    list=$(contents "$1")
    shift
    for path in "$@"; do
        grep -qxF -- "$path" <<<"$list" || missing+=("$path")
    done
    ((${#missing[@]} == 0)) || printf '     missing: %s\n' "${missing[@]}"
    ((${#missing[@]} == 0))
}
check "jitd ships the daemon, CLI, unit, bus files, catalog, sysusers, config, docs" \
    has_files "$JITD_DEB" /usr/sbin/jitd /usr/bin/jitctl /lib/systemd/system/jitd.service \
    /usr/share/dbus-1/system.d/io.jitd.Jit1.conf \
    /usr/share/dbus-1/system-services/io.jitd.Jit1.service \
    /usr/lib/systemd/catalog/jitd.catalog /usr/lib/sysusers.d/jitd.conf /etc/jit/jitd.conf \
    /usr/lib/tmpfiles.d/jitd.conf /etc/ssh/sshd_config.d/jit.conf \
    /usr/share/man/man1/jitctl.1.gz /usr/share/man/man5/jitd.conf.5.gz \
    /usr/share/man/man8/jitd.8.gz /usr/share/bash-completion/completions/jitctl
check "libpam-jit ships the module in the multiarch PAM directory, the profile and its page" \
    has_files "$PAM_DEB" "/lib/$MULTIARCH/security/pam_jit.so" /usr/share/pam-configs/jit \
    /usr/share/man/man8/pam_jit.8.gz

control_file() { # DEB FILE: print a control member (conffiles, postinst, ...)
    local dir
    dir=$(mktemp -d "$WORK/control.XXXXXX")
    dpkg-deb -e "$1" "$dir" && cat "$dir/$2" 2>/dev/null
}
check "/etc/jit/jitd.conf is a conffile" \
    grep -qx /etc/jit/jitd.conf <(control_file "$JITD_DEB" conffiles)
JITD_POSTINST=$(control_file "$JITD_DEB" postinst)
check "jitd's postinst creates the groups with systemd-sysusers" \
    grep -q 'systemd-sysusers.* jitd.conf' <<<"$JITD_POSTINST"
check "jitd's postinst enables and starts jitd.service" \
    grep -q "deb-systemd-invoke \$_dh_action 'jitd.service'" <<<"$JITD_POSTINST"
check "jitd's postrm removes the state on purge" \
    grep -q 'rm -rf /var/lib/jitd /run/jitd' <(control_file "$JITD_DEB" postrm)
check "libpam-jit's postinst registers the profile" \
    grep -qx ' *pam-auth-update --package' <(control_file "$PAM_DEB" postinst)
check "libpam-jit's prerm removes the profile on remove" \
    grep -qx ' *pam-auth-update --package --remove jit' <(control_file "$PAM_DEB" prerm)
check "libpam-jit depends on the jitd of the same build" \
    grep -q "jitd (= $VERSION)" <(dpkg-deb -f "$PAM_DEB" Depends)

# --- what the files say ----------------------------------------------------------------------
ROOT=$WORK/root
mkdir -p "$ROOT"
for deb in "$JITD_DEB" "$PAM_DEB"; do
    dpkg-deb -x "$deb" "$ROOT" || die "cannot unpack ${deb##*/}"
done

# journalctl reads the catalog exactly as it will on the host; every MESSAGE_ID jitd sends
# (libjit/include/jit/audit_events.hpp) must have an entry.
journalctl --root="$ROOT" --update-catalog 2>"$WORK/catalog.log"
journalctl --root="$ROOT" --list-catalog 2>>"$WORK/catalog.log" | awk '{print $1}' | sort >"$WORK/catalog.ids"
grep -oE '"[0-9a-f]{32}"' "$COPY/libjit/include/jit/audit_events.hpp" | tr -d '"' | sort >"$WORK/header.ids"
check "the catalog has one entry for each of jitd's $(wc -l <"$WORK/header.ids") MESSAGE_IDs" \
    cmp -s "$WORK/catalog.ids" "$WORK/header.ids"

SCORE=$(systemd-analyze security --offline=yes --root="$ROOT" jitd.service 2>&1 |
    sed -n 's/.*Overall exposure level for jitd.service: \([0-9.]*\).*/\1/p')
check "jitd.service exposure score ${SCORE:-?} <= 1.5" \
    awk -v s="${SCORE:-99}" 'BEGIN { exit !(s <= 1.5) }'

ACTIVATION=$ROOT/usr/share/dbus-1/system-services/io.jitd.Jit1.service
check "the activation file starts jitd.service as root" \
    grep -qx 'SystemdService=jitd.service' "$ACTIVATION"

# pam-auth-update writes /etc/pam.d and its state; here it works on copies in a private
# mount namespace, so the host's PAM stack is never touched.
pam_profile_check() {
    local pamroot=$WORK/pam
    mkdir -p "$pamroot"
    cp -a /etc/pam.d "$pamroot/pam.d" && cp -a /var/lib/pam "$pamroot/state" &&
        cp -a /usr/share/pam-configs "$pamroot/configs" &&
        cp -a /var/cache/debconf "$pamroot/debconf" &&
        cp "$ROOT/usr/share/pam-configs/jit" "$pamroot/configs/jit" || return 1
    # shellcheck disable=SC2016  # expanded by the inner bash
    unshare --mount --propagation private -- bash -c '
        set -e
        mount --bind "$1/pam.d" /etc/pam.d
        mount --bind "$1/state" /var/lib/pam
        mount --bind "$1/configs" /usr/share/pam-configs
        mount --bind "$1/debconf" /var/cache/debconf
        export DEBIAN_FRONTEND=noninteractive
        pam-auth-update --package
        cp /etc/pam.d/common-account "$1/account.off"
        cp /etc/pam.d/common-session "$1/session.off"
        pam-auth-update --enable jit
        cp /etc/pam.d/common-account "$1/account.on"
        cp /etc/pam.d/common-session "$1/session.on"
        cp /etc/pam.d/common-session-noninteractive "$1/session-noninteractive.on"
        pam-auth-update --package --remove jit
        cp /etc/pam.d/common-account "$1/account.removed"
        cp /etc/pam.d/common-session "$1/session.removed"
    ' bash "$pamroot" >"$WORK/pam-auth-update.log" 2>&1
}
no_pam_jit() { ! grep -q pam_jit "$@"; }
# The rule lines of a stack file, in order, blanks squeezed.
stack() { awk '$1 !~ /^#/ && NF >= 3 { $1 = $1; print }' "$1"; }
line_after() { # FILE FIRST SECOND: the line matching SECOND comes after the one matching FIRST
    stack "$1" | awk -v a="$2" -v b="$3" '$0 ~ a && !ia { ia = NR } $0 ~ b && !ib { ib = NR }
        END { exit !(ia && ib && ib > ia) }'
}
if [[ $EUID -ne 0 ]]; then
    printf 'skip pam-auth-update profile checks (need root for a private mount namespace)\n'
elif pam_profile_check; then
    P=$WORK/pam
    check "registered: off until enabled (Default: no)" \
        no_pam_jit "$P/account.off" "$P/session.off"
    check "enabled: 'account required pam_jit.so' after pam_unix" \
        line_after "$P/account.on" 'pam_unix[.]so' '^account required pam_jit[.]so$'
    check "enabled: 'session required pam_jit.so' after pam_unix and pam_systemd" \
        line_after "$P/session.on" 'pam_systemd[.]so' '^session required pam_jit[.]so$'
    check "enabled: sudo's non-interactive session stack has pam_jit too" \
        grep -q 'pam_jit[.]so' "$P/session-noninteractive.on"
    check "removed: no pam_jit line left" no_pam_jit "$P/account.removed" "$P/session.removed"
else
    cat "$WORK/pam-auth-update.log"
    fail "pam-auth-update with the packaged profile"
fi

summary
