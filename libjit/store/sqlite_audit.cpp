// SPDX-License-Identifier: Apache-2.0
#include "sqlite_audit.hpp"

#include <charconv>
#include <cstdint>
#include <utility>

namespace jit::sqlite {
namespace {

constexpr std::string_view kAuditHeadSeq = "audit_head_seq";
constexpr std::string_view kAuditHeadHash = "audit_head_hash";

}  // namespace

std::optional<std::string> read_meta(Database& database, std::string_view name) {
    Query query = database.query("read meta", "SELECT value FROM meta WHERE name = ?");
    query.bind(name);
    if (!query.next()) {
        return std::nullopt;
    }
    return query.text(0);
}

Id read_meta_id(Database& database, std::string_view name) {
    std::optional<std::string> text = read_meta(database, name);
    if (!text) {
        return 0;
    }
    Id value = 0;
    auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (error != std::errc() || end != text->data() + text->size()) {
        database.fail("read meta", std::string(name) + " is not a number: '" + *text + "'");
    }
    return value;
}

void write_meta(Database& database, std::string_view name, std::string_view value) {
    database
        .query("write meta",
               "INSERT INTO meta (name, value) VALUES (?, ?) "
               "ON CONFLICT (name) DO UPDATE SET value = excluded.value")
        .bind(name)
        .bind(value)
        .run();
}

ChainHead read_chain_head(Database& database) {
    return {read_meta_id(database, kAuditHeadSeq),
            read_meta(database, kAuditHeadHash).value_or(std::string())};
}

void write_chain_head(Database& database, const ChainHead& head) {
    write_meta(database, kAuditHeadSeq, std::to_string(head.seq));
    write_meta(database, kAuditHeadHash, head.hash);
}

AuditEvent append_audit_event(Database& database, ChainHead& head, const AuditEvent& event) {
    AuditEvent row = event;
    row.seq = head.seq + 1;
    row.prev_hash = head.hash;
    row.hash = audit_hash(row);

    database
        .query("append audit event",
               "INSERT INTO audit_events (seq, time, event, user_name, resource, prev_hash, hash) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(row.seq)
        .bind(row.time)
        .bind(row.event)
        .bind_optional_text(field_value(row, "JIT_USER"))
        .bind_optional_text(field_value(row, "JIT_RESOURCE"))
        .bind(row.prev_hash)
        .bind(row.hash)
        .run();
    for (std::size_t position = 0; position < row.fields.size(); ++position) {
        database
            .query("append audit event",
                   "INSERT INTO audit_fields (seq, position, name, value) VALUES (?, ?, ?, ?)")
            .bind(row.seq)
            .bind(static_cast<std::int64_t>(position))
            .bind(row.fields[position].first)
            .bind(row.fields[position].second)
            .run();
    }
    head = {row.seq, row.hash};
    return row;
}

std::vector<AuditEvent> read_audit_events(Database& database, const AuditFilter& filter) {
    // The statement text depends only on which filters are set, never on their values, so
    // each of the few shapes is prepared once and every condition can use its index.
    std::string sql(kAuditColumns);
    sql +=
        "(SELECT seq, time, event, user_name, resource, prev_hash, hash FROM audit_events "
        "WHERE seq > ?";
    if (filter.since) {
        sql += " AND time >= ?";
    }
    if (filter.until) {
        sql += " AND time < ?";
    }
    if (!filter.user.empty()) {
        sql += " AND user_name = ?";
    }
    if (!filter.resource.empty()) {
        sql += " AND resource = ?";
    }
    if (!filter.event.empty()) {
        sql += " AND event = ?";
    }
    sql += " ORDER BY seq";
    if (filter.limit) {
        sql += " LIMIT ?";
    }
    sql += ")";
    sql += kAuditJoin;

    Query rows = database.query("read audit events", sql);
    rows.bind(filter.after_seq);
    if (filter.since) {
        rows.bind(*filter.since);
    }
    if (filter.until) {
        rows.bind(*filter.until);
    }
    if (!filter.user.empty()) {
        rows.bind(filter.user);
    }
    if (!filter.resource.empty()) {
        rows.bind(filter.resource);
    }
    if (!filter.event.empty()) {
        rows.bind(filter.event);
    }
    if (filter.limit) {
        rows.bind(static_cast<std::int64_t>(filter.limit));
    }

    std::vector<AuditEvent> events;
    group_audit_rows(rows, [&events](AuditRow&& row) {
        events.push_back(std::move(row.event));
        return true;
    });
    return events;
}

AuditVerification verify_audit_rows(Database& database, const JournalCopy& journal) {
    ChainChecker checker(journal);
    {
        std::string sql(kAuditColumns);
        sql += "audit_events";
        sql += kAuditJoin;
        Query rows = database.query("verify audit chain", sql);
        group_audit_rows(rows, [&checker](AuditRow&& row) { return checker.check(row); });
    }
    checker.check_end(read_chain_head(database));
    return checker.result();
}

}  // namespace jit::sqlite
