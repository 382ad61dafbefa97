// SPDX-License-Identifier: Apache-2.0
#include "jit/os.hpp"

#include <time.h>

#include <system_error>

namespace jit {

std::uint64_t monotonic_usec() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000 +
           static_cast<std::uint64_t>(now.tv_nsec) / 1000;
}

std::string errno_text(int error) {
    return std::error_code(error, std::generic_category()).message();
}

}  // namespace jit
