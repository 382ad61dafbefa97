// SPDX-License-Identifier: Apache-2.0
#include "commands.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <ctime>
#include <iostream>
#include <limits>

#include "bus_client.hpp"
#include "command_output.hpp"
#include "exit_status.hpp"
#include "jit/access.hpp"
#include "jit/hosts.hpp"
#include "jit/model.hpp"
#include "jit/presets.hpp"
#include "jit/reason_rules.hpp"
#include "jit/time.hpp"
#include "jit/validate.hpp"
#include "output.hpp"
#include "record.hpp"

namespace jitctl {
namespace {

// User input echoed in an error stays one line and cannot drive the terminal.
std::string quoted(const std::string& text) {
    return "'" + printable(text) + "'";
}

// Request and grant ids are positive int64; anything else is the caller's mistake (65).
jit::Id parse_id(const char* what, const std::string& text) {
    jit::Id id = 0;
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, id);
    if (text.empty() || text[0] < '0' || text[0] > '9' || error != std::errc{} || stop != end ||
        id <= 0) {
        throw CommandError(kExitInvalidInput, std::string("invalid ") + what + " id " +
                                                  quoted(text) + ": expected a positive integer");
    }
    return id;
}

std::int32_t parse_approvals(const std::string& text) {
    std::int32_t count = 0;
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, count);
    if (text.empty() || text[0] < '0' || text[0] > '9' || error != std::errc{} || stop != end ||
        count <= 0) {
        throw CommandError(kExitInvalidInput, "invalid --approvals " + quoted(text) +
                                                  ": expected a positive number of approvers");
    }
    return count;
}

void call_void(BusClient& bus, const MethodCall& call) {
    bus.call(call);
}

// What jitctl does alike for resources and policies: objects by name that jitd lists, shows and
// removes.
struct NamedKind {
    const char* noun;   // "resource", as validation names it
    const char* title;  // "Resource NAME removed."
    RecordKind kind;
    const jit::bus::Member& list;
    const jit::bus::Member& get;
    const jit::bus::Member& remove;
    void (*show_list)(const Json& records);
    void (*show_one)(const Json& record);
};

constexpr NamedKind kResources{"resource",          "Resource",        RecordKind::Resource,
                               api::kListResources, api::kGetResource, api::kRemoveResource,
                               print_resources,     print_resource};
constexpr NamedKind kPolicies{"policy",           "Policy",        RecordKind::Policy,
                              api::kListPolicies, api::kGetPolicy, api::kRemovePolicy,
                              print_policies,     print_policy};

Json get_named(BusClient& bus, const NamedKind& kind, const std::string& name) {
    return fetch(bus, bus.method(kind.get).add_string(name));
}

// After a change jitd answers without a record: under --json the object as jitd now has it,
// otherwise `message` as a line.
int print_changed(const Globals& globals, BusClient& bus, const NamedKind& kind,
                  const std::string& name, const std::string& message) {
    return print_answer(
        globals, [&] { return to_spec_json(get_named(bus, kind, name), kind.kind); },
        [&] { std::cout << message << '\n'; });
}

const NamedKind& named(Named kind) {
    return kind == Named::Resource ? kResources : kPolicies;
}

std::string text_of(const Json& record, const char* key) {
    const auto it = record.find(key);
    return it != record.end() && it->is_string() ? it->get<std::string>() : "";
}

jit::Id id_of(const Json& record, const char* key) {
    const auto it = record.find(key);
    return it != record.end() && it->is_number_integer() ? it->get<jit::Id>() : 0;
}

// "grant 7 active until 2026-11-26 16:05:00 CET". An approver may not see grants; then the
// request's own duration says enough.
std::string grant_summary(BusClient& bus, const Json& request) {
    const jit::Id grant_id = id_of(request, "grant_id");
    if (grant_id <= 0) {
        return "no grant";
    }
    const std::string grant = "grant " + std::to_string(grant_id);
    try {
        const Json record = fetch(bus, bus.method(api::kGetGrant).add_int64(grant_id));
        const std::string until = show_local_time(record, "expiry", "revoked");
        if (text_of(record, "state") == "scheduled") {
            return grant + " scheduled from " + show_local_time(record, "start") + " until " +
                   until;
        }
        return grant + " active until " + until;
    } catch (const CommandError& error) {
        if (error.status() == kExitUnreachable) {
            throw;
        }
        return grant + " active for " + show_duration(request, "duration");
    }
}

// The last word of a decided request: "denied by bob: not now", "cancelled", ...
std::string decision_summary(const Json& request) {
    const std::string state = text_of(request, "state");
    std::string text = state;
    if (state == "denied") {
        for (const auto& approval : field(request, "approvals")) {
            if (field(approval, "decision") == "deny") {
                text += " by " + show_field(approval, "approver");
                const std::string comment = text_of(approval, "comment");
                if (!comment.empty()) {
                    text += ": " + printable(comment);
                }
            }
        }
    } else if (state == "expired") {
        text = "expired without a decision";
    }
    return text;
}

void print_request_outcome(BusClient& bus, const Json& request) {
    const jit::Id id = id_of(request, "id");
    if (text_of(request, "state") == "approved") {
        std::cout << "Request " << id << " approved; " << grant_summary(bus, request) << '\n';
    } else {
        std::cout << "Request " << id << " " << decision_summary(request) << ".\n";
    }
}

// The caller is told when the duration was capped. Under --json the record says so
// (capped, requested_duration, duration) and stderr stays free for errors.
void note_capping(const Json& request) {
    if (field(request, "capped") != true) {
        return;
    }
    std::cout << "Note: requested " << show_duration(request, "requested_duration")
              << ", capped to the policy maximum " << show_duration(request, "duration") << ".\n";
}

// What a new request came to, for humans: submitted (and capped?) or already decided.
void announce_request(BusClient& bus, const Json& request) {
    if (text_of(request, "state") == "pending") {
        const bool scheduled = request.contains("start") && !request["start"].is_null();
        const jit::Id extends = id_of(request, "extends");
        std::cout << "Request " << id_of(request, "id") << " submitted: "
                  << (extends > 0 ? "grant " + std::to_string(extends) + " on " : "")
                  << show_field(request, "resource") << (extends > 0 ? ", " : " for ")
                  << show_duration(request, "duration") << (extends > 0 ? " more" : "")
                  << (scheduled ? " from " + show_local_time(request, "start") : "")
                  << "; waiting for approval.\n";
    } else {
        print_request_outcome(bus, request);  // e.g. auto-approve
    }
    note_capping(request);
}

// Waits until jitd decides request id or the deadline passes; returns the request as jitd
// then has it. jitd's record, not the signal, is what counts: a signal the record does not
// bear out just means wait on.
Json wait_for_decision(BusClient& bus, RequestDecisionWatch& watch, jit::Id id,
                       std::optional<std::uint64_t> deadline) {
    std::cout.flush();  // the id is worth seeing while we wait
    for (;;) {
        const bool signalled = watch.wait(id, deadline).has_value();
        Json request = fetch(bus, bus.method(api::kGetRequest).add_int64(id));
        if (!signalled || text_of(request, "state") != "pending") {
            return request;
        }
    }
}

// request --wait's verdict: 0 when granted; otherwise one line on stderr and 1.
int report_wait(const Globals& globals, BusClient& bus, const Json& request, bool waited,
                const std::string& wait_limit) {
    const std::string state = text_of(request, "state");
    const std::string id = std::to_string(id_of(request, "id"));
    if (state == "approved") {
        if (waited && !globals.json) {
            print_request_outcome(bus, request);
        }
        return kExitOk;
    }
    if (state == "pending") {
        throw CommandError(kExitFailed, "gave up waiting after " + wait_limit + ": request " + id +
                                            " is still pending");
    }
    throw CommandError(kExitFailed, "request " + id + " " + decision_summary(request));
}

// --wait=DUR as microseconds; saturates instead of overflowing for absurd spans.
std::uint64_t wait_limit_usec(const std::string& text) {
    const auto seconds = static_cast<std::uint64_t>(jit::parse_duration(text));
    constexpr std::uint64_t kMaxSeconds = std::numeric_limits<std::uint64_t>::max() / 1'000'000;
    return std::min(seconds, kMaxSeconds) * 1'000'000;
}

}  // namespace

int cmd_status(const Globals& globals) {
    auto bus = BusClient::connect();
    const Json status = fetch(bus, bus.method(api::kGetStatus));
    return print_record(globals, status, RecordKind::Status, print_status);
}

int cmd_list(const Globals& globals, Named named_kind) {
    const NamedKind& kind = named(named_kind);
    auto bus = BusClient::connect();
    return print_list(globals, fetch(bus, bus.method(kind.list)), kind.kind, kind.show_list);
}

int cmd_show(const Globals& globals, Named named_kind, const std::string& name) {
    const NamedKind& kind = named(named_kind);
    jit::validate_object_name(kind.noun, name);
    auto bus = BusClient::connect();
    return print_record(globals, get_named(bus, kind, name), kind.kind, kind.show_one);
}

int cmd_remove(const Globals& globals, Named named_kind, const std::string& name) {
    const NamedKind& kind = named(named_kind);
    jit::validate_object_name(kind.noun, name);
    auto bus = BusClient::connect();
    call_void(bus, bus.method(kind.remove).add_string(name));
    if (globals.json) {
        print_json(Json{{"name", name}, {"removed", true}});
    } else {
        std::cout << kind.title << " " << name << " removed.\n";
    }
    return kExitOk;
}

namespace {

// The usual ways into another account on a Linux host, as PAM services.
constexpr const char* kKnownRoutes[] = {"sshd", "login",   "sudo",      "sudo-i", "su",
                                        "su-l", "runuser", "runuser-l", "pkexec"};

// A resource that names its services leaves the other routes into its accounts open: says
// which, on stderr, so that the admin decides rather than finds out.
void warn_unmanaged_routes(const std::vector<std::string>& services) {
    if (std::find(services.begin(), services.end(), "*") != services.end()) {
        return;
    }
    std::vector<std::string> covered;
    for (const auto& service : services) {
        for (auto& route : jit::service_routes(service)) {
            covered.push_back(std::move(route));
        }
    }
    std::string open;
    for (const char* route : kKnownRoutes) {
        if (std::find(covered.begin(), covered.end(), route) == covered.end()) {
            open += (open.empty() ? "" : ", ") + std::string(route);
        }
    }
    if (!open.empty()) {
        std::cerr << "jitctl: note: these routes into its accounts stay unmanaged: " << open
                  << " (--service '*' covers every route but jitd.conf unmanaged_services)\n";
    }
}

}  // namespace

int cmd_resource_add(const Globals& globals, const ResourceAddArgs& args) {
    jit::validate_object_name("resource", args.name);
    jit::validate_text("description", args.description, jit::kMaxDescriptionLength);
    for (const auto& service : args.services) {
        jit::validate_resource_service(service);
    }
    for (const auto& account : args.accounts) {
        jit::validate_account(account);
    }
    for (const auto& member : args.members) {
        jit::validate_principal(member);
    }
    for (const auto& host : args.hosts) {
        jit::validate_host_pattern(host);
    }
    auto bus = BusClient::connect();
    call_void(bus, bus.method(api::kAddResource)
                       .add_string(args.name)
                       .add_string(args.description)
                       .add_strings(args.services)
                       .add_strings(args.accounts)
                       .add_strings(args.members)
                       .add_strings(args.hosts));
    warn_unmanaged_routes(args.services);
    return print_changed(globals, bus, kResources, args.name,
                         "Resource " + args.name + " added: services " + show(Json(args.services)) +
                             "; accounts " + show(Json(args.accounts)) + "; standing members " +
                             show(Json(args.members)) + "; hosts " + show(Json(args.hosts)) + ".");
}

namespace {

// add-member and remove-member: the change, then what it came to.
int change_member(const Globals& globals, const jit::bus::Member& method, const std::string& name,
                  const std::string& member, const std::string& done) {
    jit::validate_object_name("resource", name);
    jit::validate_principal(member);
    auto bus = BusClient::connect();
    call_void(bus, bus.method(method).add_string(name).add_string(member));
    return print_changed(globals, bus, kResources, name, member + done + name + ".");
}

}  // namespace

int cmd_resource_add_member(const Globals& globals, const std::string& name,
                            const std::string& member) {
    return change_member(globals, api::kAddResourceMember, name, member,
                         " is now a standing member of ");
}

int cmd_resource_remove_member(const Globals& globals, const std::string& name,
                               const std::string& member) {
    return change_member(globals, api::kRemoveResourceMember, name, member,
                         " is no longer a standing member of ");
}

namespace {

// --reason-min-length N: a whole number 0..1024 (65 otherwise).
std::int32_t parse_reason_min_length(const std::string& text) {
    std::int32_t n = -1;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
        throw CommandError(kExitInvalidInput, "invalid --reason-min-length " + quoted(text) +
                                                  ": expected a whole number of characters");
    }
    jit::validate_reason_min_length(n);
    return n;
}

}  // namespace

int cmd_policy_add(const Globals& globals, const PolicyAddArgs& args) {
    jit::validate_object_name("policy", args.name);
    const jit::PolicyAction action = jit::parse_policy_action(args.action);
    for (const auto& approver : args.approvers) {
        jit::validate_principal(approver);
    }
    const std::int32_t approvals = parse_approvals(args.approvals);
    const jit::Preset* preset = args.preset ? &jit::find_preset(*args.preset) : nullptr;
    // An explicit --max-duration wins over the preset; 0 asks jitd for its default.
    const jit::Seconds max_duration = args.max_duration ? jit::parse_duration(*args.max_duration)
                                      : preset          ? preset->max_duration
                                                        : 0;
    const std::string description = args.description ? *args.description
                                    : preset         ? preset->description
                                                     : "";
    jit::validate_text("description", description, jit::kMaxDescriptionLength);
    const jit::Seconds request_ttl =
        args.request_ttl ? jit::parse_duration(*args.request_ttl) : jit::Policy{}.request_ttl;
    jit::validate_reason_pattern(args.reason_pattern);
    const std::int32_t reason_min_length = parse_reason_min_length(args.reason_min_length);

    auto bus = BusClient::connect();
    const Json policy = fetch(bus, bus.method(api::kAddPolicy)
                                       .add_string(args.name)
                                       .add_string(description)
                                       .add_string(std::string(jit::to_string(action)))
                                       .add_strings(args.approvers)
                                       .add_int32(approvals)
                                       .add_int64(max_duration)
                                       .add_bool(!args.no_auto_expiry)
                                       .add_int64(request_ttl)
                                       .add_string(args.reason_pattern)
                                       .add_int32(reason_min_length));
    if (args.no_auto_expiry) {
        std::cerr << "jitctl: warning: automatic expiry is off for policy " << args.name
                  << ": its grants last until they are revoked\n";
    }
    if (globals.json) {
        print_json(to_spec_json(policy, RecordKind::Policy));
        return kExitOk;
    }
    std::cout << "Policy " << args.name << " added: " << show_field(policy, "action") << ", max "
              << show_duration(policy, "max_duration") << ", approvers "
              << show_field(policy, "approvers") << " (" << show_field(policy, "approvals_required")
              << " required), inactive.\n"
              << "Next: jitctl policy assign " << args.name << " RESOURCE; jitctl policy activate "
              << args.name << "\n";
    return kExitOk;
}

int cmd_policy_assign(const Globals& globals, const std::string& policy,
                      const std::string& resource) {
    jit::validate_object_name("policy", policy);
    jit::validate_object_name("resource", resource);
    auto bus = BusClient::connect();
    call_void(bus, bus.method(api::kAssignPolicy).add_string(policy).add_string(resource));
    return print_changed(globals, bus, kPolicies, policy,
                         "Policy " + policy + " assigned to " + resource + ".");
}

int cmd_policy_set_active(const Globals& globals, const std::string& policy, bool active) {
    jit::validate_object_name("policy", policy);
    auto bus = BusClient::connect();
    call_void(bus, bus.method(api::kSetPolicyActive).add_string(policy).add_bool(active));
    return print_changed(globals, bus, kPolicies, policy,
                         "Policy " + policy + (active ? " activated." : " deactivated."));
}

// --start: an RFC 3339 time, or "+DUR" from now; 0 (at approval) when not given.
jit::EpochSeconds parse_start(const std::string& text) {
    if (text.empty()) {
        return 0;
    }
    if (text.front() == '+') {
        return static_cast<jit::EpochSeconds>(std::time(nullptr)) +
               jit::parse_duration(std::string_view(text).substr(1));
    }
    return jit::parse_timestamp(text);
}

namespace {

// Sends a new request (make_call builds the bus call) and, with wait, waits for its decision:
// what request and extend share.
template <typename MakeCall>
int submit_request(const Globals& globals, bool wait, const std::string& wait_limit,
                   MakeCall make_call) {
    std::optional<std::uint64_t> wait_usec;
    if (wait && !wait_limit.empty()) {
        wait_usec = wait_limit_usec(wait_limit);
    }
    auto bus = BusClient::connect();
    // Subscribe before the request exists so its decision cannot be missed.
    std::optional<RequestDecisionWatch> watch;
    if (wait) {
        watch.emplace(bus);
    }
    Json request = fetch(bus, make_call(bus));
    const bool pending = text_of(request, "state") == "pending";
    if (!globals.json) {
        announce_request(bus, request);
    }
    if (wait && pending) {
        const auto deadline =
            wait_usec ? std::optional(monotonic_deadline_after(*wait_usec)) : std::nullopt;
        request = wait_for_decision(bus, *watch, id_of(request, "id"), deadline);
    }
    if (globals.json) {
        print_json(to_spec_json(request, RecordKind::Request));
    }
    if (!wait) {
        return kExitOk;
    }
    return report_wait(globals, bus, request, pending, wait_limit);
}

}  // namespace

int cmd_request(const Globals& globals, const RequestArgs& args) {
    jit::validate_object_name("resource", args.resource);
    jit::validate_reason(args.reason);
    const jit::Seconds duration = jit::parse_duration(args.duration);
    const jit::EpochSeconds start = parse_start(args.start);
    return submit_request(globals, args.wait, args.wait_limit, [&](BusClient& bus) {
        MethodCall call = bus.method(api::kCreateRequest);
        call.add_string(args.resource).add_string(args.reason).add_int64(duration).add_int64(start);
        return call;
    });
}

int cmd_extend(const Globals& globals, const ExtendArgs& args) {
    const jit::Id id = parse_id("grant", args.grant_id);
    jit::validate_reason(args.reason);
    const jit::Seconds duration = jit::parse_duration(args.duration);
    return submit_request(globals, args.wait, args.wait_limit, [&](BusClient& bus) {
        MethodCall call = bus.method(api::kExtendGrant);
        call.add_int64(id).add_string(args.reason).add_int64(duration);
        return call;
    });
}

int cmd_requests(const Globals& globals, bool all, const std::string& state) {
    if (!state.empty()) {
        jit::parse_request_state(state);
    }
    auto bus = BusClient::connect();
    const char* empty = all || !state.empty() ? "No requests." : "No pending requests.";
    return print_list(
        globals, fetch(bus, bus.method(api::kListRequests).add_bool(all).add_string(state)),
        RecordKind::Request, [&](const Json& requests) { print_requests(requests, empty); });
}

int cmd_approvals(const Globals& globals) {
    auto bus = BusClient::connect();
    return print_list(globals, fetch(bus, bus.method(api::kListApprovals)), RecordKind::Request,
                      [](const Json& requests) {
                          print_requests(requests, "No requests are waiting for your approval.");
                      });
}

int cmd_approve(const Globals& globals, const std::string& id_text, const std::string& comment) {
    const jit::Id id = parse_id("request", id_text);
    jit::validate_text("comment", comment, jit::kMaxCommentLength);
    auto bus = BusClient::connect();
    const Json request = fetch(bus, bus.method(api::kApprove).add_int64(id).add_string(comment));
    if (globals.json) {
        print_json(to_spec_json(request, RecordKind::Request));
    } else if (text_of(request, "state") == "pending") {
        const Json& approvals = field(request, "approvals");
        const auto approved = std::count_if(approvals.begin(), approvals.end(), [](const Json& a) {
            return field(a, "decision") == "approve";
        });
        std::cout << "Request " << id << ": approval recorded (" << approved << " of "
                  << show_field(request, "approvals_required") << "); still pending.\n";
    } else {
        print_request_outcome(bus, request);
    }
    return kExitOk;
}

int cmd_deny(const Globals& globals, const std::string& id_text, const std::string& comment) {
    const jit::Id id = parse_id("request", id_text);
    jit::validate_text("comment", comment, jit::kMaxCommentLength);
    auto bus = BusClient::connect();
    return print_record(
        globals, fetch(bus, bus.method(api::kDeny).add_int64(id).add_string(comment)),
        RecordKind::Request, [&](const Json& request) { print_request_outcome(bus, request); });
}

int cmd_cancel(const Globals& globals, const std::string& id_text) {
    const jit::Id id = parse_id("request", id_text);
    auto bus = BusClient::connect();
    return print_record(globals, fetch(bus, bus.method(api::kCancel).add_int64(id)),
                        RecordKind::Request,
                        [&](const Json& request) { print_request_outcome(bus, request); });
}

int cmd_grants(const Globals& globals, const GrantFilter& filter) {
    if (!filter.user.empty()) {
        jit::validate_user_name(filter.user);
    }
    if (!filter.resource.empty()) {
        jit::validate_object_name("resource", filter.resource);
    }
    auto bus = BusClient::connect();
    const Json grants = fetch(bus, bus.method(api::kListGrants)
                                       .add_bool(filter.all)
                                       .add_string(filter.user)
                                       .add_string(filter.resource));
    return print_list(globals, grants, RecordKind::Grant, print_grants);
}

int cmd_revoke(const Globals& globals, const std::string& id_text, const std::string& reason) {
    const jit::Id id = parse_id("grant", id_text);
    jit::validate_text("reason", reason, jit::kMaxReasonLength);
    auto bus = BusClient::connect();
    const Json grant = fetch(bus, bus.method(api::kRevoke).add_int64(id).add_string(reason));
    return print_record(globals, grant, RecordKind::Grant, [&](const Json&) {
        std::cout << "Grant " << id << " revoked: " << show_field(grant, "user")
                  << " no longer has access to " << show_field(grant, "resource") << ".\n";
    });
}

int cmd_review(const Globals& globals, const std::string& id_text) {
    const jit::Id id = parse_id("grant", id_text);
    auto bus = BusClient::connect();
    return print_record(globals, fetch(bus, bus.method(api::kGetGrantReview).add_int64(id)),
                        RecordKind::Review, print_review);
}

int cmd_sessions(const Globals& globals, bool all) {
    auto bus = BusClient::connect();
    return print_list(globals, fetch(bus, bus.method(api::kListSessions).add_bool(all)),
                      RecordKind::Session, print_sessions);
}

}  // namespace jitctl
