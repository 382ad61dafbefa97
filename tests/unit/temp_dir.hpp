// SPDX-License-Identifier: Apache-2.0
// A private directory for one test or benchmark, under TMPDIR (default /tmp), removed with
// everything in it when it goes out of scope. Shared by the unit tests, jitd's and pam_jit's unit
// tests and the benchmarks.
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace jit::testing {

class TempDir {
  public:
    // The directory is TMPDIR/PREFIX-XXXXXX.
    explicit TempDir(const std::string& prefix) {
        const char* base = std::getenv("TMPDIR");
        std::string pattern = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
        if (!mkdtemp(pattern.data())) {
            throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
        }
        path_ = pattern;
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

}  // namespace jit::testing
