// SPDX-License-Identifier: Apache-2.0
#include "jit/model.hpp"

#include "jit/error.hpp"
#include "jit/validate.hpp"

namespace jit {

namespace {

template <typename Enum>
struct EnumName {
    Enum value;
    std::string_view name;
};

constexpr EnumName<PolicyAction> kPolicyActionNames[] = {
    {PolicyAction::RequireApproval, "require-approval"},
    {PolicyAction::AutoApprove, "auto-approve"},
};

constexpr EnumName<RequestState> kRequestStateNames[] = {
    {RequestState::Pending, "pending"}, {RequestState::Approved, "approved"},
    {RequestState::Denied, "denied"},   {RequestState::Cancelled, "cancelled"},
    {RequestState::Expired, "expired"},
};

constexpr EnumName<Decision> kDecisionNames[] = {
    {Decision::Approve, "approve"},
    {Decision::Deny, "deny"},
};

constexpr EnumName<GrantState> kGrantStateNames[] = {
    {GrantState::Scheduled, "scheduled"},
    {GrantState::Active, "active"},
    {GrantState::Expired, "expired"},
    {GrantState::Revoked, "revoked"},
};

constexpr EnumName<SessionState> kSessionStateNames[] = {
    {SessionState::Open, "open"},
    {SessionState::Closed, "closed"},
    {SessionState::Terminated, "terminated"},
};

template <typename Enum, std::size_t N>
std::string_view name_of(const EnumName<Enum> (&names)[N], Enum value) {
    for (const auto& entry : names) {
        if (entry.value == value) {
            return entry.name;
        }
    }
    return "unknown";  // only reachable through a value cast from outside the enum
}

template <typename Enum, std::size_t N>
Enum parse_name(const EnumName<Enum> (&names)[N], std::string_view what, std::string_view text) {
    std::string accepted;
    for (const auto& entry : names) {
        if (entry.name == text) {
            return entry.value;
        }
        accepted += (accepted.empty() ? "" : ", ") + std::string(entry.name);
    }
    throw_invalid("invalid " + std::string(what) + " " + quote_for_message(text) + " (use one of " +
                  accepted + ")");
}

// One netstring: "<length>:<bytes>,". The length prefix is what keeps the form unambiguous
// whatever bytes the item holds.
void append_item(std::string& out, std::string_view item) {
    out += std::to_string(item.size());
    out += ':';
    out += item;
    out += ',';
}

}  // namespace

const std::string* AuditEvent::field(std::string_view name) const {
    for (const auto& [field_name, value] : fields) {
        if (field_name == name) {
            return &value;
        }
    }
    return nullptr;
}

std::string_view to_string(PolicyAction action) {
    return name_of(kPolicyActionNames, action);
}

std::string_view to_string(RequestState state) {
    return name_of(kRequestStateNames, state);
}

std::string_view to_string(Decision decision) {
    return name_of(kDecisionNames, decision);
}

std::string_view to_string(GrantState state) {
    return name_of(kGrantStateNames, state);
}

std::string_view to_string(SessionState state) {
    return name_of(kSessionStateNames, state);
}

PolicyAction parse_policy_action(std::string_view text) {
    return parse_name(kPolicyActionNames, "policy action", text);
}

RequestState parse_request_state(std::string_view text) {
    return parse_name(kRequestStateNames, "request state", text);
}

Decision parse_decision(std::string_view text) {
    return parse_name(kDecisionNames, "decision", text);
}

GrantState parse_grant_state(std::string_view text) {
    return parse_name(kGrantStateNames, "grant state", text);
}

SessionState parse_session_state(std::string_view text) {
    return parse_name(kSessionStateNames, "session state", text);
}

// A version tag first, so a future form can never collide with this one; the field count
// before the fields, so the pairs cannot be mistaken for the trailing previous hash.
std::string audit_canonical_form(const AuditEvent& event) {
    std::string out;
    append_item(out, "jit-audit-v1");
    append_item(out, std::to_string(event.seq));
    append_item(out, std::to_string(event.time));
    append_item(out, event.event);
    append_item(out, std::to_string(event.fields.size()));
    for (const auto& [name, value] : event.fields) {
        append_item(out, name);
        append_item(out, value);
    }
    append_item(out, event.prev_hash);
    return out;
}

}  // namespace jit
