// SPDX-License-Identifier: Apache-2.0
// Names on the bus shared by jitd, jitctl and pam_jit (see dbus/io.jitd.Jit1.xml).
#pragma once

#include "jit/error.hpp"

namespace jit::bus {

inline constexpr const char* kServiceName = "io.jitd.Jit1";
inline constexpr const char* kObjectPath = "/io/jitd/Jit1";
inline constexpr const char* kManagerInterface = "io.jitd.Jit1.Manager";
inline constexpr const char* kPamInterface = "io.jitd.Jit1.Pam";

inline constexpr const char* kErrorInvalidInput = "io.jitd.Jit1.Error.InvalidInput";
inline constexpr const char* kErrorNotFound = "io.jitd.Jit1.Error.NotFound";
inline constexpr const char* kErrorConflict = "io.jitd.Jit1.Error.Conflict";
inline constexpr const char* kErrorPermissionDenied = "io.jitd.Jit1.Error.PermissionDenied";
inline constexpr const char* kErrorFailed = "io.jitd.Jit1.Error.Failed";
inline constexpr const char* kErrorInternal = "org.freedesktop.DBus.Error.Failed";

const char* error_name(ErrorCode code);
// Unknown names (e.g. org.freedesktop.DBus.Error.*) map to Internal.
ErrorCode error_code_from_name(const char* name);

}  // namespace jit::bus
