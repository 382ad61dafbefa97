#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Grant review with the real jitd and jitctl (docs/grant-review.md). jitcarol plays the target
# account; her home is a directory of the test's own, bind-mounted over /home/jitcarol in the
# test's mount namespace, so nothing of the machine's is touched.
#   - a key appended to the account's ~/.ssh/authorized_keys during a grant shows in the grant's
#     review (`jitctl review`, the grant's `review` JSON) and in the `grant_review` event;
#   - a grant that changed nothing has an empty review, also when it ends by expiry;
#   - the holder and an auditor may read a review, another user is refused (77); a grant that
#     has not ended has none yet (1).
source "$(dirname "$0")/lib/harness.sh"

ACCOUNT=jitcarol
HOME_DIR=/home/$ACCOUNT
mkdir -p "$T/home/$ACCOUNT/.ssh" || die "cannot make the test home"
mount --bind "$T/home/$ACCOUNT" "$HOME_DIR" || die "cannot mount the test home over $HOME_DIR"
echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBefore before@host" >"$HOME_DIR/.ssh/authorized_keys"
chown -R "$ACCOUNT:" "$HOME_DIR"
chmod 0700 "$HOME_DIR/.ssh"
chmod 0600 "$HOME_DIR/.ssh/authorized_keys"

jitd_start "warn_before = 0"
setup_resource held held-policy --service sudo --account "$ACCOUNT" -- \
    --action auto-approve --max-duration 1h

review_event() { # GRANT: its grant_review event as JSON
    audit_json --event grant_review | jq -c --argjson g "$1" '.[] | select(.grant_id == $g)'
}
has_review_event() { [[ -n $(review_event "$1") ]]; }

# --- a key added during the grant ---------------------------------------------------------------
G=$(new_grant jitalice held 10min) && [[ $G =~ ^[0-9]+$ ]] || die "no grant: $G"
expect_exit 1 -m "an active grant has no review yet" -- as jitalice jitctl review "$G"
jq_eq "the grant's review is null while it runs" "$(grant_json "$G")" .review null
echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdded added@elsewhere" >>"$HOME_DIR/.ssh/authorized_keys"
expect_exit 0 -m "alice gives the grant up" -- as jitalice jitctl revoke "$G" --reason done

expect_exit 0 -m "the holder reads the review" -- as jitalice jitctl review "$G"
expect_eq "one changed path" "$OUT" "~ $HOME_DIR/.ssh/authorized_keys"
expect_exit 0 -m "an auditor reads it" -- as jitaudit jitctl --json review "$G"
jq_eq "the review lists the file as changed" "$OUT" '.changed | join(",")' "$HOME_DIR/.ssh/authorized_keys"
jq_eq "nothing created or removed" "$OUT" '(.created + .removed) | length' 0
jq_eq "the review is complete" "$OUT" .incomplete ""
jq_eq "reviewed_at is an RFC 3339 time" "$OUT" '.reviewed_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")' true
jq_eq "the grant record carries it" "$(grant_json "$G")" '.review.changed[0]' "$HOME_DIR/.ssh/authorized_keys"
expect_exit 77 -m "another user is refused" -- as jitmallory jitctl review "$G"
expect_exit 77 -m "so is the target account itself" -- as jitcarol jitctl review "$G"

EVENT=$(review_event "$G")
jq_eq "grant_review: the holder" "$EVENT" .user jitalice
jq_eq "grant_review: the resource" "$EVENT" .resource held
jq_eq "grant_review: the account" "$EVENT" .target "$ACCOUNT"
jq_eq "grant_review: the changed path" "$EVENT" .changed "~$HOME_DIR/.ssh/authorized_keys"
JOURNALED=$(journal_events | jq -c --arg g "$G" 'select(.JIT_EVENT == "grant_review" and .JIT_GRANT_ID == $g)')
jq_eq "the journal has it with its MESSAGE_ID" "$JOURNALED" .MESSAGE_ID 4169f44ff04f4ef0bad9b6c30b725f31

# --- a quiet grant, ended by expiry ----------------------------------------------------------------
Q=$(new_grant jitalice held 2s) && [[ $Q =~ ^[0-9]+$ ]] || die "no grant: $Q"
expect_eventually 30 "the short grant is reviewed when it expires" has_review_event "$Q"
expect_eq "it expired" "$(grant_state "$Q")" expired
jq_eq "grant_review of a quiet grant: nothing changed" "$(review_event "$Q")" .changed ""
expect_exit 0 -m "the holder reads the quiet review" -- as jitalice jitctl review "$Q"
expect_eq "no changes" "$OUT" "no changes"

finish
