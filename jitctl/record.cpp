// SPDX-License-Identifier: Apache-2.0
#include "record.hpp"

#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "exit_status.hpp"
#include "jit/bus_contract.hpp"
#include "jit/time.hpp"

namespace jitctl {
namespace {

[[noreturn]] void throw_malformed(int r) {
    throw CommandError(kExitFailed, std::string("cannot read jitd's reply: ") +
                                        (r < 0 ? std::strerror(-r) : "unexpected end of data"));
}

int check_read(int r) {
    if (r < 0) {
        throw_malformed(r);
    }
    return r;
}

template <typename T>
T read_basic(sd_bus_message* message, char type) {
    T value{};
    check_read(sd_bus_message_read_basic(message, type, &value));
    return value;
}

// Reads a basic value as the JSON value of its C type T.
template <typename T>
Json read_as(sd_bus_message* message, char type) {
    return read_basic<T>(message, type);
}

Json read_boolean(sd_bus_message* message, char type) {
    return read_basic<int>(message, type) != 0;
}

Json read_text(sd_bus_message* message, char type) {
    return std::string(read_basic<const char*>(message, type));
}

struct BasicReader {
    char type;
    Json (*read)(sd_bus_message* message, char type);
};
constexpr BasicReader kBasicReaders[] = {
    {SD_BUS_TYPE_BYTE, read_as<std::uint8_t>},
    {SD_BUS_TYPE_BOOLEAN, read_boolean},
    {SD_BUS_TYPE_INT16, read_as<std::int16_t>},
    {SD_BUS_TYPE_UINT16, read_as<std::uint16_t>},
    {SD_BUS_TYPE_INT32, read_as<std::int32_t>},
    {SD_BUS_TYPE_UINT32, read_as<std::uint32_t>},
    {SD_BUS_TYPE_INT64, read_as<std::int64_t>},
    {SD_BUS_TYPE_UINT64, read_as<std::uint64_t>},
    {SD_BUS_TYPE_DOUBLE, read_as<double>},
    {SD_BUS_TYPE_UNIX_FD, read_as<int>},
    {SD_BUS_TYPE_STRING, read_text},
    {SD_BUS_TYPE_OBJECT_PATH, read_text},
    {SD_BUS_TYPE_SIGNATURE, read_text},
};

Json read_basic_value(sd_bus_message* message, char type) {
    for (const auto& reader : kBasicReaders) {
        if (reader.type == type) {
            return reader.read(message, type);
        }
    }
    throw CommandError(kExitFailed,
                       std::string("cannot read jitd's reply: unknown type '") + type + "'");
}

void enter(sd_bus_message* message, char type, const char* contents) {
    if (check_read(sd_bus_message_enter_container(message, type, contents)) == 0) {
        throw_malformed(0);
    }
}

void leave(sd_bus_message* message) {
    check_read(sd_bus_message_exit_container(message));
}

bool at_end(sd_bus_message* message) {
    return check_read(sd_bus_message_at_end(message, 0)) > 0;
}

// contents is the element signature, e.g. "{sv}".
Json read_dictionary(sd_bus_message* message, const char* contents) {
    const std::string entry(contents + 1, std::strlen(contents) - 2);  // "sv"
    Json object = Json::object();
    enter(message, SD_BUS_TYPE_ARRAY, contents);
    while (check_read(sd_bus_message_enter_container(message, SD_BUS_TYPE_DICT_ENTRY,
                                                     entry.c_str())) > 0) {
        const Json key = read_value(message);
        Json value = read_value(message);
        object[key.is_string() ? key.get<std::string>() : key.dump()] = std::move(value);
        leave(message);
    }
    leave(message);
    return object;
}

Json read_sequence(sd_bus_message* message, char type, const char* contents) {
    Json array = Json::array();
    enter(message, type, contents);
    while (!at_end(message)) {
        array.push_back(read_value(message));
    }
    leave(message);
    return array;
}

namespace keys = jit::bus::record;
using KeyList = std::span<const keys::KeyInfo>;

// The keys of each record (docs/jitctl.md), in order, from the bus contract
// (dbus/io.jitd.Jit1.xml). Lists default to [] and the rest to null.
struct KindKeys {
    RecordKind kind;
    KeyList keys;
};
constexpr KindKeys kSpecKeys[] = {
    {RecordKind::Status, keys::status::kKeys},
    {RecordKind::Resource, keys::resource::kKeys},
    {RecordKind::Policy, keys::policy::kKeys},
    {RecordKind::Request, keys::request::kKeys},
    {RecordKind::Grant, keys::grant::kKeys},
    {RecordKind::Session, keys::session::kKeys},
    {RecordKind::AuditEvent, keys::audit_event::kKeys},
    {RecordKind::Key, keys::key::kKeys},
    {RecordKind::Review, keys::review::kKeys},
};

KeyList spec_keys(RecordKind kind) {
    for (const auto& entry : kSpecKeys) {
        if (entry.kind == kind) {
            return entry.keys;
        }
    }
    return {};
}

bool is_list(const keys::KeyInfo& key) {
    return key.type == keys::Type::Strings || key.type == keys::Type::Int64s ||
           key.type == keys::Type::Records;
}

Json spec_value(std::string_view key, const Json& value) {
    if (is_time_key(key) && value.is_number_integer()) {
        return jit::format_rfc3339(value.get<jit::EpochSeconds>());
    }
    return value;
}

Json ordered(const Json& record, KeyList keys) {
    if (!record.is_object()) {
        return record;
    }
    Json out = Json::object();
    for (const auto& key : keys) {
        const auto it = record.find(key.name);
        if (it != record.end()) {
            out[key.name] = spec_value(key.name, *it);
        } else {
            out[key.name] = is_list(key) ? Json::array() : Json(nullptr);
        }
    }
    for (const auto& [key, value] : record.items()) {
        if (!out.contains(key)) {
            out[key] = spec_value(key, value);
        }
    }
    return out;
}

bool is_time_key_of(std::string_view key, KeyList keys) {
    for (const auto& known : keys) {
        if (known.is_time && key == known.name) {
            return true;
        }
    }
    return false;
}

}  // namespace

bool is_time_key(std::string_view key) {
    // The instants of the contract's records; expires (pending deadline) and ended are instants
    // jitd may add.
    if (key == "expires" || key == "ended" || is_time_key_of(key, keys::approval::kKeys)) {
        return true;
    }
    for (const auto kind : {RecordKind::Request, RecordKind::Grant, RecordKind::Session,
                            RecordKind::AuditEvent, RecordKind::Key, RecordKind::Review}) {
        if (is_time_key_of(key, spec_keys(kind))) {
            return true;
        }
    }
    return false;
}

Json read_value(sd_bus_message* message) {
    char type = 0;
    const char* contents = nullptr;
    if (check_read(sd_bus_message_peek_type(message, &type, &contents)) == 0) {
        throw_malformed(0);
    }
    switch (type) {
        case SD_BUS_TYPE_VARIANT: {
            enter(message, type, contents);
            Json value = read_value(message);
            leave(message);
            return value;
        }
        case SD_BUS_TYPE_ARRAY:
            if (contents[0] == SD_BUS_TYPE_DICT_ENTRY_BEGIN) {
                return read_dictionary(message, contents);
            }
            return read_sequence(message, type, contents);
        case SD_BUS_TYPE_STRUCT:
            return read_sequence(message, type, contents);
        default:
            return read_basic_value(message, type);
    }
}

Json to_spec_json(const Json& record, RecordKind kind) {
    Json out = ordered(record, spec_keys(kind));
    const char* approvals = keys::request::kApprovals.name;
    if (kind == RecordKind::Request && out.is_object() && out[approvals].is_array()) {
        for (auto& approval : out[approvals]) {
            approval = ordered(approval, keys::approval::kKeys);
        }
    }
    const char* review = keys::grant::kReview.name;
    if (kind == RecordKind::Grant && out.is_object() && out[review].is_object()) {
        out[review] = ordered(out[review], keys::review::kKeys);
    }
    return out;
}

Json to_spec_json_list(const Json& records, RecordKind kind) {
    Json out = Json::array();
    for (const auto& record : records) {
        out.push_back(to_spec_json(record, kind));
    }
    return out;
}

}  // namespace jitctl
