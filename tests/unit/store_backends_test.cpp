// SPDX-License-Identifier: Apache-2.0
// The Store contract, run against both backends: an SQLite file in a temporary directory and
// a database on a real PostgreSQL server (pg_test_server.hpp). Round trips, ids, rollback,
// the audit chain and its tamper detection, filters, the journal position, and concurrent
// writers on separate connections keeping one chain. PostgreSQL alone: an unreachable server,
// a restarted server, and a concurrent first start of many hosts.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "jit/error.hpp"
#include "jit/model.hpp"
#include "jit/store.hpp"
#include "pg_test_server.hpp"

namespace jit {

static auto tied(const Resource& r) {
    return std::tie(r.name, r.description, r.services, r.accounts, r.members, r.policy);
}
static auto tied(const Policy& p) {
    return std::tie(p.name, p.description, p.action, p.approvers, p.approvals_required,
                    p.max_duration, p.auto_expiry, p.request_ttl, p.active, p.reason_pattern,
                    p.reason_min_length);
}
static auto tied(const Request& r) {
    return std::tie(r.id, r.resource, r.requester, r.policy, r.reason, r.requested_duration,
                    r.duration, r.capped, r.state, r.created, r.decided, r.expires,
                    r.approvals_required, r.auto_expiry, r.grant_id, r.start, r.extends);
}
static auto tied(const Grant& g) {
    return std::tie(g.id, g.request_id, g.user, g.resource, g.start, g.expiry, g.state, g.ended,
                    g.ended_by);
}
static auto tied(const Session& s) {
    return std::tie(s.id, s.grant_id, s.user, s.target, s.service, s.rhost, s.tty, s.pid,
                    s.pid_start, s.boot_id, s.logind_session, s.cgroup, s.fingerprint, s.opened,
                    s.closed, s.state);
}
static auto tied(const SshKey& k) {
    return std::tie(k.fingerprint, k.user, k.type, k.base64, k.comment, k.added);
}

namespace {

using ::testing::HasSubstr;

enum class Backend { Sqlite, Postgresql };

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
    return info.param == Backend::Sqlite ? "sqlite" : "postgresql";
}

class TempDir {
  public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string pattern = std::string(base && *base ? base : "/tmp") + "/jit-store-XXXXXX";
        if (!mkdtemp(pattern.data())) {
            throw std::runtime_error("mkdtemp " + pattern + " failed");
        }
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

void sqlite_exec(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
        sqlite3_close(db);
        throw std::runtime_error("sqlite3_open " + path);
    }
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    const std::string message = error ? error : "";
    sqlite3_free(error);
    sqlite3_close(db);
    if (rc != SQLITE_OK) {
        throw std::runtime_error(sql + ": " + message);
    }
}

Policy sample_policy() {
    Policy policy;
    policy.name = "ops";
    policy.description = "routine operations";
    policy.action = PolicyAction::AutoApprove;
    policy.approvers = {"carol", "@jit-approvers", "bob"};
    policy.approvals_required = 2;
    policy.max_duration = 8 * 3600;
    policy.auto_expiry = false;
    policy.request_ttl = 900;
    policy.active = true;
    policy.reason_pattern = "(INC|CHG)-[0-9]+";
    policy.reason_min_length = 12;
    return policy;
}

Resource sample_resource() {
    Resource resource;
    resource.name = "db";
    resource.description = "database hosts";
    resource.services = {"sudo", "sshd"};
    resource.accounts = {"postgres", "root"};
    resource.members = {"@dba", "alice"};
    resource.policy = "ops";
    return resource;
}

Request sample_request() {
    Request request;
    request.resource = "db";
    request.requester = "dave";
    request.policy = "ops";
    request.reason = "rotate WAL archive; ticket #42 'quoted' \"twice\" ünïcode";
    request.requested_duration = 12 * 3600;
    request.duration = 8 * 3600;
    request.capped = true;
    request.state = RequestState::Approved;
    request.created = 1'790'000'000;
    request.decided = 1'790'000'600;
    request.expires = 1'790'003'600;
    request.approvals_required = 2;
    request.auto_expiry = false;
    request.start = 1'790'000'500;
    request.extends = 7;
    request.approvals = {{"carol", Decision::Approve, "ok", 1'790'000'300},
                         {"bob", Decision::Deny, "", 1'790'000'600}};
    return request;
}

Grant sample_grant(Id request_id) {
    Grant grant;
    grant.request_id = request_id;
    grant.user = "dave";
    grant.resource = "db";
    grant.start = 1'790'000'600;
    grant.expiry = 1'790'029'400;
    grant.state = GrantState::Scheduled;
    grant.ended = 1'790'001'000;
    grant.ended_by = "alice";
    return grant;
}

Session sample_session(Id grant_id) {
    Session session;
    session.grant_id = grant_id;
    session.user = "dave";
    session.target = "postgres";
    session.service = "sudo";
    session.rhost = "10.0.0.7";
    session.tty = "/dev/pts/3";
    session.pid = 4242;
    session.pid_start = 987654;
    session.boot_id = "0f6c1f5e4d3b4a2c9e8d7c6b5a493827";
    session.logind_session = "c17";
    session.cgroup = "/jit/session-4242-987654";
    session.fingerprint = "SHA256:abc";
    session.opened = 1'790'000'700;
    session.state = SessionState::Open;
    return session;
}

AuditEvent requested(EpochSeconds time, const std::string& user, const std::string& resource) {
    AuditEvent event;
    event.time = time;
    event.event = "requested";
    event.fields = {{"JIT_REQUEST_ID", "1"},
                    {"JIT_USER", user},
                    {"JIT_RESOURCE", resource},
                    {"JIT_REASON", "needed"}};
    return event;
}

class StoreBackendTest : public ::testing::TestWithParam<Backend> {
  protected:
    void SetUp() override {
        if (GetParam() == Backend::Postgresql) {
            if (!testing_pg::available()) {
                GTEST_SKIP() << "PostgreSQL tests need root";
            }
            conninfo_ = testing_pg::shared_server().new_database();
        }
    }

    std::unique_ptr<Store> open(const std::string& host = "h1") {
        if (GetParam() == Backend::Sqlite) {
            return open_sqlite_store(dir_.path() + "/jit.db");
        }
        return open_postgresql_store(conninfo_, host);
    }

    // Runs SQL on the store's tables behind its back (what a tamperer would do).
    void raw(const std::string& sql) {
        if (GetParam() == Backend::Sqlite) {
            sqlite_exec(dir_.path() + "/jit.db", sql);
        } else {
            testing_pg::exec(conninfo_, sql);
        }
    }

    std::vector<AuditEvent> append_events(Store& store, int count) {
        std::vector<AuditEvent> appended;
        auto transaction = store.begin();
        for (int i = 0; i < count; ++i) {
            appended.push_back(transaction->append(requested(1000 + i, "alice", "db")));
        }
        transaction->commit();
        return appended;
    }

    TempDir dir_;
    std::string conninfo_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreBackendTest,
                         ::testing::Values(Backend::Sqlite, Backend::Postgresql), backend_name);

TEST_P(StoreBackendTest, RoundTripsEveryEntity) {
    Resource plain;  // no policy, empty lists
    plain.name = "backup";
    SshKey key{"SHA256:k1", "dave", "ssh-ed25519", "AAAAC3Nza", "laptop", 1'790'000'000};
    Request request = sample_request();
    Grant grant;
    Session session;
    {
        auto store = open();
        auto transaction = store->begin();
        transaction->put(sample_policy());
        transaction->put(plain);
        transaction->put(sample_resource());
        request.id = transaction->put(request);
        grant = sample_grant(request.id);
        grant.id = transaction->put(grant);
        request.grant_id = grant.id;
        EXPECT_EQ(transaction->put(request), request.id);
        session = sample_session(grant.id);
        session.id = transaction->put(session);
        transaction->put(key);
        transaction->commit();
    }
    StoredState loaded = open()->load();
    ASSERT_EQ(loaded.resources.size(), 2u);
    EXPECT_EQ(tied(loaded.resources[0]), tied(plain));
    EXPECT_EQ(tied(loaded.resources[1]), tied(sample_resource()));
    ASSERT_EQ(loaded.policies.size(), 1u);
    EXPECT_EQ(tied(loaded.policies[0]), tied(sample_policy()));
    ASSERT_EQ(loaded.requests.size(), 1u);
    EXPECT_EQ(tied(loaded.requests[0]), tied(request));
    ASSERT_EQ(loaded.requests[0].approvals.size(), 2u);
    EXPECT_EQ(loaded.requests[0].approvals[1].decision, Decision::Deny);
    EXPECT_EQ(loaded.requests[0].approvals[0].comment, "ok");
    ASSERT_EQ(loaded.grants.size(), 1u);
    EXPECT_EQ(tied(loaded.grants[0]), tied(grant));
    ASSERT_EQ(loaded.sessions.size(), 1u);
    EXPECT_EQ(tied(loaded.sessions[0]), tied(session));
    EXPECT_FALSE(loaded.sessions[0].closed.has_value());
    ASSERT_EQ(loaded.keys.size(), 1u);
    EXPECT_EQ(tied(loaded.keys[0]), tied(key));
}

TEST_P(StoreBackendTest, AssignsIdsAndUpsertsKnownOnes) {
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
    EXPECT_EQ(loaded.requests[1].state, RequestState::Denied);
    EXPECT_EQ(loaded.requests[0].approvals.size(), 2u);
    EXPECT_EQ(loaded.requests[1].approvals.size(), 1u);
}

TEST_P(StoreBackendTest, RemovesResourcesAndPoliciesWithTheirLists) {
    auto store = open();
    {
        auto transaction = store->begin();
        transaction->put(sample_policy());
        transaction->put(sample_resource());
        transaction->commit();
    }
    {
        auto transaction = store->begin();
        transaction->remove_resource("db");
        transaction->remove_policy("ops");
        transaction->remove_resource("never-existed");
        transaction->commit();
    }
    StoredState loaded = store->load();
    EXPECT_TRUE(loaded.resources.empty());
    EXPECT_TRUE(loaded.policies.empty());
}

TEST_P(StoreBackendTest, TransactionWithoutCommitLeavesNothing) {
    auto store = open();
    {
        auto transaction = store->begin();
        transaction->put(sample_policy());
        transaction->put(sample_request());
        transaction->append(requested(100, "alice", "db"));
    }
    StoredState loaded = store->load();
    EXPECT_TRUE(loaded.policies.empty());
    EXPECT_TRUE(loaded.requests.empty());
    EXPECT_EQ(store->audit_head_seq(), 0);
    // The store stays usable and the chain starts at 1.
    EXPECT_EQ(append_events(*store, 1).front().seq, 1);
}

TEST_P(StoreBackendTest, DanglingReferenceFailsTheCommitAndRollsBack) {
    auto store = open();
    {
        auto transaction = store->begin();
        transaction->put(sample_resource());  // its policy "ops" does not exist
        transaction->append(requested(100, "alice", "db"));
        EXPECT_THROW(transaction->commit(), JitError);
    }
    EXPECT_TRUE(store->load().resources.empty());
    EXPECT_EQ(store->audit_head_seq(), 0);
    EXPECT_EQ(append_events(*store, 1).front().seq, 1);
}

TEST_P(StoreBackendTest, FailedStepPoisonsTheTransaction) {
    auto store = open();
    SshKey key{"SHA256:k1", "dave", "ssh-ed25519", "AAAA", "", 1};
    {
        auto transaction = store->begin();
        transaction->put(key);
        transaction->commit();
    }
    auto transaction = store->begin();
    transaction->put(sample_policy());
    EXPECT_THROW(transaction->put(key), JitError);  // the key exists
    try {
        transaction->put(sample_policy());
        FAIL() << "a poisoned transaction went on";
    } catch (const JitError& error) {
        EXPECT_THAT(error.what(), HasSubstr("an earlier step of this transaction failed"));
    }
    EXPECT_THROW(transaction->commit(), JitError);
    transaction.reset();
    EXPECT_TRUE(store->load().policies.empty());
}

TEST_P(StoreBackendTest, OneTransactionAtATime) {
    auto store = open();
    auto first = store->begin();
    EXPECT_THROW(store->begin(), JitError);
    EXPECT_THROW(store->set_journal_sent_seq(1), JitError);
    first->commit();
    EXPECT_NO_THROW(store->begin()->commit());
}

TEST_P(StoreBackendTest, AppendsAChainedAuditLogThatVerifies) {
    auto store = open();
    std::vector<AuditEvent> rows = append_events(*store, 3);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].seq, 1);
    EXPECT_EQ(rows[0].prev_hash, "");
    EXPECT_EQ(rows[1].prev_hash, rows[0].hash);
    EXPECT_EQ(rows[2].prev_hash, rows[1].hash);
    EXPECT_EQ(store->audit_head_seq(), 3);
    AuditVerification result = store->verify_audit();
    EXPECT_TRUE(result.ok) << result.problem;
    EXPECT_EQ(result.rows_checked, 3);
    EXPECT_EQ(result.chain, store->audit_chain());
    EXPECT_EQ(result.chain.size(), 32u);
    StoredState loaded = store->load();
    EXPECT_EQ(loaded.last_audit_seq, 3);
    EXPECT_EQ(loaded.last_audit_hash, rows[2].hash);
}

TEST_P(StoreBackendTest, EditedFieldFailsVerificationAtItsSeq) {
    auto store = open();
    append_events(*store, 3);
    raw("UPDATE audit_fields SET value = 'mallory' WHERE seq = 2 AND name = 'JIT_REASON'");
    AuditVerification result = store->verify_audit();
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.first_bad_seq, 2);
    EXPECT_THAT(result.problem, HasSubstr("hash mismatch"));
}

TEST_P(StoreBackendTest, DeletedLastRowIsCaughtThroughTheChainHead) {
    auto store = open();
    append_events(*store, 3);
    raw("DELETE FROM audit_fields WHERE seq = 3");
    raw("DELETE FROM audit_events WHERE seq = 3");
    AuditVerification result = store->verify_audit();
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.first_bad_seq, 3);
}

TEST_P(StoreBackendTest, VerifiesALogLongerThanOnePage) {
    auto store = open();
    append_events(*store, 2500);  // the PostgreSQL store reads 1000 events at a time
    AuditVerification result = store->verify_audit();
    EXPECT_TRUE(result.ok) << result.problem;
    EXPECT_EQ(result.rows_checked, 2500);
    raw("UPDATE audit_events SET time = 1 WHERE seq = 2001");
    result = store->verify_audit();
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.first_bad_seq, 2001);
}

TEST_P(StoreBackendTest, FiltersAuditEvents) {
    auto store = open();
    {
        auto transaction = store->begin();
        transaction->append(requested(100, "alice", "db"));
        transaction->append(requested(200, "bob", "db"));
        transaction->append(requested(300, "alice", "web"));
        AuditEvent bare;
        bare.time = 400;
        bare.event = "expired";
        transaction->append(bare);
        transaction->commit();
    }
    auto seqs = [&](const AuditFilter& filter) {
        std::vector<Id> result;
        for (const AuditEvent& event : store->audit_events(filter)) {
            result.push_back(event.seq);
        }
        return result;
    };
    auto filter = [](auto&& set) {
        AuditFilter result;
        set(result);
        return result;
    };
    EXPECT_THAT(seqs({}), ::testing::ElementsAre(1, 2, 3, 4));
    EXPECT_THAT(seqs(filter([](AuditFilter& f) { f.user = "alice"; })),
                ::testing::ElementsAre(1, 3));
    EXPECT_THAT(seqs(filter([](AuditFilter& f) { f.resource = "db"; })),
                ::testing::ElementsAre(1, 2));
    const AuditFilter expired = filter([](AuditFilter& f) { f.event = "expired"; });
    EXPECT_THAT(seqs(expired), ::testing::ElementsAre(4));
    EXPECT_THAT(seqs(filter([](AuditFilter& f) {
                    f.since = 200;
                    f.until = 400;
                })),
                ::testing::ElementsAre(2, 3));
    EXPECT_THAT(seqs(filter([](AuditFilter& f) {
                    f.after_seq = 2;
                    f.limit = 1;
                })),
                ::testing::ElementsAre(3));
    std::vector<AuditEvent> events = store->audit_events(expired);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_TRUE(events[0].fields.empty());
    EXPECT_EQ(
        store->audit_events(filter([](AuditFilter& f) { f.user = "alice"; }))[0].fields.size(), 4u);
}

TEST_P(StoreBackendTest, JournalSentSeqPersists) {
    {
        auto store = open();
        EXPECT_EQ(store->journal_sent_seq(), 0);
        store->set_journal_sent_seq(42);
    }
    EXPECT_EQ(open()->journal_sent_seq(), 42);
}

TEST_P(StoreBackendTest, ChainIdentityStaysAcrossOpens) {
    const std::string chain = open()->audit_chain();
    EXPECT_EQ(chain.size(), 32u);
    EXPECT_EQ(open()->audit_chain(), chain);
}

// Writers on separate connections (hosts of a fleet, or processes on one host) append to the
// same chain at once: every event gets its own seq, and the chain verifies.
TEST_P(StoreBackendTest, ConcurrentWritersKeepOneChain) {
    open();  // create the schema before the writers race
    constexpr int kWriters = 4;
    constexpr int kTransactions = 25;
    std::vector<std::thread> writers;
    std::vector<std::string> failures(kWriters);
    for (int w = 0; w < kWriters; ++w) {
        writers.emplace_back([&, w] {
            try {
                auto store = open("host" + std::to_string(w));
                for (int i = 0; i < kTransactions; ++i) {
                    auto transaction = store->begin();
                    Request request = sample_request();
                    request.grant_id.reset();
                    transaction->put(request);
                    transaction->append(requested(i, "w" + std::to_string(w), "db"));
                    transaction->append(requested(i, "w" + std::to_string(w), "db"));
                    transaction->commit();
                }
            } catch (const std::exception& error) {
                failures[w] = error.what();
            }
        });
    }
    for (std::thread& writer : writers) {
        writer.join();
    }
    for (const std::string& failure : failures) {
        EXPECT_EQ(failure, "");
    }
    auto store = open();
    AuditVerification result = store->verify_audit();
    EXPECT_TRUE(result.ok) << result.problem;
    EXPECT_EQ(result.rows_checked, 2 * kWriters * kTransactions);
    EXPECT_EQ(store->load().requests.size(), static_cast<std::size_t>(kWriters * kTransactions));
}

// ---- PostgreSQL only ----

class PostgresqlStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!testing_pg::available()) {
            GTEST_SKIP() << "PostgreSQL tests need root";
        }
    }
};

TEST_F(PostgresqlStoreTest, UnreachableServerIsUnavailableNamingTheStore) {
    TempDir nowhere;
    try {
        open_postgresql_store("host=" + nowhere.path() + " dbname=jitfleet user=postgres", "h1");
        FAIL() << "connected to nothing";
    } catch (const JitError& error) {
        EXPECT_EQ(error.code(), ErrorCode::Unavailable);
        EXPECT_THAT(error.what(), HasSubstr("PostgreSQL store jitfleet on " + nowhere.path()));
        EXPECT_THAT(error.what(), HasSubstr("unreachable"));
        EXPECT_EQ(std::string(error.what()).find('\n'), std::string::npos);
    }
}

TEST_F(PostgresqlStoreTest, RefusesAPasswordInTheUrlAndAnUnreadableUrl) {
    for (const std::string& url :
         {std::string("host=/tmp dbname=jit password=secret"),
          std::string("postgresql://jitd:secret@db/jit"), std::string("host=/tmp dbname")}) {
        try {
            open_postgresql_store(url, "h1");
            FAIL() << url;
        } catch (const JitError& error) {
            EXPECT_EQ(error.code(), ErrorCode::InvalidInput) << url;
            EXPECT_EQ(std::string(error.what()).find("secret"), std::string::npos);
        }
    }
}

TEST_F(PostgresqlStoreTest, EachHostKeepsItsOwnJournalPosition) {
    const std::string conninfo = testing_pg::shared_server().new_database();
    open_postgresql_store(conninfo, "alpha")->set_journal_sent_seq(7);
    open_postgresql_store(conninfo, "beta")->set_journal_sent_seq(3);
    EXPECT_EQ(open_postgresql_store(conninfo, "alpha")->journal_sent_seq(), 7);
    EXPECT_EQ(open_postgresql_store(conninfo, "beta")->journal_sent_seq(), 3);
}

TEST_F(PostgresqlStoreTest, ManyHostsStartingAtOnceMigrateOnce) {
    const std::string conninfo = testing_pg::shared_server().new_database();
    std::vector<std::thread> hosts;
    std::vector<std::string> chains(6);
    for (std::size_t h = 0; h < chains.size(); ++h) {
        hosts.emplace_back([&, h] {
            try {
                chains[h] = open_postgresql_store(conninfo, "h" + std::to_string(h))->audit_chain();
            } catch (const std::exception& error) {
                chains[h] = error.what();
            }
        });
    }
    for (std::thread& host : hosts) {
        host.join();
    }
    for (const std::string& chain : chains) {
        EXPECT_EQ(chain, chains[0]);
    }
    EXPECT_EQ(testing_pg::query_text(conninfo, "SELECT version FROM schema_version"), "1");
}

TEST_F(PostgresqlStoreTest, ReconnectsAfterTheServerRestarts) {
    testing_pg::TestServer server;
    const std::string conninfo = server.new_database();
    auto store = open_postgresql_store(conninfo, "h1");
    {
        auto transaction = store->begin();
        transaction->append(requested(1, "alice", "db"));
        transaction->commit();
    }
    server.stop("immediate");
    try {
        store->audit_head_seq();
        FAIL() << "read from a stopped server";
    } catch (const JitError& error) {
        EXPECT_EQ(error.code(), ErrorCode::Unavailable) << error.what();
        EXPECT_THAT(error.what(), HasSubstr("PostgreSQL store"));
    }
    EXPECT_THROW(store->begin(), JitError);
    server.start();
    EXPECT_EQ(store->audit_head_seq(), 1);
    {
        auto transaction = store->begin();
        EXPECT_EQ(transaction->append(requested(2, "alice", "db")).seq, 2);
        transaction->commit();
    }
    EXPECT_TRUE(store->verify_audit().ok);
}

TEST_F(PostgresqlStoreTest, ATransactionCutByAServerStopIsUnavailableAndLeavesNothing) {
    testing_pg::TestServer server;
    const std::string conninfo = server.new_database();
    auto store = open_postgresql_store(conninfo, "h1");
    {
        auto transaction = store->begin();
        transaction->put(sample_policy());
        server.stop("immediate");
        try {
            transaction->append(requested(1, "alice", "db"));
            transaction->commit();
            FAIL() << "committed on a stopped server";
        } catch (const JitError& error) {
            EXPECT_EQ(error.code(), ErrorCode::Unavailable);
        }
    }
    server.start();
    EXPECT_TRUE(store->load().policies.empty());
    EXPECT_EQ(store->audit_head_seq(), 0);
}

}  // namespace
}  // namespace jit
