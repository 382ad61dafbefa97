// SPDX-License-Identifier: Apache-2.0
#include "jit/service.hpp"

#include <algorithm>
#include <chrono>

#include "commit_change.hpp"
#include "jit/error.hpp"
#include "jit/ssh_key.hpp"
#include "jit/validate.hpp"

namespace jit {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;


constexpr std::size_t kMaxAttemptField = 256;
constexpr int kMaxApprovalsRequired = 100;
constexpr Seconds kRetryDelay = 5;
constexpr Seconds kFallbackClockSkew = 60;

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty())
            out += ',';
        out += item;
    }
    return out;
}

// Keeps order, drops repeats: "--service sshd --service sshd" means sshd once.
std::vector<std::string> deduplicated(const std::vector<std::string>& items) {
    std::vector<std::string> out;
    for (const auto& item : items) {
        if (std::find(out.begin(), out.end(), item) == out.end())
            out.push_back(item);
    }
    return out;
}

std::string expiry_text(const std::optional<EpochSeconds>& expiry) {
    return expiry ? format_rfc3339(*expiry) : "never";
}

// JIT_ACTOR is the person the action counts for (root acting for its login user counts as that
// user); JIT_ACTOR_LOGIN is added when the caller's login user differs from its account.
// Appends JIT_ACTOR_LOGIN to an event's fields when the caller has one.
Fields with_login(const Caller& caller, Fields fields) {
    if (caller.login_differs())
        fields.emplace_back("JIT_ACTOR_LOGIN", caller.login_name);
    return fields;
}

constexpr Seconds kRequestRateWindow = 3600;
constexpr std::size_t kMaxAuditPage = 1000;

void validate_attempt_text(const LoginAttempt& attempt) {
    const std::pair<const char*, const std::string*> fields[] = {{"user", &attempt.user},
                                                                 {"ruser", &attempt.ruser},
                                                                 {"rhost", &attempt.rhost},
                                                                 {"tty", &attempt.tty}};
    for (const auto& [what, value] : fields)
        validate_text(what, *value, kMaxAttemptField);
    if (attempt.user.empty())
        throw_invalid("user must not be empty");
    if (!attempt.ssh_key.empty() && parse_public_key(attempt.ssh_key).key_text() != attempt.ssh_key)
        throw_invalid("the ssh key is not \"TYPE BASE64\" in canonical form");
}

void validate_attempt(const LoginAttempt& attempt) {
    validate_service(attempt.service);
    validate_attempt_text(attempt);
}

// A login pam_jit decided alone has happened: it is audited whatever PAM called the service,
// as long as the name is printable text (the spool line made it so).
void validate_fallback_attempt(const LoginAttempt& attempt) {
    validate_text("service", attempt.service, kMaxAttemptField);
    validate_attempt_text(attempt);
}

}  // namespace

EpochSeconds SystemClock::now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

JitService::JitService(Store& store, Config config, const IdentityResolver& identity,
                       const Clock& clock, Effects& effects)
    : store_(store),
      config_(std::move(config)),
      roles_(Roles::from_config(config_)),
      identity_(identity),
      clock_(clock),
      effects_(effects),
      index_(&identity) {
    index_.set_unmanaged_services(config_.unmanaged_services);
}

// ---------------------------------------------------------------------------------------------
// Start-up

void JitService::start(const std::string& boot_id) {
    boot_id_ = boot_id;
    StoredState state = store_.load();
    resources_.clear();
    policies_.clear();
    requests_.clear();
    grants_.clear();
    sessions_.clear();
    index_.clear();
    deadlines_.clear();
    deadline_of_.clear();
    for (auto& resource : state.resources) {
        index_resource(resource);
        std::string name = resource.name;
        resources_.emplace(std::move(name), std::move(resource));
    }
    for (auto& policy : state.policies) {
        std::string name = policy.name;
        policies_.emplace(std::move(name), std::move(policy));
    }
    for (auto& request : state.requests) {
        if (request.state == RequestState::Pending)
            schedule_request(request);
        requests_.emplace(request.id, std::move(request));
    }
    for (auto& grant : state.grants) {
        if (grant.state == GrantState::Active) {
            index_grant(grant);
            schedule_grant(grant);
        }
        grants_.emplace(grant.id, std::move(grant));
    }
    for (auto& session : state.sessions)
        sessions_.emplace(session.id, std::move(session));
    keys_.clear();
    for (auto& key : state.keys) {
        index_key(key);
        std::string fingerprint = key.fingerprint;
        keys_.emplace(std::move(fingerprint), std::move(key));
    }
    audit_seq_ = state.last_audit_seq;

    // Sessions of an earlier boot ended with it: close them, never signal their old pids.
    std::vector<Id> stale;
    for (const auto& [id, session] : sessions_) {
        if (session.state == SessionState::Open && !boot_id_.empty() && !session.boot_id.empty() &&
            session.boot_id != boot_id_)
            stale.push_back(id);
    }
    for (Id id : stale)
        close_session_as(id, "host rebooted");

    // Whatever lapsed while jitd was down ends now; sessions of live grants are left alone.
    tick();
    effects_.access_changed();
}

std::vector<std::string> JitService::roles_of(const Caller& caller) const {
    std::vector<std::string> roles;
    if (caller.is_root())
        roles.emplace_back("root");
    if (is_admin(caller, roles_))
        roles.emplace_back("admin");
    if (is_auditor(caller, roles_))
        roles.emplace_back("auditor");
    for (const auto& [name, policy] : policies_) {
        if (is_approver(caller, roles_, policy)) {
            roles.emplace_back("approver");
            break;
        }
    }
    return roles;
}

std::vector<Session> JitService::open_sessions() const {
    std::vector<Session> out;
    for (const auto& [id, session] : sessions_) {
        if (session.state == SessionState::Open)
            out.push_back(session);
    }
    return out;
}

std::vector<std::string> JitService::approvers_of(const Request& request) const {
    auto it = policies_.find(request.policy);
    return it == policies_.end() ? std::vector<std::string>{} : it->second.approvers;
}

ServiceStatus JitService::status() const {
    ServiceStatus s;
    s.resources = resources_.size();
    s.policies = policies_.size();
    for (const auto& [id, r] : requests_)
        s.pending_requests += r.state == RequestState::Pending;
    s.active_grants = index_.grant_count();
    for (const auto& [id, x] : sessions_)
        s.open_sessions += x.state == SessionState::Open;
    s.audit_seq = audit_seq_;
    return s;
}

// ---------------------------------------------------------------------------------------------
// Lookups and checks

void JitService::require_manage(const Caller& caller) const {
    if (!may_manage(caller, roles_))
        throw_denied("only root and members of the admin groups (" + join(roles_.admin_groups) +
                     ") may change resources and policies");
}

void JitService::require_pam(const Caller& caller) const {
    if (!may_call_pam(caller))
        throw_denied("only root may call the PAM methods");
}

Resource& JitService::resource_ref(const std::string& name) {
    auto it = resources_.find(name);
    if (it == resources_.end())
        throw_not_found("no resource named " + quote_for_message(name));
    return it->second;
}

const Resource& JitService::resource_ref(const std::string& name) const {
    auto it = resources_.find(name);
    if (it == resources_.end())
        throw_not_found("no resource named " + quote_for_message(name));
    return it->second;
}

Policy& JitService::policy_ref(const std::string& name) {
    auto it = policies_.find(name);
    if (it == policies_.end())
        throw_not_found("no policy named " + quote_for_message(name));
    return it->second;
}

const Policy* JitService::policy_of(const Request& request) const {
    auto it = policies_.find(request.policy);
    return it == policies_.end() ? nullptr : &it->second;
}

Request& JitService::request_ref(Id id) {
    auto it = requests_.find(id);
    if (it == requests_.end())
        throw_not_found("no request " + std::to_string(id));
    return it->second;
}

Grant& JitService::grant_ref(Id id) {
    auto it = grants_.find(id);
    if (it == grants_.end())
        throw_not_found("no grant " + std::to_string(id));
    return it->second;
}

std::vector<std::string> JitService::groups_of(const std::string& user) const {
    return identity_.groups_of(user);
}

// The caller's groups came from NSS once, when jitd identified the caller.
bool JitService::is_member(const Caller& caller, const Resource& resource) const {
    return principals_name(resource.members, caller.name, caller.groups);
}

std::optional<Id> JitService::open_request_of(const std::string& user,
                                              const std::string& resource) const {
    for (const auto& [id, r] : requests_) {
        if (r.state == RequestState::Pending && r.requester == user && r.resource == resource)
            return id;
    }
    return std::nullopt;
}

std::optional<Id> JitService::active_grant_of(const std::string& user,
                                              const std::string& resource) const {
    return index_.grant_of(user, resource);
}

std::vector<std::string> JitService::resources_under(const std::string& policy) const {
    std::vector<std::string> out;
    for (const auto& [name, r] : resources_) {
        if (r.policy == policy)
            out.push_back(name);
    }
    return out;
}

std::string JitService::access_of(const Caller& caller, const Resource& resource) const {
    if (is_member(caller, resource))
        return "member";
    if (active_grant_of(caller.name, resource.name))
        return "grant";
    auto policy = policies_.find(resource.policy);
    if (policy != policies_.end() && policy->second.active)
        return "request";
    return "none";
}

// ---------------------------------------------------------------------------------------------
// Audit plumbing

AuditEvent JitService::make_event(const std::string& type, Fields fields) const {
    AuditEvent event;
    event.time = clock_.now();
    event.event = type;
    event.fields = std::move(fields);
    // A hashed field like any other, so the database says which host wrote the event too.
    event.fields.emplace_back("JIT_HOST", config_.host);
    return event;
}

AuditEvent JitService::session_event(const std::string& type, const LoginAttempt& attempt,
                                     const LoginDecision& decision, std::int64_t pid,
                                     const std::string& logind_session) const {
    std::string resource = decision.resource.empty() ? join(decision.resources) : decision.resource;
    AuditEvent event = make_event(
        type,
        {{"JIT_USER", decision.requester},
         {"JIT_TARGET", decision.target},
         {"JIT_SERVICE", attempt.service},
         {"JIT_RHOST", attempt.rhost},
         {"JIT_TTY", attempt.tty},
         {"JIT_RESOURCE", resource},
         {"JIT_GRANT_ID", decision.grant_id ? std::to_string(decision.grant_id) : std::string()},
         {"JIT_SESSION_PID", pid ? std::to_string(pid) : std::string()},
         {"JIT_LOGIND_SESSION", logind_session}});
    // A person who came in with a registered ssh key: which key.
    if (!decision.fingerprint.empty())
        event.fields.emplace_back("JIT_FINGERPRINT", decision.fingerprint);
    return event;
}

AuditEvent JitService::session_record_event(const std::string& type, const Session& session) const {
    LoginAttempt attempt{session.service, session.target, session.user, session.rhost, session.tty};
    LoginDecision d;
    d.requester = session.user;
    d.target = session.target;
    d.grant_id = session.grant_id;
    d.fingerprint = session.fingerprint;
    if (auto grant = grants_.find(session.grant_id); grant != grants_.end())
        d.resource = grant->second.resource;
    return session_event(type, attempt, d, session.pid, session.logind_session);
}

void JitService::publish(const std::vector<AuditEvent>& committed) {
    for (const AuditEvent& event : committed) {
        audit_seq_ = std::max(audit_seq_, event.seq);
        effects_.audit_committed(event);
    }
}

// ---------------------------------------------------------------------------------------------
// Resources

void JitService::index_resource(const Resource& resource) {
    index_.put_rule({resource.name, resource.services, resource.accounts, resource.members});
}

void JitService::add_resource(const Caller& caller, Resource resource) {
    require_manage(caller);
    validate_object_name("resource", resource.name);
    validate_text("description", resource.description, kMaxDescriptionLength);
    if (resource.services.empty())
        throw_invalid("a resource needs at least one service");
    if (resource.accounts.empty())
        throw_invalid("a resource needs at least one account");
    for (const auto& s : resource.services)
        validate_resource_service(s);
    for (const auto& a : resource.accounts)
        validate_account(a);
    for (const auto& m : resource.members)
        validate_principal(m);
    if (!resource.policy.empty())
        throw_invalid("assign a policy with AssignPolicy, not when adding the resource");
    if (resources_.count(resource.name))
        throw_conflict("resource \"" + resource.name + "\" already exists");
    resource.services = deduplicated(resource.services);
    resource.accounts = deduplicated(resource.accounts);
    resource.members = deduplicated(resource.members);

    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        tx.put(resource);
        ev.push_back(tx.append(make_event(
            "resource_changed",
            with_login(caller, {{"JIT_ACTOR", caller.person()},
                                {"JIT_OBJECT", resource.name},
                                {"JIT_CHANGE", "created services=" + join(resource.services) +
                                                   " accounts=" + join(resource.accounts) +
                                                   " members=" + join(resource.members)}}))));
    });
    index_resource(resource);
    std::string name = resource.name;
    resources_.emplace(std::move(name), std::move(resource));
    publish(events);
    effects_.access_changed();
}

void JitService::remove_resource(const Caller& caller, const std::string& name) {
    require_manage(caller);
    const Resource& resource = resource_ref(name);
    if (auto id = std::find_if(requests_.begin(), requests_.end(),
                               [&](const auto& r) {
                                   return r.second.resource == name &&
                                          r.second.state == RequestState::Pending;
                               });
        id != requests_.end())
        throw_conflict("resource \"" + name + "\" has pending request " +
                       std::to_string(id->first) + "; deny or cancel it first");
    for (const auto& [id, g] : grants_) {
        if (g.resource == name && g.state == GrantState::Active)
            throw_conflict("resource \"" + name + "\" has active grant " + std::to_string(id) +
                           "; revoke it first");
    }
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        tx.remove_resource(resource.name);
        ev.push_back(tx.append(
            make_event("resource_changed", with_login(caller, {{"JIT_ACTOR", caller.person()},
                                                               {"JIT_OBJECT", name},
                                                               {"JIT_CHANGE", "removed"}}))));
    });
    index_.remove_rule(name);
    resources_.erase(name);
    publish(events);
    effects_.access_changed();
}

void JitService::add_member(const Caller& caller, const std::string& resource_name,
                            const std::string& member) {
    require_manage(caller);
    validate_principal(member);
    Resource updated = resource_ref(resource_name);
    if (std::find(updated.members.begin(), updated.members.end(), member) != updated.members.end())
        throw_conflict(quote_for_message(member) + " is already a member of " +
                       quote_for_message(resource_name));
    updated.members.push_back(member);
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        tx.put(updated);
        ev.push_back(tx.append(make_event(
            "resource_changed", with_login(caller, {{"JIT_ACTOR", caller.person()},
                                                    {"JIT_OBJECT", resource_name},
                                                    {"JIT_CHANGE", "member added " + member}}))));
    });
    index_resource(updated);
    resources_[resource_name] = std::move(updated);
    publish(events);
    effects_.access_changed();
}

void JitService::remove_member(const Caller& caller, const std::string& resource_name,
                               const std::string& member) {
    require_manage(caller);
    validate_principal(member);
    Resource updated = resource_ref(resource_name);
    auto it = std::find(updated.members.begin(), updated.members.end(), member);
    if (it == updated.members.end())
        throw_not_found(quote_for_message(member) + " is not a member of " +
                        quote_for_message(resource_name));
    updated.members.erase(it);
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        tx.put(updated);
        ev.push_back(tx.append(make_event(
            "resource_changed", with_login(caller, {{"JIT_ACTOR", caller.person()},
                                                    {"JIT_OBJECT", resource_name},
                                                    {"JIT_CHANGE", "member removed " + member}}))));
    });
    index_resource(updated);
    resources_[resource_name] = std::move(updated);
    publish(events);
    effects_.access_changed();
}

std::vector<ResourceView> JitService::list_resources(const Caller& caller) const {
    std::vector<ResourceView> out;
    for (const auto& [name, resource] : resources_)
        out.push_back({resource, access_of(caller, resource)});
    return out;
}

ResourceView JitService::get_resource(const Caller& caller, const std::string& name) const {
    validate_object_name("resource", name);
    const Resource& resource = resource_ref(name);
    return {resource, access_of(caller, resource)};
}

// ---------------------------------------------------------------------------------------------
// Policies

Policy JitService::add_policy(const Caller& caller, const NewPolicy& spec) {
    require_manage(caller);
    validate_object_name("policy", spec.name);
    validate_text("description", spec.description, kMaxDescriptionLength);
    for (const auto& a : spec.approvers)
        validate_principal(a);
    if (spec.approvals_required < 1 || spec.approvals_required > kMaxApprovalsRequired)
        throw_invalid("approvals required must be between 1 and " +
                      std::to_string(kMaxApprovalsRequired));
    std::vector<std::string> approvers = deduplicated(spec.approvers);
    if (spec.action == PolicyAction::RequireApproval) {
        if (approvers.empty())
            throw_invalid("a require-approval policy needs an approver");
        bool only_users = std::none_of(approvers.begin(), approvers.end(),
                                       [](const std::string& a) { return a[0] == '@'; });
        if (only_users && static_cast<std::size_t>(spec.approvals_required) > approvers.size())
            throw_invalid("approvals required (" + std::to_string(spec.approvals_required) +
                          ") exceeds the number of approvers (" + std::to_string(approvers.size()) +
                          ")");
    }
    Seconds max_duration = spec.max_duration.value_or(std::clamp<Seconds>(
        find_preset("routine-ops").max_duration, config_.min_duration, config_.max_duration_limit));
    if (max_duration < config_.min_duration || max_duration > config_.max_duration_limit)
        throw_invalid("maximum duration " + format_duration(max_duration) + " is outside " +
                      format_duration(config_.min_duration) + ".." +
                      format_duration(config_.max_duration_limit) +
                      " (min_duration and max_duration_limit in jitd.conf)");
    if (spec.request_ttl < 1 || spec.request_ttl > config_.max_duration_limit)
        throw_invalid("request TTL must be between 1s and " +
                      format_duration(config_.max_duration_limit));
    if (policies_.count(spec.name))
        throw_conflict("policy \"" + spec.name + "\" already exists");

    Policy policy;
    policy.name = spec.name;
    policy.description = spec.description;
    policy.action = spec.action;
    policy.approvers = approvers;
    policy.approvals_required = spec.approvals_required;
    policy.max_duration = max_duration;
    policy.auto_expiry = spec.auto_expiry;
    policy.request_ttl = spec.request_ttl;
    policy.active = false;  // the seed's last admin step is "Activate the policy"

    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        tx.put(policy);
        ev.push_back(tx.append(make_event(
            "policy_changed",
            with_login(caller, {{"JIT_ACTOR", caller.person()},
                                {"JIT_OBJECT", policy.name},
                                {"JIT_CHANGE",
                                 "created action=" + std::string(to_string(policy.action)) +
                                     " approvers=" + join(policy.approvers) +
                                     " approvals=" + std::to_string(policy.approvals_required) +
                                     " max_duration=" + format_duration(policy.max_duration) +
                                     " auto_expiry=" + (policy.auto_expiry ? "yes" : "no") +
                                     " request_ttl=" + format_duration(policy.request_ttl)}}))));
    });
    policies_[policy.name] = policy;
    publish(events);
    return policy;
}

void JitService::assign_policy(const Caller& caller, const std::string& policy_name,
                               const std::string& resource_name) {
    require_manage(caller);
    validate_object_name("policy", policy_name);
    validate_object_name("resource", resource_name);
    policy_ref(policy_name);
    Resource updated = resource_ref(resource_name);
    if (updated.policy == policy_name)
        return;  // nothing changes, nothing to audit
    updated.policy = policy_name;
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        tx.put(updated);
        ev.push_back(tx.append(
            make_event("policy_changed",
                       with_login(caller, {{"JIT_ACTOR", caller.person()},
                                           {"JIT_OBJECT", policy_name},
                                           {"JIT_CHANGE", "assigned to " + resource_name}}))));
    });
    resources_[resource_name] = std::move(updated);
    publish(events);
}

void JitService::set_policy_active(const Caller& caller, const std::string& policy_name,
                                   bool active) {
    require_manage(caller);
    validate_object_name("policy", policy_name);
    Policy updated = policy_ref(policy_name);
    if (updated.active == active)
        return;
    updated.active = active;
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        tx.put(updated);
        ev.push_back(tx.append(make_event(
            "policy_changed",
            with_login(caller, {{"JIT_ACTOR", caller.person()},
                                {"JIT_OBJECT", policy_name},
                                {"JIT_CHANGE", active ? "activated" : "deactivated"}}))));
    });
    policies_[policy_name] = std::move(updated);
    publish(events);
}

void JitService::remove_policy(const Caller& caller, const std::string& name) {
    require_manage(caller);
    validate_object_name("policy", name);
    policy_ref(name);
    for (const auto& [id, r] : requests_) {
        if (r.policy == name && r.state == RequestState::Pending)
            throw_conflict("policy \"" + name + "\" has pending request " + std::to_string(id) +
                           "; decide or cancel it first");
    }
    // Resources under it are left without a policy (no new requests); grants stay until expiry.
    std::vector<std::string> assigned = resources_under(name);
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        for (const auto& resource_name : assigned) {
            Resource updated = resources_.at(resource_name);
            updated.policy.clear();
            tx.put(updated);
        }
        tx.remove_policy(name);
        std::string change = "removed";
        if (!assigned.empty())
            change += " (unassigned from " + join(assigned) + ")";
        ev.push_back(tx.append(
            make_event("policy_changed", with_login(caller, {{"JIT_ACTOR", caller.person()},
                                                             {"JIT_OBJECT", name},
                                                             {"JIT_CHANGE", change}}))));
    });
    for (const auto& resource_name : assigned)
        resources_[resource_name].policy.clear();
    policies_.erase(name);
    publish(events);
}

std::vector<PolicyView> JitService::list_policies(const Caller&) const {
    std::vector<PolicyView> out;
    for (const auto& [name, policy] : policies_)
        out.push_back({policy, resources_under(name)});
    return out;
}

PolicyView JitService::get_policy(const Caller&, const std::string& name) const {
    validate_object_name("policy", name);
    auto it = policies_.find(name);
    if (it == policies_.end())
        throw_not_found("no policy named " + quote_for_message(name));
    return {it->second, resources_under(name)};
}

// ---------------------------------------------------------------------------------------------
// Requests

// One user cannot flood jitd (or the approvers): at most max_pending_per_user pending requests
// and requests_per_hour requests in the last hour. Counted from the requests jitd holds, which
// it reloads from the store on start, so a restart does not reset the hourly count.
void JitService::require_request_limits(const Caller& caller) const {
    const EpochSeconds since = clock_.now() - kRequestRateWindow;
    std::size_t pending = 0, last_hour = 0;
    for (const auto& [id, r] : requests_) {
        if (r.requester != caller.name)
            continue;
        pending += r.state == RequestState::Pending;
        last_hour += r.created > since;
    }
    const auto max_pending = static_cast<std::size_t>(config_.max_pending_per_user);
    if (max_pending > 0 && pending >= max_pending)
        throw_failed("you have " + std::to_string(pending) +
                     " pending requests, the limit max_pending_per_user = " +
                     std::to_string(max_pending) + "; cancel one or wait for a decision");
    const auto per_hour = static_cast<std::size_t>(config_.requests_per_hour);
    if (per_hour > 0 && last_hour >= per_hour)
        throw_failed("you made " + std::to_string(last_hour) +
                     " requests in the last hour, the limit requests_per_hour = " +
                     std::to_string(per_hour) + "; try again later");
}

Request JitService::create_request(const Caller& caller, const std::string& resource_name,
                                   const std::string& reason, Seconds duration) {
    validate_object_name("resource", resource_name);
    validate_reason(reason);
    if (duration <= 0)
        throw_invalid("duration must be positive");
    if (duration < config_.min_duration)
        throw_invalid("duration " + format_duration(duration) + " is below the minimum " +
                      format_duration(config_.min_duration));
    const Resource& resource = resource_ref(resource_name);
    auto policy_it = policies_.find(resource.policy);
    if (policy_it == policies_.end())
        throw_failed("resource \"" + resource_name + "\" has no JIT policy; ask an admin");
    const Policy& policy = policy_it->second;
    if (!policy.active)
        throw_failed("the policy \"" + policy.name + "\" of resource \"" + resource_name +
                     "\" is not active");
    if (is_member(caller, resource))
        throw_conflict("you are a standing member of \"" + resource_name +
                       "\"; no request is needed");
    if (auto id = open_request_of(caller.name, resource_name))
        throw_conflict("request " + std::to_string(*id) + " for \"" + resource_name +
                       "\" is already pending");
    if (auto id = active_grant_of(caller.name, resource_name))
        throw_conflict("grant " + std::to_string(*id) + " on \"" + resource_name +
                       "\" is already active");
    require_request_limits(caller);

    const EpochSeconds now = clock_.now();
    Request request;
    request.resource = resource_name;
    request.requester = caller.name;
    request.policy = policy.name;
    request.reason = reason;
    request.requested_duration = duration;
    request.capped = duration > policy.max_duration;
    request.duration = request.capped ? policy.max_duration : duration;
    request.created = now;
    request.expires = now + policy.request_ttl;
    request.approvals_required =
        policy.action == PolicyAction::AutoApprove ? 0 : policy.approvals_required;
    request.auto_expiry = policy.auto_expiry;

    std::optional<Grant> grant;
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        request.id = tx.put(request);
        ev.push_back(tx.append(make_event(
            "requested", with_login(caller, {{"JIT_REQUEST_ID", std::to_string(request.id)},
                                             {"JIT_USER", request.requester},
                                             {"JIT_RESOURCE", request.resource},
                                             {"JIT_POLICY", request.policy},
                                             {"JIT_REASON", request.reason},
                                             {"JIT_REQUESTED_DURATION",
                                              std::to_string(request.requested_duration)},
                                             {"JIT_DURATION", std::to_string(request.duration)},
                                             {"JIT_CAPPED", request.capped ? "true" : "false"}}))));
        if (policy.action == PolicyAction::AutoApprove) {
            request.approvals.push_back({"system", Decision::Approve, "auto-approve policy", now});
            ev.push_back(
                tx.append(make_event("approved", {{"JIT_REQUEST_ID", std::to_string(request.id)},
                                                  {"JIT_USER", request.requester},
                                                  {"JIT_RESOURCE", request.resource},
                                                  {"JIT_ACTOR", "system"},
                                                  {"JIT_COMMENT", "auto-approve policy"}})));
            grant = start_grant(tx, request, ev);
        }
    });

    requests_[request.id] = request;
    if (grant) {
        grants_[grant->id] = *grant;
        index_grant(*grant);
        schedule_grant(*grant);
    } else {
        schedule_request(request);
    }
    publish(events);
    effects_.request_created(request);
    if (grant) {
        effects_.request_decided(request);
        effects_.grant_started(*grant);
        effects_.access_changed();
    }
    return request;
}

// Marks the request approved and writes a new active grant; the caller updates memory.
Grant JitService::start_grant(Transaction& tx, Request& request, std::vector<AuditEvent>& ev) {
    const EpochSeconds now = clock_.now();
    Grant grant;
    grant.request_id = request.id;
    grant.user = request.requester;
    grant.resource = request.resource;
    grant.start = now;
    if (request.auto_expiry)
        grant.expiry = now + request.duration;
    grant.id = tx.put(grant);

    request.state = RequestState::Approved;
    request.decided = now;
    request.grant_id = grant.id;
    tx.put(request);
    ev.push_back(tx.append(make_event("granted", {{"JIT_REQUEST_ID", std::to_string(request.id)},
                                                  {"JIT_GRANT_ID", std::to_string(grant.id)},
                                                  {"JIT_USER", grant.user},
                                                  {"JIT_RESOURCE", grant.resource},
                                                  {"JIT_START", format_rfc3339(grant.start)},
                                                  {"JIT_EXPIRY", expiry_text(grant.expiry)}})));
    return grant;
}

// Why this caller may not decide this request, as one line each; returns when it may.
void JitService::require_decide(const Caller& caller, const Request& request) const {
    const std::string id = std::to_string(request.id);
    const Policy* policy = policy_of(request);
    if (!may_view_request(caller, roles_, request, policy))
        throw_denied("you are not an approver of request " + id);
    if (is_own_request(caller, request)) {
        throw_denied(caller.login_differs() && caller.login_name == request.requester
                         ? "you cannot approve or deny your own request, also not as " +
                               caller.name + " (you logged in as " + caller.login_name + ")"
                         : "you cannot approve or deny your own request");
    }
    if (caller.is_bare_root() && !roles_.root_approves)
        throw_denied(
            "root with no login user may not approve or deny (jitd.conf root_approves = no); "
            "decide from your own account");
    const bool approver = caller.is_bare_root() || (policy && is_approver(caller, roles_, *policy));
    if (!approver && caller.is_root())
        throw_denied(caller.person() + " (your login user) is not an approver of request " + id);
    if (!approver)
        throw_denied("you are not an approver of request " + id);
    if (request.state != RequestState::Pending)
        throw_conflict("request " + id + " is already " + std::string(to_string(request.state)));
    if (has_decided(caller, request))
        throw_conflict(caller.person() + " has already decided request " + id);
}

Request JitService::decide(const Caller& caller, Id request_id, Decision decision,
                           const std::string& comment) {
    validate_text("comment", comment, kMaxCommentLength);
    Request updated = request_ref(request_id);
    require_decide(caller, updated);
    const EpochSeconds now = clock_.now();
    updated.approvals.push_back({caller.person(), decision, comment, now});
    std::size_t approvals =
        std::count_if(updated.approvals.begin(), updated.approvals.end(),
                      [](const Approval& a) { return a.decision == Decision::Approve; });
    std::optional<Grant> grant;
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        ev.push_back(
            tx.append(make_event(decision == Decision::Approve ? "approved" : "denied",
                                 with_login(caller, {{"JIT_REQUEST_ID", std::to_string(updated.id)},
                                                     {"JIT_USER", updated.requester},
                                                     {"JIT_RESOURCE", updated.resource},
                                                     {"JIT_ACTOR", caller.person()},
                                                     {"JIT_COMMENT", comment}}))));
        if (decision == Decision::Deny) {
            updated.state = RequestState::Denied;  // a single deny ends the request
            updated.decided = now;
            tx.put(updated);
        } else if (approvals >= static_cast<std::size_t>(updated.approvals_required)) {
            grant = start_grant(tx, updated, ev);
        } else {
            tx.put(updated);
        }
    });

    requests_[updated.id] = updated;
    if (updated.state != RequestState::Pending)
        unschedule(DeadlineKind::ExpireRequest, updated.id);
    if (grant) {
        grants_[grant->id] = *grant;
        index_grant(*grant);
        schedule_grant(*grant);
    }
    publish(events);
    if (updated.state != RequestState::Pending)
        effects_.request_decided(updated);
    if (grant) {
        effects_.grant_started(*grant);
        effects_.access_changed();
    }
    return updated;
}

Request JitService::cancel(const Caller& caller, Id request_id) {
    Request updated = request_ref(request_id);
    if (!may_cancel(caller, updated))
        throw_denied("only the requester may cancel request " + std::to_string(request_id));
    if (updated.state != RequestState::Pending)
        throw_conflict("request " + std::to_string(request_id) + " is already " +
                       std::string(to_string(updated.state)));
    updated.state = RequestState::Cancelled;
    updated.decided = clock_.now();
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        tx.put(updated);
        ev.push_back(tx.append(make_event(
            "cancelled", with_login(caller, {{"JIT_REQUEST_ID", std::to_string(updated.id)},
                                             {"JIT_USER", updated.requester},
                                             {"JIT_RESOURCE", updated.resource},
                                             {"JIT_ACTOR", caller.person()}}))));
    });
    requests_[updated.id] = updated;
    unschedule(DeadlineKind::ExpireRequest, updated.id);
    publish(events);
    effects_.request_decided(updated);
    return updated;
}

void JitService::expire_request(Id request_id) {
    Request updated = request_ref(request_id);
    unschedule(DeadlineKind::ExpireRequest, request_id);
    if (updated.state != RequestState::Pending)
        return;
    updated.state = RequestState::Expired;
    updated.decided = clock_.now();
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        tx.put(updated);
        ev.push_back(
            tx.append(make_event("request_expired", {{"JIT_REQUEST_ID", std::to_string(updated.id)},
                                                     {"JIT_USER", updated.requester},
                                                     {"JIT_RESOURCE", updated.resource},
                                                     {"JIT_ACTOR", "system"}})));
    });
    requests_[updated.id] = updated;
    publish(events);
    effects_.request_decided(updated);
}

Request JitService::get_request(const Caller& caller, Id request_id) const {
    auto it = requests_.find(request_id);
    if (it == requests_.end() ||
        !may_view_request(caller, roles_, it->second, policy_of(it->second)))
        throw_not_found("no request " + std::to_string(request_id));
    return it->second;
}

std::vector<Request> JitService::list_requests(const Caller& caller, bool all,
                                               std::optional<RequestState> state) const {
    const bool everyone = all && may_read_all(caller, roles_);
    std::vector<Request> out;
    for (const auto& [id, r] : requests_) {
        if (!everyone && r.requester != caller.name)
            continue;
        if (state ? r.state != *state : (!all && r.state != RequestState::Pending))
            continue;
        out.push_back(r);
    }
    return out;
}

std::vector<Request> JitService::approvals(const Caller& caller) const {
    std::vector<Request> out;
    for (const auto& [id, r] : requests_) {
        if (may_decide(caller, roles_, r, policy_of(r)))
            out.push_back(r);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Grants and sessions

void JitService::index_grant(const Grant& grant) {
    index_.put_grant({grant.id, grant.user, grant.resource, grant.expiry});
}

Grant JitService::revoke(const Caller& caller, Id grant_id, const std::string& reason) {
    validate_text("reason", reason, kMaxReasonLength);
    const Grant& grant = grant_ref(grant_id);
    if (!may_revoke(caller, roles_, grant))
        throw_denied("only the grant's holder or an admin may revoke grant " +
                     std::to_string(grant_id));
    if (grant.state != GrantState::Active)
        throw_conflict("grant " + std::to_string(grant_id) + " is already " +
                       std::string(to_string(grant.state)));
    end_grant(grant_id, GrantState::Revoked, caller.person(), reason,
              caller.login_differs() ? caller.login_name : std::string());
    return grants_.at(grant_id);
}

// Ends an active grant: new logins are refused at once (index), its sessions are terminated.
void JitService::end_grant(Id grant_id, GrantState state, const std::string& actor,
                           const std::string& reason, const std::string& actor_login) {
    Grant updated = grant_ref(grant_id);
    if (updated.state != GrantState::Active)
        return;
    const EpochSeconds now = clock_.now();
    updated.state = state;
    updated.ended = now;
    updated.ended_by = actor;

    std::vector<Session> ended_sessions;
    // Logged-out sessions of this boot whose cgroup may still hold processes that left them.
    std::vector<Session> left_groups;
    for (const auto& [id, session] : sessions_) {
        if (session.grant_id != grant_id)
            continue;
        if (session.state == SessionState::Closed && !session.cgroup.empty() && !boot_id_.empty() &&
            session.boot_id == boot_id_)
            left_groups.push_back(session);
        if (session.state != SessionState::Open)
            continue;
        Session s = session;
        s.state = SessionState::Terminated;
        s.closed = now;
        ended_sessions.push_back(std::move(s));
    }

    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        tx.put(updated);
        if (state == GrantState::Expired) {
            ev.push_back(
                tx.append(make_event("expired", {{"JIT_GRANT_ID", std::to_string(updated.id)},
                                                 {"JIT_USER", updated.user},
                                                 {"JIT_RESOURCE", updated.resource},
                                                 {"JIT_EXPIRY", expiry_text(updated.expiry)},
                                                 {"JIT_ACTOR", "system"}})));
        } else {
            AuditEvent revoked =
                make_event("revoked", {{"JIT_GRANT_ID", std::to_string(updated.id)},
                                       {"JIT_USER", updated.user},
                                       {"JIT_RESOURCE", updated.resource},
                                       {"JIT_ACTOR", actor},
                                       {"JIT_REASON", reason}});
            if (!actor_login.empty())
                revoked.fields.emplace_back("JIT_ACTOR_LOGIN", actor_login);
            ev.push_back(tx.append(revoked));
        }
        for (const Session& s : ended_sessions) {
            tx.put(s);
            ev.push_back(tx.append(session_record_event("session_terminated", s)));
        }
    });

    grants_[grant_id] = updated;
    index_.remove_grant(grant_id);
    unschedule(DeadlineKind::ExpireGrant, grant_id);
    unschedule(DeadlineKind::WarnGrant, grant_id);
    for (const Session& s : ended_sessions)
        sessions_[s.id] = s;
    publish(events);
    effects_.access_changed();
    effects_.grant_ended(updated);
    for (const Session& s : ended_sessions)
        effects_.terminate_session(s);
    for (const Session& s : left_groups)
        effects_.terminate_session(s);
}

void JitService::warn_grant(Id grant_id) {
    unschedule(DeadlineKind::WarnGrant, grant_id);
    const Grant& grant = grant_ref(grant_id);
    if (grant.state != GrantState::Active || !grant.expiry)
        return;
    for (const auto& [id, session] : sessions_) {
        if (session.grant_id == grant_id && session.state == SessionState::Open)
            effects_.warn_session(session, grant);
    }
}

Grant JitService::get_grant(const Caller& caller, Id grant_id) const {
    auto it = grants_.find(grant_id);
    if (it == grants_.end() || !may_view_grant(caller, roles_, it->second))
        throw_not_found("no grant " + std::to_string(grant_id));
    return it->second;
}

std::vector<Grant> JitService::list_grants(const Caller& caller, bool all, const std::string& user,
                                           const std::string& resource) const {
    const bool read_all = may_read_all(caller, roles_);
    if (!user.empty()) {
        validate_user_name(user);
        if (user != caller.name && !read_all)
            throw_denied("only admins and auditors may list other users' grants");
    }
    if (!resource.empty())
        validate_object_name("resource", resource);
    std::vector<Grant> out;
    for (const auto& [id, g] : grants_) {
        bool visible = g.user == caller.name || (read_all && (all || !user.empty()));
        if (!visible)
            continue;
        if (!all && g.state != GrantState::Active)
            continue;
        if (!user.empty() && g.user != user)
            continue;
        if (!resource.empty() && g.resource != resource)
            continue;
        out.push_back(g);
    }
    return out;
}

std::vector<Session> JitService::list_sessions(const Caller& caller, bool all) const {
    const bool everyone = all && may_read_all(caller, roles_);
    std::vector<Session> out;
    for (const auto& [id, s] : sessions_) {
        if (!everyone && s.user != caller.name)
            continue;
        if (!all && s.state != SessionState::Open)
            continue;
        out.push_back(s);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// PAM

LoginDecision JitService::check_login(const Caller& caller, const LoginAttempt& attempt) {
    require_pam(caller);
    validate_attempt(attempt);
    // CheckLogin is the account stack: for sshd the key that logged in is not known yet.
    LoginAttempt account_stack = attempt;
    account_stack.ssh_key_pending = key_known_in_session_only(attempt.service);
    LoginDecision decision = index_.decide(account_stack, clock_.now());
    if (decision.verdict == LoginVerdict::Deny) {
        auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
            ev.push_back(tx.append(session_event("login_denied", attempt, decision, 0, "")));
        });
        publish(events);
    }
    return decision;
}

SessionOpen JitService::open_session(const Caller& caller, const LoginAttempt& attempt,
                                     std::int64_t pid, const std::string& logind_session,
                                     std::int64_t pid_start) {
    require_pam(caller);
    validate_attempt(attempt);
    if (pid < 0 || pid_start < 0)
        throw_invalid("pid and its start time must not be negative");
    validate_text("logind session", logind_session, kMaxAttemptField);
    SessionOpen result;
    result.decision = index_.decide(attempt, clock_.now());
    const LoginDecision& decision = result.decision;
    if (decision.verdict == LoginVerdict::Unmanaged)
        return result;
    if (decision.verdict != LoginVerdict::Grant) {
        // Denials, standing members' and root's own sessions are audited; only grants' are
        // registered.
        const char* type =
            decision.verdict == LoginVerdict::Deny ? "login_denied" : "session_opened";
        auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
            ev.push_back(tx.append(session_event(type, attempt, decision, pid, logind_session)));
        });
        publish(events);
        return result;
    }

    Session session;
    session.grant_id = decision.grant_id;
    session.user = decision.requester;
    session.target = decision.target;
    session.service = attempt.service;
    session.rhost = attempt.rhost;
    session.tty = attempt.tty;
    session.pid = pid;
    session.pid_start = pid_start;
    session.boot_id = boot_id_;
    session.logind_session = logind_session;
    session.fingerprint = decision.fingerprint;
    session.opened = clock_.now();
    session.cgroup = effects_.place_session(session);
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        session.id = tx.put(session);
        ev.push_back(tx.append(session_record_event("session_opened", session)));
    });
    sessions_[session.id] = session;
    result.session_id = session.id;
    publish(events);
    return result;
}

void JitService::close_session(const Caller& caller, Id session_id) {
    require_pam(caller);
    if (!sessions_.count(session_id))
        throw_not_found("no session " + std::to_string(session_id));
    close_session_as(session_id, "logout");
}

void JitService::reap_session(Id session_id) {
    if (!sessions_.count(session_id))
        throw_not_found("no session " + std::to_string(session_id));
    close_session_as(session_id, "process gone");
}

// Marks an open session closed (logout, its process gone, or a reboot) with its audit event.
void JitService::close_session_as(Id session_id, const std::string& how) {
    const Session& current = sessions_.at(session_id);
    if (current.state != SessionState::Open)
        return;  // already ended by jitd
    Session updated = current;
    updated.state = SessionState::Closed;
    updated.closed = clock_.now();
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        tx.put(updated);
        AuditEvent event = session_record_event("session_closed", updated);
        event.fields.emplace_back("JIT_CLOSED_BY", how);
        ev.push_back(tx.append(event));
    });
    sessions_[session_id] = updated;
    publish(events);
}

void JitService::record_fallback(const FallbackLogin& login) {
    const LoginAttempt& attempt = login.attempt;
    validate_fallback_attempt(attempt);
    if (!is_fallback_outcome(login.outcome))
        throw_invalid("unknown fallback outcome " + quote_for_message(login.outcome));
    // pam_jit stamps the line with the host clock; one from the future is not pam_jit's.
    if (login.when > clock_.now() + kFallbackClockSkew)
        throw_invalid("fallback decision dated in the future");
    if (login.pid < 0 || login.grant_id < 0)
        throw_invalid("negative pid or grant id");
    validate_text("logind session", login.logind_session, kMaxAttemptField);

    // The session to adopt: only under a grant of this requester on a resource it names.
    std::optional<Session> adopted;
    const std::string requester = requester_of(login);
    auto grant = grants_.find(login.grant_id);
    if (login.outcome == "allowed" && login.pid > 0 && grant != grants_.end() &&
        grant->second.user == requester) {
        Session s;
        s.grant_id = grant->first;
        s.user = grant->second.user;
        s.target = attempt.user;
        s.service = attempt.service;
        s.rhost = attempt.rhost;
        s.tty = attempt.tty;
        s.pid = login.pid;
        s.logind_session = login.logind_session;
        s.boot_id = boot_id_;
        s.fingerprint = keys_.count(login.fingerprint) ? login.fingerprint : std::string();
        s.opened = login.when;
        adopted = s;
    }
    const bool grant_over = adopted && grant->second.state != GrantState::Active;

    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        AuditEvent fallback =
            make_event("login_fallback", {{"JIT_USER", requester},
                                          {"JIT_TARGET", attempt.user},
                                          {"JIT_SERVICE", attempt.service},
                                          {"JIT_RHOST", attempt.rhost},
                                          {"JIT_TTY", attempt.tty},
                                          {"JIT_OUTCOME", login.outcome},
                                          {"JIT_DECIDED", format_rfc3339(login.when)}});
        if (keys_.count(login.fingerprint))
            fallback.fields.emplace_back("JIT_FINGERPRINT", login.fingerprint);
        ev.push_back(tx.append(fallback));
        if (!adopted)
            return;
        adopted->id = tx.put(*adopted);
        ev.push_back(tx.append(session_record_event("session_opened", *adopted)));
        if (!grant_over)
            return;
        adopted->state = SessionState::Terminated;
        adopted->closed = clock_.now();
        tx.put(*adopted);
        ev.push_back(tx.append(session_record_event("session_terminated", *adopted)));
    });
    if (adopted)
        sessions_[adopted->id] = *adopted;
    publish(events);
    if (grant_over)
        effects_.terminate_session(*adopted);
}

// ---------------------------------------------------------------------------------------------
// Audit

std::vector<AuditEvent> JitService::audit(const Caller& caller, const AuditFilter& filter) const {
    if (!may_read_all(caller, roles_))
        throw_denied("only root, admins and auditors may read the audit log");
    if (!filter.user.empty())
        validate_user_name(filter.user);
    if (!filter.resource.empty())
        validate_object_name("resource", filter.resource);
    if (!filter.event.empty())
        validate_object_name("event", filter.event);
    if (filter.since && filter.until && *filter.since > *filter.until)
        throw_invalid("--since is after --until");
    // Replies are bounded: a caller reads a long log page by page (after_seq).
    AuditFilter page = filter;
    if (page.limit == 0 || page.limit > kMaxAuditPage)
        page.limit = kMaxAuditPage;
    return store_.audit_events(page);
}

AuditVerification JitService::verify_audit(const Caller& caller) const {
    if (!may_read_all(caller, roles_))
        throw_denied("only root, admins and auditors may verify the audit log");
    return store_.verify_audit();
}

AuditVerification JitService::verify_audit(const Caller& caller,
                                           const AuditJournalReader& journal) const {
    // Checked before the journal is read: reading it is work no other caller may cause.
    if (!may_read_all(caller, roles_))
        throw_denied("only root, admins and auditors may verify the audit log");
    return store_.verify_audit(journal.read(store_.audit_chain()));
}

// ---------------------------------------------------------------------------------------------
// Deadlines

void JitService::schedule_request(const Request& request) {
    unschedule(DeadlineKind::ExpireRequest, request.id);
    deadlines_.emplace(request.expires, DeadlineKind::ExpireRequest, request.id);
    deadline_of_[{DeadlineKind::ExpireRequest, request.id}] = request.expires;
}

void JitService::schedule_grant(const Grant& grant) {
    unschedule(DeadlineKind::ExpireGrant, grant.id);
    unschedule(DeadlineKind::WarnGrant, grant.id);
    if (!grant.expiry)
        return;
    deadlines_.emplace(*grant.expiry, DeadlineKind::ExpireGrant, grant.id);
    deadline_of_[{DeadlineKind::ExpireGrant, grant.id}] = *grant.expiry;
    // Inside the warning window already (a restart, a short grant): warn now.
    const EpochSeconds warn_at = std::max(*grant.expiry - config_.warn_before, clock_.now());
    if (config_.warn_before > 0 && warn_at < *grant.expiry) {
        deadlines_.emplace(warn_at, DeadlineKind::WarnGrant, grant.id);
        deadline_of_[{DeadlineKind::WarnGrant, grant.id}] = warn_at;
    }
}

void JitService::unschedule(DeadlineKind kind, Id id) {
    auto it = deadline_of_.find({kind, id});
    if (it == deadline_of_.end())
        return;
    deadlines_.erase({it->second, kind, id});
    deadline_of_.erase(it);
}

void JitService::tick() {
    const EpochSeconds now = clock_.now();
    while (!deadlines_.empty() && std::get<0>(*deadlines_.begin()) <= now) {
        auto [when, kind, id] = *deadlines_.begin();
        try {
            switch (kind) {
                case DeadlineKind::WarnGrant:
                    warn_grant(id);
                    break;
                case DeadlineKind::ExpireGrant:
                    end_grant(id, GrantState::Expired, "system", "");
                    break;
                case DeadlineKind::ExpireRequest:
                    expire_request(id);
                    break;
            }
        } catch (...) {
            // The store refused the change; try again shortly instead of spinning on it.
            unschedule(kind, id);
            deadlines_.emplace(now + kRetryDelay, kind, id);
            deadline_of_[{kind, id}] = now + kRetryDelay;
            throw;
        }
        // A handler that returned without consuming its deadline must not spin the loop.
        unschedule(kind, id);
    }
}

std::optional<EpochSeconds> JitService::next_deadline() const {
    if (deadlines_.empty())
        return std::nullopt;
    return std::get<0>(*deadlines_.begin());
}

}  // namespace jit
