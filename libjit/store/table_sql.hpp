// SPDX-License-Identifier: Apache-2.0
// The SQL text of every statement that reads or writes the model's tables, built once per
// store from the table layouts (model_fields.hpp) and the few things the two SQL dialects
// spell differently. The audit log's statements are with the audit code.
#pragma once

#include <string>

namespace jit::table_sql {

// How a store's SQL dialect spells parameters, a new object's id and a bytewise text order.
struct Dialect {
    // The text of the n-th (1-based) parameter.
    std::string (*parameter)(int n);
    // The value inserted for an id column: NULL (parameter) while the object is new makes
    // the store assign the next id. SQLite's INTEGER PRIMARY KEY does that itself.
    std::string (*new_id)(const std::string& table, const std::string& parameter);
    // Appended to a text ORDER BY key so that it sorts by bytes ("" where that is the default).
    const char* bytewise;
};

struct Statements {
    std::string select_resources, select_resource_lists, put_resource, clear_resource_lists,
        insert_resource_list, remove_resource;
    std::string select_policies, select_policy_approvers, put_policy, clear_policy_approvers,
        insert_policy_approver, remove_policy;
    std::string select_requests, select_request_approvals, put_request, clear_request_approvals,
        insert_request_approval;
    std::string select_grants, put_grant;
    std::string select_sessions, put_session;
    std::string select_keys, put_key, remove_key;
    std::string select_reviews, put_review;
};

Statements build(const Dialect& dialect);

}  // namespace jit::table_sql
