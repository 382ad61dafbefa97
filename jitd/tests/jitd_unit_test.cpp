// jitd's own pieces that need no bus: the fallback spool parser, /proc parsing and walking,
// ending a session by signals, the expiry warning on a session's terminals, audit message ids
// and texts, the snapshot writer and notify_command.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "audit_message_ids.hpp"
#include "fallback_spool.hpp"
#include "jit/error.hpp"
#include "journal_forwarder.hpp"
#include "notifier.hpp"
#include "process_tree.hpp"
#include "session_terminals.hpp"
#include "session_terminator.hpp"
#include "snapshot_writer.hpp"

namespace jitd {
namespace {

namespace fs = std::filesystem;

// --- fallback spool ---

TEST(FallbackLine, ParsesAllFields) {
    auto entry = parse_fallback_line(
        "1795670000\tallowed\tsshd\troot\talice\t10.0.0.9\tpts/3\t4242\t7\tc12");
    EXPECT_EQ(entry.when, 1795670000);
    EXPECT_EQ(entry.outcome, "allowed");
    EXPECT_EQ(entry.attempt.service, "sshd");
    EXPECT_EQ(entry.attempt.user, "root");
    EXPECT_EQ(entry.attempt.ruser, "alice");
    EXPECT_EQ(entry.attempt.rhost, "10.0.0.9");
    EXPECT_EQ(entry.attempt.tty, "pts/3");
    EXPECT_EQ(entry.pid, 4242);
    EXPECT_EQ(entry.grant_id, 7);
    EXPECT_EQ(entry.logind_session, "c12");
}

TEST(FallbackLine, AcceptsEmptyOptionalFieldsAndEveryOutcome) {
    for (const char* outcome : {"allowed", "denied", "open", "unavailable"}) {
        auto entry =
            parse_fallback_line(std::string("1\t") + outcome + "\tsudo\troot\t\t\t\t0\t0\t");
        EXPECT_EQ(entry.outcome, outcome);
        EXPECT_EQ(entry.attempt.ruser, "");
        EXPECT_EQ(entry.attempt.tty, "");
    }
}

TEST(FallbackLine, RejectsMalformedLines) {
    const std::string ok = "\t0\t0\t";  // pid, grant id, logind session
    for (const std::string& line : std::vector<std::string>{
             std::string(), std::string("garbage"),
             "1\tallowed\tsshd\troot\talice\thost\ttty",                   // 7 fields
             "1\tallowed\tsshd\troot\talice\thost\ttty" + ok + "\textra",  // 11 fields
             "x\tallowed\tsshd\troot\talice\thost\ttty" + ok,              // time
             "-5\tallowed\tsshd\troot\talice\thost\ttty" + ok,
             "0\tallowed\tsshd\troot\talice\thost\ttty" + ok,
             "12a\tallowed\tsshd\troot\talice\thost\ttty" + ok,
             "1\tmaybe\tsshd\troot\talice\thost\ttty" + ok,                     // outcome
             "1\tallowed\tSSH D\troot\talice\thost\ttty" + ok,                  // service
             "1\tallowed\tsshd\t\talice\thost\ttty" + ok,                       // empty user
             "1\tallowed\tsshd\tro\x01ot\talice\thost\ttty" + ok,               // control character
             std::string("1\tallowed\tsshd\troot\talice\thost\ttty\t-1\t0\t"),  // pid
             std::string("1\tallowed\tsshd\troot\talice\thost\ttty\t1\tx\t"),   // grant
             std::string("1\tallowed\tsshd\troot\talice\thost\ttty\t\t0\t"),    // empty pid
         }) {
        EXPECT_THROW(parse_fallback_line(line), jit::JitError) << line;
    }
    EXPECT_THROW(parse_fallback_line("1\tallowed\tsshd\troot\talice\t" + std::string(300, 'h') +
                                     "\ttty" + ok),
                 jit::JitError);
}

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
        found = session_processes(child, now);
        return found.processes.size() == 2;
    }));
    EXPECT_EQ(found.root, SessionProcesses::Root::Running);
    EXPECT_EQ(found.processes[0].pid, child);
    EXPECT_EQ(session_processes(child, 0).root, SessionProcesses::Root::Running);
    found = session_processes(child, now - 60);  // opened before this process existed
    EXPECT_EQ(found.root, SessionProcesses::Root::Reused);
    EXPECT_TRUE(found.processes.empty());

    auto grandchild = process_and_descendants(child).at(1).pid;
    kill(grandchild, SIGKILL);
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    found = session_processes(child, now);
    EXPECT_EQ(found.root, SessionProcesses::Root::Gone);
    EXPECT_TRUE(found.processes.empty());
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

// --- the expiry warning on a session's terminals ---

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

TEST(SessionTerminals, WarnsNobodyWithoutAProcessOrTerminal) {
    jit::Session session;
    session.tty = "ssh";
    EXPECT_TRUE(write_to_session_terminals(session, "x").empty());
    session.tty = "/dev/null";  // a character device, but no terminal
    EXPECT_TRUE(write_to_session_terminals(session, "x").empty());
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

jit::AuditEvent event(std::string type, std::vector<std::pair<std::string, std::string>> fields) {
    jit::AuditEvent e;
    e.seq = 7;
    e.event = std::move(type);
    e.fields = std::move(fields);
    return e;
}

TEST(AuditJournalMessage, SaysWhatHappenedInWords) {
    EXPECT_EQ(audit_journal_message(event("requested", {{"JIT_USER", "alice"},
                                                        {"JIT_RESOURCE", "prod-db"},
                                                        {"JIT_REASON", "fix it"},
                                                        {"JIT_REQUESTED_DURATION", "86400"},
                                                        {"JIT_DURATION", "7200"},
                                                        {"JIT_CAPPED", "true"}})),
              "alice requested access to prod-db for 2h (capped from 1d): fix it");
    EXPECT_EQ(audit_journal_message(event("granted", {{"JIT_REQUEST_ID", "3"},
                                                      {"JIT_GRANT_ID", "4"},
                                                      {"JIT_USER", "alice"},
                                                      {"JIT_RESOURCE", "prod-db"},
                                                      {"JIT_EXPIRY", ""}})),
              "alice was granted access to prod-db until revoked (grant 4, request 3)");
    EXPECT_EQ(audit_journal_message(event("login_denied", {{"JIT_USER", "bob"},
                                                           {"JIT_TARGET", "root"},
                                                           {"JIT_SERVICE", "sshd"},
                                                           {"JIT_RHOST", ""},
                                                           {"JIT_RESOURCE", "prod-db"}})),
              "denied login of bob via sshd as root: no access to prod-db");
    EXPECT_EQ(audit_journal_message(event("mystery", {{"JIT_X", "1"}})),
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

    writer.write(index, 1900000000);
    EXPECT_EQ(read(writer.path()), jit::serialize_snapshot(index, 1900000000));
    struct stat st {};
    ASSERT_EQ(stat(writer.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    ASSERT_EQ(stat(writer.directory().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0755u);

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

TEST_F(SnapshotWriterTest, FailsWithThePathWhenTheDirectoryCannotBeMade) {
    std::ofstream(dir_ / "file") << "x";
    SnapshotWriter writer((dir_ / "file/snapshot").string());
    try {
        writer.write(jit::AccessIndex{}, 1);
        FAIL() << "no error";
    } catch (const jit::JitError& e) {
        EXPECT_NE(std::string(e.what()).find((dir_ / "file").string()), std::string::npos);
    }
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
