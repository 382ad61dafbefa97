// SPDX-License-Identifier: Apache-2.0
// A fleet's change feed (docs/fleet.md#the-change-feed) against a real PostgreSQL server
// (pg_test_server.hpp): two Stores stand for two hosts. What one host commits reaches the
// other's changes() as the objects are now (removed ones without a row), once, and never its
// own; a host behind the feed is refused a change until it has read it, but not a write of its
// own records; the doorbell rings on the other host's commit; and an SQLite store has no feed.

#include <poll.h>

#include "pg_test_server.hpp"
#include "store_test_support.hpp"

namespace jit {
namespace {

using namespace store_test;

class ChangeFeedTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!testing_pg::available()) {
            GTEST_SKIP() << "PostgreSQL tests need root";
        }
        conninfo_ = testing_pg::shared_server().new_database();
        db01_ = open_postgresql_store(conninfo_, "db-01");
        db02_ = open_postgresql_store(conninfo_, "db-02");
        db01_->load();
        db02_->load();
    }

    // host adds sample_resource() and its policy, with an event.
    static void add_resource(Store& host) {
        auto transaction = host.begin();
        transaction->put(sample_policy());
        transaction->put(sample_resource());
        transaction->append(audit_event("resource_changed", 1, {{"JIT_OBJECT", "db"}}));
        transaction->commit();
    }

    std::string conninfo_;
    std::unique_ptr<Store> db01_;
    std::unique_ptr<Store> db02_;
};

TEST_F(ChangeFeedTest, AnotherHostsChangeArrivesOnceAsTheObjectIsNow) {
    add_resource(*db01_);
    std::optional<StoreChanges> changes = db02_->changes();
    ASSERT_TRUE(changes);
    using Change = std::pair<std::string, std::string>;
    EXPECT_EQ(changes->changed, (std::vector<Change>{{"policy", "ops"}, {"resource", "db"}}));
    ASSERT_EQ(changes->fresh.resources.size(), 1u);
    EXPECT_EQ(changes->fresh.resources[0], sample_resource());
    ASSERT_EQ(changes->fresh.policies.size(), 1u);
    EXPECT_EQ(changes->fresh.policies[0], sample_policy());
    EXPECT_TRUE(changes->fresh.grants.empty());
    EXPECT_EQ(changes->fresh.last_audit_seq, 1);

    EXPECT_TRUE(db02_->changes()->changed.empty()) << "read once";
    EXPECT_TRUE(db01_->changes()->changed.empty()) << "a host's own changes are not brought back";
    EXPECT_EQ(db02_->feed_position()->applied, db02_->feed_position()->head);
}

TEST_F(ChangeFeedTest, ARemovedObjectIsAChangeWithoutARow) {
    add_resource(*db01_);
    db02_->changes();
    auto transaction = db01_->begin();
    transaction->remove_resource("db");
    transaction->append(audit_event("resource_changed", 2, {{"JIT_OBJECT", "db"}}));
    transaction->commit();
    std::optional<StoreChanges> changes = db02_->changes();
    ASSERT_TRUE(changes);
    EXPECT_EQ(changes->changed,
              (std::vector<std::pair<std::string, std::string>>{{"resource", "db"}}));
    EXPECT_TRUE(changes->fresh.resources.empty());
}

TEST_F(ChangeFeedTest, GrantsRequestsAndSessionsArriveByTheirIds) {
    Grant grant;
    {
        auto transaction = db01_->begin();
        transaction->put(sample_policy());
        transaction->put(sample_resource());
        grant = put_granted_request(*transaction).second;
        Session session = sample_session(grant.id);
        session.id = transaction->put(session);
        transaction->commit();
    }
    std::optional<StoreChanges> changes = db02_->changes();
    ASSERT_TRUE(changes);
    ASSERT_EQ(changes->fresh.grants.size(), 1u);
    EXPECT_EQ(changes->fresh.grants[0], grant);
    ASSERT_EQ(changes->fresh.requests.size(), 1u);
    EXPECT_EQ(changes->fresh.requests[0].approvals.size(), 2u);
    ASSERT_EQ(changes->fresh.sessions.size(), 1u);
    EXPECT_EQ(changes->fresh.sessions[0].host, "db-01");
}

TEST_F(ChangeFeedTest, AHostBehindTheFeedIsRefusedAChangeUntilItHasReadIt) {
    add_resource(*db01_);
    EXPECT_THROW(db02_->begin(), StoreBehind);
    EXPECT_THROW(db02_->begin(), StoreBehind) << "nothing was read in between";
    // Its own records (sessions) are no other host's to change: never refused.
    db02_->begin_own()->commit();
    db02_->changes();
    auto transaction = db02_->begin();
    transaction->append(audit_event("policy_changed", 3, {{"JIT_OBJECT", "ops"}}));
    transaction->commit();
    EXPECT_TRUE(db02_->verify_audit().ok);
}

TEST_F(ChangeFeedTest, TheDoorbellRingsWhenAnotherHostCommits) {
    std::unique_ptr<ChangeDoorbell> doorbell = db02_->change_doorbell();
    ASSERT_TRUE(doorbell);
    pollfd quiet{doorbell->fd(), POLLIN, 0};
    EXPECT_EQ(poll(&quiet, 1, 0), 0) << "silent before any change";
    add_resource(*db01_);
    pollfd ringing{doorbell->fd(), POLLIN, 0};
    ASSERT_EQ(poll(&ringing, 1, 10000), 1) << "no notification within 10 s";
    doorbell->drain();
    EXPECT_EQ(db02_->changes()->changed.size(), 2u);
}

TEST_F(ChangeFeedTest, ARestartedHostStartsAtTheFeedsHead) {
    add_resource(*db01_);
    auto restarted = open_postgresql_store(conninfo_, "db-02");
    EXPECT_EQ(restarted->load().resources.size(), 1u);
    EXPECT_TRUE(restarted->changes()->changed.empty()) << "load() has it all";
    restarted->begin()->commit();
}

TEST(ChangeFeedSqliteTest, ASingleHostsStoreHasNoFeed) {
    DatabaseDir dir;
    auto store = open_sqlite_store(dir.path() + "/jit.db");
    EXPECT_FALSE(store->changes());
    EXPECT_FALSE(store->change_doorbell());
    EXPECT_FALSE(store->feed_position());
}

}  // namespace
}  // namespace jit
