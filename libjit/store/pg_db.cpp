// SPDX-License-Identifier: Apache-2.0
#include "pg_db.hpp"

#include <charconv>
#include <cstring>
#include <utility>

#include "jit/error.hpp"

namespace jit::pg {
namespace {

// SQLSTATE classes that mean the server went away or refuses connections for now.
bool is_connection_state(std::string_view state) {
    return state.starts_with("08") ||  // connection exception
           state == "57P01" ||         // admin shutdown
           state == "57P02" ||         // crash shutdown
           state == "57P03";           // cannot connect now (starting up, shutting down)
}

// libpq's messages end with a newline and may span lines; ours are one line.
std::string one_line(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    for (char& c : text) {
        if (c == '\n' || c == '\t') {
            c = ' ';
        }
    }
    return text;
}

// Names the store by database, host and port only: a conninfo may hold a password.
std::string store_name(PGconn* connection) {
    const char* database = PQdb(connection);
    const char* host = PQhost(connection);
    const char* port = PQport(connection);
    std::string name = "PostgreSQL store";
    if (database != nullptr && *database != '\0') {
        name += " ";
        name += database;
    }
    if (host != nullptr && *host != '\0') {
        name += " on ";
        name += host;
        if (port != nullptr && *port != '\0') {
            name += ":";
            name += port;
        }
    }
    return name;
}

}  // namespace

void check_conninfo(const std::string& conninfo) {
    char* error = nullptr;
    std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
        PQconninfoParse(conninfo.c_str(), &error), &PQconninfoFree);
    if (!options) {
        const std::string detail = error ? one_line(error) : "out of memory";
        PQfreemem(error);
        throw JitError(ErrorCode::InvalidInput,
                       "the PostgreSQL store url is not a libpq connection string: " + detail);
    }
    for (const PQconninfoOption* option = options.get(); option->keyword; ++option) {
        if (std::strcmp(option->keyword, "password") == 0 && option->val && *option->val) {
            throw JitError(ErrorCode::InvalidInput,
                           "the PostgreSQL store url holds a password; put it in the passfile "
                           "(~/.pgpass or passfile=) instead");
        }
    }
}

// ---- params ----

Params& Params::text(std::string_view value) {
    values_.emplace_back(std::string(value));
    return *this;
}

Params& Params::integer(std::int64_t value) {
    values_.emplace_back(std::to_string(value));
    return *this;
}

Params& Params::optional_integer(const std::optional<std::int64_t>& value) {
    if (value) {
        return integer(*value);
    }
    values_.emplace_back(std::nullopt);
    return *this;
}

Params& Params::optional_text(const std::optional<std::string>& value) {
    values_.push_back(value);
    return *this;
}

Params& Params::text_or_null(const std::string& value) {
    return value.empty() ? optional_text(std::nullopt) : text(value);
}

// ---- rows ----

Rows::Rows(const Connection& connection, std::string what, ResultPtr result)
    : connection_(connection), what_(std::move(what)), result_(std::move(result)) {}

std::string Rows::text(int row, int column) const {
    return std::string(PQgetvalue(result_.get(), row, column),
                       static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

std::int64_t Rows::integer(int row, int column) const {
    const char* begin = PQgetvalue(result_.get(), row, column);
    const char* end = begin + PQgetlength(result_.get(), row, column);
    std::int64_t value = 0;
    auto [stop, error] = std::from_chars(begin, end, value);
    if (error != std::errc() || stop != end) {
        connection_.fail(what_, "column " + std::to_string(column) + " is not an integer: '" +
                                    std::string(begin, end) + "'");
    }
    return value;
}

std::optional<std::int64_t> Rows::optional_integer(int row, int column) const {
    if (is_null(row, column)) {
        return std::nullopt;
    }
    return integer(row, column);
}

std::optional<std::string> Rows::optional_text(int row, int column) const {
    if (is_null(row, column)) {
        return std::nullopt;
    }
    return text(row, column);
}

// ---- connection ----

Connection::Connection(std::string conninfo) : conninfo_(std::move(conninfo)) {
    connect();
}

void Connection::connect() {
    prepared_.clear();
    connection_.reset(PQconnectdb(conninfo_.c_str()));
    if (!connection_) {
        throw JitError(ErrorCode::Internal, "PostgreSQL store: out of memory");
    }
    name_ = store_name(connection_.get());
    // Server notices (such as a shutdown warning) are not ours to print on stderr.
    PQsetNoticeProcessor(
        connection_.get(), [](void*, const char*) {}, nullptr);
    if (PQstatus(connection_.get()) != CONNECTION_OK) {
        unavailable("connect", PQerrorMessage(connection_.get()));
    }
    // Times are epoch seconds in integer columns; UTC keeps anything PostgreSQL prints alike
    // on every host.
    execute("set time zone", "SET TIME ZONE 'UTC'");
}

void Connection::ensure_connected() {
    if (PQstatus(connection_.get()) != CONNECTION_OK) {
        connect();
    }
}

void Connection::set_in_transaction(bool in_transaction) {
    in_transaction_ = in_transaction;
}

bool Connection::connection_lost(const PGresult* result) const {
    if (PQstatus(connection_.get()) != CONNECTION_OK) {
        return true;
    }
    // An error without SQLSTATE comes from libpq itself: the connection broke under it (the
    // status may still read OK until the next call).
    const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    return state == nullptr || is_connection_state(state);
}

const std::string& Connection::prepared_name(const std::string& sql) {
    auto found = prepared_.find(sql);
    if (found != prepared_.end()) {
        return found->second;
    }
    std::string name = "jit_" + std::to_string(prepared_.size() + 1);
    ResultPtr result(PQprepare(connection_.get(), name.c_str(), sql.c_str(), 0, nullptr));
    if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
        fail_result("prepare statement", result.get());
    }
    return prepared_.emplace(sql, std::move(name)).first->second;
}

ResultPtr Connection::run_once(const std::string& sql, const Params& params) {
    const std::string& name = prepared_name(sql);
    std::vector<const char*> values;
    values.reserve(params.values().size());
    for (const auto& value : params.values()) {
        values.push_back(value ? value->c_str() : nullptr);
    }
    return ResultPtr(PQexecPrepared(connection_.get(), name.c_str(),
                                    static_cast<int>(values.size()), values.data(), nullptr,
                                    nullptr, 0));
}

Rows Connection::run(std::string_view what, const std::string& sql, const Params& params) {
    // Outside a transaction a statement stands alone, so after a lost connection it is safe
    // to reconnect and run it again; inside one, the transaction is gone with the connection.
    const bool standalone = !in_transaction_;
    if (standalone) {
        ensure_connected();
    }
    ResultPtr result;
    try {
        result = run_once(sql, params);
    } catch (const JitError& error) {
        if (!standalone || error.code() != ErrorCode::Unavailable) {
            throw;
        }
        connect();
        result = run_once(sql, params);
    }
    ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && standalone &&
        connection_lost(result.get())) {
        connect();
        result = run_once(sql, params);
        status = PQresultStatus(result.get());
    }
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        fail_result(what, result.get());
    }
    return Rows(*this, std::string(what), std::move(result));
}

void Connection::execute(std::string_view what, const std::string& sql) {
    const bool standalone = !in_transaction_;
    if (standalone) {
        ensure_connected();
    }
    ResultPtr result(PQexec(connection_.get(), sql.c_str()));
    ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && standalone &&
        connection_lost(result.get())) {
        connect();
        result.reset(PQexec(connection_.get(), sql.c_str()));
        status = PQresultStatus(result.get());
    }
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        fail_result(what, result.get());
    }
}

void Connection::fail_result(std::string_view what, const PGresult* result) const {
    const char* message = result ? PQresultErrorMessage(result) : PQerrorMessage(connection_.get());
    std::string detail = message != nullptr && *message != '\0'
                             ? std::string(message)
                             : std::string(PQerrorMessage(connection_.get()));
    if (connection_lost(result)) {
        unavailable(what, detail);
    }
    fail(what, detail);
}

bool Connection::take_notifications() {
    if (PQconsumeInput(connection_.get()) == 0 || PQstatus(connection_.get()) != CONNECTION_OK) {
        unavailable("listen", PQerrorMessage(connection_.get()));
    }
    bool any = false;
    while (PGnotify* notification = PQnotifies(connection_.get())) {
        PQfreemem(notification);
        any = true;
    }
    return any;
}

void Connection::fail(std::string_view what, std::string_view detail) const {
    throw JitError(ErrorCode::Internal,
                   name_ + ": " + std::string(what) + ": " + one_line(std::string(detail)));
}

void Connection::unavailable(std::string_view what, std::string_view detail) const {
    throw JitError(ErrorCode::Unavailable, name_ + " is unreachable (" + std::string(what) +
                                               "): " + one_line(std::string(detail)));
}

// ---- transaction guard ----

TransactionGuard::TransactionGuard(Connection& connection, const std::string& begin)
    : connection_(connection) {
    connection_.execute("begin transaction", begin);
    connection_.set_in_transaction(true);
}

TransactionGuard::~TransactionGuard() {
    if (!open_) {
        return;
    }
    try {
        connection_.execute("roll back", "ROLLBACK");
    } catch (const JitError&) {
        // The connection is gone: the server rolled the transaction back itself.
    }
    connection_.set_in_transaction(false);
}

void TransactionGuard::commit() {
    open_ = false;
    try {
        connection_.execute("commit", "COMMIT");
    } catch (...) {
        // A failed COMMIT ends the transaction too (PostgreSQL rolls it back).
        connection_.set_in_transaction(false);
        throw;
    }
    connection_.set_in_transaction(false);
}

}  // namespace jit::pg
