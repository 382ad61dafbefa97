// SPDX-License-Identifier: Apache-2.0
#include "journal_reader.hpp"

#include <systemd/sd-journal.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "sd_handles.hpp"

namespace jitd {
namespace {

using JournalPtr = std::unique_ptr<sd_journal, Releaser<sd_journal_close>>;

// The journal files of this machine's system journal, limited to jitd's own entries;
// nullptr with error set when they cannot be opened.
JournalPtr open_jitd_entries(std::string& error) {
    sd_journal* raw = nullptr;
    int r = sd_journal_open(&raw, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
    JournalPtr journal(raw);
    if (r >= 0) {
        r = sd_journal_add_match(journal.get(), "SYSLOG_IDENTIFIER=jitd", 0);
    }
    if (r >= 0) {
        r = sd_journal_add_match(journal.get(), "_UID=0", 0);
    }
    if (r < 0) {
        error = std::string("cannot open the journal: ") + std::strerror(-r);
        return nullptr;
    }
    return journal;
}

// The value of a field of the current entry, or nullopt when it has none.
std::optional<std::string_view> field(sd_journal* journal, std::string_view name) {
    const void* data = nullptr;
    std::size_t length = 0;
    if (sd_journal_get_data(journal, std::string(name).c_str(), &data, &length) < 0) {
        return std::nullopt;
    }
    std::string_view entry(static_cast<const char*>(data), length);
    if (entry.size() <= name.size() || entry[name.size()] != '=') {
        return std::nullopt;
    }
    return entry.substr(name.size() + 1);
}

// The current entry's JIT_SEQ and JIT_HASH; nullopt when either is missing or malformed
// (then it is no event jitd forwarded).
std::optional<jit::JournalAuditEntry> audit_entry(sd_journal* journal) {
    std::optional<std::string_view> seq = field(journal, "JIT_SEQ");
    std::optional<std::string_view> hash = field(journal, "JIT_HASH");
    if (!seq || !hash) {
        return std::nullopt;
    }
    jit::JournalAuditEntry entry;
    auto [end, error] = std::from_chars(seq->data(), seq->data() + seq->size(), entry.seq);
    std::optional<jit::AuditHash> parsed = jit::parse_audit_hash(*hash);
    if (error != std::errc() || end != seq->data() + seq->size() || entry.seq < 1 || !parsed) {
        return std::nullopt;
    }
    entry.hash = *parsed;
    return entry;
}

// The copy as read: complete, or with why the read stopped (r < 0, while doing `what`).
jit::JournalCopy finished(jit::JournalCopy copy, int r, const char* what) {
    if (r < 0) {
        copy.error = std::string("cannot read the journal (") + what + "): " + std::strerror(-r);
    } else {
        copy.read = true;
    }
    return copy;
}

}  // namespace

jit::JournalCopy JournalAuditReader::read(const std::string& chain) const {
    jit::JournalCopy copy;
    JournalPtr journal = open_jitd_entries(copy.error);
    if (!journal) {
        return copy;
    }
    int r = 0;
    while ((r = sd_journal_next(journal.get())) > 0) {
        std::optional<std::string_view> entry_chain = field(journal.get(), "JIT_CHAIN");
        if (!entry_chain) {
            continue;  // jitd's own log lines, and events from before chains had an identity
        }
        if (*entry_chain != chain) {
            ++copy.other_chain_events;
        } else if (auto entry = audit_entry(journal.get())) {
            copy.entries.push_back(*entry);
        }
    }
    return finished(std::move(copy), r, "next entry");
}

jit::JournalCopy JournalAuditReader::read_newest(const std::string& chain,
                                                 jit::Id after_seq) const {
    jit::JournalCopy copy;
    JournalPtr journal = open_jitd_entries(copy.error);
    if (!journal) {
        return copy;
    }
    const std::string match = "JIT_CHAIN=" + chain;
    int r = sd_journal_add_match(journal.get(), match.data(), match.size());
    if (r >= 0) {
        r = sd_journal_seek_tail(journal.get());
    }
    while (r >= 0 && (r = sd_journal_previous(journal.get())) > 0) {
        std::optional<jit::JournalAuditEntry> entry = audit_entry(journal.get());
        if (!entry) {
            continue;
        }
        if (entry->seq <= after_seq) {
            break;
        }
        copy.entries.push_back(*entry);
    }
    return finished(std::move(copy), r, "newest entries");
}

}  // namespace jitd
