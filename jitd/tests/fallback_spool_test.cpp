// SPDX-License-Identifier: Apache-2.0
// Auditing pam_jit's fallback spool through the engine (the engine's fakes stand in for the store).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fakes.hpp"
#include "fallback_spool.hpp"
#include "jitd_test_support.hpp"

namespace jitd {
namespace {

namespace fs = std::filesystem;

// --- the fallback spool ---

// Effects of the engine that the spool does not care about; `on_audit` runs after each commit.
class SpoolEffects final : public jit::Effects {
  public:
    std::function<void(const jit::AuditEvent&)> on_audit;
    void audit_committed(const jit::AuditEvent& event) override {
        if (on_audit) {
            on_audit(event);
        }
    }
    void request_created(const jit::Request&) override {}
    void request_decided(const jit::Request&) override {}
    void grant_started(const jit::Grant&) override {}
    void grant_ended(const jit::Grant&) override {}
    void terminate_session(const jit::Session&) override {}
    void warn_session(const jit::Session&, const jit::Grant&) override {}
    void access_changed() override {}
};

class FallbackSpoolTest : public TempDir {
  protected:
    void SetUp() override {
        if (geteuid() != 0) {
            GTEST_SKIP() << "needs root (pam_jit's spool is root's)";
        }
        TempDir::SetUp();
        event_ = new_event_loop();
        service_ =
            std::make_unique<jit::JitService>(store_, jit::Config{}, identity_, clock_, effects_);
        service_->start();
    }
    std::unique_ptr<FallbackSpool> new_spool() {
        return std::make_unique<FallbackSpool>(event_.get(), dir_.string(), *service_);
    }
    fs::path spool_path() const { return dir_ / "fallback.log"; }
    void write_spool(const std::string& text, mode_t mode = 0600) {
        std::ofstream(spool_path()) << text;
        ASSERT_EQ(chmod(spool_path().c_str(), mode), 0);
    }
    // user:outcome of each login_fallback audited, in order.
    std::vector<std::string> audited() const {
        std::vector<std::string> out;
        for (const auto& event : store_.audit_log) {
            if (event.event == "login_fallback") {
                out.push_back(*event.field("JIT_TARGET") + ":" + *event.field("JIT_OUTCOME"));
            }
        }
        return out;
    }
    static std::string line(const std::string& outcome, const std::string& user) {
        return "1795670000\t" + outcome + "\tsudo\t" + user +
               "\tjitalice\t\t/dev/pts/1\t0\t0\t\t0\t4294967295\n";
    }

    jit::testing::FakeStore store_;
    jit::testing::FakeClock clock_;
    jit::testing::FakeIdentity identity_;
    SpoolEffects effects_;
    std::unique_ptr<jit::JitService> service_;
    EventPtr event_;
};

TEST_F(FallbackSpoolTest, AuditsEveryOutcomeIncludingExemptAndEmptiesTheSpool) {
    CapturedLog log;
    write_spool(line("allowed", "root") + line("exempt", "breakglass") + "garbage\n" +
                line("unavailable", "postgres"));
    new_spool()->process();
    EXPECT_EQ(audited(), (std::vector<std::string>{"root:allowed", "breakglass:exempt",
                                                   "postgres:unavailable"}));
    EXPECT_EQ(fs::file_size(spool_path()), 0u);
    EXPECT_NE(log.text().find("fallback.log:3: ignoring bad line"), std::string::npos)
        << log.text();
    EXPECT_NE(log.text().find("audited 3 login(s)"), std::string::npos) << log.text();
}

TEST_F(FallbackSpoolTest, RefusesASpoolSomeoneElseCouldHaveWritten) {
    const std::string text = line("allowed", "root");
    auto refused = [&](const std::string& why) {
        CapturedLog log;
        new_spool()->process();
        EXPECT_TRUE(audited().empty()) << why;
        EXPECT_EQ(read(spool_path()), text) << why << ": the file is left as it is";
        EXPECT_NE(log.text().find("not reading pam_jit's fallback log " + spool_path().string() +
                                  ": " + why),
                  std::string::npos)
            << log.text();
    };
    write_spool(text, 0640);
    refused("accessible to group or others");
    write_spool(text, 0604);
    refused("accessible to group or others");
    write_spool(text);
    ASSERT_EQ(chown(spool_path().c_str(), 65534, 0), 0);
    refused("not owned by root");
    ASSERT_EQ(chown(spool_path().c_str(), 0, 0), 0);
    ASSERT_EQ(link(spool_path().c_str(), (dir_ / "other-name").c_str()), 0);
    refused("has 2 links");
    fs::remove(dir_ / "other-name");

    // A symlink is never followed, to whatever it points.
    fs::rename(spool_path(), dir_ / "target");
    fs::create_symlink(dir_ / "target", spool_path());
    CapturedLog log;
    new_spool()->process();
    EXPECT_TRUE(audited().empty());
    EXPECT_EQ(read(dir_ / "target"), text);
    EXPECT_NE(log.text().find("fallback.log: not a regular file"), std::string::npos) << log.text();
}

// A crash between auditing a line and emptying the spool must not audit it again: each line is
// marked as it is audited. A store failure keeps the rest for later, without retrying at once.
TEST_F(FallbackSpoolTest, AuditsEachLineOnceWhenTheStoreFailsHalfWay) {
    effects_.on_audit = [&](const jit::AuditEvent&) { store_.fail_commits = true; };
    const std::string first = line("allowed", "root"), second = line("denied", "postgres"),
                      third = line("exempt", "breakglass");
    write_spool(first + second + third);
    auto spool = new_spool();
    {
        CapturedLog log;
        spool->process();
        EXPECT_NE(log.text().find("fallback.log:2: cannot audit: disk full"), std::string::npos)
            << log.text();
    }
    EXPECT_EQ(audited(), std::vector<std::string>{"root:allowed"});
    EXPECT_EQ(read(spool_path()), "#" + first.substr(1) + second + third);

    effects_.on_audit = nullptr;
    store_.fail_commits = false;
    spool->process();  // its own write to the file echoes back here: no retry yet
    EXPECT_EQ(audited().size(), 1u);
    new_spool()->process();  // later (a new start)
    EXPECT_EQ(audited(),
              (std::vector<std::string>{"root:allowed", "postgres:denied", "breakglass:exempt"}));
    EXPECT_EQ(fs::file_size(spool_path()), 0u);
}

}  // namespace
}  // namespace jitd
