// SPDX-License-Identifier: Apache-2.0
#include "messages.hpp"

#include <ctime>

#include "jit/validate.hpp"

namespace jit::pam {

std::string sanitized(std::string_view text) {
    return make_printable(text, text.size());
}

std::string format_utc(EpochSeconds instant) {
    const std::time_t t = static_cast<std::time_t>(instant);
    std::tm tm{};
    char text[64];
    if (gmtime_r(&t, &tm) == nullptr ||
        std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
        return "@" + std::to_string(instant);
    }
    return text;
}

std::string denial_message(const LoginDecision& decision) {
    const std::string target = sanitized(decision.target);
    if (decision.starts) {
        return "jit: access to " + target + " on this host starts at " +
               format_utc(*decision.starts) + " (your scheduled grant); not before.";
    }
    if (decision.resources.empty()) {
        return "jit: access to " + target + " on this host is denied.";
    }
    std::string message = "jit: access to " + target + " on this host requires a grant on ";
    if (decision.resources.size() == 1) {
        message += "resource \"" + decision.resources.front() + "\". Request it with: ";
    } else {
        message += "one of the resources ";
        for (std::size_t i = 0; i < decision.resources.size(); ++i) {
            message += (i == 0 ? "\"" : ", \"") + decision.resources[i] + "\"";
        }
        message += ". Request one with: ";
    }
    return message + "jitctl request " + decision.resources.front() +
           " --reason \"...\" --duration 1h";
}

std::string grant_notice(const LoginDecision& decision) {
    return "jit: access granted by grant " + std::to_string(decision.grant_id) + " on " +
           decision.resource + " until " +
           (decision.expiry ? format_utc(*decision.expiry) : std::string("revoked"));
}

std::string unavailable_message(const std::string& target) {
    return "jit: access to " + sanitized(target) +
           " on this host cannot be checked right now (jitd is unreachable).";
}

}  // namespace jit::pam
