// SPDX-License-Identifier: Apache-2.0
// /proc parsing and walking: stat lines, process trees, boot-clock times, and which process
// is the one that opened a session.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "jit/unique_fd.hpp"
#include "jitd_test_support.hpp"
#include "process_tree.hpp"

namespace jitd {
namespace {

// --- /proc ---

TEST(ProcStat, ParsesCommandNamesWithSpacesAndParentheses) {
    std::string rest = " 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 123456 19 20";
    auto stat = parse_proc_stat("4242 (a) b (c)) S 17" + rest);
    ASSERT_TRUE(stat);
    EXPECT_EQ(stat->state, 'S');
    EXPECT_EQ(stat->ppid, 17);
    EXPECT_EQ(stat->start_time, 123456u);
    EXPECT_TRUE(stat->running());
    auto zombie = parse_proc_stat("4242 (x) Z 17" + rest);
    ASSERT_TRUE(zombie);
    EXPECT_FALSE(zombie->running());
}

TEST(ProcStat, DecodesTheControllingTerminal) {
    auto with_tty = [](const std::string& tty_nr) {
        return parse_proc_stat("7 (sh) S 1 7 7 " + tty_nr +
                               " 7 0 0 0 0 0 0 0 0 0 20 0 1 0 4242 9 9");
    };
    auto pts3 = with_tty("34819");  // 136:3
    ASSERT_TRUE(pts3);
    EXPECT_EQ(pts3->tty, makedev(136, 3));
    EXPECT_EQ(pts3->start_time, 4242u);
    auto pts300 = with_tty("1083436");  // 136:300, the minor's high bits above the major
    ASSERT_TRUE(pts300);
    EXPECT_EQ(pts300->tty, makedev(136, 300));
    auto none = with_tty("0");
    ASSERT_TRUE(none);
    EXPECT_EQ(none->tty, 0u);
}

TEST(ProcStat, RejectsTruncatedText) {
    EXPECT_FALSE(parse_proc_stat(""));
    EXPECT_FALSE(parse_proc_stat("4242 (x S 1 2 3"));
    EXPECT_FALSE(parse_proc_stat("4242 (x) S 1 2 3"));
}

// A process that ends between the open and the read of its stat file: the read fails with
// ESRCH, which the std::ifstream jitd used turned into an exception that ended jitd (seen when
// a revoked session's processes died while jitd walked them).
TEST(ProcStat, AProcessThatEndsWhileItsStatIsReadIsGone) {
    const pid_t child = spawn_sleeper();
    ASSERT_GT(child, 0);
    const std::string path = "/proc/" + std::to_string(child) + "/stat";
    const jit::UniqueFd stat_file(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_GE(stat_file.get(), 0);
    EXPECT_TRUE(read_open_proc_stat(stat_file.get()));
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    EXPECT_FALSE(read_open_proc_stat(stat_file.get()));
}

TEST(ProcessTree, FindsDescendantsAndNoticesTheirEnd) {
    const std::vector<ProcessId> tree = running_tree();
    ASSERT_EQ(tree.size(), 2u);
    const pid_t child = tree[0].pid;
    EXPECT_EQ(tree[0].pid, child);
    EXPECT_TRUE(process_alive(tree[0]));
    EXPECT_TRUE(process_alive(tree[1]));
    EXPECT_FALSE(process_alive({child, tree[0].start_time + 1}));  // a reused pid

    kill(tree[1].pid, SIGKILL);
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    EXPECT_FALSE(process_alive(tree[0]));
    EXPECT_TRUE(wait_for([&] { return !process_alive(tree[1]); }));  // reaped by init
    EXPECT_TRUE(process_and_descendants(child).empty());
}

TEST(ProcessTree, ListsEachSurvivorAndItsDescendantsOnce) {
    const std::vector<ProcessId> tree = running_tree();
    ASSERT_EQ(tree.size(), 2u);
    const pid_t child = tree[0].pid;
    auto found = survivors_and_descendants({tree[1], tree[0], tree[1], tree[0]});
    ASSERT_EQ(found.size(), 2u);
    EXPECT_NE(found[0].pid, found[1].pid);

    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    found = survivors_and_descendants(tree);  // the orphaned grandchild alone
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].pid, tree[1].pid);
    kill(tree[1].pid, SIGKILL);
}

TEST(BootClock, ConvertsTicksSinceBootToEpochSeconds) {
    BootClock clock{1900000000LL * 1000000000 + 600000000, 100};
    EXPECT_EQ(clock.epoch_of(0), 1900000000);
    EXPECT_EQ(clock.epoch_of(39), 1900000000);  // 0.6 s + 0.39 s
    EXPECT_EQ(clock.epoch_of(40), 1900000001);
    EXPECT_EQ(clock.epoch_of(100 * 3600), 1900003600);
}

TEST(BootClock, DatesAProcessJustStartedToNow) {
    const pid_t child = spawn_sleeper();
    ASSERT_GT(child, 0);
    auto stat = read_proc_stat(child);
    ASSERT_TRUE(stat);
    EXPECT_LE(std::abs(BootClock::current().epoch_of(stat->start_time) - time(nullptr)), 2);
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
}

TEST(SessionProcess, StartedAfterTheSessionOpenedIsAReusedPid) {
    EXPECT_TRUE(may_have_opened_session(1000, 1000));
    EXPECT_TRUE(may_have_opened_session(990, 1000));
    EXPECT_TRUE(may_have_opened_session(1005, 1000));  // clock rounding
    EXPECT_FALSE(may_have_opened_session(1006, 1000));
    EXPECT_TRUE(may_have_opened_session(5000, 0));  // opened unknown
}

TEST(SessionProcess, FindsTheTreeOnlyUnderTheProcessThatOpenedTheSession) {
    pid_t child = spawn_tree();
    ASSERT_GT(child, 0);
    jit::EpochSeconds now = time(nullptr);
    SessionProcesses found;
    ASSERT_TRUE(wait_for([&] {
        found = session_processes(child, 0, now);
        return found.processes.size() == 2;
    }));
    EXPECT_EQ(found.root, SessionProcesses::Root::Running);
    EXPECT_EQ(found.processes[0].pid, child);
    EXPECT_EQ(session_processes(child, 0, 0).root, SessionProcesses::Root::Running);
    found = session_processes(child, 0, now - 60);  // opened before this process existed
    EXPECT_EQ(found.root, SessionProcesses::Root::Reused);
    EXPECT_TRUE(found.processes.empty());

    auto grandchild = process_and_descendants(child).at(1).pid;
    kill(grandchild, SIGKILL);
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    found = session_processes(child, 0, now);
    EXPECT_EQ(found.root, SessionProcesses::Root::Gone);
    EXPECT_TRUE(found.processes.empty());
}

// With the start time the session registered, that alone decides, whenever the session opened.
TEST(SessionProcess, IsTheProcessWithTheRegisteredStartTime) {
    const std::vector<ProcessId> tree = running_tree();
    ASSERT_EQ(tree.size(), 2u);
    const pid_t child = tree[0].pid;
    std::uint64_t start = read_proc_stat(child).value().start_time;
    jit::EpochSeconds now = time(nullptr);
    auto found = session_processes(child, start, now - 3600);
    EXPECT_EQ(found.root, SessionProcesses::Root::Running);
    EXPECT_EQ(found.processes.size(), 2u);
    found = session_processes(child, start + 1, now);
    EXPECT_EQ(found.root, SessionProcesses::Root::Reused);
    EXPECT_TRUE(found.processes.empty());

    end_tree(child);
    EXPECT_EQ(session_processes(child, start, now).root, SessionProcesses::Root::Gone);
}

// What the reaper asks: only a process certainly not the session's counts as gone.
TEST(SessionProcess, MayRunWhileThePidRunsWithTheRegisteredStartTime) {
    const pid_t child = spawn_sleeper();
    ASSERT_GT(child, 0);
    std::uint64_t start = read_proc_stat(child).value().start_time;
    EXPECT_TRUE(registered_process_may_run(child, start));
    EXPECT_TRUE(registered_process_may_run(child, 0));  // start time unknown: any process
    EXPECT_FALSE(registered_process_may_run(child, start + 1));
    kill(child, SIGKILL);
    ASSERT_TRUE(wait_for([&] {  // a zombie is gone too
        auto stat = read_proc_stat(child);
        return stat && !stat->running();
    }));
    EXPECT_FALSE(registered_process_may_run(child, start));
    EXPECT_FALSE(registered_process_may_run(child, 0));
    waitpid(child, nullptr, 0);
    EXPECT_FALSE(registered_process_may_run(child, 0));
}

}  // namespace
}  // namespace jitd
