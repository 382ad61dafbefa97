// SPDX-License-Identifier: Apache-2.0
#include "jit/error.hpp"

namespace jit {

void throw_invalid(const std::string& message) {
    throw JitError(ErrorCode::InvalidInput, message);
}

void throw_not_found(const std::string& message) {
    throw JitError(ErrorCode::NotFound, message);
}

void throw_conflict(const std::string& message) {
    throw JitError(ErrorCode::Conflict, message);
}

void throw_denied(const std::string& message) {
    throw JitError(ErrorCode::PermissionDenied, message);
}

void throw_failed(const std::string& message) {
    throw JitError(ErrorCode::Failed, message);
}

}  // namespace jit
