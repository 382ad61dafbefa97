// SPDX-License-Identifier: Apache-2.0
#include "session_terminator.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "event_timer.hpp"

namespace jitd {
namespace {

// logind answers in milliseconds; a hung logind must not keep a session alive.
constexpr uint64_t kLogindTimeoutUsec = 5 * 1000 * 1000;
constexpr const char* kLogindService = "org.freedesktop.login1";
constexpr const char* kLogindPath = "/org/freedesktop/login1";
constexpr const char* kLogindManager = "org.freedesktop.login1.Manager";
constexpr const char* kLogindSession = "org.freedesktop.login1.Session";
// Beyond this many sessions signalled together, the log names the range, not each id.
constexpr std::size_t kSessionsNamedInLog = 20;

// Never pid 0/1 (init, or "the whole process group"), never jitd itself, even if jitd was
// started from inside the session.
bool may_signal(pid_t pid) {
    return pid > 1 && pid != getpid();
}

// Signals the processes still alive (same start time); returns how many.
std::size_t signal_alive(const std::vector<ProcessId>& processes, int signal) {
    std::size_t signalled = 0;
    for (const auto& process : processes) {
        if (may_signal(process.pid) && signal_if_alive(process, signal)) {
            ++signalled;
        }
    }
    return signalled;
}

}  // namespace

SessionTerminator::SessionTerminator(sd_event* event, sd_bus* bus, jit::Seconds kill_grace,
                                     SessionCgroups* cgroups)
    : event_(event), bus_(bus), kill_grace_(kill_grace), cgroups_(cgroups) {}

void SessionTerminator::terminate(const jit::Session& session) {
    terminate_all({session});
}

void SessionTerminator::terminate_all(const std::vector<jit::Session>& sessions) {
    std::vector<jit::Session> to_signal;
    for (const auto& session : sessions) {
        if (!end_without_signals(session)) {
            to_signal.push_back(session);
        }
    }
    if (!to_signal.empty()) {
        signal_all(to_signal);
    }
}

bool SessionTerminator::end_without_signals(const jit::Session& session) {
    if (cgroups_ && cgroups_->end(session)) {
        return true;
    }
    if (session.state == jit::SessionState::Closed) {
        return true;  // logged out: only a group jit made for it is ended, nothing else
    }
    if (session.logind_session.empty()) {
        return false;
    }
    auto call = std::make_unique<LogindCall>(LogindCall{this, session, nullptr, nullptr});
    if (!send_to_logind(*call, kLogindPath, kLogindManager, "GetSession",
                        on_answer<on_session_path>, session.logind_session.c_str())) {
        return false;
    }
    logind_calls_.push_back(std::move(call));
    return true;
}

// Asynchronous, without auto-start: on a host without logind the bus answers at once with an
// error and the reply handler falls back to signals. Takes one or two string arguments and,
// for KillSession, a signal.
bool SessionTerminator::send_to_logind(LogindCall& call, const char* path, const char* interface,
                                       const char* member, sd_bus_message_handler_t on_reply,
                                       const char* arg1, const char* arg2, std::int32_t signal) {
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_call(bus_, &raw, kLogindService, path, interface, member);
    MessagePtr message(raw);
    if (r >= 0) {
        r = sd_bus_message_append_basic(message.get(), 's', arg1);
    }
    if (r >= 0 && arg2) {
        r = sd_bus_message_append_basic(message.get(), 's', arg2);
    }
    if (r >= 0 && signal != 0) {
        r = sd_bus_message_append_basic(message.get(), 'i', &signal);
    }
    if (r >= 0) {
        r = sd_bus_message_set_auto_start(message.get(), 0);
    }
    sd_bus_slot* slot = nullptr;
    if (r >= 0) {
        r = sd_bus_call_async(bus_, &slot, message.get(), on_reply, &call, kLogindTimeoutUsec);
    }
    if (r < 0) {
        spdlog::warn("session {}: cannot call logind's {} for session {}: {}", call.session.id,
                     member, call.session.logind_session, std::strerror(-r));
        return false;
    }
    call.slot.reset(slot);
    return true;
}

// Ends a logind exchange: with `failure` set, says why logind did not end the session and
// falls back to signals.
void SessionTerminator::finish(LogindCall* call, const char* failure) {
    const jit::Session session = call->session;
    logind_calls_.remove_if([call](const auto& pending) { return pending.get() == call; });
    if (failure) {
        spdlog::info(
            "session {} of {}: not ended through logind session {}: {}; signalling its "
            "processes",
            session.id, session.user, session.logind_session, failure);
        signal_all({session});
    }
}

template <SessionTerminator::Step step>
int SessionTerminator::on_answer(sd_bus_message* reply, void* userdata, sd_bus_error*) {
    auto* call = static_cast<LogindCall*>(userdata);
    if (const sd_bus_error* error = sd_bus_message_get_error(reply)) {
        call->owner->finish(call, error->message ? error->message : error->name);
    } else {
        step(reply, call);
    }
    return 0;
}

void SessionTerminator::on_session_path(sd_bus_message* reply, LogindCall* call) {
    SessionTerminator* self = call->owner;
    const char* path = nullptr;
    if (sd_bus_message_read_basic(reply, 'o', &path) < 0 ||
        !self->send_to_logind(*call, path, "org.freedesktop.DBus.Properties", "Get",
                              on_answer<on_leader>, kLogindSession, "Leader")) {
        self->finish(call, "cannot ask for its leader");
    }
}

void SessionTerminator::on_leader(sd_bus_message* reply, LogindCall* call) {
    SessionTerminator* self = call->owner;
    uint32_t leader = 0;
    if (sd_bus_message_read(reply, "v", "u", &leader) < 0) {
        self->finish(call, "cannot read its leader");
        return;
    }
    if (static_cast<std::int64_t>(leader) != call->session.pid) {
        std::string why = "its leader is pid " + std::to_string(leader) +
                          ", not the session's pid " + std::to_string(call->session.pid);
        self->finish(call, why.c_str());
        return;
    }
    if (!self->send_to_logind(*call, kLogindPath, kLogindManager, "TerminateSession",
                              on_answer<on_terminated>, call->session.logind_session.c_str())) {
        self->finish(call, "cannot ask to terminate it");
    }
}

void SessionTerminator::on_terminated(sd_bus_message*, LogindCall* call) {
    SessionTerminator* self = call->owner;
    spdlog::info("session {} of {}: logind terminated session {}", call->session.id,
                 call->session.user, call->session.logind_session);
    // logind's scope gets systemd's own stop timeout; kill_grace is jit's promise.
    if (arm_timer(self->event_, call->grace, self->kill_grace_usec(), on_logind_grace, call) < 0) {
        self->finish(call, nullptr);
    }
}

// After kill_grace: SIGKILL, through logind, to whatever still runs in the session's scope.
int SessionTerminator::on_logind_grace(sd_event_source*, uint64_t, void* userdata) {
    auto* call = static_cast<LogindCall*>(userdata);
    if (!call->owner->send_to_logind(*call, kLogindPath, kLogindManager, "KillSession", on_killed,
                                     call->session.logind_session.c_str(), "all", SIGKILL)) {
        call->owner->finish(call, nullptr);
    }
    return 0;
}

int SessionTerminator::on_killed(sd_bus_message* reply, void* userdata, sd_bus_error*) {
    auto* call = static_cast<LogindCall*>(userdata);
    if (const sd_bus_error* error = sd_bus_message_get_error(reply)) {
        // Usually NoSuchSession: the scope ended within kill_grace.
        spdlog::debug("session {}: logind's KillSession: {}", call->session.id,
                      error->message ? error->message : error->name);
    } else {
        spdlog::info("session {} of {}: logind sent SIGKILL to what remained of session {}",
                     call->session.id, call->session.user, call->session.logind_session);
    }
    call->owner->finish(call, nullptr);
    return 0;
}

// One read of /proc for all the sessions, one kill_grace timer for all of them.
void SessionTerminator::signal_all(const std::vector<jit::Session>& sessions) {
    const ProcessTable table = ProcessTable::read();
    const BootClock clock = BootClock::current();
    std::vector<jit::Id> session_ids;
    std::vector<ProcessId> signalled;
    for (const auto& session : sessions) {
        const std::size_t before = signalled.size();
        signal_processes(session, table, clock, signalled);
        if (signalled.size() > before) {
            session_ids.push_back(session.id);
        }
    }
    if (signalled.empty()) {
        return;
    }
    if (session_ids.size() <= kSessionsNamedInLog) {
        spdlog::info("sent SIGTERM to {} process(es) of session(s) {}", signalled.size(),
                     fmt::join(session_ids, ", "));
    } else {
        spdlog::info("sent SIGTERM to {} process(es) of {} sessions (ids {} to {})",
                     signalled.size(), session_ids.size(), session_ids.front(), session_ids.back());
    }
    arm_kill(std::move(session_ids), std::move(signalled));
}

void SessionTerminator::signal_processes(const jit::Session& session, const ProcessTable& table,
                                         const BootClock& clock,
                                         std::vector<ProcessId>& signalled) {
    if (session.pid > INT32_MAX || !may_signal(static_cast<pid_t>(session.pid))) {
        spdlog::warn("session {} of {}: no process to signal (pid {})", session.id, session.user,
                     session.pid);
        return;
    }
    auto found =
        session_processes(table, static_cast<pid_t>(session.pid),
                          static_cast<std::uint64_t>(session.pid_start), session.opened, clock);
    if (found.root == SessionProcesses::Root::Gone) {
        spdlog::info("session {} of {}: no processes left (pid {} has exited)", session.id,
                     session.user, session.pid);
        return;
    }
    if (found.root == SessionProcesses::Root::Reused) {
        spdlog::info(
            "session {} of {}: no processes left (pid {} now belongs to a process started after "
            "the session opened); not signalling it",
            session.id, session.user, session.pid);
        return;
    }
    std::size_t count = 0;
    for (const auto& process : found.processes) {
        if (may_signal(process.pid) && signal_if_alive(process, SIGTERM)) {
            signalled.push_back(process);
            ++count;
        }
    }
    if (count == 0) {
        spdlog::info("session {} of {}: no processes left under pid {}", session.id, session.user,
                     session.pid);
        return;
    }
    spdlog::debug("session {} of {}: sent SIGTERM to {} process(es) under pid {}", session.id,
                  session.user, count, session.pid);
}

void SessionTerminator::arm_kill(std::vector<jit::Id> session_ids,
                                 std::vector<ProcessId> processes) {
    auto kill = std::make_unique<PendingKill>(
        PendingKill{this, std::move(session_ids), std::move(processes), nullptr});
    const int r = arm_timer(event_, kill->timer, kill_grace_usec(), on_kill_grace, kill.get());
    if (r < 0) {
        spdlog::error("cannot arm the kill_grace timer for {} session(s) ({}); sending SIGKILL now",
                      kill->session_ids.size(), std::strerror(-r));
        signal_alive(kill->processes, SIGKILL);
        return;
    }
    pending_kills_.push_back(std::move(kill));
}

// After kill_grace: SIGKILL what is left, including children forked since SIGTERM, each once.
int SessionTerminator::on_kill_grace(sd_event_source*, uint64_t, void* userdata) {
    auto* kill = static_cast<PendingKill*>(userdata);
    SessionTerminator* self = kill->owner;
    std::size_t killed = signal_alive(survivors_and_descendants(kill->processes), SIGKILL);
    if (killed > 0) {
        spdlog::info("sent SIGKILL to {} process(es) still running {}s after SIGTERM", killed,
                     self->kill_grace_);
    }
    self->pending_kills_.remove_if([kill](const auto& pending) { return pending.get() == kill; });
    return 0;
}

}  // namespace jitd
