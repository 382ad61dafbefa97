// SPDX-License-Identifier: Apache-2.0
// notify_command: the event on stdin, a minimal environment, a timeout that kills and reaps.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "jitd_test_support.hpp"
#include "notifier.hpp"

namespace jitd {
namespace {

namespace fs = std::filesystem;

// --- notify_command ---

class NotifierTest : public TempDir {
  protected:
    void SetUp() override {
        TempDir::SetUp();
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, nullptr);
        ASSERT_GE(sd_event_new(&raw_event_), 0);
        event_.reset(raw_event_);
    }
    bool run_until(const std::function<bool()>& done) { return run_loop_until(event_.get(), done); }
    sd_event* raw_event_ = nullptr;
    EventPtr event_;
};

TEST_F(NotifierTest, PassesTheEventOnStdinWithAMinimalEnvironment) {
    fs::path out = dir_ / "out";
    setenv("JITD_UNIT_SECRET", "leak", 1);
    Notifier notifier(
        event_.get(),
        "{ cat; env; } > " + out.string() + ".tmp && mv " + out.string() + ".tmp " + out.string(),
        10);
    jit::Grant grant;
    grant.id = 4;
    grant.request_id = 3;
    grant.user = "alice";
    grant.resource = "db";
    grant.start = 1900000000;
    notifier.notify("grant_started", grant_notification("grant_started", grant));
    ASSERT_TRUE(run_until([&] { return fs::exists(out); }));
    std::string text = read(out);
    EXPECT_NE(text.find("\"event\":\"grant_started\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"expiry\":null"), std::string::npos) << text;
    EXPECT_NE(text.find("\"start\":\"2030-03-17T17:46:40Z\""), std::string::npos) << text;
    EXPECT_NE(text.find("PATH=/usr/local/sbin"), std::string::npos) << text;
    EXPECT_EQ(text.find("JITD_UNIT_SECRET"), std::string::npos) << text;
}

// Larger than a pipe's buffer (64 KiB): the command still reads all of it.
TEST_F(NotifierTest, PassesAPayloadOfAnySizeWhole) {
    fs::path out = dir_ / "out";
    Notifier notifier(
        event_.get(),
        "cat > " + out.string() + ".tmp && mv " + out.string() + ".tmp " + out.string(), 10);
    std::string payload = "{\"reason\":\"" + std::string(300 * 1024, 'x') + "\"}";
    notifier.notify("request_created", payload);
    ASSERT_TRUE(run_until([&] { return fs::exists(out); }));
    std::string text = read(out);
    EXPECT_EQ(text.size(), payload.size() + 1);
    EXPECT_TRUE(text == payload + "\n");
}

TEST_F(NotifierTest, KillsACommandThatOutlivesItsTimeoutAndReapsIt) {
    fs::path pid_file = dir_ / "pid";
    Notifier notifier(event_.get(), "echo $$ > " + pid_file.string() + "; exec sleep 60", 1);
    notifier.notify("request_created", "{}");
    ASSERT_TRUE(run_until([&] { return fs::exists(pid_file) && !read(pid_file).empty(); }));
    pid_t pid = std::atoi(read(pid_file).c_str());
    ASSERT_GT(pid, 1);
    // Gone and reaped: not even a zombie is left.
    EXPECT_TRUE(run_until([&] { return kill(pid, 0) < 0 && errno == ESRCH; }));
}

}  // namespace
}  // namespace jitd
