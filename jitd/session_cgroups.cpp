// SPDX-License-Identifier: Apache-2.0
#include "session_cgroups.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "cgroup_paths.hpp"
#include "event_timer.hpp"
#include "process_tree.hpp"

namespace jitd {
namespace {

// logind and systemd answer in milliseconds; a login must not wait long for either.
constexpr uint64_t kLoginBusCallUsec = 1000 * 1000;
// How long place() waits for systemd to move the process into its new scope (systemd moves
// it when it runs the start job, just after it answered StartTransientUnit).
constexpr long kScopeMoveWaitMs = 1000;
constexpr long kScopeMovePollMs = 2;
// Without cgroup.kill: rounds of SIGKILL to a frozen group until it is empty.
constexpr int kKillRounds = 5;
// Removing a killed group: a few tries while its processes exit.
constexpr int kRemovalTries = 20;
constexpr uint64_t kRemovalRetryUsec = 100 * 1000;

std::optional<std::string> read_text(const std::string& path) {
    std::ifstream file(path);
    if (!file) {
        return std::nullopt;
    }
    return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

// Writes `text` in one write(2), as cgroupfs wants; 0 or an errno.
int write_text(const std::string& path, const std::string& text) {
    UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) {
        return errno;
    }
    ssize_t written = write(fd.get(), text.data(), text.size());
    if (written < 0) {
        return errno;
    }
    return written == static_cast<ssize_t>(text.size()) ? 0 : EIO;
}

bool exists(const std::string& path) {
    struct stat st {};
    return stat(path.c_str(), &st) == 0;
}

std::string proc_cgroup_of(pid_t pid) {
    return read_text("/proc/" + std::to_string(pid) + "/cgroup").value_or("");
}

std::vector<pid_t> group_members(const std::string& dir) {
    std::vector<pid_t> pids;
    std::istringstream lines(read_text(dir + "/cgroup.procs").value_or(""));
    for (std::string line; std::getline(lines, line);) {
        pid_t pid = 0;
        auto [end, error] = std::from_chars(line.data(), line.data() + line.size(), pid);
        if (error == std::errc() && end == line.data() + line.size() && pid > 1 &&
            pid != getpid()) {
            pids.push_back(pid);
        }
    }
    return pids;
}

// Every process in the group gets `signal` through a pidfd, if it is still in the group once
// the pidfd is open (not one that left it, nor a later process reusing the pid).
std::size_t signal_members(const std::string& dir, const std::string& path, int signal) {
    std::size_t signalled = 0;
    for (pid_t pid : group_members(dir)) {
        signalled += signal_through_pidfd(pid, signal, [&](pid_t member) {
            return unified_cgroup_path(proc_cgroup_of(member)) == path;
        });
    }
    return signalled;
}

// SIGKILL to the whole group: cgroup.kill (Linux 5.14) kills it at once, forks included;
// older kernels get the group frozen (no more forks) and its members killed one by one.
void kill_group(const std::string& dir, const std::string& path) {
    if (write_text(dir + "/cgroup.kill", "1") == 0) {
        return;
    }
    write_text(dir + "/cgroup.freeze", "1");
    for (int round = 0; round < kKillRounds && signal_members(dir, path, SIGKILL) > 0; ++round) {
    }
}

void sleep_ms(long ms) {
    timespec pause{0, ms * 1000 * 1000};
    nanosleep(&pause, nullptr);
}

// The cgroup path of `pid` whose last component is `unit`, once systemd moved it there.
std::optional<std::string> wait_for_scope(pid_t pid, const std::string& unit) {
    for (long waited = 0; waited <= kScopeMoveWaitMs; waited += kScopeMovePollMs) {
        for (const auto& path : parse_proc_cgroup(proc_cgroup_of(pid))) {
            if (path_basename(path) == unit) {
                return path;
            }
        }
        sleep_ms(kScopeMovePollMs);
    }
    return std::nullopt;
}

MessagePtr new_call(sd_bus* bus, const char* service, const char* path, const char* interface,
                    const char* member) {
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_call(bus, &raw, service, path, interface, member);
    MessagePtr message(raw);
    if (r >= 0) {
        // Never start logind or systemd for this: a host without them answers at once.
        r = sd_bus_message_set_auto_start(message.get(), 0);
    }
    return r >= 0 ? std::move(message) : nullptr;
}

}  // namespace

SessionCgroups::SessionCgroups(sd_event* event, sd_bus* bus, jit::Seconds kill_grace,
                               std::string private_mount)
    : event_(event),
      bus_(bus),
      kill_grace_(kill_grace),
      private_mount_(std::move(private_mount)),
      systemd_(sd_booted() > 0) {}

std::string SessionCgroups::place(const jit::Session& session) {
    if (session.pid <= 1 || session.pid > INT32_MAX || session.pid_start <= 0) {
        cannot_place("the session's process is not known by pid and start time");
        return {};
    }
    auto pid = static_cast<pid_t>(session.pid);
    auto start = static_cast<std::uint64_t>(session.pid_start);
    if (leads_logind_session(pid, session.logind_session)) {
        return {};  // logind's scope is the session's group; logind ends it
    }
    std::string path = systemd_ ? place_in_scope(pid, start) : place_in_direct_group(pid, start);
    if (!path.empty()) {
        spdlog::info("session of {} (pid {}): placed in cgroup {}", session.user, pid, path);
    }
    return path;
}

bool SessionCgroups::leads_logind_session(pid_t pid, const std::string& logind_session) {
    if (logind_session.empty()) {
        return false;
    }
    char* object = nullptr;
    if (sd_bus_path_encode("/org/freedesktop/login1/session", logind_session.c_str(), &object) <
        0) {
        return false;
    }
    std::unique_ptr<char, decltype(&free)> path(object, free);
    MessagePtr call = new_call(bus_, "org.freedesktop.login1", path.get(),
                               "org.freedesktop.DBus.Properties", "Get");
    if (!call ||
        sd_bus_message_append(call.get(), "ss", "org.freedesktop.login1.Session", "Leader") < 0) {
        return false;
    }
    BusError error;
    sd_bus_message* raw = nullptr;
    int r = sd_bus_call(bus_, call.get(), kLoginBusCallUsec, error.get(), &raw);
    MessagePtr reply(raw);
    uint32_t leader = 0;
    if (r < 0 || sd_bus_message_read(reply.get(), "v", "u", &leader) < 0) {
        spdlog::debug("logind session {}: no leader known ({})", logind_session,
                      r < 0 ? error.message() : "bad reply");
        return false;
    }
    return static_cast<pid_t>(leader) == pid;
}

std::string SessionCgroups::place_in_scope(pid_t pid, std::uint64_t start) {
    const std::string unit = scope_unit_name(pid, start);
    const std::string description = "jit session of pid " + std::to_string(pid);
    MessagePtr call = new_call(bus_, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "StartTransientUnit");
    // kill_grace as the stop timeout: stopping the scope is SIGTERM, then SIGKILL after it.
    int r = call ? sd_bus_message_append(call.get(), "ssa(sv)a(sa(sv))", unit.c_str(), "fail", 4,
                                         "Description", "s", description.c_str(), "PIDs", "au", 1,
                                         static_cast<uint32_t>(pid), "CollectMode", "s",
                                         "inactive-or-failed", "TimeoutStopUSec", "t",
                                         static_cast<uint64_t>(kill_grace_) * 1000000, 0)
                 : -ENOMEM;
    BusError error;
    sd_bus_message* raw = nullptr;
    if (r >= 0) {
        r = sd_bus_call(bus_, call.get(), kLoginBusCallUsec, error.get(), &raw);
    }
    MessagePtr reply(raw);
    if (r < 0) {
        cannot_place("systemd did not start scope " + unit + ": " +
                     (error.name() ? error.message() : std::strerror(-r)));
        return {};
    }
    auto path = wait_for_scope(pid, unit);
    if (!path) {
        cannot_place("systemd did not move pid " + std::to_string(pid) + " into " + unit);
        return {};
    }
    return *path;
}

// The cgroup2 mount: the host's (unified or hybrid), or else one jitd mounts for itself.
const std::string& SessionCgroups::unified_root() {
    if (!unified_root_.empty()) {
        return unified_root_;
    }
    if (auto found = find_cgroup2_mount(read_text("/proc/self/mountinfo").value_or(""))) {
        unified_root_ = *found;
        return unified_root_;
    }
    if ((mkdir(private_mount_.c_str(), 0700) == 0 || errno == EEXIST) &&
        mount("cgroup2", private_mount_.c_str(), "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              nullptr) == 0) {
        spdlog::info("the host has no cgroup2 mount; mounted one on {}", private_mount_);
        unified_root_ = private_mount_;
    } else {
        cannot_place("no cgroup2 mount, and mounting one on " + private_mount_ +
                     " failed: " + std::strerror(errno));
    }
    return unified_root_;
}

std::string SessionCgroups::place_in_direct_group(pid_t pid, std::uint64_t start) {
    const std::string& root = unified_root();
    if (root.empty()) {
        return {};
    }
    const std::string path = direct_group_path(pid, start);
    const std::string dir = root + path;
    const std::string parent = root + std::string(kDirectGroupParent);
    if ((mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) ||
        (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)) {
        cannot_place("cannot make cgroup " + dir + ": " + std::strerror(errno));
        return {};
    }
    if (int error = write_text(dir + "/cgroup.procs", std::to_string(pid)); error != 0) {
        rmdir(dir.c_str());
        cannot_place("cannot move pid " + std::to_string(pid) + " into " + dir + ": " +
                     std::strerror(error));
        return {};
    }
    return path;
}

void SessionCgroups::cannot_place(const std::string& why) {
    if (told_cannot_place_) {
        spdlog::debug("no cgroup for a session: {}", why);
        return;
    }
    told_cannot_place_ = true;
    spdlog::warn(
        "cannot give a session a cgroup of its own ({}); such sessions are ended through their "
        "process tree, which misses processes that left it (setsid, nohup). Said once.",
        why);
}

bool SessionCgroups::end(const jit::Session& session) {
    if (session.cgroup.empty()) {
        return false;
    }
    auto pid = static_cast<pid_t>(session.pid > 0 && session.pid <= INT32_MAX ? session.pid : 0);
    auto start = static_cast<std::uint64_t>(session.pid_start > 0 ? session.pid_start : 0);
    switch (session_group_kind(session.cgroup, pid, start)) {
        case SessionGroupKind::Scope:
            stop_scope(session);
            return true;
        case SessionGroupKind::Direct:
            end_direct_group(session);
            return true;
        case SessionGroupKind::NotOurs:
            break;
    }
    spdlog::warn("session {} of {}: cgroup {} is not one jit made for it; not killing it",
                 session.id, session.user, session.cgroup);
    return false;
}

void SessionCgroups::stop_scope(const jit::Session& session) {
    auto stop = std::make_unique<ScopeStop>(
        ScopeStop{this, session.id, std::string(path_basename(session.cgroup)), nullptr});
    MessagePtr call = new_call(bus_, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "StopUnit");
    sd_bus_slot* slot = nullptr;
    int r = call ? sd_bus_message_append(call.get(), "ss", stop->unit.c_str(), "replace") : -ENOMEM;
    if (r >= 0) {
        r = sd_bus_call_async(bus_, &slot, call.get(), on_scope_stopped, stop.get(), 0);
    }
    if (r < 0) {
        spdlog::error("session {} of {}: cannot ask systemd to stop {}: {}", session.id,
                      session.user, stop->unit, std::strerror(-r));
        return;
    }
    stop->slot.reset(slot);
    scope_stops_.push_back(std::move(stop));
}

int SessionCgroups::on_scope_stopped(sd_bus_message* reply, void* userdata, sd_bus_error*) {
    auto* stop = static_cast<ScopeStop*>(userdata);
    if (const sd_bus_error* error = sd_bus_message_get_error(reply)) {
        // NoSuchUnit: the scope emptied and was collected; nothing left to end.
        spdlog::info("session {}: scope {} not stopped: {}", stop->session_id, stop->unit,
                     error->message ? error->message : error->name);
    } else {
        spdlog::info("session {}: systemd stops scope {} (SIGTERM, SIGKILL after {}s)",
                     stop->session_id, stop->unit, stop->owner->kill_grace_);
    }
    stop->owner->scope_stops_.remove_if([stop](const auto& s) { return s.get() == stop; });
    return 0;
}

void SessionCgroups::end_direct_group(const jit::Session& session) {
    const std::string& root = unified_root();
    const std::string dir = root + session.cgroup;
    if (root.empty() || !exists(dir)) {
        spdlog::info("session {} of {}: cgroup {} is gone; nothing to end", session.id,
                     session.user, session.cgroup);
        return;
    }
    std::size_t signalled = signal_members(dir, session.cgroup, SIGTERM);
    if (signalled == 0) {
        rmdir(dir.c_str());
        spdlog::info("session {} of {}: no processes left in cgroup {}", session.id, session.user,
                     session.cgroup);
        return;
    }
    spdlog::info("session {} of {}: sent SIGTERM to {} process(es) in cgroup {}", session.id,
                 session.user, signalled, session.cgroup);
    arm_kill(session.id, session.cgroup);
}

bool SessionCgroups::arm_kill_timer(PendingKill* kill, std::uint64_t after_usec) {
    const int r = arm_timer(kill->owner->event_, kill->timer, after_usec, on_kill_grace, kill);
    if (r < 0) {
        spdlog::error("session {}: cannot arm a timer for cgroup {}: {}", kill->session_id,
                      kill->path, std::strerror(-r));
    }
    return r >= 0;
}

void SessionCgroups::arm_kill(jit::Id session_id, const std::string& path) {
    auto kill = std::make_unique<PendingKill>(PendingKill{this, session_id, path, nullptr, 0});
    if (!arm_kill_timer(kill.get(), static_cast<uint64_t>(kill_grace_) * 1000000)) {
        kill_group(unified_root() + path, path);  // no grace without a timer
        return;
    }
    pending_kills_.push_back(std::move(kill));
}

// After kill_grace: SIGKILL to what still runs; then the empty group is removed, retried a few
// times while the killed processes exit (what still stays is left to the periodic sweep).
int SessionCgroups::on_kill_grace(sd_event_source*, uint64_t, void* userdata) {
    auto* kill = static_cast<PendingKill*>(userdata);
    SessionCgroups* self = kill->owner;
    const std::string dir = self->unified_root() + kill->path;
    if (kill->removal_tries == 0 && exists(dir) && !group_members(dir).empty()) {
        kill_group(dir, kill->path);
        spdlog::info("session {}: killed what still ran in cgroup {} after {}s", kill->session_id,
                     kill->path, self->kill_grace_);
    }
    if (rmdir(dir.c_str()) != 0 && errno == EBUSY && ++kill->removal_tries < kRemovalTries) {
        if (arm_kill_timer(kill, kRemovalRetryUsec)) {
            return 0;
        }
    }
    self->pending_kills_.remove_if([kill](const auto& pending) { return pending.get() == kill; });
    return 0;
}

void SessionCgroups::remove_empty_groups() {
    if (unified_root_.empty()) {  // groups of an earlier run; never mount just to look
        unified_root_ =
            find_cgroup2_mount(read_text("/proc/self/mountinfo").value_or("")).value_or("");
    }
    if (unified_root_.empty()) {
        return;
    }
    const std::string parent = unified_root_ + std::string(kDirectGroupParent);
    std::unique_ptr<DIR, int (*)(DIR*)> groups(opendir(parent.c_str()), closedir);
    if (!groups) {
        return;
    }
    std::vector<std::string> names;
    while (dirent* entry = readdir(groups.get())) {
        if (entry->d_type == DT_DIR && std::strncmp(entry->d_name, "session-", 8) == 0) {
            names.emplace_back(entry->d_name);
        }
    }
    for (const auto& name : names) {
        rmdir((parent + "/" + name).c_str());  // fails (EBUSY) while processes remain
    }
}

}  // namespace jitd
