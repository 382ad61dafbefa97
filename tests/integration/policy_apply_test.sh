#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Policy as code with the real jitd and jitctl (docs/policy-as-code.md): `export` then `apply` of
# its output changes nothing; a changed file shows in `resource show`, `policy show` and the
# audit (JIT_APPLIED_FROM); --dry-run changes nothing (jitd's whole database compared); --prune
# removes what the files do not declare; broken files exit 65 naming file:line and key and change
# nothing; a non-admin is refused and the same apply passes as an admin.
source "$(dirname "$0")/lib/harness.sh"

jitd_start

setup_resource db-prod db-prod-jit --approver jitbob --max-duration 4h
as root jitctl resource add-member db-prod jitcarol >/dev/null || die "setup: add-member"
EXAMPLE="$JIT_SOURCE_DIR/etc/jit-policy.example.toml"
as root jitctl resource add web --account www-data --service sshd >/dev/null 2>&1 || die "setup: web"

state_digest() { sqlite3 -readonly "$T/jit.db" .dump 2>&1 | sha256sum; }
D="$T/policies"
mkdir -p "$D"
chmod 755 "$T" "$D"

note "export, then apply of the export: nothing to do"
expect_exit 0 -m "export as an admin" -- as jitadmin jitctl export
printf '%s\n' "$OUT" >"$D/all.toml"
chmod 644 "$D/all.toml"
expect_contains "the export has the resource" "$OUT" "[resources.db-prod]"
expect_contains "the export has the policy" "$OUT" "[policies.db-prod-jit]"
BASELINE=$(state_digest)
expect_exit 0 -m "apply of the export" -- as jitadmin jitctl --json apply "$D/all.toml"
jq_eq "its plan is empty" "$OUT" '.plan | length' 0
expect_exit 0 -m "apply of the export, --prune" -- as jitadmin jitctl apply --prune "$D"
expect_contains "it says there is nothing to do" "$OUT" "No changes"
expect_eq "the database did not change" "$(state_digest)" "$BASELINE"

note "a change: dry run first"
cat >"$D/all.toml" <<'EOF'
[policies.db-prod-jit]
description = "prod databases"
action = "require-approval"
approvers = ["jitbob", "@jit-approvers"]
approvals_required = 2
max_duration = "8h"
active = true

[policies.ops-auto]
action = "auto-approve"
max_duration = "1h"
active = true

[resources.db-prod]
description = "production database"
accounts = ["*"]
members = ["jitdave"]
policy = "db-prod-jit"

[resources.cache]
services = ["sudo"]
accounts = ["redis"]
policy = "ops-auto"
EOF
BASELINE=$(state_digest)
expect_exit 0 -m "apply --dry-run" -- as jitadmin jitctl --json apply --dry-run "$D/all.toml"
jq_eq "the plan creates the new policy" "$OUT" \
    '[.plan[] | select(.op == "create" and .kind == "policy") | .name] | join(",")' ops-auto
jq_eq "the plan creates the new resource" "$OUT" \
    '[.plan[] | select(.op == "create" and .kind == "resource") | .name] | join(",")' cache
jq_eq "the plan changes db-prod and its policy" "$OUT" \
    '[.plan[] | select(.op == "change") | .name] | join(",")' db-prod-jit,db-prod
jq_eq "without --prune nothing is removed" "$OUT" '[.plan[] | select(.op == "remove")] | length' 0
jq_eq "dry run: nothing applied" "$OUT" .applied false
expect_eq "the dry run changed nothing" "$(state_digest)" "$BASELINE"

note "a non-admin is refused, an admin applies"
expect_exit 77 -m "a plain user may not apply" -- as jitalice jitctl apply "$D/all.toml"
expect_exit 77 -m "an auditor may not apply" -- as jitaudit jitctl apply "$D/all.toml"
expect_eq "the refusals changed nothing" "$(state_digest)" "$BASELINE"
expect_exit 0 -m "the admin applies" -- as jitadmin jitctl apply "$D/all.toml"
expect_contains "the plan names the member change" "$OUT" "members +jitdave -jitcarol"
POLICY=$(jcj root policy show db-prod-jit)
jq_eq "policy show: max_duration" "$POLICY" .max_duration 28800
jq_eq "policy show: approvals_required" "$POLICY" .approvals_required 2
RESOURCE=$(jcj root resource show db-prod)
jq_eq "resource show: members" "$RESOURCE" '.members | join(",")' jitdave
jq_eq "resource show: description" "$RESOURCE" .description "production database"
LIST=$(jcj root resource list)
jq_eq "resource list: cache under ops-auto" "$LIST" '.[] | select(.name == "cache") | .policy' ops-auto
jq_eq "the new policy is active" "$(jcj root policy show ops-auto)" .active true
AUDIT=$(audit_json --event resource_changed)
jq_eq "the member change is audited as from the file" "$AUDIT" \
    "[.[] | select(.object == \"db-prod\" and .change == \"member added jitdave\") | .applied_from] | join(\",\")" \
    "$D/all.toml"
jq_eq "and by the admin" "$AUDIT" \
    '[.[] | select(.change == "member removed jitcarol") | .actor] | join(",")' jitadmin
AUDIT=$(audit_json --event policy_changed)
jq_eq "the assignment is audited as from the file" "$AUDIT" \
    '[.[] | select(.object == "ops-auto" and .change == "assigned to cache") | .applied_from | length > 0] | join(",")' true
journal_applied() {
    local events
    events=$(journal_events | jq -c 'select(.JIT_OBJECT == "cache") | .JIT_APPLIED_FROM')
    [[ $events == *"\"$D/all.toml\""* ]]
}
expect_eventually 10 "the journal copy carries JIT_APPLIED_FROM" journal_applied
G=$(new_grant jitalice cache 10min)
[[ $G =~ ^[0-9]+$ ]] && pass "the applied auto-approve policy grants" || fail "no grant on cache: $G"
expect_exit 0 -m "applying the same file again" -- as jitadmin jitctl --json apply "$D/all.toml"
jq_eq "plans nothing" "$OUT" '.plan | length' 0

note "--prune removes what the files do not declare"
BASELINE=$(state_digest)
expect_exit 0 -m "dry run with --prune" -- as jitadmin jitctl --json apply --dry-run --prune "$D"
jq_eq "it would remove web" "$OUT" '[.plan[] | select(.op == "remove") | .name] | join(",")' web
expect_eq "the pruning dry run changed nothing" "$(state_digest)" "$BASELINE"
expect_exit 0 -m "apply --prune" -- as jitadmin jitctl apply --prune "$D"
expect_exit 1 -m "web is gone" -- as root jitctl resource show web
expect_exit 0 -m "what the file declares stays" -- as root jitctl resource show db-prod
jq_eq "the removal is audited" "$(audit_json --event resource_changed)" \
    '[.[] | select(.object == "web") | .change] | last' removed
rm "$D/all.toml"
expect_exit 0 -m "export after the changes" -- as root jitctl export
printf '%s\n' "$OUT" >"$D/all.toml"
expect_exit 0 -m "a pruned export re-applies to nothing" -- as jitadmin jitctl --json apply --prune "$D"
jq_eq "no plan" "$OUT" '.plan | length' 0

note "the annotated example in etc/ is a valid policy file"
expect_exit 0 -m "apply --dry-run of the example" -- as root jitctl --json apply --dry-run "$EXAMPLE"
jq_eq "it would create app-logs" "$OUT" \
    '[.plan[] | select(.op == "create" and .kind == "resource") | .name] | join(",")' app-logs

note "broken files: exit 65 with file:line and key, nothing changed"
BASELINE=$(state_digest)
B="$T/broken.toml"
# broken CASE KEY TEXT: applying TEXT exits 65 naming the file, the line and KEY.
broken() {
    local what=$1 key=$2 line=$3
    printf '%s\n' "$4" >"$B"
    chmod 644 "$B"
    expect_exit 65 -m "$what" -- as jitadmin jitctl apply "$B"
    expect_contains "$what: names file and line" "$ERR" "$B:$line:"
    [[ -z $key ]] || expect_contains "$what: names the key" "$ERR" "$key"
    expect_eq "$what: nothing changed" "$(state_digest)" "$BASELINE"
}
broken "syntax error" "" 2 $'[resources.x]\naccounts = = ["a"]\ndescription = "d"'
broken "unknown key" resources.x.acounts 3 $'[resources.x]\naccounts = ["a"]\nacounts = ["b"]'
broken "unknown section" groups 1 $'groups = 1'
broken "bad account name" resources.x.accounts 2 $'[resources.x]\naccounts = ["no/slash"]'
broken "bad duration" policies.p.max_duration 3 \
    $'[policies.p]\naction = "auto-approve"\nmax_duration = "5 parsecs"'
broken "wrong type" policies.p.approvals_required 3 \
    $'[policies.p]\napprovers = ["jitbob"]\napprovals_required = "two"'
broken "bad action" policies.p.action 2 $'[policies.p]\naction = "maybe"'
broken "above max_duration_limit (checked by jitd)" policies.p.max_duration 3 \
    $'[policies.p]\naction = "auto-approve"\nmax_duration = "31d"'
broken "a policy nobody declared" resources.x.policy 3 \
    $'[resources.x]\naccounts = ["a"]\npolicy = "ghost"'
# One good file and one broken file: all or nothing.
mkdir -p "$T/two"
chmod 755 "$T/two"
printf '[resources.fine]\naccounts = ["a"]\n' >"$T/two/a.toml"
printf '[resources.worse]\naccounts = 5\n' >"$T/two/b.toml"
chmod 644 "$T/two/"*.toml
expect_exit 65 -m "a directory with one broken file" -- as jitadmin jitctl apply "$T/two"
expect_contains "names the broken file" "$ERR" "$T/two/b.toml:2: resources.worse.accounts"
expect_eq "nothing of the good file was applied" "$(state_digest)" "$BASELINE"

finish
