// SPDX-License-Identifier: Apache-2.0
// The SQLite store's audit log against real files: tamper detection of its hash chain,
// the chain identity, and verification against the journal's copy of the chain (the chain and
// filters both backends keep are tested in store_backends_test.cpp).

#include <optional>

#include "store_test_support.hpp"

namespace jit {
namespace {

using namespace store_test;
using ::testing::MatchesRegex;

TEST(Sha256Test, MatchesKnownDigests) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex(std::string("a\0b", 3)), sha256_hex(std::string("a\0b", 3)));
    EXPECT_NE(sha256_hex(std::string("a\0b", 3)), sha256_hex("a"));
}

TEST_F(StoreTest, EventWithoutFieldsRoundTrips) {
    auto store = open();
    auto transaction = store->begin();
    AuditEvent bare = transaction->append(audit_event("resource_changed", 5, {}));
    transaction->commit();
    EXPECT_THAT(store->audit_events({}), ElementsAre(bare));
    EXPECT_TRUE(store->verify_audit().ok);
}

// The audit log of a few requested events edited behind the store's back, and what
// verification must say.
struct RowTamper {
    const char* name;
    int events;       // how many events are appended first
    const char* sql;  // the edit, through a plain sqlite3 connection
    Id first_bad_seq;
    Id rows_checked;      // -1: not checked
    const char* problem;  // a part of the problem line
};

class RowTamperTest : public StoreTest, public ::testing::WithParamInterface<RowTamper> {};

TEST_P(RowTamperTest, FailsVerification) {
    const RowTamper& tamper = GetParam();
    auto store = open();
    append_events(*store, tamper.events);
    ASSERT_TRUE(store->verify_audit().ok);
    RawDatabase(path_).exec(tamper.sql);
    AuditVerification verification = store->verify_audit();
    EXPECT_FALSE(verification.ok);
    EXPECT_EQ(verification.first_bad_seq, tamper.first_bad_seq) << verification.problem;
    if (tamper.rows_checked >= 0) {
        EXPECT_EQ(verification.rows_checked, tamper.rows_checked);
    }
    EXPECT_THAT(verification.problem, HasSubstr(tamper.problem));
}

INSTANTIATE_TEST_SUITE_P(
    Store, RowTamperTest,
    ::testing::Values(
        RowTamper{"EditedRowFailsVerificationAtItsSeq", 5,
                  "UPDATE audit_fields SET value = 'mallory' WHERE seq = 3 AND name = 'JIT_REASON'",
                  3, 2, "row 3: hash mismatch"},
        RowTamper{"EditedTimeFailsVerification", 4,
                  "UPDATE audit_events SET time = time + 3600 WHERE seq = 2", 2, -1, ""},
        RowTamper{"EditedIndexColumnFailsVerification", 3,
                  "UPDATE audit_events SET user_name = 'mallory' WHERE seq = 2", 2, -1,
                  "columns differ from its fields"},
        RowTamper{"DeletedMiddleRowIsCaught", 5,
                  "DELETE FROM audit_fields WHERE seq = 3; DELETE FROM audit_events WHERE seq = 3",
                  3, -1, "row 3 missing (after 2)"},
        RowTamper{"DeletedFirstRowIsCaught", 3,
                  "DELETE FROM audit_fields WHERE seq = 1; DELETE FROM audit_events WHERE seq = 1",
                  1, -1, "row 1 missing (first row is 2)"},
        RowTamper{"DeletedLastRowIsCaughtThroughTheChainHead", 5,
                  "DELETE FROM audit_fields WHERE seq = 5; DELETE FROM audit_events WHERE seq = 5",
                  5, 4, "row 5 missing (the chain head is row 5)"},
        RowTamper{"EveryRowDeletedIsCaught", 2,
                  "DELETE FROM audit_fields; DELETE FROM audit_events", 1, -1, ""}),
    [](const ::testing::TestParamInfo<RowTamper>& param) { return param.param.name; });

TEST_F(StoreTest, RehashedEditBreaksTheNextLink) {
    auto store = open();
    std::vector<AuditEvent> appended = append_events(*store, 5);
    AuditEvent forged = appended[2];
    forged.event = "denied";
    forged.hash.clear();
    const std::string forged_hash = sha256_hex(audit_canonical_form(forged));
    RawDatabase(path_).exec("UPDATE audit_events SET event = 'denied', hash = '" + forged_hash +
                            "' WHERE seq = 3");
    AuditVerification verification = store->verify_audit();
    EXPECT_FALSE(verification.ok);
    EXPECT_EQ(verification.first_bad_seq, 4);
    EXPECT_EQ(verification.problem, "row 4: prev_hash does not match the hash of row 3");
}

TEST_F(StoreTest, NewDatabaseGetsARandomChainIdentityThatStays) {
    const std::string chain = open()->audit_chain();
    EXPECT_THAT(chain, MatchesRegex("[0-9a-f]{32}"));
    EXPECT_EQ(open()->audit_chain(), chain);  // fixed when the database was created
    EXPECT_EQ(open()->audit_head_seq(), 0);
    append_events(*open(), 2);
    EXPECT_EQ(open()->audit_head_seq(), 2);
    EXPECT_EQ(open()->audit_chain(), chain);
    EXPECT_EQ(open()->verify_audit().chain, chain);

    DatabaseDir other_dir;
    EXPECT_NE(open_sqlite_store(other_dir.path() + "/jit.db")->audit_chain(), chain);
}

TEST_F(StoreTest, MigrationGivesAnExistingDatabaseAChainIdentity) {
    {
        RawDatabase raw(path_);
        raw.exec(jit::sqlite::kSchemaV1);
        raw.exec(jit::sqlite::kSessionProcessIdentityV2);
        raw.exec(jit::sqlite::kSessionCgroupV3);
        raw.exec("PRAGMA user_version = 3");
    }
    append_events(*open(), 3);  // events before and after the migration share one chain
    auto store = open();
    EXPECT_THAT(store->audit_chain(), MatchesRegex("[0-9a-f]{32}"));
    AuditVerification verification = store->verify_audit();
    EXPECT_TRUE(verification.ok) << verification.problem;
    EXPECT_EQ(verification.chain, store->audit_chain());
}

TEST_F(StoreTest, AMissingChainIdentityIsAnError) {
    auto store = open();
    RawDatabase(path_).exec("DELETE FROM meta WHERE name = 'audit_chain'");
    EXPECT_THROW(store->audit_chain(), JitError);
}

TEST(AuditHashTest, ParsesLowerCaseHexOnly) {
    const std::string hash = sha256_hex("x");
    std::optional<AuditHash> parsed = parse_audit_hash(hash);
    ASSERT_TRUE(parsed);
    EXPECT_EQ((*parsed)[0], std::stoi(hash.substr(0, 2), nullptr, 16));
    EXPECT_FALSE(parse_audit_hash(hash.substr(1)));
    EXPECT_FALSE(parse_audit_hash(hash + "0"));
    std::string upper = hash;
    upper[0] = 'A';
    EXPECT_FALSE(parse_audit_hash(upper));
    EXPECT_FALSE(parse_audit_hash(""));
}

// One way the database, the journal, or both were changed after five events were written and
// forwarded, and what verification must say.
struct TamperCase {
    const char* name;
    // Changes the database at path and/or the journal's copy; rows are the five events.
    void (*tamper)(const std::string& path, const std::vector<AuditEvent>& rows,
                   JournalCopy& journal);
    Id first_bad_seq;  // 0: verification passes
    const char* problem;
    Id rows_in_journal;  // checked only when verification passes
};

JournalAuditEntry entry(Id seq, const std::string& hash_hex) {
    return {seq, *parse_audit_hash(hash_hex)};
}

void keep_journal(const std::string&, const std::vector<AuditEvent>&, JournalCopy&) {}

void journal_lags(const std::string&, const std::vector<AuditEvent>&, JournalCopy& journal) {
    journal.entries.resize(3);  // events 4 and 5 are still on their way
}

void journal_rotated(const std::string&, const std::vector<AuditEvent>&, JournalCopy& journal) {
    journal.entries.erase(journal.entries.begin(), journal.entries.begin() + 2);
}

void journal_has_duplicates(const std::string&, const std::vector<AuditEvent>&,
                            JournalCopy& journal) {
    journal.entries.push_back(journal.entries[3]);  // sent twice (crash before recording it)
}

void other_chains_seen(const std::string&, const std::vector<AuditEvent>&, JournalCopy& journal) {
    journal.other_chain_events = 7;
}

void row_edited(const std::string& path, const std::vector<AuditEvent>&, JournalCopy&) {
    RawDatabase(path).exec(
        "UPDATE audit_fields SET value = 'mallory' WHERE seq = 3 AND name = 'JIT_USER'");
}

// The newest rows deleted and the chain head moved back: a chain that checks out on its own.
void tail_truncated(const std::string& path, const std::vector<AuditEvent>& rows, JournalCopy&) {
    RawDatabase(path).exec(
        "DELETE FROM audit_fields WHERE seq > 3; DELETE FROM audit_events WHERE seq > 3; "
        "UPDATE meta SET value = '3' WHERE name = 'audit_head_seq'; "
        "UPDATE meta SET value = '" +
        rows[2].hash + "' WHERE name = 'audit_head_hash'");
}

// The database is an older copy of itself: the journal holds two events it never saw.
void older_copy_restored(const std::string&, const std::vector<AuditEvent>&, JournalCopy& journal) {
    journal.entries.push_back(entry(6, sha256_hex("approved")));
    journal.entries.push_back(entry(7, sha256_hex("granted")));
}

// An older copy restored and written on: seq 4 and 5 of the journal are other events.
void older_copy_written_anew(const std::string&, const std::vector<AuditEvent>&,
                             JournalCopy& journal) {
    journal.entries.insert(journal.entries.begin() + 3, entry(4, sha256_hex("lost 4")));
}

// Every row replaced by a consistent chain of other events (hashes recomputed).
void chain_rewritten(const std::string& path, const std::vector<AuditEvent>& rows, JournalCopy&) {
    RawDatabase raw(path);
    raw.exec("DELETE FROM audit_fields; DELETE FROM audit_events");
    std::string previous;
    for (const AuditEvent& row : rows) {
        AuditEvent forged = row;
        forged.time += 1;
        forged.prev_hash = previous;
        forged.hash.clear();
        forged.hash = sha256_hex(audit_canonical_form(forged));
        raw.exec("INSERT INTO audit_events VALUES (" + std::to_string(forged.seq) + ", " +
                 std::to_string(forged.time) + ", '" + forged.event + "', 'alice', 'db', '" +
                 forged.prev_hash + "', '" + forged.hash + "')");
        for (std::size_t i = 0; i < forged.fields.size(); ++i) {
            raw.exec("INSERT INTO audit_fields VALUES (" + std::to_string(forged.seq) + ", " +
                     std::to_string(i) + ", '" + forged.fields[i].first + "', '" +
                     forged.fields[i].second + "')");
        }
        previous = forged.hash;
    }
    raw.exec("UPDATE meta SET value = '" + previous + "' WHERE name = 'audit_head_hash'");
}

void journal_unreadable(const std::string&, const std::vector<AuditEvent>&, JournalCopy& journal) {
    journal = JournalCopy{};
    journal.error = "cannot open the journal: Permission denied";
}

class TamperTest : public StoreTest, public ::testing::WithParamInterface<TamperCase> {};

TEST_P(TamperTest, VerificationAgainstTheJournal) {
    const TamperCase& tamper = GetParam();
    auto store = open();
    std::vector<AuditEvent> rows = append_events(*store, 5);
    JournalCopy journal;
    journal.read = true;
    for (const AuditEvent& row : rows) {
        journal.entries.push_back(entry(row.seq, row.hash));
    }
    ASSERT_TRUE(store->verify_audit(journal).ok);

    tamper.tamper(path_, rows, journal);
    AuditVerification verification = store->verify_audit(journal);
    EXPECT_EQ(verification.first_bad_seq, tamper.first_bad_seq) << verification.problem;
    EXPECT_EQ(verification.ok, tamper.first_bad_seq == 0 && journal.read) << verification.problem;
    EXPECT_THAT(verification.problem, HasSubstr(tamper.problem));
    EXPECT_EQ(verification.chain, store->audit_chain());
    if (verification.ok) {
        EXPECT_EQ(verification.rows_checked, 5);
        EXPECT_EQ(verification.rows_in_journal, tamper.rows_in_journal);
        EXPECT_EQ(verification.journal_events, static_cast<Id>(journal.entries.size()));
        EXPECT_EQ(verification.other_chain_events, journal.other_chain_events);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Store, TamperTest,
    ::testing::Values(TamperCase{"Untouched", keep_journal, 0, "", 5},
                      TamperCase{"JournalLagsBehind", journal_lags, 0, "", 3},
                      TamperCase{"JournalRotatedOldestAway", journal_rotated, 0, "", 3},
                      TamperCase{"EventSentTwice", journal_has_duplicates, 0, "", 5},
                      TamperCase{"OtherChainsCounted", other_chains_seen, 0, "", 5},
                      TamperCase{"RowEdited", row_edited, 3, "row 3: hash mismatch", 0},
                      TamperCase{"TailTruncated", tail_truncated, 4, "up to seq 5", 0},
                      TamperCase{"OlderCopyRestored", older_copy_restored, 6, "up to seq 7", 0},
                      TamperCase{"OlderCopyWrittenAnew", older_copy_written_anew, 4,
                                 "also holds a different event", 0},
                      TamperCase{"ChainRewritten", chain_rewritten, 1,
                                 "differs from the journal's copy", 0},
                      TamperCase{"JournalUnreadable", journal_unreadable, 0,
                                 "cannot compare with the journal: cannot open", 0}),
    [](const ::testing::TestParamInfo<TamperCase>& param) { return param.param.name; });

}  // namespace
}  // namespace jit
