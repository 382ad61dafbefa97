// SPDX-License-Identifier: Apache-2.0
// The plan of `jitctl apply` (jit/policy_file.hpp): what it takes to go from the current
// configuration to the declared one.
#include <algorithm>
#include <map>

#include "jit/hosts.hpp"
#include "jit/policy_file.hpp"
#include "jit/text.hpp"
#include "jit/time.hpp"

namespace jit {
namespace {

std::string list_text(const std::vector<std::string>& items) {
    return items.empty() ? "(none)" : join(items);
}

std::string text_or_none(const std::string& text) {
    return text.empty() ? "(none)" : "\"" + text + "\"";
}

std::string yes_no(bool value) {
    return value ? "yes" : "no";
}

// "+bob -alice": what a set gained and lost.
std::string set_change(const std::vector<std::string>& before,
                       const std::vector<std::string>& after) {
    std::vector<std::string> parts;
    for (const auto& item : after) {
        if (std::find(before.begin(), before.end(), item) == before.end()) {
            parts.push_back("+" + item);
        }
    }
    for (const auto& item : before) {
        if (std::find(after.begin(), after.end(), item) == after.end()) {
            parts.push_back("-" + item);
        }
    }
    return join(parts, " ");
}

void add_part(std::vector<std::string>& parts, const std::string& key, const std::string& before,
              const std::string& after) {
    if (before != after) {
        parts.push_back(key + " " + before + " -> " + after);
    }
}

}  // namespace

std::string_view to_string(PlanOp op) {
    switch (op) {
        case PlanOp::Create:
            return "create";
        case PlanOp::Change:
            return "change";
        case PlanOp::Remove:
            return "remove";
    }
    return "change";
}

bool same_set(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    std::vector<std::string> x = a;
    std::vector<std::string> y = b;
    std::sort(x.begin(), x.end());
    x.erase(std::unique(x.begin(), x.end()), x.end());
    std::sort(y.begin(), y.end());
    y.erase(std::unique(y.begin(), y.end()), y.end());
    return x == y;
}

std::string describe_new(const Resource& r) {
    std::string text = "services=" + join(r.services) + " accounts=" + join(r.accounts) +
                       " members=" + join(r.members) + " hosts=" + join(host_patterns(r));
    if (!r.policy.empty()) {
        text += " policy=" + r.policy;
    }
    return text;
}

std::string describe_new(const Policy& p) {
    return "action=" + std::string(to_string(p.action)) + " approvers=" + join(p.approvers) +
           " approvals=" + std::to_string(p.approvals_required) +
           " max_duration=" + format_duration(p.max_duration) +
           " auto_expiry=" + yes_no(p.auto_expiry) +
           " request_ttl=" + format_duration(p.request_ttl) +
           (p.reason_pattern.empty() ? "" : " reason_pattern=" + p.reason_pattern) +
           (p.reason_min_length ? " reason_min_length=" + std::to_string(p.reason_min_length)
                                : "") +
           " active=" + yes_no(p.active);
}

std::string describe_change(const Resource& before, const Resource& after) {
    std::vector<std::string> parts;
    add_part(parts, "description", text_or_none(before.description),
             text_or_none(after.description));
    if (!same_set(before.services, after.services)) {
        add_part(parts, "services", list_text(before.services), list_text(after.services));
    }
    if (!same_set(before.accounts, after.accounts)) {
        add_part(parts, "accounts", list_text(before.accounts), list_text(after.accounts));
    }
    if (!same_set(before.members, after.members)) {
        parts.push_back("members " + set_change(before.members, after.members));
    }
    if (!same_set(host_patterns(before), host_patterns(after))) {
        add_part(parts, "hosts", list_text(host_patterns(before)), list_text(host_patterns(after)));
    }
    add_part(parts, "policy", before.policy.empty() ? "(none)" : before.policy,
             after.policy.empty() ? "(none)" : after.policy);
    return join(parts, "; ");
}

std::string describe_change(const Policy& before, const Policy& after) {
    std::vector<std::string> parts;
    add_part(parts, "description", text_or_none(before.description),
             text_or_none(after.description));
    add_part(parts, "action", std::string(to_string(before.action)),
             std::string(to_string(after.action)));
    if (!same_set(before.approvers, after.approvers)) {
        parts.push_back("approvers " + set_change(before.approvers, after.approvers));
    }
    add_part(parts, "approvals_required", std::to_string(before.approvals_required),
             std::to_string(after.approvals_required));
    add_part(parts, "max_duration", format_duration(before.max_duration),
             format_duration(after.max_duration));
    add_part(parts, "auto_expiry", yes_no(before.auto_expiry), yes_no(after.auto_expiry));
    add_part(parts, "request_ttl", format_duration(before.request_ttl),
             format_duration(after.request_ttl));
    add_part(parts, "reason_pattern", text_or_none(before.reason_pattern),
             text_or_none(after.reason_pattern));
    add_part(parts, "reason_min_length", std::to_string(before.reason_min_length),
             std::to_string(after.reason_min_length));
    add_part(parts, "active", yes_no(before.active), yes_no(after.active));
    return join(parts, "; ");
}

namespace {

// The objects of one kind that desired creates or changes.
template <class Model>
void plan_declared(std::vector<PlanChange>& plan, const char* kind,
                   const std::map<std::string, Model>& current,
                   const std::map<std::string, Model>& desired) {
    for (const auto& [name, object] : desired) {
        auto it = current.find(name);
        if (it == current.end()) {
            plan.push_back({PlanOp::Create, kind, name, describe_new(object)});
        } else if (std::string change = describe_change(it->second, object); !change.empty()) {
            plan.push_back({PlanOp::Change, kind, name, change});
        }
    }
}

// The objects of one kind that current has and desired does not declare.
template <class Model>
void plan_undeclared(std::vector<PlanChange>& plan, const char* kind,
                     const std::map<std::string, Model>& current,
                     const std::map<std::string, Model>& desired) {
    for (const auto& entry : current) {
        if (desired.count(entry.first) == 0) {
            plan.push_back({PlanOp::Remove, kind, entry.first, "removed"});
        }
    }
}

}  // namespace

std::vector<PlanChange> plan_configuration(const Configuration& current,
                                           const Configuration& desired, bool prune) {
    std::vector<PlanChange> plan;
    plan_declared(plan, "policy", current.policies, desired.policies);
    plan_declared(plan, "resource", current.resources, desired.resources);
    if (prune) {
        plan_undeclared(plan, "resource", current.resources, desired.resources);
        plan_undeclared(plan, "policy", current.policies, desired.policies);
    }
    return plan;
}

}  // namespace jit
