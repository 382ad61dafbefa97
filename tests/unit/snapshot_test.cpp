// SPDX-License-Identifier: Apache-2.0
// The snapshot pam_jit decides from when jitd cannot answer (docs/login-decision.md). A damaged
// snapshot must never allow anything, so every malformed form is rejected.
#include <gtest/gtest.h>

#include "fakes.hpp"
#include "jit/access.hpp"
#include "jit/error.hpp"

namespace jit {
namespace {

AccessIndex sample() {
    AccessIndex index;
    index.put_rule({"prod-db", {"sshd", "sudo"}, {"postgres"}, {"dba", "@dbteam"}});
    index.put_rule({"web", {"sshd"}, {"*"}, {}});
    index.put_grant({7, "alice", "prod-db", 1'800'000'060});
    index.put_grant({9, "bob", "web", std::nullopt});
    return index;
}

TEST(SnapshotTest, RoundTripKeepsRulesAndGrants) {
    AccessIndex parsed = parse_snapshot(serialize_snapshot(sample(), 1'800'000'000));
    ASSERT_EQ(parsed.rules().size(), 2u);
    EXPECT_EQ(parsed.rules()[0].members, (std::vector<std::string>{"dba", "@dbteam"}));
    EXPECT_TRUE(parsed.rules()[1].members.empty());
    ASSERT_EQ(parsed.grants().size(), 2u);
    EXPECT_EQ(parsed.grants()[0].expiry, 1'800'000'060);
    EXPECT_FALSE(parsed.grants()[1].expiry);
    LoginDecision d = parsed.decide({"sudo", "postgres", "alice", "", ""}, 1'800'000'000);
    EXPECT_EQ(d.verdict, LoginVerdict::Grant);
    EXPECT_EQ(d.grant_id, 7);
}

TEST(SnapshotTest, UserNamesJitDoesNotUseRoundTrip) {
    // NSS may hand jitd requesters named like this (LDAP, SSSD); one of them must not make the
    // whole snapshot unreadable for pam_jit.
    AccessIndex index;
    index.put_rule({"web", {"sshd"}, {"*"}, {}});
    const std::vector<std::string> users = {"Alice", "john@corp.example", "j doe", "x,y",
                                            "-dash", "caf\xc3\xa9",       "100%"};
    Id id = 1;
    for (const auto& user : users) {
        index.put_grant({id++, user, "web", std::nullopt});
    }
    const std::string text = serialize_snapshot(index, 1);
    AccessIndex parsed = parse_snapshot(text);
    ASSERT_EQ(parsed.grant_count(), users.size());
    for (const auto& user : users) {
        LoginDecision d = parsed.decide({"sshd", user, "", "", ""}, 0);
        EXPECT_EQ(d.verdict, LoginVerdict::Grant) << user;
    }
    EXPECT_NE(text.find("grant 3 j%20doe web -"), std::string::npos) << text;
}

TEST(SnapshotTest, UnmanagedServicesRoundTrip) {
    AccessIndex index;
    index.put_rule({"all", {"*"}, {"*"}, {}});
    index.set_unmanaged_services({"cron", "backup-agent"});
    AccessIndex parsed = parse_snapshot(serialize_snapshot(index, 1));
    EXPECT_EQ(parsed.unmanaged_services(), (std::vector<std::string>{"cron", "backup-agent"}));
    EXPECT_EQ(parsed.decide({"backup-agent", "root", "", "", ""}, 0).verdict,
              LoginVerdict::Unmanaged);
    EXPECT_EQ(parsed.decide({"atd", "root", "", "", ""}, 0).verdict, LoginVerdict::Deny);
}

TEST(SnapshotTest, EmptyIndexRoundTrips) {
    AccessIndex parsed = parse_snapshot(serialize_snapshot(AccessIndex{}, 0));
    EXPECT_EQ(parsed.rule_count(), 0u);
    EXPECT_EQ(parsed.grant_count(), 0u);
}

// pam_jit reads the snapshot for every login jitd cannot answer: thousands of resources naming
// the same account must not cost an NSS lookup each.
TEST(SnapshotTest, ReadingLooksUpEachAccountOnceAndAgainNextTime) {
    testing::FakeIdentity identity;
    identity.users = {{120, "postgres"}};
    identity.aliases = {{"pg", 120}};
    AccessIndex index;
    for (const char* name : {"db1", "db2", "db3"}) {
        index.put_rule({name, {"sshd", "sudo"}, {"pg", "svc"}, {}});
    }
    const std::string text = serialize_snapshot(index, 1);
    AccessIndex parsed = parse_snapshot(text, &identity);
    EXPECT_EQ(identity.name_lookups, (std::map<std::string, int>{{"pg", 1}, {"svc", 1}}));
    // "pg" is postgres by uid; "svc" is no account (yet).
    EXPECT_EQ(parsed.decide({"sshd", "postgres", "", "", ""}, 0).resources,
              (std::vector<std::string>{"db1", "db2", "db3"}));
    EXPECT_EQ(parsed.decide({"sshd", "root", "", "", ""}, 0).verdict, LoginVerdict::Unmanaged);
    // An account made since is seen by the next reading.
    identity.aliases["svc"] = 0;
    identity.users[0] = "root";
    EXPECT_EQ(parse_snapshot(text, &identity).decide({"sshd", "root", "", "", ""}, 0).resources,
              (std::vector<std::string>{"db1", "db2", "db3"}));
}

TEST(SnapshotTest, RejectsEveryMalformedForm) {
    const std::string good = serialize_snapshot(sample(), 1'800'000'000);
    const std::string without_end = good.substr(0, good.rfind("end "));
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"empty", ""},
        {"older format", "jit-snapshot 1\nend 0\n"},
        {"bad unmanaged service", "jit-snapshot 2\nunmanaged Cron\nend 0\n"},
        {"truncated before end", without_end},
        {"cut mid-line", good.substr(0, good.size() / 2)},
        {"count mismatch", "jit-snapshot 2\nrule web sshd * -\nend 2\n"},
        {"unknown record", "jit-snapshot 2\nfoo bar\nend 0\n"},
        {"rule with too few fields", "jit-snapshot 2\nrule web sshd *\nend 1\n"},
        {"bad resource name", "jit-snapshot 2\nrule Web! sshd * -\nend 1\n"},
        {"bad service", "jit-snapshot 2\nrule web SSHD * -\nend 1\n"},
        {"bad member", "jit-snapshot 2\nrule web sshd * @\nend 1\n"},
        {"empty list item", "jit-snapshot 2\nrule web sshd,,sudo * -\nend 1\n"},
        {"bad grant id", "jit-snapshot 2\ngrant x alice web -\nend 1\n"},
        {"negative expiry", "jit-snapshot 2\ngrant 1 alice web -5\nend 1\n"},
        {"bad grant user", "jit-snapshot 2\ngrant 1 al;ice web -\nend 1\n"},
        {"data after end", "jit-snapshot 2\nend 0\nrule web sshd * -\n"},
        {"double space", "jit-snapshot 2\nrule web  sshd * -\nend 1\n"},
        {"bad escape", "jit-snapshot 2\ngrant 1 al%2 web -\nend 1\n"},
        {"lower-case escape", "jit-snapshot 2\ngrant 1 a%2cb web -\nend 1\n"},
        {"escaped control character", "jit-snapshot 2\ngrant 1 a%0Ab web -\nend 1\n"},
        {"escaped empty name", "jit-snapshot 2\ngrant 1 % web -\nend 1\n"},
    };
    for (const auto& [name, text] : cases) {
        EXPECT_THROW(parse_snapshot(text), JitError) << name;
    }
}

// Found by fuzz/snapshot_fuzzer: a bad number went into the error (and pam_jit's log) raw.
TEST(SnapshotTest, ErrorQuotesWhatTheFileHeld) {
    try {
        parse_snapshot("jit-snapshot 2\ngenerated 1\x1b[2J\r\nend 0\n");
        ADD_FAILURE() << "a bad number was accepted";
    } catch (const JitError& e) {
        EXPECT_STREQ(e.what(), "snapshot line 2: bad number \"1\\x1b[2J\\x0d\"");
    }
}

}  // namespace
}  // namespace jit
