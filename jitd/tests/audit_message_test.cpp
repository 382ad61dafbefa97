// SPDX-License-Identifier: Apache-2.0
// Audit message ids and the words of each audit event in the journal.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "audit_message_ids.hpp"
#include "jitd_test_support.hpp"
#include "journal_forwarder.hpp"

namespace jitd {
namespace {

// --- audit messages ---

TEST(AuditMessageIds, AreDistinct128BitIds) {
    std::set<std::string_view> ids = {kOtherAuditMessageType.message_id};
    std::set<std::string_view> events;
    for (const auto& type : kAuditMessageTypes) {
        EXPECT_EQ(type.message_id.size(), 32u);
        EXPECT_EQ(type.message_id.find_first_not_of("0123456789abcdef"), std::string::npos);
        EXPECT_TRUE(ids.insert(type.message_id).second) << type.event;
        EXPECT_TRUE(events.insert(type.event).second) << type.event;
    }
    EXPECT_EQ(audit_message_type("granted").message_id, "7f80eff6d4a9455498bb1ebdca00b675");
    EXPECT_EQ(audit_message_type("no_such_event").message_id, kOtherAuditMessageType.message_id);
}

TEST(AuditJournalMessage, SaysWhatHappenedInWords) {
    EXPECT_EQ(audit_journal_message(event_of("requested", {{"JIT_USER", "alice"},
                                                           {"JIT_RESOURCE", "prod-db"},
                                                           {"JIT_REASON", "fix it"},
                                                           {"JIT_REQUESTED_DURATION", "86400"},
                                                           {"JIT_DURATION", "7200"},
                                                           {"JIT_CAPPED", "true"}})),
              "alice requested access to prod-db for 2h (capped from 1d): fix it");
    EXPECT_EQ(audit_journal_message(event_of("granted", {{"JIT_REQUEST_ID", "3"},
                                                         {"JIT_GRANT_ID", "4"},
                                                         {"JIT_USER", "alice"},
                                                         {"JIT_RESOURCE", "prod-db"},
                                                         {"JIT_EXPIRY", ""}})),
              "alice was granted access to prod-db until revoked (grant 4, request 3)");
    EXPECT_EQ(audit_journal_message(event_of("login_denied", {{"JIT_USER", "bob"},
                                                              {"JIT_TARGET", "root"},
                                                              {"JIT_SERVICE", "sshd"},
                                                              {"JIT_RHOST", ""},
                                                              {"JIT_RESOURCE", "prod-db"}})),
              "denied login of bob via sshd as root: no access to prod-db");
    EXPECT_EQ(audit_journal_message(event_of("mystery", {{"JIT_X", "1"}})),
              "audit event mystery JIT_X=1");
}

}  // namespace
}  // namespace jitd
