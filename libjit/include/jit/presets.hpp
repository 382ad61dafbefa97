// SPDX-License-Identifier: Apache-2.0
// The policy presets of `jitctl policy add --preset` (docs/durations-and-time.md): the seed's
// recommended maximum durations. In the core so that jitctl needs no engine to offer them.
#pragma once

#include <string_view>
#include <vector>

#include "jit/time.hpp"

namespace jit {

struct Preset {
    const char* name;
    Seconds max_duration;
    const char* description;
};

// routine-ops 4h, incident-response 8h, maintenance-window 12h, audit-review 24h.
const std::vector<Preset>& policy_presets();
const Preset& find_preset(std::string_view name);  // JitError(InvalidInput) if unknown

}  // namespace jit
