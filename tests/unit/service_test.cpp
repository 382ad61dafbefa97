// SPDX-License-Identifier: Apache-2.0
// The engine: the seed's admin and operator stories, capping, authorization rules, the request
// and grant state machines, deadlines, sessions and restarts, over injected fakes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes.hpp"
#include "jit/error.hpp"
#include "jit/service.hpp"

namespace jit {
namespace {

using ::testing::ElementsAre;
using testing::FakeClock;
using testing::FakeIdentity;
using testing::FakeStore;
using ::testing::HasSubstr;
using testing::make_caller;
using testing::RecordingEffects;

constexpr Seconds kHour = 3600;

ErrorCode code_of(const std::function<void()>& action) {
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

// --- Admin steps -----------------------------------------------------------------------------

TEST_F(ServiceTest, SeedAdminStepsMakeTheResourceRequestable) {
    service->add_resource(who("ada"), {"prod-db", "", {"sshd"}, {"postgres"}, {}, ""});
    EXPECT_EQ(service->get_resource(who("alice"), "prod-db").access, "none");
    NewPolicy p;
    p.name = "prod-db-jit";
    p.approvers = {"bob"};
    Policy created = service->add_policy(who("ada"), p);
    EXPECT_FALSE(created.active);  // activation is its own step
    EXPECT_EQ(created.max_duration, 4 * kHour);
    service->assign_policy(who("ada"), "prod-db-jit", "prod-db");
    EXPECT_EQ(service->get_resource(who("alice"), "prod-db").access, "none");
    service->set_policy_active(who("ada"), "prod-db-jit", true);
    EXPECT_EQ(service->get_resource(who("alice"), "prod-db").access, "request");
    EXPECT_EQ(service->get_policy(who("alice"), "prod-db-jit").resources,
              std::vector<std::string>{"prod-db"});
    EXPECT_THAT(store.event_types(), ElementsAre("resource_changed", "policy_changed",
                                                 "policy_changed", "policy_changed"));
}

TEST_F(ServiceTest, OnlyAdminsManage) {
    for (const char* name : {"aud", "bob", "alice"}) {
        EXPECT_EQ(code_of([&] {
                      service->add_resource(who(name), {"x", "", {"sshd"}, {"*"}, {}, ""});
                  }),
                  ErrorCode::PermissionDenied)
            << name;
    }
    EXPECT_EQ(audit_rows(), 0u);
}

TEST_F(ServiceTest, BadResourceDefinitionsChangeNothing) {
    const std::vector<Resource> bad = {
        {"Bad Name", "", {"sshd"}, {"*"}, {}, ""},
        {"ok", "", {}, {"*"}, {}, ""},
        {"ok", "", {"sshd"}, {}, {}, ""},
        {"ok", "", {"ss hd"}, {"*"}, {}, ""},
        {"ok", "", {"sshd"}, {"ro;ot"}, {}, ""},
        {"ok", "", {"sshd"}, {"*"}, {"@"}, ""},
        {"ok", "line\nbreak", {"sshd"}, {"*"}, {}, ""},
        {"ok", "", {"sshd"}, {"*"}, {}, "some-policy"},
    };
    for (const auto& r : bad) {
        EXPECT_EQ(code_of([&] { service->add_resource(who("ada"), r); }), ErrorCode::InvalidInput)
            << r.name;
    }
    EXPECT_EQ(audit_rows(), 0u);
    EXPECT_TRUE(store.rows.resources.empty());
}

TEST_F(ServiceTest, DuplicateResourceAndMembers) {
    seed_admin_steps();
    EXPECT_EQ(code_of([&] {
                  service->add_resource(who("ada"), {"prod-db", "", {"sshd"}, {"*"}, {}, ""});
              }),
              ErrorCode::Conflict);
    service->add_member(who("ada"), "prod-db", "alice");
    EXPECT_EQ(sudo_as_postgres("alice").verdict, LoginVerdict::Member);
    EXPECT_EQ(code_of([&] { service->add_member(who("ada"), "prod-db", "alice"); }),
              ErrorCode::Conflict);
    service->remove_member(who("ada"), "prod-db", "alice");
    EXPECT_EQ(sudo_as_postgres("alice").verdict, LoginVerdict::Deny);
    EXPECT_EQ(code_of([&] { service->remove_member(who("ada"), "prod-db", "alice"); }),
              ErrorCode::NotFound);
}

TEST_F(ServiceTest, PolicyRules) {
    NewPolicy p;
    p.name = "p";
    EXPECT_EQ(code_of([&] { service->add_policy(who("ada"), p); }), ErrorCode::InvalidInput)
        << "require-approval without approvers";
    p.approvers = {"bob"};
    p.approvals_required = 2;
    EXPECT_EQ(code_of([&] { service->add_policy(who("ada"), p); }), ErrorCode::InvalidInput)
        << "two approvals from one named approver";
    p.approvals_required = 0;
    EXPECT_EQ(code_of([&] { service->add_policy(who("ada"), p); }), ErrorCode::InvalidInput);
    p.approvals_required = 1;
    p.max_duration = 30;  // below min_duration (1min)
    EXPECT_EQ(code_of([&] { service->add_policy(who("ada"), p); }), ErrorCode::InvalidInput);
    p.max_duration = 31 * 86400;  // above max_duration_limit (30d)
    EXPECT_EQ(code_of([&] { service->add_policy(who("ada"), p); }), ErrorCode::InvalidInput);
    p.max_duration = find_preset("incident-response").max_duration;
    p.request_ttl = 0;
    EXPECT_EQ(code_of([&] { service->add_policy(who("ada"), p); }), ErrorCode::InvalidInput);
    EXPECT_EQ(audit_rows(), 0u);
    p.request_ttl = 3600;
    EXPECT_EQ(service->add_policy(who("ada"), p).max_duration, 8 * kHour);
    EXPECT_EQ(code_of([&] { service->add_policy(who("ada"), p); }), ErrorCode::Conflict);
    p.name = "auto";
    p.action = PolicyAction::AutoApprove;
    p.approvers = {};
    EXPECT_NO_THROW(service->add_policy(who("ada"), p));
}

TEST_F(ServiceTest, PresetsAreTheSeedsRecommendedMaximums) {
    EXPECT_EQ(find_preset("routine-ops").max_duration, 4 * kHour);
    EXPECT_EQ(find_preset("incident-response").max_duration, 8 * kHour);
    EXPECT_EQ(find_preset("maintenance-window").max_duration, 12 * kHour);
    EXPECT_EQ(find_preset("audit-review").max_duration, 24 * kHour);
    EXPECT_EQ(code_of([] { find_preset("forever"); }), ErrorCode::InvalidInput);
}

// --- Requests --------------------------------------------------------------------------------

TEST_F(ServiceTest, RequestsNeedAnActivePolicy) {
    service->add_resource(who("ada"), {"web", "", {"sshd"}, {"*"}, {}, ""});
    EXPECT_EQ(code_of([&] { service->create_request(who("alice"), "web", "fix", kHour); }),
              ErrorCode::Failed);
    seed_admin_steps();
    service->set_policy_active(who("ada"), "prod-db-jit", false);
    EXPECT_EQ(code_of([&] { service->create_request(who("alice"), "prod-db", "fix", kHour); }),
              ErrorCode::Failed);
}

TEST_F(ServiceTest, LongRequestIsCappedKeepingBothNumbers) {
    seed_admin_steps();
    Request r = service->create_request(who("alice"), "prod-db", "INC-42 slow queries", 86400);
    EXPECT_EQ(r.state, RequestState::Pending);
    EXPECT_TRUE(r.capped);
    EXPECT_EQ(r.requested_duration, 86400);
    EXPECT_EQ(r.duration, 4 * kHour);
    const AuditEvent& e = store.audit_log.back();
    EXPECT_EQ(e.event, "requested");
    EXPECT_EQ(*e.field("JIT_REQUESTED_DURATION"), "86400");
    EXPECT_EQ(*e.field("JIT_DURATION"), "14400");
    EXPECT_EQ(*e.field("JIT_CAPPED"), "true");
    EXPECT_EQ(*e.field("JIT_REASON"), "INC-42 slow queries");
    EXPECT_EQ(*e.field("JIT_POLICY"), "prod-db-jit");
    EXPECT_EQ(effects.calls.back(), "request_created " + std::to_string(r.id));
}

TEST_F(ServiceTest, EveryEventNamesTheHost) {
    config.host = "db-1.example.org";
    restart();
    seed_admin_steps();
    service->create_request(who("alice"), "prod-db", "INC-42", kHour);
    ASSERT_FALSE(store.audit_log.empty());
    for (const AuditEvent& e : store.audit_log) {
        ASSERT_NE(e.field("JIT_HOST"), nullptr) << e.event;
        EXPECT_EQ(*e.field("JIT_HOST"), "db-1.example.org") << e.event;
    }
}

// Hands out a fixed copy and counts the reads.
class CountingJournal final : public AuditJournalReader {
  public:
    JournalCopy read(const std::string& chain) const override {
        chains.push_back(chain);
        JournalCopy copy;
        copy.read = true;
        return copy;
    }
    mutable std::vector<std::string> chains;
};

TEST_F(ServiceTest, VerifyReadsTheJournalOfItsChainOnlyForThoseAllowed) {
    CountingJournal journal;
    EXPECT_EQ(code_of([&] { service->verify_audit(who("alice"), journal); }),
              ErrorCode::PermissionDenied);
    EXPECT_TRUE(journal.chains.empty());  // refused before the journal is read
    service->verify_audit(who("aud"), journal);
    EXPECT_EQ(journal.chains, std::vector<std::string>{store.audit_chain()});
}

TEST_F(ServiceTest, BadRequestsChangeNothing) {
    seed_admin_steps();
    const std::size_t before = audit_rows();
    EXPECT_EQ(code_of([&] { service->create_request(who("alice"), "prod-db", "x", 59); }),
              ErrorCode::InvalidInput);
    EXPECT_EQ(code_of([&] { service->create_request(who("alice"), "prod-db", "x", 0); }),
              ErrorCode::InvalidInput);
    EXPECT_EQ(code_of([&] { service->create_request(who("alice"), "prod-db", "x", -60); }),
              ErrorCode::InvalidInput);
    EXPECT_EQ(code_of([&] { service->create_request(who("alice"), "prod-db", "", kHour); }),
              ErrorCode::InvalidInput);
    EXPECT_EQ(code_of([&] {
                  service->create_request(who("alice"), "prod-db", std::string(1025, 'x'), kHour);
              }),
              ErrorCode::InvalidInput);
    EXPECT_EQ(code_of([&] { service->create_request(who("alice"), "nope", "x", kHour); }),
              ErrorCode::NotFound);
    EXPECT_EQ(code_of([&] { service->create_request(who("alice"), "../etc", "x", kHour); }),
              ErrorCode::InvalidInput);
    EXPECT_EQ(audit_rows(), before);
    EXPECT_TRUE(service->list_requests(who("alice"), true, std::nullopt).empty());
}

TEST_F(ServiceTest, StandingMembersNeedNoRequest) {
    seed_admin_steps();
    EXPECT_EQ(code_of([&] { service->create_request(who("dave"), "prod-db", "x", kHour); }),
              ErrorCode::Conflict);
    EXPECT_EQ(service->get_resource(who("dave"), "prod-db").access, "member");
}

TEST_F(ServiceTest, DuplicatesAreRefusedWithTheExistingId) {
    seed_admin_steps();
    Request r = service->create_request(who("alice"), "prod-db", "first", kHour);
    try {
        service->create_request(who("alice"), "prod-db", "second", kHour);
        FAIL() << "second pending request accepted";
    } catch (const JitError& e) {
        EXPECT_EQ(e.code(), ErrorCode::Conflict);
        EXPECT_THAT(e.what(), HasSubstr("request " + std::to_string(r.id)));
    }
    Request approved = service->decide(who("bob"), r.id, Decision::Approve, "");
    try {
        service->create_request(who("alice"), "prod-db", "third", kHour);
        FAIL() << "request during an active grant accepted";
    } catch (const JitError& e) {
        EXPECT_EQ(e.code(), ErrorCode::Conflict);
        EXPECT_THAT(e.what(), HasSubstr("grant " + std::to_string(*approved.grant_id)));
    }
}

TEST_F(ServiceTest, ApprovalsQueueShowsOnlyWhatTheCallerMayDecide) {
    seed_admin_steps();
    Request r = service->create_request(who("alice"), "prod-db", "fix", kHour);
    EXPECT_EQ(service->approvals(who("bob")).size(), 1u);
    EXPECT_EQ(service->approvals(who("carol")).size(), 1u);
    EXPECT_TRUE(service->approvals(who("root")).empty());  // bare root: root_approves = no
    EXPECT_TRUE(service->approvals(who("alice")).empty());
    EXPECT_TRUE(service->approvals(who("mallory")).empty());
    EXPECT_TRUE(service->approvals(who("ada")).empty());
    EXPECT_EQ(service->get_request(who("bob"), r.id).id, r.id);
    EXPECT_EQ(code_of([&] { service->get_request(who("mallory"), r.id); }), ErrorCode::NotFound);
}

TEST_F(ServiceTest, ApprovalGrantsAccessUntilExpiry) {
    seed_admin_steps();
    EXPECT_EQ(sudo_as_postgres("alice").verdict, LoginVerdict::Deny);
    Request r = service->create_request(who("alice"), "prod-db", "fix", 2 * kHour);
    const EpochSeconds approved_at = clock.t += 120;
    Request decided = service->decide(who("bob"), r.id, Decision::Approve, "ok");
    ASSERT_EQ(decided.state, RequestState::Approved);
    ASSERT_TRUE(decided.grant_id);
    Grant g = service->get_grant(who("alice"), *decided.grant_id);
    EXPECT_EQ(g.start, approved_at);  // grants start when approved
    EXPECT_EQ(g.expiry, approved_at + 2 * kHour);
    EXPECT_EQ(g.state, GrantState::Active);

    LoginDecision d = sudo_as_postgres("alice");
    EXPECT_EQ(d.verdict, LoginVerdict::Grant);
    EXPECT_EQ(d.grant_id, g.id);
    EXPECT_EQ(service->get_resource(who("alice"), "prod-db").access, "grant");
    EXPECT_EQ(service->next_deadline(), approved_at + 2 * kHour - config.warn_before);

    clock.t = approved_at + 2 * kHour - 1;
    service->tick();
    EXPECT_EQ(sudo_as_postgres("alice").verdict, LoginVerdict::Grant);
    clock.t = approved_at + 2 * kHour;
    service->tick();
    EXPECT_EQ(sudo_as_postgres("alice").verdict, LoginVerdict::Deny);
    EXPECT_EQ(service->get_grant(who("alice"), g.id).state, GrantState::Expired);
    EXPECT_THAT(store.event_types(),
                ::testing::IsSupersetOf({"requested", "approved", "granted", "expired"}));
    EXPECT_EQ(effects.calls.back(), "grant_ended " + std::to_string(g.id) + " expired");
    EXPECT_EQ(service->get_resource(who("alice"), "prod-db").access, "request");
}

TEST_F(ServiceTest, NoSelfApproval) {
    seed_admin_steps(1, {"bob", "carol"});
    service->add_resource(who("ada"), {"other", "", {"sshd"}, {"*"}, {}, ""});
    service->assign_policy(who("ada"), "prod-db-jit", "other");
    Request r = service->create_request(who("bob"), "other", "fix", kHour);
    EXPECT_EQ(code_of([&] { service->decide(who("bob"), r.id, Decision::Approve, ""); }),
              ErrorCode::PermissionDenied);
    EXPECT_TRUE(service->approvals(who("bob")).empty());
    EXPECT_EQ(service->decide(who("carol"), r.id, Decision::Approve, "").state,
              RequestState::Approved);
}

TEST_F(ServiceTest, OnlyApproversDecide) {
    seed_admin_steps();
    Request r = service->create_request(who("alice"), "prod-db", "fix", kHour);
    for (const char* name : {"ada", "aud", "mallory", "dave"}) {
        EXPECT_EQ(code_of([&] { service->decide(who(name), r.id, Decision::Approve, ""); }),
                  ErrorCode::PermissionDenied)
            << name;
    }
    EXPECT_EQ(code_of([&] { service->decide(who("bob"), 999, Decision::Approve, ""); }),
              ErrorCode::NotFound);
    EXPECT_EQ(service->get_request(who("alice"), r.id).state, RequestState::Pending);
}

TEST_F(ServiceTest, DenyEndsTheRequest) {
    seed_admin_steps(2, {"bob", "carol"});
    Request r = service->create_request(who("alice"), "prod-db", "fix", kHour);
    service->decide(who("bob"), r.id, Decision::Approve, "");
    Request denied = service->decide(who("carol"), r.id, Decision::Deny, "not now");
    EXPECT_EQ(denied.state, RequestState::Denied);
    EXPECT_FALSE(denied.grant_id);
    EXPECT_EQ(store.audit_log.back().event, "denied");
    EXPECT_EQ(*store.audit_log.back().field("JIT_ACTOR"), "carol");
    EXPECT_EQ(*store.audit_log.back().field("JIT_COMMENT"), "not now");
    EXPECT_EQ(code_of([&] { service->decide(who("bob"), r.id, Decision::Approve, ""); }),
              ErrorCode::Conflict);
    EXPECT_EQ(sudo_as_postgres("alice").verdict, LoginVerdict::Deny);
}

TEST_F(ServiceTest, NOfMApprovals) {
    seed_admin_steps(2);
    Request r = service->create_request(who("alice"), "prod-db", "fix", kHour);
    EXPECT_EQ(r.approvals_required, 2);
    Request after_one = service->decide(who("bob"), r.id, Decision::Approve, "");
    EXPECT_EQ(after_one.state, RequestState::Pending);
    EXPECT_EQ(code_of([&] { service->decide(who("bob"), r.id, Decision::Approve, ""); }),
              ErrorCode::Conflict);  // the same approver twice is one approval
    EXPECT_TRUE(service->approvals(who("bob")).empty());
    EXPECT_EQ(sudo_as_postgres("alice").verdict, LoginVerdict::Deny);
    Request after_two = service->decide(who("carol"), r.id, Decision::Approve, "");
    EXPECT_EQ(after_two.state, RequestState::Approved);
    EXPECT_EQ(after_two.approvals.size(), 2u);
    EXPECT_EQ(sudo_as_postgres("alice").verdict, LoginVerdict::Grant);
}

TEST_F(ServiceTest, AutoApproveGrantsAtOnce) {
    service->add_resource(who("ada"), {"logs", "", {"sshd"}, {"*"}, {}, ""});
    NewPolicy p;
    p.name = "self-service";
    p.action = PolicyAction::AutoApprove;
    p.max_duration = kHour;
    service->add_policy(who("ada"), p);
    service->assign_policy(who("ada"), "self-service", "logs");
    service->set_policy_active(who("ada"), "self-service", true);
    Request r = service->create_request(who("alice"), "logs", "read logs", 2 * kHour);
    EXPECT_EQ(r.state, RequestState::Approved);
    ASSERT_TRUE(r.grant_id);
    EXPECT_TRUE(r.capped);
    EXPECT_EQ(r.approvals.at(0).approver, "system");
    EXPECT_THAT(effects.calls,
                ::testing::IsSupersetOf({"grant_started " + std::to_string(*r.grant_id)}));
    std::vector<std::string> types = store.event_types();
    EXPECT_THAT(std::vector<std::string>(types.end() - 3, types.end()),
                ElementsAre("requested", "approved", "granted"));
}

TEST_F(ServiceTest, PendingRequestExpiresAfterItsTtl) {
    seed_admin_steps();
    Request r = service->create_request(who("alice"), "prod-db", "fix", kHour);
    EXPECT_EQ(service->next_deadline(), r.created + 3600);
    clock.t += 3600;
    service->tick();
    EXPECT_EQ(service->get_request(who("alice"), r.id).state, RequestState::Expired);
    EXPECT_EQ(store.audit_log.back().event, "request_expired");
    EXPECT_EQ(*store.audit_log.back().field("JIT_ACTOR"), "system");
    EXPECT_EQ(code_of([&] { service->decide(who("bob"), r.id, Decision::Approve, ""); }),
              ErrorCode::Conflict);
    EXPECT_FALSE(service->next_deadline());
}

TEST_F(ServiceTest, CancelOwnPendingRequest) {
    seed_admin_steps();
    Request r = service->create_request(who("alice"), "prod-db", "fix", kHour);
    EXPECT_EQ(code_of([&] { service->cancel(who("bob"), r.id); }), ErrorCode::PermissionDenied);
    EXPECT_EQ(service->cancel(who("alice"), r.id).state, RequestState::Cancelled);
    EXPECT_EQ(store.audit_log.back().event, "cancelled");
    EXPECT_EQ(code_of([&] { service->cancel(who("alice"), r.id); }), ErrorCode::Conflict);
    EXPECT_FALSE(service->next_deadline());
}

TEST_F(ServiceTest, NoAutoExpiryLastsUntilRevoked) {
    service->add_resource(who("ada"), {"lab", "", {"sshd"}, {"*"}, {}, ""});
    NewPolicy p;
    p.name = "open-ended";
    p.approvers = {"bob"};
    p.auto_expiry = false;
    service->add_policy(who("ada"), p);
    service->assign_policy(who("ada"), "open-ended", "lab");
    service->set_policy_active(who("ada"), "open-ended", true);
    Request r = service->create_request(who("alice"), "lab", "fix", kHour);
    Request a = service->decide(who("bob"), r.id, Decision::Approve, "");
    Grant g = service->get_grant(who("alice"), *a.grant_id);
    EXPECT_FALSE(g.expiry);
    EXPECT_FALSE(service->next_deadline());
    clock.t += 365 * 86400;
    service->tick();
    EXPECT_EQ(service->get_grant(who("alice"), g.id).state, GrantState::Active);
    EXPECT_EQ(*store.audit_log.back().field("JIT_EXPIRY"), "never");
}

// --- Grants and sessions ---------------------------------------------------------------------

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

TEST_F(GrantedTest, SessionsUnderAGrantAreRegisteredAndClosed) {
    SessionOpen s = open();
    EXPECT_EQ(s.decision.verdict, LoginVerdict::Grant);
    ASSERT_GT(s.session_id, 0);
    std::vector<Session> open_sessions = service->list_sessions(who("alice"), false);
    ASSERT_EQ(open_sessions.size(), 1u);
    EXPECT_EQ(open_sessions[0].pid, 4242);
    EXPECT_EQ(open_sessions[0].logind_session, "c7");
    EXPECT_EQ(open_sessions[0].target, "postgres");
    const AuditEvent& opened = store.audit_log.back();
    EXPECT_EQ(opened.event, "session_opened");
    EXPECT_EQ(*opened.field("JIT_GRANT_ID"), std::to_string(grant_id));
    EXPECT_EQ(*opened.field("JIT_SESSION_PID"), "4242");
    service->close_session(who("root"), s.session_id);
    EXPECT_TRUE(service->list_sessions(who("alice"), false).empty());
    EXPECT_EQ(service->list_sessions(who("alice"), true).at(0).state, SessionState::Closed);
    EXPECT_EQ(store.audit_log.back().event, "session_closed");
}

TEST_F(GrantedTest, DeniedAndMemberSessions) {
    SessionOpen denied = open("mallory");
    EXPECT_EQ(denied.decision.verdict, LoginVerdict::Deny);
    EXPECT_EQ(denied.session_id, 0);
    EXPECT_EQ(store.audit_log.back().event, "login_denied");
    EXPECT_EQ(*store.audit_log.back().field("JIT_RESOURCE"), "prod-db");
    SessionOpen member = open("dave");
    EXPECT_EQ(member.decision.verdict, LoginVerdict::Member);
    EXPECT_EQ(member.session_id, 0);  // audited, not registered: no grant ends it
    EXPECT_EQ(store.audit_log.back().event, "session_opened");
    EXPECT_EQ(*store.audit_log.back().field("JIT_GRANT_ID"), "");
    EXPECT_EQ(*store.audit_log.back().field("JIT_RESOURCE"), "prod-db");
    EXPECT_TRUE(service->list_sessions(who("dave"), true).empty());
    const std::size_t rows = audit_rows();
    SessionOpen unmanaged =
        service->open_session(who("root"), {"login", "root", "", "", "tty1"}, 1, "");
    EXPECT_EQ(unmanaged.decision.verdict, LoginVerdict::Unmanaged);
    EXPECT_EQ(audit_rows(), rows);  // not this host's business
}

TEST_F(GrantedTest, OnlyRootCallsThePamMethods) {
    for (const char* name : {"ada", "aud", "bob", "alice"}) {
        EXPECT_EQ(code_of([&] {
                      service->check_login(who(name), {"sudo", "postgres", "alice", "", ""});
                  }),
                  ErrorCode::PermissionDenied);
        EXPECT_EQ(
            code_of([&] {
                service->open_session(who(name), {"sudo", "postgres", "alice", "", ""}, 1, "");
            }),
            ErrorCode::PermissionDenied);
        EXPECT_EQ(code_of([&] { service->close_session(who(name), 1); }),
                  ErrorCode::PermissionDenied);
    }
}

TEST_F(GrantedTest, BadLoginAttemptsAreRejected) {
    EXPECT_EQ(code_of([&] {
                  service->check_login(who("root"), {"", "root", "", "", ""});
              }),
              ErrorCode::InvalidInput);
    EXPECT_EQ(code_of([&] {
                  service->check_login(who("root"), {"sshd", "", "", "", ""});
              }),
              ErrorCode::InvalidInput);
    EXPECT_EQ(code_of([&] {
                  service->check_login(who("root"), {"sshd", "a\nb", "", "", ""});
              }),
              ErrorCode::InvalidInput);
}

TEST_F(GrantedTest, ExpiryTerminatesSessionsAfterAWarning) {
    Id session = open().session_id;
    clock.t = expiry - config.warn_before;
    service->tick();
    ASSERT_EQ(effects.warned.size(), 1u);
    EXPECT_EQ(effects.warned[0], std::make_pair(session, expiry));
    EXPECT_TRUE(effects.terminated.empty());
    clock.t = expiry;
    service->tick();
    ASSERT_EQ(effects.terminated.size(), 1u);
    EXPECT_EQ(effects.terminated[0].id, session);
    EXPECT_EQ(effects.terminated[0].pid, 4242);
    EXPECT_EQ(service->list_sessions(who("alice"), true).at(0).state, SessionState::Terminated);
    std::vector<std::string> types = store.event_types();
    EXPECT_THAT(std::vector<std::string>(types.end() - 2, types.end()),
                ElementsAre("expired", "session_terminated"));
    // A late close from PAM after termination changes nothing.
    const std::size_t rows = audit_rows();
    service->close_session(who("root"), session);
    EXPECT_EQ(audit_rows(), rows);
}

TEST_F(GrantedTest, RevokeByOwnerOrAdmin) {
    open();
    EXPECT_EQ(code_of([&] { service->revoke(who("mallory"), grant_id, ""); }),
              ErrorCode::PermissionDenied);
    EXPECT_EQ(code_of([&] { service->revoke(who("aud"), grant_id, ""); }),
              ErrorCode::PermissionDenied);
    EXPECT_EQ(code_of([&] { service->revoke(who("bob"), grant_id, ""); }),
              ErrorCode::PermissionDenied);
    Grant g = service->revoke(who("ada"), grant_id, "incident over");
    EXPECT_EQ(g.state, GrantState::Revoked);
    EXPECT_EQ(g.ended_by, "ada");
    EXPECT_EQ(effects.terminated.size(), 1u);
    const AuditEvent& revoked = store.audit_log.at(store.audit_log.size() - 2);
    EXPECT_EQ(revoked.event, "revoked");
    EXPECT_EQ(*revoked.field("JIT_REASON"), "incident over");
    EXPECT_EQ(sudo_as_postgres("alice").verdict, LoginVerdict::Deny);
    EXPECT_EQ(code_of([&] { service->revoke(who("alice"), grant_id, ""); }), ErrorCode::Conflict);
    EXPECT_FALSE(service->next_deadline());
}

TEST_F(GrantedTest, OwnerGivesUpAGrant) {
    EXPECT_EQ(service->revoke(who("alice"), grant_id, "done early").state, GrantState::Revoked);
}

TEST_F(GrantedTest, ListingsFollowVisibilityRules) {
    EXPECT_EQ(service->list_grants(who("alice"), false, "", "").size(), 1u);
    EXPECT_TRUE(service->list_grants(who("mallory"), true, "", "").empty());
    EXPECT_EQ(service->list_grants(who("aud"), true, "", "").size(), 1u);
    EXPECT_EQ(service->list_grants(who("ada"), false, "alice", "").size(), 1u);
    EXPECT_EQ(code_of([&] { service->list_grants(who("mallory"), false, "alice", ""); }),
              ErrorCode::PermissionDenied);
    EXPECT_TRUE(service->list_requests(who("alice"), false, std::nullopt).empty());
    EXPECT_EQ(service->list_requests(who("alice"), true, std::nullopt).size(), 1u);
    EXPECT_EQ(service->list_requests(who("aud"), true, RequestState::Approved).size(), 1u);
    EXPECT_TRUE(service->list_requests(who("mallory"), true, std::nullopt).empty());
}

TEST_F(GrantedTest, ResourcesWithLiveGrantsAreNotRemoved) {
    EXPECT_EQ(code_of([&] { service->remove_resource(who("ada"), "prod-db"); }),
              ErrorCode::Conflict);
    service->revoke(who("ada"), grant_id, "");
    service->remove_resource(who("ada"), "prod-db");
    EXPECT_EQ(sudo_as_postgres("alice").verdict, LoginVerdict::Unmanaged);
    EXPECT_EQ(service->get_policy(who("ada"), "prod-db-jit").resources.size(), 0u);
}

TEST_F(GrantedTest, RemovingAPolicyUnassignsIt) {
    service->remove_policy(who("ada"), "prod-db-jit");
    EXPECT_EQ(service->get_resource(who("alice"), "prod-db").resource.policy, "");
    // The live grant keeps working until it ends.
    EXPECT_EQ(sudo_as_postgres("alice").verdict, LoginVerdict::Grant);
}

TEST_F(GrantedTest, RestartKeepsStateAndSessions) {
    Id session = open().session_id;
    restart();
    EXPECT_EQ(sudo_as_postgres("alice").verdict, LoginVerdict::Grant);
    EXPECT_TRUE(effects.terminated.empty());  // never kill a session because jitd restarted
    EXPECT_EQ(service->list_sessions(who("alice"), false).at(0).id, session);
    EXPECT_EQ(service->next_deadline(), expiry - config.warn_before);
    clock.t = expiry;
    service->tick();
    EXPECT_EQ(effects.terminated.size(), 1u);
}

TEST_F(GrantedTest, SessionsOfAnEarlierBootAreClosedWithoutASignal) {
    service->start("boot-1");
    Id session =
        service->open_session(who("root"), {"sudo", "postgres", "alice", "", ""}, 4242, "", 99)
            .session_id;
    Session registered = service->list_sessions(who("alice"), false).at(0);
    EXPECT_EQ(registered.boot_id, "boot-1");
    EXPECT_EQ(registered.pid_start, 99);
    service.reset();
    service = std::make_unique<JitService>(store, config, identity, clock, effects);
    service->start("boot-2");  // the host rebooted
    EXPECT_TRUE(effects.terminated.empty());
    EXPECT_TRUE(service->list_sessions(who("alice"), false).empty());
    EXPECT_EQ(store.audit_log.back().event, "session_closed");
    EXPECT_EQ(*store.audit_log.back().field("JIT_CLOSED_BY"), "host rebooted");
    clock.t = expiry;
    service->tick();
    EXPECT_TRUE(effects.terminated.empty());  // the grant ends; no old pid is signalled
    EXPECT_EQ(service->list_sessions(who("alice"), true).at(0).id, session);
}

TEST_F(GrantedTest, SessionWhoseProcessIsGoneIsReaped) {
    Id session = open().session_id;
    service->reap_session(session);
    EXPECT_TRUE(service->list_sessions(who("alice"), false).empty());
    EXPECT_EQ(*store.audit_log.back().field("JIT_CLOSED_BY"), "process gone");
    clock.t = expiry;
    service->tick();
    EXPECT_TRUE(effects.terminated.empty());
    EXPECT_EQ(code_of([&] { service->reap_session(999); }), ErrorCode::NotFound);
}

// A logout ends nothing; the grant's end still kills the group the session was placed in,
// where processes that left its process tree (setsid, nohup) live on. Only groups of this boot.
TEST_F(GrantedTest, GroupOfALoggedOutSessionEndsWithItsGrant) {
    service->start("boot-1");
    effects.next_cgroup = "/jit/session-4242-99";
    Id placed =
        service->open_session(who("root"), {"sudo", "postgres", "alice", "", ""}, 4242, "", 99)
            .session_id;
    effects.next_cgroup = "";
    Id unplaced = open().session_id;
    EXPECT_EQ(service->list_sessions(who("alice"), false).at(0).cgroup, "/jit/session-4242-99");
    service->close_session(who("root"), placed);
    service->close_session(who("root"), unplaced);
    EXPECT_TRUE(effects.terminated.empty());  // logout: nothing is killed
    clock.t = expiry;
    service->tick();
    ASSERT_EQ(effects.terminated.size(), 1u);
    EXPECT_EQ(effects.terminated[0].id, placed);
    EXPECT_EQ(effects.terminated[0].state, SessionState::Closed);
    EXPECT_EQ(effects.terminated[0].cgroup, "/jit/session-4242-99");
}

TEST_F(GrantedTest, GroupOfAnEarlierBootIsNeverKilled) {
    service->start("boot-1");
    effects.next_cgroup = "/jit/session-4242-99";
    Id placed =
        service->open_session(who("root"), {"sudo", "postgres", "alice", "", ""}, 4242, "", 99)
            .session_id;
    service->close_session(who("root"), placed);
    service.reset();
    service = std::make_unique<JitService>(store, config, identity, clock, effects);
    service->start("boot-2");
    clock.t = expiry;
    service->tick();
    EXPECT_TRUE(effects.terminated.empty());  // that name may belong to a group of this boot
}

TEST_F(GrantedTest, RestartInsideTheWarningWindowStillWarns) {
    Id session = open().session_id;
    clock.t = expiry - config.warn_before + 10;  // jitd was down when the warning was due
    restart();                                   // start() handles what is due at once
    ASSERT_EQ(effects.warned.size(), 1u);
    EXPECT_EQ(effects.warned[0].first, session);
}

TEST_F(GrantedTest, GrantThatLapsedWhileDownEndsAtStart) {
    open();
    service.reset();  // jitd is down...
    clock.t = expiry + 600;
    restart();  // ...and comes back after the grant's expiry
    EXPECT_EQ(effects.terminated.size(), 1u);
    EXPECT_EQ(service->get_grant(who("alice"), grant_id).state, GrantState::Expired);
    EXPECT_EQ(sudo_as_postgres("alice").verdict, LoginVerdict::Deny);
}

TEST_F(GrantedTest, FailedCommitChangesNothingInMemory) {
    store.fail_commits = true;
    const std::size_t rows = audit_rows();
    EXPECT_EQ(code_of([&] { service->revoke(who("alice"), grant_id, ""); }), ErrorCode::Internal);
    EXPECT_EQ(sudo_as_postgres("alice").verdict, LoginVerdict::Grant);
    clock.t = expiry;
    EXPECT_THROW(service->tick(), JitError);
    EXPECT_EQ(service->next_deadline(), expiry + 5);  // retried shortly, not spinning
    store.fail_commits = false;
    clock.t = expiry + 5;
    service->tick();
    EXPECT_EQ(sudo_as_postgres("alice").verdict, LoginVerdict::Deny);
    EXPECT_GT(audit_rows(), rows);
}

TEST_F(GrantedTest, EveryCommittedEventIsPublishedInOrder) {
    ASSERT_FALSE(effects.journal.empty());
    for (std::size_t i = 0; i < effects.journal.size(); ++i) {
        EXPECT_EQ(effects.journal[i], static_cast<Id>(i + 1));
    }
    EXPECT_EQ(service->status().audit_seq, static_cast<Id>(audit_rows()));
    EXPECT_EQ(service->status().active_grants, 1u);
}

TEST_F(GrantedTest, AuditIsForReadersOnly) {
    EXPECT_EQ(code_of([&] { service->audit(who("alice"), {}); }), ErrorCode::PermissionDenied);
    EXPECT_EQ(code_of([&] { service->verify_audit(who("bob")); }), ErrorCode::PermissionDenied);
    EXPECT_EQ(service->audit(who("aud"), {}).size(), audit_rows());
    AuditFilter bad;
    bad.since = 10;
    bad.until = 5;
    EXPECT_EQ(code_of([&] { service->audit(who("aud"), bad); }), ErrorCode::InvalidInput);
}

TEST_F(GrantedTest, FallbackDecisionsAreAudited) {
    service->record_fallback(
        {{"sudo", "postgres", "alice", "", "pts/1"}, "allowed", 1234, 0, 0, ""});
    const AuditEvent& e = store.audit_log.back();
    EXPECT_EQ(e.event, "login_fallback");
    EXPECT_EQ(*e.field("JIT_OUTCOME"), "allowed");
    EXPECT_EQ(*e.field("JIT_USER"), "alice");
    EXPECT_TRUE(service->list_sessions(who("alice"), false).empty());
    EXPECT_EQ(
        code_of([&] {
            service->record_fallback({{"sudo", "postgres", "alice", "", ""}, "maybe", 1, 0, 0, ""});
        }),
        ErrorCode::InvalidInput);
}

// Found by fuzz/spool_fuzzer: the login happened, so it is audited whatever PAM called the
// service; only text that could forge a line is still refused.
TEST_F(GrantedTest, FallbackLoginIsAuditedWhateverPamCalledTheService) {
    service->record_fallback({{"Odd Service", "postgres", "alice", "", ""}, "exempt", 1, 0, 0, ""});
    EXPECT_EQ(store.audit_log.back().event, "login_fallback");
    EXPECT_EQ(*store.audit_log.back().field("JIT_SERVICE"), "Odd Service");
    EXPECT_EQ(code_of([&] {
                  service->record_fallback(
                      {{"odd\nservice", "postgres", "alice", "", ""}, "exempt", 1, 0, 0, ""});
              }),
              ErrorCode::InvalidInput);
}

// Found by fuzz/bus_adaptor_fuzzer: a name the caller sent came back (and went to the journal)
// raw in a refusal.
TEST_F(GrantedTest, RefusalsQuoteTheNamesTheCallerSent) {
    try {
        service->add_member(who("ada"), "web\n\x1b[1mroot", "alice");
        ADD_FAILURE() << "an unknown resource was found";
    } catch (const JitError& e) {
        EXPECT_EQ(e.code(), ErrorCode::NotFound);
        EXPECT_STREQ(e.what(), "no resource named \"web\\x0a\\x1b[1mroot\"");
    }
}

TEST_F(GrantedTest, SessionOpenedFromTheSnapshotEndsWithItsGrant) {
    service->record_fallback(
        {{"sudo", "postgres", "alice", "", "pts/1"}, "allowed", clock.t, grant_id, 777, ""});
    std::vector<Session> sessions = service->list_sessions(who("alice"), false);
    ASSERT_EQ(sessions.size(), 1u);
    EXPECT_EQ(sessions[0].pid, 777);
    EXPECT_EQ(store.audit_log.back().event, "session_opened");
    clock.t = expiry;
    service->tick();
    ASSERT_EQ(effects.terminated.size(), 1u);
    EXPECT_EQ(effects.terminated[0].pid, 777);
}

TEST_F(GrantedTest, SessionOpenedFromTheSnapshotAfterItsGrantEndedIsEndedAtOnce) {
    service->revoke(who("ada"), grant_id, "");
    service->record_fallback(
        {{"sudo", "postgres", "alice", "", "pts/1"}, "allowed", clock.t, grant_id, 778, "c9"});
    ASSERT_EQ(effects.terminated.size(), 1u);
    EXPECT_EQ(effects.terminated[0].logind_session, "c9");
    EXPECT_EQ(store.audit_log.back().event, "session_terminated");
}

TEST_F(GrantedTest, FallbackSessionOfSomeoneElsesGrantIsNotAdopted) {
    service->record_fallback(
        {{"sudo", "postgres", "mallory", "", ""}, "allowed", clock.t, grant_id, 779, ""});
    EXPECT_TRUE(service->list_sessions(who("root"), true).empty());
    EXPECT_EQ(store.audit_log.back().event, "login_fallback");
}

// --- The person behind root, and limits ----------------------------------------------------

TEST_F(ServiceTest, RootApprovesAsItsLoginUser) {
    seed_admin_steps();
    Request r = service->create_request(who("alice"), "prod-db", "fix", kHour);
    Request decided = service->decide(root_as("bob"), r.id, Decision::Approve, "ok");
    EXPECT_EQ(decided.state, RequestState::Approved);
    ASSERT_EQ(decided.approvals.size(), 1u);
    EXPECT_EQ(decided.approvals[0].approver, "bob");
    const AuditEvent& approved = store.audit_log[store.audit_log.size() - 2];
    EXPECT_EQ(approved.event, "approved");
    EXPECT_EQ(*approved.field("JIT_ACTOR"), "bob");
    EXPECT_EQ(*approved.field("JIT_ACTOR_LOGIN"), "bob");
}

TEST_F(ServiceTest, RootCannotApproveItsLoginUsersOwnRequest) {
    seed_admin_steps(1, {"@approvers", "alice"});  // even an approver never decides their own
    Request r = service->create_request(who("alice"), "prod-db", "fix", kHour);
    const std::size_t before = audit_rows();
    try {
        service->decide(root_as("alice"), r.id, Decision::Approve, "");
        ADD_FAILURE() << "root acting for alice approved alice's request";
    } catch (const JitError& e) {
        EXPECT_EQ(e.code(), ErrorCode::PermissionDenied);
        EXPECT_THAT(e.what(), HasSubstr("your own request"));
        EXPECT_THAT(e.what(), HasSubstr("alice"));
    }
    EXPECT_EQ(audit_rows(), before);
    EXPECT_EQ(service->get_request(who("alice"), r.id).state, RequestState::Pending);
    EXPECT_EQ(code_of([&] { service->decide(root_as("mallory"), r.id, Decision::Approve, ""); }),
              ErrorCode::PermissionDenied);  // not an approver, through root or not
}

TEST_F(ServiceTest, BareRootApprovesOnlyWithRootApproves) {
    seed_admin_steps();
    Request r = service->create_request(who("alice"), "prod-db", "fix", kHour);
    try {
        service->decide(who("root"), r.id, Decision::Approve, "");
        ADD_FAILURE() << "bare root approved";
    } catch (const JitError& e) {
        EXPECT_EQ(e.code(), ErrorCode::PermissionDenied);
        EXPECT_THAT(e.what(), HasSubstr("root_approves"));
    }
    config.root_approves = true;
    restart();
    EXPECT_EQ(service->decide(who("root"), r.id, Decision::Approve, "").state,
              RequestState::Approved);
    const AuditEvent& approved = store.audit_log[store.audit_log.size() - 2];
    EXPECT_EQ(*approved.field("JIT_ACTOR"), "root");
    EXPECT_FALSE(approved.field("JIT_ACTOR_LOGIN"));
}

TEST_F(ServiceTest, NOfMCountsPersonsNotAccounts) {
    seed_admin_steps(2);
    Request r = service->create_request(who("alice"), "prod-db", "fix", kHour);
    service->decide(who("bob"), r.id, Decision::Approve, "");
    EXPECT_EQ(code_of([&] { service->decide(root_as("bob"), r.id, Decision::Approve, ""); }),
              ErrorCode::Conflict);
    EXPECT_EQ(service->decide(root_as("carol"), r.id, Decision::Approve, "").state,
              RequestState::Approved);
}

TEST_F(ServiceTest, EventsNameTheLoginUserBehindAnotherAccount) {
    seed_admin_steps();
    Caller dave_by_alice = who("dave");
    dave_by_alice.login_uid = 1005;
    dave_by_alice.login_name = "alice";
    service->add_member(root_as("ada"), "prod-db", "carol");
    EXPECT_EQ(*store.audit_log.back().field("JIT_ACTOR"), "ada");
    EXPECT_EQ(*store.audit_log.back().field("JIT_ACTOR_LOGIN"), "ada");
    Request r = service->create_request(who("mallory"), "prod-db", "fix", kHour);
    EXPECT_FALSE(store.audit_log.back().field("JIT_ACTOR_LOGIN"));
    service->cancel(who("mallory"), r.id);
    EXPECT_FALSE(store.audit_log.back().field("JIT_ACTOR_LOGIN"));
    service->remove_member(who("ada"), "prod-db", "@dba");
    service->create_request(dave_by_alice, "prod-db", "fix", kHour);
    EXPECT_EQ(*store.audit_log.back().field("JIT_ACTOR_LOGIN"), "alice");
}

TEST_F(ServiceTest, PendingRequestsPerUserAreLimited) {
    config.max_pending_per_user = 2;
    restart();
    seed_admin_steps();
    for (const char* name : {"db2", "db3"}) {
        service->add_resource(who("ada"), {name, "", {"sshd"}, {"postgres"}, {}, ""});
        service->assign_policy(who("ada"), "prod-db-jit", name);
    }
    service->create_request(who("alice"), "prod-db", "fix", kHour);
    Request second = service->create_request(who("alice"), "db2", "fix", kHour);
    const std::size_t before = audit_rows();
    try {
        service->create_request(who("alice"), "db3", "fix", kHour);
        ADD_FAILURE() << "a third pending request was accepted";
    } catch (const JitError& e) {
        EXPECT_EQ(e.code(), ErrorCode::Failed);
        EXPECT_THAT(e.what(), HasSubstr("max_pending_per_user"));
    }
    EXPECT_EQ(audit_rows(), before);
    service->create_request(who("mallory"), "db3", "fix", kHour);  // others are not limited
    service->cancel(who("alice"), second.id);
    service->create_request(who("alice"), "db3", "fix", kHour);
}

TEST_F(ServiceTest, RequestsPerHourSurviveARestart) {
    config.requests_per_hour = 3;
    restart();
    seed_admin_steps();
    for (int i = 0; i < 3; ++i) {
        Request r = service->create_request(who("alice"), "prod-db", "fix", kHour);
        service->cancel(who("alice"), r.id);
        clock.t += 60;
    }
    restart();
    try {
        service->create_request(who("alice"), "prod-db", "fix", kHour);
        ADD_FAILURE() << "a fourth request within the hour was accepted";
    } catch (const JitError& e) {
        EXPECT_EQ(e.code(), ErrorCode::Failed);
        EXPECT_THAT(e.what(), HasSubstr("requests_per_hour"));
    }
    service->create_request(who("mallory"), "prod-db", "fix", kHour);
    clock.t += kHour - 60;  // the first request is now more than an hour old
    service->create_request(who("alice"), "prod-db", "fix", kHour);
}

TEST_F(ServiceTest, AuditRepliesArePaged) {
    seed_admin_steps();
    AuditFilter filter;
    filter.limit = 2;
    std::vector<AuditEvent> page = service->audit(who("aud"), filter);
    ASSERT_EQ(page.size(), 2u);
    filter.after_seq = page.back().seq;
    std::vector<AuditEvent> next = service->audit(who("aud"), filter);
    ASSERT_EQ(next.size(), 2u);
    EXPECT_EQ(next.front().seq, page.back().seq + 1);
}

}  // namespace
}  // namespace jit
