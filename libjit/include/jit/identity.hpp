// Who someone is: user names and their groups. jitd and pam_jit use the NSS implementation
// (so LDAP/SSSD users work); unit tests inject a fake.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace jit {

class IdentityResolver {
  public:
    virtual ~IdentityResolver() = default;
    // Names of all groups the user belongs to (primary included); empty for unknown users.
    virtual std::vector<std::string> groups_of(const std::string& user) const = 0;
    virtual std::optional<std::string> user_name(uid_t uid) const = 0;
    virtual std::optional<uid_t> user_uid(const std::string& name) const = 0;
};

// getpwuid_r / getgrouplist / getgrgid_r.
class NssIdentityResolver final : public IdentityResolver {
  public:
    std::vector<std::string> groups_of(const std::string& user) const override;
    std::optional<std::string> user_name(uid_t uid) const override;
    std::optional<uid_t> user_uid(const std::string& name) const override;
};

// A person calling jitd, identified by the kernel-sourced uid of the bus peer.
struct Caller {
    uid_t uid = 0;
    std::string name;
    std::vector<std::string> groups;

    bool is_root() const { return uid == 0; }
    bool in_group(const std::string& group) const;
    // True when the principal ("user" or "@group") names this caller.
    bool matches(const std::string& principal) const;
};

// True when one of `principals` ("user" or "@group") names this user or one of its groups: the
// one rule for standing members, approvers and exempt accounts.
bool principals_name(const std::vector<std::string>& principals, const std::string& user,
                     const std::vector<std::string>& groups);

// Builds a Caller from a uid through the resolver; JitError(PermissionDenied) for a uid with no
// name (jitd never acts for an anonymous caller).
Caller caller_from_uid(uid_t uid, const IdentityResolver& identity);

}  // namespace jit
