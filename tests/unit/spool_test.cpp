// SPDX-License-Identifier: Apache-2.0
// The fallback spool line pam_jit writes and jitd reads (jit/spool.hpp).
#include <gtest/gtest.h>

#include "jit/error.hpp"
#include "jit/spool.hpp"
#include "jit/validate.hpp"

namespace jit {
namespace {

std::string without_newline(std::string line) {
    EXPECT_EQ(line.back(), '\n');
    line.pop_back();
    return line;
}

TEST(SpoolLine, RoundTripsEveryField) {
    FallbackLogin login{{"sudo", "root", "alice", "10.0.0.9", "pts/3", 1000, 1001},
                        "allowed",
                        1795670000,
                        7,
                        4242,
                        "c12"};
    login.fingerprint = "SHA256:abc";
    const std::string line = format_fallback_line(login);
    EXPECT_EQ(line,
              "1795670000\tallowed\tsudo\troot\talice\t10.0.0.9\tpts/3\t4242\t7\tc12\t1000\t1001"
              "\tSHA256:abc\n");
    FallbackLogin parsed = parse_fallback_line(without_newline(line));
    EXPECT_EQ(parsed.when, login.when);
    EXPECT_EQ(parsed.outcome, "allowed");
    EXPECT_EQ(parsed.attempt.service, "sudo");
    EXPECT_EQ(parsed.attempt.user, "root");
    EXPECT_EQ(parsed.attempt.ruser, "alice");
    EXPECT_EQ(parsed.attempt.rhost, "10.0.0.9");
    EXPECT_EQ(parsed.attempt.tty, "pts/3");
    EXPECT_EQ(parsed.pid, 4242);
    EXPECT_EQ(parsed.grant_id, 7);
    EXPECT_EQ(parsed.logind_session, "c12");
    EXPECT_EQ(parsed.attempt.app_uid, 1000u);
    EXPECT_EQ(parsed.attempt.login_uid, 1001u);
    EXPECT_EQ(parsed.fingerprint, "SHA256:abc");
}

TEST(SpoolLine, ReadsLinesWithoutAFingerprint) {
    FallbackLogin parsed = parse_fallback_line(
        "1795670000\tallowed\tsshd\tpostgres\t\t10.0.0.9\tssh\t0\t0\t\t0\t4294967295");
    EXPECT_EQ(parsed.attempt.user, "postgres");
    EXPECT_EQ(parsed.fingerprint, "");
}

TEST(SpoolLine, EveryOutcomeAndEmptyOptionalFields) {
    for (const char* outcome : {"allowed", "denied", "open", "unavailable", "exempt"}) {
        FallbackLogin parsed = parse_fallback_line(without_newline(
            format_fallback_line({{"sshd", "root", "", "", ""}, outcome, 1, 0, 0, ""})));
        EXPECT_EQ(parsed.outcome, outcome);
        EXPECT_EQ(parsed.attempt.ruser, "");
        EXPECT_EQ(parsed.pid, 0);
    }
    EXPECT_FALSE(is_fallback_outcome("maybe"));
}

TEST(SpoolLine, WhateverPamHandsOverStillMakesOneParsableLine) {
    FallbackLogin login{
        {"sshd", "root", "", "evil\thost\nx", "ssh\x1b"}, "denied", 5, 0, 0, "c1\n"};
    login.attempt.rhost += std::string(300, 'h');
    const std::string line = format_fallback_line(login);
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
    FallbackLogin parsed = parse_fallback_line(without_newline(line));
    EXPECT_EQ(parsed.attempt.rhost.substr(0, 11), "evil?host?x");
    EXPECT_EQ(parsed.attempt.rhost.size(), kMaxSpoolFieldBytes);
    EXPECT_EQ(parsed.attempt.tty, "ssh?");
    EXPECT_EQ(parsed.logind_session, "c1?");
}

// Found by fuzz/spool_fuzzer: a service name jit would not use for a resource was spooled but
// refused when jitd read it back, so that fallback login was never audited.
TEST(SpoolLine, TheServiceIsWhateverPamCalledIt) {
    for (const std::string service : {"SSH D", "", "Login", "svc\x01"}) {
        const FallbackLogin parsed = parse_fallback_line(without_newline(
            format_fallback_line({{service, "root", "", "", ""}, "exempt", 1, 0, 0, ""})));
        EXPECT_EQ(parsed.attempt.service, make_printable(service, kMaxSpoolFieldBytes)) << service;
    }
}

TEST(SpoolLine, RejectsMalformedLines) {
    const std::string ok = "\t0\t0\t";  // pid, grant id, logind session
    const std::vector<std::string> bad = {
        "",
        "garbage",
        "1\tallowed\tsshd\troot\talice\thost\ttty",                   // 7 fields
        "1\tallowed\tsshd\troot\talice\thost\ttty" + ok + "\textra",  // 11 fields
        "x\tallowed\tsshd\troot\talice\thost\ttty" + ok,              // time
        "-5\tallowed\tsshd\troot\talice\thost\ttty" + ok,
        "0\tallowed\tsshd\troot\talice\thost\ttty" + ok,
        "12a\tallowed\tsshd\troot\talice\thost\ttty" + ok,
        "1\tmaybe\tsshd\troot\talice\thost\ttty" + ok,        // outcome
        "1\tallowed\tss\x01h\troot\talice\thost\ttty" + ok,   // control character in service
        "1\tallowed\tsshd\t\talice\thost\ttty" + ok,          // empty user
        "1\tallowed\tsshd\tro\x01ot\talice\thost\ttty" + ok,  // control character
        "1\tallowed\tsshd\troot\talice\thost\ttty\t-1\t0\t",  // pid
        "1\tallowed\tsshd\troot\talice\thost\ttty\t1\tx\t",   // grant id
        "1\tallowed\tsshd\troot\talice\thost\ttty\t\t0\t",    // empty pid
        "1\tallowed\tsshd\troot\talice\t" + std::string(300, 'h') + "\ttty" + ok,
    };
    for (const std::string& line : bad) {
        EXPECT_THROW(parse_fallback_line(line), JitError) << line;
    }
}

}  // namespace
}  // namespace jit
