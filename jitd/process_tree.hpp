// SPDX-License-Identifier: Apache-2.0
// Finding a session's processes without logind: the registered pid and its descendants, read
// from /proc. A process is identified by pid and start time, so a pid reused between SIGTERM
// and SIGKILL is never signalled, and a registered pid reused since the session opened is not
// taken for the session's process.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "jit/time.hpp"

namespace jitd {

struct ProcessId {
    pid_t pid = 0;
    std::uint64_t start_time = 0;  // clock ticks since boot, /proc/PID/stat field 22
};

struct ProcStat {
    char state = '?';  // R, S, D, Z (zombie: dead, waiting to be reaped), ...
    pid_t ppid = 0;
    dev_t tty = 0;  // controlling terminal (field 7, decoded), 0 for none
    std::uint64_t start_time = 0;

    bool running() const { return state != 'Z' && state != 'X'; }
};

// Parses the text of /proc/PID/stat (the command name may contain spaces and parentheses).
std::optional<ProcStat> parse_proc_stat(std::string_view text);

// /proc/PID/stat of a process; nullopt when it is gone.
std::optional<ProcStat> read_proc_stat(pid_t pid);
// The same from an open /proc/PID/stat; nullopt when the process ended after the open (reading
// then fails with ESRCH, which must not become an exception that ends jitd).
std::optional<ProcStat> read_open_proc_stat(int stat_fd);

// Every running process in /proc at one moment, with its parent: read once, it answers for
// many sessions (ending thousands of sessions together must not read /proc thousands of times).
class ProcessTable {
  public:
    static ProcessTable read();

    // The process, when it runs; nullptr otherwise.
    const ProcStat* find(pid_t pid) const;
    // The process and all its living descendants, parents before children; empty when it is
    // not running.
    std::vector<ProcessId> tree_of(pid_t root) const;

  private:
    std::unordered_map<pid_t, ProcStat> processes_;
    std::unordered_multimap<pid_t, pid_t> children_of_;
};

// The process and all its living descendants (zombies left out), parents before children;
// empty when it is gone.
std::vector<ProcessId> process_and_descendants(pid_t root);

// Those of `processes` that still run and all their living descendants, each pid once
// (children forked since `processes` was taken are included).
std::vector<ProcessId> survivors_and_descendants(const std::vector<ProcessId>& processes);

// True when `process` still runs (same pid, same start time, not a zombie).
bool process_alive(const ProcessId& process);

// Sends `signal` through a pidfd to `pid` when, with the pidfd open, `still_it(pid)` holds:
// the pidfd pins the process, so a pid reused after the check is never signalled. False when
// nothing was sent.
bool signal_through_pidfd(pid_t pid, int signal, const std::function<bool(pid_t)>& still_it);

// `process`, if it still runs (same start time), gets `signal` through a pidfd.
bool signal_if_alive(const ProcessId& process, int signal);

// Wall-clock time of a process start time: the boot time in epoch nanoseconds and the clock
// ticks per second of /proc/PID/stat.
struct BootClock {
    std::int64_t boot_time_ns = 0;
    long ticks_per_second = 100;

    // The running system's (CLOCK_REALTIME - CLOCK_BOOTTIME: the start times count boot time;
    // /proc/stat's btime says the same but jitd.service's ProcSubset=pid hides it).
    static BootClock current();
    jit::EpochSeconds epoch_of(std::uint64_t start_ticks) const;
};

// False when a process that started at `process_start` cannot be the one that opened a session
// at `opened`: it started more than a few seconds (clock rounding) later, so the registered pid
// was reused. `opened` 0 means unknown, which proves nothing. Only for sessions registered
// without the start time of their process.
bool may_have_opened_session(jit::EpochSeconds process_start, jit::EpochSeconds opened);

// The processes of a session: its registered pid and descendants. The pid is the session's
// process when its start time equals `pid_start` (/proc/PID/stat field 22 when the session
// opened); when that is unknown (0), when it started no later than `opened` allows.
struct SessionProcesses {
    enum class Root { Running, Gone, Reused };
    Root root = Root::Gone;
    std::vector<ProcessId> processes;  // empty unless root is Running
};
SessionProcesses session_processes(pid_t pid, std::uint64_t pid_start, jit::EpochSeconds opened,
                                   const BootClock& clock = BootClock::current());
// The same from a table read before (the registered pid's identity is checked again when it is
// signalled, through a pidfd).
SessionProcesses session_processes(const ProcessTable& table, pid_t pid, std::uint64_t pid_start,
                                   jit::EpochSeconds opened, const BootClock& clock);

// False when the process a session registered is certainly gone: no process runs as `pid`, or
// one does that started at another time than `pid_start`. With pid_start 0 (unknown) any
// process running as `pid` may be the session's.
bool registered_process_may_run(pid_t pid, std::uint64_t pid_start);

}  // namespace jitd
