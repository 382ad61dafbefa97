// SPDX-License-Identifier: Apache-2.0
// The real file system under grant review fingerprints (jit/grant_review.hpp): lstat, a
// directory listing, and SHA-256 (libcrypto EVP) of a regular file opened without following
// symlinks or blocking on a FIFO.
#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "jit/grant_review.hpp"
#include "jit/os.hpp"
#include "jit/unique_fd.hpp"

namespace jit {
namespace {

std::string hex(const unsigned char* bytes, unsigned length) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < length; ++i) {
        out += kHex[bytes[i] >> 4];
        out += kHex[bytes[i] & 0x0f];
    }
    return out;
}

struct DigestFree {
    void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

struct DirClose {
    void operator()(DIR* dir) const { closedir(dir); }
};

}  // namespace

std::optional<FileEntry> PosixReviewFileSystem::stat(const std::string& path) const {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        return std::nullopt;
    }
    FileEntry entry;
    entry.path = path;
    entry.type = S_ISREG(st.st_mode)   ? 'f'
                 : S_ISDIR(st.st_mode) ? 'd'
                 : S_ISLNK(st.st_mode) ? 'l'
                                       : 'o';
    entry.size = entry.type == 'd' ? 0 : static_cast<std::int64_t>(st.st_size);
    entry.mode = static_cast<std::uint32_t>(st.st_mode & 07777);
    entry.uid = st.st_uid;
    entry.gid = st.st_gid;
    entry.mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec);
    return entry;
}

std::vector<std::string> PosixReviewFileSystem::list(const std::string& directory) const {
    std::vector<std::string> names;
    std::unique_ptr<DIR, DirClose> dir(opendir(directory.c_str()));
    if (!dir) {
        return names;
    }
    while (const dirent* entry = readdir(dir.get())) {
        const std::string name = entry->d_name;
        if (name != "." && name != "..") {
            names.push_back(name);
        }
    }
    return names;
}

std::optional<std::string> PosixReviewFileSystem::hash_file(const std::string& path,
                                                            std::uint64_t limit) const {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    struct stat st {};
    if (!fd || fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<std::uint64_t>(st.st_size) > limit) {
        return std::nullopt;
    }
    std::unique_ptr<EVP_MD_CTX, DigestFree> context(EVP_MD_CTX_new());
    if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) {
        return std::nullopt;
    }
    char buffer[65536];
    std::uint64_t total = 0;
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0) {
            return std::nullopt;
        }
        if (n == 0) {
            break;
        }
        total += static_cast<std::uint64_t>(n);
        if (total > limit || EVP_DigestUpdate(context.get(), buffer, static_cast<size_t>(n)) != 1) {
            return std::nullopt;
        }
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned length = 0;
    if (EVP_DigestFinal_ex(context.get(), digest, &length) != 1) {
        return std::nullopt;
    }
    return hex(digest, length);
}

std::string PosixReviewFileSystem::hash_link(const std::string& path) const {
    char target[4096];
    const ssize_t n = ::readlink(path.c_str(), target, sizeof target);
    if (n < 0) {
        return "-";
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned length = 0;
    if (EVP_Digest(target, static_cast<size_t>(n), digest, &length, EVP_sha256(), nullptr) != 1) {
        return "-";
    }
    return hex(digest, length);
}

std::uint64_t PosixReviewFileSystem::now_usec() const {
    return monotonic_usec();
}

}  // namespace jit
