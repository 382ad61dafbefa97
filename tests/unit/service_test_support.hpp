// SPDX-License-Identifier: Apache-2.0
// What the engine's tests share: the ServiceTest fixture over injected fakes (a fixed cast of
// users, each with a uid and groups), and GrantedTest, which starts with alice holding an approved
// grant on prod-db.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
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
// The matchers the engine's tests use.
using ::testing::ElementsAre;
using ::testing::HasSubstr;

inline constexpr Seconds kHour = 3600;

// The cast: every fixture's `who(name)` is one of these, with these uids (postgres is a target
// account, never a caller).
inline const std::map<std::string, uid_t> kUids = {
    {"root", 0},     {"ada", 1001},  {"aud", 1002},     {"bob", 1003},    {"carol", 1004},
    {"alice", 1005}, {"dave", 1006}, {"mallory", 1007}, {"postgres", 120}};

// The JitError that `action` throws; a test failure (and an Internal error) when it throws none.
inline JitError error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const JitError& e) {
        return e;
    }
    ADD_FAILURE() << "expected a JitError";
    return JitError(ErrorCode::Internal, "");
}

inline ErrorCode code_of(const std::function<void()>& action) {
    return error_of(action).code();
}

class ServiceTest : public ::testing::Test, public testing::EngineFakes {
  protected:
    void SetUp() override {
        for (const auto& [name, uid] : kUids) {
            identity.users[uid] = name;
        }
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

    // A new engine over the same store: what jitd does after a restart (after a reboot when the
    // boot id is another).
    void restart(const std::string& boot_id = "") {
        service.reset();
        service = std::make_unique<JitService>(store, config, identity, clock, effects);
        if (review_fs != nullptr) {
            service->enable_review(*review_fs);
        }
        service->start(boot_id);
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
        return make_caller(kUids.at(name), name, identity.groups.at(name));
    }

    // A resource under a new policy of its own, assigned and active (what an admin does before
    // anyone can ask for it).
    void protect(const Resource& resource, const NewPolicy& policy) {
        service->add_resource(who("ada"), resource);
        service->add_policy(who("ada"), policy);
        service->assign_policy(who("ada"), policy.name, resource.name);
        service->set_policy_active(who("ada"), policy.name, true);
    }

    static NewPolicy auto_approve(const std::string& name) {
        NewPolicy policy;
        policy.name = name;
        policy.action = PolicyAction::AutoApprove;
        return policy;
    }

    static NewPolicy approved_by(const std::string& name, const std::string& approver) {
        NewPolicy policy;
        policy.name = name;
        policy.approvers = {approver};
        return policy;
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

    Config config;
    const ReviewFileSystem* review_fs = nullptr;  // grant review: off unless a test sets one
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

    // A sudo session of alice's to postgres (pid 4242, started at 99) that jitd placed in the
    // cgroup `group`.
    Id open_placed(const std::string& group) {
        effects.next_cgroup = group;
        Id id =
            service->open_session(who("root"), {"sudo", "postgres", "alice", "", ""}, 4242, "", 99)
                .session_id;
        effects.next_cgroup = "";
        return id;
    }

    Id grant_id = 0;
    EpochSeconds expiry = 0;
};

}  // namespace jit::service_test
