// SPDX-License-Identifier: Apache-2.0
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

TEST_F(AccessIndexTest, ARuleLooksUpEachAccountOnceWhateverItsServices) {
    identity.name_lookups.clear();
    // sshd, sudo and su stand for five PAM services: the account is still looked up once.
    index.put_rule({"ops", {"sshd", "sudo", "su"}, {"postgres"}, {"dba"}});
    EXPECT_EQ(identity.name_lookups, (std::map<std::string, int>{{"dba", 1}, {"postgres", 1}}));
    EXPECT_EQ(decide_as("su-l", "postgres", kDba).verdict, LoginVerdict::Member);
    EXPECT_EQ(decide_as("sudo-i", "postgres", kAlice).verdict, LoginVerdict::Deny);
}

TEST(LoginVerdictTest, NamesRoundTrip) {
    for (auto v : {LoginVerdict::Unmanaged, LoginVerdict::RootAutomation, LoginVerdict::Member,
                   LoginVerdict::Grant, LoginVerdict::Deny, LoginVerdict::Deferred}) {
        EXPECT_EQ(parse_login_verdict(to_string(v)), v);
    }
    EXPECT_THROW(parse_login_verdict("maybe"), JitError);
    try {
        parse_login_verdict("grant\n");
    } catch (const JitError& e) {
        EXPECT_STREQ(e.what(), "unknown login verdict \"grant\\x0a\"");
    }
}

// --- The person behind an ssh key (docs/shared-accounts-over-ssh.md) --------------------------

constexpr const char* kAliceKey =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFsrTH3G6grGBA3STieNDbFyoJclZP26au/2xeQkiH+j";
constexpr const char* kBobKey =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKvEv3cmPu3i2B0OpuzfwDvZnhVzx5OGNNKJ3Bxt7bWv";

class KeyAccessTest : public AccessIndexTest {
  protected:
    void SetUp() override {
        AccessIndexTest::SetUp();
        index.put_key({"SHA256:alice", "alice", kAliceKey});
        index.put_key({"SHA256:bob", "bob", kBobKey});
    }
    // sshd's session stack: the key that logged in.
    LoginDecision ssh_session(const std::string& account, const std::string& key) {
        LoginAttempt attempt{"sshd", account, "", "192.0.2.1", "ssh"};
        attempt.ssh_key = key;
        return index.decide(attempt, kNow);
    }
    // sshd's account stack: no key yet.
    LoginDecision ssh_account(const std::string& account) {
        LoginAttempt attempt{"sshd", account, "", "192.0.2.1", "ssh"};
        attempt.ssh_key_pending = true;
        return index.decide(attempt, kNow);
    }
};

TEST_F(KeyAccessTest, ARegisteredKeyMakesItsOwnerTheRequester) {
    LoginDecision d = ssh_session("postgres", kAliceKey);
    EXPECT_EQ(d.verdict, LoginVerdict::Deny);  // alice has no grant yet
    EXPECT_EQ(d.requester, "alice");
    EXPECT_EQ(d.target, "postgres");
    EXPECT_EQ(d.fingerprint, "SHA256:alice");
    index.put_grant({7, "alice", "prod-db", kNow + 60});
    d = ssh_session("postgres", kAliceKey);
    EXPECT_EQ(d.verdict, LoginVerdict::Grant);
    EXPECT_EQ(d.grant_id, 7);
    EXPECT_EQ(d.requester, "alice");
    // Bob's key stays bob's: alice's grant does not let him in.
    EXPECT_EQ(ssh_session("postgres", kBobKey).verdict, LoginVerdict::Deny);
    EXPECT_EQ(ssh_session("postgres", kBobKey).requester, "bob");
}

TEST_F(KeyAccessTest, AnUnregisteredKeyLogsInAsTheAccountItself) {
    index.put_grant({7, "alice", "prod-db", kNow + 60});
    const std::string stray =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA0ilCHkx0iBNKMJV4K2jOVOVkg04BW1Hrc1tWDkvGUN";
    LoginDecision d = ssh_session("postgres", stray);
    EXPECT_EQ(d.verdict, LoginVerdict::Deny);
    EXPECT_EQ(d.requester, "postgres");
    EXPECT_EQ(d.fingerprint, "");
    EXPECT_EQ(ssh_session("postgres", "").requester, "postgres");  // a password login
}

TEST_F(KeyAccessTest, AStandingMembersKeyEnters) {
    index.put_key({"SHA256:dba", "dba", kBobKey});  // the key changes hands
    EXPECT_EQ(ssh_session("postgres", kBobKey).verdict, LoginVerdict::Member);
    EXPECT_EQ(ssh_session("postgres", kBobKey).requester, "dba");
}

TEST_F(KeyAccessTest, TheAccountStackDefersWhileSomeoneMayEnterWithAKey) {
    // Nobody with a key may enter postgres: the account stack denies as before.
    index.remove_key("SHA256:alice");
    index.remove_key("SHA256:bob");
    index.put_key({"SHA256:carol", "carol", kAliceKey});  // carol: member through @dbteam
    EXPECT_EQ(ssh_account("postgres").verdict, LoginVerdict::Deferred);
    index.remove_key("SHA256:carol");
    EXPECT_EQ(ssh_account("postgres").verdict, LoginVerdict::Deny);
    index.put_key({"SHA256:alice", "alice", kAliceKey});
    EXPECT_EQ(ssh_account("postgres").verdict, LoginVerdict::Deny);
    index.put_grant({7, "alice", "prod-db", kNow + 60});
    LoginDecision d = ssh_account("postgres");
    EXPECT_EQ(d.verdict, LoginVerdict::Deferred);
    EXPECT_EQ(d.resources, (std::vector<std::string>{"prod-db", "web"}));
    // An expired grant no longer defers; nor does anything outside sshd's account stack.
    index.put_grant({7, "alice", "prod-db", kNow - 1});
    EXPECT_EQ(ssh_account("postgres").verdict, LoginVerdict::Deny);
    index.put_grant({7, "alice", "prod-db", kNow + 60});
    EXPECT_EQ(decide("sshd", "postgres").verdict, LoginVerdict::Deny);
    // An unmanaged login stays unmanaged.
    EXPECT_EQ(ssh_account("www-data").verdict, LoginVerdict::Deny);  // web covers '*' on sshd
    EXPECT_EQ(decide("login", "postgres").verdict, LoginVerdict::Unmanaged);
}

TEST_F(KeyAccessTest, KeysEnteringAnAccountAreThoseOfWhoMayEnterNow) {
    EXPECT_EQ(index.sshd_accounts(), (std::vector<std::string>{"postgres", "root"}));
    EXPECT_TRUE(index.keys_entering("postgres", kNow).empty());
    index.put_grant({7, "alice", "prod-db", kNow + 60});
    std::vector<KeyOwner> keys = index.keys_entering("postgres", kNow);
    ASSERT_EQ(keys.size(), 1u);
    EXPECT_EQ(keys[0].user, "alice");
    EXPECT_EQ(keys[0].key, kAliceKey);
    EXPECT_TRUE(index.keys_entering("postgres", kNow + 60).empty());  // at expiry: gone
    index.put_key({"SHA256:carol", "carol", "ssh-rsa AAAAB3NzaC1yc2E="});
    keys = index.keys_entering("postgres", kNow);
    ASSERT_EQ(keys.size(), 2u);  // alice (grant) and carol (@dbteam), by fingerprint
    EXPECT_EQ(keys[0].user, "alice");
    EXPECT_EQ(keys[1].user, "carol");
    // A sudo-only resource gives no file.
    index.put_rule({"prod-db", {"sudo"}, {"postgres"}, {"@dbteam"}});
    EXPECT_EQ(index.sshd_accounts(), std::vector<std::string>{});
}

TEST_F(KeyAccessTest, TheSnapshotCarriesTheKeys) {
    index.put_grant({7, "alice", "prod-db", kNow + 60});
    const std::string text = serialize_snapshot(index, kNow);
    EXPECT_NE(text.find(std::string("\nkey SHA256:alice alice ") + kAliceKey + "\n"),
              std::string::npos);
    // The test's made-up fingerprints are not SHA256 ones: the whole file is rejected.
    EXPECT_THROW(parse_snapshot(text, &identity), JitError);

    const std::string fingerprint = "SHA256:6DMMbUU3t1gEOGY1zfGD6JIFwtG5wrMPzpe8kI2cJAE";
    index.remove_key("SHA256:alice");
    index.remove_key("SHA256:bob");
    index.put_key({fingerprint, "alice", kAliceKey});
    const AccessIndex parsed = parse_snapshot(serialize_snapshot(index, kNow), &identity);
    ASSERT_EQ(parsed.keys().size(), 1u);
    EXPECT_EQ(parsed.keys()[0].fingerprint, fingerprint);
    LoginAttempt attempt{"sshd", "postgres", "", "", "ssh"};
    attempt.ssh_key = kAliceKey;
    const LoginDecision d = parsed.decide(attempt, kNow);
    EXPECT_EQ(d.verdict, LoginVerdict::Grant);
    EXPECT_EQ(d.requester, "alice");
    EXPECT_EQ(d.fingerprint, fingerprint);
    // A key line whose data is not the named type is damage.
    std::string damaged = serialize_snapshot(index, kNow);
    damaged.replace(damaged.find(" ssh-ed25519 "), 13, " ssh-rsa ");
    EXPECT_THROW(parse_snapshot(damaged, &identity), JitError);
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
