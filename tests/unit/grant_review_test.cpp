// SPDX-License-Identifier: Apache-2.0
// Grant review fingerprints (jit/grant_review.hpp) over real temporary directories.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "jit/error.hpp"
#include "jit/grant_review.hpp"
#include "temp_dir.hpp"

namespace jit {
namespace {

namespace fs = std::filesystem;

class GrantReviewTest : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(home_ + "/.ssh");
        write(home_ + "/.ssh/authorized_keys", "ssh-ed25519 AAAA one\n");
    }

    static void write(const std::string& path, const std::string& text, bool append = false) {
        std::ofstream out(path, append ? std::ios::app : std::ios::trunc);
        out << text;
    }
    Fingerprint take(const ReviewLimits& limits = {}) const {
        return take_fingerprint(points(), fs_, limits);
    }
    static FileEntry entry(const Fingerprint& fp, const std::string& path) {
        for (const auto& e : fp.entries) {
            if (e.path == path) {
                return e;
            }
        }
        ADD_FAILURE() << "no entry " << path;
        return {};
    }
    std::vector<std::string> points() const {
        auto points = persistence_points("nobody-here", home_, false);
        points.push_back(root_ + "/extra");
        return points;
    }

    PosixReviewFileSystem fs_;
    testing::TempDir dir_{"jit-review-test"};
    std::string root_ = dir_.path();
    std::string home_ = root_ + "/home";
};

TEST_F(GrantReviewTest, QuietFingerprintsCompareEmpty) {
    const Fingerprint before = take();
    const Fingerprint after = take();
    ASSERT_EQ(before.entries.size(), 1U);
    EXPECT_EQ(before.entries[0].path, home_ + "/.ssh/authorized_keys");
    EXPECT_EQ(before.entries[0].type, 'f');
    EXPECT_EQ(before.entries[0].hash.size(), 64U);
    EXPECT_TRUE(compare_fingerprints(before, after).empty());
    EXPECT_EQ(format_changes(compare_fingerprints(before, after)), "");
    EXPECT_EQ(before.incomplete, "");
}

TEST_F(GrantReviewTest, AppendedKeyCreatedAndRemovedFilesAreListed) {
    fs::create_directories(root_ + "/extra/sub");
    write(root_ + "/extra/sub/gone", "x");
    const Fingerprint before = take();
    write(home_ + "/.ssh/authorized_keys", "ssh-ed25519 AAAA two\n", true);
    write(home_ + "/.ssh/authorized_keys2", "ssh-ed25519 AAAA three\n");
    fs::create_directories(home_ + "/.config/systemd/user");
    write(home_ + "/.config/systemd/user/stay.service", "[Service]\n");
    fs::remove(root_ + "/extra/sub/gone");
    write(home_ + "/.ssh/known_hosts", "not a persistence point\n");
    const ReviewChanges changes = compare_fingerprints(before, take());
    EXPECT_EQ(changes.changed, std::vector<std::string>{home_ + "/.ssh/authorized_keys"});
    EXPECT_EQ(changes.removed, std::vector<std::string>{root_ + "/extra/sub/gone"});
    EXPECT_EQ(changes.created,
              (std::vector<std::string>{home_ + "/.config/systemd/user",
                                        home_ + "/.config/systemd/user/stay.service",
                                        home_ + "/.ssh/authorized_keys2"}));
    const std::string text = format_changes(changes);
    EXPECT_NE(text.find("~" + home_ + "/.ssh/authorized_keys\n"), std::string::npos) << text;
    EXPECT_NE(text.find("+" + home_ + "/.ssh/authorized_keys2"), std::string::npos) << text;
    EXPECT_NE(text.find("-" + root_ + "/extra/sub/gone"), std::string::npos) << text;
    EXPECT_EQ(text.find("known_hosts"), std::string::npos) << text;
}

TEST_F(GrantReviewTest, SameSizeSameMtimeRewriteIsSeenByItsHash) {
    const Fingerprint before = take();
    const std::string key = home_ + "/.ssh/authorized_keys";
    struct stat st {};
    ASSERT_EQ(stat(key.c_str(), &st), 0);
    write(key, "ssh-ed25519 BBBB one\n");  // same length
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    ASSERT_EQ(utimensat(AT_FDCWD, key.c_str(), times, 0), 0);
    EXPECT_EQ(compare_fingerprints(before, take()).changed, std::vector<std::string>{key});
}

TEST_F(GrantReviewTest, ModeChangeCountsAndDirectoryMtimeAloneDoesNot) {
    fs::create_directories(root_ + "/extra");
    const Fingerprint before = take();
    write(root_ + "/extra/new", "");
    ASSERT_EQ(chmod((home_ + "/.ssh/authorized_keys").c_str(), 0666), 0);
    const ReviewChanges changes = compare_fingerprints(before, take());
    EXPECT_EQ(changes.created, std::vector<std::string>{root_ + "/extra/new"});
    EXPECT_EQ(changes.changed, std::vector<std::string>{home_ + "/.ssh/authorized_keys"});
}

TEST_F(GrantReviewTest, SymlinksAreRecordedNotFollowed) {
    fs::create_directories(root_ + "/extra");
    fs::create_symlink("/etc", root_ + "/extra/link");
    const Fingerprint before = take();
    ASSERT_EQ(before.entries.size(), 3U);
    EXPECT_EQ(entry(before, root_ + "/extra/link").type, 'l');
    fs::remove(root_ + "/extra/link");
    fs::create_symlink("/var", root_ + "/extra/link");
    EXPECT_EQ(compare_fingerprints(before, take()).changed,
              std::vector<std::string>{root_ + "/extra/link"});
}

TEST_F(GrantReviewTest, FileLimitCutsShortAndSaysSo) {
    fs::create_directories(root_ + "/extra");
    for (int i = 0; i < 20; ++i) {
        write(root_ + "/extra/f" + std::to_string(i), "x");
    }
    ReviewLimits limits;
    limits.max_files = 5;
    const Fingerprint cut = take(limits);
    EXPECT_EQ(cut.entries.size(), 5U);
    EXPECT_EQ(cut.incomplete, "stopped at 5 files");
    EXPECT_EQ(take().incomplete, "");
    EXPECT_EQ(take().entries.size(), 22U);
}

TEST_F(GrantReviewTest, ByteLimitsHashWithinBoundsAndSaySo) {
    fs::create_directories(root_ + "/extra");
    write(root_ + "/extra/big", std::string(4096, 'a'));
    ReviewLimits limits;
    limits.max_file_bytes = 1024;  // too big to hash: recorded without one, not a cut
    Fingerprint fp = take(limits);
    EXPECT_EQ(fp.incomplete, "");
    EXPECT_EQ(entry(fp, root_ + "/extra/big").hash, "-");
    EXPECT_EQ(entry(fp, root_ + "/extra/big").size, 4096);
    limits = {};
    limits.max_bytes = 100;  // the key file (21 bytes) fits, the big one does not
    fp = take(limits);
    EXPECT_EQ(fp.incomplete, "stopped hashing after 21 bytes");
    EXPECT_EQ(entry(take(), root_ + "/extra/big").hash.size(), 64U);
}

TEST_F(GrantReviewTest, TimeLimitCutsShort) {
    ReviewLimits limits;
    limits.max_usec = 0;
    class SlowClock final : public ReviewFileSystem {
      public:
        std::optional<FileEntry> stat(const std::string& p) const override { return real.stat(p); }
        std::vector<std::string> list(const std::string& d) const override { return real.list(d); }
        std::optional<std::string> hash_file(const std::string& p, std::uint64_t l) const override {
            return real.hash_file(p, l);
        }
        std::string hash_link(const std::string& p) const override { return real.hash_link(p); }
        std::uint64_t now_usec() const override { return ++ticks; }
        PosixReviewFileSystem real;
        mutable std::uint64_t ticks = 0;
    } slow;
    const Fingerprint fp = take_fingerprint(points(), slow, limits);
    EXPECT_TRUE(fp.entries.empty());
    EXPECT_EQ(fp.incomplete, "stopped after 0 ms");
}

TEST_F(GrantReviewTest, SuperuserPointsIncludeSystemPlaces) {
    const auto user = persistence_points("alice", "/home/alice", false);
    EXPECT_EQ(user, (std::vector<std::string>{"/home/alice/.ssh/authorized_keys*",
                                              "/home/alice/.config/systemd/user",
                                              "/var/spool/cron/crontabs/alice"}));
    const auto root = persistence_points("root", "/root", true);
    for (const char* point : {"/etc/sudoers*", "/etc/cron*", "/etc/systemd/system", "/etc/passwd",
                              "/etc/group", "/root/.ssh"}) {
        EXPECT_NE(std::find(root.begin(), root.end(), point), root.end()) << point;
    }
    EXPECT_EQ(persistence_points("../x", "", false), std::vector<std::string>{});
}

TEST_F(GrantReviewTest, FingerprintTextRoundTripsAndMerges) {
    fs::create_directories(root_ + "/extra");
    write(root_ + "/extra/we\nird\\name", "x");
    Fingerprint fp = take();
    fp.incomplete = "stopped at 5 files";
    const Fingerprint back = parse_fingerprint(format_fingerprint(fp));
    EXPECT_EQ(back.entries, fp.entries);
    EXPECT_EQ(back.incomplete, fp.incomplete);
    EXPECT_NE(format_changes({{root_ + "/extra/we\nird\\name"}, {}, {}}).find("we\\x0aird\\\\name"),
              std::string::npos);
    EXPECT_THROW(parse_fingerprint("garbage\n"), JitError);
    EXPECT_THROW(parse_fingerprint("jit-fingerprint 1\nf 1 644 0 0 1 - relative\n"), JitError);
    // An empty or non-hex hash would not format back as it was read.
    EXPECT_THROW(parse_fingerprint("jit-fingerprint 1\nf 1 644 0 0 1  /a\n"), JitError);
    EXPECT_THROW(parse_fingerprint("jit-fingerprint 1\nf 1 644 0 0 1 XY /a\n"), JitError);

    Fingerprint other;
    other.entries.push_back({"/zz", 'f', 1, 0644, 0, 0, 1, "-"});
    other.entries.push_back({fp.entries[0].path, 'f', 999, 0, 0, 0, 0, "-"});
    merge_fingerprint(fp, other);
    EXPECT_EQ(fp.entries.back().path, "/zz");
    EXPECT_EQ(fp.entries.size(), back.entries.size() + 1);
    EXPECT_EQ(fp.entries[0], back.entries[0]);  // the first fingerprint of a path wins
}

}  // namespace
}  // namespace jit
