// SPDX-License-Identifier: Apache-2.0
// What only the SQLite store has, against real files in a temporary directory: a step failing
// inside SQLite, schema migration, a writer killed mid-transaction, and a second connection to
// the same file. The Store contract both backends keep is tested in store_backends_test.cpp,
// the SQLite audit log's tamper detection in store_audit_test.cpp.

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "store_test_support.hpp"

namespace jit {
namespace {

using namespace store_test;

TEST_F(StoreTest, FailedStepPoisonsTheTransaction) {
    auto store = open();
    // A trigger makes the third list row of the resource fail, after its first writes.
    RawDatabase(path_).exec(
        "CREATE TRIGGER refuse_boom BEFORE INSERT ON resource_lists WHEN NEW.value = 'boom' "
        "BEGIN SELECT RAISE(ABORT, 'boom refused'); END");
    Resource resource = sample_resource();
    resource.policy.clear();
    resource.members = {"boom"};
    {
        auto transaction = store->begin();
        transaction->append(requested(100, "alice", "db"));
        EXPECT_THROW(transaction->put(resource), JitError);
        resource.members.clear();
        try {
            transaction->put(resource);
            FAIL() << "a poisoned transaction accepted another step";
        } catch (const JitError& error) {
            EXPECT_THAT(error.what(), HasSubstr("an earlier step of this transaction failed"));
        }
        EXPECT_THROW(transaction->commit(), JitError);
    }
    StoredState loaded = store->load();
    EXPECT_TRUE(loaded.resources.empty());
    EXPECT_EQ(loaded.last_audit_seq, 0);
    // The store itself is fine afterwards.
    auto transaction = store->begin();
    transaction->put(resource);
    transaction->commit();
    EXPECT_THAT(store->load().resources, ElementsAre(resource));
}

TEST_F(StoreTest, MigratesAnEmptyFileToTheCurrentSchema) {
    std::ofstream(path_).close();  // an existing, empty file
    ASSERT_TRUE(std::filesystem::exists(path_));
    open();
    RawDatabase raw(path_);
    EXPECT_EQ(raw.integer("PRAGMA user_version"), kSchemaVersion);
    EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
    EXPECT_EQ(raw.integer("SELECT count(*) FROM sqlite_master WHERE type = 'table'"), 13);
    open();  // a second open finds the schema current and changes nothing
    EXPECT_EQ(raw.integer("PRAGMA user_version"), kSchemaVersion);
}

TEST_F(StoreTest, MigratesAVersion1DatabaseKeepingItsRows) {
    {
        RawDatabase raw(path_);
        raw.exec(jit::sqlite::kSchemaV1);
        raw.exec("PRAGMA user_version = 1");
        raw.exec(
            "INSERT INTO policies VALUES ('old', '', 'require-approval', 1, 3600, 1, 3600, 1)");
        raw.exec(
            "INSERT INTO requests (id, resource, requester, policy, reason, "
            "requested_duration, duration, capped, state, created, expires, "
            "approvals_required, auto_expiry) VALUES "
            "(1, 'r', 'alice', 'old', 'x', 60, 60, 0, 'approved', 1, 2, 1, 1)");
        raw.exec(
            "INSERT INTO grants (id, request_id, user_name, resource, start, state, ended_by) "
            "VALUES (1, 1, 'alice', 'r', 1, 'active', '')");
        raw.exec(
            "INSERT INTO sessions (id, grant_id, user_name, target, service, rhost, tty, "
            "pid, logind_session, opened, state) VALUES "
            "(1, 1, 'alice', 'root', 'sudo', '', '', 77, '', 1, 'open')");
    }
    StoredState state = open()->load();
    RawDatabase raw(path_);
    EXPECT_EQ(raw.integer("PRAGMA user_version"), kSchemaVersion);
    ASSERT_EQ(state.policies.size(), 1u);
    ASSERT_EQ(state.sessions.size(), 1u);
    EXPECT_EQ(state.sessions[0].pid, 77);
    EXPECT_EQ(state.sessions[0].pid_start, 0);  // unknown for sessions from before v2
    EXPECT_EQ(state.sessions[0].boot_id, "");
    EXPECT_EQ(state.sessions[0].cgroup, "");  // no group of its own before v3
}

TEST_F(StoreTest, RefusesASchemaNewerThanItKnows) {
    {
        RawDatabase raw(path_);
        raw.exec("PRAGMA user_version = 99");
    }
    try {
        open();
        FAIL() << "opened a database from the future";
    } catch (const JitError& error) {
        EXPECT_EQ(error.code(), ErrorCode::Internal);
        EXPECT_THAT(error.what(), HasSubstr(path_ + ": schema migration failed"));
        EXPECT_THAT(error.what(), HasSubstr("99"));
    }
    RawDatabase raw(path_);
    EXPECT_EQ(raw.integer("PRAGMA user_version"), 99);
}

TEST_F(StoreTest, ReportsAnUnopenableFileWithItsPath) {
    const std::string missing = dir_.path() + "/no/such/dir/jit.db";
    try {
        open_sqlite_store(missing);
        FAIL() << "opened a file in a missing directory";
    } catch (const JitError& error) {
        EXPECT_EQ(error.code(), ErrorCode::Internal);
        EXPECT_THAT(error.what(), HasSubstr(missing + ": open failed: "));
    }
}

// The child's side of the crash test: a big transaction that spills into the WAL file, then
// a byte on the pipe, then waiting for SIGKILL. Never returns.
[[noreturn]] void write_until_killed(const std::string& path, int ready_fd) {
    try {
        auto store = open_sqlite_store(path);
        auto transaction = store->begin();
        Request request = sample_request();
        request.reason.assign(400, 'x');
        for (int i = 0; i < 4000; ++i) {
            Resource resource = sample_resource();
            resource.name = "doomed-" + std::to_string(i);
            resource.policy.clear();
            transaction->put(resource);
            transaction->put(request);
            transaction->append(requested(2000 + i, "alice", resource.name));
        }
        if (write(ready_fd, "x", 1) != 1) {
            _exit(3);
        }
        for (;;) {
            pause();
        }
    } catch (...) {
        _exit(2);  // the parent sees the pipe close without a byte
    }
}

TEST_F(StoreTest, WriterKilledMidTransactionLeavesNoPartialState) {
    StoredState before;
    {
        auto store = open();
        append_events(*store, 3);
        auto transaction = store->begin();
        Resource resource = sample_resource();
        resource.policy.clear();
        transaction->put(resource);
        transaction->commit();
        before = store->load();
    }
    const std::string wal = path_ + "-wal";
    const auto wal_size = [&wal] {
        struct stat status {};
        return stat(wal.c_str(), &status) == 0 ? status.st_size : 0;
    };
    const auto committed_wal_size = wal_size();

    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    pid_t child = fork();
    ASSERT_NE(child, -1);
    if (child == 0) {
        close(ready[0]);
        write_until_killed(path_, ready[1]);
    }
    close(ready[1]);
    char byte = 0;
    const ssize_t got = read(ready[0], &byte, 1);
    close(ready[0]);
    // Uncommitted pages reached the WAL file: the crash leaves real debris behind.
    const auto crashed_wal_size = wal_size();
    kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_EQ(got, 1) << "the child failed before its transaction was big (exit status " << status
                      << ")";
    ASSERT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(WTERMSIG(status), SIGKILL);
    EXPECT_GT(crashed_wal_size, committed_wal_size);

    auto store = open();
    StoredState after = store->load();
    EXPECT_EQ(after.resources, before.resources);
    EXPECT_TRUE(after.requests.empty());
    EXPECT_EQ(after.last_audit_seq, 3);
    EXPECT_EQ(after.last_audit_hash, before.last_audit_hash);
    AuditVerification verification = store->verify_audit();
    EXPECT_TRUE(verification.ok) << verification.problem;
    EXPECT_EQ(verification.rows_checked, 3);

    // The chain goes on from the last committed row.
    EXPECT_EQ(append_events(*store, 1).front().seq, 4);
    EXPECT_TRUE(store->verify_audit().ok);
}

TEST_F(StoreTest, SecondConnectionReadsWhileTheFirstWrites) {
    auto first = open();
    auto second = open();
    Resource resource = sample_resource();
    resource.policy.clear();

    auto transaction = first->begin();
    // begin() took the write lock: another writer (here without a busy timeout) is refused.
    EXPECT_THROW(RawDatabase(path_).exec("INSERT INTO meta VALUES ('x', 'y')"), std::runtime_error);
    transaction->put(resource);
    AuditEvent row1 = transaction->append(requested(100, "alice", "db"));
    // WAL: the reader neither blocks on the open write transaction nor sees it.
    EXPECT_TRUE(second->load().resources.empty());
    EXPECT_TRUE(second->audit_events({}).empty());
    EXPECT_TRUE(second->verify_audit().ok);
    transaction->commit();

    StoredState seen = second->load();
    EXPECT_THAT(seen.resources, ElementsAre(resource));
    EXPECT_EQ(seen.last_audit_seq, 1);

    // Both connections append to the one chain; each reads the head under the write lock.
    {
        auto other = second->begin();
        AuditEvent row2 = other->append(requested(200, "bob", "db"));
        EXPECT_EQ(row2.seq, 2);
        EXPECT_EQ(row2.prev_hash, row1.hash);
        other->commit();
    }
    EXPECT_EQ(append_events(*first, 1).front().seq, 3);
    AuditVerification verification = first->verify_audit();
    EXPECT_TRUE(verification.ok) << verification.problem;
    EXPECT_EQ(verification.rows_checked, 3);
}

}  // namespace
}  // namespace jit
