// SPDX-License-Identifier: Apache-2.0
#include "jit/authz.hpp"

#include <algorithm>

namespace jit {
namespace {

bool in_any_group(const Caller& caller, const std::vector<std::string>& groups) {
    return std::any_of(groups.begin(), groups.end(),
                       [&](const std::string& group) { return caller.in_group(group); });
}

bool owns(const Caller& caller, const std::string& user) {
    return caller.name == user;
}

}  // namespace

bool is_admin(const Caller& caller, const Roles& roles) {
    return caller.is_root() || in_any_group(caller, roles.admin_groups);
}

bool is_auditor(const Caller& caller, const Roles& roles) {
    return in_any_group(caller, roles.auditor_groups);
}

bool may_manage(const Caller& caller, const Roles& roles) {
    return is_admin(caller, roles);
}

bool may_read_all(const Caller& caller, const Roles& roles) {
    return is_admin(caller, roles) || is_auditor(caller, roles);
}

bool is_approver(const Caller& caller, const Roles& roles, const Policy& policy) {
    if (caller.is_bare_root()) {
        return roles.root_approves;
    }
    return principals_name(policy.approvers, caller.person(), caller.person_groups());
}

bool may_view_request(const Caller& caller, const Roles& roles, const Request& request,
                      const Policy* policy) {
    if (owns(caller, request.requester) || may_read_all(caller, roles)) {
        return true;
    }
    return policy && is_approver(caller, roles, *policy);
}

bool is_own_request(const Caller& caller, const Request& request) {
    return caller.is_or_acts_for(request.requester);
}

bool has_decided(const Caller& caller, const Request& request) {
    return std::any_of(request.approvals.begin(), request.approvals.end(), [&](const Approval& a) {
        return a.approver == caller.person() || caller.is_or_acts_for(a.approver);
    });
}

bool may_decide(const Caller& caller, const Roles& roles, const Request& request,
                const Policy* policy) {
    if (request.state != RequestState::Pending || is_own_request(caller, request)) {
        return false;
    }
    // Bare root may decide (with root_approves) even a request whose policy was removed.
    bool approver =
        caller.is_bare_root() ? roles.root_approves : policy && is_approver(caller, roles, *policy);
    return approver && !has_decided(caller, request);
}

bool may_cancel(const Caller& caller, const Request& request) {
    return owns(caller, request.requester) || caller.is_root();
}

bool may_view_grant(const Caller& caller, const Roles& roles, const Grant& grant) {
    return owns(caller, grant.user) || may_read_all(caller, roles);
}

bool may_revoke(const Caller& caller, const Roles& roles, const Grant& grant) {
    return owns(caller, grant.user) || is_admin(caller, roles);
}

bool may_call_pam(const Caller& caller) {
    return caller.is_root();
}

}  // namespace jit
