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

void append_record(sd_bus_message* message, const jit::Request& request) {
    DictWriter dict(message);
    dict.put(keys::request::kId, request.id);
    dict.put(keys::request::kResource, request.resource);
    dict.put(keys::request::kRequester, request.requester);
    dict.put(keys::request::kReason, request.reason);
    dict.put(keys::request::kRequestedDuration, request.requested_duration);
    dict.put(keys::request::kDuration, request.duration);
    dict.put(keys::request::kCapped, request.capped);
    dict.put(keys::request::kState, std::string(jit::to_string(request.state)));
    dict.put(keys::request::kCreated, request.created);
    if (request.decided) {
        dict.put(keys::request::kDecided, *request.decided);
    }
    dict.put(keys::request::kApprovalsRequired, request.approvals_required);
    dict.begin_records(keys::request::kApprovals);
    append_records(
        message, request.approvals, [](sd_bus_message* m, const jit::Approval& approval) {
            DictWriter entry(m);
            entry.put(keys::approval::kApprover, approval.approver);
            entry.put(keys::approval::kDecision, std::string(jit::to_string(approval.decision)));
            entry.put(keys::approval::kComment, approval.comment);
            entry.put(keys::approval::kTime, approval.time);
            entry.close();
        });
    dict.end_variant();
    if (request.grant_id) {
        dict.put(keys::request::kGrantId, *request.grant_id);
    }
    if (request.start) {
        dict.put(keys::request::kStart, *request.start);
    }
    if (request.extends) {
        dict.put(keys::request::kExtends, *request.extends);
    }
    dict.close();
}

void append_record(sd_bus_message* message, const jit::Grant& grant) {
    DictWriter dict(message);
    dict.put(keys::grant::kId, grant.id);
    dict.put(keys::grant::kRequestId, grant.request_id);
    dict.put(keys::grant::kUser, grant.user);
    dict.put(keys::grant::kResource, grant.resource);
    dict.put(keys::grant::kStart, grant.start);
    if (grant.expiry) {
        dict.put(keys::grant::kExpiry, *grant.expiry);
    }
    dict.put(keys::grant::kState, std::string(jit::to_string(grant.state)));
    dict.put(keys::grant::kExtensions, grant.extensions);
    if (grant.review) {
        dict.begin_record(keys::grant::kReview);
        append_review(message, grant.id, *grant.review);
        dict.end_variant();
    }
    dict.close();
}

void append_review(sd_bus_message* message, jit::Id grant_id, const jit::GrantReview& review) {
    std::vector<std::string> created;
    std::vector<std::string> changed;
    std::vector<std::string> removed;
    for (const std::string& line : jit::split_lines(review.changes)) {
        const std::string path = line.substr(1);
        if (line.front() == '+') {
            created.push_back(path);
        } else if (line.front() == '-') {
            removed.push_back(path);
        } else {
            changed.push_back(path);
        }
    }
    DictWriter dict(message);
    dict.put(keys::review::kGrantId, grant_id);
    dict.put(keys::review::kReviewedAt, review.reviewed_at);
    dict.put(keys::review::kCreated, created);
    dict.put(keys::review::kChanged, changed);
    dict.put(keys::review::kRemoved, removed);
    dict.put(keys::review::kIncomplete, review.incomplete);
    dict.close();
}

void append_record(sd_bus_message* message, const jit::ResourceView& view) {
    const jit::Resource& resource = view.resource;
    DictWriter dict(message);
    dict.put(keys::resource::kName, resource.name);
    dict.put(keys::resource::kDescription, resource.description);
    dict.put(keys::resource::kServices, resource.services);
    dict.put(keys::resource::kAccounts, resource.accounts);
    dict.put(keys::resource::kHosts, resource.hosts.empty()
                                         ? std::vector<std::string>{std::string(jit::kEveryHost)}
                                         : resource.hosts);
    dict.put(keys::resource::kMembers, resource.members);
    if (!resource.policy.empty()) {
        dict.put(keys::resource::kPolicy, resource.policy);
    }
    dict.put(keys::resource::kAccess, view.access);
    dict.close();
}

void append_record(sd_bus_message* message, const jit::PolicyView& view) {
    const jit::Policy& policy = view.policy;
    DictWriter dict(message);
    dict.put(keys::policy::kName, policy.name);
    dict.put(keys::policy::kDescription, policy.description);
    dict.put(keys::policy::kAction, std::string(jit::to_string(policy.action)));
    dict.put(keys::policy::kApprovers, policy.approvers);
    dict.put(keys::policy::kApprovalsRequired, policy.approvals_required);
    dict.put(keys::policy::kMaxDuration, policy.max_duration);
    dict.put(keys::policy::kAutoExpiry, policy.auto_expiry);
    dict.put(keys::policy::kRequestTtl, policy.request_ttl);
    dict.put(keys::policy::kActive, policy.active);
    dict.put(keys::policy::kResources, view.resources);
    if (!policy.reason_pattern.empty()) {
        dict.put(keys::policy::kReasonPattern, policy.reason_pattern);
    }
    dict.put(keys::policy::kReasonMinLength, policy.reason_min_length);
    dict.close();
}

void append_record(sd_bus_message* message, const jit::Session& session) {
    DictWriter dict(message);
    dict.put(keys::session::kId, session.id);
    dict.put(keys::session::kGrantId, session.grant_id);
    dict.put(keys::session::kUser, session.user);
    dict.put(keys::session::kTarget, session.target);
    dict.put(keys::session::kService, session.service);
    dict.put(keys::session::kRhost, session.rhost);
    dict.put(keys::session::kTty, session.tty);
    dict.put(keys::session::kPid, session.pid);
    dict.put(keys::session::kLogindSession, session.logind_session);
    dict.put(keys::session::kHost, session.host);
    dict.put(keys::session::kOpened, session.opened);
    if (session.closed) {
        dict.put(keys::session::kClosed, *session.closed);
    }
    dict.put(keys::session::kState, std::string(jit::to_string(session.state)));
    dict.close();
}

void append_record(sd_bus_message* message, const jit::PlanChange& change) {
    DictWriter dict(message);
    dict.put(keys::plan_change::kOp, std::string(jit::to_string(change.op)));
    dict.put(keys::plan_change::kKind, change.kind);
    dict.put(keys::plan_change::kName, change.name);
    dict.put(keys::plan_change::kChange, change.change);
    dict.close();
}

void append_record(sd_bus_message* message, const jit::SshKey& key) {
    DictWriter dict(message);
    dict.put(keys::key::kFingerprint, key.fingerprint);
    dict.put(keys::key::kUser, key.user);
    dict.put(keys::key::kType, key.type);
    dict.put(keys::key::kComment, key.comment);
    dict.put(keys::key::kAdded, key.added);
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
    dict.put(keys::audit_event::kSeq, event.seq);
    dict.put(keys::audit_event::kTime, event.time);
    dict.put(keys::audit_event::kEvent, event.event);
    for (const auto& [name, value] : event.fields) {
        append_audit_field(dict, audit_key(name), value);
    }
    dict.close();
}

}  // namespace jitd
