// SPDX-License-Identifier: Apache-2.0
#include "jit/config.hpp"

#include <fcntl.h>
#include <ini.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <map>
#include <system_error>

#include "jit/error.hpp"
#include "jit/unique_fd.hpp"
#include "jit/validate.hpp"

namespace jit {

namespace {

constexpr std::string_view kSection = "daemon";
constexpr std::string_view kStoreSection = "store";
constexpr std::size_t kMaxConfigSize = 1 << 20;

// Where a parse stands. inih gets it both as its stream (read_line feeds it one line per call,
// which is how we know the line number) and as the handler's user pointer.
struct ParseState {
    std::string_view origin;
    std::string_view unread;
    int line = 0;                     // the line inih is working on
    std::map<std::string, int> seen;  // key -> line it was set on
    int error_line = 0;               // line of the first error we found, 0 for none
    std::string error;
    Config config;
};

void record_error(ParseState& state, int line, const std::string& problem) {
    if (state.error_line == 0) {
        state.error_line = line;
        state.error = std::string(state.origin) + ":" + std::to_string(line) + ": " + problem;
    }
}

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && is_blank(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && is_blank(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

// A section header names [daemon] or nothing we know.
void check_section_header(ParseState& state, std::string_view line) {
    std::size_t close = line.find(']');
    if (close == std::string_view::npos) {
        return;  // inih reports the malformed header
    }
    std::string_view name = line.substr(1, close - 1);
    if (name != kSection && name != kStoreSection) {
        record_error(
            state, state.line,
            "unknown section " + quote_for_message(name) + " (jitd.conf has [daemon] and [store])");
    }
}

// fgets for inih over the text in memory. Leading blanks are dropped, so an indented line is
// read on its own instead of continuing the previous value (inih's multi-line values would make
// "  x" part of the key above). Stops at the first error we detect.
char* read_line(char* buffer, int size, void* stream) {
    auto& state = *static_cast<ParseState*>(stream);
    if (state.unread.empty() || state.error_line != 0) {
        return nullptr;
    }
    std::size_t end = state.unread.find('\n');
    std::string_view line = state.unread.substr(0, end);
    state.unread.remove_prefix(end == std::string_view::npos ? state.unread.size() : end + 1);
    ++state.line;
    while (!line.empty() && is_blank(line.front())) {
        line.remove_prefix(1);
    }
    if (line.find('\0') != std::string_view::npos) {
        record_error(state, state.line, "line contains a NUL byte");
        return nullptr;
    }
    // inih's buffer holds the line, its newline and a terminating NUL.
    if (line.size() + 2 > static_cast<std::size_t>(size)) {
        record_error(state, state.line, "line longer than " + std::to_string(size - 2) + " bytes");
        return nullptr;
    }
    if (!line.empty() && line.front() == '[') {
        check_section_header(state, line);
    }
    std::memcpy(buffer, line.data(), line.size());
    buffer[line.size()] = '\n';
    buffer[line.size() + 1] = '\0';
    return buffer;
}

std::string absolute_path(std::string_view value) {
    if (value.empty() || value.front() != '/') {
        throw_invalid("must be an absolute path, got " + quote_for_message(value));
    }
    if (!is_printable_text(value)) {
        throw_invalid("path contains control characters or invalid UTF-8");
    }
    return std::string(value);
}

// "a, b,c" -> {a, b, c}, each item checked by `validate`; an empty value is an empty list.
std::vector<std::string> name_list(std::string_view value, const char* what,
                                   void (*validate)(std::string_view)) {
    std::vector<std::string> names;
    if (value.empty()) {
        return names;
    }
    for (;;) {
        std::size_t comma = value.find(',');
        std::string_view name = trim(value.substr(0, comma));
        if (name.empty()) {
            throw_invalid(std::string("empty ") + what + " in the list (write a, b, c)");
        }
        validate(name);
        names.emplace_back(name);
        if (comma == std::string_view::npos) {
            return names;
        }
        value.remove_prefix(comma + 1);
    }
}

// A review path (docs/grant-review.md): absolute, printable, wildcards only in the last
// component (the fingerprint matches that component in its directory).
void validate_review_path(std::string_view value) {
    absolute_path(value);
    const std::string_view directory = value.substr(0, value.find_last_of('/'));
    if (directory.find_first_of("*?[") != std::string_view::npos) {
        throw_invalid("wildcards (* ? [) only in the last component of a path, got " +
                      quote_for_message(value));
    }
}

std::vector<std::string> group_list(std::string_view value) {
    return name_list(value, "group name", validate_group_name);
}

bool yes_no(std::string_view value) {
    if (value == "yes" || value == "true" || value == "on" || value == "1") {
        return true;
    }
    if (value == "no" || value == "false" || value == "off" || value == "0") {
        return false;
    }
    throw_invalid("must be yes or no, got " + quote_for_message(value));
}

// A count limit: 0 (no limit) up to a million.
int limit_count(std::string_view value) {
    constexpr int kMaxLimit = 1000000;
    int count = 0;
    bool digits = !value.empty() && value.size() <= 7;
    for (char c : value) {
        digits = digits && c >= '0' && c <= '9';
        if (digits) {
            count = count * 10 + (c - '0');
        }
    }
    if (!digits || count > kMaxLimit) {
        throw_invalid("must be a whole number from 0 (no limit) to " + std::to_string(kMaxLimit) +
                      ", got " + quote_for_message(value));
    }
    return count;
}

StoreBackend store_backend(std::string_view value) {
    if (value == "sqlite") {
        return StoreBackend::Sqlite;
    }
    if (value == "postgresql") {
        return StoreBackend::Postgresql;
    }
    throw_invalid("must be sqlite or postgresql, got " + quote_for_message(value));
}

std::string store_url(std::string_view value) {
    if (value.empty() || !is_printable_text(value)) {
        throw_invalid("must be a libpq connection string or URI in printable text");
    }
    return std::string(value);
}

struct KeyRule {
    std::string_view name;
    void (*apply)(Config& config, std::string_view value);
    std::string_view section = kSection;
};

constexpr KeyRule kKeyRules[] = {
    {"backend", [](Config& c, std::string_view v) { c.store_backend = store_backend(v); },
     kStoreSection},
    {"url", [](Config& c, std::string_view v) { c.store_url = store_url(v); }, kStoreSection},
    {"database", [](Config& c, std::string_view v) { c.database = absolute_path(v); }},
    {"snapshot", [](Config& c, std::string_view v) { c.snapshot = absolute_path(v); }},
    {"authorized_keys_dir",
     [](Config& c, std::string_view v) { c.authorized_keys_dir = absolute_path(v); }},
    {"admin_groups", [](Config& c, std::string_view v) { c.admin_groups = group_list(v); }},
    {"auditor_groups", [](Config& c, std::string_view v) { c.auditor_groups = group_list(v); }},
    {"min_duration", [](Config& c, std::string_view v) { c.min_duration = parse_duration(v); }},
    {"max_duration_limit",
     [](Config& c, std::string_view v) { c.max_duration_limit = parse_duration(v); }},
    {"kill_grace", [](Config& c, std::string_view v) { c.kill_grace = parse_duration(v); }},
    {"warn_before",
     [](Config& c, std::string_view v) { c.warn_before = v == "0" ? 0 : parse_duration(v); }},
    {"notify_command",
     [](Config& c, std::string_view v) {
         if (!is_printable_text(v)) {
             throw_invalid("contains control characters or invalid UTF-8");
         }
         c.notify_command = std::string(v);
     }},
    {"notify_timeout", [](Config& c, std::string_view v) { c.notify_timeout = parse_duration(v); }},
    {"unmanaged_services",
     [](Config& c, std::string_view v) {
         c.unmanaged_services = name_list(v, "service name", validate_service);
     }},
    {"review_paths",
     [](Config& c, std::string_view v) {
         c.review_paths = name_list(v, "path", validate_review_path);
     }},
    {"root_approves", [](Config& c, std::string_view v) { c.root_approves = yes_no(v); }},
    {"max_pending_per_user",
     [](Config& c, std::string_view v) { c.max_pending_per_user = limit_count(v); }},
    {"requests_per_hour",
     [](Config& c, std::string_view v) { c.requests_per_hour = limit_count(v); }},
    {"max_schedule_ahead",
     [](Config& c, std::string_view v) { c.max_schedule_ahead = parse_duration(v); }},
    {"host",
     [](Config& c, std::string_view v) {
         validate_host_name(v);
         c.host = std::string(v);
     }},
};

const KeyRule* find_key_rule(std::string_view section, std::string_view name) {
    for (const auto& rule : kKeyRules) {
        if (rule.section == section && rule.name == name) {
            return &rule;
        }
    }
    return nullptr;
}

std::string known_keys(std::string_view section) {
    std::string names;
    for (const auto& rule : kKeyRules) {
        if (rule.section == section) {
            names += (names.empty() ? "" : ", ") + std::string(rule.name);
        }
    }
    return names;
}

// "key 'NAME': " with the name escaped when it holds anything unusual.
std::string key_prefix(std::string_view name) {
    std::string quoted = quote_for_message(name);
    // Plain only when quoting changed nothing; comparing lengths alone let a long name whose
    // escapes and cut happen to add up through raw.
    bool plain =
        quoted == "\"" + std::string(name) + "\"" && name.find('\'') == std::string_view::npos;
    return "key " + (plain ? "'" + std::string(name) + "'" : quoted) + ": ";
}

void apply_entry(ParseState& state, std::string_view section, std::string_view name,
                 std::string_view value) {
    if (section.empty()) {
        throw_invalid("outside any section (put it under [daemon])");
    }
    const KeyRule* rule = find_key_rule(section, name);
    if (rule == nullptr) {
        throw_invalid("unknown key (known keys: " + known_keys(section) + ")");
    }
    auto [first, inserted] = state.seen.emplace(std::string(name), state.line);
    if (!inserted) {
        throw_invalid("set twice (first on line " + std::to_string(first->second) + ")");
    }
    rule->apply(state.config, value);
}

int handle_entry(void* user, const char* section, const char* name, const char* value) {
    auto& state = *static_cast<ParseState*>(user);
    try {
        apply_entry(state, section, name, value);
        return 1;
    } catch (const std::exception& error) {
        // Nothing may unwind through inih's C frames.
        record_error(state, state.line, key_prefix(name) + error.what());
        return 0;
    }
}

// Limits that involve two keys; reported on the line of the key that was set.
void check_duration_limits(ParseState& state) {
    const Config& config = state.config;
    if (config.min_duration <= config.max_duration_limit) {
        return;
    }
    auto max_set = state.seen.find("max_duration_limit");
    if (max_set != state.seen.end()) {
        record_error(state, max_set->second,
                     "key 'max_duration_limit': " + format_duration(config.max_duration_limit) +
                         " is shorter than min_duration (" + format_duration(config.min_duration) +
                         ")");
    } else {
        record_error(state, state.seen.at("min_duration"),
                     "key 'min_duration': " + format_duration(config.min_duration) +
                         " is longer than max_duration_limit (" +
                         format_duration(config.max_duration_limit) + ")");
    }
}

// A PostgreSQL store needs its url; a url means nothing to the SQLite store.
void check_store(ParseState& state) {
    const Config& config = state.config;
    auto url = state.seen.find("url");
    if (config.store_backend == StoreBackend::Postgresql && config.store_url.empty()) {
        record_error(state, state.seen.at("backend"),
                     "key 'backend': postgresql needs url in [store]");
    } else if (config.store_backend == StoreBackend::Sqlite && url != state.seen.end()) {
        record_error(state, url->second,
                     "key 'url': only for backend = postgresql (the SQLite store is "
                     "[daemon] database)");
    }
}

// Closes the descriptor on every path out of load_config.
[[noreturn]] void throw_unreadable(const std::string& path, int error) {
    throw_invalid(path + ": cannot read configuration: " + std::system_category().message(error));
}

Config with_host(Config config) {
    if (config.host.empty()) {
        config.host = machine_host_name();
    }
    return config;
}

}  // namespace

std::string machine_host_name() {
    char name[HOST_NAME_MAX + 1] = {};
    if (gethostname(name, sizeof name - 1) != 0) {
        throw_invalid(std::string("cannot read the host name: ") + std::strerror(errno) +
                      " (set host in jitd.conf)");
    }
    try {
        validate_host_name(name);
    } catch (const JitError& error) {
        throw_invalid(std::string("jitd.conf sets no host and the machine's name is unusable: ") +
                      error.what());
    }
    return name;
}

Config load_config(const std::string& path, bool allow_missing) {
    UniqueFd file(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (file.get() < 0) {
        if (errno == ENOENT && allow_missing) {
            return with_host(Config{});
        }
        throw_unreadable(path, errno);
    }
    std::string text;
    char chunk[4096];
    for (;;) {
        ssize_t count = read(file.get(), chunk, sizeof chunk);
        if (count < 0 && errno == EINTR) {
            continue;
        }
        if (count < 0) {
            throw_unreadable(path, errno);
        }
        if (count == 0) {
            break;
        }
        text.append(chunk, static_cast<std::size_t>(count));
        if (text.size() > kMaxConfigSize) {
            throw_invalid(path + ": larger than " + std::to_string(kMaxConfigSize) +
                          " bytes, not a configuration file");
        }
    }
    return with_host(parse_config(text, path));
}

Config parse_config(const std::string& text, const std::string& origin) {
    ParseState state;
    state.origin = origin;
    state.unread = text;
    int result = ini_parse_stream(read_line, &state, handle_entry, &state);
    if (result == -2) {
        throw JitError(ErrorCode::Internal, origin + ": out of memory while parsing");
    }
    if (result > 0 && (state.error_line == 0 || result < state.error_line)) {
        throw_invalid(origin + ":" + std::to_string(result) +
                      ": expected 'key = value', a [section] or a comment");
    }
    if (state.error_line == 0) {
        check_duration_limits(state);
        check_store(state);
    }
    if (state.error_line != 0) {
        throw_invalid(state.error);
    }
    return state.config;
}

}  // namespace jit
