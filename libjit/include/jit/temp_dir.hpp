// SPDX-License-Identifier: Apache-2.0
// A private directory (mode 0700, from mkdtemp) under TMPDIR (default /tmp), removed with
// everything in it when it goes out of scope: `jitd --import`'s copy of a database, and the
// tests' and benchmarks' scratch space.
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "jit/error.hpp"

namespace jit {

class TempDir {
  public:
    // The directory is TMPDIR/PREFIX-XXXXXX.
    explicit TempDir(const std::string& prefix) {
        const char* base = std::getenv("TMPDIR");
        path_ = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
        if (mkdtemp(path_.data()) == nullptr) {
            throw JitError(ErrorCode::Internal,
                           "cannot create a directory " + path_ + ": " + std::strerror(errno));
        }
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

}  // namespace jit
