// SPDX-License-Identifier: Apache-2.0
// parse_timestamp reads --since/--until and expiry times (RFC 3339, a date or @EPOCH); an
// instant format_rfc3339 writes for a four-digit year parses back to the same instant.
#include <cstdint>

#include "fuzz_support.hpp"
#include "jit/time.hpp"

namespace {

// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the years RFC 3339 can write.
constexpr jit::EpochSeconds kFirstRfc3339 = -62167219200;
constexpr jit::EpochSeconds kLastRfc3339 = 253402300799;

void check_round_trip(jit::EpochSeconds instant) {
    const std::string text = jit::format_rfc3339(instant);
    jit::fuzz::require(text.size() == 20 && text.back() == 'Z', "not RFC 3339: " + text);
    jit::fuzz::require(jit::parse_timestamp(text) == instant,
                       "format_rfc3339 does not parse back: " + text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = jit::fuzz::as_text(data, size);
    const auto parsed = jit::fuzz::parsed_or_refused(jit::parse_timestamp, text);
    if (parsed && *parsed >= kFirstRfc3339 && *parsed <= kLastRfc3339) {
        check_round_trip(*parsed);
    } else if (parsed) {
        jit::fuzz::require(!text.empty() && text.front() == '@',
                           "a calendar date outside 0000..9999");
    }
    // Any instant formats; one in the four-digit years round-trips.
    const std::int64_t instant = jit::fuzz::leading_int64(data, size);
    jit::fuzz::require(!jit::format_rfc3339(instant).empty(), "format_rfc3339 wrote nothing");
    const auto span = static_cast<std::uint64_t>(kLastRfc3339 - kFirstRfc3339 + 1);
    check_round_trip(kFirstRfc3339 +
                     static_cast<jit::EpochSeconds>(static_cast<std::uint64_t>(instant) % span));
    return 0;
}
