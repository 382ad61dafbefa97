// SPDX-License-Identifier: Apache-2.0
// The bus adaptor over a private dbus-daemon, with the engine on the in-memory test store:
// each kind of domain error reaches the caller as its io.jitd.Jit1.Error name (an internal
// failure as the generic Failed), and a caller that leaves before jitd handles its call costs
// jitd nothing but a log line.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "bus_adaptor.hpp"
#include "fakes.hpp"
#include "jit/bus_names.hpp"
#include "jitd_test_support.hpp"

namespace jitd {
namespace {

// A dbus-daemon of the test's own, listening on a socket in a temporary directory. Its policy
// lets anyone own names and call anything: what is under test is the adaptor, not the policy.
class PrivateBusDaemon {
  public:
    explicit PrivateBusDaemon(const std::filesystem::path& dir) : socket_(dir / "bus") {
        const std::filesystem::path config = dir / "bus.conf";
        std::ofstream(config) << "<!DOCTYPE busconfig PUBLIC "
                                 "\"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" "
                                 "\"http://www.freedesktop.org/standards/dbus/1.0/"
                                 "busconfig.dtd\">\n"
                                 "<busconfig><type>session</type><auth>EXTERNAL</auth>"
                                 "<listen>unix:path="
                              << socket_.string()
                              << "</listen><policy context=\"default\"><allow user=\"*\"/>"
                                 "<allow own=\"*\"/><allow send_destination=\"*\"/>"
                                 "<allow send_type=\"*\"/><allow receive_type=\"*\"/>"
                                 "</policy></busconfig>\n";
        const std::string config_arg = "--config-file=" + config.string();
        pid_ = fork();
        if (pid_ == 0) {
            execlp("dbus-daemon", "dbus-daemon", config_arg.c_str(), "--nofork", "--nopidfile",
                   "--nosyslog", static_cast<char*>(nullptr));
            _exit(127);
        }
    }
    ~PrivateBusDaemon() {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            waitpid(pid_, nullptr, 0);
        }
    }
    PrivateBusDaemon(const PrivateBusDaemon&) = delete;
    PrivateBusDaemon& operator=(const PrivateBusDaemon&) = delete;

    // Waits for the socket; false when the daemon did not come up.
    bool ready() const {
        return pid_ > 0 && wait_for([this] {
                   struct stat info {};
                   return stat(socket_.c_str(), &info) == 0 && S_ISSOCK(info.st_mode);
               });
    }

    // A new client connection; throws when the daemon refuses it.
    BusPtr connect() const {
        sd_bus* raw = nullptr;
        if (sd_bus_new(&raw) < 0) {
            throw std::runtime_error("sd_bus_new failed");
        }
        BusPtr bus(raw);
        const std::string address = "unix:path=" + socket_.string();
        if (sd_bus_set_address(raw, address.c_str()) < 0 || sd_bus_set_bus_client(raw, 1) < 0 ||
            sd_bus_start(raw) < 0) {
            throw std::runtime_error("cannot connect to the private bus");
        }
        // Running once the bus has answered Hello (and given the connection its unique name).
        bool ready = wait_for([raw] {
            while (sd_bus_process(raw, nullptr) > 0) {
            }
            return sd_bus_is_ready(raw) > 0;
        });
        if (!ready) {
            throw std::runtime_error("the private bus does not answer");
        }
        return bus;
    }

  private:
    std::filesystem::path socket_;
    pid_t pid_ = -1;
};

// The outcome of one method call: the error name, empty for a method return.
struct CallResult {
    bool done = false;
    std::string error_name;
    std::string error_message;
};

class BusAdaptorTest : public TempDir {
  protected:
    void SetUp() override {
        TempDir::SetUp();
        bus_daemon_ = std::make_unique<PrivateBusDaemon>(dir_);
        if (!bus_daemon_->ready()) {
            GTEST_SKIP() << "no dbus-daemon to run a private bus";
        }
        jitd_bus_ = bus_daemon_->connect();
        caller_bus_ = bus_daemon_->connect();
        const char* unique = nullptr;
        ASSERT_GE(sd_bus_get_unique_name(jitd_bus_.get(), &unique), 0);
        jitd_name_ = unique;
        identity_.users = {{0, "root"}};
        identity_.groups = {{"root", {"root"}}};
        service_ =
            std::make_unique<jit::JitService>(store_, jit::Config{}, identity_, clock_, effects_);
        service_->start();
        adaptor_ = std::make_unique<BusAdaptor>(jitd_bus_.get(), *service_, identity_, [] {});
        adaptor_->add_objects();
    }

    // Sends a Manager method call from `from` and runs both ends until its answer is in.
    CallResult call(sd_bus* from, const jit::bus::Member& member,
                    const std::function<void(sd_bus_message*)>& append_arguments) {
        CallResult result;
        MessagePtr message = new_call(from, member, append_arguments);
        sd_bus_slot* slot = nullptr;
        EXPECT_GE(sd_bus_call_async(from, &slot, message.get(), on_reply, &result, 0), 0);
        SlotPtr pending(slot);
        EXPECT_TRUE(run_both(from, [&] { return result.done; })) << member.name << " got no answer";
        return result;
    }

    MessagePtr new_call(sd_bus* from, const jit::bus::Member& member,
                        const std::function<void(sd_bus_message*)>& append_arguments) {
        sd_bus_message* raw = nullptr;
        EXPECT_GE(
            sd_bus_message_new_method_call(from, &raw, jitd_name_.c_str(), jit::bus::kObjectPath,
                                           member.interface, member.name),
            0);
        MessagePtr message(raw);
        append_arguments(raw);
        return message;
    }

    // Processes jitd's end and the caller's end until `done` or 10 s.
    bool run_both(sd_bus* caller, const std::function<bool()>& done) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) {
                return false;
            }
            int handled = process_all(jitd_bus_.get()) + (caller ? process_all(caller) : 0);
            if (handled == 0) {
                sd_bus_wait(caller ? caller : jitd_bus_.get(), 10 * 1000);
            }
        }
        return true;
    }

    static int process_all(sd_bus* bus) {
        int handled = 0;
        while (sd_bus_process(bus, nullptr) > 0) {
            ++handled;
        }
        return handled;
    }

    static int on_reply(sd_bus_message* reply, void* userdata, sd_bus_error*) {
        auto* result = static_cast<CallResult*>(userdata);
        if (const sd_bus_error* error = sd_bus_message_get_error(reply)) {
            result->error_name = error->name ? error->name : "";
            result->error_message = error->message ? error->message : "";
        }
        result->done = true;
        return 0;
    }

    static void add_resource(sd_bus_message* message, const char* name) {
        // name, description, services, accounts, members, hosts
        sd_bus_message_append(message, jit::bus::manager::kAddResource.in, name, "", 1, "sudo", 1,
                              "*", 0, 0);
    }

    std::unique_ptr<PrivateBusDaemon> bus_daemon_;
    BusPtr jitd_bus_;
    BusPtr caller_bus_;
    std::string jitd_name_;
    jit::testing::FakeStore store_;
    jit::testing::FakeClock clock_;
    jit::testing::FakeIdentity identity_;
    jit::testing::RecordingEffects effects_;
    std::unique_ptr<jit::JitService> service_;
    std::unique_ptr<BusAdaptor> adaptor_;
};

TEST_F(BusAdaptorTest, EachKindOfRefusalHasItsErrorName) {
    CapturedLog log;
    auto add = [&](const char* name) {
        return call(caller_bus_.get(), jit::bus::manager::kAddResource,
                    [&](sd_bus_message* m) { add_resource(m, name); });
    };
    EXPECT_EQ(add("db").error_name, "");  // root may manage: the call itself works
    EXPECT_EQ(add("db").error_name, jit::bus::kErrorConflict);
    EXPECT_EQ(add("bad name!").error_name, jit::bus::kErrorInvalidInput);
    CallResult missing = call(caller_bus_.get(), jit::bus::manager::kGetResource,
                              [](sd_bus_message* m) { sd_bus_message_append(m, "s", "nope"); });
    EXPECT_EQ(missing.error_name, jit::bus::kErrorNotFound);
    EXPECT_NE(missing.error_message.find("nope"), std::string::npos) << missing.error_message;
    CallResult no_policy =
        call(caller_bus_.get(), jit::bus::manager::kCreateRequest, [](sd_bus_message* m) {
            // resource, reason, duration and start (0: at approval)
            sd_bus_message_append(m, jit::bus::manager::kCreateRequest.in, "db", "fix it",
                                  std::int64_t{3600}, std::int64_t{0});
        });
    EXPECT_EQ(no_policy.error_name, jit::bus::kErrorFailed) << no_policy.error_message;

    store_.fail_commits = true;  // a full disk: not the caller's fault
    CallResult internal = add("web");
    EXPECT_EQ(internal.error_name, jit::bus::kErrorInternal);
    EXPECT_EQ(internal.error_name, "org.freedesktop.DBus.Error.Failed");
    store_.fail_commits = false;

    identity_.users.clear();  // the caller's uid has no name now
    EXPECT_EQ(add("web").error_name, jit::bus::kErrorPermissionDenied);
    identity_.users = {{0, "root"}};
    EXPECT_EQ(add("web").error_name, "");  // and once named, the same call passes
}

TEST_F(BusAdaptorTest, ACallerThatLeavesBeforeTheAnswerIsForgotten) {
    CapturedLog log;
    BusPtr leaver = bus_daemon_->connect();
    const char* unique = nullptr;
    ASSERT_GE(sd_bus_get_unique_name(leaver.get(), &unique), 0);
    const std::string leaver_name = unique;
    MessagePtr message =
        new_call(leaver.get(), jit::bus::manager::kGetStatus, [](sd_bus_message*) {});
    ASSERT_GE(sd_bus_send(leaver.get(), message.get(), nullptr), 0);
    leaver.reset();  // flushes the call, then closes the connection

    // The bus has seen it go before jitd reads the call.
    auto gone = [&] {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message* reply = nullptr;
        int r = sd_bus_call_method(caller_bus_.get(), "org.freedesktop.DBus",
                                   "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
                                   &error, &reply, "s", leaver_name.c_str());
        MessagePtr owned(reply);
        sd_bus_error_free(&error);
        int has_owner = 1;
        return r >= 0 && sd_bus_message_read(reply, "b", &has_owner) >= 0 && !has_owner;
    };
    ASSERT_TRUE(wait_for(gone));
    ASSERT_TRUE(run_both(nullptr, [&] {
        return log.text().find(std::string(jit::bus::manager::kGetStatus.name) + " failed") !=
               std::string::npos;
    })) << log.text();
    EXPECT_NE(log.text().find("cannot identify the caller"), std::string::npos) << log.text();

    // jitd carries on for everyone else.
    CallResult status =
        call(caller_bus_.get(), jit::bus::manager::kGetStatus, [](sd_bus_message*) {});
    EXPECT_EQ(status.error_name, "") << status.error_message;
}

}  // namespace
}  // namespace jitd
