// SPDX-License-Identifier: Apache-2.0
// Keeps the authorized keys files sshd reads (docs/shared-accounts-over-ssh.md): in
// authorized_keys_dir one file per account that a resource covers for sshd, named after the
// account, holding the registered keys of the people who may log into it now. Like the PAM
// snapshot, each file is written to a temporary file, synced and renamed over the old one, and
// writes are coalesced: many changes in one loop iteration cause one pass. Files of accounts no
// longer covered are removed. A failed pass is logged loudly and retried after the next event.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

#include "jit/access.hpp"
#include "jit/time.hpp"
#include "root_files.hpp"

namespace jitd {

// What one file should be.
struct AuthorizedKeysFile {
    gid_t gid = 0;  // the account's primary group: sshd reads the file as the account
    std::string contents;
};

// The files the index calls for, by file name (the account's own name as NSS spells it, which
// is what sshd's %u expands to). Accounts NSS does not know get no file. The accounts are
// looked up through `accounts` (NSS, or at start-up the memo the engine's start filled).
std::map<std::string, AuthorizedKeysFile> authorized_keys_files(
    const jit::AccessIndex& index, jit::EpochSeconds now, const jit::IdentityResolver& accounts);

class AuthorizedKeysWriter {
  public:
    explicit AuthorizedKeysWriter(std::string directory);

    const std::string& directory() const { return directory_; }

    // At start-up: creates the directory (root, 0755) when missing; throws JitError(Internal)
    // when it is not a directory owned by root and writable by root alone, since whoever can
    // write there can let anyone into any covered account.
    void prepare_directory() const;

    void mark_dirty() { write_.mark_due(); }
    // Writes when marked dirty; a failure is logged once and retried on the next call.
    void write_if_dirty(const jit::AccessIndex& index, jit::EpochSeconds now,
                        const jit::IdentityResolver& accounts);
    // Writes every file and removes stale ones now; throws JitError(Internal) on failure.
    void write(const jit::AccessIndex& index, jit::EpochSeconds now,
               const jit::IdentityResolver& accounts);

  private:
    void replace_file(const std::string& name, const AuthorizedKeysFile& file) const;
    void remove_stale(const std::map<std::string, AuthorizedKeysFile>& wanted) const;

    std::string directory_;
    RetriedWrite write_;
};

}  // namespace jitd
