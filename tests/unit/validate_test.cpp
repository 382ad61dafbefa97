// SPDX-License-Identifier: Apache-2.0
// Names, principals and free text (docs/concepts.md): what jitd accepts and how it says no.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "jit/error.hpp"
#include "jit/validate.hpp"
#include "rejection.hpp"

namespace jit {
namespace {

using testing::BadInput;
using testing::expect_rejections;
using testing::names_after;
using testing::refusal_of;

// The message of the JitError(InvalidInput) that check throws.
std::string rejection(const std::function<void()>& check) {
    return testing::rejection_of(check);
}

TEST(ValidateObjectName, AcceptsLowerCaseNamesUpTo64) {
    for (const std::string name : {"web", "db-prod", "a", "0", "9lives", "a.b_c-d", "prod.eu-1"}) {
        EXPECT_NO_THROW(validate_object_name("resource", name)) << name;
    }
    EXPECT_NO_THROW(validate_object_name("policy", std::string(64, 'x')));
}

TEST(ValidateObjectName, RejectsEverythingElse) {
    const BadInput cases[] = {
        {"", "must not be empty"},
        {std::string(65, 'x'), "longer than 64 characters"},
        {"Web", "must start with a lower-case letter or a digit"},
        {"WEB", "must start with a lower-case letter or a digit"},
        {"-web", "must start with a lower-case letter or a digit"},
        {".web", "must start with a lower-case letter or a digit"},
        {"_web", "must start with a lower-case letter or a digit"},
        {"@web", "must start with a lower-case letter or a digit"},
        {"webProd", "character 'P' is not allowed"},
        {"web prod", "character ' ' is not allowed"},
        {"web/prod", "character '/' is not allowed"},
        {"web:prod", "character ':' is not allowed"},
        {"web$", "character '$' is not allowed"},
        {"web\tprod", "character \\x09 is not allowed"},
        {"web\n", "character \\x0a is not allowed"},
        {std::string("web\0x", 5), "character \\x00 is not allowed"},
        {"w\xc3\xa9"
         "b",
         "character \\xc3 is not allowed"},
        {"web*", "character '*' is not allowed"},
    };
    expect_rejections(
        cases, refusal_of([](const std::string& name) { validate_object_name("resource", name); }),
        names_after("invalid resource name \""));
}

TEST(ValidateObjectName, MessageNamesTheFieldAndTheRule) {
    EXPECT_EQ(rejection([] { validate_object_name("policy", "Ops"); }),
              "invalid policy name \"Ops\": must start with a lower-case letter or a digit");
    EXPECT_EQ(rejection([] { validate_object_name("resource", "a b"); }),
              "invalid resource name \"a b\": character ' ' is not allowed (use a-z, 0-9, '.', '_' "
              "and '-')");
}

TEST(ValidateHostName, AcceptsRfc1123Names) {
    for (const char* name : {"vm", "db-1", "DB1.Example.org", "a.b.c", "1host"}) {
        EXPECT_NO_THROW(validate_host_name(name)) << name;
    }
    EXPECT_NO_THROW(validate_host_name(std::string(63, 'a') + "." + std::string(63, 'b')));
}

TEST(ValidateHostName, RejectsEverythingElse) {
    for (const std::string& name : std::vector<std::string>{
             "", ".", "a..b", "a.", ".a", "-a", "a-", "a_b", "a b", "h\x01", "ä",
             std::string(64, 'a'), std::string(127, 'a') + "." + std::string(127, 'a')}) {
        EXPECT_THROW(validate_host_name(name), JitError) << name;
    }
}

TEST(ValidateUserName, AcceptsDebianUserNames) {
    for (const std::string name : {"alice", "root", "_svc", "a.b-c_1", "machine$", "x"}) {
        EXPECT_NO_THROW(validate_user_name(name)) << name;
        EXPECT_NO_THROW(validate_group_name(name)) << name;
    }
    EXPECT_NO_THROW(validate_user_name(std::string(32, 'u')));
    EXPECT_NO_THROW(validate_user_name(std::string(32, 'u') + "$"));
}

TEST(ValidateUserName, RejectsEverythingElse) {
    const BadInput cases[] = {
        {"", "must not be empty"},
        {"$", "must start with a lower-case letter or '_'"},
        {"Alice", "must start with a lower-case letter or '_'"},
        {"1alice", "must start with a lower-case letter or '_'"},
        {"-alice", "must start with a lower-case letter or '_'"},
        {".alice", "must start with a lower-case letter or '_'"},
        {"@alice", "must start with a lower-case letter or '_'"},
        {std::string(33, 'u'), "longer than 32 characters"},
        {std::string(33, 'u') + "$", "longer than 32 characters"},
        {"a$b", "character '$' is not allowed"},
        {"al!ce", "character '!' is not allowed"},
        {"alice smith", "character ' ' is not allowed"},
        {"alice@example.com", "character '@' is not allowed"},
        {"DOMAIN\\alice", "must start with a lower-case letter or '_'"},
        {"aliCe", "character 'C' is not allowed"},
        {"j\xc3\xb6rg", "character \\xc3 is not allowed"},
        {"alice\n", "character \\x0a is not allowed"},
    };
    expect_rejections(cases, refusal_of(validate_user_name), names_after("invalid user name \""));
    expect_rejections(cases, refusal_of(validate_group_name), names_after("invalid group name \""));
}

TEST(ValidatePrincipal, AcceptsUsersAndAtGroups) {
    for (const std::string principal : {"alice", "@jit-admin", "@wheel", "_svc", "@_grp$"}) {
        EXPECT_NO_THROW(validate_principal(principal)) << principal;
    }
}

TEST(ValidatePrincipal, RejectsBadUsersAndGroups) {
    const BadInput cases[] = {
        {"", "invalid principal \"\": must be a user name or @group"},
        {"@", "invalid group \"@\": must not be empty"},
        {"@@ops", "invalid group \"@@ops\": must start with a lower-case letter or '_'"},
        {"@Admins", "invalid group \"@Admins\": must start with a lower-case letter or '_'"},
        {"@ops team", "invalid group \"@ops team\": character ' ' is not allowed"},
        {"Alice", "invalid user name \"Alice\": must start"},
        {"alice@", "invalid user name \"alice@\": character '@' is not allowed"},
    };
    expect_rejections(cases, refusal_of(validate_principal), testing::starts_with);
}

TEST(ValidateAccount, AcceptsUserNamesAndStar) {
    for (const std::string account : {"*", "root", "postgres", "www-data"}) {
        EXPECT_NO_THROW(validate_account(account)) << account;
    }
    for (const std::string account : {"", "**", "Root", "root,postgres", "*root"}) {
        std::string message = rejection([&] { validate_account(account); });
        EXPECT_EQ(message.rfind("invalid target account \"", 0), 0u) << message;
        EXPECT_NE(message.find("or use * for any account"), std::string::npos) << message;
    }
}

TEST(ValidateService, AcceptsPamServiceNames) {
    for (const std::string service : {"sshd", "sudo", "su", "login", "systemd-user", "sudo-i"}) {
        EXPECT_NO_THROW(validate_service(service)) << service;
    }
    const std::string bad_services[] = {"", "SSHD", "ssh d", "../sshd", std::string(65, 's')};
    for (const auto& service : bad_services) {
        std::string message = rejection([&] { validate_service(service); });
        EXPECT_EQ(message.rfind("invalid PAM service name \"", 0), 0u) << message;
    }
}

TEST(FirstInvalidUtf8, FindsTheFirstMalformedByte) {
    EXPECT_EQ(first_invalid_utf8(""), std::string_view::npos);
    EXPECT_EQ(first_invalid_utf8("tab\tand\nnew line, caf\xc3\xa9 \xf0\x9f\x94\x91"),
              std::string_view::npos);
    EXPECT_EQ(first_invalid_utf8("ab\xff"), 2u);            // never a lead byte
    EXPECT_EQ(first_invalid_utf8("a\xc3"), 1u);             // truncated
    EXPECT_EQ(first_invalid_utf8("a\xc3(b"), 1u);           // no continuation
    EXPECT_EQ(first_invalid_utf8("\xc0\xaf"), 0u);          // overlong '/'
    EXPECT_EQ(first_invalid_utf8("x\xed\xa0\x80"), 1u);     // a surrogate
    EXPECT_EQ(first_invalid_utf8("\xf4\x90\x80\x80"), 0u);  // beyond U+10FFFF
}

TEST(ValidateReason, AcceptsPrintableUtf8UpTo1024Characters) {
    const std::string reasons[] = {
        "fix outage INC-4711",
        "x",
        "St\xc3\xb6rung beheben \xe2\x80\x94 Ticket #12",    // ö, em dash
        "\xf0\x9f\x9a\x92 on call",                          // U+1F692 fire engine
        "\xe4\xbf\xae\xe5\xa4\x8d\xe6\x95\x85\xe9\x9a\x9c",  // CJK
        "\xc2\xa0non-breaking space and \xc2\xa9",           // U+00A0 and U+00A9 are printable
        std::string(1024, 'r'),
        std::string(341, 'r') + std::string(341, 'r') + std::string(342, 'r'),
        std::string(1020, 'r') + "\xe2\x82\xac\xe2\x82\xac",  // 1022 characters, 1026 bytes
        [] {  // 1024 euro signs: 3072 bytes, 1024 characters
            std::string s;
            for (int i = 0; i < 1024; ++i) {
                s += "\xe2\x82\xac";
            }
            return s;
        }(),
    };
    for (const auto& reason : reasons) {
        EXPECT_NO_THROW(validate_reason(reason)) << reason;
        EXPECT_TRUE(is_printable_text(reason)) << reason;
    }
}

TEST(ValidateReason, RejectsEmptyLongAndNonPrintableText) {
    const BadInput cases[] = {
        {"", "invalid reason: must not be empty"},
        {std::string(1025, 'r'), "invalid reason: longer than 1024 characters (1025)"},
        {std::string(1023, 'r') + "\xe2\x82\xac\xe2\x82\xac", "longer than 1024 characters (1025)"},
        {std::string(4097, 'r'), "longer than 1024 characters (4097)"},
        {"line one\nline two", "control character or invalid UTF-8 at byte 9"},
        {"tab\there", "at byte 4"},
        {"carriage\rreturn", "at byte 9"},
        {std::string("nul\0byte", 8), "at byte 4"},
        {"\x1b[31mred", "at byte 1"},
        {"del\x7f", "at byte 4"},
        {"next line \xc2\x85", "at byte 11"},        // U+0085 NEL (C1)
        {"csi \xc2\x9b", "at byte 5"},               // U+009B CSI (C1)
        {"\xff", "at byte 1"},                       // never valid in UTF-8
        {"cut \xe2\x82", "at byte 5"},               // truncated sequence
        {"\xe2\x82 x", "at byte 1"},                 // continuation missing
        {"\x80", "at byte 1"},                       // lone continuation byte
        {"overlong \xc0\xaf", "at byte 10"},         // '/' encoded in two bytes
        {"overlong \xe0\x80\xaf", "at byte 10"},     // '/' encoded in three bytes
        {"surrogate \xed\xa0\x80", "at byte 11"},    // U+D800
        {"too big \xf4\x90\x80\x80", "at byte 9"},   // U+110000
        {"\xf8\x88\x80\x80\x80", "at byte 1"},       // five-byte form
        {"gnp.exe\xe2\x80\xae", "at byte 8"},        // U+202E RIGHT-TO-LEFT OVERRIDE
        {"isolate \xe2\x81\xa6x", "at byte 9"},      // U+2066
        {"line\xe2\x80\xa8separator", "at byte 5"},  // U+2028
        {"mark\xe2\x80\x8f", "at byte 5"},           // U+200F RLM
    };
    expect_rejections(cases, refusal_of(validate_reason), names_after("invalid reason: "));
    for (const auto& [reason, problem] : cases) {
        if (!reason.empty() && reason.size() <= kMaxReasonLength) {
            EXPECT_FALSE(is_printable_text(reason)) << reason;
        }
    }
}

TEST(ValidateText, AllowsEmptyAndEnforcesTheLimit) {
    EXPECT_NO_THROW(validate_text("description", "", kMaxDescriptionLength));
    EXPECT_NO_THROW(validate_text("description", std::string(256, 'd'), kMaxDescriptionLength));
    EXPECT_EQ(rejection([] {
                  validate_text("description", std::string(257, 'd'), kMaxDescriptionLength);
              }),
              "invalid description: longer than 256 characters (257)");
    EXPECT_EQ(rejection([] { validate_text("comment", "ok\nthen", kMaxCommentLength); }),
              "invalid comment: control character or invalid UTF-8 at byte 3 (only printable text "
              "is allowed)");
}

TEST(QuoteForMessage, EscapesAndShortens) {
    EXPECT_EQ(quote_for_message("plain"), "\"plain\"");
    EXPECT_EQ(quote_for_message(""), "\"\"");
    EXPECT_EQ(quote_for_message("a\"b\\c"), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(quote_for_message(std::string("\n\x1b\0\xff", 4)), "\"\\x0a\\x1b\\x00\\xff\"");
    EXPECT_EQ(quote_for_message(std::string(64, 'q')), "\"" + std::string(64, 'q') + "\"");
    EXPECT_EQ(quote_for_message(std::string(65, 'q')), "\"" + std::string(64, 'q') + "\"...");
}

}  // namespace
}  // namespace jit

namespace jit {
namespace {

TEST(MakePrintable, ReplacesWhatCouldForgeALineAndCutsOnCharacters) {
    EXPECT_EQ(make_printable("j\xc3\xbcrgen", 100), "j\xc3\xbcrgen");
    EXPECT_EQ(make_printable("a\tb\nc\x1b", 100), "a?b?c?");
    EXPECT_EQ(make_printable("\xff\xfe", 100), "??");
    EXPECT_EQ(make_printable("x\xe2\x80\xaey", 100), "x???y");  // U+202E, byte by byte
    EXPECT_EQ(make_printable("ab\xe2\x82\xac", 4), "ab");       // the euro sign would not fit
    EXPECT_EQ(make_printable(std::string(300, 'h'), 256), std::string(256, 'h'));
}

}  // namespace
}  // namespace jit
