// SPDX-License-Identifier: Apache-2.0
#include "jit/time.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

#include "jit/error.hpp"
#include "jit/validate.hpp"

namespace jit {

namespace {

constexpr Seconds kMinute = 60;
constexpr Seconds kHour = 60 * kMinute;
constexpr Seconds kDay = 24 * kHour;
// Nothing on a host needs access for longer than this; anything above is a typo.
constexpr Seconds kMaxDuration = 36500 * kDay;

constexpr const char* kDurationHint = " (use s, min, h, d, e.g. 2h30min)";
constexpr const char* kTooLong = "longer than the maximum of 36500d (100 years)";

struct DurationUnit {
    std::string_view name;
    Seconds seconds;
};

// clang-format off
constexpr DurationUnit kDurationUnits[] = {
    {"s", 1},      {"sec", 1},     {"second", 1},       {"seconds", 1},
    {"m", kMinute}, {"min", kMinute}, {"minute", kMinute}, {"minutes", kMinute},
    {"h", kHour},  {"hr", kHour},  {"hour", kHour},     {"hours", kHour},
    {"d", kDay},   {"day", kDay},  {"days", kDay},
};
// clang-format on

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

[[noreturn]] void reject_duration(std::string_view text, const std::string& problem) {
    throw_invalid("invalid duration " + quote_for_message(text) + ": " + problem);
}

std::string_view skip_blanks(std::string_view text) {
    while (!text.empty() && is_blank(text.front())) {
        text.remove_prefix(1);
    }
    return text;
}

// What to say about the character where a number or unit was expected.
std::string unexpected_at(std::string_view rest) {
    if (is_letter(rest.front())) {
        std::size_t letters = 1;
        while (letters < rest.size() && is_letter(rest[letters])) {
            ++letters;
        }
        return "missing number before " + quote_for_message(rest.substr(0, letters)) +
               kDurationHint;
    }
    if (rest.front() == '-') {
        return "negative durations are not allowed";
    }
    if (rest.front() == '.' || rest.front() == ',') {
        return "fractions are not supported, use a smaller unit" + std::string(kDurationHint);
    }
    return "unexpected " + quote_for_message(rest.substr(0, 1)) + kDurationHint;
}

// Consumes the number at the front of rest (and the blanks after it).
Seconds take_count(std::string_view text, std::string_view& rest) {
    if (!is_digit(rest.front())) {
        reject_duration(text, unexpected_at(rest));
    }
    Seconds count = 0;
    while (!rest.empty() && is_digit(rest.front())) {
        count = count * 10 + (rest.front() - '0');
        if (count > kMaxDuration) {
            reject_duration(text, kTooLong);
        }
        rest.remove_prefix(1);
    }
    rest = skip_blanks(rest);
    return count;
}

// Consumes the unit at the front of rest (and the blanks after it); returns its length in
// seconds.
Seconds take_unit(std::string_view text, std::string_view& rest, Seconds count) {
    std::size_t letters = 0;
    while (letters < rest.size() && is_letter(rest[letters])) {
        ++letters;
    }
    if (letters == 0) {
        bool missing = rest.empty() || is_digit(rest.front());
        reject_duration(text, missing
                                  ? "missing unit after " + std::to_string(count) + kDurationHint
                                  : unexpected_at(rest));
    }
    std::string_view name = rest.substr(0, letters);
    for (const auto& unit : kDurationUnits) {
        if (unit.name == name) {
            rest = skip_blanks(rest.substr(letters));
            return unit.seconds;
        }
    }
    reject_duration(text, "unknown unit " + quote_for_message(name) + kDurationHint);
}

// Days since 1970-01-01 of a proleptic Gregorian date (month 1..12, day 1..31).
std::int64_t days_from_civil(std::int64_t year, int month, int day) {
    year -= month <= 2 ? 1 : 0;
    std::int64_t era = (year >= 0 ? year : year - 399) / 400;
    std::int64_t year_of_era = year - era * 400;  // [0, 399]
    std::int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    std::int64_t day_of_era =
        year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;  // [0, 146096]
    return era * 146097 + day_of_era - 719468;
}

struct CivilDate {
    std::int64_t year;
    int month;
    int day;
};

// Inverse of days_from_civil: years start on March 1st inside an era so that the leap day
// is the last day of a year.
CivilDate civil_from_days(std::int64_t days) {
    days += 719468;
    std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    std::int64_t day_of_era = days - era * 146097;
    std::int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    std::int64_t day_of_year =
        day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    std::int64_t month_index = (5 * day_of_year + 2) / 153;  // 0 = March
    int day = static_cast<int>(day_of_year - (153 * month_index + 2) / 5 + 1);
    int month = static_cast<int>(month_index < 10 ? month_index + 3 : month_index - 9);
    return {year_of_era + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

bool is_leap_year(std::int64_t year) {
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(std::int64_t year, int month) {
    constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap_year(year) ? 29 : kDays[month - 1];
}

// Reads an RFC 3339 timestamp or plain date left to right.
class TimestampReader {
  public:
    explicit TimestampReader(std::string_view text) : rest_(text) {}

    bool at_end() const { return rest_.empty(); }

    // Exactly `count` digits.
    bool number(int count, int& value) {
        if (rest_.size() < static_cast<std::size_t>(count)) {
            return false;
        }
        value = 0;
        for (int i = 0; i < count; ++i) {
            if (!is_digit(rest_[i])) {
                return false;
            }
            value = value * 10 + (rest_[i] - '0');
        }
        rest_.remove_prefix(count);
        return true;
    }

    // One of the characters in `accepted`; which one goes to `found`.
    bool one_of(std::string_view accepted, char& found) {
        if (rest_.empty() || accepted.find(rest_.front()) == std::string_view::npos) {
            return false;
        }
        found = rest_.front();
        rest_.remove_prefix(1);
        return true;
    }

    bool literal(char expected) {
        char found = 0;
        return one_of(std::string_view(&expected, 1), found);
    }

    void skip_digits() {
        while (!rest_.empty() && is_digit(rest_.front())) {
            rest_.remove_prefix(1);
        }
    }

  private:
    std::string_view rest_;
};

[[noreturn]] void reject_timestamp(std::string_view text, const std::string& problem) {
    throw_invalid("invalid timestamp " + quote_for_message(text) + ": " + problem);
}

constexpr const char* kTimestampFormats =
    "expected RFC 3339 (2026-11-26T14:05:00Z), a date (2026-11-26) or @EPOCH";

EpochSeconds parse_epoch(std::string_view text) {
    std::string_view digits = text.substr(1);
    EpochSeconds value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
        reject_timestamp(text, kTimestampFormats);
    }
    return value;
}

// "+hh:mm" / "-hh:mm" / "Z": seconds to subtract from the local time to get UTC.
Seconds parse_utc_offset(std::string_view text, TimestampReader& reader) {
    char sign = 0;
    if (reader.one_of("Zz", sign)) {
        return 0;
    }
    int hours = 0;
    int minutes = 0;
    if (!reader.one_of("+-", sign) || !reader.number(2, hours) || !reader.literal(':') ||
        !reader.number(2, minutes)) {
        reject_timestamp(text, "missing or malformed UTC offset (Z or +hh:mm)");
    }
    if (hours > 23 || minutes > 59) {
        reject_timestamp(text, "UTC offset out of range");
    }
    Seconds offset = hours * kHour + minutes * kMinute;
    return sign == '-' ? -offset : offset;
}

}  // namespace

Seconds parse_duration(std::string_view text) {
    std::string_view rest = skip_blanks(text);
    if (rest.empty()) {
        reject_duration(text, std::string("empty") + kDurationHint);
    }
    Seconds total = 0;
    while (!rest.empty()) {
        Seconds count = take_count(text, rest);
        Seconds unit = take_unit(text, rest, count);
        if (count > (kMaxDuration - total) / unit) {
            reject_duration(text, kTooLong);
        }
        total += count * unit;
    }
    if (total == 0) {
        reject_duration(text, "must be longer than zero");
    }
    return total;
}

std::string format_duration(Seconds seconds) {
    if (seconds == 0) {
        return "0s";
    }
    // Negative spans never come out of parse_duration; show them plainly rather than throw.
    auto remaining = static_cast<std::uint64_t>(seconds);
    if (seconds < 0) {
        remaining = ~remaining + 1;  // the magnitude, INT64_MIN included
    }
    struct Part {
        std::uint64_t seconds;
        const char* suffix;
    };
    constexpr Part kParts[] = {{kDay, "d"}, {kHour, "h"}, {kMinute, "min"}, {1, "s"}};
    std::string text;
    for (const auto& part : kParts) {
        std::uint64_t count = remaining / part.seconds;
        remaining %= part.seconds;
        if (count != 0) {
            text += (text.empty() ? "" : " ") + std::to_string(count) + part.suffix;
        }
    }
    if (seconds < 0) {
        text.insert(0, 1, '-');
    }
    return text;
}

std::string format_rfc3339(EpochSeconds instant) {
    std::int64_t days = instant / kDay;
    std::int64_t second_of_day = instant % kDay;
    if (second_of_day < 0) {
        second_of_day += kDay;
        days -= 1;
    }
    CivilDate date = civil_from_days(days);
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04lld-%02d-%02dT%02d:%02d:%02dZ",
                  static_cast<long long>(date.year), date.month, date.day,
                  static_cast<int>(second_of_day / kHour),
                  static_cast<int>(second_of_day % kHour / kMinute),
                  static_cast<int>(second_of_day % kMinute));
    return buffer;
}

EpochSeconds parse_timestamp(std::string_view text) {
    if (!text.empty() && text.front() == '@') {
        return parse_epoch(text);
    }
    TimestampReader reader(text);
    int year = 0;
    int month = 0;
    int day = 0;
    if (!reader.number(4, year) || !reader.literal('-') || !reader.number(2, month) ||
        !reader.literal('-') || !reader.number(2, day)) {
        reject_timestamp(text, kTimestampFormats);
    }
    if (month < 1 || month > 12) {
        reject_timestamp(text, "month out of range");
    }
    if (day < 1 || day > days_in_month(year, month)) {
        reject_timestamp(text, "day out of range");
    }
    EpochSeconds midnight = days_from_civil(year, month, day) * kDay;
    if (reader.at_end()) {
        return midnight;
    }
    char separator = 0;
    int hour = 0;
    int minute = 0;
    int second = 0;
    if (!reader.one_of("Tt ", separator) || !reader.number(2, hour) || !reader.literal(':') ||
        !reader.number(2, minute) || !reader.literal(':') || !reader.number(2, second)) {
        reject_timestamp(text, kTimestampFormats);
    }
    // RFC 3339 allows a leap second (:60); it counts as the first second of the next minute.
    if (hour > 23 || minute > 59 || second > 60) {
        reject_timestamp(text, "time of day out of range");
    }
    if (reader.literal('.')) {
        int first_digit = 0;
        if (!reader.number(1, first_digit)) {
            reject_timestamp(text, "missing digits after '.'");
        }
        reader.skip_digits();
    }
    Seconds offset = parse_utc_offset(text, reader);
    if (!reader.at_end()) {
        reject_timestamp(text, "unexpected text after the UTC offset");
    }
    const EpochSeconds instant = midnight + hour * kHour + minute * kMinute + second - offset;
    // An offset can carry a date at either end of the four-digit years outside them in UTC,
    // where the instant could no longer be written back as RFC 3339.
    if (instant < days_from_civil(0, 1, 1) * kDay ||
        instant >= days_from_civil(10000, 1, 1) * kDay) {
        reject_timestamp(text, "outside the years 0000 to 9999 in UTC");
    }
    return instant;
}

std::string format_local(EpochSeconds instant) {
    // localtime_r need not notice a changed TZ by itself; tzset makes it.
    tzset();
    std::time_t time = instant;
    std::tm local{};
    char buffer[128];
    if (localtime_r(&time, &local) == nullptr ||
        std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S %Z", &local) == 0) {
        return format_rfc3339(instant);
    }
    return buffer;
}

}  // namespace jit
