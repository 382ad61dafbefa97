// SPDX-License-Identifier: Apache-2.0
#include "options.hpp"

#include <algorithm>
#include <charconv>

#include "jit/error.hpp"
#include "jit/time.hpp"
#include "jit/validate.hpp"

namespace jit::pam {
namespace {

// The value of "key=value" when arg starts with prefix ("key="), else nothing.
bool take_value(std::string_view arg, std::string_view prefix, std::string_view& value) {
    if (!arg.starts_with(prefix)) {
        return false;
    }
    value = arg.substr(prefix.size());
    return true;
}

void parse_fail(std::string_view value, ParsedOptions& parsed) {
    if (value == "closed") {
        parsed.options.fail = FailMode::Closed;
    } else if (value == "open") {
        parsed.options.fail = FailMode::Open;
    } else {
        parsed.problems.push_back("ignoring fail=" + std::string(value) +
                                  ": expected closed or open");
    }
}

void parse_timeout(std::string_view value, ParsedOptions& parsed) {
    try {
        parsed.options.timeout_usec = parse_timeout_usec(value);
    } catch (const JitError& e) {
        parsed.problems.push_back("ignoring timeout=" + std::string(value) + ": " + e.what());
    }
}

void parse_snapshot(std::string_view value, ParsedOptions& parsed) {
    // The spool goes next to the snapshot, so the path must name a file in a directory.
    if (!value.starts_with('/') || value.ends_with('/')) {
        parsed.problems.push_back("ignoring snapshot=" + std::string(value) +
                                  ": expected an absolute file path");
        return;
    }
    parsed.options.snapshot = value;
}

void parse_exempt(std::string_view value, ParsedOptions& parsed) {
    while (!value.empty()) {
        const std::size_t comma = value.find(',');
        const std::string_view item = value.substr(0, comma);
        value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
        if (item.empty()) {
            continue;
        }
        try {
            validate_principal(item);
            parsed.options.exempt.emplace_back(item);
        } catch (const JitError& e) {
            parsed.problems.push_back("ignoring exempt entry '" + std::string(item) +
                                      "': " + e.what());
        }
    }
}

std::uint64_t parse_milliseconds(std::string_view digits, std::string_view text) {
    std::uint64_t ms = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ms);
    if (ec != std::errc() || end != digits.data() + digits.size() || ms == 0 ||
        ms > kMaxTimeoutUsec / 1000) {
        throw_invalid("invalid timeout " + quote_for_message(text) + ": expected 1ms to 1h");
    }
    return ms * 1000;
}

}  // namespace

std::uint64_t parse_timeout_usec(std::string_view text) {
    if (text.size() > 2 && text.ends_with("ms")) {
        const std::string_view digits = text.substr(0, text.size() - 2);
        if (std::all_of(digits.begin(), digits.end(),
                        [](char c) { return c >= '0' && c <= '9'; })) {
            return parse_milliseconds(digits, text);
        }
    }
    const Seconds seconds = parse_duration(text);
    if (seconds > static_cast<Seconds>(kMaxTimeoutUsec / 1'000'000)) {
        throw_invalid("invalid timeout " + quote_for_message(text) + ": expected 1ms to 1h");
    }
    return static_cast<std::uint64_t>(seconds) * 1'000'000;
}

ParsedOptions parse_options(int argc, const char** argv) {
    ParsedOptions parsed;
    for (int i = 0; i < argc; ++i) {
        const std::string_view arg = argv[i] != nullptr ? argv[i] : "";
        std::string_view value;
        if (arg == "quiet") {
            parsed.options.quiet = true;
        } else if (arg == "debug") {
            parsed.options.debug = true;
        } else if (take_value(arg, "fail=", value)) {
            parse_fail(value, parsed);
        } else if (take_value(arg, "timeout=", value)) {
            parse_timeout(value, parsed);
        } else if (take_value(arg, "snapshot=", value)) {
            parse_snapshot(value, parsed);
        } else if (take_value(arg, "exempt=", value)) {
            parse_exempt(value, parsed);
        } else {
            parsed.problems.push_back("ignoring unknown argument '" + std::string(arg) + "'");
        }
    }
    return parsed;
}

bool is_exempt(const std::vector<std::string>& exempt, const std::string& user,
               const std::function<std::vector<std::string>()>& groups) {
    if (std::find(exempt.begin(), exempt.end(), user) != exempt.end()) {
        return true;
    }
    const bool names_groups = std::any_of(exempt.begin(), exempt.end(),
                                          [](const std::string& p) { return p.starts_with('@'); });
    if (!names_groups) {
        return false;
    }
    for (const std::string& group : groups()) {
        if (std::find(exempt.begin(), exempt.end(), "@" + group) != exempt.end()) {
            return true;
        }
    }
    return false;
}

}  // namespace jit::pam
