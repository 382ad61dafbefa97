// SPDX-License-Identifier: Apache-2.0
#include "bus_adaptor.hpp"

#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <vector>

#include "bus_records.hpp"
#include "jit/authz.hpp"
#include "jit/bus_names.hpp"
#include "jit/error.hpp"
#include "journal_reader.hpp"
#include "peer_identity.hpp"
#include "process_tree.hpp"

namespace jitd {
namespace {

namespace manager = jit::bus::manager;
namespace pam = jit::bus::pam;
namespace keys = jit::bus::record;

// A basic argument read as `type` into a T; `what` says which when sd-bus refuses.
template <typename T>
T read_basic(sd_bus_message* message, char type, const char* what) {
    T value{};
    check_sd_bus(sd_bus_message_read_basic(message, type, &value), what);
    return value;
}

std::string read_string(sd_bus_message* message) {
    return read_basic<const char*>(message, 's', "read string argument");
}

std::int64_t read_i64(sd_bus_message* message) {
    return read_basic<std::int64_t>(message, 'x', "read int64 argument");
}

std::uint32_t read_u32(sd_bus_message* message) {
    return read_basic<std::uint32_t>(message, 'u', "read uint32 argument");
}

std::int32_t read_i32(sd_bus_message* message) {
    return read_basic<std::int32_t>(message, 'i', "read int32 argument");
}

bool read_bool(sd_bus_message* message) {
    return read_basic<int>(message, 'b', "read boolean argument") != 0;
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

// One argument of a call, by its C++ type: s, x, b.
template <typename T>
T read_arg(sd_bus_message* message) {
    if constexpr (std::is_same_v<T, std::string>) {
        return read_string(message);
    } else if constexpr (std::is_same_v<T, bool>) {
        return read_bool(message);
    } else {
        static_assert(std::is_same_v<T, std::int64_t>, "no such argument type in the contract");
        return read_i64(message);
    }
}

// The arguments a service method takes after the caller, as a tuple of values.
template <typename Method>
struct ServiceArgs;
template <typename R, typename... P>
struct ServiceArgs<R (jit::JitService::*)(const jit::Caller&, P...)> {
    using type = std::tuple<std::decay_t<P>...>;
};
template <typename R, typename... P>
struct ServiceArgs<R (jit::JitService::*)(const jit::Caller&, P...) const>
    : ServiceArgs<R (jit::JitService::*)(const jit::Caller&, P...)> {};

template <typename... T>
std::tuple<T...> read_args([[maybe_unused]] sd_bus_message* message,
                           std::type_identity<std::tuple<T...>>) {
    return std::tuple<T...>{read_arg<T>(message)...};  // braces: read in order
}

template <typename T>
constexpr bool kIsList = false;
template <typename T>
constexpr bool kIsList<std::vector<T>> = true;

jit::LoginAttempt read_login_attempt(sd_bus_message* message) {
    // Initializers run in order: the arguments' order in the contract.
    return jit::LoginAttempt{.service = read_string(message),
                             .user = read_string(message),
                             .ruser = read_string(message),
                             .rhost = read_string(message),
                             .tty = read_string(message),
                             .app_uid = read_u32(message),
                             .login_uid = read_u32(message)};
}

MessagePtr new_reply(sd_bus_message* call) {
    sd_bus_message* reply = nullptr;
    check_sd_bus(sd_bus_message_new_method_return(call, &reply), "create reply");
    return MessagePtr(reply);
}

// Writes any record that has an append_record().
constexpr auto kAppendRecord = [](sd_bus_message* message, const auto& record) {
    append_record(message, record);
};

template <typename Record>
MessagePtr reply_record(sd_bus_message* call, const Record& record) {
    MessagePtr reply = new_reply(call);
    append_record(reply.get(), record);
    return reply;
}

template <typename Record, typename Append>
MessagePtr reply_records(sd_bus_message* call, const std::vector<Record>& records, Append append) {
    MessagePtr reply = new_reply(call);
    append_records(reply.get(), records, append);
    return reply;
}

// verdict, resource, resources, grant_id, expiry (0: none), starts (0: none) — the common head
// of the PAM replies.
void append_login_decision(sd_bus_message* reply, const jit::LoginDecision& decision) {
    std::string verdict(jit::to_string(decision.verdict));
    check_sd_bus(sd_bus_message_append(reply, "ss", verdict.c_str(), decision.resource.c_str()),
                 "append verdict");
    append_strv(reply, decision.resources);
    check_sd_bus(sd_bus_message_append(reply, "xxx", decision.grant_id, decision.expiry.value_or(0),
                                       decision.starts.value_or(0)),
                 "append grant");
}

}  // namespace

// A method that is one service call: the call's arguments, read in order, follow the caller;
// the reply holds what the service returns (nothing, a record, or a list of records).
template <auto method>
MessagePtr BusAdaptor::serve(sd_bus_message* message, const jit::Caller& caller) {
    using Args = typename ServiceArgs<decltype(method)>::type;
    auto args = read_args(message, std::type_identity<Args>{});
    auto call = [&] {
        return std::apply([&](const auto&... arg) { return (service_.*method)(caller, arg...); },
                          args);
    };
    using Result = decltype(call());
    if constexpr (std::is_void_v<Result>) {
        call();
        return new_reply(message);
    } else if constexpr (kIsList<Result>) {
        return reply_records(message, call(), kAppendRecord);
    } else {
        return reply_record(message, call());
    }
}

// Every name, signature and argument name comes from the contract (jit/bus_contract.hpp,
// generated from dbus/io.jitd.Jit1.xml); the contract's names block holds the in and the out
// names, so the vtable's in-names argument stays empty.
#define JIT_METHOD(member, handler)                                              \
    SD_BUS_METHOD_WITH_NAMES(member.name, member.in, , member.out, member.names, \
                             &BusAdaptor::method<&BusAdaptor::handler>,          \
                             SD_BUS_VTABLE_UNPRIVILEGED)
// A method that is one call of the service's `method` (BusAdaptor::serve).
#define JIT_SERVE(member, method) JIT_METHOD(member, serve<&jit::JitService::method>)
#define JIT_SIGNAL(member) SD_BUS_SIGNAL_WITH_NAMES(member.name, member.out, member.names, 0)

const sd_bus_vtable BusAdaptor::kManagerVtable[] = {
    SD_BUS_VTABLE_START(0),
    JIT_METHOD(manager::kGetStatus, get_status),
    JIT_METHOD(manager::kAddResource, add_resource),
    JIT_SERVE(manager::kRemoveResource, remove_resource),
    JIT_SERVE(manager::kAddResourceMember, add_member),
    JIT_SERVE(manager::kRemoveResourceMember, remove_member),
    JIT_SERVE(manager::kListResources, list_resources),
    JIT_SERVE(manager::kGetResource, get_resource),
    JIT_METHOD(manager::kAddPolicy, add_policy),
    JIT_SERVE(manager::kAssignPolicy, assign_policy),
    JIT_SERVE(manager::kSetPolicyActive, set_policy_active),
    JIT_SERVE(manager::kRemovePolicy, remove_policy),
    JIT_SERVE(manager::kListPolicies, list_policies),
    JIT_SERVE(manager::kGetPolicy, get_policy),
    JIT_METHOD(manager::kCreateRequest, create_request),
    JIT_SERVE(manager::kGetRequest, get_request),
    JIT_METHOD(manager::kListRequests, list_requests),
    JIT_SERVE(manager::kListApprovals, approvals),
    JIT_METHOD(manager::kApprove, approve),
    JIT_METHOD(manager::kDeny, deny),
    JIT_SERVE(manager::kCancel, cancel),
    JIT_SERVE(manager::kListGrants, list_grants),
    JIT_SERVE(manager::kGetGrant, get_grant),
    JIT_METHOD(manager::kGetGrantReview, get_grant_review),
    JIT_SERVE(manager::kRevoke, revoke),
    JIT_SERVE(manager::kExtendGrant, extend_grant),
    JIT_SERVE(manager::kListSessions, list_sessions),
    JIT_SERVE(manager::kAddKey, add_key),
    JIT_SERVE(manager::kListKeys, list_keys),
    JIT_SERVE(manager::kRemoveKey, remove_key),
    JIT_METHOD(manager::kApplyConfiguration, apply_configuration),
    JIT_METHOD(manager::kQueryAudit, query_audit),
    JIT_METHOD(manager::kVerifyAudit, verify_audit),
    // Any local user may listen: signals carry ids and states, never names or resources.
    JIT_SIGNAL(manager::kRequestCreated),
    JIT_SIGNAL(manager::kRequestDecided),
    JIT_SIGNAL(manager::kGrantStarted),
    JIT_SIGNAL(manager::kGrantEnded),
    SD_BUS_VTABLE_END,
};

const sd_bus_vtable BusAdaptor::kPamVtable[] = {
    SD_BUS_VTABLE_START(0),
    JIT_METHOD(pam::kCheckLogin, check_login),
    JIT_METHOD(pam::kOpenSession, open_session),
    JIT_SERVE(pam::kCloseSession, close_session),
    SD_BUS_VTABLE_END,
};

#undef JIT_SIGNAL
#undef JIT_SERVE
#undef JIT_METHOD

BusAdaptor::BusAdaptor(sd_bus* bus, jit::JitService& service, const jit::IdentityResolver& identity,
                       std::function<void()> before_reply, ReplySender send_reply)
    : bus_(bus),
      service_(service),
      identity_(identity),
      before_reply_(std::move(before_reply)),
      send_reply_(std::move(send_reply)) {}

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

// In a fleet, a change this host decided on from memory is refused when another host changed
// the store since this host last read its change feed (jit::StoreBehind): the feed is applied
// and the method runs again on what is now known, from its first argument. Nothing was written
// by the refused attempt, and a few attempts are enough unless every host writes at once.
MessagePtr BusAdaptor::call_following_store(sd_bus_message* message, const jit::Caller& caller,
                                            Handler handler) {
    constexpr int kAttempts = 5;
    for (int attempt = 1;; ++attempt) {
        try {
            return (this->*handler)(message, caller);
        } catch (const jit::StoreBehind&) {
            if (attempt == kAttempts) {
                throw;
            }
        }
        service_.follow_store();
        check_sd_bus(sd_bus_message_rewind(message, 1), "rewind the call");
    }
}

// The one place where a method's failure becomes a D-Bus error; no exception crosses into
// sd-bus.
int BusAdaptor::call(sd_bus_message* message, sd_bus_error* error, Handler handler) {
    const char* member = sd_bus_message_get_member(message);
    try {
        jit::Caller caller = caller_of(message);
        spdlog::debug("{} called by {} (uid {})", member, caller.name, caller.uid);
        MessagePtr reply = call_following_store(message, caller, handler);
        before_reply_();
        if (send_reply_) {
            send_reply_(std::move(reply));
            return 1;
        }
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
    const std::vector<std::string> roles = service_.roles_of(caller);
    auto count = [](auto n) { return static_cast<std::int64_t>(n); };
    DictWriter dict(reply.get());
    dict.put_all<keys::status::kKeys>(
        JITD_VERSION, caller.name, roles, count(status.resources), count(status.policies),
        count(status.pending_requests), count(status.active_grants), count(status.open_sessions),
        status.audit_seq, status.host, status.store, status.store_reachable, status.store_behind);
    dict.close();
    return reply;
}

MessagePtr BusAdaptor::add_resource(sd_bus_message* message, const jit::Caller& caller) {
    // Initializers run in order: the arguments' order in the contract.
    jit::Resource resource{.name = read_string(message),
                           .description = read_string(message),
                           .services = read_strv(message),
                           .accounts = read_strv(message),
                           .members = read_strv(message),
                           .policy = {},  // assigned later
                           .hosts = read_strv(message)};
    service_.add_resource(caller, std::move(resource));
    return new_reply(message);
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
    spec.reason_pattern = read_string(message);
    spec.reason_min_length = read_i32(message);
    jit::Policy policy = service_.add_policy(caller, spec);
    return reply_record(message, jit::PolicyView{std::move(policy), {}});
}

MessagePtr BusAdaptor::create_request(sd_bus_message* message, const jit::Caller& caller) {
    std::string resource = read_string(message);
    std::string reason = read_string(message);
    jit::Seconds duration = read_i64(message);
    std::int64_t start = read_i64(message);
    std::optional<jit::EpochSeconds> scheduled;
    if (start != 0) {  // 0: at approval (XML contract)
        scheduled = start;
    }
    return reply_record(message,
                        service_.create_request(caller, resource, reason, duration, scheduled));
}

MessagePtr BusAdaptor::list_requests(sd_bus_message* message, const jit::Caller& caller) {
    bool all = read_bool(message);
    std::string state_text = read_string(message);
    std::optional<jit::RequestState> state;
    if (!state_text.empty()) {
        state = jit::parse_request_state(state_text);
    }
    return reply_records(message, service_.list_requests(caller, all, state), kAppendRecord);
}

MessagePtr BusAdaptor::decide(sd_bus_message* message, const jit::Caller& caller,
                              jit::Decision decision) {
    jit::Id id = read_i64(message);
    std::string comment = read_string(message);
    return reply_record(message, service_.decide(caller, id, decision, comment));
}

MessagePtr BusAdaptor::approve(sd_bus_message* message, const jit::Caller& caller) {
    return decide(message, caller, jit::Decision::Approve);
}

MessagePtr BusAdaptor::deny(sd_bus_message* message, const jit::Caller& caller) {
    return decide(message, caller, jit::Decision::Deny);
}

MessagePtr BusAdaptor::get_grant_review(sd_bus_message* message, const jit::Caller& caller) {
    const jit::Id id = read_i64(message);
    MessagePtr reply = new_reply(message);
    append_record(reply.get(), ReviewRecord{id, service_.get_review(caller, id)});
    return reply;
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
    check_sd_bus(sd_bus_message_append(reply.get(), manager::kVerifyAudit.out, result.ok ? 1 : 0,
                                       result.rows_checked, result.first_bad_seq,
                                       result.problem.c_str(), result.chain.c_str(),
                                       result.journal_compared ? 1 : 0, result.journal_events,
                                       result.rows_in_journal, result.other_chain_events),
                 "append verification");
    return reply;
}

MessagePtr BusAdaptor::apply_configuration(sd_bus_message* message, const jit::Caller& caller) {
    std::vector<std::string> names = read_strv(message);
    std::vector<std::string> texts = read_strv(message);
    bool prune = read_bool(message);
    bool dry_run = read_bool(message);
    if (names.size() != texts.size()) {
        throw jit::JitError(jit::ErrorCode::InvalidInput,
                            "give one name for every policy file's contents");
    }
    std::vector<jit::PolicySource> files;
    for (std::size_t i = 0; i < names.size(); ++i) {
        files.push_back({std::move(names[i]), std::move(texts[i])});
    }
    return reply_records(message, service_.apply_configuration(caller, files, prune, dry_run),
                         kAppendRecord);
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

// --- signals ---

namespace {

template <typename... Args>
void emit_signal(sd_bus* bus, const jit::bus::Member& signal, Args... args) {
    const int r = sd_bus_emit_signal(bus, jit::bus::kObjectPath, signal.interface, signal.name,
                                     signal.out, args...);
    if (r < 0) {
        spdlog::warn("cannot emit {}: {}", signal.name, std::strerror(-r));
    }
}

}  // namespace

void BusAdaptor::emit_request_created(const jit::Request& request) {
    emit_signal(bus_, manager::kRequestCreated, request.id);
}

void BusAdaptor::emit_request_decided(const jit::Request& request) {
    std::string state(jit::to_string(request.state));
    emit_signal(bus_, manager::kRequestDecided, request.id, state.c_str());
}

void BusAdaptor::emit_grant_started(const jit::Grant& grant) {
    emit_signal(bus_, manager::kGrantStarted, grant.id, grant.request_id);
}

void BusAdaptor::emit_grant_ended(const jit::Grant& grant) {
    std::string state(jit::to_string(grant.state));
    emit_signal(bus_, manager::kGrantEnded, grant.id, state.c_str());
}

}  // namespace jitd
