// SPDX-License-Identifier: Apache-2.0
// Host patterns in policy files (docs/policy-as-code.md, docs/fleet.md#hosts): read with their
// default, refused when broken, written back, planned as a change, and applied so that the
// resource takes part in the logins of the hosts it names only.
#include <gtest/gtest.h>

#include "jit/error.hpp"
#include "jit/policy_file.hpp"
#include "service_test_support.hpp"

namespace jit {
namespace {

using service_test::ServiceTest;

Configuration parse(const std::string& text) {
    return parse_policy_files({{"site.toml", text}});
}

const char* const kHosts = R"(
[resources.db]
services = ["sudo"]
accounts = ["postgres"]
hosts = ["db-*", "backup-[0-9]"]

[resources.web]
accounts = ["*"]
)";

TEST(PolicyFileHosts, ReadsPatternsAndDefaultsToEveryHost) {
    Configuration c = parse(kHosts);
    EXPECT_EQ(c.resources.at("db").hosts, (std::vector<std::string>{"db-*", "backup-[0-9]"}));
    EXPECT_EQ(c.resources.at("web").hosts, (std::vector<std::string>{"*"}));
}

TEST(PolicyFileHosts, RefusesBrokenPatternsNamingTheLine) {
    for (const std::string& hosts : {std::string("[]"), std::string("[\"web_*\"]"),
                                     std::string("[\"db-[0-9\"]"), std::string("\"db-*\"")}) {
        try {
            parse("[resources.x]\naccounts = [\"root\"]\nhosts = " + hosts + "\n");
            ADD_FAILURE() << "accepted hosts = " << hosts;
        } catch (const JitError& e) {
            EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
            EXPECT_EQ(std::string(e.what()).rfind("site.toml:3: resources.x.hosts: ", 0), 0u)
                << e.what();
        }
    }
}

TEST(PolicyFileHosts, WriterKeepsThePatternsAndThePlanSeesThem) {
    Configuration c = parse(kHosts);
    const std::string written = write_policy_file(c);
    EXPECT_NE(written.find("hosts = [\"db-*\", \"backup-[0-9]\"]"), std::string::npos) << written;
    Configuration again = parse(written);
    EXPECT_EQ(again.resources.at("db").hosts, c.resources.at("db").hosts);
    EXPECT_TRUE(plan_configuration(c, again, true).empty());

    Configuration desired = c;
    desired.resources.at("db").hosts = {"db-*"};
    std::vector<PlanChange> plan = plan_configuration(c, desired, false);
    ASSERT_EQ(plan.size(), 1u);
    EXPECT_EQ(plan[0].change, "hosts db-*,backup-[0-9] -> db-*");
    // No patterns and "*" are the same thing.
    desired = c;
    desired.resources.at("web").hosts.clear();
    EXPECT_TRUE(plan_configuration(c, desired, false).empty());
}

class ApplyHostsTest : public ServiceTest {
  protected:
    void SetUp() override {
        config.host = "db-01";
        ServiceTest::SetUp();
    }
    void apply(const std::string& hosts) {
        service->apply_configuration(
            who("ada"),
            {{"site.toml",
              "[resources.pg]\nservices = [\"sudo\"]\naccounts = [\"postgres\"]\n" + hosts + "\n"}},
            false, false);
    }
};

TEST_F(ApplyHostsTest, AnAppliedResourceTakesPartOnlyWhereItsPatternsMatch) {
    apply("hosts = [\"web-*\"]");
    EXPECT_EQ(service->get_resource(who("ada"), "pg").resource.hosts,
              (std::vector<std::string>{"web-*"}));
    EXPECT_EQ(sudo_as_postgres("alice").verdict, LoginVerdict::Unmanaged);
    EXPECT_NE(store.audit_log.back().field("JIT_CHANGE")->find("hosts=web-*"), std::string::npos);

    apply("hosts = [\"DB-*\"]");
    EXPECT_EQ(sudo_as_postgres("alice").verdict, LoginVerdict::Deny);
    EXPECT_EQ(*store.audit_log.back().field("JIT_RESOURCE"), "pg");
    bool changed = false;
    for (const AuditEvent& e : store.audit_log) {
        if (e.event == "resource_changed" &&
            *e.field("JIT_CHANGE") == "changed hosts web-* -> DB-*") {
            changed = true;
        }
    }
    EXPECT_TRUE(changed) << "the change of hosts is audited";

    apply("");  // no hosts key: every host
    EXPECT_EQ(service->get_resource(who("ada"), "pg").resource.hosts,
              (std::vector<std::string>{"*"}));
    EXPECT_EQ(sudo_as_postgres("alice").verdict, LoginVerdict::Deny);
}

}  // namespace
}  // namespace jit
