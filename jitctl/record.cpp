// SPDX-License-Identifier: Apache-2.0
#include "record.hpp"

#include <cstring>
#include <string>
#include <string_view>

#include "exit_status.hpp"
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

Json read_basic_value(sd_bus_message* message, char type) {
    switch (type) {
        case SD_BUS_TYPE_BYTE:
            return read_basic<std::uint8_t>(message, type);
        case SD_BUS_TYPE_BOOLEAN:
            return read_basic<int>(message, type) != 0;
        case SD_BUS_TYPE_INT16:
            return read_basic<std::int16_t>(message, type);
        case SD_BUS_TYPE_UINT16:
            return read_basic<std::uint16_t>(message, type);
        case SD_BUS_TYPE_INT32:
            return read_basic<std::int32_t>(message, type);
        case SD_BUS_TYPE_UINT32:
            return read_basic<std::uint32_t>(message, type);
        case SD_BUS_TYPE_INT64:
            return read_basic<std::int64_t>(message, type);
        case SD_BUS_TYPE_UINT64:
            return read_basic<std::uint64_t>(message, type);
        case SD_BUS_TYPE_DOUBLE:
            return read_basic<double>(message, type);
        case SD_BUS_TYPE_UNIX_FD:
            return read_basic<int>(message, type);
        case SD_BUS_TYPE_STRING:
        case SD_BUS_TYPE_OBJECT_PATH:
        case SD_BUS_TYPE_SIGNATURE:
            return std::string(read_basic<const char*>(message, type));
        default:
            throw CommandError(
                kExitFailed, std::string("cannot read jitd's reply: unknown type '") + type + "'");
    }
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

// The keys of each record (docs/jitctl.md), in order. Lists default to [] and the rest to null.
struct SpecKey {
    const char* name;
    bool is_list = false;
};

const std::vector<SpecKey>& spec_keys(RecordKind kind) {
    static const std::vector<SpecKey> none;
    static const std::vector<SpecKey> resource = {
        {"name"},          {"description"}, {"services", true}, {"accounts", true},
        {"members", true}, {"policy"},      {"access"}};
    static const std::vector<SpecKey> policy = {{"name"},
                                                {"description"},
                                                {"action"},
                                                {"approvers", true},
                                                {"approvals_required"},
                                                {"max_duration"},
                                                {"auto_expiry"},
                                                {"request_ttl"},
                                                {"active"},
                                                {"resources", true}};
    static const std::vector<SpecKey> request = {{"id"},
                                                 {"resource"},
                                                 {"requester"},
                                                 {"reason"},
                                                 {"requested_duration"},
                                                 {"duration"},
                                                 {"capped"},
                                                 {"state"},
                                                 {"created"},
                                                 {"decided"},
                                                 {"approvals_required"},
                                                 {"approvals", true},
                                                 {"grant_id"}};
    static const std::vector<SpecKey> grant = {{"id"},    {"request_id"}, {"user"}, {"resource"},
                                               {"start"}, {"expiry"},     {"state"}};
    static const std::vector<SpecKey> session = {
        {"id"},  {"grant_id"}, {"user"},           {"target"}, {"service"}, {"rhost"},
        {"tty"}, {"pid"},      {"logind_session"}, {"opened"}, {"closed"},  {"state"}};
    static const std::vector<SpecKey> audit_event = {{"seq"}, {"time"}, {"event"}};
    static const std::vector<SpecKey> key = {
        {"fingerprint"}, {"user"}, {"type"}, {"comment"}, {"added"}};
    switch (kind) {
        case RecordKind::Resource:
            return resource;
        case RecordKind::Policy:
            return policy;
        case RecordKind::Request:
            return request;
        case RecordKind::Grant:
            return grant;
        case RecordKind::Session:
            return session;
        case RecordKind::AuditEvent:
            return audit_event;
        case RecordKind::Key:
            return key;
        case RecordKind::Status:
            break;
    }
    return none;
}

const std::vector<SpecKey>& approval_keys() {
    static const std::vector<SpecKey> keys = {{"approver"}, {"decision"}, {"comment"}, {"time"}};
    return keys;
}

Json spec_value(std::string_view key, const Json& value) {
    if (is_time_key(key) && value.is_number_integer()) {
        return jit::format_rfc3339(value.get<jit::EpochSeconds>());
    }
    return value;
}

Json ordered(const Json& record, const std::vector<SpecKey>& keys) {
    if (!record.is_object()) {
        return record;
    }
    Json out = Json::object();
    for (const auto& key : keys) {
        const auto it = record.find(key.name);
        if (it != record.end()) {
            out[key.name] = spec_value(key.name, *it);
        } else {
            out[key.name] = key.is_list ? Json::array() : Json(nullptr);
        }
    }
    for (const auto& [key, value] : record.items()) {
        if (!out.contains(key)) {
            out[key] = spec_value(key, value);
        }
    }
    return out;
}

}  // namespace

bool is_time_key(std::string_view key) {
    // created..time are documented; expires (pending deadline) and ended are instants jitd may add.
    static constexpr std::string_view kTimeKeys[] = {"created", "decided", "start", "expiry",
                                                     "opened",  "closed",  "time",  "expires",
                                                     "ended",   "added"};
    for (const auto time_key : kTimeKeys) {
        if (key == time_key) {
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
    if (kind == RecordKind::Request && out.is_object() && out["approvals"].is_array()) {
        for (auto& approval : out["approvals"]) {
            approval = ordered(approval, approval_keys());
        }
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
