// SPDX-License-Identifier: Apache-2.0
// pam_jit's side of io.jitd.Jit1.Pam. Every call opens its own system bus connection and closes
// it before returning: a PAM handle lives on across sshd's forks, a bus connection must not.
// The whole call, connection set-up included, ends by the caller's timeout.
#pragma once

#include <cstdint>
#include <string>

#include "jit/access.hpp"

namespace jit::pam {

enum class JitdStatus {
    Answered,     // jitd decided (or closed the session)
    Refused,      // jitd answered with an error: decided from the snapshot, never opened
    Unreachable,  // no answer: no bus, no jitd, timeout, broken reply; fall back
};

struct JitdReply {
    JitdStatus status = JitdStatus::Unreachable;
    LoginDecision decision;  // Answered CheckLogin/OpenSession
    Id session_id = 0;       // Answered OpenSession under a grant
    std::string error;       // Refused/Unreachable: what happened, one line for the log
};

JitdReply check_login(const LoginAttempt& attempt, std::uint64_t timeout_usec);

// pid: the process that opened the session; logind_session: XDG_SESSION_ID or "".
JitdReply open_session(const LoginAttempt& attempt, std::int64_t pid,
                       const std::string& logind_session, std::uint64_t timeout_usec);

JitdReply close_session(Id session_id, std::uint64_t timeout_usec);

}  // namespace jit::pam
