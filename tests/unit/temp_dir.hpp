// SPDX-License-Identifier: Apache-2.0
// The tests' and benchmarks' private directory: jit::TempDir (jit/temp_dir.hpp). Shared by the
// unit tests, jitd's and pam_jit's unit tests and the benchmarks.
#pragma once

#include "jit/temp_dir.hpp"

namespace jit::testing {

using jit::TempDir;

}  // namespace jit::testing
