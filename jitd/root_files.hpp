// SPDX-License-Identifier: Apache-2.0
// Files jitd writes for others to trust (pam_jit's snapshot, sshd's authorized keys): they live
// in directories only root can write, are replaced atomically (a temporary file in the same
// directory, synced, renamed over the old one) so readers never see half a file, and a failed
// write is retried without flooding the log.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

namespace jitd {

// mkdir -p with `mode` for the directories it creates. Throws JitError(Internal).
void make_directories(const std::string& path, mode_t mode);

// At start-up: creates `dir` with `mode` when missing; throws JitError(Internal) saying
// "the WHAT DIR PROBLEM (WHY)" when it exists but is not a directory owned by root that only root
// can write. Returns true when it created the directory.
bool prepare_root_directory(const std::string& dir, mode_t mode, const std::string& what,
                            const std::string& why);

// Writes `contents` to a new temporary file made from `temp_template` (mkostemp: it ends in
// XXXXXX, mode 0600), lets `adjust(fd, temp)` set its owner and mode, syncs it and renames it
// over `path`. On failure nothing replaced `path`, the temporary file is gone and
// JitError(Internal) names the step and the file.
void replace_file(const std::string& path, std::string temp_template, const std::string& contents,
                  const std::function<void(int fd, const std::string& temp)>& adjust = {});

// Throws JitError(Internal) "WHAT PATH: strerror(errno)".
[[noreturn]] void throw_os_error(const std::string& what, const std::string& path);

// A write that is due when marked, retried until it succeeds; its first failure is logged once,
// critically, with what the failure means for logins, and its recovery once.
class RetriedWrite {
  public:
    // Failures read "cannot update THE_FILES: ERROR; CONSEQUENCE; retrying", the recovery
    // "THE_FILES written again".
    RetriedWrite(std::string the_files, std::string consequence)
        : the_files_(std::move(the_files)), consequence_(std::move(consequence)) {}

    void mark_due() { due_ = true; }
    bool due() const { return due_; }
    // Runs `write` when due; a success makes it no longer due.
    void run_if_due(const std::function<void()>& write);
    // The last write failed and it is still due.
    bool failing() const { return failing_ && due_; }
    void written() { due_ = false; }

  private:
    std::string the_files_;
    std::string consequence_;
    bool due_ = false;
    bool failing_ = false;
};

}  // namespace jitd
