// SPDX-License-Identifier: Apache-2.0
// The engine (jit/service.hpp), part: following a fleet's store. Other hosts change the shared
// store; their changes reach this host's memory through the change feed (docs/fleet.md), so
// that logins here are decided on them. Effects meant for people (D-Bus signals, notify_command)
// happen on the host where a change was made; what a change means for this host's own sessions
// happens here.
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "jit/service.hpp"
#include "service_internal.hpp"

namespace jit {

using namespace engine;

namespace {

// The fresh rows of the feed by key, to look each changed object up once.
template <class Model, class Key>
std::map<Key, const Model*> by_key(const std::vector<Model>& rows, Key Model::*key) {
    std::map<Key, const Model*> out;
    for (const Model& row : rows) {
        out.emplace(row.*key, &row);
    }
    return out;
}

template <class Model, class Key>
const Model* find(const std::map<Key, const Model*>& rows, const Key& key) {
    auto found = rows.find(key);
    return found == rows.end() ? nullptr : found->second;
}

bool is_live(GrantState state) {
    return state == GrantState::Active || state == GrantState::Scheduled;
}

// An id of the feed; a key that is not one (edited by hand) changes nothing.
std::optional<Id> id_of(const std::string& key) {
    try {
        std::size_t used = 0;
        const long long id = std::stoll(key, &used);
        return used == key.size() ? std::optional<Id>(id) : std::nullopt;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace

bool JitService::follow_store() {
    std::optional<StoreChanges> changes = store_.changes();
    if (!changes || changes->changed.empty()) {
        return false;
    }
    apply_changes(*changes);
    return true;
}

void JitService::apply_changes(const StoreChanges& changes) {
    const StoredState& fresh = changes.fresh;
    const auto resources = by_key(fresh.resources, &Resource::name);
    const auto policies = by_key(fresh.policies, &Policy::name);
    const auto requests = by_key(fresh.requests, &Request::id);
    const auto grants = by_key(fresh.grants, &Grant::id);
    const auto sessions = by_key(fresh.sessions, &Session::id);
    const auto keys = by_key(fresh.keys, &SshKey::fingerprint);
    const auto reviews = by_key(fresh.reviews, &StoredReview::grant_id);
    bool access = false;
    std::vector<Grant> ended_elsewhere;
    for (const auto& [kind, key] : changes.changed) {
        if (kind == "resource") {
            if (const Resource* resource = find(resources, key)) {
                index_resource(*resource);
                resources_[key] = *resource;
            } else {
                index_.remove_rule(key);
                resources_.erase(key);
            }
            access = true;
        } else if (kind == "policy") {
            if (const Policy* policy = find(policies, key)) {
                policies_[key] = *policy;
            } else {
                policies_.erase(key);
            }
        } else if (kind == "key") {
            if (const SshKey* ssh_key = find(keys, key)) {
                index_key(*ssh_key);
                keys_[key] = *ssh_key;
            } else {
                index_.remove_key(key);
                keys_.erase(key);
            }
            access = true;
        } else if (std::optional<Id> id = id_of(key); !id) {
            continue;
        } else if (kind == "request") {
            if (const Request* request = find(requests, *id)) {
                apply_request(*request);
            }
        } else if (kind == "grant") {
            if (const Grant* grant = find(grants, *id)) {
                apply_grant(*grant, ended_elsewhere);
                access = true;
            }
        } else if (kind == "session") {
            if (const Session* session = find(sessions, *id); session && !on_this_host(*session)) {
                sessions_[*id] = *session;
            }
        } else if (kind == "review") {
            if (const StoredReview* review = find(reviews, *id)) {
                reviews_[*id] = *review;
                if (auto grant = grants_.find(*id); grant != grants_.end()) {
                    grant->second.review = review->review;
                }
            }
        }
    }
    audit_seq_ = std::max(audit_seq_, fresh.last_audit_seq);
    if (!ended_elsewhere.empty()) {
        grants_ended_elsewhere(ended_elsewhere);  // tells access_changed itself
    } else if (access) {
        effects_.access_changed();
    }
}

void JitService::apply_request(const Request& fresh) {
    if (fresh.state == RequestState::Pending) {
        schedule_request(fresh);
    } else {
        unschedule(DeadlineKind::ExpireRequest, fresh.id);
    }
    if (auto grant = fresh.extends ? grants_.find(*fresh.extends) : grants_.end();
        grant != grants_.end()) {
        std::vector<Id>& extensions = grant->second.extensions;
        if (std::find(extensions.begin(), extensions.end(), fresh.id) == extensions.end()) {
            extensions.push_back(fresh.id);
        }
    }
    requests_[fresh.id] = fresh;
}

void JitService::apply_grant(const Grant& fresh, std::vector<Grant>& ended_elsewhere) {
    Grant grant = fresh;
    auto known = grants_.find(grant.id);
    const bool was_live = known != grants_.end() && is_live(known->second.state);
    if (known != grants_.end()) {
        grant.extensions = known->second.extensions;  // memory's own, from the requests
    }
    if (auto review = reviews_.find(grant.id); review != reviews_.end()) {
        grant.review = review->second.review;
    }
    if (!is_live(grant.state)) {
        if (was_live) {
            ended_elsewhere.push_back(std::move(grant));  // memory follows once they are ended
        } else {
            grants_[grant.id] = std::move(grant);
        }
        return;
    }
    if (grant.state == GrantState::Scheduled) {
        deadlines_.schedule({DeadlineKind::StartGrant, grant.id}, grant.start);
    } else {
        unschedule(DeadlineKind::StartGrant, grant.id);
        index_grant(grant);
        schedule_grant(grant);
    }
    grants_[grant.id] = std::move(grant);
}

}  // namespace jit
