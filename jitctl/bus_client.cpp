// SPDX-License-Identifier: Apache-2.0
#include "bus_client.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>
#include <string_view>

#include "exit_status.hpp"
#include "jit/bus_names.hpp"
#include "jit/os.hpp"

namespace jitctl {
namespace {

using jit::sd::BusError;

struct ErrorMapping {
    std::string_view name;
    int status;
};

// The bus errors that mean "jitd is not there" or "the bus refused"; jitd's own errors are in
// the table of jit/bus_names.hpp.
constexpr ErrorMapping kBusErrorMappings[] = {
    {SD_BUS_ERROR_ACCESS_DENIED, kExitNotPermitted},
    {SD_BUS_ERROR_SERVICE_UNKNOWN, kExitUnreachable},
    {SD_BUS_ERROR_NAME_HAS_NO_OWNER, kExitUnreachable},
    {SD_BUS_ERROR_NO_REPLY, kExitUnreachable},
    {SD_BUS_ERROR_TIMEOUT, kExitUnreachable},
    {"org.freedesktop.DBus.Error.TimedOut", kExitUnreachable},
    {SD_BUS_ERROR_DISCONNECTED, kExitUnreachable},
    {SD_BUS_ERROR_NO_SERVER, kExitUnreachable},
    {SD_BUS_ERROR_NO_NETWORK, kExitUnreachable},
};

// The exit status an error name stands for, if it is one jitctl knows.
std::optional<int> status_for_name(std::string_view name) {
    for (const auto& kind : jit::bus::error_kinds()) {
        if (name == kind.name) {
            return kind.exit_status;
        }
    }
    for (const auto& mapping : kBusErrorMappings) {
        if (mapping.name == name) {
            return mapping.status;
        }
    }
    return std::nullopt;
}

bool is_unreachable_errno(int error) {
    switch (error) {
        case ETIMEDOUT:
        case ECONNRESET:
        case ECONNREFUSED:
        case ENOTCONN:
        case ENOENT:
        case EPIPE:
        case ESHUTDOWN:
        case EHOSTDOWN:
        case ENXIO:
            return true;
        default:
            return false;
    }
}

bool is_unreachable_name(std::string_view name) {
    return status_for_name(name) == kExitUnreachable;
}

// The one line the user sees. jitd's messages are already written for humans; the bus's own
// messages are replaced by what they mean for jitctl.
std::string describe_call_error(const std::string& method, const sd_bus_error& error, int r) {
    const std::string_view name = error.name != nullptr ? error.name : "";
    const std::string message = error.message != nullptr ? error.message : std::strerror(-r);
    if (name.starts_with(jit::bus::kErrorNamePrefix)) {
        return message;
    }
    if (name == SD_BUS_ERROR_SERVICE_UNKNOWN || name == SD_BUS_ERROR_NAME_HAS_NO_OWNER) {
        return "jitd is not running (nobody owns " + std::string(jit::bus::kServiceName) +
               " on the system bus)";
    }
    if (name == SD_BUS_ERROR_NO_REPLY || name == SD_BUS_ERROR_TIMEOUT || r == -ETIMEDOUT) {
        return "jitd did not answer " + method + " in time";
    }
    if (name == SD_BUS_ERROR_ACCESS_DENIED) {
        return "the system bus refused the call to " + method + ": " + message;
    }
    if (is_unreachable_name(name) || is_unreachable_errno(-r)) {
        return "cannot reach jitd: " + message;
    }
    return method + " failed: " + message;
}

}  // namespace

int exit_status_for_bus_error(const sd_bus_error& error, int r) {
    const std::string_view name = error.name != nullptr ? error.name : "";
    if (const auto status = status_for_name(name)) {
        return *status;
    }
    // Errors sd-bus raised locally carry an errno-derived name (or none); the errno says more.
    const bool local = name.empty() || name.starts_with("System.Error.");
    if (local && is_unreachable_errno(-r)) {
        return kExitUnreachable;
    }
    return kExitFailed;
}

void MethodCall::check_append(int r) {
    if (r >= 0) {
        return;
    }
    // sd-bus refuses strings that are not valid UTF-8 with EINVAL: the user's input is at fault.
    const int status = r == -EINVAL ? kExitInvalidInput : kExitFailed;
    throw CommandError(status, "cannot pass the arguments of " + method_ + " to jitd: " +
                                   std::strerror(-r) + " (text must be valid UTF-8)");
}

MethodCall& MethodCall::add_string(const std::string& value) {
    check_append(sd_bus_message_append_basic(message_.get(), SD_BUS_TYPE_STRING, value.c_str()));
    return *this;
}

MethodCall& MethodCall::add_strings(const std::vector<std::string>& values) {
    check_append(sd_bus_message_open_container(message_.get(), SD_BUS_TYPE_ARRAY, "s"));
    for (const auto& value : values) {
        add_string(value);
    }
    check_append(sd_bus_message_close_container(message_.get()));
    return *this;
}

MethodCall& MethodCall::add_int32(std::int32_t value) {
    check_append(sd_bus_message_append_basic(message_.get(), SD_BUS_TYPE_INT32, &value));
    return *this;
}

MethodCall& MethodCall::add_int64(std::int64_t value) {
    check_append(sd_bus_message_append_basic(message_.get(), SD_BUS_TYPE_INT64, &value));
    return *this;
}

MethodCall& MethodCall::add_bool(bool value) {
    const int boolean = value ? 1 : 0;
    check_append(sd_bus_message_append_basic(message_.get(), SD_BUS_TYPE_BOOLEAN, &boolean));
    return *this;
}

BusClient BusClient::connect() {
    sd_bus* bus = nullptr;
    const int r = sd_bus_open_system(&bus);
    if (r < 0) {
        throw CommandError(kExitUnreachable,
                           std::string("cannot connect to the system bus: ") + std::strerror(-r));
    }
    return BusClient(BusPtr(bus));
}

MethodCall BusClient::method(const jit::bus::Member& member) {
    sd_bus_message* message = nullptr;
    const int r =
        sd_bus_message_new_method_call(bus_.get(), &message, jit::bus::kServiceName,
                                       jit::bus::kObjectPath, member.interface, member.name);
    if (r < 0) {
        const sd_bus_error no_error{};
        throw CommandError(exit_status_for_bus_error(no_error, r),
                           std::string("cannot call ") + member.name + ": " + std::strerror(-r));
    }
    return MethodCall(MessagePtr(message), member);
}

MessagePtr BusClient::call(const MethodCall& call, std::uint64_t timeout_usec) {
    // Arguments that do not follow the contract are jitctl's own bug: say so rather than let
    // jitd answer with an invalid-arguments error.
    const char* signature = sd_bus_message_get_signature(call.message(), 1);
    if (signature == nullptr || std::string_view(signature) != call.member().in) {
        throw CommandError(kExitFailed, "internal error: the arguments of " + call.method() +
                                            " do not follow its signature");
    }
    BusError error;
    sd_bus_message* reply = nullptr;
    const int r = sd_bus_call(bus_.get(), call.message(), timeout_usec, error.get(), &reply);
    if (r < 0) {
        throw CommandError(exit_status_for_bus_error(*error, r),
                           describe_call_error(call.method(), *error, r));
    }
    return MessagePtr(reply);
}

RequestDecisionWatch::RequestDecisionWatch(BusClient& bus) : bus_(bus) {
    sd_bus_slot* slot = nullptr;
    // Synchronous AddMatch: once this returns, the bus routes the signal to us.
    const int r = sd_bus_match_signal(bus_.get(), &slot, jit::bus::kServiceName,
                                      jit::bus::kObjectPath, api::kRequestDecided.interface,
                                      api::kRequestDecided.name, on_request_decided, this);
    if (r < 0) {
        throw CommandError(kExitUnreachable, std::string("cannot subscribe to jitd's ") +
                                                 api::kRequestDecided.name +
                                                 " signal: " + std::strerror(-r));
    }
    slot_.reset(slot);
    slot = nullptr;
    const int owner =
        sd_bus_match_signal(bus_.get(), &slot, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                            "org.freedesktop.DBus", "NameOwnerChanged", on_owner_changed, this);
    if (owner < 0) {
        throw CommandError(kExitUnreachable,
                           std::string("cannot watch jitd's bus name: ") + std::strerror(-owner));
    }
    owner_slot_.reset(slot);
}

int RequestDecisionWatch::on_owner_changed(sd_bus_message* message, void* userdata,
                                           sd_bus_error* /*error*/) {
    const char* name = nullptr;
    const char* old_owner = nullptr;
    const char* new_owner = nullptr;
    if (sd_bus_message_read(message, "sss", &name, &old_owner, &new_owner) >= 0 &&
        std::string_view(name) == jit::bus::kServiceName && *new_owner == '\0') {
        static_cast<RequestDecisionWatch*>(userdata)->jitd_gone_ = true;
    }
    return 0;
}

int RequestDecisionWatch::on_request_decided(sd_bus_message* message, void* userdata,
                                             sd_bus_error* /*error*/) {
    auto* watch = static_cast<RequestDecisionWatch*>(userdata);
    std::int64_t id = 0;
    const char* state = nullptr;
    // A malformed signal is not ours to fail on; keep waiting for a good one.
    if (sd_bus_message_read(message, api::kRequestDecided.out, &id, &state) >= 0 &&
        id == watch->awaited_id_) {
        watch->decided_state_ = state;
    }
    return 0;
}

std::optional<std::string> RequestDecisionWatch::wait(jit::Id id,
                                                      std::optional<std::uint64_t> deadline_usec) {
    awaited_id_ = id;
    decided_state_.reset();
    for (;;) {
        int r = sd_bus_process(bus_.get(), nullptr);
        if (r < 0) {
            throw CommandError(kExitUnreachable, "lost the system bus while waiting for request " +
                                                     std::to_string(id) + ": " + std::strerror(-r));
        }
        if (decided_state_) {
            return decided_state_;
        }
        if (jitd_gone_) {
            throw CommandError(kExitUnreachable,
                               "jitd left the bus while waiting for request " + std::to_string(id));
        }
        if (r > 0) {
            continue;  // more queued messages may be waiting
        }
        std::uint64_t timeout = UINT64_MAX;
        if (deadline_usec) {
            const std::uint64_t now = jit::monotonic_usec();
            if (now >= *deadline_usec) {
                return std::nullopt;
            }
            timeout = *deadline_usec - now;
        }
        r = sd_bus_wait(bus_.get(), timeout);
        if (r < 0 && r != -EINTR) {
            throw CommandError(kExitUnreachable, "lost the system bus while waiting for request " +
                                                     std::to_string(id) + ": " + std::strerror(-r));
        }
    }
}

std::uint64_t monotonic_deadline_after(std::uint64_t usec) {
    return jit::monotonic_usec() + usec;
}

}  // namespace jitctl
