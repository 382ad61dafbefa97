// SPDX-License-Identifier: Apache-2.0
// The SQLite Store: one connection per Store in WAL mode (readers in other connections and
// processes never block on the writer), foreign keys on, a busy timeout for the write lock,
// prepared statements cached per connection, and the schema migrated through
// PRAGMA user_version (see sqlite_schema.hpp).
//
// Transactions: one at a time per Store. begin() takes the write lock at once (BEGIN
// IMMEDIATE), so a transaction never fails halfway for lack of it. While a Transaction is
// open, begin() and set_journal_sent_seq() refuse, and the Store's reads see its uncommitted
// changes. A Transaction keeps the connection alive, so it may outlive its Store. An operation
// that fails inside a Transaction poisons it: partial writes can only be rolled back.
//
// The audit log and the meta rows (chain head, journal position) are in sqlite_audit.cpp.

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "jit/error.hpp"
#include "jit/model.hpp"
#include "jit/store.hpp"
#include "jit/text.hpp"
#include "sqlite_audit.hpp"
#include "sqlite_db.hpp"
#include "sqlite_schema.hpp"
#include "transaction_step.hpp"

namespace jit {
namespace {

using sqlite::append_audit_event;
using sqlite::ChainHead;
using sqlite::Database;
using sqlite::kAuditChain;
using sqlite::kJournalSentSeq;
using sqlite::Query;
using sqlite::read_audit_events;
using sqlite::read_chain_head;
using sqlite::read_meta;
using sqlite::read_meta_id;
using sqlite::ReadSnapshot;
using sqlite::TransactionGuard;
using sqlite::verify_audit_rows;
using sqlite::write_chain_head;
using sqlite::write_meta;

// How long a connection waits for another connection's write lock before giving up.
constexpr int kBusyTimeoutMs = 5000;

// The connection with the one-transaction-at-a-time flag, shared by a Store and its open
// Transaction.
struct Connection {
    explicit Connection(const std::string& path) : database(path) {}
    Database database;
    bool transaction_open = false;
};

// A value the model refuses to parse means the file was edited or corrupted: an internal
// error of the store, not bad input from a caller.
template <class Parse>
auto parse_stored(const Database& database, std::string_view what, Parse parse,
                  const std::string& text) {
    try {
        return parse(text);
    } catch (const JitError& error) {
        database.fail(what, error.what());
    }
}

// The parent row of a child-table row. With foreign keys on there always is one; a missing
// parent means the file was edited with foreign keys off.
template <class Key>
std::size_t parent_index(const Database& database, std::string_view what,
                         const std::unordered_map<Key, std::size_t>& index, const Key& key) {
    auto found = index.find(key);
    if (found == index.end()) {
        database.fail(what, "row for a missing parent");
    }
    return found->second;
}

// ---- schema ----

void configure(Database& database) {
    if (sqlite3_busy_timeout(database.handle(), kBusyTimeoutMs) != SQLITE_OK) {
        database.fail("set busy timeout");
    }
    std::string mode;
    {
        Query journal_mode = database.query("enable WAL", "PRAGMA journal_mode = WAL");
        if (journal_mode.next()) {
            mode = journal_mode.text(0);
        }
    }
    if (mode != "wal") {
        database.fail("enable WAL", "journal mode stays '" + mode + "'");
    }
    // FULL syncs the WAL at every commit: an audit event must survive a power cut, not only a
    // crash of jitd. jitd relaxes it with defer_sync() and syncs the WAL itself, once for many
    // commits, before it acknowledges any of them.
    database.query("set synchronous", "PRAGMA synchronous = FULL").run();
    database.query("enable foreign keys", "PRAGMA foreign_keys = ON").run();
}

void migrate(Database& database) {
    TransactionGuard transaction(database, "BEGIN IMMEDIATE");
    std::int64_t version = 0;
    {
        Query user_version = database.query("read schema version", "PRAGMA user_version");
        if (user_version.next()) {
            version = user_version.integer(0);
        }
    }
    const auto known = static_cast<std::int64_t>(sqlite::kMigrations.size());
    if (version > known) {
        database.fail("schema migration", "database schema version " + std::to_string(version) +
                                              " is newer than the version " +
                                              std::to_string(known) + " this program knows");
    }
    if (version == known) {
        return;  // the guard ends the read-only transaction
    }
    for (auto step = version; step < known; ++step) {
        database.execute_script("schema migration to version " + std::to_string(step + 1),
                                sqlite::kMigrations[static_cast<std::size_t>(step)]);
    }
    // PRAGMA takes no bound parameters; the number is our own constant, not input.
    database.execute_script("set schema version", "PRAGMA user_version = " + std::to_string(known));
    transaction.commit();
}

// ---- loading ----

std::vector<Policy> load_policies(Database& database) {
    std::vector<Policy> policies;
    std::unordered_map<std::string, std::size_t> index;
    Query rows = database.query("load policies",
                                "SELECT name, description, action, approvals_required, "
                                "max_duration, auto_expiry, request_ttl, active, "
                                "reason_pattern, reason_min_length FROM policies ORDER BY name");
    while (rows.next()) {
        Policy& policy = policies.emplace_back();
        policy.name = rows.text(0);
        policy.description = rows.text(1);
        policy.action = parse_stored(database, "load policies", parse_policy_action, rows.text(2));
        policy.approvals_required = static_cast<int>(rows.integer(3));
        policy.max_duration = rows.integer(4);
        policy.auto_expiry = rows.flag(5);
        policy.request_ttl = rows.integer(6);
        policy.active = rows.flag(7);
        policy.reason_pattern = rows.text(8);
        policy.reason_min_length = static_cast<int>(rows.integer(9));
        index.emplace(policy.name, policies.size() - 1);
    }
    Query approvers =
        database.query("load policy approvers",
                       "SELECT policy, approver FROM policy_approvers ORDER BY policy, position");
    while (approvers.next()) {
        policies[parent_index(database, "load policy approvers", index, approvers.text(0))]
            .approvers.push_back(approvers.text(1));
    }
    return policies;
}

std::vector<Resource> load_resources(Database& database) {
    std::vector<Resource> resources;
    std::unordered_map<std::string, std::size_t> index;
    Query rows = database.query("load resources",
                                "SELECT name, description, policy FROM resources ORDER BY name");
    while (rows.next()) {
        Resource& resource = resources.emplace_back();
        resource.name = rows.text(0);
        resource.description = rows.text(1);
        resource.policy = rows.text(2);  // NULL reads as "": no policy
        index.emplace(resource.name, resources.size() - 1);
    }
    Query lists = database.query(
        "load resource lists",
        "SELECT resource, list, value FROM resource_lists ORDER BY resource, list, position");
    while (lists.next()) {
        Resource& resource =
            resources[parent_index(database, "load resource lists", index, lists.text(0))];
        std::string list = lists.text(1);
        if (list == "service") {
            resource.services.push_back(lists.text(2));
        } else if (list == "account") {
            resource.accounts.push_back(lists.text(2));
        } else if (list == "member") {
            resource.members.push_back(lists.text(2));
        } else if (list == "host") {
            resource.hosts.push_back(lists.text(2));
        } else {
            database.fail("load resource lists", "unknown list '" + list + "'");
        }
    }
    return resources;
}

std::vector<Request> load_requests(Database& database) {
    std::vector<Request> requests;
    std::unordered_map<Id, std::size_t> index;
    Query rows = database.query(
        "load requests",
        "SELECT id, resource, requester, policy, reason, requested_duration, duration, capped, "
        "state, created, decided, expires, approvals_required, auto_expiry, grant_id, start, "
        "extends FROM requests ORDER BY id");
    while (rows.next()) {
        Request& request = requests.emplace_back();
        request.id = rows.integer(0);
        request.resource = rows.text(1);
        request.requester = rows.text(2);
        request.policy = rows.text(3);
        request.reason = rows.text(4);
        request.requested_duration = rows.integer(5);
        request.duration = rows.integer(6);
        request.capped = rows.flag(7);
        request.state = parse_stored(database, "load requests", parse_request_state, rows.text(8));
        request.created = rows.integer(9);
        request.decided = rows.optional_integer(10);
        request.expires = rows.integer(11);
        request.approvals_required = static_cast<int>(rows.integer(12));
        request.auto_expiry = rows.flag(13);
        request.grant_id = rows.optional_integer(14);
        request.start = rows.optional_integer(15);
        request.extends = rows.optional_integer(16);
        index.emplace(request.id, requests.size() - 1);
    }
    Query approvals = database.query("load request approvals",
                                     "SELECT request_id, approver, decision, comment, time "
                                     "FROM request_approvals ORDER BY request_id, position");
    while (approvals.next()) {
        Request& request =
            requests[parent_index(database, "load request approvals", index, approvals.integer(0))];
        Approval& approval = request.approvals.emplace_back();
        approval.approver = approvals.text(1);
        approval.decision =
            parse_stored(database, "load request approvals", parse_decision, approvals.text(2));
        approval.comment = approvals.text(3);
        approval.time = approvals.integer(4);
    }
    return requests;
}

std::vector<Grant> load_grants(Database& database) {
    std::vector<Grant> grants;
    Query rows = database.query("load grants",
                                "SELECT id, request_id, user_name, resource, start, expiry, "
                                "state, ended, ended_by FROM grants ORDER BY id");
    while (rows.next()) {
        Grant& grant = grants.emplace_back();
        grant.id = rows.integer(0);
        grant.request_id = rows.integer(1);
        grant.user = rows.text(2);
        grant.resource = rows.text(3);
        grant.start = rows.integer(4);
        grant.expiry = rows.optional_integer(5);
        grant.state = parse_stored(database, "load grants", parse_grant_state, rows.text(6));
        grant.ended = rows.optional_integer(7);
        grant.ended_by = rows.text(8);
    }
    return grants;
}

std::vector<Session> load_sessions(Database& database) {
    std::vector<Session> sessions;
    Query rows = database.query(
        "load sessions",
        "SELECT id, grant_id, user_name, target, service, rhost, tty, pid, logind_session, "
        "opened, closed, state, pid_start, boot_id, cgroup, fingerprint, host FROM sessions "
        "ORDER BY id");
    while (rows.next()) {
        Session& session = sessions.emplace_back();
        session.id = rows.integer(0);
        session.grant_id = rows.integer(1);
        session.user = rows.text(2);
        session.target = rows.text(3);
        session.service = rows.text(4);
        session.rhost = rows.text(5);
        session.tty = rows.text(6);
        session.pid = rows.integer(7);
        session.logind_session = rows.text(8);
        session.opened = rows.integer(9);
        session.closed = rows.optional_integer(10);
        session.state = parse_stored(database, "load sessions", parse_session_state, rows.text(11));
        session.pid_start = rows.integer(12);
        session.boot_id = rows.text(13);
        session.cgroup = rows.text(14);
        session.fingerprint = rows.text(15);
        session.host = rows.text(16);
    }
    return sessions;
}

std::vector<SshKey> load_keys(Database& database) {
    std::vector<SshKey> keys;
    Query rows = database.query(
        "load keys",
        "SELECT fingerprint, user_name, type, key_data, comment, added FROM keys ORDER BY added, "
        "fingerprint");
    while (rows.next()) {
        SshKey& key = keys.emplace_back();
        key.fingerprint = rows.text(0);
        key.user = rows.text(1);
        key.type = rows.text(2);
        key.base64 = rows.text(3);
        key.comment = rows.text(4);
        key.added = rows.integer(5);
    }
    return keys;
}

std::vector<StoredReview> load_reviews(Database& database) {
    std::vector<StoredReview> reviews;
    Query rows = database.query("load grant reviews",
                                "SELECT grant_id, host, accounts, start_fingerprint, changes, "
                                "incomplete, reviewed_at FROM grant_reviews ORDER BY grant_id");
    while (rows.next()) {
        StoredReview& review = reviews.emplace_back();
        review.grant_id = rows.integer(0);
        review.host = rows.text(1);
        review.accounts = split_lines(rows.text(2));
        review.before = rows.text(3);
        if (auto reviewed_at = rows.optional_integer(6)) {
            review.review = GrantReview{*reviewed_at, rows.text(4), rows.text(5)};
        }
    }
    return reviews;
}

// ---- transaction ----

class SqliteTransaction final : public Transaction {
  public:
    explicit SqliteTransaction(std::shared_ptr<Connection> connection)
        : connection_(std::move(connection)),
          database_(connection_->database),
          transaction_(database_, "BEGIN IMMEDIATE") {
        connection_->transaction_open = true;
    }
    // Clears the flag; then transaction_ rolls back unless committed.
    ~SqliteTransaction() override { connection_->transaction_open = false; }

    void put(const Resource& resource) override;
    void remove_resource(const std::string& name) override;
    void put(const Policy& policy) override;
    void remove_policy(const std::string& name) override;
    Id put(const Request& request) override;
    Id put(const Grant& grant) override;
    Id put(const Session& session) override;
    void put(const SshKey& key) override;
    void remove_key(const std::string& fingerprint) override;
    void put(const StoredReview& review) override;
    AuditEvent append(const AuditEvent& event) override;
    void commit() override;

  private:
    // Scopes one operation (transaction_step.hpp).
    struct Operation : TransactionStep {
        Operation(SqliteTransaction& transaction, std::string_view what)
            : TransactionStep(transaction.state_,
                              [&](const char* why) { transaction.database_.fail(what, why); }) {}
    };

    void put_resource_list(const std::string& resource, std::string_view list,
                           const std::vector<std::string>& values);
    ChainHead& chain_head();

    std::shared_ptr<Connection> connection_;
    Database& database_;
    TransactionGuard transaction_;
    TransactionState state_ = TransactionState::Open;
    std::optional<ChainHead> head_;  // read at the first append
    bool head_moved_ = false;        // events appended: the head is written at commit
};

void SqliteTransaction::put_resource_list(const std::string& resource, std::string_view list,
                                          const std::vector<std::string>& values) {
    for (std::size_t position = 0; position < values.size(); ++position) {
        database_
            .query("put resource",
                   "INSERT INTO resource_lists (resource, list, position, value) "
                   "VALUES (?, ?, ?, ?)")
            .bind(resource)
            .bind(list)
            .bind(static_cast<std::int64_t>(position))
            .bind(values[position])
            .run();
    }
}

void SqliteTransaction::put(const Resource& resource) {
    Operation operation(*this, "put resource");
    database_
        .query("put resource",
               "INSERT INTO resources (name, description, policy) VALUES (?, ?, ?) "
               "ON CONFLICT (name) DO UPDATE SET description = excluded.description, "
               "policy = excluded.policy")
        .bind(resource.name)
        .bind(resource.description)
        .bind_text_or_null(resource.policy)
        .run();
    database_.query("put resource", "DELETE FROM resource_lists WHERE resource = ?")
        .bind(resource.name)
        .run();
    put_resource_list(resource.name, "service", resource.services);
    put_resource_list(resource.name, "account", resource.accounts);
    put_resource_list(resource.name, "member", resource.members);
    put_resource_list(resource.name, "host", resource.hosts);
}

void SqliteTransaction::remove_resource(const std::string& name) {
    Operation operation(*this, "remove resource");
    database_.query("remove resource", "DELETE FROM resources WHERE name = ?").bind(name).run();
}

void SqliteTransaction::put(const Policy& policy) {
    Operation operation(*this, "put policy");
    database_
        .query("put policy",
               "INSERT INTO policies (name, description, action, approvals_required, "
               "max_duration, auto_expiry, request_ttl, active, reason_pattern, "
               "reason_min_length) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
               "ON CONFLICT (name) DO UPDATE SET description = excluded.description, "
               "action = excluded.action, approvals_required = excluded.approvals_required, "
               "max_duration = excluded.max_duration, auto_expiry = excluded.auto_expiry, "
               "request_ttl = excluded.request_ttl, active = excluded.active, "
               "reason_pattern = excluded.reason_pattern, "
               "reason_min_length = excluded.reason_min_length")
        .bind(policy.name)
        .bind(policy.description)
        .bind(to_string(policy.action))
        .bind(policy.approvals_required)
        .bind(policy.max_duration)
        .bind_flag(policy.auto_expiry)
        .bind(policy.request_ttl)
        .bind_flag(policy.active)
        .bind(policy.reason_pattern)
        .bind(policy.reason_min_length)
        .run();
    database_.query("put policy", "DELETE FROM policy_approvers WHERE policy = ?")
        .bind(policy.name)
        .run();
    for (std::size_t position = 0; position < policy.approvers.size(); ++position) {
        database_
            .query("put policy",
                   "INSERT INTO policy_approvers (policy, position, approver) VALUES (?, ?, ?)")
            .bind(policy.name)
            .bind(static_cast<std::int64_t>(position))
            .bind(policy.approvers[position])
            .run();
    }
}

void SqliteTransaction::remove_policy(const std::string& name) {
    Operation operation(*this, "remove policy");
    database_.query("remove policy", "DELETE FROM policies WHERE name = ?").bind(name).run();
}

// Requests, grants and sessions: a new object (id 0) is inserted with a NULL id, which
// INTEGER PRIMARY KEY turns into the next free id, returned by RETURNING; a known one is
// upserted under its id. (PostgreSQL would spell the new-id case with DEFAULT.)
Id SqliteTransaction::put(const Request& request) {
    Operation operation(*this, "put request");
    Query upsert = database_.query(
        "put request",
        "INSERT INTO requests (id, resource, requester, policy, reason, requested_duration, "
        "duration, capped, state, created, decided, expires, approvals_required, auto_expiry, "
        "grant_id, start, extends) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET resource = excluded.resource, "
        "requester = excluded.requester, policy = excluded.policy, reason = excluded.reason, "
        "requested_duration = excluded.requested_duration, duration = excluded.duration, "
        "capped = excluded.capped, state = excluded.state, created = excluded.created, "
        "decided = excluded.decided, expires = excluded.expires, "
        "approvals_required = excluded.approvals_required, auto_expiry = excluded.auto_expiry, "
        "grant_id = excluded.grant_id, start = excluded.start, extends = excluded.extends "
        "RETURNING id");
    upsert.bind(request.id ? std::optional<Id>(request.id) : std::nullopt)
        .bind(request.resource)
        .bind(request.requester)
        .bind(request.policy)
        .bind(request.reason)
        .bind(request.requested_duration)
        .bind(request.duration)
        .bind_flag(request.capped)
        .bind(to_string(request.state))
        .bind(request.created)
        .bind(request.decided)
        .bind(request.expires)
        .bind(request.approvals_required)
        .bind_flag(request.auto_expiry)
        .bind(request.grant_id)
        .bind(request.start)
        .bind(request.extends);
    if (!upsert.next()) {
        database_.fail("put request", "no id returned");
    }
    const Id id = upsert.integer(0);

    database_.query("put request", "DELETE FROM request_approvals WHERE request_id = ?")
        .bind(id)
        .run();
    for (std::size_t position = 0; position < request.approvals.size(); ++position) {
        const Approval& approval = request.approvals[position];
        database_
            .query("put request",
                   "INSERT INTO request_approvals (request_id, position, approver, decision, "
                   "comment, time) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(id)
            .bind(static_cast<std::int64_t>(position))
            .bind(approval.approver)
            .bind(to_string(approval.decision))
            .bind(approval.comment)
            .bind(approval.time)
            .run();
    }
    return id;
}

Id SqliteTransaction::put(const Grant& grant) {
    Operation operation(*this, "put grant");
    Query upsert = database_.query(
        "put grant",
        "INSERT INTO grants (id, request_id, user_name, resource, start, expiry, state, ended, "
        "ended_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET request_id = excluded.request_id, "
        "user_name = excluded.user_name, resource = excluded.resource, start = excluded.start, "
        "expiry = excluded.expiry, state = excluded.state, ended = excluded.ended, "
        "ended_by = excluded.ended_by RETURNING id");
    upsert.bind(grant.id ? std::optional<Id>(grant.id) : std::nullopt)
        .bind(grant.request_id)
        .bind(grant.user)
        .bind(grant.resource)
        .bind(grant.start)
        .bind(grant.expiry)
        .bind(to_string(grant.state))
        .bind(grant.ended)
        .bind(grant.ended_by);
    if (!upsert.next()) {
        database_.fail("put grant", "no id returned");
    }
    return upsert.integer(0);
}

Id SqliteTransaction::put(const Session& session) {
    Operation operation(*this, "put session");
    Query upsert = database_.query(
        "put session",
        "INSERT INTO sessions (id, grant_id, user_name, target, service, rhost, tty, pid, "
        "logind_session, opened, closed, state, pid_start, boot_id, cgroup, fingerprint, host) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET grant_id = excluded.grant_id, "
        "user_name = excluded.user_name, target = excluded.target, "
        "service = excluded.service, rhost = excluded.rhost, tty = excluded.tty, "
        "pid = excluded.pid, logind_session = excluded.logind_session, "
        "opened = excluded.opened, closed = excluded.closed, state = excluded.state, "
        "pid_start = excluded.pid_start, boot_id = excluded.boot_id, cgroup = excluded.cgroup, "
        "fingerprint = excluded.fingerprint, host = excluded.host RETURNING id");
    upsert.bind(session.id ? std::optional<Id>(session.id) : std::nullopt)
        .bind(session.grant_id)
        .bind(session.user)
        .bind(session.target)
        .bind(session.service)
        .bind(session.rhost)
        .bind(session.tty)
        .bind(session.pid)
        .bind(session.logind_session)
        .bind(session.opened)
        .bind(session.closed)
        .bind(to_string(session.state))
        .bind(session.pid_start)
        .bind(session.boot_id)
        .bind(session.cgroup)
        .bind(session.fingerprint)
        .bind(session.host);
    if (!upsert.next()) {
        database_.fail("put session", "no id returned");
    }
    return upsert.integer(0);
}

// A key keeps its owner: the fingerprint is the primary key and an existing row is not
// overwritten (the engine refuses a key someone already holds before it gets here).
void SqliteTransaction::put(const SshKey& key) {
    Operation operation(*this, "put key");
    database_
        .query("put key",
               "INSERT INTO keys (fingerprint, user_name, type, key_data, comment, added) "
               "VALUES (?, ?, ?, ?, ?, ?)")
        .bind(key.fingerprint)
        .bind(key.user)
        .bind(key.type)
        .bind(key.base64)
        .bind(key.comment)
        .bind(key.added)
        .run();
}

void SqliteTransaction::remove_key(const std::string& fingerprint) {
    Operation operation(*this, "remove key");
    database_.query("remove key", "DELETE FROM keys WHERE fingerprint = ?").bind(fingerprint).run();
}

void SqliteTransaction::put(const StoredReview& review) {
    Operation operation(*this, "put grant review");
    const GrantReview none;
    const GrantReview& result = review.review ? *review.review : none;
    database_
        .query("put grant review",
               "INSERT OR REPLACE INTO grant_reviews (grant_id, host, accounts, "
               "start_fingerprint, changes, incomplete, reviewed_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(review.grant_id)
        .bind(review.host)
        .bind(join(review.accounts, "\n"))
        .bind(review.before)
        .bind(result.changes)
        .bind(result.incomplete)
        .bind(review.review ? std::optional<EpochSeconds>(result.reviewed_at) : std::nullopt)
        .run();
}

ChainHead& SqliteTransaction::chain_head() {
    // Read inside the write lock, so no other connection can append in between.
    if (!head_) {
        head_ = read_chain_head(database_);
    }
    return *head_;
}

AuditEvent SqliteTransaction::append(const AuditEvent& event) {
    Operation operation(*this, "append audit event");
    AuditEvent row = append_audit_event(database_, chain_head(), event);
    head_moved_ = true;
    return row;
}

void SqliteTransaction::commit() {
    Operation operation(*this, "commit");
    if (head_ && head_moved_) {
        write_chain_head(database_, *head_);
    }
    transaction_.commit();
    state_ = TransactionState::Committed;
    connection_->transaction_open = false;
}

// ---- store ----

class SqliteStore final : public Store {
  public:
    explicit SqliteStore(const std::string& path)
        : connection_(std::make_shared<Connection>(path)), database_(connection_->database) {
        configure(database_);
        migrate(database_);
    }

    StoredState load() override;
    std::unique_ptr<Transaction> begin() override;
    std::vector<AuditEvent> audit_events(const AuditFilter& filter) override;
    AuditVerification verify_audit(const JournalCopy& journal) override;
    Id audit_head_seq() override;
    std::string audit_chain() override;
    Id journal_sent_seq() override;
    void set_journal_sent_seq(Id seq) override;
    void defer_sync() override;
    bool sync_pending() override;
    void sync() override;

  private:
    std::shared_ptr<Connection> connection_;
    Database& database_;
    bool deferred_ = false;
    sqlite3_int64 synced_changes_ = 0;  // sqlite3_total_changes64() at the last sync
};

// NORMAL in WAL mode: a commit is written to the WAL without fsync (checkpoints still sync);
// sync() makes the WAL durable for all the commits since the last one at once.
void SqliteStore::defer_sync() {
    database_.query("defer sync", "PRAGMA synchronous = NORMAL").run();
    deferred_ = true;
    synced_changes_ = sqlite3_total_changes64(database_.handle());
}

bool SqliteStore::sync_pending() {
    return deferred_ && sqlite3_total_changes64(database_.handle()) != synced_changes_;
}

void SqliteStore::sync() {
    if (!sync_pending()) {
        return;
    }
    const sqlite3_int64 changes = sqlite3_total_changes64(database_.handle());
    // The WAL's own file handle (SQLite's), synced the way SQLite syncs it at a FULL commit.
    sqlite3_file* wal = nullptr;
    if (sqlite3_file_control(database_.handle(), "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) !=
        SQLITE_OK) {
        database_.fail("find the write-ahead log to sync");
    }
    if (wal != nullptr && wal->pMethods != nullptr) {
        if (int rc = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL); rc != SQLITE_OK) {
            database_.fail("sync the write-ahead log", sqlite3_errstr(rc));
        }
    }
    synced_changes_ = changes;
}

StoredState SqliteStore::load() {
    ReadSnapshot snapshot(database_);
    StoredState state;
    state.resources = load_resources(database_);
    state.policies = load_policies(database_);
    state.requests = load_requests(database_);
    state.grants = load_grants(database_);
    state.sessions = load_sessions(database_);
    state.keys = load_keys(database_);
    state.reviews = load_reviews(database_);
    ChainHead head = read_chain_head(database_);
    state.last_audit_seq = head.seq;
    state.last_audit_hash = std::move(head.hash);
    snapshot.end();
    return state;
}

std::unique_ptr<Transaction> SqliteStore::begin() {
    if (connection_->transaction_open) {
        database_.fail("begin transaction", "another transaction is still open (one at a time)");
    }
    return std::make_unique<SqliteTransaction>(connection_);
}

std::vector<AuditEvent> SqliteStore::audit_events(const AuditFilter& filter) {
    return read_audit_events(database_, filter);
}

AuditVerification SqliteStore::verify_audit(const JournalCopy& journal) {
    ReadSnapshot snapshot(database_);
    AuditVerification result = verify_audit_rows(database_, journal);
    result.chain = audit_chain();
    snapshot.end();
    return result;
}

Id SqliteStore::audit_head_seq() {
    return read_chain_head(database_).seq;
}

std::string SqliteStore::audit_chain() {
    std::optional<std::string> chain = read_meta(database_, kAuditChain);
    if (!chain || chain->empty()) {
        database_.fail("read audit chain", "the meta table has no audit_chain");
    }
    return *chain;
}

Id SqliteStore::journal_sent_seq() {
    return read_meta_id(database_, kJournalSentSeq);
}

void SqliteStore::set_journal_sent_seq(Id seq) {
    // Inside an open Transaction the write would silently join it and share its fate.
    if (connection_->transaction_open) {
        database_.fail("set journal sent seq", "a transaction is open");
    }
    write_meta(database_, kJournalSentSeq, std::to_string(seq));
}

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::string& path) {
    return std::make_unique<SqliteStore>(path);
}

}  // namespace jit
