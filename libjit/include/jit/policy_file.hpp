// SPDX-License-Identifier: Apache-2.0
// Policy as code (docs/policy-as-code.md): resources and policies declared in TOML files, the
// same format `jitctl export` prints, and the plan that takes the current configuration to the
// declared one. Pure functions: jitctl reads the files with them to refuse a broken one early,
// jitd reads them again and applies the plan in one transaction.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "jit/model.hpp"

namespace jit {

// One file: the name errors and audit events show, and its contents.
struct PolicySource {
    std::string name;
    std::string text;
};

// Resources and policies by name. A resource's `policy` is its assignment ("" = none).
struct Configuration {
    std::map<std::string, Resource> resources;
    std::map<std::string, Policy> policies;
    // The file each declared object came from (not compared, not exported).
    std::map<std::string, std::string> resource_files;
    std::map<std::string, std::string> policy_files;
    // The files' contents by name, for where().
    std::map<std::string, std::string> texts;

    // "FILE:LINE: KEY: " for a message about a declared key (or its table when the key is
    // absent), "" when neither was declared.
    std::string where(const std::string& key) const;
};

// Bounds on what one apply may read.
inline constexpr std::size_t kMaxPolicyFiles = 256;
inline constexpr std::size_t kMaxPolicyBytes = 4 * 1024 * 1024;

// Reads the files as one configuration. A syntax error, an unknown table or key, a value of the
// wrong type or a bad value, or an object declared twice throws JitError(InvalidInput) with one
// line "FILE:LINE: KEY: what is wrong". A policy without max_duration gets max_duration 0, which
// the applier replaces with its default.
Configuration parse_policy_files(const std::vector<PolicySource>& files);

// The configuration as a TOML document that parse_policy_files() reads back to the same values.
std::string write_policy_file(const Configuration& configuration);

enum class PlanOp { Create, Change, Remove };
std::string_view to_string(PlanOp op);

// One step of a plan: kind "policy" or "resource"; `change` says what, in words
// ("members +bob -alice", "max_duration 4h -> 8h").
struct PlanChange {
    PlanOp op = PlanOp::Create;
    std::string kind;
    std::string name;
    std::string change;
};

// What applying `desired` to `current` does: creates and changes of the declared policies, then
// of the declared resources; with prune, removals of the resources and then the policies that
// `desired` does not declare. Lists compare as sets. An identical configuration: empty plan.
std::vector<PlanChange> plan_configuration(const Configuration& current,
                                           const Configuration& desired, bool prune);

// The differences between two versions of one object, in the words of PlanChange::change.
std::string describe_change(const Resource& before, const Resource& after);
std::string describe_change(const Policy& before, const Policy& after);
// A new object's settings in those words.
std::string describe_new(const Resource& resource);
std::string describe_new(const Policy& policy);

// Same members, ignoring order.
bool same_set(const std::vector<std::string>& a, const std::vector<std::string>& b);

}  // namespace jit
