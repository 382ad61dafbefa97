// SPDX-License-Identifier: Apache-2.0
// Who someone is: user names and their groups. jitd and pam_jit use the NSS implementation
// (so LDAP/SSSD users work); unit tests inject a fake.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace jit {

// What NSS says of a user name: its uid and its home directory, each none when unknown; from
// a resolver that reads the whole passwd entry (NSS) also the entry's own name (what an alias
// resolves to) and its primary group.
struct UserRecord {
    std::optional<uid_t> uid;
    std::optional<std::string> home;
    std::string name{};
    std::optional<gid_t> gid{};
};

class IdentityResolver {
  public:
    virtual ~IdentityResolver() = default;
    // Names of all groups the user belongs to (primary included); empty for unknown users.
    virtual std::vector<std::string> groups_of(const std::string& user) const = 0;
    virtual std::optional<std::string> user_name(uid_t uid) const = 0;
    virtual std::optional<uid_t> user_uid(const std::string& name) const = 0;
    // The home directory of a user (grant review: its ~/.ssh, crontab, systemd units); none when
    // unknown. Only jitd's resolver needs one.
    virtual std::optional<std::string> user_home(const std::string& /*name*/) const { return {}; }
    // Both of the above; a resolver that can answers them from one lookup.
    virtual UserRecord user_record(const std::string& name) const {
        return {user_uid(name), user_home(name)};
    }
};

// getpwuid_r / getgrouplist / getgrgid_r.
class NssIdentityResolver final : public IdentityResolver {
  public:
    std::vector<std::string> groups_of(const std::string& user) const override;
    std::optional<std::string> user_name(uid_t uid) const override;
    std::optional<uid_t> user_uid(const std::string& name) const override;
    std::optional<std::string> user_home(const std::string& name) const override;  // getpwnam_r
    UserRecord user_record(const std::string& name) const override;                // one getpwnam_r
};

// Answers user_uid and user_home from one user_record of `resolver` per name, kept for the
// memo's lifetime (groups and uids are passed through). For one rebuild of what names many
// accounts (jitd's start, pam_jit reading the snapshot): on a host with thousands of resources
// each account costs one NSS lookup, not one per service, resource and grant naming it. Made
// afresh for each rebuild, so a user created since is seen by the next one, and logins ask
// NSS themselves.
class MemoIdentityResolver final : public IdentityResolver {
  public:
    explicit MemoIdentityResolver(const IdentityResolver& resolver) : resolver_(resolver) {}
    std::vector<std::string> groups_of(const std::string& user) const override {
        return resolver_.groups_of(user);
    }
    std::optional<std::string> user_name(uid_t uid) const override {
        return resolver_.user_name(uid);
    }
    std::optional<uid_t> user_uid(const std::string& name) const override {
        return user_record(name).uid;
    }
    std::optional<std::string> user_home(const std::string& name) const override {
        return user_record(name).home;
    }
    UserRecord user_record(const std::string& name) const override;

  private:
    const IdentityResolver& resolver_;
    mutable std::unordered_map<std::string, UserRecord> records_;
};

// The kernel's "no login uid" value of /proc/PID/loginuid ((uid_t)-1).
inline constexpr uid_t kUnsetLoginUid = static_cast<uid_t>(-1);

// Someone calling jitd: the kernel-sourced uid of the bus peer and, separately, the person who
// logged in (the calling process's audit login uid), who may act through another account
// (sudo, su). Both are resolved on every call, so group changes apply at once.
struct Caller {
    uid_t uid = 0;
    std::string name;
    std::vector<std::string> groups;
    // The login user, when one is set and is not root: unset (services, root's cron) and 0
    // (the root console) mean nobody logged in behind this process.
    std::optional<uid_t> login_uid;
    std::string login_name;                 // its NSS name ("#UID" when NSS has none)
    std::vector<std::string> login_groups;  // resolved only for root callers (see person())

    bool is_root() const { return uid == 0; }
    bool in_group(const std::string& group) const;
    // True when the principal ("user" or "@group") names this caller.
    bool matches(const std::string& principal) const;
    // The login user is set and is not the calling account (JIT_ACTOR_LOGIN is written).
    bool login_differs() const { return login_uid && *login_uid != uid; }
    // Root with no person behind it.
    bool is_bare_root() const { return is_root() && !login_uid; }
    // Whom a decision counts for: root with a login user acts as that user; everyone else as
    // their own account.
    const std::string& person() const { return is_root() && login_uid ? login_name : name; }
    const std::vector<std::string>& person_groups() const {
        return is_root() && login_uid ? login_groups : groups;
    }
    // True when `user` is the calling account or the person logged in behind it.
    bool is_or_acts_for(const std::string& user) const {
        return user == name || (login_uid && user == login_name);
    }
};

// True when one of `principals` ("user" or "@group") names this user or one of its groups: the
// one rule for standing members, approvers and exempt accounts.
bool principals_name(const std::vector<std::string>& principals, const std::string& user,
                     const std::vector<std::string>& groups);

// Builds a Caller from a uid and the calling process's login uid (kUnsetLoginUid when unset)
// through the resolver; JitError(PermissionDenied) for a uid with no name (jitd never acts for
// an anonymous caller).
Caller caller_from_uid(uid_t uid, const IdentityResolver& identity,
                       uid_t login_uid = kUnsetLoginUid);

}  // namespace jit
