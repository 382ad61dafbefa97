#include "session_terminator.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

namespace jitd {
namespace {

// logind answers in milliseconds; a hung logind must not keep a session alive.
constexpr uint64_t kLogindTimeoutUsec = 5 * 1000 * 1000;

// Never pid 0/1 (init, or "the whole process group"), never jitd itself, even if jitd was
// started from inside the session.
bool may_signal(pid_t pid) {
    return pid > 1 && pid != getpid();
}

// Signals the processes still alive (same start time); returns how many.
std::size_t signal_alive(const std::vector<ProcessId>& processes, int signal) {
    std::size_t signalled = 0;
    for (const auto& process : processes) {
        if (may_signal(process.pid) && process_alive(process) && kill(process.pid, signal) == 0) {
            ++signalled;
        }
    }
    return signalled;
}

}  // namespace

SessionTerminator::SessionTerminator(sd_event* event, sd_bus* bus, jit::Seconds kill_grace)
    : event_(event), bus_(bus), kill_grace_(kill_grace) {}

void SessionTerminator::terminate(const jit::Session& session) {
    if (session.logind_session.empty() || !call_logind(session)) {
        signal_processes(session);
    }
}

// Asynchronous, without auto-start: on a host without logind the bus answers at once with an
// error and the reply handler falls back to signals.
bool SessionTerminator::call_logind(const jit::Session& session) {
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_call(bus_, &raw, "org.freedesktop.login1",
                                           "/org/freedesktop/login1",
                                           "org.freedesktop.login1.Manager", "TerminateSession");
    MessagePtr call(raw);
    if (r >= 0) {
        r = sd_bus_message_append(call.get(), "s", session.logind_session.c_str());
    }
    if (r >= 0) {
        r = sd_bus_message_set_auto_start(call.get(), 0);
    }
    auto pending = std::make_unique<LogindCall>(LogindCall{this, session, nullptr});
    sd_bus_slot* slot = nullptr;
    if (r >= 0) {
        r = sd_bus_call_async(bus_, &slot, call.get(), on_logind_reply, pending.get(),
                              kLogindTimeoutUsec);
    }
    if (r < 0) {
        spdlog::warn("session {}: cannot ask logind to terminate session {}: {}", session.id,
                     session.logind_session, std::strerror(-r));
        return false;
    }
    pending->slot.reset(slot);
    logind_calls_.push_back(std::move(pending));
    return true;
}

int SessionTerminator::on_logind_reply(sd_bus_message* reply, void* userdata, sd_bus_error*) {
    auto* call = static_cast<LogindCall*>(userdata);
    SessionTerminator* self = call->owner;
    const jit::Session session = call->session;
    if (const sd_bus_error* error = sd_bus_message_get_error(reply)) {
        spdlog::warn(
            "session {} of {}: logind could not terminate session {} ({}); signalling "
            "its processes",
            session.id, session.user, session.logind_session,
            error->message ? error->message : error->name);
        self->signal_processes(session);
    } else {
        spdlog::info("session {} of {}: logind terminated session {}", session.id, session.user,
                     session.logind_session);
    }
    self->logind_calls_.remove_if([call](const auto& pending) { return pending.get() == call; });
    return 0;
}

void SessionTerminator::signal_processes(const jit::Session& session) {
    if (session.pid > INT32_MAX || !may_signal(static_cast<pid_t>(session.pid))) {
        spdlog::warn("session {} of {}: no process to signal (pid {})", session.id, session.user,
                     session.pid);
        return;
    }
    auto found = session_processes(static_cast<pid_t>(session.pid), session.opened);
    if (found.root == SessionProcesses::Root::Gone) {
        spdlog::info("session {} of {}: no processes left (pid {} has exited)", session.id,
                     session.user, session.pid);
        return;
    }
    if (found.root == SessionProcesses::Root::Reused) {
        spdlog::info(
            "session {} of {}: pid {} now belongs to a process started after the session "
            "opened; not signalling it",
            session.id, session.user, session.pid);
        return;
    }
    std::size_t signalled = signal_alive(found.processes, SIGTERM);
    if (signalled == 0) {
        spdlog::info("session {} of {}: no processes left under pid {}", session.id, session.user,
                     session.pid);
        return;
    }
    spdlog::info("session {} of {}: sent SIGTERM to {} process(es) under pid {}", session.id,
                 session.user, signalled, session.pid);
    auto kill = std::make_unique<PendingKill>(
        PendingKill{this, session.id, std::move(found.processes), nullptr});
    uint64_t now = 0;
    sd_event_now(event_, CLOCK_MONOTONIC, &now);
    sd_event_source* source = nullptr;
    int r = sd_event_add_time(event_, &source, CLOCK_MONOTONIC,
                              now + static_cast<uint64_t>(kill_grace_) * 1000000, 0, on_kill_grace,
                              kill.get());
    if (r < 0) {
        spdlog::error("session {}: cannot arm the kill_grace timer ({}); sending SIGKILL now",
                      session.id, std::strerror(-r));
        signal_alive(kill->processes, SIGKILL);
        return;
    }
    kill->timer.reset(source);
    pending_kills_.push_back(std::move(kill));
}

// After kill_grace: SIGKILL what is left, including children forked since SIGTERM, each once.
int SessionTerminator::on_kill_grace(sd_event_source*, uint64_t, void* userdata) {
    auto* kill = static_cast<PendingKill*>(userdata);
    SessionTerminator* self = kill->owner;
    std::size_t killed = signal_alive(survivors_and_descendants(kill->processes), SIGKILL);
    if (killed > 0) {
        spdlog::info("session {}: sent SIGKILL to {} process(es) still running after {}s",
                     kill->session_id, killed, self->kill_grace_);
    }
    self->pending_kills_.remove_if([kill](const auto& pending) { return pending.get() == kill; });
    return 0;
}

}  // namespace jitd
