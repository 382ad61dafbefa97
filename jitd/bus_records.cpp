// SPDX-License-Identifier: Apache-2.0
#include "bus_records.hpp"

#include <cctype>
#include <charconv>
#include <optional>
#include <string_view>

namespace jitd {

int check_sd_bus(int r, const char* what) {
    if (r < 0) {
        throw SdBusFailure(r, what);
    }
    return r;
}

DictWriter::DictWriter(sd_bus_message* message) : message_(message) {
    check_sd_bus(sd_bus_message_open_container(message_, 'a', "{sv}"), "open dictionary");
}

void DictWriter::begin_variant(const char* key, const char* signature) {
    check_sd_bus(sd_bus_message_open_container(message_, 'e', "sv"), "open entry");
    check_sd_bus(sd_bus_message_append_basic(message_, 's', key), "append key");
    check_sd_bus(sd_bus_message_open_container(message_, 'v', signature), "open variant");
}

void DictWriter::end_variant() {
    check_sd_bus(sd_bus_message_close_container(message_), "close variant");
    check_sd_bus(sd_bus_message_close_container(message_), "close entry");
}

void DictWriter::str(const char* key, const std::string& value) {
    check_sd_bus(sd_bus_message_append(message_, "{sv}", key, "s", value.c_str()), key);
}

void DictWriter::i64(const char* key, std::int64_t value) {
    check_sd_bus(sd_bus_message_append(message_, "{sv}", key, "x", value), key);
}

void DictWriter::i32(const char* key, std::int32_t value) {
    check_sd_bus(sd_bus_message_append(message_, "{sv}", key, "i", value), key);
}

void DictWriter::boolean(const char* key, bool value) {
    int b = value ? 1 : 0;
    check_sd_bus(sd_bus_message_append(message_, "{sv}", key, "b", b), key);
}

void DictWriter::strv(const char* key, const std::vector<std::string>& values) {
    begin_variant(key, "as");
    append_strv(message_, values);
    end_variant();
}

void DictWriter::close() {
    check_sd_bus(sd_bus_message_close_container(message_), "close dictionary");
}

void append_strv(sd_bus_message* message, const std::vector<std::string>& values) {
    check_sd_bus(sd_bus_message_open_container(message, 'a', "s"), "open string list");
    for (const auto& value : values) {
        check_sd_bus(sd_bus_message_append_basic(message, 's', value.c_str()), "append string");
    }
    check_sd_bus(sd_bus_message_close_container(message), "close string list");
}

void append_request(sd_bus_message* message, const jit::Request& request) {
    DictWriter dict(message);
    dict.i64("id", request.id);
    dict.str("resource", request.resource);
    dict.str("requester", request.requester);
    dict.str("reason", request.reason);
    dict.i64("requested_duration", request.requested_duration);
    dict.i64("duration", request.duration);
    dict.boolean("capped", request.capped);
    dict.str("state", std::string(jit::to_string(request.state)));
    dict.i64("created", request.created);
    if (request.decided) {
        dict.i64("decided", *request.decided);
    }
    dict.i32("approvals_required", request.approvals_required);
    dict.begin_variant("approvals", "aa{sv}");
    append_records(message, request.approvals,
                   [](sd_bus_message* m, const jit::Approval& approval) {
                       DictWriter entry(m);
                       entry.str("approver", approval.approver);
                       entry.str("decision", std::string(jit::to_string(approval.decision)));
                       entry.str("comment", approval.comment);
                       entry.i64("time", approval.time);
                       entry.close();
                   });
    dict.end_variant();
    if (request.grant_id) {
        dict.i64("grant_id", *request.grant_id);
    }
    dict.close();
}

void append_grant(sd_bus_message* message, const jit::Grant& grant) {
    DictWriter dict(message);
    dict.i64("id", grant.id);
    dict.i64("request_id", grant.request_id);
    dict.str("user", grant.user);
    dict.str("resource", grant.resource);
    dict.i64("start", grant.start);
    if (grant.expiry) {
        dict.i64("expiry", *grant.expiry);
    }
    dict.str("state", std::string(jit::to_string(grant.state)));
    dict.close();
}

void append_resource(sd_bus_message* message, const jit::ResourceView& view) {
    const jit::Resource& resource = view.resource;
    DictWriter dict(message);
    dict.str("name", resource.name);
    dict.str("description", resource.description);
    dict.strv("services", resource.services);
    dict.strv("accounts", resource.accounts);
    dict.strv("members", resource.members);
    if (!resource.policy.empty()) {
        dict.str("policy", resource.policy);
    }
    dict.str("access", view.access);
    dict.close();
}

void append_policy(sd_bus_message* message, const jit::PolicyView& view) {
    const jit::Policy& policy = view.policy;
    DictWriter dict(message);
    dict.str("name", policy.name);
    dict.str("description", policy.description);
    dict.str("action", std::string(jit::to_string(policy.action)));
    dict.strv("approvers", policy.approvers);
    dict.i32("approvals_required", policy.approvals_required);
    dict.i64("max_duration", policy.max_duration);
    dict.boolean("auto_expiry", policy.auto_expiry);
    dict.i64("request_ttl", policy.request_ttl);
    dict.boolean("active", policy.active);
    dict.strv("resources", view.resources);
    dict.close();
}

void append_session(sd_bus_message* message, const jit::Session& session) {
    DictWriter dict(message);
    dict.i64("id", session.id);
    dict.i64("grant_id", session.grant_id);
    dict.str("user", session.user);
    dict.str("target", session.target);
    dict.str("service", session.service);
    dict.str("rhost", session.rhost);
    dict.str("tty", session.tty);
    dict.i64("pid", session.pid);
    dict.str("logind_session", session.logind_session);
    dict.i64("opened", session.opened);
    if (session.closed) {
        dict.i64("closed", *session.closed);
    }
    dict.str("state", std::string(jit::to_string(session.state)));
    dict.close();
}

void append_key(sd_bus_message* message, const jit::SshKey& key) {
    DictWriter dict(message);
    dict.str("fingerprint", key.fingerprint);
    dict.str("user", key.user);
    dict.str("type", key.type);
    dict.str("comment", key.comment);
    dict.i64("added", key.added);
    dict.close();
}

namespace {

// JIT_REQUEST_ID -> request_id (lower case without the JIT_ prefix).
std::string audit_key(const std::string& field) {
    std::string key = field.rfind("JIT_", 0) == 0 ? field.substr(4) : field;
    for (char& c : key) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return key;
}

bool is_numeric_audit_key(std::string_view key) {
    return key == "request_id" || key == "grant_id" || key == "requested_duration" ||
           key == "duration" || key == "session_pid";
}

std::optional<std::int64_t> parse_int64(const std::string& text) {
    std::int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

// The journal and the store keep every field as text; over the bus numbers and flags get
// their JSON types like in the other records. A value that is not one ("" for no grant, or a
// row written by another version) stays the text it is.
void append_audit_field(DictWriter& dict, const std::string& key, const std::string& value) {
    if (is_numeric_audit_key(key)) {
        if (auto number = parse_int64(value)) {
            dict.i64(key.c_str(), *number);
            return;
        }
    } else if (key == "capped" && (value == "true" || value == "false")) {
        dict.boolean(key.c_str(), value == "true");
        return;
    }
    dict.str(key.c_str(), value);
}

}  // namespace

void append_audit_event(sd_bus_message* message, const jit::AuditEvent& event) {
    DictWriter dict(message);
    dict.i64("seq", event.seq);
    dict.i64("time", event.time);
    dict.str("event", event.event);
    for (const auto& [name, value] : event.fields) {
        append_audit_field(dict, audit_key(name), value);
    }
    dict.close();
}

}  // namespace jitd
