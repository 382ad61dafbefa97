// jitd's own pieces that need no bus: the fallback spool parser, /proc parsing and walking,
// audit message ids and texts, the snapshot writer and notify_command.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
