// Deciding a login (docs/login-decision.md) from resources' match rules, standing members and
// active grants: who the requester is, identity by uid, service routes, root's own automation.
#include <gtest/gtest.h>

#include "fakes.hpp"
#include "jit/access.hpp"
#include "jit/error.hpp"

namespace jit {
namespace {

constexpr EpochSeconds kNow = 1'800'000'000;
constexpr uid_t kAlice = 1000, kBob = 1001, kCarol = 1002, kDba = 1003, kPostgres = 120;

class AccessIndexTest : public ::testing::Test {
  protected:
    void SetUp() override {
        identity.users = {{0, "root"},       {kAlice, "alice"}, {kBob, "bob"},
                          {kCarol, "carol"}, {kDba, "dba"},     {kPostgres, "postgres"}};
        identity.groups = {{"carol", {"carol", "dbteam"}}};
        index.put_rule({"prod-db", {"sshd", "sudo"}, {"postgres", "root"}, {"dba", "@dbteam"}});
        index.put_rule({"web", {"sshd"}, {"*"}, {}});
    }

    // Root running su/sudo for `ruser` (PAM_RUSER), with no login uid: the usual shape of a
    // test attempt. sshd/login: ruser empty, the requester is the target.
    LoginDecision decide(const std::string& service, const std::string& user,
                         const std::string& ruser = "") {
        return index.decide({service, user, ruser, "10.0.0.1", "pts/1"}, kNow);
    }
    // sudo/su run by the user with real uid `app_uid` (setuid: PAM_RUSER is not trusted).
    LoginDecision decide_as(const std::string& service, const std::string& user, uid_t app_uid,
                            const std::string& ruser = "", uid_t login_uid = kLoginUidUnset) {
        LoginAttempt attempt{service, user, ruser, "", "pts/1"};
        attempt.app_uid = app_uid;
        attempt.login_uid = login_uid;
        return index.decide(attempt, kNow);
    }

    testing::FakeIdentity identity;
    AccessIndex index{&identity};
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
    LoginDecision d = decide_as("sudo", "postgres", kDba);
    EXPECT_EQ(d.verdict, LoginVerdict::Member);
    EXPECT_EQ(d.resource, "prod-db");
}

TEST_F(AccessIndexTest, StandingGroupMemberIsAllowedThroughLookup) {
    LoginDecision d = decide_as("sudo", "root", kCarol);
    EXPECT_EQ(d.verdict, LoginVerdict::Member);
    EXPECT_EQ(identity.group_lookups, 1);
}

TEST_F(AccessIndexTest, GroupsAreNotLookedUpWithoutGroupMembers) {
    decide("sshd", "someone");  // only "web" matches, it has no @group members
    EXPECT_EQ(identity.group_lookups, 0);
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
    LoginDecision d = decide_as("sudo", "root", kAlice, "alice");
    EXPECT_EQ(d.verdict, LoginVerdict::Grant);
    EXPECT_EQ(d.requester, "alice");
    EXPECT_EQ(d.target, "root");
    EXPECT_EQ(d.grant_id, 7);
    EXPECT_EQ(d.resource, "prod-db");
    ASSERT_TRUE(d.expiry);
    EXPECT_EQ(*d.expiry, kNow + 60);
    // The grant belongs to alice, not to bob.
    EXPECT_EQ(decide_as("sudo", "root", kBob, "bob").verdict, LoginVerdict::Deny);
}

TEST_F(AccessIndexTest, RealUidOutranksPamRuser) {
    // bob's sudo claims PAM_RUSER=alice: the kernel's real uid says bob.
    index.put_grant({7, "alice", "prod-db", kNow + 60});
    LoginDecision d = decide_as("sudo", "root", kBob, "alice");
    EXPECT_EQ(d.verdict, LoginVerdict::Deny);
    EXPECT_EQ(d.requester, "bob");
    EXPECT_EQ(decide_as("sudo", "root", kAlice, "bob").verdict, LoginVerdict::Grant);
}

TEST_F(AccessIndexTest, RequesterIsResolvedToTheUidsOwnName) {
    identity.aliases["alice2"] = kAlice;
    index.put_grant({7, "alice", "prod-db", kNow + 60});
    LoginDecision d = decide("su", "postgres", "alice2");  // su is not covered: unmanaged
    EXPECT_EQ(d.verdict, LoginVerdict::Unmanaged);
    d = decide("sudo", "postgres", "alice2");
    EXPECT_EQ(d.verdict, LoginVerdict::Grant);
    EXPECT_EQ(d.requester, "alice");
}

TEST_F(AccessIndexTest, TargetAliasWithTheSameUidIsTheSameAccount) {
    identity.aliases["toor"] = 0;
    LoginDecision d = decide_as("sudo", "toor", kAlice);
    EXPECT_EQ(d.verdict, LoginVerdict::Deny);
    EXPECT_EQ(d.resources, std::vector<std::string>{"prod-db"});
    index.put_grant({7, "alice", "prod-db", kNow + 60});
    EXPECT_EQ(decide_as("sudo", "toor", kAlice).verdict, LoginVerdict::Grant);
}

TEST_F(AccessIndexTest, AliasMadeAfterTheRuleStillMatchesByTheUidsName) {
    identity.aliases["pgcopy"] = kPostgres;  // useradd -o after the resource was indexed
    EXPECT_EQ(decide_as("sudo", "pgcopy", kAlice).verdict, LoginVerdict::Deny);
    EXPECT_EQ(decide_as("sudo", "pgcopy", kDba).verdict, LoginVerdict::Member);
}

TEST_F(AccessIndexTest, ResourceNamingAnAliasCoversTheAccount) {
    identity.aliases["toor"] = 0;
    index.put_rule({"alias-rule", {"su"}, {"toor"}, {}});
    EXPECT_EQ(decide_as("su", "root", kAlice).verdict, LoginVerdict::Deny);
}

TEST_F(AccessIndexTest, MembersAreComparedByUid) {
    identity.aliases["dba-old"] = kDba;
    index.put_rule({"legacy", {"sudo"}, {"postgres"}, {"dba-old"}});
    index.remove_rule("prod-db");
    LoginDecision d = decide_as("sudo", "postgres", kDba);
    EXPECT_EQ(d.verdict, LoginVerdict::Member);
    EXPECT_EQ(d.resource, "legacy");
}

TEST_F(AccessIndexTest, ServiceNamesCoverTheirLoginShellRoutes) {
    index.put_rule({"pg-su", {"su", "runuser"}, {"postgres"}, {}});
    for (const char* service : {"sudo", "sudo-i", "su", "su-l", "runuser", "runuser-l"}) {
        EXPECT_EQ(decide_as(service, "postgres", kAlice).verdict, LoginVerdict::Deny) << service;
    }
    // Only the short names stand for their routes; "sudo-i" alone is just that service.
    index.put_rule({"only-i", {"sudo-i"}, {"bob"}, {}});
    EXPECT_EQ(decide_as("sudo-i", "bob", kAlice).verdict, LoginVerdict::Deny);
    EXPECT_EQ(decide_as("sudo", "bob", kAlice).verdict, LoginVerdict::Unmanaged);
    EXPECT_EQ(service_routes("sudo"), (std::vector<std::string>{"sudo", "sudo-i"}));
    EXPECT_EQ(service_routes("sshd"), std::vector<std::string>{"sshd"});
}

TEST_F(AccessIndexTest, WildcardServiceCoversEveryRouteButTheUnmanagedOnes) {
    index.put_rule({"all-routes", {"*"}, {"bob"}, {}});
    for (const char* service : {"login", "pkexec", "sudo-i", "su-l", "machinectl"}) {
        EXPECT_EQ(decide_as(service, "bob", kAlice).verdict, LoginVerdict::Deny) << service;
    }
    for (const char* service : {"cron", "atd", "systemd-user"}) {
        EXPECT_EQ(decide(service, "bob").verdict, LoginVerdict::Unmanaged) << service;
    }
    index.set_unmanaged_services({"cron"});
    EXPECT_EQ(decide("atd", "bob").verdict, LoginVerdict::Deny);
    EXPECT_EQ(decide("cron", "bob").verdict, LoginVerdict::Unmanaged);
}

TEST_F(AccessIndexTest, RootsOwnAutomationIsAllowed) {
    // root's cron or a service running "su - postgres": no login uid, or login uid 0.
    LoginDecision d = decide("su-l", "postgres", "root");
    EXPECT_EQ(d.verdict, LoginVerdict::Unmanaged);  // su is not covered by prod-db
    d = decide("sudo", "postgres", "root");
    EXPECT_EQ(d.verdict, LoginVerdict::RootAutomation);
    EXPECT_EQ(d.requester, "root");
    EXPECT_EQ(decide_as("sudo", "postgres", 0, "root", 0).verdict, LoginVerdict::RootAutomation);
}

TEST_F(AccessIndexTest, ARootShellAPersonReachedCountsAsThatPerson) {
    // "sudo su - postgres" by alice: su runs as root with alice's login uid.
    LoginDecision d = decide_as("sudo", "postgres", 0, "root", kAlice);
    EXPECT_EQ(d.verdict, LoginVerdict::Deny);
    EXPECT_EQ(d.requester, "alice");
    index.put_grant({7, "alice", "prod-db", kNow + 60});
    d = decide_as("sudo", "postgres", 0, "root", kAlice);
    EXPECT_EQ(d.verdict, LoginVerdict::Grant);
    EXPECT_EQ(d.grant_id, 7);
}

TEST_F(AccessIndexTest, RootLoggingInIsNoAutomation) {
    // ssh root@host: no PAM_RUSER, so root is the requester and needs a grant like anyone.
    EXPECT_EQ(decide_as("sshd", "root", 0, "", 0).verdict, LoginVerdict::Deny);
}

TEST_F(AccessIndexTest, UnknownUidIsNamedByNumber) {
    LoginAttempt attempt{"sudo", "root", "", "", ""};
    attempt.app_uid = 4242;
    EXPECT_EQ(resolve_requester(attempt, identity).name, "#4242");
    EXPECT_EQ(index.decide(attempt, kNow).verdict, LoginVerdict::Deny);
}

TEST_F(AccessIndexTest, ExpiredGrantDenies) {
    index.put_grant({7, "alice", "prod-db", kNow});  // expiry == now: already over
    EXPECT_EQ(decide_as("sudo", "root", kAlice).verdict, LoginVerdict::Deny);
}

TEST_F(AccessIndexTest, GrantOnAnotherResourceDenies) {
    index.put_grant({7, "alice", "web", kNow + 60});
    EXPECT_EQ(decide_as("sudo", "root", kAlice).verdict, LoginVerdict::Deny);
}

TEST_F(AccessIndexTest, LongestGrantWinsAndNoExpiryIsLongest) {
    index.put_grant({1, "alice", "prod-db", kNow + 60});
    index.put_grant({2, "alice", "web", kNow + 600});
    EXPECT_EQ(decide("sshd", "root").verdict, LoginVerdict::Deny);  // requester is root here
    LoginDecision d = decide("sshd", "alice");
    EXPECT_EQ(d.grant_id, 2);
    index.put_rule({"web", {"sshd"}, {"*"}, {}});
    index.put_grant({3, "alice", "web", std::nullopt});
    d = decide("sshd", "alice");
    EXPECT_EQ(d.grant_id, 3);
    EXPECT_FALSE(d.expiry);
}

TEST_F(AccessIndexTest, RemovedGrantAndRuleStopApplying) {
    index.put_grant({7, "alice", "prod-db", kNow + 60});
    index.remove_grant(7);
    EXPECT_EQ(decide_as("sudo", "root", kAlice).verdict, LoginVerdict::Deny);
    EXPECT_FALSE(index.grant_of("alice", "prod-db"));
    index.remove_rule("prod-db");
    EXPECT_EQ(decide_as("sudo", "root", kAlice).verdict, LoginVerdict::Unmanaged);
    EXPECT_EQ(index.rule_count(), 1u);
}

TEST_F(AccessIndexTest, ReplacingARuleReindexesItsServices) {
    index.put_rule({"prod-db", {"su"}, {"postgres"}, {}});
    EXPECT_EQ(decide_as("sudo", "postgres", kAlice).verdict, LoginVerdict::Unmanaged);
    EXPECT_EQ(decide_as("su", "postgres", kAlice).verdict, LoginVerdict::Deny);
}

TEST(LoginVerdictTest, NamesRoundTrip) {
    for (auto v : {LoginVerdict::Unmanaged, LoginVerdict::RootAutomation, LoginVerdict::Member,
                   LoginVerdict::Grant, LoginVerdict::Deny})
        EXPECT_EQ(parse_login_verdict(to_string(v)), v);
    EXPECT_THROW(parse_login_verdict("maybe"), JitError);
    try {
        parse_login_verdict("grant\n");
    } catch (const JitError& e) {
        EXPECT_STREQ(e.what(), "unknown login verdict \"grant\\x0a\"");
    }
}

TEST(AccessIndexEdgeTest, RuleListingTargetAndWildcardMatchesOnce) {
    AccessIndex index;
    index.put_rule({"both", {"sshd"}, {"root", "*"}, {}});
    LoginDecision d = index.decide({"sshd", "root", "", "", ""}, 0);
    EXPECT_EQ(d.verdict, LoginVerdict::Deny);
    EXPECT_EQ(d.resources, std::vector<std::string>{"both"});
    index.remove_rule("both");
    EXPECT_EQ(index.decide({"sshd", "root", "", "", ""}, 0).verdict, LoginVerdict::Unmanaged);
}

}  // namespace
}  // namespace jit
