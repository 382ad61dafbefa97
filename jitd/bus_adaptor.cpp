// SPDX-License-Identifier: Apache-2.0
#include "bus_adaptor.hpp"

#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstring>

#include "bus_records.hpp"
#include "jit/authz.hpp"
#include "jit/bus_names.hpp"
#include "jit/error.hpp"
#include "journal_reader.hpp"
#include "peer_identity.hpp"
#include "process_tree.hpp"

namespace jitd {
namespace {

std::string read_string(sd_bus_message* message) {
    const char* value = nullptr;
    check_sd_bus(sd_bus_message_read_basic(message, 's', &value), "read string argument");
    return value;
}

std::int64_t read_i64(sd_bus_message* message) {
    std::int64_t value = 0;
    check_sd_bus(sd_bus_message_read_basic(message, 'x', &value), "read int64 argument");
    return value;
}

std::uint32_t read_u32(sd_bus_message* message) {
    std::uint32_t value = 0;
    check_sd_bus(sd_bus_message_read_basic(message, 'u', &value), "read uint32 argument");
    return value;
}

std::int32_t read_i32(sd_bus_message* message) {
    std::int32_t value = 0;
    check_sd_bus(sd_bus_message_read_basic(message, 'i', &value), "read int32 argument");
    return value;
}

bool read_bool(sd_bus_message* message) {
    int value = 0;
    check_sd_bus(sd_bus_message_read_basic(message, 'b', &value), "read boolean argument");
    return value != 0;
}

std::vector<std::string> read_strv(sd_bus_message* message) {
    std::vector<std::string> values;
    check_sd_bus(sd_bus_message_enter_container(message, 'a', "s"), "read string list");
    const char* value = nullptr;
    while (check_sd_bus(sd_bus_message_read_basic(message, 's', &value), "read string list") > 0) {
        values.emplace_back(value);
    }
    check_sd_bus(sd_bus_message_exit_container(message), "read string list");
    return values;
}

jit::LoginAttempt read_login_attempt(sd_bus_message* message) {
    jit::LoginAttempt attempt;
    attempt.service = read_string(message);
    attempt.user = read_string(message);
    attempt.ruser = read_string(message);
    attempt.rhost = read_string(message);
    attempt.tty = read_string(message);
    attempt.app_uid = read_u32(message);
    attempt.login_uid = read_u32(message);
    return attempt;
}

MessagePtr new_reply(sd_bus_message* call) {
    sd_bus_message* reply = nullptr;
    check_sd_bus(sd_bus_message_new_method_return(call, &reply), "create reply");
    return MessagePtr(reply);
}

template <typename Record, typename Append>
MessagePtr reply_record(sd_bus_message* call, const Record& record, Append append) {
    MessagePtr reply = new_reply(call);
    append(reply.get(), record);
    return reply;
}

template <typename Record, typename Append>
MessagePtr reply_records(sd_bus_message* call, const std::vector<Record>& records, Append append) {
    MessagePtr reply = new_reply(call);
    append_records(reply.get(), records, append);
    return reply;
}

// verdict, resource, resources, grant_id, expiry (0: none) — the common head of the PAM replies.
void append_login_decision(sd_bus_message* reply, const jit::LoginDecision& decision) {
    std::string verdict(jit::to_string(decision.verdict));
    check_sd_bus(sd_bus_message_append(reply, "ss", verdict.c_str(), decision.resource.c_str()),
                 "append verdict");
    append_strv(reply, decision.resources);
    check_sd_bus(sd_bus_message_append(reply, "xx", decision.grant_id, decision.expiry.value_or(0)),
                 "append grant");
}

}  // namespace

#define JIT_METHOD(member, in_sig, in_names, out_sig, out_names, handler)  \
    SD_BUS_METHOD_WITH_NAMES(member, in_sig, in_names, out_sig, out_names, \
                             &BusAdaptor::method<&BusAdaptor::handler>,    \
                             SD_BUS_VTABLE_UNPRIVILEGED)
#define P(name) SD_BUS_PARAM(name)

// Argument names and order exactly as in dbus/io.jitd.Jit1.xml (a test compares them).
const sd_bus_vtable BusAdaptor::kManagerVtable[] = {
    SD_BUS_VTABLE_START(0),
    JIT_METHOD("GetStatus", "", "", "a{sv}", P(status), get_status),
    JIT_METHOD("AddResource", "ssasasas", P(name) P(description) P(services) P(accounts) P(members),
               "", "", add_resource),
    JIT_METHOD("RemoveResource", "s", P(name), "", "", remove_resource),
    JIT_METHOD("AddResourceMember", "ss", P(resource) P(member), "", "", add_resource_member),
    JIT_METHOD("RemoveResourceMember", "ss", P(resource) P(member), "", "", remove_resource_member),
    JIT_METHOD("ListResources", "", "", "aa{sv}", P(resources), list_resources),
    JIT_METHOD("GetResource", "s", P(name), "a{sv}", P(resource), get_resource),
    JIT_METHOD("AddPolicy", "sssasixbx",
               P(name) P(description) P(action) P(approvers) P(approvals_required) P(max_duration)
                   P(auto_expiry) P(request_ttl),
               "a{sv}", P(policy), add_policy),
    JIT_METHOD("AssignPolicy", "ss", P(policy) P(resource), "", "", assign_policy),
    JIT_METHOD("SetPolicyActive", "sb", P(policy) P(active), "", "", set_policy_active),
    JIT_METHOD("RemovePolicy", "s", P(name), "", "", remove_policy),
    JIT_METHOD("ListPolicies", "", "", "aa{sv}", P(policies), list_policies),
    JIT_METHOD("GetPolicy", "s", P(name), "a{sv}", P(policy), get_policy),
    JIT_METHOD("CreateRequest", "ssx", P(resource) P(reason) P(duration), "a{sv}", P(request),
               create_request),
    JIT_METHOD("GetRequest", "x", P(id), "a{sv}", P(request), get_request),
    JIT_METHOD("ListRequests", "bs", P(all) P(state), "aa{sv}", P(requests), list_requests),
    JIT_METHOD("ListApprovals", "", "", "aa{sv}", P(requests), list_approvals),
    JIT_METHOD("Approve", "xs", P(id) P(comment), "a{sv}", P(request), approve),
    JIT_METHOD("Deny", "xs", P(id) P(comment), "a{sv}", P(request), deny),
    JIT_METHOD("Cancel", "x", P(id), "a{sv}", P(request), cancel),
    JIT_METHOD("ListGrants", "bss", P(all) P(user) P(resource), "aa{sv}", P(grants), list_grants),
    JIT_METHOD("GetGrant", "x", P(id), "a{sv}", P(grant), get_grant),
    JIT_METHOD("Revoke", "xs", P(id) P(reason), "a{sv}", P(grant), revoke),
    JIT_METHOD("ListSessions", "b", P(all), "aa{sv}", P(sessions), list_sessions),
    JIT_METHOD("AddKey", "ss", P(key) P(user), "a{sv}", P(key_record), add_key),
    JIT_METHOD("ListKeys", "s", P(user), "aa{sv}", P(keys), list_keys),
    JIT_METHOD("RemoveKey", "s", P(fingerprint), "a{sv}", P(key_record), remove_key),
    JIT_METHOD("QueryAudit", "xxsssxx",
               P(since) P(until) P(user) P(resource) P(event) P(after_seq) P(limit), "aa{sv}",
               P(events), query_audit),
    JIT_METHOD("VerifyAudit", "", "", "bxxssbxxx",
               P(ok) P(rows_checked) P(first_bad_seq) P(problem) P(chain) P(journal_compared)
                   P(journal_events) P(rows_in_journal) P(other_chain_events),
               verify_audit),
    // Any local user may listen: signals carry ids and states, never names or resources.
    SD_BUS_SIGNAL_WITH_NAMES("RequestCreated", "x", P(id), 0),
    SD_BUS_SIGNAL_WITH_NAMES("RequestDecided", "xs", P(id) P(state), 0),
    SD_BUS_SIGNAL_WITH_NAMES("GrantStarted", "xx", P(id) P(request_id), 0),
    SD_BUS_SIGNAL_WITH_NAMES("GrantEnded", "xs", P(id) P(state), 0),
    SD_BUS_VTABLE_END,
};

const sd_bus_vtable BusAdaptor::kPamVtable[] = {
    SD_BUS_VTABLE_START(0),
    JIT_METHOD("CheckLogin", "sssssuu",
               P(service) P(user) P(ruser) P(rhost) P(tty) P(app_uid) P(login_uid), "ssasxx",
               P(verdict) P(resource) P(resources) P(grant_id) P(expiry), check_login),
    JIT_METHOD("OpenSession", "sssssuuxss",
               P(service) P(user) P(ruser) P(rhost) P(tty) P(app_uid) P(login_uid) P(pid)
                   P(logind_session) P(ssh_key),
               "ssasxxx", P(verdict) P(resource) P(resources) P(grant_id) P(expiry) P(session_id),
               open_session),
    JIT_METHOD("CloseSession", "x", P(session_id), "", "", close_session),
    SD_BUS_VTABLE_END,
};

#undef P
#undef JIT_METHOD

BusAdaptor::BusAdaptor(sd_bus* bus, jit::JitService& service, const jit::IdentityResolver& identity,
                       std::function<void()> before_reply)
    : bus_(bus), service_(service), identity_(identity), before_reply_(std::move(before_reply)) {}

void BusAdaptor::add_objects() {
    sd_bus_slot* slot = nullptr;
    check_sd_bus(sd_bus_match_signal(bus_, &slot, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus", "NameOwnerChanged",
                                     on_name_owner_changed, this),
                 "watch bus clients leaving");
    name_owner_match_.reset(slot);
    check_sd_bus(sd_bus_add_object_vtable(bus_, &slot, jit::bus::kObjectPath,
                                          jit::bus::kManagerInterface, kManagerVtable, this),
                 "add the Manager interface");
    manager_slot_.reset(slot);
    check_sd_bus(sd_bus_add_object_vtable(bus_, &slot, jit::bus::kObjectPath,
                                          jit::bus::kPamInterface, kPamVtable, this),
                 "add the Pam interface");
    pam_slot_.reset(slot);
}

template <BusAdaptor::Handler handler>
int BusAdaptor::method(sd_bus_message* message, void* userdata, sd_bus_error* error) {
    return static_cast<BusAdaptor*>(userdata)->call(message, error, handler);
}

// The one place where a method's failure becomes a D-Bus error; no exception crosses into
// sd-bus.
int BusAdaptor::call(sd_bus_message* message, sd_bus_error* error, Handler handler) {
    const char* member = sd_bus_message_get_member(message);
    try {
        jit::Caller caller = caller_of(message);
        spdlog::debug("{} called by {} (uid {})", member, caller.name, caller.uid);
        MessagePtr reply = (this->*handler)(message, caller);
        before_reply_();
        return check_sd_bus(sd_bus_send(nullptr, reply.get(), nullptr), "send reply");
    } catch (const jit::JitError& e) {
        if (e.code() == jit::ErrorCode::Internal) {
            spdlog::error("{} failed: {}", member, e.what());
        } else {
            spdlog::debug("{} refused: {}", member, e.what());
        }
        return sd_bus_error_set(error, jit::bus::error_name(e.code()), e.what());
    } catch (const SdBusFailure& e) {
        spdlog::error("{} failed: {}: {}", member, e.what(), std::strerror(-e.error()));
        // A jit error name, not sd-bus's errno mapping (which could read as a timeout).
        std::string text = std::string(e.what()) + ": " + std::strerror(-e.error());
        return sd_bus_error_set(error, jit::bus::error_name(jit::ErrorCode::Internal),
                                text.c_str());
    } catch (const std::exception& e) {
        spdlog::error("{} failed unexpectedly: {}", member, e.what());
        return sd_bus_error_set(error, SD_BUS_ERROR_FAILED, e.what());
    } catch (...) {
        // Whatever failed, the caller gets an error reply: a dropped call would look to
        // pam_jit like jitd being unreachable.
        spdlog::error("{} failed with an unknown exception", member);
        return sd_bus_error_set(error, SD_BUS_ERROR_FAILED, "internal error in jitd");
    }
}

// The sender's euid and pid come from the bus driver (the kernel's SO_PEERCRED at connect time)
// and never change for a connection, so they are asked once per sender. Everything else is read
// on every call: the login uid (a process may set it once, after connecting) and the names and
// groups from NSS, so that a group change applies to the very next call.
jit::Caller BusAdaptor::caller_of(sd_bus_message* message) {
    const char* sender = sd_bus_message_get_sender(message);
    if (!sender) {
        throw jit::JitError(jit::ErrorCode::Internal, "cannot identify the caller: no sender");
    }
    auto cached = peer_by_sender_.find(sender);
    if (cached == peer_by_sender_.end()) {
        cached = peer_by_sender_.emplace(sender, query_peer_creds(message)).first;
    }
    const PeerCreds peer = cached->second;
    return jit::caller_from_uid(peer.euid, identity_, read_login_uid(peer.pid, peer.euid));
}

int BusAdaptor::on_name_owner_changed(sd_bus_message* message, void* userdata, sd_bus_error*) {
    auto* self = static_cast<BusAdaptor*>(userdata);
    const char* name = nullptr;
    const char* old_owner = nullptr;
    const char* new_owner = nullptr;
    if (sd_bus_message_read(message, "sss", &name, &old_owner, &new_owner) < 0) {
        return 0;
    }
    if (name[0] == ':' && new_owner[0] == '\0') {
        self->peer_by_sender_.erase(name);
    }
    return 0;
}

// --- io.jitd.Jit1.Manager ---

MessagePtr BusAdaptor::get_status(sd_bus_message* message, const jit::Caller& caller) {
    jit::ServiceStatus status = service_.status();
    MessagePtr reply = new_reply(message);
    DictWriter dict(reply.get());
    dict.str("version", JITD_VERSION);
    dict.str("user", caller.name);
    dict.strv("roles", service_.roles_of(caller));
    dict.i64("resources", static_cast<std::int64_t>(status.resources));
    dict.i64("policies", static_cast<std::int64_t>(status.policies));
    dict.i64("pending_requests", static_cast<std::int64_t>(status.pending_requests));
    dict.i64("active_grants", static_cast<std::int64_t>(status.active_grants));
    dict.i64("open_sessions", static_cast<std::int64_t>(status.open_sessions));
    dict.i64("audit_seq", status.audit_seq);
    dict.close();
    return reply;
}

MessagePtr BusAdaptor::add_resource(sd_bus_message* message, const jit::Caller& caller) {
    jit::Resource resource;
    resource.name = read_string(message);
    resource.description = read_string(message);
    resource.services = read_strv(message);
    resource.accounts = read_strv(message);
    resource.members = read_strv(message);
    service_.add_resource(caller, std::move(resource));
    return new_reply(message);
}

MessagePtr BusAdaptor::remove_resource(sd_bus_message* message, const jit::Caller& caller) {
    service_.remove_resource(caller, read_string(message));
    return new_reply(message);
}

MessagePtr BusAdaptor::add_resource_member(sd_bus_message* message, const jit::Caller& caller) {
    std::string resource = read_string(message);
    std::string member = read_string(message);
    service_.add_member(caller, resource, member);
    return new_reply(message);
}

MessagePtr BusAdaptor::remove_resource_member(sd_bus_message* message, const jit::Caller& caller) {
    std::string resource = read_string(message);
    std::string member = read_string(message);
    service_.remove_member(caller, resource, member);
    return new_reply(message);
}

MessagePtr BusAdaptor::list_resources(sd_bus_message* message, const jit::Caller& caller) {
    return reply_records(message, service_.list_resources(caller), append_resource);
}

MessagePtr BusAdaptor::get_resource(sd_bus_message* message, const jit::Caller& caller) {
    return reply_record(message, service_.get_resource(caller, read_string(message)),
                        append_resource);
}

MessagePtr BusAdaptor::add_policy(sd_bus_message* message, const jit::Caller& caller) {
    jit::NewPolicy spec;
    spec.name = read_string(message);
    spec.description = read_string(message);
    spec.action = jit::parse_policy_action(read_string(message));
    spec.approvers = read_strv(message);
    spec.approvals_required = read_i32(message);
    std::int64_t max_duration = read_i64(message);
    if (max_duration != 0) {  // 0: the default (XML contract)
        spec.max_duration = max_duration;
    }
    spec.auto_expiry = read_bool(message);
    spec.request_ttl = read_i64(message);
    jit::Policy policy = service_.add_policy(caller, spec);
    return reply_record(message, jit::PolicyView{std::move(policy), {}}, append_policy);
}

MessagePtr BusAdaptor::assign_policy(sd_bus_message* message, const jit::Caller& caller) {
    std::string policy = read_string(message);
    std::string resource = read_string(message);
    service_.assign_policy(caller, policy, resource);
    return new_reply(message);
}

MessagePtr BusAdaptor::set_policy_active(sd_bus_message* message, const jit::Caller& caller) {
    std::string policy = read_string(message);
    bool active = read_bool(message);
    service_.set_policy_active(caller, policy, active);
    return new_reply(message);
}

MessagePtr BusAdaptor::remove_policy(sd_bus_message* message, const jit::Caller& caller) {
    service_.remove_policy(caller, read_string(message));
    return new_reply(message);
}

MessagePtr BusAdaptor::list_policies(sd_bus_message* message, const jit::Caller& caller) {
    return reply_records(message, service_.list_policies(caller), append_policy);
}

MessagePtr BusAdaptor::get_policy(sd_bus_message* message, const jit::Caller& caller) {
    return reply_record(message, service_.get_policy(caller, read_string(message)), append_policy);
}

MessagePtr BusAdaptor::create_request(sd_bus_message* message, const jit::Caller& caller) {
    std::string resource = read_string(message);
    std::string reason = read_string(message);
    jit::Seconds duration = read_i64(message);
    return reply_record(message, service_.create_request(caller, resource, reason, duration),
                        append_request);
}

MessagePtr BusAdaptor::get_request(sd_bus_message* message, const jit::Caller& caller) {
    return reply_record(message, service_.get_request(caller, read_i64(message)), append_request);
}

MessagePtr BusAdaptor::list_requests(sd_bus_message* message, const jit::Caller& caller) {
    bool all = read_bool(message);
    std::string state_text = read_string(message);
    std::optional<jit::RequestState> state;
    if (!state_text.empty()) {
        state = jit::parse_request_state(state_text);
    }
    return reply_records(message, service_.list_requests(caller, all, state), append_request);
}

MessagePtr BusAdaptor::list_approvals(sd_bus_message* message, const jit::Caller& caller) {
    return reply_records(message, service_.approvals(caller), append_request);
}

MessagePtr BusAdaptor::decide(sd_bus_message* message, const jit::Caller& caller,
                              jit::Decision decision) {
    jit::Id id = read_i64(message);
    std::string comment = read_string(message);
    return reply_record(message, service_.decide(caller, id, decision, comment), append_request);
}

MessagePtr BusAdaptor::approve(sd_bus_message* message, const jit::Caller& caller) {
    return decide(message, caller, jit::Decision::Approve);
}

MessagePtr BusAdaptor::deny(sd_bus_message* message, const jit::Caller& caller) {
    return decide(message, caller, jit::Decision::Deny);
}

MessagePtr BusAdaptor::cancel(sd_bus_message* message, const jit::Caller& caller) {
    return reply_record(message, service_.cancel(caller, read_i64(message)), append_request);
}

MessagePtr BusAdaptor::list_grants(sd_bus_message* message, const jit::Caller& caller) {
    bool all = read_bool(message);
    std::string user = read_string(message);
    std::string resource = read_string(message);
    return reply_records(message, service_.list_grants(caller, all, user, resource), append_grant);
}

MessagePtr BusAdaptor::get_grant(sd_bus_message* message, const jit::Caller& caller) {
    return reply_record(message, service_.get_grant(caller, read_i64(message)), append_grant);
}

MessagePtr BusAdaptor::revoke(sd_bus_message* message, const jit::Caller& caller) {
    jit::Id id = read_i64(message);
    std::string reason = read_string(message);
    return reply_record(message, service_.revoke(caller, id, reason), append_grant);
}

MessagePtr BusAdaptor::list_sessions(sd_bus_message* message, const jit::Caller& caller) {
    return reply_records(message, service_.list_sessions(caller, read_bool(message)),
                         append_session);
}

MessagePtr BusAdaptor::query_audit(sd_bus_message* message, const jit::Caller& caller) {
    jit::AuditFilter filter;
    std::int64_t since = read_i64(message);
    std::int64_t until = read_i64(message);
    if (since != 0) {  // 0: unbounded (XML contract)
        filter.since = since;
    }
    if (until != 0) {
        filter.until = until;
    }
    filter.user = read_string(message);
    filter.resource = read_string(message);
    filter.event = read_string(message);
    std::int64_t after_seq = read_i64(message);
    std::int64_t limit = read_i64(message);
    if (after_seq < 0 || limit < 0) {
        throw jit::JitError(jit::ErrorCode::InvalidInput,
                            "after_seq and limit must not be negative");
    }
    filter.after_seq = after_seq;
    filter.limit = static_cast<std::size_t>(limit);  // 0 or too many: jitd's page size
    return reply_records(message, service_.audit(caller, filter), append_audit_event);
}

MessagePtr BusAdaptor::verify_audit(sd_bus_message* message, const jit::Caller& caller) {
    const JournalAuditReader journal;
    jit::AuditVerification result = service_.verify_audit(caller, journal);
    MessagePtr reply = new_reply(message);
    check_sd_bus(
        sd_bus_message_append(reply.get(), "bxxssbxxx", result.ok ? 1 : 0, result.rows_checked,
                              result.first_bad_seq, result.problem.c_str(), result.chain.c_str(),
                              result.journal_compared ? 1 : 0, result.journal_events,
                              result.rows_in_journal, result.other_chain_events),
        "append verification");
    return reply;
}

MessagePtr BusAdaptor::add_key(sd_bus_message* message, const jit::Caller& caller) {
    std::string key = read_string(message);
    std::string user = read_string(message);
    return reply_record(message, service_.add_key(caller, key, user), append_key);
}

MessagePtr BusAdaptor::list_keys(sd_bus_message* message, const jit::Caller& caller) {
    return reply_records(message, service_.list_keys(caller, read_string(message)), append_key);
}

MessagePtr BusAdaptor::remove_key(sd_bus_message* message, const jit::Caller& caller) {
    return reply_record(message, service_.remove_key(caller, read_string(message)), append_key);
}

// --- io.jitd.Jit1.Pam ---

MessagePtr BusAdaptor::check_login(sd_bus_message* message, const jit::Caller& caller) {
    jit::LoginAttempt attempt = read_login_attempt(message);
    jit::LoginDecision decision = service_.check_login(caller, attempt);
    MessagePtr reply = new_reply(message);
    append_login_decision(reply.get(), decision);
    return reply;
}

MessagePtr BusAdaptor::open_session(sd_bus_message* message, const jit::Caller& caller) {
    jit::LoginAttempt attempt = read_login_attempt(message);
    std::int64_t pid = read_i64(message);
    std::string logind_session = read_string(message);
    attempt.ssh_key = read_string(message);
    // What identifies the process beyond its pid, read now while it runs PAM: jitd never
    // signals a later process that got the same pid.
    std::int64_t pid_start = 0;
    if (pid > 0 && pid <= INT32_MAX) {
        if (auto stat = read_proc_stat(static_cast<pid_t>(pid))) {
            pid_start = static_cast<std::int64_t>(stat->start_time);
        }
    }
    jit::SessionOpen opened =
        service_.open_session(caller, attempt, pid, logind_session, pid_start);
    MessagePtr reply = new_reply(message);
    append_login_decision(reply.get(), opened.decision);
    check_sd_bus(sd_bus_message_append(reply.get(), "x", opened.session_id), "append session");
    return reply;
}

MessagePtr BusAdaptor::close_session(sd_bus_message* message, const jit::Caller& caller) {
    service_.close_session(caller, read_i64(message));
    return new_reply(message);
}

// --- signals ---

namespace {

void log_emit_failure(int r, const char* signal) {
    if (r < 0) {
        spdlog::warn("cannot emit {}: {}", signal, std::strerror(-r));
    }
}

}  // namespace

void BusAdaptor::emit_request_created(const jit::Request& request) {
    log_emit_failure(sd_bus_emit_signal(bus_, jit::bus::kObjectPath, jit::bus::kManagerInterface,
                                        "RequestCreated", "x", request.id),
                     "RequestCreated");
}

void BusAdaptor::emit_request_decided(const jit::Request& request) {
    std::string state(jit::to_string(request.state));
    log_emit_failure(sd_bus_emit_signal(bus_, jit::bus::kObjectPath, jit::bus::kManagerInterface,
                                        "RequestDecided", "xs", request.id, state.c_str()),
                     "RequestDecided");
}

void BusAdaptor::emit_grant_started(const jit::Grant& grant) {
    log_emit_failure(sd_bus_emit_signal(bus_, jit::bus::kObjectPath, jit::bus::kManagerInterface,
                                        "GrantStarted", "xx", grant.id, grant.request_id),
                     "GrantStarted");
}

void BusAdaptor::emit_grant_ended(const jit::Grant& grant) {
    std::string state(jit::to_string(grant.state));
    log_emit_failure(sd_bus_emit_signal(bus_, jit::bus::kObjectPath, jit::bus::kManagerInterface,
                                        "GrantEnded", "xs", grant.id, state.c_str()),
                     "GrantEnded");
}

}  // namespace jitd
