// SPDX-License-Identifier: Apache-2.0
#include "table_sql.hpp"

#include <string_view>
#include <vector>

#include "jit/text.hpp"
#include "model_fields.hpp"

namespace jit::table_sql {
namespace {

using model_fields::column_names;
using model_fields::kTable;
using Columns = std::vector<std::string>;

// The columns of a grant review row (StoredReview is not stored field by field).
const Columns kReviewColumns = {"grant_id", "host",       "accounts",   "start_fingerprint",
                                "changes",  "incomplete", "reviewed_at"};

std::string order_by(const Dialect& dialect, std::string order) {
    static constexpr std::string_view kBytewise = "{C}";
    for (auto at = order.find(kBytewise); at != std::string::npos; at = order.find(kBytewise)) {
        order.replace(at, kBytewise.size(), dialect.bytewise);
    }
    return order;
}

std::string select(const Dialect& dialect, const Columns& columns, const std::string& table,
                   const std::string& order) {
    return "SELECT " + join(columns, ", ") + " FROM " + table + " ORDER BY " +
           order_by(dialect, order);
}

// INSERT of one row; with a conflict key an upsert that replaces every other column, and with
// new_id the first column is an id the store assigns (returned).
std::string insert(const Dialect& dialect, const std::string& table, const Columns& columns,
                   const char* conflict = nullptr, bool new_id = false) {
    Columns values;
    for (int n = 1; n <= static_cast<int>(columns.size()); ++n) {
        values.push_back(dialect.parameter(n));
    }
    if (new_id) {
        values.front() = dialect.new_id(table, values.front());
    }
    std::string sql = "INSERT INTO " + table + " (" + join(columns, ", ") + ") VALUES (" +
                      join(values, ", ") + ")";
    if (conflict != nullptr) {
        Columns updates;
        for (const std::string& column : columns) {
            if (column != conflict) {
                updates.push_back(column + " = excluded." + column);
            }
        }
        sql += std::string(" ON CONFLICT (") + conflict + ") DO UPDATE SET " + join(updates, ", ");
    }
    return new_id ? sql + " RETURNING id" : sql;
}

template <class Model>
std::string select_model(const Dialect& dialect) {
    return select(dialect, column_names<Model>(), kTable<Model>.name, kTable<Model>.order);
}

template <class Model>
std::string put_model(const Dialect& dialect) {
    const Columns columns = column_names<Model>();
    return insert(dialect, kTable<Model>.name, columns, kTable<Model>.conflict,
                  columns.front() == "id");
}

std::string delete_where(const Dialect& dialect, const std::string& table,
                         const std::string& column) {
    return "DELETE FROM " + table + " WHERE " + column + " = " + dialect.parameter(1);
}

// A child table's rows: the parent key, the position in the list, then the values.
Columns child_columns(const char* parent, const Columns& values) {
    Columns columns = {parent, "position"};
    columns.insert(columns.end(), values.begin(), values.end());
    return columns;
}

void build_resources(const Dialect& dialect, Statements& sql) {
    sql.select_resources = select_model<Resource>(dialect);
    sql.put_resource = put_model<Resource>(dialect);
    sql.remove_resource = delete_where(dialect, "resources", "name");
    sql.select_resource_lists = select(dialect, {"resource", "list", "value"}, "resource_lists",
                                       "resource{C}, list, position");
    sql.clear_resource_lists = delete_where(dialect, "resource_lists", "resource");
    sql.insert_resource_list =
        insert(dialect, "resource_lists", {"resource", "list", "position", "value"});
}

void build_policies(const Dialect& dialect, Statements& sql) {
    sql.select_policies = select_model<Policy>(dialect);
    sql.put_policy = put_model<Policy>(dialect);
    sql.remove_policy = delete_where(dialect, "policies", "name");
    sql.select_policy_approvers =
        select(dialect, {"policy", "approver"}, "policy_approvers", "policy{C}, position");
    sql.clear_policy_approvers = delete_where(dialect, "policy_approvers", "policy");
    sql.insert_policy_approver =
        insert(dialect, "policy_approvers", child_columns("policy", {"approver"}));
}

void build_requests(const Dialect& dialect, Statements& sql) {
    sql.select_requests = select_model<Request>(dialect);
    sql.put_request = put_model<Request>(dialect);
    Columns approval = column_names<Approval>();
    approval.insert(approval.begin(), "request_id");
    sql.select_request_approvals =
        select(dialect, approval, kTable<Approval>.name, kTable<Approval>.order);
    sql.clear_request_approvals = delete_where(dialect, kTable<Approval>.name, "request_id");
    sql.insert_request_approval = insert(dialect, kTable<Approval>.name,
                                         child_columns("request_id", column_names<Approval>()));
}

}  // namespace

Statements build(const Dialect& dialect) {
    Statements sql;
    build_resources(dialect, sql);
    build_policies(dialect, sql);
    build_requests(dialect, sql);
    sql.select_grants = select_model<Grant>(dialect);
    sql.put_grant = put_model<Grant>(dialect);
    sql.select_sessions = select_model<Session>(dialect);
    sql.put_session = put_model<Session>(dialect);
    sql.select_keys = select_model<SshKey>(dialect);
    sql.put_key = put_model<SshKey>(dialect);
    sql.remove_key = delete_where(dialect, kTable<SshKey>.name, "fingerprint");
    sql.select_reviews = select(dialect, kReviewColumns, "grant_reviews", "grant_id");
    sql.put_review = insert(dialect, "grant_reviews", kReviewColumns, "grant_id");
    return sql;
}

}  // namespace jit::table_sql
