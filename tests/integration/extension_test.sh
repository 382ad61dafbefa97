#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Extensions with the real sudo, jitd and jitctl (`jitctl extend`):
#   - only the grant's holder may extend it (77 for others), nothing changes when refused;
#   - under an auto-approve policy the extension is approved at once: `extended` with the
#     previous and new expiry, the grant lists it, and sudo works past the original expiry;
#   - under a require-approval policy the extension waits in the approver's queue and
#     `extend --wait` returns 0 once the approver approves.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/realpam.sh"

realpam_need
jitd_start "warn_before = 0"
realpam_pamd
realpam_sudoers "jitalice ALL=(ALL:ALL) NOPASSWD: ALL"
realpam_pam_jit sudo "timeout=2s" "snapshot=$T/run/snapshot"

for setup in "resource add quick --service sudo --account root" \
    "policy add quick-policy --action auto-approve --max-duration 1h" \
    "policy assign quick-policy quick" "policy activate quick-policy" \
    "resource add careful --service sudo --account postgres" \
    "policy add careful-policy --approver jitbob --max-duration 1h" \
    "policy assign careful-policy careful" "policy activate careful-policy"; do
    # shellcheck disable=SC2086 # the words of each setup command
    as root jitctl $setup >/dev/null 2>"$T/.setup" || die "setup: $setup: $(<"$T/.setup")"
done

expiry_of() { date -d "$(grant_json "$1" | jq -r .expiry)" +%s; }

# --- only the holder ----------------------------------------------------------------------------
G=$(new_grant jitalice quick 20s) && [[ $G =~ ^[0-9]+$ ]] || die "no grant: $G"
ORIGINAL=$(expiry_of "$G")
ORIGINAL_TEXT=$(grant_json "$G" | jq -r .expiry)
expect_exit 77 -m "mallory cannot extend alice's grant" -- \
    as jitmallory jitctl extend "$G" --reason "mine now" --duration 10min
expect_contains "the refusal says only the holder may" "$ERR" "holder"
expect_exit 77 -m "bob cannot extend alice's grant" -- \
    as jitbob jitctl extend "$G" --reason "for her" --duration 10min
expect_exit 65 -m "an extension needs a valid duration" -- \
    as jitalice jitctl extend "$G" --reason "more" --duration forever
expect_eq "the refused extensions changed nothing" "$(expiry_of "$G")" "$ORIGINAL"

# --- auto-approved: past the original expiry ----------------------------------------------------
EXT=$(as jitalice jitctl --json extend "$G" --reason "the migration runs long" --duration 2min)
jq_eq "the extension is a request extending the grant" "$EXT" .extends "$G"
jq_eq "approved at once" "$EXT" .state approved
jq_eq "the grant lists it" "$(grant_json "$G")" '.extensions | length' 1
expect_eq "the expiry moved by 2min" "$(expiry_of "$G")" $((ORIGINAL + 120))
EXTENDED=$(audit_json --event extended | jq -c --argjson g "$G" '.[] | select(.grant_id == $g)')
jq_eq "extended: the previous expiry" "$EXTENDED" .previous_expiry "$ORIGINAL_TEXT"
jq_eq "extended: the request" "$EXTENDED" .request_id "$(jq -r .id <<<"$EXT")"
expect_eventually 40 "the original expiry passes" bash -c "(( \$(date +%s) > $ORIGINAL + 1 ))"
expect_eq "the grant is still active" "$(grant_state "$G")" active
sudo_as jitalice id -un
expect_eq "sudo works past the original expiry" "$RC:$OUT" "0:root"

# --- waiting for an approver ---------------------------------------------------------------------
R=$(new_request jitalice careful 10min) && [[ $R =~ ^[0-9]+$ ]] || die "no request: $R"
expect_exit 0 -m "bob approves the request" -- as jitbob jitctl approve "$R"
G2=$(request_json "$R" | jq -r .grant_id)
BEFORE=$(expiry_of "$G2")
spawn_as jitalice jitctl extend "$G2" --reason "one more hour" --duration 1h --wait=90s
WAITER=$SPAWNED_PID
queued() { as jitbob jitctl --json approvals | jq -e --argjson g "$G2" 'any(.[]; .extends == $g)'; }
expect_eventually 30 "the extension waits in bob's approvals queue" queued
expect_eq "not extended before the approval" "$(expiry_of "$G2")" "$BEFORE"
EXT2=$(as jitbob jitctl --json approvals | jq -r --argjson g "$G2" '.[] | select(.extends == $g) | .id')
expect_exit 77 -m "alice cannot approve her own extension" -- as jitalice jitctl approve "$EXT2"
expect_exit 0 -m "bob approves the extension" -- as jitbob jitctl approve "$EXT2"
expect_eventually 30 "extend --wait returns once approved" _pid_gone "$WAITER"
wait "$WAITER"
expect_eq "extend --wait exits 0" "$?" 0
# The policy's maximum is 1h and the grant had 10min: capped to 50min.
jq_eq "the extension was capped to the policy's maximum" "$(request_json "$EXT2")" .duration 3000
expect_eq "the expiry moved by the capped duration" "$(expiry_of "$G2")" $((BEFORE + 3000))

finish
