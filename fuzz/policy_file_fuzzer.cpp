// SPDX-License-Identifier: Apache-2.0
// Policy files (`jitctl apply`): whatever the bytes, parse_policy_files either refuses them with
// one clean line or reads a configuration that write_policy_file prints back to the same
// configuration (its plan against the original is empty).
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "jit/error.hpp"
#include "jit/policy_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    jit::Configuration configuration;
    try {
        configuration = jit::parse_policy_files({{"fuzz.toml", text}});
    } catch (const jit::JitError& error) {
        jit::fuzz::require_clean_refusal(error);
        return 0;
    }
    jit::Configuration again;
    try {
        again = jit::parse_policy_files({{"export.toml", jit::write_policy_file(configuration)}});
    } catch (const jit::JitError&) {
        jit::fuzz::require(false, "an exported configuration does not read back");
    }
    jit::fuzz::require(jit::plan_configuration(configuration, again, true).empty(),
                       "an exported configuration reads back different");
    return 0;
}
