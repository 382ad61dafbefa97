// SPDX-License-Identifier: Apache-2.0
// The words of each audit event in the journal (the MESSAGE_IDs: tests/unit/audit_events_test.cpp).
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "jitd_test_support.hpp"
#include "journal_forwarder.hpp"

namespace jitd {
namespace {

// --- audit messages ---

TEST(AuditJournalMessage, SaysWhatHappenedInWords) {
    struct Case {
        std::string type;
        std::vector<std::pair<std::string, std::string>> fields;
        std::string message;
    };
    const Case cases[] = {
        {"requested",
         {{"JIT_USER", "alice"},
          {"JIT_RESOURCE", "prod-db"},
          {"JIT_REASON", "fix it"},
          {"JIT_REQUESTED_DURATION", "86400"},
          {"JIT_DURATION", "7200"},
          {"JIT_CAPPED", "true"}},
         "alice requested access to prod-db for 2h (capped from 1d): fix it"},
        {"granted",
         {{"JIT_REQUEST_ID", "3"},
          {"JIT_GRANT_ID", "4"},
          {"JIT_USER", "alice"},
          {"JIT_RESOURCE", "prod-db"},
          {"JIT_EXPIRY", ""}},
         "alice was granted access to prod-db until revoked (grant 4, request 3)"},
        {"login_denied",
         {{"JIT_USER", "bob"},
          {"JIT_TARGET", "root"},
          {"JIT_SERVICE", "sshd"},
          {"JIT_RHOST", ""},
          {"JIT_RESOURCE", "prod-db"}},
         "denied login of bob via sshd as root: no access to prod-db"},
        {"grant_review",
         {{"JIT_GRANT_ID", "4"},
          {"JIT_USER", "alice"},
          {"JIT_RESOURCE", "prod-db"},
          {"JIT_CHANGED", "+/a\n~/b"}},
         "review of grant 4 of alice on prod-db: 2 changed path(s)"},
        {"grant_review",
         {{"JIT_GRANT_ID", "4"},
          {"JIT_USER", "alice"},
          {"JIT_RESOURCE", "prod-db"},
          {"JIT_CHANGED", ""},
          {"JIT_REVIEW_INCOMPLETE", "x"}},
         "review of grant 4 of alice on prod-db: no changes (incomplete: x)"},
        {"imported",
         {{"JIT_ACTOR", "ada"},
          {"JIT_IMPORTED_FILE", "/var/lib/jitd/jit.db"},
          {"JIT_IMPORTED_FROM", "c0ffee"},
          {"JIT_IMPORTED_SEQ", "1-7"},
          {"JIT_CHANGE", "resources=1"}},
         "ada imported /var/lib/jitd/jit.db (audit chain c0ffee, events 1-7): resources=1"},
        {"mystery", {{"JIT_X", "1"}}, "audit event mystery JIT_X=1"},
    };
    for (const Case& c : cases) {
        EXPECT_EQ(audit_journal_message(event_of(c.type, c.fields)), c.message) << c.type;
    }
}

}  // namespace
}  // namespace jitd
