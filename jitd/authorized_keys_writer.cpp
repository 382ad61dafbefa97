// SPDX-License-Identifier: Apache-2.0
#include "authorized_keys_writer.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "jit/error.hpp"
#include "sd_handles.hpp"
#include "snapshot_writer.hpp"

namespace jitd {
namespace {

constexpr mode_t kDirectoryMode = 0755;
constexpr mode_t kFileMode = 0640;

[[noreturn]] void throw_os_error(const std::string& what, const std::string& path) {
    throw jit::JitError(jit::ErrorCode::Internal, what + " " + path + ": " + std::strerror(errno));
}

struct Account {
    std::string name;
    gid_t gid = 0;
};

std::optional<Account> account_of(const std::string& name) {
    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    if (getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
        return std::nullopt;
    }
    return Account{found->pw_name, found->pw_gid};
}

// A name sshd's %u can expand to and that names a file in the directory, nothing else.
bool is_safe_file_name(const std::string& name) {
    return !name.empty() && name[0] != '.' && name.find('/') == std::string::npos;
}

std::string file_contents(const std::string& account, const std::vector<jit::KeyOwner>& keys) {
    std::ostringstream out;
    out << "# Written by jitd; do not edit (changes are overwritten). The registered ssh keys of\n"
        << "# the people who may log into " << account << " now: jitctl key list, jitctl grants.\n";
    for (const jit::KeyOwner& key : keys) {
        out << key.key << " jit:" << key.user << '\n';
    }
    return out.str();
}

bool has_contents(const std::string& path, const std::string& contents, gid_t gid) {
    struct stat st {};
    if (lstat(path.c_str(), &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
        st.st_gid != gid || (st.st_mode & 07777) != kFileMode) {
        return false;
    }
    std::ifstream in(path, std::ios::binary);
    std::ostringstream current;
    current << in.rdbuf();
    return in.good() || in.eof() ? current.str() == contents : false;
}

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

struct DirCloser {
    void operator()(DIR* dir) const { closedir(dir); }
};

}  // namespace

std::map<std::string, AuthorizedKeysFile> authorized_keys_files(const jit::AccessIndex& index,
                                                                jit::EpochSeconds now) {
    std::map<std::string, AuthorizedKeysFile> files;
    for (const std::string& name : index.sshd_accounts()) {
        const std::optional<Account> account = account_of(name);
        if (!account || !is_safe_file_name(account->name)) {
            continue;  // sshd cannot log into an account NSS does not know
        }
        AuthorizedKeysFile& file = files[account->name];
        file.gid = account->gid;
        // An alias covered under another spelling adds nothing: both ask the same question.
        file.contents = file_contents(account->name, index.keys_entering(account->name, now));
    }
    return files;
}

void AuthorizedKeysWriter::prepare_directory() const {
    struct stat st {};
    if (stat(directory_.c_str(), &st) < 0) {
        if (errno != ENOENT) {
            throw_os_error("cannot inspect the authorized keys directory", directory_);
        }
        make_directories(directory_, kDirectoryMode);
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
                            "the authorized keys directory " + directory_ + " " + problem +
                                " (whoever writes there can log into every covered account)");
    }
    // sshd reads the files as the account: the directory must be searchable by everyone.
    if ((st.st_mode & 07777) != kDirectoryMode && chmod(directory_.c_str(), kDirectoryMode) < 0) {
        throw_os_error("cannot make the authorized keys directory 0755:", directory_);
    }
}

void AuthorizedKeysWriter::replace_file(const std::string& name,
                                        const AuthorizedKeysFile& file) const {
    const std::string path = directory_ + "/" + name;
    if (has_contents(path, file.contents, file.gid)) {
        return;
    }
    // A leading dot: no user name starts with one, so sshd never reads a half-written file.
    std::string temp = directory_ + "/." + name + ".XXXXXX";
    UniqueFd fd(mkostemp(temp.data(), O_CLOEXEC));
    if (!fd) {
        throw_os_error("cannot create", temp);
    }
    try {
        write_all(fd.get(), file.contents, temp);
        if (fchown(fd.get(), 0, file.gid) < 0) {
            throw_os_error("cannot give the account's group to", temp);
        }
        if (fchmod(fd.get(), kFileMode) < 0) {
            throw_os_error("cannot chmod", temp);
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

// Files of accounts no longer covered, and temporary files a crash left behind.
void AuthorizedKeysWriter::remove_stale(
    const std::map<std::string, AuthorizedKeysFile>& wanted) const {
    std::unique_ptr<DIR, DirCloser> dir(opendir(directory_.c_str()));
    if (!dir) {
        throw_os_error("cannot read the authorized keys directory", directory_);
    }
    std::vector<std::string> stale;
    while (const dirent* entry = readdir(dir.get())) {
        const std::string name = entry->d_name;
        if (name == "." || name == ".." || wanted.count(name)) {
            continue;
        }
        stale.push_back(name);
    }
    for (const std::string& name : stale) {
        const std::string path = directory_ + "/" + name;
        if (unlink(path.c_str()) < 0 && errno != ENOENT) {
            throw_os_error("cannot remove the stale authorized keys file", path);
        }
    }
}

void AuthorizedKeysWriter::write(const jit::AccessIndex& index, jit::EpochSeconds now) {
    const std::map<std::string, AuthorizedKeysFile> files = authorized_keys_files(index, now);
    for (const auto& [name, file] : files) {
        replace_file(name, file);
    }
    remove_stale(files);
    dirty_ = false;
}

void AuthorizedKeysWriter::write_if_dirty(const jit::AccessIndex& index, jit::EpochSeconds now) {
    if (!dirty_) {
        return;
    }
    try {
        write(index, now);
        if (failing_) {
            spdlog::info("authorized keys files in {} written again", directory_);
            failing_ = false;
        }
    } catch (const std::exception& e) {
        if (!failing_) {
            spdlog::critical(
                "cannot update the authorized keys files: {}; sshd reads the previous ones (a "
                "key whose access ended may still be offered until this succeeds, and pam_jit "
                "still denies such a login); retrying",
                e.what());
            failing_ = true;
        }
    }
}

}  // namespace jitd
