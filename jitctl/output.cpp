// SPDX-License-Identifier: Apache-2.0
#include "output.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
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

// One value of a record as humans see it: a column of a table (under its header) or a labelled
// field.
struct Column {
    using Show = std::function<std::string(const Json& record)>;
    // show_field(record, key) under the key itself.
    Column(const char* key) : Column(key, key) {}  // NOLINT(google-explicit-constructor)
    Column(const char* heading, const char* key)
        : title(heading), show([key](const Json& record) { return show_field(record, key); }) {}
    Column(const char* heading, Show shows) : title(heading), show(std::move(shows)) {}

    const char* title;
    Show show;
};

Column::Show time_of(const char* key, const char* absent_text = "-") {
    return [=](const Json& record) { return show_local_time(record, key, absent_text); };
}

Column::Show duration_of(const char* key) {
    return [=](const Json& record) { return show_duration(record, key); };
}

// A table of the records, one a row, or empty_message when there are none.
void print_rows(const Json& records, std::string_view empty_message,
                const std::vector<Column>& columns) {
    if (records.empty()) {
        std::cout << empty_message << '\n';
        return;
    }
    std::vector<std::string> headers;
    for (const auto& column : columns) {
        headers.emplace_back(column.title);
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& record : records) {
        std::vector<std::string>& row = rows.emplace_back();
        for (const auto& column : columns) {
            row.push_back(column.show(record));
        }
    }
    print_table(headers, rows);
}

// The fields of one record, one a line. A key as label reads as words: "approvals_required" is
// "Approvals required".
void print_labelled(const Json& record, const std::vector<Column>& fields) {
    std::vector<std::pair<std::string, std::string>> lines;
    for (const auto& f : fields) {
        std::string label = f.title;
        std::replace(label.begin(), label.end(), '_', ' ');
        label.front() = static_cast<char>(std::toupper(static_cast<unsigned char>(label.front())));
        lines.emplace_back(label, f.show(record));
    }
    print_fields(lines);
}

// An audit event's fields besides seq, time, event, user and resource, as key=value.
std::string audit_details(const Json& event) {
    std::string details;
    for (const auto& [key, value] : event.items()) {
        if (is_audit_header(key) || key == "user" || key == "resource") {
            continue;
        }
        details += (details.empty() ? "" : " ") + key + "=" + detail_value(value);
    }
    return details;
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
    print_rows(
        resources, "No resources.",
        {"name", "access", "policy", "services", "accounts", "hosts", "members", "description"});
}

void print_resource(const Json& resource) {
    print_labelled(resource, {"name",
                              "description",
                              "services",
                              "accounts",
                              "hosts",
                              "members",
                              "policy",
                              {"Your access", "access"}});
}

void print_policies(const Json& policies) {
    print_rows(policies, "No policies.",
               {"name",
                "active",
                "action",
                "approvers",
                {"approvals", "approvals_required"},
                {"max", duration_of("max_duration")},
                {"auto-expiry", "auto_expiry"},
                "resources",
                "description"});
}

void print_policy(const Json& policy) {
    print_labelled(policy, {"name",
                            "description",
                            "action",
                            "approvers",
                            "approvals_required",
                            {"Maximum duration", duration_of("max_duration")},
                            {"Automatic expiry", "auto_expiry"},
                            {"Request TTL", duration_of("request_ttl")},
                            "active",
                            "reason_pattern",
                            {"Reason minimum length", "reason_min_length"},
                            "resources"});
}

void print_requests(const Json& requests, std::string_view empty_message) {
    print_rows(requests, empty_message,
               {"id",
                "state",
                "resource",
                "requester",
                {"duration", show_request_duration},
                {"approvals", show_approval_progress},
                {"created", time_of("created")},
                {"grant", "grant_id"},
                "reason"});
}

void print_grants(const Json& grants) {
    print_rows(grants, "No grants.",
               {"id",
                "state",
                "user",
                "resource",
                {"start", time_of("start")},
                {"expiry", time_of("expiry", "until revoked")},
                {"request", "request_id"}});
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
    print_rows(sessions, "No sessions.",
               {"id",
                "state",
                "host",
                "user",
                "target",
                "service",
                {"from", "rhost"},
                "tty",
                "pid",
                {"logind", "logind_session"},
                {"grant", "grant_id"},
                {"opened", time_of("opened")},
                {"closed", time_of("closed")}});
}

void print_keys(const Json& keys) {
    print_rows(keys, "No ssh keys.",
               {"fingerprint", "user", "type", {"added", time_of("added")}, "comment"});
}

void print_audit_table(const Json& events) {
    print_rows(events, "No audit events.",
               {"seq",
                {"time", time_of("time")},
                "event",
                "user",
                "resource",
                {"details", audit_details}});
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
