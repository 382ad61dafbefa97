// SPDX-License-Identifier: Apache-2.0
#include "process_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include "jit/unique_fd.hpp"

namespace jitd {
namespace {

// How much later than the session's `opened` its process may seem to have started: both are
// rounded to whole seconds, from different clocks.
constexpr jit::EpochSeconds kStartTimeSlack = 5;

template <typename T>
bool parse_number(std::string_view text, T& value) {
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size();
}

// tty_nr is the kernel's new_encode_dev() of the device, printed as a signed int.
dev_t decode_tty_nr(std::int64_t tty_nr) {
    auto encoded = static_cast<std::uint32_t>(tty_nr);
    unsigned int major_number = (encoded >> 8) & 0xfff;
    unsigned int minor_number = (encoded & 0xff) | ((encoded >> 12) & 0xfff00);
    return makedev(major_number, minor_number);
}

std::int64_t clock_ns(clockid_t clock) {
    timespec now{};
    clock_gettime(clock, &now);
    return static_cast<std::int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
}

// Debian 12's <sys/pidfd.h> (glibc 2.36) declares these without C linkage: the system calls.
int open_pidfd(pid_t pid) {
    return static_cast<int>(syscall(SYS_pidfd_open, pid, 0U));
}

int send_through_pidfd(int pidfd, int signal) {
    return static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0U));
}

}  // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
    // "pid (comm) state ppid pgrp session tty_nr ... starttime ...": comm ends at the last ')'.
    auto comm_end = text.rfind(')');
    if (comm_end == std::string_view::npos) {
        return std::nullopt;
    }
    std::istringstream rest{std::string(text.substr(comm_end + 1))};
    std::vector<std::string> fields;  // fields[0] is field 3 (state)
    for (std::string field; rest >> field && fields.size() < 20;) {
        fields.push_back(field);
    }
    ProcStat stat;
    std::int64_t tty_nr = 0;
    if (fields.size() < 20 || fields[0].size() != 1 || !parse_number(fields[1], stat.ppid) ||
        !parse_number(fields[4], tty_nr) || !parse_number(fields[19], stat.start_time)) {
        return std::nullopt;
    }
    stat.state = fields[0][0];
    stat.tty = decode_tty_nr(tty_nr);
    return stat;
}

std::optional<ProcStat> read_open_proc_stat(int stat_fd) {
    // The kernel writes the whole line at once; a few KiB hold any of them.
    std::string text(4096, '\0');
    ssize_t length = -1;
    do {
        length = pread(stat_fd, text.data(), text.size(), 0);
    } while (length < 0 && errno == EINTR);
    if (length < 0) {
        return std::nullopt;  // ESRCH: the process ended after the file was opened
    }
    text.resize(static_cast<std::size_t>(length));
    return parse_proc_stat(text);
}

std::optional<ProcStat> read_proc_stat(pid_t pid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/stat";
    const jit::UniqueFd file(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (file.get() < 0) {
        return std::nullopt;
    }
    return read_open_proc_stat(file.get());
}

ProcessTable ProcessTable::read() {
    ProcessTable table;
    std::unique_ptr<DIR, int (*)(DIR*)> proc(opendir("/proc"), closedir);
    if (!proc) {
        return table;
    }
    while (dirent* entry = readdir(proc.get())) {
        pid_t pid = 0;
        if (!parse_number(std::string_view(entry->d_name), pid)) {
            continue;
        }
        if (auto stat = read_proc_stat(pid); stat && stat->running()) {
            table.children_of_.emplace(stat->ppid, pid);
            table.processes_.emplace(pid, *stat);
        }
    }
    return table;
}

const ProcStat* ProcessTable::find(pid_t pid) const {
    auto found = processes_.find(pid);
    return found == processes_.end() ? nullptr : &found->second;
}

std::vector<ProcessId> ProcessTable::tree_of(pid_t root) const {
    const ProcStat* root_stat = find(root);
    if (!root_stat) {
        return {};
    }
    std::vector<ProcessId> found = {{root, root_stat->start_time}};
    for (std::size_t next = 0; next < found.size(); ++next) {
        auto [first, last] = children_of_.equal_range(found[next].pid);
        for (auto it = first; it != last; ++it) {
            if (it->second != root) {
                found.push_back({it->second, processes_.at(it->second).start_time});
            }
        }
    }
    return found;
}

std::vector<ProcessId> process_and_descendants(pid_t root) {
    auto root_stat = read_proc_stat(root);
    if (!root_stat || !root_stat->running()) {
        return {};
    }
    return ProcessTable::read().tree_of(root);
}

std::vector<ProcessId> survivors_and_descendants(const std::vector<ProcessId>& processes) {
    std::vector<ProcessId> found;
    std::set<pid_t> seen;
    std::optional<ProcessTable> table;  // read once, when the first survivor is found
    for (const auto& process : processes) {
        if (seen.contains(process.pid) || !process_alive(process)) {
            continue;
        }
        if (!table) {
            table = ProcessTable::read();
        }
        for (const auto& member : table->tree_of(process.pid)) {
            if (seen.insert(member.pid).second) {
                found.push_back(member);
            }
        }
    }
    return found;
}

bool process_alive(const ProcessId& process) {
    auto stat = read_proc_stat(process.pid);
    return stat && stat->running() && stat->start_time == process.start_time;
}

bool signal_through_pidfd(pid_t pid, int signal, const std::function<bool(pid_t)>& still_it) {
    jit::UniqueFd pidfd(open_pidfd(pid));
    return pidfd && still_it(pid) && send_through_pidfd(pidfd.get(), signal) == 0;
}

bool signal_if_alive(const ProcessId& process, int signal) {
    return signal_through_pidfd(process.pid, signal, [&](pid_t) { return process_alive(process); });
}

BootClock BootClock::current() {
    long ticks = sysconf(_SC_CLK_TCK);
    return {clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME), ticks > 0 ? ticks : 100};
}

jit::EpochSeconds BootClock::epoch_of(std::uint64_t start_ticks) const {
    auto since_boot_ns =
        static_cast<std::int64_t>(start_ticks / ticks_per_second) * 1000000000 +
        static_cast<std::int64_t>(start_ticks % ticks_per_second) * 1000000000 / ticks_per_second;
    return (boot_time_ns + since_boot_ns) / 1000000000;
}

bool may_have_opened_session(jit::EpochSeconds process_start, jit::EpochSeconds opened) {
    return opened <= 0 || process_start <= opened + kStartTimeSlack;
}

namespace {

bool is_session_process(const ProcStat& stat, std::uint64_t pid_start, jit::EpochSeconds opened,
                        const BootClock& clock) {
    return pid_start != 0 ? stat.start_time == pid_start
                          : may_have_opened_session(clock.epoch_of(stat.start_time), opened);
}

}  // namespace

SessionProcesses session_processes(pid_t pid, std::uint64_t pid_start, jit::EpochSeconds opened,
                                   const BootClock& clock) {
    auto stat = read_proc_stat(pid);
    if (!stat || !stat->running()) {
        return {SessionProcesses::Root::Gone, {}};
    }
    if (!is_session_process(*stat, pid_start, opened, clock)) {
        return {SessionProcesses::Root::Reused, {}};
    }
    // The walk reads the root's start time again: a pid reused in between is not the same
    // process; compare and give up rather than walk an unrelated tree.
    auto processes = process_and_descendants(pid);
    if (processes.empty()) {
        return {SessionProcesses::Root::Gone, {}};
    }
    if (processes.front().start_time != stat->start_time) {
        return {SessionProcesses::Root::Reused, {}};
    }
    return {SessionProcesses::Root::Running, std::move(processes)};
}

SessionProcesses session_processes(const ProcessTable& table, pid_t pid, std::uint64_t pid_start,
                                   jit::EpochSeconds opened, const BootClock& clock) {
    const ProcStat* stat = table.find(pid);
    if (!stat) {
        return {SessionProcesses::Root::Gone, {}};
    }
    if (!is_session_process(*stat, pid_start, opened, clock)) {
        return {SessionProcesses::Root::Reused, {}};
    }
    return {SessionProcesses::Root::Running, table.tree_of(pid)};
}

bool registered_process_may_run(pid_t pid, std::uint64_t pid_start) {
    auto stat = read_proc_stat(pid);
    return stat && stat->running() && (pid_start == 0 || stat->start_time == pid_start);
}

}  // namespace jitd
