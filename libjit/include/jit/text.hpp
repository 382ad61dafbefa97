// SPDX-License-Identifier: Apache-2.0
// Small text helpers shared by the core, the module and the programs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace jit {

// The items with separator between them: {"a", "b"} -> "a,b"; {} -> "".
inline std::string join(const std::vector<std::string>& items, std::string_view separator = ",") {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out += separator;
        }
        out += item;
    }
    return out;
}

}  // namespace jit
