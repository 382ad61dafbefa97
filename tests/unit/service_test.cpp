// SPDX-License-Identifier: Apache-2.0
// The engine: the seed's admin and operator stories, capping, authorization rules, the request
// state machine, the person behind root, and limits, over injected fakes. Grants and sessions
// are in service_grants_test.cpp.
#include "service_test_support.hpp"

namespace jit {
namespace {

using namespace service_test;

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
    const JitError pending =
        error_of([&] { service->create_request(who("alice"), "prod-db", "second", kHour); });
    EXPECT_EQ(pending.code(), ErrorCode::Conflict);
    EXPECT_THAT(pending.what(), HasSubstr("request " + std::to_string(r.id)));
    Request approved = service->decide(who("bob"), r.id, Decision::Approve, "");
    const JitError granted =
        error_of([&] { service->create_request(who("alice"), "prod-db", "third", kHour); });
    EXPECT_EQ(granted.code(), ErrorCode::Conflict);
    EXPECT_THAT(granted.what(), HasSubstr("grant " + std::to_string(*approved.grant_id)));
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
    const JitError e =
        error_of([&] { service->decide(root_as("alice"), r.id, Decision::Approve, ""); });
    EXPECT_EQ(e.code(), ErrorCode::PermissionDenied);
    EXPECT_THAT(e.what(), HasSubstr("your own request"));
    EXPECT_THAT(e.what(), HasSubstr("alice"));
    EXPECT_EQ(audit_rows(), before);
    EXPECT_EQ(service->get_request(who("alice"), r.id).state, RequestState::Pending);
    EXPECT_EQ(code_of([&] { service->decide(root_as("mallory"), r.id, Decision::Approve, ""); }),
              ErrorCode::PermissionDenied);  // not an approver, through root or not
}

TEST_F(ServiceTest, BareRootApprovesOnlyWithRootApproves) {
    seed_admin_steps();
    Request r = service->create_request(who("alice"), "prod-db", "fix", kHour);
    const JitError e = error_of([&] { service->decide(who("root"), r.id, Decision::Approve, ""); });
    EXPECT_EQ(e.code(), ErrorCode::PermissionDenied);
    EXPECT_THAT(e.what(), HasSubstr("root_approves"));
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
    const JitError e =
        error_of([&] { service->create_request(who("alice"), "db3", "fix", kHour); });
    EXPECT_EQ(e.code(), ErrorCode::Failed);
    EXPECT_THAT(e.what(), HasSubstr("max_pending_per_user"));
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
    const JitError e =
        error_of([&] { service->create_request(who("alice"), "prod-db", "fix", kHour); });
    EXPECT_EQ(e.code(), ErrorCode::Failed);
    EXPECT_THAT(e.what(), HasSubstr("requests_per_hour"));
    service->create_request(who("mallory"), "prod-db", "fix", kHour);
    clock.t += kHour - 60;  // the first request is now more than an hour old
    service->create_request(who("alice"), "prod-db", "fix", kHour);
}

// jitd's start on a host with thousands of resources: NSS is asked once per account (a lookup
// may take a fraction of a millisecond), and asked again at the next start.
TEST_F(ServiceTest, AStartLooksUpEachAccountOnceAndTheNextStartAgain) {
    for (const char* name : {"db1", "db2", "db3"}) {
        service->add_resource(who("ada"),
                              {name, "", {"sshd", "sudo"}, {"postgres", "svc"}, {}, ""});
    }
    identity.name_lookups.clear();
    restart();
    EXPECT_EQ(identity.name_lookups, (std::map<std::string, int>{{"postgres", 1}, {"svc", 1}}));
    const LoginAttempt sudo_to_root{"sudo", "root", "alice", "", "pts/0"};
    EXPECT_EQ(service->check_login(who("root"), sudo_to_root).verdict, LoginVerdict::Unmanaged);
    // "svc" becomes another name of root: the next start indexes the resources under its uid.
    identity.aliases["svc"] = 0;
    restart();
    EXPECT_EQ(service->check_login(who("root"), sudo_to_root).verdict, LoginVerdict::Deny);
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
