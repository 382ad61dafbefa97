// SPDX-License-Identifier: Apache-2.0
// A C library's handle owned by a unique_ptr that frees it with that library's own function,
// e.g. CHandle<PGconn, PQfinish> or CHandle<DIR, closedir>.
#pragma once

#include <memory>

namespace jit {

template <auto Free>
struct FreeWith {
    template <class Handle>
    void operator()(Handle* handle) const noexcept {
        Free(handle);
    }
};

template <class Handle, auto Free>
using CHandle = std::unique_ptr<Handle, FreeWith<Free>>;

}  // namespace jit
