// SPDX-License-Identifier: Apache-2.0
// Keeps the PAM snapshot (docs/login-decision.md) up to date: the access index serialized,
// written to a temporary file in the same directory (root-only, 0600), fsync'ed and renamed over
// the old one, so pam_jit only ever reads a complete snapshot. Changes are coalesced: many
// changes in one loop iteration cause one write. The snapshot is never removed: when a write
// fails the old one stays (its grants carry absolute expiries, so none is honoured past its
// end), the failure is logged loudly and the write is retried until it succeeds.
#pragma once

#include <string>

#include "jit/access.hpp"
#include "jit/time.hpp"
#include "root_files.hpp"

namespace jitd {

class SnapshotWriter {
  public:
    explicit SnapshotWriter(std::string path);

    const std::string& path() const { return path_; }
    // The directory holding the snapshot (and pam_jit's fallback spool).
    std::string directory() const;

    // At start-up: creates the directory (0700) when missing; throws JitError(Internal) saying
    // why when it exists but is not root's alone (owned by root, not writable by group or
    // others), since whoever can write there can plant a snapshot or spool for pam_jit.
    void prepare_directory() const;

    void mark_dirty() { write_.mark_due(); }
    // Writes when marked dirty; a failure is logged once and retried on the next call.
    void write_if_dirty(const jit::AccessIndex& index, jit::EpochSeconds now);
    // Writes now; on failure keeps the old snapshot and throws JitError(Internal) naming the
    // path.
    void write(const jit::AccessIndex& index, jit::EpochSeconds now);
    // The last write failed and the snapshot is still to be written.
    bool failing() const { return write_.failing(); }

  private:
    std::string path_;
    RetriedWrite write_;
};

}  // namespace jitd
