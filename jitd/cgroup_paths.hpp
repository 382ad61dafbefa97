// SPDX-License-Identifier: Apache-2.0
// What jitd reads and names when it gives a session a cgroup of its own: the cgroup v2 mount in
// /proc/self/mountinfo, a process's groups in /proc/PID/cgroup, and the names of the groups jit
// makes. Pure text functions, so they are unit-tested without a cgroup file system.
//
// A session's group is named after its process's pid and start time (clock ticks after boot),
// which no other process of the same boot shares: "session-PID-START" under "/jit" when jitd
// makes the group itself (cgroup v2, no systemd), "jit-session-PID-START.scope" wherever systemd
// puts the transient scope. jitd kills a recorded group only when its name is the one it makes
// for that session's pid and start time.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jitd {

// One line of /proc/PID/mountinfo: the fields jitd needs, octal escapes (\040) undone.
struct MountInfoEntry {
    std::string root;         // field 4: the mount's root within its file system
    std::string mount_point;  // field 5
    std::string fs_type;      // first field after the " - " separator
};

std::optional<MountInfoEntry> parse_mountinfo_line(std::string_view line);

// The mount point of a cgroup2 file system showing the whole hierarchy (root "/"), as on a
// unified host (/sys/fs/cgroup) or a hybrid one (/sys/fs/cgroup/unified); nullopt when none.
std::optional<std::string> find_cgroup2_mount(std::string_view mountinfo);

// The paths in /proc/PID/cgroup ("ID:CONTROLLERS:PATH" lines), v2 ("0::PATH") first.
std::vector<std::string> parse_proc_cgroup(std::string_view text);

// The cgroup v2 path ("0::PATH") of /proc/PID/cgroup; nullopt when the process has none.
std::optional<std::string> unified_cgroup_path(std::string_view text);

// Where jitd makes session groups itself, relative to the cgroup v2 root.
inline constexpr std::string_view kDirectGroupParent = "/jit";

std::string direct_group_path(pid_t pid, std::uint64_t start);  // /jit/session-PID-START
std::string scope_unit_name(pid_t pid, std::uint64_t start);    // jit-session-PID-START.scope

// What a recorded cgroup is, if it is the one jit made for the session whose process had this
// pid and start time: a transient systemd scope (any parent slice), a group jitd made itself,
// or neither (never to be killed).
enum class SessionGroupKind { NotOurs, Scope, Direct };
SessionGroupKind session_group_kind(std::string_view recorded, pid_t pid, std::uint64_t start);

// The last path component ("" for "/").
std::string_view path_basename(std::string_view path);

}  // namespace jitd
