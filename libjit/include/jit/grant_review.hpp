// SPDX-License-Identifier: Apache-2.0
// Grant review (docs/grant-review.md): fingerprints of the places where access can be made to
// outlive a grant, taken when the grant starts and when it ends, and their comparison. The file
// system is injected (ReviewFileSystem), so the rules are tested on temporary directories and
// jitd decides where the work runs. Every fingerprint is bounded (files, bytes hashed, time) and
// says when it was cut short.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jit {

// What one fingerprint may cost. A file larger than max_file_bytes is recorded without its hash
// (its size, mode, owner and mtime still count).
struct ReviewLimits {
    std::size_t max_files = 10000;                  // entries recorded
    std::uint64_t max_bytes = 64ULL * 1024 * 1024;  // bytes hashed in all
    std::uint64_t max_file_bytes = 1024 * 1024;     // largest file hashed
    std::uint64_t max_usec = 2000000;               // wall time
    int max_depth = 8;                              // directory levels below a point
};

// One path as it was: type f (regular file), d (directory), l (symlink) or o (other), its
// size, permission bits, owner, mtime, and for a file (up to the size bound) the SHA-256 of its
// contents, for a symlink the SHA-256 of its target; "-" when there is none.
struct FileEntry {
    std::string path;
    char type = 'o';
    std::int64_t size = 0;
    std::uint32_t mode = 0;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::int64_t mtime = 0;
    std::string hash = "-";

    bool operator==(const FileEntry&) const = default;
};

// The entries found under a set of points, sorted by path. incomplete says why the walk was
// cut short ("" when it was not).
struct Fingerprint {
    std::vector<FileEntry> entries;
    std::string incomplete;
};

// What the fingerprint reads, so that tests and jitd choose the implementation.
class ReviewFileSystem {
  public:
    virtual ~ReviewFileSystem() = default;
    // lstat(2) of path as an entry without hash; none when it does not exist or cannot be read.
    virtual std::optional<FileEntry> stat(const std::string& path) const = 0;
    // The names in a directory (not . and ..), in any order; empty when it cannot be read.
    virtual std::vector<std::string> list(const std::string& directory) const = 0;
    // SHA-256 (hex) of a regular file's contents, reading at most `limit` bytes; none when it
    // cannot be read or is larger than limit. Never follows a symlink.
    virtual std::optional<std::string> hash_file(const std::string& path,
                                                 std::uint64_t limit) const = 0;
    // SHA-256 (hex) of a symlink's target text; "-" when it cannot be read.
    virtual std::string hash_link(const std::string& path) const = 0;
    // A monotonic clock in microseconds, for max_usec.
    virtual std::uint64_t now_usec() const = 0;
};

// The real file system (lstat, opendir, open with O_NOFOLLOW, libcrypto's SHA-256).
class PosixReviewFileSystem final : public ReviewFileSystem {
  public:
    std::optional<FileEntry> stat(const std::string& path) const override;
    std::vector<std::string> list(const std::string& directory) const override;
    std::optional<std::string> hash_file(const std::string& path,
                                         std::uint64_t limit) const override;
    std::string hash_link(const std::string& path) const override;
    std::uint64_t now_usec() const override;
};

// The places of an account where access can outlive a grant: its ~/.ssh/authorized_keys*, its
// crontab, its systemd user units; for the superuser (uid 0) also /etc/sudoers*, /etc/cron*,
// /etc/systemd/system, /etc/passwd, /etc/group and /root/.ssh. home "" leaves out the places
// in the home directory. A point is an absolute path whose last component may hold the
// wildcards * ? [ (fnmatch); a directory is walked.
std::vector<std::string> persistence_points(const std::string& account, const std::string& home,
                                            bool superuser);

// Fingerprints the points (repeats ignored), within limits.
Fingerprint take_fingerprint(const std::vector<std::string>& points, const ReviewFileSystem& fs,
                             const ReviewLimits& limits);

// Adds the entries of `more` whose paths `into` lacks (an account fingerprinted later, for a
// grant whose sessions reached it); keeps the first reason a walk was cut short.
void merge_fingerprint(Fingerprint& into, const Fingerprint& more);

// A fingerprint as text for the store ("jit-fingerprint 1" then one line per entry) and back.
// parse_fingerprint throws JitError(InvalidInput) on a line it does not understand.
std::string format_fingerprint(const Fingerprint& fingerprint);
Fingerprint parse_fingerprint(std::string_view text);

struct ReviewChanges {
    std::vector<std::string> created;
    std::vector<std::string> changed;
    std::vector<std::string> removed;
    bool empty() const { return created.empty() && changed.empty() && removed.empty(); }
};

// Paths in `after` only, in both but different, in `before` only. A directory counts as changed
// only when its type, mode or owner changed: a new or removed file in it is listed itself.
ReviewChanges compare_fingerprints(const Fingerprint& before, const Fingerprint& after);

// JIT_CHANGED: one path a line, "+" created, "~" changed, "-" removed, sorted by path; "" when
// nothing changed. Control characters and backslashes in a path are written \xNN and \\, so a
// path is always one printable line.
std::string format_changes(const ReviewChanges& changes);
std::string escape_path(std::string_view path);

}  // namespace jit
