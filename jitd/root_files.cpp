// SPDX-License-Identifier: Apache-2.0
#include "root_files.hpp"

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

void write_all(int fd, const std::string& data, const std::string& path) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
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

void throw_os_error(const std::string& what, const std::string& path) {
    throw jit::JitError(jit::ErrorCode::Internal, what + " " + path + ": " + std::strerror(errno));
}

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

bool prepare_root_directory(const std::string& dir, mode_t mode, const std::string& what,
                            const std::string& why) {
    struct stat st {};
    if (stat(dir.c_str(), &st) < 0) {
        if (errno != ENOENT) {
            throw_os_error("cannot inspect the " + what, dir);
        }
        make_directories(dir, mode);
        return true;
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
                            "the " + what + " " + dir + " " + problem + " (" + why + ")");
    }
    return false;
}

void replace_file(const std::string& path, std::string temp_template, const std::string& contents,
                  const std::function<void(int fd, const std::string& temp)>& adjust) {
    std::string& temp = temp_template;
    // mkostemp creates the file 0600, owned by jitd (root).
    UniqueFd fd(mkostemp(temp.data(), O_CLOEXEC));
    if (!fd) {
        throw_os_error("cannot create", temp);
    }
    try {
        write_all(fd.get(), contents, temp);
        if (adjust) {
            adjust(fd.get(), temp);
        }
        if (fsync(fd.get()) < 0) {
            throw_os_error("cannot sync", temp);
        }
        fd.reset();
        if (rename(temp.c_str(), path.c_str()) < 0) {
            throw_os_error("cannot rename to " + path + ":", temp);
        }
    } catch (...) {
        unlink(temp.c_str());
        throw;
    }
}

void RetriedWrite::run_if_due(const std::function<void()>& write) {
    if (!due_) {
        return;
    }
    try {
        write();
        due_ = false;
        if (failing_) {
            spdlog::info("{} written again", the_files_);
            failing_ = false;
        }
    } catch (const std::exception& e) {
        if (!failing_) {
            spdlog::critical("cannot update {}: {}; {}; retrying", the_files_, e.what(),
                             consequence_);
            failing_ = true;
        }
    }
}

}  // namespace jitd
