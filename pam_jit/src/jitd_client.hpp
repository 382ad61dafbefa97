// SPDX-License-Identifier: Apache-2.0
// pam_jit's side of io.jitd.Jit1.Pam. A call opens its own system bus connection, or takes the
// one the account call of the same login left in a KeptConnection; the whole call, connection
// set-up included, ends by the caller's timeout.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "jit/access.hpp"

typedef struct sd_bus sd_bus;  // <systemd/sd-bus.h>, left to the implementation

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

// The bus connection of a CheckLogin that jitd answered, kept on the PAM handle for the
// OpenSession of the same login: sudo, su and sshd run both stacks in one process, and the
// session call then neither connects nor authenticates again. It belongs to the process that
// opened it; after a fork it is dropped, never used (sd-bus forbids it, and the peer would be
// the parent's). OpenSession always takes it, so no connection outlives the login's set-up.
class KeptConnection {
  public:
    KeptConnection() = default;
    ~KeptConnection();
    KeptConnection(const KeptConnection&) = delete;
    KeptConnection& operator=(const KeptConnection&) = delete;

  private:
    friend struct KeptConnectionAccess;
    sd_bus* bus_ = nullptr;
    pid_t owner_ = 0;
};

// keep: where to leave the connection when jitd answered (null: close it).
JitdReply check_login(const LoginAttempt& attempt, std::uint64_t timeout_usec,
                      KeptConnection* keep = nullptr);

// pid: the process that opened the session; logind_session: XDG_SESSION_ID or "".
// kept: a connection left by check_login, taken (and closed after the call) when it is this
// process's; a broken one costs nothing but a fresh connection.
JitdReply open_session(const LoginAttempt& attempt, std::int64_t pid,
                       const std::string& logind_session, std::uint64_t timeout_usec,
                       KeptConnection* kept = nullptr);

JitdReply close_session(Id session_id, std::uint64_t timeout_usec);

}  // namespace jit::pam
