// SPDX-License-Identifier: Apache-2.0
// jitd's bus argument reading: each input is a short session of method calls on the Manager
// and Pam interfaces, by callers of every role, with arguments decoded from the input bytes
// (mostly in the method's signature, now and then in any other, which sd-bus's own signature
// check would refuse before a handler runs). The handlers run over a JitService on the
// in-memory test store. A call may be refused with a domain error; it must never fail
// internally, throw anything else, or build a reply that cannot be sent.
#include <fuzzer/FuzzedDataProvider.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cstdint>
#include <stdexcept>

#include "bus_adaptor.hpp"
#include "bus_records.hpp"
#include "fakes.hpp"
#include "fuzz_support.hpp"
#include "jit/bus_names.hpp"
#include "jit/spool.hpp"

namespace jitd {

// A friend of BusAdaptor: calls its handlers without the bus dispatch and caller lookup.
class BusAdaptorFuzzer {
  public:
    struct Method {
        const char* interface;
        const char* member;
        const char* signature;  // "as" is one argument
        BusAdaptor::Handler handler;
    };

    // A method of the contract (jit/bus_contract.hpp) and the handler the fuzzer calls for it.
    static Method of(const jit::bus::Member& member, BusAdaptor::Handler handler) {
        return {member.interface, member.name, member.in, handler};
    }

    static const std::vector<Method>& methods();

    // The signature jitd's vtable declares for a method: the table above must follow it.
    static std::string declared_signature(const char* member) {
        for (const sd_bus_vtable* table : {BusAdaptor::kManagerVtable, BusAdaptor::kPamVtable}) {
            for (const sd_bus_vtable* entry = table; entry->type != _SD_BUS_VTABLE_END; ++entry) {
                if (entry->type == _SD_BUS_VTABLE_METHOD &&
                    std::string_view(entry->x.method.member) == member) {
                    return entry->x.method.signature;
                }
            }
        }
        return "(no such method)";
    }
};

const std::vector<BusAdaptorFuzzer::Method>& BusAdaptorFuzzer::methods() {
    namespace manager = jit::bus::manager;
    namespace pam = jit::bus::pam;
    // Most methods are one call of the service (BusAdaptor::serve<method>); their handlers are
    // the specializations bus_adaptor.cpp instantiates for its vtables.
    static const std::vector<Method> kMethods = {
        of(manager::kGetStatus, &BusAdaptor::get_status),
        of(manager::kAddResource, &BusAdaptor::add_resource),
        of(manager::kRemoveResource, &BusAdaptor::serve<&jit::JitService::remove_resource>),
        of(manager::kAddResourceMember, &BusAdaptor::serve<&jit::JitService::add_member>),
        of(manager::kRemoveResourceMember, &BusAdaptor::serve<&jit::JitService::remove_member>),
        of(manager::kListResources, &BusAdaptor::serve<&jit::JitService::list_resources>),
        of(manager::kGetResource, &BusAdaptor::serve<&jit::JitService::get_resource>),
        of(manager::kAddPolicy, &BusAdaptor::add_policy),
        of(manager::kAssignPolicy, &BusAdaptor::serve<&jit::JitService::assign_policy>),
        of(manager::kSetPolicyActive, &BusAdaptor::serve<&jit::JitService::set_policy_active>),
        of(manager::kRemovePolicy, &BusAdaptor::serve<&jit::JitService::remove_policy>),
        of(manager::kListPolicies, &BusAdaptor::serve<&jit::JitService::list_policies>),
        of(manager::kGetPolicy, &BusAdaptor::serve<&jit::JitService::get_policy>),
        of(manager::kCreateRequest, &BusAdaptor::create_request),
        of(manager::kGetRequest, &BusAdaptor::serve<&jit::JitService::get_request>),
        of(manager::kListRequests, &BusAdaptor::list_requests),
        of(manager::kListApprovals, &BusAdaptor::serve<&jit::JitService::approvals>),
        of(manager::kApprove, &BusAdaptor::approve),
        of(manager::kDeny, &BusAdaptor::deny),
        of(manager::kCancel, &BusAdaptor::serve<&jit::JitService::cancel>),
        of(manager::kListGrants, &BusAdaptor::serve<&jit::JitService::list_grants>),
        of(manager::kGetGrant, &BusAdaptor::serve<&jit::JitService::get_grant>),
        of(manager::kGetGrantReview, &BusAdaptor::get_grant_review),
        of(manager::kRevoke, &BusAdaptor::serve<&jit::JitService::revoke>),
        of(manager::kExtendGrant, &BusAdaptor::serve<&jit::JitService::extend_grant>),
        of(manager::kListSessions, &BusAdaptor::serve<&jit::JitService::list_sessions>),
        of(manager::kQueryAudit, &BusAdaptor::query_audit),
        of(manager::kVerifyAudit, &BusAdaptor::verify_audit),
        of(manager::kAddKey, &BusAdaptor::serve<&jit::JitService::add_key>),
        of(manager::kListKeys, &BusAdaptor::serve<&jit::JitService::list_keys>),
        of(manager::kRemoveKey, &BusAdaptor::serve<&jit::JitService::remove_key>),
        of(manager::kApplyConfiguration, &BusAdaptor::apply_configuration),
        of(pam::kCheckLogin, &BusAdaptor::check_login),
        of(pam::kOpenSession, &BusAdaptor::open_session),
        of(pam::kCloseSession, &BusAdaptor::serve<&jit::JitService::close_session>),
    };
    return kMethods;
}

}  // namespace jitd

namespace {

using jit::fuzz::require;
using Method = jitd::BusAdaptorFuzzer::Method;

// Names that make calls meet each other's objects more often than random bytes would.
constexpr const char* kWords[] = {
    "ssh-prod",
    "db",
    "sshd",
    "sudo",
    "su",
    "login",
    "root",
    "*",
    "postgres",
    "alice",
    "bob",
    "carol",
    "mallory",
    "@ops",
    "@approvers",
    "@jit-admin",
    "two-person",
    "auto",
    "require-approval",
    "auto-approve",
    "pending",
    "approved",
    "denied",
    "cancelled",
    "expired",
    "active",
    "revoked",
    "request_created",
    "grant_started",
    "deploy the hotfix",
    "",
    "pts/0",
    "10.0.0.1",
    "c1",
    "ä\u202eevil",
    "line\nbreak",
    "1h",
    "2026-11-26T14:05:00Z",
};

constexpr std::uint32_t kUids[] = {0, 1001, 1003, 1004, 1006, 65534, 4294967295U};

constexpr std::int64_t kNumbers[] = {
    0,    1,     2,       3,         4,         5,    -1,    60,
    3600, 86400, 2592000, INT64_MAX, INT64_MIN, 1000, 99999, 1'800'000'000};

struct Person {
    uid_t uid;
    const char* name;
    std::vector<std::string> groups;
};

const std::vector<Person> kPeople = {
    {0, "root", {"root"}},
    {1001, "jitadmin", {"jitadmin", "jit-admin"}},
    {1002, "jitaudit", {"jitaudit", "jit-audit"}},
    {1003, "alice", {"alice", "ops"}},
    {1004, "bob", {"bob", "ops"}},
    {1005, "carol", {"carol", "approvers"}},
    {1006, "mallory", {"mallory"}},
};

// Who calls: each account above, and root reached by sudo from alice's and jitadmin's logins
// (a caller with a login uid), built the way jitd builds callers.
constexpr std::pair<uid_t, uid_t> kCallers[] = {
    {0, jit::kUnsetLoginUid},
    {1001, jit::kUnsetLoginUid},
    {1002, jit::kUnsetLoginUid},
    {1003, jit::kUnsetLoginUid},
    {1004, jit::kUnsetLoginUid},
    {1005, jit::kUnsetLoginUid},
    {1006, jit::kUnsetLoginUid},
    {0, 1003},
    {0, 1001},
    {1003, 1004},
};

// One bus end to create messages on; never used to send. sd-bus only makes messages for a
// started connection, so this is one end of a socket pair.
sd_bus* message_factory() {
    static sd_bus* bus = [] {
        int fds[2];
        sd_bus* raw = nullptr;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0 || sd_bus_new(&raw) < 0 ||
            sd_bus_set_fd(raw, fds[0], fds[0]) < 0 || sd_bus_start(raw) < 0) {
            throw std::runtime_error("cannot start a bus end");
        }
        return raw;
    }();
    return bus;
}

std::string any_string(FuzzedDataProvider& input) {
    if (input.ConsumeBool()) {
        return input.PickValueInArray(kWords);
    }
    return input.ConsumeRandomLengthString(80);
}

// A D-Bus string is valid UTF-8 without NUL (the daemon refuses anything else); keep control
// characters, which a client may send.
void append_string(sd_bus_message* message, const std::string& value) {
    if (sd_bus_message_append_basic(message, 's', value.c_str()) >= 0) {
        return;
    }
    std::string ascii = value;
    for (char& c : ascii) {
        c = static_cast<unsigned char>(c) < 0x80 ? c : '?';
    }
    jitd::check_sd_bus(sd_bus_message_append_basic(message, 's', ascii.c_str()), "append");
}

std::int64_t any_number(FuzzedDataProvider& input) {
    return input.ConsumeBool() ? input.PickValueInArray(kNumbers)
                               : input.ConsumeIntegral<std::int64_t>();
}

void append_argument(sd_bus_message* message, char type, FuzzedDataProvider& input) {
    switch (type) {
        case 's':
            append_string(message, any_string(input));
            return;
        case 'x': {
            const std::int64_t value = any_number(input);
            jitd::check_sd_bus(sd_bus_message_append_basic(message, 'x', &value), "append");
            return;
        }
        case 'u': {
            const std::uint32_t value = input.ConsumeBool()
                                            ? input.PickValueInArray(kUids)
                                            : input.ConsumeIntegral<std::uint32_t>();
            jitd::check_sd_bus(sd_bus_message_append_basic(message, 'u', &value), "append");
            return;
        }
        case 'i': {
            const auto value = static_cast<std::int32_t>(input.ConsumeIntegralInRange(-2, 5));
            jitd::check_sd_bus(sd_bus_message_append_basic(message, 'i', &value), "append");
            return;
        }
        case 'b': {
            const int value = input.ConsumeBool() ? 1 : 0;
            jitd::check_sd_bus(sd_bus_message_append_basic(message, 'b', &value), "append");
            return;
        }
        default: {  // 'a': a string list
            jitd::check_sd_bus(sd_bus_message_open_container(message, 'a', "s"), "append");
            for (int n = input.ConsumeIntegralInRange(0, 4); n > 0; --n) {
                append_string(message, any_string(input));
            }
            jitd::check_sd_bus(sd_bus_message_close_container(message), "append");
        }
    }
}

// The method's own signature ("as" counts as 'a'), or now and then another one.
std::string argument_types(const Method& method, FuzzedDataProvider& input, bool& own) {
    std::string types;
    for (const char* p = method.signature; *p != '\0'; ++p) {
        types += *p;
        if (*p == 'a') {
            ++p;  // the 's' of "as"
        }
    }
    own = input.ConsumeIntegralInRange(0, 15) != 0;
    if (own) {
        return types;
    }
    std::string other;
    for (int n = input.ConsumeIntegralInRange(0, 6); n > 0; --n) {
        other += input.PickValueInArray({'s', 'x', 'u', 'i', 'b', 'a'});
    }
    return other;
}

jitd::MessagePtr build_call(const Method& method, const std::string& types,
                            FuzzedDataProvider& input) {
    static std::uint64_t cookie = 0;
    sd_bus_message* raw = nullptr;
    jitd::check_sd_bus(
        sd_bus_message_new_method_call(message_factory(), &raw, jit::bus::kServiceName,
                                       jit::bus::kObjectPath, method.interface, method.member),
        "new call");
    jitd::MessagePtr call(raw);
    for (char type : types) {
        append_argument(call.get(), type, input);
    }
    jitd::check_sd_bus(sd_bus_message_seal(call.get(), ++cookie, 0), "seal call");
    jitd::check_sd_bus(sd_bus_message_rewind(call.get(), 1), "rewind call");
    return call;
}

struct Engine {
    jit::testing::FakeStore store;
    jit::testing::FakeClock clock;
    jit::testing::FakeIdentity identity;
    jit::testing::RecordingEffects effects;
    jit::JitService service{store, jit::Config{}, identity, clock, effects};
    jitd::BusAdaptor adaptor{message_factory(), service, identity, [] {}};

    Engine() {
        for (const auto& person : kPeople) {
            identity.users[person.uid] = person.name;
            identity.groups[person.name] = person.groups;
        }
        service.start();
        add_starting_state();
    }

    // Two resources under two policies, a pending request and an active grant, so that short
    // inputs already reach approvals, sessions under grants and their expiry.
    void add_starting_state() {
        const jit::Caller root = jit::testing::make_caller(0, "root", {"root"});
        service.add_resource(
            root, {"ssh-prod", "", {"sshd", "sudo"}, {"root", "postgres"}, {"carol"}, ""});
        service.add_resource(root, {"db", "", {"sshd", "su"}, {"*"}, {}, ""});
        jit::NewPolicy policy;
        policy.name = "two-person";
        policy.approvers = {"@approvers", "jitadmin"};
        service.add_policy(root, policy);
        policy.name = "auto";
        policy.action = jit::PolicyAction::AutoApprove;
        policy.approvers = {};
        service.add_policy(root, policy);
        service.assign_policy(root, "two-person", "ssh-prod");
        service.assign_policy(root, "auto", "db");
        service.set_policy_active(root, "two-person", true);
        service.set_policy_active(root, "auto", true);
        const jit::Caller alice = jit::testing::make_caller(1003, "alice", {"alice", "ops"});
        const jit::Caller bob = jit::testing::make_caller(1004, "bob", {"bob", "ops"});
        service.create_request(alice, "ssh-prod", "deploy the hotfix", 3600);
        service.create_request(bob, "db", "fix the replica", 7200);
    }
};

void call_method(Engine& engine, FuzzedDataProvider& input) {
    const auto& methods = jitd::BusAdaptorFuzzer::methods();
    const Method& method =
        methods[input.ConsumeIntegralInRange<std::size_t>(0, methods.size() - 1)];
    const auto [uid, login_uid] = input.PickValueInArray(kCallers);
    const jit::Caller caller = jit::caller_from_uid(uid, engine.identity, login_uid);
    bool own_signature = true;
    const std::string types = argument_types(method, input, own_signature);
    jitd::MessagePtr call = build_call(method, types, input);
    try {
        jitd::MessagePtr reply = (engine.adaptor.*method.handler)(call.get(), caller);
        require(reply != nullptr, std::string(method.member) + " built no reply");
        require(sd_bus_message_seal(reply.get(), 1, 0) >= 0,
                std::string(method.member) + " built a reply that cannot be sealed");
    } catch (const jit::JitError& error) {
        require(error.code() != jit::ErrorCode::Internal,
                std::string(method.member) + " failed internally: " + error.what());
        // The caller reads it and jitd logs it: one line, whatever the arguments held.
        require(
            jit::is_printable_text(error.what()),
            std::string(method.member) + " refused with an unprintable message: " + error.what());
    } catch (const jitd::SdBusFailure& error) {
        require(!own_signature, std::string(method.member) +
                                    " failed on arguments of its own signature: " + error.what());
    }
}

// jitd's other ways in: time passing, and a spooled fallback line.
void other_event(Engine& engine, FuzzedDataProvider& input) {
    if (input.ConsumeBool()) {
        engine.clock.t += input.ConsumeIntegralInRange<jit::Seconds>(0, 40 * 86400);
        engine.service.tick();
        return;
    }
    jit::FallbackLogin login;
    login.outcome = input.PickValueInArray({"allowed", "denied", "open", "unavailable", "exempt"});
    login.when = engine.clock.t - input.ConsumeIntegralInRange<jit::Seconds>(-10, 86400);
    login.attempt.service = any_string(input);
    login.attempt.user = any_string(input);
    login.attempt.ruser = any_string(input);
    login.attempt.rhost = any_string(input);
    login.attempt.tty = any_string(input);
    login.pid = input.ConsumeIntegralInRange<std::int64_t>(0, 5);
    login.grant_id = input.ConsumeIntegralInRange<jit::Id>(0, 5);
    login.logind_session = any_string(input);
    std::string line = jit::format_fallback_line(login);
    line.pop_back();  // the newline
    try {
        engine.service.record_fallback(jit::parse_fallback_line(line));
    } catch (const jit::JitError& error) {
        require(error.code() != jit::ErrorCode::Internal,
                std::string("record_fallback failed internally: ") + error.what());
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    spdlog::set_level(spdlog::level::off);
    const auto& methods = jitd::BusAdaptorFuzzer::methods();
    require(methods.size() ==
                std::size(jit::bus::manager::kMethods) + std::size(jit::bus::pam::kMethods),
            "the fuzzer does not call every method of the contract: update "
            "fuzz/bus_adaptor_fuzzer.cpp");
    for (const auto& method : methods) {
        require(jitd::BusAdaptorFuzzer::declared_signature(method.member) == method.signature,
                std::string("the fuzzer's signature of ") + method.member +
                    " is not the vtable's: update fuzz/bus_adaptor_fuzzer.cpp");
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider input(data, size);
    Engine engine;
    for (int calls = 0; calls < 32 && input.remaining_bytes() > 0; ++calls) {
        if (input.ConsumeIntegralInRange(0, 7) == 0) {
            other_event(engine, input);
        } else {
            call_method(engine, input);
        }
    }
    return 0;
}
