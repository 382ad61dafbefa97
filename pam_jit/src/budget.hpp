// SPDX-License-Identifier: Apache-2.0
// How long one PAM handle may still wait for jitd. sshd and sudo run the account and the session
// stack on one handle: together they form one login, and a login never waits longer than
// timeout= (pam_jit(8)). So the calls of a login share one timeout, and once jitd failed to answer
// one of them the others fall back at once instead of waiting again.
//
// A handle can live for hours (sshd keeps it until the logout): only the calls within
// kLoginWindowUsec of the first one count as the same login; a later call starts afresh.
#pragma once

#include <cstdint>
#include <optional>

namespace jit::pam {

inline constexpr std::uint64_t kLoginWindowUsec = 30'000'000;

class JitdBudget {
  public:
    // What a call starting at now_usec (CLOCK_MONOTONIC) may wait for jitd; 0 when it must
    // fall back at once (see unreachable() for why).
    std::uint64_t allowance_usec(std::uint64_t now_usec, std::uint64_t timeout_usec);

    // Records a call that ran from started_usec to ended_usec and whether jitd answered it.
    void charge(std::uint64_t started_usec, std::uint64_t ended_usec, bool answered);

    // True when jitd did not answer an earlier call of this login (else the timeout is spent).
    bool unreachable() const { return unreachable_; }

  private:
    std::optional<std::uint64_t> login_started_usec_;
    std::uint64_t spent_usec_ = 0;
    bool unreachable_ = false;
};

}  // namespace jit::pam
