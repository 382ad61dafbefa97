// SPDX-License-Identifier: Apache-2.0
// Unit tests of pam_jit's PAM-free parts: arguments, messages, the timeout budget, the spool
// and the snapshot checks. The PAM paths themselves are tested through libpam by
// tests/integration/pam_module_test.sh.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "budget.hpp"
#include "fallback.hpp"
#include "jit/error.hpp"
#include "messages.hpp"
#include "options.hpp"
#include "temp_dir.hpp"

namespace jit::pam {
namespace {

ParsedOptions parse(std::vector<const char*> args) {
    return parse_options(static_cast<int>(args.size()), args.data());
}

TEST(Options, DefaultsAreTheDocumentedOnes) {
    const ParsedOptions parsed = parse({});
    EXPECT_EQ(parsed.options.fail, FailMode::Closed);
    EXPECT_EQ(parsed.options.timeout_usec, 2'000'000U);
    EXPECT_EQ(parsed.options.snapshot, "/var/lib/jitd/snapshot");
    EXPECT_TRUE(parsed.options.exempt.empty());
    EXPECT_FALSE(parsed.options.quiet);
    EXPECT_FALSE(parsed.options.debug);
    EXPECT_TRUE(parsed.problems.empty());
}

TEST(Options, ReadsEveryArgument) {
    const ParsedOptions parsed =
        parse({"fail=open", "timeout=5s", "snapshot=/tmp/x/snap", "exempt=breakglass,@ops",
               "exempt=admin", "quiet", "debug"});
    EXPECT_EQ(parsed.options.fail, FailMode::Open);
    EXPECT_EQ(parsed.options.timeout_usec, 5'000'000U);
    EXPECT_EQ(parsed.options.snapshot, "/tmp/x/snap");
    EXPECT_EQ(parsed.options.exempt, (std::vector<std::string>{"breakglass", "@ops", "admin"}));
    EXPECT_TRUE(parsed.options.quiet);
    EXPECT_TRUE(parsed.options.debug);
    EXPECT_TRUE(parsed.problems.empty());
}

TEST(Options, UnknownAndBadArgumentsAreReportedAndLeaveDefaults) {
    const ParsedOptions parsed = parse({"fail=maybe", "timeout=0s", "timeout=soon",
                                        "snapshot=relative", "exempt=Bad Name,ok", "frobnicate"});
    EXPECT_EQ(parsed.options.fail, FailMode::Closed);
    EXPECT_EQ(parsed.options.timeout_usec, kDefaultTimeoutUsec);
    EXPECT_EQ(parsed.options.snapshot, kDefaultSnapshot);
    EXPECT_EQ(parsed.options.exempt, std::vector<std::string>{"ok"});
    ASSERT_EQ(parsed.problems.size(), 6U);
    EXPECT_NE(parsed.problems.back().find("unknown argument 'frobnicate'"), std::string::npos);
}

TEST(Options, TimeoutTakesSpansAndMilliseconds) {
    EXPECT_EQ(parse_timeout_usec("500ms"), 500'000U);
    EXPECT_EQ(parse_timeout_usec("1ms"), 1'000U);
    EXPECT_EQ(parse_timeout_usec("2s"), 2'000'000U);
    EXPECT_EQ(parse_timeout_usec("1min"), 60'000'000U);
    EXPECT_EQ(parse_timeout_usec("1h"), 3'600'000'000U);
    EXPECT_THROW(parse_timeout_usec("0ms"), JitError);
    EXPECT_THROW(parse_timeout_usec("3600001ms"), JitError);
    EXPECT_THROW(parse_timeout_usec("99999999999999999999ms"), JitError);
    EXPECT_THROW(parse_timeout_usec("2h"), JitError);
    EXPECT_THROW(parse_timeout_usec("5"), JitError);
    EXPECT_THROW(parse_timeout_usec("ms"), JitError);
    // Found by fuzz/pam_options_fuzzer: the refused value went into the message raw.
    try {
        parse_timeout_usec("2\th");
        ADD_FAILURE() << "a timeout over 1h was accepted";
    } catch (const JitError& e) {
        EXPECT_STREQ(e.what(), "invalid timeout \"2\\x09h\": expected 1ms to 1h");
    }
}

TEST(Exempt, MatchesUsersAndGroupsFetchingGroupsOnlyWhenNeeded) {
    int lookups = 0;
    const auto groups = [&] {
        ++lookups;
        return std::vector<std::string>{"users", "ops"};
    };
    EXPECT_TRUE(is_exempt({"breakglass"}, "breakglass", groups));
    EXPECT_FALSE(is_exempt({"breakglass"}, "alice", groups));
    EXPECT_EQ(lookups, 0);
    EXPECT_TRUE(is_exempt({"breakglass", "@ops"}, "alice", groups));
    EXPECT_FALSE(is_exempt({"@wheel"}, "alice", groups));
    EXPECT_FALSE(is_exempt({"ops"}, "alice", groups));  // a user named ops, not the group
    EXPECT_EQ(lookups, 2);
}

TEST(Messages, DenialNamesTheResourceAndTheCommand) {
    LoginDecision decision;
    decision.verdict = LoginVerdict::Deny;
    decision.target = "root";
    decision.resources = {"prod-db"};
    EXPECT_EQ(denial_message(decision),
              "jit: access to root on this host requires a grant on resource \"prod-db\". "
              "Request it with: jitctl request prod-db --reason \"...\" --duration 1h");
    decision.resources = {"prod-db", "web"};
    EXPECT_EQ(denial_message(decision),
              "jit: access to root on this host requires a grant on one of the resources "
              "\"prod-db\", \"web\". Request one with: jitctl request prod-db --reason \"...\" "
              "--duration 1h");
}

TEST(Messages, GrantNoticeSaysWhenItEnds) {
    LoginDecision decision;
    decision.verdict = LoginVerdict::Grant;
    decision.resource = "prod-db";
    decision.grant_id = 7;
    decision.expiry = 1795709100;  // 2026-11-26T16:05:00Z
    EXPECT_EQ(grant_notice(decision),
              "jit: access granted by grant 7 on prod-db until 2026-11-26 16:05:00 UTC");
    decision.expiry.reset();
    EXPECT_EQ(grant_notice(decision), "jit: access granted by grant 7 on prod-db until revoked");
}

TEST(Sanitized, KeepsUtf8ButNotWhatCouldForgeALine) {
    EXPECT_EQ(sanitized("j\xc3\xbcrgen"), "j\xc3\xbcrgen");  // valid UTF-8 stays
    EXPECT_EQ(sanitized("a\xe2\x80\xae"
                        "b"),
              "a???b");  // U+202E RIGHT-TO-LEFT OVERRIDE
    EXPECT_EQ(sanitized("x\x7f\r\ny"), "x???y");
}

constexpr std::uint64_t kMs = 1000;

TEST(Budget, CallsOfOneLoginShareOneTimeout) {
    JitdBudget budget;
    EXPECT_EQ(budget.allowance_usec(1'000 * kMs, 500 * kMs), 500 * kMs);
    budget.charge(1'000 * kMs, 1'300 * kMs, true);  // account: answered after 300 ms
    EXPECT_EQ(budget.allowance_usec(1'400 * kMs, 500 * kMs), 200 * kMs);
    budget.charge(1'400 * kMs, 1'600 * kMs, true);  // session: answered just in time
    EXPECT_EQ(budget.allowance_usec(1'700 * kMs, 500 * kMs), 0U);
    EXPECT_FALSE(budget.unreachable());
}

TEST(Budget, NoAnswerMeansFallingBackAtOnce) {
    JitdBudget budget;
    EXPECT_EQ(budget.allowance_usec(0, 500 * kMs), 500 * kMs);
    budget.charge(0, 20 * kMs, false);  // no bus: failed fast, little time spent
    EXPECT_EQ(budget.allowance_usec(30 * kMs, 500 * kMs), 0U);
    EXPECT_TRUE(budget.unreachable());
}

TEST(Budget, ALaterCallIsANewLogin) {
    JitdBudget budget;
    budget.allowance_usec(5'000 * kMs, 500 * kMs);
    budget.charge(5'000 * kMs, 5'500 * kMs, false);
    EXPECT_EQ(budget.allowance_usec(5'000 * kMs + kLoginWindowUsec - 1, 500 * kMs), 0U);
    // The window counts from the first call of the login, not from the last one.
    EXPECT_EQ(budget.allowance_usec(5'000 * kMs + kLoginWindowUsec, 500 * kMs), 500 * kMs);
    EXPECT_FALSE(budget.unreachable());
}

TEST(Spool, PathIsNextToTheSnapshot) {
    EXPECT_EQ(spool_path("/var/lib/jitd/snapshot"), "/var/lib/jitd/fallback.log");
    EXPECT_EQ(spool_path("/snapshot"), "/fallback.log");
}

std::string contents(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// The spool and the snapshot must be root's: these tests need root (as the integration tests).
class RootTempDir : public ::testing::Test {
  protected:
    void SetUp() override {
        if (geteuid() != 0) {
            GTEST_SKIP() << "pam_jit's files must be owned by root";
        }
    }
    jit::testing::TempDir temp_{"pam_jit_unit"};
    std::string dir_ = temp_.path();
};

class SpoolFile : public RootTempDir {
  protected:
    void SetUp() override {
        RootTempDir::SetUp();
        path_ = dir_ + "/fallback.log";
    }
    // Refused, with `why` in the reason, and the file left as it was.
    void expect_refused(const std::string& why) {
        const std::string before = contents(path_);
        const std::string error = append_spool(path_, "planted\n");
        EXPECT_NE(error.find(why), std::string::npos) << error;
        EXPECT_EQ(contents(path_), before);
    }
    std::string path_;
};

TEST_F(SpoolFile, AppendsWithMode0600AndNeverFollowsSymlinks) {
    ASSERT_EQ(append_spool(path_, "one\n"), "");
    ASSERT_EQ(append_spool(path_, "two\n"), "");
    EXPECT_EQ(contents(path_), "one\ntwo\n");
    struct stat st {};
    ASSERT_EQ(stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600U);

    const std::string link = dir_ + "/link.log";
    ASSERT_EQ(symlink(path_.c_str(), link.c_str()), 0);
    EXPECT_NE(append_spool(link, "three\n"), "");
    EXPECT_EQ(contents(path_), "one\ntwo\n");
}

TEST_F(SpoolFile, RefusesAFileNotCreatedByRootForJitdAlone) {
    ASSERT_EQ(append_spool(path_, "one\n"), "");
    ASSERT_EQ(chmod(path_.c_str(), 0644), 0);
    expect_refused("accessible to group or others");
    ASSERT_EQ(chmod(path_.c_str(), 0600), 0);
    ASSERT_EQ(chown(path_.c_str(), 65534, 65534), 0);
    expect_refused("not owned by root");
    ASSERT_EQ(chown(path_.c_str(), 0, 0), 0);

    const std::string elsewhere = dir_ + "/elsewhere";
    ASSERT_EQ(link(path_.c_str(), elsewhere.c_str()), 0);
    expect_refused("has 2 links");
    ASSERT_EQ(unlink(elsewhere.c_str()), 0);

    ASSERT_EQ(unlink(path_.c_str()), 0);
    ASSERT_EQ(mkfifo(path_.c_str(), 0600), 0);  // opened without blocking, then refused
    EXPECT_NE(append_spool(path_, "x\n"), "");
}

TEST_F(SpoolFile, RefusesADirectoryOthersCanWriteTo) {
    ASSERT_EQ(chmod(dir_.c_str(), 0770), 0);
    expect_refused("writable by group or others");
    ASSERT_EQ(chmod(dir_.c_str(), 0703), 0);
    expect_refused("writable by group or others");
    ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
    ASSERT_EQ(chown(dir_.c_str(), 65534, 65534), 0);
    expect_refused("not owned by root");
    struct stat st {};
    EXPECT_NE(stat(path_.c_str(), &st), 0) << "nothing may be created there";
    ASSERT_EQ(chown(dir_.c_str(), 0, 0), 0);
    EXPECT_EQ(append_spool(path_, "one\n"), "");
}

TEST_F(SpoolFile, GivesUpSoonWhenJitdHoldsTheLock) {
    const std::string& path = path_;
    const int holder = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(holder, 0);
    ASSERT_EQ(flock(holder, LOCK_EX), 0);  // another open file description: conflicts
    const auto started = std::chrono::steady_clock::now();
    EXPECT_NE(append_spool(path, "blocked\n").find("still locked"), std::string::npos);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(200));
    ASSERT_EQ(flock(holder, LOCK_UN), 0);
    EXPECT_EQ(append_spool(path, "free\n"), "");
    close(holder);
    EXPECT_EQ(contents(path), "free\n");
}

using SnapshotFile = RootTempDir;

TEST_F(SnapshotFile, RefusesWhatJitdCannotHaveWritten) {
    EXPECT_FALSE(load_snapshot(dir_ + "/missing").index);
    EXPECT_FALSE(load_snapshot(dir_).index);  // a directory

    const std::string path = dir_ + "/snapshot";
    std::ofstream(path) << "not a snapshot\n";
    ASSERT_EQ(chmod(path.c_str(), 0600), 0);
    const SnapshotLoad corrupt = load_snapshot(path);
    EXPECT_FALSE(corrupt.index);
    EXPECT_NE(corrupt.error.find("corrupt"), std::string::npos) << corrupt.error;

    ASSERT_EQ(chmod(path.c_str(), 0620), 0);
    EXPECT_NE(load_snapshot(path).error.find("writable"), std::string::npos);

    const std::string link = dir_ + "/link";
    ASSERT_EQ(symlink(path.c_str(), link.c_str()), 0);
    EXPECT_FALSE(load_snapshot(link).index);
}

}  // namespace
}  // namespace jit::pam
