// SPDX-License-Identifier: Apache-2.0
// OpenSSH public key lines and their SHA256 fingerprints (docs/shared-accounts-over-ssh.md). The
// vectors are keys made with ssh-keygen and the fingerprints `ssh-keygen -lf` printed for them.
#include <gtest/gtest.h>

#include "jit/error.hpp"
#include "jit/ssh_key.hpp"
#include "jit/store.hpp"

namespace jit {
namespace {

struct Vector {
    const char* line;
    const char* type;
    const char* fingerprint;
    const char* comment;
};

const Vector kVectors[] = {
    {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFsrTH3G6grGBA3STieNDbFyoJclZP26au/2xeQkiH+j vec-ed25519",
     "ssh-ed25519", "SHA256:6DMMbUU3t1gEOGY1zfGD6JIFwtG5wrMPzpe8kI2cJAE", "vec-ed25519"},
    {"ecdsa-sha2-nistp256 "
     "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBNCkvYqM7oK1JFQg3j1PDEJgqMZN4YmtsHFpt6vE"
     "r4N16mcQDiGzRIiLkvWf6UeB84ITA16fCMaOf0dsVLXG2z4= vec-ecdsa",
     "ecdsa-sha2-nistp256", "SHA256:WevFb1CfbrZnJJ6Rd7oqifIsY+JfYmskQ9MhNGrq2Zg", "vec-ecdsa"},
    {"ecdsa-sha2-nistp384 "
     "AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBO7PMrBpkFAlA0X7PuRpAYZvDK5A0HA7VfKlut/f"
     "0GiyDSw6WFHXML/CcQv6f2I/XXWql+qnhTCFtWMysvhk2oEM4jVUAo9MuShiH9jXs8Nai1quMiaSThxMPzCHZTRd3w==",
     "ecdsa-sha2-nistp384", "SHA256:06JNUo43mYuiJvdepOlaZtp7I1qUvjEWRqfziIOYAgg", ""},
    {"ssh-rsa "
     "AAAAB3NzaC1yc2EAAAADAQABAAABgQCP1NMyBc8qDcgV9tDRkK0RfelWfwVxAT4PdIpszEmUx9phI/"
     "4CaqtbNBEKUlet2g"
     "Csw9kAKnHR60UC20egy78T4oPGoNf9ZBeYb94WDUwX14CF6ohN2h46V6+vinD7eZ1Q+WyGIx8WU8ID9lfQER91FPY9h5m"
     "CT+DVTx8q/Kzj5/kzTW15d/ElM+Tq92mCpu5N/7l3O5RkTM3q2v+O6nuT/keaYKnkH30CvP4xi/"
     "jPpKHAVlibvw1yFAUf/"
     "wSoz2ToY0/HK1QWFjEGmUadALwLGa1XaHzv9TE7x6LwJiniYLfyGn2x3Qp4a0Ph2DD7SrWMG8JD4BpdNjaCEtKBu/"
     "yHfQU"
     "njwcDuB+PBGGwrfmpDs4WiynPpEjK2sz0Qf7MwjMNjzkYKvl3PHJVG0koonnipltjsUIfjmpF5MqV96/"
     "WL7tyR2rxvZFmy"
     "TgIWUe4rL8z4mC1TIduR2aJQTd7LDoBibCgR3L7OGQlXSc/QCz6UKyLi9cKyJyVG41qrekqeJM= vec rsa key",
     "ssh-rsa", "SHA256:P90OrzRnbbNMjg5ha6qxclwn/ANxJ3nU1vH+IyZkYN8", "vec rsa key"},
};

TEST(SshKey, FingerprintsAsSshKeygenPrintsThem) {
    for (const Vector& v : kVectors) {
        const PublicKey key = parse_public_key(v.line);
        EXPECT_EQ(key.type, v.type);
        EXPECT_EQ(key.comment, v.comment);
        EXPECT_EQ(ssh_fingerprint(key.blob), v.fingerprint) << v.type;
        // The canonical form is the line's own type and base64.
        EXPECT_EQ(std::string(v.line).rfind(key.key_text(), 0), 0u);
    }
}

TEST(SshKey, ToleratesBlanksAndALineEnd) {
    const PublicKey key = parse_public_key(std::string("  ") + kVectors[0].line + "  \r\n");
    EXPECT_EQ(key.comment, "vec-ed25519");
    EXPECT_EQ(ssh_fingerprint(key.blob), kVectors[0].fingerprint);
}

void expect_refused(const std::string& line, const std::string& why) {
    try {
        parse_public_key(line);
        ADD_FAILURE() << "accepted: " << line;
    } catch (const JitError& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
        EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
}

TEST(SshKey, RefusesWhatIsNotOneBareKey) {
    const std::string ed = "AAAAC3NzaC1lZDI1NTE5AAAAIFsrTH3G6grGBA3STieNDbFyoJclZP26au/2xeQkiH+j";
    expect_refused("command=\"/bin/true\" ssh-ed25519 " + ed, "options");
    expect_refused("from=\"10.0.0.0/8\",no-pty ssh-ed25519 " + ed, "options");
    expect_refused("restrict ssh-ed25519 " + ed, "options");
    expect_refused("ssh-dss AAAAB3NzaC1kc3MAAACBAP", "unsupported key type");
    expect_refused("", "no public key");
    expect_refused("ssh-ed25519", "no key data");
    expect_refused("ssh-ed25519 not*base64", "not valid base64");
    expect_refused("ssh-ed25519 " + ed.substr(0, ed.size() - 1), "not valid base64");
    // The blob of an ed25519 key named as RSA: the embedded type decides.
    expect_refused("ssh-rsa " + ed, "not a ssh-rsa key");
    expect_refused("ssh-ed25519 " + ed + " bad\tcomment", "key comment");
}

TEST(SshKey, Base64RoundTripsAndIsStrict) {
    for (std::string bytes : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
        EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes);
    }
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("fo", false), "Zm8");
    EXPECT_FALSE(base64_decode("Zm9=").has_value());  // non-zero leftover bits
    EXPECT_FALSE(base64_decode("Zm 8=").has_value());
    EXPECT_FALSE(base64_decode("Z").has_value());
}

TEST(SshKey, KeyFromSshdAuthInfo) {
    const std::string key = parse_public_key(kVectors[0].line).key_text();
    EXPECT_EQ(key_from_auth_info("publickey " + key + "\n"), key);
    EXPECT_EQ(key_from_auth_info("password\npublickey " + key), key);
    EXPECT_FALSE(key_from_auth_info("password\n").has_value());
    EXPECT_FALSE(key_from_auth_info("keyboard-interactive").has_value());
    EXPECT_FALSE(key_from_auth_info("publickey ssh-ed25519-cert-v01@openssh.com AAAA").has_value());
    EXPECT_FALSE(key_from_auth_info("").has_value());
}

}  // namespace
}  // namespace jit
