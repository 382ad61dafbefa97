// Deciding a login (docs/login-decision.md) from an index of resources' match rules, standing
// members and active grants. jitd keeps one AccessIndex live; pam_jit rebuilds one from the
// snapshot file when jitd cannot answer. The same code decides in both places.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "jit/model.hpp"

namespace jit {

// What PAM knows about an attempt.
struct LoginAttempt {
    std::string service;  // PAM_SERVICE
    std::string user;     // PAM_USER: the target account
    std::string ruser;    // PAM_RUSER: the invoking user for sudo/su, often empty for sshd
    std::string rhost;
    std::string tty;
};

// Requester = PAM_RUSER when set and different from PAM_USER (sudo, su), else PAM_USER.
std::string requester_of(const LoginAttempt& attempt);

enum class LoginVerdict { Unmanaged, Member, Grant, Deny };
std::string_view to_string(LoginVerdict verdict);
LoginVerdict parse_login_verdict(std::string_view text);

struct LoginDecision {
    LoginVerdict verdict = LoginVerdict::Unmanaged;
    std::string requester;
    std::string target;
    std::vector<std::string> resources;  // matching resources (all of them on Deny)
    std::string resource;                // the resource that allowed it (Member/Grant)
    Id grant_id = 0;                     // Grant only
    std::optional<EpochSeconds> expiry;  // Grant only; none = until revoked
};

// What the index needs of a resource: match rules and members, no descriptions or policies.
struct AccessRule {
    std::string name;
    std::vector<std::string> services;
    std::vector<std::string> accounts;
    std::vector<std::string> members;
};

struct ActiveGrant {
    Id id = 0;
    std::string user;
    std::string resource;
    std::optional<EpochSeconds> expiry;
};

// Lazily fetches a user's groups: only called when a matching resource has @group members.
using GroupLookup = std::function<std::vector<std::string>(const std::string& user)>;

class AccessIndex {
  public:
    void put_rule(AccessRule rule);
    void remove_rule(const std::string& name);
    void put_grant(ActiveGrant grant);
    void remove_grant(Id grant_id);
    void clear();

    LoginDecision decide(const LoginAttempt& attempt, const GroupLookup& groups,
                         EpochSeconds now) const;

    // The active grant of this user on this resource, if any (expired or not).
    std::optional<Id> grant_of(const std::string& user, const std::string& resource) const;

    // Ordered views for the snapshot writer and for tests.
    std::vector<AccessRule> rules() const;
    std::vector<ActiveGrant> grants() const;
    std::size_t rule_count() const { return rules_.size(); }
    std::size_t grant_count() const { return grants_.size(); }

  private:
    std::map<std::string, AccessRule> rules_;
    // service -> target account (or "*") -> names of the resources covering that pair, so a
    // check touches only the resources that match it, however many the host has.
    using ByAccount = std::unordered_map<std::string, std::vector<std::string>>;
    std::unordered_map<std::string, ByAccount> by_service_;
    std::unordered_map<Id, ActiveGrant> grants_;
    // user -> resource -> grant ids; a user rarely holds more than a handful.
    std::unordered_map<std::string, std::multimap<std::string, Id>> grants_by_user_;
};

// The snapshot file (docs/login-decision.md): a versioned, line-based text form of an AccessIndex.
// Names are %-escaped, so any user name NSS allows round-trips; a damaged file is rejected.
std::string serialize_snapshot(const AccessIndex& index, EpochSeconds generated);
// Throws JitError(InvalidInput) on any malformed line: a corrupt snapshot must not allow.
AccessIndex parse_snapshot(std::string_view text);

}  // namespace jit
