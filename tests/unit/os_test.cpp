// SPDX-License-Identifier: Apache-2.0
// The C library wrappers: errno texts and the monotonic clock.
#include "jit/os.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace jit {
namespace {

TEST(ErrnoText, SaysWhatTheErrorMeans) {
    EXPECT_EQ(errno_text(ENOENT), "No such file or directory");
    EXPECT_EQ(errno_text(EACCES), "Permission denied");
}

TEST(MonotonicUsec, NeverGoesBack) {
    const std::uint64_t first = monotonic_usec();
    EXPECT_GT(first, 0u);
    EXPECT_GE(monotonic_usec(), first);
}

}  // namespace
}  // namespace jit
