// SPDX-License-Identifier: Apache-2.0
// Errors of the domain core. Every failure the core reports is a JitError whose code tells
// the adaptors (D-Bus, CLI, PAM) how to classify it; the message is one clear line for humans.
#pragma once

#include <stdexcept>
#include <string>

namespace jit {

enum class ErrorCode {
    InvalidInput,      // malformed argument: bad duration, name, reason, config value
    NotFound,          // unknown resource, policy, request, grant
    Conflict,          // duplicate request/grant, object exists, wrong state
    PermissionDenied,  // caller lacks the role for this action
    Failed,            // anything else that is the caller's concern (e.g. no active policy)
    Internal,          // storage or OS failure; not the caller's fault
    Unavailable,       // a fleet's shared store cannot be reached; try again later
};

// A failure with one line for humans and a code that classifies it (an ErrorCode here; jitctl's
// exit status, an errno in jitd).
template <typename Code>
class CodedError : public std::runtime_error {
  public:
    CodedError(Code code, const std::string& message) : std::runtime_error(message), code_(code) {}
    Code code() const noexcept { return code_; }

  private:
    Code code_;
};

class JitError : public CodedError<ErrorCode> {
  public:
    using CodedError<ErrorCode>::CodedError;
};

// A fleet's store refused a change because other hosts changed it since this host last read
// its change feed: the host applies the feed and runs the operation again (docs/fleet.md).
class StoreBehind : public JitError {
  public:
    explicit StoreBehind(const std::string& store)
        : JitError(ErrorCode::Unavailable,
                   store + " changed on another host meanwhile; try again") {}
};

[[noreturn]] void throw_invalid(const std::string& message);
[[noreturn]] void throw_not_found(const std::string& message);
[[noreturn]] void throw_conflict(const std::string& message);
[[noreturn]] void throw_denied(const std::string& message);
[[noreturn]] void throw_failed(const std::string& message);

}  // namespace jit
