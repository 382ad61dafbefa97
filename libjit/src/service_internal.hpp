// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the engine's source files (service*.cpp); not a public header.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "jit/audit_events.hpp"
#include "jit/error.hpp"
#include "jit/service.hpp"
#include "jit/ssh_key.hpp"
#include "jit/text.hpp"
#include "jit/validate.hpp"

namespace jit::engine {

// Audit events are built from the typed table of jit/audit_events.hpp.
using Fields = audit::FieldValues;
using F = audit::Field;
using E = audit::Event;

constexpr std::size_t kMaxAttemptField = 256;
constexpr int kMaxApprovalsRequired = 100;
constexpr Seconds kRetryDelay = 5;
constexpr Seconds kFallbackClockSkew = 60;

// Keeps order, drops repeats: "--service sshd --service sshd" means sshd once.
inline std::vector<std::string> deduplicated(const std::vector<std::string>& items) {
    std::vector<std::string> out;
    for (const auto& item : items) {
        if (std::find(out.begin(), out.end(), item) == out.end()) {
            out.push_back(item);
        }
    }
    return out;
}

inline ReasonRules reason_rules_of(const Policy& policy) {
    return {policy.reason_pattern, policy.reason_min_length, policy.name};
}

inline std::string expiry_text(const std::optional<EpochSeconds>& expiry) {
    return expiry ? format_rfc3339(*expiry) : "never";
}

// JIT_ACTOR is the person the action counts for (root acting for its login user counts as that
// user); JIT_ACTOR_LOGIN is added when the caller's login user differs from its account.
// Appends JIT_ACTOR_LOGIN to an event's fields when the caller has one.
inline Fields with_login(const Caller& caller, Fields fields) {
    if (caller.login_differs()) {
        fields.emplace_back(F::ActorLogin, caller.login_name);
    }
    return fields;
}

constexpr Seconds kRequestRateWindow = 3600;
constexpr std::size_t kMaxAuditPage = 1000;

inline void validate_attempt_text(const LoginAttempt& attempt) {
    const std::pair<const char*, const std::string*> fields[] = {{"user", &attempt.user},
                                                                 {"ruser", &attempt.ruser},
                                                                 {"rhost", &attempt.rhost},
                                                                 {"tty", &attempt.tty}};
    for (const auto& [what, value] : fields) {
        validate_text(what, *value, kMaxAttemptField);
    }
    if (attempt.user.empty()) {
        throw_invalid("user must not be empty");
    }
    if (!attempt.ssh_key.empty() &&
        parse_public_key(attempt.ssh_key).key_text() != attempt.ssh_key) {
        throw_invalid("the ssh key is not \"TYPE BASE64\" in canonical form");
    }
}

inline void validate_attempt(const LoginAttempt& attempt) {
    validate_service(attempt.service);
    validate_attempt_text(attempt);
}

// A login pam_jit decided alone has happened: it is audited whatever PAM called the service,
// as long as the name is printable text (the spool line made it so).
inline void validate_fallback_attempt(const LoginAttempt& attempt) {
    validate_text("service", attempt.service, kMaxAttemptField);
    validate_attempt_text(attempt);
}

}  // namespace jit::engine
