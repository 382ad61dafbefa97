// SPDX-License-Identifier: Apache-2.0
// What the journal holds of the audit log. jitd forwards every committed event to the journal
// with its hash (JIT_HASH) and the identity of its database's chain (JIT_CHAIN); `jitctl audit
// verify` compares the database's chain with that copy, so a database edited, truncated, rolled
// back to an older copy or rewritten is caught as long as the journal still holds the events.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jit/model.hpp"

namespace jit {

// A row's SHA-256 as 32 bytes: a journal copy of a million events stays small.
using AuditHash = std::array<std::uint8_t, 32>;

// 64 lower-case hex digits (how rows and JIT_HASH spell a hash); nullopt for anything else.
std::optional<AuditHash> parse_audit_hash(std::string_view hex);

struct JournalAuditEntry {
    Id seq = 0;
    AuditHash hash{};
};

// The journal's copy of one chain, as jitd read it (entries in journal order).
struct JournalCopy {
    bool read = false;  // false: no copy to compare with (error says why, if anything failed)
    std::string error;
    std::vector<JournalAuditEntry> entries;  // this chain's audit entries
    Id other_chain_events = 0;               // audit entries of other chains
};

// Reads the journal's copy of a chain (jitd: sd-journal). Never throws: a journal that cannot
// be read is a JournalCopy with read false and the reason in error.
class AuditJournalReader {
  public:
    virtual ~AuditJournalReader() = default;
    virtual JournalCopy read(const std::string& chain) const = 0;
};

// Compares the rows of one chain, in seq order, with the journal's copy of that chain.
class JournalMatcher {
  public:
    explicit JournalMatcher(std::vector<JournalAuditEntry> entries);

    // The problem with the row, or nullopt when every journal entry with its seq has its hash.
    std::optional<std::string> check_row(Id seq, std::string_view hash_hex);
    // After the last row (seq head): the journal must hold nothing beyond it. Returns the
    // first missing seq and the problem, or nullopt.
    std::optional<std::pair<Id, std::string>> check_end(Id head) const;

    Id journal_events() const { return static_cast<Id>(entries_.size()); }
    Id rows_matched() const { return rows_matched_; }

  private:
    std::vector<JournalAuditEntry> entries_;  // sorted by seq
    std::size_t next_ = 0;                    // first entry not yet compared
    Id rows_matched_ = 0;
};

}  // namespace jit
