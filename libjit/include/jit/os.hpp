// SPDX-License-Identifier: Apache-2.0
// Small wrappers around the C library that the core, the module and the programs share.
#pragma once

#include <cstdint>
#include <string>

namespace jit {

// CLOCK_MONOTONIC in microseconds: for timeouts and budgets, never for instants.
std::uint64_t monotonic_usec();

// The text of a (positive) errno value, e.g. "No such file or directory"; thread-safe.
std::string errno_text(int error);

}  // namespace jit
