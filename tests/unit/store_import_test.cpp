// SPDX-License-Identifier: Apache-2.0
// Moving a single host into a fleet (jit/store_import.hpp): a single host's SQLite database
// copied into a PostgreSQL store on a real server (pg_test_server.hpp) with every object under
// its id, every audit event with its time and fields, and a chain that verifies; a second import,
// a missing file, a file that is no jit database, a tampered chain and a failure half-way change
// nothing, and the SQLite file is never written.

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>

#include "jit/audit_events.hpp"
#include "jit/store_import.hpp"
#include "pg_test_server.hpp"
#include "store_test_support.hpp"

namespace jit {
namespace {

using namespace store_test;

constexpr EpochSeconds kImportTime = 1'800'000'000;

std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::set<std::string> directory_entries(const std::string& path) {
    std::set<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(path)) {
        names.insert(entry.path().filename().string());
    }
    return names;
}

// The events a single host wrote: those of an approved request, its grant and session, a key
// and a policy change, and one from before events named their host (imported as it is).
std::vector<AuditEvent> host_events() {
    using audit::Event;
    using audit::Field;
    std::vector<AuditEvent> events = {
        audit::make_event(Event::PolicyChanged, 1'790'000'000,
                          {{Field::Host, "db-01"},
                           {Field::Actor, "ada"},
                           {Field::Object, "ops"},
                           {Field::Change, "added"}}),
        audit::make_event(Event::Requested, 1'790'000'100,
                          {{Field::Host, "db-01"},
                           {Field::RequestId, "1"},
                           {Field::User, "dave"},
                           {Field::Resource, "db"}}),
        audit::make_event(Event::Approved, 1'790'000'300,
                          {{Field::Host, "db-01"},
                           {Field::RequestId, "1"},
                           {Field::User, "dave"},
                           {Field::Resource, "db"},
                           {Field::Actor, "carol"},
                           {Field::Comment, "ok"}}),
        audit::make_event(Event::Granted, 1'790'000'600,
                          {{Field::Host, "db-01"},
                           {Field::RequestId, "1"},
                           {Field::GrantId, "1"},
                           {Field::User, "dave"},
                           {Field::Resource, "db"}}),
        audit::make_event(Event::SessionOpened, 1'790'000'700,
                          {{Field::Host, "db-01"}, {Field::User, "dave"}, {Field::GrantId, "1"}}),
        audit::make_event(Event::KeyAdded, 1'790'000'800,
                          {{Field::Host, "db-01"},
                           {Field::User, "dave"},
                           {Field::Fingerprint, "SHA256:k1"},
                           {Field::Actor, "dave"}}),
    };
    events.push_back(audit_event("revoked", 1'790'001'000,
                                 {{"JIT_GRANT_ID", "1"}, {"JIT_USER", "dave"}}));  // no JIT_HOST
    return events;
}

class StoreImportTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!testing_pg::available()) {
            GTEST_SKIP() << "PostgreSQL tests need root";
        }
        conninfo_ = testing_pg::shared_server().new_database();
        options_.file = path_;
        options_.host = "db-01";
        options_.caller.uid = 0;
        options_.caller.name = "root";
        options_.caller.login_uid = 1001;
        options_.caller.login_name = "ada";
        options_.now = kImportTime;
    }

    // A single host's database: every kind of object and the events above.
    void write_host_database() {
        auto store = open_sqlite_store(path_);
        write_host_state(*store);
    }

    static void write_host_state(Store& store) {
        auto transaction = store.begin();
        transaction->put(sample_policy());
        transaction->put(sample_resource());
        Resource plain;
        plain.name = "backup";
        transaction->put(plain);
        const auto [request, grant] = put_granted_request(*transaction);
        Request pending = sample_request();
        pending.state = RequestState::Pending;
        pending.approvals.clear();
        pending.decided.reset();
        pending.extends.reset();
        transaction->put(pending);
        transaction->put(sample_session(grant.id));
        Session old = sample_session(grant.id);  // from before sessions named their host
        old.host.clear();
        transaction->put(old);
        transaction->put(SshKey{"SHA256:k1", "dave", "ssh-ed25519", "AAAAC3Nza", "laptop", 7});
        transaction->put(
            StoredReview{grant.id, "db-01", {"postgres"}, "", GrantReview{9, "+/x", ""}});
        for (const AuditEvent& event : host_events()) {
            transaction->append(event);
        }
        transaction->commit();
    }

    std::unique_ptr<Store> fleet() { return open_postgresql_store(conninfo_, "web-01"); }

    // What the fleet store holds, to show that a refused import changed nothing.
    std::string fleet_contents() {
        fleet();  // creates the schema on first use
        return testing_pg::query_text(
            conninfo_,
            "SELECT (SELECT count(*) FROM resources) || ' ' || (SELECT count(*) FROM policies) || "
            "' ' || (SELECT count(*) FROM requests) || ' ' || (SELECT count(*) FROM grants) || ' ' "
            "|| (SELECT count(*) FROM sessions) || ' ' || (SELECT count(*) FROM keys) || ' ' || "
            "(SELECT count(*) FROM audit_events) || ' ' || (SELECT seq FROM audit_head)");
    }

    // The JitError an import of path_ into the fleet throws.
    JitError import_error(const std::string& file) {
        auto target = fleet();
        try {
            import_sqlite_file(file, *target, options_);
        } catch (const JitError& e) {
            return e;
        }
        ADD_FAILURE() << "the import of " << file << " was not refused";
        return JitError(ErrorCode::Internal, "");
    }

    DatabaseDir dir_;
    std::string path_ = dir_.path() + "/jit.db";
    std::string conninfo_;
    ImportOptions options_;
};

TEST_F(StoreImportTest, CopiesEveryObjectUnderItsIdAndEveryEventWithItsTime) {
    write_host_database();
    StoredState source;
    std::vector<AuditEvent> source_events;
    std::string source_chain;
    {
        auto store = open_sqlite_store(path_);
        source = store->load();
        source_events = store->audit_events({});
        source_chain = store->audit_chain();
    }
    const std::string bytes_before = file_bytes(path_);
    const std::set<std::string> entries_before = directory_entries(dir_.path());
    {
        auto target = fleet();  // a jitd ran against it already and wrote one event
        append_requested_events(*target, 1);
    }

    auto target = fleet();
    const ImportSummary summary = import_sqlite_file(path_, *target, options_);
    EXPECT_EQ(file_bytes(path_), bytes_before);
    EXPECT_EQ(directory_entries(dir_.path()), entries_before);  // no -wal or -shm beside it
    EXPECT_EQ(summary.source_chain, source_chain);
    EXPECT_EQ(summary.events, 7);
    EXPECT_EQ(summary.first_seq, 2);
    EXPECT_EQ(summary.last_seq, 8);
    EXPECT_EQ(summary.imported.seq, 9);
    EXPECT_EQ(import_counts(summary),
              "resources=2 policies=1 requests=2 grants=1 sessions=2 keys=1 reviews=1 events=7");

    const StoredState state = target->load();
    expect_same_objects(state, source, /*sessions=*/false);
    ASSERT_EQ(state.sessions.size(), 2u);
    EXPECT_EQ(state.sessions[0], source.sessions[0]);
    Session old = source.sessions[1];
    old.host = "db-01";  // a session without a host is the importing host's
    EXPECT_EQ(state.sessions[1], old);
    ASSERT_EQ(state.reviews.size(), 1u);
    EXPECT_EQ(state.reviews[0].grant_id, source.reviews[0].grant_id);
    EXPECT_EQ(state.reviews[0].review->changes, "+/x");
    EXPECT_EQ(state.last_audit_seq, 9);

    const AuditVerification verification = target->verify_audit();
    EXPECT_TRUE(verification.ok) << verification.problem;
    EXPECT_EQ(verification.rows_checked, 9);

    AuditFilter after_first;
    after_first.after_seq = 1;
    const std::vector<AuditEvent> events = target->audit_events(after_first);
    ASSERT_EQ(events.size(), 8u);
    std::string previous_source_hash;
    for (std::size_t i = 0; i < source_events.size(); ++i) {
        const AuditEvent& original = source_events[i];
        const AuditEvent& copy = events[i];
        EXPECT_EQ(copy.time, original.time);
        EXPECT_EQ(copy.event, original.event);
        Fields expected = original.fields;
        expected.emplace_back("JIT_IMPORTED_FROM", source_chain);
        expected.emplace_back("JIT_IMPORTED_SEQ", std::to_string(original.seq));
        expected.emplace_back("JIT_IMPORTED_HASH", original.hash);
        EXPECT_EQ(copy.fields, expected) << copy.seq;

        // The single host's chain can be recomputed from the fleet's rows.
        AuditEvent recomputed = original;
        recomputed.prev_hash = previous_source_hash;
        recomputed.hash.clear();
        EXPECT_EQ(sha256_hex(audit_canonical_form(recomputed)), *copy.field("JIT_IMPORTED_HASH"));
        previous_source_hash = *copy.field("JIT_IMPORTED_HASH");
    }

    const AuditEvent& imported = events.back();
    EXPECT_EQ(imported.event, "imported");
    EXPECT_EQ(imported.time, kImportTime);
    EXPECT_EQ(imported.fields, (Fields{{"JIT_HOST", "db-01"},
                                       {"JIT_ACTOR", "ada"},
                                       {"JIT_IMPORTED_FILE", path_},
                                       {"JIT_IMPORTED_FROM", source_chain},
                                       {"JIT_IMPORTED_SEQ", "1-7"},
                                       {"JIT_CHANGE", import_counts(summary)},
                                       {"JIT_ACTOR_LOGIN", "ada"}}));

    // New objects continue after the imported ids.
    auto transaction = target->begin();
    Request next = sample_request();
    next.extends.reset();
    EXPECT_EQ(transaction->put(next), 3);
}

// A jitd that was killed leaves its newest commits in the write-ahead log beside the file.
TEST_F(StoreImportTest, ImportsWhatOnlyTheWriteAheadLogHolds) {
    auto host = open_sqlite_store(path_);
    write_host_state(*host);
    ASSERT_GT(std::filesystem::file_size(path_ + "-wal"), 0u);
    auto target = fleet();
    const ImportSummary summary = import_sqlite_file(path_, *target, options_);
    EXPECT_EQ(import_counts(summary),
              "resources=2 policies=1 requests=2 grants=1 sessions=2 keys=1 reviews=1 events=7");
    EXPECT_TRUE(target->verify_audit().ok);
}

TEST_F(StoreImportTest, ASecondImportIsRefusedAndChangesNothing) {
    write_host_database();
    {
        auto target = fleet();
        import_sqlite_file(path_, *target, options_);
    }
    const std::string before = fleet_contents();
    const JitError error = import_error(path_);
    EXPECT_EQ(error.code(), ErrorCode::Conflict);
    EXPECT_THAT(error.what(), HasSubstr("the fleet store already holds 2 resources"));
    EXPECT_THAT(error.what(), HasSubstr("nothing imported"));
    EXPECT_EQ(fleet_contents(), before);
    EXPECT_TRUE(fleet()->verify_audit().ok);
}

TEST_F(StoreImportTest, RefusesAMissingFileAndAFileThatIsNoJitDatabase) {
    const std::string before = fleet_contents();

    JitError missing = import_error(dir_.path() + "/no-such.db");
    EXPECT_EQ(missing.code(), ErrorCode::InvalidInput);
    EXPECT_THAT(missing.what(), HasSubstr("no-such.db: No such file or directory"));
    EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/no-such.db"));

    const std::string text = dir_.path() + "/notes.txt";
    std::ofstream(text) << "not a database, just some text that is long enough to be read\n";
    JitError not_sqlite = import_error(text);
    EXPECT_EQ(not_sqlite.code(), ErrorCode::InvalidInput);
    EXPECT_THAT(not_sqlite.what(), HasSubstr("notes.txt"));

    const std::string other = dir_.path() + "/other.db";
    RawDatabase(other).exec("CREATE TABLE things (name TEXT)");
    const std::string other_bytes = file_bytes(other);
    JitError not_jit = import_error(other);
    EXPECT_EQ(not_jit.code(), ErrorCode::InvalidInput);
    EXPECT_THAT(not_jit.what(), HasSubstr("other.db is not a jit database"));
    EXPECT_EQ(file_bytes(other), other_bytes);

    EXPECT_EQ(fleet_contents(), before);
}

TEST_F(StoreImportTest, RefusesATamperedChainNamingTheFirstBadSeq) {
    write_host_database();
    RawDatabase(path_).exec(
        "UPDATE audit_fields SET value = 'mallory' WHERE seq = 3 AND name = 'JIT_ACTOR'");
    const std::string before = fleet_contents();
    const JitError error = import_error(path_);
    EXPECT_EQ(error.code(), ErrorCode::Failed);
    EXPECT_THAT(error.what(), HasSubstr("broken at seq 3"));
    EXPECT_EQ(fleet_contents(), before);
}

// A store whose transaction lets another host's jitd add a resource first: the race between the
// check that the fleet store is empty and the import's transaction.
class RacedStore final : public Store {
  public:
    RacedStore(Store& store, std::function<void()> race) : store_(store), race_(std::move(race)) {}
    StoredState load() override { return store_.load(); }
    std::unique_ptr<Transaction> begin() override {
        race_();
        return store_.begin();
    }
    std::unique_ptr<Transaction> begin_own() override {
        race_();
        return store_.begin_own();
    }
    std::vector<AuditEvent> audit_events(const AuditFilter& filter) override {
        return store_.audit_events(filter);
    }
    AuditVerification verify_audit(const JournalCopy& journal) override {
        return store_.verify_audit(journal);
    }
    Id audit_head_seq() override { return store_.audit_head_seq(); }
    std::string audit_chain() override { return store_.audit_chain(); }
    Id journal_sent_seq() override { return store_.journal_sent_seq(); }
    void set_journal_sent_seq(Id seq) override { store_.set_journal_sent_seq(seq); }

  private:
    Store& store_;
    std::function<void()> race_;
};

TEST_F(StoreImportTest, AChangeOfTheFleetStoreDuringTheImportIsRefused) {
    write_host_database();
    auto target = fleet();
    RacedStore raced(*target, [this] {
        auto other_host = open_postgresql_store(conninfo_, "web-02");
        auto transaction = other_host->begin();
        transaction->put(sample_policy());
        transaction->append(audit_event("policy_changed", 1, {{"JIT_OBJECT", "ops"}}));
        transaction->commit();
    });
    try {
        import_sqlite_file(path_, raced, options_);
        ADD_FAILURE() << "the import was not refused";
    } catch (const JitError& e) {
        EXPECT_EQ(e.code(), ErrorCode::Conflict);
        EXPECT_THAT(e.what(), HasSubstr("the fleet store changed while the import began"));
    }
    EXPECT_EQ(fleet_contents(), "0 1 0 0 0 0 1 1");  // only the other host's change
}

TEST_F(StoreImportTest, AFailureHalfWayLeavesTheFleetStoreUnchanged) {
    write_host_database();
    const std::string before = fleet_contents();
    testing_pg::exec(conninfo_,
                     "CREATE FUNCTION refuse_fifth() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                     "IF NEW.name = 'JIT_IMPORTED_SEQ' AND NEW.value = '5' THEN "
                     "RAISE EXCEPTION 'disk full'; END IF; RETURN NEW; END $$; "
                     "CREATE TRIGGER refuse_fifth BEFORE INSERT ON audit_fields "
                     "FOR EACH ROW EXECUTE FUNCTION refuse_fifth()");
    const JitError error = import_error(path_);
    EXPECT_THAT(error.what(), HasSubstr("disk full"));
    EXPECT_EQ(fleet_contents(), before);
}

}  // namespace
}  // namespace jit
