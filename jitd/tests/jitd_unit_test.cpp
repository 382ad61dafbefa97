// SPDX-License-Identifier: Apache-2.0
// jitd's own pieces that need no system bus: auditing the fallback spool, /proc parsing and
// walking, ending a session (by logind, over a private connection to a fake logind, and by
// signals), the expiry warning on a session's terminals, audit records over the bus, audit
// message ids and texts, the snapshot writer and notify_command.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "audit_message_ids.hpp"
#include "bus_records.hpp"
#include "fakes.hpp"
#include "fallback_spool.hpp"
#include "jit/error.hpp"
#include "jit/unique_fd.hpp"
#include "journal_forwarder.hpp"
#include "notifier.hpp"
#include "process_tree.hpp"
#include "session_cgroups.hpp"
#include "session_terminals.hpp"
#include "session_terminator.hpp"
#include "snapshot_writer.hpp"

namespace jitd {
namespace {

namespace fs = std::filesystem;

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
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    ASSERT_GT(child, 0);
    const std::string path = "/proc/" + std::to_string(child) + "/stat";
    const jit::UniqueFd stat_file(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_GE(stat_file.get(), 0);
    EXPECT_TRUE(read_open_proc_stat(stat_file.get()));
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    EXPECT_FALSE(read_open_proc_stat(stat_file.get()));
}

// A child that forks a grandchild; both sleep until killed.
pid_t spawn_tree() {
    pid_t child = fork();
    if (child == 0) {
        if (fork() == 0) {
            pause();
            _exit(0);
        }
        pause();
        _exit(0);
    }
    return child;
}

bool wait_for(const std::function<bool()>& condition) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        usleep(10 * 1000);
    }
    return true;
}

TEST(ProcessTree, FindsDescendantsAndNoticesTheirEnd) {
    pid_t child = spawn_tree();
    ASSERT_GT(child, 0);
    std::vector<ProcessId> tree;
    ASSERT_TRUE(wait_for([&] {
        tree = process_and_descendants(child);
        return tree.size() == 2;
    }));
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
    pid_t child = spawn_tree();
    ASSERT_GT(child, 0);
    std::vector<ProcessId> tree;
    ASSERT_TRUE(wait_for([&] {
        tree = process_and_descendants(child);
        return tree.size() == 2;
    }));
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
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
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
    pid_t child = spawn_tree();
    ASSERT_GT(child, 0);
    ASSERT_TRUE(wait_for([&] { return process_and_descendants(child).size() == 2; }));
    std::uint64_t start = read_proc_stat(child).value().start_time;
    jit::EpochSeconds now = time(nullptr);
    auto found = session_processes(child, start, now - 3600);
    EXPECT_EQ(found.root, SessionProcesses::Root::Running);
    EXPECT_EQ(found.processes.size(), 2u);
    found = session_processes(child, start + 1, now);
    EXPECT_EQ(found.root, SessionProcesses::Root::Reused);
    EXPECT_TRUE(found.processes.empty());

    for (const auto& process : process_and_descendants(child)) {
        kill(process.pid, SIGKILL);
    }
    waitpid(child, nullptr, 0);
    EXPECT_EQ(session_processes(child, start, now).root, SessionProcesses::Root::Gone);
}

// What the reaper asks: only a process certainly not the session's counts as gone.
TEST(SessionProcess, MayRunWhileThePidRunsWithTheRegisteredStartTime) {
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
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

// --- log capture ---

// Routes jitd's spdlog lines into a string for the test's lifetime.
class CapturedLog {
  public:
    CapturedLog() : previous_(spdlog::default_logger()) {
        auto logger = std::make_shared<spdlog::logger>(
            "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(lines_));
        logger->set_level(spdlog::level::debug);
        logger->set_pattern("%v");
        spdlog::set_default_logger(logger);
    }
    ~CapturedLog() { spdlog::set_default_logger(previous_); }
    std::string text() const { return lines_.str(); }

  private:
    std::ostringstream lines_;
    std::shared_ptr<spdlog::logger> previous_;
};

// --- ending a session by signals ---

class SessionTerminatorTest : public ::testing::Test {
  protected:
    void SetUp() override {
        sd_event* raw = nullptr;
        ASSERT_GE(sd_event_new(&raw), 0);
        event_.reset(raw);
    }
    bool run_until(const std::function<bool()>& done) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) {
                return false;
            }
            sd_event_run(event_.get(), 50 * 1000);
        }
        return true;
    }
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

TEST_F(SessionTerminatorTest, LeavesAReusedPidAlone) {
    CapturedLog log;
    pid_t child = spawn_tree();
    ASSERT_GT(child, 0);
    ASSERT_TRUE(wait_for([&] { return process_and_descendants(child).size() == 2; }));
    auto session = session_of(child);
    session.opened -= 3600;  // the session opened an hour before this process started
    SessionTerminator terminator(event_.get(), nullptr, 1);
    terminator.terminate(session);
    EXPECT_NE(log.text().find("started after the session opened"), std::string::npos) << log.text();
    EXPECT_TRUE(process_alive({child, read_proc_stat(child).value().start_time}));
    for (const auto& process : process_and_descendants(child)) {
        kill(process.pid, SIGKILL);
    }
    waitpid(child, nullptr, 0);
}

TEST_F(SessionTerminatorTest, LeavesAPidAloneWhoseStartTimeIsNotTheRegisteredOne) {
    CapturedLog log;
    pid_t child = spawn_tree();
    ASSERT_GT(child, 0);
    ASSERT_TRUE(wait_for([&] { return process_and_descendants(child).size() == 2; }));
    auto session = session_of(child);
    session.pid_start = static_cast<std::int64_t>(read_proc_stat(child).value().start_time) + 1;
    SessionTerminator terminator(event_.get(), nullptr, 1);
    terminator.terminate(session);
    EXPECT_NE(log.text().find("no processes left (pid " + std::to_string(child) + " now belongs"),
              std::string::npos)
        << log.text();
    EXPECT_EQ(log.text().find("SIGTERM"), std::string::npos) << log.text();
    for (const auto& process : process_and_descendants(child)) {
        kill(process.pid, SIGKILL);
    }
    waitpid(child, nullptr, 0);
}

TEST_F(SessionTerminatorTest, SignalsTheProcessWithTheRegisteredStartTime) {
    CapturedLog log;
    pid_t child = spawn_tree();
    ASSERT_GT(child, 0);
    ASSERT_TRUE(wait_for([&] { return process_and_descendants(child).size() == 2; }));
    auto tree = process_and_descendants(child);
    auto session = session_of(child);
    session.pid_start = static_cast<std::int64_t>(tree[0].start_time);
    session.opened -= 3600;  // by the clock alone this would look like a reused pid
    SessionTerminator terminator(event_.get(), nullptr, 1);
    terminator.terminate(session);
    EXPECT_NE(log.text().find("sent SIGTERM to 2 process(es)"), std::string::npos) << log.text();
    EXPECT_TRUE(run_until(
        [&] { return !process_alive(tree[1]) && waitpid(child, nullptr, WNOHANG) == child; }));
}

// --- ending a session through logind ---

// Two ends of a private D-Bus connection on one event loop: `client` for the code under test,
// `server` for the fake peer.
class PeerBuses {
  public:
    // `server_event` (default: `event`) lets a fake peer answer from a thread of its own.
    explicit PeerBuses(sd_event* event, sd_event* server_event = nullptr) {
        int fds[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) < 0) {
            throw std::runtime_error("socketpair failed");
        }
        client = open_end(fds[0], event, false);
        server = open_end(fds[1], server_event ? server_event : event, true);
    }
    BusPtr client;
    BusPtr server;

  private:
    static BusPtr open_end(int fd, sd_event* event, bool is_server) {
        sd_bus* raw = nullptr;
        if (sd_bus_new(&raw) < 0) {
            throw std::runtime_error("sd_bus_new failed");
        }
        BusPtr bus(raw);
        sd_id128_t id{};
        if (is_server && (sd_id128_randomize(&id) < 0 || sd_bus_set_server(raw, 1, id) < 0)) {
            throw std::runtime_error("cannot make a server end");
        }
        if (sd_bus_set_fd(raw, fd, fd) < 0 || sd_bus_start(raw) < 0 ||
            sd_bus_attach_event(raw, event, 0) < 0) {
            throw std::runtime_error("cannot start a bus end");
        }
        return bus;
    }
};

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

TEST_F(SessionTerminatorTest, AsksLogindToEndTheSessionTheRegisteredPidLeads) {
    CapturedLog log;
    pid_t child = spawn_tree();
    ASSERT_GT(child, 0);
    ASSERT_TRUE(wait_for([&] { return process_and_descendants(child).size() == 2; }));
    FakeLogind logind(event_.get());
    logind.leader = static_cast<std::uint32_t>(child);
    auto session = session_of(child);
    session.logind_session = "1";
    {
        SessionTerminator terminator(event_.get(), logind.bus(), 1);
        terminator.terminate(session);
        EXPECT_TRUE(run_until([&] { return log.text().find("logind") != std::string::npos; }));
    }
    EXPECT_EQ(logind.terminated, std::vector<std::string>{"1"});
    EXPECT_NE(log.text().find("logind terminated session 1"), std::string::npos) << log.text();
    EXPECT_EQ(log.text().find("SIGTERM"), std::string::npos) << log.text();
    for (const auto& process : process_and_descendants(child)) {
        kill(process.pid, SIGKILL);
    }
    waitpid(child, nullptr, 0);
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
TEST_F(SessionTerminatorTest, SignalsInsteadWhenLogindsSessionHasAnotherLeader) {
    CapturedLog log;
    pid_t child = spawn_tree();
    ASSERT_GT(child, 0);
    ASSERT_TRUE(wait_for([&] { return process_and_descendants(child).size() == 2; }));
    auto tree = process_and_descendants(child);
    FakeLogind logind(event_.get());
    logind.leader = static_cast<std::uint32_t>(getpid());  // the outer login
    auto session = session_of(child);
    session.logind_session = "1";
    session.pid_start = static_cast<std::int64_t>(tree[0].start_time);
    SessionTerminator terminator(event_.get(), logind.bus(), 1);
    terminator.terminate(session);
    EXPECT_TRUE(run_until(
        [&] { return !process_alive(tree[1]) && waitpid(child, nullptr, WNOHANG) == child; }));
    EXPECT_TRUE(logind.terminated.empty());
    EXPECT_NE(log.text().find("its leader is pid " + std::to_string(getpid())), std::string::npos)
        << log.text();
}

TEST_F(SessionTerminatorTest, SignalsInsteadWhenLogindDoesNotKnowTheSession) {
    CapturedLog log;
    pid_t child = spawn_tree();
    ASSERT_GT(child, 0);
    ASSERT_TRUE(wait_for([&] { return process_and_descendants(child).size() == 2; }));
    auto tree = process_and_descendants(child);
    FakeLogind logind(event_.get());
    auto session = session_of(child);
    session.logind_session = "7";
    SessionTerminator terminator(event_.get(), logind.bus(), 1);
    terminator.terminate(session);
    EXPECT_TRUE(run_until(
        [&] { return !process_alive(tree[1]) && waitpid(child, nullptr, WNOHANG) == child; }));
    EXPECT_TRUE(logind.terminated.empty());
    EXPECT_NE(log.text().find("No session by that id"), std::string::npos) << log.text();
}

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

// --- audit messages ---

TEST(AuditMessageIds, AreDistinct128BitIds) {
    std::set<std::string_view> ids = {kOtherAuditMessageType.message_id};
    std::set<std::string_view> events;
    for (const auto& type : kAuditMessageTypes) {
        EXPECT_EQ(type.message_id.size(), 32u);
        EXPECT_EQ(type.message_id.find_first_not_of("0123456789abcdef"), std::string::npos);
        EXPECT_TRUE(ids.insert(type.message_id).second) << type.event;
        EXPECT_TRUE(events.insert(type.event).second) << type.event;
    }
    EXPECT_EQ(audit_message_type("granted").message_id, "7f80eff6d4a9455498bb1ebdca00b675");
    EXPECT_EQ(audit_message_type("no_such_event").message_id, kOtherAuditMessageType.message_id);
}

jit::AuditEvent event_of(std::string type,
                         std::vector<std::pair<std::string, std::string>> fields) {
    jit::AuditEvent e;
    e.seq = 7;
    e.event = std::move(type);
    e.fields = std::move(fields);
    return e;
}

TEST(AuditJournalMessage, SaysWhatHappenedInWords) {
    EXPECT_EQ(audit_journal_message(event_of("requested", {{"JIT_USER", "alice"},
                                                           {"JIT_RESOURCE", "prod-db"},
                                                           {"JIT_REASON", "fix it"},
                                                           {"JIT_REQUESTED_DURATION", "86400"},
                                                           {"JIT_DURATION", "7200"},
                                                           {"JIT_CAPPED", "true"}})),
              "alice requested access to prod-db for 2h (capped from 1d): fix it");
    EXPECT_EQ(audit_journal_message(event_of("granted", {{"JIT_REQUEST_ID", "3"},
                                                         {"JIT_GRANT_ID", "4"},
                                                         {"JIT_USER", "alice"},
                                                         {"JIT_RESOURCE", "prod-db"},
                                                         {"JIT_EXPIRY", ""}})),
              "alice was granted access to prod-db until revoked (grant 4, request 3)");
    EXPECT_EQ(audit_journal_message(event_of("login_denied", {{"JIT_USER", "bob"},
                                                              {"JIT_TARGET", "root"},
                                                              {"JIT_SERVICE", "sshd"},
                                                              {"JIT_RHOST", ""},
                                                              {"JIT_RESOURCE", "prod-db"}})),
              "denied login of bob via sshd as root: no access to prod-db");
    EXPECT_EQ(audit_journal_message(event_of("mystery", {{"JIT_X", "1"}})),
              "audit event mystery JIT_X=1");
}

// --- snapshot ---

class TempDir : public ::testing::Test {
  protected:
    void SetUp() override {
        char templ[] = "/tmp/jitd-unit.XXXXXX";
        ASSERT_TRUE(mkdtemp(templ));
        dir_ = templ;
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string read(const fs::path& path) {
        std::ifstream in(path);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }
    fs::path dir_;
};

using SnapshotWriterTest = TempDir;

TEST_F(SnapshotWriterTest, WritesAtomicallyRootOnlyIntoNewDirectories) {
    jit::AccessIndex index;
    index.put_rule({"db", {"sshd"}, {"*"}, {"alice"}});
    index.put_grant({5, "bob", "db", 2000000000});
    SnapshotWriter writer((dir_ / "run/jitd/snapshot").string());
    EXPECT_EQ(writer.directory(), (dir_ / "run/jitd").string());

    writer.prepare_directory();
    writer.write(index, 1900000000);
    EXPECT_EQ(read(writer.path()), jit::serialize_snapshot(index, 1900000000));
    struct stat st {};
    ASSERT_EQ(stat(writer.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    for (const auto& made : {dir_ / "run", dir_ / "run/jitd"}) {
        ASSERT_EQ(stat(made.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, 0700u) << made;
    }

    std::string before = read(writer.path());
    index.remove_grant(5);
    writer.write_if_dirty(index, 1900000001);  // not marked dirty: left alone
    EXPECT_EQ(read(writer.path()), before);
    writer.mark_dirty();
    writer.write_if_dirty(index, 1900000002);
    EXPECT_EQ(read(writer.path()), jit::serialize_snapshot(index, 1900000002));
    EXPECT_EQ(std::distance(fs::directory_iterator(writer.directory()), fs::directory_iterator()),
              1);  // no temporary file left behind
}

// What prepare_directory() throws, or "".
std::string directory_problem(const SnapshotWriter& writer) {
    try {
        writer.prepare_directory();
        return {};
    } catch (const jit::JitError& e) {
        return e.what();
    }
}

TEST_F(SnapshotWriterTest, FailsWithThePathWhenTheDirectoryCannotBeMade) {
    std::ofstream(dir_ / "file") << "x";
    SnapshotWriter writer((dir_ / "file/sub/snapshot").string());
    EXPECT_NE(directory_problem(writer).find((dir_ / "file").string()), std::string::npos);
}

// Whoever can write there can plant a snapshot or spool for pam_jit.
TEST_F(SnapshotWriterTest, RefusesADirectoryNotRootsAlone) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root (file ownership)";
    }
    fs::path dir = dir_ / "run";
    SnapshotWriter writer((dir / "snapshot").string());
    ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
    ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
    EXPECT_EQ(directory_problem(writer), "");  // root's, others may read: fine
    for (mode_t mode : {0775, 0757, 01777}) {
        ASSERT_EQ(chmod(dir.c_str(), mode), 0);
        std::string problem = directory_problem(writer);
        EXPECT_NE(problem.find("the snapshot directory " + dir.string() +
                               " is writable by group or others"),
                  std::string::npos)
            << std::oct << mode << ": " << problem;
    }
    ASSERT_EQ(chmod(dir.c_str(), 0700), 0);
    ASSERT_EQ(chown(dir.c_str(), 65534, 0), 0);
    EXPECT_NE(directory_problem(writer).find("is not owned by root"), std::string::npos);
    ASSERT_EQ(chown(dir.c_str(), 0, 0), 0);
    EXPECT_EQ(directory_problem(writer), "");
}

// Fail closed: without a snapshot pam_jit denies managed logins while jitd is unreachable; a
// stale one would still let in a grant revoked since.
TEST_F(SnapshotWriterTest, KeepsTheOldSnapshotWhenItCannotWriteANewOne) {
    jit::AccessIndex index;
    index.put_grant({5, "bob", "db", 2000000000});
    SnapshotWriter writer((dir_ / "snapshot").string());
    writer.write(index, 1900000000);
    const std::string old_snapshot = read(writer.path());

    // A file size limit of one byte makes the next write fail (EFBIG, SIGXFSZ ignored).
    rlimit saved{};
    ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
    auto previous_handler = signal(SIGXFSZ, SIG_IGN);
    rlimit tiny = saved;
    tiny.rlim_cur = 1;
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &tiny), 0);
    index.put_grant({6, "carol", "db", 2000000000});
    writer.mark_dirty();
    writer.write_if_dirty(index, 1900000001);
    const bool failing = writer.failing();
    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, previous_handler);

    EXPECT_TRUE(failing);
    EXPECT_EQ(read(writer.path()), old_snapshot) << "the old snapshot must stay for pam_jit";
    EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1)
        << "a temporary file was left behind";
    writer.write_if_dirty(index, 1900000002);  // retried, and written once writing works again
    EXPECT_FALSE(writer.failing());
    EXPECT_EQ(read(writer.path()), jit::serialize_snapshot(index, 1900000002));
}

// --- the fallback spool ---

// Effects of the engine that the spool does not care about; `on_audit` runs after each commit.
class SpoolEffects final : public jit::Effects {
  public:
    std::function<void(const jit::AuditEvent&)> on_audit;
    void audit_committed(const jit::AuditEvent& event) override {
        if (on_audit) {
            on_audit(event);
        }
    }
    void request_created(const jit::Request&) override {}
    void request_decided(const jit::Request&) override {}
    void grant_started(const jit::Grant&) override {}
    void grant_ended(const jit::Grant&) override {}
    void terminate_session(const jit::Session&) override {}
    void warn_session(const jit::Session&, const jit::Grant&) override {}
    void access_changed() override {}
};

class FallbackSpoolTest : public TempDir {
  protected:
    void SetUp() override {
        if (geteuid() != 0) {
            GTEST_SKIP() << "needs root (pam_jit's spool is root's)";
        }
        TempDir::SetUp();
        sd_event* raw = nullptr;
        ASSERT_GE(sd_event_new(&raw), 0);
        event_.reset(raw);
        service_ =
            std::make_unique<jit::JitService>(store_, jit::Config{}, identity_, clock_, effects_);
        service_->start();
    }
    std::unique_ptr<FallbackSpool> new_spool() {
        return std::make_unique<FallbackSpool>(event_.get(), dir_.string(), *service_);
    }
    fs::path spool_path() const { return dir_ / "fallback.log"; }
    void write_spool(const std::string& text, mode_t mode = 0600) {
        std::ofstream(spool_path()) << text;
        ASSERT_EQ(chmod(spool_path().c_str(), mode), 0);
    }
    // user:outcome of each login_fallback audited, in order.
    std::vector<std::string> audited() const {
        std::vector<std::string> out;
        for (const auto& event : store_.audit_log) {
            if (event.event == "login_fallback") {
                out.push_back(*event.field("JIT_TARGET") + ":" + *event.field("JIT_OUTCOME"));
            }
        }
        return out;
    }
    static std::string line(const std::string& outcome, const std::string& user) {
        return "1795670000\t" + outcome + "\tsudo\t" + user +
               "\tjitalice\t\t/dev/pts/1\t0\t0\t\t0\t4294967295\n";
    }

    jit::testing::FakeStore store_;
    jit::testing::FakeClock clock_;
    jit::testing::FakeIdentity identity_;
    SpoolEffects effects_;
    std::unique_ptr<jit::JitService> service_;
    EventPtr event_;
};

TEST_F(FallbackSpoolTest, AuditsEveryOutcomeIncludingExemptAndEmptiesTheSpool) {
    CapturedLog log;
    write_spool(line("allowed", "root") + line("exempt", "breakglass") + "garbage\n" +
                line("unavailable", "postgres"));
    new_spool()->process();
    EXPECT_EQ(audited(), (std::vector<std::string>{"root:allowed", "breakglass:exempt",
                                                   "postgres:unavailable"}));
    EXPECT_EQ(fs::file_size(spool_path()), 0u);
    EXPECT_NE(log.text().find("fallback.log:3: ignoring bad line"), std::string::npos)
        << log.text();
    EXPECT_NE(log.text().find("audited 3 login(s)"), std::string::npos) << log.text();
}

TEST_F(FallbackSpoolTest, RefusesASpoolSomeoneElseCouldHaveWritten) {
    const std::string text = line("allowed", "root");
    auto refused = [&](const std::string& why) {
        CapturedLog log;
        new_spool()->process();
        EXPECT_TRUE(audited().empty()) << why;
        EXPECT_EQ(read(spool_path()), text) << why << ": the file is left as it is";
        EXPECT_NE(log.text().find("not reading pam_jit's fallback log " + spool_path().string() +
                                  ": " + why),
                  std::string::npos)
            << log.text();
    };
    write_spool(text, 0640);
    refused("accessible to group or others");
    write_spool(text, 0604);
    refused("accessible to group or others");
    write_spool(text);
    ASSERT_EQ(chown(spool_path().c_str(), 65534, 0), 0);
    refused("not owned by root");
    ASSERT_EQ(chown(spool_path().c_str(), 0, 0), 0);
    ASSERT_EQ(link(spool_path().c_str(), (dir_ / "other-name").c_str()), 0);
    refused("has 2 links");
    fs::remove(dir_ / "other-name");

    // A symlink is never followed, to whatever it points.
    fs::rename(spool_path(), dir_ / "target");
    fs::create_symlink(dir_ / "target", spool_path());
    CapturedLog log;
    new_spool()->process();
    EXPECT_TRUE(audited().empty());
    EXPECT_EQ(read(dir_ / "target"), text);
    EXPECT_NE(log.text().find("fallback.log: not a regular file"), std::string::npos) << log.text();
}

// A crash between auditing a line and emptying the spool must not audit it again: each line is
// marked as it is audited. A store failure keeps the rest for later, without retrying at once.
TEST_F(FallbackSpoolTest, AuditsEachLineOnceWhenTheStoreFailsHalfWay) {
    effects_.on_audit = [&](const jit::AuditEvent&) { store_.fail_commits = true; };
    const std::string first = line("allowed", "root"), second = line("denied", "postgres"),
                      third = line("exempt", "breakglass");
    write_spool(first + second + third);
    auto spool = new_spool();
    {
        CapturedLog log;
        spool->process();
        EXPECT_NE(log.text().find("fallback.log:2: cannot audit: disk full"), std::string::npos)
            << log.text();
    }
    EXPECT_EQ(audited(), std::vector<std::string>{"root:allowed"});
    EXPECT_EQ(read(spool_path()), "#" + first.substr(1) + second + third);

    effects_.on_audit = nullptr;
    store_.fail_commits = false;
    spool->process();  // its own write to the file echoes back here: no retry yet
    EXPECT_EQ(audited().size(), 1u);
    new_spool()->process();  // later (a new start)
    EXPECT_EQ(audited(),
              (std::vector<std::string>{"root:allowed", "postgres:denied", "breakglass:exempt"}));
    EXPECT_EQ(fs::file_size(spool_path()), 0u);
}

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
    // Runs the loop until `done` or 10 s.
    bool run_until(const std::function<bool()>& done) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) {
                return false;
            }
            sd_event_run(event_.get(), 50 * 1000);
        }
        return true;
    }
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

// --- audit records over the bus ---

// key -> "TYPE:value" of each entry of the a{sv} at the message's read position.
std::map<std::string, std::string> read_typed_dictionary(sd_bus_message* message) {
    std::map<std::string, std::string> entries;
    EXPECT_GT(sd_bus_message_enter_container(message, 'a', "{sv}"), 0);
    while (sd_bus_message_enter_container(message, 'e', "sv") > 0) {
        const char* key = nullptr;
        char type = 0;
        const char* contents = nullptr;
        sd_bus_message_read_basic(message, 's', &key);
        sd_bus_message_peek_type(message, &type, &contents);
        sd_bus_message_enter_container(message, 'v', contents);
        std::string value;
        if (contents[0] == 'x') {
            std::int64_t number = 0;
            sd_bus_message_read_basic(message, 'x', &number);
            value = std::to_string(number);
        } else if (contents[0] == 'b') {
            int flag = 0;
            sd_bus_message_read_basic(message, 'b', &flag);
            value = flag ? "true" : "false";
        } else {
            const char* text = nullptr;
            sd_bus_message_read_basic(message, 's', &text);
            value = text;
        }
        entries[key] = std::string(contents) + ":" + value;
        sd_bus_message_exit_container(message);
        sd_bus_message_exit_container(message);
    }
    sd_bus_message_exit_container(message);
    return entries;
}

TEST(AuditRecord, GivesNumbersAndFlagsTheirTypes) {
    sd_event* raw_event = nullptr;
    ASSERT_GE(sd_event_new(&raw_event), 0);
    EventPtr event(raw_event);
    PeerBuses buses(event.get());
    sd_bus_message* raw = nullptr;
    ASSERT_GE(sd_bus_message_new_method_call(buses.client.get(), &raw, "io.jitd.Jit1",
                                             "/io/jitd/Jit1", "io.jitd.Jit1.Manager", "X"),
              0);
    MessagePtr message(raw);
    jit::AuditEvent requested = event_of("requested", {{"JIT_REQUEST_ID", "3"},
                                                       {"JIT_USER", "alice"},
                                                       {"JIT_REASON", "42"},
                                                       {"JIT_REQUESTED_DURATION", "86400"},
                                                       {"JIT_DURATION", "7200"},
                                                       {"JIT_CAPPED", "true"}});
    jit::AuditEvent denied = event_of("login_denied", {{"JIT_USER", "bob"},
                                                       {"JIT_GRANT_ID", ""},
                                                       {"JIT_SESSION_PID", ""},
                                                       {"JIT_CAPPED", "maybe"}});
    jit::AuditEvent granted = event_of("granted", {{"JIT_GRANT_ID", "4"},
                                                   {"JIT_EXPIRY", "never"},
                                                   {"JIT_SESSION_PID", "4242"},
                                                   {"JIT_DURATION", "12x"}});
    append_records(message.get(), std::vector<jit::AuditEvent>{requested, denied, granted},
                   append_audit_event);
    ASSERT_GE(sd_bus_message_seal(message.get(), 1, 0), 0);
    ASSERT_GE(sd_bus_message_rewind(message.get(), 1), 0);
    ASSERT_GT(sd_bus_message_enter_container(message.get(), 'a', "a{sv}"), 0);

    auto first = read_typed_dictionary(message.get());
    EXPECT_EQ(first["seq"], "x:7");
    EXPECT_EQ(first["event"], "s:requested");
    EXPECT_EQ(first["request_id"], "x:3");
    EXPECT_EQ(first["user"], "s:alice");
    EXPECT_EQ(first["reason"], "s:42");  // text, however it looks
    EXPECT_EQ(first["requested_duration"], "x:86400");
    EXPECT_EQ(first["duration"], "x:7200");
    EXPECT_EQ(first["capped"], "b:true");
    auto second = read_typed_dictionary(message.get());
    EXPECT_EQ(second["grant_id"], "s:");  // none: stays empty text
    EXPECT_EQ(second["session_pid"], "s:");
    EXPECT_EQ(second["capped"], "s:maybe");
    auto third = read_typed_dictionary(message.get());
    EXPECT_EQ(third["grant_id"], "x:4");
    EXPECT_EQ(third["expiry"], "s:never");
    EXPECT_EQ(third["session_pid"], "x:4242");
    EXPECT_EQ(third["duration"], "s:12x");
}

}  // namespace
}  // namespace jitd
