// SPDX-License-Identifier: Apache-2.0
// A policy's rules for the reason of a request (docs/concepts.md#reason-rules): a POSIX extended
// regular expression the reason must contain a match of, and a minimum length in characters.
// Shared by jitd (authoritative) and jitctl (early errors).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace jit {

constexpr std::size_t kMaxReasonPatternLength = 256;

struct ReasonRules {
    std::string pattern;      // "" = no pattern
    int min_length = 0;       // characters; 0 = none beyond the reason's own rules
    std::string policy = {};  // named in the errors
};

// Throws JitError(InvalidInput) naming --reason-pattern when the pattern is not printable text
// of at most kMaxReasonPatternLength characters or regcomp(3) refuses it as an extended one.
void validate_reason_pattern(std::string_view pattern);
// Throws JitError(InvalidInput) naming --reason-min-length unless 0 <= n <= kMaxReasonLength.
void validate_reason_min_length(std::int64_t n);

// Throws JitError(InvalidInput) naming the rule the reason breaks (reason-min-length first,
// then reason-pattern); returns when it keeps them.
void check_reason_rules(const ReasonRules& rules, std::string_view reason);

}  // namespace jit
