// SPDX-License-Identifier: Apache-2.0
// The engine (jit/service.hpp), part: policy as code. `jitctl apply` sends the files; the plan
// is made against the engine's own state and applied in one transaction, each step audited like
// the command it stands for, with JIT_APPLIED_FROM naming the file.
#include <algorithm>
#include <set>

#include "commit_change.hpp"
#include "jit/error.hpp"
#include "jit/hosts.hpp"
#include "jit/presets.hpp"
#include "jit/service.hpp"
#include "service_internal.hpp"

namespace jit {

using namespace engine;

namespace {

// A file's name goes into JIT_APPLIED_FROM as it was given.
constexpr std::size_t kMaxPolicyFileName = 1024;

std::string yes_no(bool value) {
    return value ? "yes" : "no";
}

// The words `policy add` audits a new policy with.
std::string created_text(const Policy& p) {
    std::string text =
        "created action=" + std::string(to_string(p.action)) + " approvers=" + join(p.approvers) +
        " approvals=" + std::to_string(p.approvals_required) +
        " max_duration=" + format_duration(p.max_duration) +
        " auto_expiry=" + yes_no(p.auto_expiry) + " request_ttl=" + format_duration(p.request_ttl);
    if (!p.reason_pattern.empty()) {
        text += " reason_pattern=" + p.reason_pattern;
    }
    if (p.reason_min_length) {
        text += " reason_min_length=" + std::to_string(p.reason_min_length);
    }
    return text;
}

std::string created_text(const Resource& r) {
    std::string text = "created services=" + join(r.services) + " accounts=" + join(r.accounts) +
                       " members=" + join(r.members) + " hosts=" + join(host_patterns(r));
    if (!r.description.empty()) {
        text += " description=\"" + r.description + "\"";
    }
    return text;
}

}  // namespace

std::vector<PlanChange> JitService::apply_configuration(const Caller& caller,
                                                        const std::vector<PolicySource>& files,
                                                        bool prune, bool dry_run) {
    require_manage(caller);
    for (const auto& file : files) {
        validate_text("policy file name", file.name, kMaxPolicyFileName);
        if (file.name.empty()) {
            throw_invalid("a policy file needs a name");
        }
    }
    Configuration desired = parse_policy_files(files);

    // What only jitd knows: its duration limits, and which policies exist.
    const Seconds default_max = std::clamp<Seconds>(
        find_preset("routine-ops").max_duration, config_.min_duration, config_.max_duration_limit);
    for (auto& [name, policy] : desired.policies) {
        const std::string key = "policies." + name;
        if (policy.max_duration == 0) {
            policy.max_duration = default_max;
        }
        if (policy.max_duration < config_.min_duration ||
            policy.max_duration > config_.max_duration_limit) {
            throw_invalid(desired.where(key + ".max_duration") + "maximum duration " +
                          format_duration(policy.max_duration) + " is outside " +
                          format_duration(config_.min_duration) + ".." +
                          format_duration(config_.max_duration_limit) +
                          " (min_duration and max_duration_limit in jitd.conf)");
        }
        if (policy.request_ttl < 1 || policy.request_ttl > config_.max_duration_limit) {
            throw_invalid(desired.where(key + ".request_ttl") +
                          "request TTL must be between 1s and " +
                          format_duration(config_.max_duration_limit));
        }
    }
    for (const auto& [name, resource] : desired.resources) {
        if (resource.policy.empty() || desired.policies.count(resource.policy) ||
            (!prune && policies_.count(resource.policy))) {
            continue;
        }
        throw_invalid(desired.where("resources." + name + ".policy") + "no policy named " +
                      quote_for_message(resource.policy) +
                      (prune ? " is declared" : " is declared or exists"));
    }

    Configuration current;
    current.resources = resources_;
    current.policies = policies_;
    std::vector<PlanChange> plan = plan_configuration(current, desired, prune);
    if (dry_run || plan.empty()) {
        return plan;
    }

    // Removals are refused as `resource remove` and `policy remove` refuse them.
    for (const auto& step : plan) {
        if (step.op != PlanOp::Remove) {
            continue;
        }
        for (const auto& [id, r] : requests_) {
            if (r.state != RequestState::Pending) {
                continue;
            }
            if (step.kind == "resource" && r.resource == step.name) {
                throw_conflict("resource \"" + step.name + "\" has pending request " +
                               std::to_string(id) + "; deny or cancel it first");
            }
            if (step.kind == "policy" && r.policy == step.name) {
                throw_conflict("policy \"" + step.name + "\" has pending request " +
                               std::to_string(id) + "; decide or cancel it first");
            }
        }
        if (step.kind == "resource") {
            for (const auto& [id, g] : grants_) {
                if (g.resource == step.name &&
                    (g.state == GrantState::Active || g.state == GrantState::Scheduled)) {
                    throw_conflict("resource \"" + step.name + "\" has " +
                                   std::string(to_string(g.state)) + " grant " +
                                   std::to_string(id) + "; revoke it first");
                }
            }
        }
    }

    std::set<std::string> names;
    for (const auto& file : files) {
        names.insert(file.name);
    }
    const std::string all_files = join(std::vector<std::string>(names.begin(), names.end()));
    auto event = [&](E type, const std::string& object, const std::string& change,
                     const std::string& file) {
        return make_event(type, with_login(caller, {{F::Actor, caller.person()},
                                                    {F::Object, object},
                                                    {F::Change, change},
                                                    {F::AppliedFrom, file}}));
    };

    bool access_changed = false;
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        for (const auto& step : plan) {
            if (step.kind == "policy" && step.op != PlanOp::Remove) {
                const Policy& after = desired.policies.at(step.name);
                const std::string& file = desired.policy_files.at(step.name);
                tx.put(after);
                if (step.op == PlanOp::Create) {
                    ev.push_back(
                        tx.append(event(E::PolicyChanged, step.name, created_text(after), file)));
                    if (after.active) {
                        ev.push_back(
                            tx.append(event(E::PolicyChanged, step.name, "activated", file)));
                    }
                    continue;
                }
                const Policy& before = policies_.at(step.name);
                Policy same_state = before;
                same_state.active = after.active;
                if (std::string change = describe_change(same_state, after); !change.empty()) {
                    ev.push_back(
                        tx.append(event(E::PolicyChanged, step.name, "changed " + change, file)));
                }
                if (before.active != after.active) {
                    ev.push_back(
                        tx.append(event(E::PolicyChanged, step.name,
                                        after.active ? "activated" : "deactivated", file)));
                }
            } else if (step.kind == "resource" && step.op != PlanOp::Remove) {
                const Resource& after = desired.resources.at(step.name);
                const std::string& file = desired.resource_files.at(step.name);
                tx.put(after);
                access_changed = true;
                Resource before;
                if (step.op == PlanOp::Create) {
                    ev.push_back(
                        tx.append(event(E::ResourceChanged, step.name, created_text(after), file)));
                    before = after;
                    before.policy.clear();
                } else {
                    before = resources_.at(step.name);
                    for (const auto& m : after.members) {
                        if (std::find(before.members.begin(), before.members.end(), m) ==
                            before.members.end()) {
                            ev.push_back(tx.append(
                                event(E::ResourceChanged, step.name, "member added " + m, file)));
                        }
                    }
                    for (const auto& m : before.members) {
                        if (std::find(after.members.begin(), after.members.end(), m) ==
                            after.members.end()) {
                            ev.push_back(tx.append(
                                event(E::ResourceChanged, step.name, "member removed " + m, file)));
                        }
                    }
                    Resource rest = before;
                    rest.members = after.members;
                    rest.policy = after.policy;
                    if (std::string change = describe_change(rest, after); !change.empty()) {
                        ev.push_back(tx.append(
                            event(E::ResourceChanged, step.name, "changed " + change, file)));
                    }
                }
                if (before.policy != after.policy) {
                    if (after.policy.empty()) {
                        ev.push_back(tx.append(event(E::PolicyChanged, before.policy,
                                                     "unassigned from " + step.name, file)));
                    } else {
                        ev.push_back(tx.append(event(E::PolicyChanged, after.policy,
                                                     "assigned to " + step.name, file)));
                    }
                }
            } else if (step.kind == "resource") {
                tx.remove_resource(step.name);
                access_changed = true;
                ev.push_back(tx.append(event(E::ResourceChanged, step.name, "removed", all_files)));
            } else {
                tx.remove_policy(step.name);
                ev.push_back(tx.append(event(E::PolicyChanged, step.name, "removed", all_files)));
            }
        }
    });

    for (const auto& step : plan) {
        if (step.kind == "policy") {
            if (step.op == PlanOp::Remove) {
                policies_.erase(step.name);
            } else {
                policies_[step.name] = desired.policies.at(step.name);
            }
        } else if (step.op == PlanOp::Remove) {
            index_.remove_rule(step.name);
            resources_.erase(step.name);
        } else {
            const Resource& resource = desired.resources.at(step.name);
            index_resource(resource);
            resources_[step.name] = resource;
        }
    }
    publish(events);
    if (access_changed) {
        effects_.access_changed();
    }
    return plan;
}

}  // namespace jit
