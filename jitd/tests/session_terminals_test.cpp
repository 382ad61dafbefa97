// SPDX-License-Identifier: Apache-2.0
// The expiry warning on a session's terminals.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "jit/unique_fd.hpp"
#include "jitd_test_support.hpp"
#include "process_tree.hpp"
#include "session_terminals.hpp"

namespace jitd {
namespace {

// --- the expiry warning on a session's terminals ---

TEST(PamTty, NamesOnlyTheTerminalsSessionsHave) {
    EXPECT_EQ(pam_tty_path("pts/3"), "/dev/pts/3");
    EXPECT_EQ(pam_tty_path("/dev/pts/12"), "/dev/pts/12");
    EXPECT_EQ(pam_tty_path("tty2"), "/dev/tty2");
    EXPECT_EQ(pam_tty_path("/dev/tty63"), "/dev/tty63");
    EXPECT_EQ(pam_tty_path("ttyS0"), "/dev/ttyS0");
    EXPECT_EQ(pam_tty_path("/dev/ttyS1"), "/dev/ttyS1");
    EXPECT_EQ(pam_tty_path("console"), "/dev/console");
    for (const char* other : {"",
                              "ssh",
                              "sudo",
                              "tty",
                              "/dev/tty",
                              "ptmx",
                              "/dev/ptmx",
                              "pts/",
                              "pts/ptmx",
                              "pts/3/",
                              "pts/-1",
                              "pts/+1",
                              "pts/1x",
                              "ttyS",
                              "ttyUSB0",
                              "null",
                              "/dev/null",
                              "../dev/pts/1",
                              "/dev/pts/../pts/1",
                              "/dev//pts/1",
                              "/dev/console",
                              "/tmp/pts/1",
                              "pts/1234567890"}) {
        EXPECT_FALSE(pam_tty_path(other)) << other;
    }
}

TEST(TerminalPath, NamesPtsConsolesAndSerialLinesOnly) {
    EXPECT_EQ(terminal_path(makedev(136, 3)), "/dev/pts/3");
    EXPECT_EQ(terminal_path(makedev(136, 300)), "/dev/pts/300");
    EXPECT_EQ(terminal_path(makedev(137, 4)), "/dev/pts/260");  // legacy numbering
    EXPECT_EQ(terminal_path(makedev(4, 2)), "/dev/tty2");
    EXPECT_EQ(terminal_path(makedev(4, 65)), "/dev/ttyS1");
    EXPECT_FALSE(terminal_path(0));
    EXPECT_FALSE(terminal_path(makedev(4, 0)));  // tty0: whichever console is in front
    EXPECT_FALSE(terminal_path(makedev(1, 3)));  // /dev/null
    EXPECT_FALSE(terminal_path(makedev(5, 0)));  // /dev/tty: the opener's own
    EXPECT_FALSE(terminal_path(makedev(5, 1)));  // /dev/console
}

// Like an ssh login: a session leader without a terminal (sshd's monitor) whose child and
// grandchild (the shell and its command) have the pty as controlling terminal.
class SessionTerminalsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        master_ = UniqueFd(posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
        ASSERT_TRUE(master_);
        ASSERT_EQ(grantpt(master_.get()), 0);
        ASSERT_EQ(unlockpt(master_.get()), 0);
        slave_ = ptsname(master_.get());
        monitor_ = fork();
        if (monitor_ == 0) {
            setsid();
            if (fork() == 0) {
                setsid();
                open(slave_.c_str(), O_RDWR);  // the first terminal a leader opens is its own
                fork();
                for (;;) {
                    pause();
                }
            }
            for (;;) {
                pause();
            }
        }
        ASSERT_GT(monitor_, 0);
        ASSERT_TRUE(wait_for([&] {
            auto tree = process_and_descendants(monitor_);
            if (tree.size() != 3) {
                return false;
            }
            auto last = read_proc_stat(tree[2].pid);
            return last && last->tty != 0;
        }));
    }
    void TearDown() override {
        for (const auto& process : process_and_descendants(monitor_)) {
            kill(process.pid, SIGKILL);
        }
        waitpid(monitor_, nullptr, 0);
    }
    jit::Session ssh_session() const {
        jit::Session session;
        session.id = 4;
        session.tty = "ssh";
        session.pid = monitor_;
        session.opened = time(nullptr);
        return session;
    }
    // What the terminal showed, once it shows `text` (or after 5 s).
    std::string terminal_output(const std::string& text) {
        std::string output;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (output.find(text) == std::string::npos &&
               std::chrono::steady_clock::now() < deadline) {
            pollfd readable{master_.get(), POLLIN, 0};
            if (poll(&readable, 1, 100) > 0) {
                char buffer[512];
                ssize_t n = read(master_.get(), buffer, sizeof buffer);
                if (n > 0) {
                    output.append(buffer, static_cast<std::size_t>(n));
                }
            }
        }
        return output;
    }
    static std::size_t count(const std::string& text, const std::string& part) {
        std::size_t found = 0;
        for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
            ++found;
        }
        return found;
    }
    UniqueFd master_;
    std::string slave_;
    pid_t monitor_ = 0;
};

TEST_F(SessionTerminalsTest, FindsTheTerminalOfAnSshSessionsProcessesAndWritesItOnce) {
    auto written = write_to_session_terminals(ssh_session(), "jit: your access ends");
    EXPECT_EQ(written, std::vector<std::string>{slave_});
    std::string output = terminal_output("jit: your access ends");
    EXPECT_EQ(count(output, "jit: your access ends"), 1u) << output;
}

TEST_F(SessionTerminalsTest, WritesToTheRegisteredTerminalWhenThereIsOne) {
    auto session = ssh_session();
    session.tty = slave_.substr(std::string("/dev/").size());  // PAM_TTY "pts/N"
    session.pid = 0;
    EXPECT_EQ(write_to_session_terminals(session, "sudo ends"), std::vector<std::string>{slave_});
    EXPECT_EQ(count(terminal_output("sudo ends"), "sudo ends"), 1u);
}

TEST_F(SessionTerminalsTest, WarnsNobodyWhenThePidWasReused) {
    auto session = ssh_session();
    session.opened -= 3600;
    CapturedLog log;
    EXPECT_TRUE(write_to_session_terminals(session, "not for you").empty());
    EXPECT_NE(log.text().find("started after the session opened"), std::string::npos) << log.text();
}

TEST_F(SessionTerminalsTest, WarnsNobodyWhenThePidHasAnotherStartTime) {
    auto session = ssh_session();
    session.pid_start = static_cast<std::int64_t>(read_proc_stat(monitor_).value().start_time) + 1;
    CapturedLog log;
    EXPECT_TRUE(write_to_session_terminals(session, "not for you").empty());
    EXPECT_NE(log.text().find("started after the session opened"), std::string::npos) << log.text();
}

TEST(SessionTerminals, WarnsNobodyWithoutAProcessOrTerminal) {
    jit::Session session;
    for (const char* tty : {"ssh", "/dev/null", "null", "ptmx", "/dev/ptmx", "tty", "/dev/tty"}) {
        session.tty = tty;  // /dev/ptmx would make a new pty, /dev/tty is jitd's own terminal
        EXPECT_TRUE(write_to_session_terminals(session, "x").empty()) << tty;
    }
}

}  // namespace
}  // namespace jitd
