// SPDX-License-Identifier: Apache-2.0
// The pre-expiry warning (jitd(8)) on a session's terminals. PAM_TTY names the terminal for
// sudo, su and login ("pts/3", "/dev/pts/3"), but sshd opens the PAM session before it
// allocates the pty, so an ssh session registers "ssh" (and logind knows no tty either): then
// the terminals are those of the session's processes, the controlling terminal or stdio of the
// registered pid (sshd's "[priv]" monitor has none) and its descendants (the user's shell).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jit/model.hpp"

namespace jitd {

// The device PAM_TTY names, when it names one of the forms sessions have: "pts/N", "ttyN" or
// "ttySN" (each also with "/dev/"), or "console"; nullopt for anything else ("ssh", "tty",
// "ptmx", "../x"), which jitd never opens.
std::optional<std::string> pam_tty_path(std::string_view tty);

// The path of a terminal device: /dev/pts/N or a virtual console or serial line (/dev/ttyN,
// /dev/ttySN); nullopt for any other device (and 0, "no terminal").
std::optional<std::string> terminal_path(dev_t device);

// Writes `text` as one line to each terminal of the session, at most once to each, never
// blocking; returns the terminals written to, empty when none was (the reasons logged at debug).
std::vector<std::string> write_to_session_terminals(const jit::Session& session,
                                                    const std::string& text);

}  // namespace jitd
