// SPDX-License-Identifier: Apache-2.0
// RAII owners for sd-bus and sd-event objects, shared by jitd, jitctl, pam_jit and the
// benchmarks, so every handle is released exactly once on every path. Kept out of jit_core:
// the domain core has no sd-bus types in it.
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include <memory>

namespace jit::sd {

template <auto Release>
struct Releaser {
    template <typename T>
    void operator()(T* handle) const {
        Release(handle);
    }
};

// flush_close_unref: queued signals and replies still go out (daemon, CLI).
using BusPtr = std::unique_ptr<sd_bus, Releaser<sd_bus_flush_close_unref>>;
// close_unref: never waits on a stalled peer (pam_jit, where a login must not hang).
using UnflushedBusPtr = std::unique_ptr<sd_bus, Releaser<sd_bus_close_unref>>;
using MessagePtr = std::unique_ptr<sd_bus_message, Releaser<sd_bus_message_unref>>;
using SlotPtr = std::unique_ptr<sd_bus_slot, Releaser<sd_bus_slot_unref>>;
using CredsPtr = std::unique_ptr<sd_bus_creds, Releaser<sd_bus_creds_unref>>;
using EventPtr = std::unique_ptr<sd_event, Releaser<sd_event_unref>>;
// disable_unref: a source released while its callback may still be pending never fires.
using EventSourcePtr = std::unique_ptr<sd_event_source, Releaser<sd_event_source_disable_unref>>;

// An sd_bus_error that frees its strings.
class BusError {
  public:
    BusError() = default;
    BusError(const BusError&) = delete;
    BusError& operator=(const BusError&) = delete;
    ~BusError() { sd_bus_error_free(&error_); }

    sd_bus_error* get() { return &error_; }
    const sd_bus_error& operator*() const { return error_; }
    const char* name() const { return error_.name; }
    const char* message() const { return error_.message ? error_.message : error_.name; }

  private:
    sd_bus_error error_ = SD_BUS_ERROR_NULL;
};

}  // namespace jit::sd
