// SPDX-License-Identifier: Apache-2.0
#include "jit/identity.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>

#include "jit/error.hpp"

namespace jit {

namespace {

// NSS records larger than this are broken, not big.
constexpr std::size_t kMaxRecordBuffer = 1 << 20;

// The getpw*_r / getgr*_r error numbers that mean "no such entry" (see getpwnam(3)).
bool means_not_found(int error) {
    return error == 0 || error == ENOENT || error == ESRCH || error == EBADF || error == EPERM;
}

[[noreturn]] void throw_lookup_failed(const std::string& what, int error) {
    throw JitError(ErrorCode::Internal,
                   "cannot look up " + what + ": " + std::system_category().message(error));
}

// Runs a reentrant NSS lookup, growing its string buffer on ERANGE. Returns the entry, or
// nullptr when there is none; throws on a real failure (e.g. the LDAP server is down), so that
// an outage is never mistaken for "this user has no groups".
template <typename Entry, typename Lookup>
Entry* nss_lookup(const std::string& what, int size_hint_name, Entry& entry,
                  std::vector<char>& buffer, Lookup lookup) {
    long hint = sysconf(size_hint_name);
    buffer.resize(hint > 0 ? static_cast<std::size_t>(hint) : 1024);
    for (;;) {
        Entry* result = nullptr;
        int error = lookup(&entry, buffer.data(), buffer.size(), &result);
        if (error == ERANGE && buffer.size() < kMaxRecordBuffer) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (result != nullptr) {
            return result;
        }
        if (means_not_found(error)) {
            return nullptr;
        }
        throw_lookup_failed(what, error);
    }
}

// read(entry) of the entry a reentrant NSS lookup finds, or nullopt when there is none.
template <typename Entry, typename Lookup, typename Read>
auto nss_read(const std::string& what, int size_hint_name, Lookup lookup, Read read)
    -> decltype(read(std::declval<Entry&>())) {
    Entry entry{};
    std::vector<char> buffer;
    Entry* found = nss_lookup(what, size_hint_name, entry, buffer, lookup);
    if (found == nullptr) {
        return std::nullopt;
    }
    return read(*found);
}

// read(entry) of user name's passwd entry, or nullopt when there is none.
template <typename Read>
auto from_passwd(const std::string& name, Read read) {
    return nss_read<passwd>(
        "user " + name, _SC_GETPW_R_SIZE_MAX,
        [&](passwd* out, char* data, std::size_t size, passwd** result) {
            return getpwnam_r(name.c_str(), out, data, size, result);
        },
        read);
}

std::optional<gid_t> primary_gid(const std::string& user) {
    return from_passwd(user, [](passwd& entry) { return std::optional<gid_t>(entry.pw_gid); });
}

std::vector<gid_t> group_ids(const std::string& user, gid_t primary) {
    std::vector<gid_t> gids(64);
    for (;;) {
        int count = static_cast<int>(gids.size());
        if (getgrouplist(user.c_str(), primary, gids.data(), &count) >= 0) {
            gids.resize(static_cast<std::size_t>(count));
            return gids;
        }
        // count now holds the number needed; older glibc may leave it unchanged.
        gids.resize(std::max(static_cast<std::size_t>(count), gids.size() * 2));
    }
}

std::optional<std::string> group_name(gid_t gid) {
    return nss_read<group>(
        "group " + std::to_string(gid), _SC_GETGR_R_SIZE_MAX,
        [&](group* out, char* data, std::size_t size, group** result) {
            return getgrgid_r(gid, out, data, size, result);
        },
        [](group& entry) { return std::optional<std::string>(entry.gr_name); });
}

}  // namespace

std::vector<std::string> NssIdentityResolver::groups_of(const std::string& user) const {
    std::optional<gid_t> primary = primary_gid(user);
    if (!primary) {
        return {};
    }
    std::vector<std::string> names;
    for (gid_t gid : group_ids(user, *primary)) {
        // A gid without a name cannot be written as "@group", so it can match nothing.
        std::optional<std::string> name = group_name(gid);
        if (name && std::find(names.begin(), names.end(), *name) == names.end()) {
            names.push_back(std::move(*name));
        }
    }
    return names;
}

std::optional<std::string> NssIdentityResolver::user_name(uid_t uid) const {
    return nss_read<passwd>(
        "uid " + std::to_string(uid), _SC_GETPW_R_SIZE_MAX,
        [&](passwd* out, char* data, std::size_t size, passwd** result) {
            return getpwuid_r(uid, out, data, size, result);
        },
        [](passwd& entry) { return std::optional<std::string>(entry.pw_name); });
}

std::optional<uid_t> NssIdentityResolver::user_uid(const std::string& name) const {
    return from_passwd(name, [](passwd& entry) { return std::optional<uid_t>(entry.pw_uid); });
}

std::optional<std::string> NssIdentityResolver::user_home(const std::string& name) const {
    return from_passwd(name, [](passwd& entry) {
        return entry.pw_dir != nullptr ? std::optional<std::string>(entry.pw_dir) : std::nullopt;
    });
}

UserRecord NssIdentityResolver::user_record(const std::string& name) const {
    return from_passwd(name,
                       [](passwd& entry) {
                           UserRecord record;
                           record.uid = entry.pw_uid;
                           record.name = entry.pw_name;
                           record.gid = entry.pw_gid;
                           if (entry.pw_dir != nullptr) {
                               record.home = entry.pw_dir;
                           }
                           return std::optional<UserRecord>(std::move(record));
                       })
        .value_or(UserRecord{});
}

UserRecord MemoIdentityResolver::user_record(const std::string& name) const {
    if (auto known = records_.find(name); known != records_.end()) {
        return known->second;
    }
    UserRecord record = resolver_.user_record(name);
    records_.emplace(name, record);
    return record;
}

bool Caller::in_group(const std::string& group) const {
    return !group.empty() && std::find(groups.begin(), groups.end(), group) != groups.end();
}

bool Caller::matches(const std::string& principal) const {
    return principals_name({principal}, name, groups);
}

bool principals_name(const std::vector<std::string>& principals, const std::string& user,
                     const std::vector<std::string>& groups) {
    for (const std::string& principal : principals) {
        if (principal.empty()) {
            continue;
        }
        if (principal[0] != '@'
                ? principal == user
                : std::find(groups.begin(), groups.end(), std::string_view(principal).substr(1)) !=
                      groups.end()) {
            return true;
        }
    }
    return false;
}

Caller caller_from_uid(uid_t uid, const IdentityResolver& identity, uid_t login_uid) {
    std::optional<std::string> name = identity.user_name(uid);
    if (!name) {
        throw_denied("uid " + std::to_string(uid) +
                     " has no user name; jitd acts only for named users");
    }
    Caller caller;
    caller.uid = uid;
    caller.groups = identity.groups_of(*name);
    caller.name = std::move(*name);
    if (login_uid != kUnsetLoginUid && login_uid != 0) {
        caller.login_uid = login_uid;
        // "#" never starts a user name, so an unknown login user matches no principal.
        caller.login_name = identity.user_name(login_uid).value_or("#" + std::to_string(login_uid));
        if (caller.is_root()) {
            caller.login_groups = identity.groups_of(caller.login_name);
        }
    }
    return caller;
}

}  // namespace jit
