// SPDX-License-Identifier: Apache-2.0
// Session watches: the end of a session's registered process is noticed from the event loop,
// and nothing else is mistaken for it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "jitd_test_support.hpp"
#include "process_tree.hpp"
#include "session_watch.hpp"

namespace jitd {
namespace {

// A child that sleeps until it is killed; reaped by the destructor.
struct SleepingChild {
    pid_t pid = -1;
    SleepingChild() : pid(spawn_sleeper()) {}
    ~SleepingChild() {
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
    }
};

jit::Session session_of(jit::Id id, pid_t pid) {
    jit::Session session;
    session.id = id;
    session.pid = pid;
    auto stat = read_proc_stat(pid);
    session.pid_start = stat ? static_cast<std::int64_t>(stat->start_time) : 0;
    return session;
}

class SessionWatchTest : public ::testing::Test {
  protected:
    // Runs the loop until a watch reports, for at most ten seconds.
    void run_until_reported() {
        for (int i = 0; i < 100 && ended_.empty(); ++i) {
            ASSERT_GE(sd_event_run(event_.get(), 100000), 0);
        }
    }

    EventPtr event_ = new_event_loop();
    std::vector<jit::Id> ended_;
};

TEST_F(SessionWatchTest, ReportsTheEndOfTheWatchedProcessOnly) {
    SessionWatch watch(event_.get(), [this](jit::Id id) { ended_.push_back(id); });
    SleepingChild first;
    SleepingChild second;
    ASSERT_GT(first.pid, 0);
    ASSERT_GT(second.pid, 0);
    watch.watch(session_of(7, first.pid));
    watch.watch(session_of(8, second.pid));
    ASSERT_EQ(watch.size(), 2u);

    ASSERT_GE(sd_event_run(event_.get(), 0), 0);
    EXPECT_TRUE(ended_.empty()) << "nothing ended yet";

    ASSERT_EQ(kill(first.pid, SIGKILL), 0);
    // A killed child stays a zombie until reaped; the pidfd reports its end all the same.
    run_until_reported();
    EXPECT_EQ(ended_, std::vector<jit::Id>{7});
    EXPECT_EQ(watch.size(), 1u) << "the ended watch is dropped";
}

TEST_F(SessionWatchTest, IgnoresAProcessThatIsNotTheRegisteredOne) {
    SessionWatch watch(event_.get(), [this](jit::Id id) { ended_.push_back(id); });
    SleepingChild child;
    jit::Session reused = session_of(9, child.pid);
    reused.pid_start += 1;  // another process now holds the registered pid
    watch.watch(reused);
    EXPECT_EQ(watch.size(), 0u);
    jit::Session same = session_of(9, child.pid);
    watch.watch(same);
    EXPECT_EQ(watch.size(), 1u) << "the same process with its own start time is watched";
    watch.watch(same);
    EXPECT_EQ(watch.size(), 1u) << "once";
}

TEST_F(SessionWatchTest, DropsWatchesOfSessionsNoLongerOpen) {
    SessionWatch watch(event_.get(), [this](jit::Id id) { ended_.push_back(id); });
    SleepingChild child;
    watch.watch(session_of(1, child.pid));
    watch.watch(session_of(2, child.pid));
    watch.keep_only({session_of(2, child.pid)});
    EXPECT_EQ(watch.size(), 1u);
    ASSERT_EQ(kill(child.pid, SIGKILL), 0);
    run_until_reported();
    EXPECT_EQ(ended_, std::vector<jit::Id>{2}) << "the dropped watch never reports";
}

TEST_F(SessionWatchTest, ForgetsTheSessionsJitdEnds) {
    SessionWatch watch(event_.get(), [this](jit::Id id) { ended_.push_back(id); });
    SleepingChild child;
    watch.watch(session_of(1, child.pid));
    watch.watch(session_of(2, child.pid));
    watch.forget({session_of(1, child.pid)});
    EXPECT_EQ(watch.size(), 1u);
    ASSERT_EQ(kill(child.pid, SIGKILL), 0);
    run_until_reported();
    EXPECT_EQ(ended_, std::vector<jit::Id>{2}) << "the forgotten watch never reports";
}

}  // namespace
}  // namespace jitd
