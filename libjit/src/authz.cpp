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

bool is_approver(const Caller& caller, const Policy& policy) {
    if (caller.is_root())
        return true;
    return principals_name(policy.approvers, caller.name, caller.groups);
}

bool may_view_request(const Caller& caller, const Roles& roles, const Request& request,
                      const Policy* policy) {
    if (owns(caller, request.requester) || may_read_all(caller, roles))
        return true;
    return policy && is_approver(caller, *policy);
}

bool may_decide(const Caller& caller, const Request& request, const Policy* policy) {
    if (request.state != RequestState::Pending)
        return false;
    if (owns(caller, request.requester))
        return false;  // never one's own request
    bool approver = caller.is_root() || (policy && is_approver(caller, *policy));
    if (!approver)
        return false;
    return std::none_of(request.approvals.begin(), request.approvals.end(),
                        [&](const Approval& a) { return a.approver == caller.name; });
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
