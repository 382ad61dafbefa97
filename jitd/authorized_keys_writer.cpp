// SPDX-License-Identifier: Apache-2.0
#include "authorized_keys_writer.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "jit/c_handle.hpp"
#include "jit/error.hpp"
#include "root_files.hpp"
#include "sd_handles.hpp"

namespace jitd {
namespace {

constexpr mode_t kDirectoryMode = 0755;
constexpr mode_t kFileMode = 0640;

struct Account {
    std::string name;
    gid_t gid = 0;
};

std::optional<Account> account_of(const std::string& name, const jit::IdentityResolver& accounts) {
    jit::UserRecord user;
    try {
        user = accounts.user_record(name);
    } catch (const jit::JitError&) {
        return std::nullopt;  // a lookup that fails (NSS down) gives no file, as an unknown name
    }
    if (user.name.empty() || !user.gid) {
        return std::nullopt;
    }
    return Account{user.name, *user.gid};
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

}  // namespace

std::map<std::string, AuthorizedKeysFile> authorized_keys_files(
    const jit::AccessIndex& index, jit::EpochSeconds now, const jit::IdentityResolver& accounts) {
    std::map<std::string, AuthorizedKeysFile> files;
    for (const std::string& name : index.sshd_accounts()) {
        const std::optional<Account> account = account_of(name, accounts);
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
    if (prepare_root_directory(directory_, kDirectoryMode, "authorized keys directory",
                               "whoever writes there can log into every covered account")) {
        return;
    }
    // sshd reads the files as the account: the directory must be searchable by everyone.
    struct stat st {};
    if (stat(directory_.c_str(), &st) < 0) {
        throw_os_error("cannot inspect the authorized keys directory", directory_);
    }
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
    jitd::replace_file(path, directory_ + "/." + name + ".XXXXXX", file.contents,
                       [&](int fd, const std::string& temp) {
                           if (fchown(fd, 0, file.gid) < 0) {
                               throw_os_error("cannot give the account's group to", temp);
                           }
                           if (fchmod(fd, kFileMode) < 0) {
                               throw_os_error("cannot chmod", temp);
                           }
                       });
}

// Files of accounts no longer covered, and temporary files a crash left behind.
void AuthorizedKeysWriter::remove_stale(
    const std::map<std::string, AuthorizedKeysFile>& wanted) const {
    jit::CHandle<DIR, closedir> dir(opendir(directory_.c_str()));
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

AuthorizedKeysWriter::AuthorizedKeysWriter(std::string directory)
    : directory_(std::move(directory)),
      write_("the authorized keys files in " + directory_,
             "sshd reads the previous ones (a key whose access ended may still be offered until "
             "this succeeds, and pam_jit still denies such a login)") {}

void AuthorizedKeysWriter::write(const jit::AccessIndex& index, jit::EpochSeconds now,
                                 const jit::IdentityResolver& accounts) {
    const std::map<std::string, AuthorizedKeysFile> files =
        authorized_keys_files(index, now, accounts);
    for (const auto& [name, file] : files) {
        replace_file(name, file);
    }
    remove_stale(files);
    write_.written();
}

void AuthorizedKeysWriter::write_if_dirty(const jit::AccessIndex& index, jit::EpochSeconds now,
                                          const jit::IdentityResolver& accounts) {
    write_.run_if_due([&] { write(index, now, accounts); });
}

}  // namespace jitd
