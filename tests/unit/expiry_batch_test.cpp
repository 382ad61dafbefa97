// SPDX-License-Identifier: Apache-2.0
// Mass expiry in the engine: grants that expire in the same second end together, in one
// transaction per batch, each with its events; tick() takes at most the batch it is given and
// says when more are due, so jitd can serve the bus in between.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "fakes.hpp"
#include "jit/service.hpp"

namespace jit {
namespace {

using testing::FakeClock;
using testing::FakeIdentity;
using testing::FakeStore;
using testing::RecordingEffects;

constexpr int kGrants = 5;

class ExpiryBatchTest : public ::testing::Test, public testing::EngineFakes {
  protected:
    // kGrants active grants that expire at `expiry_`, each with an open session, and one that
    // expires a second later.
    void SetUp() override {
        Policy policy;
        policy.name = "p";
        policy.action = PolicyAction::AutoApprove;
        policy.active = true;
        store.rows.policies.push_back(policy);
        store.rows.resources.push_back(Resource{"r", "", {"sudo"}, {"root"}, {}, "p"});
        for (int i = 0; i <= kGrants; ++i) {
            Grant grant;
            grant.id = 100 + i;
            grant.request_id = 200 + i;
            grant.user = "user" + std::to_string(i);
            grant.resource = "r";
            grant.start = clock.t;
            grant.expiry = i < kGrants ? expiry_ : expiry_ + 1;
            store.rows.grants.push_back(grant);
            Session session;
            session.id = 300 + i;
            session.grant_id = grant.id;
            session.user = grant.user;
            session.target = "root";
            session.service = "sudo";
            session.pid = 4000 + i;
            session.opened = clock.t;
            store.rows.sessions.push_back(session);
        }
        config.warn_before = 0;
        service = std::make_unique<JitService>(store, config, identity, clock, effects);
        service->start();
    }

    Config config;
    std::unique_ptr<JitService> service;
    const EpochSeconds expiry_ = clock.t + 60;
};

TEST_F(ExpiryBatchTest, GrantsExpiringTogetherEndInOneTransaction) {
    clock.t = expiry_;
    const int before = store.commits;
    EXPECT_FALSE(service->tick());
    EXPECT_EQ(store.commits - before, 1);
    EXPECT_EQ(events_named("expired"), static_cast<std::size_t>(kGrants));
    EXPECT_EQ(events_named("session_terminated"), static_cast<std::size_t>(kGrants));
    EXPECT_EQ(effects.terminated.size(), static_cast<std::size_t>(kGrants));
    // Each grant's expired event comes before its session's terminated event.
    for (std::size_t i = 0; i + 1 < store.audit_log.size(); i += 2) {
        EXPECT_EQ(store.audit_log[i].event, "expired");
        EXPECT_EQ(store.audit_log[i + 1].event, "session_terminated");
        EXPECT_EQ(*store.audit_log[i].field("JIT_GRANT_ID"),
                  *store.audit_log[i + 1].field("JIT_GRANT_ID"));
    }
    // The grant of the next second is untouched until its time.
    EXPECT_EQ(service->next_deadline(), expiry_ + 1);
    clock.t = expiry_ + 1;
    EXPECT_FALSE(service->tick());
    EXPECT_EQ(events_named("expired"), static_cast<std::size_t>(kGrants + 1));
}

TEST_F(ExpiryBatchTest, TickTakesAtMostItsBatchAndSaysWhenMoreAreDue) {
    clock.t = expiry_;
    const int before = store.commits;
    EXPECT_TRUE(service->tick(2));
    EXPECT_EQ(events_named("expired"), 2u);
    EXPECT_EQ(service->next_deadline(), expiry_);  // the rest are still due
    EXPECT_TRUE(service->tick(2));
    EXPECT_FALSE(service->tick(2));
    EXPECT_EQ(events_named("expired"), static_cast<std::size_t>(kGrants));
    EXPECT_EQ(events_named("session_terminated"), static_cast<std::size_t>(kGrants));
    EXPECT_EQ(store.commits - before, 3);
}

TEST_F(ExpiryBatchTest, AFailedBatchIsRetriedWhole) {
    clock.t = expiry_;
    store.fail_commits = true;
    EXPECT_ANY_THROW(service->tick());
    EXPECT_EQ(events_named("expired"), 0u);
    EXPECT_TRUE(effects.terminated.empty());
    store.fail_commits = false;
    EXPECT_FALSE(service->tick());  // not again in the same second: no spinning on a bad disk
    EXPECT_EQ(events_named("expired"), 0u);
    clock.t = expiry_ + 60;  // past the retry
    EXPECT_FALSE(service->tick());
    EXPECT_EQ(events_named("expired"), static_cast<std::size_t>(kGrants + 1));
    EXPECT_EQ(effects.terminated.size(), static_cast<std::size_t>(kGrants + 1));
}

// A scheduled grant whose start and expiry both passed while jitd was down: it starts on its own
// (its start deadline stays out of the expiry batch), then expires with the others.
TEST_F(ExpiryBatchTest, AStartThatCameLateIsHandledBeforeTheBatchThatEndsTheGrant) {
    Grant late;
    late.id = 150;
    late.request_id = 250;
    late.user = "late";
    late.resource = "r";
    late.start = expiry_ - 30;
    late.expiry = expiry_ - 10;
    late.state = GrantState::Scheduled;
    store.rows.grants.push_back(late);
    service = std::make_unique<JitService>(store, config, identity, clock, effects);
    service->start();
    EXPECT_EQ(events_named("granted"), 0u);

    clock.t = expiry_;
    const int before = store.commits;
    EXPECT_FALSE(service->tick());
    EXPECT_EQ(events_named("granted"), 1u);
    EXPECT_EQ(events_named("expired"), static_cast<std::size_t>(kGrants + 1));
    // One commit for the start, one for the whole batch of expiries.
    EXPECT_EQ(store.commits - before, 2);
    const auto granted = std::find_if(store.audit_log.begin(), store.audit_log.end(),
                                      [](const AuditEvent& e) { return e.event == "granted"; });
    const auto expired =
        std::find_if(store.audit_log.begin(), store.audit_log.end(), [](const AuditEvent& e) {
            return e.event == "expired" && *e.field("JIT_GRANT_ID") == "150";
        });
    ASSERT_NE(expired, store.audit_log.end());
    EXPECT_LT(granted, expired);
    EXPECT_EQ(service->next_deadline(), expiry_ + 1);
}

// The pending extension requests of a grant end with it (request_expired), in the batch's tick.
TEST_F(ExpiryBatchTest, PendingExtensionsOfAnExpiringGrantExpireWithIt) {
    Request extension;
    extension.id = 500;
    extension.resource = "r";
    extension.requester = "user0";
    extension.policy = "p";
    extension.reason = "more";
    extension.requested_duration = extension.duration = 600;
    extension.created = clock.t;
    extension.expires = expiry_ + 3600;
    extension.extends = 100;
    store.rows.requests.push_back(extension);
    service = std::make_unique<JitService>(store, config, identity, clock, effects);
    service->start();

    clock.t = expiry_ - 1;
    EXPECT_FALSE(service->tick());
    EXPECT_EQ(events_named("request_expired"), 0u);
    clock.t = expiry_;
    EXPECT_FALSE(service->tick());
    EXPECT_EQ(events_named("expired"), static_cast<std::size_t>(kGrants));
    EXPECT_EQ(events_named("request_expired"), 1u);
    EXPECT_EQ(*std::find_if(store.audit_log.begin(), store.audit_log.end(),
                            [](const AuditEvent& e) { return e.event == "request_expired"; })
                   ->field("JIT_REQUEST_ID"),
              "500");
}

// jitd ends the sessions of due expiries before the batches that record their end commit: the
// engine names them without handling the deadlines, and only while their grants are still to end.
TEST_F(ExpiryBatchTest, TheSessionsOfDueExpiriesAreNamedBeforeTheirBatch) {
    service->reap_session(301);  // closed by its process's end: nothing left to end
    clock.t = expiry_ - 1;
    EXPECT_TRUE(service->sessions_of_due_expiries().empty());

    clock.t = expiry_;
    const int before = store.commits;
    std::vector<Id> ids;
    for (const Session& session : service->sessions_of_due_expiries()) {
        ids.push_back(session.id);
        EXPECT_EQ(session.state, SessionState::Open);
    }
    EXPECT_THAT(ids, ::testing::UnorderedElementsAre(300, 302, 303, 304));
    EXPECT_EQ(store.commits, before);  // nothing handled yet
    EXPECT_EQ(service->next_deadline(), expiry_);

    EXPECT_TRUE(service->tick(2));  // grants 100 and 101
    ids.clear();
    for (const Session& session : service->sessions_of_due_expiries()) {
        ids.push_back(session.id);
    }
    EXPECT_THAT(ids, ::testing::UnorderedElementsAre(302, 303, 304));
    EXPECT_FALSE(service->tick());
    EXPECT_TRUE(service->sessions_of_due_expiries().empty());
    clock.t = expiry_ + 1;
    ASSERT_EQ(service->sessions_of_due_expiries().size(), 1u);
    EXPECT_EQ(service->sessions_of_due_expiries()[0].id, 305);
}

// jitd stopped after it ended the sessions of due expiries but before their batch committed: the
// next start expires the grants and records their sessions' end all the same.
TEST_F(ExpiryBatchTest, ARestartBeforeTheBatchCommittedStillRecordsTheEnds) {
    clock.t = expiry_;
    EXPECT_EQ(service->sessions_of_due_expiries().size(), static_cast<std::size_t>(kGrants));
    EXPECT_EQ(events_named("expired"), 0u);

    clock.t = expiry_ + 3;
    service = std::make_unique<JitService>(store, config, identity, clock, effects);
    service->start();
    EXPECT_EQ(events_named("expired"), static_cast<std::size_t>(kGrants + 1));
    EXPECT_EQ(events_named("session_terminated"), static_cast<std::size_t>(kGrants + 1));
    EXPECT_TRUE(service->sessions_of_due_expiries().empty());
}

}  // namespace
}  // namespace jit
