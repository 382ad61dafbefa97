// SPDX-License-Identifier: Apache-2.0
// pam_jit's module arguments (one per NUL-separated piece of the input): what is taken is in
// range, and timeout= refuses cleanly.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "options.hpp"

namespace {

using jit::fuzz::require;
namespace pam = jit::pam;

constexpr std::size_t kMaxArguments = 32;

std::vector<std::string> split_arguments(std::string_view text) {
    std::vector<std::string> arguments;
    while (arguments.size() < kMaxArguments) {
        const std::size_t nul = text.find('\0');
        arguments.emplace_back(text.substr(0, nul));
        if (nul == std::string_view::npos) {
            break;
        }
        text.remove_prefix(nul + 1);
    }
    return arguments;
}

void check_options(const pam::ParsedOptions& parsed) {
    const pam::Options& options = parsed.options;
    require(options.timeout_usec >= 1000 && options.timeout_usec <= pam::kMaxTimeoutUsec,
            "timeout out of range");
    require(!options.snapshot.empty() && options.snapshot.front() == '/' &&
                options.snapshot.back() != '/',
            "snapshot is not an absolute file path");
    for (const auto& principal : options.exempt) {
        jit::validate_principal(principal);  // throws (and so aborts) on a bad entry
    }
    // pam_jit logs each problem through sanitized(); an empty one would be a silent warning.
    for (const auto& problem : parsed.problems) {
        require(!problem.empty(), "an empty problem line");
    }
}

void check_timeout(std::string_view text) {
    try {
        const std::uint64_t usec = pam::parse_timeout_usec(text);
        require(usec >= 1000 && usec <= pam::kMaxTimeoutUsec, "parse_timeout_usec out of range");
    } catch (const jit::JitError& error) {
        jit::fuzz::require_clean_refusal(error);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::vector<std::string> arguments = split_arguments(jit::fuzz::as_text(data, size));
    std::vector<const char*> argv;
    for (const auto& argument : arguments) {
        argv.push_back(argument.c_str());
    }
    check_options(pam::parse_options(static_cast<int>(argv.size()), argv.data()));
    check_timeout(arguments.front());
    return 0;
}
