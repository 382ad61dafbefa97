// SPDX-License-Identifier: Apache-2.0
// The engine (jit/service.hpp), part: Resources and policies: the admin side of the engine.
#include <algorithm>

#include "commit_change.hpp"
#include "jit/error.hpp"
#include "jit/hosts.hpp"
#include "jit/service.hpp"
#include "jit/validate.hpp"
#include "service_internal.hpp"

namespace jit {

using namespace engine;

namespace {

// Commits one changed resource or policy with the event that says what changed.
template <class Model>
std::vector<AuditEvent> commit_changed(Store& store, const Model& updated,
                                       const AuditEvent& event) {
    return commit_change(store, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        tx.put(updated);
        ev.push_back(tx.append(event));
    });
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Resources

// Only the resources that apply on this host take part in its login decisions (and so in the
// snapshot pam_jit falls back on).
void JitService::index_resource(const Resource& resource, const IdentityResolver* names) {
    if (applies_on_host(resource.hosts, config_.host)) {
        index_.put_rule({resource.name, resource.services, resource.accounts, resource.members},
                        names);
    } else {
        index_.remove_rule(resource.name);
    }
}

void JitService::add_resource(const Caller& caller, Resource resource) {
    require_manage(caller);
    validate_object_name("resource", resource.name);
    validate_text("description", resource.description, kMaxDescriptionLength);
    if (resource.services.empty()) {
        throw_invalid("a resource needs at least one service");
    }
    if (resource.accounts.empty()) {
        throw_invalid("a resource needs at least one account");
    }
    for (const auto& s : resource.services) {
        validate_resource_service(s);
    }
    for (const auto& a : resource.accounts) {
        validate_account(a);
    }
    for (const auto& m : resource.members) {
        validate_principal(m);
    }
    for (const auto& h : resource.hosts) {
        validate_host_pattern(h);
    }
    if (!resource.policy.empty()) {
        throw_invalid("assign a policy with AssignPolicy, not when adding the resource");
    }
    if (resources_.count(resource.name)) {
        throw_conflict("resource \"" + resource.name + "\" already exists");
    }
    resource.services = deduplicated(resource.services);
    resource.accounts = deduplicated(resource.accounts);
    resource.members = deduplicated(resource.members);
    resource.hosts = resource.hosts.empty() ? std::vector<std::string>{std::string(kEveryHost)}
                                            : deduplicated(resource.hosts);

    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        tx.put(resource);
        ev.push_back(tx.append(make_event(
            E::ResourceChanged,
            with_login(caller, {{F::Actor, caller.person()},
                                {F::Object, resource.name},
                                {F::Change, "created services=" + join(resource.services) +
                                                " accounts=" + join(resource.accounts) +
                                                " members=" + join(resource.members) +
                                                " hosts=" + join(resource.hosts)}}))));
    });
    index_resource(resource);
    std::string name = resource.name;
    resources_.emplace(std::move(name), std::move(resource));
    publish(events);
    effects_.access_changed();
}

void JitService::remove_resource(const Caller& caller, const std::string& name) {
    require_manage(caller);
    const Resource& resource = resource_ref(name);
    if (auto id = std::find_if(requests_.begin(), requests_.end(),
                               [&](const auto& r) {
                                   return r.second.resource == name &&
                                          r.second.state == RequestState::Pending;
                               });
        id != requests_.end()) {
        throw_conflict("resource \"" + name + "\" has pending request " +
                       std::to_string(id->first) + "; deny or cancel it first");
    }
    for (const auto& [id, g] : grants_) {
        if (g.resource == name &&
            (g.state == GrantState::Active || g.state == GrantState::Scheduled)) {
            throw_conflict("resource \"" + name + "\" has " + std::string(to_string(g.state)) +
                           " grant " + std::to_string(id) + "; revoke it first");
        }
    }
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        tx.remove_resource(resource.name);
        ev.push_back(tx.append(change_event(E::ResourceChanged, caller, name, "removed")));
    });
    index_.remove_rule(name);
    resources_.erase(name);
    publish(events);
    effects_.access_changed();
}

AuditEvent JitService::change_event(audit::Event type, const Caller& caller,
                                    const std::string& object, const std::string& change) const {
    return make_event(
        type, with_login(caller,
                         {{F::Actor, caller.person()}, {F::Object, object}, {F::Change, change}}));
}

void JitService::add_member(const Caller& caller, const std::string& resource_name,
                            const std::string& member) {
    change_member(caller, resource_name, member, true);
}

void JitService::remove_member(const Caller& caller, const std::string& resource_name,
                               const std::string& member) {
    change_member(caller, resource_name, member, false);
}

void JitService::change_member(const Caller& caller, const std::string& resource_name,
                               const std::string& member, bool add) {
    require_manage(caller);
    validate_principal(member);
    Resource updated = resource_ref(resource_name);
    auto it = std::find(updated.members.begin(), updated.members.end(), member);
    const bool present = it != updated.members.end();
    if (add && present) {
        throw_conflict(quote_for_message(member) + " is already a member of " +
                       quote_for_message(resource_name));
    }
    if (!add && !present) {
        throw_not_found(quote_for_message(member) + " is not a member of " +
                        quote_for_message(resource_name));
    }
    if (add) {
        updated.members.push_back(member);
    } else {
        updated.members.erase(it);
    }
    auto events =
        commit_changed(store_, updated,
                       change_event(E::ResourceChanged, caller, resource_name,
                                    (add ? "member added " : "member removed ") + member));
    index_resource(updated);
    resources_[resource_name] = std::move(updated);
    publish(events);
    effects_.access_changed();
}

std::vector<ResourceView> JitService::list_resources(const Caller& caller) const {
    std::vector<ResourceView> out;
    for (const auto& [name, resource] : resources_) {
        out.push_back({resource, access_of(caller, resource)});
    }
    return out;
}

ResourceView JitService::get_resource(const Caller& caller, const std::string& name) const {
    validate_object_name("resource", name);
    const Resource& resource = resource_ref(name);
    return {resource, access_of(caller, resource)};
}

// ---------------------------------------------------------------------------------------------
// Policies

Policy JitService::add_policy(const Caller& caller, const NewPolicy& spec) {
    require_manage(caller);
    validate_object_name("policy", spec.name);
    validate_text("description", spec.description, kMaxDescriptionLength);
    for (const auto& a : spec.approvers) {
        validate_principal(a);
    }
    if (spec.approvals_required < 1 || spec.approvals_required > kMaxApprovalsRequired) {
        throw_invalid("approvals required must be between 1 and " +
                      std::to_string(kMaxApprovalsRequired));
    }
    std::vector<std::string> approvers = deduplicated(spec.approvers);
    if (spec.action == PolicyAction::RequireApproval) {
        if (approvers.empty()) {
            throw_invalid("a require-approval policy needs an approver");
        }
        bool only_users = std::none_of(approvers.begin(), approvers.end(),
                                       [](const std::string& a) { return a[0] == '@'; });
        if (only_users && static_cast<std::size_t>(spec.approvals_required) > approvers.size()) {
            throw_invalid("approvals required (" + std::to_string(spec.approvals_required) +
                          ") exceeds the number of approvers (" + std::to_string(approvers.size()) +
                          ")");
        }
    }
    Seconds max_duration = spec.max_duration.value_or(std::clamp<Seconds>(
        find_preset("routine-ops").max_duration, config_.min_duration, config_.max_duration_limit));
    if (max_duration < config_.min_duration || max_duration > config_.max_duration_limit) {
        throw_invalid("maximum duration " + format_duration(max_duration) + " is outside " +
                      format_duration(config_.min_duration) + ".." +
                      format_duration(config_.max_duration_limit) +
                      " (min_duration and max_duration_limit in jitd.conf)");
    }
    if (spec.request_ttl < 1 || spec.request_ttl > config_.max_duration_limit) {
        throw_invalid("request TTL must be between 1s and " +
                      format_duration(config_.max_duration_limit));
    }
    validate_reason_pattern(spec.reason_pattern);
    validate_reason_min_length(spec.reason_min_length);
    if (policies_.count(spec.name)) {
        throw_conflict("policy \"" + spec.name + "\" already exists");
    }

    Policy policy;
    policy.name = spec.name;
    policy.description = spec.description;
    policy.action = spec.action;
    policy.approvers = approvers;
    policy.approvals_required = spec.approvals_required;
    policy.max_duration = max_duration;
    policy.auto_expiry = spec.auto_expiry;
    policy.request_ttl = spec.request_ttl;
    policy.active = false;  // the seed's last admin step is "Activate the policy"
    policy.reason_pattern = spec.reason_pattern;
    policy.reason_min_length = spec.reason_min_length;

    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        tx.put(policy);
        ev.push_back(tx.append(make_event(
            E::PolicyChanged,
            with_login(caller,
                       {{F::Actor, caller.person()},
                        {F::Object, policy.name},
                        {F::Change, "created action=" + std::string(to_string(policy.action)) +
                                        " approvers=" + join(policy.approvers) +
                                        " approvals=" + std::to_string(policy.approvals_required) +
                                        " max_duration=" + format_duration(policy.max_duration) +
                                        " auto_expiry=" + (policy.auto_expiry ? "yes" : "no") +
                                        " request_ttl=" + format_duration(policy.request_ttl)}}))));
    });
    policies_[policy.name] = policy;
    publish(events);
    return policy;
}

void JitService::assign_policy(const Caller& caller, const std::string& policy_name,
                               const std::string& resource_name) {
    require_manage(caller);
    validate_object_name("policy", policy_name);
    validate_object_name("resource", resource_name);
    policy_ref(policy_name);
    Resource updated = resource_ref(resource_name);
    if (updated.policy == policy_name) {
        return;  // nothing changes, nothing to audit
    }
    updated.policy = policy_name;
    auto events = commit_changed(
        store_, updated,
        change_event(E::PolicyChanged, caller, policy_name, "assigned to " + resource_name));
    resources_[resource_name] = std::move(updated);
    publish(events);
}

void JitService::set_policy_active(const Caller& caller, const std::string& policy_name,
                                   bool active) {
    require_manage(caller);
    validate_object_name("policy", policy_name);
    Policy updated = policy_ref(policy_name);
    if (updated.active == active) {
        return;
    }
    updated.active = active;
    auto events = commit_changed(
        store_, updated,
        change_event(E::PolicyChanged, caller, policy_name, active ? "activated" : "deactivated"));
    policies_[policy_name] = std::move(updated);
    publish(events);
}

void JitService::remove_policy(const Caller& caller, const std::string& name) {
    require_manage(caller);
    validate_object_name("policy", name);
    policy_ref(name);
    for (const auto& [id, r] : requests_) {
        if (r.policy == name && r.state == RequestState::Pending) {
            throw_conflict("policy \"" + name + "\" has pending request " + std::to_string(id) +
                           "; decide or cancel it first");
        }
    }
    // Resources under it are left without a policy (no new requests); grants stay until expiry.
    std::vector<std::string> assigned = resources_under(name);
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        for (const auto& resource_name : assigned) {
            Resource updated = resources_.at(resource_name);
            updated.policy.clear();
            tx.put(updated);
        }
        tx.remove_policy(name);
        std::string change = "removed";
        if (!assigned.empty()) {
            change += " (unassigned from " + join(assigned) + ")";
        }
        ev.push_back(tx.append(change_event(E::PolicyChanged, caller, name, change)));
    });
    for (const auto& resource_name : assigned) {
        resources_[resource_name].policy.clear();
    }
    policies_.erase(name);
    publish(events);
}

std::vector<PolicyView> JitService::list_policies(const Caller&) const {
    std::vector<PolicyView> out;
    for (const auto& [name, policy] : policies_) {
        out.push_back({policy, resources_under(name)});
    }
    return out;
}

PolicyView JitService::get_policy(const Caller&, const std::string& name) const {
    validate_object_name("policy", name);
    auto it = policies_.find(name);
    if (it == policies_.end()) {
        throw_not_found("no policy named " + quote_for_message(name));
    }
    return {it->second, resources_under(name)};
}

}  // namespace jit
