// docs/login-decision.md: deciding a login from match rules, standing members and active grants.
#include <gtest/gtest.h>

#include "jit/access.hpp"
#include "jit/error.hpp"

namespace jit {
namespace {

constexpr EpochSeconds kNow = 1'800'000'000;

class AccessIndexTest : public ::testing::Test {
  protected:
    void SetUp() override {
        index.put_rule({"prod-db", {"sshd", "sudo"}, {"postgres", "root"}, {"dba", "@dbteam"}});
        index.put_rule({"web", {"sshd"}, {"*"}, {}});
    }

    LoginDecision decide(const std::string& service, const std::string& user,
                         const std::string& ruser = "") {
        return index.decide({service, user, ruser, "10.0.0.1", "pts/1"}, groups, kNow);
    }

    AccessIndex index;
    int lookups = 0;
    GroupLookup groups = [this](const std::string& user) {
        ++lookups;
        return user == "carol" ? std::vector<std::string>{"carol", "dbteam"}
                               : std::vector<std::string>{user};
    };
};

TEST_F(AccessIndexTest, ServiceNotCoveredIsUnmanaged) {
    EXPECT_EQ(decide("login", "root").verdict, LoginVerdict::Unmanaged);
    EXPECT_EQ(decide("su", "postgres", "alice").verdict, LoginVerdict::Unmanaged);
}

TEST_F(AccessIndexTest, AccountNotCoveredIsUnmanaged) {
    // sudo to an account no sudo resource covers; web (sshd only) does not apply either.
    EXPECT_EQ(decide("sudo", "www-data", "alice").verdict, LoginVerdict::Unmanaged);
}

TEST_F(AccessIndexTest, WildcardAccountCoversEveryTarget) {
    LoginDecision d = decide("sshd", "anyone");
    EXPECT_EQ(d.verdict, LoginVerdict::Deny);
    EXPECT_EQ(d.resources, std::vector<std::string>{"web"});
}

TEST_F(AccessIndexTest, DenyNamesEveryMatchingResourceSorted) {
    LoginDecision d = decide("sshd", "root");
    EXPECT_EQ(d.verdict, LoginVerdict::Deny);
    EXPECT_EQ(d.resources, (std::vector<std::string>{"prod-db", "web"}));
    EXPECT_EQ(d.requester, "root");
    EXPECT_EQ(d.target, "root");
}

TEST_F(AccessIndexTest, StandingUserMemberIsAllowed) {
    LoginDecision d = decide("sudo", "postgres", "dba");
    EXPECT_EQ(d.verdict, LoginVerdict::Member);
    EXPECT_EQ(d.resource, "prod-db");
}

TEST_F(AccessIndexTest, StandingGroupMemberIsAllowedThroughLookup) {
    LoginDecision d = decide("sudo", "root", "carol");
    EXPECT_EQ(d.verdict, LoginVerdict::Member);
    EXPECT_EQ(lookups, 1);
}

TEST_F(AccessIndexTest, GroupsAreNotLookedUpWithoutGroupMembers) {
    decide("sshd", "someone");  // only "web" matches, it has no @group members
    EXPECT_EQ(lookups, 0);
}

TEST_F(AccessIndexTest, SshdRequesterIsTheTargetUser) {
    // sshd: PAM_USER is who logs in; an empty PAM_RUSER changes nothing.
    index.put_grant({7, "alice", "web", kNow + 60});
    LoginDecision d = decide("sshd", "alice");
    EXPECT_EQ(d.verdict, LoginVerdict::Grant);
    EXPECT_EQ(d.requester, "alice");
    EXPECT_EQ(d.target, "alice");
}

TEST_F(AccessIndexTest, SudoRequesterIsTheInvokingUser) {
    index.put_grant({7, "alice", "prod-db", kNow + 60});
    LoginDecision d = decide("sudo", "root", "alice");
    EXPECT_EQ(d.verdict, LoginVerdict::Grant);
    EXPECT_EQ(d.requester, "alice");
    EXPECT_EQ(d.target, "root");
    EXPECT_EQ(d.grant_id, 7);
    EXPECT_EQ(d.resource, "prod-db");
    ASSERT_TRUE(d.expiry);
    EXPECT_EQ(*d.expiry, kNow + 60);
    // The grant belongs to alice: root itself (ruser == user) is still denied.
    EXPECT_EQ(decide("sudo", "root", "root").verdict, LoginVerdict::Deny);
    EXPECT_EQ(decide("sudo", "root", "bob").verdict, LoginVerdict::Deny);
}

TEST_F(AccessIndexTest, RuserEqualToUserMeansTheUserIsTheRequester) {
    LoginAttempt attempt{"sudo", "alice", "alice", "", ""};
    EXPECT_EQ(requester_of(attempt), "alice");
    attempt.ruser = "";
    EXPECT_EQ(requester_of(attempt), "alice");
    attempt.ruser = "bob";
    EXPECT_EQ(requester_of(attempt), "bob");
}

TEST_F(AccessIndexTest, ExpiredGrantDenies) {
    index.put_grant({7, "alice", "prod-db", kNow});  // expiry == now: already over
    EXPECT_EQ(decide("sudo", "root", "alice").verdict, LoginVerdict::Deny);
}

TEST_F(AccessIndexTest, GrantOnAnotherResourceDenies) {
    index.put_grant({7, "alice", "web", kNow + 60});
    EXPECT_EQ(decide("sudo", "root", "alice").verdict, LoginVerdict::Deny);
}

TEST_F(AccessIndexTest, LongestGrantWinsAndNoExpiryIsLongest) {
    index.put_grant({1, "alice", "prod-db", kNow + 60});
    index.put_grant({2, "alice", "web", kNow + 600});
    EXPECT_EQ(decide("sshd", "root").verdict, LoginVerdict::Deny);  // requester is root here
    LoginDecision d = index.decide({"sshd", "alice", "", "", ""}, groups, kNow);
    EXPECT_EQ(d.grant_id, 2);
    index.put_rule({"web", {"sshd"}, {"*"}, {}});
    index.put_grant({3, "alice", "web", std::nullopt});
    d = index.decide({"sshd", "alice", "", "", ""}, groups, kNow);
    EXPECT_EQ(d.grant_id, 3);
    EXPECT_FALSE(d.expiry);
}

TEST_F(AccessIndexTest, RemovedGrantAndRuleStopApplying) {
    index.put_grant({7, "alice", "prod-db", kNow + 60});
    index.remove_grant(7);
    EXPECT_EQ(decide("sudo", "root", "alice").verdict, LoginVerdict::Deny);
    EXPECT_FALSE(index.grant_of("alice", "prod-db"));
    index.remove_rule("prod-db");
    EXPECT_EQ(decide("sudo", "root", "alice").verdict, LoginVerdict::Unmanaged);
    EXPECT_EQ(index.rule_count(), 1u);
}

TEST_F(AccessIndexTest, ReplacingARuleReindexesItsServices) {
    index.put_rule({"prod-db", {"su"}, {"postgres"}, {}});
    EXPECT_EQ(decide("sudo", "postgres", "alice").verdict, LoginVerdict::Unmanaged);
    EXPECT_EQ(decide("su", "postgres", "alice").verdict, LoginVerdict::Deny);
}

TEST(LoginVerdictTest, NamesRoundTrip) {
    for (auto v :
         {LoginVerdict::Unmanaged, LoginVerdict::Member, LoginVerdict::Grant, LoginVerdict::Deny})
        EXPECT_EQ(parse_login_verdict(to_string(v)), v);
    EXPECT_THROW(parse_login_verdict("maybe"), JitError);
}

}  // namespace
}  // namespace jit

namespace jit {
namespace {

TEST(AccessIndexEdgeTest, RuleListingTargetAndWildcardMatchesOnce) {
    AccessIndex index;
    index.put_rule({"both", {"sshd"}, {"root", "*"}, {}});
    LoginDecision d = index.decide({"sshd", "root", "", "", ""}, {}, 0);
    EXPECT_EQ(d.verdict, LoginVerdict::Deny);
    EXPECT_EQ(d.resources, std::vector<std::string>{"both"});
    index.remove_rule("both");
    EXPECT_EQ(index.decide({"sshd", "root", "", "", ""}, {}, 0).verdict, LoginVerdict::Unmanaged);
}

}  // namespace
}  // namespace jit
