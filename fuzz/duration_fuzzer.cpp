// SPDX-License-Identifier: Apache-2.0
// parse_duration reads what admins and users type (jitctl --duration, jitd.conf); whatever it
// accepts lies in 1s..36500d and format_duration writes it back in a form it reads the same.
#include <cstdint>

#include "fuzz_support.hpp"
#include "jit/time.hpp"

namespace {

constexpr jit::Seconds kMaxDuration = 36500LL * 86400;

void check_round_trip(jit::Seconds seconds) {
    const std::string text = jit::format_duration(seconds);
    jit::fuzz::require(jit::parse_duration(text) == seconds,
                       "format_duration does not parse back: " + text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto parsed =
        jit::fuzz::parsed_or_refused(jit::parse_duration, jit::fuzz::as_text(data, size));
    if (parsed) {
        jit::fuzz::require(*parsed >= 1 && *parsed <= kMaxDuration, "accepted out of range");
        check_round_trip(*parsed);
    }
    // The first bytes as a number: any span formats without failing, one in range round-trips.
    const std::int64_t seconds = jit::fuzz::leading_int64(data, size);
    const std::string formatted = jit::format_duration(seconds);
    jit::fuzz::require(!formatted.empty(), "format_duration wrote nothing");
    const jit::Seconds in_range =
        1 + static_cast<jit::Seconds>(static_cast<std::uint64_t>(seconds) % kMaxDuration);
    check_round_trip(in_range);
    return 0;
}
