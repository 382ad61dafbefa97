// SPDX-License-Identifier: Apache-2.0
// What every fuzz target shares: a failed property aborts with a message (libFuzzer keeps the
// input as a crash file), and an error a parser throws must be one printable line, so hostile
// input can neither forge nor break a log line.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "jit/error.hpp"
#include "jit/validate.hpp"

namespace jit::fuzz {

[[noreturn]] inline void fail(std::string_view what) {
    std::fprintf(stderr, "fuzz property failed: %.*s\n", static_cast<int>(what.size()),
                 what.data());
    std::abort();
}

inline void require(bool holds, std::string_view what) {
    if (!holds) {
        fail(what);
    }
}

// Parsers of outside input refuse with InvalidInput and a printable one-line message.
inline void require_clean_refusal(const JitError& error) {
    require(error.code() == ErrorCode::InvalidInput,
            std::string("refused with another code than InvalidInput: ") + error.what());
    require(is_printable_text(error.what()),
            std::string("error message is not one printable line: ") + error.what());
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// What `parse(text)` returns, or nothing when it refused the text cleanly.
template <typename Parse>
auto parsed_or_refused(Parse parse, std::string_view text)
    -> std::optional<std::invoke_result_t<Parse&, std::string_view>> {
    try {
        return parse(text);
    } catch (const JitError& error) {
        require_clean_refusal(error);
    }
    return std::nullopt;
}

// The input's first eight bytes as a number (zeros where it is shorter).
inline std::int64_t leading_int64(const std::uint8_t* data, std::size_t size) {
    std::int64_t value = 0;
    std::memcpy(&value, data, std::min(size, sizeof value));
    return value;
}

}  // namespace jit::fuzz
