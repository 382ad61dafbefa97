// SPDX-License-Identifier: Apache-2.0
// The PostgreSQL Store: the shared store of a fleet (docs/fleet.md). One connection per
// Store; every statement with values is prepared (pg_db.hpp); the schema is migrated through
// schema_version (pg_schema.hpp) under an advisory lock, because every host's jitd may start
// at once.
//
// Transactions: one at a time per Store, READ COMMITTED. begin() locks the chain head row
// (audit_head) first, so the writing transactions of all hosts run one after another: the
// chain is appended from the head the transaction holds and can neither fork nor break, and a
// change is committed with its audit events or not at all. A Transaction keeps the connection
// alive, so it may outlive its Store; an operation that fails inside it poisons it.
//
// Each host keeps its own journal position (journal_sent, by host): a host's journal holds
// the events that host sent.

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "audit_chain.hpp"
#include "jit/error.hpp"
#include "jit/model.hpp"
#include "jit/store.hpp"
#include "model_transaction.hpp"
#include "pg_db.hpp"
#include "pg_schema.hpp"
#include "table_sql.hpp"
#include "transaction_step.hpp"

namespace jit {
namespace {

using pg::Params;
using pg::Rows;
using sqlite::audit_hash;
using sqlite::AuditRow;
using sqlite::ChainChecker;
using sqlite::ChainHead;
using sqlite::field_value;
using sqlite::group_audit_rows;
using sqlite::kAuditColumns;
using sqlite::kAuditJoin;

// Audit rows are read in pages, so a long log is never held in memory at once.
constexpr int kAuditPage = 1000;

using Link = SharedConnection<pg::Connection>;
using Snapshot = ReadSnapshot<pg::TransactionGuard>;

// ---- schema ----

void migrate(pg::Connection& connection) {
    pg::TransactionGuard transaction(connection, "BEGIN");
    connection.run("lock schema", "SELECT pg_advisory_xact_lock($1)",
                   Params().integer(pg::kMigrationLockKey));
    connection.execute("create schema_version", pg::kSchemaVersionTable);
    Rows version_row =
        connection.run("read schema version", "SELECT version FROM schema_version WHERE id = 1");
    const std::int64_t version = version_row.integer(0, 0);
    const auto known = static_cast<std::int64_t>(pg::kMigrations.size());
    if (version > known) {
        connection.fail("schema migration", "database schema version " + std::to_string(version) +
                                                " is newer than the version " +
                                                std::to_string(known) + " this program knows");
    }
    for (auto step = version; step < known; ++step) {
        connection.execute("schema migration to version " + std::to_string(step + 1),
                           pg::kMigrations[static_cast<std::size_t>(step)]);
    }
    connection.run("set schema version", "UPDATE schema_version SET version = $1 WHERE id = 1",
                   Params().integer(known));
    transaction.commit();
}

ChainHead read_chain_head(pg::Connection& connection, bool lock) {
    Rows rows = connection.run("read audit chain head",
                               lock ? "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"
                                    : "SELECT seq, hash FROM audit_head WHERE id = 1");
    if (rows.size() != 1) {
        connection.fail("read audit chain head", "the audit_head row is missing");
    }
    return {rows.integer(0, 0), rows.text(0, 1)};
}

// ---- audit rows ----

// A cursor over a result for group_audit_rows() (audit_chain.hpp).
class RowCursor {
  public:
    explicit RowCursor(const Rows& rows) : rows_(rows) {}
    bool next() { return ++row_ < rows_.size(); }
    std::int64_t integer(int column) const { return rows_.integer(row_, column); }
    std::optional<std::int64_t> optional_integer(int column) const {
        return rows_.optional_integer(row_, column);
    }
    bool flag(int column) const { return rows_.flag(row_, column); }
    std::string text(int column) const { return rows_.text(row_, column); }
    std::optional<std::string> optional_text(int column) const {
        return rows_.optional_text(row_, column);
    }
    bool is_null(int column) const { return rows_.is_null(row_, column); }

  private:
    const Rows& rows_;
    int row_ = -1;
};

// The model's tables through this connection (model_tables.hpp).
class Tables {
  public:
    explicit Tables(pg::Connection& connection) : connection_(connection) {}

    const table_sql::Statements& sql() const {
        static const table_sql::Statements statements =
            table_sql::build({[](int n) { return "$" + std::to_string(n); },
                              [](const std::string& table, const std::string& parameter) {
                                  // Safe because writers hold the chain head lock: one writer at a
                                  // time.
                                  return "COALESCE(" + parameter +
                                         "::bigint, (SELECT COALESCE(max(id), 0) + 1 " + "FROM " +
                                         table + "))";
                              },
                              " COLLATE \"C\""});
        return statements;
    }

    template <class OnRow>
    void each_row(std::string_view what, const std::string& sql, OnRow on_row) {
        Rows rows = connection_.run(what, sql, filter_);
        RowCursor cursor(rows);
        while (cursor.next()) {
            on_row(std::as_const(cursor));
        }
    }

    // The objects a transaction changed, once each, for the change feed.
    void changed(std::string_view kind, const std::string& key) {
        if (seen_.emplace(std::string(kind), key).second) {
            changes_.emplace_back(kind, key);
        }
    }
    const std::vector<std::pair<std::string, std::string>>& changes() const { return changes_; }

    std::optional<Id> run(std::string_view what, const std::string& sql,
                          const model_tables::Values& values) {
        Params params;
        for (const model_tables::Value& value : values) {
            if (const auto* number = std::get_if<std::int64_t>(&value)) {
                params.integer(*number);
            } else if (const auto* text = std::get_if<std::string>(&value)) {
                params.text(*text);
            } else {
                params.optional_integer(std::nullopt);
            }
        }
        Rows rows = connection_.run(what, sql, params);
        return rows.size() > 0 ? std::optional<Id>(rows.integer(0, 0)) : std::nullopt;
    }

    [[noreturn]] void fail(std::string_view what, std::string_view why) const {
        connection_.fail(what, why);
    }

  protected:
    Tables(pg::Connection& connection, Params filter)
        : connection_(connection), filter_(std::move(filter)) {}

  private:
    pg::Connection& connection_;
    Params filter_;  // the values of the selects (FeedTables)
    std::set<std::pair<std::string, std::string>> seen_;
    std::vector<std::pair<std::string, std::string>> changes_;
};

// The selects of Tables narrowed to the objects that other hosts changed after a position of
// the change feed ($1: the position, $2: this host): load_state() through it reads only those.
class FeedTables : public Tables {
  public:
    FeedTables(pg::Connection& connection, Id after, const std::string& host)
        : Tables(connection, Params().integer(after).text(host)) {}

    const table_sql::Statements& sql() const {
        static const table_sql::Statements statements = narrowed(Tables::sql());
        return statements;
    }

  private:
    static std::string only_changed(const std::string& select, const char* key, const char* kind) {
        const std::string filter = std::string(" WHERE ") + key +
                                   "::text IN (SELECT key FROM change_log WHERE seq > $1 AND "
                                   "host <> $2 AND kind = '" +
                                   kind + "')";
        std::string sql = select;
        sql.insert(sql.find(" ORDER BY "), filter);
        return sql;
    }

    static table_sql::Statements narrowed(table_sql::Statements sql) {
        sql.select_resources = only_changed(sql.select_resources, "name", "resource");
        sql.select_resource_lists = only_changed(sql.select_resource_lists, "resource", "resource");
        sql.select_policies = only_changed(sql.select_policies, "name", "policy");
        sql.select_policy_approvers = only_changed(sql.select_policy_approvers, "policy", "policy");
        sql.select_requests = only_changed(sql.select_requests, "id", "request");
        sql.select_request_approvals =
            only_changed(sql.select_request_approvals, "request_id", "request");
        sql.select_grants = only_changed(sql.select_grants, "id", "grant");
        sql.select_sessions = only_changed(sql.select_sessions, "id", "session");
        sql.select_keys = only_changed(sql.select_keys, "fingerprint", "key");
        sql.select_reviews = only_changed(sql.select_reviews, "grant_id", "review");
        return sql;
    }
};

// The change feed's last position (every host's changes).
Id feed_head(pg::Connection& connection) {
    return connection.run("read change feed", "SELECT COALESCE(max(seq), 0) FROM change_log")
        .integer(0, 0);
}

// ---- transaction ----

class PgTransaction final : public ModelTransaction<Tables> {
  public:
    // applied: this host's position in the change feed. A change made from memory that misses
    // another host's later change could undo it, so the transaction is refused (StoreBehind)
    // when any other host's change lies beyond it; the chain head lock keeps it so to commit.
    PgTransaction(std::shared_ptr<Link> link, std::string host, std::optional<Id> applied)
        : ModelTransaction(Tables(link->connection)),
          link_(std::move(link)),
          connection_(link_->connection),
          host_(std::move(host)),
          transaction_(connection_, "BEGIN ISOLATION LEVEL READ COMMITTED"),
          head_(read_chain_head(connection_, true)) {
        link_->transaction_open = true;
        if (!applied) {
            return;
        }
        Rows behind = connection_.run(
            "read change feed", "SELECT 1 FROM change_log WHERE seq > $1 AND host <> $2 LIMIT 1",
            Params().integer(*applied).text(host_));
        if (behind.size() > 0) {
            link_->transaction_open = false;
            throw StoreBehind(connection_.name());
        }
    }
    ~PgTransaction() override { link_->transaction_open = false; }

    AuditEvent append(const AuditEvent& event) override;
    void commit() override;

  private:
    AuditEvent append_row(const AuditEvent& event);

    std::shared_ptr<Link> link_;
    pg::Connection& connection_;
    std::string host_;
    pg::TransactionGuard transaction_;
    ChainHead head_;           // locked at begin
    bool head_moved_ = false;  // events appended: the head is written at commit
};

AuditEvent PgTransaction::append(const AuditEvent& event) {
    return step("append audit event", [&] { return append_row(event); });
}

AuditEvent PgTransaction::append_row(const AuditEvent& event) {
    AuditEvent row = event;
    row.seq = head_.seq + 1;
    row.prev_hash = head_.hash;
    row.hash = audit_hash(row);
    connection_.run("append audit event",
                    "INSERT INTO audit_events (seq, time, event, user_name, resource, "
                    "prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    Params()
                        .integer(row.seq)
                        .integer(row.time)
                        .text(row.event)
                        .optional_text(field_value(row, "JIT_USER"))
                        .optional_text(field_value(row, "JIT_RESOURCE"))
                        .text(row.prev_hash)
                        .text(row.hash));
    for (std::size_t position = 0; position < row.fields.size(); ++position) {
        connection_.run("append audit event",
                        "INSERT INTO audit_fields (seq, position, name, value) "
                        "VALUES ($1, $2, $3, $4)",
                        Params()
                            .integer(row.seq)
                            .integer(static_cast<std::int64_t>(position))
                            .text(row.fields[position].first)
                            .text(row.fields[position].second));
    }
    head_ = {row.seq, row.hash};
    head_moved_ = true;
    return row;
}

// The chain head is written once, with the last event the transaction appended.
void PgTransaction::commit() {
    step("commit", [&] {
        if (head_moved_) {
            connection_.run("record audit chain head",
                            "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
                            Params().integer(head_.seq).text(head_.hash));
        }
        for (const auto& [kind, key] : db_.changes()) {
            connection_.run("record change",
                            "INSERT INTO change_log (host, kind, key) VALUES ($1, $2, $3)",
                            Params().text(host_).text(kind).text(key));
        }
        if (!db_.changes().empty()) {
            // Delivered at commit: the other hosts' doorbell.
            connection_.run("notify hosts", "SELECT pg_notify('jit_changes', $1)",
                            Params().text(host_));
        }
        transaction_.commit();
        state_ = TransactionState::Committed;
        link_->transaction_open = false;
    });
}

// ---- store ----

class PgStore final : public Store {
  public:
    PgStore(const std::string& conninfo, std::string host)
        : conninfo_(conninfo),
          link_(std::make_shared<Link>(conninfo)),
          connection_(link_->connection),
          host_(std::move(host)) {
        migrate(connection_);
    }

    StoredState load() override;
    std::unique_ptr<Transaction> begin() override { return begin_at(applied_); }
    std::unique_ptr<Transaction> begin_own() override { return begin_at(std::nullopt); }
    std::vector<AuditEvent> audit_events(const AuditFilter& filter) override;
    AuditVerification verify_audit(const JournalCopy& journal) override;
    Id audit_head_seq() override { return read_chain_head(connection_, false).seq; }
    std::string audit_chain() override;
    Id journal_sent_seq() override;
    void set_journal_sent_seq(Id seq) override;
    std::optional<StoreChanges> changes() override;
    std::unique_ptr<ChangeDoorbell> change_doorbell() override;
    std::optional<FeedPosition> feed_position() override {
        return FeedPosition{applied_, feed_head(connection_)};
    }

  private:
    std::unique_ptr<Transaction> begin_at(std::optional<Id> applied);

    std::string conninfo_;
    std::shared_ptr<Link> link_;
    pg::Connection& connection_;
    std::string host_;
    Id applied_ = 0;  // the change feed's position this host's memory reflects
};

// LISTEN on a connection of its own: the store's connection runs statements, this one only
// waits.
class PgDoorbell final : public ChangeDoorbell {
  public:
    explicit PgDoorbell(const std::string& conninfo) : connection_(conninfo) {
        connection_.execute("listen for changes", "LISTEN jit_changes");
    }
    int fd() const override { return connection_.socket(); }
    void drain() override { connection_.take_notifications(); }

  private:
    pg::Connection connection_;
};

StoredState PgStore::load() {
    Snapshot snapshot(connection_, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    ChainHead head = read_chain_head(connection_, false);
    const Id feed = feed_head(connection_);
    StoredState state =
        model_tables::load_state(Tables(connection_), head.seq, std::move(head.hash));
    snapshot.end();
    applied_ = feed;
    return state;
}

std::optional<StoreChanges> PgStore::changes() {
    Snapshot snapshot(connection_, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    StoreChanges out;
    out.last_seq = feed_head(connection_);
    if (out.last_seq > applied_) {
        Rows changed = connection_.run(
            "read change feed",
            "SELECT kind, key FROM change_log WHERE seq > $1 AND host <> $2 ORDER BY seq",
            Params().integer(applied_).text(host_));
        std::set<std::pair<std::string, std::string>> seen;
        for (int row = 0; row < changed.size(); ++row) {
            std::pair<std::string, std::string> change{changed.text(row, 0), changed.text(row, 1)};
            if (seen.insert(change).second) {
                out.changed.push_back(std::move(change));
            }
        }
        if (!out.changed.empty()) {
            ChainHead head = read_chain_head(connection_, false);
            out.fresh = model_tables::load_state(FeedTables(connection_, applied_, host_), head.seq,
                                                 std::move(head.hash));
        }
    }
    snapshot.end();
    applied_ = std::max(applied_, out.last_seq);
    return out;
}

std::unique_ptr<ChangeDoorbell> PgStore::change_doorbell() {
    return std::make_unique<PgDoorbell>(conninfo_);
}

// applied: this host's position in the feed, to refuse the transaction when others' changes
// lie beyond it; none for a transaction of this host's own records.
std::unique_ptr<Transaction> PgStore::begin_at(std::optional<Id> applied) {
    if (link_->transaction_open) {
        connection_.fail("begin transaction", "another transaction is still open (one at a time)");
    }
    return std::make_unique<PgTransaction>(link_, host_, applied);
}

std::vector<AuditEvent> PgStore::audit_events(const AuditFilter& filter) {
    // Every filter is always bound; an unset one is NULL and its condition true, so one
    // prepared statement serves every query and each set condition can use its index.
    const std::string sql = std::string(kAuditColumns) +
                            "(SELECT seq, time, event, user_name, resource, prev_hash, hash "
                            "FROM audit_events WHERE seq > $1 "
                            "AND ($2::bigint IS NULL OR time >= $2) "
                            "AND ($3::bigint IS NULL OR time < $3) "
                            "AND ($4::text IS NULL OR user_name = $4) "
                            "AND ($5::text IS NULL OR resource = $5) "
                            "AND ($6::text IS NULL OR event = $6) "
                            "ORDER BY seq LIMIT $7)" +
                            std::string(kAuditJoin);
    Params params;
    params.integer(filter.after_seq)
        .optional_integer(filter.since)
        .optional_integer(filter.until)
        .text_or_null(filter.user)
        .text_or_null(filter.resource)
        .text_or_null(filter.event)
        .optional_integer(filter.limit
                              ? std::optional<std::int64_t>(static_cast<std::int64_t>(filter.limit))
                              : std::nullopt);
    Rows rows = connection_.run("read audit events", sql, params);
    std::vector<AuditEvent> events;
    RowCursor cursor(rows);
    group_audit_rows(cursor, [&events](AuditRow&& row) {
        events.push_back(std::move(row.event));
        return true;
    });
    return events;
}

AuditVerification PgStore::verify_audit(const JournalCopy& journal) {
    Snapshot snapshot(connection_, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    ChainChecker checker(journal);
    const std::string sql = std::string(kAuditColumns) +
                            "(SELECT seq, time, event, user_name, resource, prev_hash, hash "
                            "FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2)" +
                            std::string(kAuditJoin);
    Id after = 0;
    bool more = true;
    while (more) {
        Rows rows =
            connection_.run("verify audit chain", sql, Params().integer(after).integer(kAuditPage));
        if (rows.size() == 0) {
            break;
        }
        after = rows.integer(rows.size() - 1, 0);
        RowCursor cursor(rows);
        more = group_audit_rows(cursor, [&checker](AuditRow&& row) { return checker.check(row); });
    }
    checker.check_end(read_chain_head(connection_, false));
    AuditVerification result = checker.result();
    result.chain = audit_chain();
    snapshot.end();
    return result;
}

std::string PgStore::audit_chain() {
    Rows rows =
        connection_.run("read audit chain", "SELECT value FROM meta WHERE name = 'audit_chain'");
    if (rows.size() != 1 || rows.text(0, 0).empty()) {
        connection_.fail("read audit chain", "the meta table has no audit_chain");
    }
    return rows.text(0, 0);
}

Id PgStore::journal_sent_seq() {
    Rows rows =
        connection_.run("read journal sent seq", "SELECT seq FROM journal_sent WHERE host = $1",
                        Params().text(host_));
    return rows.size() == 0 ? 0 : rows.integer(0, 0);
}

void PgStore::set_journal_sent_seq(Id seq) {
    // Inside an open Transaction the write would silently join it and share its fate.
    if (link_->transaction_open) {
        connection_.fail("set journal sent seq", "a transaction is open");
    }
    connection_.run("set journal sent seq",
                    "INSERT INTO journal_sent (host, seq) VALUES ($1, $2) "
                    "ON CONFLICT (host) DO UPDATE SET seq = excluded.seq",
                    Params().text(host_).integer(seq));
}

}  // namespace

std::unique_ptr<Store> open_postgresql_store(const std::string& conninfo, const std::string& host) {
    pg::check_conninfo(conninfo);
    return std::make_unique<PgStore>(conninfo, host);
}

}  // namespace jit
