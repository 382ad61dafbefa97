// SPDX-License-Identifier: Apache-2.0
// jitd.conf: whatever parse_config accepts is a configuration jitd can run with (absolute
// printable paths, valid group names, durations in range, min <= max); whatever it refuses
// gets one printable error line.
#include <cstdint>

#include "fuzz_support.hpp"
#include "jit/config.hpp"

namespace {

using jit::fuzz::require;

void check_path(const std::string& path, std::string_view key) {
    require(!path.empty() && path.front() == '/' && jit::is_printable_text(path),
            std::string(key) + " is not an absolute printable path: " + path);
}

void check_groups(const std::vector<std::string>& groups) {
    for (const auto& group : groups) {
        jit::validate_group_name(group);  // throws (and so aborts) on a bad name
    }
}

void check_duration(jit::Seconds seconds, std::string_view key, bool zero_allowed) {
    require((zero_allowed || seconds > 0) && seconds <= 36500LL * 86400,
            std::string(key) + " out of range");
}

void check_config(const jit::Config& config) {
    check_path(config.database, "database");
    check_path(config.snapshot, "snapshot");
    check_groups(config.admin_groups);
    check_groups(config.auditor_groups);
    for (const auto& service : config.unmanaged_services) {
        jit::validate_service(service);  // throws (and so aborts) on a bad name
    }
    check_duration(config.min_duration, "min_duration", false);
    check_duration(config.max_duration_limit, "max_duration_limit", false);
    check_duration(config.kill_grace, "kill_grace", false);
    check_duration(config.warn_before, "warn_before", true);
    check_duration(config.notify_timeout, "notify_timeout", false);
    require(config.min_duration <= config.max_duration_limit, "min_duration > max_duration_limit");
    require(config.max_pending_per_user >= 0 && config.max_pending_per_user <= 1000000 &&
                config.requests_per_hour >= 0 && config.requests_per_hour <= 1000000,
            "a request limit out of range");
    require(jit::is_printable_text(config.notify_command), "notify_command is not printable");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(jit::fuzz::as_text(data, size));
    try {
        check_config(jit::parse_config(text, "/etc/jit/jitd.conf"));
    } catch (const jit::JitError& error) {
        jit::fuzz::require_clean_refusal(error);
    }
    return 0;
}
