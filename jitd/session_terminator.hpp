// Ends the live sessions of a grant that ended (SPEC §8): through logind's TerminateSession
// when the session has a logind id and logind answers; otherwise, or when logind fails,
// SIGTERM to the registered pid and its descendants and SIGKILL to whatever still runs after
// kill_grace.
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include <list>
#include <memory>
#include <vector>

#include "jit/model.hpp"
#include "process_tree.hpp"
#include "sd_handles.hpp"

namespace jitd {

class SessionTerminator {
  public:
    SessionTerminator(sd_event* event, sd_bus* bus, jit::Seconds kill_grace);

    void terminate(const jit::Session& session);

  private:
    struct LogindCall {
        SessionTerminator* owner;
        jit::Session session;
        SlotPtr slot;
    };
    struct PendingKill {
        SessionTerminator* owner;
        jit::Id session_id;
        std::vector<ProcessId> processes;
        EventSourcePtr timer;
    };

    bool call_logind(const jit::Session& session);
    void signal_processes(const jit::Session& session);
    static int on_logind_reply(sd_bus_message* reply, void* userdata, sd_bus_error*);
    static int on_kill_grace(sd_event_source*, uint64_t, void* userdata);

    sd_event* event_;
    sd_bus* bus_;
    jit::Seconds kill_grace_;
    std::list<std::unique_ptr<LogindCall>> logind_calls_;
    std::list<std::unique_ptr<PendingKill>> pending_kills_;
};

}  // namespace jitd
