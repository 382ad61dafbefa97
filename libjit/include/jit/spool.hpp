// SPDX-License-Identifier: Apache-2.0
// The fallback spool (docs/login-decision.md: a fallback decision is audited once jitd is back).
// pam_jit appends one line per login it decided without jitd to `fallback.log` beside the
// snapshot; jitd audits each line and empties the file. Both sides use this one definition:
//
//   EPOCH \t OUTCOME \t SERVICE \t USER \t RUSER \t RHOST \t TTY \t PID \t GRANT_ID \t LOGIND
//   \t APP_UID \t LOGIN_UID \t FINGERPRINT \n
//
// APP_UID and LOGIN_UID are the PAM application's real and audit login uids, from which jitd
// works out the requester with the same rule as pam_jit.
//
// FINGERPRINT: the registered ssh key that named the requester in the snapshot's decision, ""
// otherwise (lines without it, from an older pam_jit, are read too).
//
// PID, GRANT_ID and LOGIND describe a session the session stack opened from the snapshot under
// a grant (0, 0 and "" otherwise): jitd registers it so that it still ends with its grant.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "jit/access.hpp"

namespace jit {

inline constexpr std::size_t kMaxSpoolFieldBytes = 256;

struct FallbackLogin {
    LoginAttempt attempt;
    // allowed | denied (from the snapshot) | open (fail=open) | unavailable (no usable
    // snapshot: denied) | exempt (a break-glass account, jitd not asked)
    std::string outcome;
    EpochSeconds when = 0;
    Id grant_id = 0;
    std::int64_t pid = 0;
    std::string logind_session;
    std::string fingerprint{};  // the registered key behind the login, or ""
};

bool is_fallback_outcome(std::string_view outcome);

// One line, newline included. Text fields are made printable (make_printable) and cut to
// kMaxSpoolFieldBytes, so whatever PAM handed over, the line parses.
std::string format_fallback_line(const FallbackLogin& login);

// A line without its newline. JitError(InvalidInput) saying what is wrong.
FallbackLogin parse_fallback_line(std::string_view line);

// Why a spool file is not one pam_jit (as root) created, or "" when it is: a regular file,
// owned by root, no group/other permission bits, one link. Writer and reader refuse the same.
std::string unsafe_spool_file(const struct stat& st);

}  // namespace jit
