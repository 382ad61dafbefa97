// SPDX-License-Identifier: Apache-2.0
// jitd.conf(5): defaults, every key, and a FILE:LINE message for every mistake.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "jit/config.hpp"
#include "jit/error.hpp"
#include "rejection.hpp"
#include "temp_dir.hpp"

namespace jit {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace std::string_literals;

std::string parse_error(const std::string& text) {
    return testing::rejection_of([&] { return parse_config(text, "t.conf"); }, text);
}

std::string load_error(const std::string& path, bool allow_missing) {
    return testing::rejection_of([&] { return load_config(path, allow_missing); }, path);
}

void expect_defaults(const Config& config) {
    const Config defaults;
    EXPECT_EQ(config.database, "/var/lib/jitd/jit.db");
    EXPECT_EQ(config.snapshot, "/var/lib/jitd/snapshot");
    EXPECT_THAT(config.admin_groups, ElementsAre("jit-admin"));
    EXPECT_THAT(config.auditor_groups, ElementsAre("jit-audit"));
    EXPECT_EQ(config.min_duration, 60);
    EXPECT_EQ(config.max_duration_limit, 30 * 86400);
    EXPECT_EQ(config.kill_grace, defaults.kill_grace);
    EXPECT_EQ(config.warn_before, 300);
    EXPECT_EQ(config.notify_command, "");
    EXPECT_EQ(config.notify_timeout, defaults.notify_timeout);
}

// A scratch directory under TMPDIR, removed with its files at the end of the test.
class ConfigFileTest : public ::testing::Test {
  protected:
    std::string write_file(const std::string& name, const std::string& text) {
        std::string path = dir_ + "/" + name;
        int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        EXPECT_GE(fd, 0) << path;
        EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
        close(fd);
        return path;
    }

    testing::TempDir temp_{"jit-config"};
    std::string dir_ = temp_.path();
};

TEST(ParseConfig, EmptyTextGivesTheDefaults) {
    expect_defaults(parse_config("", "t.conf"));
    expect_defaults(parse_config("# nothing set\n\n[daemon]\n; still nothing\n", "t.conf"));
}

TEST(ParseConfig, ReadsEveryKey) {
    Config config = parse_config(R"(# jitd.conf
[daemon]
database = /srv/jit/jit.db
snapshot=/run/jit/snap
admin_groups = wheel , ops,sre
auditor_groups = audit
min_duration = 5min
max_duration_limit = 7d
kill_grace = 2s
warn_before = 10 min
notify_command = /usr/local/bin/jit-notify --to ops@example.com
notify_timeout = 1min 30s
)",
                                 "t.conf");
    EXPECT_EQ(config.database, "/srv/jit/jit.db");
    EXPECT_EQ(config.snapshot, "/run/jit/snap");
    EXPECT_THAT(config.admin_groups, ElementsAre("wheel", "ops", "sre"));
    EXPECT_THAT(config.auditor_groups, ElementsAre("audit"));
    EXPECT_EQ(config.min_duration, 300);
    EXPECT_EQ(config.max_duration_limit, 7 * 86400);
    EXPECT_EQ(config.kill_grace, 2);
    EXPECT_EQ(config.warn_before, 600);
    EXPECT_EQ(config.notify_command, "/usr/local/bin/jit-notify --to ops@example.com");
    EXPECT_EQ(config.notify_timeout, 90);
}

TEST(ParseConfig, WarnBeforeZeroTurnsTheWarningOff) {
    EXPECT_EQ(parse_config("[daemon]\nwarn_before = 0\n", "t.conf").warn_before, 0);
}

TEST(ParseConfig, EmptyGroupListMeansNoSuchGroup) {
    Config config = parse_config("[daemon]\nadmin_groups =\nauditor_groups = \n", "t.conf");
    EXPECT_THAT(config.admin_groups, IsEmpty());
    EXPECT_THAT(config.auditor_groups, IsEmpty());
}

TEST(ParseConfig, ToleratesCommentsIndentationAndCrlf) {
    Config config = parse_config(
        "\xef\xbb\xbf; written on Windows\r\n[daemon]\r\n  min_duration = 2min ; two minutes\r\n"
        "\t# indented comment\r\n    kill_grace = 5s\r\n",
        "t.conf");
    EXPECT_EQ(config.min_duration, 120);
    EXPECT_EQ(config.kill_grace, 5);
}

TEST(ParseConfig, AcceptsTheLongestLineThatFits) {
    std::string command = "/bin/notify " + std::string(198 - 17 - 12, 'a');
    std::string line = "notify_command = " + command;
    ASSERT_EQ(line.size(), 198u);
    EXPECT_EQ(parse_config("[daemon]\n" + line + "\n", "t.conf").notify_command, command);
    EXPECT_EQ(parse_error("[daemon]\n" + line + "a\n"), "t.conf:2: line longer than 198 bytes");
}

// The cases' problems are what the error starts with.
using BadConfig = testing::BadInput;

// Found by fuzz/config_fuzzer: a long key whose escapes and cut added up to its own length was
// taken for plain and went into the error raw, control characters and all.
TEST(ParseConfig, QuotesALongKeyWithEscapes) {
    // Quoted: 64 bytes shown, 63 of them escaped, and "...": exactly as long as the key + 2.
    const std::string key = "k" + std::string(63, '"') + std::string(66, '\x19');
    const std::string error = parse_error("[daemon]\n" + key + " = 1\n");
    EXPECT_EQ(error.rfind("t.conf:2: key \"k\\\"\\\"", 0), 0u) << error;
    EXPECT_EQ(error.find('\x19'), std::string::npos) << error;
}

TEST(ParseConfig, RejectsMistakesWithFileLineAndKey) {
    const BadConfig cases[] = {
        {"[daemon]\nfoo = 1\n", "t.conf:2: key 'foo': unknown key (known keys: database, "},
        {"[daemon]\nDatabase = /x\n", "t.conf:2: key 'Database': unknown key"},
        {"[daemon]\nmin_duration = 5x\n",
         "t.conf:2: key 'min_duration': invalid duration \"5x\": unknown unit \"x\""},
        {"[daemon]\n\nmin_duration = 1min\nmin_duration = 2min\n",
         "t.conf:4: key 'min_duration': set twice (first on line 3)"},
        {"database = /x\n",
         "t.conf:1: key 'database': outside any section (put it under [daemon])"},
        {"[other]\nx = 1\n",
         "t.conf:1: unknown section \"other\" (jitd.conf has [daemon] and [store])"},
        {"[daemon]\nmin_duration = 1min\n[Daemon]\n", "t.conf:3: unknown section \"Daemon\""},
        {"[daemon]\nmax_duration_limit = 30s\n",
         "t.conf:2: key 'max_duration_limit': 30s is shorter than min_duration (1min)"},
        {"[daemon]\nmin_duration = 31d\n",
         "t.conf:2: key 'min_duration': 31d is longer than max_duration_limit (30d)"},
        {"[daemon]\nmax_duration_limit = 1h\n# c\nmin_duration = 2h\n",
         "t.conf:2: key 'max_duration_limit': 1h is shorter than min_duration (2h)"},
        {"[daemon]\ndatabase = jit.db\n",
         "t.conf:2: key 'database': must be an absolute path, got \"jit.db\""},
        {"[daemon]\nsnapshot = \"/var/lib/jitd/snapshot\"\n",
         "t.conf:2: key 'snapshot': must be an absolute path"},
        {"[daemon]\ndatabase =\n", "t.conf:2: key 'database': must be an absolute path"},
        {"[daemon]\nadmin_groups = wheel,,ops\n", "t.conf:2: key 'admin_groups': empty group name"},
        {"[daemon]\nadmin_groups = wheel,\n", "t.conf:2: key 'admin_groups': empty group name"},
        {"[daemon]\nauditor_groups = Audit\n",
         "t.conf:2: key 'auditor_groups': invalid group name \"Audit\""},
        {"[daemon]\nadmin_groups = @jit-admin\n",
         "t.conf:2: key 'admin_groups': invalid group name \"@jit-admin\""},
        {"[daemon]\nkill_grace = 0\n", "t.conf:2: key 'kill_grace': invalid duration \"0\""},
        {"[daemon]\nwarn_before = -5min\n",
         "t.conf:2: key 'warn_before': invalid duration \"-5min\": negative"},
        {"[daemon]\nnotify_timeout = 10\n",
         "t.conf:2: key 'notify_timeout': invalid duration \"10\": missing unit after 10"},
        {"[daemon]\nmin_duration = 0s\n", "t.conf:2: key 'min_duration': invalid duration"},
        {"[daemon]\nmax_duration_limit = 36501d\n",
         "t.conf:2: key 'max_duration_limit': invalid duration"},
        {"[daemon]\nnotify_command = /bin/x\x01y\n",
         "t.conf:2: key 'notify_command': contains control characters"},
        {"[daemon]\njust some words\n",
         "t.conf:2: expected 'key = value', a [section] or a comment"},
        {"[daemon\nmin_duration = 1min\n", "t.conf:1: expected 'key = value'"},
        {"[daemon]\nsnapshot = /run/x\n  continued\n", "t.conf:3: expected 'key = value'"},
        {"[daemon]\nbad line\nfoo = 1\n", "t.conf:2: expected 'key = value'"},
        {"[daemon]\nfoo = 1\nbad line\n", "t.conf:2: key 'foo': unknown key"},
        {"[daemon]\nmin_duration = 1\0min\n"s, "t.conf:2: line contains a NUL byte"},
        {"[daemon]\nnotify_command = " + std::string(300, 'x') + "\n",
         "t.conf:2: line longer than 198 bytes"},
        {"[daemon]\nf\x1b[0m = 1\n", "t.conf:2: key \"f\\x1b[0m\": unknown key"},
        {"[daemon]\nhost =\n", "t.conf:2: key 'host': invalid host name \"\": must have 1 to 253"},
        {"[daemon]\nhost = web_1\n", "t.conf:2: key 'host': invalid host name \"web_1\""},
        {"[daemon]\nhost = -web\n", "t.conf:2: key 'host': invalid host name \"-web\""},
    };
    testing::expect_rejections(cases, parse_error, testing::starts_with);
}

TEST(ParseConfig, ReviewPathsAreAbsoluteWithWildcardsLast) {
    EXPECT_THAT(parse_config("", "t.conf").review_paths, IsEmpty());
    Config config = parse_config(
        "[daemon]\nreview_paths = /etc/ssh/sshd_config.d/*, /opt/app/keys\n", "t.conf");
    EXPECT_THAT(config.review_paths, ElementsAre("/etc/ssh/sshd_config.d/*", "/opt/app/keys"));
    EXPECT_THROW(parse_config("[daemon]\nreview_paths = etc/x\n", "t.conf"), JitError);
    EXPECT_THROW(parse_config("[daemon]\nreview_paths = /home/*/x\n", "t.conf"), JitError);
}

TEST(ParseConfig, HostNamesTheHostInAuditEvents) {
    EXPECT_EQ(parse_config("[daemon]\nhost = db-1.example.org\n", "t.conf").host,
              "db-1.example.org");
    EXPECT_EQ(parse_config("", "t.conf").host, "");  // load_config fills in the machine's
}

TEST(ParseConfig, StoreSectionChoosesTheBackend) {
    EXPECT_EQ(parse_config("", "t.conf").store_backend, StoreBackend::Sqlite);
    const Config fleet = parse_config(
        "[daemon]\nhost = web-3\n[store]\nbackend = postgresql\nurl = host=/run/pg dbname=jit\n",
        "t.conf");
    EXPECT_EQ(fleet.store_backend, StoreBackend::Postgresql);
    EXPECT_EQ(fleet.store_url, "host=/run/pg dbname=jit");
    EXPECT_EQ(fleet.host, "web-3");
    EXPECT_EQ(parse_config("[store]\nbackend = sqlite\n", "t.conf").store_backend,
              StoreBackend::Sqlite);
}

TEST(ParseConfig, StoreMistakesAreNamed) {
    const BadConfig cases[] = {
        {"[store]\nbackend = mysql\n",
         "t.conf:2: key 'backend': must be sqlite or postgresql, got \"mysql\""},
        {"[store]\nbackend = postgresql\n",
         "t.conf:2: key 'backend': postgresql needs url in [store]"},
        {"[store]\nurl = dbname=jit\n", "t.conf:2: key 'url': only for backend = postgresql"},
        {"[store]\nurl =\n", "t.conf:2: key 'url': must be a libpq connection string"},
        {"[store]\nhost = x\n", "t.conf:2: key 'host': unknown key (known keys: backend, url)"},
        {"[daemon]\nbackend = postgresql\n", "t.conf:2: key 'backend': unknown key"},
    };
    testing::expect_rejections(cases, parse_error, testing::starts_with);
}

TEST_F(ConfigFileTest, HostDefaultsToTheMachinesName) {
    const std::string machine = machine_host_name();
    EXPECT_FALSE(machine.empty());
    EXPECT_EQ(load_config(write_file("jitd.conf", "[daemon]\n"), false).host, machine);
    EXPECT_EQ(load_config(dir_ + "/absent.conf", true).host, machine);
    EXPECT_EQ(load_config(write_file("set.conf", "[daemon]\nhost = h1\n"), false).host, "h1");
}

TEST_F(ConfigFileTest, LoadsAFile) {
    std::string path = write_file("jitd.conf", "[daemon]\nkill_grace = 3s\n");
    EXPECT_EQ(load_config(path, false).kill_grace, 3);
}

TEST_F(ConfigFileTest, ErrorsNameTheFileAndLine) {
    std::string path = write_file("jitd.conf", "[daemon]\n\n\nkill_grace = soon\n");
    std::string message = load_error(path, true);
    EXPECT_EQ(message.rfind(path + ":4: key 'kill_grace': invalid duration \"soon\"", 0), 0u)
        << message;
}

TEST_F(ConfigFileTest, MissingFileGivesDefaultsOnlyWhenAllowed) {
    std::string path = dir_ + "/absent.conf";
    expect_defaults(load_config(path, true));
    std::string message = load_error(path, false);
    EXPECT_EQ(message, path + ": cannot read configuration: No such file or directory");
}

TEST_F(ConfigFileTest, DirectoryIsAnError) {
    std::string message = load_error(dir_, true);
    EXPECT_EQ(message, dir_ + ": cannot read configuration: Is a directory");
}

TEST_F(ConfigFileTest, UnopenableFileIsAnErrorEvenWhenMissingIsAllowed) {
    // A symlink loop: open() fails with ELOOP for root too, unlike a mode-000 file.
    std::string path = dir_ + "/loop.conf";
    ASSERT_EQ(symlink(path.c_str(), path.c_str()), 0);
    std::string message = load_error(path, true);
    EXPECT_EQ(message, path + ": cannot read configuration: Too many levels of symbolic links");
}

}  // namespace
}  // namespace jit

namespace jit {
namespace {

TEST(ConfigLimitsTest, DefaultsAndValues) {
    const Config defaults;
    EXPECT_FALSE(defaults.root_approves);
    EXPECT_EQ(defaults.max_pending_per_user, 5);
    EXPECT_EQ(defaults.requests_per_hour, 30);
    Config c = parse_config(
        "[daemon]\nroot_approves = yes\nmax_pending_per_user = 2\nrequests_per_hour = 0\n",
        "t.conf");
    EXPECT_TRUE(c.root_approves);
    EXPECT_EQ(c.max_pending_per_user, 2);
    EXPECT_EQ(c.requests_per_hour, 0);
    EXPECT_FALSE(parse_config("[daemon]\nroot_approves = no\n", "t.conf").root_approves);
}

TEST(ConfigLimitsTest, BadValuesNameTheKey) {
    for (const char* text :
         {"[daemon]\nroot_approves = maybe\n", "[daemon]\nmax_pending_per_user = -1\n",
          "[daemon]\nrequests_per_hour = 10x\n", "[daemon]\nrequests_per_hour = 99999999\n",
          "[daemon]\nmax_pending_per_user =\n"}) {
        try {
            parse_config(text, "t.conf");
            ADD_FAILURE() << "accepted:\n" << text;
        } catch (const JitError& error) {
            EXPECT_EQ(error.code(), ErrorCode::InvalidInput);
            EXPECT_THAT(error.what(), ::testing::HasSubstr("t.conf:2: key '"));
        }
    }
}

}  // namespace
}  // namespace jit
