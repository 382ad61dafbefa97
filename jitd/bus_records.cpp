// SPDX-License-Identifier: Apache-2.0
#include "bus_records.hpp"

#include <cctype>
#include <charconv>
#include <optional>
#include <string_view>

#include "jit/hosts.hpp"
#include "jit/text.hpp"

namespace jitd {

namespace keys = jit::bus::record;

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

void DictWriter::put(Key<Type::Int64s> key, const std::vector<std::int64_t>& values) {
    begin_variant(key.name, "ax");
    check_sd_bus(sd_bus_message_open_container(message_, 'a', "x"), "open number list");
    for (std::int64_t value : values) {
        check_sd_bus(sd_bus_message_append_basic(message_, 'x', &value), "append number");
    }
    check_sd_bus(sd_bus_message_close_container(message_), "close number list");
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

void DictWriter::put(Key<Type::Record> key, const ReviewRecord& review) {
    begin_record(key);
    append_record(message_, review);
    end_variant();
}

namespace {

// The record writers: every key of the record (keys::KIND::kKeys) gets its value, in order.
template <const auto& Keys, typename... Values>
void append_fields(sd_bus_message* message, const Values&... values) {
    DictWriter dict(message);
    dict.put_all<Keys>(values...);
    dict.close();
}

// Text that is left out when empty (no policy, no reason pattern).
std::optional<std::string> unless_empty(const std::string& text) {
    return text.empty() ? std::nullopt : std::optional(text);
}

}  // namespace

void append_record(sd_bus_message* message, const jit::Request& r) {
    append_fields<keys::request::kKeys>(message, r.id, r.resource, r.requester, r.reason,
                                        r.requested_duration, r.duration, r.capped, r.state,
                                        r.created, r.decided, r.approvals_required, r.approvals,
                                        r.grant_id, r.start, r.extends);
}

void append_record(sd_bus_message* message, const jit::Approval& approval) {
    append_fields<keys::approval::kKeys>(message, approval.approver, approval.decision,
                                         approval.comment, approval.time);
}

void append_record(sd_bus_message* message, const jit::Grant& g) {
    const auto review = g.review ? std::optional(ReviewRecord{g.id, *g.review}) : std::nullopt;
    append_fields<keys::grant::kKeys>(message, g.id, g.request_id, g.user, g.resource, g.start,
                                      g.expiry, g.state, g.extensions, review);
}

void append_record(sd_bus_message* message, const ReviewRecord& record) {
    std::vector<std::string> created;
    std::vector<std::string> changed;
    std::vector<std::string> removed;
    for (const std::string& line : jit::split_lines(record.review.changes)) {
        const std::string path = line.substr(1);
        if (line.front() == '+') {
            created.push_back(path);
        } else if (line.front() == '-') {
            removed.push_back(path);
        } else {
            changed.push_back(path);
        }
    }
    append_fields<keys::review::kKeys>(message, record.grant_id, record.review.reviewed_at, created,
                                       changed, removed, record.review.incomplete);
}

void append_record(sd_bus_message* message, const jit::ResourceView& view) {
    const jit::Resource& r = view.resource;
    const std::vector<std::string> every_host{std::string(jit::kEveryHost)};
    append_fields<keys::resource::kKeys>(message, r.name, r.description, r.services, r.accounts,
                                         r.hosts.empty() ? every_host : r.hosts, r.members,
                                         unless_empty(r.policy), view.access);
}

void append_record(sd_bus_message* message, const jit::PolicyView& view) {
    const jit::Policy& p = view.policy;
    append_fields<keys::policy::kKeys>(message, p.name, p.description, p.action, p.approvers,
                                       p.approvals_required, p.max_duration, p.auto_expiry,
                                       p.request_ttl, p.active, view.resources,
                                       unless_empty(p.reason_pattern), p.reason_min_length);
}

void append_record(sd_bus_message* message, const jit::Session& s) {
    append_fields<keys::session::kKeys>(message, s.id, s.grant_id, s.user, s.target, s.service,
                                        s.rhost, s.tty, s.pid, s.logind_session, s.host, s.opened,
                                        s.closed, s.state);
}

void append_record(sd_bus_message* message, const jit::PlanChange& change) {
    append_fields<keys::plan_change::kKeys>(message, change.op, change.kind, change.name,
                                            change.change);
}

void append_record(sd_bus_message* message, const jit::SshKey& key) {
    append_fields<keys::key::kKeys>(message, key.fingerprint, key.user, key.type, key.comment,
                                    key.added);
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

// The type the contract gives an audit field (io.jitd.Contract.Record.AuditField), or String.
keys::Type audit_field_type(std::string_view key) {
    for (const auto& field : keys::audit_field::kKeys) {
        if (key == field.name) {
            return field.type;
        }
    }
    return keys::Type::String;
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
    const keys::Type type = audit_field_type(key);
    if (type == keys::Type::Int64) {
        if (auto number = parse_int64(value)) {
            dict.i64(key.c_str(), *number);
            return;
        }
    } else if (type == keys::Type::Boolean && (value == "true" || value == "false")) {
        dict.boolean(key.c_str(), value == "true");
        return;
    }
    dict.str(key.c_str(), value);
}

}  // namespace

void append_audit_event(sd_bus_message* message, const jit::AuditEvent& event) {
    DictWriter dict(message);
    dict.put_all<keys::audit_event::kKeys>(event.seq, event.time, event.event);
    for (const auto& [name, value] : event.fields) {
        append_audit_field(dict, audit_key(name), value);
    }
    dict.close();
}

}  // namespace jitd
