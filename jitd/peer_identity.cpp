// SPDX-License-Identifier: Apache-2.0
#include "peer_identity.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "jit/error.hpp"
#include "jit/identity.hpp"
#include "jit/os.hpp"
#include "jit/unique_fd.hpp"
#include "sd_handles.hpp"

namespace jitd {
namespace {

constexpr std::size_t kMaxProcFile = 4096;

[[noreturn]] void throw_unidentified(const std::string& why) {
    throw jit::JitError(jit::ErrorCode::Internal, "cannot identify the caller: " + why);
}

// A small /proc file, read through the process's directory fd.
std::string read_proc_file(int dir, const char* name) {
    jit::UniqueFd file(openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!file) {
        throw_unidentified(std::string("cannot open ") + name + ": " + jit::errno_text(errno));
    }
    char buffer[kMaxProcFile];
    ssize_t size;
    do {
        size = read(file.get(), buffer, sizeof buffer);
    } while (size < 0 && errno == EINTR);
    if (size < 0) {
        throw_unidentified(std::string("cannot read ") + name + ": " + jit::errno_text(errno));
    }
    return std::string(buffer, static_cast<std::size_t>(size));
}

std::optional<uid_t> parse_uid(std::string_view text) {
    std::uint32_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end == text.data()) {
        return std::nullopt;
    }
    return static_cast<uid_t>(value);
}

// The effective uid: the second number of status's "Uid:" line.
std::optional<uid_t> effective_uid(const std::string& status) {
    std::size_t line = status.find("\nUid:");
    if (line == std::string::npos) {
        return std::nullopt;
    }
    std::string_view rest(status);
    rest.remove_prefix(line + 5);
    rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));  // real uid
    rest.remove_prefix(std::min(rest.find_first_of(" \t"), rest.size()));
    rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));  // effective
    return parse_uid(rest.substr(0, rest.find_first_of(" \t\n")));
}

// True while the pidfd's process exists (a zombie still holds its pid). EPERM means it exists
// but jitd may not signal it (no CAP_KILL); only ESRCH means it is gone.
bool still_running(int pidfd) {
    return syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) == 0 || errno == EPERM;
}

// Through syscall(2): Debian 12's <sys/pidfd.h> lacks the C linkage for C++ callers.
int pin_process(pid_t pid) {
    return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

}  // namespace

PeerCreds query_peer_creds(sd_bus_message* message) {
    sd_bus_creds* raw = nullptr;
    int r = sd_bus_query_sender_creds(message, SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID, &raw);
    CredsPtr creds(raw);
    PeerCreds peer;
    if (r >= 0) {
        r = sd_bus_creds_get_euid(creds.get(), &peer.euid);
    }
    if (r >= 0) {
        r = sd_bus_creds_get_pid(creds.get(), &peer.pid);
    }
    if (r < 0) {
        throw_unidentified(jit::errno_text(-r));
    }
    if (peer.pid <= 0) {
        throw_unidentified("the bus gave no process id");
    }
    return peer;
}

// The pid is the one the kernel recorded when the client connected. pidfd_open pins the
// process that holds that pid now; /proc/PID, opened after it, is the same process only if that
// process still runs once we have read it: a pid is reused only after its process is reaped,
// and a reaped process fails pidfd_send_signal with ESRCH. So: pin, read, then confirm.
// Between connecting and pinning, the connecting process could have exited and its pid gone to
// another process; that process must then at least run with the euid the bus recorded, which is
// checked too (and a root caller is trusted not to play this game with its own connection).
uid_t read_login_uid(pid_t pid, uid_t euid) {
    jit::UniqueFd pidfd(pin_process(pid));
    if (!pidfd) {
        throw_unidentified("process " + std::to_string(pid) + ": " + jit::errno_text(errno));
    }
    const std::string dir_path = "/proc/" + std::to_string(pid);
    jit::UniqueFd dir(open(dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) {
        throw_unidentified("cannot open " + dir_path + ": " + jit::errno_text(errno));
    }
    const std::string login_text = read_proc_file(dir.get(), "loginuid");
    const std::string status = read_proc_file(dir.get(), "status");
    if (!still_running(pidfd.get())) {
        throw_unidentified("process " + std::to_string(pid) + " is gone");
    }
    std::optional<uid_t> process_euid = effective_uid(status);
    if (!process_euid || *process_euid != euid) {
        throw_unidentified("process " + std::to_string(pid) +
                           " no longer runs as the uid that connected");
    }
    std::optional<uid_t> login_uid = parse_uid(login_text);
    if (!login_uid) {
        throw_unidentified("unreadable " + dir_path + "/loginuid");
    }
    return *login_uid;
}

}  // namespace jitd
