// SPDX-License-Identifier: Apache-2.0
#include "jit/audit_journal.hpp"

#include <algorithm>

#include "jit/text.hpp"

namespace jit {
namespace {

std::string seq_text(Id seq) {
    return std::to_string(seq);
}

}  // namespace

std::optional<AuditHash> parse_audit_hash(std::string_view hex) {
    AuditHash hash{};
    if (hex.size() != 2 * hash.size()) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < hash.size(); ++i) {
        int high = hex_digit_value(hex[2 * i], 'a');
        int low = hex_digit_value(hex[2 * i + 1], 'a');
        if (high < 0 || low < 0) {
            return std::nullopt;
        }
        hash[i] = static_cast<std::uint8_t>(high << 4 | low);
    }
    return hash;
}

JournalMatcher::JournalMatcher(std::vector<JournalAuditEntry> entries)
    : entries_(std::move(entries)) {
    // Stable: entries with one seq keep their journal order.
    std::stable_sort(entries_.begin(), entries_.end(),
                     [](const auto& a, const auto& b) { return a.seq < b.seq; });
}

std::optional<std::string> JournalMatcher::check_row(Id seq, std::string_view hash_hex) {
    // Rows come in seq order; entries below this seq matched earlier rows or name no row.
    while (next_ < entries_.size() && entries_[next_].seq < seq) {
        ++next_;
    }
    const std::optional<AuditHash> hash = parse_audit_hash(hash_hex);
    bool same = false;
    bool different = false;
    for (; next_ < entries_.size() && entries_[next_].seq == seq; ++next_) {
        if (hash && entries_[next_].hash == *hash) {
            same = true;
        } else {
            different = true;
        }
    }
    if (different && same) {
        return "row " + seq_text(seq) +
               ": the journal also holds a different event with this seq (the database was "
               "rolled back to an older copy and written anew)";
    }
    if (different) {
        return "row " + seq_text(seq) +
               ": differs from the journal's copy of the event (edited, or the chain rewritten)";
    }
    if (same) {
        ++rows_matched_;
    }
    return std::nullopt;
}

std::optional<std::pair<Id, std::string>> JournalMatcher::check_end(Id head) const {
    if (entries_.empty() || entries_.back().seq <= head) {
        return std::nullopt;
    }
    const Id missing = head + 1;
    return std::pair{missing,
                     "row " + seq_text(missing) +
                         " missing: the journal holds events of this chain "
                         "up to seq " +
                         seq_text(entries_.back().seq) +
                         " (the newest rows deleted, or the database replaced by an older copy)"};
}

}  // namespace jit
