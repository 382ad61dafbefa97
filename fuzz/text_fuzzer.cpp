// SPDX-License-Identifier: Apache-2.0
// The text rules (validate.hpp) guard every name and free text that reaches the store, the
// journal and other users' terminals. is_printable_text is checked against a second, table-driven
// reading of UTF-8 (the well-formed sequences of the Unicode standard, table 3-7), and the
// validators, make_printable and quote_for_message against what they promise.
#include <cstdint>
#include <functional>

#include "fuzz_support.hpp"
#include "jit/validate.hpp"

namespace {

using jit::fuzz::require;

struct ByteRange {
    unsigned char low;
    unsigned char high;
};

// The second byte's range for each lead byte; later bytes are always 80..BF.
struct WellFormed {
    ByteRange lead;
    ByteRange second;
    std::size_t length;
};

constexpr WellFormed kSequences[] = {
    {{0xC2, 0xDF}, {0x80, 0xBF}, 2}, {{0xE0, 0xE0}, {0xA0, 0xBF}, 3},
    {{0xE1, 0xEC}, {0x80, 0xBF}, 3}, {{0xED, 0xED}, {0x80, 0x9F}, 3},
    {{0xEE, 0xEF}, {0x80, 0xBF}, 3}, {{0xF0, 0xF0}, {0x90, 0xBF}, 4},
    {{0xF1, 0xF3}, {0x80, 0xBF}, 4}, {{0xF4, 0xF4}, {0x80, 0x8F}, 4},
};

bool in(ByteRange range, unsigned char byte) {
    return byte >= range.low && byte <= range.high;
}

bool is_control(std::uint32_t c) {
    return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x200E || c == 0x200F || c == 0x2028 ||
           c == 0x2029 || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

// Decodes one sequence at text[pos]: its length, or 0 when it is not well-formed.
std::size_t decode(std::string_view text, std::size_t pos, std::uint32_t& code_point) {
    const auto lead = static_cast<unsigned char>(text[pos]);
    if (lead < 0x80) {
        code_point = lead;
        return 1;
    }
    for (const auto& form : kSequences) {
        if (!in(form.lead, lead) || text.size() - pos < form.length ||
            !in(form.second, static_cast<unsigned char>(text[pos + 1]))) {
            continue;
        }
        code_point = lead & (0xFF >> (form.length + 1));
        for (std::size_t i = 1; i < form.length; ++i) {
            const auto next = static_cast<unsigned char>(text[pos + i]);
            if (!in({0x80, 0xBF}, next)) {
                return 0;
            }
            code_point = (code_point << 6) | (next & 0x3F);
        }
        return form.length;
    }
    return 0;
}

bool reference_printable(std::string_view text) {
    for (std::size_t pos = 0; pos < text.size();) {
        std::uint32_t code_point = 0;
        const std::size_t length = decode(text, pos, code_point);
        if (length == 0 || is_control(code_point)) {
            return false;
        }
        pos += length;
    }
    return true;
}

// A validator that accepts only lets printable text of at most max_bytes through.
void check_validator(const std::function<void(std::string_view)>& validate, std::string_view text,
                     std::size_t max_bytes, std::string_view name) {
    try {
        validate(text);
    } catch (const jit::JitError& error) {
        jit::fuzz::require_clean_refusal(error);
        return;
    }
    require(jit::is_printable_text(text) && text.size() <= max_bytes,
            std::string(name) + " accepted unprintable or overlong text");
}

void check_make_printable(std::string_view text, std::size_t max_bytes) {
    const std::string printable = jit::make_printable(text, max_bytes);
    require(jit::is_printable_text(printable), "make_printable left unprintable text");
    require(printable.size() <= max_bytes, "make_printable went past max_bytes");
    if (jit::is_printable_text(text) && text.size() <= max_bytes) {
        require(printable == text, "make_printable changed printable text");
    }
}

void check_quote(std::string_view text) {
    const std::string quoted = jit::quote_for_message(text);
    require(quoted.size() >= 2 && quoted.front() == '"', "quote_for_message lost its quotes");
    require(quoted.size() <= 2 + 64 * 4 + 3, "quote_for_message did not cut a long value");
    for (char c : quoted) {
        require(c >= 0x20 && c < 0x7f, "quote_for_message let a non-ASCII byte through");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = jit::fuzz::as_text(data, size);
    require(jit::is_printable_text(text) == reference_printable(text),
            "is_printable_text disagrees with the Unicode table of well-formed UTF-8");

    check_validator([](std::string_view t) { jit::validate_object_name("resource", t); }, text, 64,
                    "validate_object_name");
    check_validator(jit::validate_user_name, text, 33, "validate_user_name");
    check_validator(jit::validate_group_name, text, 33, "validate_group_name");
    check_validator(jit::validate_principal, text, 34, "validate_principal");
    check_validator(jit::validate_account, text, 33, "validate_account");
    check_validator(jit::validate_service, text, 64, "validate_service");
    check_validator(jit::validate_reason, text, 4 * jit::kMaxReasonLength, "validate_reason");
    check_validator(
        [](std::string_view t) { jit::validate_text("comment", t, jit::kMaxCommentLength); }, text,
        4 * jit::kMaxCommentLength, "validate_text");

    check_make_printable(text, size == 0 ? 0 : data[0]);
    check_make_printable(text, 256);
    check_quote(text);
    return 0;
}
