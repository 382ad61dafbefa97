// SPDX-License-Identifier: Apache-2.0
#include "jit/ssh_key.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include "jit/error.hpp"
#include "jit/validate.hpp"

namespace jit {
namespace {

constexpr std::array<std::string_view, 7> kKeyTypes = {
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
};

// Far above any real key (an 16384-bit RSA key is ~2 KiB): bounds what jitd stores.
constexpr std::size_t kMaxBlobBytes = 8192;
constexpr std::size_t kMaxKeyCommentLength = 256;

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) {
    const std::size_t at = kAlphabet.find(c);
    return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

std::string_view next_token(std::string_view& rest) {
    while (!rest.empty() && is_blank(rest.front())) {
        rest.remove_prefix(1);
    }
    std::size_t end = 0;
    while (end < rest.size() && !is_blank(rest[end])) {
        ++end;
    }
    std::string_view token = rest.substr(0, end);
    rest.remove_prefix(end);
    return token;
}

// The string at the start of an SSH wire-format blob (uint32 length, then the bytes).
std::optional<std::string_view> leading_string(std::string_view blob) {
    if (blob.size() < 4) {
        return std::nullopt;
    }
    std::uint32_t length = 0;
    for (int i = 0; i < 4; ++i) {
        length = (length << 8) | static_cast<unsigned char>(blob[i]);
    }
    if (length > blob.size() - 4) {
        return std::nullopt;
    }
    return blob.substr(4, length);
}

[[noreturn]] void refuse_first_token(std::string_view token) {
    // authorized_keys options come before the type: a key with options is a restricted key,
    // and jit writes keys without restrictions, so such a line is refused rather than widened.
    if (token.find('=') != std::string_view::npos || token.find(',') != std::string_view::npos ||
        token == "restrict" || token.rfind("no-", 0) == 0 || token == "cert-authority") {
        throw_invalid("the key line starts with options (" + quote_for_message(token) +
                      "): register the bare key, \"TYPE BASE64 [COMMENT]\"");
    }
    throw_invalid("unsupported key type " + quote_for_message(token) +
                  " (use ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa or an sk- key)");
}

}  // namespace

bool is_supported_key_type(std::string_view type) {
    return std::find(kKeyTypes.begin(), kKeyTypes.end(), type) != kKeyTypes.end();
}

std::string base64_encode(std::string_view bytes, bool pad) {
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const auto n = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += kAlphabet[(n >> 6) & 63];
        out += kAlphabet[n & 63];
    }
    const std::size_t left = bytes.size() - i;
    if (left > 0) {
        auto n = static_cast<unsigned char>(bytes[i]) << 16;
        if (left == 2) {
            n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        }
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        if (left == 2) {
            out += kAlphabet[(n >> 6) & 63];
        }
        if (pad) {
            out.append(3 - left, '=');
        }
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    std::size_t padding = 0;
    while (padding < 2 && !text.empty() && text.back() == '=') {
        text.remove_suffix(1);
        ++padding;
    }
    if ((text.size() + padding) % 4 != 0 || text.size() % 4 == 1) {
        return std::nullopt;
    }
    std::string out;
    std::uint32_t bits = 0;
    int count = 0;
    for (char c : text) {
        const int value = base64_value(c);
        if (value < 0) {
            return std::nullopt;
        }
        bits = (bits << 6) | static_cast<std::uint32_t>(value);
        count += 6;
        if (count >= 8) {
            count -= 8;
            out += static_cast<char>((bits >> count) & 0xFF);
        }
    }
    // Leftover bits must be zero, or two spellings would decode to the same key.
    if ((bits & ((1u << count) - 1)) != 0) {
        return std::nullopt;
    }
    return out;
}

PublicKey parse_public_key(std::string_view line) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
        line.remove_suffix(1);
    }
    if (line.size() > 2 * kMaxBlobBytes) {
        throw_invalid("the key line is too long for an ssh public key");
    }
    std::string_view rest = line;
    const std::string_view type = next_token(rest);
    if (type.empty()) {
        throw_invalid("no public key given (expected \"TYPE BASE64 [COMMENT]\")");
    }
    if (!is_supported_key_type(type)) {
        refuse_first_token(type);
    }
    const std::string_view encoded = next_token(rest);
    if (encoded.empty()) {
        throw_invalid("the " + std::string(type) + " key has no key data after its type");
    }
    std::optional<std::string> blob = base64_decode(encoded);
    if (!blob || blob->empty()) {
        throw_invalid("the key data of the " + std::string(type) + " key is not valid base64");
    }
    if (blob->size() > kMaxBlobBytes) {
        throw_invalid("the key data is too long for an ssh key");
    }
    const std::optional<std::string_view> inner = leading_string(*blob);
    if (!inner || *inner != type) {
        throw_invalid("the key data is not a " + std::string(type) + " key" +
                      (inner ? " (it holds " + quote_for_message(*inner) + ")" : std::string()));
    }
    while (!rest.empty() && is_blank(rest.front())) {
        rest.remove_prefix(1);
    }
    while (!rest.empty() && is_blank(rest.back())) {
        rest.remove_suffix(1);
    }
    const std::string comment(rest);
    validate_text("key comment", comment, kMaxKeyCommentLength);
    return PublicKey{std::string(type), base64_encode(*blob), std::move(*blob), comment};
}

std::optional<std::string> key_from_auth_info(std::string_view auth_info) {
    while (!auth_info.empty()) {
        const std::size_t end = auth_info.find('\n');
        std::string_view line = auth_info.substr(0, end);
        auth_info = end == std::string_view::npos ? std::string_view() : auth_info.substr(end + 1);
        if (next_token(line) != "publickey") {
            continue;
        }
        try {
            PublicKey key = parse_public_key(line);
            return key.key_text();
        } catch (const JitError&) {
            return std::nullopt;  // a certificate or a type jit does not register
        }
    }
    return std::nullopt;
}

}  // namespace jit
