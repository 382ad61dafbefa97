// SPDX-License-Identifier: Apache-2.0
// Audit records over the bus: typed a{sv} entries.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "bus_records.hpp"
#include "jit/model.hpp"
#include "jitd_test_support.hpp"

namespace jitd {
namespace {

// --- audit records over the bus ---

// key -> "TYPE:value" of each entry of the a{sv} at the message's read position.
std::map<std::string, std::string> read_typed_dictionary(sd_bus_message* message) {
    std::map<std::string, std::string> entries;
    EXPECT_GT(sd_bus_message_enter_container(message, 'a', "{sv}"), 0);
    while (sd_bus_message_enter_container(message, 'e', "sv") > 0) {
        const char* key = nullptr;
        char type = 0;
        const char* contents = nullptr;
        sd_bus_message_read_basic(message, 's', &key);
        sd_bus_message_peek_type(message, &type, &contents);
        sd_bus_message_enter_container(message, 'v', contents);
        std::string value;
        if (contents[0] == 'x') {
            std::int64_t number = 0;
            sd_bus_message_read_basic(message, 'x', &number);
            value = std::to_string(number);
        } else if (contents[0] == 'b') {
            int flag = 0;
            sd_bus_message_read_basic(message, 'b', &flag);
            value = flag ? "true" : "false";
        } else {
            const char* text = nullptr;
            sd_bus_message_read_basic(message, 's', &text);
            value = text;
        }
        entries[key] = std::string(contents) + ":" + value;
        sd_bus_message_exit_container(message);
        sd_bus_message_exit_container(message);
    }
    sd_bus_message_exit_container(message);
    return entries;
}

TEST(AuditRecord, GivesNumbersAndFlagsTheirTypes) {
    sd_event* raw_event = nullptr;
    ASSERT_GE(sd_event_new(&raw_event), 0);
    EventPtr event(raw_event);
    PeerBuses buses(event.get());
    sd_bus_message* raw = nullptr;
    ASSERT_GE(sd_bus_message_new_method_call(buses.client.get(), &raw, "io.jitd.Jit1",
                                             "/io/jitd/Jit1", "io.jitd.Jit1.Manager", "X"),
              0);
    MessagePtr message(raw);
    jit::AuditEvent requested = event_of("requested", {{"JIT_REQUEST_ID", "3"},
                                                       {"JIT_USER", "alice"},
                                                       {"JIT_REASON", "42"},
                                                       {"JIT_REQUESTED_DURATION", "86400"},
                                                       {"JIT_DURATION", "7200"},
                                                       {"JIT_CAPPED", "true"}});
    jit::AuditEvent denied = event_of("login_denied", {{"JIT_USER", "bob"},
                                                       {"JIT_GRANT_ID", ""},
                                                       {"JIT_SESSION_PID", ""},
                                                       {"JIT_CAPPED", "maybe"}});
    jit::AuditEvent granted = event_of("granted", {{"JIT_GRANT_ID", "4"},
                                                   {"JIT_EXPIRY", "never"},
                                                   {"JIT_SESSION_PID", "4242"},
                                                   {"JIT_DURATION", "12x"}});
    append_records(message.get(), std::vector<jit::AuditEvent>{requested, denied, granted},
                   append_audit_event);
    ASSERT_GE(sd_bus_message_seal(message.get(), 1, 0), 0);
    ASSERT_GE(sd_bus_message_rewind(message.get(), 1), 0);
    ASSERT_GT(sd_bus_message_enter_container(message.get(), 'a', "a{sv}"), 0);

    auto first = read_typed_dictionary(message.get());
    EXPECT_EQ(first["seq"], "x:7");
    EXPECT_EQ(first["event"], "s:requested");
    EXPECT_EQ(first["request_id"], "x:3");
    EXPECT_EQ(first["user"], "s:alice");
    EXPECT_EQ(first["reason"], "s:42");  // text, however it looks
    EXPECT_EQ(first["requested_duration"], "x:86400");
    EXPECT_EQ(first["duration"], "x:7200");
    EXPECT_EQ(first["capped"], "b:true");
    auto second = read_typed_dictionary(message.get());
    EXPECT_EQ(second["grant_id"], "s:");  // none: stays empty text
    EXPECT_EQ(second["session_pid"], "s:");
    EXPECT_EQ(second["capped"], "s:maybe");
    auto third = read_typed_dictionary(message.get());
    EXPECT_EQ(third["grant_id"], "x:4");
    EXPECT_EQ(third["expiry"], "s:never");
    EXPECT_EQ(third["session_pid"], "x:4242");
    EXPECT_EQ(third["duration"], "s:12x");
}

}  // namespace
}  // namespace jitd
