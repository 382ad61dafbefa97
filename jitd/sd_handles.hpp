// SPDX-License-Identifier: Apache-2.0
// jitd's names for the shared RAII owners of sd-bus / sd-event handles and file descriptors
// (libjit/sdbus/include/jit/sd_handles.hpp, libjit/include/jit/unique_fd.hpp).
#pragma once

#include "jit/sd_handles.hpp"
#include "jit/unique_fd.hpp"

namespace jitd {

using jit::UniqueFd;
using jit::sd::BusError;
using jit::sd::BusPtr;
using jit::sd::CredsPtr;
using jit::sd::EventPtr;
using jit::sd::EventSourcePtr;
using jit::sd::MessagePtr;
using jit::sd::Releaser;
using jit::sd::SlotPtr;

}  // namespace jitd
