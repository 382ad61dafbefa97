#include "process_tree.hpp"

#include <dirent.h>

#include <charconv>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

namespace jitd {
namespace {

std::optional<ProcStat> read_proc_stat(pid_t pid) {
    std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
    if (!file) {
        return std::nullopt;
    }
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    return parse_proc_stat(text);
}

template <typename T>
bool parse_number(std::string_view text, T& value) {
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
    // "pid (comm) state ppid pgrp ... starttime ...": comm ends at the last ')'.
    auto comm_end = text.rfind(')');
    if (comm_end == std::string_view::npos) {
        return std::nullopt;
    }
    std::istringstream rest{std::string(text.substr(comm_end + 1))};
    std::vector<std::string> fields;  // fields[0] is field 3 (state)
    for (std::string field; rest >> field && fields.size() < 20;) {
        fields.push_back(field);
    }
    ProcStat stat;
    if (fields.size() < 20 || fields[0].size() != 1 || !parse_number(fields[1], stat.ppid) ||
        !parse_number(fields[19], stat.start_time)) {
        return std::nullopt;
    }
    stat.state = fields[0][0];
    return stat;
}

std::vector<ProcessId> process_and_descendants(pid_t root) {
    auto root_stat = read_proc_stat(root);
    if (!root_stat || !root_stat->running()) {
        return {};
    }
    std::multimap<pid_t, ProcessId> children_of;
    std::unique_ptr<DIR, int (*)(DIR*)> proc(opendir("/proc"), closedir);
    if (proc) {
        while (dirent* entry = readdir(proc.get())) {
            pid_t pid = 0;
            if (!parse_number(std::string_view(entry->d_name), pid) || pid == root) {
                continue;
            }
            if (auto stat = read_proc_stat(pid); stat && stat->running()) {
                children_of.emplace(stat->ppid, ProcessId{pid, stat->start_time});
            }
        }
    }
    std::vector<ProcessId> found = {{root, root_stat->start_time}};
    for (std::size_t next = 0; next < found.size(); ++next) {
        auto [first, last] = children_of.equal_range(found[next].pid);
        for (auto it = first; it != last; ++it) {
            found.push_back(it->second);
        }
    }
    return found;
}

bool process_alive(const ProcessId& process) {
    auto stat = read_proc_stat(process.pid);
    return stat && stat->running() && stat->start_time == process.start_time;
}

}  // namespace jitd
