// SPDX-License-Identifier: Apache-2.0
// The snapshot writer: atomic, root-only, keeps the old snapshot when it cannot write a new one.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "jit/error.hpp"
#include "jitd_test_support.hpp"
#include "snapshot_writer.hpp"

namespace jitd {
namespace {

namespace fs = std::filesystem;

// --- snapshot ---

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

}  // namespace
}  // namespace jitd
