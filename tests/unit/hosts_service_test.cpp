// SPDX-License-Identifier: Apache-2.0
// Hosts through the engine (docs/fleet.md, docs/login-decision.md): a resource takes part in the
// login decisions of the hosts its patterns match and no others; sessions name their host, a
// host lists and ends only its own unless asked for every host's.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "fakes.hpp"
#include "jit/error.hpp"
#include "jit/service.hpp"

namespace jit {
namespace {

using ::testing::ElementsAre;
using testing::FakeClock;
using testing::FakeIdentity;
using testing::FakeStore;
using testing::RecordingEffects;

class HostsServiceTest : public ::testing::Test, public testing::EngineFakes {
  protected:
    void SetUp() override {
        identity.users = {{0, "root"}, {1001, "ada"}, {1005, "alice"}, {1006, "bob"}};
        identity.groups = {{"root", {"root"}},
                           {"ada", {"ada", "jit-admin"}},
                           {"alice", {"alice"}},
                           {"bob", {"bob"}}};
        service = start_host("db-01");
    }

    // A jitd named `host` over the shared store, as every host of a fleet runs one.
    std::unique_ptr<JitService> start_host(const std::string& host) {
        Config config;
        config.host = host;
        auto started = std::make_unique<JitService>(store, config, identity, clock, effects);
        started->start();
        return started;
    }

    Caller who(const std::string& name) {
        return testing::make_caller(*identity.user_uid(name), name, identity.groups.at(name));
    }

    // A resource on sudo to root for `hosts`, under an auto-approve policy.
    void add_root_resource(JitService& on, const std::string& name,
                           std::vector<std::string> hosts) {
        Resource resource{name, "", {"sudo"}, {"root"}, {}, ""};
        resource.hosts = std::move(hosts);
        on.add_resource(who("ada"), resource);
        if (!policy_added_) {
            NewPolicy automatic;
            automatic.name = "auto";
            automatic.action = PolicyAction::AutoApprove;
            on.add_policy(who("ada"), automatic);
            on.set_policy_active(who("ada"), "auto", true);
            policy_added_ = true;
        }
        on.assign_policy(who("ada"), "auto", name);
    }

    Id grant_for_alice(JitService& on, const std::string& resource) {
        return *on.create_request(who("alice"), resource, "maintenance", 3600).grant_id;
    }

    static LoginAttempt sudo_to_root() { return {"sudo", "root", "alice", "", "pts/1", 1005}; }

    std::unique_ptr<JitService> service;
    bool policy_added_ = false;
};

TEST_F(HostsServiceTest, AResourceDefaultsToEveryHostAndKeepsItsPatternsOnce) {
    add_root_resource(*service, "anywhere", {});
    add_root_resource(*service, "dbs", {"db-*", "db-*", "backup-[0-9]"});
    EXPECT_THAT(service->get_resource(who("alice"), "anywhere").resource.hosts, ElementsAre("*"));
    EXPECT_THAT(service->get_resource(who("alice"), "dbs").resource.hosts,
                ElementsAre("db-*", "backup-[0-9]"));
    const AuditEvent& created =
        *std::find_if(store.audit_log.begin(), store.audit_log.end(), [](const AuditEvent& e) {
            return e.event == "resource_changed" && *e.field("JIT_OBJECT") == "dbs";
        });
    EXPECT_NE(created.field("JIT_CHANGE")->find("hosts=db-*,backup-[0-9]"), std::string::npos)
        << *created.field("JIT_CHANGE");
    EXPECT_EQ(*created.field("JIT_HOST"), "db-01");
}

TEST_F(HostsServiceTest, ABadPatternIsRefusedAndChangesNothing) {
    const std::size_t events = store.audit_log.size();
    for (const char* bad : {"web_*", "db-[0-9", "", "db 01"}) {
        Resource resource{"web", "", {"sudo"}, {"root"}, {}, ""};
        resource.hosts = {"web-*", bad};
        try {
            service->add_resource(who("ada"), resource);
            ADD_FAILURE() << "accepted host pattern \"" << bad << "\"";
        } catch (const JitError& error) {
            EXPECT_EQ(error.code(), ErrorCode::InvalidInput) << error.what();
        }
    }
    EXPECT_TRUE(service->list_resources(who("ada")).empty());
    EXPECT_EQ(store.audit_log.size(), events);
    add_root_resource(*service, "web", {"web-*"});  // the same resource with good patterns
    EXPECT_EQ(service->list_resources(who("ada")).size(), 1u);
}

// The grant on the resource for other hosts counts for nothing here: the login is decided by
// the resources that apply on this host alone.
TEST_F(HostsServiceTest, OnlyResourcesMatchingThisHostDecideItsLogins) {
    add_root_resource(*service, "web", {"web-*"});
    // Nothing on db-01 covers sudo to root: not this host's business.
    EXPECT_EQ(service->check_login(who("root"), sudo_to_root()).verdict, LoginVerdict::Unmanaged);
    grant_for_alice(*service, "web");
    EXPECT_EQ(service->check_login(who("root"), sudo_to_root()).verdict, LoginVerdict::Unmanaged);

    add_root_resource(*service, "db", {"backup", "DB-0?"});
    LoginDecision denied = service->check_login(who("root"), sudo_to_root());
    EXPECT_EQ(denied.verdict, LoginVerdict::Deny);
    EXPECT_THAT(denied.resources, ElementsAre("db"));  // never the resource of other hosts
    EXPECT_EQ(*store.audit_log.back().field("JIT_RESOURCE"), "db");

    const Id grant = grant_for_alice(*service, "db");
    LoginDecision allowed = service->check_login(who("root"), sudo_to_root());
    EXPECT_EQ(allowed.verdict, LoginVerdict::Grant);
    EXPECT_EQ(allowed.grant_id, grant);
    EXPECT_EQ(allowed.resource, "db");

    // The same store seen from web-1: there "web" applies and "db" does not.
    auto web = start_host("web-1");
    LoginDecision on_web = web->check_login(who("root"), sudo_to_root());
    EXPECT_EQ(on_web.verdict, LoginVerdict::Grant);
    EXPECT_EQ(on_web.resource, "web");
}

TEST_F(HostsServiceTest, SessionsNameTheirHostAndEachHostEndsItsOwn) {
    add_root_resource(*service, "all", {"*"});
    const Id grant = grant_for_alice(*service, "all");
    const Id here = service->open_session(who("root"), sudo_to_root(), 4242, "c1").session_id;
    auto web = start_host("web-1");
    const Id there = web->open_session(who("root"), sudo_to_root(), 5353, "c2").session_id;
    ASSERT_GT(here, 0);
    ASSERT_GT(there, 0);
    EXPECT_EQ(*store.audit_log.back().field("JIT_HOST"), "web-1");

    service = start_host("db-01");  // reloads both hosts' sessions from the store
    std::vector<Session> own = service->list_sessions(who("alice"), false);
    ASSERT_EQ(own.size(), 1u);
    EXPECT_EQ(own[0].id, here);
    EXPECT_EQ(own[0].host, "db-01");
    std::vector<Session> every = service->list_sessions(who("alice"), true);
    ASSERT_EQ(every.size(), 2u);
    EXPECT_EQ(every[1].host, "web-1");
    EXPECT_EQ(every[1].pid, 5353);
    ASSERT_EQ(service->open_sessions().size(), 1u);  // what this jitd watches
    EXPECT_EQ(service->open_sessions()[0].id, here);

    effects.terminated.clear();
    service->revoke(who("ada"), grant, "done");
    ASSERT_EQ(effects.terminated.size(), 1u);  // never a process of another machine
    EXPECT_EQ(effects.terminated[0].id, here);
    EXPECT_EQ(events_named("session_terminated"), 1u);
}

TEST_F(HostsServiceTest, SessionsRegisteredBeforeHostsWereRecordedBelongToThisHost) {
    add_root_resource(*service, "all", {"*"});
    grant_for_alice(*service, "all");
    service->open_session(who("root"), sudo_to_root(), 4242, "c1");
    for (Session& s : store.rows.sessions) {
        s.host.clear();  // as the store's migration leaves an older session
    }
    service = start_host("db-01");
    std::vector<Session> own = service->list_sessions(who("alice"), false);
    ASSERT_EQ(own.size(), 1u);
    EXPECT_EQ(own[0].host, "db-01");
}

}  // namespace
}  // namespace jit
