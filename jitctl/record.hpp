// SPDX-License-Identifier: Apache-2.0
// jitd's records (a{sv} dictionaries, dbus/io.jitd.Jit1.xml) as JSON values, and their documented
// JSON form.
#pragma once

#include <systemd/sd-bus.h>

#include <nlohmann/json.hpp>

namespace jitctl {

// Keeps keys in the order jitd and docs/jitctl.md give them.
using Json = nlohmann::ordered_json;

// Reads the complete value at the read position of message, whatever its D-Bus type:
// variants are unwrapped, dictionaries become objects, other arrays and structs become arrays,
// integers stay integers (times stay epoch seconds). CommandError when the reply is malformed.
Json read_value(sd_bus_message* message);

enum class RecordKind {
    Status,
    Resource,
    Policy,
    Request,
    Grant,
    Session,
    AuditEvent,
    Key,
    Review
};

// The JSON form of a record (docs/jitctl.md) as read_value() returned it: those keys first, in
// order, null (or [] for lists) when jitd left them out; times as RFC 3339 UTC; then whatever
// further keys jitd sent, as they are.
Json to_spec_json(const Json& record, RecordKind kind);
// The same for each element of a list.
Json to_spec_json_list(const Json& records, RecordKind kind);

// Keys whose integer values are instants (epoch seconds) rather than counts or durations.
bool is_time_key(std::string_view key);

}  // namespace jitctl
