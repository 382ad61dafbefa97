// SPDX-License-Identifier: Apache-2.0
// The SQLite store against real files in a temporary directory: round trips, ids, rollback,
// schema migration, a writer killed mid-transaction, and a second connection to the same file.
// The audit log's tests are in store_audit_test.cpp.

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "store_test_support.hpp"

namespace jit {
namespace {

using namespace store_test;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST_F(StoreTest, RoundTripsEveryEntityWithOptionalsAndApprovals) {
    Resource plain;  // no policy, empty lists
    plain.name = "backup";
    Request open_request;  // every optional unset
    open_request.resource = "backup";
    open_request.requester = "erin";
    open_request.policy = "ops";
    open_request.reason = "restore";
    open_request.created = 1'790'000'000;
    open_request.expires = 1'790'003'600;

    StoredState written;
    {
        auto store = open();
        auto transaction = store->begin();
        written.policies = {sample_policy()};
        written.resources = {plain, sample_resource()};  // loaded by name
        for (const Policy& policy : written.policies) {
            transaction->put(policy);
        }
        for (const Resource& resource : written.resources) {
            transaction->put(resource);
        }

        Request request = sample_request();
        request.id = transaction->put(request);
        Grant grant = sample_grant(request.id);
        grant.id = transaction->put(grant);
        request.grant_id = grant.id;
        EXPECT_EQ(transaction->put(request), request.id);
        open_request.id = transaction->put(open_request);

        Grant endless = sample_grant(open_request.id);  // no expiry, still active
        endless.expiry.reset();
        endless.ended.reset();
        endless.state = GrantState::Active;
        endless.ended_by.clear();
        endless.id = transaction->put(endless);

        Session closed = sample_session(grant.id);
        closed.id = transaction->put(closed);
        Session live = sample_session(endless.id);
        live.closed.reset();
        live.state = SessionState::Open;
        live.id = transaction->put(live);

        written.requests = {request, open_request};
        written.grants = {grant, endless};
        written.sessions = {closed, live};
        transaction->commit();

        StoredState loaded = store->load();
        EXPECT_EQ(loaded.resources, written.resources);
        EXPECT_EQ(loaded.policies, written.policies);
        EXPECT_EQ(loaded.requests, written.requests);
        EXPECT_EQ(loaded.grants, written.grants);
        EXPECT_EQ(loaded.sessions, written.sessions);
    }

    auto reopened = open();
    StoredState loaded = reopened->load();
    EXPECT_EQ(loaded.resources, written.resources);
    EXPECT_EQ(loaded.policies, written.policies);
    EXPECT_EQ(loaded.requests, written.requests);
    EXPECT_EQ(loaded.grants, written.grants);
    EXPECT_EQ(loaded.sessions, written.sessions);
    EXPECT_FALSE(loaded.requests[1].decided.has_value());
    EXPECT_FALSE(loaded.requests[1].grant_id.has_value());
    EXPECT_FALSE(loaded.grants[1].expiry.has_value());
    EXPECT_FALSE(loaded.sessions[1].closed.has_value());

    // Optionals are NULL in the file, not zero.
    RawDatabase raw(path_);
    EXPECT_EQ(raw.integer("SELECT count(*) FROM requests WHERE decided IS NULL"), 1);
    EXPECT_EQ(raw.integer("SELECT count(*) FROM grants WHERE expiry IS NULL"), 1);
    EXPECT_EQ(raw.integer("SELECT count(*) FROM resources WHERE policy IS NULL"), 1);
}

TEST_F(StoreTest, AssignsIdsAndUpsertsKnownOnes) {
    auto store = open();
    Request request = sample_request();
    {
        auto transaction = store->begin();
        EXPECT_EQ(transaction->put(request), 1);
        EXPECT_EQ(transaction->put(request), 2);
        request.id = 10;  // a known id that is not stored yet is inserted under it
        EXPECT_EQ(transaction->put(request), 10);
        request.id = 0;
        EXPECT_EQ(transaction->put(request), 11);
        transaction->commit();
    }
    {
        auto transaction = store->begin();
        request.id = 2;
        request.state = RequestState::Denied;
        request.approvals = {{"carol", Decision::Deny, "no", 1'790'000'100}};
        EXPECT_EQ(transaction->put(request), 2);
        transaction->commit();
    }
    StoredState loaded = store->load();
    ASSERT_EQ(loaded.requests.size(), 4u);
    EXPECT_EQ(loaded.requests[1], request);
    EXPECT_EQ(loaded.requests[0].approvals.size(), 2u);
    EXPECT_EQ(loaded.requests[1].approvals.size(), 1u);

    // Policies and resources upsert by name, replacing their lists.
    Policy policy = sample_policy();
    Resource resource = sample_resource();
    {
        auto transaction = store->begin();
        transaction->put(policy);
        transaction->put(resource);
        policy.approvers = {"zed"};
        policy.active = false;
        resource.members = {"frank"};
        resource.services.clear();
        transaction->put(policy);
        transaction->put(resource);
        transaction->commit();
    }
    loaded = store->load();
    EXPECT_THAT(loaded.policies, ElementsAre(policy));
    EXPECT_THAT(loaded.resources, ElementsAre(resource));
}

TEST_F(StoreTest, RemovesResourcesAndPoliciesWithTheirLists) {
    auto store = open();
    Resource resource = sample_resource();
    {
        auto transaction = store->begin();
        transaction->put(sample_policy());
        transaction->put(resource);
        transaction->commit();
    }
    {
        auto transaction = store->begin();
        transaction->remove_resource(resource.name);
        transaction->remove_policy("ops");
        transaction->remove_resource("never-existed");
        transaction->commit();
    }
    StoredState loaded = store->load();
    EXPECT_TRUE(loaded.resources.empty());
    EXPECT_TRUE(loaded.policies.empty());
    RawDatabase raw(path_);
    EXPECT_EQ(raw.integer("SELECT count(*) FROM resource_lists"), 0);
    EXPECT_EQ(raw.integer("SELECT count(*) FROM policy_approvers"), 0);
}

TEST_F(StoreTest, TransactionWithoutCommitLeavesNothing) {
    auto store = open();
    {
        auto transaction = store->begin();
        transaction->put(sample_policy());
        transaction->put(sample_resource());
        transaction->put(sample_request());
        transaction->append(requested(100, "alice", "db"));
    }
    StoredState loaded = store->load();
    EXPECT_TRUE(loaded.resources.empty());
    EXPECT_TRUE(loaded.policies.empty());
    EXPECT_TRUE(loaded.requests.empty());
    EXPECT_EQ(loaded.last_audit_seq, 0);
    EXPECT_EQ(loaded.last_audit_hash, "");
    EXPECT_TRUE(store->audit_events({}).empty());

    // The rolled-back row left no trace in the chain: the next one is row 1 again.
    auto transaction = store->begin();
    AuditEvent first = transaction->append(requested(100, "alice", "db"));
    EXPECT_EQ(first.seq, 1);
    EXPECT_EQ(first.prev_hash, "");
    Request request = sample_request();
    EXPECT_EQ(transaction->put(request), 1);
}

TEST_F(StoreTest, DanglingReferenceFailsTheCommitAndRollsBack) {
    auto store = open();
    {
        auto transaction = store->begin();
        Resource resource = sample_resource();
        resource.policy = "no-such-policy";
        transaction->put(resource);
        transaction->append(requested(100, "alice", "db"));
        try {
            transaction->commit();
            FAIL() << "commit with a dangling policy reference succeeded";
        } catch (const JitError& error) {
            EXPECT_EQ(error.code(), ErrorCode::Internal);
            EXPECT_THAT(error.what(), HasSubstr(path_ + ": commit failed: FOREIGN KEY"));
        }
    }
    EXPECT_TRUE(store->load().resources.empty());
    EXPECT_EQ(store->load().last_audit_seq, 0);
}

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

TEST_F(StoreTest, OneTransactionAtATime) {
    auto store = open();
    auto transaction = store->begin();
    EXPECT_THROW(store->begin(), JitError);
    EXPECT_THROW(store->set_journal_sent_seq(5), JitError);
    // Reads inside the open transaction see its changes.
    Resource resource = sample_resource();
    resource.policy.clear();
    transaction->put(resource);
    EXPECT_EQ(store->load().resources.size(), 1u);
    transaction->commit();
    // Committed: the next transaction may begin while the old object is still alive.
    auto next = store->begin();
    next->remove_resource(resource.name);
    next->commit();
    EXPECT_TRUE(store->load().resources.empty());
}

TEST_F(StoreTest, MigratesAnEmptyFileToTheCurrentSchema) {
    std::ofstream(path_).close();  // an existing, empty file
    ASSERT_TRUE(std::filesystem::exists(path_));
    open();
    RawDatabase raw(path_);
    EXPECT_EQ(raw.integer("PRAGMA user_version"), kSchemaVersion);
    EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
    EXPECT_EQ(raw.integer("SELECT count(*) FROM sqlite_master WHERE type = 'table'"), 12);
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

TEST_F(StoreTest, JournalSentSeqPersists) {
    {
        auto store = open();
        EXPECT_EQ(store->journal_sent_seq(), 0);
        store->set_journal_sent_seq(17);
        EXPECT_EQ(store->journal_sent_seq(), 17);
        store->set_journal_sent_seq(42);
    }
    EXPECT_EQ(open()->journal_sent_seq(), 42);
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
