// SPDX-License-Identifier: Apache-2.0
#include "jit/bus_names.hpp"

#include <sysexits.h>

#include <cstring>

namespace jit::bus {

namespace {

// Internal goes out as the generic org.freedesktop.DBus.Error.Failed, and any name we do not
// know comes back as Internal. jitctl's statuses: 65 for a rejected value, 77 for a missing
// role, 69 for an unreachable store, 1 for everything else.
constexpr ErrorKind kErrorKinds[] = {
    {ErrorCode::InvalidInput, kErrorInvalidInput, EX_DATAERR},
    {ErrorCode::NotFound, kErrorNotFound, 1},
    {ErrorCode::Conflict, kErrorConflict, 1},
    {ErrorCode::PermissionDenied, kErrorPermissionDenied, EX_NOPERM},
    {ErrorCode::Failed, kErrorFailed, 1},
    {ErrorCode::Unavailable, kErrorUnavailable, EX_UNAVAILABLE},
    {ErrorCode::Internal, kErrorInternal, 1},
};

const ErrorKind& kind_of(ErrorCode code) {
    for (const auto& kind : kErrorKinds) {
        if (kind.code == code) {
            return kind;
        }
    }
    return kErrorKinds[std::size(kErrorKinds) - 1];
}

}  // namespace

std::span<const ErrorKind> error_kinds() {
    return kErrorKinds;
}

const char* error_name(ErrorCode code) {
    return kind_of(code).name;
}

ErrorCode error_code_from_name(const char* name) {
    if (name == nullptr) {
        return ErrorCode::Internal;
    }
    for (const auto& kind : kErrorKinds) {
        if (std::strcmp(kind.name, name) == 0) {
            return kind.code;
        }
    }
    return ErrorCode::Internal;
}

int exit_status_for(ErrorCode code) {
    return kind_of(code).exit_status;
}

}  // namespace jit::bus
