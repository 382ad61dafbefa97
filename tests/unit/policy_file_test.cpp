// SPDX-License-Identifier: Apache-2.0
// Policy as code in the core: the TOML reader (values, defaults, one-line errors naming
// file:line and key), the writer's round trip, the plan, and the engine applying a plan in one
// transaction (docs/policy-as-code.md).
#include <gtest/gtest.h>

#include "jit/error.hpp"
#include "jit/policy_file.hpp"
#include "service_test_support.hpp"

namespace jit {
namespace {

using service_test::code_of;
using service_test::ServiceTest;

Configuration parse(const std::string& text, const std::string& name = "site.toml") {
    return parse_policy_files({{name, text}});
}

// The message of the JitError(InvalidInput) that parsing text throws.
std::string refusal(const std::string& text) {
    try {
        parse(text);
    } catch (const JitError& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
        std::string message = e.what();
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
        return message;
    }
    ADD_FAILURE() << "accepted: " << text;
    return "";
}

const char* const kSite = R"(
[policies.ops]
description = "on call"
action = "require-approval"
approvers = ["bob", "@approvers"]
approvals_required = 2
max_duration = "8h"
auto_expiry = false
request_ttl = "30min"
reason_pattern = "(INC|CHG)-[0-9]+"
reason_min_length = 8
active = true

[resources.db]
description = "database \"main\""
accounts = ["postgres"]
members = ["@dba", "dave"]
policy = "ops"

[resources.web]
services = ["sshd"]
accounts = ["*"]
)";

TEST(PolicyFile, ReadsEveryKeyAndTheDefaults) {
    Configuration c = parse(kSite);
    ASSERT_EQ(c.policies.size(), 1u);
    const Policy& p = c.policies.at("ops");
    EXPECT_EQ(p.description, "on call");
    EXPECT_EQ(p.action, PolicyAction::RequireApproval);
    EXPECT_EQ(p.approvers, (std::vector<std::string>{"bob", "@approvers"}));
    EXPECT_EQ(p.approvals_required, 2);
    EXPECT_EQ(p.max_duration, 8 * 3600);
    EXPECT_FALSE(p.auto_expiry);
    EXPECT_EQ(p.request_ttl, 1800);
    EXPECT_EQ(p.reason_pattern, "(INC|CHG)-[0-9]+");
    EXPECT_EQ(p.reason_min_length, 8);
    EXPECT_TRUE(p.active);
    const Resource& db = c.resources.at("db");
    EXPECT_EQ(db.description, "database \"main\"");
    EXPECT_EQ(db.services, (std::vector<std::string>{"sshd", "sudo"}));  // the default
    EXPECT_EQ(db.members, (std::vector<std::string>{"@dba", "dave"}));
    EXPECT_EQ(db.policy, "ops");
    EXPECT_EQ(c.resources.at("web").policy, "");
    EXPECT_EQ(c.resource_files.at("web"), "site.toml");
    EXPECT_EQ(c.where("resources.db.members"), "site.toml:17: resources.db.members: ");

    Configuration minimal = parse("[policies.p]\naction = \"auto-approve\"\n");
    EXPECT_EQ(minimal.policies.at("p").max_duration, 0);  // the applier's default
    EXPECT_EQ(minimal.policies.at("p").request_ttl, 3600);
    EXPECT_FALSE(minimal.policies.at("p").active);
}

TEST(PolicyFile, WriterRoundTrips) {
    Configuration c = parse(kSite);
    Configuration again = parse(write_policy_file(c));
    EXPECT_TRUE(plan_configuration(c, again, true).empty());
    EXPECT_TRUE(plan_configuration(again, c, true).empty());
    EXPECT_EQ(write_policy_file(again), write_policy_file(c));
}

TEST(PolicyFile, BrokenFilesNameFileLineAndKey) {
    EXPECT_EQ(refusal("[resources.x]\naccounts = [\"a\"]\nacounts = [\"b\"]\n"),
              "site.toml:3: resources.x.acounts: unknown key");
    EXPECT_EQ(refusal("[resources.x]\naccounts = [\"a/b\"]\n")
                  .rfind("site.toml:2: resources.x.accounts: ", 0),
              0u);
    EXPECT_EQ(refusal("[policies.p]\naction = \"auto-approve\"\nmax_duration = \"5 parsecs\"\n")
                  .rfind("site.toml:3: policies.p.max_duration: ", 0),
              0u);
    EXPECT_EQ(refusal("[policies.p]\napprovers = [\"bob\"]\napprovals_required = \"2\"\n"),
              "site.toml:3: policies.p.approvals_required: expected an integer");
    EXPECT_EQ(refusal("[policies.p]\napprovers = [\"bob\"]\napprovals_required = 2\n"),
              "site.toml:2: policies.p.approvers: approvals_required (2) exceeds the number of "
              "approvers (1)");
    EXPECT_EQ(refusal("[resources.x]\ndescription = \"no accounts\"\n"),
              "site.toml:1: resources.x: accounts is missing: name the target accounts, or \"*\"");
    EXPECT_EQ(
        refusal("[policies.p]\naction = \"maybe\"\n").rfind("site.toml:2: policies.p.action: ", 0),
        0u);
    EXPECT_EQ(refusal("users = 1\n").rfind("site.toml:1: users: unknown table", 0), 0u);
    EXPECT_NE(refusal("[resources.Bad]\naccounts = [\"a\"]\n").find("resources.Bad"),
              std::string::npos);
    const std::string syntax = refusal("[resources.x]\naccounts = [\"a\"\n");
    EXPECT_EQ(syntax.rfind("site.toml:", 0), 0u) << syntax;
    EXPECT_NE(syntax.find("syntax error"), std::string::npos) << syntax;
}

// toml11 3.7 overran its buffer on malformed UTF-8 in a literal string (found by the fuzzer).
TEST(PolicyFile, AFileThatIsNotUtf8IsRefusedBeforeItIsParsed) {
    const std::string file = "[resources.x]\naccounts = ['a']\ndescription = 'caf\xc3\xa9'\n";
    EXPECT_EQ(parse(file).resources.at("x").description, "caf\xc3\xa9");
    std::string broken = file;
    broken[broken.size() - 3] = '\xff';  // the second byte of the é
    EXPECT_EQ(refusal(broken), "site.toml:3: not UTF-8 (byte 50)");
    EXPECT_EQ(refusal("[resources.x]\naccounts = ['a']\n'k\xc3' = 1\n"),
              "site.toml:3: not UTF-8 (byte 34)");
}

TEST(PolicyFile, AnObjectDeclaredInTwoFilesIsRefused) {
    try {
        parse_policy_files({{"a.toml", "[resources.x]\naccounts = [\"a\"]\n"},
                            {"b.toml", "\n[resources.x]\naccounts = [\"b\"]\n"}});
        FAIL() << "accepted";
    } catch (const JitError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "b.toml:2: resources.x: resource declared again (first in a.toml)");
    }
}

TEST(PolicyPlan, ListsCreatesChangesAndWithPruneRemoves) {
    Configuration current = parse(kSite);
    Configuration desired = current;
    desired.resources.erase("web");
    desired.resources.at("db").members = {"dave", "erin"};
    desired.policies.at("ops").max_duration = 4 * 3600;
    desired.resources["cache"] = Resource{"cache", "", {"sudo"}, {"redis"}, {}, ""};

    std::vector<PlanChange> plan = plan_configuration(current, desired, false);
    ASSERT_EQ(plan.size(), 3u);
    EXPECT_EQ(plan[0].op, PlanOp::Change);
    EXPECT_EQ(plan[0].name, "ops");
    EXPECT_EQ(plan[0].change, "max_duration 8h -> 4h");
    EXPECT_EQ(plan[1].op, PlanOp::Create);
    EXPECT_EQ(plan[1].name, "cache");
    EXPECT_EQ(plan[2].name, "db");
    EXPECT_EQ(plan[2].change, "members +erin -@dba");

    plan = plan_configuration(current, desired, true);
    ASSERT_EQ(plan.size(), 4u);
    EXPECT_EQ(plan[3].op, PlanOp::Remove);
    EXPECT_EQ(plan[3].kind, "resource");
    EXPECT_EQ(plan[3].name, "web");

    // Order inside a list is not a change.
    desired = current;
    std::reverse(desired.resources.at("db").members.begin(),
                 desired.resources.at("db").members.end());
    EXPECT_TRUE(plan_configuration(current, desired, true).empty());
}

class ApplyTest : public ServiceTest {
  protected:
    std::vector<PlanChange> apply(const std::string& text, bool prune = false, bool dry_run = false,
                                  const std::string& user = "ada") {
        return service->apply_configuration(who(user), {{"site.toml", text}}, prune, dry_run);
    }
};

TEST_F(ApplyTest, AppliesInOneTransactionAuditedAsFromTheFile) {
    seed_admin_steps();
    const std::size_t before = audit_rows();
    std::vector<PlanChange> plan = apply(kSite);
    ASSERT_EQ(plan.size(), 3u);  // ops, db, web
    EXPECT_EQ(service->get_policy(who("ada"), "ops").policy.max_duration, 8 * 3600);
    EXPECT_EQ(service->get_resource(who("ada"), "db").resource.policy, "ops");
    EXPECT_TRUE(service->get_policy(who("ada"), "ops").policy.active);
    ASSERT_GT(audit_rows(), before);
    for (std::size_t i = before; i < audit_rows(); ++i) {
        const AuditEvent& e = store.audit_log[i];
        ASSERT_NE(e.field("JIT_APPLIED_FROM"), nullptr) << e.event;
        EXPECT_EQ(*e.field("JIT_APPLIED_FROM"), "site.toml");
        EXPECT_EQ(*e.field("JIT_ACTOR"), "ada");
    }
    // Applying it again: nothing to do, nothing audited.
    const std::size_t after = audit_rows();
    EXPECT_TRUE(apply(kSite).empty());
    EXPECT_EQ(audit_rows(), after);
    // The seed's resource and policy stay without prune, and go with it.
    EXPECT_NO_THROW(service->get_resource(who("ada"), "prod-db"));
    plan = apply(kSite, true);
    ASSERT_EQ(plan.size(), 2u);
    EXPECT_EQ(code_of([&] { service->get_resource(who("ada"), "prod-db"); }), ErrorCode::NotFound);
    EXPECT_EQ(code_of([&] { service->get_policy(who("ada"), "prod-db-jit"); }),
              ErrorCode::NotFound);
    // What was applied survives a restart.
    restart();
    EXPECT_TRUE(apply(kSite, true).empty());
}

TEST_F(ApplyTest, DryRunAndRefusalsChangeNothing) {
    seed_admin_steps();
    const std::size_t before = audit_rows();
    EXPECT_EQ(apply(kSite, true, true).size(), 5u);
    EXPECT_EQ(audit_rows(), before);
    EXPECT_EQ(code_of([&] { service->get_resource(who("ada"), "db"); }), ErrorCode::NotFound);

    EXPECT_EQ(code_of([&] { apply(kSite, false, false, "alice"); }), ErrorCode::PermissionDenied);
    EXPECT_EQ(code_of([&] { apply(kSite, false, true, "aud"); }), ErrorCode::PermissionDenied);
    // A policy jitd's limits refuse: nothing of the file is applied.
    EXPECT_EQ(code_of([&] {
                  apply(std::string(kSite) +
                        "[policies.long]\naction = \"auto-approve\"\n"
                        "max_duration = \"31d\"\n");
              }),
              ErrorCode::InvalidInput);
    // A failing commit: nothing in memory either.
    store.fail_commits = true;
    EXPECT_ANY_THROW(apply(kSite));
    store.fail_commits = false;
    EXPECT_EQ(audit_rows(), before);
    EXPECT_EQ(code_of([&] { service->get_resource(who("ada"), "db"); }), ErrorCode::NotFound);
    EXPECT_EQ(service->list_policies(who("ada")).size(), 1u);
    // A file name goes into the audit as it is: printable text only.
    EXPECT_EQ(
        code_of([&] {
            service->apply_configuration(who("ada"), {{"bad\nname.toml", kSite}}, false, false);
        }),
        ErrorCode::InvalidInput);
    // The same file as an admin.
    EXPECT_EQ(apply(kSite).size(), 3u);
}

TEST_F(ApplyTest, PruneRefusesAResourceWithALiveGrant) {
    seed_admin_steps();
    Request r = service->create_request(who("alice"), "prod-db", "fix", 3600);
    EXPECT_EQ(code_of([&] { apply(kSite, true); }), ErrorCode::Conflict);
    service->cancel(who("alice"), r.id);
    EXPECT_EQ(apply(kSite, true).size(), 5u);
}

TEST_F(ApplyTest, AResourceMayNameOnlyAPolicyThatExists) {
    EXPECT_EQ(code_of([&] { apply("[resources.x]\naccounts = [\"a\"]\npolicy = \"ghost\"\n"); }),
              ErrorCode::InvalidInput);
    seed_admin_steps();
    EXPECT_EQ(apply("[resources.x]\naccounts = [\"a\"]\npolicy = \"prod-db-jit\"\n").size(), 1u);
    EXPECT_EQ(service->get_resource(who("ada"), "x").resource.policy, "prod-db-jit");
}

}  // namespace
}  // namespace jit
