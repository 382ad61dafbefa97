// SPDX-License-Identifier: Apache-2.0
// The engine (jit/service.hpp), part: Grants: start, end (expiry, revocation), warnings.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "commit_change.hpp"
#include "jit/error.hpp"
#include "jit/service.hpp"
#include "jit/validate.hpp"
#include "service_internal.hpp"

namespace jit {

using namespace engine;

// ---------------------------------------------------------------------------------------------
// Grants and sessions

void JitService::index_grant(const Grant& grant) {
    index_.put_grant({grant.id, grant.user, grant.resource, grant.expiry});
}

Grant JitService::revoke(const Caller& caller, Id grant_id, const std::string& reason) {
    validate_text("reason", reason, kMaxReasonLength);
    const Grant& grant = grant_ref(grant_id);
    if (!may_revoke(caller, roles_, grant)) {
        throw_denied("only the grant's holder or an admin may revoke grant " +
                     std::to_string(grant_id));
    }
    if (grant.state != GrantState::Active && grant.state != GrantState::Scheduled) {
        throw_conflict("grant " + std::to_string(grant_id) + " is already " +
                       std::string(to_string(grant.state)));
    }
    end_grant(grant_id, GrantState::Revoked, caller.person(), reason,
              caller.login_differs() ? caller.login_name : std::string());
    return grants_.at(grant_id);
}

AuditEvent JitService::granted_event(const Grant& grant) const {
    return make_event(E::Granted, {{F::RequestId, std::to_string(grant.request_id)},
                                   {F::GrantId, std::to_string(grant.id)},
                                   {F::User, grant.user},
                                   {F::Resource, grant.resource},
                                   {F::Start, format_rfc3339(grant.start)},
                                   {F::Expiry, expiry_text(grant.expiry)}});
}

void JitService::activate_grant(Id grant_id) {
    unschedule(DeadlineKind::StartGrant, grant_id);
    Grant updated = grant_ref(grant_id);
    if (updated.state != GrantState::Scheduled) {
        return;
    }
    updated.state = GrantState::Active;
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        tx.put(updated);
        ev.push_back(tx.append(granted_event(updated)));
    });
    publish(events);
    grant_made(updated);
}

// Ends an active or scheduled grant: new logins are refused at once (index), its sessions are
// terminated.
void JitService::end_grant(Id grant_id, GrantState state, const std::string& actor,
                           const std::string& reason, const std::string& actor_login) {
    end_grants({grant_id}, state, actor, reason, actor_login);
}

// One grant being ended, with what ends along with it.
struct JitService::EndingGrant {
    Grant grant;
    std::vector<Session> ended_sessions;
    // Logged-out sessions of this boot whose cgroup may still hold processes that left them.
    std::vector<Session> left_groups;
};

void JitService::end_grants(const std::vector<Id>& grant_ids, GrantState state,
                            const std::string& actor, const std::string& reason,
                            const std::string& actor_login) {
    const EpochSeconds now = clock_.now();
    std::vector<EndingGrant> ending;
    std::unordered_set<Id> seen;
    std::vector<Id> to_review;  // those that were active (a scheduled grant never started)
    for (Id grant_id : grant_ids) {
        Grant updated = grant_ref(grant_id);
        if ((updated.state != GrantState::Active && updated.state != GrantState::Scheduled) ||
            !seen.insert(grant_id).second) {
            continue;
        }
        if (updated.state == GrantState::Active) {
            to_review.push_back(grant_id);
        }
        updated.state = state;
        updated.ended = now;
        updated.ended_by = actor;
        ending.push_back({std::move(updated), {}, {}});
    }
    if (ending.empty()) {
        return;
    }
    sessions_ending_with(ending, now);

    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        for (const EndingGrant& grant : ending) {
            tx.put(grant.grant);
            ev.push_back(tx.append(grant_end_event(grant.grant, actor, reason, actor_login)));
            for (const Session& s : grant.ended_sessions) {
                tx.put(s);
                ev.push_back(tx.append(session_record_event(E::SessionTerminated, s)));
            }
        }
    });
    grants_ended(ending, events, true);
    for (const EndingGrant& grant : ending) {
        expire_extensions_of(grant.grant.id);
    }
    // Every end (expiry, revocation, a batch of expiries) is reviewed here, after the sessions
    // were told to end.
    finish_reviews(to_review);
}

// Another host ended these grants (the change feed brought them): this host ends and records
// the sessions it registered under them. The other host expired their extension requests and
// reviews them.
void JitService::grants_ended_elsewhere(const std::vector<Grant>& grants) {
    std::vector<EndingGrant> ending;
    for (const Grant& grant : grants) {
        ending.push_back({grant, {}, {}});
    }
    sessions_ending_with(ending, clock_.now());
    std::vector<AuditEvent> events;
    try {
        events = commit_change(
            store_,
            [&](Transaction& tx, std::vector<AuditEvent>& ev) {
                for (const EndingGrant& grant : ending) {
                    for (const Session& s : grant.ended_sessions) {
                        tx.put(s);
                        ev.push_back(tx.append(session_record_event(E::SessionTerminated, s)));
                    }
                }
            },
            true);
    } catch (const JitError&) {
        // Ended all the same; the sessions stay open in memory until their processes are gone,
        // and their end is recorded then (reap_session).
        for (EndingGrant& grant : ending) {
            grant.left_groups.insert(grant.left_groups.end(), grant.ended_sessions.begin(),
                                     grant.ended_sessions.end());
            grant.ended_sessions.clear();
        }
        grants_ended(ending, events, false);
        throw;
    }
    grants_ended(ending, events, false);
}

// This host's sessions under the ending grants: the open ones end now, logged-out ones of this
// boot may have left processes in their cgroup.
void JitService::sessions_ending_with(std::vector<EndingGrant>& ending, EpochSeconds now) const {
    std::unordered_map<Id, std::size_t> position_of;
    for (std::size_t i = 0; i < ending.size(); ++i) {
        position_of.emplace(ending[i].grant.id, i);
    }
    for (const auto& [id, session] : sessions_) {
        auto found = position_of.find(session.grant_id);
        // Another host's jitd ends the sessions it registered.
        if (found == position_of.end() || !on_this_host(session)) {
            continue;
        }
        EndingGrant& grant = ending[found->second];
        if (session.state == SessionState::Closed && !session.cgroup.empty() && !boot_id_.empty() &&
            session.boot_id == boot_id_) {
            grant.left_groups.push_back(session);
        }
        if (session.state != SessionState::Open) {
            continue;
        }
        Session s = session;
        s.state = SessionState::Terminated;
        s.closed = now;
        grant.ended_sessions.push_back(std::move(s));
    }
}

// After the commit that ended them: memory, deadlines, events, and the effects (the sessions
// are told to end).
void JitService::grants_ended(const std::vector<EndingGrant>& ending,
                              const std::vector<AuditEvent>& events, bool ended_here) {
    for (const EndingGrant& grant : ending) {
        grants_[grant.grant.id] = grant.grant;
        index_.remove_grant(grant.grant.id);
        unschedule(DeadlineKind::StartGrant, grant.grant.id);
        unschedule(DeadlineKind::ExpireGrant, grant.grant.id);
        unschedule(DeadlineKind::WarnGrant, grant.grant.id);
        for (const Session& s : grant.ended_sessions) {
            sessions_[s.id] = s;
        }
    }
    publish(events);
    effects_.access_changed();
    std::vector<Session> to_terminate;
    for (const EndingGrant& grant : ending) {
        if (ended_here) {
            effects_.grant_ended(grant.grant);  // its signal and notification: where it ended
        }
        to_terminate.insert(to_terminate.end(), grant.ended_sessions.begin(),
                            grant.ended_sessions.end());
        to_terminate.insert(to_terminate.end(), grant.left_groups.begin(), grant.left_groups.end());
    }
    effects_.terminate_sessions(to_terminate);
}

AuditEvent JitService::grant_end_event(const Grant& grant, const std::string& actor,
                                       const std::string& reason,
                                       const std::string& actor_login) const {
    if (grant.state == GrantState::Expired) {
        return make_event(E::Expired, {{F::GrantId, std::to_string(grant.id)},
                                       {F::User, grant.user},
                                       {F::Resource, grant.resource},
                                       {F::Expiry, expiry_text(grant.expiry)},
                                       {F::Actor, "system"}});
    }
    AuditEvent revoked = make_event(E::Revoked, {{F::GrantId, std::to_string(grant.id)},
                                                 {F::User, grant.user},
                                                 {F::Resource, grant.resource},
                                                 {F::Actor, actor},
                                                 {F::Reason, reason}});
    if (!actor_login.empty()) {
        audit::add_field(revoked, F::ActorLogin, actor_login);
    }
    return revoked;
}

// Writes the pre-expiry warning to the open sessions of these grants (one pass over the
// sessions for all of them).
void JitService::warn_grants(const std::vector<Id>& grant_ids) {
    std::unordered_map<Id, const Grant*> warned;
    for (Id grant_id : grant_ids) {
        unschedule(DeadlineKind::WarnGrant, grant_id);
        const Grant& grant = grant_ref(grant_id);
        if (grant.state == GrantState::Active && grant.expiry) {
            warned.emplace(grant_id, &grant);
        }
    }
    if (warned.empty()) {
        return;
    }
    for (const auto& [id, session] : sessions_) {
        auto found = warned.find(session.grant_id);
        if (found != warned.end() && session.state == SessionState::Open && on_this_host(session)) {
            effects_.warn_session(session, *found->second);
        }
    }
}

Grant JitService::get_grant(const Caller& caller, Id grant_id) const {
    auto it = grants_.find(grant_id);
    if (it == grants_.end() || !may_view_grant(caller, roles_, it->second)) {
        throw_not_found("no grant " + std::to_string(grant_id));
    }
    return it->second;
}

std::vector<Grant> JitService::list_grants(const Caller& caller, bool all, const std::string& user,
                                           const std::string& resource) const {
    const bool read_all = may_read_all(caller, roles_);
    if (!user.empty()) {
        validate_user_name(user);
        if (user != caller.name && !read_all) {
            throw_denied("only admins and auditors may list other users' grants");
        }
    }
    if (!resource.empty()) {
        validate_object_name("resource", resource);
    }
    std::vector<Grant> out;
    for (const auto& [id, g] : grants_) {
        bool visible = g.user == caller.name || (read_all && (all || !user.empty()));
        if (!visible) {
            continue;
        }
        if (!all && g.state != GrantState::Active && g.state != GrantState::Scheduled) {
            continue;
        }
        if (!user.empty() && g.user != user) {
            continue;
        }
        if (!resource.empty() && g.resource != resource) {
            continue;
        }
        out.push_back(g);
    }
    return out;
}

std::vector<Session> JitService::list_sessions(const Caller& caller, bool all) const {
    const bool everyone = all && may_read_all(caller, roles_);
    std::vector<Session> out;
    for (const auto& [id, s] : sessions_) {
        if (!everyone && s.user != caller.name) {
            continue;
        }
        if (!all && (s.state != SessionState::Open || !on_this_host(s))) {
            continue;
        }
        out.push_back(s);
    }
    return out;
}

}  // namespace jit
