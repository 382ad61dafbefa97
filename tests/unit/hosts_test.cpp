// SPDX-License-Identifier: Apache-2.0
// Host patterns (docs/fleet.md): which patterns a resource may carry and which hosts they match.
#include "jit/hosts.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "jit/error.hpp"
#include "rejection.hpp"

namespace jit {
namespace {

TEST(HostPattern, AcceptsHostNamesAndGlobs) {
    for (const std::string& pattern : std::vector<std::string>{
             "*", "db-01", "db-*", "*.example.org", "web-??", "db-[0-9]", "db-[!0-9]x",
             "DB-[a-f0-9]", "a.b.c", "web-[a-c][0-9]*.eu-1.example.org", std::string(253, 'a')}) {
        EXPECT_NO_THROW(validate_host_pattern(pattern)) << pattern;
    }
}

TEST(HostPattern, RejectsWhatNoHostNameCouldMatchOrGlobCouldRead) {
    const testing::BadInput cases[] = {
        {"", "1 to 253 characters"},
        {std::string(254, 'a'), "1 to 253 characters"},
        {"web_*", "only letters, digits"},
        {"db 01", "only letters, digits"},
        {"db/01", "only letters, digits"},
        {"db\\*", "only letters, digits"},
        {"db-[0-9", "'[' without its ']'"},
        {"db-0]", "']' without its '['"},
        {"db-[]", "empty bracket"},
        {"db-[!]", "empty bracket"},
        {"db-[.]", "bracket expression holds only"},
        {"db-[*]", "bracket expression holds only"},
        {"db\n01", "only letters, digits"},
    };
    testing::expect_rejections(
        cases, testing::refusal_of(validate_host_pattern), [](const std::string& problem) {
            return ::testing::AllOf(testing::names_after("invalid host pattern ")(problem),
                                    ::testing::Not(::testing::HasSubstr("\n")));
        });
}

TEST(HostPattern, MatchesLikeAShellGlobAcrossDotsIgnoringCase) {
    EXPECT_TRUE(host_matches("*", "db-01"));
    EXPECT_TRUE(host_matches("db-*", "db-01"));
    EXPECT_TRUE(host_matches("db-*", "db-01.example.org"));  // '*' runs across dots
    EXPECT_TRUE(host_matches("*.example.org", "db-01.example.org"));
    EXPECT_TRUE(host_matches("db-0?", "db-07"));
    EXPECT_TRUE(host_matches("db-[0-4]1", "db-31"));
    EXPECT_TRUE(host_matches("db-[!5-9]1", "db-31"));
    EXPECT_TRUE(host_matches("DB-01", "db-01"));  // host names have no case
    EXPECT_TRUE(host_matches("db-01", "DB-01"));

    EXPECT_FALSE(host_matches("web-*", "db-01"));
    EXPECT_FALSE(host_matches("db-0?", "db-007"));
    EXPECT_FALSE(host_matches("db-[5-9]1", "db-31"));
    EXPECT_FALSE(host_matches("db-[!0-4]1", "db-31"));
    EXPECT_FALSE(host_matches("*.example.org", "db-01.example.com"));
    EXPECT_FALSE(host_matches("db-01", "db-01.example.org"));  // whole names, no prefix match
    EXPECT_FALSE(host_matches("db", "db-01"));
}

TEST(HostPattern, AResourceAppliesWhenOneOfItsPatternsMatches) {
    const std::vector<std::string> patterns = {"web-*", "db-[0-9][0-9]"};
    EXPECT_TRUE(applies_on_host(patterns, "web-3"));
    EXPECT_TRUE(applies_on_host(patterns, "db-01"));
    EXPECT_FALSE(applies_on_host(patterns, "db-001"));
    EXPECT_FALSE(applies_on_host(patterns, "mail"));
    EXPECT_TRUE(applies_on_host({}, "mail"));  // no patterns: every host
    EXPECT_TRUE(applies_on_host({std::string(kEveryHost)}, "mail"));
}

}  // namespace
}  // namespace jit
