// SPDX-License-Identifier: Apache-2.0
#include "jit/audit_events.hpp"

#include "jit/error.hpp"

namespace jit::audit {

namespace {

constexpr std::string_view kFieldNames[] = {
    "JIT_REQUEST_ID",
    "JIT_GRANT_ID",
    "JIT_USER",
    "JIT_TARGET",
    "JIT_RESOURCE",
    "JIT_POLICY",
    "JIT_REASON",
    "JIT_REQUESTED_DURATION",
    "JIT_DURATION",
    "JIT_CAPPED",
    "JIT_ACTOR",
    "JIT_ACTOR_LOGIN",
    "JIT_COMMENT",
    "JIT_START",
    "JIT_EXPIRY",
    "JIT_OBJECT",
    "JIT_CHANGE",
    "JIT_SERVICE",
    "JIT_RHOST",
    "JIT_TTY",
    "JIT_SESSION_PID",
    "JIT_LOGIND_SESSION",
    "JIT_FINGERPRINT",
    "JIT_CLOSED_BY",
    "JIT_OUTCOME",
    "JIT_DECIDED",
    "JIT_PREVIOUS_EXPIRY",
    "JIT_APPLIED_FROM",
    "JIT_HOST",
    "JIT_CHANGED",
    "JIT_REVIEW_INCOMPLETE",
    "JIT_IMPORTED_FROM",
    "JIT_IMPORTED_SEQ",
    "JIT_IMPORTED_HASH",
    "JIT_IMPORTED_FILE",
};
static_assert(std::size(kFieldNames) == static_cast<std::size_t>(Field::ImportedFile) + 1,
              "one name for every Field");
static_assert(static_cast<std::size_t>(Field::ImportedFile) < 64, "a FieldSet has 64 bits");

void check_carries(const EventType& type, Field field) {
    if (!type.fields.contains(field)) {
        throw JitError(ErrorCode::Internal, "audit event " + std::string(type.name) +
                                                " does not carry " +
                                                std::string(field_name(field)));
    }
}

}  // namespace

std::string_view field_name(Field field) {
    return kFieldNames[static_cast<std::size_t>(field)];
}

const EventType& event_type(Event event) {
    for (const auto& type : kEventTypes) {
        if (type.event == event) {
            return type;
        }
    }
    return kOtherEventType;
}

const EventType& event_type(std::string_view name) {
    for (const auto& type : kEventTypes) {
        if (type.name == name) {
            return type;
        }
    }
    return kOtherEventType;
}

AuditEvent make_event(Event event, EpochSeconds time, const FieldValues& fields) {
    const EventType& type = event_type(event);
    AuditEvent made;
    made.time = time;
    made.event = std::string(type.name);
    for (const auto& [field, value] : fields) {
        check_carries(type, field);
        made.fields.emplace_back(std::string(field_name(field)), value);
    }
    return made;
}

void add_field(AuditEvent& event, Field field, std::string value) {
    check_carries(event_type(event.event), field);
    event.fields.emplace_back(std::string(field_name(field)), std::move(value));
}

}  // namespace jit::audit
