// SPDX-License-Identifier: Apache-2.0
// The store's audit chain check: each row's hash, its link to the row before it, the chain
// head recorded in meta, and (when jitd could read it) the journal's copy of the chain.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "jit/audit_journal.hpp"
#include "jit/model.hpp"
#include "jit/store.hpp"

namespace jit::sqlite {

struct ChainHead {
    Id seq = 0;
    std::string hash;
};

// An audit row as read back, with the indexed copies of JIT_USER and JIT_RESOURCE.
struct AuditRow {
    AuditEvent event;
    std::optional<std::string> user_column;
    std::optional<std::string> resource_column;
};

std::optional<std::string> field_value(const AuditEvent& event, std::string_view name);

// What every audit query of both stores selects: kAuditColumns, a table (audit_events or a
// filtered subquery of it) aliased as e, then kAuditJoin. One result row per field (or one with
// NULL field columns for an event without fields), ordered by seq and field position.
inline constexpr std::string_view kAuditColumns =
    "SELECT e.seq, e.time, e.event, e.prev_hash, e.hash, e.user_name, e.resource, f.name, "
    "f.value FROM ";
inline constexpr std::string_view kAuditJoin =
    " e LEFT JOIN audit_fields f ON f.seq = e.seq ORDER BY e.seq, f.position";

// Groups the rows of an audit query into events and hands them to `sink` in seq order, one at a
// time so that a whole log is never held in memory; `sink` returns false to stop. Returns false
// when the sink stopped. `rows` is a cursor: next() moves to the next row (false after the
// last), integer(c), text(c), optional_text(c) and is_null(c) read column c of the current row.
template <class Cursor, class Sink>
bool group_audit_rows(Cursor& rows, Sink&& sink) {
    std::optional<AuditRow> current;
    while (rows.next()) {
        if (!current || current->event.seq != rows.integer(0)) {
            if (current && !sink(std::move(*current))) {
                return false;
            }
            current.emplace();
            current->event.seq = rows.integer(0);
            current->event.time = rows.integer(1);
            current->event.event = rows.text(2);
            current->event.prev_hash = rows.text(3);
            current->event.hash = rows.text(4);
            current->user_column = rows.optional_text(5);
            current->resource_column = rows.optional_text(6);
        }
        if (!rows.is_null(7)) {
            current->event.fields.emplace_back(rows.text(7), rows.text(8));
        }
    }
    return !current || sink(std::move(*current));
}

// The hash a row must have: SHA-256 over its canonical form, never over its own hash.
std::string audit_hash(AuditEvent event);

// Walks the chain row by row and records the first row that breaks it.
class ChainChecker {
  public:
    explicit ChainChecker(const JournalCopy& journal);

    // False once the chain is broken (then the walk stops).
    bool check(const AuditRow& row);
    // After the last row: the chain must end where the head recorded at each append says, and
    // the journal must hold nothing beyond it.
    void check_end(const ChainHead& head);

    const AuditVerification& result() const { return result_; }

  private:
    bool check_link(const AuditRow& row);
    void check_head(const ChainHead& head);
    bool bad(Id seq, std::string problem);

    Id last_seq_ = 0;
    std::string last_hash_;
    std::optional<JournalMatcher> journal_;
    std::string journal_error_;
    AuditVerification result_;
};

}  // namespace jit::sqlite
