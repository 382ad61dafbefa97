// SPDX-License-Identifier: Apache-2.0
// Registering people's ssh keys through the engine (docs/shared-accounts-over-ssh.md): one owner
// per key, who may manage whose, the audit events, and logins decided for the key's owner.
#include <gtest/gtest.h>

#include "service_test_support.hpp"

namespace jit {
namespace {

constexpr const char* kKey =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFsrTH3G6grGBA3STieNDbFyoJclZP26au/2xeQkiH+j laptop";
constexpr const char* kFingerprint = "SHA256:6DMMbUU3t1gEOGY1zfGD6JIFwtG5wrMPzpe8kI2cJAE";

class KeyServiceTest : public service_test::ServiceTest {
  protected:
    void SetUp() override {
        ServiceTest::SetUp();
        protect({"prod-db", "", {"sshd"}, {"postgres"}, {}, ""}, auto_approve("auto"));
    }

    SessionOpen ssh_login(const std::string& key_text) {
        LoginAttempt attempt{"sshd", "postgres", "", "192.0.2.1", "ssh"};
        attempt.ssh_key = key_text;
        return service->open_session(who("root"), attempt, 4242, "c3");
    }
};

TEST_F(KeyServiceTest, AUserRegistersAndRemovesTheirOwnKey) {
    const SshKey key = service->add_key(who("alice"), kKey, "");
    EXPECT_EQ(key.fingerprint, kFingerprint);
    EXPECT_EQ(key.user, "alice");
    EXPECT_EQ(key.type, "ssh-ed25519");
    EXPECT_EQ(key.comment, "laptop");
    EXPECT_EQ(store.audit_log.back().event, "key_added");
    EXPECT_EQ(*store.audit_log.back().field("JIT_USER"), "alice");
    EXPECT_EQ(*store.audit_log.back().field("JIT_FINGERPRINT"), kFingerprint);
    EXPECT_EQ(*store.audit_log.back().field("JIT_ACTOR"), "alice");
    EXPECT_EQ(service->list_keys(who("alice"), "").size(), 1u);
    EXPECT_EQ(service->access_index().keys().size(), 1u);

    service->remove_key(who("alice"), kFingerprint);
    EXPECT_EQ(store.audit_log.back().event, "key_removed");
    EXPECT_TRUE(service->list_keys(who("alice"), "").empty());
    EXPECT_TRUE(service->access_index().keys().empty());
}

TEST_F(KeyServiceTest, AKeyBelongsToOnePerson) {
    service->add_key(who("alice"), kKey, "");
    const std::size_t rows = store.audit_log.size();
    try {
        service->add_key(who("mallory"), kKey, "");
        FAIL() << "mallory took alice's key";
    } catch (const JitError& e) {
        EXPECT_EQ(e.code(), ErrorCode::Conflict);
        // A plain user does not learn whose it is.
        EXPECT_EQ(std::string(e.what()).find("alice"), std::string::npos) << e.what();
    }
    EXPECT_THROW(service->add_key(who("ada"), kKey, "mallory"), JitError);
    EXPECT_THROW(service->add_key(who("alice"), kKey, ""), JitError);  // already hers
    EXPECT_EQ(store.audit_log.size(), rows);
}

TEST_F(KeyServiceTest, AdminsManageAnyonesKeysOthersOnlyTheirOwn) {
    EXPECT_THROW(service->add_key(who("mallory"), kKey, "alice"), JitError);
    const SshKey key = service->add_key(who("ada"), kKey, "alice");
    EXPECT_EQ(key.user, "alice");
    EXPECT_EQ(*store.audit_log.back().field("JIT_ACTOR"), "ada");
    EXPECT_THROW(service->add_key(who("ada"), kKey, "nobody"), JitError);
    // Others' keys: hidden from plain users, shown to admins and auditors.
    EXPECT_TRUE(service->list_keys(who("mallory"), "").empty());
    EXPECT_THROW(service->list_keys(who("mallory"), "alice"), JitError);
    EXPECT_EQ(service->list_keys(who("aud"), "").size(), 1u);
    EXPECT_EQ(service->list_keys(who("aud"), "alice").size(), 1u);
    EXPECT_TRUE(service->list_keys(who("aud"), "mallory").empty());
    try {
        service->remove_key(who("mallory"), kFingerprint);
        FAIL() << "mallory removed alice's key";
    } catch (const JitError& e) {
        EXPECT_EQ(e.code(), ErrorCode::NotFound);
    }
    EXPECT_THROW(service->remove_key(who("aud"), kFingerprint), JitError);  // read only
    service->remove_key(who("ada"), kFingerprint);
    EXPECT_TRUE(service->list_keys(who("ada"), "").empty());
}

TEST_F(KeyServiceTest, BadKeysChangeNothing) {
    const std::size_t rows = store.audit_log.size();
    for (const char* line : {"", "command=\"x\" ssh-ed25519 AAAA", "ssh-ed25519 !!!", "nonsense"}) {
        try {
            service->add_key(who("alice"), line, "");
            ADD_FAILURE() << "accepted " << line;
        } catch (const JitError& e) {
            EXPECT_EQ(e.code(), ErrorCode::InvalidInput) << line;
        }
    }
    EXPECT_EQ(store.audit_log.size(), rows);
    EXPECT_TRUE(store.rows.keys.empty());
}

TEST_F(KeyServiceTest, TheSessionBelongsToTheKeysOwner) {
    service->add_key(who("alice"), kKey, "");
    const std::string key_text = std::string(kKey).substr(0, std::string(kKey).rfind(' '));
    SessionOpen denied = ssh_login(key_text);
    EXPECT_EQ(denied.decision.verdict, LoginVerdict::Deny);
    EXPECT_EQ(store.audit_log.back().event, "login_denied");
    EXPECT_EQ(*store.audit_log.back().field("JIT_USER"), "alice");
    EXPECT_EQ(*store.audit_log.back().field("JIT_TARGET"), "postgres");
    EXPECT_EQ(*store.audit_log.back().field("JIT_FINGERPRINT"), kFingerprint);

    service->create_request(who("alice"), "prod-db", "fix", 3600);
    SessionOpen opened = ssh_login(key_text);
    ASSERT_EQ(opened.decision.verdict, LoginVerdict::Grant);
    ASSERT_GT(opened.session_id, 0);
    const Session session = service->list_sessions(who("alice"), false).at(0);
    EXPECT_EQ(session.user, "alice");
    EXPECT_EQ(session.target, "postgres");
    EXPECT_EQ(session.fingerprint, kFingerprint);
    EXPECT_EQ(*store.audit_log.back().field("JIT_FINGERPRINT"), kFingerprint);
    // The account stack, before the key is known, defers to the session stack.
    EXPECT_EQ(service->check_login(who("root"), {"sshd", "postgres", "", "", "ssh"}).verdict,
              LoginVerdict::Deferred);
    // The grant ends: the session is terminated, the event names the key too.
    clock.t += 3600;
    service->tick();
    EXPECT_EQ(effects.terminated.size(), 1u);
    EXPECT_EQ(*store.audit_log.back().field("JIT_FINGERPRINT"), kFingerprint);
    EXPECT_EQ(service->check_login(who("root"), {"sshd", "postgres", "", "", "ssh"}).verdict,
              LoginVerdict::Deny);
}

TEST_F(KeyServiceTest, KeysSurviveARestart) {
    service->add_key(who("alice"), kKey, "");
    restart();
    ASSERT_EQ(service->list_keys(who("alice"), "").size(), 1u);
    EXPECT_EQ(service->access_index().keys().at(0).fingerprint, kFingerprint);
}

}  // namespace
}  // namespace jit
