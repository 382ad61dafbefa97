// SPDX-License-Identifier: Apache-2.0
#include "jit/spool.hpp"

#include <charconv>
#include <vector>

#include "jit/error.hpp"
#include "jit/validate.hpp"

namespace jit {
namespace {

constexpr std::size_t kFields = 13;
// Lines of a pam_jit from before registered ssh keys, without FINGERPRINT.
constexpr std::size_t kFieldsWithoutKey = 12;

std::vector<std::string_view> split_tabs(std::string_view line) {
    std::vector<std::string_view> fields;
    for (std::size_t start = 0;;) {
        const std::size_t tab = line.find('\t', start);
        fields.push_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
        if (tab == std::string_view::npos) {
            return fields;
        }
        start = tab + 1;
    }
}

std::int64_t parse_number(std::string_view what, std::string_view text) {
    std::int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < 0) {
        throw_invalid("bad " + std::string(what) + " " + quote_for_message(text));
    }
    return value;
}

uid_t parse_uid(std::string_view what, std::string_view text) {
    const std::int64_t value = parse_number(what, text);
    if (value > static_cast<std::int64_t>(kLoginUidUnset)) {
        throw_invalid("bad " + std::string(what) + " " + quote_for_message(text));
    }
    return static_cast<uid_t>(value);
}

std::string text_field(std::string_view what, std::string_view value) {
    if (value.size() > kMaxSpoolFieldBytes || !is_printable_text(value)) {
        throw_invalid(std::string(what) + " is not printable text of at most 256 bytes");
    }
    return std::string(value);
}

}  // namespace

bool is_fallback_outcome(std::string_view outcome) {
    return outcome == "allowed" || outcome == "denied" || outcome == "open" ||
           outcome == "unavailable" || outcome == "exempt";
}

std::string format_fallback_line(const FallbackLogin& login) {
    const LoginAttempt& a = login.attempt;
    std::string line = std::to_string(login.when);
    for (std::string_view field :
         {std::string_view(login.outcome), std::string_view(a.service), std::string_view(a.user),
          std::string_view(a.ruser), std::string_view(a.rhost), std::string_view(a.tty)}) {
        line += '\t';
        line += make_printable(field, kMaxSpoolFieldBytes);
    }
    line += '\t' + std::to_string(login.pid) + '\t' + std::to_string(login.grant_id) + '\t' +
            make_printable(login.logind_session, kMaxSpoolFieldBytes) + '\t' +
            std::to_string(a.app_uid) + '\t' + std::to_string(a.login_uid) + '\t' +
            make_printable(login.fingerprint, kMaxSpoolFieldBytes) + '\n';
    return line;
}

FallbackLogin parse_fallback_line(std::string_view line) {
    const std::vector<std::string_view> f = split_tabs(line);
    if (f.size() != kFields && f.size() != kFieldsWithoutKey) {
        throw_invalid("expected " + std::to_string(kFields) + " tab-separated fields, found " +
                      std::to_string(f.size()));
    }
    FallbackLogin login;
    login.when = parse_number("time", f[0]);
    if (login.when <= 0) {
        throw_invalid("bad time " + quote_for_message(f[0]));
    }
    if (!is_fallback_outcome(f[1])) {
        throw_invalid("bad outcome " + quote_for_message(f[1]));
    }
    login.outcome = std::string(f[1]);
    // Whatever PAM called the service: the login happened and is audited all the same.
    login.attempt.service = text_field("service", f[2]);
    login.attempt.user = text_field("user", f[3]);
    if (login.attempt.user.empty()) {
        throw_invalid("empty user");
    }
    login.attempt.ruser = text_field("ruser", f[4]);
    login.attempt.rhost = text_field("rhost", f[5]);
    login.attempt.tty = text_field("tty", f[6]);
    login.pid = parse_number("pid", f[7]);
    login.grant_id = parse_number("grant id", f[8]);
    login.logind_session = text_field("logind session", f[9]);
    login.attempt.app_uid = parse_uid("application uid", f[10]);
    login.attempt.login_uid = parse_uid("login uid", f[11]);
    if (f.size() == kFields) {
        login.fingerprint = text_field("fingerprint", f[12]);
    }
    return login;
}

std::string unsafe_spool_file(const struct stat& st) {
    if (!S_ISREG(st.st_mode)) {
        return "not a regular file";
    }
    if (st.st_uid != 0) {
        return "not owned by root";
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        return "accessible to group or others";
    }
    if (st.st_nlink != 1) {
        return "has " + std::to_string(st.st_nlink) + " links";
    }
    return {};
}

}  // namespace jit
