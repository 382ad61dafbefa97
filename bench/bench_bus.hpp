// SPDX-License-Identifier: Apache-2.0
// The bus calls the benchmarks make to jitd: a connection to the system bus (which honours
// DBUS_SYSTEM_BUS_ADDRESS) and one method call whose reply is dropped.
#pragma once

#include <systemd/sd-bus.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>

#include "jit/bus_names.hpp"
#include "jit/sd_handles.hpp"

namespace jit::bench {

// A new connection to the system bus; null (and why, on stderr) when there is none.
inline sd::BusPtr open_system_bus() {
    sd_bus* raw = nullptr;
    if (int r = sd_bus_open_system(&raw); r < 0) {
        std::fprintf(stderr, "cannot connect to the system bus: %s\n", std::strerror(-r));
    }
    return sd::BusPtr(raw);
}

// One call of INTERFACE.MEMBER on jitd's object, its arguments appended by `append` (if any),
// the reply dropped; false (and why, on stderr) on any error.
inline bool call_jitd(sd_bus* bus, const char* interface, const char* member,
                      const std::function<int(sd_bus_message*)>& append,
                      std::uint64_t timeout_usec) {
    sd_bus_message* m = nullptr;
    sd_bus_message* reply = nullptr;
    sd_bus_error error = SD_BUS_ERROR_NULL;
    int r = sd_bus_message_new_method_call(bus, &m, bus::kServiceName, bus::kObjectPath, interface,
                                           member);
    if (r >= 0 && append) {
        r = append(m);
    }
    if (r >= 0) {
        r = sd_bus_call(bus, m, timeout_usec, &error, &reply);
    }
    if (r < 0) {
        std::fprintf(stderr, "%s.%s to %s: %s\n", interface, member, bus::kServiceName,
                     error.message ? error.message : std::strerror(-r));
    }
    sd_bus_error_free(&error);
    sd_bus_message_unref(reply);
    sd_bus_message_unref(m);
    return r >= 0;
}

}  // namespace jit::bench
