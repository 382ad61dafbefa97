// SPDX-License-Identifier: Apache-2.0
// A policy's reason rules (jit/reason_rules.hpp), alone and through the engine.
#include <gtest/gtest.h>

#include "jit/reason_rules.hpp"
#include "service_test_support.hpp"

namespace jit {
namespace {

std::string refusal(const ReasonRules& rules, const std::string& reason) {
    try {
        check_reason_rules(rules, reason);
    } catch (const JitError& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidInput);
        return e.what();
    }
    return "";
}

TEST(ReasonRulesTest, APatternMustMatchSomewhereInTheReason) {
    const ReasonRules rules{"(INC|CHG)-[0-9]+", 0, "ops"};
    EXPECT_EQ(refusal(rules, "fix INC-1234 now"), "");
    EXPECT_EQ(refusal(rules, "CHG-7"), "");
    const std::string why = refusal(rules, "fix the database");
    EXPECT_NE(why.find("reason-pattern"), std::string::npos) << why;
    EXPECT_NE(why.find("\"ops\""), std::string::npos) << why;
    EXPECT_NE(refusal(rules, "inc-12"), "");  // case matters
}

TEST(ReasonRulesTest, AMinimumLengthCountsCharacters) {
    const ReasonRules rules{"", 5, "ops"};
    EXPECT_NE(refusal(rules, "abcd").find("reason-min-length"), std::string::npos);
    EXPECT_EQ(refusal(rules, "abcde"), "");
    EXPECT_EQ(refusal(rules, "\u00e9\u00e9\u00e9\u00e9\u00e9"), "");  // five characters, ten bytes
}

TEST(ReasonRulesTest, PatternsAndLengthsAreValidated) {
    EXPECT_NO_THROW(validate_reason_pattern(""));
    EXPECT_NO_THROW(validate_reason_pattern("^[A-Z]+-[0-9]+"));
    EXPECT_THROW(validate_reason_pattern("(INC"), JitError);
    EXPECT_THROW(validate_reason_pattern("[z-a]"), JitError);
    EXPECT_THROW(validate_reason_pattern("a\nb"), JitError);
    EXPECT_THROW(validate_reason_pattern(std::string(kMaxReasonPatternLength + 1, 'a')), JitError);
    EXPECT_NO_THROW(validate_reason_min_length(0));
    EXPECT_NO_THROW(validate_reason_min_length(1024));
    EXPECT_THROW(validate_reason_min_length(-1), JitError);
    EXPECT_THROW(validate_reason_min_length(1025), JitError);
}

// glibc's regcomp copies what a repetition repeats; stacked repetitions (found by the fuzzer:
// "[0-9]+" followed by seventy more "+") took gigabytes to compile.
TEST(ReasonRulesTest, PatternsThatRepeatTooMuchAreRefused) {
    EXPECT_NO_THROW(validate_reason_pattern("(INC|CHG)-[0-9]{4,8}: [a-z]+ [a-z]+ [a-z]+"));
    EXPECT_NO_THROW(validate_reason_pattern("[[:digit:]{}+]{2}x{1000}"));  // braces in a bracket
    EXPECT_NO_THROW(validate_reason_pattern("a\\{9999}b*c?d**"));          // an escaped brace
    const auto refused = [](const std::string& pattern) {
        try {
            validate_reason_pattern(pattern);
        } catch (const JitError& e) {
            return std::string(e.what()).find("repeat too much") != std::string::npos;
        }
        return false;
    };
    EXPECT_TRUE(refused("(INC|CHG)-[0-9]+" + std::string(70, '+')));
    EXPECT_TRUE(refused("((x{50}){50}){50}"));
    EXPECT_TRUE(refused("x{4096}"));
    EXPECT_FALSE(refused("x{4095}"));
    EXPECT_TRUE(refused("a+b+c+d+e+f+g+h+i+j+k+l+m+"));  // 2^13
    EXPECT_FALSE(refused("a+b+c+d+e+f+g+h+i+j+k+l+"));   // 2^12
}

class ReasonRulesServiceTest : public service_test::ServiceTest {
  protected:
    void SetUp() override {
        ServiceTest::SetUp();
        service->add_resource(who("ada"), {"db", "", {"sudo"}, {"root"}, {}, ""});
    }
};

TEST_F(ReasonRulesServiceTest, ABadPatternIsRefusedWhenThePolicyIsMade) {
    NewPolicy policy;
    policy.name = "ops";
    policy.action = PolicyAction::AutoApprove;
    policy.reason_pattern = "(INC";
    EXPECT_THROW(service->add_policy(who("ada"), policy), JitError);
    EXPECT_TRUE(service->list_policies(who("ada")).empty());
}

TEST_F(ReasonRulesServiceTest, RequestsAndExtensionsKeepTheRules) {
    NewPolicy policy;
    policy.name = "ops";
    policy.action = PolicyAction::AutoApprove;
    policy.reason_pattern = "(INC|CHG)-[0-9]+";
    policy.reason_min_length = 10;
    const Policy made = service->add_policy(who("ada"), policy);
    EXPECT_EQ(made.reason_pattern, "(INC|CHG)-[0-9]+");
    EXPECT_EQ(made.reason_min_length, 10);
    service->assign_policy(who("ada"), "ops", "db");
    service->set_policy_active(who("ada"), "ops", true);

    const std::size_t events = store.audit_log.size();
    EXPECT_THROW(service->create_request(who("alice"), "db", "INC-1", 3600), JitError);
    EXPECT_THROW(service->create_request(who("alice"), "db", "fixing the replica", 3600), JitError);
    EXPECT_EQ(store.audit_log.size(), events);
    const Request request = service->create_request(who("alice"), "db", "fix INC-4711", 3600);
    EXPECT_EQ(request.state, RequestState::Approved);

    EXPECT_THROW(service->extend_grant(who("alice"), *request.grant_id, "more time please", 600),
                 JitError);
    EXPECT_NO_THROW(service->extend_grant(who("alice"), *request.grant_id, "still INC-4711", 600));

    restart();
    EXPECT_EQ(service->get_policy(who("ada"), "ops").policy.reason_pattern, "(INC|CHG)-[0-9]+");
}

}  // namespace
}  // namespace jit
