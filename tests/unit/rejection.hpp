// SPDX-License-Identifier: Apache-2.0
// How the tests of parsers and validators check a refusal: the message of the
// JitError(InvalidInput) thrown, and a table of bad inputs, each checked against its message.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <span>
#include <string>
#include <type_traits>

#include "jit/error.hpp"

namespace jit::testing {

template <typename T>
concept Printable = requires(std::ostream& out, const T& value) { out << value; };

// The message of the JitError(InvalidInput) that `action()` throws for `input`; a test failure
// (and "") when it throws nothing, a failure too when it throws another code.
template <typename Action>
std::string rejection_of(Action action, const std::string& input = "") {
    try {
        if constexpr (Printable<std::invoke_result_t<Action&>>) {
            const auto accepted = action();
            ADD_FAILURE() << "accepted \"" << input << "\" as " << accepted;
        } else {
            action();
            ADD_FAILURE() << "accepted \"" << input << "\"";
        }
    } catch (const JitError& error) {
        EXPECT_EQ(error.code(), ErrorCode::InvalidInput) << input;
        return error.what();
    }
    return {};
}

struct BadInput {
    std::string text;
    std::string problem;  // what its rejection says (as `expect_rejections` is told to check)
};

// Each case's text is refused by `reject` (text -> message) with a message that matches
// `says(case.problem)`, a gMock matcher such as the ones below.
template <typename Reject, typename Says>
void expect_rejections(std::span<const BadInput> cases, Reject reject, Says says) {
    for (const BadInput& bad : cases) {
        EXPECT_THAT(reject(bad.text), says(bad.problem)) << "input \"" << bad.text << "\"";
    }
}

// `reject` for expect_rejections from a parser or validator of one string.
template <typename Check>
auto refusal_of(Check check) {
    return [check](const std::string& text) { return rejection_of([&] { check(text); }, text); };
}

// For `says`: the message names the problem somewhere; it starts with it; it starts with
// `prefix` and names the problem.
inline auto names(const std::string& problem) {
    return ::testing::HasSubstr(problem);
}
inline auto starts_with(const std::string& beginning) {
    return ::testing::StartsWith(beginning);
}
inline auto names_after(const std::string& prefix) {
    return [prefix](const std::string& problem) {
        return ::testing::AllOf(::testing::StartsWith(prefix), ::testing::HasSubstr(problem));
    };
}

}  // namespace jit::testing
