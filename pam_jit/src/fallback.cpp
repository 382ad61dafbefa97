// SPDX-License-Identifier: Apache-2.0
#include "fallback.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "jit/error.hpp"
#include "jit/os.hpp"
#include "jit/spool.hpp"
#include "jit/unique_fd.hpp"
#include "messages.hpp"

namespace jit::pam {
namespace {

// A snapshot is a few lines per resource and grant; anything this large is not one.
constexpr off_t kMaxSnapshotBytes = 64 * 1024 * 1024;

SnapshotLoad refuse(const std::string& path, const std::string& why) {
    SnapshotLoad load;
    load.error = "snapshot " + path + ": " + why;
    return load;
}

// Reads exactly size bytes (the file is replaced by rename, never rewritten in place).
bool read_all(int fd, std::string& text, std::size_t size) {
    text.resize(size);
    std::size_t done = 0;
    while (done < size) {
        const ssize_t n = read(fd, text.data() + done, size - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

// flock() has no timeout: try without blocking, once a millisecond, until the wait is over.
int lock_within(int fd, int wait_msec) {
    for (int waited = 0;; ++waited) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            return 0;
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            return -errno;
        }
        if (waited >= wait_msec) {
            return -EWOULDBLOCK;
        }
        const timespec millisecond{0, 1'000'000};
        nanosleep(&millisecond, nullptr);
    }
}

// Why the spool's directory is not jitd's alone, or "".
std::string unsafe_directory(int dir_fd) {
    struct stat st {};
    if (fstat(dir_fd, &st) < 0) {
        return jit::errno_text(errno);
    }
    if (st.st_uid != 0) {
        return "is not owned by root";
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        return "is writable by group or others";
    }
    return {};
}

// Why the opened spool is not one pam_jit (as root) created, or "".
std::string unsafe_spool(int fd) {
    struct stat st {};
    if (fstat(fd, &st) < 0) {
        return jit::errno_text(errno);
    }
    return unsafe_spool_file(st);
}

}  // namespace

SnapshotLoad load_snapshot(const std::string& path) {
    const jit::UniqueFd fd(
        open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK));
    if (fd.get() < 0) {
        return refuse(path, jit::errno_text(errno));
    }
    struct stat st {};
    if (fstat(fd.get(), &st) < 0) {
        return refuse(path, jit::errno_text(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        return refuse(path, "not a regular file");
    }
    if (st.st_uid != 0) {
        return refuse(path, "not owned by root");
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        return refuse(path, "writable by group or others");
    }
    if (st.st_size > kMaxSnapshotBytes) {
        return refuse(path, "too large");
    }
    std::string text;
    if (!read_all(fd.get(), text, static_cast<std::size_t>(st.st_size))) {
        return refuse(path, "short read");
    }
    SnapshotLoad load;
    try {
        // NSS resolves accounts and members to uids, as in jitd; it keeps no state.
        static const NssIdentityResolver identity;
        load.index = parse_snapshot(text, &identity);
    } catch (const JitError& e) {
        return refuse(path, std::string("corrupt: ") + e.what());
    }
    return load;
}

std::string spool_path(const std::string& snapshot_path) {
    // rfind() + 1 keeps the slash, and is 0 (no directory) when there is none.
    return snapshot_path.substr(0, snapshot_path.rfind('/') + 1) + "fallback.log";
}

std::string append_spool(const std::string& path, const std::string& line) {
    const std::size_t slash = path.rfind('/');
    const std::string directory = slash == std::string::npos ? "."
                                  : slash == 0               ? "/"
                                                             : path.substr(0, slash);
    const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    // The file is opened relative to the directory checked, so the two cannot be swapped.
    const jit::UniqueFd dir(open(directory.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() < 0) {
        return "directory " + directory + ": " + jit::errno_text(errno);
    }
    std::string why = unsafe_directory(dir.get());
    if (!why.empty()) {
        return "directory " + directory + " " + why;
    }
    // O_NONBLOCK: a FIFO put there must not hold up the login.
    const jit::UniqueFd fd(openat(
        dir.get(), name.c_str(),
        O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0600));
    if (fd.get() < 0) {
        return jit::errno_text(errno);
    }
    why = unsafe_spool(fd.get());
    if (!why.empty()) {
        return why + ", not writing to it";
    }
    const int r = lock_within(fd.get(), kSpoolLockWaitMsec);
    if (r < 0) {
        return r == -EWOULDBLOCK ? "still locked after " + std::to_string(kSpoolLockWaitMsec) +
                                       " ms (jitd is auditing it)"
                                 : jit::errno_text(-r);
    }
    ssize_t n;
    do {
        n = write(fd.get(), line.data(), line.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return jit::errno_text(errno);
    }
    return static_cast<std::size_t>(n) == line.size() ? std::string() : "short write";
}

}  // namespace jit::pam
