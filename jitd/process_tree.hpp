// Finding a session's processes without logind: the registered pid and its descendants, read
// from /proc. A process is identified by pid and start time, so a pid reused between SIGTERM
// and SIGKILL is never signalled.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace jitd {

struct ProcessId {
    pid_t pid = 0;
    std::uint64_t start_time = 0;  // clock ticks since boot, /proc/PID/stat field 22
};

struct ProcStat {
    char state = '?';  // R, S, D, Z (zombie: dead, waiting to be reaped), ...
    pid_t ppid = 0;
    std::uint64_t start_time = 0;

    bool running() const { return state != 'Z' && state != 'X'; }
};

// Parses the text of /proc/PID/stat (the command name may contain spaces and parentheses).
std::optional<ProcStat> parse_proc_stat(std::string_view text);

// The process and all its living descendants (zombies left out), parents before children;
// empty when it is gone.
std::vector<ProcessId> process_and_descendants(pid_t root);

// True when `process` still runs (same pid, same start time, not a zombie).
bool process_alive(const ProcessId& process);

}  // namespace jitd
