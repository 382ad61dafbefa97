// SHA-256 for the audit chain, through OpenSSL's EVP interface (libcrypto).

#include <openssl/err.h>
#include <openssl/evp.h>

#include <string>

#include "jit/error.hpp"
#include "jit/store.hpp"

namespace jit {

std::string sha256_hex(const std::string& data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
        char reason[256] = "unknown error";
        ERR_error_string_n(ERR_get_error(), reason, sizeof reason);
        throw JitError(ErrorCode::Internal, std::string("sha256: EVP_Digest failed: ") + reason);
    }
    static constexpr char kHexDigits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(2 * length);
    for (unsigned int i = 0; i < length; ++i) {
        hex += kHexDigits[digest[i] >> 4];
        hex += kHexDigits[digest[i] & 0x0f];
    }
    return hex;
}

}  // namespace jit
