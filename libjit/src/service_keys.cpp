// SPDX-License-Identifier: Apache-2.0
// People's ssh keys (docs/shared-accounts-over-ssh.md): the part of the engine that registers
// them. A key belongs to one person; the access index learns every key, so that a login with a
// registered key is decided for its owner and jitd can write the authorized keys files.

#include "commit_change.hpp"
#include "jit/error.hpp"
#include "jit/service.hpp"
#include "jit/ssh_key.hpp"
#include "jit/validate.hpp"

namespace jit {
namespace {

using Fields = audit::FieldValues;
using F = audit::Field;
using E = audit::Event;

// JIT_ACTOR is the person (root acting for its login user counts as that user), plus
// JIT_ACTOR_LOGIN when the caller's login user differs from its account, as for every change.
Fields key_event_fields(const Caller& caller, const SshKey& key) {
    Fields fields = {
        {F::User, key.user}, {F::Fingerprint, key.fingerprint}, {F::Actor, caller.person()}};
    if (caller.login_differs()) {
        fields.emplace_back(F::ActorLogin, caller.login_name);
    }
    return fields;
}

// The caller's own keys are the person's: `sudo jitctl key add` registers the key of whoever
// logged in, not root's.
bool owns(const Caller& caller, const SshKey& key) {
    return key.user == caller.person() || caller.is_or_acts_for(key.user);
}

}  // namespace

void JitService::index_key(const SshKey& key) {
    index_.put_key({key.fingerprint, key.user, key.type + " " + key.base64});
}

// Whose key: the caller's own (the person's), or (admins) anyone NSS knows, by the uid's own name.
std::string JitService::key_user(const Caller& caller, const std::string& user) const {
    if (user.empty() || user == caller.person()) {
        return caller.person();
    }
    validate_user_name(user);
    if (!is_admin(caller, roles_)) {
        throw_denied("only admins may manage other users' ssh keys");
    }
    const std::optional<uid_t> uid = identity_.user_uid(user);
    const std::optional<std::string> name = uid ? identity_.user_name(*uid) : std::nullopt;
    if (!name) {
        throw_not_found("no user \"" + user + "\" on this host");
    }
    return *name;
}

SshKey JitService::add_key(const Caller& caller, const std::string& line, const std::string& user) {
    const std::string owner = key_user(caller, user);
    const PublicKey parsed = parse_public_key(line);
    SshKey key{ssh_fingerprint(parsed.blob),
               owner,
               parsed.type,
               parsed.base64,
               parsed.comment,
               clock_.now()};
    if (auto held = keys_.find(key.fingerprint); held != keys_.end()) {
        if (held->second.user == owner) {
            throw_conflict("the key " + key.fingerprint + " is already registered to " + owner);
        }
        // Who holds it is shown only to those who may see everyone's keys.
        throw_conflict(
            "the key " + key.fingerprint + " is already registered to " +
            (may_read_all(caller, roles_) ? held->second.user : std::string("another user")) +
            "; a key belongs to one person");
    }
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        tx.put(key);
        ev.push_back(tx.append(make_event(E::KeyAdded, key_event_fields(caller, key))));
    });
    keys_[key.fingerprint] = key;
    index_key(key);
    publish(events);
    effects_.access_changed();
    return key;
}

SshKey JitService::remove_key(const Caller& caller, const std::string& fingerprint) {
    validate_text("fingerprint", fingerprint, kMaxDescriptionLength);
    auto it = keys_.find(fingerprint);
    // Another user's key is "not found" to a plain user: its existence is not theirs to learn.
    if (it == keys_.end() || (!owns(caller, it->second) && !may_read_all(caller, roles_))) {
        throw_not_found("no registered key " + quote_for_message(fingerprint) +
                        " (see jitctl key list)");
    }
    if (!owns(caller, it->second) && !is_admin(caller, roles_)) {
        throw_denied("only admins may remove other users' ssh keys");
    }
    const SshKey key = it->second;
    auto events = commit_change(store_, [&](Transaction& tx, std::vector<AuditEvent>& ev) {
        tx.remove_key(fingerprint);
        ev.push_back(tx.append(make_event(E::KeyRemoved, key_event_fields(caller, key))));
    });
    keys_.erase(fingerprint);
    index_.remove_key(fingerprint);
    publish(events);
    effects_.access_changed();
    return key;
}

std::vector<SshKey> JitService::list_keys(const Caller& caller, const std::string& user) const {
    const bool everyone = may_read_all(caller, roles_);
    if (!user.empty()) {
        validate_user_name(user);
        if (!everyone && user != caller.person()) {
            throw_denied("only admins and auditors may list other users' ssh keys");
        }
    }
    const std::string& only = everyone ? user : caller.person();
    std::vector<SshKey> out;
    for (const auto& [fingerprint, key] : keys_) {
        if (only.empty() || key.user == only) {
            out.push_back(key);
        }
    }
    return out;
}

// The person behind a login pam_jit decided from the snapshot: the owner of the registered key
// it names, else the requester rule.
std::string JitService::requester_of(const FallbackLogin& login) const {
    if (auto key = keys_.find(login.fingerprint); key != keys_.end()) {
        return key->second.user;
    }
    return resolve_requester(login.attempt, identity_).name;
}

}  // namespace jit
