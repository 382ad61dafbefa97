// SPDX-License-Identifier: Apache-2.0
// Extensions through the engine (docs/concepts.md#extension): only the holder, only an active
// grant, decided under the resource's policy, capped to the policy's maximum, `extended` with the
// previous expiry, logins allowed past the old expiry.
#include <gtest/gtest.h>

#include <algorithm>

#include "service_test_support.hpp"

namespace jit {
namespace {

using service_test::ServiceTest;

class ExtensionServiceTest : public ServiceTest {
  protected:
    void SetUp() override {
        ServiceTest::SetUp();
        NewPolicy policy = approved_by("manual", "bob");
        policy.max_duration = 4 * 3600;
        protect({"db", "", {"sudo"}, {"root"}, {}, ""}, policy);
        const Request request = service->create_request(who("alice"), "db", "maintenance", 3600);
        grant_id = *service->decide(who("bob"), request.id, Decision::Approve, "").grant_id;
    }

    LoginVerdict sudo_as(const std::string& user) {
        return service
            ->check_login(who("root"), LoginAttempt{"sudo", "root", user, "", "pts/1",
                                                    service_test::kUids.at(user)})
            .verdict;
    }

    Id grant_id = 0;
};

TEST_F(ExtensionServiceTest, OnlyTheHolderMayExtend) {
    try {
        service->extend_grant(who("mallory"), grant_id, "mine now", 3600);
        FAIL() << "another user extended alice's grant";
    } catch (const JitError& e) {
        EXPECT_EQ(e.code(), ErrorCode::PermissionDenied);
    }
    EXPECT_THROW(service->extend_grant(who("ada"), grant_id, "admin", 3600), JitError);
    EXPECT_THROW(service->extend_grant(who("alice"), grant_id + 100, "no such", 3600), JitError);
}

TEST_F(ExtensionServiceTest, ApprovedItMovesTheExpiry) {
    const EpochSeconds original = *service->get_grant(who("alice"), grant_id).expiry;
    const Request request = service->extend_grant(who("alice"), grant_id, "not done yet", 1800);
    EXPECT_EQ(request.state, RequestState::Pending);
    EXPECT_EQ(request.extends, grant_id);
    EXPECT_EQ(service->approvals(who("bob")).size(), 1u);
    EXPECT_EQ(service->get_grant(who("alice"), grant_id).extensions, std::vector<Id>{request.id});
    EXPECT_THROW(service->extend_grant(who("alice"), grant_id, "twice", 1800), JitError);

    const Request approved = service->decide(who("bob"), request.id, Decision::Approve, "ok");
    EXPECT_EQ(approved.state, RequestState::Approved);
    EXPECT_EQ(approved.grant_id, grant_id);
    EXPECT_EQ(service->get_grant(who("alice"), grant_id).expiry, original + 1800);
    EXPECT_EQ(service->get_grant(who("alice"), grant_id).extensions, std::vector<Id>{request.id});
    const AuditEvent& extended = store.audit_log.back();
    EXPECT_EQ(extended.event, "extended");
    EXPECT_EQ(*extended.field("JIT_PREVIOUS_EXPIRY"), format_rfc3339(original));
    EXPECT_EQ(*extended.field("JIT_EXPIRY"), format_rfc3339(original + 1800));

    clock.t = original + 60;
    service->tick();
    EXPECT_EQ(service->get_grant(who("alice"), grant_id).state, GrantState::Active);
    EXPECT_EQ(sudo_as("alice"), LoginVerdict::Grant);
    clock.t = original + 1800;
    service->tick();
    EXPECT_EQ(sudo_as("alice"), LoginVerdict::Deny);
}

TEST_F(ExtensionServiceTest, CappedToThePolicysMaximum) {
    const Request request = service->extend_grant(who("alice"), grant_id, "long job", 10 * 3600);
    EXPECT_TRUE(request.capped);
    EXPECT_EQ(request.requested_duration, 10 * 3600);
    EXPECT_EQ(request.duration, 3 * 3600);
    service->decide(who("bob"), request.id, Decision::Approve, "");
    try {
        service->extend_grant(who("alice"), grant_id, "more", 3600);
        FAIL() << "a grant at the maximum was extended";
    } catch (const JitError& e) {
        EXPECT_EQ(e.code(), ErrorCode::Failed);
    }
}

TEST_F(ExtensionServiceTest, APendingExtensionEndsWithItsGrant) {
    const Request request = service->extend_grant(who("alice"), grant_id, "not done yet", 1800);
    service->revoke(who("alice"), grant_id, "done after all");
    EXPECT_EQ(service->get_request(who("alice"), request.id).state, RequestState::Expired);
    EXPECT_THROW(service->extend_grant(who("alice"), grant_id, "again", 1800), JitError);
}

TEST_F(ExtensionServiceTest, ExtensionsSurviveARestart) {
    const Request request = service->extend_grant(who("alice"), grant_id, "not done yet", 1800);
    restart();
    EXPECT_EQ(service->get_grant(who("alice"), grant_id).extensions, std::vector<Id>{request.id});
    EXPECT_EQ(service->get_request(who("alice"), request.id).extends, grant_id);
}

}  // namespace
}  // namespace jit
