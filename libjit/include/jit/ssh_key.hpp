// SPDX-License-Identifier: Apache-2.0
// OpenSSH public keys as people register them (docs/shared-accounts-over-ssh.md): one line of
// an authorized_keys file without options, "TYPE BASE64 [COMMENT]". Plain C++: pam_jit links
// this too (it reads the key sshd hands its session stack), so no hashing here; the SHA256
// fingerprint is computed by jitd and jitctl (jit/store.hpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace jit {

struct PublicKey {
    std::string type;     // ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, sk-...
    std::string base64;   // the blob, canonical (padded) base64
    std::string blob;     // the decoded blob: what the fingerprint covers
    std::string comment;  // may be empty

    // "TYPE BASE64": how the key is matched (the comment is no part of the key).
    std::string key_text() const { return type + " " + base64; }
};

// The key types jit accepts (the ones sshd on Debian 12 accepts for users, certificates aside).
bool is_supported_key_type(std::string_view type);

// Parses one public key line. Throws JitError(InvalidInput) with one clear line: leading
// options (command="...", from=...), an unknown type, a blob that is not base64 or whose
// embedded type differs from the named one, an unprintable comment.
PublicKey parse_public_key(std::string_view line);

// The key in sshd's SSH_AUTH_INFO_0 (one "METHOD [DETAILS]" line per authentication method that
// succeeded): the first "publickey TYPE BASE64" line as "TYPE BASE64", canonical; nothing when
// the login did not use a key, or used one jit does not know the type of.
std::optional<std::string> key_from_auth_info(std::string_view auth_info);

// RFC 4648 base64. decode: strict (no whitespace, padding only at the end); nothing when bad.
std::string base64_encode(std::string_view bytes, bool pad = true);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace jit
