// SPDX-License-Identifier: Apache-2.0
#include "jit/presets.hpp"

#include <iterator>
#include <string>

#include "jit/error.hpp"
#include "jit/validate.hpp"

namespace jit {
namespace {

const Preset kPresets[] = {
    {"routine-ops", 4 * 3600, "Routine ops task"},
    {"incident-response", 8 * 3600, "Incident response"},
    {"maintenance-window", 12 * 3600, "Maintenance window"},
    {"audit-review", 24 * 3600, "Audit review (read-only)"},
};

}  // namespace

const std::vector<Preset>& policy_presets() {
    static const std::vector<Preset> presets(std::begin(kPresets), std::end(kPresets));
    return presets;
}

const Preset& find_preset(std::string_view name) {
    for (const Preset& preset : policy_presets()) {
        if (name == preset.name) {
            return preset;
        }
    }
    throw_invalid("unknown preset " + quote_for_message(name) +
                  " (use routine-ops, incident-response, maintenance-window or audit-review)");
}

}  // namespace jit
