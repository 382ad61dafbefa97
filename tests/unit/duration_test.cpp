// SPDX-License-Identifier: Apache-2.0
// parse_duration / format_duration: the systemd-like time spans of docs/durations-and-time.md.
#include <gtest/gtest.h>

#include <string>

#include "jit/error.hpp"
#include "jit/time.hpp"
#include "rejection.hpp"

namespace jit {
namespace {

constexpr Seconds kMinute = 60;
constexpr Seconds kHour = 3600;
constexpr Seconds kDay = 86400;
constexpr Seconds kMaxDuration = 36500 * kDay;

using testing::BadInput;

// The message of the JitError(InvalidInput) that parse_duration throws for `text`.
std::string rejection(const std::string& text) {
    return testing::rejection_of([&] { return parse_duration(text); }, text);
}

struct GoodDuration {
    std::string text;
    Seconds seconds;
};

TEST(ParseDuration, AcceptsSystemdTimeSpans) {
    const GoodDuration cases[] = {
        {"90s", 90},
        {"45min", 45 * kMinute},
        {"45m", 45 * kMinute},
        {"2h", 2 * kHour},
        {"1d", kDay},
        {"1h30m", 90 * kMinute},
        {"2h 30min", 150 * kMinute},
        {"1sec", 1},
        {"3hr", 3 * kHour},
        {"1d 2h 3min 4s", kDay + 2 * kHour + 3 * kMinute + 4},
        {"  5min  ", 5 * kMinute},
        {"\t5min", 5 * kMinute},
        {"2 h", 2 * kHour},
        {"1 hour 30 minutes", 90 * kMinute},
        {"2hours", 2 * kHour},
        {"10 seconds", 10},
        {"1second", 1},
        {"1minute", kMinute},
        {"3 days", 3 * kDay},
        {"1day", kDay},
        {"0h5m", 5 * kMinute},
        {"007s", 7},
        {"1h1h", 2 * kHour},
        {"36500d", kMaxDuration},
        {"36499d 23h 59min 59s", kMaxDuration - 1},
        {"3153600000s", kMaxDuration},
    };
    for (const auto& [text, seconds] : cases) {
        EXPECT_EQ(parse_duration(text), seconds) << text;
    }
}

TEST(ParseDuration, RejectsMalformedSpansWithAClearMessage) {
    const BadInput cases[] = {
        {"", "empty"},
        {"   ", "empty"},
        {"30", "missing unit after 30"},
        {"0", "missing unit after 0"},
        {"1h30", "missing unit after 30"},
        {"2 30min", "missing unit after 2"},
        {"0s", "must be longer than zero"},
        {"0h 0min", "must be longer than zero"},
        {"-5m", "negative durations are not allowed"},
        {"5m-1s", "negative durations are not allowed"},
        {"5x", "unknown unit \"x\""},
        {"5 x", "unknown unit \"x\""},
        {"5H", "unknown unit \"H\""},
        {"5mins", "unknown unit \"mins\""},
        {"5 minutes ago", "missing number before \"ago\""},
        {"1e3s", "unknown unit \"e\""},
        {"0x10s", "unknown unit \"x\""},
        {"1w", "unknown unit \"w\""},
        {"1.5h", "fractions are not supported"},
        {"1,5h", "fractions are not supported"},
        {"h", "missing number before \"h\""},
        {"min", "missing number before \"min\""},
        {"1h min", "missing number before \"min\""},
        {"+5m", "unexpected \"+\""},
        {"1h!", "unexpected \"!\""},
        {"1h;rm -rf /", "unexpected \";\""},
        {"1h\n", "unexpected \"\\x0a\""},
        {std::string("1h\0 30min", 9), "unexpected \"\\x00\""},
        {"\xd9\xa1s", "unexpected \"\\xd9\""},  // ARABIC-INDIC DIGIT ONE
        {"36501d", "longer than the maximum of 36500d"},
        {"36500d 1s", "longer than the maximum of 36500d"},
        {"3153600001s", "longer than the maximum of 36500d"},
        {"9223372036854775807s", "longer than the maximum of 36500d"},
        {"99999999999999999999999999s", "longer than the maximum of 36500d"},
        {"106751991167301d", "longer than the maximum of 36500d"},
        {"18446744073709551616s", "longer than the maximum of 36500d"},
    };
    testing::expect_rejections(cases, rejection, testing::names);
}

TEST(ParseDuration, MessageQuotesTheInputAndSuggestsTheSyntax) {
    EXPECT_EQ(rejection("5x"),
              "invalid duration \"5x\": unknown unit \"x\" (use s, min, h, d, e.g. 2h30min)");
    EXPECT_EQ(rejection("30"),
              "invalid duration \"30\": missing unit after 30 (use s, min, h, d, e.g. 2h30min)");
}

TEST(ParseDuration, MessageEscapesAndShortensHostileInput) {
    std::string message = rejection("1h \"\x1b[31m");
    EXPECT_EQ(message.find('\x1b'), std::string::npos) << message;
    EXPECT_NE(message.find("\\x1b"), std::string::npos) << message;

    std::string huge(100000, '9');
    message = rejection(huge + "x");
    EXPECT_LT(message.size(), 200u) << message;
}

TEST(FormatDuration, UsesTheLargestUnitsSeparatedBySpaces) {
    EXPECT_EQ(format_duration(90), "1min 30s");
    EXPECT_EQ(format_duration(150 * kMinute), "2h 30min");
    EXPECT_EQ(format_duration(kDay), "1d");
    EXPECT_EQ(format_duration(kDay + kHour + kMinute + 1), "1d 1h 1min 1s");
    EXPECT_EQ(format_duration(30 * kDay), "30d");
    EXPECT_EQ(format_duration(59), "59s");
    EXPECT_EQ(format_duration(0), "0s");
    EXPECT_EQ(format_duration(-90), "-1min 30s");
    EXPECT_EQ(format_duration(INT64_MIN), "-106751991167300d 15h 30min 8s");
}

TEST(FormatDuration, RoundTripsThroughParseDuration) {
    const Seconds samples[] = {1,         59,        60,        61,          3599,
                               kHour,     5400,      kDay - 1,  kDay,        kDay + 1,
                               4 * kHour, 8 * kHour, 30 * kDay, kMaxDuration};
    for (Seconds seconds : samples) {
        EXPECT_EQ(parse_duration(format_duration(seconds)), seconds) << seconds;
    }
    // A spread of awkward values across the whole accepted range.
    for (Seconds seconds = 1; seconds <= kMaxDuration; seconds = seconds * 3 + 7919) {
        EXPECT_EQ(parse_duration(format_duration(seconds)), seconds) << seconds;
    }
}

}  // namespace
}  // namespace jit
