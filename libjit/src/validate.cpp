// SPDX-License-Identifier: Apache-2.0
#include "jit/validate.hpp"

#include <cstdint>
#include <cstdio>
#include <string>

#include "jit/error.hpp"

namespace jit {

namespace {

constexpr std::size_t kMaxObjectNameLength = 64;
constexpr std::size_t kMaxUserNameLength = 32;  // not counting a trailing '$'
constexpr std::size_t kMaxQuotedLength = 64;

bool is_lower(char c) {
    return c >= 'a' && c <= 'z';
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_printable_ascii(char c) {
    return c >= 0x20 && c < 0x7f;
}

std::string hex_escape(char c) {
    char escaped[8];
    std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned char>(c));
    return escaped;
}

// 'x' for a printable ASCII character, \xNN for anything else.
std::string describe_char(char c) {
    return is_printable_ascii(c) ? std::string("'") + c + "'" : hex_escape(c);
}

[[noreturn]] void reject(std::string_view field, std::string_view value, std::string_view problem) {
    throw_invalid("invalid " + std::string(field) + " " + quote_for_message(value) + ": " +
                  std::string(problem));
}

// The shape of a name: its longest length, which characters may start it and which may follow.
struct NameRule {
    std::size_t max_length;
    bool (*may_start)(char);
    const char* start_rule;  // says what may start it
    bool (*may_follow)(char);
    const char* allowed;  // says which characters are allowed
};

// What is wrong with body under rule, or "" when nothing is.
std::string name_problem(std::string_view body, const NameRule& rule) {
    if (body.size() > rule.max_length) {
        return "longer than " + std::to_string(rule.max_length) + " characters";
    }
    if (!rule.may_start(body[0])) {
        return rule.start_rule;
    }
    for (char c : body) {
        if (!rule.may_follow(c)) {
            return "character " + describe_char(c) + " is not allowed (" + rule.allowed + ")";
        }
    }
    return {};
}

// [a-z0-9][a-z0-9._-]{0,63}; returns what is wrong, or "" when nothing is.
std::string object_name_problem(std::string_view name) {
    static constexpr NameRule kObjectName = {
        kMaxObjectNameLength, [](char c) { return is_lower(c) || is_digit(c); },
        "must start with a lower-case letter or a digit",
        [](char c) { return is_lower(c) || is_digit(c) || c == '.' || c == '_' || c == '-'; },
        "use a-z, 0-9, '.', '_' and '-'"};
    return name.empty() ? "must not be empty" : name_problem(name, kObjectName);
}

// [a-z_][a-z0-9_.-]{0,31} with an optional trailing '$'; returns what is wrong, or "".
std::string user_name_problem(std::string_view name) {
    static constexpr NameRule kUserName = {
        kMaxUserNameLength, [](char c) { return is_lower(c) || c == '_'; },
        "must start with a lower-case letter or '_'",
        [](char c) { return is_lower(c) || is_digit(c) || c == '_' || c == '.' || c == '-'; },
        "use a-z, 0-9, '_', '.', '-', and '$' only at the end"};
    if (name.empty()) {
        return "must not be empty";
    }
    std::string_view body = name;
    if (body.size() > 1 && body.back() == '$') {
        body.remove_suffix(1);
    }
    return name_problem(body, kUserName);
}

// Line breaks and bidirectional controls that render invisibly yet change how text reads.
bool is_invisible_format_char(std::uint32_t code_point) {
    return code_point == 0x200E || code_point == 0x200F ||    // LRM, RLM
           code_point == 0x2028 || code_point == 0x2029 ||    // line, paragraph separator
           (code_point >= 0x202A && code_point <= 0x202E) ||  // embeddings, overrides
           (code_point >= 0x2066 && code_point <= 0x2069);    // isolates
}

// Length of the well-formed UTF-8 sequence starting at text[pos], with the code point it
// encodes; 0 when it is malformed (truncated, overlong, a surrogate or beyond U+10FFFF).
std::size_t utf8_sequence_length(std::string_view text, std::size_t pos,
                                 std::uint32_t& code_point) {
    auto lead = static_cast<unsigned char>(text[pos]);
    if (lead < 0x80) {
        code_point = lead;
        return 1;
    }
    std::size_t length = 0;
    std::uint32_t smallest = 0;  // below this the encoding is overlong
    if ((lead & 0xE0) == 0xC0) {
        length = 2;
        smallest = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3;
        smallest = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4;
        smallest = 0x10000;
    } else {
        return 0;
    }
    code_point = lead & (0x7F >> length);
    if (text.size() - pos < length) {
        return 0;
    }
    for (std::size_t i = 1; i < length; ++i) {
        auto continuation = static_cast<unsigned char>(text[pos + i]);
        if ((continuation & 0xC0) != 0x80) {
            return 0;
        }
        code_point = (code_point << 6) | (continuation & 0x3F);
    }
    const bool valid = code_point >= smallest && code_point <= 0x10FFFF &&
                       !(code_point >= 0xD800 && code_point <= 0xDFFF);
    return valid ? length : 0;
}

// Length of the UTF-8 sequence starting at text[pos] when it encodes a printable character,
// 0 when it is malformed or a control character.
std::size_t printable_sequence_length(std::string_view text, std::size_t pos) {
    std::uint32_t code_point = 0;
    const std::size_t length = utf8_sequence_length(text, pos, code_point);
    const bool control = code_point < 0x20 || (code_point >= 0x7F && code_point <= 0x9F) ||
                         is_invisible_format_char(code_point);
    return length != 0 && !control ? length : 0;
}

// Offset of the first byte that is not part of printable UTF-8 text, npos when there is none.
std::size_t first_unprintable(std::string_view text) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t length = printable_sequence_length(text, pos);
        if (length == 0) {
            return pos;
        }
        pos += length;
    }
    return std::string_view::npos;
}

std::size_t count_characters(std::string_view utf8) {
    std::size_t count = 0;
    for (char c : utf8) {
        count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // not a continuation byte
    }
    return count;
}

// Limits count characters, not bytes; a UTF-8 character is at most four
// bytes, so anything beyond 4 * limit bytes is refused before it is scanned.
void check_text(std::string_view what, std::string_view text, std::size_t limit) {
    const auto too_long = [&](std::size_t length) {
        throw_invalid("invalid " + std::string(what) + ": longer than " + std::to_string(limit) +
                      " characters (" + std::to_string(length) + ")");
    };
    if (text.size() > 4 * limit) {
        too_long(text.size());
    }
    std::size_t bad = first_unprintable(text);
    if (bad != std::string_view::npos) {
        throw_invalid("invalid " + std::string(what) +
                      ": control character or invalid UTF-8 at byte " + std::to_string(bad + 1) +
                      " (only printable text is allowed)");
    }
    const std::size_t characters = count_characters(text);
    if (characters > limit) {
        too_long(characters);
    }
}

}  // namespace

void validate_object_name(std::string_view what, std::string_view name) {
    std::string problem = object_name_problem(name);
    if (!problem.empty()) {
        reject(std::string(what) + " name", name, problem);
    }
}

void validate_user_name(std::string_view name) {
    std::string problem = user_name_problem(name);
    if (!problem.empty()) {
        reject("user name", name, problem);
    }
}

void validate_group_name(std::string_view name) {
    std::string problem = user_name_problem(name);
    if (!problem.empty()) {
        reject("group name", name, problem);
    }
}

namespace {

std::string host_label_problem(std::string_view label) {
    if (label.empty() || label.size() > 63) {
        return "each dot-separated label must have 1 to 63 characters";
    }
    if (label.front() == '-' || label.back() == '-') {
        return "a label may not start or end with '-'";
    }
    for (char c : label) {
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && c != '-') {
            return "only letters, digits, '-' and '.' are allowed";
        }
    }
    return {};
}

}  // namespace

void validate_host_name(std::string_view name) {
    if (name.empty() || name.size() > 253) {
        reject("host name", name, "must have 1 to 253 characters");
    }
    for (std::string_view rest = name;;) {
        std::size_t dot = rest.find('.');
        std::string problem = host_label_problem(rest.substr(0, dot));
        if (!problem.empty()) {
            reject("host name", name, problem);
        }
        if (dot == std::string_view::npos) {
            return;
        }
        rest.remove_prefix(dot + 1);
    }
}

void validate_principal(std::string_view principal) {
    if (principal.empty()) {
        reject("principal", principal, "must be a user name or @group");
    }
    if (principal[0] != '@') {
        validate_user_name(principal);
        return;
    }
    std::string problem = user_name_problem(principal.substr(1));
    if (!problem.empty()) {
        reject("group", principal, problem);
    }
}

void validate_account(std::string_view account) {
    if (account == "*") {
        return;
    }
    std::string problem = user_name_problem(account);
    if (!problem.empty()) {
        reject("target account", account, problem + " (or use * for any account)");
    }
}

void validate_service(std::string_view service) {
    std::string problem = object_name_problem(service);
    if (!problem.empty()) {
        reject("PAM service name", service, problem);
    }
}

void validate_resource_service(std::string_view service) {
    if (service != "*") {
        validate_service(service);
    }
}

void validate_reason(std::string_view reason) {
    if (reason.empty()) {
        throw_invalid("invalid reason: must not be empty (say why you need access)");
    }
    check_text("reason", reason, kMaxReasonLength);
}

void validate_text(std::string_view what, std::string_view text, std::size_t limit) {
    check_text(what, text, limit);
}

std::size_t first_invalid_utf8(std::string_view text) {
    std::uint32_t code_point = 0;
    for (std::size_t pos = 0; pos < text.size();) {
        const std::size_t length = utf8_sequence_length(text, pos, code_point);
        if (length == 0) {
            return pos;
        }
        pos += length;
    }
    return std::string_view::npos;
}

bool is_printable_text(std::string_view text) {
    return first_unprintable(text) == std::string_view::npos;
}

std::string make_printable(std::string_view text, std::size_t max_bytes) {
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t length = printable_sequence_length(text, pos);
        std::string_view piece = length == 0 ? std::string_view("?") : text.substr(pos, length);
        if (out.size() + piece.size() > max_bytes) {
            break;
        }
        out += piece;
        pos += length == 0 ? 1 : length;
    }
    return out;
}

std::string quote_for_message(std::string_view text) {
    std::string quoted = "\"";
    std::string_view shown = text.substr(0, kMaxQuotedLength);
    for (char c : shown) {
        if (c == '"' || c == '\\') {
            quoted += '\\';
            quoted += c;
        } else {
            quoted += is_printable_ascii(c) ? std::string(1, c) : hex_escape(c);
        }
    }
    quoted += '"';
    if (shown.size() < text.size()) {
        quoted += "...";
    }
    return quoted;
}

}  // namespace jit
