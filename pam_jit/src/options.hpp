// SPDX-License-Identifier: Apache-2.0
// The module arguments (pam_jit(8)), parsed without PAM so that they can be tested alone.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace jit::pam {

enum class FailMode { Closed, Open };

inline constexpr std::uint64_t kDefaultTimeoutUsec = 2'000'000;
inline constexpr std::uint64_t kMaxTimeoutUsec = 3600ULL * 1'000'000;
inline constexpr const char* kDefaultSnapshot = "/var/lib/jitd/snapshot";

struct Options {
    FailMode fail = FailMode::Closed;
    std::uint64_t timeout_usec = kDefaultTimeoutUsec;  // the whole conversation with jitd
    std::string snapshot = kDefaultSnapshot;
    std::vector<std::string> exempt;  // "user" or "@group", decided without jitd
    bool quiet = false;               // nothing through the conversation
    bool debug = false;
};

struct ParsedOptions {
    Options options;
    // One line per ignored argument (unknown, or a bad value that left the default in place).
    std::vector<std::string> problems;
};

ParsedOptions parse_options(int argc, const char** argv);

// timeout= takes a time span as jit::parse_duration reads it ("2s", "1min") or whole
// milliseconds ("500ms"), between 1ms and 1h. Throws JitError(InvalidInput).
std::uint64_t parse_timeout_usec(std::string_view text);

// True when user, or one of the groups (fetched only when the list names a group), is exempt.
bool is_exempt(const std::vector<std::string>& exempt, const std::string& user,
               const std::function<std::vector<std::string>()>& groups);

}  // namespace jit::pam
