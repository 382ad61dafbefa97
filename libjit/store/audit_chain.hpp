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
