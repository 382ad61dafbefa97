// SPDX-License-Identifier: Apache-2.0
#include "cgroup_paths.hpp"

#include <sstream>

namespace jitd {
namespace {

bool is_octal(char c) {
    return c >= '0' && c <= '7';
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 3 < text.size() && is_octal(text[i + 1]) &&
            is_octal(text[i + 2]) && is_octal(text[i + 3])) {
            int value = (text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 + (text[i + 3] - '0');
            if (value > 0 && value < 256) {
                out.push_back(static_cast<char>(value));
                i += 3;
                continue;
            }
        }
        out.push_back(text[i]);
    }
    return out;
}

std::vector<std::string_view> split_spaces(std::string_view line) {
    std::vector<std::string_view> fields;
    std::size_t at = 0;
    while (at < line.size()) {
        std::size_t end = line.find(' ', at);
        if (end == std::string_view::npos) {
            end = line.size();
        }
        if (end > at) {
            fields.push_back(line.substr(at, end - at));
        }
        at = end + 1;
    }
    return fields;
}

std::string session_suffix(pid_t pid, std::uint64_t start) {
    return "session-" + std::to_string(pid) + "-" + std::to_string(start);
}

// An absolute path without empty, "." or ".." components.
bool is_plain_absolute_path(std::string_view path) {
    if (path.size() < 2 || path.front() != '/' || path.back() == '/') {
        return false;
    }
    std::size_t at = 1;
    while (at <= path.size()) {
        std::size_t end = path.find('/', at);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        std::string_view part = path.substr(at, end - at);
        if (part.empty() || part == "." || part == "..") {
            return false;
        }
        at = end + 1;
    }
    return true;
}

}  // namespace

std::optional<MountInfoEntry> parse_mountinfo_line(std::string_view line) {
    // "ID PARENT MAJ:MIN ROOT MOUNT-POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER-OPTIONS"
    std::vector<std::string_view> fields = split_spaces(line);
    if (fields.size() < 7) {
        return std::nullopt;
    }
    std::size_t separator = 6;
    while (separator < fields.size() && fields[separator] != "-") {
        ++separator;
    }
    if (separator + 1 >= fields.size()) {
        return std::nullopt;
    }
    return MountInfoEntry{unescape_octal(fields[3]), unescape_octal(fields[4]),
                          std::string(fields[separator + 1])};
}

std::optional<std::string> find_cgroup2_mount(std::string_view mountinfo) {
    std::istringstream lines{std::string(mountinfo)};
    for (std::string line; std::getline(lines, line);) {
        auto entry = parse_mountinfo_line(line);
        if (entry && entry->fs_type == "cgroup2" && entry->root == "/" &&
            !entry->mount_point.empty() && entry->mount_point.front() == '/') {
            return entry->mount_point;
        }
    }
    return std::nullopt;
}

std::vector<std::string> parse_proc_cgroup(std::string_view text) {
    std::vector<std::string> unified;
    std::vector<std::string> others;
    std::istringstream lines{std::string(text)};
    for (std::string line; std::getline(lines, line);) {
        auto first = line.find(':');
        auto second = first == std::string::npos ? first : line.find(':', first + 1);
        if (second == std::string::npos || second + 1 >= line.size() || line[second + 1] != '/') {
            continue;
        }
        std::string path = line.substr(second + 1);
        (line.compare(0, second + 1, "0::") == 0 ? unified : others).push_back(std::move(path));
    }
    unified.insert(unified.end(), others.begin(), others.end());
    return unified;
}

std::optional<std::string> unified_cgroup_path(std::string_view text) {
    std::istringstream lines{std::string(text)};
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("0::/", 0) == 0) {
            return line.substr(3);
        }
    }
    return std::nullopt;
}

std::string direct_group_path(pid_t pid, std::uint64_t start) {
    return std::string(kDirectGroupParent) + "/" + session_suffix(pid, start);
}

std::string scope_unit_name(pid_t pid, std::uint64_t start) {
    return "jit-" + session_suffix(pid, start) + ".scope";
}

std::string_view path_basename(std::string_view path) {
    auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

SessionGroupKind session_group_kind(std::string_view recorded, pid_t pid, std::uint64_t start) {
    if (pid <= 1 || start == 0 || !is_plain_absolute_path(recorded)) {
        return SessionGroupKind::NotOurs;
    }
    if (recorded == direct_group_path(pid, start)) {
        return SessionGroupKind::Direct;
    }
    if (path_basename(recorded) == scope_unit_name(pid, start)) {
        return SessionGroupKind::Scope;
    }
    return SessionGroupKind::NotOurs;
}

}  // namespace jitd
