// SPDX-License-Identifier: Apache-2.0
// Domain values: state names, the audit canonical form, error names, identities.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "jit/bus_names.hpp"
#include "jit/error.hpp"
#include "jit/identity.hpp"
#include "jit/model.hpp"

namespace jit {
namespace {

using ::testing::Contains;
using ::testing::IsEmpty;
using ::testing::StartsWith;

template <typename Parse>
std::string parse_rejection(Parse parse, const std::string& text) {
    try {
        parse(text);
        ADD_FAILURE() << "accepted \"" << text << "\"";
    } catch (const JitError& error) {
        EXPECT_EQ(error.code(), ErrorCode::InvalidInput) << text;
        return error.what();
    }
    return {};
}

TEST(EnumNames, MatchTheDocumentedNames) {
    EXPECT_EQ(to_string(PolicyAction::RequireApproval), "require-approval");
    EXPECT_EQ(to_string(PolicyAction::AutoApprove), "auto-approve");
    EXPECT_EQ(to_string(RequestState::Pending), "pending");
    EXPECT_EQ(to_string(RequestState::Approved), "approved");
    EXPECT_EQ(to_string(RequestState::Denied), "denied");
    EXPECT_EQ(to_string(RequestState::Cancelled), "cancelled");
    EXPECT_EQ(to_string(RequestState::Expired), "expired");
    EXPECT_EQ(to_string(Decision::Approve), "approve");
    EXPECT_EQ(to_string(Decision::Deny), "deny");
    EXPECT_EQ(to_string(GrantState::Scheduled), "scheduled");
    EXPECT_EQ(to_string(GrantState::Active), "active");
    EXPECT_EQ(to_string(GrantState::Expired), "expired");
    EXPECT_EQ(to_string(GrantState::Revoked), "revoked");
    EXPECT_EQ(to_string(SessionState::Open), "open");
    EXPECT_EQ(to_string(SessionState::Closed), "closed");
    EXPECT_EQ(to_string(SessionState::Terminated), "terminated");
}

TEST(EnumNames, ParseRoundTrips) {
    for (auto value : {PolicyAction::RequireApproval, PolicyAction::AutoApprove}) {
        EXPECT_EQ(parse_policy_action(to_string(value)), value);
    }
    for (auto value : {RequestState::Pending, RequestState::Approved, RequestState::Denied,
                       RequestState::Cancelled, RequestState::Expired}) {
        EXPECT_EQ(parse_request_state(to_string(value)), value);
    }
    for (auto value : {Decision::Approve, Decision::Deny}) {
        EXPECT_EQ(parse_decision(to_string(value)), value);
    }
    for (auto value : {GrantState::Active, GrantState::Expired, GrantState::Revoked}) {
        EXPECT_EQ(parse_grant_state(to_string(value)), value);
    }
    for (auto value : {SessionState::Open, SessionState::Closed, SessionState::Terminated}) {
        EXPECT_EQ(parse_session_state(to_string(value)), value);
    }
}

TEST(EnumNames, ParseRejectsOtherSpellingsAndListsTheAcceptedOnes) {
    EXPECT_EQ(parse_rejection(parse_policy_action, "require_approval"),
              "invalid policy action \"require_approval\" (use one of require-approval, "
              "auto-approve)");
    EXPECT_EQ(parse_rejection(parse_request_state, "Pending"),
              "invalid request state \"Pending\" (use one of pending, approved, denied, "
              "cancelled, expired)");
    EXPECT_EQ(parse_rejection(parse_decision, "approved"),
              "invalid decision \"approved\" (use one of approve, deny)");
    EXPECT_EQ(parse_rejection(parse_grant_state, ""),
              "invalid grant state \"\" (use one of scheduled, active, expired, revoked)");
    EXPECT_EQ(parse_rejection(parse_session_state, "open "),
              "invalid session state \"open \" (use one of open, closed, terminated)");
}

AuditEvent sample_event() {
    AuditEvent event;
    event.seq = 1;
    event.time = 1795701900;
    event.event = "requested";
    event.fields = {{"JIT_USER", "alice"}, {"JIT_RESOURCE", "db"}};
    return event;
}

TEST(AuditEvent, FieldFindsByName) {
    AuditEvent event = sample_event();
    ASSERT_NE(event.field("JIT_RESOURCE"), nullptr);
    EXPECT_EQ(*event.field("JIT_RESOURCE"), "db");
    EXPECT_EQ(event.field("JIT_ACTOR"), nullptr);
    EXPECT_EQ(event.field("jit_user"), nullptr);
}

// Pinned: every stored hash depends on these exact bytes.
TEST(AuditCanonicalForm, IsLengthPrefixedAndVersioned) {
    AuditEvent event = sample_event();
    event.prev_hash = "ab";
    EXPECT_EQ(audit_canonical_form(event),
              "12:jit-audit-v1,1:1,10:1795701900,9:requested,1:2,8:JIT_USER,5:alice,"
              "12:JIT_RESOURCE,2:db,2:ab,");
}

TEST(AuditCanonicalForm, IgnoresTheRowsOwnHash) {
    AuditEvent event = sample_event();
    std::string form = audit_canonical_form(event);
    event.hash = "ffff";
    EXPECT_EQ(audit_canonical_form(event), form);
}

TEST(AuditCanonicalForm, DiffersForEveryDifferentRow) {
    std::map<std::string, AuditEvent> variants;
    auto add = [&](const std::string& label, auto change) {
        AuditEvent event = sample_event();
        change(event);
        variants.emplace(label, event);
    };
    add("original", [](AuditEvent&) {});
    add("seq", [](AuditEvent& e) { e.seq = 2; });
    add("time", [](AuditEvent& e) { e.time += 1; });
    add("negative time", [](AuditEvent& e) { e.time = -e.time; });
    add("event", [](AuditEvent& e) { e.event = "approved"; });
    add("value", [](AuditEvent& e) { e.fields[0].second = "bob"; });
    add("name", [](AuditEvent& e) { e.fields[0].first = "JIT_ACTOR"; });
    add("order", [](AuditEvent& e) { std::swap(e.fields[0], e.fields[1]); });
    add("dropped field", [](AuditEvent& e) { e.fields.pop_back(); });
    add("empty field", [](AuditEvent& e) { e.fields.emplace_back("", ""); });
    add("prev hash", [](AuditEvent& e) { e.prev_hash = "00"; });
    // Shifting bytes between neighbours must not produce the same form.
    add("shift name/value", [](AuditEvent& e) { e.fields[0] = {"JIT_USERa", "lice"}; });
    add("shift value/name", [](AuditEvent& e) {
        e.fields = {{"JIT_USER", "aliceJIT_RESOURCE"}, {"", "db"}};
    });
    add("field into prev hash", [](AuditEvent& e) {
        e.fields.pop_back();
        e.prev_hash = "12:JIT_RESOURCE,2:db,";
    });
    add("separator in value",
        [](AuditEvent& e) { e.fields[0].second = "alice,8:JIT_USER,5:alice"; });

    std::set<std::string> forms;
    for (const auto& [label, event] : variants) {
        EXPECT_TRUE(forms.insert(audit_canonical_form(event)).second) << label << " collides";
    }
}

TEST(ErrorNames, ThrowHelpersCarryTheirCode) {
    auto code_of = [](void (*thrower)(const std::string&)) {
        try {
            thrower("boom");
        } catch (const JitError& error) {
            EXPECT_STREQ(error.what(), "boom");
            return error.code();
        }
        return ErrorCode::Internal;
    };
    EXPECT_EQ(code_of(throw_invalid), ErrorCode::InvalidInput);
    EXPECT_EQ(code_of(throw_not_found), ErrorCode::NotFound);
    EXPECT_EQ(code_of(throw_conflict), ErrorCode::Conflict);
    EXPECT_EQ(code_of(throw_denied), ErrorCode::PermissionDenied);
    EXPECT_EQ(code_of(throw_failed), ErrorCode::Failed);
}

TEST(BusErrorNames, RoundTripAndMapUnknownToInternal) {
    EXPECT_STREQ(bus::error_name(ErrorCode::InvalidInput), "io.jitd.Jit1.Error.InvalidInput");
    EXPECT_STREQ(bus::error_name(ErrorCode::NotFound), "io.jitd.Jit1.Error.NotFound");
    EXPECT_STREQ(bus::error_name(ErrorCode::Conflict), "io.jitd.Jit1.Error.Conflict");
    EXPECT_STREQ(bus::error_name(ErrorCode::PermissionDenied),
                 "io.jitd.Jit1.Error.PermissionDenied");
    EXPECT_STREQ(bus::error_name(ErrorCode::Failed), "io.jitd.Jit1.Error.Failed");
    EXPECT_STREQ(bus::error_name(ErrorCode::Unavailable), "io.jitd.Jit1.Error.Unavailable");
    EXPECT_STREQ(bus::error_name(ErrorCode::Internal), "org.freedesktop.DBus.Error.Failed");
    for (auto code : {ErrorCode::InvalidInput, ErrorCode::NotFound, ErrorCode::Conflict,
                      ErrorCode::PermissionDenied, ErrorCode::Failed, ErrorCode::Unavailable,
                      ErrorCode::Internal}) {
        EXPECT_EQ(bus::error_code_from_name(bus::error_name(code)), code);
    }
    EXPECT_EQ(bus::error_code_from_name("org.freedesktop.DBus.Error.AccessDenied"),
              ErrorCode::Internal);
    EXPECT_EQ(bus::error_code_from_name("io.jitd.Jit1.Error.Bogus"), ErrorCode::Internal);
    EXPECT_EQ(bus::error_code_from_name(nullptr), ErrorCode::Internal);
}

// Answers from a table instead of NSS.
class FakeIdentity final : public IdentityResolver {
  public:
    std::vector<std::string> groups_of(const std::string& user) const override {
        return user == "alice" ? std::vector<std::string>{"alice", "ops"}
                               : std::vector<std::string>{};
    }
    std::optional<std::string> user_name(uid_t uid) const override {
        if (uid == 1000) {
            return "alice";
        }
        return std::nullopt;
    }
    std::optional<uid_t> user_uid(const std::string& name) const override {
        if (name == "alice") {
            return 1000;
        }
        return std::nullopt;
    }
};

TEST(Caller, FromUidThroughTheResolver) {
    Caller alice = caller_from_uid(1000, FakeIdentity());
    EXPECT_EQ(alice.uid, 1000u);
    EXPECT_EQ(alice.name, "alice");
    EXPECT_FALSE(alice.is_root());
    EXPECT_TRUE(alice.in_group("ops"));
    EXPECT_FALSE(alice.in_group("wheel"));
    EXPECT_FALSE(alice.in_group(""));
}

TEST(Caller, UnnamedUidIsDenied) {
    try {
        caller_from_uid(4242, FakeIdentity());
        ADD_FAILURE() << "an unnamed uid became a caller";
    } catch (const JitError& error) {
        EXPECT_EQ(error.code(), ErrorCode::PermissionDenied);
        EXPECT_THAT(error.what(), StartsWith("uid 4242 has no user name"));
    }
}

TEST(Caller, MatchesUsersAndAtGroups) {
    Caller alice = caller_from_uid(1000, FakeIdentity());
    EXPECT_TRUE(alice.matches("alice"));
    EXPECT_TRUE(alice.matches("@ops"));
    EXPECT_TRUE(alice.matches("@alice"));
    EXPECT_FALSE(alice.matches("ops"));  // a group only matches when written as @group
    EXPECT_FALSE(alice.matches("@wheel"));
    EXPECT_FALSE(alice.matches("bob"));
    EXPECT_FALSE(alice.matches("Alice"));
    EXPECT_FALSE(alice.matches(""));
    EXPECT_FALSE(alice.matches("@"));

    Caller nobody;  // no name and no groups must match nothing, not the empty principal
    EXPECT_FALSE(nobody.matches(""));
    EXPECT_FALSE(nobody.matches("@"));
}

TEST(NssIdentity, ResolvesRoot) {
    NssIdentityResolver nss;
    EXPECT_EQ(nss.user_name(0), "root");
    EXPECT_THAT(nss.groups_of("root"), Contains("root"));

    Caller root = caller_from_uid(0, nss);
    EXPECT_TRUE(root.is_root());
    EXPECT_EQ(root.name, "root");
    EXPECT_TRUE(root.matches("@root"));
}

TEST(NssIdentity, UnknownUsersHaveNoNameAndNoGroups) {
    NssIdentityResolver nss;
    EXPECT_EQ(nss.user_name(3999999999u), std::nullopt);
    EXPECT_THAT(nss.groups_of("no-such-user-jit-test"), IsEmpty());
    EXPECT_THAT(nss.groups_of(""), IsEmpty());
}

}  // namespace
}  // namespace jit
