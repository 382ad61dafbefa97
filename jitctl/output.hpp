// SPDX-License-Identifier: Apache-2.0
// What jitctl prints: one JSON value for --json, compact aligned tables in local time for
// humans, CSV for audit exports.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "record.hpp"

namespace jitctl {

// Exactly one JSON value and a newline on stdout.
void print_json(const Json& value);

// A table with upper-case headers, columns two spaces apart; the last column is not padded.
void print_table(const std::vector<std::string>& headers,
                 const std::vector<std::vector<std::string>>& rows);
// "Label: value" lines with the labels right-aligned, like systemctl status.
void print_fields(const std::vector<std::pair<std::string, std::string>>& fields);

// record[key], or null when the record lacks it (or is no object).
const Json& field(const Json& record, const char* key);
// show(field(record, key)).
std::string show_field(const Json& record, const char* key);
// text with control characters replaced by '?', so no record can drive the terminal.
std::string printable(std::string text);
// A value for humans: "-" for null and empty, yes/no, lists joined with ", ", text
// printable().
std::string show(const Json& value);
// record[key] as local time, or absent_text when it is missing or null.
std::string show_local_time(const Json& record, const char* key, const char* absent_text = "-");
// record[key] (seconds) as "2h 30min", "-" when missing.
std::string show_duration(const Json& record, const char* key);

void print_status(const Json& status);
void print_resources(const Json& resources);
void print_resource(const Json& resource);
void print_policies(const Json& policies);
void print_policy(const Json& policy);
void print_requests(const Json& requests, std::string_view empty_message);
void print_grants(const Json& grants);
void print_sessions(const Json& sessions);
// A grant's review: "+ PATH" created, "~ PATH" changed, "- PATH" removed, sorted by path, or
// "no changes"; then "incomplete: REASON" when it is incomplete.
void print_review(const Json& review);
void print_keys(const Json& keys);
void print_audit_table(const Json& events);
// CSV (RFC 4180 quoting, \n line ends): seq, time (RFC 3339 UTC), event, then every audit field
// (lower case, no JIT_ prefix) and any further field jitd sent, one column each.
void print_audit_csv(const Json& events);

}  // namespace jitctl
