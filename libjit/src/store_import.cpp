// SPDX-License-Identifier: Apache-2.0
#include "jit/store_import.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "jit/audit_events.hpp"
#include "jit/c_handle.hpp"
#include "jit/error.hpp"
#include "jit/temp_dir.hpp"

namespace jit {
namespace {

using audit::Field;
using audit::field_name;

// Audit events are read in pages, so a long log is never held in memory at once.
constexpr std::size_t kEventPage = 1000;

[[noreturn]] void refuse(ErrorCode code, const std::string& message) {
    throw JitError(code, message + "; nothing imported");
}

// The target may hold audit events (a jitd that ran against it), but no object at all: the
// imported ids and names then cannot clash with anything. Returns the seq of its newest event.
Id require_empty(Store& target) {
    const StoredState state = target.load();
    const std::pair<const char*, std::size_t> tables[] = {
        {"resources", state.resources.size()},  {"policies", state.policies.size()},
        {"requests", state.requests.size()},    {"grants", state.grants.size()},
        {"sessions", state.sessions.size()},    {"ssh keys", state.keys.size()},
        {"grant reviews", state.reviews.size()}};
    for (const auto& [name, count] : tables) {
        if (count != 0) {
            refuse(ErrorCode::Conflict, "the fleet store already holds " + std::to_string(count) +
                                            " " + name +
                                            " (an import needs a store without objects)");
        }
    }
    return state.last_audit_seq;
}

template <class Model>
void put_same_id(Transaction& transaction, const Model& model, const char* what) {
    const Id id = transaction.put(model);
    if (id != model.id) {
        throw JitError(ErrorCode::Internal, std::string(what) + " " + std::to_string(model.id) +
                                                " was stored as " + std::to_string(id));
    }
}

void copy_objects(const StoredState& state, Transaction& transaction, const std::string& host,
                  ImportSummary& summary) {
    for (const Policy& policy : state.policies) {
        transaction.put(policy);
    }
    for (const Resource& resource : state.resources) {
        transaction.put(resource);
    }
    for (const Request& request : state.requests) {
        put_same_id(transaction, request, "request");
    }
    for (const Grant& grant : state.grants) {
        put_same_id(transaction, grant, "grant");
    }
    for (Session session : state.sessions) {
        // A session from before sessions named their host is this host's: in a fleet an empty
        // host would count as every host's.
        if (session.host.empty()) {
            session.host = host;
        }
        put_same_id(transaction, session, "session");
    }
    for (const SshKey& key : state.keys) {
        transaction.put(key);
    }
    for (const StoredReview& review : state.reviews) {
        transaction.put(review);
    }
    summary.resources = static_cast<Id>(state.resources.size());
    summary.policies = static_cast<Id>(state.policies.size());
    summary.requests = static_cast<Id>(state.requests.size());
    summary.grants = static_cast<Id>(state.grants.size());
    summary.sessions = static_cast<Id>(state.sessions.size());
    summary.keys = static_cast<Id>(state.keys.size());
    summary.reviews = static_cast<Id>(state.reviews.size());
}

// The source's event as the target's chain holds it: its time, type and fields as they are,
// and where it came from (what the source's chain can be recomputed from).
AuditEvent imported_copy(const AuditEvent& event, const std::string& chain) {
    AuditEvent copy;
    copy.time = event.time;
    copy.event = event.event;
    copy.fields = event.fields;
    copy.fields.emplace_back(field_name(Field::ImportedFrom), chain);
    copy.fields.emplace_back(field_name(Field::ImportedSeq), std::to_string(event.seq));
    copy.fields.emplace_back(field_name(Field::ImportedHash), event.hash);
    return copy;
}

void copy_events(Store& source, Transaction& transaction, ImportSummary& summary) {
    AuditFilter page;
    page.limit = kEventPage;
    for (;;) {
        const std::vector<AuditEvent> events = source.audit_events(page);
        for (const AuditEvent& event : events) {
            const AuditEvent appended =
                transaction.append(imported_copy(event, summary.source_chain));
            if (summary.first_seq == 0) {
                summary.first_seq = appended.seq;
            }
            summary.last_seq = appended.seq;
            ++summary.events;
        }
        if (events.size() < kEventPage) {
            return;
        }
        page.after_seq = events.back().seq;
    }
}

AuditEvent imported_event(const ImportSummary& summary, const ImportOptions& options) {
    const std::string seqs = summary.events == 0 ? "" : "1-" + std::to_string(summary.events);
    AuditEvent event = audit::make_event(audit::Event::Imported, options.now,
                                         {{Field::Host, options.host},
                                          {Field::Actor, options.caller.person()},
                                          {Field::ImportedFile, options.file},
                                          {Field::ImportedFrom, summary.source_chain},
                                          {Field::ImportedSeq, seqs},
                                          {Field::Change, import_counts(summary)}});
    if (options.caller.login_differs()) {
        audit::add_field(event, Field::ActorLogin, options.caller.login_name);
    }
    return event;
}

// ---- reading the SQLite file ----

using SqlitePtr = CHandle<sqlite3, sqlite3_close_v2>;

SqlitePtr open_sqlite(const std::string& path, int flags, const std::string& file) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    SqlitePtr db(raw);
    if (rc != SQLITE_OK) {
        refuse(ErrorCode::InvalidInput,
               "cannot open " + file + ": " + (db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc)));
    }
    return db;
}

// The schema version of a jit database (PRAGMA user_version); 0 for anything else.
std::int64_t schema_version(sqlite3* db, const std::string& file) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &statement, nullptr) != SQLITE_OK) {
        refuse(ErrorCode::InvalidInput, file + " is not a jit database: " + sqlite3_errmsg(db));
    }
    std::int64_t version = 0;
    const int rc = sqlite3_step(statement);
    if (rc == SQLITE_ROW) {
        version = sqlite3_column_int64(statement, 0);
    }
    sqlite3_finalize(statement);
    if (rc != SQLITE_ROW) {
        refuse(ErrorCode::InvalidInput, file + " is not a jit database: " + sqlite3_errmsg(db));
    }
    return version;
}

// Copies the database at `file` and its write-ahead log, if any, to `copy` (and its log) as
// they are on disk: not even a read-only SQLite connection touches `file`, which would leave
// a -wal and -shm beside it. jitd must not be using `file` meanwhile.
void copy_database(const std::string& file, const std::string& copy) {
    struct stat st {};
    if (stat(file.c_str(), &st) != 0) {
        refuse(ErrorCode::InvalidInput, "cannot read " + file + ": " + std::strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        refuse(ErrorCode::InvalidInput, file + " is not a regular file");
    }
    for (const char* suffix : {"", "-wal"}) {
        std::error_code error;
        const std::string from = file + suffix;
        if (*suffix != '\0' && !std::filesystem::exists(from, error)) {
            continue;
        }
        std::filesystem::copy_file(from, copy + suffix, error);
        if (error) {
            refuse(ErrorCode::InvalidInput, "cannot read " + from + ": " + error.message());
        }
    }
    SqlitePtr database = open_sqlite(copy, SQLITE_OPEN_READWRITE, file);
    if (schema_version(database.get(), file) == 0) {
        refuse(ErrorCode::InvalidInput, file + " is not a jit database (no jit schema)");
    }
}

}  // namespace

std::string import_counts(const ImportSummary& s) {
    return "resources=" + std::to_string(s.resources) + " policies=" + std::to_string(s.policies) +
           " requests=" + std::to_string(s.requests) + " grants=" + std::to_string(s.grants) +
           " sessions=" + std::to_string(s.sessions) + " keys=" + std::to_string(s.keys) +
           " reviews=" + std::to_string(s.reviews) + " events=" + std::to_string(s.events);
}

ImportSummary import_store(Store& source, Store& target, const ImportOptions& options) {
    ImportSummary summary;
    summary.source_chain = source.audit_chain();
    const AuditVerification verification = source.verify_audit();
    if (!verification.ok) {
        refuse(ErrorCode::Failed, "the audit chain of " + options.file + " is broken at seq " +
                                      std::to_string(verification.first_bad_seq) + " (" +
                                      verification.problem + ")");
    }
    const StoredState state = source.load();
    const Id target_head = require_empty(target);

    // Not refused for other hosts' changes (this process follows no feed): the check below
    // tells whether anything changed since require_empty().
    std::unique_ptr<Transaction> transaction = target.begin_own();
    copy_objects(state, *transaction, options.host, summary);
    copy_events(source, *transaction, summary);
    if (summary.events != state.last_audit_seq) {
        throw JitError(ErrorCode::Internal, "read " + std::to_string(summary.events) +
                                                " audit events of " + options.file +
                                                ", its chain ends at seq " +
                                                std::to_string(state.last_audit_seq));
    }
    summary.imported = transaction->append(imported_event(summary, options));
    // Every change of a store appends an event: when the chain grew since require_empty(), some
    // jitd changed the store in between (rolled back).
    const Id first_appended = summary.events != 0 ? summary.first_seq : summary.imported.seq;
    if (first_appended != target_head + 1) {
        refuse(ErrorCode::Conflict, "the fleet store changed while the import began (seq " +
                                        std::to_string(target_head + 1) + " to " +
                                        std::to_string(first_appended - 1) +
                                        " were written meanwhile); try again");
    }
    transaction->commit();
    return summary;
}

ImportSummary import_sqlite_file(const std::string& file, Store& target,
                                 const ImportOptions& options) {
    TempDir directory("jitd-import");
    const std::string copy = directory.path() + "/jit.db";
    copy_database(file, copy);
    std::unique_ptr<Store> source;
    try {
        source = open_sqlite_store(copy);
    } catch (const JitError& e) {
        refuse(ErrorCode::InvalidInput, "cannot open " + file + " as a jit database: " + e.what());
    }
    ImportSummary summary = import_store(*source, target, options);
    source.reset();  // closed before its directory goes
    return summary;
}

}  // namespace jit
