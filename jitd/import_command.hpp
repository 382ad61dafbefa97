// SPDX-License-Identifier: Apache-2.0
// jitd --import FILE (jitd(8), docs/fleet.md): a single host's SQLite database copied into the
// fleet store of jitd.conf, run by an admin from a shell rather than by systemd.
#pragma once

#include <string>

#include "jit/config.hpp"

namespace jitd {

// Imports `file` into the [store] of config (read from config_path), which must be PostgreSQL,
// and prints one line: what was imported (stdout, status 0) or why nothing was (stderr; status
// 69 when the store cannot be reached, else 1).
int run_import(const std::string& file, const jit::Config& config, const std::string& config_path);

}  // namespace jitd
