// SPDX-License-Identifier: Apache-2.0
// Test tool for pam_jit (not installed): owns io.jitd.Jit1 on the system bus (as addressed by
// DBUS_SYSTEM_BUS_ADDRESS) and answers io.jitd.Jit1.Pam with one canned verdict, so that the
// module's bus paths can be tested without jitd. Prints "READY" once the name is owned and one
// line per call with its arguments; runs until killed. --delay makes it a slow jitd: every
// call is answered that many milliseconds after it arrived (one at a time, as they come).
//
//   pam_jit_fake_jitd [--verdict unmanaged|member|grant|deny] [--resource R] [--resources A,B]
//                     [--grant-id N] [--expiry EPOCH|+N] [--session-id N] [--error NAME]
//                     [--delay MS]

#include <systemd/sd-bus.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "jit/bus_names.hpp"

namespace {

struct Canned {
    std::string verdict = "unmanaged";
    std::string resource;
    std::vector<std::string> resources;
    std::int64_t grant_id = 0;
    std::int64_t expiry = 0;
    std::int64_t session_id = 0;
    std::string error;  // reply with this error name instead
    long delay_msec = 0;
};

Canned canned;

// The uids of the last call's attempt, printed at the end of its line.
std::uint32_t app_uid = 0;
std::uint32_t login_uid = 0;

// Ends the call's line (the uids, and the caller's unique bus name: the connection it came
// on), then plays a slow jitd.
void received(sd_bus_message* call) {
    const char* sender = sd_bus_message_get_sender(call);
    std::printf(" app_uid=%u login_uid=%u sender=%s\n", app_uid, login_uid, sender ? sender : "");
    std::fflush(stdout);
    timespec delay{canned.delay_msec / 1000, (canned.delay_msec % 1000) * 1'000'000};
    while (nanosleep(&delay, &delay) < 0 && errno == EINTR) {
    }
}

int refuse(sd_bus_error* error) {
    return sd_bus_error_set(error, canned.error.c_str(), "refused by the fake jitd");
}

// Reads service, user, ruser, rhost, tty and prints them after the method name; keeps the uids
// for received().
int read_attempt(sd_bus_message* call, const char* method) {
    const char* fields[5] = {};
    const int r = sd_bus_message_read(call, jit::bus::pam::kCheckLogin.in, &fields[0], &fields[1],
                                      &fields[2], &fields[3], &fields[4], &app_uid, &login_uid);
    if (r < 0) {
        return r;
    }
    std::printf("%s service=%s user=%s ruser=%s rhost=%s tty=%s", method, fields[0], fields[1],
                fields[2], fields[3], fields[4]);
    return 0;
}

int append_decision(sd_bus_message* reply) {
    int r = sd_bus_message_append(reply, "ss", canned.verdict.c_str(), canned.resource.c_str());
    if (r < 0) {
        return r;
    }
    r = sd_bus_message_open_container(reply, 'a', "s");
    for (std::size_t i = 0; r >= 0 && i < canned.resources.size(); ++i) {
        r = sd_bus_message_append(reply, "s", canned.resources[i].c_str());
    }
    if (r >= 0) {
        r = sd_bus_message_close_container(reply);
    }
    // starts: 0, the fake never holds scheduled grants.
    return r < 0 ? r
                 : sd_bus_message_append(reply, "xxx", canned.grant_id, canned.expiry,
                                         std::int64_t{0});
}

// Replies with the canned decision, then with the session id when `with_session`; or with the
// canned error.
int reply_decision(sd_bus_message* call, sd_bus_error* error, bool with_session) {
    if (!canned.error.empty()) {
        return refuse(error);
    }
    sd_bus_message* reply = nullptr;
    int r = sd_bus_message_new_method_return(call, &reply);
    if (r >= 0) {
        r = append_decision(reply);
    }
    if (r >= 0 && with_session) {
        r = sd_bus_message_append(reply, "x", canned.session_id);
    }
    if (r >= 0) {
        r = sd_bus_send(nullptr, reply, nullptr);
    }
    sd_bus_message_unref(reply);
    return r;
}

int check_login(sd_bus_message* call, void*, sd_bus_error* error) {
    const int r = read_attempt(call, jit::bus::pam::kCheckLogin.name);
    received(call);
    return r < 0 ? r : reply_decision(call, error, false);
}

int open_session(sd_bus_message* call, void*, sd_bus_error* error) {
    int r = read_attempt(call, jit::bus::pam::kOpenSession.name);
    std::int64_t pid = 0;
    const char* logind_session = nullptr;
    const char* ssh_key = nullptr;
    if (r >= 0) {
        r = sd_bus_message_read(call, "xss", &pid, &logind_session, &ssh_key);
    }
    if (r >= 0) {
        std::printf(" pid=%lld logind_session=%s ssh_key=%s", static_cast<long long>(pid),
                    logind_session, ssh_key);
    }
    received(call);
    return r < 0 ? r : reply_decision(call, error, true);
}

int close_session(sd_bus_message* call, void*, sd_bus_error* error) {
    std::int64_t id = 0;
    const int r = sd_bus_message_read(call, jit::bus::pam::kCloseSession.in, &id);
    if (r < 0) {
        return r;
    }
    std::printf("%s id=%lld", jit::bus::pam::kCloseSession.name, static_cast<long long>(id));
    received(call);
    if (!canned.error.empty()) {
        return refuse(error);
    }
    return sd_bus_reply_method_return(call, "");
}

// Names and signatures from the contract, like jitd's own vtable.
#define JIT_FAKE_METHOD(member, handler) \
    SD_BUS_METHOD(member.name, member.in, member.out, handler, 0)

const sd_bus_vtable kPamVtable[] = {
    SD_BUS_VTABLE_START(0),
    JIT_FAKE_METHOD(jit::bus::pam::kCheckLogin, check_login),
    JIT_FAKE_METHOD(jit::bus::pam::kOpenSession, open_session),
    JIT_FAKE_METHOD(jit::bus::pam::kCloseSession, close_session),
    SD_BUS_VTABLE_END,
};

#undef JIT_FAKE_METHOD

bool parse_arguments(int argc, char** argv) {
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view option = argv[i];
        const std::string value = argv[i + 1];
        if (option == "--verdict") {
            canned.verdict = value;
        } else if (option == "--resource") {
            canned.resource = value;
        } else if (option == "--resources") {
            for (std::size_t start = 0; !value.empty() && start <= value.size();) {
                const std::size_t comma = std::min(value.find(',', start), value.size());
                canned.resources.push_back(value.substr(start, comma - start));
                start = comma + 1;
            }
        } else if (option == "--grant-id") {
            canned.grant_id = std::stoll(value);
        } else if (option == "--expiry") {
            canned.expiry = std::stoll(value) + (value[0] == '+' ? std::time(nullptr) : 0);
        } else if (option == "--session-id") {
            canned.session_id = std::stoll(value);
        } else if (option == "--error") {
            canned.error = value;
        } else if (option == "--delay") {
            canned.delay_msec = std::stol(value);
        } else {
            return false;
        }
    }
    return argc % 2 == 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (!parse_arguments(argc, argv)) {
        std::fputs(
            "usage: pam_jit_fake_jitd [--verdict V] [--resource R] [--resources A,B]\n"
            "       [--grant-id N] [--expiry EPOCH|+N] [--session-id N] [--error NAME]\n"
            "       [--delay MS]\n",
            stderr);
        return 2;
    }
    sd_bus* bus = nullptr;
    int r = sd_bus_open_system(&bus);
    if (r >= 0) {
        r = sd_bus_add_object_vtable(bus, nullptr, jit::bus::kObjectPath, jit::bus::kPamInterface,
                                     kPamVtable, nullptr);
    }
    if (r >= 0) {
        r = sd_bus_request_name(bus, jit::bus::kServiceName, 0);
    }
    if (r < 0) {
        std::fprintf(stderr, "pam_jit_fake_jitd: %s\n", std::strerror(-r));
        return 1;
    }
    std::printf("READY\n");
    std::fflush(stdout);
    for (;;) {
        r = sd_bus_process(bus, nullptr);
        if (r == 0) {
            r = sd_bus_wait(bus, UINT64_MAX);
        }
        if (r < 0) {
            std::fprintf(stderr, "pam_jit_fake_jitd: %s\n", std::strerror(-r));
            return 1;
        }
    }
}
