// SPDX-License-Identifier: Apache-2.0
// The audit events: one typed table of every event type (its JIT_EVENT name, its fixed journal
// MESSAGE_ID and priority, and the JIT_* fields it carries) and the builder the engine writes
// events with (docs/audit-events.md). Names, fields and MESSAGE_IDs are a public interface:
// journal catalog entries and site filters (`journalctl MESSAGE_ID=...`) rely on them, so an id
// never changes once released; a new event type gets a new id. cmake/check_catalog.cmake reads
// this table to check systemd/jitd.catalog.
#pragma once

#include <syslog.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jit/model.hpp"

namespace jit::audit {

// The JIT_* fields of events, besides JIT_EVENT (and JIT_SEQ, JIT_HASH, JIT_CHAIN, which the
// journal copy adds).
enum class Field : std::uint8_t {
    RequestId,
    GrantId,
    User,
    Target,
    Resource,
    Policy,
    Reason,
    RequestedDuration,
    Duration,
    Capped,
    Actor,
    ActorLogin,
    Comment,
    Start,
    Expiry,
    Object,
    Change,
    Service,
    Rhost,
    Tty,
    SessionPid,
    LogindSession,
    Fingerprint,
    ClosedBy,
    Outcome,
    Decided,
    PreviousExpiry,
    AppliedFrom,
    Host,
    Changed,
    ReviewIncomplete,
    ImportedFrom,
    ImportedSeq,
    ImportedHash,
    ImportedFile,
};

// JIT_REQUEST_ID, JIT_USER, ...
std::string_view field_name(Field field);

// A set of fields, one bit each.
class FieldSet {
  public:
    constexpr FieldSet() = default;
    constexpr FieldSet(std::initializer_list<Field> fields) {
        for (Field field : fields) {
            bits_ |= bit(field);
        }
    }
    constexpr bool contains(Field field) const { return (bits_ & bit(field)) != 0; }
    constexpr FieldSet operator+(FieldSet other) const {
        FieldSet sum;
        sum.bits_ = bits_ | other.bits_;
        return sum;
    }

  private:
    static constexpr std::uint64_t bit(Field field) {
        return std::uint64_t{1} << static_cast<unsigned>(field);
    }
    std::uint64_t bits_ = 0;
};

enum class Event : std::uint8_t {
    Requested,
    Approved,
    Denied,
    Granted,
    Expired,
    Revoked,
    Cancelled,
    RequestExpired,
    SessionOpened,
    SessionClosed,
    SessionTerminated,
    LoginDenied,
    ResourceChanged,
    PolicyChanged,
    LoginFallback,
    KeyAdded,
    KeyRemoved,
    Extended,
    GrantReview,
    Imported,
    Other,  // a type this build does not know (a newer database read by an older jitd)
};

struct EventType {
    Event event;
    std::string_view name;        // JIT_EVENT
    std::string_view message_id;  // 128-bit id, 32 lower-case hex digits
    int priority;                 // syslog PRIORITY of the journal entry
    FieldSet fields;              // the JIT_* fields it may carry
};

namespace detail {
using F = Field;
// Every event says which host's jitd wrote it; an action a caller took for its login user
// names that login too.
inline constexpr FieldSet kCommon = {F::Host};
inline constexpr FieldSet kByCaller = {F::Actor, F::ActorLogin};
inline constexpr FieldSet kDecision =
    kCommon + kByCaller + FieldSet{F::RequestId, F::User, F::Resource, F::Comment};
inline constexpr FieldSet kRequestEnd =
    kCommon + kByCaller + FieldSet{F::RequestId, F::User, F::Resource};
inline constexpr FieldSet kSession =
    kCommon + FieldSet{F::User,     F::Target,  F::Service,    F::Rhost,         F::Tty,
                       F::Resource, F::GrantId, F::SessionPid, F::LogindSession, F::Fingerprint};
// A change `jitctl apply` made names the policy file it came from (JIT_APPLIED_FROM).
inline constexpr FieldSet kChange =
    kCommon + kByCaller + FieldSet{F::Object, F::Change, F::AppliedFrom};
inline constexpr FieldSet kKey = kCommon + kByCaller + FieldSet{F::User, F::Fingerprint};
}  // namespace detail

// clang-format off
inline constexpr std::array<EventType, 20> kEventTypes = {{
    {Event::Requested, "requested", "e9f5873d68fc4fa5ae3b943905ce457e", LOG_INFO,
     detail::kCommon + FieldSet{Field::RequestId, Field::User, Field::Resource, Field::Policy,
                                Field::Reason, Field::RequestedDuration, Field::Duration,
                                Field::Capped, Field::ActorLogin}},
    {Event::Approved, "approved", "868f95f0fa224815af7afd9ca6de7ddd", LOG_INFO, detail::kDecision},
    {Event::Denied, "denied", "9f411fd13f694d95854f3c5bdd96ea80", LOG_NOTICE, detail::kDecision},
    {Event::Granted, "granted", "7f80eff6d4a9455498bb1ebdca00b675", LOG_NOTICE,
     detail::kCommon + FieldSet{Field::RequestId, Field::GrantId, Field::User, Field::Resource,
                                Field::Start, Field::Expiry}},
    {Event::Expired, "expired", "e34f7d7bca9c4b818bfc3cc78f03e7a0", LOG_INFO,
     detail::kCommon + FieldSet{Field::GrantId, Field::User, Field::Resource, Field::Expiry,
                                Field::Actor}},
    {Event::Revoked, "revoked", "c75b44b9607e415eb27831954f1e6fe5", LOG_NOTICE,
     detail::kCommon + detail::kByCaller + FieldSet{Field::GrantId, Field::User, Field::Resource,
                                                    Field::Reason}},
    {Event::Cancelled, "cancelled", "7e043bb23b124f92b09fa0a4b30baadf", LOG_INFO, detail::kRequestEnd},
    {Event::RequestExpired, "request_expired", "8be7e142450b4eb38ef141cafe5a0b3f", LOG_INFO, detail::kRequestEnd},
    {Event::SessionOpened, "session_opened", "25d8ec6c710b431cb286db468abebccc", LOG_INFO, detail::kSession},
    {Event::SessionClosed, "session_closed", "6e0a3d516efa473da23d0c8d9a7651ec", LOG_INFO,
     detail::kSession + FieldSet{Field::ClosedBy}},
    {Event::SessionTerminated, "session_terminated", "1af52fab66d548ecb739679f2e16fcd1", LOG_NOTICE, detail::kSession},
    {Event::LoginDenied, "login_denied", "c1460963da024fe9b86644bdd2973d1e", LOG_NOTICE, detail::kSession},
    {Event::ResourceChanged, "resource_changed", "25a2eafdc3f040d3ad57d6a755b69ec5", LOG_NOTICE, detail::kChange},
    {Event::PolicyChanged, "policy_changed", "6605f768783b4e4bbdc556a6c5b16a0a", LOG_NOTICE, detail::kChange},
    {Event::LoginFallback, "login_fallback", "95c1af13673248999ae74f1ba827d001", LOG_WARNING,
     detail::kCommon + FieldSet{Field::User, Field::Target, Field::Service, Field::Rhost,
                                Field::Tty, Field::Outcome, Field::Decided, Field::Fingerprint}},
    {Event::KeyAdded, "key_added", "023148e8fd00446e994a9cdd370acbaa", LOG_NOTICE, detail::kKey},
    {Event::KeyRemoved, "key_removed", "f34210e7aa084f3db833616affb683dd", LOG_NOTICE, detail::kKey},
    {Event::Extended, "extended", "92c9b6d3484f63959ab744c6e9a27bdf", LOG_NOTICE,
     detail::kCommon + FieldSet{Field::RequestId, Field::GrantId, Field::User, Field::Resource,
                                Field::PreviousExpiry, Field::Expiry}},
    {Event::GrantReview, "grant_review", "4169f44ff04f4ef0bad9b6c30b725f31", LOG_NOTICE,
     detail::kCommon + FieldSet{Field::GrantId, Field::User, Field::Resource, Field::Target,
                                Field::Changed, Field::ReviewIncomplete}},
    {Event::Imported, "imported", "9ed1027db0df41da954409b47f24f89d", LOG_NOTICE,
     detail::kCommon + detail::kByCaller + FieldSet{Field::ImportedFile, Field::ImportedFrom,
                                                    Field::ImportedSeq, Field::Change}},
}};

// For an event type this build does not know: one MESSAGE_ID for all of them.
inline constexpr EventType kOtherEventType = {Event::Other, "", "6ae8a834f20e4537a67b26578df5d4a2", LOG_INFO, {}};
// clang-format on

// The entry of a type (kOtherEventType for Other).
const EventType& event_type(Event event);
// The entry of a JIT_EVENT name, kOtherEventType when this build does not know it.
const EventType& event_type(std::string_view name);

using FieldValues = std::vector<std::pair<Field, std::string>>;

// An event of `event` at `time` with `fields` in this order (the order is hashed). A field the
// type does not carry is a bug in the engine: JitError Internal.
AuditEvent make_event(Event event, EpochSeconds time, const FieldValues& fields);
// Appends one more field to an event made by make_event, checked the same way.
void add_field(AuditEvent& event, Field field, std::string value);

}  // namespace jit::audit
