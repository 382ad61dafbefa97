// SPDX-License-Identifier: Apache-2.0
// The JIT engine: every operation of jitd as plain C++ over injected storage, identity,
// clock and OS effects. jitd is a thin D-Bus adaptor over this class; unit tests drive it with
// fakes. It owns the in-memory state (loaded once from the Store) so that login checks are
// answered from memory; every change is written through to the Store with its audit events in
// one transaction before the in-memory state changes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "jit/access.hpp"
#include "jit/audit_events.hpp"
#include "jit/authz.hpp"
#include "jit/config.hpp"
#include "jit/deadline_queue.hpp"
#include "jit/grant_review.hpp"
#include "jit/identity.hpp"
#include "jit/model.hpp"
#include "jit/policy_file.hpp"
#include "jit/presets.hpp"
#include "jit/reason_rules.hpp"
#include "jit/spool.hpp"
#include "jit/store.hpp"

namespace jit {

class Clock {
  public:
    virtual ~Clock() = default;
    virtual EpochSeconds now() const = 0;
};

class SystemClock final : public Clock {
  public:
    EpochSeconds now() const override;
};

// Things that happen outside the engine's state. jitd implements them with the journal,
// D-Bus signals, logind, kill(2), the snapshot file and notify_command.
class Effects {
  public:
    virtual ~Effects() = default;
    // Committed audit events, in seq order, to forward to the journal.
    virtual void audit_committed(const AuditEvent& event) = 0;
    virtual void request_created(const Request& request) = 0;
    virtual void request_decided(const Request& request) = 0;
    virtual void grant_started(const Grant& grant) = 0;
    virtual void grant_ended(const Grant& grant) = 0;
    // End a session whose grant ended: a live one (logind, its cgroup, or signals), or a closed
    // one whose cgroup may still hold processes; kill_grace is the effect's job.
    virtual void terminate_session(const Session& session) = 0;
    // Many at once (grants that ended together): an effect may share work between them.
    virtual void terminate_sessions(const std::vector<Session>& sessions) {
        for (const Session& session : sessions) {
            terminate_session(session);
        }
    }
    // The one effect that runs before its commit, while pam_jit waits for the reply (so the
    // session's process has no children yet): put a session about to be registered under a
    // grant into a cgroup of its own. Returns the group to record, "" when there is none.
    virtual std::string place_session(const Session& /*session*/) { return {}; }
    // A session was registered under a grant (opened, or adopted from pam_jit's fallback
    // spool) and committed: jitd watches its process from now on.
    virtual void session_opened(const Session& /*session*/) {}
    // Tell a live session that `grant` (its grant) ends at its expiry (write to its tty).
    virtual void warn_session(const Session& session, const Grant& grant) = 0;
    // Resources, members or active grants changed: rewrite the PAM snapshot.
    virtual void access_changed() = 0;
};

// A resource as one caller sees it: `access` is the caller's own (docs/jitctl.md).
struct ResourceView {
    Resource resource;
    std::string access;  // member | grant | request | none
};

struct PolicyView {
    Policy policy;
    std::vector<std::string> resources;
};

struct NewPolicy {
    std::string name;
    std::string description;
    PolicyAction action = PolicyAction::RequireApproval;
    std::vector<std::string> approvers;
    int approvals_required = 1;
    std::optional<Seconds> max_duration;  // default: the routine-ops preset, clamped to limits
    bool auto_expiry = true;
    Seconds request_ttl = 3600;
    std::string reason_pattern{};
    int reason_min_length = 0;
};

struct SessionOpen {
    LoginDecision decision;
    Id session_id = 0;  // registered session (Grant verdict only)
};

struct ServiceStatus {
    std::size_t resources = 0, policies = 0, pending_requests = 0, active_grants = 0,
                open_sessions = 0;  // this host's
    Id audit_seq = 0;
    std::string host;
    std::string store;  // sqlite | postgresql
    bool store_reachable = true;
    Id store_behind = 0;  // other hosts' changes in the store not yet applied here
};

class JitService {
  public:
    JitService(Store& store, Config config, const IdentityResolver& identity, const Clock& clock,
               Effects& effects);

    // Loads state from the store and ends whatever lapsed while jitd was down. boot_id is this
    // boot's (/proc/sys/kernel/random/boot_id): sessions registered in another boot are over,
    // whatever their pids are now, and are closed without a signal. Accounts are looked up
    // through `accounts` when given (a MemoIdentityResolver the caller goes on using: jitd's
    // authorized keys files name the same accounts), else through a memo of its own.
    void start(const std::string& boot_id = "", const IdentityResolver* accounts = nullptr);

    const Config& config() const { return config_; }
    Roles roles() const { return roles_; }
    ServiceStatus status() const;
    // The caller's roles as jitctl status shows them: root, admin, auditor, approver.
    std::vector<std::string> roles_of(const Caller& caller) const;

    // Internal queries for jitd itself (no caller: never answer a bus call with them).
    // The open sessions registered on this host (jitd watches and ends only its own).
    std::vector<Session> open_sessions() const;
    // One of them; none when the session is unknown, ended, or another host's.
    std::optional<Session> find_open_session(Id session_id) const;
    // The designated approvers of the request's policy; empty when the policy is gone.
    std::vector<std::string> approvers_of(const Request& request) const;

    // Resources (admin).
    void add_resource(const Caller& caller, Resource resource);
    void remove_resource(const Caller& caller, const std::string& name);
    void add_member(const Caller& caller, const std::string& resource, const std::string& member);
    void remove_member(const Caller& caller, const std::string& resource,
                       const std::string& member);
    std::vector<ResourceView> list_resources(const Caller& caller) const;
    ResourceView get_resource(const Caller& caller, const std::string& name) const;

    // Policies (admin).
    Policy add_policy(const Caller& caller, const NewPolicy& spec);
    void assign_policy(const Caller& caller, const std::string& policy,
                       const std::string& resource);
    void set_policy_active(const Caller& caller, const std::string& policy, bool active);
    void remove_policy(const Caller& caller, const std::string& name);
    std::vector<PolicyView> list_policies(const Caller& caller) const;
    PolicyView get_policy(const Caller& caller, const std::string& name) const;

    // Policy as code (docs/policy-as-code.md; admin): reads the files, plans the changes that
    // make resources and policies match them (with prune, also removing what they do not
    // declare) and, unless dry_run, applies the plan in one transaction, each step audited like
    // the command it stands for plus JIT_APPLIED_FROM. Returns the plan (empty: nothing to do).
    std::vector<PlanChange> apply_configuration(const Caller& caller,
                                                const std::vector<PolicySource>& files, bool prune,
                                                bool dry_run);

    // Requests. start: when the grant is to start (none: at approval), at most
    // max_schedule_ahead from now.
    Request create_request(const Caller& caller, const std::string& resource,
                           const std::string& reason, Seconds duration,
                           std::optional<EpochSeconds> start = std::nullopt);
    // More time on the caller's own active grant: a request that `extends` it, decided under
    // the resource's policy; capped so that the grant's whole length stays within its maximum.
    Request extend_grant(const Caller& caller, Id grant_id, const std::string& reason,
                         Seconds duration);
    Request decide(const Caller& caller, Id request_id, Decision decision,
                   const std::string& comment);
    Request cancel(const Caller& caller, Id request_id);
    Request get_request(const Caller& caller, Id request_id) const;
    // Own pending requests; all=true adds ended ones and, for admins/auditors, everyone's.
    std::vector<Request> list_requests(const Caller& caller, bool all,
                                       std::optional<RequestState> state) const;
    // Pending requests the caller may decide (never their own).
    std::vector<Request> approvals(const Caller& caller) const;

    // Grants.
    Grant revoke(const Caller& caller, Id grant_id, const std::string& reason);
    Grant get_grant(const Caller& caller, Id grant_id) const;
    std::vector<Grant> list_grants(const Caller& caller, bool all, const std::string& user,
                                   const std::string& resource) const;

    // Grant review (docs/grant-review.md). Fingerprints are read through `fs` within `limits`,
    // synchronously (bounded by limits.max_usec each). Call before start(); without it grants
    // are not reviewed (reviews already stored are still shown).
    void enable_review(const ReviewFileSystem& fs, const ReviewLimits& limits = {});
    // A grant's review: for its holder, admins and auditors (PermissionDenied for others);
    // NotFound when there is no such grant or it has no review (yet).
    GrantReview get_review(const Caller& caller, Id grant_id) const;

    // ssh keys (docs/shared-accounts-over-ssh.md). Users manage their own, admins anyone's
    // (`user`: "" = the caller); one owner per key.
    SshKey add_key(const Caller& caller, const std::string& line, const std::string& user);
    SshKey remove_key(const Caller& caller, const std::string& fingerprint);
    // Plain users: their own. Admins and auditors: everyone's, or `user`'s.
    std::vector<SshKey> list_keys(const Caller& caller, const std::string& user) const;

    // Sessions: the caller's open sessions on this host; with `all` every host's, ended ones
    // too, and for admins and auditors everyone's.
    std::vector<Session> list_sessions(const Caller& caller, bool all) const;

    // PAM (root only). check_login audits denials; open_session audits the opening of sessions
    // of members and grant holders and registers those under a grant. pid_start: the start
    // time of `pid` (/proc/PID/stat field 22), 0 when unknown.
    LoginDecision check_login(const Caller& caller, const LoginAttempt& attempt);
    SessionOpen open_session(const Caller& caller, const LoginAttempt& attempt, std::int64_t pid,
                             const std::string& logind_session, std::int64_t pid_start = 0);
    void close_session(const Caller& caller, Id session_id);
    // A registered session whose process is gone without a logout (sshd or sudo killed):
    // closed by the system, so that it is not "open" forever and its pid is never signalled.
    void reap_session(Id session_id);
    // pam_jit decided without jitd (snapshot or fail=open) and spooled it; jitd audits it as
    // `login_fallback` once it is back, and registers a session pam_jit opened from the snapshot
    // under a grant, so that it still ends with its grant (at once if the grant already ended).
    void record_fallback(const FallbackLogin& login);

    // Audit.
    std::vector<AuditEvent> audit(const Caller& caller, const AuditFilter& filter) const;
    AuditVerification verify_audit(const Caller& caller) const;
    // The chain, and the database against the journal's copy of its chain.
    AuditVerification verify_audit(const Caller& caller, const AuditJournalReader& journal) const;

    // Time: handles the deadlines <= now (scheduled starts, grant expiry, request TTL,
    // pre-expiry warnings), at most `max_deadlines` of them; grants that expire together end in
    // one transaction. True when more are due, so that a caller with other work to serve (the
    // bus) calls again soon.
    bool tick(std::size_t max_deadlines = SIZE_MAX);
    // The open sessions on this host of the active grants whose expiry is due (<= now) but not
    // yet handled by tick(): jitd ends them before the batches that record their end commit.
    std::vector<Session> sessions_of_due_expiries() const;
    // A fleet (docs/fleet.md): applies what other hosts changed in the shared store since this
    // host last read it (rules, requests, grants, sessions, keys), with the effects a change
    // has on this host: a grant that ended elsewhere ends this host's sessions under it. True
    // when anything changed; nothing to do with a single host's store. Throws when the store
    // cannot be read.
    bool follow_store();
    std::optional<FeedPosition> feed_position() const { return store_.feed_position(); }

    // The earliest future deadline, for the one timer jitd arms.
    std::optional<EpochSeconds> next_deadline() const;

    const AccessIndex& access_index() const { return index_; }

  private:
    enum class DeadlineKind { StartGrant, WarnGrant, ExpireGrant, ExpireRequest };
    using DeadlineKey = std::pair<DeadlineKind, Id>;

    void require_manage(const Caller& caller) const;
    void require_pam(const Caller& caller) const;
    void require_decide(const Caller& caller, const Request& request) const;
    void require_request_limits(const Caller& caller) const;
    Resource& resource_ref(const std::string& name);
    const Resource& resource_ref(const std::string& name) const;
    Policy& policy_ref(const std::string& name);
    const Policy* policy_of(const Request& request) const;
    Request& request_ref(Id id);
    Grant& grant_ref(Id id);
    std::string access_of(const Caller& caller, const Resource& resource) const;
    std::vector<std::string> groups_of(const std::string& user) const;
    bool is_member(const Caller& caller, const Resource& resource) const;
    void close_session_as(Id session_id, const std::string& how);
    std::optional<Id> open_request_of(const std::string& user, const std::string& resource) const;
    std::optional<Id> active_grant_of(const std::string& user, const std::string& resource) const;
    std::optional<Id> scheduled_grant_of(const std::string& user,
                                         const std::string& resource) const;
    // A denied login of a user whose grant on one of the resources is still to start.
    void note_scheduled_start(LoginDecision& decision) const;
    void require_start(const std::optional<EpochSeconds>& start) const;
    void require_duration(Seconds duration) const;
    // The resource's policy when it takes requests (assigned and active).
    const Policy& requestable_policy(const Resource& resource) const;
    std::optional<Id> open_extension_of(Id grant_id) const;
    const Grant& extendable_grant(const Caller& caller, Id grant_id) const;
    std::vector<std::string> resources_under(const std::string& policy) const;

    AuditEvent make_event(audit::Event type, const audit::FieldValues& fields) const;
    // resource_changed / policy_changed: who changed the object and how.
    AuditEvent change_event(audit::Event type, const Caller& caller, const std::string& object,
                            const std::string& change) const;
    AuditEvent session_event(audit::Event type, const LoginAttempt& attempt,
                             const LoginDecision& decision, std::int64_t pid,
                             const std::string& logind_session) const;
    AuditEvent session_record_event(audit::Event type, const Session& session) const;
    AuditEvent granted_event(const Grant& grant) const;
    AuditEvent requested_event(const Caller& caller, const Request& request) const;
    AuditEvent auto_approved_event(const Request& request) const;
    // Stores a new request (`requested`); under an auto-approve policy approves it at once
    // (`auto_approved`) and returns true.
    bool put_new_request(Transaction& tx, const Caller& caller, Request& request,
                         PolicyAction action, std::vector<AuditEvent>& events);
    // After the commit of a new request: memory, its deadline unless decided at once, the
    // events and the effects of its creation (and decision).
    void request_made(const Request& request, const std::vector<AuditEvent>& events,
                      bool decided_at_once);
    void publish(const std::vector<AuditEvent>& committed);

    // State transitions shared by several operations. Each writes through `tx` and records the
    // audit events to publish after commit.
    Grant start_grant(Transaction& tx, Request& request, std::vector<AuditEvent>& events);
    void end_grant(Id grant_id, GrantState state, const std::string& actor,
                   const std::string& reason, const std::string& actor_login = "");
    // Many grants ended in one transaction (those that expire in the same second): one pass
    // over the sessions for all of them, one call to terminate their sessions.
    void end_grants(const std::vector<Id>& grant_ids, GrantState state, const std::string& actor,
                    const std::string& reason, const std::string& actor_login = "");
    void apply_changes(const StoreChanges& changes);
    void apply_grant(const Grant& fresh, std::vector<Grant>& ended_elsewhere);
    void apply_request(const Request& fresh);
    struct EndingGrant;
    void sessions_ending_with(std::vector<EndingGrant>& ending, EpochSeconds now) const;
    void grants_ended(const std::vector<EndingGrant>& ending, const std::vector<AuditEvent>& events,
                      bool ended_here);
    void grants_ended_elsewhere(const std::vector<Grant>& grants);
    AuditEvent grant_end_event(const Grant& grant, const std::string& actor,
                               const std::string& reason, const std::string& actor_login) const;
    void expire_request(Id request_id);
    // Approving an extension: moves its grant's expiry (`extended`); grant_extended after the
    // commit.
    Grant extend_in(Transaction& tx, Request& request, std::vector<AuditEvent>& events);
    void grant_extended(const Grant& grant);
    void expire_extensions_of(Id grant_id);
    // A scheduled grant's start has come: it becomes active (`granted`).
    void activate_grant(Id grant_id);
    // After the commit that made `grant` (active or scheduled): memory, deadlines, effects.
    void grant_made(const Grant& grant);
    void warn_grants(const std::vector<Id>& grant_ids);

    // Grant review (service_review.cpp).
    std::vector<std::string> review_accounts(const Grant& grant) const;
    // `names`, where given, resolves the accounts instead of identity_ (start(): a memo).
    Fingerprint review_fingerprint(const std::vector<std::string>& accounts, bool with_review_paths,
                                   const ReviewLimits& limits,
                                   const IdentityResolver* names = nullptr) const;
    void begin_reviews(const std::vector<Id>& grant_ids, const IdentityResolver* names = nullptr);
    void review_account(Id grant_id, const std::string& account);
    AuditEvent review_event(const Grant& grant, const StoredReview& row) const;
    void finish_reviews(const std::vector<Id>& grant_ids);
    void catch_up_reviews(const IdentityResolver& names);

    void index_resource(const Resource& resource, const IdentityResolver* names = nullptr);
    void change_member(const Caller& caller, const std::string& resource_name,
                       const std::string& member, bool add);
    // Registered by this host's jitd ([daemon] host): the only sessions it signals or warns.
    bool on_this_host(const Session& session) const { return session.host == config_.host; }
    void index_key(const SshKey& key);
    std::string key_user(const Caller& caller, const std::string& user) const;
    std::string requester_of(const FallbackLogin& login) const;
    void index_grant(const Grant& grant);
    void schedule_request(const Request& request);
    void schedule_grant(const Grant& grant);
    void unschedule(DeadlineKind kind, Id id);
    void expire_grants(const std::vector<Id>& grant_ids, EpochSeconds now);
    void retry_later(DeadlineKind kind, const std::vector<Id>& ids, EpochSeconds now);

    Store& store_;
    Config config_;
    Roles roles_;
    const IdentityResolver& identity_;
    const Clock& clock_;
    Effects& effects_;

    std::map<std::string, Resource> resources_;
    std::map<std::string, Policy> policies_;
    std::map<Id, Request> requests_;
    std::map<Id, Grant> grants_;
    std::map<Id, Session> sessions_;
    std::map<std::string, SshKey> keys_;  // by fingerprint
    AccessIndex index_;
    DeadlineQueue<DeadlineKey> deadlines_;
    Id audit_seq_ = 0;
    std::string boot_id_;
    const ReviewFileSystem* review_fs_ = nullptr;
    ReviewLimits review_limits_;
    std::map<Id, StoredReview> reviews_;  // by grant id
};

}  // namespace jit
