// SPDX-License-Identifier: Apache-2.0
// Shared by the engine's source files (service.cpp, service_keys.cpp); not a public header.
#pragma once

#include <vector>

#include "jit/store.hpp"

namespace jit {

// Commits one change with its audit events; returns the events as stored (with seq).
// own: only this host's own records (Store::begin_own).
template <typename Write>
std::vector<AuditEvent> commit_change(Store& store, Write&& write, bool own = false) {
    auto tx = own ? store.begin_own() : store.begin();
    std::vector<AuditEvent> events;
    write(*tx, events);
    tx->commit();
    return events;
}

}  // namespace jit
