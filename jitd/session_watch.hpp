// SPDX-License-Identifier: Apache-2.0
// Watches the registered process of each open session through a pidfd, so that a session whose
// process ends without a logout (sshd or sudo killed, a crash) is closed the moment it ends
// rather than at jitd's next periodic check. The periodic check stays as the safety net: for a
// process that could not be watched (no pidfd, out of file descriptors) and for watches whose
// session ended by other means.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "jit/model.hpp"
#include "sd_handles.hpp"

namespace jitd {

class SessionWatch {
  public:
    // on_exit(session id) runs from the event loop once the watched process has ended.
    using OnExit = std::function<void(jit::Id)>;

    SessionWatch(sd_event* event, OnExit on_exit);
    ~SessionWatch();
    SessionWatch(const SessionWatch&) = delete;
    SessionWatch& operator=(const SessionWatch&) = delete;

    // Watches the session's process, if it has one and it is still the process that was
    // registered (same start time). Failures are logged once and leave the session to the
    // periodic check.
    void watch(const jit::Session& session);

    // Drops the watches of sessions that are no longer open (ended by logout, expiry or
    // revocation while their process runs on).
    void keep_only(const std::vector<jit::Session>& open);
    // Drops the watches of these sessions: jitd ends them and records their end itself. Left in
    // place, thousands of them (a mass expiry) would all be ready at once and polled again on
    // every turn of the loop until each had its turn.
    void forget(const std::vector<jit::Session>& ended);

    std::size_t size() const { return watches_.size(); }

  private:
    struct Watch;
    static int on_process_exit(sd_event_source* source, int fd, uint32_t revents, void* userdata);

    sd_event* event_;
    OnExit on_exit_;
    std::unordered_map<jit::Id, std::unique_ptr<Watch>> watches_;
    bool failure_logged_ = false;
};

}  // namespace jitd
