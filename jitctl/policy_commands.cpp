// SPDX-License-Identifier: Apache-2.0
// jitctl export and jitctl apply: policy as code (docs/policy-as-code.md). The files are read
// and checked here first, so a broken one is refused (exit 65, file:line and key) before jitd is
// asked; jitd reads them again, makes the plan against its own state and applies it.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "bus_client.hpp"
#include "commands.hpp"
#include "exit_status.hpp"
#include "jit/policy_file.hpp"
#include "output.hpp"
#include "record.hpp"

namespace jitctl {
namespace {

namespace fs = std::filesystem;

// jitd reads a large configuration for longer than an ordinary call may take.
constexpr std::uint64_t kApplyTimeoutUsec = 60'000'000;

std::vector<std::string> strings_of(const Json& record, const char* key) {
    std::vector<std::string> out;
    if (record.contains(key) && record[key].is_array()) {
        for (const auto& item : record[key]) {
            out.push_back(item.get<std::string>());
        }
    }
    return out;
}

std::string string_of(const Json& record, const char* key) {
    return record.contains(key) && record[key].is_string() ? record[key].get<std::string>() : "";
}

template <typename T>
T number_of(const Json& record, const char* key, T fallback) {
    return record.contains(key) && record[key].is_number() ? record[key].get<T>() : fallback;
}

bool bool_of(const Json& record, const char* key) {
    return record.contains(key) && record[key].is_boolean() && record[key].get<bool>();
}

jit::Configuration configuration_of(const Json& resources, const Json& policies) {
    jit::Configuration out;
    for (const auto& r : resources) {
        jit::Resource resource;
        resource.name = string_of(r, "name");
        resource.description = string_of(r, "description");
        resource.services = strings_of(r, "services");
        resource.accounts = strings_of(r, "accounts");
        resource.members = strings_of(r, "members");
        resource.policy = string_of(r, "policy");
        out.resources[resource.name] = resource;
    }
    for (const auto& p : policies) {
        jit::Policy policy;
        policy.name = string_of(p, "name");
        policy.description = string_of(p, "description");
        policy.action = jit::parse_policy_action(string_of(p, "action"));
        policy.approvers = strings_of(p, "approvers");
        policy.approvals_required = number_of<int>(p, "approvals_required", 1);
        policy.max_duration = number_of<jit::Seconds>(p, "max_duration", 0);
        policy.auto_expiry = bool_of(p, "auto_expiry");
        policy.request_ttl = number_of<jit::Seconds>(p, "request_ttl", 0);
        policy.reason_pattern = string_of(p, "reason_pattern");
        policy.reason_min_length = number_of<int>(p, "reason_min_length", 0);
        policy.active = bool_of(p, "active");
        out.policies[policy.name] = policy;
    }
    return out;
}

jit::PolicySource read_source(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw CommandError(kExitInvalidInput, "cannot read " + printable(path.string()));
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().size() > jit::kMaxPolicyBytes) {
        throw CommandError(kExitInvalidInput, printable(path.string()) + " is too large");
    }
    return {path.string(), text.str()};
}

// FILE, or every *.toml directly in DIR, by name.
std::vector<jit::PolicySource> read_sources(const std::string& target) {
    std::error_code error;
    const fs::path path(target);
    if (!fs::is_directory(path, error)) {
        if (!fs::exists(path, error)) {
            throw CommandError(kExitInvalidInput,
                               "cannot read " + printable(target) + ": no such file or directory");
        }
        return {read_source(path)};
    }
    std::vector<fs::path> paths;
    for (const auto& entry : fs::directory_iterator(path, error)) {
        if (entry.path().extension() == ".toml" && entry.is_regular_file(error)) {
            paths.push_back(entry.path());
        }
    }
    if (error) {
        throw CommandError(kExitInvalidInput,
                           "cannot read " + printable(target) + ": " + error.message());
    }
    if (paths.empty()) {
        throw CommandError(kExitInvalidInput, printable(target) + " has no *.toml files");
    }
    if (paths.size() > jit::kMaxPolicyFiles) {
        throw CommandError(kExitInvalidInput, printable(target) + " has too many *.toml files");
    }
    std::sort(paths.begin(), paths.end());
    std::vector<jit::PolicySource> sources;
    for (const auto& p : paths) {
        sources.push_back(read_source(p));
    }
    return sources;
}

char op_mark(const std::string& op) {
    if (op == "create") {
        return '+';
    }
    return op == "remove" ? '-' : '~';
}

}  // namespace

int cmd_export(const Globals& globals) {
    auto bus = BusClient::connect();
    const MessagePtr resources_reply = bus.call(bus.method(api::kListResources));
    const Json resources = read_value(resources_reply.get());
    const MessagePtr policies_reply = bus.call(bus.method(api::kListPolicies));
    const Json policies = read_value(policies_reply.get());
    if (globals.json) {
        print_json(Json{{"policies", to_spec_json_list(policies, RecordKind::Policy)},
                        {"resources", to_spec_json_list(resources, RecordKind::Resource)}});
    } else {
        std::cout << jit::write_policy_file(configuration_of(resources, policies));
    }
    return kExitOk;
}

int cmd_apply(const Globals& globals, const ApplyArgs& args) {
    const std::vector<jit::PolicySource> sources = read_sources(args.target);
    jit::parse_policy_files(sources);  // refuses a broken file before jitd is asked
    std::vector<std::string> names;
    std::vector<std::string> texts;
    for (const auto& source : sources) {
        names.push_back(source.name);
        texts.push_back(source.text);
    }
    auto bus = BusClient::connect();
    const MessagePtr reply = bus.call(bus.method(api::kApplyConfiguration)
                                          .add_strings(names)
                                          .add_strings(texts)
                                          .add_bool(args.prune)
                                          .add_bool(args.dry_run),
                                      kApplyTimeoutUsec);
    const Json plan = read_value(reply.get());
    if (globals.json) {
        print_json(Json{{"plan", plan},
                        {"dry_run", args.dry_run},
                        {"applied", !args.dry_run && !plan.empty()}});
        return kExitOk;
    }
    if (plan.empty()) {
        std::cout << "No changes: jitd already matches " << printable(args.target) << ".\n";
        return kExitOk;
    }
    std::size_t created = 0, changed = 0, removed = 0;
    for (const auto& step : plan) {
        const std::string op = string_of(step, "op");
        created += op == "create";
        changed += op == "change";
        removed += op == "remove";
        std::cout << op_mark(op) << ' ' << printable(string_of(step, "kind")) << ' '
                  << printable(string_of(step, "name")) << ": "
                  << printable(string_of(step, "change")) << '\n';
    }
    if (args.dry_run) {
        std::cout << "Dry run, nothing applied: " << created << " to create, " << changed
                  << " to change, " << removed << " to remove.\n";
    } else {
        std::cout << "Applied: " << created << " created, " << changed << " changed, " << removed
                  << " removed.\n";
    }
    return kExitOk;
}

}  // namespace jitctl
