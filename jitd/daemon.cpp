// SPDX-License-Identifier: Apache-2.0
#include "daemon.hpp"

#include <fmt/format.h>
#include <malloc.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "jit/bus_names.hpp"
#include "jit/error.hpp"
#include "jit/time.hpp"
#include "process_tree.hpp"
#include "session_terminals.hpp"

namespace jitd {
namespace {

// How often sessions whose process ended without a logout are looked for.
constexpr uint64_t kReapIntervalUsec = 60ULL * 1000 * 1000;
// Deadlines are whole seconds; a few milliseconds of slack lets sd-event batch wake-ups.
constexpr uint64_t kDeadlineAccuracyUsec = 10 * 1000;
constexpr uint64_t kBusCallTimeoutUsec = 5 * 1000 * 1000;
// Deadlines handled per dispatch: thousands of grants expiring in the same second end in
// transactions of this many, with bus calls (logins above all) served in between.
constexpr std::size_t kDeadlinesPerDispatch = 2000;
// The open sessions of all the due expiries are ended before the first batch, from one read of
// /proc (which costs as much for one session as for thousands). What the batches end besides
// (sessions opened meanwhile, groups left by logged-out sessions) is signalled together once no
// deadline is due any more, but no more than this many at a time.
constexpr std::size_t kSessionsPerSignalPass = 5 * kDeadlinesPerDispatch;
// Group commit: a reply waits for the sync of the commits it acknowledges. The sync runs as soon
// as jitd has nothing else ready to do (so the calls that came in meanwhile share it), and at the
// latest this long after the first reply began to wait (docs/durability.md).
constexpr uint64_t kGroupWindowUsec = 10 * 1000;

[[noreturn]] void startup_failure(const std::string& what, int r) {
    throw std::runtime_error(what + ": " + std::strerror(-r));
}

[[noreturn]] void throw_name_owned() {
    throw std::runtime_error(std::string("another process owns ") + jit::bus::kServiceName +
                             " on the system bus (is jitd already running?)");
}

EventPtr new_event_loop() {
    sd_event* event = nullptr;
    int r = sd_event_default(&event);
    if (r < 0) {
        startup_failure("cannot create the event loop", r);
    }
    return EventPtr(event);
}

BusPtr connect_system_bus(sd_event* event) {
    sd_bus* raw = nullptr;
    int r = sd_bus_open_system(&raw);
    BusPtr bus(raw);
    if (r < 0) {
        startup_failure("cannot connect to the system bus", r);
    }
    // Bus calls (pam_jit's above all: a login waits) are served before the timers, the spool
    // watch and notify_command's children, which run at the normal priority.
    r = sd_bus_attach_event(bus.get(), event, SD_EVENT_PRIORITY_IMPORTANT);
    if (r < 0) {
        startup_failure("cannot attach the bus to the event loop", r);
    }
    // A lost bus connection ends the loop with EXIT_FAILURE: systemd restarts jitd.
    sd_bus_set_exit_on_disconnect(bus.get(), 1);
    // Every call jitd makes itself (the bus driver for caller credentials, logind) has a
    // timeout short enough that a hung peer cannot stall the one loop for long.
    sd_bus_set_method_call_timeout(bus.get(), kBusCallTimeoutUsec);
    return bus;
}

// This boot's id, which tells sessions of an earlier boot apart whatever their pids are now;
// "" when /proc does not show it (then only their processes' start times do).
std::string read_boot_id() {
    std::ifstream file("/proc/sys/kernel/random/boot_id");
    std::string boot_id;
    if (!std::getline(file, boot_id) || boot_id.empty()) {
        spdlog::warn(
            "cannot read /proc/sys/kernel/random/boot_id: sessions of an earlier boot are told "
            "apart only by their processes' start times");
        return {};
    }
    return boot_id;
}

// False only when the session's process is certainly gone; a session registered without a
// pid cannot be checked and stays.
bool session_process_may_run(const jit::Session& session) {
    if (session.pid <= 0 || session.pid > INT32_MAX) {
        return true;
    }
    return registered_process_may_run(static_cast<pid_t>(session.pid),
                                      static_cast<std::uint64_t>(session.pid_start));
}

// Effects run after the engine committed a change; their failure must not undo it or escape
// into the engine, so each is logged and contained here.
template <typename Action>
void contained(const char* what, Action action) {
    try {
        action();
    } catch (const jit::StoreBehind& e) {
        // Another host changed the shared store first: the engine applies that and tries again.
        spdlog::debug("{}: {}", what, e.what());
    } catch (const std::exception& e) {
        spdlog::error("{} failed: {}", what, e.what());
    }
}

}  // namespace

Daemon::Daemon(jit::Config config, jit::Store& store)
    : config_(std::move(config)),
      store_(store),
      event_(new_event_loop()),
      bus_(connect_system_bus(event_.get())),
      journal_(event_.get(), store, config_.host),
      notifier_(event_.get(), config_.notify_command, config_.notify_timeout),
      snapshot_(config_.snapshot),
      // A cgroup2 mount of jitd's own, if the host has none, beside the snapshot: a root-only
      // directory jitd already insists on.
      cgroups_(event_.get(), bus_.get(), config_.kill_grace, snapshot_.directory() + "/cgroup2"),
      terminator_(event_.get(), bus_.get(), config_.kill_grace, &cgroups_),
      authorized_keys_(config_.authorized_keys_dir),
      service_(store, config_, identity_, clock_, *this),
      adaptor_(
          bus_.get(), service_, identity_, [] {},
          [this](MessagePtr reply) { acknowledge(std::move(reply)); }),
      fallback_(event_.get(), snapshot_.directory(), service_),
      session_watch_(event_.get(), [this](jit::Id id) { session_process_ended(id); }) {}

int Daemon::run() {
    start();
    int r = sd_event_loop(event_.get());
    sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
    end_held_sessions();  // their grants ended: a stop between two batches must not spare them
    commit_group();
    sd_bus_flush(bus_.get());
    if (r < 0) {
        spdlog::error("event loop failed: {}", std::strerror(-r));
        return 1;
    }
    if (r != 0) {  // sd-bus ends the loop with EXIT_FAILURE when the connection is gone
        spdlog::error("lost the system bus connection; stopping");
        return 1;
    }
    spdlog::info("jitd stopped");
    return 0;
}

// Order matters. A second jitd stops before it touches the state, and before it trusts a
// snapshot directory others could write. The journal backlog goes out before anything new; the
// engine ends what lapsed while jitd was down before pam_jit's snapshot is rewritten; sessions
// that ended while jitd was down (including those pam_jit spooled) are closed; the name is taken
// once the objects exist and the state is loaded, so whoever sees io.jitd.Jit1 on the bus gets
// answers from the current state; READY comes last.
void Daemon::start() {
    refuse_if_name_owned();
    store_.defer_sync();
    snapshot_.prepare_directory();
    journal_.start();
    service_.enable_review(review_fs_);
    // Each account is looked up once for the whole start: the index, the review fingerprints
    // and the authorized keys files name the same accounts (thousands on a large host, and NSS
    // may take a fraction of a millisecond per name). Later writes ask NSS afresh.
    const jit::MemoIdentityResolver accounts(identity_);
    service_.start(read_boot_id(), &accounts);
    // A snapshot that cannot be written is no reason to stop answering: the old one stays for
    // pam_jit, and the write is retried after every event (the periodic session check wakes
    // jitd every minute).
    snapshot_.mark_dirty();
    snapshot_.write_if_dirty(service_.access_index(), clock_.now());
    // sshd falls back to the accounts' own authorized_keys when these files cannot be kept:
    // logged loudly, never a reason to stop deciding logins.
    contained("preparing the authorized keys directory",
              [&] { authorized_keys_.prepare_directory(); });
    authorized_keys_.mark_dirty();
    authorized_keys_.write_if_dirty(service_.access_index(), clock_.now(), accounts);
    fallback_.start();
    reap_gone_sessions();
    watch_open_sessions();
    cgroups_.remove_empty_groups();
    adaptor_.add_objects();
    add_event_sources();
    if (service_.feed_position()) {
        follower_ = std::make_unique<StoreFollower>(
            event_.get(), store_, [this] { service_.follow_store(); },
            [this] { fallback_.retry_now(); });
    }
    arm_deadline_timer();
    journal_.save_progress();
    contained("syncing the database to disk", [&] { store_.sync(); });
    // The rows as loaded and the start's temporaries are freed by now, but glibc keeps freed
    // pages in the heap unless asked to give them back (20 MiB of 200 with 100k grants).
    malloc_trim(0);
    take_bus_name();

    jit::ServiceStatus status = service_.status();
    sd_notifyf(0, "READY=1\nSTATUS=Serving %zu resources, %zu active grants", status.resources,
               status.active_grants);
    spdlog::info(
        "jitd {} ready as {} ({} resources, {} policies, {} pending requests, {} "
        "active grants, {} open sessions)",
        JITD_VERSION, jit::bus::kServiceName, status.resources, status.policies,
        status.pending_requests, status.active_grants, status.open_sessions);
}

void Daemon::refuse_if_name_owned() {
    BusError error;
    sd_bus_message* raw = nullptr;
    int r = sd_bus_call_method(bus_.get(), "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "NameHasOwner", error.get(), &raw, "s",
                               jit::bus::kServiceName);
    MessagePtr reply(raw);
    int owned = 0;
    if (r >= 0) {
        r = sd_bus_message_read(reply.get(), "b", &owned);
    }
    if (r < 0) {
        startup_failure("cannot ask the bus who owns " + std::string(jit::bus::kServiceName), r);
    }
    if (owned) {
        throw_name_owned();
    }
}

void Daemon::take_bus_name() {
    int r = sd_bus_request_name(bus_.get(), jit::bus::kServiceName, 0);
    if (r == -EEXIST || r == -EALREADY) {
        throw_name_owned();
    }
    if (r == -EACCES || r == -EPERM) {
        throw std::runtime_error(std::string("the bus policy does not let this user own ") +
                                 jit::bus::kServiceName +
                                 " (jitd runs as root with dbus/io.jitd.Jit1.conf installed)");
    }
    if (r < 0) {
        startup_failure(std::string("cannot own ") + jit::bus::kServiceName, r);
    }
}

void Daemon::add_event_sources() {
    sd_event* event = event_.get();
    sd_event_source* source = nullptr;
    // SIGTERM/SIGINT/SIGCHLD are blocked by main(), as sd-event requires.
    if (int r = sd_event_add_signal(event, &source, SIGTERM, on_stop_signal, this); r < 0) {
        startup_failure("cannot watch SIGTERM", r);
    }
    sigterm_.reset(source);
    // A stop request is never starved behind the bus (which runs above normal priority).
    sd_event_source_set_priority(source, SD_EVENT_PRIORITY_IMPORTANT);
    if (int r = sd_event_add_signal(event, &source, SIGINT, on_stop_signal, this); r < 0) {
        startup_failure("cannot watch SIGINT", r);
    }
    sigint_.reset(source);
    sd_event_source_set_priority(source, SD_EVENT_PRIORITY_IMPORTANT);
    // The one timer for every engine deadline; UTC epoch seconds, hence CLOCK_REALTIME.
    if (int r = sd_event_add_time(event, &source, CLOCK_REALTIME, 0, kDeadlineAccuracyUsec,
                                  on_deadline, this);
        r < 0) {
        startup_failure("cannot create the deadline timer", r);
    }
    deadline_timer_.reset(source);
    sd_event_source_set_enabled(source, SD_EVENT_OFF);
    if (int r = sd_event_add_time_relative(event, &source, CLOCK_MONOTONIC, kReapIntervalUsec,
                                           kReapIntervalUsec / 10, on_reap_timer, this);
        r < 0) {
        startup_failure("cannot create the session reaper timer", r);
    }
    reap_timer_.reset(source);
    // Group commit: the sync runs when nothing else is ready, or when the window closes (at
    // the bus's priority, so that a busy bus cannot hold replies back beyond it).
    if (int r = sd_event_add_defer(event, &source, on_commit_group, this); r < 0) {
        startup_failure("cannot create the group commit source", r);
    }
    group_idle_.reset(source);
    sd_event_source_set_priority(source, SD_EVENT_PRIORITY_IDLE);
    sd_event_source_set_enabled(source, SD_EVENT_OFF);
    if (int r = sd_event_add_time_relative(event, &source, CLOCK_MONOTONIC, kGroupWindowUsec, 0,
                                           on_commit_group, this);
        r < 0) {
        startup_failure("cannot create the group commit timer", r);
    }
    group_timer_.reset(source);
    sd_event_source_set_priority(source, SD_EVENT_PRIORITY_IMPORTANT);
    sd_event_source_set_enabled(source, SD_EVENT_OFF);
    // Runs after every dispatched event: coalesced snapshot write, journal progress, re-arm.
    if (int r = sd_event_add_post(event, &source, on_after_dispatch, this); r < 0) {
        startup_failure("cannot create the post-dispatch hook", r);
    }
    after_dispatch_.reset(source);
    if (int r = sd_event_set_watchdog(event, 1); r < 0) {
        startup_failure("cannot enable the watchdog", r);
    }
}

int Daemon::on_stop_signal(sd_event_source* source, const struct signalfd_siginfo* info, void*) {
    spdlog::info("received {}, stopping", strsignal(static_cast<int>(info->ssi_signo)));
    return sd_event_exit(sd_event_source_get_event(source), 0);
}

int Daemon::on_after_dispatch(sd_event_source*, void* userdata) {
    static_cast<Daemon*>(userdata)->after_dispatch();
    return 0;
}

// A method call's changes are settled before its reply goes out: a caller who saw a revoke
// succeed finds it in the snapshot. Everything else (expiries) settles after its dispatch.
// The journal progress is not written here but with the next group's sync (commit_group).
void Daemon::settle() {
    contained("writing the PAM snapshot",
              [&] { snapshot_.write_if_dirty(service_.access_index(), clock_.now()); });
    contained("writing the authorized keys files", [&] {
        authorized_keys_.write_if_dirty(service_.access_index(), clock_.now(), identity_);
    });
}

void Daemon::after_dispatch() {
    if (waiting_replies_.empty()) {
        settle();
    }
    arm_deadline_timer();
    arm_group_commit();
}

// A reply with nothing to wait for goes at once; any other waits for the group's sync (a reply
// never overtakes one that waits, so a caller never sees a change that a power cut could undo).
void Daemon::acknowledge(MessagePtr reply) {
    if (waiting_replies_.empty() && !store_.sync_pending()) {
        settle();
        if (!store_.sync_pending()) {
            send_reply(reply.get());
            return;
        }
    }
    waiting_replies_.push_back(std::move(reply));
}

void Daemon::send_reply(sd_bus_message* reply) {
    if (int r = sd_bus_send(bus_.get(), reply, nullptr); r < 0) {
        spdlog::error("cannot send a reply: {}", std::strerror(-r));
    }
}

// Starts the window at the first commit or reply that waits for a sync.
void Daemon::arm_group_commit() {
    if (waiting_replies_.empty() && !store_.sync_pending()) {
        return;
    }
    if (!sync_failing_) {  // after a failure, only the window's end tries again
        sd_event_source_set_enabled(group_idle_.get(), SD_EVENT_ONESHOT);
    }
    int enabled = SD_EVENT_OFF;
    sd_event_source_get_enabled(group_timer_.get(), &enabled);
    if (enabled != SD_EVENT_OFF) {
        return;
    }
    int r = sd_event_source_set_time_relative(group_timer_.get(), kGroupWindowUsec);
    if (r >= 0) {
        r = sd_event_source_set_enabled(group_timer_.get(), SD_EVENT_ONESHOT);
    }
    if (r < 0) {
        spdlog::error("cannot arm the group commit timer ({}); syncing now", std::strerror(-r));
        commit_group();
    }
}

int Daemon::on_commit_group(sd_event_source*, uint64_t, void* userdata) {
    static_cast<Daemon*>(userdata)->commit_group();
    return 0;
}

int Daemon::on_commit_group(sd_event_source*, void* userdata) {
    static_cast<Daemon*>(userdata)->commit_group();
    return 0;
}

// Settles what the waiting calls changed (snapshot, keys), records the journal progress, syncs
// every commit so far with one fsync, then sends the waiting replies. The progress rides along
// with a sync that is due anyway: recording it on its own would cost a commit and a sync each
// time journald takes a few entries (thousands in a burst), and a restart that finds it behind
// reads the journal's newest entries back instead (docs/durability.md). When the sync fails, the
// replies keep waiting (their callers time out rather than see a change that is not on disk) and
// the sync is tried again at the end of the next window.
void Daemon::commit_group() {
    sd_event_source_set_enabled(group_idle_.get(), SD_EVENT_OFF);
    sd_event_source_set_enabled(group_timer_.get(), SD_EVENT_OFF);
    settle();
    journal_.save_progress();
    try {
        store_.sync();
    } catch (const std::exception& e) {
        spdlog::error("syncing the database to disk failed: {}; {} repl(ies) wait", e.what(),
                      waiting_replies_.size());
        sync_failing_ = true;
        return;
    }
    sync_failing_ = false;
    std::vector<MessagePtr> replies;
    replies.swap(waiting_replies_);
    for (const MessagePtr& reply : replies) {
        send_reply(reply.get());
    }
}

void Daemon::arm_deadline_timer() {
    std::optional<jit::EpochSeconds> next = service_.next_deadline();
    if (!next) {
        if (deadline_armed_usec_ != 0) {
            sd_event_source_set_enabled(deadline_timer_.get(), SD_EVENT_OFF);
            deadline_armed_usec_ = 0;
        }
        return;
    }
    jit::EpochSeconds at = std::max(*next, jit::EpochSeconds{0});
    uint64_t usec = std::max<uint64_t>(static_cast<uint64_t>(at) * 1000000, 1);
    if (usec == deadline_armed_usec_) {
        return;
    }
    int r = sd_event_source_set_time(deadline_timer_.get(), usec);
    if (r >= 0) {
        r = sd_event_source_set_enabled(deadline_timer_.get(), SD_EVENT_ONESHOT);
    }
    if (r < 0) {
        spdlog::error("cannot arm the deadline timer for {}: {}", jit::format_rfc3339(at),
                      std::strerror(-r));
        return;
    }
    deadline_armed_usec_ = usec;
}

// A deadline that fails (a storage error) is rescheduled by the engine a few seconds later;
// after_dispatch() re-arms the timer for it.
int Daemon::on_deadline(sd_event_source*, uint64_t, void* userdata) {
    auto* self = static_cast<Daemon*>(userdata);
    self->deadline_armed_usec_ = 0;  // a oneshot timer is off once it fired
    // More due: after_dispatch() re-arms the timer in the past, so it fires again once the
    // bus has been served.
    self->end_sessions_of_due_expiries();
    self->hold_terminations_ = true;
    contained("handling expiries", [&] { self->service_.tick(kDeadlinesPerDispatch); });
    self->hold_terminations_ = false;
    std::optional<jit::EpochSeconds> next = self->service_.next_deadline();
    const bool burst_over = !next || *next > self->clock_.now();
    if (burst_over || self->held_sessions_.size() >= kSessionsPerSignalPass) {
        self->end_held_sessions();
    }
    if (burst_over) {
        // Their batches committed (or failed and are retried later, like any other session).
        self->ended_early_.clear();
    }
    return 0;
}

// A session's end does not wait for the transaction that records it: with thousands of grants
// expiring in the same second, the last batch commits seconds after the first. Ending a session
// early only ends access sooner; if jitd stops before the batch commits, the grant is still
// active in the database, and the next start expires it and records the session's end
// (docs/durability.md).
void Daemon::end_sessions_of_due_expiries() {
    std::vector<jit::Session> due;
    contained("finding the sessions of due expiries",
              [&] { due = service_.sessions_of_due_expiries(); });
    std::erase_if(
        due, [&](const jit::Session& session) { return !ended_early_.insert(session.id).second; });
    if (due.empty()) {
        return;
    }
    session_watch_.forget(due);
    contained("terminating sessions", [&] { terminator_.terminate_all(due); });
}

void Daemon::end_held_sessions() {
    if (held_sessions_.empty()) {
        return;
    }
    std::vector<jit::Session> sessions;
    sessions.swap(held_sessions_);
    contained("terminating sessions", [&] { terminator_.terminate_all(sessions); });
}

int Daemon::on_reap_timer(sd_event_source* source, uint64_t, void* userdata) {
    auto* self = static_cast<Daemon*>(userdata);
    self->reap_gone_sessions();
    self->session_watch_.keep_only(self->service_.open_sessions());
    self->cgroups_.remove_empty_groups();
    int r = sd_event_source_set_time_relative(source, kReapIntervalUsec);
    if (r >= 0) {
        r = sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
    }
    if (r < 0) {
        spdlog::error("cannot re-arm the session reaper: {}", std::strerror(-r));
    }
    return 0;
}

// Sessions whose process ended without a logout (sshd or sudo killed, a crash) are closed, so
// that they are not open forever and their pid, once reused, is never signalled.
void Daemon::reap_gone_sessions() {
    for (const auto& session : service_.open_sessions()) {
        if (ended_early_.contains(session.id) || session_process_may_run(session)) {
            continue;
        }
        contained("closing a session whose process is gone", [&] {
            service_.reap_session(session.id);
            spdlog::info("session {} of {}: closed, its process (pid {}) is gone", session.id,
                         session.user, session.pid);
        });
    }
}

// Sessions open at start-up (registered before a restart, or adopted from the fallback spool)
// are watched like those opened from now on.
void Daemon::watch_open_sessions() {
    for (const auto& session : service_.open_sessions()) {
        session_watch_.watch(session);
    }
}

// A watched process ended. Its session may have ended already (a logout, or its grant ended and
// jitd ended the session): then there is nothing to close.
void Daemon::session_process_ended(jit::Id session_id) {
    contained("closing a session whose process ended", [&] {
        std::optional<jit::Session> session = service_.find_open_session(session_id);
        if (!session || ended_early_.contains(session_id)) {
            return;
        }
        service_.reap_session(session_id);
        spdlog::info("session {} of {}: closed, its process (pid {}) ended", session_id,
                     session->user, session->pid);
    });
}

// --- jit::Effects ---

void Daemon::audit_committed(const jit::AuditEvent& event) {
    contained("forwarding an audit event to the journal", [&] { journal_.add(event); });
}

void Daemon::notify_request(const std::string& event, const jit::Request& request) {
    if (!notifier_.enabled()) {
        return;
    }
    // No approvers when the policy was removed since the request was made: nobody to tell.
    notifier_.notify(event, request_notification(event, request, service_.approvers_of(request)));
}

void Daemon::request_created(const jit::Request& request) {
    adaptor_.emit_request_created(request);
    contained("notify_command", [&] { notify_request("request_created", request); });
}

void Daemon::request_decided(const jit::Request& request) {
    adaptor_.emit_request_decided(request);
    contained("notify_command", [&] { notify_request("request_decided", request); });
}

void Daemon::grant_started(const jit::Grant& grant) {
    adaptor_.emit_grant_started(grant);
    contained("notify_command", [&] {
        notifier_.notify("grant_started", grant_notification("grant_started", grant));
    });
}

void Daemon::grant_ended(const jit::Grant& grant) {
    adaptor_.emit_grant_ended(grant);
    contained("notify_command",
              [&] { notifier_.notify("grant_ended", grant_notification("grant_ended", grant)); });
}

void Daemon::terminate_session(const jit::Session& session) {
    contained("terminating a session", [&] { terminator_.terminate(session); });
}

void Daemon::terminate_sessions(const std::vector<jit::Session>& sessions) {
    std::vector<jit::Session> not_ended;
    std::copy_if(sessions.begin(), sessions.end(), std::back_inserter(not_ended),
                 [&](const jit::Session& session) { return !ended_early_.contains(session.id); });
    session_watch_.forget(not_ended);  // their end is recorded already
    if (hold_terminations_) {
        held_sessions_.insert(held_sessions_.end(), not_ended.begin(), not_ended.end());
        return;
    }
    contained("terminating sessions", [&] { terminator_.terminate_all(not_ended); });
}

std::string Daemon::place_session(const jit::Session& session) {
    std::string cgroup;
    contained("placing a session in a cgroup", [&] { cgroup = cgroups_.place(session); });
    return cgroup;
}

void Daemon::session_opened(const jit::Session& session) {
    contained("watching a session's process", [&] { session_watch_.watch(session); });
}

void Daemon::warn_session(const jit::Session& session, const jit::Grant& grant) {
    contained("warning a session", [&] {
        const std::string& resource = grant.resource;
        const jit::EpochSeconds expiry = grant.expiry.value_or(clock_.now());
        jit::Seconds left = std::max<jit::Seconds>(expiry - clock_.now(), 0);
        auto terminals = write_to_session_terminals(
            session, "jit: your access to " + resource + " ends at " + jit::format_local(expiry) +
                         " (in " + (left > 0 ? jit::format_duration(left) : "a moment") +
                         "). Ask for more time with: jitctl extend " + std::to_string(grant.id) +
                         " --reason TEXT --duration DURATION");
        if (terminals.empty()) {
            spdlog::info(
                "session {} of {}: no terminal took the warning that grant {} ends at {} "
                "(tty '{}', pid {})",
                session.id, session.user, session.grant_id, jit::format_rfc3339(expiry),
                session.tty, session.pid);
            return;
        }
        spdlog::info("session {} of {}: warned on {} that grant {} ends at {}", session.id,
                     session.user, fmt::join(terminals, ", "), session.grant_id,
                     jit::format_rfc3339(expiry));
    });
}

void Daemon::access_changed() {
    snapshot_.mark_dirty();
    authorized_keys_.mark_dirty();
}

}  // namespace jitd
