// SPDX-License-Identifier: Apache-2.0
// pam_jit's record of the logins it decided without jitd (docs/login-decision.md), to be
// audited once jitd is back. pam_jit appends one line per decision (jit/spool.hpp) to
// fallback.log next to the snapshot, holding flock(LOCK_EX) while it writes. jitd audits each
// line through JitService::record_fallback, at start-up and whenever pam_jit closes the file
// after writing, under the same lock.
//
// Only a file pam_jit (root) could have made is read: a regular file owned by root, with no
// group or other permission bits and one link; anything else is left alone and logged.
//
// A line is audited at most once: right after its audit commits (or it is found bad), jitd
// overwrites its first byte with '#' (one byte, so a crash cannot leave half a mark), and
// skips marked lines. Once every line is handled the file is emptied.
#pragma once

#include <systemd/sd-event.h>

#include <string>

#include "jit/service.hpp"
#include "sd_handles.hpp"

namespace jitd {

class FallbackSpool {
  public:
    FallbackSpool(sd_event* event, std::string directory, jit::JitService& service);

    const std::string& path() const { return path_; }

    // Audits what pam_jit spooled while jitd was away, then watches for new lines.
    void start();
    // Audits the lines not audited yet (also called by the watch).
    void process();
    // The store is back after it failed: the lines it refused are audited now rather than at
    // the next retry.
    void retry_now() {
        retry_after_usec_ = 0;
        process();
    }

  private:
    UniqueFd open_locked(uint64_t now);
    static int on_inotify(sd_event_source*, const struct inotify_event* event, void* userdata);

    sd_event* event_;
    std::string directory_;
    std::string path_;
    jit::JitService& service_;
    EventSourcePtr watch_;
    uint64_t retry_after_usec_ = 0;  // CLOCK_MONOTONIC
};

}  // namespace jitd
