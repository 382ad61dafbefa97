// SPDX-License-Identifier: Apache-2.0
// Names on the bus shared by jitd, jitctl and pam_jit. Every name and signature comes from
// jit/bus_contract.hpp, generated from dbus/io.jitd.Jit1.xml; this header adds the one table
// that ties each error to its ErrorCode and to jitctl's exit status.
#pragma once

#include <span>

#include "jit/bus_contract.hpp"
#include "jit/error.hpp"

namespace jit::bus {

// What a storage or OS failure goes out as (ErrorCode::Internal): the bus's generic failure.
inline constexpr const char* kErrorInternal = "org.freedesktop.DBus.Error.Failed";

// One kind of error: its code in the core, its name on the bus and the exit status jitctl
// gives it (docs/jitctl.md).
struct ErrorKind {
    ErrorCode code;
    const char* name;
    int exit_status;
};

// Every ErrorCode once, Internal included.
std::span<const ErrorKind> error_kinds();

const char* error_name(ErrorCode code);
// Unknown names (e.g. org.freedesktop.DBus.Error.*) map to Internal.
ErrorCode error_code_from_name(const char* name);
int exit_status_for(ErrorCode code);

}  // namespace jit::bus
