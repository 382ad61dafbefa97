// SPDX-License-Identifier: Apache-2.0
// What the store tests share (store_backends_test.cpp runs the Store contract on SQLite and
// PostgreSQL; store_test.cpp and store_audit_test.cpp test what only the SQLite file has):
// field-by-field equality of the model, a temporary directory, a plain sqlite3 connection to the
// same file, sample objects and audit events, and the StoreTest fixture.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "jit/error.hpp"
#include "jit/model.hpp"
#include "jit/store.hpp"
#include "temp_dir.hpp"

// The shipped migration steps, to build a database as an older release left it.
#include "../../libjit/store/sqlite_schema.hpp"

namespace jit {

// Field-by-field equality for the round-trip assertions. They live in namespace jit so that
// comparing vectors of them (inside std) finds them by argument-dependent lookup.
inline auto tied(const Resource& r) {
    return std::tie(r.name, r.description, r.services, r.accounts, r.members, r.policy, r.hosts);
}
inline auto tied(const Policy& p) {
    return std::tie(p.name, p.description, p.action, p.approvers, p.approvals_required,
                    p.max_duration, p.auto_expiry, p.request_ttl, p.active, p.reason_pattern,
                    p.reason_min_length);
}
inline auto tied(const Approval& a) {
    return std::tie(a.approver, a.decision, a.comment, a.time);
}
inline auto tied(const Request& r) {
    return std::tie(r.id, r.resource, r.requester, r.policy, r.reason, r.requested_duration,
                    r.duration, r.capped, r.state, r.created, r.decided, r.expires,
                    r.approvals_required, r.auto_expiry, r.approvals, r.grant_id, r.start,
                    r.extends);
}
inline auto tied(const Grant& g) {
    return std::tie(g.id, g.request_id, g.user, g.resource, g.start, g.expiry, g.state, g.ended,
                    g.ended_by);
}
inline auto tied(const Session& s) {
    return std::tie(s.id, s.grant_id, s.user, s.target, s.service, s.rhost, s.tty, s.pid,
                    s.pid_start, s.boot_id, s.logind_session, s.cgroup, s.fingerprint, s.host,
                    s.opened, s.closed, s.state);
}
inline auto tied(const SshKey& k) {
    return std::tie(k.fingerprint, k.user, k.type, k.base64, k.comment, k.added);
}
inline auto tied(const AuditEvent& e) {
    return std::tie(e.seq, e.time, e.event, e.fields, e.prev_hash, e.hash);
}
// Every model type above compares by its tied() fields.
template <typename T>
    requires requires(const T& t) { tied(t); } bool
operator==(const T& a, const T& b) {
    return tied(a) == tied(b);
}

inline void PrintTo(const Resource& r, std::ostream* os) {
    *os << "resource " << r.name;
}
inline void PrintTo(const Policy& p, std::ostream* os) {
    *os << "policy " << p.name;
}
inline void PrintTo(const Request& r, std::ostream* os) {
    *os << "request " << r.id;
}
inline void PrintTo(const Grant& g, std::ostream* os) {
    *os << "grant " << g.id;
}
inline void PrintTo(const Session& s, std::ostream* os) {
    *os << "session " << s.id;
}
inline void PrintTo(const SshKey& k, std::ostream* os) {
    *os << "key " << k.fingerprint;
}
inline void PrintTo(const AuditEvent& e, std::ostream* os) {
    *os << "audit " << e.seq << " " << e.event;
}

namespace store_test {

// The matchers the store tests use.
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The objects of two states alike, kind by kind (sessions too unless told not to).
inline void expect_same_objects(const StoredState& actual, const StoredState& expected,
                                bool sessions = true) {
    EXPECT_EQ(actual.resources, expected.resources);
    EXPECT_EQ(actual.policies, expected.policies);
    EXPECT_EQ(actual.requests, expected.requests);
    EXPECT_EQ(actual.grants, expected.grants);
    if (sessions) {
        EXPECT_EQ(actual.sessions, expected.sessions);
    }
    EXPECT_EQ(actual.keys, expected.keys);
}

using Fields = std::vector<std::pair<std::string, std::string>>;

inline const auto kSchemaVersion = static_cast<std::int64_t>(jit::sqlite::kMigrations.size());

// A private directory for one test's database, removed with everything in it afterwards.
class DatabaseDir : public testing::TempDir {
  public:
    DatabaseDir() : testing::TempDir("jit-store") {}
};

// A plain sqlite3 connection: what an attacker or a curious admin would use on the file.
class RawDatabase {
  public:
    explicit RawDatabase(const std::string& path) {
        if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
            throw std::runtime_error("sqlite3_open " + path + " failed");
        }
    }
    ~RawDatabase() { sqlite3_close(db_); }
    RawDatabase(const RawDatabase&) = delete;
    RawDatabase& operator=(const RawDatabase&) = delete;

    void exec(const std::string& sql) {
        char* error = nullptr;
        int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
        std::string message = error ? error : "";
        sqlite3_free(error);
        if (rc != SQLITE_OK) {
            throw std::runtime_error(sql + ": " + message);
        }
    }
    std::string text(const std::string& sql) {
        sqlite3_stmt* statement = nullptr;
        if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
            throw std::runtime_error(sql + ": " + sqlite3_errmsg(db_));
        }
        std::string result;
        if (sqlite3_step(statement) == SQLITE_ROW && sqlite3_column_text(statement, 0)) {
            result = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
        }
        sqlite3_finalize(statement);
        return result;
    }
    std::int64_t integer(const std::string& sql) { return std::stoll(text(sql)); }

  private:
    sqlite3* db_ = nullptr;
};

inline Policy sample_policy() {
    return {.name = "ops",
            .description = "routine operations",
            .action = PolicyAction::AutoApprove,
            .approvers = {"carol", "@jit-approvers", "bob"},
            .approvals_required = 2,
            .max_duration = 8 * 3600,
            .auto_expiry = false,
            .request_ttl = 900,
            .active = true,
            .reason_pattern = "(INC|CHG)-[0-9]+",
            .reason_min_length = 12};
}

inline Resource sample_resource() {
    return {.name = "db",
            .description = "database hosts",
            .services = {"sudo", "sshd"},
            .accounts = {"postgres", "root"},
            .members = {"@dba", "alice"},
            .policy = "ops",
            .hosts = {"db-*"}};
}

inline Request sample_request() {
    return {.resource = "db",
            .requester = "dave",
            .policy = "ops",
            .reason = "rotate WAL archive; ticket #42 'quoted' \"twice\" ünïcode",
            .requested_duration = 12 * 3600,
            .duration = 8 * 3600,
            .capped = true,
            .state = RequestState::Approved,
            .created = 1'790'000'000,
            .decided = 1'790'000'600,
            .expires = 1'790'003'600,
            .approvals_required = 2,
            .auto_expiry = false,
            .approvals = {{"carol", Decision::Approve, "ok", 1'790'000'300},
                          {"bob", Decision::Deny, "", 1'790'000'600}},
            .grant_id = std::nullopt,
            .start = 1'790'000'500,
            .extends = 7};
}

inline Grant sample_grant(Id request_id) {
    return {.request_id = request_id,
            .user = "dave",
            .resource = "db",
            .start = 1'790'000'600,
            .expiry = 1'790'029'400,
            .state = GrantState::Revoked,
            .ended = 1'790'001'000,
            .ended_by = "alice"};
}

inline Session sample_session(Id grant_id) {
    return {.grant_id = grant_id,
            .user = "dave",
            .target = "postgres",
            .service = "sudo",
            .rhost = "10.0.0.7",
            .tty = "/dev/pts/3",
            .pid = 4242,
            .pid_start = 987654,
            .boot_id = "0f6c1f5e4d3b4a2c9e8d7c6b5a493827",
            .logind_session = "c17",
            .cgroup = "/jit/session-4242-987654",
            .fingerprint = "SHA256:abc",
            .host = "db-01",
            .opened = 1'790'000'700,
            .closed = 1'790'001'000,
            .state = SessionState::Terminated};
}

// sample_request() approved into sample_grant(), both put: the request names its grant and
// keeps its id when put again.
inline std::pair<Request, Grant> put_granted_request(Transaction& transaction) {
    Request request = sample_request();
    request.id = transaction.put(request);
    Grant grant = sample_grant(request.id);
    grant.id = transaction.put(grant);
    request.grant_id = grant.id;
    EXPECT_EQ(transaction.put(request), request.id);
    return {request, grant};
}

inline AuditEvent audit_event(std::string type, EpochSeconds time, Fields fields) {
    AuditEvent event;
    event.time = time;
    event.event = std::move(type);
    event.fields = std::move(fields);
    return event;
}

inline AuditEvent requested(EpochSeconds time, const std::string& user,
                            const std::string& resource) {
    return audit_event("requested", time,
                       {{"JIT_REQUEST_ID", "1"},
                        {"JIT_USER", user},
                        {"JIT_RESOURCE", resource},
                        {"JIT_POLICY", "ops"},
                        {"JIT_REASON", "needed"},
                        {"JIT_REQUESTED_DURATION", "3600"},
                        {"JIT_DURATION", "3600"},
                        {"JIT_CAPPED", "false"}});
}

// Appends `count` requested events in one committed transaction; returns them.
inline std::vector<AuditEvent> append_requested_events(Store& store, int count) {
    std::vector<AuditEvent> appended;
    auto transaction = store.begin();
    for (int i = 0; i < count; ++i) {
        appended.push_back(transaction->append(requested(1000 + i, "alice", "db")));
    }
    transaction->commit();
    return appended;
}

inline std::vector<Id> seqs(const std::vector<AuditEvent>& events) {
    std::vector<Id> result;
    for (const AuditEvent& event : events) {
        result.push_back(event.seq);
    }
    return result;
}

class StoreTest : public ::testing::Test {
  protected:
    std::unique_ptr<Store> open() { return open_sqlite_store(path_); }

    std::vector<AuditEvent> append_events(Store& store, int count) {
        return append_requested_events(store, count);
    }

    DatabaseDir dir_;
    std::string path_ = dir_.path() + "/jit.db";
};

}  // namespace store_test
}  // namespace jit
