// SPDX-License-Identifier: Apache-2.0
// jitctl audit and jitctl audit verify: the audit log read a page at a time, filtered by time,
// user, resource and event, and the chain checked by jitd.
#include <ctime>
#include <iostream>

#include "bus_client.hpp"
#include "commands.hpp"
#include "exit_status.hpp"
#include "jit/time.hpp"
#include "jit/validate.hpp"
#include "output.hpp"
#include "record.hpp"

namespace jitctl {
namespace {

// --since/--until: RFC 3339, YYYY-MM-DD, @EPOCH, "now", or "-DUR" for that long ago.
jit::EpochSeconds parse_time_argument(const std::string& text) {
    const jit::EpochSeconds now = std::time(nullptr);
    if (text == "now") {
        return now;
    }
    if (text.starts_with('-')) {
        return now - jit::parse_duration(std::string_view(text).substr(1));
    }
    return jit::parse_timestamp(text);
}

// User input echoed in an error stays one line and cannot drive the terminal.
std::string quoted(const std::string& text) {
    return "'" + printable(text) + "'";
}

}  // namespace

namespace {

// jitd answers the audit log a page at a time; reads pages until `limit` events or the end,
// and says on stderr when more events matched than were shown.
Json fetch_audit(BusClient& bus, const AuditArgs& args, jit::EpochSeconds since,
                 jit::EpochSeconds until) {
    Json events = Json::array();
    std::int64_t after_seq = 0;
    for (;;) {
        const auto wanted = args.limit - static_cast<std::int64_t>(events.size());
        const Json page = read_value(bus.call(bus.method(api::kQueryAudit)
                                                  .add_int64(since)
                                                  .add_int64(until)
                                                  .add_string(args.user)
                                                  .add_string(args.resource)
                                                  .add_string(args.event)
                                                  .add_int64(after_seq)
                                                  .add_int64(wanted > 0 ? wanted : 1))
                                         .get());
        if (!page.is_array() || page.empty()) {
            return events;
        }
        if (wanted <= 0) {
            std::cerr << "jitctl: showing the first " << args.limit
                      << " matching events; more match (narrow with --since, or raise --limit)\n";
            return events;
        }
        for (const Json& event : page) {
            events.push_back(event);
        }
        const Json& last_seq = page.back()["seq"];
        if (!last_seq.is_number_integer() || last_seq.get<std::int64_t>() <= after_seq) {
            throw CommandError(kExitFailed, "jitd's audit page does not advance");
        }
        after_seq = last_seq.get<std::int64_t>();
    }
}

}  // namespace

int cmd_audit(const Globals& globals, const AuditArgs& args) {
    if (globals.json && !args.output.empty() && args.output != "json") {
        throw CommandError(kExitUsage, "--json contradicts --output " + args.output);
    }
    const std::string output = !args.output.empty() ? args.output : globals.json ? "json" : "table";
    const jit::EpochSeconds since = args.since.empty() ? 0 : parse_time_argument(args.since);
    const jit::EpochSeconds until = args.until.empty() ? 0 : parse_time_argument(args.until);
    if (since != 0 && until != 0 && since > until) {
        throw CommandError(kExitInvalidInput, "--since " + quoted(args.since) +
                                                  " lies after --until " + quoted(args.until));
    }
    if (!args.user.empty()) {
        jit::validate_user_name(args.user);
    }
    if (!args.resource.empty()) {
        jit::validate_object_name("resource", args.resource);
    }
    auto bus = BusClient::connect();
    const Json events = fetch_audit(bus, args, since, until);
    if (output == "json") {
        print_json(to_spec_json_list(events, RecordKind::AuditEvent));
    } else if (output == "csv") {
        print_audit_csv(events);
    } else {
        print_audit_table(events);
    }
    return kExitOk;
}

namespace {

// VerifyAudit's reply (see dbus/io.jitd.Jit1.xml).
struct Verification {
    int ok = 0;
    std::int64_t rows_checked = 0;
    std::int64_t first_bad_seq = 0;
    const char* problem = "";
    const char* chain = "";
    int journal_compared = 0;
    std::int64_t journal_events = 0;
    std::int64_t rows_in_journal = 0;
    std::int64_t other_chain_events = 0;
};

Verification read_verification(sd_bus_message* reply) {
    Verification v;
    const int r = sd_bus_message_read(reply, api::kVerifyAudit.out, &v.ok, &v.rows_checked,
                                      &v.first_bad_seq, &v.problem, &v.chain, &v.journal_compared,
                                      &v.journal_events, &v.rows_in_journal, &v.other_chain_events);
    if (r < 0) {
        throw CommandError(kExitFailed,
                           std::string("cannot read jitd's reply: ") + std::strerror(-r));
    }
    return v;
}

void print_verification_json(const Verification& v) {
    print_json(Json{
        {"ok", v.ok != 0},
        {"rows_checked", v.rows_checked},
        {"first_bad_seq", v.ok || v.first_bad_seq == 0 ? Json(nullptr) : Json(v.first_bad_seq)},
        {"problem", v.ok ? Json(nullptr) : Json(v.problem)},
        {"chain", v.chain},
        {"journal_compared", v.journal_compared != 0},
        {"journal_events", v.journal_events},
        {"rows_in_journal", v.rows_in_journal},
        {"other_chain_events", v.other_chain_events}});
}

void print_verification_text(const Verification& v) {
    std::cout << "Audit log intact: " << v.rows_checked << " events checked.\n"
              << "Chain " << printable(v.chain) << ": " << v.rows_in_journal << " of them found in "
              << "the journal, which holds " << v.journal_events << " events of this chain and "
              << v.other_chain_events << " of other chains.\n";
}

}  // namespace

int cmd_audit_verify(const Globals& globals) {
    auto bus = BusClient::connect();
    const MessagePtr reply = bus.call(bus.method(api::kVerifyAudit));
    const Verification v = read_verification(reply.get());
    if (globals.json) {
        print_verification_json(v);
    } else if (v.ok) {
        print_verification_text(v);
    }
    if (!v.ok) {
        // One line on stderr in both modes; under --json stdout carries the same facts.
        if (v.first_bad_seq > 0) {
            std::cerr << "jitctl: audit log broken at seq " << v.first_bad_seq << ": "
                      << printable(v.problem) << " (" << v.rows_checked << " events checked)\n";
        } else {
            std::cerr << "jitctl: audit log not verified: " << printable(v.problem) << "\n";
        }
        return kExitFailed;
    }
    return kExitOk;
}

}  // namespace jitctl
