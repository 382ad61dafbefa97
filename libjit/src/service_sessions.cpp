// SPDX-License-Identifier: Apache-2.0
// The engine (jit/service.hpp), part: Logins and sessions: the PAM side of the engine, fallback
// logins.
#include <algorithm>

#include "commit_change.hpp"
#include "jit/error.hpp"
#include "jit/service.hpp"
#include "jit/validate.hpp"
#include "service_internal.hpp"

namespace jit {

using namespace engine;

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
        note_scheduled_start(decision);
        auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
            ev.push_back(tx.append(session_event(E::LoginDenied, attempt, decision, 0, "")));
        });
        publish(events);
    }
    return decision;
}

namespace {

// A session `user` opened on `target` through `attempt` under `grant_id`, led by `pid`.
Session new_session(const LoginAttempt& attempt, Id grant_id, const std::string& user,
                    const std::string& target, std::int64_t pid,
                    const std::string& logind_session) {
    Session session;
    session.grant_id = grant_id;
    session.user = user;
    session.target = target;
    session.service = attempt.service;
    session.rhost = attempt.rhost;
    session.tty = attempt.tty;
    session.pid = pid;
    session.logind_session = logind_session;
    return session;
}

}  // namespace

SessionOpen JitService::open_session(const Caller& caller, const LoginAttempt& attempt,
                                     std::int64_t pid, const std::string& logind_session,
                                     std::int64_t pid_start) {
    require_pam(caller);
    validate_attempt(attempt);
    if (pid < 0 || pid_start < 0) {
        throw_invalid("pid and its start time must not be negative");
    }
    validate_text("logind session", logind_session, kMaxAttemptField);
    SessionOpen result;
    result.decision = index_.decide(attempt, clock_.now());
    if (result.decision.verdict == LoginVerdict::Deny) {
        note_scheduled_start(result.decision);
    }
    const LoginDecision& decision = result.decision;
    if (decision.verdict == LoginVerdict::Unmanaged) {
        return result;
    }
    if (decision.verdict != LoginVerdict::Grant) {
        // Denials, standing members' and root's own sessions are audited; only grants' are
        // registered.
        const audit::Event type =
            decision.verdict == LoginVerdict::Deny ? E::LoginDenied : E::SessionOpened;
        auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
            ev.push_back(tx.append(session_event(type, attempt, decision, pid, logind_session)));
        });
        publish(events);
        return result;
    }

    Session session = new_session(attempt, decision.grant_id, decision.requester, decision.target,
                                  pid, logind_session);
    session.pid_start = pid_start;
    session.boot_id = boot_id_;
    session.fingerprint = decision.fingerprint;
    session.host = config_.host;
    session.opened = clock_.now();
    session.cgroup = effects_.place_session(session);
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        session.id = tx.put(session);
        ev.push_back(tx.append(session_record_event(E::SessionOpened, session)));
    });
    sessions_[session.id] = session;
    result.session_id = session.id;
    publish(events);
    review_account(session.grant_id, session.target);
    effects_.session_opened(session);
    return result;
}

void JitService::close_session(const Caller& caller, Id session_id) {
    require_pam(caller);
    if (!sessions_.count(session_id)) {
        throw_not_found("no session " + std::to_string(session_id));
    }
    close_session_as(session_id, "logout");
}

void JitService::reap_session(Id session_id) {
    if (!sessions_.count(session_id)) {
        throw_not_found("no session " + std::to_string(session_id));
    }
    close_session_as(session_id, "process gone");
}

// Marks an open session closed (logout, its process gone, or a reboot) with its audit event.
void JitService::close_session_as(Id session_id, const std::string& how) {
    const Session& current = sessions_.at(session_id);
    if (current.state != SessionState::Open) {
        return;  // already ended by jitd
    }
    Session updated = current;
    updated.state = SessionState::Closed;
    updated.closed = clock_.now();
    auto events = commit_change(
        store_,
        [&](Transaction& tx, std::vector<AuditEvent>& ev) {
            tx.put(updated);
            AuditEvent event = session_record_event(E::SessionClosed, updated);
            audit::add_field(event, F::ClosedBy, how);
            ev.push_back(tx.append(event));
        },
        true);  // this host's own session: never refused for other hosts' changes
    sessions_[session_id] = updated;
    publish(events);
}

void JitService::record_fallback(const FallbackLogin& login) {
    const LoginAttempt& attempt = login.attempt;
    validate_fallback_attempt(attempt);
    if (!is_fallback_outcome(login.outcome)) {
        throw_invalid("unknown fallback outcome " + quote_for_message(login.outcome));
    }
    // pam_jit stamps the line with the host clock; one from the future is not pam_jit's.
    if (login.when > clock_.now() + kFallbackClockSkew) {
        throw_invalid("fallback decision dated in the future");
    }
    if (login.pid < 0 || login.grant_id < 0) {
        throw_invalid("negative pid or grant id");
    }
    validate_text("logind session", login.logind_session, kMaxAttemptField);

    // The session to adopt: only under a grant of this requester on a resource it names.
    std::optional<Session> adopted;
    const std::string requester = requester_of(login);
    auto grant = grants_.find(login.grant_id);
    if (login.outcome == "allowed" && login.pid > 0 && grant != grants_.end() &&
        grant->second.user == requester) {
        Session s = new_session(attempt, grant->first, grant->second.user, attempt.user, login.pid,
                                login.logind_session);
        s.boot_id = boot_id_;
        s.fingerprint = keys_.count(login.fingerprint) ? login.fingerprint : std::string();
        s.host = config_.host;
        s.opened = login.when;
        adopted = s;
    }
    const bool grant_over = adopted && grant->second.state != GrantState::Active;

    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        AuditEvent fallback =
            make_event(E::LoginFallback, {{F::User, requester},
                                          {F::Target, attempt.user},
                                          {F::Service, attempt.service},
                                          {F::Rhost, attempt.rhost},
                                          {F::Tty, attempt.tty},
                                          {F::Outcome, login.outcome},
                                          {F::Decided, format_rfc3339(login.when)}});
        if (keys_.count(login.fingerprint)) {
            audit::add_field(fallback, F::Fingerprint, login.fingerprint);
        }
        ev.push_back(tx.append(fallback));
        if (!adopted) {
            return;
        }
        adopted->id = tx.put(*adopted);
        ev.push_back(tx.append(session_record_event(E::SessionOpened, *adopted)));
        if (!grant_over) {
            return;
        }
        adopted->state = SessionState::Terminated;
        adopted->closed = clock_.now();
        tx.put(*adopted);
        ev.push_back(tx.append(session_record_event(E::SessionTerminated, *adopted)));
    });
    if (adopted) {
        sessions_[adopted->id] = *adopted;
    }
    publish(events);
    if (grant_over) {
        effects_.terminate_session(*adopted);
    } else if (adopted) {
        review_account(adopted->grant_id, adopted->target);
        effects_.session_opened(*adopted);
    }
}

}  // namespace jit
