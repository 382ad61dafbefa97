// SPDX-License-Identifier: Apache-2.0
// jitctl's exit statuses (docs/jitctl.md) and the one exception that carries them to main().
#pragma once

#include <sysexits.h>

#include <stdexcept>
#include <string>

#include "jit/bus_names.hpp"
#include "jit/error.hpp"

namespace jitctl {

// The BSD sysexits names say what each status means.
enum ExitStatus : int {
    kExitOk = 0,
    kExitFailed = 1,                    // not found, conflict, denied, timed out
    kExitUsage = EX_USAGE,              // 64: bad command line
    kExitInvalidInput = EX_DATAERR,     // 65: a value jitd (or jit_core locally) rejects
    kExitUnreachable = EX_UNAVAILABLE,  // 69: no bus, jitd not running or not answering
    kExitNotPermitted = EX_NOPERM,      // 77: the caller lacks the role
};

// A failure that ends the command: one line for stderr (without the "jitctl: " prefix) and the
// exit status it stands for.
class CommandError : public jit::CodedError<int> {
  public:
    using CodedError<int>::CodedError;
    int status() const noexcept { return code(); }
};

// How a jit_core error (local validation) maps onto the exit statuses: the same table that
// maps jitd's error names (jit/bus_names.hpp).
inline int exit_status_for(jit::ErrorCode code) {
    return jit::bus::exit_status_for(code);
}

}  // namespace jitctl
