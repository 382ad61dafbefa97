// SPDX-License-Identifier: Apache-2.0
#include "pg_store_rows.hpp"

#include <optional>
#include <string>
#include <unordered_map>

#include "jit/error.hpp"
#include "jit/text.hpp"

namespace jit::pg_rows {
namespace {

using pg::Params;
using pg::Rows;

std::optional<Id> new_or_known(Id id) {
    return id ? std::optional<Id>(id) : std::nullopt;
}

// A value the model refuses to parse means the row was edited: an internal error of the
// store, not bad input from a caller.
template <class Parse>
auto parse_stored(const pg::Connection& connection, std::string_view what, Parse parse,
                  const std::string& text) {
    try {
        return parse(text);
    } catch (const JitError& error) {
        connection.fail(what, error.what());
    }
}

template <class Key>
std::size_t parent_index(const pg::Connection& connection, std::string_view what,
                         const std::unordered_map<Key, std::size_t>& index, const Key& key) {
    auto found = index.find(key);
    if (found == index.end()) {
        connection.fail(what, "row for a missing parent");
    }
    return found->second;
}

}  // namespace

const char* const kPutResource =
    "INSERT INTO resources (name, description, policy) VALUES ($1, $2, $3) "
    "ON CONFLICT (name) DO UPDATE SET description = excluded.description, "
    "policy = excluded.policy";

const char* const kPutPolicy =
    "INSERT INTO policies (name, description, action, approvals_required, max_duration, "
    "auto_expiry, request_ttl, active, reason_pattern, reason_min_length) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
    "ON CONFLICT (name) DO UPDATE SET description = excluded.description, "
    "action = excluded.action, approvals_required = excluded.approvals_required, "
    "max_duration = excluded.max_duration, auto_expiry = excluded.auto_expiry, "
    "request_ttl = excluded.request_ttl, active = excluded.active, "
    "reason_pattern = excluded.reason_pattern, reason_min_length = excluded.reason_min_length";

const char* const kPutRequest =
    "INSERT INTO requests (id, resource, requester, policy, reason, requested_duration, "
    "duration, capped, state, created, decided, expires, approvals_required, auto_expiry, "
    "grant_id, start, extends) VALUES (COALESCE($1::bigint, (SELECT COALESCE(max(id), 0) + 1 "
    "FROM requests)), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) "
    "ON CONFLICT (id) DO UPDATE SET resource = excluded.resource, "
    "requester = excluded.requester, policy = excluded.policy, reason = excluded.reason, "
    "requested_duration = excluded.requested_duration, duration = excluded.duration, "
    "capped = excluded.capped, state = excluded.state, created = excluded.created, "
    "decided = excluded.decided, expires = excluded.expires, "
    "approvals_required = excluded.approvals_required, auto_expiry = excluded.auto_expiry, "
    "grant_id = excluded.grant_id, start = excluded.start, extends = excluded.extends "
    "RETURNING id";

const char* const kPutGrant =
    "INSERT INTO grants (id, request_id, user_name, resource, start, expiry, state, ended, "
    "ended_by) VALUES (COALESCE($1::bigint, (SELECT COALESCE(max(id), 0) + 1 FROM grants)), $2, "
    "$3, $4, $5, $6, $7, "
    "$8, $9) "
    "ON CONFLICT (id) DO UPDATE SET request_id = excluded.request_id, "
    "user_name = excluded.user_name, resource = excluded.resource, start = excluded.start, "
    "expiry = excluded.expiry, state = excluded.state, ended = excluded.ended, "
    "ended_by = excluded.ended_by RETURNING id";

const char* const kPutSession =
    "INSERT INTO sessions (id, grant_id, user_name, target, service, rhost, tty, pid, "
    "logind_session, opened, closed, state, pid_start, boot_id, cgroup, fingerprint, host) "
    "VALUES (COALESCE($1::bigint, (SELECT COALESCE(max(id), 0) + 1 FROM sessions)), $2, $3, $4, "
    "$5, $6, $7, $8, $9, "
    "$10, $11, $12, $13, $14, $15, $16, $17) "
    "ON CONFLICT (id) DO UPDATE SET grant_id = excluded.grant_id, "
    "user_name = excluded.user_name, target = excluded.target, "
    "service = excluded.service, rhost = excluded.rhost, tty = excluded.tty, "
    "pid = excluded.pid, logind_session = excluded.logind_session, "
    "opened = excluded.opened, closed = excluded.closed, state = excluded.state, "
    "pid_start = excluded.pid_start, boot_id = excluded.boot_id, cgroup = excluded.cgroup, "
    "fingerprint = excluded.fingerprint, host = excluded.host RETURNING id";

const char* const kPutReview =
    "INSERT INTO grant_reviews (grant_id, host, accounts, start_fingerprint, changes, "
    "incomplete, reviewed_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
    "ON CONFLICT (grant_id) DO UPDATE SET host = excluded.host, accounts = excluded.accounts, "
    "start_fingerprint = excluded.start_fingerprint, changes = excluded.changes, "
    "incomplete = excluded.incomplete, reviewed_at = excluded.reviewed_at";

Params resource_params(const Resource& resource) {
    return Params().text(resource.name).text(resource.description).text_or_null(resource.policy);
}

Params policy_params(const Policy& policy) {
    return Params()
        .text(policy.name)
        .text(policy.description)
        .text(to_string(policy.action))
        .integer(policy.approvals_required)
        .integer(policy.max_duration)
        .flag(policy.auto_expiry)
        .integer(policy.request_ttl)
        .flag(policy.active)
        .text(policy.reason_pattern)
        .integer(policy.reason_min_length);
}

Params request_params(const Request& request) {
    return Params()
        .optional_integer(new_or_known(request.id))
        .text(request.resource)
        .text(request.requester)
        .text(request.policy)
        .text(request.reason)
        .integer(request.requested_duration)
        .integer(request.duration)
        .flag(request.capped)
        .text(to_string(request.state))
        .integer(request.created)
        .optional_integer(request.decided)
        .integer(request.expires)
        .integer(request.approvals_required)
        .flag(request.auto_expiry)
        .optional_integer(request.grant_id)
        .optional_integer(request.start)
        .optional_integer(request.extends);
}

Params grant_params(const Grant& grant) {
    return Params()
        .optional_integer(new_or_known(grant.id))
        .integer(grant.request_id)
        .text(grant.user)
        .text(grant.resource)
        .integer(grant.start)
        .optional_integer(grant.expiry)
        .text(to_string(grant.state))
        .optional_integer(grant.ended)
        .text(grant.ended_by);
}

Params session_params(const Session& session) {
    return Params()
        .optional_integer(new_or_known(session.id))
        .integer(session.grant_id)
        .text(session.user)
        .text(session.target)
        .text(session.service)
        .text(session.rhost)
        .text(session.tty)
        .integer(session.pid)
        .text(session.logind_session)
        .integer(session.opened)
        .optional_integer(session.closed)
        .text(to_string(session.state))
        .integer(session.pid_start)
        .text(session.boot_id)
        .text(session.cgroup)
        .text(session.fingerprint)
        .text(session.host);
}

Params review_params(const StoredReview& review) {
    const GrantReview none;
    const GrantReview& result = review.review ? *review.review : none;
    return Params()
        .integer(review.grant_id)
        .text(review.host)
        .text(join(review.accounts, "\n"))
        .text(review.before)
        .text(result.changes)
        .text(result.incomplete)
        .optional_integer(review.review ? std::optional<std::int64_t>(result.reviewed_at)
                                        : std::nullopt);
}

std::vector<Policy> load_policies(pg::Connection& connection) {
    std::vector<Policy> policies;
    std::unordered_map<std::string, std::size_t> index;
    Rows rows = connection.run(
        "load policies",
        "SELECT name, description, action, approvals_required, "
        "max_duration, auto_expiry, request_ttl, active, "
        "reason_pattern, reason_min_length FROM policies ORDER BY name COLLATE \"C\"");
    for (int r = 0; r < rows.size(); ++r) {
        Policy& policy = policies.emplace_back();
        policy.name = rows.text(r, 0);
        policy.description = rows.text(r, 1);
        policy.action =
            parse_stored(connection, "load policies", parse_policy_action, rows.text(r, 2));
        policy.approvals_required = static_cast<int>(rows.integer(r, 3));
        policy.max_duration = rows.integer(r, 4);
        policy.auto_expiry = rows.flag(r, 5);
        policy.request_ttl = rows.integer(r, 6);
        policy.active = rows.flag(r, 7);
        policy.reason_pattern = rows.text(r, 8);
        policy.reason_min_length = static_cast<int>(rows.integer(r, 9));
        index.emplace(policy.name, policies.size() - 1);
    }
    Rows approvers = connection.run(
        "load policy approvers",
        "SELECT policy, approver FROM policy_approvers ORDER BY policy COLLATE \"C\", position");
    for (int r = 0; r < approvers.size(); ++r) {
        policies[parent_index(connection, "load policy approvers", index, approvers.text(r, 0))]
            .approvers.push_back(approvers.text(r, 1));
    }
    return policies;
}

std::vector<Resource> load_resources(pg::Connection& connection) {
    std::vector<Resource> resources;
    std::unordered_map<std::string, std::size_t> index;
    Rows rows = connection.run(
        "load resources",
        "SELECT name, description, policy FROM resources ORDER BY name COLLATE \"C\"");
    for (int r = 0; r < rows.size(); ++r) {
        Resource& resource = resources.emplace_back();
        resource.name = rows.text(r, 0);
        resource.description = rows.text(r, 1);
        resource.policy = rows.text(r, 2);  // NULL reads as "": no policy
        index.emplace(resource.name, resources.size() - 1);
    }
    Rows lists = connection.run("load resource lists",
                                "SELECT resource, list, value FROM resource_lists ORDER BY "
                                "resource COLLATE \"C\", list, position");
    for (int r = 0; r < lists.size(); ++r) {
        Resource& resource =
            resources[parent_index(connection, "load resource lists", index, lists.text(r, 0))];
        const std::string list = lists.text(r, 1);
        if (list == "service") {
            resource.services.push_back(lists.text(r, 2));
        } else if (list == "account") {
            resource.accounts.push_back(lists.text(r, 2));
        } else if (list == "member") {
            resource.members.push_back(lists.text(r, 2));
        } else if (list == "host") {
            resource.hosts.push_back(lists.text(r, 2));
        } else {
            connection.fail("load resource lists", "unknown list '" + list + "'");
        }
    }
    return resources;
}

std::vector<Request> load_requests(pg::Connection& connection) {
    std::vector<Request> requests;
    std::unordered_map<Id, std::size_t> index;
    Rows rows = connection.run(
        "load requests",
        "SELECT id, resource, requester, policy, reason, requested_duration, duration, capped, "
        "state, created, decided, expires, approvals_required, auto_expiry, grant_id, start, "
        "extends FROM requests ORDER BY id");
    for (int r = 0; r < rows.size(); ++r) {
        Request& request = requests.emplace_back();
        request.id = rows.integer(r, 0);
        request.resource = rows.text(r, 1);
        request.requester = rows.text(r, 2);
        request.policy = rows.text(r, 3);
        request.reason = rows.text(r, 4);
        request.requested_duration = rows.integer(r, 5);
        request.duration = rows.integer(r, 6);
        request.capped = rows.flag(r, 7);
        request.state =
            parse_stored(connection, "load requests", parse_request_state, rows.text(r, 8));
        request.created = rows.integer(r, 9);
        request.decided = rows.optional_integer(r, 10);
        request.expires = rows.integer(r, 11);
        request.approvals_required = static_cast<int>(rows.integer(r, 12));
        request.auto_expiry = rows.flag(r, 13);
        request.grant_id = rows.optional_integer(r, 14);
        request.start = rows.optional_integer(r, 15);
        request.extends = rows.optional_integer(r, 16);
        index.emplace(request.id, requests.size() - 1);
    }
    Rows approvals = connection.run("load request approvals",
                                    "SELECT request_id, approver, decision, comment, time "
                                    "FROM request_approvals ORDER BY request_id, position");
    for (int r = 0; r < approvals.size(); ++r) {
        Request& request = requests[parent_index(connection, "load request approvals", index,
                                                 approvals.integer(r, 0))];
        Approval& approval = request.approvals.emplace_back();
        approval.approver = approvals.text(r, 1);
        approval.decision = parse_stored(connection, "load request approvals", parse_decision,
                                         approvals.text(r, 2));
        approval.comment = approvals.text(r, 3);
        approval.time = approvals.integer(r, 4);
    }
    return requests;
}

std::vector<Grant> load_grants(pg::Connection& connection) {
    std::vector<Grant> grants;
    Rows rows = connection.run("load grants",
                               "SELECT id, request_id, user_name, resource, start, expiry, "
                               "state, ended, ended_by FROM grants ORDER BY id");
    for (int r = 0; r < rows.size(); ++r) {
        Grant& grant = grants.emplace_back();
        grant.id = rows.integer(r, 0);
        grant.request_id = rows.integer(r, 1);
        grant.user = rows.text(r, 2);
        grant.resource = rows.text(r, 3);
        grant.start = rows.integer(r, 4);
        grant.expiry = rows.optional_integer(r, 5);
        grant.state = parse_stored(connection, "load grants", parse_grant_state, rows.text(r, 6));
        grant.ended = rows.optional_integer(r, 7);
        grant.ended_by = rows.text(r, 8);
    }
    return grants;
}

std::vector<Session> load_sessions(pg::Connection& connection) {
    std::vector<Session> sessions;
    Rows rows = connection.run(
        "load sessions",
        "SELECT id, grant_id, user_name, target, service, rhost, tty, pid, logind_session, "
        "opened, closed, state, pid_start, boot_id, cgroup, fingerprint, host FROM sessions "
        "ORDER BY id");
    for (int r = 0; r < rows.size(); ++r) {
        Session& session = sessions.emplace_back();
        session.id = rows.integer(r, 0);
        session.grant_id = rows.integer(r, 1);
        session.user = rows.text(r, 2);
        session.target = rows.text(r, 3);
        session.service = rows.text(r, 4);
        session.rhost = rows.text(r, 5);
        session.tty = rows.text(r, 6);
        session.pid = rows.integer(r, 7);
        session.logind_session = rows.text(r, 8);
        session.opened = rows.integer(r, 9);
        session.closed = rows.optional_integer(r, 10);
        session.state =
            parse_stored(connection, "load sessions", parse_session_state, rows.text(r, 11));
        session.pid_start = rows.integer(r, 12);
        session.boot_id = rows.text(r, 13);
        session.cgroup = rows.text(r, 14);
        session.fingerprint = rows.text(r, 15);
        session.host = rows.text(r, 16);
    }
    return sessions;
}

std::vector<SshKey> load_keys(pg::Connection& connection) {
    std::vector<SshKey> keys;
    Rows rows = connection.run("load keys",
                               "SELECT fingerprint, user_name, type, key_data, comment, added "
                               "FROM keys ORDER BY added, fingerprint COLLATE \"C\"");
    for (int r = 0; r < rows.size(); ++r) {
        SshKey& key = keys.emplace_back();
        key.fingerprint = rows.text(r, 0);
        key.user = rows.text(r, 1);
        key.type = rows.text(r, 2);
        key.base64 = rows.text(r, 3);
        key.comment = rows.text(r, 4);
        key.added = rows.integer(r, 5);
    }
    return keys;
}

std::vector<StoredReview> load_reviews(pg::Connection& connection) {
    std::vector<StoredReview> reviews;
    Rows rows = connection.run("load grant reviews",
                               "SELECT grant_id, host, accounts, start_fingerprint, changes, "
                               "incomplete, reviewed_at FROM grant_reviews ORDER BY grant_id");
    for (int r = 0; r < rows.size(); ++r) {
        StoredReview& review = reviews.emplace_back();
        review.grant_id = rows.integer(r, 0);
        review.host = rows.text(r, 1);
        review.accounts = split_lines(rows.text(r, 2));
        review.before = rows.text(r, 3);
        if (auto reviewed_at = rows.optional_integer(r, 6)) {
            review.review = GrantReview{*reviewed_at, rows.text(r, 4), rows.text(r, 5)};
        }
    }
    return reviews;
}

}  // namespace jit::pg_rows
