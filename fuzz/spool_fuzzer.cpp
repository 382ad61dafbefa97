// SPDX-License-Identifier: Apache-2.0
// The fallback spool: lines pam_jit wrote (as root) and jitd audits. A line parse_fallback_line
// accepts formats back to a line that parses to the same login; and whatever a login holds
// (PAM hands over any bytes), the line format_fallback_line writes for it parses.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>

#include "fuzz_support.hpp"
#include "jit/spool.hpp"

namespace {

using jit::fuzz::require;

constexpr const char* kOutcomes[] = {"allowed", "denied", "open", "unavailable", "exempt"};

bool same_login(const jit::FallbackLogin& a, const jit::FallbackLogin& b) {
    return a.when == b.when && a.outcome == b.outcome && a.attempt.service == b.attempt.service &&
           a.attempt.user == b.attempt.user && a.attempt.ruser == b.attempt.ruser &&
           a.attempt.rhost == b.attempt.rhost && a.attempt.tty == b.attempt.tty && a.pid == b.pid &&
           a.grant_id == b.grant_id && a.logind_session == b.logind_session &&
           a.attempt.app_uid == b.attempt.app_uid && a.attempt.login_uid == b.attempt.login_uid;
}

jit::FallbackLogin parse_formatted(const jit::FallbackLogin& login) {
    std::string line = jit::format_fallback_line(login);
    require(!line.empty() && line.back() == '\n', "a spool line without its newline");
    line.pop_back();
    require(line.find('\n') == std::string::npos, "a spool line with a newline inside");
    return jit::parse_fallback_line(line);  // throws (and so aborts) when it does not parse
}

void check_parsed_line(std::string_view line) {
    jit::FallbackLogin login;
    try {
        login = jit::parse_fallback_line(line);
    } catch (const jit::JitError& error) {
        jit::fuzz::require_clean_refusal(error);
        return;
    }
    require(same_login(parse_formatted(login), login), "a parsed line does not format back");
}

// A login as pam_jit spools it: a known outcome, the time now, a user (pam_jit refuses an
// empty PAM_USER before it gets here), anything else PAM or the session handed over.
jit::FallbackLogin login_from(FuzzedDataProvider& input) {
    jit::FallbackLogin login;
    login.outcome = input.PickValueInArray(kOutcomes);
    login.when = input.ConsumeIntegralInRange<jit::EpochSeconds>(1, INT64_MAX);
    login.attempt.service = input.ConsumeRandomLengthString(300);
    login.attempt.user = input.ConsumeRandomLengthString(300);
    if (login.attempt.user.empty()) {
        login.attempt.user = "root";
    }
    login.attempt.ruser = input.ConsumeRandomLengthString(300);
    login.attempt.rhost = input.ConsumeRandomLengthString(300);
    login.attempt.tty = input.ConsumeRandomLengthString(300);
    login.pid = input.ConsumeIntegralInRange<std::int64_t>(0, INT64_MAX);
    login.grant_id = input.ConsumeIntegralInRange<jit::Id>(0, INT64_MAX);
    login.attempt.app_uid = input.ConsumeIntegral<uid_t>();
    login.attempt.login_uid = input.ConsumeIntegral<uid_t>();
    login.logind_session = input.ConsumeRemainingBytesAsString();
    return login;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    check_parsed_line(jit::fuzz::as_text(data, size));
    FuzzedDataProvider input(data, size);
    const jit::FallbackLogin login = login_from(input);
    const jit::FallbackLogin parsed = parse_formatted(login);
    require(parsed.attempt.user == jit::make_printable(login.attempt.user, 256),
            "the spooled user is not what pam_jit saw, made printable");
    return 0;
}
