// SPDX-License-Identifier: Apache-2.0
#include "jit/bus_names.hpp"

#include <cstring>

namespace jit::bus {

namespace {

struct ErrorMapping {
    ErrorCode code;
    const char* name;
};

// Internal is deliberately absent: it goes out as the generic org.freedesktop.DBus.Error.Failed,
// and any name we do not know comes back as Internal.
constexpr ErrorMapping kErrorMappings[] = {
    {ErrorCode::InvalidInput, kErrorInvalidInput},
    {ErrorCode::NotFound, kErrorNotFound},
    {ErrorCode::Conflict, kErrorConflict},
    {ErrorCode::PermissionDenied, kErrorPermissionDenied},
    {ErrorCode::Failed, kErrorFailed},
};

}  // namespace

const char* error_name(ErrorCode code) {
    for (const auto& mapping : kErrorMappings) {
        if (mapping.code == code) {
            return mapping.name;
        }
    }
    return kErrorInternal;
}

ErrorCode error_code_from_name(const char* name) {
    if (name == nullptr) {
        return ErrorCode::Internal;
    }
    for (const auto& mapping : kErrorMappings) {
        if (std::strcmp(mapping.name, name) == 0) {
            return mapping.code;
        }
    }
    return ErrorCode::Internal;
}

}  // namespace jit::bus
