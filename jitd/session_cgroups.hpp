// SPDX-License-Identifier: Apache-2.0
// A cgroup of its own for each session registered under a grant, so that ending the session
// also ends the processes that left its process tree (setsid, nohup, double forks, tmux).
//
// place() runs while pam_jit's OpenSession call waits for jitd: the session's process (sudo,
// su, sshd's session process) has forked nothing yet, so every later child is born inside the
// group. A process that leads its logind session stays in logind's scope (logind ends it);
// any other one (sudo or su inside an ssh login, or no logind) gets
//   - a transient systemd scope (StartTransientUnit, PIDs=[pid]) when systemd runs: systemd owns
//     the cgroup tree there, so jitd asks it instead of writing cgroupfs;
//   - otherwise a cgroup v2 group /jit/session-PID-START that jitd makes itself, on the host's
//     cgroup2 mount (unified or hybrid) or, when the host has none, on one jitd mounts in a
//     private directory of its own.
// end() kills such a group when the grant ends: SIGTERM to every process in it (through pidfds),
// SIGKILL after kill_grace (cgroup.kill where the kernel has it, which no fork escapes); a scope
// is stopped by systemd with kill_grace as its stop timeout. Groups jit did not make are never
// touched.
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include <list>
#include <memory>
#include <optional>
#include <string>

#include "jit/model.hpp"
#include "sd_handles.hpp"

namespace jitd {

class SessionCgroups {
  public:
    // `private_mount` is where jitd mounts cgroup2 when the host has no such mount.
    SessionCgroups(sd_event* event, sd_bus* bus, jit::Seconds kill_grace,
                   std::string private_mount);

    // Puts the session's process into a group of its own; returns the group as
    // /proc/PID/cgroup names it, or "" when the process leads its logind session or no group
    // could be made (said once in the log: such sessions end by their process tree).
    std::string place(const jit::Session& session);

    // Ends the session's recorded group. False when the session has none that jit made for it
    // (then the caller ends it another way); true when the group is ended or already gone.
    bool end(const jit::Session& session);

    // Removes the empty groups jitd made (sessions over, their processes gone).
    void remove_empty_groups();

  private:
    struct PendingKill {
        SessionCgroups* owner;
        jit::Id session_id;
        std::string path;  // as /proc/PID/cgroup names it
        EventSourcePtr timer;
        int removal_tries = 0;  // after the kill: the group empties once its processes are gone
    };
    struct ScopeStop {
        SessionCgroups* owner;
        jit::Id session_id;
        std::string unit;
        SlotPtr slot;
    };

    bool leads_logind_session(pid_t pid, const std::string& logind_session);
    std::string place_in_scope(pid_t pid, std::uint64_t start);
    std::string place_in_direct_group(pid_t pid, std::uint64_t start);
    const std::string& unified_root();
    void cannot_place(const std::string& why);
    void stop_scope(const jit::Session& session);
    void end_direct_group(const jit::Session& session);
    void arm_kill(jit::Id session_id, const std::string& path);
    static bool arm_kill_timer(PendingKill* kill, std::uint64_t after_usec);
    static int on_kill_grace(sd_event_source*, uint64_t, void* userdata);
    static int on_scope_stopped(sd_bus_message* reply, void* userdata, sd_bus_error*);

    sd_event* event_;
    sd_bus* bus_;
    jit::Seconds kill_grace_;
    std::string private_mount_;
    bool systemd_;
    std::string unified_root_;  // the cgroup2 mount point once found or mounted
    bool told_cannot_place_ = false;
    std::list<std::unique_ptr<PendingKill>> pending_kills_;
    std::list<std::unique_ptr<ScopeStop>> scope_stops_;
};

}  // namespace jitd
