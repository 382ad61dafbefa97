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
#include <variant>
#include <vector>

#include "jit/error.hpp"
#include "jit/model.hpp"
#include "jit/store.hpp"
#include "jit/text.hpp"
#include "model_tables.hpp"
#include "model_transaction.hpp"
#include "sqlite_audit.hpp"
#include "sqlite_db.hpp"
#include "sqlite_schema.hpp"
#include "table_sql.hpp"
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
using sqlite::TransactionGuard;
using sqlite::verify_audit_rows;
using sqlite::write_chain_head;
using sqlite::write_meta;

// How long a connection waits for another connection's write lock before giving up.
constexpr int kBusyTimeoutMs = 5000;

using Connection = SharedConnection<Database>;
using Snapshot = ReadSnapshot<TransactionGuard>;

// The model's tables through this connection (model_tables.hpp).
class Tables {
  public:
    explicit Tables(Database& database) : database_(database) {}

    const table_sql::Statements& sql() const {
        static const table_sql::Statements statements = table_sql::build(
            {[](int) { return std::string("?"); },
             [](const std::string&, const std::string& parameter) { return parameter; }, ""});
        return statements;
    }

    // One host, one writer: no change feed.
    void changed(std::string_view, const std::string&) {}

    template <class OnRow>
    void each_row(std::string_view what, const std::string& sql, OnRow on_row) {
        Query rows = database_.query(what, sql);
        while (rows.next()) {
            on_row(std::as_const(rows));
        }
    }

    std::optional<Id> run(std::string_view what, const std::string& sql,
                          const model_tables::Values& values) {
        Query query = database_.query(what, sql);
        for (const model_tables::Value& value : values) {
            if (const auto* number = std::get_if<std::int64_t>(&value)) {
                query.bind(*number);
            } else if (const auto* text = std::get_if<std::string>(&value)) {
                query.bind(std::string_view(*text));
            } else {
                query.bind_null();
            }
        }
        std::optional<Id> first;
        while (query.next()) {
            if (!first) {
                first = query.integer(0);
            }
        }
        return first;
    }

    [[noreturn]] void fail(std::string_view what, std::string_view why) const {
        database_.fail(what, why);
    }

  private:
    Database& database_;
};

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

// ---- transaction ----

class SqliteTransaction final : public ModelTransaction<Tables> {
  public:
    explicit SqliteTransaction(std::shared_ptr<Connection> connection)
        : ModelTransaction(Tables(connection->connection)),
          connection_(std::move(connection)),
          database_(connection_->connection),
          transaction_(database_, "BEGIN IMMEDIATE") {
        connection_->transaction_open = true;
    }
    // Clears the flag; then transaction_ rolls back unless committed.
    ~SqliteTransaction() override { connection_->transaction_open = false; }

    AuditEvent append(const AuditEvent& event) override;
    void commit() override;

  private:
    ChainHead& chain_head();

    std::shared_ptr<Connection> connection_;
    Database& database_;
    TransactionGuard transaction_;
    std::optional<ChainHead> head_;  // read at the first append
    bool head_moved_ = false;        // events appended: the head is written at commit
};

ChainHead& SqliteTransaction::chain_head() {
    // Read inside the write lock, so no other connection can append in between.
    if (!head_) {
        head_ = read_chain_head(database_);
    }
    return *head_;
}

AuditEvent SqliteTransaction::append(const AuditEvent& event) {
    return step("append audit event", [&] {
        AuditEvent row = append_audit_event(database_, chain_head(), event);
        head_moved_ = true;
        return row;
    });
}

void SqliteTransaction::commit() {
    step("commit", [&] {
        if (head_ && head_moved_) {
            write_chain_head(database_, *head_);
        }
        transaction_.commit();
        state_ = TransactionState::Committed;
        connection_->transaction_open = false;
    });
}

// ---- store ----

class SqliteStore final : public Store {
  public:
    explicit SqliteStore(const std::string& path)
        : connection_(std::make_shared<Connection>(path)), database_(connection_->connection) {
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
    Snapshot snapshot(database_, "BEGIN");
    ChainHead head = read_chain_head(database_);
    StoredState state = model_tables::load_state(Tables(database_), head.seq, std::move(head.hash));
    snapshot.end();
    return state;
}

std::unique_ptr<Transaction> SqliteStore::begin() {
    return begin_one<SqliteTransaction>(connection_);
}

std::vector<AuditEvent> SqliteStore::audit_events(const AuditFilter& filter) {
    return read_audit_events(database_, filter);
}

AuditVerification SqliteStore::verify_audit(const JournalCopy& journal) {
    Snapshot snapshot(database_, "BEGIN");
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
