// SPDX-License-Identifier: Apache-2.0
#include "jit/reason_rules.hpp"

#include <regex.h>

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
