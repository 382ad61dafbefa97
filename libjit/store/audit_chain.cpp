// SPDX-License-Identifier: Apache-2.0
#include "audit_chain.hpp"

#include <utility>

namespace jit::sqlite {

std::optional<std::string> field_value(const AuditEvent& event, std::string_view name) {
    const std::string* value = event.field(name);
    return value ? std::optional<std::string>(*value) : std::nullopt;
}

std::string audit_hash(AuditEvent event) {
    event.hash.clear();  // a row's hash never covers itself
    return sha256_hex(audit_canonical_form(event));
}

ChainChecker::ChainChecker(const JournalCopy& journal) : journal_error_(journal.error) {
    if (journal.read) {
        journal_.emplace(journal.entries);
        result_.journal_compared = true;
        result_.other_chain_events = journal.other_chain_events;
    }
}

bool ChainChecker::check(const AuditRow& row) {
    if (!check_link(row)) {
        return false;
    }
    if (journal_) {
        if (auto problem = journal_->check_row(row.event.seq, row.event.hash)) {
            return bad(row.event.seq, std::move(*problem));
        }
    }
    last_seq_ = row.event.seq;
    last_hash_ = row.event.hash;
    ++result_.rows_checked;
    return true;
}

bool ChainChecker::check_link(const AuditRow& row) {
    const AuditEvent& event = row.event;
    const std::string seq = std::to_string(event.seq);
    if (event.seq > last_seq_ + 1) {
        return bad(last_seq_ + 1,
                   "row " + std::to_string(last_seq_ + 1) + " missing (" +
                       (last_seq_ ? "after " + std::to_string(last_seq_) : "first row is " + seq) +
                       ")");
    }
    if (event.seq <= last_seq_) {
        return bad(last_seq_ + 1, "row " + seq + ": seq out of order");
    }
    if (event.prev_hash != last_hash_) {
        return bad(event.seq, "row " + seq + ": prev_hash does not match the hash of row " +
                                  std::to_string(last_seq_));
    }
    if (event.hash != audit_hash(event)) {
        return bad(event.seq, "row " + seq + ": hash mismatch");
    }
    if (row.user_column != field_value(event, "JIT_USER") ||
        row.resource_column != field_value(event, "JIT_RESOURCE")) {
        return bad(event.seq, "row " + seq + ": user/resource columns differ from its fields");
    }
    return true;
}

void ChainChecker::check_end(const ChainHead& head) {
    if (journal_) {
        result_.journal_events = journal_->journal_events();
        result_.rows_in_journal = journal_->rows_matched();
    }
    if (!result_.ok) {
        return;
    }
    check_head(head);
    if (!result_.ok) {
        return;
    }
    if (journal_) {
        if (auto missing = journal_->check_end(last_seq_)) {
            bad(missing->first, std::move(missing->second));
        }
    } else if (!journal_error_.empty()) {
        // The chain itself is sound, but whether it is the chain jitd wrote is unknown.
        bad(0, "cannot compare with the journal: " + journal_error_);
    }
}

void ChainChecker::check_head(const ChainHead& head) {
    if (head.seq > last_seq_) {
        bad(last_seq_ + 1, "row " + std::to_string(last_seq_ + 1) +
                               " missing (the chain head is row " + std::to_string(head.seq) + ")");
    } else if (head.seq < last_seq_) {
        bad(head.seq + 1, "row " + std::to_string(head.seq + 1) + ": beyond the chain head (row " +
                              std::to_string(head.seq) + ")");
    } else if (head.hash != last_hash_) {
        bad(last_seq_,
            "row " + std::to_string(last_seq_) + ": hash differs from the recorded chain head");
    }
}

bool ChainChecker::bad(Id seq, std::string problem) {
    result_.ok = false;
    result_.first_bad_seq = seq;
    result_.problem = std::move(problem);
    return false;
}

}  // namespace jit::sqlite
