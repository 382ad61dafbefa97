// SPDX-License-Identifier: Apache-2.0
// The typed table of audit events: names, MESSAGE_IDs, the fields each carries, the builder.
#include "jit/audit_events.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "jit/error.hpp"

namespace jit::audit {
namespace {

TEST(AuditEventTypes, HaveDistinct128BitMessageIdsAndNames) {
    std::set<std::string_view> ids = {kOtherEventType.message_id};
    std::set<std::string_view> names;
    for (const auto& type : kEventTypes) {
        EXPECT_EQ(type.message_id.size(), 32u);
        EXPECT_EQ(type.message_id.find_first_not_of("0123456789abcdef"), std::string::npos);
        EXPECT_TRUE(ids.insert(type.message_id).second) << type.name;
        EXPECT_TRUE(names.insert(type.name).second) << type.name;
    }
    EXPECT_EQ(event_type("granted").message_id, "7f80eff6d4a9455498bb1ebdca00b675");
    EXPECT_EQ(event_type("no_such_event").message_id, kOtherEventType.message_id);
}

TEST(AuditEventTypes, ListEveryEventOnceByTypeAndByName) {
    for (int i = 0; i < static_cast<int>(Event::Other); ++i) {
        const auto event = static_cast<Event>(i);
        const EventType& type = event_type(event);
        EXPECT_EQ(type.event, event) << i;
        EXPECT_EQ(&event_type(type.name), &type) << type.name;
        EXPECT_TRUE(type.fields.contains(Field::Host)) << type.name;
    }
    EXPECT_EQ(&event_type(Event::Other), &kOtherEventType);
    EXPECT_EQ(event_type(Event::RequestExpired).name, "request_expired");
    EXPECT_EQ(event_type(Event::LoginFallback).priority, LOG_WARNING);
}

TEST(AuditFields, AreDistinctJitNames) {
    std::set<std::string_view> names;
    for (int i = 0; i <= static_cast<int>(Field::ImportedFile); ++i) {
        const std::string_view name = field_name(static_cast<Field>(i));
        EXPECT_TRUE(name.starts_with("JIT_")) << name;
        EXPECT_TRUE(names.insert(name).second) << name;
    }
    EXPECT_EQ(field_name(Field::RequestedDuration), "JIT_REQUESTED_DURATION");
    EXPECT_EQ(field_name(Field::ActorLogin), "JIT_ACTOR_LOGIN");
    EXPECT_EQ(field_name(Field::ReviewIncomplete), "JIT_REVIEW_INCOMPLETE");
    EXPECT_EQ(event_type("grant_review").event, Event::GrantReview);
    EXPECT_EQ(field_name(Field::ImportedFile), "JIT_IMPORTED_FILE");
    EXPECT_EQ(event_type("imported").event, Event::Imported);
    EXPECT_TRUE(event_type(Event::Imported).fields.contains(Field::ImportedFile));
}

TEST(AuditEventBuilder, WritesTheFieldsInOrderUnderTheirJournalNames) {
    const AuditEvent event =
        make_event(Event::Granted, 1700000000,
                   {{Field::RequestId, "3"}, {Field::GrantId, "4"}, {Field::User, "alice"}});
    EXPECT_EQ(event.event, "granted");
    EXPECT_EQ(event.time, 1700000000);
    ASSERT_EQ(event.fields.size(), 3u);
    EXPECT_EQ(event.fields[0], (std::pair<std::string, std::string>{"JIT_REQUEST_ID", "3"}));
    EXPECT_EQ(event.fields[2], (std::pair<std::string, std::string>{"JIT_USER", "alice"}));
}

TEST(AuditEventBuilder, RefusesAFieldTheEventDoesNotCarry) {
    // granted carries no JIT_COMMENT; approved does.
    try {
        make_event(Event::Granted, 0, {{Field::Comment, "go"}});
        FAIL() << "a granted event took a comment";
    } catch (const JitError& error) {
        EXPECT_EQ(error.code(), ErrorCode::Internal);
        EXPECT_NE(std::string(error.what()).find("JIT_COMMENT"), std::string::npos);
    }
    EXPECT_NO_THROW(make_event(Event::Approved, 0, {{Field::Comment, "go"}}));

    AuditEvent closed = make_event(Event::SessionClosed, 0, {{Field::User, "bob"}});
    add_field(closed, Field::ClosedBy, "logout");
    EXPECT_EQ(closed.fields.back().first, "JIT_CLOSED_BY");
    AuditEvent opened = make_event(Event::SessionOpened, 0, {{Field::User, "bob"}});
    EXPECT_THROW(add_field(opened, Field::ClosedBy, "logout"), JitError);
}

}  // namespace
}  // namespace jit::audit
