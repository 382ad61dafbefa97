// SPDX-License-Identifier: Apache-2.0
// Who is behind a bus call: the kernel-sourced euid and pid the bus driver recorded when the
// peer connected, and the audit login uid of that process, read without a pid-reuse race.
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>

namespace jitd {

struct PeerCreds {
    uid_t euid = 0;
    pid_t pid = 0;
};

// The sender's euid and pid as the bus driver got them from the kernel (SO_PEERCRED) at
// connect time; never sd-bus's /proc augmentation. JitError(Internal) when they are missing.
PeerCreds query_peer_creds(sd_bus_message* message);

// /proc/PID/loginuid of the process `pid`, whose effective uid must be `euid`
// (jit::kUnsetLoginUid when unset). JitError(Internal) when the process is gone or its pid
// now belongs to a process of another uid.
uid_t read_login_uid(pid_t pid, uid_t euid);

}  // namespace jitd
