// SPDX-License-Identifier: Apache-2.0
// The engine (jit/service.hpp), part: Requests and approvals.
#include <algorithm>

#include "commit_change.hpp"
#include "jit/error.hpp"
#include "jit/service.hpp"
#include "jit/validate.hpp"
#include "service_internal.hpp"

namespace jit {

using namespace engine;

// ---------------------------------------------------------------------------------------------
// Requests

// One user cannot flood jitd (or the approvers): at most max_pending_per_user pending requests
// and requests_per_hour requests in the last hour. Counted from the requests jitd holds, which
// it reloads from the store on start, so a restart does not reset the hourly count.
void JitService::require_request_limits(const Caller& caller) const {
    const EpochSeconds since = clock_.now() - kRequestRateWindow;
    std::size_t pending = 0, last_hour = 0;
    for (const auto& [id, r] : requests_) {
        if (r.requester != caller.name) {
            continue;
        }
        pending += r.state == RequestState::Pending;
        last_hour += r.created > since;
    }
    const auto max_pending = static_cast<std::size_t>(config_.max_pending_per_user);
    if (max_pending > 0 && pending >= max_pending) {
        throw_failed("you have " + std::to_string(pending) +
                     " pending requests, the limit max_pending_per_user = " +
                     std::to_string(max_pending) + "; cancel one or wait for a decision");
    }
    const auto per_hour = static_cast<std::size_t>(config_.requests_per_hour);
    if (per_hour > 0 && last_hour >= per_hour) {
        throw_failed("you made " + std::to_string(last_hour) +
                     " requests in the last hour, the limit requests_per_hour = " +
                     std::to_string(per_hour) + "; try again later");
    }
}

void JitService::require_duration(Seconds duration) const {
    if (duration <= 0) {
        throw_invalid("duration must be positive");
    }
    if (duration < config_.min_duration) {
        throw_invalid("duration " + format_duration(duration) + " is below the minimum " +
                      format_duration(config_.min_duration));
    }
}

const Policy& JitService::requestable_policy(const Resource& resource) const {
    auto it = policies_.find(resource.policy);
    if (it == policies_.end()) {
        throw_failed("resource \"" + resource.name + "\" has no JIT policy; ask an admin");
    }
    if (!it->second.active) {
        throw_failed("the policy \"" + it->second.name + "\" of resource \"" + resource.name +
                     "\" is not active");
    }
    return it->second;
}

AuditEvent JitService::requested_event(const Caller& caller, const Request& request) const {
    return make_event(
        E::Requested,
        with_login(caller, {{F::RequestId, std::to_string(request.id)},
                            {F::User, request.requester},
                            {F::Resource, request.resource},
                            {F::Policy, request.policy},
                            {F::Reason, request.reason},
                            {F::RequestedDuration, std::to_string(request.requested_duration)},
                            {F::Duration, std::to_string(request.duration)},
                            {F::Capped, request.capped ? "true" : "false"}}));
}

AuditEvent JitService::auto_approved_event(const Request& request) const {
    return make_event(E::Approved, {{F::RequestId, std::to_string(request.id)},
                                    {F::User, request.requester},
                                    {F::Resource, request.resource},
                                    {F::Actor, "system"},
                                    {F::Comment, "auto-approve policy"}});
}

void JitService::request_made(const Request& request, const std::vector<AuditEvent>& events,
                              bool decided_at_once) {
    requests_[request.id] = request;
    if (!decided_at_once) {
        schedule_request(request);
    }
    publish(events);
    effects_.request_created(request);
    if (decided_at_once) {
        effects_.request_decided(request);
    }
}

bool JitService::put_new_request(Transaction& tx, const Caller& caller, Request& request,
                                 PolicyAction action, std::vector<AuditEvent>& events) {
    request.id = tx.put(request);
    events.push_back(tx.append(requested_event(caller, request)));
    if (action != PolicyAction::AutoApprove) {
        return false;
    }
    request.approvals.push_back(
        {"system", Decision::Approve, "auto-approve policy", request.created});
    events.push_back(tx.append(auto_approved_event(request)));
    return true;
}

// A requested start lies ahead, at most max_schedule_ahead from now.
void JitService::require_start(const std::optional<EpochSeconds>& start) const {
    if (!start) {
        return;
    }
    const EpochSeconds now = clock_.now();
    if (*start <= now) {
        throw_invalid("the start " + format_rfc3339(*start) + " is not in the future");
    }
    if (*start - now > config_.max_schedule_ahead) {
        throw_invalid("the start " + format_rfc3339(*start) + " is more than " +
                      format_duration(config_.max_schedule_ahead) +
                      " ahead (jitd.conf max_schedule_ahead)");
    }
}

Request JitService::create_request(const Caller& caller, const std::string& resource_name,
                                   const std::string& reason, Seconds duration,
                                   std::optional<EpochSeconds> start) {
    validate_object_name("resource", resource_name);
    validate_reason(reason);
    require_duration(duration);
    require_start(start);
    const Resource& resource = resource_ref(resource_name);
    const Policy& policy = requestable_policy(resource);
    check_reason_rules(reason_rules_of(policy), reason);
    if (is_member(caller, resource)) {
        throw_conflict("you are a standing member of \"" + resource_name +
                       "\"; no request is needed");
    }
    if (auto id = open_request_of(caller.name, resource_name)) {
        throw_conflict("request " + std::to_string(*id) + " for \"" + resource_name +
                       "\" is already pending");
    }
    if (auto id = active_grant_of(caller.name, resource_name)) {
        throw_conflict("grant " + std::to_string(*id) + " on \"" + resource_name +
                       "\" is already active; ask for more time with jitctl extend " +
                       std::to_string(*id));
    }
    if (auto id = scheduled_grant_of(caller.name, resource_name)) {
        throw_conflict("grant " + std::to_string(*id) + " on \"" + resource_name +
                       "\" is already scheduled");
    }
    require_request_limits(caller);

    const EpochSeconds now = clock_.now();
    Request request;
    request.resource = resource_name;
    request.requester = caller.name;
    request.policy = policy.name;
    request.reason = reason;
    request.requested_duration = duration;
    request.capped = duration > policy.max_duration;
    request.duration = request.capped ? policy.max_duration : duration;
    request.created = now;
    request.start = start;
    request.expires = now + policy.request_ttl;
    if (start) {
        // Undecided by the end of its window, a scheduled request has nothing left to grant.
        request.expires = std::min(request.expires, *start + request.duration);
    }
    request.approvals_required =
        policy.action == PolicyAction::AutoApprove ? 0 : policy.approvals_required;
    request.auto_expiry = policy.auto_expiry;

    std::optional<Grant> grant;
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        if (put_new_request(tx, caller, request, policy.action, ev)) {
            grant = start_grant(tx, request, ev);
        }
    });

    request_made(request, events, grant.has_value());
    if (grant) {
        grant_made(*grant);
    }
    return request;
}

void JitService::grant_made(const Grant& grant) {
    grants_[grant.id] = grant;
    if (grant.state == GrantState::Scheduled) {
        deadlines_.schedule({DeadlineKind::StartGrant, grant.id}, grant.start);
        return;
    }
    index_grant(grant);
    schedule_grant(grant);
    effects_.grant_started(grant);
    effects_.access_changed();
    begin_reviews({grant.id});
}

// Marks the request approved and writes its grant: active now, or scheduled when its start lies
// ahead (then `granted` is written when it starts); the caller updates memory (grant_made).
Grant JitService::start_grant(Transaction& tx, Request& request, std::vector<AuditEvent>& ev) {
    const EpochSeconds now = clock_.now();
    Grant grant;
    grant.request_id = request.id;
    grant.user = request.requester;
    grant.resource = request.resource;
    grant.start = request.start ? std::max(*request.start, now) : now;
    grant.state = grant.start > now ? GrantState::Scheduled : GrantState::Active;
    if (request.auto_expiry) {
        grant.expiry = request.start.value_or(now) + request.duration;
    }
    grant.id = tx.put(grant);

    request.state = RequestState::Approved;
    request.decided = now;
    request.grant_id = grant.id;
    tx.put(request);
    if (grant.state == GrantState::Active) {
        ev.push_back(tx.append(granted_event(grant)));
    }
    return grant;
}

// Why this caller may not decide this request, as one line each; returns when it may.
void JitService::require_decide(const Caller& caller, const Request& request) const {
    const std::string id = std::to_string(request.id);
    const Policy* policy = policy_of(request);
    if (!may_view_request(caller, roles_, request, policy)) {
        throw_denied("you are not an approver of request " + id);
    }
    if (is_own_request(caller, request)) {
        throw_denied(caller.login_differs() && caller.login_name == request.requester
                         ? "you cannot approve or deny your own request, also not as " +
                               caller.name + " (you logged in as " + caller.login_name + ")"
                         : "you cannot approve or deny your own request");
    }
    if (caller.is_bare_root() && !roles_.root_approves) {
        throw_denied(
            "root with no login user may not approve or deny (jitd.conf root_approves = no); "
            "decide from your own account");
    }
    const bool approver = caller.is_bare_root() || (policy && is_approver(caller, roles_, *policy));
    if (!approver && caller.is_root()) {
        throw_denied(caller.person() + " (your login user) is not an approver of request " + id);
    }
    if (!approver) {
        throw_denied("you are not an approver of request " + id);
    }
    if (request.state != RequestState::Pending) {
        throw_conflict("request " + id + " is already " + std::string(to_string(request.state)));
    }
    if (has_decided(caller, request)) {
        throw_conflict(caller.person() + " has already decided request " + id);
    }
}

Request JitService::decide(const Caller& caller, Id request_id, Decision decision,
                           const std::string& comment) {
    validate_text("comment", comment, kMaxCommentLength);
    Request updated = request_ref(request_id);
    require_decide(caller, updated);
    const EpochSeconds now = clock_.now();
    updated.approvals.push_back({caller.person(), decision, comment, now});
    std::size_t approvals =
        std::count_if(updated.approvals.begin(), updated.approvals.end(),
                      [](const Approval& a) { return a.decision == Decision::Approve; });
    std::optional<Grant> grant;
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        ev.push_back(
            tx.append(make_event(decision == Decision::Approve ? E::Approved : E::Denied,
                                 with_login(caller, {{F::RequestId, std::to_string(updated.id)},
                                                     {F::User, updated.requester},
                                                     {F::Resource, updated.resource},
                                                     {F::Actor, caller.person()},
                                                     {F::Comment, comment}}))));
        if (decision == Decision::Deny) {
            updated.state = RequestState::Denied;  // a single deny ends the request
            updated.decided = now;
            tx.put(updated);
        } else if (approvals >= static_cast<std::size_t>(updated.approvals_required)) {
            grant = updated.extends ? extend_in(tx, updated, ev) : start_grant(tx, updated, ev);
        } else {
            tx.put(updated);
        }
    });

    requests_[updated.id] = updated;
    if (updated.state != RequestState::Pending) {
        unschedule(DeadlineKind::ExpireRequest, updated.id);
    }
    publish(events);
    if (updated.state != RequestState::Pending) {
        effects_.request_decided(updated);
    }
    if (grant && updated.extends) {
        grant_extended(*grant);
    } else if (grant) {
        grant_made(*grant);
    }
    return updated;
}

Request JitService::cancel(const Caller& caller, Id request_id) {
    Request updated = request_ref(request_id);
    if (!may_cancel(caller, updated)) {
        throw_denied("only the requester may cancel request " + std::to_string(request_id));
    }
    if (updated.state != RequestState::Pending) {
        throw_conflict("request " + std::to_string(request_id) + " is already " +
                       std::string(to_string(updated.state)));
    }
    updated.state = RequestState::Cancelled;
    updated.decided = clock_.now();
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        tx.put(updated);
        ev.push_back(tx.append(
            make_event(E::Cancelled, with_login(caller, {{F::RequestId, std::to_string(updated.id)},
                                                         {F::User, updated.requester},
                                                         {F::Resource, updated.resource},
                                                         {F::Actor, caller.person()}}))));
    });
    requests_[updated.id] = updated;
    unschedule(DeadlineKind::ExpireRequest, updated.id);
    publish(events);
    effects_.request_decided(updated);
    return updated;
}

void JitService::expire_request(Id request_id) {
    Request updated = request_ref(request_id);
    unschedule(DeadlineKind::ExpireRequest, request_id);
    if (updated.state != RequestState::Pending) {
        return;
    }
    updated.state = RequestState::Expired;
    updated.decided = clock_.now();
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        tx.put(updated);
        ev.push_back(
            tx.append(make_event(E::RequestExpired, {{F::RequestId, std::to_string(updated.id)},
                                                     {F::User, updated.requester},
                                                     {F::Resource, updated.resource},
                                                     {F::Actor, "system"}})));
    });
    requests_[updated.id] = updated;
    publish(events);
    effects_.request_decided(updated);
}

Request JitService::get_request(const Caller& caller, Id request_id) const {
    auto it = requests_.find(request_id);
    if (it == requests_.end() ||
        !may_view_request(caller, roles_, it->second, policy_of(it->second))) {
        throw_not_found("no request " + std::to_string(request_id));
    }
    return it->second;
}

std::vector<Request> JitService::list_requests(const Caller& caller, bool all,
                                               std::optional<RequestState> state) const {
    const bool everyone = all && may_read_all(caller, roles_);
    std::vector<Request> out;
    for (const auto& [id, r] : requests_) {
        if (!everyone && r.requester != caller.name) {
            continue;
        }
        if (state ? r.state != *state : (!all && r.state != RequestState::Pending)) {
            continue;
        }
        out.push_back(r);
    }
    return out;
}

std::vector<Request> JitService::approvals(const Caller& caller) const {
    std::vector<Request> out;
    for (const auto& [id, r] : requests_) {
        if (may_decide(caller, roles_, r, policy_of(r))) {
            out.push_back(r);
        }
    }
    return out;
}

}  // namespace jit
