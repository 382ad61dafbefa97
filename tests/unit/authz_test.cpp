// SPDX-License-Identifier: Apache-2.0
// docs/concepts.md: who may do what, as pure functions of the caller and the object.
#include <gtest/gtest.h>

#include "fakes.hpp"
#include "jit/authz.hpp"

namespace jit {
namespace {

using testing::make_caller;

struct Cast {
    Roles roles{{"jit-admin"}, {"jit-audit"}};
    Caller root = make_caller(0, "root", {"root"});
    Caller admin = make_caller(1001, "ada", {"ada", "jit-admin"});
    Caller auditor = make_caller(1002, "aud", {"aud", "jit-audit"});
    Caller approver = make_caller(1003, "bob", {"bob", "approvers"});
    Caller group_approver = make_caller(1004, "carol", {"carol", "approvers"});
    Caller requester = make_caller(1005, "alice", {"alice"});
    Caller other = make_caller(1006, "mallory", {"mallory"});
    Policy policy;
    Request request;
    Grant grant;

    Cast() {
        policy.name = "p";
        policy.approvers = {"bob", "@approvers"};
        request.id = 1;
        request.requester = "alice";
        request.policy = "p";
        grant.id = 1;
        grant.user = "alice";
    }
};

TEST(AuthzTest, OnlyRootAndAdminsManage) {
    Cast c;
    EXPECT_TRUE(may_manage(c.root, c.roles));
    EXPECT_TRUE(may_manage(c.admin, c.roles));
    for (const Caller* x : {&c.auditor, &c.approver, &c.requester, &c.other}) {
        EXPECT_FALSE(may_manage(*x, c.roles)) << x->name;
    }
}

TEST(AuthzTest, RootAdminsAndAuditorsReadEverything) {
    Cast c;
    for (const Caller* x : {&c.root, &c.admin, &c.auditor}) {
        EXPECT_TRUE(may_read_all(*x, c.roles)) << x->name;
    }
    for (const Caller* x : {&c.approver, &c.requester, &c.other}) {
        EXPECT_FALSE(may_read_all(*x, c.roles)) << x->name;
    }
    EXPECT_TRUE(is_auditor(c.auditor, c.roles));
    EXPECT_FALSE(is_admin(c.auditor, c.roles));  // auditors change nothing
}

TEST(AuthzTest, ApproversByNameAndByGroup) {
    Cast c;
    EXPECT_TRUE(is_approver(c.approver, c.roles, c.policy));
    EXPECT_TRUE(is_approver(c.group_approver, c.roles, c.policy));
    EXPECT_FALSE(is_approver(c.admin, c.roles, c.policy));  // admins are not approvers by role
    EXPECT_FALSE(is_approver(c.requester, c.roles, c.policy));
}

TEST(AuthzTest, DecidingNeedsAnApproverWhoIsNotTheRequester) {
    Cast c;
    EXPECT_TRUE(may_decide(c.approver, c.roles, c.request, &c.policy));
    EXPECT_TRUE(may_decide(c.group_approver, c.roles, c.request, &c.policy));
    EXPECT_FALSE(may_decide(c.admin, c.roles, c.request, &c.policy));
    EXPECT_FALSE(may_decide(c.auditor, c.roles, c.request, &c.policy));
    EXPECT_FALSE(may_decide(c.other, c.roles, c.request, &c.policy));
    EXPECT_FALSE(may_decide(c.requester, c.roles, c.request, &c.policy));
}

TEST(AuthzTest, NoSelfApprovalEvenForApprovers) {
    Cast c;
    c.request.requester = "bob";
    EXPECT_FALSE(may_decide(c.approver, c.roles, c.request, &c.policy));
    EXPECT_TRUE(may_decide(c.group_approver, c.roles, c.request, &c.policy));
    c.roles.root_approves = true;
    c.request.requester = "root";
    EXPECT_FALSE(may_decide(c.root, c.roles, c.request, &c.policy));
}

TEST(AuthzTest, NoSecondVoteAndOnlyWhilePending) {
    Cast c;
    c.request.approvals.push_back({"bob", Decision::Approve, "", 0});
    EXPECT_FALSE(may_decide(c.approver, c.roles, c.request, &c.policy));
    EXPECT_TRUE(may_decide(c.group_approver, c.roles, c.request, &c.policy));
    c.request.state = RequestState::Approved;
    EXPECT_FALSE(may_decide(c.group_approver, c.roles, c.request, &c.policy));
}

TEST(AuthzTest, RequestWithoutPolicyOnlyBareRootWithRootApprovesDecides) {
    Cast c;
    EXPECT_FALSE(may_decide(c.approver, c.roles, c.request, nullptr));
    EXPECT_FALSE(may_decide(c.root, c.roles, c.request, nullptr));
    c.roles.root_approves = true;
    EXPECT_TRUE(may_decide(c.root, c.roles, c.request, nullptr));
}

// Root with a login user is that person when deciding.
Caller root_as(const std::string& login, uid_t login_uid, std::vector<std::string> groups) {
    Caller root = make_caller(0, "root", {"root"});
    root.login_uid = login_uid;
    root.login_name = login;
    root.login_groups = std::move(groups);
    return root;
}

TEST(AuthzTest, BareRootApprovesOnlyWhenConfigured) {
    Cast c;
    EXPECT_TRUE(c.root.is_bare_root());
    EXPECT_FALSE(is_approver(c.root, c.roles, c.policy));
    EXPECT_FALSE(may_decide(c.root, c.roles, c.request, &c.policy));
    c.roles.root_approves = true;
    EXPECT_TRUE(is_approver(c.root, c.roles, c.policy));
    EXPECT_TRUE(may_decide(c.root, c.roles, c.request, &c.policy));
}

TEST(AuthzTest, RootWithALoginUserDecidesAsThatUser) {
    Cast c;
    c.roles.root_approves = true;  // bare root's setting does not matter for a person
    Caller root_bob = root_as("bob", 1003, {"bob", "approvers"});
    Caller root_carol = root_as("carol", 1004, {"carol", "approvers"});
    Caller root_mallory = root_as("mallory", 1006, {"mallory"});
    Caller root_alice = root_as("alice", 1005, {"alice"});
    EXPECT_EQ(root_bob.person(), "bob");
    EXPECT_TRUE(may_decide(root_bob, c.roles, c.request, &c.policy));
    EXPECT_TRUE(may_decide(root_carol, c.roles, c.request, &c.policy));  // by group
    EXPECT_FALSE(may_decide(root_mallory, c.roles, c.request, &c.policy));
    EXPECT_FALSE(may_decide(root_alice, c.roles, c.request, &c.policy));  // her own request
    EXPECT_TRUE(is_own_request(root_alice, c.request));
}

TEST(AuthzTest, DistinctPersonsCount) {
    Cast c;
    Caller root_bob = root_as("bob", 1003, {"bob", "approvers"});
    c.request.approvals.push_back({"bob", Decision::Approve, "", 0});
    EXPECT_TRUE(has_decided(root_bob, c.request));
    EXPECT_FALSE(may_decide(root_bob, c.roles, c.request, &c.policy));
    // An account whose login user already decided is the same person too.
    Caller carol_by_bob = make_caller(1004, "carol", {"carol", "approvers"});
    carol_by_bob.login_uid = 1003;
    carol_by_bob.login_name = "bob";
    EXPECT_TRUE(carol_by_bob.login_differs());
    EXPECT_TRUE(has_decided(carol_by_bob, c.request));
    EXPECT_FALSE(may_decide(carol_by_bob, c.roles, c.request, &c.policy));
    // ... and one logged in as the requester never decides the request.
    Caller bob_by_alice = make_caller(1003, "bob", {"bob", "approvers"});
    bob_by_alice.login_uid = 1005;
    bob_by_alice.login_name = "alice";
    c.request.approvals.clear();
    EXPECT_FALSE(may_decide(bob_by_alice, c.roles, c.request, &c.policy));
}

TEST(AuthzTest, ViewingRequests) {
    Cast c;
    for (const Caller* x : {&c.requester, &c.root, &c.admin, &c.auditor, &c.approver}) {
        EXPECT_TRUE(may_view_request(*x, c.roles, c.request, &c.policy)) << x->name;
    }
    EXPECT_FALSE(may_view_request(c.other, c.roles, c.request, &c.policy));
}

TEST(AuthzTest, CancelOnlyOwn) {
    Cast c;
    EXPECT_TRUE(may_cancel(c.requester, c.request));
    EXPECT_FALSE(may_cancel(c.approver, c.request));
    EXPECT_FALSE(may_cancel(c.admin, c.request));
}

TEST(AuthzTest, GrantsSeenByOwnerAndReadersRevokedByOwnerAndAdmins) {
    Cast c;
    EXPECT_TRUE(may_view_grant(c.requester, c.roles, c.grant));
    EXPECT_TRUE(may_view_grant(c.auditor, c.roles, c.grant));
    EXPECT_FALSE(may_view_grant(c.other, c.roles, c.grant));
    EXPECT_FALSE(may_view_grant(c.approver, c.roles, c.grant));
    EXPECT_TRUE(may_revoke(c.requester, c.roles, c.grant));
    EXPECT_TRUE(may_revoke(c.admin, c.roles, c.grant));
    EXPECT_TRUE(may_revoke(c.root, c.roles, c.grant));
    EXPECT_FALSE(may_revoke(c.auditor, c.roles, c.grant));
    EXPECT_FALSE(may_revoke(c.other, c.roles, c.grant));
}

TEST(AuthzTest, OnlyRootCallsPam) {
    Cast c;
    EXPECT_TRUE(may_call_pam(c.root));
    for (const Caller* x : {&c.admin, &c.auditor, &c.approver, &c.requester, &c.other}) {
        EXPECT_FALSE(may_call_pam(*x)) << x->name;
    }
}

}  // namespace
}  // namespace jit
