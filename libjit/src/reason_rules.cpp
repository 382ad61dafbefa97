// SPDX-License-Identifier: Apache-2.0
#include "jit/reason_rules.hpp"

#include <regex.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "jit/error.hpp"
#include "jit/validate.hpp"

namespace jit {
namespace {

// regcomp(3)'s compiled pattern, freed once.
class CompiledPattern {
  public:
    explicit CompiledPattern(const std::string& pattern) {
        const int r = regcomp(&regex_, pattern.c_str(), REG_EXTENDED | REG_NOSUB);
        if (r != 0) {
            char message[256];
            regerror(r, &regex_, message, sizeof message);
            throw_invalid("invalid --reason-pattern " + quote_for_message(pattern) + ": " +
                          message);
        }
    }
    ~CompiledPattern() { regfree(&regex_); }
    CompiledPattern(const CompiledPattern&) = delete;
    CompiledPattern& operator=(const CompiledPattern&) = delete;

    // True when some part of text matches (the reason must contain a match).
    bool found_in(const std::string& text) const {
        return regexec(&regex_, text.c_str(), 0, nullptr, 0) == 0;
    }

  private:
    regex_t regex_{};
};

// glibc's regcomp copies a subexpression once for each time a repetition may repeat it
// ("x+" is "xx*", "x{3}" is "xxx"), and a repetition of a repetition copies the copies:
// "[0-9]++++…" or "((x{50}){50}){50}" would take gigabytes. Each repetition weighs what it
// copies (+: 2, {m,n}: n + 1, {m,}: m + 1; * and ?: 1), and a pattern's weights multiply to at
// most kMaxRepetitionWeight, as if every repetition were nested in the others.
constexpr std::uint64_t kMaxRepetitionWeight = 4096;

// Where a bracket expression that starts at pattern[open] ends (the index of its ']').
std::size_t bracket_end(std::string_view pattern, std::size_t open) {
    std::size_t i = open + 1;
    if (i < pattern.size() && pattern[i] == '^') {
        ++i;
    }
    if (i < pattern.size() && pattern[i] == ']') {
        ++i;  // a ']' first is a member
    }
    for (; i < pattern.size() && pattern[i] != ']'; ++i) {
        // [:class:], [=equivalence=] and [.collating.] hold their own ']'.
        if (pattern[i] == '[' && i + 1 < pattern.size() &&
            (pattern[i + 1] == ':' || pattern[i + 1] == '=' || pattern[i + 1] == '.')) {
            const char kind = pattern[i + 1];
            const char end[] = {kind, ']', '\0'};
            const std::size_t close = pattern.find(end, i + 2);
            i = close == std::string_view::npos ? pattern.size() : close + 1;
        }
    }
    return i;
}

// The weight of the counted repetition "{m}", "{m,}" or "{m,n}" at pattern[open]; 1 when the
// brace does not start one.
std::uint64_t counted_weight(std::string_view pattern, std::size_t open) {
    std::uint64_t low = 0;
    std::uint64_t high = 0;
    bool comma = false;
    bool digits = false;
    for (std::size_t i = open + 1; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c >= '0' && c <= '9') {
            std::uint64_t& bound = comma ? high : low;
            bound = std::min<std::uint64_t>(bound * 10 + static_cast<std::uint64_t>(c - '0'),
                                            kMaxRepetitionWeight + 1);
            digits = true;
        } else if (c == ',' && !comma && digits) {
            comma = true;
        } else if (c == '}' && digits) {
            return std::max(low, high) + 1;
        } else {
            break;
        }
    }
    return 1;
}

void check_repetitions(std::string_view pattern) {
    std::uint64_t weight = 1;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\\') {
            ++i;
        } else if (c == '[') {
            i = bracket_end(pattern, i);
        } else if (c == '+') {
            weight *= 2;
        } else if (c == '{') {
            weight *= counted_weight(pattern, i);
        }
        if (weight > kMaxRepetitionWeight) {
            throw_invalid("invalid --reason-pattern " + quote_for_message(pattern) +
                          ": its repetitions repeat too much (+ counts 2, {m,n} n + 1; together "
                          "at most " +
                          std::to_string(kMaxRepetitionWeight) + ")");
        }
    }
}

std::size_t characters_in(std::string_view utf8) {
    std::size_t count = 0;
    for (char c : utf8) {
        count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // not a continuation byte
    }
    return count;
}

std::string of_policy(const ReasonRules& rules) {
    return rules.policy.empty() ? std::string() : " of policy \"" + rules.policy + "\"";
}

}  // namespace

void validate_reason_pattern(std::string_view pattern) {
    if (pattern.empty()) {
        return;
    }
    validate_text("--reason-pattern", pattern, kMaxReasonPatternLength);
    check_repetitions(pattern);
    CompiledPattern compiled{std::string(pattern)};
}

void validate_reason_min_length(std::int64_t n) {
    if (n < 0 || n > static_cast<std::int64_t>(kMaxReasonLength)) {
        throw_invalid("invalid --reason-min-length " + std::to_string(n) + ": use 0 to " +
                      std::to_string(kMaxReasonLength));
    }
}

void check_reason_rules(const ReasonRules& rules, std::string_view reason) {
    const std::size_t length = characters_in(reason);
    if (rules.min_length > 0 && length < static_cast<std::size_t>(rules.min_length)) {
        throw_invalid("the reason is " + std::to_string(length) + " characters, the rule " +
                      "reason-min-length" + of_policy(rules) + " asks for at least " +
                      std::to_string(rules.min_length));
    }
    if (!rules.pattern.empty() && !CompiledPattern(rules.pattern).found_in(std::string(reason))) {
        throw_invalid("the reason does not match the rule reason-pattern" + of_policy(rules) +
                      ": " + quote_for_message(rules.pattern));
    }
}

}  // namespace jit
