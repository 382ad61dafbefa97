// SPDX-License-Identifier: Apache-2.0
// Requests with a scheduled start (docs/concepts.md): how far ahead, the grant scheduled until its
// start, `granted` written at the start, logins refused before it with the start named, and the
// deadline surviving a restart.
#include <gtest/gtest.h>

#include <algorithm>

#include "service_test_support.hpp"

namespace jit {
namespace {

using service_test::ServiceTest;

class ScheduledServiceTest : public ServiceTest {
  protected:
    void SetUp() override {
        ServiceTest::SetUp();
        protect({"db", "", {"sudo"}, {"root"}, {}, ""}, approved_by("manual", "bob"));
        protect({"web", "", {"sudo"}, {"www-data"}, {}, ""}, auto_approve("auto"));
    }

    LoginDecision sudo_as_alice(const std::string& target) {
        return service->check_login(who("root"), LoginAttempt{"sudo", target, "alice", "", "pts/1",
                                                              service_test::kUids.at("alice")});
    }
};

TEST_F(ScheduledServiceTest, AStartInThePastOrTooFarAheadIsInvalid) {
    const EpochSeconds now = clock.t;
    EXPECT_THROW(service->create_request(who("alice"), "db", "night job", 3600, now - 1), JitError);
    EXPECT_THROW(service->create_request(who("alice"), "db", "night job", 3600, now), JitError);
    try {
        service->create_request(who("alice"), "db", "night job", 3600,
                                now + config.max_schedule_ahead + 1);
        FAIL() << "a start beyond max_schedule_ahead was accepted";
    } catch (const JitError& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
        EXPECT_NE(std::string(e.what()).find("max_schedule_ahead"), std::string::npos);
    }
    EXPECT_NO_THROW(service->create_request(who("alice"), "db", "night job", 3600,
                                            now + config.max_schedule_ahead));
}

TEST_F(ScheduledServiceTest, ApprovedEarlyTheGrantWaitsForItsStart) {
    const EpochSeconds start = clock.t + 600;
    Request request = service->create_request(who("alice"), "db", "night job", 3600, start);
    ASSERT_EQ(request.start, start);
    request = service->decide(who("bob"), request.id, Decision::Approve, "");
    ASSERT_TRUE(request.grant_id);
    Grant grant = service->get_grant(who("alice"), *request.grant_id);
    EXPECT_EQ(grant.state, GrantState::Scheduled);
    EXPECT_EQ(grant.start, start);
    EXPECT_EQ(grant.expiry, start + 3600);
    EXPECT_EQ(events_named("granted"), 0u);
    EXPECT_EQ(service->next_deadline(), start);

    const LoginDecision early = sudo_as_alice("root");
    EXPECT_EQ(early.verdict, LoginVerdict::Deny);
    EXPECT_EQ(early.starts, start);
    EXPECT_THROW(service->create_request(who("alice"), "db", "again", 3600), JitError);

    clock.t = start;
    service->tick();
    grant = service->get_grant(who("alice"), grant.id);
    EXPECT_EQ(grant.state, GrantState::Active);
    EXPECT_EQ(events_named("granted"), 1u);
    EXPECT_EQ(*store.audit_log.back().field("JIT_START"), format_rfc3339(start));
    EXPECT_EQ(sudo_as_alice("root").verdict, LoginVerdict::Grant);

    clock.t = start + 3600;
    service->tick();
    EXPECT_EQ(service->get_grant(who("alice"), grant.id).state, GrantState::Expired);
    EXPECT_EQ(sudo_as_alice("root").verdict, LoginVerdict::Deny);
}

TEST_F(ScheduledServiceTest, AutoApprovedItIsScheduledAtOnce) {
    const Request request =
        service->create_request(who("alice"), "web", "deploy", 3600, clock.t + 60);
    EXPECT_EQ(request.state, RequestState::Approved);
    EXPECT_EQ(service->get_grant(who("alice"), *request.grant_id).state, GrantState::Scheduled);
    EXPECT_EQ(service->list_grants(who("alice"), false, "", "").size(), 1u);
}

TEST_F(ScheduledServiceTest, ApprovedAfterItsStartTheGrantKeepsItsWindow) {
    const EpochSeconds start = clock.t + 60;
    const Request request = service->create_request(who("alice"), "db", "night job", 3600, start);
    clock.t = start + 600;
    const Request approved = service->decide(who("bob"), request.id, Decision::Approve, "");
    const Grant grant = service->get_grant(who("alice"), *approved.grant_id);
    EXPECT_EQ(grant.state, GrantState::Active);
    EXPECT_EQ(grant.start, clock.t);
    EXPECT_EQ(grant.expiry, start + 3600);
}

TEST_F(ScheduledServiceTest, TheStartSurvivesARestartAndALapsedOneIsHandled) {
    const EpochSeconds start = clock.t + 600;
    const Request request = service->create_request(who("alice"), "web", "deploy", 120, start);
    const Id grant_id = *request.grant_id;

    restart();
    EXPECT_EQ(service->get_grant(who("alice"), grant_id).state, GrantState::Scheduled);
    EXPECT_EQ(service->next_deadline(), start);

    // Down over the whole window: started and ended, each audited once.
    clock.t = start + 500;
    restart();
    EXPECT_EQ(service->get_grant(who("alice"), grant_id).state, GrantState::Expired);
    EXPECT_EQ(events_named("granted"), 1u);
    EXPECT_EQ(events_named("expired"), 1u);
}

TEST_F(ScheduledServiceTest, AScheduledGrantCanBeGivenUp) {
    const Request request =
        service->create_request(who("alice"), "web", "deploy", 3600, clock.t + 60);
    const Grant revoked = service->revoke(who("alice"), *request.grant_id, "not needed");
    EXPECT_EQ(revoked.state, GrantState::Revoked);
    EXPECT_FALSE(service->next_deadline());
    clock.t += 60;
    service->tick();
    EXPECT_EQ(events_named("granted"), 0u);
}

}  // namespace
}  // namespace jit
