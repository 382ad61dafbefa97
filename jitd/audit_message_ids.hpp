// SPDX-License-Identifier: Apache-2.0
// The fixed journal MESSAGE_ID of each event type (docs/audit-events.md). These ids are a public
// interface: journal catalog entries and site filters (`journalctl MESSAGE_ID=...`) rely on
// them, so an id never changes once released; a new event type gets a new id.
#pragma once

#include <syslog.h>

#include <array>
#include <string_view>

namespace jitd {

struct AuditMessageType {
    std::string_view event;       // JIT_EVENT
    std::string_view message_id;  // 128-bit id, 32 lower-case hex digits
    int priority;                 // syslog PRIORITY of the journal entry
};

inline constexpr std::array<AuditMessageType, 18> kAuditMessageTypes = {{
    {"requested", "e9f5873d68fc4fa5ae3b943905ce457e", LOG_INFO},
    {"approved", "868f95f0fa224815af7afd9ca6de7ddd", LOG_INFO},
    {"denied", "9f411fd13f694d95854f3c5bdd96ea80", LOG_NOTICE},
    {"granted", "7f80eff6d4a9455498bb1ebdca00b675", LOG_NOTICE},
    {"expired", "e34f7d7bca9c4b818bfc3cc78f03e7a0", LOG_INFO},
    {"revoked", "c75b44b9607e415eb27831954f1e6fe5", LOG_NOTICE},
    {"cancelled", "7e043bb23b124f92b09fa0a4b30baadf", LOG_INFO},
    {"request_expired", "8be7e142450b4eb38ef141cafe5a0b3f", LOG_INFO},
    {"session_opened", "25d8ec6c710b431cb286db468abebccc", LOG_INFO},
    {"session_closed", "6e0a3d516efa473da23d0c8d9a7651ec", LOG_INFO},
    {"session_terminated", "1af52fab66d548ecb739679f2e16fcd1", LOG_NOTICE},
    {"login_denied", "c1460963da024fe9b86644bdd2973d1e", LOG_NOTICE},
    {"resource_changed", "25a2eafdc3f040d3ad57d6a755b69ec5", LOG_NOTICE},
    {"policy_changed", "6605f768783b4e4bbdc556a6c5b16a0a", LOG_NOTICE},
    {"login_fallback", "95c1af13673248999ae74f1ba827d001", LOG_WARNING},
    {"key_added", "023148e8fd00446e994a9cdd370acbaa", LOG_NOTICE},
    {"key_removed", "f34210e7aa084f3db833616affb683dd", LOG_NOTICE},
    {"extended", "92c9b6d3484f63959ab744c6e9a27bdf", LOG_NOTICE},
}};

// For an event type this build does not know (a newer database read by an older jitd).
inline constexpr AuditMessageType kOtherAuditMessageType = {"", "6ae8a834f20e4537a67b26578df5d4a2",
                                                            LOG_INFO};

constexpr const AuditMessageType& audit_message_type(std::string_view event) {
    for (const auto& type : kAuditMessageTypes) {
        if (type.event == event) {
            return type;
        }
    }
    return kOtherAuditMessageType;
}

}  // namespace jitd
