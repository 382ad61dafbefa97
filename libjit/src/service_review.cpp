// SPDX-License-Identifier: Apache-2.0
// The engine (jit/service.hpp), part: grant review (docs/grant-review.md). A fingerprint of the
// places where access can outlive a grant is taken when the grant starts (and for each further
// target account its sessions reach) and compared with a second one when it ends; the result is
// stored with the grant and audited as `grant_review`. The file system is injected
// (enable_review), so the engine itself does no file I/O.
#include <algorithm>
#include <map>

#include "commit_change.hpp"
#include "jit/authz.hpp"
#include "jit/error.hpp"
#include "jit/service.hpp"
#include "service_internal.hpp"

namespace jit {

using namespace engine;

namespace {

// The time bound of an account fingerprinted while a session registers.
constexpr std::uint64_t kSessionReviewUsec = 500000;

}  // namespace

void JitService::enable_review(const ReviewFileSystem& fs, const ReviewLimits& limits) {
    review_fs_ = &fs;
    review_limits_ = limits;
}

GrantReview JitService::get_review(const Caller& caller, Id grant_id) const {
    auto it = grants_.find(grant_id);
    if (it == grants_.end()) {
        throw_not_found("no grant " + std::to_string(grant_id));
    }
    const Grant& grant = it->second;
    if (!may_view_grant(caller, roles_, grant)) {
        throw_denied("only the grant's holder, admins and auditors may read the review of grant " +
                     std::to_string(grant_id));
    }
    if (!grant.review) {
        const bool live = grant.state == GrantState::Active || grant.state == GrantState::Scheduled;
        throw_not_found("grant " + std::to_string(grant_id) + " has no review" +
                        (live ? " yet: it is reviewed when it ends" : ""));
    }
    return *grant.review;
}

// The grant's target accounts as its resource names them ("*": those its sessions reach, added
// as they register).
std::vector<std::string> JitService::review_accounts(const Grant& grant) const {
    std::vector<std::string> accounts;
    if (auto resource = resources_.find(grant.resource); resource != resources_.end()) {
        for (const std::string& account : resource->second.accounts) {
            if (account != "*") {
                accounts.push_back(account);
            }
        }
    }
    return deduplicated(accounts);
}

Fingerprint JitService::review_fingerprint(const std::vector<std::string>& accounts,
                                           bool with_review_paths, const ReviewLimits& limits,
                                           const IdentityResolver* names) const {
    std::vector<std::string> points;
    for (const std::string& account : accounts) {
        const UserRecord user = (names ? *names : identity_).user_record(account);
        const std::string home = user.home.value_or("");
        const bool superuser = user.uid == uid_t{0};
        for (std::string& point : persistence_points(account, home, superuser)) {
            points.push_back(std::move(point));
        }
    }
    if (with_review_paths) {
        points.insert(points.end(), config_.review_paths.begin(), config_.review_paths.end());
    }
    return take_fingerprint(points, *review_fs_, limits);
}

// Stores the start fingerprints of grants that just became active (or, at start-up, of active
// grants that have none), one transaction for all; grants covering the same accounts share one
// fingerprint (thousands of grants on one resource cost one walk). A failed write leaves the
// grants without one: their reviews then say so.
void JitService::begin_reviews(const std::vector<Id>& grant_ids, const IdentityResolver* names) {
    if (review_fs_ == nullptr) {
        return;
    }
    std::map<std::vector<std::string>, std::string> before_of;
    std::vector<StoredReview> rows;
    for (Id grant_id : grant_ids) {
        const Grant& grant = grant_ref(grant_id);
        if (grant.state != GrantState::Active || reviews_.contains(grant_id)) {
            continue;
        }
        StoredReview row;
        row.grant_id = grant_id;
        row.host = config_.host;
        row.accounts = review_accounts(grant);
        auto before = before_of.find(row.accounts);
        if (before == before_of.end()) {
            before = before_of
                         .emplace(row.accounts, format_fingerprint(review_fingerprint(
                                                    row.accounts, true, review_limits_, names)))
                         .first;
        }
        row.before = before->second;
        rows.push_back(std::move(row));
    }
    if (rows.empty()) {
        return;
    }
    try {
        commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>&) {
            for (const StoredReview& row : rows) {
                tx.put(row);
            }
        });
    } catch (const std::exception&) {
        return;
    }
    for (StoredReview& row : rows) {
        const Id grant_id = row.grant_id;
        reviews_[grant_id] = std::move(row);
    }
}

// A session under the grant reached `account`: one the start fingerprint does not cover yet
// (a resource whose accounts are "*", or another name of an account) is added to it.
void JitService::review_account(Id grant_id, const std::string& account) {
    auto it = reviews_.find(grant_id);
    if (review_fs_ == nullptr || it == reviews_.end() || it->second.review ||
        it->second.host != config_.host ||
        std::find(it->second.accounts.begin(), it->second.accounts.end(), account) !=
            it->second.accounts.end()) {
        return;
    }
    StoredReview row = it->second;
    try {
        Fingerprint before = parse_fingerprint(row.before);
        // pam_jit waits for this reply (at most its timeout, 2 s by default): a shorter bound.
        ReviewLimits limits = review_limits_;
        limits.max_usec = std::min(limits.max_usec, kSessionReviewUsec);
        merge_fingerprint(before, review_fingerprint({account}, false, limits));
        row.before = format_fingerprint(before);
        row.accounts.push_back(account);
        commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>&) { tx.put(row); });
    } catch (const std::exception&) {
        return;  // the review at the end compares what was stored
    }
    it->second = std::move(row);
}

AuditEvent JitService::review_event(const Grant& grant, const StoredReview& row) const {
    AuditEvent event = make_event(E::GrantReview, {{F::GrantId, std::to_string(grant.id)},
                                                   {F::User, grant.user},
                                                   {F::Resource, grant.resource},
                                                   {F::Target, join(row.accounts, ",")},
                                                   {F::Changed, row.review->changes}});
    if (!row.review->incomplete.empty()) {
        audit::add_field(event, F::ReviewIncomplete, row.review->incomplete);
    }
    return event;
}

namespace {

std::string incomplete_text(const Fingerprint& before, const Fingerprint& after) {
    std::string text;
    if (!before.incomplete.empty()) {
        text = "at the start: " + before.incomplete;
    }
    if (!after.incomplete.empty()) {
        text += (text.empty() ? "" : "; ") + std::string("at the end: ") + after.incomplete;
    }
    return text;
}

}  // namespace

// Reviews grants that ended (all in one transaction with their `grant_review` events). Grants
// that end together and cover the same accounts share one fingerprint of the end. A failed write
// is retried when jitd next starts.
void JitService::finish_reviews(const std::vector<Id>& grant_ids) {
    if (review_fs_ == nullptr || grant_ids.empty()) {
        return;
    }
    const EpochSeconds now = clock_.now();
    std::map<std::vector<std::string>, Fingerprint> after_of;
    std::vector<StoredReview> rows;
    for (Id grant_id : grant_ids) {
        auto it = reviews_.find(grant_id);
        StoredReview row;
        if (it != reviews_.end()) {
            row = it->second;
        } else {
            row.grant_id = grant_id;
            row.host = config_.host;
            row.accounts = review_accounts(grant_ref(grant_id));
        }
        if (row.review) {
            continue;
        }
        GrantReview result;
        result.reviewed_at = now;
        if (it == reviews_.end()) {
            result.incomplete = "no fingerprint was taken when the grant started";
        } else if (row.host != config_.host) {
            result.incomplete = "the grant started on host " + row.host + " and ended on host " +
                                config_.host + ": not compared";
        } else {
            try {
                const Fingerprint before = parse_fingerprint(row.before);
                auto after = after_of.find(row.accounts);
                if (after == after_of.end()) {
                    after = after_of
                                .emplace(row.accounts,
                                         review_fingerprint(row.accounts, true, review_limits_))
                                .first;
                }
                result.changes = format_changes(compare_fingerprints(before, after->second));
                result.incomplete = incomplete_text(before, after->second);
            } catch (const JitError&) {
                result.incomplete = "the fingerprint taken at the start cannot be read";
            }
        }
        row.before.clear();  // compared: only the result is kept
        row.review = std::move(result);
        rows.push_back(std::move(row));
    }
    if (rows.empty()) {
        return;
    }
    std::vector<AuditEvent> events;
    try {
        events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
            for (const StoredReview& row : rows) {
                tx.put(row);
                ev.push_back(tx.append(review_event(grant_ref(row.grant_id), row)));
            }
        });
    } catch (const std::exception&) {
        return;
    }
    for (StoredReview& row : rows) {
        grants_[row.grant_id].review = row.review;
        const Id grant_id = row.grant_id;
        reviews_[grant_id] = std::move(row);
    }
    publish(events);
}

// At start: active grants without a start fingerprint get one now (a crash between the grant
// and its fingerprint, or grants older than reviews), ended grants not yet reviewed are
// reviewed now. `names`: start()'s memo of the accounts it resolved for the index.
void JitService::catch_up_reviews(const IdentityResolver& names) {
    if (review_fs_ == nullptr) {
        return;
    }
    std::vector<Id> unstarted;
    std::vector<Id> unreviewed;
    for (const auto& [id, grant] : grants_) {
        if (grant.state == GrantState::Active) {
            unstarted.push_back(id);
        } else if (auto row = reviews_.find(id); grant.state != GrantState::Scheduled &&
                                                 row != reviews_.end() && !row->second.review) {
            unreviewed.push_back(id);
        }
    }
    begin_reviews(unstarted, &names);
    finish_reviews(unreviewed);
}

}  // namespace jit
