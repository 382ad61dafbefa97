// SPDX-License-Identifier: Apache-2.0
#include "jit/hosts.hpp"

#include <fnmatch.h>

#include <string>

#include "jit/error.hpp"
#include "jit/validate.hpp"

namespace jit {

namespace {

constexpr std::size_t kMaxHostPatternLength = 253;

bool is_host_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

[[noreturn]] void reject_pattern(std::string_view pattern, const std::string& problem) {
    throw_invalid("invalid host pattern " + quote_for_message(pattern) + ": " + problem);
}

// The bracket expression that starts at pattern[open] ('['); returns the index of its ']'.
std::size_t bracket_end(std::string_view pattern, std::size_t open) {
    std::size_t i = open + 1;
    if (i < pattern.size() && pattern[i] == '!') {
        ++i;
    }
    const std::size_t first = i;
    for (; i < pattern.size() && pattern[i] != ']'; ++i) {
        if (!is_host_char(pattern[i])) {
            reject_pattern(pattern, "a bracket expression holds only letters, digits and '-'");
        }
    }
    if (i == pattern.size()) {
        reject_pattern(pattern, "'[' without its ']'");
    }
    if (i == first) {
        reject_pattern(pattern, "an empty bracket expression matches nothing");
    }
    return i;
}

}  // namespace

void validate_host_pattern(std::string_view pattern) {
    if (pattern.empty() || pattern.size() > kMaxHostPatternLength) {
        reject_pattern(pattern, "must have 1 to 253 characters");
    }
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '[') {
            i = bracket_end(pattern, i);
        } else if (c == ']') {
            reject_pattern(pattern, "']' without its '['");
        } else if (!is_host_char(c) && c != '.' && c != '*' && c != '?') {
            reject_pattern(pattern,
                           "only letters, digits, '-', '.' and the glob operators *, ? and "
                           "[...] are allowed");
        }
    }
}

bool host_matches(std::string_view pattern, std::string_view host) {
    // No FNM_PERIOD or FNM_PATHNAME: '*' runs across dots, so "web-*" matches web-1.example.org.
    return fnmatch(std::string(pattern).c_str(), std::string(host).c_str(), FNM_CASEFOLD) == 0;
}

bool applies_on_host(const std::vector<std::string>& patterns, std::string_view host) {
    if (patterns.empty()) {
        return true;
    }
    for (const auto& pattern : patterns) {
        if (host_matches(pattern, host)) {
            return true;
        }
    }
    return false;
}

}  // namespace jit
