// SPDX-License-Identifier: Apache-2.0
#include "jit/access.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

#include "jit/error.hpp"
#include "jit/identity.hpp"
#include "jit/ssh_key.hpp"
#include "jit/text.hpp"
#include "jit/validate.hpp"

namespace jit {
namespace {

// Without NSS (unit tests of the index alone): names are the only identity.
class NameOnlyIdentity final : public IdentityResolver {
  public:
    std::vector<std::string> groups_of(const std::string&) const override { return {}; }
    std::optional<std::string> user_name(uid_t) const override { return std::nullopt; }
    std::optional<uid_t> user_uid(const std::string&) const override { return std::nullopt; }
};

bool has_group_members(const AccessRule& rule) {
    return std::any_of(rule.members.begin(), rule.members.end(),
                       [](const std::string& m) { return !m.empty() && m[0] == '@'; });
}

bool is_live(const ActiveGrant& grant, EpochSeconds now) {
    return !grant.expiry || *grant.expiry > now;
}

// The later of two expiries, where "none" (until revoked) is the latest of all.
bool outlasts(const std::optional<EpochSeconds>& a, const std::optional<EpochSeconds>& b) {
    if (!a) {
        return b.has_value();
    }
    return b && *a > *b;
}

}  // namespace

Requester resolve_requester(const LoginAttempt& attempt, const IdentityResolver& identity) {
    Requester requester;
    if (attempt.app_uid != 0) {
        requester.uid = attempt.app_uid;
    } else {
        requester.name = attempt.ruser.empty() ? attempt.user : attempt.ruser;
        requester.uid = identity.user_uid(requester.name);
    }
    // Root switching accounts (su, sudo, runuser run by root): the person behind the root shell
    // when the process descends from someone's login, root's own automation otherwise.
    const bool root_switching = attempt.app_uid == 0 && !attempt.ruser.empty();
    if (root_switching && requester.uid == 0u) {
        if (attempt.login_uid == 0 || attempt.login_uid == kLoginUidUnset) {
            requester.root_automation = true;
        } else {
            requester.uid = attempt.login_uid;
            requester.name.clear();
        }
    }
    if (!requester.uid) {
        return requester;  // a name NSS does not know: compared by name
    }
    // The uid's own name, so an alias or another spelling of the same user is that user.
    if (std::optional<std::string> name = identity.user_name(*requester.uid)) {
        requester.name = std::move(*name);
    } else if (requester.name.empty()) {
        requester.name = "#" + std::to_string(*requester.uid);
    }
    return requester;
}

std::vector<std::string> service_routes(const std::string& service) {
    if (service == "sudo" || service == "su" || service == "runuser") {
        return {service, service == "sudo" ? "sudo-i" : service + "-l"};
    }
    return {service};
}

const std::vector<std::string>& default_unmanaged_services() {
    static const std::vector<std::string> services = {"cron", "atd", "systemd-user"};
    return services;
}

std::string_view to_string(LoginVerdict verdict) {
    switch (verdict) {
        case LoginVerdict::Unmanaged:
            return "unmanaged";
        case LoginVerdict::RootAutomation:
            return "root";
        case LoginVerdict::Member:
            return "member";
        case LoginVerdict::Grant:
            return "grant";
        case LoginVerdict::Deny:
            return "deny";
        case LoginVerdict::Deferred:
            return "deferred";
    }
    return "deny";
}

LoginVerdict parse_login_verdict(std::string_view text) {
    for (auto v : {LoginVerdict::Unmanaged, LoginVerdict::RootAutomation, LoginVerdict::Member,
                   LoginVerdict::Grant, LoginVerdict::Deny, LoginVerdict::Deferred}) {
        if (to_string(v) == text) {
            return v;
        }
    }
    throw_invalid("unknown login verdict " + quote_for_message(text));
}

void AccessIndex::set_unmanaged_services(std::vector<std::string> services) {
    unmanaged_ = std::move(services);
}

std::optional<uid_t> AccessIndex::uid_of(const std::string& name,
                                         const IdentityResolver* names) const {
    if (!identity_ || name.empty() || name == "*" || name[0] == '@') {
        return std::nullopt;
    }
    return (names ? *names : *identity_).user_uid(name);
}

// The keys an account is indexed (and looked up) under: its name, and "#UID" when NSS knows it.
std::vector<std::string> AccessIndex::account_keys(const std::string& account,
                                                   const IdentityResolver* names) const {
    std::vector<std::string> keys = {account};
    if (std::optional<uid_t> uid = uid_of(account, names)) {
        keys.push_back("#" + std::to_string(*uid));
    }
    return keys;
}

void AccessIndex::put_rule(AccessRule rule, const IdentityResolver* names) {
    remove_rule(rule.name);
    // Each account resolved once, whatever the number of services and their routes.
    std::vector<std::string> keys;
    for (const auto& account : rule.accounts) {
        for (std::string& key : account_keys(account, names)) {
            keys.push_back(std::move(key));
        }
    }
    for (const auto& service : rule.services) {
        for (const auto& route : service_routes(service)) {
            for (const auto& key : keys) {
                auto& covering = by_service_[route][key];
                if (std::find(covering.begin(), covering.end(), rule.name) == covering.end()) {
                    covering.push_back(rule.name);
                }
            }
        }
    }
    std::vector<uid_t> member_uids;
    for (const auto& member : rule.members) {
        if (std::optional<uid_t> uid = uid_of(member, names)) {
            member_uids.push_back(*uid);
        }
    }
    member_uids_[rule.name] = std::move(member_uids);
    std::string name = rule.name;
    rules_.emplace(std::move(name), std::move(rule));
}

void AccessIndex::remove_rule(const std::string& name) {
    auto it = rules_.find(name);
    if (it == rules_.end()) {
        return;
    }
    // Drop the name wherever it was indexed (the keys it was put under may no longer resolve).
    for (auto service = by_service_.begin(); service != by_service_.end();) {
        ByAccount& by_account = service->second;
        for (auto account = by_account.begin(); account != by_account.end();) {
            auto& names = account->second;
            names.erase(std::remove(names.begin(), names.end(), name), names.end());
            account = names.empty() ? by_account.erase(account) : std::next(account);
        }
        service = by_account.empty() ? by_service_.erase(service) : std::next(service);
    }
    member_uids_.erase(name);
    rules_.erase(it);
}

void AccessIndex::put_grant(ActiveGrant grant) {
    remove_grant(grant.id);
    grants_by_user_[grant.user].emplace(grant.resource, grant.id);
    Id id = grant.id;
    grants_.emplace(id, std::move(grant));
}

void AccessIndex::remove_grant(Id grant_id) {
    auto it = grants_.find(grant_id);
    if (it == grants_.end()) {
        return;
    }
    auto user_it = grants_by_user_.find(it->second.user);
    if (user_it != grants_by_user_.end()) {
        auto& by_resource = user_it->second;
        auto [first, last] = by_resource.equal_range(it->second.resource);
        for (auto g = first; g != last; ++g) {
            if (g->second == grant_id) {
                by_resource.erase(g);
                break;
            }
        }
        if (by_resource.empty()) {
            grants_by_user_.erase(user_it);
        }
    }
    grants_.erase(it);
}

void AccessIndex::put_key(KeyOwner key) {
    remove_key(key.fingerprint);
    if (auto old = keys_by_text_.find(key.key); old != keys_by_text_.end()) {
        key_text_by_fingerprint_.erase(old->second.fingerprint);
    }
    key_text_by_fingerprint_[key.fingerprint] = key.key;
    std::string text = key.key;
    keys_by_text_[std::move(text)] = std::move(key);
}

void AccessIndex::remove_key(const std::string& fingerprint) {
    auto it = key_text_by_fingerprint_.find(fingerprint);
    if (it == key_text_by_fingerprint_.end()) {
        return;
    }
    keys_by_text_.erase(it->second);
    key_text_by_fingerprint_.erase(it);
}

void AccessIndex::clear() {
    keys_by_text_.clear();
    key_text_by_fingerprint_.clear();
    rules_.clear();
    member_uids_.clear();
    by_service_.clear();
    grants_.clear();
    grants_by_user_.clear();
}

// The rules covering (service, target): the service's own entry and, unless the service is
// one "*" leaves alone, the "*" entry; the target by name, by uid, and by the uid's own name.
std::vector<const AccessRule*> AccessIndex::matching_rules(const LoginAttempt& attempt,
                                                           std::optional<uid_t> target_uid) const {
    std::vector<std::string> keys = {attempt.user, "*"};
    if (target_uid) {
        keys.push_back("#" + std::to_string(*target_uid));
    }
    const bool unmanaged =
        std::find(unmanaged_.begin(), unmanaged_.end(), attempt.service) != unmanaged_.end();
    std::vector<const AccessRule*> matching;
    auto collect = [&](const std::string& service) {
        auto it = by_service_.find(service);
        if (it == by_service_.end()) {
            return;
        }
        for (const std::string& key : keys) {
            if (auto names = it->second.find(key); names != it->second.end()) {
                for (const auto& name : names->second) {
                    matching.push_back(&rules_.at(name));
                }
            }
        }
    };
    collect(attempt.service);
    if (!unmanaged) {
        collect("*");
    }
    // An account created after its resource was indexed is known by name only: look up the
    // target's own name too before calling the login unmanaged.
    if (matching.empty() && target_uid && identity_) {
        if (std::optional<std::string> name = identity_->user_name(*target_uid);
            name && *name != attempt.user) {
            keys = {*name};
            collect(attempt.service);
            if (!unmanaged) {
                collect("*");
            }
        }
    }
    std::sort(matching.begin(), matching.end(),
              [](const AccessRule* a, const AccessRule* b) { return a->name < b->name; });
    // A rule found under several keys or services appears once.
    matching.erase(std::unique(matching.begin(), matching.end()), matching.end());
    return matching;
}

// Standing member by uid (names where NSS does not know them) or by one of the person's groups;
// the groups are looked up at most once per decision and only when a rule has @group members.
bool AccessIndex::is_member(const AccessRule& rule, const Requester& requester,
                            std::optional<std::vector<std::string>>& groups) const {
    if (principals_name(rule.members, requester.name, {})) {
        return true;
    }
    if (requester.uid) {
        const auto& uids = member_uids_.at(rule.name);
        if (std::find(uids.begin(), uids.end(), *requester.uid) != uids.end()) {
            return true;
        }
    }
    if (!has_group_members(rule)) {
        return false;
    }
    if (!groups) {
        groups = identity_ ? identity_->groups_of(requester.name) : std::vector<std::string>{};
    }
    return principals_name(rule.members, requester.name, *groups);
}

bool AccessIndex::admit(const std::vector<const AccessRule*>& matching, const Requester& requester,
                        EpochSeconds now, LoginDecision& decision) const {
    std::optional<std::vector<std::string>> groups;
    for (const AccessRule* rule : matching) {
        if (is_member(*rule, requester, groups)) {
            decision.verdict = LoginVerdict::Member;
            decision.resource = rule->name;
            return true;
        }
    }
    // Then active grants; among several, the one that lasts longest.
    const ActiveGrant* best = nullptr;
    if (auto user_it = grants_by_user_.find(requester.name); user_it != grants_by_user_.end()) {
        for (const AccessRule* rule : matching) {
            auto [first, last] = user_it->second.equal_range(rule->name);
            for (auto g = first; g != last; ++g) {
                const ActiveGrant& grant = grants_.at(g->second);
                if (is_live(grant, now) && (!best || outlasts(grant.expiry, best->expiry))) {
                    best = &grant;
                }
            }
        }
    }
    if (!best) {
        return false;
    }
    decision.verdict = LoginVerdict::Grant;
    decision.resource = best->resource;
    decision.grant_id = best->id;
    decision.expiry = best->expiry;
    return true;
}

// The person a registered key belongs to, identified like any requester: by uid when NSS knows
// the name.
Requester AccessIndex::key_owner(const KeyOwner& key) const {
    Requester person;
    person.name = key.user;
    person.uid = uid_of(key.user);
    if (person.uid && identity_) {
        if (std::optional<std::string> name = identity_->user_name(*person.uid)) {
            person.name = std::move(*name);
        }
    }
    return person;
}

std::vector<std::string> AccessIndex::key_owners_admitted(
    const std::vector<const AccessRule*>& matching, EpochSeconds now, bool first_only) const {
    std::map<std::string, bool> owners;  // each person once, in name order
    for (const auto& [text, key] : keys_by_text_) {
        owners.emplace(key.user, false);
    }
    std::vector<std::string> admitted;
    for (const auto& [owner, unused] : owners) {
        LoginDecision scratch;
        if (admit(matching, key_owner(KeyOwner{"", owner, ""}), now, scratch)) {
            admitted.push_back(owner);
            if (first_only) {
                break;
            }
        }
    }
    return admitted;
}

LoginDecision AccessIndex::decide(const LoginAttempt& attempt, EpochSeconds now) const {
    static const NameOnlyIdentity kNamesOnly;
    const IdentityResolver& identity = identity_ ? *identity_ : kNamesOnly;
    LoginDecision decision;
    decision.target = attempt.user;
    const std::vector<const AccessRule*> matching =
        matching_rules(attempt, identity.user_uid(attempt.user));
    if (matching.empty()) {
        return decision;  // Unmanaged: this host does not manage the login.
    }
    // A registered key names the person behind it; any other key (or none) leaves the rule.
    const auto key =
        attempt.ssh_key.empty() ? keys_by_text_.end() : keys_by_text_.find(attempt.ssh_key);
    const bool by_key = key != keys_by_text_.end();
    const Requester requester =
        by_key ? key_owner(key->second) : resolve_requester(attempt, identity);
    decision.requester = requester.name;
    if (by_key) {
        decision.fingerprint = key->second.fingerprint;
    }
    if (requester.root_automation) {
        decision.verdict = LoginVerdict::RootAutomation;
        decision.resource = matching.front()->name;
        return decision;
    }
    if (admit(matching, requester, now, decision)) {
        return decision;
    }
    for (const AccessRule* rule : matching) {
        decision.resources.push_back(rule->name);
    }
    // sshd's account stack cannot know the key yet: when some person may enter this account
    // with a registered key, the session stack, which sees the key, decides.
    const bool key_unknown = attempt.ssh_key_pending && attempt.ssh_key.empty();
    decision.verdict = key_unknown && !key_owners_admitted(matching, now, true).empty()
                           ? LoginVerdict::Deferred
                           : LoginVerdict::Deny;
    return decision;
}

std::vector<std::string> AccessIndex::sshd_accounts() const {
    const bool star_covers_sshd =
        std::find(unmanaged_.begin(), unmanaged_.end(), "sshd") == unmanaged_.end();
    std::vector<std::string> accounts;
    for (const auto& [name, rule] : rules_) {
        const bool covers = std::any_of(
            rule.services.begin(), rule.services.end(), [&](const std::string& service) {
                return service == "sshd" || (service == "*" && star_covers_sshd);
            });
        if (!covers) {
            continue;
        }
        for (const std::string& account : rule.accounts) {
            if (account != "*") {
                accounts.push_back(account);
            }
        }
    }
    std::sort(accounts.begin(), accounts.end());
    accounts.erase(std::unique(accounts.begin(), accounts.end()), accounts.end());
    return accounts;
}

std::vector<KeyOwner> AccessIndex::keys_entering(const std::string& account,
                                                 EpochSeconds now) const {
    LoginAttempt attempt;
    attempt.service = "sshd";
    attempt.user = account;
    const std::vector<const AccessRule*> matching = matching_rules(attempt, uid_of(account));
    if (matching.empty()) {
        return {};
    }
    const std::vector<std::string> owners = key_owners_admitted(matching, now, false);
    std::vector<KeyOwner> keys;
    for (const auto& [fingerprint, text] : key_text_by_fingerprint_) {
        const KeyOwner& key = keys_by_text_.at(text);
        if (std::find(owners.begin(), owners.end(), key.user) != owners.end()) {
            keys.push_back(key);
        }
    }
    return keys;
}

std::optional<Id> AccessIndex::grant_of(const std::string& user,
                                        const std::string& resource) const {
    auto user_it = grants_by_user_.find(user);
    if (user_it == grants_by_user_.end()) {
        return std::nullopt;
    }
    auto it = user_it->second.find(resource);
    if (it == user_it->second.end()) {
        return std::nullopt;
    }
    return it->second;
}

std::vector<AccessRule> AccessIndex::rules() const {
    std::vector<AccessRule> out;
    out.reserve(rules_.size());
    for (const auto& [name, rule] : rules_) {
        out.push_back(rule);
    }
    return out;
}

std::vector<KeyOwner> AccessIndex::keys() const {
    std::vector<KeyOwner> out;
    out.reserve(key_text_by_fingerprint_.size());
    for (const auto& [fingerprint, text] : key_text_by_fingerprint_) {
        out.push_back(keys_by_text_.at(text));
    }
    return out;
}

std::vector<ActiveGrant> AccessIndex::grants() const {
    std::vector<ActiveGrant> out;
    out.reserve(grants_.size());
    for (const auto& [id, grant] : grants_) {
        out.push_back(grant);
    }
    std::sort(out.begin(), out.end(),
              [](const ActiveGrant& a, const ActiveGrant& b) { return a.id < b.id; });
    return out;
}

// Snapshot format, one record per line, fields separated by single spaces:
//   jit-snapshot 2
//   generated EPOCH
//   unmanaged SERVICES                       (the services "*" leaves alone)
//   rule NAME SERVICES ACCOUNTS MEMBERS      (lists comma-separated, "-" when empty)
//   grant ID USER RESOURCE EXPIRY            (EXPIRY epoch seconds, "-" for none)
//   key FINGERPRINT USER TYPE BASE64         (a registered ssh key and its owner)
//   end COUNT                                (number of rule, grant and key lines: detects
//                                             truncation)
// Version 2 (without key lines) is still read, so an upgraded pam_jit understands the snapshot
// of the jitd it replaces until that jitd restarts.
// Names are written with every byte outside [A-Za-z0-9._@*$] (and a leading '-') as %XX, so a
// user name NSS allows but jit's own names do not ("Alice", "j doe", "x,y") can neither break
// the format nor make pam_jit reject the whole snapshot.
namespace {

bool is_plain_name_byte(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '@' || c == '*' || c == '$' || c == '-';
}

std::string escape_name(std::string_view name) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        if (is_plain_name_byte(c) && !(c == '-' && i == 0)) {
            out += c;
            continue;
        }
        const auto byte = static_cast<unsigned char>(c);
        out += '%';
        out += kHex[byte >> 4];
        out += kHex[byte & 0xF];
    }
    return out;
}

// Strict inverse of escape_name: anything escape_name would not have written is rejected.
std::string unescape_name(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c != '%') {
            if (!is_plain_name_byte(c) || (c == '-' && i == 0)) {
                throw_invalid("unescaped character in name " + quote_for_message(text));
            }
            out += c;
            continue;
        }
        const int high = i + 2 < text.size() ? hex_digit_value(text[i + 1], 'A') : -1;
        const int low = i + 2 < text.size() ? hex_digit_value(text[i + 2], 'A') : -1;
        if (high < 0 || low < 0) {
            throw_invalid("bad escape in name " + quote_for_message(text));
        }
        out += static_cast<char>(high * 16 + low);
        i += 2;
    }
    if (out.empty() || !is_printable_text(out)) {
        throw_invalid("name is empty or not printable text: " + quote_for_message(text));
    }
    return out;
}

constexpr std::string_view kSnapshotMagic = "jit-snapshot 3";
constexpr std::string_view kSnapshotMagicV2 = "jit-snapshot 2";

// "SHA256:" and the 43 characters of an unpadded base64 SHA-256.
void validate_fingerprint_text(std::string_view fingerprint) {
    constexpr std::string_view kPrefix = "SHA256:";
    const std::string_view digest =
        fingerprint.substr(std::min(fingerprint.size(), kPrefix.size()));
    const std::optional<std::string> bytes =
        fingerprint.rfind(kPrefix, 0) == 0 && digest.size() == 43
            ? base64_decode(std::string(digest) + "=")
            : std::nullopt;
    if (!bytes || bytes->size() != 32) {
        throw_invalid("bad key fingerprint " + quote_for_message(fingerprint));
    }
}

KeyOwner parse_key_record(const std::vector<std::string>& f) {
    validate_fingerprint_text(f[1]);
    const PublicKey key = parse_public_key(f[3] + " " + f[4]);
    if (key.base64 != f[4]) {
        throw_invalid("key data not in canonical base64");
    }
    return KeyOwner{f[1], unescape_name(f[2]), key.key_text()};
}

std::string join_list(const std::vector<std::string>& items) {
    if (items.empty()) {
        return "-";
    }
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out += ',';
        }
        out += escape_name(item);
    }
    return out;
}

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        std::size_t end = text.find(separator, start);
        out.emplace_back(text.substr(start, end - start));
        if (end == std::string_view::npos) {
            break;
        }
        start = end + 1;
    }
    return out;
}

std::int64_t parse_int(std::string_view text, std::size_t line) {
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size() || value < 0) {
        throw_invalid("snapshot line " + std::to_string(line) + ": bad number " +
                      quote_for_message(text));
    }
    return value;
}

std::vector<std::string> parse_list(std::string_view text, void (*check)(std::string_view)) {
    if (text == "-") {
        return {};
    }
    std::vector<std::string> items = split(text, ',');
    for (auto& item : items) {
        item = unescape_name(item);
        check(item);
    }
    return items;
}

}  // namespace

std::string serialize_snapshot(const AccessIndex& index, EpochSeconds generated) {
    std::ostringstream out;
    out << kSnapshotMagic << '\n' << "generated " << generated << '\n';
    out << "unmanaged " << join_list(index.unmanaged_services()) << '\n';
    std::size_t records = 0;
    for (const AccessRule& rule : index.rules()) {
        out << "rule " << rule.name << ' ' << join_list(rule.services) << ' '
            << join_list(rule.accounts) << ' ' << join_list(rule.members) << '\n';
        ++records;
    }
    for (const ActiveGrant& grant : index.grants()) {
        out << "grant " << grant.id << ' ' << escape_name(grant.user) << ' '
            << escape_name(grant.resource) << ' ';
        if (grant.expiry) {
            out << *grant.expiry;
        } else {
            out << '-';
        }
        out << '\n';
        ++records;
    }
    for (const KeyOwner& key : index.keys()) {
        out << "key " << key.fingerprint << ' ' << escape_name(key.user) << ' ' << key.key << '\n';
        ++records;
    }
    out << "end " << records << '\n';
    return out.str();
}

AccessIndex parse_snapshot(std::string_view text, const IdentityResolver* identity) {
    AccessIndex index(identity);
    // One lookup per account however many rules name it; the index keeps `identity` for logins.
    const std::optional<MemoIdentityResolver> names =
        identity ? std::optional<MemoIdentityResolver>(std::in_place, *identity) : std::nullopt;
    std::vector<std::string> lines = split(text, '\n');
    if (lines.empty() || (lines[0] != kSnapshotMagic && lines[0] != kSnapshotMagicV2)) {
        throw_invalid("snapshot: unknown format");
    }
    std::size_t records = 0;
    bool ended = false;
    for (std::size_t n = 1; n < lines.size(); ++n) {
        const std::string& line = lines[n];
        if (ended) {
            if (line.empty() && n + 1 == lines.size()) {
                break;
            }
            throw_invalid("snapshot line " + std::to_string(n + 1) + ": data after end");
        }
        std::vector<std::string> f = split(line, ' ');
        auto bad = [&](const char* what) {
            throw_invalid("snapshot line " + std::to_string(n + 1) + ": " + what);
        };
        try {
            if (f[0] == "generated" && f.size() == 2) {
                parse_int(f[1], n + 1);
            } else if (f[0] == "unmanaged" && f.size() == 2) {
                index.set_unmanaged_services(parse_list(f[1], validate_service));
            } else if (f[0] == "rule" && f.size() == 5) {
                const std::string name = unescape_name(f[1]);
                validate_object_name("resource", name);
                index.put_rule(
                    {name, parse_list(f[2], validate_resource_service),
                     parse_list(f[3], validate_account), parse_list(f[4], validate_principal)},
                    names ? &*names : nullptr);
                ++records;
            } else if (f[0] == "grant" && f.size() == 5) {
                // Any name NSS gave the requester; printable is all that is required of it.
                const std::string user = unescape_name(f[2]);
                const std::string resource = unescape_name(f[3]);
                validate_object_name("resource", resource);
                std::optional<EpochSeconds> expiry;
                if (f[4] != "-") {
                    expiry = parse_int(f[4], n + 1);
                }
                index.put_grant({parse_int(f[1], n + 1), user, resource, expiry});
                ++records;
            } else if (f[0] == "key" && f.size() == 5 && lines[0] == kSnapshotMagic) {
                index.put_key(parse_key_record(f));
                ++records;
            } else if (f[0] == "end" && f.size() == 2) {
                if (static_cast<std::size_t>(parse_int(f[1], n + 1)) != records) {
                    bad("record count does not match (truncated?)");
                }
                ended = true;
            } else {
                bad("unrecognised line");
            }
        } catch (const JitError& e) {
            if (std::string_view(e.what()).rfind("snapshot", 0) == 0) {
                throw;
            }
            bad(e.what());
        }
    }
    if (!ended) {
        throw_invalid("snapshot: missing end line (truncated?)");
    }
    return index;
}

}  // namespace jit
