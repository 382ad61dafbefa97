#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every route into a covered account goes through the login decision (docs/login-decision.md),
# with pam_jit where pam-auth-update puts it: common-account, common-session and
# common-session-noninteractive, so every PAM service of the machine has it.
#   - sudo covers sudo -i, su covers su -; "*" covers login, runuser, ... but not cron;
#   - an alias made with useradd -o (same uid) is the same account;
#   - root's own automation (no login uid) passes; a root shell a person reached (login uid set)
#     is that person: "sudo su - ACCOUNT" needs the person's grant;
#   - jitctl resource add says which routes stay unmanaged;
#   - jitd down after a "reboot" (/run emptied): the snapshot on /var/lib decides.
# Each refusal is followed by the same command passing once the grant exists.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/realpam.sh"

realpam_need
# The package's default places: /var/lib/jitd for the snapshot, nothing in /run/jitd. Both are
# private to this namespace.
for dir in /var/lib/jitd /run/jitd; do
    mkdir -p "$dir" && mount -t tmpfs -o mode=0700 tmpfs "$dir" || die "cannot mount a tmpfs on $dir"
done
# An alias of jitdave made with useradd -o, in private copies of the account files.
mkdir -p "$T/root/etc"
for file in passwd group shadow gshadow; do
    cp -a "/etc/$file" "$T/root/etc/$file" || die "cannot copy /etc/$file"
done
useradd --prefix "$T/root" -o -u "$(id -u jitdave)" -g "$(id -g jitdave)" -M -s /bin/bash jitdave2 ||
    die "useradd -o failed"
for file in passwd group shadow gshadow; do
    mount --bind "$T/root/etc/$file" "/etc/$file" || die "cannot bind $T/root/etc/$file"
done
expect_eq "jitdave2 is an alias of jitdave" "$(id -u jitdave2)" "$(id -u jitdave)"

jitd_start "snapshot = /var/lib/jitd/snapshot" "kill_grace = 2s"
realpam_pamd
realpam_sudoers "jitalice ALL=(ALL:ALL) NOPASSWD: ALL" "jitmallory ALL=(ALL:ALL) NOPASSWD: ALL"
# pam-auth-update's place for an "Additional" module: the end of each common stack (after
# pam_systemd in the session stacks). No snapshot= argument: the default must be jitd's.
for stack in common-account common-session common-session-noninteractive; do
    kind=${stack#common-}
    kind=${kind%-noninteractive}
    echo "$kind required $PAM_JIT timeout=2s" >>"$T/pam.d/$stack"
done
# runuser's stacks include none of the common ones: an admin who covers it adds pam_jit there.
realpam_pam_jit runuser timeout=2s
cat >"$T/pam.d/cron" <<'EOF'
account required pam_unix.so
@include common-account
EOF

# run_with_loginuid UID CMD...: CMD as root in a process whose audit login uid is UID (as in a
# root shell that the person with UID reached through sudo -i).
run_with_loginuid() {
    local uid=$1
    shift
    run bash -c 'echo "$1" >/proc/self/loginuid || exit 99; shift; exec "$@"' - "$uid" \
        env "${REALPAM_ENV[@]}" "$@"
}
# expect_route DESCRIPTION allowed|refused TARGET: the last run printed TARGET as a line (su and
# sudo -i also show pam_jit's notice of the grant), or failed with
# pam_jit's own refusal on stderr (so a refusal for any other reason does not pass).
expect_route() {
    local desc=$1 want=$2 target=$3
    if [[ $want == allowed && $RC == 0 ]] && grep -qx "$target" <<<"$OUT"; then
        pass "$desc: allowed"
    elif [[ $want == refused && $RC != 0 && $RC != 99 && -z $OUT && $ERR == *"jit: "* ]]; then
        pass "$desc: refused"
    else
        fail "$desc: want $want, got rc $RC, stdout '$OUT', stderr '${ERR:0:300}'"
    fi
}

ALICE=$(id -u jitalice)
OWN_LOGINUID=$(</proc/self/loginuid)

# --- the resource and what stays unmanaged ----------------------------------------------------
note "resource pg: sudo and su into jitdave"
jc root resource add pg --description "the shared account" --service sudo --service su --account jitdave
expect_eq "resource add" "$RC" 0
expect_contains "resource add names the routes it leaves unmanaged" "$ERR" "stay unmanaged"
expect_contains "... among them runuser and login" "$ERR" "runuser"
expect_not_contains "... but not the ones it covers" "$ERR" "sudo-i"
jc root policy add pgp --description "auto" --action auto-approve --max-duration 1h
jc root policy assign pgp pg
jc root policy activate pgp
jc root resource add everything --description "every route" --service '*' --account jitcarol
expect_eq "resource add with --service '*'" "$RC" 0
expect_not_contains "'*' leaves nothing unmanaged to mention" "$ERR" "stay unmanaged"
jc root policy assign pgp everything

# alice_routes_to_dave allowed|refused: jitalice's routes into jitdave's account (sudo -u,
# sudo -i -u (PAM service sudo-i), sudo -u to jitdave2 (an alias with the same uid), and su -
# (su-l) from a root shell she reached) all end as wanted.
alice_routes_to_dave() {
    run as jitalice env "${REALPAM_ENV[@]}" sudo -n -u jitdave id -un
    expect_route "sudo -u jitdave" "$1" jitdave
    run as jitalice env "${REALPAM_ENV[@]}" sudo -n -i -u jitdave id -un
    expect_route "sudo -i -u jitdave (PAM service sudo-i)" "$1" jitdave
    run as jitalice env "${REALPAM_ENV[@]}" sudo -n -u jitdave2 id -un
    expect_route "sudo -u jitdave2 (alias, same uid)" "$1" jitdave
    run_with_loginuid "$ALICE" su - jitdave -c 'id -un'
    expect_route "root shell reached by jitalice: su - jitdave (su-l)" "$1" jitdave
}

# --- without a grant ----------------------------------------------------------------------------
note "without a grant"
alice_routes_to_dave refused
run_with_loginuid "$ALICE" su jitdave -c 'id -un'
expect_route "root shell reached by jitalice: su jitdave" refused jitdave
run_with_loginuid "$ALICE" runuser -l jitcarol -c 'id -un'
expect_route "'*': runuser -l jitcarol" refused jitcarol
run env "${REALPAM_ENV[@]}" pamtester login jitcarol acct_mgmt
expect_eq "'*': login into jitcarol is managed (denied)" "$RC" 1
run env "${REALPAM_ENV[@]}" pamtester cron jitcarol acct_mgmt
expect_eq "'*' leaves cron alone (unmanaged)" "$RC" 0
if [[ $OWN_LOGINUID == 4294967295 || $OWN_LOGINUID == 0 ]]; then
    run env "${REALPAM_ENV[@]}" su - jitdave -c 'id -un'
    expect_route "root's own automation (no login uid): su - jitdave" allowed jitdave
else
    note "this test runs with login uid $OWN_LOGINUID: root's own automation is checked below"
fi
run_with_loginuid 0 su - jitdave -c 'id -un'
expect_route "root's own automation (login uid 0): su - jitdave" allowed jitdave
run as jitmallory env "${REALPAM_ENV[@]}" sudo -n -u jitalice id -un
expect_route "unmanaged target: sudo -u jitalice" allowed jitalice

# --- with a grant -------------------------------------------------------------------------------
note "with jitalice's grant"
GRANT=$(new_grant jitalice pg 30min) || die "no grant"
alice_routes_to_dave allowed
run as jitmallory env "${REALPAM_ENV[@]}" sudo -n -i -u jitdave id -un
expect_route "jitmallory (no grant): sudo -i -u jitdave" refused jitdave
run_with_loginuid "$(id -u jitmallory)" su - jitdave -c 'id -un'
expect_route "jitmallory's root shell: su - jitdave" refused jitdave
GRANT2=$(new_grant jitalice everything 30min) || die "no grant on everything"
run_with_loginuid "$ALICE" runuser -l jitcarol -c 'id -un'
expect_route "'*': runuser -l jitcarol under the grant" allowed jitcarol
audit=$(audit_json --event login_denied | jq -r '.[] | "\(.user)>\(.target)/\(.service)"' | sort -u | xargs)
expect_contains "denials audited by person: alice via sudo-i" "$audit" "jitalice>jitdave/sudo-i"
expect_contains "denials audited by person: alice behind root via su-l" "$audit" "jitalice>jitdave/su-l"
expect_contains "denials audited by the alias's name" "$audit" "jitalice>jitdave2/sudo"

# --- after a reboot in which jitd does not start ----------------------------------------------
note "jitd down, /run emptied: the snapshot on /var/lib decides"
expect_true "the snapshot is on /var/lib" test -f /var/lib/jitd/snapshot
jitd_stop
umount /run/jitd && rm -rf /run/jitd
run as jitalice env "${REALPAM_ENV[@]}" sudo -n -u jitdave id -un
expect_route "jitd down: an unexpired grant still works" allowed jitdave
run as jitmallory env "${REALPAM_ENV[@]}" sudo -n -u jitdave id -un
expect_route "jitd down: no grant, refused" refused jitdave
run as jitmallory env "${REALPAM_ENV[@]}" sudo -n -u jitalice id -un
expect_route "jitd down: unmanaged sudo passes" allowed jitalice
run env "${REALPAM_ENV[@]}" pamtester login root acct_mgmt
expect_eq "jitd down: root's console (unmanaged) is not locked out" "$RC" 0
mv /var/lib/jitd/snapshot "$T/snapshot.saved"
run as jitalice env "${REALPAM_ENV[@]}" sudo -n -u jitdave id -un
expect_route "jitd down and no snapshot at all: refused" refused jitdave
mv "$T/snapshot.saved" /var/lib/jitd/snapshot

realpam_asan_reports
finish
