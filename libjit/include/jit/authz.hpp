// SPDX-License-Identifier: Apache-2.0
// Who may do what (docs/concepts.md), as pure functions of the caller and the object.
#pragma once

#include "jit/config.hpp"
#include "jit/identity.hpp"
#include "jit/model.hpp"

namespace jit {

struct Roles {
    std::vector<std::string> admin_groups;
    std::vector<std::string> auditor_groups;
    bool root_approves = false;  // root with no login user may approve (jitd.conf)
    static Roles from_config(const Config& config) {
        return {config.admin_groups, config.auditor_groups, config.root_approves};
    }
};

bool is_admin(const Caller& caller, const Roles& roles);    // root or an admin group
bool is_auditor(const Caller& caller, const Roles& roles);  // an auditor group
// Manage resources and policies.
bool may_manage(const Caller& caller, const Roles& roles);
// Read everything (other users' requests, grants, sessions, the audit log).
bool may_read_all(const Caller& caller, const Roles& roles);
// Designated approver of this policy, as a person: root with a login user is an approver when
// that user is one; bare root only when roles.root_approves.
bool is_approver(const Caller& caller, const Roles& roles, const Policy& policy);
// May see this request: own, read-all, or approver of its policy.
bool may_view_request(const Caller& caller, const Roles& roles, const Request& request,
                      const Policy* policy);
// The request is the caller's own: made by its account or by the person logged in behind it.
bool is_own_request(const Caller& caller, const Request& request);
// The caller's person (or its account) already decided this request: N-of-M counts persons.
bool has_decided(const Caller& caller, const Request& request);
// May approve/deny: an approver of the request's policy, never the requester, not one who
// already decided it, and only while it is pending.
bool may_decide(const Caller& caller, const Roles& roles, const Request& request,
                const Policy* policy);
bool may_cancel(const Caller& caller, const Request& request);  // own (or root)
bool may_view_grant(const Caller& caller, const Roles& roles, const Grant& grant);
bool may_revoke(const Caller& caller, const Roles& roles, const Grant& grant);
// Only root may call the PAM methods (check, open/close session).
bool may_call_pam(const Caller& caller);

}  // namespace jit
