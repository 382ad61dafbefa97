// SPDX-License-Identifier: Apache-2.0
// What the user reads through the PAM conversation, and how untrusted PAM items are made safe
// for one-line logs and the spool.
#pragma once

#include <string>
#include <string_view>

#include "jit/access.hpp"

namespace jit::pam {

// Replaces every control character (tab and newline included) with '?', and when what is left
// is still not printable text (invalid UTF-8, C1 controls, bidi overrides: see
// jit::is_printable_text) every non-ASCII byte too. PAM items come from remote peers.
std::string sanitized(std::string_view text);

// The most jitd accepts in one field of a login attempt.
inline constexpr std::size_t kMaxItemBytes = 256;

// "2026-11-26 16:05:00 UTC".
std::string format_utc(EpochSeconds instant);

// On deny: which resource(s) cover the login and the exact command that requests access.
std::string denial_message(const LoginDecision& decision);

// On allow under a grant: which grant and when it ends.
std::string grant_notice(const LoginDecision& decision);

// When neither jitd nor a snapshot can decide.
std::string unavailable_message(const std::string& target);

}  // namespace jit::pam
