// SPDX-License-Identifier: Apache-2.0
#include "jit/service.hpp"

#include <algorithm>
#include <chrono>
#include <unordered_set>

#include "commit_change.hpp"
#include "jit/error.hpp"
#include "jit/ssh_key.hpp"
#include "jit/validate.hpp"
#include "service_internal.hpp"

namespace jit {

using namespace engine;

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

void JitService::start(const std::string& boot_id, const IdentityResolver* accounts) {
    boot_id_ = boot_id;
    StoredState state = store_.load();
    resources_.clear();
    policies_.clear();
    requests_.clear();
    grants_.clear();
    sessions_.clear();
    index_.clear();
    deadlines_.clear();
    // Thousands of resources and grants may name the same accounts: each is looked up once
    // (NSS may take a fraction of a millisecond per name, most for a name it does not know).
    const MemoIdentityResolver own_memo(identity_);
    const IdentityResolver& names = accounts ? *accounts : own_memo;
    for (auto& resource : state.resources) {
        index_resource(resource, &names);
        std::string name = resource.name;
        resources_.emplace(std::move(name), std::move(resource));
    }
    for (auto& policy : state.policies) {
        std::string name = policy.name;
        policies_.emplace(std::move(name), std::move(policy));
    }
    for (auto& request : state.requests) {
        if (request.state == RequestState::Pending) {
            schedule_request(request);
        }
        requests_.emplace(request.id, std::move(request));
    }
    for (auto& grant : state.grants) {
        grant.extensions.clear();  // rebuilt from the requests below
        if (grant.state == GrantState::Active) {
            index_grant(grant);
            schedule_grant(grant);
        } else if (grant.state == GrantState::Scheduled) {
            // An absolute deadline: a start that passed while jitd was down is handled by tick().
            deadlines_.schedule({DeadlineKind::StartGrant, grant.id}, grant.start);
        }
        grants_.emplace(grant.id, std::move(grant));
    }
    for (const auto& [id, request] : requests_) {
        if (auto grant = request.extends ? grants_.find(*request.extends) : grants_.end();
            grant != grants_.end()) {
            grant->second.extensions.push_back(id);
        }
    }
    for (auto& session : state.sessions) {
        if (session.host.empty()) {
            session.host = config_.host;  // registered before sessions named their host
        }
        sessions_.emplace(session.id, std::move(session));
    }
    reviews_.clear();
    for (auto& row : state.reviews) {
        if (auto grant = grants_.find(row.grant_id); grant != grants_.end()) {
            grant->second.review = row.review;
        }
        const Id grant_id = row.grant_id;
        reviews_.emplace(grant_id, std::move(row));
    }
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
        if (session.state == SessionState::Open && on_this_host(session) && !boot_id_.empty() &&
            !session.boot_id.empty() && session.boot_id != boot_id_) {
            stale.push_back(id);
        }
    }
    for (Id id : stale) {
        close_session_as(id, "host rebooted");
    }

    // Whatever lapsed while jitd was down ends now; sessions of live grants are left alone.
    tick();
    catch_up_reviews(names);
    effects_.access_changed();
}

std::vector<std::string> JitService::roles_of(const Caller& caller) const {
    std::vector<std::string> roles;
    if (caller.is_root()) {
        roles.emplace_back("root");
    }
    if (is_admin(caller, roles_)) {
        roles.emplace_back("admin");
    }
    if (is_auditor(caller, roles_)) {
        roles.emplace_back("auditor");
    }
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
        if (session.state == SessionState::Open && on_this_host(session)) {
            out.push_back(session);
        }
    }
    return out;
}

std::optional<Session> JitService::find_open_session(Id session_id) const {
    auto it = sessions_.find(session_id);
    if (it == sessions_.end() || it->second.state != SessionState::Open ||
        !on_this_host(it->second)) {
        return std::nullopt;
    }
    return it->second;
}

std::vector<std::string> JitService::approvers_of(const Request& request) const {
    auto it = policies_.find(request.policy);
    return it == policies_.end() ? std::vector<std::string>{} : it->second.approvers;
}

ServiceStatus JitService::status() const {
    ServiceStatus s;
    s.resources = resources_.size();
    s.policies = policies_.size();
    for (const auto& [id, r] : requests_) {
        s.pending_requests += r.state == RequestState::Pending;
    }
    s.active_grants = index_.grant_count();
    for (const auto& [id, x] : sessions_) {
        s.open_sessions += x.state == SessionState::Open && on_this_host(x);
    }
    s.audit_seq = audit_seq_;
    s.host = config_.host;
    s.store = config_.store_backend == StoreBackend::Postgresql ? "postgresql" : "sqlite";
    try {
        if (std::optional<FeedPosition> feed = store_.feed_position()) {
            s.store_behind = std::max<Id>(feed->head - feed->applied, 0);
        }
    } catch (const JitError&) {
        s.store_reachable = false;
    }
    return s;
}

// ---------------------------------------------------------------------------------------------
// Lookups and checks

void JitService::require_manage(const Caller& caller) const {
    if (!may_manage(caller, roles_)) {
        throw_denied("only root and members of the admin groups (" + join(roles_.admin_groups) +
                     ") may change resources and policies");
    }
}

void JitService::require_pam(const Caller& caller) const {
    if (!may_call_pam(caller)) {
        throw_denied("only root may call the PAM methods");
    }
}

Resource& JitService::resource_ref(const std::string& name) {
    auto it = resources_.find(name);
    if (it == resources_.end()) {
        throw_not_found("no resource named " + quote_for_message(name));
    }
    return it->second;
}

const Resource& JitService::resource_ref(const std::string& name) const {
    auto it = resources_.find(name);
    if (it == resources_.end()) {
        throw_not_found("no resource named " + quote_for_message(name));
    }
    return it->second;
}

Policy& JitService::policy_ref(const std::string& name) {
    auto it = policies_.find(name);
    if (it == policies_.end()) {
        throw_not_found("no policy named " + quote_for_message(name));
    }
    return it->second;
}

const Policy* JitService::policy_of(const Request& request) const {
    auto it = policies_.find(request.policy);
    return it == policies_.end() ? nullptr : &it->second;
}

Request& JitService::request_ref(Id id) {
    auto it = requests_.find(id);
    if (it == requests_.end()) {
        throw_not_found("no request " + std::to_string(id));
    }
    return it->second;
}

Grant& JitService::grant_ref(Id id) {
    auto it = grants_.find(id);
    if (it == grants_.end()) {
        throw_not_found("no grant " + std::to_string(id));
    }
    return it->second;
}

std::vector<std::string> JitService::groups_of(const std::string& user) const {
    return identity_.groups_of(user);
}

// The caller's groups came from NSS once, when jitd identified the caller.
bool JitService::is_member(const Caller& caller, const Resource& resource) const {
    return principals_name(resource.members, caller.name, caller.groups);
}

namespace {

// The id of the first object in objects (by id) that matches, if any.
template <class Objects, class Matches>
std::optional<Id> first_id(const Objects& objects, Matches matches) {
    for (const auto& [id, object] : objects) {
        if (matches(object)) {
            return id;
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<Id> JitService::open_request_of(const std::string& user,
                                              const std::string& resource) const {
    return first_id(requests_, [&](const Request& r) {
        return r.state == RequestState::Pending && r.requester == user && r.resource == resource;
    });
}

std::optional<Id> JitService::active_grant_of(const std::string& user,
                                              const std::string& resource) const {
    return index_.grant_of(user, resource);
}

std::optional<Id> JitService::scheduled_grant_of(const std::string& user,
                                                 const std::string& resource) const {
    return first_id(grants_, [&](const Grant& g) {
        return g.state == GrantState::Scheduled && g.user == user && g.resource == resource;
    });
}

void JitService::note_scheduled_start(LoginDecision& decision) const {
    for (const std::string& resource : decision.resources) {
        if (auto id = scheduled_grant_of(decision.requester, resource)) {
            const EpochSeconds start = grants_.at(*id).start;
            decision.starts = decision.starts ? std::min(*decision.starts, start) : start;
        }
    }
}

std::vector<std::string> JitService::resources_under(const std::string& policy) const {
    std::vector<std::string> out;
    for (const auto& [name, r] : resources_) {
        if (r.policy == policy) {
            out.push_back(name);
        }
    }
    return out;
}

std::string JitService::access_of(const Caller& caller, const Resource& resource) const {
    if (is_member(caller, resource)) {
        return "member";
    }
    if (active_grant_of(caller.name, resource.name)) {
        return "grant";
    }
    auto policy = policies_.find(resource.policy);
    if (policy != policies_.end() && policy->second.active) {
        return "request";
    }
    return "none";
}

// ---------------------------------------------------------------------------------------------
// Audit plumbing

AuditEvent JitService::make_event(audit::Event type, const Fields& fields) const {
    AuditEvent event = audit::make_event(type, clock_.now(), fields);
    // A hashed field like any other, so the database says which host wrote the event too.
    audit::add_field(event, F::Host, config_.host);
    return event;
}

AuditEvent JitService::session_event(audit::Event type, const LoginAttempt& attempt,
                                     const LoginDecision& decision, std::int64_t pid,
                                     const std::string& logind_session) const {
    std::string resource = decision.resource.empty() ? join(decision.resources) : decision.resource;
    AuditEvent event = make_event(
        type, {{F::User, decision.requester},
               {F::Target, decision.target},
               {F::Service, attempt.service},
               {F::Rhost, attempt.rhost},
               {F::Tty, attempt.tty},
               {F::Resource, resource},
               {F::GrantId, decision.grant_id ? std::to_string(decision.grant_id) : std::string()},
               {F::SessionPid, pid ? std::to_string(pid) : std::string()},
               {F::LogindSession, logind_session}});
    // A person who came in with a registered ssh key: which key.
    if (!decision.fingerprint.empty()) {
        audit::add_field(event, F::Fingerprint, decision.fingerprint);
    }
    return event;
}

AuditEvent JitService::session_record_event(audit::Event type, const Session& session) const {
    LoginAttempt attempt{session.service, session.target, session.user, session.rhost, session.tty};
    LoginDecision d;
    d.requester = session.user;
    d.target = session.target;
    d.grant_id = session.grant_id;
    d.fingerprint = session.fingerprint;
    if (auto grant = grants_.find(session.grant_id); grant != grants_.end()) {
        d.resource = grant->second.resource;
    }
    return session_event(type, attempt, d, session.pid, session.logind_session);
}

void JitService::publish(const std::vector<AuditEvent>& committed) {
    for (const AuditEvent& event : committed) {
        audit_seq_ = std::max(audit_seq_, event.seq);
        effects_.audit_committed(event);
    }
}

// ---------------------------------------------------------------------------------------------
// Audit

std::vector<AuditEvent> JitService::audit(const Caller& caller, const AuditFilter& filter) const {
    if (!may_read_all(caller, roles_)) {
        throw_denied("only root, admins and auditors may read the audit log");
    }
    if (!filter.user.empty()) {
        validate_user_name(filter.user);
    }
    if (!filter.resource.empty()) {
        validate_object_name("resource", filter.resource);
    }
    if (!filter.event.empty()) {
        validate_object_name("event", filter.event);
    }
    if (filter.since && filter.until && *filter.since > *filter.until) {
        throw_invalid("--since is after --until");
    }
    // Replies are bounded: a caller reads a long log page by page (after_seq).
    AuditFilter page = filter;
    if (page.limit == 0 || page.limit > kMaxAuditPage) {
        page.limit = kMaxAuditPage;
    }
    return store_.audit_events(page);
}

AuditVerification JitService::verify_audit(const Caller& caller) const {
    if (!may_read_all(caller, roles_)) {
        throw_denied("only root, admins and auditors may verify the audit log");
    }
    return store_.verify_audit();
}

AuditVerification JitService::verify_audit(const Caller& caller,
                                           const AuditJournalReader& journal) const {
    // Checked before the journal is read: reading it is work no other caller may cause.
    if (!may_read_all(caller, roles_)) {
        throw_denied("only root, admins and auditors may verify the audit log");
    }
    return store_.verify_audit(journal.read(store_.audit_chain()));
}

// ---------------------------------------------------------------------------------------------
// Deadlines

void JitService::schedule_request(const Request& request) {
    deadlines_.schedule({DeadlineKind::ExpireRequest, request.id}, request.expires);
}

void JitService::schedule_grant(const Grant& grant) {
    unschedule(DeadlineKind::ExpireGrant, grant.id);
    unschedule(DeadlineKind::WarnGrant, grant.id);
    if (!grant.expiry) {
        return;
    }
    deadlines_.schedule({DeadlineKind::ExpireGrant, grant.id}, *grant.expiry);
    // Inside the warning window already (a restart, a short grant): warn now.
    const EpochSeconds warn_at = std::max(*grant.expiry - config_.warn_before, clock_.now());
    if (config_.warn_before > 0 && warn_at < *grant.expiry) {
        deadlines_.schedule({DeadlineKind::WarnGrant, grant.id}, warn_at);
    }
}

void JitService::unschedule(DeadlineKind kind, Id id) {
    deadlines_.cancel({kind, id});
}

bool JitService::tick(std::size_t max_deadlines) {
    // In a fleet another host may have handled a deadline already (an expiry is recorded
    // once): what it did is applied first. A store that cannot be read leaves the deadlines to
    // this host's memory; their changes then fail and are tried again.
    try {
        follow_store();
    } catch (const JitError&) {
    }
    const EpochSeconds now = clock_.now();
    std::vector<Id> expiring;
    std::vector<Id> warning;
    // Each deadline is taken off the queue before it is handled, so a handler that does not
    // consume it cannot spin the loop. Starts and request expiries are handled one by one, in
    // order; expiries and warnings are gathered and handled together at the end (a grant that
    // starts late and has expired meanwhile starts first, then expires in the batch).
    for (std::size_t handled = 0; handled < max_deadlines; ++handled) {
        std::optional<DeadlineKey> due = deadlines_.pop_due(now);
        if (!due) {
            break;
        }
        const auto [kind, id] = *due;
        if (kind == DeadlineKind::ExpireGrant) {
            expiring.push_back(id);
            continue;
        }
        if (kind == DeadlineKind::WarnGrant) {
            warning.push_back(id);
            continue;
        }
        try {
            if (kind == DeadlineKind::StartGrant) {
                activate_grant(id);
            } else {
                expire_request(id);
            }
        } catch (...) {
            retry_later(kind, {id}, now);
            warn_grants(warning);
            expire_grants(expiring, now);
            throw;
        }
    }
    warn_grants(warning);
    expire_grants(expiring, now);
    const std::optional<EpochSeconds> next = deadlines_.next();
    return next && *next <= now;
}

std::vector<Session> JitService::sessions_of_due_expiries() const {
    std::unordered_set<Id> expiring;
    deadlines_.for_each_due(clock_.now(), [&](const DeadlineKey& key) {
        if (key.first != DeadlineKind::ExpireGrant) {
            return;
        }
        auto grant = grants_.find(key.second);
        if (grant != grants_.end() && grant->second.state == GrantState::Active) {
            expiring.insert(key.second);
        }
    });
    std::vector<Session> sessions;
    if (expiring.empty()) {
        return sessions;
    }
    for (const auto& [id, session] : sessions_) {
        if (session.state == SessionState::Open && on_this_host(session) &&
            expiring.contains(session.grant_id)) {
            sessions.push_back(session);
        }
    }
    return sessions;
}

// The grants whose expiry came, in one transaction; if the store refuses it, all are tried
// again shortly.
void JitService::expire_grants(const std::vector<Id>& grant_ids, EpochSeconds now) {
    if (grant_ids.empty()) {
        return;
    }
    try {
        end_grants(grant_ids, GrantState::Expired, "system", "");
    } catch (...) {
        retry_later(DeadlineKind::ExpireGrant, grant_ids, now);
        throw;
    }
}

// The store refused a change; try again shortly instead of spinning on it. Called while the
// refusal is being handled: one because another host changed the store first is tried again
// at once, on the next tick, which applies that change first.
void JitService::retry_later(DeadlineKind kind, const std::vector<Id>& ids, EpochSeconds now) {
    Seconds delay = kRetryDelay;
    try {
        throw;
    } catch (const StoreBehind&) {
        delay = 0;
    } catch (...) {
    }
    for (Id id : ids) {
        deadlines_.schedule({kind, id}, now + delay);
    }
}

std::optional<EpochSeconds> JitService::next_deadline() const {
    return deadlines_.next();
}

}  // namespace jit
