// pam_jit's record of the logins it decided without jitd (SPEC §7: "the fallback is logged and
// audited once jitd is back"). pam_jit appends one line per decision to fallback.log next to
// the snapshot, holding flock(LOCK_EX) while it writes:
//
//     EPOCH \t OUTCOME \t SERVICE \t USER \t RUSER \t RHOST \t TTY \t PID \t GRANT_ID \t LOGIND \n
//
// OUTCOME is allowed | denied (decided from the snapshot) | open (fail=open) | unavailable (no
// usable snapshot: denied); a control character inside a field is written as '?'. PID, GRANT_ID
// and LOGIND describe a session the session stack opened from the snapshot under a grant
// (0, 0 and empty otherwise): jitd registers it so that it ends with its grant.
// jitd audits each line through JitService::record_fallback and empties the file, at start-up
// and whenever pam_jit closes the file after writing.
#pragma once

#include <systemd/sd-event.h>

#include <string>
#include <string_view>

#include "jit/access.hpp"
#include "jit/service.hpp"
#include "sd_handles.hpp"

namespace jitd {

// Throws JitError(InvalidInput) saying what is wrong with the line.
jit::FallbackLogin parse_fallback_line(std::string_view line);

class FallbackSpool {
  public:
    FallbackSpool(sd_event* event, std::string directory, jit::JitService& service);

    // Audits what pam_jit spooled while jitd was away, then watches for new lines.
    void start();

  private:
    void process();
    static int on_inotify(sd_event_source*, const struct inotify_event* event, void* userdata);

    sd_event* event_;
    std::string directory_;
    std::string path_;
    jit::JitService& service_;
    EventSourcePtr watch_;
    uint64_t retry_after_usec_ = 0;  // CLOCK_MONOTONIC
};

}  // namespace jitd
