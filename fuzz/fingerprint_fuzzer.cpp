// SPDX-License-Identifier: Apache-2.0
// Grant review fingerprints as the store keeps them (jit/grant_review.hpp): text that
// parse_fingerprint accepts formats back to text that parses to the same fingerprint (paths and
// the reason it was cut short escaped and unescaped alike), which compared with the first finds
// nothing changed; a refusal is one printable line.
#include <algorithm>
#include <cstdint>

#include "fuzz_support.hpp"
#include "jit/grant_review.hpp"

namespace {

using jit::fuzz::require;

bool has_repeated_path(const jit::Fingerprint& fingerprint) {
    return std::adjacent_find(fingerprint.entries.begin(), fingerprint.entries.end(),
                              [](const jit::FileEntry& a, const jit::FileEntry& b) {
                                  return a.path == b.path;
                              }) != fingerprint.entries.end();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    jit::Fingerprint parsed;
    try {
        parsed = jit::parse_fingerprint(jit::fuzz::as_text(data, size));
    } catch (const jit::JitError& error) {
        jit::fuzz::require_clean_refusal(error);
        return 0;
    }
    // Throws (and so aborts) when what format_fingerprint wrote does not parse.
    const jit::Fingerprint again = jit::parse_fingerprint(jit::format_fingerprint(parsed));
    require(again.entries.size() == parsed.entries.size(), "formatting lost or added entries");
    require(again.incomplete == parsed.incomplete, "the incomplete reason does not round-trip");
    // jitd never writes a path twice; with repeats the order among them is not kept.
    if (!has_repeated_path(parsed)) {
        require(again.entries == parsed.entries, "an entry does not round-trip");
        require(jit::compare_fingerprints(parsed, again).empty(),
                "a fingerprint compared with its own text changed");
    }
    return 0;
}
