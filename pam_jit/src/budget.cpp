// SPDX-License-Identifier: Apache-2.0
#include "budget.hpp"

namespace jit::pam {

std::uint64_t JitdBudget::allowance_usec(std::uint64_t now_usec, std::uint64_t timeout_usec) {
    if (!login_started_usec_ || now_usec - *login_started_usec_ >= kLoginWindowUsec) {
        login_started_usec_ = now_usec;
        spent_usec_ = 0;
        unreachable_ = false;
    }
    if (unreachable_ || spent_usec_ >= timeout_usec) {
        return 0;
    }
    return timeout_usec - spent_usec_;
}

void JitdBudget::charge(std::uint64_t started_usec, std::uint64_t ended_usec, bool answered) {
    spent_usec_ += ended_usec > started_usec ? ended_usec - started_usec : 0;
    unreachable_ = unreachable_ || !answered;
}

}  // namespace jit::pam
