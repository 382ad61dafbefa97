// SPDX-License-Identifier: Apache-2.0
// The snapshot pam_jit decides from when jitd cannot answer. A snapshot parse_snapshot accepts
// serializes to text that parses to the same index, and the index decides as its lines say:
// a listed member is let in, and so is the holder of a live grant (or, for root switching
// accounts without a login of its own, the login is root's automation).
#include <cstdint>
#include <map>

#include "fuzz_support.hpp"
#include "jit/access.hpp"

namespace {

using jit::fuzz::require;

constexpr std::size_t kMaxChecks = 4;

// A few accounts NSS knows, so that accounts and members are also matched by uid.
class Accounts final : public jit::IdentityResolver {
  public:
    std::vector<std::string> groups_of(const std::string& user) const override {
        if (user == "alice" || user == "bob") {
            return {user, "ops"};
        }
        return {};
    }
    std::optional<std::string> user_name(uid_t uid) const override {
        for (const auto& [name, known] : kUids) {
            if (known == uid) {
                return name;
            }
        }
        return std::nullopt;
    }
    std::optional<uid_t> user_uid(const std::string& name) const override {
        auto found = kUids.find(name);
        return found == kUids.end() ? std::nullopt : std::optional<uid_t>(found->second);
    }

  private:
    const std::map<std::string, uid_t> kUids = {
        {"root", 0}, {"postgres", 108}, {"alice", 1003}, {"bob", 1004}, {"deploy", 1010}};
};

const Accounts kAccounts;

bool let_in(jit::LoginVerdict verdict) {
    return verdict == jit::LoginVerdict::Member || verdict == jit::LoginVerdict::Grant ||
           verdict == jit::LoginVerdict::RootAutomation;
}

// A login the rule covers, by `requester` switching to the rule's first account; nothing when
// the rule covers no login a fallback decides.
std::optional<jit::LoginAttempt> covered_login(const jit::AccessIndex& index,
                                               const jit::AccessRule& rule,
                                               const std::string& requester) {
    if (rule.services.empty() || rule.accounts.empty()) {
        return std::nullopt;
    }
    jit::LoginAttempt attempt;
    attempt.service = rule.services.front();
    if (attempt.service == "*") {
        attempt.service = "sshd";
        const auto& unmanaged = index.unmanaged_services();
        if (std::find(unmanaged.begin(), unmanaged.end(), "sshd") != unmanaged.end()) {
            return std::nullopt;
        }
    }
    attempt.user = rule.accounts.front() == "*" ? "root" : rule.accounts.front();
    attempt.ruser = requester;
    return attempt;
}

void check_members_let_in(const jit::AccessIndex& index) {
    std::size_t checked = 0;
    for (const auto& rule : index.rules()) {
        if (rule.members.empty() || rule.members.front()[0] == '@') {
            continue;
        }
        if (auto attempt = covered_login(index, rule, rule.members.front())) {
            require(let_in(index.decide(*attempt, 0).verdict), "a listed member is not let in");
            if (++checked == kMaxChecks) {
                return;
            }
        }
    }
}

void check_grants_let_in(const jit::AccessIndex& index) {
    const std::vector<jit::AccessRule> rules = index.rules();
    std::size_t checked = 0;
    for (const auto& grant : index.grants()) {
        auto rule = std::find_if(rules.begin(), rules.end(),
                                 [&](const auto& r) { return r.name == grant.resource; });
        if (rule == rules.end()) {
            continue;
        }
        if (auto attempt = covered_login(index, *rule, grant.user)) {
            const jit::EpochSeconds now = grant.expiry ? *grant.expiry - 1 : 0;
            require(let_in(index.decide(*attempt, now).verdict),
                    "the holder of a live grant is not let in");
            if (++checked == kMaxChecks) {
                return;
            }
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::optional<jit::AccessIndex> index;
    try {
        index = jit::parse_snapshot(jit::fuzz::as_text(data, size), &kAccounts);
    } catch (const jit::JitError& error) {
        jit::fuzz::require_clean_refusal(error);
        return 0;
    }
    const std::string written = jit::serialize_snapshot(*index, 0);
    const std::string rewritten =
        jit::serialize_snapshot(jit::parse_snapshot(written, &kAccounts), 0);
    require(written == rewritten, "a parsed snapshot does not serialize back to itself");
    check_members_let_in(*index);
    check_grants_let_in(*index);
    return 0;
}
