// SPDX-License-Identifier: Apache-2.0
#include "output.hpp"

#include <algorithm>
#include <iostream>

#include "jit/time.hpp"

namespace jitctl {
namespace {

// Columns count characters, not bytes: reasons and descriptions may be UTF-8.
std::size_t display_width(std::string_view text) {
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

std::string upper(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return text;
}

// "3/2" style progress of a request's approvals: approvals given / approvals required.
std::string show_approval_progress(const Json& request) {
    int approved = 0;
    for (const auto& approval : field(request, "approvals")) {
        if (field(approval, "decision") == "approve") {
            ++approved;
        }
    }
    return std::to_string(approved) + "/" + show_field(request, "approvals_required");
}

std::string show_request_duration(const Json& request) {
    std::string text = show_duration(request, "duration");
    if (field(request, "capped") == true) {
        text += " (asked " + show_duration(request, "requested_duration") + ")";
    }
    return text;
}

// The audit fields, lower case without JIT_, in the order docs/audit-events.md lists them.
const std::vector<std::string>& audit_field_order() {
    static const std::vector<std::string> order = {"request_id",
                                                   "grant_id",
                                                   "user",
                                                   "resource",
                                                   "policy",
                                                   "reason",
                                                   "requested_duration",
                                                   "duration",
                                                   "capped",
                                                   "actor",
                                                   "comment",
                                                   "start",
                                                   "expiry",
                                                   "target",
                                                   "service",
                                                   "rhost",
                                                   "tty",
                                                   "session_pid",
                                                   "logind_session",
                                                   "object",
                                                   "change",
                                                   "host"};
    return order;
}

// key=value details of an audit row; values with spaces or quotes are quoted, shell style.
std::string detail_value(const Json& value) {
    const std::string text = show(value);
    if (text.find_first_of(" \"\\") == std::string::npos) {
        return text;
    }
    std::string quoted = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') {
            quoted += '\\';
        }
        quoted += c;
    }
    return quoted + "\"";
}

bool is_audit_header(std::string_view key) {
    return key == "seq" || key == "time" || key == "event";
}

std::string csv_cell(const std::string& text) {
    if (text.find_first_of(",\"\r\n") == std::string::npos) {
        return text;
    }
    std::string quoted = "\"";
    for (const char c : text) {
        quoted += c;
        if (c == '"') {
            quoted += '"';
        }
    }
    return quoted + "\"";
}

// Audit values as exported: strings as they are, times in RFC 3339 UTC, null empty.
std::string csv_value(const std::string& key, const Json& value) {
    if (value.is_null()) {
        return "";
    }
    if (value.is_string()) {
        return value.get<std::string>();
    }
    if (is_time_key(key) && value.is_number_integer()) {
        return jit::format_rfc3339(value.get<jit::EpochSeconds>());
    }
    return value.dump();
}

void print_csv_row(const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
        std::cout << (i > 0 ? "," : "") << csv_cell(cells[i]);
    }
    std::cout << '\n';
}

}  // namespace

const Json& field(const Json& record, const char* key) {
    static const Json null_value;
    const auto it = record.find(key);
    return it != record.end() ? *it : null_value;
}

std::string show_field(const Json& record, const char* key) {
    return show(field(record, key));
}

std::string printable(std::string text) {
    for (auto& c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7F) {
            c = '?';
        }
    }
    return text;
}

void print_json(const Json& value) {
    std::cout << value.dump(2, ' ', false, Json::error_handler_t::replace) << '\n';
}

void print_table(const std::vector<std::string>& headers,
                 const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths(headers.size());
    for (std::size_t i = 0; i < headers.size(); ++i) {
        widths[i] = display_width(headers[i]);
        for (const auto& row : rows) {
            widths[i] = std::max(widths[i], display_width(row.at(i)));
        }
    }
    auto print_row = [&](const std::vector<std::string>& cells) {
        std::string line;
        for (std::size_t i = 0; i < cells.size(); ++i) {
            line += cells[i];
            if (i + 1 < cells.size()) {
                line.append(widths[i] - display_width(cells[i]) + 2, ' ');
            }
        }
        std::cout << line << '\n';
    };
    std::vector<std::string> header_cells;
    std::transform(headers.begin(), headers.end(), std::back_inserter(header_cells), upper);
    print_row(header_cells);
    for (const auto& row : rows) {
        print_row(row);
    }
}

void print_fields(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::size_t width = 0;
    for (const auto& [label, value] : fields) {
        width = std::max(width, display_width(label));
    }
    for (const auto& [label, value] : fields) {
        std::cout << std::string(width - display_width(label), ' ') << label << ": " << value
                  << '\n';
    }
}

std::string show(const Json& value) {
    if (value.is_null()) {
        return "-";
    }
    if (value.is_boolean()) {
        return value.get<bool>() ? "yes" : "no";
    }
    if (value.is_string()) {
        const auto& text = value.get_ref<const std::string&>();
        return text.empty() ? "-" : printable(text);
    }
    if (value.is_array()) {
        std::string joined;
        for (const auto& element : value) {
            joined += (joined.empty() ? "" : ", ") + show(element);
        }
        return joined.empty() ? "-" : joined;
    }
    return printable(value.dump());
}

std::string show_local_time(const Json& record, const char* key, const char* absent_text) {
    const Json& value = field(record, key);
    if (!value.is_number_integer()) {
        return value.is_null() ? absent_text : show(value);
    }
    return jit::format_local(value.get<jit::EpochSeconds>());
}

std::string show_duration(const Json& record, const char* key) {
    const Json& value = field(record, key);
    if (!value.is_number_integer() || value.get<jit::Seconds>() <= 0) {
        return show(value);
    }
    return jit::format_duration(value.get<jit::Seconds>());
}

void print_status(const Json& status) {
    std::vector<std::pair<std::string, std::string>> fields;
    for (const auto& [key, value] : status.items()) {
        std::string label = key;
        std::replace(label.begin(), label.end(), '_', ' ');
        fields.emplace_back(label,
                            is_time_key(key) ? show_local_time(status, key.c_str()) : show(value));
    }
    print_fields(fields);
}

void print_resources(const Json& resources) {
    if (resources.empty()) {
        std::cout << "No resources.\n";
        return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : resources) {
        rows.push_back({show_field(r, "name"), show_field(r, "access"), show_field(r, "policy"),
                        show_field(r, "services"), show_field(r, "accounts"),
                        show_field(r, "hosts"), show_field(r, "members"),
                        show_field(r, "description")});
    }
    print_table(
        {"name", "access", "policy", "services", "accounts", "hosts", "members", "description"},
        rows);
}

void print_resource(const Json& resource) {
    print_fields({{"Name", show_field(resource, "name")},
                  {"Description", show_field(resource, "description")},
                  {"Services", show_field(resource, "services")},
                  {"Accounts", show_field(resource, "accounts")},
                  {"Hosts", show_field(resource, "hosts")},
                  {"Members", show_field(resource, "members")},
                  {"Policy", show_field(resource, "policy")},
                  {"Your access", show_field(resource, "access")}});
}

void print_policies(const Json& policies) {
    if (policies.empty()) {
        std::cout << "No policies.\n";
        return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : policies) {
        rows.push_back({show_field(p, "name"), show_field(p, "active"), show_field(p, "action"),
                        show_field(p, "approvers"), show_field(p, "approvals_required"),
                        show_duration(p, "max_duration"), show_field(p, "auto_expiry"),
                        show_field(p, "resources"), show_field(p, "description")});
    }
    print_table({"name", "active", "action", "approvers", "approvals", "max", "auto-expiry",
                 "resources", "description"},
                rows);
}

void print_policy(const Json& policy) {
    print_fields({{"Name", show_field(policy, "name")},
                  {"Description", show_field(policy, "description")},
                  {"Action", show_field(policy, "action")},
                  {"Approvers", show_field(policy, "approvers")},
                  {"Approvals required", show_field(policy, "approvals_required")},
                  {"Maximum duration", show_duration(policy, "max_duration")},
                  {"Automatic expiry", show_field(policy, "auto_expiry")},
                  {"Request TTL", show_duration(policy, "request_ttl")},
                  {"Active", show_field(policy, "active")},
                  {"Reason pattern", show_field(policy, "reason_pattern")},
                  {"Reason minimum length", show_field(policy, "reason_min_length")},
                  {"Resources", show_field(policy, "resources")}});
}

void print_requests(const Json& requests, std::string_view empty_message) {
    if (requests.empty()) {
        std::cout << empty_message << '\n';
        return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : requests) {
        rows.push_back({show_field(r, "id"), show_field(r, "state"), show_field(r, "resource"),
                        show_field(r, "requester"), show_request_duration(r),
                        show_approval_progress(r), show_local_time(r, "created"),
                        show_field(r, "grant_id"), show_field(r, "reason")});
    }
    print_table({"id", "state", "resource", "requester", "duration", "approvals", "created",
                 "grant", "reason"},
                rows);
}

void print_grants(const Json& grants) {
    if (grants.empty()) {
        std::cout << "No grants.\n";
        return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& g : grants) {
        rows.push_back({show_field(g, "id"), show_field(g, "state"), show_field(g, "user"),
                        show_field(g, "resource"), show_local_time(g, "start"),
                        show_local_time(g, "expiry", "until revoked"),
                        show_field(g, "request_id")});
    }
    print_table({"id", "state", "user", "resource", "start", "expiry", "request"}, rows);
}

void print_review(const Json& review) {
    std::vector<std::pair<std::string, char>> paths;
    for (const auto& [key, mark] :
         {std::pair{"created", '+'}, {"changed", '~'}, {"removed", '-'}}) {
        const Json& list = field(review, key);
        if (!list.is_array()) {
            continue;
        }
        for (const auto& path : list) {
            paths.emplace_back(path.is_string() ? path.get<std::string>() : path.dump(), mark);
        }
    }
    std::sort(paths.begin(), paths.end());
    for (const auto& [path, mark] : paths) {
        std::cout << mark << ' ' << printable(path) << '\n';
    }
    if (paths.empty()) {
        std::cout << "no changes\n";
    }
    const Json& incomplete = field(review, "incomplete");
    if (incomplete.is_string() && !incomplete.get<std::string>().empty()) {
        std::cout << "incomplete: " << printable(incomplete.get<std::string>()) << '\n';
    }
}

void print_sessions(const Json& sessions) {
    if (sessions.empty()) {
        std::cout << "No sessions.\n";
        return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : sessions) {
        rows.push_back({show_field(s, "id"), show_field(s, "state"), show_field(s, "host"),
                        show_field(s, "user"), show_field(s, "target"), show_field(s, "service"),
                        show_field(s, "rhost"), show_field(s, "tty"), show_field(s, "pid"),
                        show_field(s, "logind_session"), show_field(s, "grant_id"),
                        show_local_time(s, "opened"), show_local_time(s, "closed")});
    }
    print_table({"id", "state", "host", "user", "target", "service", "from", "tty", "pid", "logind",
                 "grant", "opened", "closed"},
                rows);
}

void print_keys(const Json& keys) {
    if (keys.empty()) {
        std::cout << "No ssh keys.\n";
        return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& k : keys) {
        rows.push_back({show_field(k, "fingerprint"), show_field(k, "user"), show_field(k, "type"),
                        show_local_time(k, "added"), show_field(k, "comment")});
    }
    print_table({"fingerprint", "user", "type", "added", "comment"}, rows);
}

void print_audit_table(const Json& events) {
    if (events.empty()) {
        std::cout << "No audit events.\n";
        return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : events) {
        std::string details;
        for (const auto& [key, value] : e.items()) {
            if (is_audit_header(key) || key == "user" || key == "resource") {
                continue;
            }
            details += (details.empty() ? "" : " ") + key + "=" + detail_value(value);
        }
        rows.push_back({show_field(e, "seq"), show_local_time(e, "time"), show_field(e, "event"),
                        show_field(e, "user"), show_field(e, "resource"), details});
    }
    print_table({"seq", "time", "event", "user", "resource", "details"}, rows);
}

void print_audit_csv(const Json& events) {
    std::vector<std::string> columns = {"seq", "time", "event"};
    for (const auto& key : audit_field_order()) {
        columns.push_back(key);
    }
    for (const auto& e : events) {
        for (const auto& [key, value] : e.items()) {
            if (std::find(columns.begin(), columns.end(), key) == columns.end()) {
                columns.push_back(key);
            }
        }
    }
    print_csv_row(columns);
    for (const auto& e : events) {
        std::vector<std::string> cells;
        for (const auto& column : columns) {
            const auto it = e.find(column);
            cells.push_back(it != e.end() ? csv_value(column, *it) : "");
        }
        print_csv_row(cells);
    }
}

}  // namespace jitctl
