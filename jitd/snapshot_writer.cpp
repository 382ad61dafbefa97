// SPDX-License-Identifier: Apache-2.0
#include "snapshot_writer.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "jit/error.hpp"
#include "sd_handles.hpp"

namespace jitd {
namespace {

[[noreturn]] void throw_os_error(const std::string& what, const std::string& path) {
    throw jit::JitError(jit::ErrorCode::Internal, what + " " + path + ": " + std::strerror(errno));
}

void write_all(int fd, const std::string& data, const std::string& path) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            throw_os_error("cannot write", path);
        }
        done += static_cast<std::size_t>(n);
    }
}

}  // namespace

void make_directories(const std::string& path, mode_t mode) {
    for (std::size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
        std::string prefix = path.substr(0, slash);
        if (!prefix.empty() && mkdir(prefix.c_str(), mode) == 0) {
            chmod(prefix.c_str(), mode);  // mkdir's mode is filtered by jitd's umask 077
        } else if (!prefix.empty() && errno != EEXIST) {
            throw_os_error("cannot create directory", prefix);
        }
        if (slash == std::string::npos) {
            return;
        }
    }
}

SnapshotWriter::SnapshotWriter(std::string path) : path_(std::move(path)) {}

std::string SnapshotWriter::directory() const {
    auto slash = path_.rfind('/');
    if (slash == std::string::npos) {
        return ".";
    }
    return slash == 0 ? "/" : path_.substr(0, slash);
}

void SnapshotWriter::prepare_directory() const {
    std::string dir = directory();
    struct stat st {};
    if (stat(dir.c_str(), &st) < 0) {
        if (errno != ENOENT) {
            throw_os_error("cannot inspect the snapshot directory", dir);
        }
        make_directories(dir, 0700);
        return;
    }
    std::string problem;
    if (!S_ISDIR(st.st_mode)) {
        problem = "is not a directory";
    } else if (st.st_uid != 0) {
        problem = "is not owned by root";
    } else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        problem = "is writable by group or others";
    }
    if (!problem.empty()) {
        throw jit::JitError(jit::ErrorCode::Internal,
                            "the snapshot directory " + dir + " " + problem +
                                " (pam_jit's snapshot and spool belong in a directory only root "
                                "can write)");
    }
}

void SnapshotWriter::replace_snapshot(const std::string& contents) {
    std::string temp = path_ + ".XXXXXX";
    // mkostemp creates the file 0600, owned by jitd (root): only root reads the snapshot.
    UniqueFd fd(mkostemp(temp.data(), O_CLOEXEC));
    if (!fd) {
        throw_os_error("cannot create", temp);
    }
    try {
        write_all(fd.get(), contents, temp);
        if (fsync(fd.get()) < 0) {
            throw_os_error("cannot sync", temp);
        }
        fd.reset();
        if (rename(temp.c_str(), path_.c_str()) < 0) {
            throw_os_error("cannot rename to " + path_ + ":", temp);
        }
    } catch (...) {
        unlink(temp.c_str());
        throw;
    }
}

void SnapshotWriter::write(const jit::AccessIndex& index, jit::EpochSeconds now) {
    replace_snapshot(jit::serialize_snapshot(index, now));
    dirty_ = false;
}

void SnapshotWriter::write_if_dirty(const jit::AccessIndex& index, jit::EpochSeconds now) {
    if (!dirty_) {
        return;
    }
    try {
        write(index, now);
        if (failing_) {
            spdlog::info("PAM snapshot {} written again", path_);
            failing_ = false;
        }
    } catch (const std::exception& e) {
        if (!failing_) {
            spdlog::critical(
                "cannot update the PAM snapshot: {}; pam_jit falls back to the previous one "
                "(grants revoked since may be honoured until their expiry); retrying",
                e.what());
            failing_ = true;
        }
    }
}

}  // namespace jitd
