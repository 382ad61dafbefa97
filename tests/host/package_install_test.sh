#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# jit installed the way admins install it (issue 5): builds the Debian packages jitd and
# libpam-jit (lintian clean), installs them with apt into a booted Debian 12 container and
# checks what the packages promise. jitd runs as an enabled service owning io.jitd.Jit1,
# survives a restart with its state, and answers jitctl for root and a plain user over the
# system bus; the groups exist; `pam-auth-update --enable jit` puts pam_jit into the common
# stacks. Then the seed's story with a real ssh login: an admin sets up a resource and a
# require-approval policy, alice's login is refused, she requests, bob approves, she logs in;
# the journal holds the audit events with their catalog text. Finally `apt-get purge` leaves
# a working PAM stack without a pam_jit line and no /etc/jit.
#
# Usage: package_install_test.sh
#   JIT_SOURCE_DIR  source tree (default: two levels above this script)
#   JIT_DEBS_DIR    take jitd_*.deb and libpam-jit_*.deb from here instead of building them
#                   (e.g. the JIT_PKG_OUT of tests/packaging/build_and_lint.sh, so CI builds
#                   once); its lintian.log is checked when it has one, else lintian runs here
# Needs root, mmdebstrap, systemd-container and jq, plus dpkg-dev, debhelper and lintian to
# build (exit 77 = skipped without them). See lib/container.sh for the rootfs cache.
#
# The install is hermetic: the container has no network, the rootfs already holds every
# runtime dependency of the packages (lib/container.sh's list; libpam-runtime and dbus come
# with it), and it has no package lists, so a dependency the rootfs lacks fails the install
# by name instead of being fetched. (apt's --no-download would say the same, but apt 2.6
# fails with it on local .deb files: "Pathname to install is not absolute".)

# shellcheck disable=SC2317  # the predicates below are called through wait_until
# shellcheck disable=SC2016  # awk programs and dpkg-query formats are not the shell's
set -uo pipefail

HOST_TEST_DIR=$(cd "$(dirname "$0")" && pwd)
: "${JIT_SOURCE_DIR:=$(cd "$HOST_TEST_DIR/../.." && pwd)}"
export JIT_SOURCE_DIR  # for build_and_lint.sh

if [[ $EUID -ne 0 ]]; then
    echo "SKIP: booting a container needs root" >&2
    exit 77
fi
for tool in mmdebstrap systemd-nspawn nsenter jq dpkg-deb; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIP: $tool is not installed (apt-get install mmdebstrap systemd-container jq)" >&2
        exit 77
    fi
done
if [[ -z ${JIT_DEBS_DIR:-} ]]; then
    for tool in dpkg-buildpackage dh lintian; do
        if ! command -v "$tool" >/dev/null; then
            echo "SKIP: $tool is not installed (apt-get install dpkg-dev debhelper lintian)" >&2
            exit 77
        fi
    done
fi

source "$HOST_TEST_DIR/lib/check.sh"
source "$HOST_TEST_DIR/lib/container.sh"

SSH_OPTS=("${CONTAINER_SSH_OPTS[@]}")
c() { container_exec "$@"; }
as() { container_as "$@"; }  # see lib/container.sh
jitd_owns_name() { c busctl --system status io.jitd.Jit1 >/dev/null 2>&1; }
jitd_gone() { ! jitd_owns_name; }
# The audit events jitd sent to the journal, one JSON object per line.
jitd_events() { c journalctl --no-pager -o json -t jitd | jq -c 'select(.JIT_EVENT != null)'; }
# events_count FILTER: how many of jitd's audit events match the jq FILTER.
events_count() { jitd_events | jq -s "[.[] | $1] | length"; }
has_event() { (($(events_count "$1") >= 1)); }
# The rule lines of a PAM stack file in the container, in order, blanks squeezed.
pam_rules() { c cat "/etc/pam.d/$1" | awk '$1 !~ /^#/ && NF >= 3 { $1 = $1; print }'; }
# rule_after FILE FIRST SECOND: the first rule matching SECOND comes after the first matching FIRST.
rule_after() {
    pam_rules "$1" | awk -v a="$2" -v b="$3" '$0 ~ a && !ia { ia = NR } $0 ~ b && !ib { ib = NR }
        END { exit !(ia && ib && ib > ia) }'
}

# --- the packages -----------------------------------------------------------------------------
ARCH=$(dpkg --print-architecture)
if [[ -n ${JIT_DEBS_DIR:-} ]]; then
    DEBS_DIR=$(cd "$JIT_DEBS_DIR" 2>/dev/null && pwd) || die "JIT_DEBS_DIR '$JIT_DEBS_DIR' is not a directory"
    note "taking the packages from $DEBS_DIR"
else
    DEBS_DIR=$CHECK_TMP/pkg
    note "building the packages with tests/packaging/build_and_lint.sh (a few minutes)"
    started=$SECONDS
    if JIT_PKG_OUT=$DEBS_DIR bash "$JIT_SOURCE_DIR/tests/packaging/build_and_lint.sh" \
        >"$CHECK_TMP/build_and_lint.out" 2>&1; then
        pass "build_and_lint.sh: packages built, lintian and package checks passed ($((SECONDS - started))s)"
    else
        sed 's/^/     | /' "$CHECK_TMP/build_and_lint.out"
        fail "build_and_lint.sh: $(tail -n 1 "$CHECK_TMP/build_and_lint.out")"
    fi
fi
debs_named() { compgen -G "$DEBS_DIR/$1_*_$ARCH.deb"; }
mapfile -t JITD_DEBS < <(debs_named jitd)
mapfile -t PAM_DEBS < <(debs_named libpam-jit)
((${#JITD_DEBS[@]} == 1 && ${#PAM_DEBS[@]} == 1)) ||
    die "want one jitd and one libpam-jit .deb for $ARCH in $DEBS_DIR, found: ${JITD_DEBS[*]} ${PAM_DEBS[*]}"
JITD_DEB=${JITD_DEBS[0]##*/}
PAM_DEB=${PAM_DEBS[0]##*/}
VERSION=$(dpkg-deb -f "$DEBS_DIR/$JITD_DEB" Version)

# build_and_lint.sh leaves lintian's output next to the packages; without it, lintian runs here.
if [[ -f $DEBS_DIR/lintian.log ]]; then
    cp "$DEBS_DIR/lintian.log" "$CHECK_TMP/lintian.log"
else
    lintian --display-info "$DEBS_DIR/$JITD_DEB" "$DEBS_DIR/$PAM_DEB" >"$CHECK_TMP/lintian.log" 2>&1
fi
LINTIAN_BAD=$(grep -E '^[EW]: ' "$CHECK_TMP/lintian.log")
if [[ -z $LINTIAN_BAD ]]; then
    pass "lintian: no errors, no warnings on $JITD_DEB and $PAM_DEB"
else
    fail "lintian: $(grep -c . <<<"$LINTIAN_BAD") error/warning line(s): ${LINTIAN_BAD:0:800}"
fi

# --- install ----------------------------------------------------------------------------------
boot_started=$SECONDS
container_boot jit-pkg "--bind-ro=$DEBS_DIR:/mnt/debs" || die "the container did not boot"
pass "container booted ($((SECONDS - boot_started))s incl. rootfs)"

# apt's download sandbox user _apt cannot read the host's work directory; a copy it can read
# keeps apt's output free of the notice about that.
note "installing $JITD_DEB and $PAM_DEB with apt-get"
c install -d -m 0755 /tmp/debs
c cp "/mnt/debs/$JITD_DEB" "/mnt/debs/$PAM_DEB" /tmp/debs/
if expect_exit 0 -m "apt-get install ./$JITD_DEB ./$PAM_DEB" \
    c env DEBIAN_FRONTEND=noninteractive apt-get install -y \
    "/tmp/debs/$JITD_DEB" "/tmp/debs/$PAM_DEB"; then
    printf '%s\n%s\n' "$OUT" "$ERR" >"$CHECK_TMP/install.log"
else
    die "the packages do not install; apt said: ${ERR:0:1500}"
fi
expect_eq "dpkg: both packages installed at $VERSION" \
    "$(c dpkg-query -W -f='${Package} ${Version} ${db:Status-Status}\n' jitd libpam-jit | paste -sd,)" \
    "jitd $VERSION installed,libpam-jit $VERSION installed"
# Maintainer scripts that report trouble but exit 0 still leave a broken install behind.
# (apt's own "no stable CLI interface" warning aside.)
MAINT_TROUBLE=$(grep -iE 'warning|error|fail|cannot|not found' "$CHECK_TMP/install.log" |
    grep -v 'apt does not have a stable CLI interface')
expect_eq "the maintainer scripts printed no warning or error" "$MAINT_TROUBLE" ""

# --- the service ------------------------------------------------------------------------------
if ! wait_until 15 jitd_owns_name; then
    c journalctl --no-pager -u jitd | tail -n 30
    die "jitd does not own io.jitd.Jit1 after the install"
fi
pass "jitd owns io.jitd.Jit1 on the system bus after the install"
expect_eq "jitd.service is enabled" "$(c systemctl is-enabled jitd)" enabled
expect_eq "jitd.service is active" "$(c systemctl is-active jitd)" active
JITD_PID=$(c systemctl show -P MainPID jitd)
expect_eq "the name's owner is jitd.service's main process" \
    "$(c busctl --system status io.jitd.Jit1 | sed -n 's/^PID=//p')" "$JITD_PID"
pam_modules() { c find /usr/lib -path '*/security/pam_jit.so'; }
PAM_UNIX=$(c find /usr/lib -path '*/security/pam_unix.so')
expect_eq "pam_jit.so is next to pam_unix.so" "$(pam_modules)" "${PAM_UNIX%/*}/pam_jit.so"
expect_exit 0 -m "groups jit-admin and jit-audit exist" c getent group jit-admin jit-audit
expect_exit 0 -m "/etc/jit/jitd.conf is installed" c test -f /etc/jit/jitd.conf
expect_eq "the state directory is root's alone" "$(c stat -c '%U %a' /var/lib/jitd)" "root 700"
expect_contains "journalctl knows jitd's catalog (dpkg trigger ran --update-catalog)" \
    "$(c journalctl --list-catalog)" "JIT access to @JIT_RESOURCE@ granted to @JIT_USER@"

note "creating users: carol (jit-admin), bob (approver), alice (ssh key), dave"
if ! c bash -euxs >"$CHECK_TMP/users.log" 2>&1 <<'EOF'; then
useradd -m -s /bin/bash -G jit-admin carol
useradd -m -s /bin/bash bob
useradd -m -s /bin/bash alice
useradd -m -s /bin/bash dave
ssh-keygen -q -t ed25519 -N '' -C alice -f /root/alice_key
install -d -m 0700 -o alice -g alice /home/alice/.ssh
install -m 0600 -o alice -g alice /root/alice_key.pub /home/alice/.ssh/authorized_keys
EOF
    cat "$CHECK_TMP/users.log"
    die "creating the users failed"
fi

expect_exit 0 -m "jitctl status as root over the system bus" c jitctl --json status
jq_eq "jitd answers root with its version" "$OUT" '"\(.user) \(.version)"' "root $VERSION"
expect_exit 0 -m "jitctl status as the plain user dave over the system bus" as dave jitctl --json status
jq_eq "jitd knows the caller from the bus credentials" "$OUT" .user dave
expect_exit 77 -m "a plain user may not add a resource" as dave jitctl resource add nope --account '*'

# --- the admin's steps, and a restart ---------------------------------------------------------
expect_exit 0 -m "carol (jit-admin) adds resource prod-shell (sshd, account alice)" \
    as carol jitctl resource add prod-shell --description "Shell on this host" \
    --service sshd --account alice
expect_exit 0 -m "carol adds the require-approval policy shell-jit (approver bob, max 1h)" \
    as carol jitctl policy add shell-jit --action require-approval --approver bob --max-duration 1h
expect_exit 0 -m "carol assigns shell-jit to prod-shell" as carol jitctl policy assign shell-jit prod-shell
expect_exit 0 -m "carol activates shell-jit" as carol jitctl policy activate shell-jit

expect_exit 0 -m "systemctl restart jitd" c systemctl restart jitd
wait_until 15 jitd_owns_name || fail "jitd does not own io.jitd.Jit1 after the restart"
expect_eq "jitd.service is active after the restart" "$(c systemctl is-active jitd)" active
JITD_PID_AFTER=$(c systemctl show -P MainPID jitd)
if [[ $JITD_PID_AFTER != 0 && $JITD_PID_AFTER != "$JITD_PID" ]]; then
    pass "jitd runs as a new process ($JITD_PID -> $JITD_PID_AFTER)"
else
    fail "jitd's main pid after the restart: '$JITD_PID_AFTER' (before: $JITD_PID)"
fi
expect_exit 0 -m "after the restart: jitctl resource show prod-shell" as alice jitctl --json resource show prod-shell
jq_eq "after the restart: prod-shell and its policy are kept" "$OUT" \
    '"\(.services | join(",")) \(.accounts | join(",")) \(.policy) \(.access)"' "sshd alice shell-jit request"
expect_exit 0 -m "after the restart: jitctl policy show shell-jit" as carol jitctl --json policy show shell-jit
jq_eq "after the restart: shell-jit is active with approver bob" "$OUT" \
    '"\(.action) \(.approvers | join(",")) \(.active) \(.max_duration)"' "require-approval bob true 3600"

# --- pam-auth-update --------------------------------------------------------------------------
expect_exit 0 -m "no pam_jit line before pam-auth-update --enable jit (Default: no)" \
    c bash -c '! grep -rq pam_jit /etc/pam.d'
expect_exit 0 -m "pam-auth-update --enable jit" c env DEBIAN_FRONTEND=noninteractive pam-auth-update --enable jit
expect_exit 0 -m "common-account: 'account required pam_jit.so' after pam_unix" \
    rule_after common-account 'pam_unix[.]so' '^account required pam_jit[.]so$'
expect_exit 0 -m "common-session: 'session required pam_jit.so' after pam_systemd" \
    rule_after common-session 'pam_systemd[.]so' '^session required pam_jit[.]so$'

# --- the seed's story over ssh ----------------------------------------------------------------
expect_exit 255 -m "ssh alice@localhost refused without a grant" c ssh "${SSH_OPTS[@]}" alice@localhost true
expect_contains "ssh tells alice how to request access" "$ERR" "jitctl request prod-shell"
expect_exit 0 -m "alice requests prod-shell for 30min" \
    as alice jitctl --json request prod-shell --reason "Rotate the TLS certificate (CHG-7)" --duration 30min
REQ=$(jq -r .id <<<"$OUT")
jq_eq "the request waits for approval" "$OUT" .state pending
expect_exit 0 -m "bob's approvals queue" as bob jitctl --json approvals
jq_eq "bob sees alice's request" "$OUT" '[.[] | "\(.id) \(.requester)"] | join(",")' "$REQ alice"
expect_exit 0 -m "bob approves request $REQ" as bob jitctl approve "$REQ" --comment "go ahead"
expect_exit 0 -m "alice's grants" as alice jitctl --json grants
GRANT=$(jq -r '.[0].id' <<<"$OUT")
jq_eq "alice holds an active grant on prod-shell" "$OUT" '[.[] | "\(.resource) \(.state)"] | join(",")' \
    "prod-shell active"
expect_exit 0 -m "ssh alice@localhost works with the grant" c ssh "${SSH_OPTS[@]}" alice@localhost 'id -un'
expect_eq "the ssh session runs as alice" "$OUT" alice
sshd_session_of_grant() {
    [[ $(as alice jitctl --json sessions --all |
        jq "[.[] | select(.grant_id == $GRANT and .service == \"sshd\")] | length") == 1 ]]
}
if wait_until 10 sshd_session_of_grant; then
    pass "jitd registered the ssh session under grant $GRANT"
else
    fail "no sshd session under grant $GRANT: $(as alice jitctl --json sessions --all)"
fi
expect_exit 0 -m "su -s /bin/true - dave as root passes the stack with pam_jit (login not managed)" \
    c su -s /bin/true - dave

# --- the audit trail --------------------------------------------------------------------------
expected_events=(
    'select(.JIT_EVENT == "resource_changed" and .JIT_ACTOR == "carol" and .JIT_OBJECT == "prod-shell")'
    'select(.JIT_EVENT == "policy_changed" and .JIT_ACTOR == "carol" and .JIT_OBJECT == "shell-jit")'
    'select(.JIT_EVENT == "login_denied" and .JIT_USER == "alice" and .JIT_SERVICE == "sshd")'
    "select(.JIT_EVENT == \"requested\" and .JIT_REQUEST_ID == \"$REQ\")"
    "select(.JIT_EVENT == \"approved\" and .JIT_REQUEST_ID == \"$REQ\" and .JIT_ACTOR == \"bob\")"
    "select(.JIT_EVENT == \"granted\" and .JIT_GRANT_ID == \"$GRANT\")"
    "select(.JIT_EVENT == \"session_opened\" and .JIT_GRANT_ID == \"$GRANT\" and .JIT_SERVICE == \"sshd\")"
)
for filter in "${expected_events[@]}"; do
    if wait_until 10 has_event "$filter"; then
        pass "journalctl -t jitd: $filter"
    else
        fail "journalctl -t jitd has no event $filter"
    fi
done
expect_eq "every audit event has a MESSAGE_ID and JIT_SEQ" \
    "$(events_count 'select(.MESSAGE_ID == null or .JIT_SEQ == null)')" 0
run c journalctl --no-pager -x -t jitd JIT_EVENT=granted "JIT_GRANT_ID=$GRANT"
expect_contains "journalctl -x explains the granted event with the catalog's subject" \
    "$OUT" "Subject: JIT access to prod-shell granted to alice"
expect_contains "journalctl -x shows the catalog's text" "$OUT" "received the approvals it needed"
expect_exit 0 -m "the SQLite audit chain verifies (jitctl audit verify)" c jitctl audit verify

# --- purge ------------------------------------------------------------------------------------
expect_exit 0 -m "apt-get purge jitd libpam-jit" \
    c env DEBIAN_FRONTEND=noninteractive apt-get purge -y jitd libpam-jit
[[ $RC == 0 ]] || note "apt said: ${ERR:0:1500}"
expect_eq "dpkg: both packages are gone" \
    "$(c dpkg-query -W -f='${db:Status-Status}\n' jitd libpam-jit 2>/dev/null | grep -vx not-installed)" ""
run c grep -r pam_jit /etc/pam.d
expect_eq "grep -r pam_jit /etc/pam.d finds nothing" "$OUT" ""
expect_exit 0 -m "/etc/jit, /var/lib/jitd and the pam-auth-update profile are removed" \
    c bash -c '! ls -d /etc/jit /var/lib/jitd /usr/share/pam-configs/jit 2>/dev/null | grep .'
expect_eq "pam_jit.so is gone" "$(pam_modules)" ""
if wait_until 10 jitd_gone; then
    pass "nobody owns io.jitd.Jit1 any more"
else
    fail "io.jitd.Jit1 is still owned after the purge"
fi
expect_exit 0 -m "su -s /bin/true - dave as root still works (PAM intact)" c su -s /bin/true - dave
expect_exit 0 -m "ssh alice@localhost still works (PAM intact, no jit)" c ssh "${SSH_OPTS[@]}" alice@localhost 'id -un'
expect_eq "the ssh session runs as alice" "$OUT" alice

if ((CHECK_FAILED > 0)); then
    note "jitd's journal in the container:"
    c journalctl --no-pager -o short-precise -u jitd | tail -n 40
fi
finish
