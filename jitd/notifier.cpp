// SPDX-License-Identifier: Apache-2.0
#include "notifier.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "jit/time.hpp"

namespace jitd {
namespace {

constexpr std::size_t kMaxRunning = 4;
constexpr std::size_t kMaxQueued = 256;

nlohmann::json time_or_null(const std::optional<jit::EpochSeconds>& instant) {
    return instant ? nlohmann::json(jit::format_rfc3339(*instant)) : nlohmann::json(nullptr);
}

nlohmann::json notification_head(const std::string& event) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    return {{"event", event}, {"host", host}};
}

// In the child between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_command(int stdin_fd, const char* command) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);  // jitd blocks SIGCHLD/SIGTERM/SIGINT
    signal(SIGPIPE, SIG_DFL);                  // jitd ignores it; exec would keep that
    setsid();                                  // own process group: the timeout kills it all
    umask(022);
    if (stdin_fd == STDIN_FILENO ? fcntl(stdin_fd, F_SETFD, 0) < 0
                                 : dup2(stdin_fd, STDIN_FILENO) < 0) {
        _exit(127);
    }
    close_range(3, ~0U, 0);
    const char* argv[] = {"/bin/sh", "-c", command, nullptr};
    const char* envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                          "LANG=C.UTF-8", nullptr};
    execve("/bin/sh", const_cast<char* const*>(argv), const_cast<char* const*>(envp));
    _exit(127);
}

// The payload (and a newline) in a memory file, read from its start: the child gets all of it
// however large it is, and jitd never waits for a reader as it would on a full pipe.
UniqueFd payload_file(const std::string& payload) {
    UniqueFd fd(memfd_create("jitd-notification", MFD_CLOEXEC));
    if (!fd) {
        return fd;
    }
    std::string text = payload + "\n";
    for (std::size_t done = 0; done < text.size();) {
        ssize_t n = write(fd.get(), text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return UniqueFd();
        }
        done += static_cast<std::size_t>(n);
    }
    if (lseek(fd.get(), 0, SEEK_SET) < 0) {
        return UniqueFd();
    }
    return fd;
}

}  // namespace

std::string request_notification(const std::string& event, const jit::Request& request,
                                 const std::vector<std::string>& approvers) {
    nlohmann::json json = notification_head(event);
    json["id"] = request.id;
    json["resource"] = request.resource;
    json["requester"] = request.requester;
    json["reason"] = request.reason;
    json["requested_duration"] = request.requested_duration;
    json["duration"] = request.duration;
    json["capped"] = request.capped;
    json["state"] = std::string(jit::to_string(request.state));
    json["created"] = jit::format_rfc3339(request.created);
    json["decided"] = time_or_null(request.decided);
    json["approvals_required"] = request.approvals_required;
    json["approvals"] = nlohmann::json::array();
    for (const auto& approval : request.approvals) {
        json["approvals"].push_back({{"approver", approval.approver},
                                     {"decision", std::string(jit::to_string(approval.decision))},
                                     {"comment", approval.comment},
                                     {"time", jit::format_rfc3339(approval.time)}});
    }
    json["grant_id"] = request.grant_id ? nlohmann::json(*request.grant_id) : nullptr;
    json["start"] = time_or_null(request.start);
    json["extends"] = request.extends ? nlohmann::json(*request.extends) : nullptr;
    json["approvers"] = approvers;
    return json.dump();
}

std::string grant_notification(const std::string& event, const jit::Grant& grant) {
    nlohmann::json json = notification_head(event);
    json["id"] = grant.id;
    json["request_id"] = grant.request_id;
    json["user"] = grant.user;
    json["resource"] = grant.resource;
    json["start"] = jit::format_rfc3339(grant.start);
    json["expiry"] = time_or_null(grant.expiry);
    json["state"] = std::string(jit::to_string(grant.state));
    json["extensions"] = grant.extensions;
    return json.dump();
}

Notifier::Notifier(sd_event* event, std::string command, jit::Seconds timeout)
    : event_(event), command_(std::move(command)), timeout_(timeout) {}

void Notifier::notify(std::string event, std::string payload) {
    if (!enabled()) {
        return;
    }
    if (queue_.size() >= kMaxQueued) {
        spdlog::warn("notify_command: {} notifications waiting; dropping one", queue_.size());
        return;
    }
    queue_.push_back({std::move(event), std::move(payload)});
    start_queued();
}

void Notifier::start_queued() {
    while (running_.size() < kMaxRunning && !queue_.empty()) {
        Queued next = std::move(queue_.front());
        queue_.pop_front();
        spawn(next);
    }
}

void Notifier::spawn(const Queued& notification) {
    const std::string& summary = notification.event;
    UniqueFd payload = payload_file(notification.payload);
    if (!payload) {
        spdlog::error("notify_command for {}: cannot pass the event on stdin: {}", summary,
                      std::strerror(errno));
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        spdlog::error("notify_command for {}: cannot fork: {}", summary, std::strerror(errno));
        return;
    }
    if (pid == 0) {
        exec_command(payload.get(), command_.c_str());
    }
    payload.reset();

    auto job = std::make_unique<Job>(Job{this, pid, summary, nullptr, nullptr});
    sd_event_source* source = nullptr;
    int r = sd_event_add_child(event_, &source, pid, WEXITED, on_exit, job.get());
    if (r < 0) {
        // Without a watch nobody would reap or time it out: stop it now.
        spdlog::error("notify_command for {}: cannot watch pid {}: {}", summary, pid,
                      std::strerror(-r));
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        return;
    }
    job->exit_watch.reset(source);
    uint64_t now = 0;
    sd_event_now(event_, CLOCK_MONOTONIC, &now);
    r = sd_event_add_time(event_, &source, CLOCK_MONOTONIC,
                          now + static_cast<uint64_t>(timeout_) * 1000000, 0, on_timeout,
                          job.get());
    if (r < 0) {
        spdlog::warn("notify_command for {}: no timeout ({})", summary, std::strerror(-r));
    } else {
        job->timeout.reset(source);
    }
    running_.push_back(std::move(job));
}

int Notifier::on_exit(sd_event_source*, const siginfo_t* info, void* userdata) {
    auto* job = static_cast<Job*>(userdata);
    if (info->si_code == CLD_EXITED && info->si_status == 0) {
        spdlog::debug("notify_command for {} done", job->event);
    } else if (info->si_code == CLD_EXITED) {
        spdlog::warn("notify_command for {} failed with exit status {}", job->event,
                     info->si_status);
    } else {
        spdlog::warn("notify_command for {} killed by signal {}", job->event, info->si_status);
    }
    job->owner->finish(job);
    return 0;
}

int Notifier::on_timeout(sd_event_source*, uint64_t, void* userdata) {
    auto* job = static_cast<Job*>(userdata);
    spdlog::warn("notify_command for {} still running after {}s; killing it", job->event,
                 job->owner->timeout_);
    kill(-job->pid, SIGKILL);  // the shell's process group (setsid in the child)
    kill(job->pid, SIGKILL);
    return 0;
}

void Notifier::finish(Job* job) {
    running_.remove_if([job](const auto& running) { return running.get() == job; });
    start_queued();
}

}  // namespace jitd
