// SPDX-License-Identifier: Apache-2.0
// Persistence behind an interface: SQLite for one host, PostgreSQL for a fleet. Every
// state change goes through a Transaction that also appends its audit events, so a change and
// its audit record are committed together or not at all.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jit/audit_journal.hpp"
#include "jit/model.hpp"

namespace jit {

// Everything jitd keeps in memory, as loaded at start-up.
struct StoredState {
    std::vector<Resource> resources;
    std::vector<Policy> policies;
    std::vector<Request> requests;
    std::vector<Grant> grants;
    std::vector<Session> sessions;
    std::vector<SshKey> keys;
    std::vector<StoredReview> reviews;  // by grant id
    Id last_audit_seq = 0;
    std::string last_audit_hash;
};

// A fleet's change feed (docs/fleet.md): the objects other hosts changed since this Store last
// read (load() or changes()), as they are now. A changed key without a fresh row was removed.
struct StoreChanges {
    Id last_seq = 0;  // the feed's position after these changes
    std::vector<std::pair<std::string, std::string>> changed;  // kind, key; in feed order
    StoredState fresh;  // only the changed objects; last_audit_seq is the chain's head
};

// Where this host stands in the feed: status shows it.
struct FeedPosition {
    Id applied = 0;  // the last change this host has applied
    Id head = 0;     // the store's last change
};

// Wakes a host when another host committed a change (PostgreSQL's LISTEN/NOTIFY). Only a
// doorbell: after it rings (and at times without it) the host reads the feed itself.
class ChangeDoorbell {
  public:
    virtual ~ChangeDoorbell() = default;
    virtual int fd() const = 0;
    // Takes what arrived; throws JitError(Unavailable) when the connection is lost.
    virtual void drain() = 0;
};

struct AuditFilter {
    std::optional<EpochSeconds> since;  // inclusive
    std::optional<EpochSeconds> until;  // exclusive
    std::string user;                   // JIT_USER equals, empty: any
    std::string resource;               // JIT_RESOURCE equals
    std::string event;                  // JIT_EVENT equals
    Id after_seq = 0;                   // only rows with seq > after_seq
    std::size_t limit = 0;              // 0: no limit
};

struct AuditVerification {
    bool ok = true;
    Id rows_checked = 0;
    Id first_bad_seq = 0;           // the first row whose hash or link is wrong (0 when ok)
    std::string problem;            // e.g. "row 17: hash mismatch", "row 18 missing (after 17)"
    std::string chain;              // the identity of the database's chain (JIT_CHAIN)
    bool journal_compared = false;  // the journal's copy was read and compared
    Id journal_events = 0;          // entries of this chain in the journal
    Id rows_in_journal = 0;         // rows whose seq and hash the journal holds
    Id other_chain_events = 0;      // audit entries of other chains in the journal
};

class Transaction {
  public:
    virtual ~Transaction() = default;
    virtual void put(const Resource& resource) = 0;
    virtual void remove_resource(const std::string& name) = 0;
    virtual void put(const Policy& policy) = 0;
    virtual void remove_policy(const std::string& name) = 0;
    // Requests, grants and sessions get their id from the store when id == 0.
    virtual Id put(const Request& request) = 0;
    virtual Id put(const Grant& grant) = 0;
    virtual Id put(const Session& session) = 0;
    virtual void put(const SshKey& key) = 0;
    virtual void remove_key(const std::string& fingerprint) = 0;
    // A grant's review row (docs/grant-review.md), inserted or replaced.
    virtual void put(const StoredReview& review) = 0;
    // Assigns seq, prev_hash and hash; returns the completed event.
    virtual AuditEvent append(const AuditEvent& event) = 0;
    virtual void commit() = 0;  // without commit() the destructor rolls back
};

class Store {
  public:
    virtual ~Store() = default;
    virtual StoredState load() = 0;
    // A store that several hosts share refuses a transaction with StoreBehind while other
    // hosts' changes wait in its change feed (changes()): a change decided on what this host
    // knew could undo theirs.
    virtual std::unique_ptr<Transaction> begin() = 0;
    // A transaction that writes only this host's own records (its sessions), which no other
    // host changes: never refused for the feed.
    virtual std::unique_ptr<Transaction> begin_own() { return begin(); }
    virtual std::vector<AuditEvent> audit_events(const AuditFilter& filter) = 0;
    // Checks the chain and, when journal.read, compares it with the journal's copy of it.
    virtual AuditVerification verify_audit(const JournalCopy& journal) = 0;
    // The chain alone.
    AuditVerification verify_audit() { return verify_audit(JournalCopy{}); }
    // The seq of the newest audit row (0 when there is none).
    virtual Id audit_head_seq() = 0;
    // The identity of the audit chain, fixed when the database was created.
    virtual std::string audit_chain() = 0;
    // Highest audit seq known to be in the journal; events above it are still to be sent.
    virtual Id journal_sent_seq() = 0;
    virtual void set_journal_sent_seq(Id seq) = 0;

    // Durability of a commit. By default commit() returns once the change is on disk. After
    // defer_sync(), commit() returns once the change is written to the operating system (it
    // survives any end of the process, kill -9 included, but not a power cut) and sync() puts
    // every commit made so far on disk at once (group commit). The owner must not acknowledge a
    // change before the sync that follows its commit; sync_pending() says whether commits wait
    // for one. A store whose commits are always on disk needs neither.
    // The change feed of a store that several hosts share; a single host's store has none
    // (nullopt, nullptr). changes() advances the position: the caller applies what it returns.
    virtual std::optional<StoreChanges> changes() { return std::nullopt; }
    virtual std::unique_ptr<ChangeDoorbell> change_doorbell() { return nullptr; }
    virtual std::optional<FeedPosition> feed_position() { return std::nullopt; }

    virtual void defer_sync() {}
    virtual bool sync_pending() { return false; }
    virtual void sync() {}
};

// Opens (creating if needed) an SQLite database in WAL mode with foreign keys on, migrating
// its schema to the current version. Throws JitError(Internal) with the path on failure.
std::unique_ptr<Store> open_sqlite_store(const std::string& path);

// Connects to a fleet's PostgreSQL store (conninfo: a libpq connection string or URI; a
// password comes from the passfile, never from here) and migrates its schema. host names this
// jitd: each host keeps its own journal position. Throws JitError(Unavailable) naming the
// store when it cannot be reached, JitError(Internal) on other failures.
std::unique_ptr<Store> open_postgresql_store(const std::string& conninfo, const std::string& host);

// SHA-256 of data as lower-case hex.
std::string sha256_hex(const std::string& data);

// The SHA256 fingerprint of an ssh key blob as ssh-keygen -lf prints it: "SHA256:" followed by
// the unpadded base64 of SHA-256 over the decoded blob.
std::string ssh_fingerprint(std::string_view blob);

}  // namespace jit
