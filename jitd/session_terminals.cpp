// SPDX-License-Identifier: Apache-2.0
#include "session_terminals.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "process_tree.hpp"
#include "sd_handles.hpp"

namespace jitd {
namespace {

constexpr unsigned int kTtyMajor = 4;  // virtual consoles tty1..63, serial lines ttyS0..
constexpr unsigned int kFirstSerialMinor = 64;
constexpr unsigned int kPtsFirstMajor = 136;  // UNIX98 pty slaves: 8 majors of 256 (legacy)
constexpr unsigned int kPtsLastMajor = 143;   // and major 136 with 20-bit minors today

// Opens a terminal for one line: never through a symlink, never as jitd's controlling
// terminal, never blocking on a stopped reader; only a character device that is a terminal
// (and, when jitd found it by device number, that very device).
UniqueFd open_terminal(const std::string& path, std::optional<dev_t> expected) {
    UniqueFd fd(open(path.c_str(), O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
        spdlog::debug("cannot open {} for the expiry warning: {}", path, std::strerror(errno));
        return fd;
    }
    struct stat st {};
    if (fstat(fd.get(), &st) < 0 || !S_ISCHR(st.st_mode) || (expected && st.st_rdev != *expected) ||
        !isatty(fd.get())) {
        spdlog::debug("{} is not the terminal expected; no expiry warning there", path);
        return UniqueFd();
    }
    return fd;
}

bool write_line(const std::string& path, std::optional<dev_t> expected, const std::string& text) {
    UniqueFd fd = open_terminal(path, expected);
    if (!fd) {
        return false;
    }
    // \r\n: the terminal may be in raw mode (an editor, a pager).
    std::string line = "\r\n" + text + "\r\n";
    ssize_t written = write(fd.get(), line.data(), line.size());
    if (written != static_cast<ssize_t>(line.size())) {
        spdlog::debug("cannot write the expiry warning to {}: {}", path,
                      written < 0 ? std::strerror(errno) : "short write");
        return false;
    }
    return true;
}

// The registered tty as a path, when it names a terminal device that exists.
std::optional<std::string> registered_terminal(const std::string& tty) {
    auto path = pam_tty_path(tty);
    struct stat st {};
    if (!path || lstat(path->c_str(), &st) < 0 || !S_ISCHR(st.st_mode)) {
        return std::nullopt;
    }
    return path;
}

// The terminals of the session's processes (controlling terminal, then stdin, stdout and
// stderr of each), each once, in the order found.
std::vector<dev_t> process_terminals(const jit::Session& session) {
    if (session.pid <= 1 || session.pid > INT32_MAX) {
        spdlog::debug("session {}: no registered process to find a terminal by", session.id);
        return {};
    }
    auto found = session_processes(static_cast<pid_t>(session.pid),
                                   static_cast<std::uint64_t>(session.pid_start), session.opened);
    if (found.root != SessionProcesses::Root::Running) {
        spdlog::debug("session {}: registered pid {} {}", session.id, session.pid,
                      found.root == SessionProcesses::Root::Gone
                          ? "has exited"
                          : "now belongs to a process started after the session opened");
        return {};
    }
    std::vector<dev_t> terminals;
    auto add = [&](dev_t device) {
        if (terminal_path(device) &&
            std::find(terminals.begin(), terminals.end(), device) == terminals.end()) {
            terminals.push_back(device);
        }
    };
    for (const auto& process : found.processes) {
        auto stat = read_proc_stat(process.pid);
        if (!stat || stat->start_time != process.start_time) {
            continue;
        }
        add(stat->tty);
        // A process without a controlling terminal may still write to one. Reading the links
        // of another user's process needs ptrace rights, which jitd.service does not grant:
        // there the controlling terminals must do.
        for (int fd = 0; fd <= 2; ++fd) {
            std::string link = "/proc/" + std::to_string(process.pid) + "/fd/" + std::to_string(fd);
            struct stat st {};
            if (::stat(link.c_str(), &st) == 0 && S_ISCHR(st.st_mode)) {
                add(st.st_rdev);
            }
        }
    }
    return terminals;
}

}  // namespace

std::optional<std::string> terminal_path(dev_t device) {
    unsigned int major_number = major(device);
    unsigned int minor_number = minor(device);
    if (major_number >= kPtsFirstMajor && major_number <= kPtsLastMajor) {
        return "/dev/pts/" + std::to_string((major_number - kPtsFirstMajor) * 256 + minor_number);
    }
    if (major_number == kTtyMajor && minor_number >= 1 && minor_number < kFirstSerialMinor) {
        return "/dev/tty" + std::to_string(minor_number);
    }
    if (major_number == kTtyMajor && minor_number >= kFirstSerialMinor && minor_number <= 255) {
        return "/dev/ttyS" + std::to_string(minor_number - kFirstSerialMinor);
    }
    return std::nullopt;
}

std::optional<std::string> pam_tty_path(std::string_view tty) {
    if (tty == "console") {
        return "/dev/console";
    }
    std::string_view name = tty.substr(tty.rfind("/dev/", 0) == 0 ? 5 : 0);
    for (std::string_view prefix : {"pts/", "ttyS", "tty"}) {
        if (name.rfind(prefix, 0) != 0) {
            continue;
        }
        std::string_view number = name.substr(prefix.size());
        if (number.empty() || number.size() > 9 ||
            number.find_first_not_of("0123456789") != std::string_view::npos) {
            return std::nullopt;
        }
        return "/dev/" + std::string(name);
    }
    return std::nullopt;
}

std::vector<std::string> write_to_session_terminals(const jit::Session& session,
                                                    const std::string& text) {
    std::vector<std::string> written;
    if (auto path = registered_terminal(session.tty)) {
        if (write_line(*path, std::nullopt, text)) {
            written.push_back(*path);
        }
        return written;
    }
    for (dev_t device : process_terminals(session)) {
        std::string path = *terminal_path(device);
        if (write_line(path, device, text)) {
            written.push_back(path);
        }
    }
    return written;
}

}  // namespace jitd
