#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A policy's reason rules with the real jitd and jitctl (`policy add --reason-pattern
# --reason-min-length`): a bad pattern is refused when the policy is made; a reason that breaks
# a rule is invalid input (65) naming the rule and changes nothing; a reason that keeps them is
# accepted, for requests and extensions alike; the rules survive a restart.
source "$(dirname "$0")/lib/harness.sh"

jitd_start

expect_exit 65 -m "a pattern regcomp refuses is invalid" -- \
    as root jitctl policy add broken --action auto-approve --reason-pattern '(INC'
expect_contains "the refusal names the option" "$ERR" "--reason-pattern"
expect_exit 65 -m "a negative minimum length is invalid" -- \
    as root jitctl policy add broken --action auto-approve --reason-min-length=-1
expect_exit 1 -m "no policy was made" -- as root jitctl policy show broken

setup_resource tickets tickets-policy --action auto-approve \
    --reason-pattern '(INC|CHG)-[0-9]+' --reason-min-length 12
POLICY=$(as root jitctl --json policy show tickets-policy)
jq_eq "policy JSON: reason_pattern" "$POLICY" .reason_pattern '(INC|CHG)-[0-9]+'
jq_eq "policy JSON: reason_min_length" "$POLICY" .reason_min_length 12

BEFORE=$(audit_count)
expect_exit 65 -m "a reason without a ticket is invalid" -- \
    as jitalice jitctl request tickets --reason "fixing the replica" --duration 10min
expect_contains "the refusal names the pattern rule" "$ERR" "reason-pattern"
expect_exit 65 -m "a reason shorter than the minimum is invalid" -- \
    as jitalice jitctl request tickets --reason "INC-1" --duration 10min
expect_contains "the refusal names the length rule" "$ERR" "reason-min-length"
expect_eq "the refused requests changed nothing" "$(audit_count)" "$BEFORE"

jitd_stop
jitd_restart
expect_exit 65 -m "after a restart the rules still hold" -- \
    as jitalice jitctl request tickets --reason "fixing the replica" --duration 10min
expect_exit 0 -m "a reason with a ticket id is accepted" -- \
    as jitalice jitctl request tickets --reason "fixing INC-4711" --duration 10min
G=$(as jitalice jitctl --json grants | jq -r '.[0].id')
expect_exit 65 -m "an extension keeps the rules too" -- \
    as jitalice jitctl extend "$G" --reason "need more time please" --duration 10min
expect_exit 0 -m "an extension with a ticket id is accepted" -- \
    as jitalice jitctl extend "$G" --reason "still on CHG-12" --duration 10min

finish
