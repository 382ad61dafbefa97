// SPDX-License-Identifier: Apache-2.0
#include "snapshot_writer.hpp"

#include "jit/access.hpp"

namespace jitd {

SnapshotWriter::SnapshotWriter(std::string path)
    : path_(std::move(path)),
      write_("the PAM snapshot " + path_,
             "pam_jit falls back to the previous one (grants revoked since may be honoured until "
             "their expiry)") {}

std::string SnapshotWriter::directory() const {
    auto slash = path_.rfind('/');
    if (slash == std::string::npos) {
        return ".";
    }
    return slash == 0 ? "/" : path_.substr(0, slash);
}

void SnapshotWriter::prepare_directory() const {
    prepare_root_directory(directory(), 0700, "snapshot directory",
                           "pam_jit's snapshot and spool belong in a directory only root can "
                           "write");
}

void SnapshotWriter::write(const jit::AccessIndex& index, jit::EpochSeconds now) {
    // Only root reads the snapshot: the temporary file stays 0600.
    replace_file(path_, path_ + ".XXXXXX", jit::serialize_snapshot(index, now));
    write_.written();
}

void SnapshotWriter::write_if_dirty(const jit::AccessIndex& index, jit::EpochSeconds now) {
    write_.run_if_due([&] { write(index, now); });
}

}  // namespace jitd
