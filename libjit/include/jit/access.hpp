// SPDX-License-Identifier: Apache-2.0
// Deciding a login (docs/login-decision.md) from an in-memory index of resources' match rules,
// standing members and active grants. jitd keeps one AccessIndex live; pam_jit rebuilds one from
// the snapshot file when jitd cannot answer. The same code decides in both places.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "jit/identity.hpp"
#include "jit/model.hpp"

namespace jit {

// The audit login uid of a process that has none (AUDIT_UID_UNSET).
inline constexpr uid_t kLoginUidUnset = static_cast<uid_t>(-1);

// What PAM knows about an attempt, and what the PAM application's process knows of itself.
struct LoginAttempt {
    std::string service;  // PAM_SERVICE
    std::string user;     // PAM_USER: the target account
    std::string ruser;    // PAM_RUSER: the invoking user for sudo/su, often empty for sshd
    std::string rhost;
    std::string tty;
    // The application's real uid: whoever ran a setuid su or sudo (0 for sshd, login, cron).
    uid_t app_uid = 0;
    // The application's audit login uid (/proc/self/loginuid): the person whose login this
    // process descends from, kLoginUidUnset for daemons and boot-time services.
    uid_t login_uid = kLoginUidUnset;
    // sshd's session stack: the key that logged in, "TYPE BASE64" (from SSH_AUTH_INFO_0); ""
    // when no key was used. A registered key makes its owner the requester.
    std::string ssh_key{};
    // sshd's account stack: a key may have logged in, but sshd tells only the session stack.
    bool ssh_key_pending = false;
};

// The PAM services that learn the ssh key only in the session stack (sshd): their account stack
// decides with ssh_key_pending.
inline bool key_known_in_session_only(std::string_view service) {
    return service == "sshd";
}

// Who is asking, resolved from an attempt by one rule for jitd and pam_jit alike:
// the application's real uid when it is not 0 (setuid su/sudo: PAM_RUSER is not trusted over
// it), else PAM_RUSER when set, else PAM_USER. A root requester switching accounts (PAM_RUSER
// set) is a person when the process has a login uid other than 0 (a root shell someone reached),
// and root's own automation otherwise.
struct Requester {
    std::string name;          // the canonical NSS name (the uid's first entry) when known
    std::optional<uid_t> uid;  // none: NSS does not know the name
    bool root_automation = false;
};
Requester resolve_requester(const LoginAttempt& attempt, const IdentityResolver& identity);

// Deferred: sshd's account stack, where the key is not known yet, for an account that some
// person may enter with a registered key: PAM_IGNORE, the session stack decides.
enum class LoginVerdict { Unmanaged, RootAutomation, Member, Grant, Deny, Deferred };
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
    std::string fingerprint;             // the registered key that named the requester, or ""
    // Deny only: the requester's grant on one of the resources is scheduled to start then.
    std::optional<EpochSeconds> starts{};
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

// A registered ssh key as the index knows it: enough to match the key sshd reports and to write
// authorized keys files, no hashing needed (pam_jit decides from these too).
struct KeyOwner {
    std::string fingerprint;  // SHA256:...
    std::string user;         // the person
    std::string key;          // "TYPE BASE64", canonical
};

// The PAM services a resource's service name stands for: "sudo" covers sudo and sudo -i
// ("sudo-i"), "su" covers su and su - ("su-l"), "runuser" covers runuser and runuser -l.
std::vector<std::string> service_routes(const std::string& service);

// The services that "*" leaves alone unless jitd.conf says otherwise: an account's own
// scheduled jobs and its systemd user manager.
const std::vector<std::string>& default_unmanaged_services();

class AccessIndex {
  public:
    // Accounts and members are compared by uid: the index resolves their names through
    // `identity` (kept by reference; it must outlive the index). Without one, names only.
    explicit AccessIndex(const IdentityResolver* identity = nullptr) : identity_(identity) {}

    // PAM services a "*" resource does not cover.
    void set_unmanaged_services(std::vector<std::string> services);
    const std::vector<std::string>& unmanaged_services() const { return unmanaged_; }

    // Resolves the rule's accounts and members through `names` when given (a memo shared by a
    // rebuild that puts many rules), else through the index's resolver.
    void put_rule(AccessRule rule, const IdentityResolver* names = nullptr);
    void remove_rule(const std::string& name);
    void put_grant(ActiveGrant grant);
    void remove_grant(Id grant_id);
    // One owner per key (the key text); putting a key again replaces it.
    void put_key(KeyOwner key);
    void remove_key(const std::string& fingerprint);
    void clear();

    // Decides with the index's resolver (NSS in jitd and pam_jit).
    LoginDecision decide(const LoginAttempt& attempt, EpochSeconds now) const;

    // The accounts sshd logins into are covered for by name (never "*"), sorted.
    std::vector<std::string> sshd_accounts() const;
    // The registered keys of the persons who may log into `account` over sshd now (standing
    // members and live grant holders of the resources covering it), sorted by fingerprint.
    std::vector<KeyOwner> keys_entering(const std::string& account, EpochSeconds now) const;

    // The active grant of this user on this resource, if any (expired or not).
    std::optional<Id> grant_of(const std::string& user, const std::string& resource) const;

    // Ordered views for the snapshot writer and for tests.
    std::vector<AccessRule> rules() const;
    std::vector<ActiveGrant> grants() const;
    std::vector<KeyOwner> keys() const;  // by fingerprint
    std::size_t rule_count() const { return rules_.size(); }
    std::size_t grant_count() const { return grants_.size(); }

  private:
    std::vector<const AccessRule*> matching_rules(const LoginAttempt& attempt,
                                                  std::optional<uid_t> target_uid) const;
    bool is_member(const AccessRule& rule, const Requester& requester,
                   std::optional<std::vector<std::string>>& groups) const;
    // Steps 3 and 4 of the decision: a standing member or a live grant among `matching`.
    bool admit(const std::vector<const AccessRule*>& matching, const Requester& requester,
               EpochSeconds now, LoginDecision& decision) const;
    Requester key_owner(const KeyOwner& key) const;
    // The owners of registered keys admitted to `matching`, all of them or only the first.
    std::vector<std::string> key_owners_admitted(const std::vector<const AccessRule*>& matching,
                                                 EpochSeconds now, bool first_only) const;
    std::vector<std::string> account_keys(const std::string& account,
                                          const IdentityResolver* names) const;
    std::optional<uid_t> uid_of(const std::string& name,
                                const IdentityResolver* names = nullptr) const;

    const IdentityResolver* identity_;
    std::vector<std::string> unmanaged_ = default_unmanaged_services();
    std::map<std::string, AccessRule> rules_;
    // The uids of a rule's user members (by rule name), resolved when the rule is put.
    std::unordered_map<std::string, std::vector<uid_t>> member_uids_;
    // PAM service (aliases expanded, or "*") -> account key -> names of the resources covering
    // that pair, so a check touches only the resources that match it, however many the host
    // has. An account is keyed by its name and, when NSS knows it, by "#UID" (aliases).
    using ByAccount = std::unordered_map<std::string, std::vector<std::string>>;
    std::unordered_map<std::string, ByAccount> by_service_;
    std::unordered_map<Id, ActiveGrant> grants_;
    // user -> resource -> grant ids; a user rarely holds more than a handful.
    std::unordered_map<std::string, std::multimap<std::string, Id>> grants_by_user_;
    std::unordered_map<std::string, KeyOwner> keys_by_text_;      // "TYPE BASE64" -> key
    std::map<std::string, std::string> key_text_by_fingerprint_;  // fingerprint -> key text
};

// The snapshot file (docs/login-decision.md): a versioned, line-based text form of an AccessIndex.
// Names are %-escaped, so any user name NSS allows round-trips; a damaged file is rejected.
std::string serialize_snapshot(const AccessIndex& index, EpochSeconds generated);
// Throws JitError(InvalidInput) on any malformed line: a corrupt snapshot must not allow.
// `identity` as for the AccessIndex constructor.
AccessIndex parse_snapshot(std::string_view text, const IdentityResolver* identity = nullptr);

}  // namespace jit
