// SPDX-License-Identifier: Apache-2.0
// Reading and writing the model's tables, once for both stores: the loaders that read every
// table back into a StoredState, and the writes of each model type with its child rows. The
// layouts are in model_fields.hpp and the SQL text in table_sql.hpp; a store supplies only
// its connection through an adaptor (Db):
//
//   const table_sql::Statements& sql() const;
//   void each_row(std::string_view what, const std::string& sql, OnRow on_row);
//       on_row(const Row&) for each result row; Row has text, integer, optional_integer and
//       flag by column index (a NULL reads as "", 0 or nullopt)
//   std::optional<Id> run(std::string_view what, const std::string& sql, const Values&);
//       runs a statement with values; the first column of its first row, if it returned one
//   [[noreturn]] void fail(std::string_view what, std::string_view why) const;
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "jit/error.hpp"
#include "jit/model.hpp"
#include "jit/store.hpp"
#include "jit/text.hpp"
#include "model_fields.hpp"
#include "table_sql.hpp"

namespace jit::model_tables {

// A statement's parameter: SQL NULL, an integer or text.
using Value = std::variant<std::monostate, std::int64_t, std::string>;
using Values = std::vector<Value>;

using model_fields::ColumnKind;
using model_fields::kTable;

inline void parse_into(std::string_view text, PolicyAction& value) {
    value = parse_policy_action(text);
}
inline void parse_into(std::string_view text, RequestState& value) {
    value = parse_request_state(text);
}
inline void parse_into(std::string_view text, Decision& value) {
    value = parse_decision(text);
}
inline void parse_into(std::string_view text, GrantState& value) {
    value = parse_grant_state(text);
}
inline void parse_into(std::string_view text, SessionState& value) {
    value = parse_session_state(text);
}

// One column of a row into its field. A value the model refuses to parse means the row was
// edited behind the store's back: an internal error of the store, not bad input.
template <class Db, class Row, class Field>
void read_field(const Db& db, std::string_view what, const Row& row, int column, Field& field) {
    if constexpr (std::is_same_v<Field, std::string>) {
        field = row.text(column);
    } else if constexpr (std::is_same_v<Field, bool>) {
        field = row.flag(column);
    } else if constexpr (std::is_same_v<Field, std::optional<std::int64_t>>) {
        field = row.optional_integer(column);
    } else if constexpr (std::is_enum_v<Field>) {
        try {
            parse_into(row.text(column), field);
        } catch (const JitError& error) {
            db.fail(what, error.what());
        }
    } else {
        static_assert(std::is_integral_v<Field>);
        field = static_cast<Field>(row.integer(column));
    }
}

template <class Field>
Value value_of(const Field& field, ColumnKind kind) {
    if constexpr (std::is_same_v<Field, std::string>) {
        return kind == ColumnKind::Nullable && field.empty() ? Value() : Value(field);
    } else if constexpr (std::is_same_v<Field, bool>) {
        return std::int64_t{field ? 1 : 0};
    } else if constexpr (std::is_same_v<Field, std::optional<std::int64_t>>) {
        return field ? Value(*field) : Value();
    } else if constexpr (std::is_enum_v<Field>) {
        return std::string(to_string(field));
    } else {
        static_assert(std::is_integral_v<Field>);
        return kind == ColumnKind::NewId && field == 0 ? Value()
                                                       : Value(static_cast<std::int64_t>(field));
    }
}

// Model's columns from a row, starting at column first.
template <class Db, class Row, class Model>
void read_columns(const Db& db, std::string_view what, const Row& row, Model& model,
                  int first = 0) {
    int column = first;
    std::apply(
        [&](const auto&... each) { (read_field(db, what, row, column++, model.*each.field), ...); },
        kTable<Model>.columns);
}

// Model's column values in column order, after the values in front.
template <class Model>
Values values_of(const Model& model, Values front = {}) {
    std::apply(
        [&](const auto&... each) {
            (front.push_back(value_of(model.*each.field, each.kind)), ...);
        },
        kTable<Model>.columns);
    return front;
}

template <class Model, class Db>
std::vector<Model> load_models(Db& db, std::string_view what, const std::string& sql) {
    std::vector<Model> models;
    db.each_row(what, sql,
                [&](const auto& row) { read_columns(db, what, row, models.emplace_back()); });
    return models;
}

// Model's rows, then each row of its child table (whose first column is the parent's key)
// handed to add_child(parent, row).
template <class Model, class Key, class Db, class AddChild>
std::vector<Model> load_with_children(Db& db, std::string_view what, const std::string& sql,
                                      Key Model::*key, std::string_view child_what,
                                      const std::string& child_sql, AddChild add_child) {
    std::vector<Model> models = load_models<Model>(db, what, sql);
    std::unordered_map<Key, std::size_t> index;
    for (std::size_t i = 0; i < models.size(); ++i) {
        index.emplace(models[i].*key, i);
    }
    db.each_row(child_what, child_sql, [&](const auto& row) {
        Key parent_key;
        read_field(db, child_what, row, 0, parent_key);
        auto parent = index.find(parent_key);
        // With foreign keys on there always is a parent; a missing one means the rows were
        // edited with them off.
        if (parent == index.end()) {
            db.fail(child_what, "row for a missing parent");
        }
        add_child(models[parent->second], row);
    });
    return models;
}

// A resource_lists row: resource, list, value.
template <class Db, class Row>
void add_to_list(const Db& db, Resource& resource, const Row& row) {
    const std::string list = row.text(1);
    for (const auto& known : model_fields::kResourceLists) {
        if (list == known.name) {
            (resource.*known.values).push_back(row.text(2));
            return;
        }
    }
    db.fail("load resource lists", "unknown list '" + list + "'");
}

// A review row: grant_id, host, accounts, start_fingerprint, changes, incomplete, reviewed_at.
template <class Db>
std::vector<StoredReview> load_reviews(Db& db) {
    std::vector<StoredReview> reviews;
    db.each_row("load grant reviews", db.sql().select_reviews, [&](const auto& row) {
        StoredReview& review = reviews.emplace_back();
        review.grant_id = row.integer(0);
        review.host = row.text(1);
        review.accounts = split_lines(row.text(2));
        review.before = row.text(3);
        if (auto reviewed_at = row.optional_integer(6)) {
            review.review = GrantReview{*reviewed_at, row.text(4), row.text(5)};
        }
    });
    return reviews;
}

// Every table of the model, with the audit chain head the store read in the same snapshot.
template <class Db>
StoredState load_state(Db db, Id last_audit_seq, std::string last_audit_hash) {
    StoredState state;
    state.last_audit_seq = last_audit_seq;
    state.last_audit_hash = std::move(last_audit_hash);
    const table_sql::Statements& sql = db.sql();
    state.resources = load_with_children(
        db, "load resources", sql.select_resources, &Resource::name, "load resource lists",
        sql.select_resource_lists,
        [&](Resource& resource, const auto& row) { add_to_list(db, resource, row); });
    state.policies = load_with_children(
        db, "load policies", sql.select_policies, &Policy::name, "load policy approvers",
        sql.select_policy_approvers,
        [](Policy& policy, const auto& row) { policy.approvers.push_back(row.text(1)); });
    state.requests = load_with_children(
        db, "load requests", sql.select_requests, &Request::id, "load request approvals",
        sql.select_request_approvals, [&](Request& request, const auto& row) {
            read_columns(db, "load request approvals", row, request.approvals.emplace_back(), 1);
        });
    state.grants = load_models<Grant>(db, "load grants", sql.select_grants);
    state.sessions = load_models<Session>(db, "load sessions", sql.select_sessions);
    state.keys = load_models<SshKey>(db, "load keys", sql.select_keys);
    state.reviews = load_reviews(db);
    return state;
}

// A child list: one row per value, with the parent's key values and the position in front.
template <class Db>
void put_list(Db& db, std::string_view what, const std::string& sql, const Values& key,
              const std::vector<std::string>& values) {
    for (std::size_t position = 0; position < values.size(); ++position) {
        Values row = key;
        row.emplace_back(static_cast<std::int64_t>(position));
        row.emplace_back(values[position]);
        db.run(what, sql, row);
    }
}

template <class Db>
void put(Db& db, const Resource& resource) {
    const table_sql::Statements& sql = db.sql();
    db.run("put resource", sql.put_resource, values_of(resource));
    db.run("put resource", sql.clear_resource_lists, {resource.name});
    for (const auto& list : model_fields::kResourceLists) {
        put_list(db, "put resource", sql.insert_resource_list, {resource.name, list.name},
                 resource.*list.values);
    }
}

template <class Db>
void put(Db& db, const Policy& policy) {
    const table_sql::Statements& sql = db.sql();
    db.run("put policy", sql.put_policy, values_of(policy));
    db.run("put policy", sql.clear_policy_approvers, {policy.name});
    put_list(db, "put policy", sql.insert_policy_approver, {policy.name}, policy.approvers);
}

// Requests, grants and sessions: a new object (id 0, written as NULL) gets the next id from
// the store; a known one is upserted under its id. Each returns the id.
template <class Db, class Model>
Id put_with_id(Db& db, std::string_view what, const std::string& sql, const Model& model) {
    std::optional<Id> id = db.run(what, sql, values_of(model));
    if (!id) {
        db.fail(what, "no id returned");
    }
    return *id;
}

template <class Db>
Id put(Db& db, const Request& request) {
    const table_sql::Statements& sql = db.sql();
    const Id id = put_with_id(db, "put request", sql.put_request, request);
    db.run("put request", sql.clear_request_approvals, {id});
    for (std::size_t position = 0; position < request.approvals.size(); ++position) {
        db.run("put request", sql.insert_request_approval,
               values_of(request.approvals[position], {id, static_cast<std::int64_t>(position)}));
    }
    return id;
}

template <class Db>
Id put(Db& db, const Grant& grant) {
    return put_with_id(db, "put grant", db.sql().put_grant, grant);
}

template <class Db>
Id put(Db& db, const Session& session) {
    return put_with_id(db, "put session", db.sql().put_session, session);
}

template <class Db>
void put(Db& db, const SshKey& key) {
    db.run("put key", db.sql().put_key, values_of(key));
}

template <class Db>
void put(Db& db, const StoredReview& review) {
    const GrantReview none;
    const GrantReview& result = review.review ? *review.review : none;
    db.run(
        "put grant review", db.sql().put_review,
        {review.grant_id, review.host, join(review.accounts, "\n"), review.before, result.changes,
         result.incomplete, review.review ? Value(result.reviewed_at) : Value()});
}

}  // namespace jit::model_tables
