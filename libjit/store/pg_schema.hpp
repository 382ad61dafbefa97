// SPDX-License-Identifier: Apache-2.0
// The PostgreSQL store's schema as migration steps: step i takes schema_version from i to
// i + 1. Every jitd of a fleet may start at once, so the steps run in one transaction under an
// advisory lock. Append new steps; never edit one that has shipped.
//
// The tables mirror the SQLite schema (sqlite_schema.hpp) column for column, with BIGINT for
// its INTEGER, so both stores read and write the same values; what a fleet needs beyond that
// (the chain head as one lockable row, each host's journal position) is its own.
#pragma once

#include <array>

namespace jit::pg {

// Chosen once for jit: the key of the advisory lock that serializes schema migrations.
inline constexpr long long kMigrationLockKey = 0x6a69745f736368;  // "jit_sch"

inline constexpr const char* kSchemaVersionTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO schema_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
)sql";

inline constexpr const char* kSchemaV1 = R"sql(
-- Named values of the store: audit_chain (the chain's identity, 32 random hex digits).
CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta (name, value) VALUES ('audit_chain', replace(gen_random_uuid()::text, '-', ''));

-- The head of the one audit chain of the fleet. Every writing transaction locks this row
-- first (SELECT ... FOR UPDATE), so writers on all hosts append one after another and the
-- chain never forks.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- Per host: the highest audit seq that host has sent to its own journal.
CREATE TABLE journal_sent (
    host TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);

CREATE TABLE policies (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    action TEXT NOT NULL,
    approvals_required BIGINT NOT NULL,
    max_duration BIGINT NOT NULL,
    auto_expiry BIGINT NOT NULL,
    request_ttl BIGINT NOT NULL,
    active BIGINT NOT NULL,
    reason_pattern TEXT NOT NULL DEFAULT '',
    reason_min_length BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE policy_approvers (
    policy TEXT NOT NULL REFERENCES policies (name) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    approver TEXT NOT NULL,
    PRIMARY KEY (policy, position)
);

CREATE TABLE resources (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    policy TEXT REFERENCES policies (name) DEFERRABLE INITIALLY DEFERRED
);

-- list is 'service', 'account' or 'member'.
CREATE TABLE resource_lists (
    resource TEXT NOT NULL REFERENCES resources (name) ON DELETE CASCADE,
    list TEXT NOT NULL,
    position BIGINT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (resource, list, position)
);

CREATE TABLE requests (
    id BIGINT PRIMARY KEY,
    resource TEXT NOT NULL,
    requester TEXT NOT NULL,
    policy TEXT NOT NULL,
    reason TEXT NOT NULL,
    requested_duration BIGINT NOT NULL,
    duration BIGINT NOT NULL,
    capped BIGINT NOT NULL,
    state TEXT NOT NULL,
    created BIGINT NOT NULL,
    decided BIGINT,
    expires BIGINT NOT NULL,
    approvals_required BIGINT NOT NULL,
    auto_expiry BIGINT NOT NULL,
    grant_id BIGINT,
    start BIGINT,
    extends BIGINT
);

CREATE TABLE grants (
    id BIGINT PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES requests (id) DEFERRABLE INITIALLY DEFERRED,
    user_name TEXT NOT NULL,
    resource TEXT NOT NULL,
    start BIGINT NOT NULL,
    expiry BIGINT,
    state TEXT NOT NULL,
    ended BIGINT,
    ended_by TEXT NOT NULL
);
ALTER TABLE requests ADD FOREIGN KEY (grant_id) REFERENCES grants (id)
    DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE request_approvals (
    request_id BIGINT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    approver TEXT NOT NULL,
    decision TEXT NOT NULL,
    comment TEXT NOT NULL,
    time BIGINT NOT NULL,
    PRIMARY KEY (request_id, position)
);

CREATE TABLE sessions (
    id BIGINT PRIMARY KEY,
    grant_id BIGINT NOT NULL REFERENCES grants (id) DEFERRABLE INITIALLY DEFERRED,
    user_name TEXT NOT NULL,
    target TEXT NOT NULL,
    service TEXT NOT NULL,
    rhost TEXT NOT NULL,
    tty TEXT NOT NULL,
    pid BIGINT NOT NULL,
    logind_session TEXT NOT NULL,
    opened BIGINT NOT NULL,
    closed BIGINT,
    state TEXT NOT NULL,
    pid_start BIGINT NOT NULL DEFAULT 0,
    boot_id TEXT NOT NULL DEFAULT '',
    cgroup TEXT NOT NULL DEFAULT '',
    fingerprint TEXT NOT NULL DEFAULT ''
);

CREATE TABLE keys (
    fingerprint TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    type TEXT NOT NULL,
    key_data TEXT NOT NULL UNIQUE,
    comment TEXT NOT NULL,
    added BIGINT NOT NULL
);
CREATE INDEX keys_user_name ON keys (user_name);

-- The audit chain, as in the SQLite store: audit_fields holds every field in order and is
-- what the hash covers; user_name and resource are indexed copies checked by verification.
CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    time BIGINT NOT NULL,
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
    seq BIGINT NOT NULL REFERENCES audit_events (seq),
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (seq, position)
);
)sql";

// v2: hosts (docs/fleet.md). A resource's host patterns are its resource_lists rows with list
// 'host' (every existing resource applies everywhere: '*'); a session names the host whose jitd
// registered it ('' for one registered before).
inline constexpr const char* kHostsV2 = R"sql(
INSERT INTO resource_lists (resource, list, position, value)
    SELECT name, 'host', 0, '*' FROM resources;
ALTER TABLE sessions ADD COLUMN host TEXT NOT NULL DEFAULT '';
)sql";

// v3: grant reviews (docs/grant-review.md), as SQLite's v10: the fingerprint taken when the
// grant started ('' once reviewed), the accounts it covers (one a line), and the review
// (reviewed_at NULL until the grant ended and was reviewed).
inline constexpr const char* kGrantReviewsV3 = R"sql(
CREATE TABLE grant_reviews (
    grant_id BIGINT PRIMARY KEY REFERENCES grants (id) DEFERRABLE INITIALLY DEFERRED,
    host TEXT NOT NULL,
    accounts TEXT NOT NULL,
    start_fingerprint TEXT NOT NULL,
    changes TEXT NOT NULL,
    incomplete TEXT NOT NULL,
    reviewed_at BIGINT
);
)sql";

// The change feed (docs/fleet.md): every writing transaction adds one row per object it
// changed, under the chain head lock, so seq grows in commit order and a host that has applied
// everything up to seq N misses nothing by reading the rows after N. The host column lets a
// host skip its own changes (its memory has them already).
inline constexpr const char* kChangeLogV4 = R"sql(
CREATE TABLE change_log (
    seq BIGSERIAL PRIMARY KEY,
    host TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL
);
)sql";

inline constexpr std::array kMigrations = {kSchemaV1, kHostsV2, kGrantReviewsV3, kChangeLogV4};

}  // namespace jit::pg
