// SPDX-License-Identifier: Apache-2.0
// notify_command (jitd.conf(5)): runs `/bin/sh -c COMMAND` for every request created/decided and
// grant started/ended with the event as one JSON object on stdin, so a site can wire mail or
// chat. It never blocks jitd: the child is reaped by the event loop, killed (its whole process
// group) after notify_timeout, and at most a few run at once; the rest wait in a bounded queue.
#pragma once

#include <sys/types.h>
#include <systemd/sd-event.h>

#include <deque>
#include <list>
#include <memory>
#include <string>

#include "jit/model.hpp"
#include "sd_handles.hpp"

namespace jitd {

// The JSON objects notify_command reads: {"event": "request_created", "host": ..., then the
// record's jitctl JSON keys (times RFC 3339 UTC or null, durations in seconds)}. Request events
// also carry "approvers" (the policy's approvers, "user" or "@group").
std::string request_notification(const std::string& event, const jit::Request& request,
                                 const std::vector<std::string>& approvers);
std::string grant_notification(const std::string& event, const jit::Grant& grant);

class Notifier {
  public:
    Notifier(sd_event* event, std::string command, jit::Seconds timeout);

    bool enabled() const { return !command_.empty(); }
    // Queues one notification (`payload`, a JSON object, about `event`); does nothing without
    // notify_command.
    void notify(std::string event, std::string payload);

  private:
    struct Job {
        Notifier* owner;
        pid_t pid;
        std::string event;  // for log lines
        EventSourcePtr exit_watch;
        EventSourcePtr timeout;
    };

    void start_queued();
    struct Queued {
        std::string event;
        std::string payload;
    };
    void spawn(const Queued& notification);
    void finish(Job* job);
    static int on_exit(sd_event_source*, const siginfo_t* info, void* userdata);
    static int on_timeout(sd_event_source*, uint64_t, void* userdata);

    sd_event* event_;
    std::string command_;
    jit::Seconds timeout_;
    std::deque<Queued> queue_;
    std::list<std::unique_ptr<Job>> running_;
};

}  // namespace jitd
