// SPDX-License-Identifier: Apache-2.0
// The SQLite store's audit log and meta rows.
//
// Audit chain: each row's hash is sha256_hex(audit_canonical_form(row)) over its seq, time,
// event, fields and the previous row's hash. The chain head (last seq and hash) is kept in
// the meta table and written with every row, so verification also catches deleted tail rows.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit_chain.hpp"
#include "jit/model.hpp"
#include "jit/store.hpp"
#include "sqlite_db.hpp"

namespace jit::sqlite {

inline constexpr std::string_view kJournalSentSeq = "journal_sent_seq";
inline constexpr std::string_view kAuditChain = "audit_chain";

std::optional<std::string> read_meta(Database& database, std::string_view name);
// A missing row reads as 0; a row that is not a number is an error of the store.
Id read_meta_id(Database& database, std::string_view name);
void write_meta(Database& database, std::string_view name, std::string_view value);
ChainHead read_chain_head(Database& database);
void write_chain_head(Database& database, const ChainHead& head);

// Writes event as the row after head (seq, prev_hash and hash set here) and moves head to it.
// The caller holds the write lock and records the head with write_chain_head() before it
// commits (once per transaction, however many events it appended).
AuditEvent append_audit_event(Database& database, ChainHead& head, const AuditEvent& event);

// The rows matching filter, in seq order.
std::vector<AuditEvent> read_audit_events(Database& database, const AuditFilter& filter);

// Walks every row and the chain head; the caller makes the reads one consistent snapshot and
// fills in the chain name.
AuditVerification verify_audit_rows(Database& database, const JournalCopy& journal);

}  // namespace jit::sqlite
