// SPDX-License-Identifier: Apache-2.0
// The store's schema as migration steps: step i takes PRAGMA user_version from i to i + 1, so
// user_version is the number of steps applied. Steps run in order inside one transaction.
// Append new steps; never edit one that has shipped.
//
// Plain INTEGER/TEXT columns so a PostgreSQL backend can share the design. Times are epoch
// seconds, optional values NULL, enums their documented spelling, booleans 0/1. "user" is reserved
// in PostgreSQL, hence user_name. Lists keep their order in a position column.
#pragma once

#include <array>

namespace jit::sqlite {

inline constexpr const char* kSchemaV1 = R"sql(
-- Named values of the store itself: audit_head_seq and audit_head_hash (the chain head,
-- updated with every appended audit row so that deleting the last rows is detected) and
-- journal_sent_seq (the highest audit seq known to be in the journal); from v4 on also
-- audit_chain (the chain's identity).
CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE policies (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    action TEXT NOT NULL,
    approvals_required INTEGER NOT NULL,
    max_duration INTEGER NOT NULL,
    auto_expiry INTEGER NOT NULL,
    request_ttl INTEGER NOT NULL,
    active INTEGER NOT NULL
);

CREATE TABLE policy_approvers (
    policy TEXT NOT NULL REFERENCES policies (name) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    approver TEXT NOT NULL,
    PRIMARY KEY (policy, position)
);

-- References between objects are checked at commit, so a transaction may write them in any
-- order; a reference still dangling at commit fails the commit.
CREATE TABLE resources (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    policy TEXT REFERENCES policies (name) DEFERRABLE INITIALLY DEFERRED
);

-- list is 'service', 'account' or 'member'.
CREATE TABLE resource_lists (
    resource TEXT NOT NULL REFERENCES resources (name) ON DELETE CASCADE,
    list TEXT NOT NULL,
    position INTEGER NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (resource, list, position)
);

CREATE TABLE grants (
    id INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES requests (id) DEFERRABLE INITIALLY DEFERRED,
    user_name TEXT NOT NULL,
    resource TEXT NOT NULL,
    start INTEGER NOT NULL,
    expiry INTEGER,
    state TEXT NOT NULL,
    ended INTEGER,
    ended_by TEXT NOT NULL
);

-- resource and policy name what the request was made against; they outlive both objects.
CREATE TABLE requests (
    id INTEGER PRIMARY KEY,
    resource TEXT NOT NULL,
    requester TEXT NOT NULL,
    policy TEXT NOT NULL,
    reason TEXT NOT NULL,
    requested_duration INTEGER NOT NULL,
    duration INTEGER NOT NULL,
    capped INTEGER NOT NULL,
    state TEXT NOT NULL,
    created INTEGER NOT NULL,
    decided INTEGER,
    expires INTEGER NOT NULL,
    approvals_required INTEGER NOT NULL,
    auto_expiry INTEGER NOT NULL,
    grant_id INTEGER REFERENCES grants (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE request_approvals (
    request_id INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    approver TEXT NOT NULL,
    decision TEXT NOT NULL,
    comment TEXT NOT NULL,
    time INTEGER NOT NULL,
    PRIMARY KEY (request_id, position)
);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    grant_id INTEGER NOT NULL REFERENCES grants (id) DEFERRABLE INITIALLY DEFERRED,
    user_name TEXT NOT NULL,
    target TEXT NOT NULL,
    service TEXT NOT NULL,
    rhost TEXT NOT NULL,
    tty TEXT NOT NULL,
    pid INTEGER NOT NULL,
    logind_session TEXT NOT NULL,
    opened INTEGER NOT NULL,
    closed INTEGER,
    state TEXT NOT NULL
);

-- The audit chain. audit_fields holds every field of a row in order and is what the hash
-- covers; user_name and resource copy JIT_USER and JIT_RESOURCE (NULL when absent) only so
-- that filters can use an index, and verification checks that they agree with the fields.
CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY,
    time INTEGER NOT NULL,
    event TEXT NOT NULL,
    user_name TEXT,
    resource TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_time ON audit_events (time);
CREATE INDEX audit_events_user_name ON audit_events (user_name);
CREATE INDEX audit_events_resource ON audit_events (resource);
CREATE INDEX audit_events_event ON audit_events (event);

CREATE TABLE audit_fields (
    seq INTEGER NOT NULL REFERENCES audit_events (seq),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (seq, position)
);
)sql";

// v2: what identifies a session's process beyond its pid, so that jitd never signals a process
// that merely reuses the pid, nor one from before a reboot.
inline constexpr const char* kSessionProcessIdentityV2 = R"sql(
ALTER TABLE sessions ADD COLUMN pid_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN boot_id TEXT NOT NULL DEFAULT '';
)sql";

// v3: the cgroup jitd made for a session, so the group is killed when the grant ends even
// after the session's own process is gone.
inline constexpr const char* kSessionCgroupV3 = R"sql(
ALTER TABLE sessions ADD COLUMN cgroup TEXT NOT NULL DEFAULT '';
)sql";

// v4: the identity of this database's audit chain (meta audit_chain, 32 random hex digits,
// like a machine id). jitd sends it with every event to the journal (JIT_CHAIN), so the events
// of another database on the same host, or of this host before a reinstall, are told apart.
// A new database gets it here as well: it is fixed when the database is created.
inline constexpr const char* kAuditChainV4 = R"sql(
INSERT INTO meta (name, value) VALUES ('audit_chain', lower(hex(randomblob(16))));
)sql";

// v5: people's registered ssh keys (docs/shared-accounts-over-ssh.md), one owner per key, and
// the key a session logged in with.
inline constexpr const char* kSshKeysV5 = R"sql(
CREATE TABLE keys (
    fingerprint TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    type TEXT NOT NULL,
    key_data TEXT NOT NULL UNIQUE,
    comment TEXT NOT NULL,
    added INTEGER NOT NULL
);
CREATE INDEX keys_user_name ON keys (user_name);
ALTER TABLE sessions ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
)sql";

// v6: a request's scheduled start (NULL: the grant starts at approval). A scheduled grant is
// a grants row in state 'scheduled' until its start.
inline constexpr const char* kScheduledStartV6 = R"sql(
ALTER TABLE requests ADD COLUMN start INTEGER;
)sql";

// v7: extension requests: the grant a request extends (NULL: an ordinary request).
inline constexpr const char* kExtensionsV7 = R"sql(
ALTER TABLE requests ADD COLUMN extends INTEGER;
)sql";

// v8: a policy's reason rules: a POSIX extended regex the reason must contain a match of ('' for
// none) and a minimum length in characters (0 for none).
inline constexpr const char* kReasonRulesV8 = R"sql(
ALTER TABLE policies ADD COLUMN reason_pattern TEXT NOT NULL DEFAULT '';
ALTER TABLE policies ADD COLUMN reason_min_length INTEGER NOT NULL DEFAULT 0;
)sql";

// v9: hosts (docs/fleet.md). A resource's host patterns are its resource_lists rows with list
// 'host' (every existing resource applies everywhere: '*'); a session names the host whose jitd
// registered it ('' for one registered before: this host's).
inline constexpr const char* kHostsV9 = R"sql(
INSERT INTO resource_lists (resource, list, position, value)
    SELECT name, 'host', 0, '*' FROM resources;
ALTER TABLE sessions ADD COLUMN host TEXT NOT NULL DEFAULT '';
)sql";

// v10: grant reviews (docs/grant-review.md). start_fingerprint is the fingerprint taken when
// the grant started ('' once reviewed), accounts the target accounts it covers (one a line);
// reviewed_at is NULL until the grant ended and was reviewed, changes its JIT_CHANGED text.
inline constexpr const char* kGrantReviewsV10 = R"sql(
CREATE TABLE grant_reviews (
    grant_id INTEGER PRIMARY KEY REFERENCES grants (id) DEFERRABLE INITIALLY DEFERRED,
    host TEXT NOT NULL,
    accounts TEXT NOT NULL,
    start_fingerprint TEXT NOT NULL,
    changes TEXT NOT NULL,
    incomplete TEXT NOT NULL,
    reviewed_at INTEGER
);
)sql";

inline constexpr std::array kMigrations = {
    kSchemaV1,  kSessionProcessIdentityV2, kSessionCgroupV3, kAuditChainV4,
    kSshKeysV5, kScheduledStartV6,         kExtensionsV7,    kReasonRulesV8,
    kHostsV9,   kGrantReviewsV10};

}  // namespace jit::sqlite
