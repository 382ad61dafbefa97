// SPDX-License-Identifier: Apache-2.0
// On which hosts a resource applies (docs/fleet.md): a list of glob patterns matched against
// jitd.conf's [daemon] host. A resource whose patterns do not match this host takes no part in
// this host's login decisions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace jit {

// The patterns of a resource that names none: every host.
inline constexpr std::string_view kEveryHost = "*";

// A host pattern: 1..253 characters of letters, digits, '-' and '.', with the glob operators
// '*' (any run of characters, dots included), '?' (one character) and bracket expressions
// "[a-f0-9]" / "[!0-9]" of letters, digits and '-' ranges. Throws JitError(InvalidInput)
// naming what is wrong.
void validate_host_pattern(std::string_view pattern);

// True when `host` matches the glob `pattern` (fnmatch, letters compared without case as DNS
// does).
bool host_matches(std::string_view pattern, std::string_view host);

// True when one of `patterns` matches `host`; an empty list counts as "*".
bool applies_on_host(const std::vector<std::string>& patterns, std::string_view host);

// A resource's patterns as shown and compared: {"*"} for an empty list.
template <class WithHosts>
std::vector<std::string> host_patterns(const WithHosts& resource) {
    return resource.hosts.empty() ? std::vector<std::string>{std::string(kEveryHost)}
                                  : resource.hosts;
}

}  // namespace jit
