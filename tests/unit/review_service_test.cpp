// SPDX-License-Identifier: Apache-2.0
// Grant review through the engine (docs/grant-review.md): the fingerprint at the start, the
// review at every end (revocation, expiry in a batch, a restart), "*" accounts taken from the
// sessions, and who may read a review. The file system is an in-memory fake.
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>

#include "jit/grant_review.hpp"
#include "service_test_support.hpp"

namespace jit::service_test {
namespace {

// Files by path: a path ending in '/' is a directory.
class FakeReviewFileSystem final : public ReviewFileSystem {
  public:
    std::map<std::string, std::string> files;  // path -> contents
    std::set<std::string> directories;

    std::optional<FileEntry> stat(const std::string& path) const override {
        FileEntry entry;
        entry.path = path;
        if (directories.contains(path)) {
            entry.type = 'd';
            entry.mode = 0755;
            return entry;
        }
        auto file = files.find(path);
        if (file == files.end()) {
            return std::nullopt;
        }
        entry.type = 'f';
        entry.mode = 0600;
        entry.size = static_cast<std::int64_t>(file->second.size());
        return entry;
    }
    std::vector<std::string> list(const std::string& directory) const override {
        std::vector<std::string> names;
        const std::string prefix = directory + "/";
        auto add = [&](const std::string& path) {
            if (path.starts_with(prefix) && path.find('/', prefix.size()) == std::string::npos) {
                names.push_back(path.substr(prefix.size()));
            }
        };
        for (const auto& [path, text] : files) {
            add(path);
        }
        for (const auto& path : directories) {
            add(path);
        }
        return names;
    }
    std::optional<std::string> hash_file(const std::string& path, std::uint64_t) const override {
        auto file = files.find(path);
        if (file == files.end()) {
            return std::nullopt;
        }
        char digest[17];
        std::snprintf(digest, sizeof digest, "%016zx", std::hash<std::string>{}(file->second));
        return std::string(digest);
    }
    std::string hash_link(const std::string&) const override { return "-"; }
    std::uint64_t now_usec() const override { return 0; }
};

class ReviewTest : public ServiceTest {
  protected:
    void SetUp() override {
        identity.homes = {{"postgres", "/var/lib/postgresql"}, {"alice", "/home/alice"}};
        fs.directories = {"/var/lib/postgresql/.ssh", "/home/alice/.ssh"};
        fs.files["/var/lib/postgresql/.ssh/authorized_keys"] = "key one\n";
        review_fs = &fs;
        ServiceTest::SetUp();
        seed_admin_steps();
    }

    // alice's grant on `resource` (prod-db, or a resource this makes: account postgres under
    // the same policy), approved by bob.
    Id grant(const std::string& resource = "prod-db") {
        if (resource != "prod-db") {
            service->add_resource(who("ada"), {resource, "", {"sudo"}, {"postgres"}, {}, ""});
            service->assign_policy(who("ada"), "prod-db-jit", resource);
        }
        Request r = service->create_request(who("alice"), resource, "fix", 2 * kHour);
        return *service->decide(who("bob"), r.id, Decision::Approve, "").grant_id;
    }

    const AuditEvent& last_review() {
        for (auto it = store.audit_log.rbegin(); it != store.audit_log.rend(); ++it) {
            if (it->event == "grant_review") {
                return *it;
            }
        }
        throw std::runtime_error("no grant_review event");
    }

    FakeReviewFileSystem fs;
};

TEST_F(ReviewTest, AKeyAddedDuringTheGrantShowsInItsReview) {
    const Id id = grant();
    ASSERT_EQ(store.rows.reviews.size(), 1u);
    EXPECT_EQ(store.rows.reviews[0].accounts, std::vector<std::string>{"postgres"});
    EXPECT_FALSE(store.rows.reviews[0].review);
    EXPECT_EQ(code_of([&] { service->get_review(who("alice"), id); }), ErrorCode::NotFound);

    fs.files["/var/lib/postgresql/.ssh/authorized_keys"] += "key two\n";
    fs.files["/var/lib/postgresql/.ssh/authorized_keys2"] = "key three\n";
    service->revoke(who("alice"), id, "done");

    const GrantReview review = service->get_review(who("alice"), id);
    EXPECT_EQ(review.changes,
              "~/var/lib/postgresql/.ssh/authorized_keys\n"
              "+/var/lib/postgresql/.ssh/authorized_keys2");
    EXPECT_EQ(review.incomplete, "");
    EXPECT_EQ(review.reviewed_at, clock.t);
    const AuditEvent& event = last_review();
    EXPECT_EQ(*event.field("JIT_GRANT_ID"), std::to_string(id));
    EXPECT_EQ(*event.field("JIT_USER"), "alice");
    EXPECT_EQ(*event.field("JIT_RESOURCE"), "prod-db");
    EXPECT_EQ(*event.field("JIT_TARGET"), "postgres");
    EXPECT_EQ(*event.field("JIT_CHANGED"), review.changes);
    EXPECT_EQ(event.field("JIT_REVIEW_INCOMPLETE"), nullptr);
    // The grant record carries it; the start fingerprint is dropped once compared.
    EXPECT_TRUE(service->get_grant(who("alice"), id).review);
    EXPECT_EQ(store.rows.reviews[0].before, "");
}

TEST_F(ReviewTest, AQuietGrantHasAnEmptyReview) {
    const Id id = grant();
    service->revoke(who("ada"), id, "not needed");
    EXPECT_EQ(service->get_review(who("aud"), id).changes, "");
    EXPECT_EQ(*last_review().field("JIT_CHANGED"), "");
    EXPECT_EQ(events_named("grant_review"), 1u);
}

TEST_F(ReviewTest, OnlyTheHolderAdminsAndAuditorsMayReadIt) {
    const Id id = grant();
    service->revoke(who("alice"), id, "done");
    EXPECT_NO_THROW(service->get_review(who("alice"), id));
    EXPECT_NO_THROW(service->get_review(who("aud"), id));
    EXPECT_NO_THROW(service->get_review(who("ada"), id));
    EXPECT_EQ(code_of([&] { service->get_review(who("mallory"), id); }),
              ErrorCode::PermissionDenied);
    EXPECT_EQ(code_of([&] { service->get_review(who("bob"), id); }), ErrorCode::PermissionDenied);
    EXPECT_EQ(code_of([&] { service->get_review(who("alice"), id + 100); }), ErrorCode::NotFound);
}

TEST_F(ReviewTest, GrantsExpiringTogetherAreEachReviewed) {
    const Id first = grant();
    const Id second = grant("cache");
    fs.files["/var/lib/postgresql/.ssh/authorized_keys"] = "replaced\n";

    clock.t += 2 * kHour;
    service->tick();
    EXPECT_EQ(events_named("expired"), 2u);
    EXPECT_EQ(events_named("grant_review"), 2u);
    for (Id id : {first, second}) {
        EXPECT_EQ(service->get_review(who("aud"), id).changes,
                  "~/var/lib/postgresql/.ssh/authorized_keys")
            << id;
    }
}

TEST_F(ReviewTest, ARestartMidGrantStillReviewsAtTheEnd) {
    const Id id = grant();
    fs.files["/var/lib/postgresql/.ssh/authorized_keys"] = "changed\n";
    restart();
    clock.t += 2 * kHour;
    service->tick();
    EXPECT_EQ(service->get_review(who("alice"), id).changes,
              "~/var/lib/postgresql/.ssh/authorized_keys");
    restart();  // and the review is loaded again with the grant
    EXPECT_EQ(service->get_grant(who("alice"), id).review->changes,
              "~/var/lib/postgresql/.ssh/authorized_keys");
    EXPECT_EQ(events_named("grant_review"), 1u);
}

TEST_F(ReviewTest, ARestartFingerprintsActiveGrantsWithoutOneInOneTransaction) {
    const Id first = grant();
    const Id second = grant("cache");
    store.rows.reviews.clear();  // grants from before reviews, or a crash before their rows
    const int commits = store.commits;
    restart();
    EXPECT_EQ(store.commits, commits + 1);
    ASSERT_EQ(store.rows.reviews.size(), 2u);
    EXPECT_EQ(store.rows.reviews[0].before, store.rows.reviews[1].before);
    fs.files["/var/lib/postgresql/.ssh/authorized_keys"] = "changed\n";
    clock.t += 2 * kHour;
    service->tick();
    for (Id id : {first, second}) {
        EXPECT_EQ(service->get_review(who("alice"), id).changes,
                  "~/var/lib/postgresql/.ssh/authorized_keys")
            << id;
    }
}

TEST_F(ReviewTest, ARestartLooksUpAnAccountOnceForTheIndexAndTheFingerprints) {
    grant();
    grant("cache");
    store.rows.reviews.clear();
    identity.name_lookups.clear();
    restart();
    ASSERT_EQ(store.rows.reviews.size(), 2u);
    // However many services cover the account and grants fingerprint it.
    EXPECT_EQ(identity.name_lookups, (std::map<std::string, int>{{"postgres", 1}}));
}

TEST_F(ReviewTest, AnyAccountResourceFingerprintsTheAccountsItsSessionsReach) {
    service->add_resource(who("ada"), {"any", "", {"sudo"}, {"*"}, {}, ""});
    service->assign_policy(who("ada"), "prod-db-jit", "any");
    Request r = service->create_request(who("alice"), "any", "fix", 2 * kHour);
    const Id id = *service->decide(who("bob"), r.id, Decision::Approve, "").grant_id;
    ASSERT_EQ(store.rows.reviews.size(), 1u);
    EXPECT_TRUE(store.rows.reviews[0].accounts.empty());

    ASSERT_EQ(
        service->open_session(who("root"), {"sudo", "postgres", "alice", "", "pts/1"}, 4242, "c1")
            .decision.verdict,
        LoginVerdict::Grant);
    EXPECT_EQ(store.rows.reviews[0].accounts, std::vector<std::string>{"postgres"});
    fs.files["/var/lib/postgresql/.ssh/authorized_keys"] += "key two\n";
    service->revoke(who("alice"), id, "done");
    EXPECT_EQ(*last_review().field("JIT_TARGET"), "postgres");
    EXPECT_EQ(*last_review().field("JIT_CHANGED"), "~/var/lib/postgresql/.ssh/authorized_keys");
}

TEST_F(ReviewTest, AScheduledGrantRevokedBeforeItsStartHasNoReview) {
    Request r = service->create_request(who("alice"), "prod-db", "later", kHour, clock.t + kHour);
    const Id id = *service->decide(who("bob"), r.id, Decision::Approve, "").grant_id;
    EXPECT_TRUE(store.rows.reviews.empty());
    service->revoke(who("alice"), id, "not needed");
    EXPECT_EQ(events_named("grant_review"), 0u);

    Request again =
        service->create_request(who("alice"), "prod-db", "later", kHour, clock.t + kHour);
    const Id started = *service->decide(who("bob"), again.id, Decision::Approve, "").grant_id;
    clock.t += kHour;
    service->tick();  // starts: fingerprinted now
    EXPECT_EQ(store.rows.reviews.size(), 1u);
    fs.files["/home/alice/.ssh/authorized_keys"] = "not covered: alice is not a target\n";
    clock.t += kHour;
    service->tick();
    EXPECT_EQ(service->get_review(who("alice"), started).changes, "");
}

TEST_F(ReviewTest, ReviewPathsAddPlacesAndARestartRetakesALostStartFingerprint) {
    config.review_paths = {"/opt/app/keys"};
    restart();
    const Id id = grant();
    fs.files["/opt/app/keys"] = "new\n";
    store.rows.reviews.clear();  // as if the start's write was lost
    restart();                   // the restart takes the start fingerprint again, now
    service->revoke(who("alice"), id, "done");
    EXPECT_EQ(service->get_review(who("alice"), id).changes, "");

    const Id next = grant();
    fs.files["/opt/app/keys"] = "newer\n";
    service->revoke(who("alice"), next, "done");
    EXPECT_EQ(service->get_review(who("alice"), next).changes, "~/opt/app/keys");
}

TEST_F(ReviewTest, WithoutAFileSystemNothingIsReviewed) {
    review_fs = nullptr;
    restart();
    const Id id = grant();
    service->revoke(who("alice"), id, "done");
    EXPECT_EQ(events_named("grant_review"), 0u);
    EXPECT_EQ(code_of([&] { service->get_review(who("alice"), id); }), ErrorCode::NotFound);
}

}  // namespace
}  // namespace jit::service_test
