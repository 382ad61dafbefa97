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

// The non-empty lines of text: "a\nb\n" -> {"a", "b"}.
inline std::vector<std::string> split_lines(std::string_view text) {
    std::vector<std::string> lines;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        if (end != 0) {
            lines.emplace_back(text.substr(0, end));
        }
        if (end == std::string_view::npos) {
            break;
        }
        text.remove_prefix(end + 1);
    }
    return lines;
}

// The value of c as a hex digit whose letters are written from ten ('a' or 'A': a digit of
// the other case is refused), or -1 when it is none.
constexpr int hex_digit_value(char c, char ten) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= ten && c < ten + 6) {
        return c - ten + 10;
    }
    return -1;
}

}  // namespace jit
