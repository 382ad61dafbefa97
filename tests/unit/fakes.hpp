// SPDX-License-Identifier: Apache-2.0
// Test doubles for the engine's injected dependencies: a store that keeps rows in memory
// (the real SQLite store has its own tests), a settable clock, a table of users and groups,
// and effects that record what the engine asked the OS to do.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>

#include "jit/error.hpp"
#include "jit/service.hpp"

namespace jit::testing {

class FakeStore final : public Store {
  public:
    StoredState rows;
    std::vector<AuditEvent> audit_log;
    Id next_id = 1;
    Id sent_seq = 0;
    bool fail_commits = false;  // simulates a full disk: every commit throws
    int commits = 0;            // transactions committed

    StoredState load() override {
        StoredState s = rows;
        s.last_audit_seq = audit_log.empty() ? 0 : audit_log.back().seq;
        return s;
    }

    class Tx final : public Transaction {
      public:
        explicit Tx(FakeStore& store) : store_(store), staged_(store.rows), log_(store.audit_log) {}
        void put(const Resource& r) override { upsert(staged_.resources, r, &Resource::name); }
        void remove_resource(const std::string& name) override {
            erase(staged_.resources, name, &Resource::name);
        }
        void put(const Policy& p) override { upsert(staged_.policies, p, &Policy::name); }
        void remove_policy(const std::string& name) override {
            erase(staged_.policies, name, &Policy::name);
        }
        Id put(const Request& r) override { return put_with_id(staged_.requests, r); }
        Id put(const Grant& g) override { return put_with_id(staged_.grants, g); }
        Id put(const Session& s) override { return put_with_id(staged_.sessions, s); }
        void put(const SshKey& k) override { upsert(staged_.keys, k, &SshKey::fingerprint); }
        void remove_key(const std::string& fingerprint) override {
            erase(staged_.keys, fingerprint, &SshKey::fingerprint);
        }
        void put(const StoredReview& r) override {
            upsert(staged_.reviews, r, &StoredReview::grant_id);
        }
        AuditEvent append(const AuditEvent& event) override {
            AuditEvent e = event;
            e.seq = log_.empty() ? 1 : log_.back().seq + 1;
            log_.push_back(e);
            return e;
        }
        void commit() override {
            if (store_.fail_commits) {
                throw JitError(ErrorCode::Internal, "disk full");
            }
            store_.rows = staged_;
            store_.audit_log = log_;
            store_.next_id = next_id_;
            ++store_.commits;
        }

      private:
        template <typename T, typename K>
        static void upsert(std::vector<T>& table, const T& row, K key) {
            for (auto& r : table) {
                if (r.*key == row.*key) {
                    r = row;
                    return;
                }
            }
            table.push_back(row);
        }
        template <typename T, typename K>
        static void erase(std::vector<T>& table, const std::string& name, K key) {
            table.erase(std::remove_if(table.begin(), table.end(),
                                       [&](const T& r) { return r.*key == name; }),
                        table.end());
        }
        template <typename T>
        Id put_with_id(std::vector<T>& table, T row) {
            if (row.id == 0) {
                row.id = next_id_++;
            }
            upsert(table, row, &T::id);
            return row.id;
        }

        FakeStore& store_;
        StoredState staged_;
        std::vector<AuditEvent> log_;
        Id next_id_ = store_.next_id;
    };

    std::unique_ptr<Transaction> begin() override { return std::make_unique<Tx>(*this); }
    std::vector<AuditEvent> audit_events(const AuditFilter& filter) override {
        std::vector<AuditEvent> out;
        for (const auto& e : audit_log) {
            if (e.seq <= filter.after_seq) {
                continue;
            }
            if (!filter.event.empty() && e.event != filter.event) {
                continue;
            }
            if (filter.limit && out.size() == filter.limit) {
                break;
            }
            out.push_back(e);
        }
        return out;
    }
    AuditVerification verify_audit(const JournalCopy&) override { return {}; }
    Id audit_head_seq() override { return audit_log.empty() ? 0 : audit_log.back().seq; }
    std::string audit_chain() override { return "fakechain"; }
    Id journal_sent_seq() override { return sent_seq; }
    void set_journal_sent_seq(Id seq) override { sent_seq = seq; }

    std::vector<std::string> event_types() const {
        std::vector<std::string> out;
        for (const auto& e : audit_log) {
            out.push_back(e.event);
        }
        return out;
    }
};

class FakeClock final : public Clock {
  public:
    EpochSeconds t = 1'800'000'000;  // 2027-01-15T08:00:00Z
    EpochSeconds now() const override { return t; }
};

class FakeIdentity final : public IdentityResolver {
  public:
    std::map<std::string, std::vector<std::string>> groups;  // user -> groups
    std::map<uid_t, std::string> users;
    mutable int group_lookups = 0;

    std::vector<std::string> groups_of(const std::string& user) const override {
        ++group_lookups;
        auto it = groups.find(user);
        return it == groups.end() ? std::vector<std::string>{} : it->second;
    }
    std::optional<std::string> user_name(uid_t uid) const override {
        auto it = users.find(uid);
        if (it == users.end()) {
            return std::nullopt;
        }
        return it->second;
    }
    std::map<std::string, uid_t> aliases;      // another name for a uid ("toor" -> 0)
    std::map<std::string, std::string> homes;  // user -> home directory
    // How often each user name was looked up (user_uid, user_home, user_record: one NSS lookup
    // each, as in jitd).
    mutable std::map<std::string, int> name_lookups;

    // A name NSS knows: an alias from `aliases`, else a name in `users`.
    std::optional<uid_t> user_uid(const std::string& name) const override {
        ++name_lookups[name];
        return uid_named(name);
    }
    std::optional<std::string> user_home(const std::string& name) const override {
        ++name_lookups[name];
        return home_of(name);
    }
    UserRecord user_record(const std::string& name) const override {
        ++name_lookups[name];
        return {uid_named(name), home_of(name)};
    }

  private:
    std::optional<uid_t> uid_named(const std::string& name) const {
        if (auto alias = aliases.find(name); alias != aliases.end()) {
            return alias->second;
        }
        for (const auto& [uid, user] : users) {
            if (user == name) {
                return uid;
            }
        }
        return std::nullopt;
    }
    std::optional<std::string> home_of(const std::string& name) const {
        auto it = homes.find(name);
        return it == homes.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
};

class RecordingEffects final : public Effects {
  public:
    std::vector<Id> journal;  // seqs forwarded
    std::vector<std::string> calls;
    std::vector<Session> terminated;
    std::vector<std::pair<Id, EpochSeconds>> warned;  // session id, expiry
    int access_changes = 0;

    void audit_committed(const AuditEvent& e) override { journal.push_back(e.seq); }
    void request_created(const Request& r) override {
        calls.push_back("request_created " + std::to_string(r.id));
    }
    void request_decided(const Request& r) override {
        calls.push_back("request_decided " + std::to_string(r.id) + " " +
                        std::string(to_string(r.state)));
    }
    void grant_started(const Grant& g) override {
        calls.push_back("grant_started " + std::to_string(g.id));
    }
    void grant_ended(const Grant& g) override {
        calls.push_back("grant_ended " + std::to_string(g.id) + " " +
                        std::string(to_string(g.state)));
    }
    void terminate_session(const Session& s) override { terminated.push_back(s); }
    std::string next_cgroup;  // what place_session answers
    std::string place_session(const Session&) override { return next_cgroup; }
    void warn_session(const Session& s, const Grant& grant) override {
        const EpochSeconds expiry = grant.expiry.value_or(0);
        warned.emplace_back(s.id, expiry);
    }
    void access_changed() override { ++access_changes; }
};

// What an engine under test runs on: its store, clock, identity and effects, all fakes.
struct EngineFakes {
    FakeStore store;
    FakeClock clock;
    FakeIdentity identity;
    RecordingEffects effects;

    // How many audit events of one type the store holds.
    std::size_t events_named(const std::string& type) const {
        return static_cast<std::size_t>(
            std::count_if(store.audit_log.begin(), store.audit_log.end(),
                          [&](const AuditEvent& e) { return e.event == type; }));
    }
};

inline Caller make_caller(uid_t uid, std::string name, std::vector<std::string> groups = {}) {
    Caller c;
    c.uid = uid;
    c.name = std::move(name);
    c.groups = std::move(groups);
    return c;
}

}  // namespace jit::testing
