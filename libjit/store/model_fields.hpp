// SPDX-License-Identifier: Apache-2.0
// How each model type is laid out in its table, for both stores: the table, the columns in
// order with the field each holds, and the order rows are loaded in. The SQL statements
// (table_sql.cpp), the row readers and the parameter writers (model_tables.hpp) are all
// derived from these tables, so a column added to the model is one entry here plus a
// migration step in each schema (sqlite_schema.hpp, pg_schema.hpp).
#pragma once

#include <string>
#include <tuple>
#include <vector>

#include "jit/model.hpp"

namespace jit::model_fields {

enum class ColumnKind {
    Plain,
    NewId,     // assigned by the store: written as NULL while the field is 0
    Nullable,  // text stored as NULL when empty (and read back as "")
};

template <class Model, class Field>
struct Column {
    const char* name;
    Field Model::*field;
    ColumnKind kind = ColumnKind::Plain;
};

template <class Model, class Field>
constexpr Column<Model, Field> column(const char* name, Field Model::*field,
                                      ColumnKind kind = ColumnKind::Plain) {
    return {name, field, kind};
}

// A table: its name, the key an upsert replaces on (nullptr: rows are only inserted), the
// order rows are loaded in ("{C}" marks text keys that must sort bytewise) and the columns.
template <class... Columns>
struct TableLayout {
    const char* name;
    const char* conflict;
    const char* order;
    std::tuple<Columns...> columns;
};

template <class... Columns>
constexpr TableLayout<Columns...> table(const char* name, const char* conflict, const char* order,
                                        Columns... columns) {
    return {name, conflict, order, std::tuple<Columns...>(columns...)};
}

// kTable<Model>: the layout of Model's table.
template <class Model>
inline constexpr auto kTable = nullptr;

// A resource's lists live in resource_lists (kResourceLists below).
template <>
inline constexpr auto kTable<Resource> =
    table("resources", "name", "name{C}", column("name", &Resource::name),
          column("description", &Resource::description),
          column("policy", &Resource::policy, ColumnKind::Nullable));

// A policy's approvers live in policy_approvers.
template <>
inline constexpr auto kTable<Policy> =
    table("policies", "name", "name{C}", column("name", &Policy::name),
          column("description", &Policy::description), column("action", &Policy::action),
          column("approvals_required", &Policy::approvals_required),
          column("max_duration", &Policy::max_duration),
          column("auto_expiry", &Policy::auto_expiry), column("request_ttl", &Policy::request_ttl),
          column("active", &Policy::active), column("reason_pattern", &Policy::reason_pattern),
          column("reason_min_length", &Policy::reason_min_length));

// A request's approvals live in request_approvals (kTable<Approval>).
template <>
inline constexpr auto kTable<Request> =
    table("requests", "id", "id", column("id", &Request::id, ColumnKind::NewId),
          column("resource", &Request::resource), column("requester", &Request::requester),
          column("policy", &Request::policy), column("reason", &Request::reason),
          column("requested_duration", &Request::requested_duration),
          column("duration", &Request::duration), column("capped", &Request::capped),
          column("state", &Request::state), column("created", &Request::created),
          column("decided", &Request::decided), column("expires", &Request::expires),
          column("approvals_required", &Request::approvals_required),
          column("auto_expiry", &Request::auto_expiry), column("grant_id", &Request::grant_id),
          column("start", &Request::start), column("extends", &Request::extends));

// One approval of a request: its row is (request_id, position, these columns).
template <>
inline constexpr auto kTable<Approval> =
    table("request_approvals", nullptr, "request_id, position",
          column("approver", &Approval::approver), column("decision", &Approval::decision),
          column("comment", &Approval::comment), column("time", &Approval::time));

template <>
inline constexpr auto kTable<Grant> =
    table("grants", "id", "id", column("id", &Grant::id, ColumnKind::NewId),
          column("request_id", &Grant::request_id), column("user_name", &Grant::user),
          column("resource", &Grant::resource), column("start", &Grant::start),
          column("expiry", &Grant::expiry), column("state", &Grant::state),
          column("ended", &Grant::ended), column("ended_by", &Grant::ended_by));

template <>
inline constexpr auto kTable<Session> =
    table("sessions", "id", "id", column("id", &Session::id, ColumnKind::NewId),
          column("grant_id", &Session::grant_id), column("user_name", &Session::user),
          column("target", &Session::target), column("service", &Session::service),
          column("rhost", &Session::rhost), column("tty", &Session::tty),
          column("pid", &Session::pid), column("logind_session", &Session::logind_session),
          column("opened", &Session::opened), column("closed", &Session::closed),
          column("state", &Session::state), column("pid_start", &Session::pid_start),
          column("boot_id", &Session::boot_id), column("cgroup", &Session::cgroup),
          column("fingerprint", &Session::fingerprint), column("host", &Session::host));

// A key keeps its owner: it is inserted, never upserted (no conflict key).
template <>
inline constexpr auto kTable<SshKey> =
    table("keys", nullptr, "added, fingerprint{C}", column("fingerprint", &SshKey::fingerprint),
          column("user_name", &SshKey::user), column("type", &SshKey::type),
          column("key_data", &SshKey::base64), column("comment", &SshKey::comment),
          column("added", &SshKey::added));

// The column names of Model's table, in order.
template <class Model>
std::vector<std::string> column_names() {
    return std::apply([](const auto&... each) { return std::vector<std::string>{each.name...}; },
                      kTable<Model>.columns);
}

// The lists of a resource, each stored in resource_lists under its name.
struct ResourceList {
    const char* name;
    std::vector<std::string> Resource::*values;
};
inline constexpr ResourceList kResourceLists[] = {
    {"service", &Resource::services},
    {"account", &Resource::accounts},
    {"member", &Resource::members},
    {"host", &Resource::hosts},
};

}  // namespace jit::model_fields
