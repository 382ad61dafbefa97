// SPDX-License-Identifier: Apache-2.0
// What pam_jit does when jitd cannot answer: decide from the snapshot jitd keeps up
// to date, and leave a line in the fallback spool so that jitd audits the decision once back.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "jit/access.hpp"

namespace jit::pam {

struct SnapshotLoad {
    std::optional<AccessIndex> index;  // empty when the snapshot cannot be trusted or read
    std::string error;                 // why, for the log
};

// Reads and parses the snapshot. Refuses anything but a regular file owned by root that neither
// group nor others may write, and symlinks: only jitd may decide what the fallback allows.
SnapshotLoad load_snapshot(const std::string& path);

// <dirname(snapshot)>/fallback.log; its lines are jit/spool.hpp's.
std::string spool_path(const std::string& snapshot_path);

// Appends the line with one write under flock(LOCK_EX), the lock jitd empties the file under
// after auditing it; creates the file 0600 and never follows a symlink. Only jitd may read what
// pam_jit spools and nobody else may have put the file there: the directory must be owned by
// root and writable by nobody else, the file a regular root-owned one without group or other
// permissions and with a single link (a hard link could make the line land anywhere). The lock
// is waited for at most kSpoolLockWaitMsec, so that a wedged jitd cannot hold up a login.
// Returns "" once the line is written, else why it was not, for the log.
inline constexpr int kSpoolLockWaitMsec = 20;
std::string append_spool(const std::string& path, const std::string& line);

}  // namespace jit::pam
