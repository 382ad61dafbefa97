// SPDX-License-Identifier: Apache-2.0
// Ending a session: by signals, and through logind over a private connection to a fake logind.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "jitd_test_support.hpp"
#include "process_tree.hpp"
#include "session_terminator.hpp"

namespace jitd {
namespace {

// --- ending a session by signals ---

class SessionTerminatorTest : public ::testing::Test {
  protected:
    void SetUp() override { event_ = new_event_loop(); }
    bool run_until(const std::function<bool()>& done) { return run_loop_until(event_.get(), done); }
    static jit::Session session_of(pid_t pid) {
        jit::Session session;
        session.id = 9;
        session.user = "alice";
        session.tty = "ssh";
        session.pid = pid;
        session.opened = time(nullptr);
        return session;
    }
    EventPtr event_;
};

// A running child with a grandchild (running_tree()) and a session registered to the child.
class RunningSessionTest : public SessionTerminatorTest {
  protected:
    void SetUp() override {
        SessionTerminatorTest::SetUp();
        tree_ = running_tree();
        ASSERT_EQ(tree_.size(), 2u);
        child_ = tree_[0].pid;
        session_ = session_of(child_);
    }
    // Ends the session through a terminator (kill_grace 1 s) that asks `logind` first, if any;
    // what it has still to do is dropped with it.
    std::unique_ptr<SessionTerminator> terminate(sd_bus* logind = nullptr) {
        auto terminator = std::make_unique<SessionTerminator>(event_.get(), logind, 1);
        terminator->terminate(session_);
        return terminator;
    }
    // Runs the loop until both processes have ended and the child is reaped.
    bool run_until_tree_ended() {
        return run_until([&] {
            return !process_alive(tree_[1]) && waitpid(child_, nullptr, WNOHANG) == child_;
        });
    }

    CapturedLog log_;
    std::vector<ProcessId> tree_;
    pid_t child_ = 0;
    jit::Session session_;
};

// Three generations that all ignore SIGTERM: only SIGKILL ends them.
pid_t spawn_stubborn_chain() {
    pid_t child = fork();
    if (child == 0) {
        signal(SIGTERM, SIG_IGN);
        for (int generation = 1; generation < 3; ++generation) {
            if (fork() != 0) {
                break;
            }
        }
        for (;;) {
            pause();
        }
    }
    return child;
}

TEST_F(SessionTerminatorTest, KillsEachStubbornProcessOnceAfterKillGrace) {
    CapturedLog log;
    pid_t child = spawn_stubborn_chain();
    ASSERT_GT(child, 0);
    std::vector<ProcessId> tree;
    ASSERT_TRUE(wait_for([&] {
        tree = process_and_descendants(child);
        return tree.size() == 3;
    }));
    SessionTerminator terminator(event_.get(), nullptr, 1);
    terminator.terminate(session_of(child));
    EXPECT_NE(log.text().find("sent SIGTERM to 3 process(es)"), std::string::npos) << log.text();
    EXPECT_TRUE(run_until([&] {
        return !process_alive(tree[1]) && !process_alive(tree[2]) &&
               waitpid(child, nullptr, WNOHANG) == child;
    }));
    EXPECT_NE(log.text().find("sent SIGKILL to 3 process(es)"), std::string::npos) << log.text();
}

TEST_F(SessionTerminatorTest, SaysWhenTheSessionHasNoProcessesLeft) {
    CapturedLog log;
    pid_t child = fork();
    if (child == 0) {
        _exit(0);
    }
    ASSERT_EQ(waitpid(child, nullptr, 0), child);
    SessionTerminator terminator(event_.get(), nullptr, 1);
    terminator.terminate(session_of(child));
    EXPECT_NE(log.text().find("no processes left (pid " + std::to_string(child) + " has exited)"),
              std::string::npos)
        << log.text();
    EXPECT_EQ(log.text().find("SIGTERM"), std::string::npos) << log.text();
}

TEST_F(RunningSessionTest, LeavesAReusedPidAlone) {
    session_.opened -= 3600;  // the session opened an hour before this process started
    const auto terminator = terminate();
    EXPECT_NE(log_.text().find("started after the session opened"), std::string::npos)
        << log_.text();
    EXPECT_TRUE(process_alive({child_, read_proc_stat(child_).value().start_time}));
    end_tree(child_);
}

TEST_F(RunningSessionTest, LeavesAPidAloneWhoseStartTimeIsNotTheRegisteredOne) {
    session_.pid_start = static_cast<std::int64_t>(read_proc_stat(child_).value().start_time) + 1;
    const auto terminator = terminate();
    EXPECT_NE(log_.text().find("no processes left (pid " + std::to_string(child_) + " now belongs"),
              std::string::npos)
        << log_.text();
    EXPECT_EQ(log_.text().find("SIGTERM"), std::string::npos) << log_.text();
    end_tree(child_);
}

TEST_F(RunningSessionTest, SignalsTheProcessWithTheRegisteredStartTime) {
    session_.pid_start = static_cast<std::int64_t>(tree_[0].start_time);
    session_.opened -= 3600;  // by the clock alone this would look like a reused pid
    const auto terminator = terminate();
    EXPECT_NE(log_.text().find("sent SIGTERM to 2 process(es)"), std::string::npos) << log_.text();
    EXPECT_TRUE(run_until_tree_ended());
}

// --- ending a session through logind ---

// logind's Manager.GetSession, Manager.TerminateSession and Session.Leader for session "1".
class FakeLogind {
  public:
    explicit FakeLogind(sd_event* event, sd_event* server_event = nullptr)
        : buses_(event, server_event) {
        sd_bus_slot* slot = nullptr;
        if (sd_bus_add_object_vtable(buses_.server.get(), &slot, "/org/freedesktop/login1",
                                     "org.freedesktop.login1.Manager", kManager, this) < 0) {
            throw std::runtime_error("cannot add the Manager");
        }
        manager_.reset(slot);
        if (sd_bus_add_object_vtable(buses_.server.get(), &slot, kSessionPath,
                                     "org.freedesktop.login1.Session", kSession, this) < 0) {
            throw std::runtime_error("cannot add the Session");
        }
        session_.reset(slot);
    }
    sd_bus* bus() const { return buses_.client.get(); }

    std::uint32_t leader = 0;
    std::vector<std::string> terminated;
    std::vector<std::string> killed;  // "ID WHO SIGNAL"

  private:
    static constexpr const char* kSessionPath = "/org/freedesktop/login1/session/_31";

    static int get_session(sd_bus_message* call, void*, sd_bus_error* error) {
        const char* id = nullptr;
        if (sd_bus_message_read(call, "s", &id) < 0 || std::string(id) != "1") {
            return sd_bus_error_set(error, "org.freedesktop.login1.NoSuchSession",
                                    "No session by that id");
        }
        return sd_bus_reply_method_return(call, "o", kSessionPath);
    }
    static int terminate_session(sd_bus_message* call, void* userdata, sd_bus_error*) {
        const char* id = nullptr;
        sd_bus_message_read(call, "s", &id);
        static_cast<FakeLogind*>(userdata)->terminated.emplace_back(id ? id : "");
        return sd_bus_reply_method_return(call, "");
    }
    static int kill_session(sd_bus_message* call, void* userdata, sd_bus_error*) {
        const char* id = nullptr;
        const char* who = nullptr;
        std::int32_t signal = 0;
        sd_bus_message_read(call, "ssi", &id, &who, &signal);
        static_cast<FakeLogind*>(userdata)->killed.push_back(
            std::string(id ? id : "") + " " + (who ? who : "") + " " + std::to_string(signal));
        return sd_bus_reply_method_return(call, "");
    }
    static int get_leader(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply,
                          void* userdata, sd_bus_error*) {
        return sd_bus_message_append(reply, "u", static_cast<FakeLogind*>(userdata)->leader);
    }

    static const sd_bus_vtable kManager[];
    static const sd_bus_vtable kSession[];

    PeerBuses buses_;
    SlotPtr manager_;
    SlotPtr session_;
};

const sd_bus_vtable FakeLogind::kManager[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("GetSession", "s", "o", FakeLogind::get_session, 0),
    SD_BUS_METHOD("TerminateSession", "s", "", FakeLogind::terminate_session, 0),
    SD_BUS_METHOD("KillSession", "ssi", "", FakeLogind::kill_session, 0),
    SD_BUS_VTABLE_END,
};
const sd_bus_vtable FakeLogind::kSession[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Leader", "u", FakeLogind::get_leader, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_VTABLE_END,
};

TEST_F(RunningSessionTest, AsksLogindToEndTheSessionTheRegisteredPidLeads) {
    FakeLogind logind(event_.get());
    logind.leader = static_cast<std::uint32_t>(child_);
    session_.logind_session = "1";
    auto terminator = terminate(logind.bus());
    EXPECT_TRUE(run_until([&] { return log_.text().find("logind") != std::string::npos; }));
    terminator.reset();
    EXPECT_EQ(logind.terminated, std::vector<std::string>{"1"});
    EXPECT_NE(log_.text().find("logind terminated session 1"), std::string::npos) << log_.text();
    EXPECT_EQ(log_.text().find("SIGTERM"), std::string::npos) << log_.text();
    end_tree(child_);
}

// TerminateSession leaves the scope to systemd's stop timeout; jit's kill_grace still holds.
TEST_F(SessionTerminatorTest, AsksLogindForSigkillAfterKillGrace) {
    CapturedLog log;
    FakeLogind logind(event_.get());
    logind.leader = static_cast<std::uint32_t>(getpid());
    auto session = session_of(getpid());
    session.logind_session = "1";
    SessionTerminator terminator(event_.get(), logind.bus(), 1);
    terminator.terminate(session);
    EXPECT_TRUE(run_until([&] { return !logind.terminated.empty(); }));
    EXPECT_TRUE(logind.killed.empty());  // not before kill_grace
    EXPECT_TRUE(run_until([&] { return !logind.killed.empty(); }));
    EXPECT_EQ(logind.killed, std::vector<std::string>{"1 all " + std::to_string(SIGKILL)});
    EXPECT_TRUE(run_until([&] { return log.text().find("what remained") != std::string::npos; }))
        << log.text();
}

// The process that leads its logind session stays in logind's scope: no group of its own.
// place() asks logind synchronously (pam_jit is waiting), so the fake answers from a thread.
TEST_F(SessionTerminatorTest, LeavesALogindLeaderInItsScope) {
    sd_event* raw = nullptr;
    ASSERT_GE(sd_event_new(&raw), 0);
    EventPtr server_event(raw);
    FakeLogind logind(event_.get(), server_event.get());
    logind.leader = static_cast<std::uint32_t>(getpid());
    std::atomic<bool> done = false;
    std::thread server([&] {
        while (!done) {
            sd_event_run(server_event.get(), 10 * 1000);
        }
    });
    SessionCgroups cgroups(event_.get(), logind.bus(), 1, "/nonexistent/cgroup2");
    auto session = session_of(getpid());
    session.logind_session = "1";
    session.pid_start = static_cast<std::int64_t>(read_proc_stat(getpid())->start_time);
    std::string cgroup = cgroups.place(session);
    done = true;
    server.join();
    EXPECT_EQ(cgroup, "");
}

// sudo inherits XDG_SESSION_ID from the login it runs in: that login is not the sudo session.
TEST_F(RunningSessionTest, SignalsInsteadWhenLogindsSessionHasAnotherLeader) {
    FakeLogind logind(event_.get());
    logind.leader = static_cast<std::uint32_t>(getpid());  // the outer login
    session_.logind_session = "1";
    session_.pid_start = static_cast<std::int64_t>(tree_[0].start_time);
    const auto terminator = terminate(logind.bus());
    EXPECT_TRUE(run_until_tree_ended());
    EXPECT_TRUE(logind.terminated.empty());
    EXPECT_NE(log_.text().find("its leader is pid " + std::to_string(getpid())), std::string::npos)
        << log_.text();
}

TEST_F(RunningSessionTest, SignalsInsteadWhenLogindDoesNotKnowTheSession) {
    FakeLogind logind(event_.get());
    session_.logind_session = "7";
    const auto terminator = terminate(logind.bus());
    EXPECT_TRUE(run_until_tree_ended());
    EXPECT_TRUE(logind.terminated.empty());
    EXPECT_NE(log_.text().find("No session by that id"), std::string::npos) << log_.text();
}

}  // namespace
}  // namespace jitd
