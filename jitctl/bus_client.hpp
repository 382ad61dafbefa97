// SPDX-License-Identifier: Apache-2.0
// jitctl's side of the io.jitd.Jit1 D-Bus contract: an RAII system-bus connection, method calls
// with an explicit timeout, and the mapping of D-Bus errors onto jitctl's exit statuses.
#pragma once

#include <systemd/sd-bus.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jit/bus_contract.hpp"
#include "jit/model.hpp"
#include "jit/sd_handles.hpp"

namespace jitctl {

using jit::sd::BusPtr;
using jit::sd::MessagePtr;
using jit::sd::SlotPtr;

// The methods jitctl calls: api::kGetStatus and the rest (dbus/io.jitd.Jit1.xml).
namespace api = jit::bus::manager;

// How long an ordinary method call may take before jitd counts as unreachable.
inline constexpr std::uint64_t kCallTimeoutUsec = 10'000'000;

// One io.jitd.Jit1.Manager method call under construction; arguments are appended in the
// order of the method's signature in dbus/io.jitd.Jit1.xml, which BusClient::call() checks.
class MethodCall {
  public:
    MethodCall& add_string(const std::string& value);                 // s
    MethodCall& add_strings(const std::vector<std::string>& values);  // as
    MethodCall& add_int32(std::int32_t value);                        // i
    MethodCall& add_int64(std::int64_t value);                        // x
    MethodCall& add_bool(bool value);                                 // b

    const std::string& method() const { return method_; }
    const jit::bus::Member& member() const { return member_; }
    sd_bus_message* message() const { return message_.get(); }

  private:
    friend class BusClient;
    MethodCall(MessagePtr message, const jit::bus::Member& member)
        : message_(std::move(message)), member_(member), method_(member.name) {}
    void check_append(int r);

    MessagePtr message_;
    jit::bus::Member member_;
    std::string method_;
};

class BusClient {
  public:
    // Connects to the system bus; DBUS_SYSTEM_BUS_ADDRESS is honoured. CommandError with
    // kExitUnreachable when there is no bus to talk to.
    static BusClient connect();

    MethodCall method(const jit::bus::Member& member);
    // Sends the call and waits up to timeout_usec for the reply. A D-Bus error becomes a
    // CommandError with the exit status docs/jitctl.md gives it and jitd's one-line message.
    MessagePtr call(const MethodCall& call, std::uint64_t timeout_usec = kCallTimeoutUsec);

    sd_bus* get() const { return bus_.get(); }

  private:
    explicit BusClient(BusPtr bus) : bus_(std::move(bus)) {}
    BusPtr bus_;
};

// The exit status a failed call stands for: the error's D-Bus name first, else the local errno
// (r < 0) sd-bus reported.
int exit_status_for_bus_error(const sd_bus_error& error, int r);

// A CLOCK_MONOTONIC deadline usec microseconds from now, for RequestDecisionWatch::wait().
std::uint64_t monotonic_deadline_after(std::uint64_t usec);

// Waits for jitd's RequestDecided signal. The match is installed on construction, before the
// request exists, so a decision cannot slip by between CreateRequest and the wait.
class RequestDecisionWatch {
  public:
    explicit RequestDecisionWatch(BusClient& bus);
    // The bus slot points at this object.
    RequestDecisionWatch(const RequestDecisionWatch&) = delete;
    RequestDecisionWatch& operator=(const RequestDecisionWatch&) = delete;

    // Dispatches bus messages until RequestDecided for id arrives (returns its state) or the
    // CLOCK_MONOTONIC deadline in microseconds passes (returns nullopt). No deadline: until
    // decided. jitd leaving the bus ends the wait (CommandError, exit 69): nobody would decide.
    std::optional<std::string> wait(jit::Id id, std::optional<std::uint64_t> deadline_usec);

  private:
    static int on_request_decided(sd_bus_message* message, void* userdata, sd_bus_error* error);
    static int on_owner_changed(sd_bus_message* message, void* userdata, sd_bus_error* error);

    BusClient& bus_;
    SlotPtr slot_;
    SlotPtr owner_slot_;
    jit::Id awaited_id_ = 0;
    std::optional<std::string> decided_state_;
    bool jitd_gone_ = false;
};

}  // namespace jitctl
