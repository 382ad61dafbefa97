// SPDX-License-Identifier: Apache-2.0
// SHA-256 for the audit chain and ssh key fingerprints, through OpenSSL's EVP interface
// (libcrypto).

#include <openssl/err.h>
#include <openssl/evp.h>

#include <string>

#include "jit/error.hpp"
#include "jit/ssh_key.hpp"
#include "jit/store.hpp"

namespace jit {
namespace {

std::string sha256_bytes(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
        char reason[256] = "unknown error";
        ERR_error_string_n(ERR_get_error(), reason, sizeof reason);
        throw JitError(ErrorCode::Internal, std::string("sha256: EVP_Digest failed: ") + reason);
    }
    return std::string(reinterpret_cast<const char*>(digest), length);
}

}  // namespace

std::string ssh_fingerprint(std::string_view blob) {
    return "SHA256:" + base64_encode(sha256_bytes(blob), false);
}

std::string sha256_hex(const std::string& data) {
    const std::string digest = sha256_bytes(data);
    const std::size_t length = digest.size();
    static constexpr char kHexDigits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(2 * length);
    for (std::size_t i = 0; i < length; ++i) {
        const auto byte = static_cast<unsigned char>(digest[i]);
        hex += kHexDigits[byte >> 4];
        hex += kHexDigits[byte & 0x0f];
    }
    return hex;
}

}  // namespace jit
