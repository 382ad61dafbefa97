// SPDX-License-Identifier: Apache-2.0
// Grant review fingerprints and their comparison (jit/grant_review.hpp).
#include "jit/grant_review.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "jit/error.hpp"

namespace jit {
namespace {

constexpr std::string_view kHeader = "jit-fingerprint 1";
constexpr std::string_view kIncomplete = "incomplete ";

bool has_wildcard(std::string_view text) {
    return text.find_first_of("*?[") != std::string_view::npos;
}

std::string join_path(const std::string& directory, const std::string& name) {
    if (!directory.empty() && directory.back() == '/') {
        return directory + name;
    }
    return directory + "/" + name;
}

class Walk {
  public:
    Walk(const ReviewFileSystem& fs, const ReviewLimits& limits)
        : fs_(fs), limits_(limits), started_(fs.now_usec()) {}

    void point(const std::string& point) {
        if (point.empty() || point.front() != '/') {
            return;
        }
        const auto slash = point.find_last_of('/');
        const std::string last = point.substr(slash + 1);
        if (!has_wildcard(last)) {
            path(point, 0);
            return;
        }
        const std::string directory = slash == 0 ? "/" : point.substr(0, slash);
        std::vector<std::string> names = fs_.list(directory);
        std::sort(names.begin(), names.end());
        for (const auto& name : names) {
            if (fnmatch(last.c_str(), name.c_str(), FNM_PERIOD) == 0) {
                path(join_path(directory, name), 0);
            }
        }
    }

    Fingerprint done() {
        Fingerprint out;
        out.incomplete = incomplete_;
        out.entries.reserve(entries_.size());
        for (auto& [path, entry] : entries_) {
            out.entries.push_back(std::move(entry));
        }
        return out;
    }

  private:
    bool over_budget() {
        if (!incomplete_.empty()) {
            return true;
        }
        if (entries_.size() >= limits_.max_files) {
            incomplete_ = "stopped at " + std::to_string(limits_.max_files) + " files";
        } else if (fs_.now_usec() - started_ > limits_.max_usec) {
            incomplete_ = "stopped after " + std::to_string(limits_.max_usec / 1000) + " ms";
        }
        return !incomplete_.empty();
    }

    void path(const std::string& path, int depth) {
        if (entries_.count(path) != 0 || over_budget()) {
            return;
        }
        std::optional<FileEntry> entry = fs_.stat(path);
        if (!entry) {
            return;
        }
        entry->path = path;
        entry->hash = "-";
        if (entry->type == 'f') {
            hash(*entry);
        } else if (entry->type == 'l') {
            entry->hash = fs_.hash_link(path);
        }
        const bool directory = entry->type == 'd';
        entries_.emplace(path, std::move(*entry));
        if (!directory) {
            return;
        }
        if (depth >= limits_.max_depth) {
            if (incomplete_.empty()) {
                incomplete_ = "directories deeper than " + std::to_string(limits_.max_depth) +
                              " levels not read (" + escape_path(path) + ")";
            }
            return;
        }
        std::vector<std::string> names = fs_.list(path);
        std::sort(names.begin(), names.end());
        for (const auto& name : names) {
            this->path(join_path(path, name), depth + 1);
        }
    }

    void hash(FileEntry& entry) {
        const auto size = static_cast<std::uint64_t>(std::max<std::int64_t>(entry.size, 0));
        if (size > limits_.max_file_bytes) {
            return;  // recorded by size, mode, owner and mtime only
        }
        if (hashed_ + size > limits_.max_bytes) {
            if (incomplete_.empty()) {
                incomplete_ = "stopped hashing after " + std::to_string(hashed_) + " bytes";
            }
            return;
        }
        if (auto digest = fs_.hash_file(entry.path, limits_.max_file_bytes)) {
            entry.hash = std::move(*digest);
            hashed_ += size;
        }
    }

    const ReviewFileSystem& fs_;
    const ReviewLimits& limits_;
    std::uint64_t started_;
    std::uint64_t hashed_ = 0;
    std::map<std::string, FileEntry> entries_;
    std::string incomplete_;
};

std::string unescape_path(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\') {
            out += text[i];
            continue;
        }
        if (i + 1 < text.size() && text[i + 1] == '\\') {
            out += '\\';
            ++i;
            continue;
        }
        unsigned value = 0;
        if (i + 3 >= text.size() || text[i + 1] != 'x' ||
            std::from_chars(text.data() + i + 2, text.data() + i + 4, value, 16).ptr !=
                text.data() + i + 4) {
            throw_invalid("bad escape in a fingerprint path");
        }
        out += static_cast<char>(value);
        i += 3;
    }
    return out;
}

template <typename T>
T number(std::string_view field, int base = 10) {
    T value{};
    const auto [end, error] =
        std::from_chars(field.data(), field.data() + field.size(), value, base);
    if (error != std::errc() || end != field.data() + field.size()) {
        throw_invalid("bad number in a fingerprint line");
    }
    return value;
}

FileEntry parse_entry(std::string_view line) {
    std::vector<std::string_view> fields;
    for (int i = 0; i < 7; ++i) {
        const auto space = line.find(' ');
        if (space == std::string_view::npos) {
            throw_invalid("short fingerprint line");
        }
        fields.push_back(line.substr(0, space));
        line.remove_prefix(space + 1);
    }
    FileEntry entry;
    if (fields[0].size() != 1 ||
        std::string_view("fdlo").find(fields[0][0]) == std::string_view::npos) {
        throw_invalid("bad type in a fingerprint line");
    }
    entry.type = fields[0][0];
    entry.size = number<std::int64_t>(fields[1]);
    entry.mode = number<std::uint32_t>(fields[2], 8);
    entry.uid = number<std::uint32_t>(fields[3]);
    entry.gid = number<std::uint32_t>(fields[4]);
    entry.mtime = number<std::int64_t>(fields[5]);
    // "-" or lower-case hex (SHA-256): an empty or other field would not format back the same.
    if (fields[6] != "-" && (fields[6].empty() || fields[6].find_first_not_of("0123456789abcdef") !=
                                                      std::string_view::npos)) {
        throw_invalid("bad hash in a fingerprint line");
    }
    entry.hash = std::string(fields[6]);
    entry.path = unescape_path(line);
    if (entry.path.empty() || entry.path.front() != '/') {
        throw_invalid("a fingerprint path is not absolute");
    }
    return entry;
}

bool entry_changed(const FileEntry& before, const FileEntry& after) {
    if (before.type != after.type || before.mode != after.mode || before.uid != after.uid ||
        before.gid != after.gid) {
        return true;
    }
    if (after.type == 'd') {
        return false;  // its files speak for themselves
    }
    return before.size != after.size || before.mtime != after.mtime || before.hash != after.hash;
}

}  // namespace

std::vector<std::string> persistence_points(const std::string& account, const std::string& home,
                                            bool superuser) {
    std::vector<std::string> points;
    if (!home.empty() && home.front() == '/') {
        points.push_back(join_path(home, ".ssh/authorized_keys*"));
        points.push_back(join_path(home, ".config/systemd/user"));
    }
    if (!account.empty() && account.find('/') == std::string::npos && account != "." &&
        account != "..") {
        points.push_back("/var/spool/cron/crontabs/" + account);
    }
    if (superuser) {
        for (const char* point : {"/etc/sudoers*", "/etc/cron*", "/etc/systemd/system",
                                  "/etc/passwd", "/etc/group", "/root/.ssh"}) {
            points.emplace_back(point);
        }
    }
    return points;
}

Fingerprint take_fingerprint(const std::vector<std::string>& points, const ReviewFileSystem& fs,
                             const ReviewLimits& limits) {
    Walk walk(fs, limits);
    std::set<std::string> seen;
    for (const auto& point : points) {
        if (seen.insert(point).second) {
            walk.point(point);
        }
    }
    return walk.done();
}

void merge_fingerprint(Fingerprint& into, const Fingerprint& more) {
    std::map<std::string, FileEntry> merged;
    for (const auto& entry : into.entries) {
        merged.emplace(entry.path, entry);
    }
    for (const auto& entry : more.entries) {
        merged.emplace(entry.path, entry);
    }
    into.entries.clear();
    for (auto& [path, entry] : merged) {
        into.entries.push_back(std::move(entry));
    }
    if (into.incomplete.empty()) {
        into.incomplete = more.incomplete;
    }
}

std::string escape_path(std::string_view path) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(path.size());
    for (char c : path) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\\') {
            out += "\\\\";
        } else if (byte < 0x20 || byte == 0x7f) {
            out += "\\x";
            out += kHex[byte >> 4];
            out += kHex[byte & 0x0f];
        } else {
            out += c;
        }
    }
    return out;
}

std::string format_fingerprint(const Fingerprint& fingerprint) {
    std::string text(kHeader);
    text += '\n';
    if (!fingerprint.incomplete.empty()) {
        text += std::string(kIncomplete) + escape_path(fingerprint.incomplete) + "\n";
    }
    char mode[16];
    for (const auto& e : fingerprint.entries) {
        snprintf(mode, sizeof mode, "%o", e.mode);
        text += std::string(1, e.type) + ' ' + std::to_string(e.size) + ' ' + mode + ' ' +
                std::to_string(e.uid) + ' ' + std::to_string(e.gid) + ' ' +
                std::to_string(e.mtime) + ' ' + (e.hash.empty() ? "-" : e.hash) + ' ' +
                escape_path(e.path) + '\n';
    }
    return text;
}

Fingerprint parse_fingerprint(std::string_view text) {
    Fingerprint out;
    bool first = true;
    while (!text.empty()) {
        const auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        if (first) {
            if (line != kHeader) {
                throw_invalid("not a jit fingerprint");
            }
            first = false;
            continue;
        }
        if (line.substr(0, kIncomplete.size()) == kIncomplete) {
            out.incomplete = unescape_path(line.substr(kIncomplete.size()));
            continue;
        }
        out.entries.push_back(parse_entry(line));
    }
    if (first) {
        throw_invalid("not a jit fingerprint");
    }
    std::sort(out.entries.begin(), out.entries.end(),
              [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
    return out;
}

ReviewChanges compare_fingerprints(const Fingerprint& before, const Fingerprint& after) {
    std::map<std::string_view, const FileEntry*> old;
    for (const auto& entry : before.entries) {
        old.emplace(entry.path, &entry);
    }
    ReviewChanges changes;
    std::set<std::string_view> present;
    for (const auto& entry : after.entries) {
        present.insert(entry.path);
        auto it = old.find(entry.path);
        if (it == old.end()) {
            changes.created.push_back(entry.path);
        } else if (entry_changed(*it->second, entry)) {
            changes.changed.push_back(entry.path);
        }
    }
    for (const auto& entry : before.entries) {
        if (present.count(entry.path) == 0) {
            changes.removed.push_back(entry.path);
        }
    }
    for (auto* list : {&changes.created, &changes.changed, &changes.removed}) {
        std::sort(list->begin(), list->end());
    }
    return changes;
}

std::string format_changes(const ReviewChanges& changes) {
    std::vector<std::pair<std::string, char>> lines;
    for (const auto& path : changes.created) {
        lines.emplace_back(path, '+');
    }
    for (const auto& path : changes.changed) {
        lines.emplace_back(path, '~');
    }
    for (const auto& path : changes.removed) {
        lines.emplace_back(path, '-');
    }
    std::sort(lines.begin(), lines.end());
    std::string text;
    for (const auto& [path, mark] : lines) {
        if (!text.empty()) {
            text += '\n';
        }
        text += mark;
        text += escape_path(path);
    }
    return text;
}

}  // namespace jit
