// SPDX-License-Identifier: Apache-2.0
// Domain records as D-Bus a{sv} dictionaries whose keys are the JSON keys of docs/jitctl.md
// (dbus/io.jitd.Jit1.xml). Value types: ids, times, durations, pid and seq are int64 ("x");
// approvals_required is int32 ("i"); flags are "b"; lists of names "as"; approvals "aa{sv}";
// everything else "s". A value that is null in JSON (undecided request's decided, no grant_id,
// a grant without expiry, an open session's closed, a resource without policy) is absent.
// Audit events: seq and time "x", event "s"; the fields request_id, grant_id,
// requested_duration, duration and session_pid "x" and capped "b" when they hold such a value,
// every other field (and an empty one) "s" as stored.
// Every function throws SdBusFailure when sd-bus refuses to append.
#pragma once

#include <systemd/sd-bus.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "jit/bus_contract.hpp"
#include "jit/error.hpp"
#include "jit/model.hpp"
#include "jit/service.hpp"

namespace jitd {

// An sd-bus call failed with a negative errno; the method handler returns it to sd-bus.
class SdBusFailure : public jit::CodedError<int> {
  public:
    using CodedError<int>::CodedError;
    int error() const { return code(); }
};

// Throws SdBusFailure when r < 0.
int check_sd_bus(int r, const char* what);

struct ReviewRecord;

// Writes one a{sv} dictionary: opened by the constructor, closed by close().
class DictWriter {
  public:
    explicit DictWriter(sd_bus_message* message);
    void str(const char* key, const std::string& value);
    void i64(const char* key, std::int64_t value);
    void i32(const char* key, std::int32_t value);
    void boolean(const char* key, bool value);
    void strv(const char* key, const std::vector<std::string>& values);

    // A key of the contract (jit::bus::record): its type picks the value's D-Bus type.
    using Type = jit::bus::record::Type;
    template <Type T>
    using Key = jit::bus::record::Key<T>;
    void put(Key<Type::String> key, std::string_view value) { str(key.name, std::string(value)); }
    // An enum as its name (jit::to_string).
    template <typename E>
        requires std::is_enum_v<E>
    void put(Key<Type::String> key, E value) {
        put(key, to_string(value));
    }
    void put(Key<Type::Int64> key, std::int64_t value) { i64(key.name, value); }
    void put(Key<Type::Int32> key, std::int32_t value) { i32(key.name, value); }
    void put(Key<Type::Boolean> key, bool value) { boolean(key.name, value); }
    void put(Key<Type::Strings> key, const std::vector<std::string>& values) {
        strv(key.name, values);
    }
    void put(Key<Type::Int64s> key, const std::vector<std::int64_t>& values);
    // No value: the key is left out.
    template <Type T, typename V>
    void put(Key<T> key, const std::optional<V>& value) {
        if (value) {
            put(key, *value);
        }
    }
    // Nested records, each written by its append_record().
    template <typename Record>
    void put(Key<Type::Records> key, const std::vector<Record>& records);
    void put(Key<Type::Record> key, const ReviewRecord& review);

    // values[i] under Keys[i], the keys of one record of the contract (all of them, in order).
    // Each value goes to the put() of its key's type: a value of another type does not compile.
    template <const auto& Keys, typename... Values>
    void put_all(const Values&... values) {
        static_assert(sizeof...(Values) == std::size(Keys), "one value for each key");
        put_each<Keys>(std::index_sequence_for<Values...>{}, values...);
    }
    // Opens a list of records (aa{sv}) for the caller to fill; end_variant() closes.
    void begin_records(Key<Type::Records> key) { begin_variant(key.name, "aa{sv}"); }
    // Opens one record (a{sv}) for the caller to fill; end_variant() closes.
    void begin_record(Key<Type::Record> key) { begin_variant(key.name, "a{sv}"); }
    sd_bus_message* message() const { return message_; }
    // Opens the variant of `key` with `signature` for the caller to fill; end_variant() closes.
    void begin_variant(const char* key, const char* signature);
    void end_variant();
    void close();

  private:
    template <const auto& Keys, std::size_t... I, typename... Values>
    void put_each(std::index_sequence<I...>, const Values&... values) {
        (put(Key<Keys[I].type>{Keys[I].name}, values), ...);
    }

    sd_bus_message* message_;
};

void append_strv(sd_bus_message* message, const std::vector<std::string>& values);

// A grant's review with the grant's id: the Review record.
struct ReviewRecord {
    jit::Id grant_id;
    jit::GrantReview review;
};

// Each record as one a{sv}, its keys those of the record in the contract.
void append_record(sd_bus_message* message, const jit::Request& request);
void append_record(sd_bus_message* message, const jit::Approval& approval);
// With its review ("review", a Review record) once it has one.
void append_record(sd_bus_message* message, const jit::Grant& grant);
// A grant's review (docs/grant-review.md): the JIT_CHANGED lines split into created, changed and
// removed paths.
void append_record(sd_bus_message* message, const ReviewRecord& review);
void append_record(sd_bus_message* message, const jit::ResourceView& view);
void append_record(sd_bus_message* message, const jit::PolicyView& view);
void append_record(sd_bus_message* message, const jit::Session& session);
// fingerprint, user, type, comment, added; and key (the "TYPE BASE64" line).
void append_record(sd_bus_message* message, const jit::SshKey& key);
// One step of a policy plan: op, kind, name, change.
void append_record(sd_bus_message* message, const jit::PlanChange& change);
void append_audit_event(sd_bus_message* message, const jit::AuditEvent& event);

// An aa{sv} of records, each written by append(message, record).
template <typename Record, typename Append>
void append_records(sd_bus_message* message, const std::vector<Record>& records, Append append) {
    check_sd_bus(sd_bus_message_open_container(message, 'a', "a{sv}"), "open record list");
    for (const auto& record : records) {
        append(message, record);
    }
    check_sd_bus(sd_bus_message_close_container(message), "close record list");
}

template <typename Record>
void DictWriter::put(Key<Type::Records> key, const std::vector<Record>& records) {
    begin_records(key);
    append_records(message_, records, [](sd_bus_message* message, const Record& record) {
        append_record(message, record);
    });
    end_variant();
}

}  // namespace jitd
