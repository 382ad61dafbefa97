// SPDX-License-Identifier: Apache-2.0
// RAII over the SQLite C API for the store: a connection that owns a cache of prepared
// statements, a Query that binds, steps and reads one use of a cached statement, and a guard
// for an SQL transaction. Every SQLite failure becomes one JitError(Internal) of the form
// "<path>: <what> failed: <sqlite errmsg>".
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "jit/c_handle.hpp"
#include "jit/error.hpp"

namespace jit::sqlite {

using ConnectionHandle = CHandle<sqlite3, sqlite3_close_v2>;
using StatementHandle = CHandle<sqlite3_stmt, sqlite3_finalize>;

class Query;

class Database {
  public:
    explicit Database(std::string path) : path_(std::move(path)) {
        sqlite3* connection = nullptr;
        int rc = sqlite3_open_v2(path_.c_str(), &connection,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
        connection_.reset(connection);  // sqlite3_open_v2 hands out a handle even on failure
        if (rc != SQLITE_OK) {
            fail("open");
        }
    }

    const std::string& path() const { return path_; }
    sqlite3* handle() const { return connection_.get(); }
    bool in_transaction() const { return sqlite3_get_autocommit(connection_.get()) == 0; }

    [[noreturn]] void fail(std::string_view what) const {
        fail(what, sqlite3_errmsg(connection_.get()));
    }
    [[noreturn]] void fail(std::string_view what, std::string_view why) const {
        throw JitError(ErrorCode::Internal,
                       path_ + ": " + std::string(what) + " failed: " + std::string(why));
    }

    // Runs constant SQL text that carries no values (schema steps, pragmas); everything that
    // carries a value goes through query() and bound parameters.
    void execute_script(std::string_view what, const std::string& sql) {
        char* message = nullptr;
        if (sqlite3_exec(connection_.get(), sql.c_str(), nullptr, nullptr, &message) == SQLITE_OK) {
            return;
        }
        std::string why = message ? message : sqlite3_errmsg(connection_.get());
        sqlite3_free(message);
        fail(what, why);
    }

    // The cached prepared statement for sql, ready for binding. Statements stay prepared for
    // the life of the connection.
    inline Query query(std::string_view what, std::string_view sql);

  private:
    // Transparent hashing lets a lookup by string_view skip building a std::string.
    struct SqlHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view sql) const noexcept {
            return std::hash<std::string_view>{}(sql);
        }
    };

    sqlite3_stmt* prepared(std::string_view what, std::string_view sql) {
        if (auto found = statements_.find(sql); found != statements_.end()) {
            return found->second.get();
        }
        sqlite3_stmt* statement = nullptr;
        const char* tail = nullptr;
        if (sqlite3_prepare_v3(connection_.get(), sql.data(), static_cast<int>(sql.size()),
                               SQLITE_PREPARE_PERSISTENT, &statement, &tail) != SQLITE_OK) {
            fail(what);
        }
        StatementHandle owned(statement);
        if (!owned || tail != sql.data() + sql.size()) {
            fail(what, "not exactly one SQL statement");
        }
        return statements_.emplace(std::string(sql), std::move(owned)).first->second.get();
    }

    std::string path_;
    ConnectionHandle connection_;
    // Declared after the connection so the statements are finalized before it closes.
    std::unordered_map<std::string, StatementHandle, SqlHash, std::equal_to<>> statements_;
};

// One use of a cached statement: bind parameters in order, then run() it or read rows with
// next(). The destructor resets the statement so the cache can hand it out again.
class Query {
  public:
    Query(Database& database, sqlite3_stmt* statement, std::string_view what)
        : database_(database), statement_(statement), what_(what) {}
    ~Query() {
        sqlite3_reset(statement_);
        sqlite3_clear_bindings(statement_);
    }
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;

    Query& bind(std::int64_t value) {
        return check_bind(sqlite3_bind_int64(statement_, next_parameter_, value));
    }
    Query& bind(std::string_view value) {
        // A null data pointer would bind SQL NULL instead of an empty string.
        const char* data = value.data() ? value.data() : "";
        return check_bind(sqlite3_bind_text64(statement_, next_parameter_, data, value.size(),
                                              SQLITE_TRANSIENT, SQLITE_UTF8));
    }
    Query& bind(std::optional<std::int64_t> value) { return value ? bind(*value) : bind_null(); }
    Query& bind_flag(bool value) { return bind(std::int64_t{value ? 1 : 0}); }
    // Empty text is stored as NULL: the column means "none".
    Query& bind_text_or_null(std::string_view value) {
        return value.empty() ? bind_null() : bind(value);
    }
    Query& bind_optional_text(const std::optional<std::string>& value) {
        return value ? bind(*value) : bind_null();
    }
    Query& bind_null() { return check_bind(sqlite3_bind_null(statement_, next_parameter_)); }

    // Steps once; true when a result row is ready to read.
    bool next() {
        int rc = sqlite3_step(statement_);
        if (rc == SQLITE_ROW) {
            return true;
        }
        if (rc != SQLITE_DONE) {
            database_.fail(what_);
        }
        return false;
    }
    // Runs the statement to completion, ignoring any result rows.
    void run() {
        while (next()) {
        }
    }

    bool is_null(int column) const {
        return sqlite3_column_type(statement_, column) == SQLITE_NULL;
    }
    std::int64_t integer(int column) const { return sqlite3_column_int64(statement_, column); }
    std::optional<std::int64_t> optional_integer(int column) const {
        if (is_null(column)) {
            return std::nullopt;
        }
        return integer(column);
    }
    bool flag(int column) const { return integer(column) != 0; }
    std::string text(int column) const {
        const auto* data = sqlite3_column_text(statement_, column);
        if (!data) {
            return {};
        }
        return std::string(reinterpret_cast<const char*>(data),
                           static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)));
    }
    std::optional<std::string> optional_text(int column) const {
        if (is_null(column)) {
            return std::nullopt;
        }
        return text(column);
    }

  private:
    Query& check_bind(int rc) {
        if (rc != SQLITE_OK) {
            database_.fail(what_);
        }
        ++next_parameter_;
        return *this;
    }

    Database& database_;
    sqlite3_stmt* statement_;
    std::string_view what_;
    int next_parameter_ = 1;
};

Query Database::query(std::string_view what, std::string_view sql) {
    sqlite3_stmt* statement = prepared(what, sql);
    // A statement still stepping belongs to an outer Query; reusing it would reset that one.
    if (sqlite3_stmt_busy(statement)) {
        fail(what, "statement already in use");
    }
    return Query(*this, statement, what);
}

// An SQL transaction: begun on construction, rolled back on destruction unless committed.
class TransactionGuard {
  public:
    TransactionGuard(Database& database, std::string_view begin_sql) : database_(database) {
        database_.query("begin transaction", begin_sql).run();
        open_ = true;
    }
    ~TransactionGuard() {
        // An I/O or memory error may already have rolled SQLite back; then there is nothing
        // left to undo. A destructor cannot report, and ROLLBACK of a live transaction only
        // fails when the connection is already broken.
        if (open_ && database_.in_transaction()) {
            sqlite3_exec(database_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
        }
    }
    TransactionGuard(const TransactionGuard&) = delete;
    TransactionGuard& operator=(const TransactionGuard&) = delete;

    // On failure (e.g. a deferred foreign key) the transaction stays open for the rollback.
    void commit() {
        database_.query("commit", "COMMIT").run();
        open_ = false;
    }

  private:
    Database& database_;
    bool open_ = false;
};

}  // namespace jit::sqlite
