// SPDX-License-Identifier: Apache-2.0
// How a command answers: under --json the JSON form of jitd's record (docs/jitctl.md), otherwise
// its lines for humans. Each returns the exit status kExitOk.
#pragma once

#include <iostream>
#include <string>

#include "bus_client.hpp"
#include "commands.hpp"
#include "exit_status.hpp"
#include "output.hpp"
#include "record.hpp"

namespace jitctl {

// jitd's answer to `call` as a JSON value.
inline Json fetch(BusClient& bus, const MethodCall& call) {
    const MessagePtr reply = bus.call(call);
    return read_value(reply.get());
}

// Under --json, json() printed as the one JSON value; otherwise human() prints.
template <typename JsonForm, typename Human>
int print_answer(const Globals& globals, JsonForm json, Human human) {
    if (globals.json) {
        print_json(json());
    } else {
        human();
    }
    return kExitOk;
}

// One record: its JSON form, or human(record).
template <typename Human>
int print_record(const Globals& globals, const Json& record, RecordKind kind, Human human) {
    return print_answer(
        globals, [&] { return to_spec_json(record, kind); }, [&] { human(record); });
}

// A list of records: a JSON array of their JSON forms, or human(records).
template <typename Human>
int print_list(const Globals& globals, const Json& records, RecordKind kind, Human human) {
    return print_answer(
        globals, [&] { return to_spec_json_list(records, kind); }, [&] { human(records); });
}

}  // namespace jitctl
