// SPDX-License-Identifier: Apache-2.0
// Reads jitd's audit events back from the local journal (sd-journal), for `jitctl audit verify`
// and for the forwarder's start-up. Only entries jitd can have written count: SYSLOG_IDENTIFIER
// jitd and _UID 0, which journald sets from the sender's credentials (any local user can send
// an entry that calls itself jitd, none can send one as root).
#pragma once

#include <string>

#include "jit/audit_journal.hpp"

namespace jitd {

class JournalAuditReader final : public jit::AuditJournalReader {
  public:
    // Every audit entry of the chain, and how many of other chains there are.
    jit::JournalCopy read(const std::string& chain) const override;
    // The newest entries of the chain, from the last one back to (excluding) the first whose
    // seq is at or below after_seq: what a restart must not send again.
    jit::JournalCopy read_newest(const std::string& chain, jit::Id after_seq) const;
};

}  // namespace jitd
