// SPDX-License-Identifier: Apache-2.0
// The SQLite store against real files in a temporary directory: round trips, ids, rollback,
// schema migration, the audit hash chain and its tamper detection, audit filters, a writer
// killed mid-transaction, and a second connection to the same file.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "jit/error.hpp"
#include "jit/model.hpp"
#include "jit/store.hpp"

// The shipped migration steps, to build a database as an older release left it.
#include "../../libjit/store/sqlite_schema.hpp"

namespace jit {

// Field-by-field equality for the round-trip assertions. They live in namespace jit so that
// comparing vectors of them (inside std) finds them by argument-dependent lookup.
static auto tied(const Resource& r) {
    return std::tie(r.name, r.description, r.services, r.accounts, r.members, r.policy);
}
static auto tied(const Policy& p) {
    return std::tie(p.name, p.description, p.action, p.approvers, p.approvals_required,
                    p.max_duration, p.auto_expiry, p.request_ttl, p.active);
}
static auto tied(const Approval& a) {
    return std::tie(a.approver, a.decision, a.comment, a.time);
}
static auto tied(const Request& r) {
    return std::tie(r.id, r.resource, r.requester, r.policy, r.reason, r.requested_duration,
                    r.duration, r.capped, r.state, r.created, r.decided, r.expires,
                    r.approvals_required, r.auto_expiry, r.approvals, r.grant_id);
}
static auto tied(const Grant& g) {
    return std::tie(g.id, g.request_id, g.user, g.resource, g.start, g.expiry, g.state, g.ended,
                    g.ended_by);
}
static auto tied(const Session& s) {
    return std::tie(s.id, s.grant_id, s.user, s.target, s.service, s.rhost, s.tty, s.pid,
                    s.pid_start, s.boot_id, s.logind_session, s.cgroup, s.opened, s.closed,
                    s.state);
}
static auto tied(const AuditEvent& e) {
    return std::tie(e.seq, e.time, e.event, e.fields, e.prev_hash, e.hash);
}
bool operator==(const Resource& a, const Resource& b) {
    return tied(a) == tied(b);
}
bool operator==(const Policy& a, const Policy& b) {
    return tied(a) == tied(b);
}
bool operator==(const Approval& a, const Approval& b) {
    return tied(a) == tied(b);
}
bool operator==(const Request& a, const Request& b) {
    return tied(a) == tied(b);
}
bool operator==(const Grant& a, const Grant& b) {
    return tied(a) == tied(b);
}
bool operator==(const Session& a, const Session& b) {
    return tied(a) == tied(b);
}
bool operator==(const AuditEvent& a, const AuditEvent& b) {
    return tied(a) == tied(b);
}

void PrintTo(const Resource& r, std::ostream* os) {
    *os << "resource " << r.name;
}
void PrintTo(const Policy& p, std::ostream* os) {
    *os << "policy " << p.name;
}
void PrintTo(const Request& r, std::ostream* os) {
    *os << "request " << r.id;
}
void PrintTo(const Grant& g, std::ostream* os) {
    *os << "grant " << g.id;
}
void PrintTo(const Session& s, std::ostream* os) {
    *os << "session " << s.id;
}
void PrintTo(const AuditEvent& e, std::ostream* os) {
    *os << "audit " << e.seq << " " << e.event;
}

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Fields = std::vector<std::pair<std::string, std::string>>;

const auto kSchemaVersion = static_cast<std::int64_t>(jit::sqlite::kMigrations.size());

// A private directory for one test's database, removed with everything in it afterwards.
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

// A plain sqlite3 connection: what an attacker or a curious admin would use on the file.
class RawDatabase {
  public:
    explicit RawDatabase(const std::string& path) {
        if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
            throw std::runtime_error("sqlite3_open " + path + " failed");
        }
    }
    ~RawDatabase() { sqlite3_close(db_); }
    RawDatabase(const RawDatabase&) = delete;
    RawDatabase& operator=(const RawDatabase&) = delete;

    void exec(const std::string& sql) {
        char* error = nullptr;
        int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
        std::string message = error ? error : "";
        sqlite3_free(error);
        if (rc != SQLITE_OK) {
            throw std::runtime_error(sql + ": " + message);
        }
    }
    std::string text(const std::string& sql) {
        sqlite3_stmt* statement = nullptr;
        if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
            throw std::runtime_error(sql + ": " + sqlite3_errmsg(db_));
        }
        std::string result;
        if (sqlite3_step(statement) == SQLITE_ROW && sqlite3_column_text(statement, 0)) {
            result = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
        }
        sqlite3_finalize(statement);
        return result;
    }
    std::int64_t integer(const std::string& sql) { return std::stoll(text(sql)); }

  private:
    sqlite3* db_ = nullptr;
};

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
    request.reason = "rotate WAL archive; ticket #42 'quoted' \"twice\"";
    request.requested_duration = 12 * 3600;
    request.duration = 8 * 3600;
    request.capped = true;
    request.state = RequestState::Approved;
    request.created = 1'790'000'000;
    request.decided = 1'790'000'600;
    request.expires = 1'790'003'600;
    request.approvals_required = 2;
    request.auto_expiry = false;
    request.approvals = {{"carol", Decision::Approve, "ok", 1'790'000'300},
                         {"bob", Decision::Approve, "", 1'790'000'600}};
    return request;
}

Grant sample_grant(Id request_id) {
    Grant grant;
    grant.request_id = request_id;
    grant.user = "dave";
    grant.resource = "db";
    grant.start = 1'790'000'600;
    grant.expiry = 1'790'029'400;
    grant.state = GrantState::Revoked;
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
    session.opened = 1'790'000'700;
    session.closed = 1'790'001'000;
    session.state = SessionState::Terminated;
    return session;
}

AuditEvent audit_event(std::string type, EpochSeconds time, Fields fields) {
    AuditEvent event;
    event.time = time;
    event.event = std::move(type);
    event.fields = std::move(fields);
    return event;
}

AuditEvent requested(EpochSeconds time, const std::string& user, const std::string& resource) {
    return audit_event("requested", time,
                       {{"JIT_REQUEST_ID", "1"},
                        {"JIT_USER", user},
                        {"JIT_RESOURCE", resource},
                        {"JIT_POLICY", "ops"},
                        {"JIT_REASON", "needed"},
                        {"JIT_REQUESTED_DURATION", "3600"},
                        {"JIT_DURATION", "3600"},
                        {"JIT_CAPPED", "false"}});
}

std::vector<Id> seqs(const std::vector<AuditEvent>& events) {
    std::vector<Id> result;
    for (const AuditEvent& event : events) {
        result.push_back(event.seq);
    }
    return result;
}

class StoreTest : public ::testing::Test {
  protected:
    std::unique_ptr<Store> open() { return open_sqlite_store(path_); }

    // Appends `count` requested events in one committed transaction; returns them.
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
    std::string path_ = dir_.path() + "/jit.db";
};

TEST(Sha256Test, MatchesKnownDigests) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex(std::string("a\0b", 3)), sha256_hex(std::string("a\0b", 3)));
    EXPECT_NE(sha256_hex(std::string("a\0b", 3)), sha256_hex("a"));
}

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

TEST_F(StoreTest, AppendsAChainedAuditLogThatVerifies) {
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

    AuditVerification verification = store->verify_audit();
    EXPECT_TRUE(verification.ok) << verification.problem;
    EXPECT_EQ(verification.rows_checked, 4);
    EXPECT_EQ(verification.first_bad_seq, 0);

    auto reopened = open();
    StoredState loaded = reopened->load();
    EXPECT_EQ(loaded.last_audit_seq, 4);
    EXPECT_EQ(loaded.last_audit_hash, appended.back().hash);
    EXPECT_TRUE(reopened->verify_audit().ok);
}

TEST_F(StoreTest, EventWithoutFieldsRoundTrips) {
    auto store = open();
    auto transaction = store->begin();
    AuditEvent bare = transaction->append(audit_event("resource_changed", 5, {}));
    transaction->commit();
    EXPECT_THAT(store->audit_events({}), ElementsAre(bare));
    EXPECT_TRUE(store->verify_audit().ok);
}

TEST_F(StoreTest, EditedRowFailsVerificationAtItsSeq) {
    auto store = open();
    append_events(*store, 5);
    RawDatabase(path_).exec(
        "UPDATE audit_fields SET value = 'mallory' WHERE seq = 3 AND name = 'JIT_REASON'");
    AuditVerification verification = store->verify_audit();
    EXPECT_FALSE(verification.ok);
    EXPECT_EQ(verification.first_bad_seq, 3);
    EXPECT_EQ(verification.rows_checked, 2);
    EXPECT_EQ(verification.problem, "row 3: hash mismatch");
}

TEST_F(StoreTest, EditedTimeFailsVerification) {
    auto store = open();
    append_events(*store, 4);
    RawDatabase(path_).exec("UPDATE audit_events SET time = time + 3600 WHERE seq = 2");
    AuditVerification verification = store->verify_audit();
    EXPECT_FALSE(verification.ok);
    EXPECT_EQ(verification.first_bad_seq, 2);
}

TEST_F(StoreTest, RehashedEditBreaksTheNextLink) {
    auto store = open();
    std::vector<AuditEvent> appended = append_events(*store, 5);
    AuditEvent forged = appended[2];
    forged.event = "denied";
    forged.hash.clear();
    const std::string forged_hash = sha256_hex(audit_canonical_form(forged));
    RawDatabase(path_).exec("UPDATE audit_events SET event = 'denied', hash = '" + forged_hash +
                            "' WHERE seq = 3");
    AuditVerification verification = store->verify_audit();
    EXPECT_FALSE(verification.ok);
    EXPECT_EQ(verification.first_bad_seq, 4);
    EXPECT_EQ(verification.problem, "row 4: prev_hash does not match the hash of row 3");
}

TEST_F(StoreTest, EditedIndexColumnFailsVerification) {
    auto store = open();
    append_events(*store, 3);
    RawDatabase(path_).exec("UPDATE audit_events SET user_name = 'mallory' WHERE seq = 2");
    AuditVerification verification = store->verify_audit();
    EXPECT_FALSE(verification.ok);
    EXPECT_EQ(verification.first_bad_seq, 2);
    EXPECT_THAT(verification.problem, HasSubstr("columns differ from its fields"));
}

TEST_F(StoreTest, DeletedMiddleRowIsCaught) {
    auto store = open();
    append_events(*store, 5);
    RawDatabase(path_).exec(
        "DELETE FROM audit_fields WHERE seq = 3; DELETE FROM audit_events WHERE seq = 3");
    AuditVerification verification = store->verify_audit();
    EXPECT_FALSE(verification.ok);
    EXPECT_EQ(verification.first_bad_seq, 3);
    EXPECT_EQ(verification.problem, "row 3 missing (after 2)");
}

TEST_F(StoreTest, DeletedFirstRowIsCaught) {
    auto store = open();
    append_events(*store, 3);
    RawDatabase(path_).exec(
        "DELETE FROM audit_fields WHERE seq = 1; DELETE FROM audit_events WHERE seq = 1");
    AuditVerification verification = store->verify_audit();
    EXPECT_FALSE(verification.ok);
    EXPECT_EQ(verification.first_bad_seq, 1);
    EXPECT_EQ(verification.problem, "row 1 missing (first row is 2)");
}

TEST_F(StoreTest, DeletedLastRowIsCaughtThroughTheChainHead) {
    auto store = open();
    append_events(*store, 5);
    RawDatabase(path_).exec(
        "DELETE FROM audit_fields WHERE seq = 5; DELETE FROM audit_events WHERE seq = 5");
    AuditVerification verification = store->verify_audit();
    EXPECT_FALSE(verification.ok);
    EXPECT_EQ(verification.first_bad_seq, 5);
    EXPECT_EQ(verification.rows_checked, 4);
    EXPECT_EQ(verification.problem, "row 5 missing (the chain head is row 5)");
}

TEST_F(StoreTest, EveryRowDeletedIsCaught) {
    auto store = open();
    append_events(*store, 2);
    RawDatabase(path_).exec("DELETE FROM audit_fields; DELETE FROM audit_events");
    AuditVerification verification = store->verify_audit();
    EXPECT_FALSE(verification.ok);
    EXPECT_EQ(verification.first_bad_seq, 1);
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

TEST_F(StoreTest, FiltersAuditEvents) {
    auto store = open();
    std::vector<AuditEvent> all;
    {
        auto transaction = store->begin();
        all.push_back(transaction->append(requested(100, "alice", "web")));
        all.push_back(transaction->append(audit_event("approved", 200,
                                                      {{"JIT_REQUEST_ID", "1"},
                                                       {"JIT_USER", "alice"},
                                                       {"JIT_RESOURCE", "web"},
                                                       {"JIT_ACTOR", "bob"},
                                                       {"JIT_COMMENT", ""}})));
        all.push_back(transaction->append(requested(300, "bob", "db")));
        all.push_back(transaction->append(audit_event("granted", 400,
                                                      {{"JIT_REQUEST_ID", "1"},
                                                       {"JIT_GRANT_ID", "1"},
                                                       {"JIT_USER", "alice"},
                                                       {"JIT_RESOURCE", "web"},
                                                       {"JIT_START", "400"},
                                                       {"JIT_EXPIRY", "4000"}})));
        all.push_back(transaction->append(audit_event(
            "resource_changed", 500,
            {{"JIT_ACTOR", "root"}, {"JIT_OBJECT", "web"}, {"JIT_CHANGE", "add-member"}})));
        transaction->commit();
    }
    auto filtered = [&](auto adjust) {
        AuditFilter filter;
        adjust(filter);
        return seqs(store->audit_events(filter));
    };
    EXPECT_EQ(store->audit_events({}), all);
    EXPECT_THAT(filtered([](AuditFilter& f) { f.since = 200; }), ElementsAre(2, 3, 4, 5));
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
    EXPECT_THAT(filtered([](AuditFilter& f) { f.after_seq = 3; }), ElementsAre(4, 5));
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
    // A filtered event still carries all of its fields in order.
    AuditFilter by_resource;
    by_resource.resource = "db";
    EXPECT_THAT(store->audit_events(by_resource), ElementsAre(all[2]));
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

// ---- chain identity and the journal's copy of the chain ----

namespace jit {
namespace {

using ::testing::MatchesRegex;

TEST_F(StoreTest, NewDatabaseGetsARandomChainIdentityThatStays) {
    const std::string chain = open()->audit_chain();
    EXPECT_THAT(chain, MatchesRegex("[0-9a-f]{32}"));
    EXPECT_EQ(open()->audit_chain(), chain);  // fixed when the database was created
    EXPECT_EQ(open()->audit_head_seq(), 0);
    append_events(*open(), 2);
    EXPECT_EQ(open()->audit_head_seq(), 2);
    EXPECT_EQ(open()->audit_chain(), chain);
    EXPECT_EQ(open()->verify_audit().chain, chain);

    TempDir other_dir;
    EXPECT_NE(open_sqlite_store(other_dir.path() + "/jit.db")->audit_chain(), chain);
}

TEST_F(StoreTest, MigrationGivesAnExistingDatabaseAChainIdentity) {
    {
        RawDatabase raw(path_);
        raw.exec(jit::sqlite::kSchemaV1);
        raw.exec(jit::sqlite::kSessionProcessIdentityV2);
        raw.exec(jit::sqlite::kSessionCgroupV3);
        raw.exec("PRAGMA user_version = 3");
    }
    append_events(*open(), 3);  // events before and after the migration share one chain
    auto store = open();
    EXPECT_THAT(store->audit_chain(), MatchesRegex("[0-9a-f]{32}"));
    AuditVerification verification = store->verify_audit();
    EXPECT_TRUE(verification.ok) << verification.problem;
    EXPECT_EQ(verification.chain, store->audit_chain());
}

TEST_F(StoreTest, AMissingChainIdentityIsAnError) {
    auto store = open();
    RawDatabase(path_).exec("DELETE FROM meta WHERE name = 'audit_chain'");
    EXPECT_THROW(store->audit_chain(), JitError);
}

TEST(AuditHashTest, ParsesLowerCaseHexOnly) {
    const std::string hash = sha256_hex("x");
    std::optional<AuditHash> parsed = parse_audit_hash(hash);
    ASSERT_TRUE(parsed);
    EXPECT_EQ((*parsed)[0], std::stoi(hash.substr(0, 2), nullptr, 16));
    EXPECT_FALSE(parse_audit_hash(hash.substr(1)));
    EXPECT_FALSE(parse_audit_hash(hash + "0"));
    std::string upper = hash;
    upper[0] = 'A';
    EXPECT_FALSE(parse_audit_hash(upper));
    EXPECT_FALSE(parse_audit_hash(""));
}

// One way the database, the journal, or both were changed after five events were written and
// forwarded, and what verification must say.
struct TamperCase {
    const char* name;
    // Changes the database at path and/or the journal's copy; rows are the five events.
    void (*tamper)(const std::string& path, const std::vector<AuditEvent>& rows,
                   JournalCopy& journal);
    Id first_bad_seq;  // 0: verification passes
    const char* problem;
    Id rows_in_journal;  // checked only when verification passes
};

JournalAuditEntry entry(Id seq, const std::string& hash_hex) {
    return {seq, *parse_audit_hash(hash_hex)};
}

void keep_journal(const std::string&, const std::vector<AuditEvent>&, JournalCopy&) {}

void journal_lags(const std::string&, const std::vector<AuditEvent>&, JournalCopy& journal) {
    journal.entries.resize(3);  // events 4 and 5 are still on their way
}

void journal_rotated(const std::string&, const std::vector<AuditEvent>&, JournalCopy& journal) {
    journal.entries.erase(journal.entries.begin(), journal.entries.begin() + 2);
}

void journal_has_duplicates(const std::string&, const std::vector<AuditEvent>&,
                            JournalCopy& journal) {
    journal.entries.push_back(journal.entries[3]);  // sent twice (crash before recording it)
}

void other_chains_seen(const std::string&, const std::vector<AuditEvent>&, JournalCopy& journal) {
    journal.other_chain_events = 7;
}

void row_edited(const std::string& path, const std::vector<AuditEvent>&, JournalCopy&) {
    RawDatabase(path).exec(
        "UPDATE audit_fields SET value = 'mallory' WHERE seq = 3 AND name = 'JIT_USER'");
}

// The newest rows deleted and the chain head moved back: a chain that checks out on its own.
void tail_truncated(const std::string& path, const std::vector<AuditEvent>& rows, JournalCopy&) {
    RawDatabase(path).exec(
        "DELETE FROM audit_fields WHERE seq > 3; DELETE FROM audit_events WHERE seq > 3; "
        "UPDATE meta SET value = '3' WHERE name = 'audit_head_seq'; "
        "UPDATE meta SET value = '" +
        rows[2].hash + "' WHERE name = 'audit_head_hash'");
}

// The database is an older copy of itself: the journal holds two events it never saw.
void older_copy_restored(const std::string&, const std::vector<AuditEvent>&, JournalCopy& journal) {
    journal.entries.push_back(entry(6, sha256_hex("approved")));
    journal.entries.push_back(entry(7, sha256_hex("granted")));
}

// An older copy restored and written on: seq 4 and 5 of the journal are other events.
void older_copy_written_anew(const std::string&, const std::vector<AuditEvent>&,
                             JournalCopy& journal) {
    journal.entries.insert(journal.entries.begin() + 3, entry(4, sha256_hex("lost 4")));
}

// Every row replaced by a consistent chain of other events (hashes recomputed).
void chain_rewritten(const std::string& path, const std::vector<AuditEvent>& rows, JournalCopy&) {
    RawDatabase raw(path);
    raw.exec("DELETE FROM audit_fields; DELETE FROM audit_events");
    std::string previous;
    for (const AuditEvent& row : rows) {
        AuditEvent forged = row;
        forged.time += 1;
        forged.prev_hash = previous;
        forged.hash.clear();
        forged.hash = sha256_hex(audit_canonical_form(forged));
        raw.exec("INSERT INTO audit_events VALUES (" + std::to_string(forged.seq) + ", " +
                 std::to_string(forged.time) + ", '" + forged.event + "', 'alice', 'db', '" +
                 forged.prev_hash + "', '" + forged.hash + "')");
        for (std::size_t i = 0; i < forged.fields.size(); ++i) {
            raw.exec("INSERT INTO audit_fields VALUES (" + std::to_string(forged.seq) + ", " +
                     std::to_string(i) + ", '" + forged.fields[i].first + "', '" +
                     forged.fields[i].second + "')");
        }
        previous = forged.hash;
    }
    raw.exec("UPDATE meta SET value = '" + previous + "' WHERE name = 'audit_head_hash'");
}

void journal_unreadable(const std::string&, const std::vector<AuditEvent>&, JournalCopy& journal) {
    journal = JournalCopy{};
    journal.error = "cannot open the journal: Permission denied";
}

class TamperTest : public StoreTest, public ::testing::WithParamInterface<TamperCase> {};

TEST_P(TamperTest, VerificationAgainstTheJournal) {
    const TamperCase& tamper = GetParam();
    auto store = open();
    std::vector<AuditEvent> rows = append_events(*store, 5);
    JournalCopy journal;
    journal.read = true;
    for (const AuditEvent& row : rows) {
        journal.entries.push_back(entry(row.seq, row.hash));
    }
    ASSERT_TRUE(store->verify_audit(journal).ok);

    tamper.tamper(path_, rows, journal);
    AuditVerification verification = store->verify_audit(journal);
    EXPECT_EQ(verification.first_bad_seq, tamper.first_bad_seq) << verification.problem;
    EXPECT_EQ(verification.ok, tamper.first_bad_seq == 0 && journal.read) << verification.problem;
    EXPECT_THAT(verification.problem, HasSubstr(tamper.problem));
    EXPECT_EQ(verification.chain, store->audit_chain());
    if (verification.ok) {
        EXPECT_EQ(verification.rows_checked, 5);
        EXPECT_EQ(verification.rows_in_journal, tamper.rows_in_journal);
        EXPECT_EQ(verification.journal_events, static_cast<Id>(journal.entries.size()));
        EXPECT_EQ(verification.other_chain_events, journal.other_chain_events);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Store, TamperTest,
    ::testing::Values(TamperCase{"Untouched", keep_journal, 0, "", 5},
                      TamperCase{"JournalLagsBehind", journal_lags, 0, "", 3},
                      TamperCase{"JournalRotatedOldestAway", journal_rotated, 0, "", 3},
                      TamperCase{"EventSentTwice", journal_has_duplicates, 0, "", 5},
                      TamperCase{"OtherChainsCounted", other_chains_seen, 0, "", 5},
                      TamperCase{"RowEdited", row_edited, 3, "row 3: hash mismatch", 0},
                      TamperCase{"TailTruncated", tail_truncated, 4, "up to seq 5", 0},
                      TamperCase{"OlderCopyRestored", older_copy_restored, 6, "up to seq 7", 0},
                      TamperCase{"OlderCopyWrittenAnew", older_copy_written_anew, 4,
                                 "also holds a different event", 0},
                      TamperCase{"ChainRewritten", chain_rewritten, 1,
                                 "differs from the journal's copy", 0},
                      TamperCase{"JournalUnreadable", journal_unreadable, 0,
                                 "cannot compare with the journal: cannot open", 0}),
    [](const ::testing::TestParamInfo<TamperCase>& param) { return param.param.name; });

}  // namespace
}  // namespace jit
