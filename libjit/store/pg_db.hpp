// SPDX-License-Identifier: Apache-2.0
// A thin RAII layer over libpq for the PostgreSQL store: one connection, every statement that
// carries a value prepared once per connection (PQprepare) and run with bound parameters in
// text format, results read as text and parsed here. Constant statements without values
// (BEGIN, COMMIT, schema steps) go through the simple protocol.
//
// Failures become JitError: ErrorCode::Unavailable when the server cannot be reached or the
// connection was lost (the message names the store), ErrorCode::Internal otherwise. A lost
// connection is re-established by the next statement that runs outside a transaction; one
// lost inside a transaction fails that transaction.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "jit/c_handle.hpp"

namespace jit::pg {

using ConnectionPtr = CHandle<PGconn, PQfinish>;
using ResultPtr = CHandle<PGresult, PQclear>;

// The values of one statement, in $1, $2, ... order; nullopt is SQL NULL.
class Params {
  public:
    Params& text(std::string_view value);
    Params& integer(std::int64_t value);
    Params& optional_integer(const std::optional<std::int64_t>& value);
    Params& optional_text(const std::optional<std::string>& value);
    Params& text_or_null(const std::string& value);  // "" is NULL
    Params& flag(bool value) { return integer(value ? 1 : 0); }

    const std::vector<std::optional<std::string>>& values() const { return values_; }

  private:
    std::vector<std::optional<std::string>> values_;
};

class Connection;

// The rows a statement returned.
class Rows {
  public:
    Rows(const Connection& connection, std::string what, ResultPtr result);

    int size() const { return PQntuples(result_.get()); }
    bool is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
    std::string text(int row, int column) const;  // NULL reads as ""
    std::int64_t integer(int row, int column) const;
    std::optional<std::int64_t> optional_integer(int row, int column) const;
    std::optional<std::string> optional_text(int row, int column) const;
    bool flag(int row, int column) const { return integer(row, column) != 0; }

  private:
    const Connection& connection_;
    std::string what_;
    ResultPtr result_;
};

class Connection {
  public:
    // Connects at once; throws Unavailable when the server cannot be reached.
    explicit Connection(std::string conninfo);

    // Runs a prepared statement (prepared on first use on this connection).
    Rows run(std::string_view what, const std::string& sql, const Params& params = Params());
    // Runs constant SQL without values (transaction control, schema steps).
    void execute(std::string_view what, const std::string& sql);

    // Between BEGIN and its end. Inside, a lost connection fails the statement (the
    // transaction died with it); outside, the statement reconnects and runs again.
    bool in_transaction() const { return in_transaction_; }
    void set_in_transaction(bool in_transaction);
    // The store as messages name it: "PostgreSQL store DB on HOST:PORT" (never a password).
    const std::string& name() const { return name_; }

    // LISTEN's side: the socket to wait on, and the notifications that arrived (true when any
    // did). Throws Unavailable when the connection is lost; it is not re-established here.
    int socket() const { return PQsocket(connection_.get()); }
    bool take_notifications();

    [[noreturn]] void fail(std::string_view what, std::string_view detail) const;
    [[noreturn]] void unavailable(std::string_view what, std::string_view detail) const;

  private:
    ResultPtr run_once(const std::string& sql, const Params& params);
    const std::string& prepared_name(const std::string& sql);
    void ensure_connected();
    void connect();
    bool connection_lost(const PGresult* result) const;
    [[noreturn]] void fail_result(std::string_view what, const PGresult* result) const;

    std::string conninfo_;
    std::string name_;
    ConnectionPtr connection_;
    std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
    bool in_transaction_ = false;
};

// Refuses (JitError InvalidInput) a connection string libpq cannot read or one that holds a
// password: passwords belong in the passfile, not in jitd.conf.
void check_conninfo(const std::string& conninfo);

// BEGIN at construction; ROLLBACK at destruction unless commit() ran.
class TransactionGuard {
  public:
    TransactionGuard(Connection& connection, const std::string& begin);
    ~TransactionGuard();
    TransactionGuard(const TransactionGuard&) = delete;
    TransactionGuard& operator=(const TransactionGuard&) = delete;
    void commit();

  private:
    Connection& connection_;
    bool open_ = true;
};

}  // namespace jit::pg
