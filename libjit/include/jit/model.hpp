// SPDX-License-Identifier: Apache-2.0
// The domain objects of docs/concepts.md. Plain values: no behaviour beyond naming their states.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jit/time.hpp"

namespace jit {

using Id = std::int64_t;

// A named access target: which PAM services and target accounts it covers, on which hosts it
// applies, and who always has access (standing members: "user" or "@group").
struct Resource {
    std::string name;
    std::string description;
    std::vector<std::string> services;  // e.g. sshd, sudo
    std::vector<std::string> accounts;  // target accounts, or "*"
    std::vector<std::string> members;   // standing members
    std::string policy;                 // assigned policy name, empty when none
    // Glob patterns of the hosts it applies on (jit/hosts.hpp); empty counts as "*".
    std::vector<std::string> hosts{};
};

enum class PolicyAction { RequireApproval, AutoApprove };

struct Policy {
    std::string name;
    std::string description;
    PolicyAction action = PolicyAction::RequireApproval;
    std::vector<std::string> approvers;  // "user" or "@group"
    int approvals_required = 1;
    Seconds max_duration = 4 * 3600;
    bool auto_expiry = true;
    Seconds request_ttl = 3600;
    bool active = false;
    // Reason rules (jit/reason_rules.hpp): a POSIX extended regex the reason must contain a
    // match of ("" = none) and a minimum length in characters (0 = none).
    std::string reason_pattern{};
    int reason_min_length = 0;
};

enum class RequestState { Pending, Approved, Denied, Cancelled, Expired };
enum class Decision { Approve, Deny };

struct Approval {
    std::string approver;
    Decision decision = Decision::Approve;
    std::string comment;
    EpochSeconds time = 0;
};

struct Request {
    Id id = 0;
    std::string resource;
    std::string requester;
    std::string policy;  // the policy in force when the request was made
    std::string reason;
    Seconds requested_duration = 0;
    Seconds duration = 0;  // effective duration after capping
    bool capped = false;
    RequestState state = RequestState::Pending;
    EpochSeconds created = 0;
    std::optional<EpochSeconds> decided;
    EpochSeconds expires = 0;  // pending-request deadline: created + policy.request_ttl
    int approvals_required = 1;
    bool auto_expiry = true;  // copied from the policy: does the grant get an expiry?
    std::vector<Approval> approvals;
    std::optional<Id> grant_id;
    // The requested start of the grant; none: at approval. The grant's window is
    // [start, start + duration] even when the approval comes after the start.
    std::optional<EpochSeconds> start;
    // An extension request: the grant whose expiry it moves when approved.
    std::optional<Id> extends;
};

// What a grant's review found (docs/grant-review.md): the changes, between the grant's start
// and its end, in the places where access can be made to outlive it.
struct GrantReview {
    EpochSeconds reviewed_at = 0;
    std::string changes;     // JIT_CHANGED: a path a line prefixed + ~ -; "" when none changed
    std::string incomplete;  // why it is not complete ("" when it is): JIT_REVIEW_INCOMPLETE
};

// A grant's review as the store keeps it: the fingerprint taken at the start (so a restart
// still reviews at the end) until the review is written.
struct StoredReview {
    Id grant_id = 0;
    std::string host;                   // the host whose files were fingerprinted
    std::vector<std::string> accounts;  // the target accounts fingerprinted so far
    std::string before;                 // format_fingerprint() text; "" once reviewed
    std::optional<GrantReview> review;  // none until the grant ends
};

// Scheduled: approved before its requested start; it becomes active at the start.
enum class GrantState { Scheduled, Active, Expired, Revoked };

struct Grant {
    Id id = 0;
    Id request_id = 0;
    std::string user;
    std::string resource;
    EpochSeconds start = 0;
    std::optional<EpochSeconds> expiry;  // none: lasts until revoked (auto expiry off)
    GrantState state = GrantState::Active;
    std::optional<EpochSeconds> ended;
    std::string ended_by;  // actor that revoked it, or "system"
    // The ids of its extension requests, in order (not stored: the requests say whom they extend).
    std::vector<Id> extensions{};
    // Its review once it ended (not stored with the grant: the store's grant_reviews).
    std::optional<GrantReview> review{};
};

enum class SessionState { Open, Closed, Terminated };

// A PAM session opened under a grant.
struct Session {
    Id id = 0;
    Id grant_id = 0;
    std::string user;    // requester
    std::string target;  // target account
    std::string service;
    std::string rhost;
    std::string tty;
    std::int64_t pid = 0;
    // What identifies that process beyond its pid (0 / "" when unknown): its start time in
    // clock ticks after boot (/proc/PID/stat field 22) and the boot it ran in
    // (/proc/sys/kernel/random/boot_id). jitd never signals a pid that does not match them.
    std::int64_t pid_start = 0;
    std::string boot_id;
    std::string logind_session;
    // The cgroup jitd made for this session alone ("" for none: a logind session's leader, or
    // no group could be made), as /proc/PID/cgroup names it. Killed when the grant ends, even
    // after a logout, so processes that left the session's process tree end with the grant.
    std::string cgroup;
    std::string fingerprint{};  // the registered ssh key the person logged in with, or ""
    std::string host{};         // the host whose jitd registered it ([daemon] host)
    EpochSeconds opened = 0;
    std::optional<EpochSeconds> closed;
    SessionState state = SessionState::Open;
};

// A person's registered ssh public key (docs/shared-accounts-over-ssh.md). One owner per key.
struct SshKey {
    std::string fingerprint;  // "SHA256:" + unpadded base64, as ssh-keygen -lf prints it
    std::string user;         // the person it belongs to
    std::string type;         // ssh-ed25519, ...
    std::string base64;       // the key blob, canonical base64
    std::string comment;
    EpochSeconds added = 0;
};

// One audit record (docs/audit-events.md). Fields use the journal names (JIT_USER...),
// in the order the event type defines; JIT_EVENT and JIT_SEQ are implied by event/seq.
struct AuditEvent {
    Id seq = 0;  // assigned by the store, strictly increasing from 1
    EpochSeconds time = 0;
    std::string event;  // requested, approved, granted, ...
    std::vector<std::pair<std::string, std::string>> fields;
    std::string prev_hash;  // hex SHA-256 of the previous row ("" for the first)
    std::string hash;       // hex SHA-256 of this row, see audit_canonical_form()

    const std::string* field(std::string_view name) const;
};

std::string_view to_string(PolicyAction action);
std::string_view to_string(RequestState state);
std::string_view to_string(Decision decision);
std::string_view to_string(GrantState state);
std::string_view to_string(SessionState state);
// Parsers throw JitError(InvalidInput) naming the accepted values.
PolicyAction parse_policy_action(std::string_view text);
RequestState parse_request_state(std::string_view text);
Decision parse_decision(std::string_view text);
GrantState parse_grant_state(std::string_view text);
SessionState parse_session_state(std::string_view text);

// The bytes a row's hash covers: seq, time, event, every field and the previous hash, each
// length-prefixed so that no two different rows share a canonical form.
std::string audit_canonical_form(const AuditEvent& event);

}  // namespace jit
