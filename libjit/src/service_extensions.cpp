// SPDX-License-Identifier: Apache-2.0
// The engine (jit/service.hpp), part: extensions, more time on one's own active grant. An
// extension is a request (`extends` = the grant) decided under the resource's policy like any
// other; approved, it moves the grant's expiry (`extended`).
#include <algorithm>

#include "commit_change.hpp"
#include "jit/error.hpp"
#include "jit/service.hpp"
#include "jit/validate.hpp"
#include "service_internal.hpp"

namespace jit {

using namespace engine;

std::optional<Id> JitService::open_extension_of(Id grant_id) const {
    for (const auto& [id, r] : requests_) {
        if (r.state == RequestState::Pending && r.extends == grant_id) {
            return id;
        }
    }
    return std::nullopt;
}

// The grant an extension may be asked for: the caller's own, active, with an expiry.
const Grant& JitService::extendable_grant(const Caller& caller, Id grant_id) const {
    auto it = grants_.find(grant_id);
    if (it == grants_.end()) {
        throw_not_found("no grant " + std::to_string(grant_id));
    }
    const Grant& grant = it->second;
    const std::string id = std::to_string(grant_id);
    if (grant.user != caller.name) {
        throw_denied("only the holder of grant " + id + " may extend it");
    }
    if (grant.state != GrantState::Active) {
        throw_conflict("grant " + id + " is " + std::string(to_string(grant.state)) +
                       "; only an active grant can be extended");
    }
    if (!grant.expiry) {
        throw_conflict("grant " + id + " has no expiry; there is nothing to extend");
    }
    if (auto pending = open_extension_of(grant_id)) {
        throw_conflict("extension request " + std::to_string(*pending) + " of grant " + id +
                       " is already pending");
    }
    return grant;
}

Request JitService::extend_grant(const Caller& caller, Id grant_id, const std::string& reason,
                                 Seconds duration) {
    validate_reason(reason);
    require_duration(duration);
    const Grant& grant = extendable_grant(caller, grant_id);
    const Policy& policy = requestable_policy(resource_ref(grant.resource));
    check_reason_rules(reason_rules_of(policy), reason);
    require_request_limits(caller);
    // Capped so that the grant's whole length stays within the policy's maximum.
    const Seconds room = policy.max_duration - (*grant.expiry - grant.start);
    if (room <= 0) {
        throw_failed("grant " + std::to_string(grant_id) + " already lasts the maximum " +
                     format_duration(policy.max_duration) + " of policy \"" + policy.name + "\"");
    }

    const EpochSeconds now = clock_.now();
    Request request;
    request.resource = grant.resource;
    request.requester = caller.name;
    request.policy = policy.name;
    request.reason = reason;
    request.requested_duration = duration;
    request.capped = duration > room;
    request.duration = std::min(duration, room);
    request.created = now;
    request.expires = std::min(now + policy.request_ttl, *grant.expiry);
    request.approvals_required =
        policy.action == PolicyAction::AutoApprove ? 0 : policy.approvals_required;
    request.extends = grant_id;

    std::optional<Grant> extended;
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        if (put_new_request(tx, caller, request, policy.action, ev)) {
            extended = extend_in(tx, request, ev);
        }
    });

    grants_[grant_id].extensions.push_back(request.id);
    request_made(request, events, extended.has_value());
    if (extended) {
        grant_extended(*extended);
    }
    return request;
}

// Approves an extension request: the grant's expiry moves by the request's duration.
Grant JitService::extend_in(Transaction& tx, Request& request, std::vector<AuditEvent>& ev) {
    Grant grant = grant_ref(*request.extends);
    if (grant.state != GrantState::Active || !grant.expiry) {
        throw_conflict("grant " + std::to_string(grant.id) + " is " +
                       std::string(to_string(grant.state)) + "; it can no longer be extended");
    }
    const EpochSeconds previous = *grant.expiry;
    grant.expiry = previous + request.duration;
    tx.put(grant);

    request.state = RequestState::Approved;
    request.decided = clock_.now();
    request.grant_id = grant.id;
    tx.put(request);
    ev.push_back(tx.append(make_event(E::Extended, {{F::RequestId, std::to_string(request.id)},
                                                    {F::GrantId, std::to_string(grant.id)},
                                                    {F::User, grant.user},
                                                    {F::Resource, grant.resource},
                                                    {F::PreviousExpiry, format_rfc3339(previous)},
                                                    {F::Expiry, expiry_text(grant.expiry)}})));
    return grant;
}

// After the commit that extended `grant`: logins, deadlines and the snapshot follow its expiry.
void JitService::grant_extended(const Grant& grant) {
    Grant& held = grants_[grant.id];
    std::vector<Id> extensions = std::move(held.extensions);  // memory's list is the current one
    held = grant;
    held.extensions = std::move(extensions);
    index_grant(grant);
    schedule_grant(grant);
    effects_.access_changed();
}

// Extensions still pending when their grant ends have nothing left to extend.
void JitService::expire_extensions_of(Id grant_id) {
    // The grant's own list, not a walk over every request: thousands of grants may end at once.
    std::vector<Id> pending;
    for (Id id : grant_ref(grant_id).extensions) {
        if (auto r = requests_.find(id); r != requests_.end() &&
                                         r->second.state == RequestState::Pending &&
                                         r->second.extends == grant_id) {
            pending.push_back(id);
        }
    }
    for (Id id : pending) {
        expire_request(id);
    }
}

}  // namespace jit
