// Ends the live sessions of a grant that ended (jitd(8)): through logind's TerminateSession
// when the session has a logind id whose Leader is the registered pid; otherwise, or when
// logind fails, SIGTERM to the registered pid and its descendants and SIGKILL to whatever still
// runs after kill_grace. The leader check matters: sudo inherits XDG_SESSION_ID from the login
// it runs in, and ending that whole login for the sudo grant would be wrong. The registered pid
// is signalled only while it is still the session's process (same start time).
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

    bool send_to_logind(LogindCall& call, const char* path, const char* interface,
                        const char* member, sd_bus_message_handler_t on_reply, const char* arg1,
                        const char* arg2 = nullptr);
    void finish(LogindCall* call, const char* failure);
    void signal_processes(const jit::Session& session);
    static int on_session_path(sd_bus_message* reply, void* userdata, sd_bus_error*);
    static int on_leader(sd_bus_message* reply, void* userdata, sd_bus_error*);
    static int on_terminated(sd_bus_message* reply, void* userdata, sd_bus_error*);
    static int on_kill_grace(sd_event_source*, uint64_t, void* userdata);

    sd_event* event_;
    sd_bus* bus_;
    jit::Seconds kill_grace_;
    std::list<std::unique_ptr<LogindCall>> logind_calls_;
    std::list<std::unique_ptr<PendingKill>> pending_kills_;
};

}  // namespace jitd
