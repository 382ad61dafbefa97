// SPDX-License-Identifier: Apache-2.0
// What the engine's tests share: the ServiceTest fixture over injected fakes, and GrantedTest,
// which starts with alice holding an approved grant on prod-db.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "fakes.hpp"
#include "jit/error.hpp"
#include "jit/service.hpp"

namespace jit::service_test {

using testing::FakeClock;
using testing::FakeIdentity;
using testing::FakeStore;
using testing::make_caller;
using testing::RecordingEffects;

inline constexpr Seconds kHour = 3600;

inline ErrorCode code_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const JitError& e) {
        return e.code();
    }
    ADD_FAILURE() << "expected a JitError";
    return ErrorCode::Internal;
}

class ServiceTest : public ::testing::Test {
  protected:
    void SetUp() override {
        identity.groups = {{"root", {"root"}},
                           {"ada", {"ada", "jit-admin"}},
                           {"aud", {"aud", "jit-audit"}},
                           {"bob", {"bob", "approvers"}},
                           {"carol", {"carol", "approvers"}},
                           {"alice", {"alice"}},
                           {"dave", {"dave", "dba"}},
                           {"mallory", {"mallory"}}};
        restart();
    }

    // A new engine over the same store: what jitd does after a restart.
    void restart() {
        service = std::make_unique<JitService>(store, config, identity, clock, effects);
        service->start();
    }

    // Root in a shell that `login_name` logged in to (sudo -s): the audit login uid is theirs.
    Caller root_as(const std::string& login_name) {
        Caller root = who("root");
        Caller person = who(login_name);
        root.login_uid = person.uid;
        root.login_name = person.name;
        root.login_groups = person.groups;
        return root;
    }

    Caller who(const std::string& name) {
        static const std::map<std::string, uid_t> uids = {
            {"root", 0},     {"ada", 1001},   {"aud", 1002},  {"bob", 1003},
            {"carol", 1004}, {"alice", 1005}, {"dave", 1006}, {"mallory", 1007}};
        return make_caller(uids.at(name), name, identity.groups.at(name));
    }

    // The seed's admin steps: a resource, a require-approval policy with expiry, assigned and
    // activated.
    void seed_admin_steps(int approvals = 1, std::vector<std::string> approvers = {"@approvers"}) {
        service->add_resource(
            who("ada"), {"prod-db", "Production DB", {"sshd", "sudo"}, {"postgres"}, {"@dba"}, ""});
        NewPolicy p;
        p.name = "prod-db-jit";
        p.description = "JIT access -- Production DB";
        p.approvers = std::move(approvers);
        p.approvals_required = approvals;
        p.max_duration = 4 * kHour;
        service->add_policy(who("ada"), p);
        service->assign_policy(who("ada"), "prod-db-jit", "prod-db");
        service->set_policy_active(who("ada"), "prod-db-jit", true);
    }

    LoginDecision sudo_as_postgres(const std::string& user) {
        return service->check_login(who("root"), {"sudo", "postgres", user, "", "pts/0"});
    }

    std::size_t audit_rows() const { return store.audit_log.size(); }

    FakeStore store;
    FakeClock clock;
    FakeIdentity identity;
    RecordingEffects effects;
    Config config;
    std::unique_ptr<JitService> service;
};

class GrantedTest : public ServiceTest {
  protected:
    void SetUp() override {
        ServiceTest::SetUp();
        seed_admin_steps();
        Request r = service->create_request(who("alice"), "prod-db", "fix", 2 * kHour);
        grant_id = *service->decide(who("bob"), r.id, Decision::Approve, "").grant_id;
        expiry = *service->get_grant(who("alice"), grant_id).expiry;
    }

    SessionOpen open(const std::string& ruser = "alice") {
        return service->open_session(who("root"), {"sudo", "postgres", ruser, "", "pts/4"}, 4242,
                                     "c7");
    }

    Id grant_id = 0;
    EpochSeconds expiry = 0;
};

}  // namespace jit::service_test
