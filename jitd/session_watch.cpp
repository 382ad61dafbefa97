// SPDX-License-Identifier: Apache-2.0
#include "session_watch.hpp"

#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "process_tree.hpp"

namespace jitd {

struct SessionWatch::Watch {
    SessionWatch* owner = nullptr;
    jit::Id session = 0;
    UniqueFd pidfd;
    EventSourcePtr source;
};

SessionWatch::SessionWatch(sd_event* event, OnExit on_exit)
    : event_(event), on_exit_(std::move(on_exit)) {}

SessionWatch::~SessionWatch() = default;

void SessionWatch::watch(const jit::Session& session) {
    if (session.pid <= 0 || session.pid > INT_MAX || watches_.count(session.id)) {
        return;
    }
    const auto pid = static_cast<pid_t>(session.pid);
    // Through syscall(2): Debian 12's <sys/pidfd.h> lacks the C linkage for C++ callers.
    auto watch = std::make_unique<Watch>();
    watch->owner = this;
    watch->session = session.id;
    watch->pidfd = UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
    int error = watch->pidfd ? 0 : errno;
    // The pidfd pins whatever process holds the pid now; it is the session's only if it
    // started when the registered one did. Otherwise the process is gone already, which the
    // periodic check (and start-up) handle.
    if (!error && !registered_process_may_run(pid, static_cast<std::uint64_t>(session.pid_start))) {
        return;
    }
    sd_event_source* source = nullptr;
    if (!error) {
        int r = sd_event_add_io(event_, &source, watch->pidfd.get(), EPOLLIN, on_process_exit,
                                watch.get());
        error = r < 0 ? -r : 0;
    }
    if (error == ESRCH) {
        return;  // ended before it could be watched: the periodic check closes it
    }
    if (error) {
        if (!failure_logged_) {
            spdlog::warn(
                "cannot watch the process of session {} (pid {}): {}; sessions whose process "
                "ends without a logout are closed by the periodic check instead",
                session.id, session.pid, std::strerror(error));
            failure_logged_ = true;
        }
        return;
    }
    watch->source.reset(source);
    watches_.emplace(session.id, std::move(watch));
}

void SessionWatch::keep_only(const std::vector<jit::Session>& open) {
    std::unordered_set<jit::Id> still_open;
    for (const jit::Session& session : open) {
        still_open.insert(session.id);
    }
    std::erase_if(watches_, [&](const auto& entry) { return !still_open.count(entry.first); });
}

void SessionWatch::forget(const std::vector<jit::Session>& ended) {
    for (const jit::Session& session : ended) {
        watches_.erase(session.id);
    }
}

int SessionWatch::on_process_exit(sd_event_source*, int, uint32_t, void* userdata) {
    auto* watch = static_cast<Watch*>(userdata);
    SessionWatch* owner = watch->owner;
    const jit::Id session = watch->session;
    owner->watches_.erase(session);  // the source goes with it; sd-event allows that here
    owner->on_exit_(session);
    return 0;
}

}  // namespace jitd
