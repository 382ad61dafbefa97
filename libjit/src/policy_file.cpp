// SPDX-License-Identifier: Apache-2.0
// Reading and writing policy files (jit/policy_file.hpp) with toml11.
#include "jit/policy_file.hpp"

#include <toml.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <set>
#include <sstream>

#include "jit/error.hpp"
#include "jit/hosts.hpp"
#include "jit/reason_rules.hpp"
#include "jit/time.hpp"
#include "jit/validate.hpp"

namespace jit {
namespace {

constexpr std::int64_t kMaxApprovals = 100;

[[noreturn]] void fail(const std::string& file, std::uint_least32_t line, const std::string& key,
                       const std::string& what) {
    std::string message = make_printable(file, 256) + ":" + std::to_string(line) + ": ";
    if (!key.empty()) {
        message += make_printable(key, 256) + ": ";
    }
    throw JitError(ErrorCode::InvalidInput, message + make_printable(what, 512));
}

// The first line of a toml11 message, without its "[error] " prefix.
std::string first_line(const std::string& text) {
    std::string line = text.substr(0, text.find('\n'));
    const std::string prefix = "[error] ";
    if (line.rfind(prefix, 0) == 0) {
        line.erase(0, prefix.size());
    }
    return line;
}

// A value in a file, with what errors about it name.
struct Item {
    const toml::value& value;
    const std::string& file;
    std::string key;  // dotted: resources.db.members

    std::uint_least32_t line() const { return value.location().line(); }
    [[noreturn]] void fail(const std::string& what) const { jit::fail(file, line(), key, what); }

    // Runs a validator of jit/validate.hpp, rewording its refusal as one about this key.
    void check(const std::function<void()>& validate) const {
        try {
            validate();
        } catch (const JitError& e) {
            fail(e.what());
        }
    }

    std::string string() const {
        if (!value.is_string()) {
            fail("expected a string");
        }
        return value.as_string().str;
    }
    std::vector<std::string> strings() const {
        if (!value.is_array()) {
            fail("expected an array of strings");
        }
        std::vector<std::string> out;
        for (const auto& element : value.as_array()) {
            if (!element.is_string()) {
                jit::fail(file, element.location().line(), key, "expected an array of strings");
            }
            const std::string& text = element.as_string().str;
            if (std::find(out.begin(), out.end(), text) == out.end()) {
                out.push_back(text);
            }
        }
        return out;
    }
    std::string description() const {
        std::string text = string();
        check([&] { validate_text("description", text, kMaxDescriptionLength); });
        return text;
    }
    // An array of strings, each checked by validate; with empty_rule, one at least.
    template <class Validate>
    std::vector<std::string> strings(Validate validate, const char* empty_rule = nullptr) const {
        std::vector<std::string> values = strings();
        if (empty_rule != nullptr && values.empty()) {
            fail(empty_rule);
        }
        for (const auto& v : values) {
            check([&] { validate(v); });
        }
        return values;
    }
    std::int64_t integer(std::int64_t min, std::int64_t max) const {
        if (!value.is_integer()) {
            fail("expected an integer");
        }
        const std::int64_t n = value.as_integer();
        if (n < min || n > max) {
            fail("must be between " + std::to_string(min) + " and " + std::to_string(max));
        }
        return n;
    }
    bool boolean() const {
        if (!value.is_boolean()) {
            fail("expected true or false");
        }
        return value.as_boolean();
    }
    Seconds duration() const {
        const std::string text = string();
        Seconds seconds = 0;
        check([&] { seconds = parse_duration(text); });
        return seconds;
    }
};

const toml::table& table_of(const Item& item) {
    if (!item.value.is_table()) {
        item.fail("expected a table");
    }
    return item.value.as_table();
}

// The keys of a table in a stable order (toml11 keeps them unordered), with unknown ones refused.
std::vector<std::string> sorted_keys(const Item& item, const std::set<std::string>& known) {
    std::vector<std::string> keys;
    for (const auto& [key, value] : table_of(item)) {
        if (!known.empty() && known.count(key) == 0) {
            jit::fail(item.file, value.location().line(),
                      item.key.empty() ? key : item.key + "." + key,
                      item.key.empty() ? "unknown table (resources and policies are known)"
                                       : "unknown key");
        }
        keys.push_back(key);
    }
    std::sort(keys.begin(), keys.end());
    return keys;
}

const std::set<std::string> kResourceKeys = {"description", "services", "accounts",
                                             "members",     "hosts",    "policy"};
const std::set<std::string> kPolicyKeys = {
    "description", "action",      "approvers",      "approvals_required", "max_duration",
    "auto_expiry", "request_ttl", "reason_pattern", "reason_min_length",  "active"};

Resource read_resource(const Item& item, const std::string& name) {
    item.check([&] { validate_object_name("resource", name); });
    Resource resource;
    resource.name = name;
    resource.services = {"sshd", "sudo"};
    resource.hosts = {std::string(kEveryHost)};
    bool has_accounts = false;
    for (const auto& key : sorted_keys(item, kResourceKeys)) {
        const Item field{item.value.as_table().at(key), item.file, item.key + "." + key};
        if (key == "description") {
            resource.description = field.description();
        } else if (key == "services") {
            resource.services =
                field.strings([](const std::string& s) { validate_resource_service(s); },
                              "a resource needs at least one service");
        } else if (key == "accounts") {
            resource.accounts = field.strings([](const std::string& a) { validate_account(a); },
                                              "a resource needs at least one account");
            has_accounts = true;
        } else if (key == "members") {
            resource.members = field.strings([](const std::string& m) { validate_principal(m); });
        } else if (key == "hosts") {
            resource.hosts =
                field.strings([](const std::string& h) { validate_host_pattern(h); },
                              "a resource needs at least one host pattern (\"*\": every host)");
        } else if (key == "policy") {
            resource.policy = field.string();
            field.check([&] { validate_object_name("policy", resource.policy); });
        }
    }
    if (!has_accounts) {
        item.fail("accounts is missing: name the target accounts, or \"*\"");
    }
    return resource;
}

Policy read_policy(const Item& item, const std::string& name) {
    item.check([&] { validate_object_name("policy", name); });
    Policy policy;
    policy.name = name;
    policy.max_duration = 0;  // the applier's default
    policy.active = false;
    const toml::value* approvers_value = &item.value;  // its line, only when refused
    for (const auto& key : sorted_keys(item, kPolicyKeys)) {
        const Item field{item.value.as_table().at(key), item.file, item.key + "." + key};
        if (key == "description") {
            policy.description = field.description();
        } else if (key == "action") {
            const std::string action = field.string();
            field.check([&] { policy.action = parse_policy_action(action); });
        } else if (key == "approvers") {
            policy.approvers = field.strings([](const std::string& a) { validate_principal(a); });
            approvers_value = &field.value;
        } else if (key == "approvals_required") {
            policy.approvals_required = static_cast<int>(field.integer(1, kMaxApprovals));
        } else if (key == "max_duration") {
            policy.max_duration = field.duration();
        } else if (key == "auto_expiry") {
            policy.auto_expiry = field.boolean();
        } else if (key == "request_ttl") {
            policy.request_ttl = field.duration();
        } else if (key == "reason_pattern") {
            policy.reason_pattern = field.string();
            field.check([&] { validate_reason_pattern(policy.reason_pattern); });
        } else if (key == "reason_min_length") {
            const std::int64_t n = field.integer(0, INT32_MAX);
            field.check([&] { validate_reason_min_length(n); });
            policy.reason_min_length = static_cast<int>(n);
        } else if (key == "active") {
            policy.active = field.boolean();
        }
    }
    if (policy.action == PolicyAction::RequireApproval) {
        const std::string key = item.key + ".approvers";
        const auto approvers_line = [&] { return approvers_value->location().line(); };
        if (policy.approvers.empty()) {
            fail(item.file, approvers_line(), key, "a require-approval policy needs an approver");
        }
        const bool only_users = std::none_of(policy.approvers.begin(), policy.approvers.end(),
                                             [](const std::string& a) { return a[0] == '@'; });
        if (only_users &&
            static_cast<std::size_t>(policy.approvals_required) > policy.approvers.size()) {
            fail(item.file, approvers_line(), key,
                 "approvals_required (" + std::to_string(policy.approvals_required) +
                     ") exceeds the number of approvers (" +
                     std::to_string(policy.approvers.size()) + ")");
        }
    }
    return policy;
}

void read_file(const PolicySource& source, Configuration& out) {
    // TOML files are UTF-8. The TOML reader (toml11 3.7) overruns its buffer while reporting
    // malformed UTF-8 in a literal string, so such a file is refused before it is parsed.
    if (const std::size_t bad = first_invalid_utf8(source.text); bad != std::string::npos) {
        const auto line = 1 + std::count(source.text.begin(), source.text.begin() + bad, '\n');
        fail(source.name, static_cast<std::uint_least32_t>(line), "",
             "not UTF-8 (byte " + std::to_string(bad + 1) + ")");
    }
    toml::value document;
    try {
        std::istringstream in(source.text);
        document = toml::parse(in, source.name);
    } catch (const toml::exception& e) {
        fail(source.name, e.location().line(), "", "syntax error: " + first_line(e.what()));
    } catch (const std::exception& e) {
        fail(source.name, 1, "", "syntax error: " + first_line(e.what()));
    }
    const Item root{document, source.name, ""};
    for (const auto& section : sorted_keys(root, {"resources", "policies"})) {
        const Item objects{document.as_table().at(section), source.name, section};
        for (const auto& name : sorted_keys(objects, {})) {
            const Item object{objects.value.as_table().at(name), source.name, section + "." + name};
            table_of(object);
            if (section == "resources") {
                if (auto it = out.resource_files.find(name); it != out.resource_files.end()) {
                    object.fail("resource declared again (first in " + it->second + ")");
                }
                out.resources[name] = read_resource(object, name);
                out.resource_files[name] = source.name;
            } else {
                if (auto it = out.policy_files.find(name); it != out.policy_files.end()) {
                    object.fail("policy declared again (first in " + it->second + ")");
                }
                out.policies[name] = read_policy(object, name);
                out.policy_files[name] = source.name;
            }
        }
    }
}

// A TOML basic string.
std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char buffer[8];
                    std::snprintf(buffer, sizeof buffer, "\\u%04X", c);
                    out += buffer;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out + "\"";
}

// A table key: bare when TOML allows it, else quoted.
std::string key_text(const std::string& name) {
    const bool bare = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
    return bare ? name : quoted(name);
}

std::string string_array(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        out += (i ? ", " : "") + quoted(items[i]);
    }
    return out + "]";
}

}  // namespace

std::string Configuration::where(const std::string& key) const {
    // "policies.NAME.KEY": toml11 counts lines from the start of the file for every location it
    // is asked for, so lines are found here, for the one key a message is about.
    const auto first_dot = key.find('.');
    if (first_dot == std::string::npos) {
        return "";
    }
    const std::string section = key.substr(0, first_dot);
    const auto second_dot = key.find('.', first_dot + 1);
    const std::string name =
        key.substr(first_dot + 1, second_dot == std::string::npos ? std::string::npos
                                                                  : second_dot - first_dot - 1);
    const auto& files = section == "resources" ? resource_files : policy_files;
    const auto file = files.find(name);
    if (file == files.end()) {
        return "";
    }
    const auto text = texts.find(file->second);
    if (text == texts.end()) {
        return file->second + ": " + key + ": ";
    }
    try {
        std::istringstream in(text->second);
        const toml::value document = toml::parse(in, file->second);
        const toml::value& object = document.at(section).at(name);
        const std::string field = second_dot == std::string::npos ? "" : key.substr(second_dot + 1);
        const toml::value& at = !field.empty() && object.is_table() && object.contains(field)
                                    ? object.at(field)
                                    : object;
        return file->second + ":" + std::to_string(at.location().line()) + ": " + key + ": ";
    } catch (const std::exception&) {
        return file->second + ": " + key + ": ";
    }
}

Configuration parse_policy_files(const std::vector<PolicySource>& files) {
    if (files.size() > kMaxPolicyFiles) {
        throw JitError(ErrorCode::InvalidInput,
                       "too many policy files (at most " + std::to_string(kMaxPolicyFiles) + ")");
    }
    std::size_t bytes = 0;
    for (const auto& file : files) {
        bytes += file.text.size();
    }
    if (bytes > kMaxPolicyBytes) {
        throw JitError(ErrorCode::InvalidInput, "the policy files are too large (at most " +
                                                    std::to_string(kMaxPolicyBytes) + " bytes)");
    }
    Configuration out;
    for (const auto& file : files) {
        read_file(file, out);
        out.texts[file.name] = file.text;
    }
    return out;
}

std::string write_policy_file(const Configuration& configuration) {
    std::ostringstream out;
    out << "# jit configuration: policies and the resources they govern.\n"
           "# `jitctl apply FILE` makes jitd match this file; see docs/policy-as-code.md.\n";
    for (const auto& [name, p] : configuration.policies) {
        out << "\n[policies." << key_text(name) << "]\n"
            << "description = " << quoted(p.description) << "\n"
            << "action = " << quoted(std::string(to_string(p.action))) << "\n"
            << "approvers = " << string_array(p.approvers) << "\n"
            << "approvals_required = " << p.approvals_required << "\n"
            << (p.max_duration > 0
                    ? "max_duration = " + quoted(format_duration(p.max_duration)) + "\n"
                    : "")
            << "auto_expiry = " << (p.auto_expiry ? "true" : "false") << "\n"
            << "request_ttl = " << quoted(format_duration(p.request_ttl)) << "\n"
            << "reason_pattern = " << quoted(p.reason_pattern) << "\n"
            << "reason_min_length = " << p.reason_min_length << "\n"
            << "active = " << (p.active ? "true" : "false") << "\n";
    }
    for (const auto& [name, r] : configuration.resources) {
        out << "\n[resources." << key_text(name) << "]\n"
            << "description = " << quoted(r.description) << "\n"
            << "services = " << string_array(r.services) << "\n"
            << "accounts = " << string_array(r.accounts) << "\n"
            << "members = " << string_array(r.members) << "\n"
            << "hosts = "
            << string_array(r.hosts.empty() ? std::vector<std::string>{std::string(kEveryHost)}
                                            : r.hosts)
            << "\n";
        if (!r.policy.empty()) {
            out << "policy = " << quoted(r.policy) << "\n";
        }
    }
    return out.str();
}

}  // namespace jit
