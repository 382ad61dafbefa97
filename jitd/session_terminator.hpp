// SPDX-License-Identifier: Apache-2.0
// Ends the sessions of a grant that ended (jitd(8)). A session jitd placed in a cgroup of its
// own is ended by that group (session_cgroups.hpp), even after a logout: processes that left
// the session's process tree end too. Otherwise, through logind when the registered pid leads
// its logind session (TerminateSession, then KillSession with SIGKILL after kill_grace for
// whatever of the scope still runs); otherwise, or when logind fails, SIGTERM to the registered
// pid and its descendants and SIGKILL to whatever still runs after kill_grace. The leader check
// matters: sudo inherits XDG_SESSION_ID from the login it runs in, and ending that whole login
// for the sudo grant would be wrong. The registered pid is signalled only while it is still the
// session's process (same start time), through a pidfd.
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include <list>
#include <memory>
#include <vector>

#include "jit/model.hpp"
#include "process_tree.hpp"
#include "sd_handles.hpp"
#include "session_cgroups.hpp"

namespace jitd {

class SessionTerminator {
  public:
    // Without `cgroups`, recorded groups are ignored (sessions end by logind or signals).
    SessionTerminator(sd_event* event, sd_bus* bus, jit::Seconds kill_grace,
                      SessionCgroups* cgroups = nullptr);

    void terminate(const jit::Session& session);
    // Those of `sessions` ended by signals are signalled together from one read of /proc, with
    // one kill_grace timer (thousands of sessions may end in the same second).
    void terminate_all(const std::vector<jit::Session>& sessions);

  private:
    struct LogindCall {
        SessionTerminator* owner;
        jit::Session session;
        SlotPtr slot;
        EventSourcePtr grace;  // after TerminateSession: when KillSession follows
    };
    struct PendingKill {
        SessionTerminator* owner;
        std::vector<jit::Id> session_ids;
        std::vector<ProcessId> processes;
        EventSourcePtr timer;
    };

    bool send_to_logind(LogindCall& call, const char* path, const char* interface,
                        const char* member, sd_bus_message_handler_t on_reply, const char* arg1,
                        const char* arg2 = nullptr, std::int32_t signal = 0);
    void finish(LogindCall* call, const char* failure);
    // True when the session is ended (or being ended) without signals from jitd.
    bool end_without_signals(const jit::Session& session);
    void signal_all(const std::vector<jit::Session>& sessions);
    // SIGTERM to the session's processes; those signalled are added to `signalled`.
    void signal_processes(const jit::Session& session, const ProcessTable& table,
                          const BootClock& clock, std::vector<ProcessId>& signalled);
    void arm_kill(std::vector<jit::Id> session_ids, std::vector<ProcessId> processes);
    uint64_t kill_grace_usec() const { return static_cast<uint64_t>(kill_grace_) * 1000000; }
    // One step of ending a session through logind, run on logind's answer to the step before.
    using Step = void (*)(sd_bus_message* reply, LogindCall* call);
    // The reply handler of a step: runs it, unless logind answered with an error; then the
    // call is finished with that error.
    template <Step step>
    static int on_answer(sd_bus_message* reply, void* userdata, sd_bus_error*);
    static void on_session_path(sd_bus_message* reply, LogindCall* call);
    static void on_leader(sd_bus_message* reply, LogindCall* call);
    static void on_terminated(sd_bus_message* reply, LogindCall* call);
    static int on_logind_grace(sd_event_source*, uint64_t, void* userdata);
    static int on_killed(sd_bus_message* reply, void* userdata, sd_bus_error*);
    static int on_kill_grace(sd_event_source*, uint64_t, void* userdata);

    sd_event* event_;
    sd_bus* bus_;
    jit::Seconds kill_grace_;
    SessionCgroups* cgroups_;
    std::list<std::unique_ptr<LogindCall>> logind_calls_;
    std::list<std::unique_ptr<PendingKill>> pending_kills_;
};

}  // namespace jitd
