// SPDX-License-Identifier: Apache-2.0
// One-shot timers on jitd's event loop.
#pragma once

#include <systemd/sd-event.h>

#include <cstdint>
#include <ctime>

#include "sd_handles.hpp"

namespace jitd {

// Arms a one-shot timer that calls handler(userdata) `after_usec` from the loop's now
// (CLOCK_MONOTONIC); `timer` then owns it. Returns sd-event's result: < 0 when it is not armed,
// and then `timer` is left as it was.
inline int arm_timer(sd_event* event, EventSourcePtr& timer, std::uint64_t after_usec,
                     sd_event_time_handler_t handler, void* userdata) {
    sd_event_source* source = nullptr;
    const int r = sd_event_add_time_relative(event, &source, CLOCK_MONOTONIC, after_usec, 0,
                                             handler, userdata);
    if (r >= 0) {
        timer.reset(source);
    }
    return r;
}

}  // namespace jitd
