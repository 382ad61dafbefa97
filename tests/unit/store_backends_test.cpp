// SPDX-License-Identifier: Apache-2.0
// The Store contract, run against both backends: an SQLite file in a temporary directory and
// a database on a real PostgreSQL server (pg_test_server.hpp). Round trips, ids, rollback,
// the audit chain and its tamper detection, filters, the journal position, and concurrent
// writers on separate connections keeping one chain. PostgreSQL alone: an unreachable server,
// a restarted server, and a concurrent first start of many hosts. What only the SQLite file
// has (migrations, WAL, a killed writer) is in store_test.cpp and store_audit_test.cpp.

#include <thread>

#include "pg_test_server.hpp"
#include "store_test_support.hpp"

// The shipped migration steps, to build a database as an older release left it.
#include "../../libjit/store/pg_schema.hpp"
#include "../../libjit/store/sqlite_schema.hpp"

namespace jit {
namespace {

using namespace store_test;

enum class Backend { Sqlite, Postgresql };

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
    return info.param == Backend::Sqlite ? "sqlite" : "postgresql";
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
            return open_sqlite_store(path_);
        }
        return open_postgresql_store(conninfo_, host);
    }

    // Runs SQL on the store's tables behind its back (what a tamperer would do).
    void raw(const std::string& sql) {
        if (GetParam() == Backend::Sqlite) {
            RawDatabase(path_).exec(sql);
        } else {
            testing_pg::exec(conninfo_, sql);
        }
    }
    // Reads a number from the store's tables behind its back.
    std::int64_t raw_integer(const std::string& sql) {
        if (GetParam() == Backend::Sqlite) {
            return RawDatabase(path_).integer(sql);
        }
        return std::stoll(testing_pg::query_text(conninfo_, sql));
    }

    std::vector<AuditEvent> append_events(Store& store, int count) {
        return append_requested_events(store, count);
    }

    DatabaseDir dir_;
    std::string path_ = dir_.path() + "/jit.db";
    std::string conninfo_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreBackendTest,
                         ::testing::Values(Backend::Sqlite, Backend::Postgresql), backend_name);

TEST_P(StoreBackendTest, RoundTripsEveryEntityWithOptionalsAndApprovals) {
    Resource plain;  // no policy, empty lists
    plain.name = "backup";
    Request open_request;  // every optional unset
    open_request.resource = "backup";
    open_request.requester = "erin";
    open_request.policy = "ops";
    open_request.reason = "restore";
    open_request.created = 1'790'000'000;
    open_request.expires = 1'790'003'600;
    const SshKey key{"SHA256:k1", "dave", "ssh-ed25519", "AAAAC3Nza", "laptop", 1'790'000'000};

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

        const auto [request, grant] = put_granted_request(*transaction);
        open_request.id = transaction->put(open_request);

        Grant endless = sample_grant(open_request.id);  // no expiry, not started yet
        endless.expiry.reset();
        endless.ended.reset();
        endless.state = GrantState::Scheduled;
        endless.ended_by.clear();
        endless.id = transaction->put(endless);

        Session closed = sample_session(grant.id);
        closed.id = transaction->put(closed);
        Session live = sample_session(endless.id);
        live.closed.reset();
        live.state = SessionState::Open;
        live.fingerprint.clear();
        live.id = transaction->put(live);
        transaction->put(key);

        written.requests = {request, open_request};
        written.grants = {grant, endless};
        written.sessions = {closed, live};
        written.keys = {key};
        transaction->commit();
    }

    StoredState loaded = open()->load();
    expect_same_objects(loaded, written);
    ASSERT_EQ(loaded.requests.size(), 2u);
    EXPECT_FALSE(loaded.requests[1].decided.has_value());
    EXPECT_FALSE(loaded.requests[1].grant_id.has_value());
    EXPECT_FALSE(loaded.grants[1].expiry.has_value());
    EXPECT_FALSE(loaded.sessions[1].closed.has_value());

    // Optionals are NULL in the tables, not zero.
    EXPECT_EQ(raw_integer("SELECT count(*) FROM requests WHERE decided IS NULL"), 1);
    EXPECT_EQ(raw_integer("SELECT count(*) FROM grants WHERE expiry IS NULL"), 1);
    EXPECT_EQ(raw_integer("SELECT count(*) FROM resources WHERE policy IS NULL"), 1);
}

TEST_P(StoreBackendTest, KeepsGrantReviewsFromTheStartFingerprintToTheResult) {
    auto store = open();
    StoredReview row;
    {
        auto transaction = store->begin();
        Request request = sample_request();
        request.id = transaction->put(request);
        row.grant_id = transaction->put(sample_grant(request.id));
        row.host = "h1";
        row.accounts = {"postgres", "root"};
        row.before = "jit-fingerprint 1\nf 0 600 0 0 0 - /root/.ssh/authorized_keys\n";
        transaction->put(row);
        transaction->commit();
    }
    StoredState loaded = store->load();
    ASSERT_EQ(loaded.reviews.size(), 1u);
    EXPECT_EQ(loaded.reviews[0].grant_id, row.grant_id);
    EXPECT_EQ(loaded.reviews[0].host, "h1");
    EXPECT_THAT(loaded.reviews[0].accounts, ElementsAre("postgres", "root"));
    EXPECT_EQ(loaded.reviews[0].before, row.before);
    EXPECT_FALSE(loaded.reviews[0].review.has_value());
    EXPECT_EQ(raw_integer("SELECT count(*) FROM grant_reviews WHERE reviewed_at IS NULL"), 1);

    // Reviewed: the same row, replaced.
    row.before.clear();
    row.review = GrantReview{1'790'000'500, "+/root/.ssh/authorized_keys2\n~/etc/passwd",
                             "at the end: stopped at 10000 files"};
    {
        auto transaction = store->begin();
        transaction->put(row);
        transaction->commit();
    }
    loaded = open()->load();
    ASSERT_EQ(loaded.reviews.size(), 1u);
    EXPECT_EQ(loaded.reviews[0].before, "");
    ASSERT_TRUE(loaded.reviews[0].review.has_value());
    EXPECT_EQ(loaded.reviews[0].review->reviewed_at, 1'790'000'500);
    EXPECT_EQ(loaded.reviews[0].review->changes, row.review->changes);
    EXPECT_EQ(loaded.reviews[0].review->incomplete, row.review->incomplete);

    // A review of a grant the store does not hold fails the commit.
    StoredReview dangling = row;
    dangling.grant_id = 999;
    auto transaction = store->begin();
    transaction->put(dangling);
    EXPECT_THROW(transaction->commit(), JitError);
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
    EXPECT_EQ(raw_integer("SELECT count(*) FROM resource_lists"), 0);
    EXPECT_EQ(raw_integer("SELECT count(*) FROM policy_approvers"), 0);
}

TEST_P(StoreBackendTest, TransactionWithoutCommitLeavesNothing) {
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
    EXPECT_EQ(store->audit_head_seq(), 0);
    EXPECT_TRUE(store->audit_events({}).empty());

    // The store stays usable and the rolled-back row left no trace in the chain: the next one
    // is row 1 again.
    auto transaction = store->begin();
    AuditEvent first = transaction->append(requested(100, "alice", "db"));
    EXPECT_EQ(first.seq, 1);
    EXPECT_EQ(first.prev_hash, "");
    EXPECT_EQ(transaction->put(sample_request()), 1);
    transaction->commit();
}

TEST_P(StoreBackendTest, DanglingReferenceFailsTheCommitAndRollsBack) {
    auto store = open();
    {
        auto transaction = store->begin();
        transaction->put(sample_resource());  // its policy "ops" does not exist
        transaction->append(requested(100, "alice", "db"));
        try {
            transaction->commit();
            FAIL() << "commit with a dangling policy reference succeeded";
        } catch (const JitError& error) {
            EXPECT_EQ(error.code(), ErrorCode::Internal);
            if (GetParam() == Backend::Sqlite) {
                EXPECT_THAT(error.what(), HasSubstr(path_ + ": commit failed: FOREIGN KEY"));
            }
        }
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

TEST_P(StoreBackendTest, AppendsAChainedAuditLogThatVerifies) {
    auto store = open();
    EXPECT_TRUE(store->verify_audit().ok);
    std::vector<AuditEvent> appended = append_events(*store, 3);
    appended.push_back(append_events(*store, 1).front());

    std::string previous;
    for (std::size_t i = 0; i < appended.size(); ++i) {
        const AuditEvent& event = appended[i];
        EXPECT_EQ(event.seq, static_cast<Id>(i + 1));
        EXPECT_EQ(event.prev_hash, previous);
        AuditEvent unhashed = event;
        unhashed.hash.clear();
        EXPECT_EQ(event.hash, sha256_hex(audit_canonical_form(unhashed)));
        previous = event.hash;
    }
    EXPECT_EQ(store->audit_events({}), appended);
    EXPECT_EQ(store->audit_head_seq(), 4);

    AuditVerification verification = store->verify_audit();
    EXPECT_TRUE(verification.ok) << verification.problem;
    EXPECT_EQ(verification.rows_checked, 4);
    EXPECT_EQ(verification.first_bad_seq, 0);
    EXPECT_EQ(verification.chain, store->audit_chain());
    EXPECT_EQ(verification.chain.size(), 32u);

    auto reopened = open();
    StoredState loaded = reopened->load();
    EXPECT_EQ(loaded.last_audit_seq, 4);
    EXPECT_EQ(loaded.last_audit_hash, appended.back().hash);
    EXPECT_TRUE(reopened->verify_audit().ok);
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
    const AuditEvent events[] = {
        requested(100, "alice", "web"),
        audit_event("approved", 200,
                    {{"JIT_REQUEST_ID", "1"},
                     {"JIT_USER", "alice"},
                     {"JIT_RESOURCE", "web"},
                     {"JIT_ACTOR", "bob"},
                     {"JIT_COMMENT", ""}}),
        requested(300, "bob", "db"),
        audit_event("granted", 400,
                    {{"JIT_REQUEST_ID", "1"},
                     {"JIT_GRANT_ID", "1"},
                     {"JIT_USER", "alice"},
                     {"JIT_RESOURCE", "web"},
                     {"JIT_START", "400"},
                     {"JIT_EXPIRY", "4000"}}),
        audit_event("resource_changed", 500,
                    {{"JIT_ACTOR", "root"}, {"JIT_OBJECT", "web"}, {"JIT_CHANGE", "add-member"}}),
        audit_event("expired", 600, {}),
    };
    std::vector<AuditEvent> all;
    {
        auto transaction = store->begin();
        for (const AuditEvent& event : events) {
            all.push_back(transaction->append(event));
        }
        transaction->commit();
    }
    auto filtered = [&](auto adjust) {
        AuditFilter filter;
        adjust(filter);
        return seqs(store->audit_events(filter));
    };
    EXPECT_EQ(store->audit_events({}), all);
    EXPECT_THAT(filtered([](AuditFilter& f) { f.since = 200; }), ElementsAre(2, 3, 4, 5, 6));
    EXPECT_THAT(filtered([](AuditFilter& f) { f.until = 300; }), ElementsAre(1, 2));
    EXPECT_THAT(filtered([](AuditFilter& f) {
                    f.since = 200;
                    f.until = 400;
                }),
                ElementsAre(2, 3));
    EXPECT_THAT(filtered([](AuditFilter& f) { f.user = "alice"; }), ElementsAre(1, 2, 4));
    EXPECT_THAT(filtered([](AuditFilter& f) { f.resource = "db"; }), ElementsAre(3));
    EXPECT_THAT(filtered([](AuditFilter& f) { f.event = "requested"; }), ElementsAre(1, 3));
    EXPECT_THAT(filtered([](AuditFilter& f) {
                    f.user = "alice";
                    f.event = "requested";
                }),
                ElementsAre(1));
    EXPECT_THAT(filtered([](AuditFilter& f) { f.after_seq = 3; }), ElementsAre(4, 5, 6));
    EXPECT_THAT(filtered([](AuditFilter& f) { f.limit = 2; }), ElementsAre(1, 2));
    EXPECT_THAT(filtered([](AuditFilter& f) {
                    f.after_seq = 2;
                    f.limit = 2;
                }),
                ElementsAre(3, 4));
    EXPECT_THAT(filtered([](AuditFilter& f) {
                    f.user = "alice";
                    f.limit = 2;
                    f.after_seq = 1;
                }),
                ElementsAre(2, 4));
    EXPECT_TRUE(filtered([](AuditFilter& f) { f.user = "nobody"; }).empty());
    // A filtered event still carries all of its fields in order; one without fields has none.
    AuditFilter by_resource;
    by_resource.resource = "db";
    EXPECT_THAT(store->audit_events(by_resource), ElementsAre(all[2]));
    AuditFilter expired;
    expired.event = "expired";
    EXPECT_THAT(store->audit_events(expired), ElementsAre(all[5]));
}

// A database from before hosts: its resources apply on every host ("*"), its sessions name no
// host; new rows keep theirs.
TEST_P(StoreBackendTest, MigratesResourcesToEveryHostAndSessionsToNoHost) {
    if (GetParam() == Backend::Sqlite) {
        constexpr int kBeforeHosts = 8;
        for (int step = 0; step < kBeforeHosts; ++step) {
            raw(sqlite::kMigrations[static_cast<std::size_t>(step)]);
        }
        raw("PRAGMA user_version = " + std::to_string(kBeforeHosts));
    } else {
        raw(pg::kSchemaVersionTable);
        raw(pg::kSchemaV1);
        raw("UPDATE schema_version SET version = 1");
    }
    raw("INSERT INTO resources (name, description) VALUES ('old', '');"
        "INSERT INTO resource_lists VALUES ('old', 'service', 0, 'sudo');"
        "INSERT INTO resource_lists VALUES ('old', 'account', 0, 'root');"
        "INSERT INTO requests (id, resource, requester, policy, reason, requested_duration, "
        "duration, capped, state, created, expires, approvals_required, auto_expiry) VALUES "
        "(1, 'old', 'alice', 'p', 'x', 60, 60, 0, 'approved', 1, 2, 1, 1);"
        "INSERT INTO grants (id, request_id, user_name, resource, start, state, ended_by) "
        "VALUES (1, 1, 'alice', 'old', 1, 'active', '');"
        "INSERT INTO sessions (id, grant_id, user_name, target, service, rhost, tty, pid, "
        "logind_session, opened, state) VALUES "
        "(1, 1, 'alice', 'root', 'sudo', '', '', 77, '', 1, 'open')");
    auto store = open();
    StoredState state = store->load();
    ASSERT_EQ(state.resources.size(), 1u);
    EXPECT_THAT(state.resources[0].hosts, ::testing::ElementsAre("*"));
    ASSERT_EQ(state.sessions.size(), 1u);
    EXPECT_EQ(state.sessions[0].host, "");

    Resource fresh = sample_resource();
    fresh.policy.clear();
    Session session = sample_session(1);
    {
        auto transaction = store->begin();
        transaction->put(fresh);
        session.id = transaction->put(session);
        transaction->commit();
    }
    state = open()->load();
    ASSERT_EQ(state.resources.size(), 2u);
    EXPECT_EQ(tied(state.resources[0]), tied(fresh));
    ASSERT_EQ(state.sessions.size(), 2u);
    EXPECT_EQ(tied(state.sessions[1]), tied(session));
}

TEST_P(StoreBackendTest, JournalSentSeqPersists) {
    {
        auto store = open();
        EXPECT_EQ(store->journal_sent_seq(), 0);
        store->set_journal_sent_seq(17);
        EXPECT_EQ(store->journal_sent_seq(), 17);
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
// same chain at once: every event gets its own seq, and the chain verifies. A fleet's writer is
// refused while other hosts' changes wait in the feed, and goes on once it has read them.
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
                    std::unique_ptr<Transaction> transaction;
                    while (!transaction) {
                        try {
                            transaction = store->begin();
                        } catch (const StoreBehind&) {
                            store->changes();
                        }
                    }
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
    DatabaseDir nowhere;
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
    EXPECT_EQ(testing_pg::query_text(conninfo, "SELECT version FROM schema_version"),
              std::to_string(pg::kMigrations.size()));
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
