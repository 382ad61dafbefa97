// SPDX-License-Identifier: Apache-2.0
// The jitctl commands (docs/jitctl.md). Each returns the process exit status or throws
// CommandError / jit::JitError, which main() prints as one line.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace jitctl {

struct Globals {
    bool json = false;
};

struct ResourceAddArgs {
    std::string name;
    std::string description;
    std::vector<std::string> services = {"sshd", "sudo"};
    std::vector<std::string> accounts;  // required: no default
    std::vector<std::string> members;
    std::vector<std::string> hosts = {"*"};  // glob patterns of the hosts it applies on
};

struct PolicyAddArgs {
    std::string name;
    std::optional<std::string> description;
    std::string action = "require-approval";
    std::vector<std::string> approvers;
    std::string approvals = "1";
    std::optional<std::string> max_duration;
    std::optional<std::string> preset;
    bool no_auto_expiry = false;
    std::optional<std::string> request_ttl;
    std::string reason_pattern;
    std::string reason_min_length = "0";
};

struct RequestArgs {
    std::string resource;
    std::string reason;
    std::string duration;
    std::string start;  // RFC 3339 or +DUR; empty: at approval
    bool wait = false;
    std::string wait_limit;  // empty: wait as long as it takes
};

struct ExtendArgs {
    std::string grant_id;
    std::string reason;
    std::string duration;
    bool wait = false;
    std::string wait_limit;  // empty: wait as long as it takes
};

struct GrantFilter {
    bool all = false;
    std::string user;
    std::string resource;
};

struct ApplyArgs {
    std::string target;  // FILE or DIR
    bool dry_run = false;
    bool prune = false;
};

struct AuditArgs {
    std::string since;
    std::string until;
    std::string user;
    std::string resource;
    std::string event;
    std::string output;         // table, json or csv; empty: table unless --json
    std::int64_t limit = 1000;  // at most this many events
};

int cmd_status(const Globals& globals);

// The objects jitd keeps by name, and lists, shows and removes alike.
enum class Named { Resource, Policy };
int cmd_list(const Globals& globals, Named kind);
int cmd_show(const Globals& globals, Named kind, const std::string& name);
int cmd_remove(const Globals& globals, Named kind, const std::string& name);

int cmd_resource_add(const Globals& globals, const ResourceAddArgs& args);
int cmd_resource_add_member(const Globals& globals, const std::string& name,
                            const std::string& member);
int cmd_resource_remove_member(const Globals& globals, const std::string& name,
                               const std::string& member);

int cmd_policy_add(const Globals& globals, const PolicyAddArgs& args);
int cmd_policy_assign(const Globals& globals, const std::string& policy,
                      const std::string& resource);
int cmd_policy_set_active(const Globals& globals, const std::string& policy, bool active);

int cmd_request(const Globals& globals, const RequestArgs& args);
int cmd_requests(const Globals& globals, bool all, const std::string& state);
int cmd_approvals(const Globals& globals);
int cmd_approve(const Globals& globals, const std::string& id, const std::string& comment);
int cmd_deny(const Globals& globals, const std::string& id, const std::string& comment);
int cmd_cancel(const Globals& globals, const std::string& id);

int cmd_grants(const Globals& globals, const GrantFilter& filter);
int cmd_extend(const Globals& globals, const ExtendArgs& args);
int cmd_revoke(const Globals& globals, const std::string& id, const std::string& reason);
// What changed during an ended grant (docs/grant-review.md).
int cmd_review(const Globals& globals, const std::string& id);
int cmd_sessions(const Globals& globals, bool all);

// ssh keys (key_commands.cpp). file "" or "-": standard input.
int cmd_key_add(const Globals& globals, const std::string& file, const std::string& user);
int cmd_key_list(const Globals& globals, const std::string& user);
int cmd_key_remove(const Globals& globals, const std::string& fingerprint);

// Policy as code (policy_commands.cpp).
int cmd_export(const Globals& globals);
int cmd_apply(const Globals& globals, const ApplyArgs& args);

int cmd_audit(const Globals& globals, const AuditArgs& args);
int cmd_audit_verify(const Globals& globals);

}  // namespace jitctl
