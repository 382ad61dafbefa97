// SPDX-License-Identifier: Apache-2.0
// Moving a single host into a fleet (`jitd --import FILE`, docs/fleet.md): every object of a
// single host's SQLite database and its whole audit chain copied into a fleet's store in one
// transaction, through the Store interface only.
#pragma once

#include <string>

#include "jit/identity.hpp"
#include "jit/model.hpp"
#include "jit/store.hpp"

namespace jit {

struct ImportOptions {
    std::string file;  // the source as JIT_IMPORTED_FILE names it
    // This host ([daemon] host): the host of sessions that name none, and the JIT_HOST of the
    // `imported` event.
    std::string host;
    Caller caller;  // who imports: JIT_ACTOR (and JIT_ACTOR_LOGIN) of the `imported` event
    EpochSeconds now = 0;
};

struct ImportSummary {
    std::string source_chain;
    Id resources = 0, policies = 0, requests = 0, grants = 0, sessions = 0, keys = 0, reviews = 0;
    Id events = 0;     // the source's events, seqs 1..events
    Id first_seq = 0;  // the seqs they got in the target's chain (0 when none)
    Id last_seq = 0;
    AuditEvent imported;  // the final `imported` event as appended
};

// "resources=2 policies=1 requests=3 grants=2 sessions=1 keys=1 reviews=0 events=14": the
// JIT_CHANGE of the `imported` event.
std::string import_counts(const ImportSummary& summary);

// Copies source into target in one transaction: policies, resources, requests with their
// approvals, grants, sessions, keys and grant reviews under their own ids and names, then every
// audit event of source in seq order (original time and fields, plus JIT_IMPORTED_FROM,
// JIT_IMPORTED_SEQ and JIT_IMPORTED_HASH), then one `imported` event. Refuses, changing
// nothing, when source's chain does not verify (JitError Failed naming the first bad seq) or
// target holds any object, or its chain grew between that check and the transaction (JitError
// Conflict). Other failures roll back as a whole.
ImportSummary import_store(Store& source, Store& target, const ImportOptions& options);

// import_store() from the SQLite database at `file`, which is never opened: a copy of it (and
// of its write-ahead log) in a private temporary directory is opened and migrated instead, and
// removed afterwards; nothing beside `file` is created either. jitd must not be using `file`.
// JitError InvalidInput when `file` is missing or unreadable or is no jit database.
ImportSummary import_sqlite_file(const std::string& file, Store& target,
                                 const ImportOptions& options);

}  // namespace jit
