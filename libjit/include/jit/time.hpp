// SPDX-License-Identifier: Apache-2.0
// Durations and instants. All stored and transmitted times are UTC epoch seconds; nothing here
// reads TZ except format_local(), which only the CLI uses for human tables.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace jit {

using Seconds = std::int64_t;       // a duration
using EpochSeconds = std::int64_t;  // an instant, seconds since 1970-01-01T00:00:00Z

// Parses a systemd-like time span: "90s", "45min", "45m", "2h", "1d", "1h30m", "2h 30min".
// Units: s, sec, m, min, h, hr, d, also spelled out (second(s), minute(s), hour(s), day(s));
// lower case only, as in systemd. Components add up; blanks may separate them and a number from
// its unit. Rejects unit-less numbers, fractions, zero, negatives, anything over 100 years
// (36500d), unknown units and junk with a JitError(InvalidInput) that quotes the input.
Seconds parse_duration(std::string_view text);

// Formats a duration the way parse_duration reads it back: "2h 30min", "90s" -> "1min 30s".
std::string format_duration(Seconds seconds);

// RFC 3339 UTC with a Z suffix and whole seconds: 2026-11-26T14:05:00Z.
std::string format_rfc3339(EpochSeconds instant);

// Parses an RFC 3339 timestamp (Z or +hh:mm offset; fractional seconds dropped) or a plain
// date YYYY-MM-DD (midnight UTC) or "@EPOCH". JitError(InvalidInput) otherwise.
EpochSeconds parse_timestamp(std::string_view text);

// Local time for human tables, e.g. "2026-11-26 15:05:00 CET". Uses the process TZ.
std::string format_local(EpochSeconds instant);

}  // namespace jit
