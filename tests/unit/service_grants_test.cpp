// SPDX-License-Identifier: Apache-2.0
// The engine's grants and sessions: logins under a grant, expiry and its warning, revocation,
// restarts, session groups, fallback logins and audit publishing, over injected fakes.
#include "service_test_support.hpp"

namespace jit {
namespace {

using namespace service_test;

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
    restart("boot-2");  // the host rebooted
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
    Id placed = open_placed("/jit/session-4242-99");
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
    Id placed = open_placed("/jit/session-4242-99");
    service->close_session(who("root"), placed);
    restart("boot-2");
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
    const JitError e =
        error_of([&] { service->add_member(who("ada"), "web\n\x1b[1mroot", "alice"); });
    EXPECT_EQ(e.code(), ErrorCode::NotFound);
    EXPECT_STREQ(e.what(), "no resource named \"web\\x0a\\x1b[1mroot\"");
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
}  // namespace
}  // namespace jit
