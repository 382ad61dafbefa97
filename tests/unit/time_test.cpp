// SPDX-License-Identifier: Apache-2.0
// RFC 3339 formatting and timestamp parsing: UTC whatever the process TZ says.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include "jit/error.hpp"
#include "jit/time.hpp"
#include "rejection.hpp"

namespace jit {
namespace {

// Sets TZ for the lifetime of the guard and puts the previous value back.
class ScopedTimeZone {
  public:
    explicit ScopedTimeZone(const char* zone) {
        if (const char* old = std::getenv("TZ")) {
            previous_ = old;
        }
        setenv("TZ", zone, 1);
        tzset();
    }
    ~ScopedTimeZone() {
        if (previous_) {
            setenv("TZ", previous_->c_str(), 1);
        } else {
            unsetenv("TZ");
        }
        tzset();
    }
    ScopedTimeZone(const ScopedTimeZone&) = delete;
    ScopedTimeZone& operator=(const ScopedTimeZone&) = delete;

  private:
    std::optional<std::string> previous_;
};

std::string rejection(const std::string& text) {
    return testing::rejection_of([&] { return parse_timestamp(text); }, text);
}

// The reference: glibc's gmtime_r, which never looks at TZ either.
std::string gmtime_reference(EpochSeconds instant) {
    std::time_t time = instant;
    std::tm utc{};
    gmtime_r(&time, &utc);
    char buffer[64];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buffer;
}

TEST(FormatRfc3339, FormatsUtcWithZSuffix) {
    EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_rfc3339(1795701900), "2026-11-26T14:05:00Z");
    EXPECT_EQ(format_rfc3339(951782400), "2000-02-29T00:00:00Z");
    EXPECT_EQ(format_rfc3339(1709208000), "2024-02-29T12:00:00Z");
    EXPECT_EQ(format_rfc3339(-1), "1969-12-31T23:59:59Z");
    EXPECT_EQ(format_rfc3339(-2203891200), "1900-03-01T00:00:00Z");
    EXPECT_EQ(format_rfc3339(253402300799), "9999-12-31T23:59:59Z");
}

TEST(FormatRfc3339, AgreesWithGmtimeAcrossFourCenturies) {
    for (EpochSeconds instant = -12219292800; instant < 253402300799; instant += 7777777) {
        ASSERT_EQ(format_rfc3339(instant), gmtime_reference(instant)) << instant;
    }
}

TEST(FormatRfc3339, IgnoresTheProcessTimeZone) {
    ScopedTimeZone zone("XYZ-13:17");  // a POSIX zone thirteen hours and a bit east
    EXPECT_EQ(format_rfc3339(1795701900), "2026-11-26T14:05:00Z");
    EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(parse_timestamp("2026-11-26T14:05:00Z"), 1795701900);
    EXPECT_EQ(parse_timestamp("2026-11-26"), 1795651200);
}

TEST(FormatRfc3339, DoesNotThrowOutsideFourDigitYears) {
    EXPECT_NO_THROW(format_rfc3339(INT64_MAX));
    EXPECT_NO_THROW(format_rfc3339(INT64_MIN));
}

struct GoodTimestamp {
    std::string text;
    EpochSeconds instant;
};

TEST(ParseTimestamp, AcceptsRfc3339DatesAndEpochs) {
    const GoodTimestamp cases[] = {
        {"2026-11-26T14:05:00Z", 1795701900},
        {"2026-11-26t14:05:00z", 1795701900},
        {"2026-11-26 14:05:00Z", 1795701900},
        {"2026-11-26T15:05:00+01:00", 1795701900},
        {"2026-11-26T08:35:00-05:30", 1795701900},
        {"2026-11-26T14:05:00.999999Z", 1795701900},
        {"2026-11-26T14:05:00.5+00:00", 1795701900},
        {"2026-11-26", 1795651200},
        {"1970-01-01T00:00:00Z", 0},
        {"1969-12-31T23:59:59Z", -1},
        {"2024-02-29", 1709164800},
        {"2000-02-29T00:00:00Z", 951782400},
        {"2016-12-31T23:59:60Z", 1483228800},  // a leap second reads as the next second
        {"@0", 0},
        {"@1795701900", 1795701900},
        {"@-1", -1},
    };
    for (const auto& [text, instant] : cases) {
        EXPECT_EQ(parse_timestamp(text), instant) << text;
    }
}

// Found by the fuzzer: an offset moved a year-0000 date before 0000-01-01T00:00:00Z.
TEST(ParseTimestamp, RefusesAnInstantOutsideTheFourDigitYearsInUtc) {
    EXPECT_EQ(parse_timestamp("0000-01-01T00:00:00Z"), -62167219200);
    EXPECT_EQ(parse_timestamp("0000-01-01T01:00:00+01:00"), -62167219200);
    EXPECT_EQ(parse_timestamp("9999-12-31T23:59:59Z"), 253402300799);
    EXPECT_NE(rejection("0000-01-01T00:00:00+01:00").find("outside the years 0000 to 9999"),
              std::string::npos);
    EXPECT_NE(rejection("9999-12-31T23:00:00-01:00").find("outside the years 0000 to 9999"),
              std::string::npos);
}

TEST(ParseTimestamp, RejectsEverythingElse) {
    const std::string kFormats = "expected RFC 3339";
    const testing::BadInput cases[] = {
        {"", kFormats},
        {"2026", kFormats},
        {"26-11-2026", kFormats},
        {"2026-1-1", kFormats},
        {" 2026-11-26", kFormats},
        {"2026-11-26T", kFormats},
        {"2026-11-26T14:05Z", kFormats},
        {"2026-11-26X14:05:00Z", kFormats},
        {"2026-13-01", "month out of range"},
        {"2026-00-10", "month out of range"},
        {"2026-02-29", "day out of range"},
        {"1900-02-29", "day out of range"},
        {"2026-11-31", "day out of range"},
        {"2026-11-00", "day out of range"},
        {"2026-11-26T24:00:00Z", "time of day out of range"},
        {"2026-11-26T14:60:00Z", "time of day out of range"},
        {"2026-11-26T14:05:61Z", "time of day out of range"},
        {"2026-11-26T14:05:00", "UTC offset"},
        {"2026-11-26T14:05:00+0100", "UTC offset"},
        {"2026-11-26T14:05:00+24:00", "UTC offset out of range"},
        {"2026-11-26T14:05:00.Z", "missing digits after '.'"},
        {"2026-11-26T14:05:00Zjunk", "unexpected text after the UTC offset"},
        {"2026-11-26 ", kFormats},
        {"@", kFormats},
        {"@abc", kFormats},
        {"@12x", kFormats},
        {"@+5", kFormats},
        {"@99999999999999999999", kFormats},
        {std::string("2026-11-26\0T14:05:00Z", 21), kFormats},
        {"tomorrow", kFormats},
    };
    testing::expect_rejections(cases, rejection, testing::names);
}

TEST(ParseTimestamp, MessageQuotesTheInput) {
    EXPECT_EQ(rejection("tomorrow"),
              "invalid timestamp \"tomorrow\": expected RFC 3339 (2026-11-26T14:05:00Z), a date "
              "(2026-11-26) or @EPOCH");
}

TEST(ParseTimestamp, RoundTripsFormatRfc3339) {
    for (EpochSeconds instant = -62135596800; instant < 253402300799; instant += 86399 * 97) {
        ASSERT_EQ(parse_timestamp(format_rfc3339(instant)), instant) << instant;
    }
}

TEST(FormatLocal, UsesTheProcessTimeZone) {
    {
        ScopedTimeZone zone("UTC0");
        EXPECT_EQ(format_local(1795701900), "2026-11-26 14:05:00 UTC");
    }
    {
        ScopedTimeZone zone("JST-9");
        EXPECT_EQ(format_local(1795701900), "2026-11-26 23:05:00 JST");
    }
    {
        ScopedTimeZone zone("EST5");
        EXPECT_EQ(format_local(0), "1969-12-31 19:00:00 EST");
    }
}

}  // namespace
}  // namespace jit
